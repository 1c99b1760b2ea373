"""The ``skops-pipelines.v1`` scorer kind: fitted scikit-learn pipelines in ``model.skops``.

One pipeline per dimension, each mapping a list of strings to ``predict_proba``
columns in the order of ``meta.labels[dimension]``.  The file is read with skops
(no pickle) and only after every type in it is trusted.  Scores depend on the
installed scikit-learn and numpy, so loading warns when they differ from the
versions the model was saved with (see :func:`framing.runtime.model.load_model`).
"""

from __future__ import annotations

import zipfile
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from framing.errors import ModelError, UntrustedModelError

if TYPE_CHECKING:
    import numpy as np

    from framing.runtime.explain import ExplainRequest, LabelExplanation
    from framing.runtime.meta import ModelMeta

__all__ = ["PipelineScorer", "load_pipelines", "load_scorer", "save_scorer", "FILE_NAME"]

FILE_NAME = "model.skops"
#: Module prefixes whose types a model file may hold without an explicit trust option.
TRUSTED_MODULE_PREFIXES = ("sklearn.", "framing.", "numpy.", "scipy.sparse.", "builtins.")


class PipelineScorer:
    """Scores with fitted scikit-learn pipelines, one per dimension."""

    def __init__(self, pipelines: Mapping[str, Any]) -> None:
        self.pipelines = dict(pipelines)

    def predict_proba(self, texts: Sequence[str]) -> dict[str, np.ndarray]:
        import numpy as np

        texts = list(texts)
        return {
            dim: np.asarray(pipe.predict_proba(texts), dtype=float)
            for dim, pipe in self.pipelines.items()
        }

    def explain(
        self, texts: Sequence[str], requests: Sequence[ExplainRequest], top: int
    ) -> list[LabelExplanation | None]:
        """Explanations from the fitted pipelines (see :mod:`framing.runtime.explain`)."""
        from framing.runtime.explain import LinearPart, decision_column, linear_explanation

        out: list[LabelExplanation | None] = []
        views: dict[str, Any] = {}
        for r in requests:
            if r.dimension not in views:
                views[r.dimension] = self._linear_view(r.dimension, texts)
            kind, intercept, constants, parts = views[r.dimension]
            if constants[decision_column(kind, r.column)[0]] is not None:
                out.append(None)
                continue
            row_parts = []
            for analyzer, vocabulary, X, coef in parts:
                row = X[r.row]
                row_parts.append(LinearPart(analyzer, vocabulary, row.indices, row.data, coef))
            out.append(linear_explanation(r, kind, intercept, row_parts, top))
        return out

    def _linear_view(self, dimension: str, texts: Sequence[str]) -> tuple[Any, ...]:
        """Head kind, intercepts, constants and per vectorizer (analyzer, vocabulary,
        TF-IDF rows of ``texts``, coefficients) of one dimension's pipeline."""
        from framing.runtime.compile import CompileError, linear_head, vectorizers_of
        from framing.runtime.explain import NotExplainableError

        pipe = self.pipelines[dimension]
        where = f"pipeline '{dimension}'"
        try:
            steps = list(pipe.steps)
            members = vectorizers_of(steps[0][1], where)
            for vec, _ in members:
                if not hasattr(vec, "vocabulary_") or not hasattr(vec, "analyzer"):
                    raise CompileError(f"{where}: {type(vec).__name__} is not a text vectorizer")
            widths = [len(vec.vocabulary_) for vec, _ in members]
            kind, coef, intercept, constants = linear_head(steps[-1][1], sum(widths), where)
        except (CompileError, AttributeError, IndexError) as exc:
            raise NotExplainableError(
                f"cannot explain the scores of {where}: {exc}; explanations need TF-IDF "
                "features into logistic regression"
            ) from None
        parts = []
        offset = 0
        for (vec, weight), n in zip(members, widths, strict=True):
            X = vec.transform(list(texts)).tocsr()
            if weight != 1.0:
                X = X * weight
            vocabulary = vec.get_feature_names_out().tolist()
            parts.append((vec.analyzer, vocabulary, X, coef[:, offset : offset + n].T))
            offset += n
        return kind, intercept, constants, parts


def load_scorer(folder: Path, meta: ModelMeta, trusted: Iterable[str] = ()) -> PipelineScorer:
    """The scorer of a model folder's ``model.skops`` (see :func:`load_pipelines`)."""
    pipelines = load_pipelines(folder, trusted)
    missing = [dim for dim in meta.labels if dim not in pipelines]
    if missing:
        raise ModelError(
            f"{Path(folder) / FILE_NAME}: no pipeline for dimension(s) {', '.join(missing)} "
            "named in meta.json; retrain the model or copy the whole folder"
        )
    return PipelineScorer({dim: pipelines[dim] for dim in meta.labels})


def save_scorer(scorer: PipelineScorer, folder: Path) -> None:
    """Write ``model.skops`` into ``folder``."""
    import skops.io as sio

    # skops writes vocabularies into an uncompressed JSON schema: deflate cuts it ~10x.
    sio.dump(dict(scorer.pipelines), folder / FILE_NAME, compression=zipfile.ZIP_DEFLATED)


def load_pipelines(path: str | Path, trusted: Iterable[str] = ()) -> dict[str, Any]:
    """Load ``model.skops`` from a model folder, refusing types nobody trusted.

    Types from scikit-learn, numpy, scipy.sparse and framing are trusted; anything
    else must be named in ``trusted``.

    Raises
    ------
    UntrustedModelError
        Naming the untrusted types, sorted.
    """
    import skops.io as sio

    file = Path(path) / FILE_NAME
    if not file.is_file():
        raise ModelError(f"{Path(path)}: model.skops is missing; retrain or copy the whole folder")
    try:
        untrusted = sio.get_untrusted_types(file=file)
    except Exception as exc:  # skops raises plain exceptions on corrupt files
        raise ModelError(f"{file}: not a readable skops file ({exc})") from None
    extra = set(trusted)
    refused = sorted(
        t for t in untrusted if t not in extra and not t.startswith(TRUSTED_MODULE_PREFIXES)
    )
    if refused:
        raise UntrustedModelError(
            f"{file}: untrusted types found in the file: {refused}; "
            "load it only if you trust its source, with trusted=[...] (CLI: --trust TYPE)"
        )
    try:
        pipelines = sio.load(file, trusted=list(untrusted))
    except Exception as exc:
        raise ModelError(f"{file}: cannot load the pipelines ({exc})") from None
    if not isinstance(pipelines, dict):
        raise ModelError(f"{file}: expected a dict of pipelines per dimension")
    return pipelines

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

from framing.errors import ModelError

if TYPE_CHECKING:
    import numpy as np

    from framing.runtime.explain import ExplainRequest, LabelExplanation
    from framing.runtime.meta import ModelMeta

__all__ = ["PipelineScorer", "load_pipelines", "load_scorer", "save_scorer", "FILE_NAME"]

FILE_NAME = "model.skops"


class PipelineScorer:
    """Scores with fitted scikit-learn pipelines, one per dimension."""

    def __init__(self, pipelines: Mapping[str, Any]) -> None:
        self.pipelines = dict(pipelines)
        self._views: dict[str, tuple[Any, ...]] = {}

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
        from framing.runtime.explain import LinearPart, explain_by_head, linear_explanations

        def explain_head(dim: str, reqs: list[ExplainRequest]) -> list[LabelExplanation | None]:
            kind, intercept, constants, members = self._linear_view(dim)
            parts = []
            for analyzer, vocabulary, vec, coef in members:
                X = vec.transform(list(texts)).tocsr()
                X.sort_indices()
                parts.append(LinearPart(analyzer, vocabulary, X.indptr, X.indices, X.data, coef))
            return linear_explanations(reqs, kind, intercept, constants, parts, top)

        return explain_by_head(requests, explain_head)

    def _linear_view(self, dimension: str) -> tuple[Any, ...]:
        """Head kind, intercepts, constants and per vectorizer (analyzer, vocabulary,
        vectorizer, coefficients times its union weight) of one dimension's pipeline."""
        if dimension in self._views:
            return self._views[dimension]
        import numpy as np

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
            # A FeatureUnion weight scales the vectorizer's output; fold it into the coefs.
            block = np.ascontiguousarray(coef[:, offset : offset + n].T * weight)
            vocabulary = vec.get_feature_names_out().tolist()
            parts.append((vec.analyzer, vocabulary, vec, block))
            offset += n
        view = self._views[dimension] = (kind, intercept, constants, parts)
        return view


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

    Only the exact types of :data:`framing.runtime.trust.ALLOWED_TYPES` load by
    default; any other type must be named in ``trusted``.

    Raises
    ------
    UntrustedModelError
        Naming the untrusted types, sorted.
    ModelError
        When the file is missing or damaged.
    """
    import skops.io as sio

    from framing.runtime.trust import check_skops_file

    file = Path(path) / FILE_NAME
    if not file.is_file():
        raise ModelError(f"{file} is missing; retrain the model or copy the whole folder")
    untrusted = check_skops_file(file, trusted)
    try:
        pipelines = sio.load(file, trusted=untrusted)
    except Exception as exc:  # skops raises exceptions of many types on damaged files
        raise ModelError(
            f"{file}: cannot load the pipelines ({type(exc).__name__}: {exc}); "
            "retrain the model or copy the folder again"
        ) from None
    if not isinstance(pipelines, dict):
        raise ModelError(f"{file}: expected a dict of pipelines per dimension; retrain the model")
    return pipelines

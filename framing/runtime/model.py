"""Model folders: saving, loading and scoring.

A model folder (``models/NAME/``) describes itself::

    meta.json        labels per dimension, thresholds, codebook and data hashes,
                     the resolved training config, library versions, git commit
    codebook.toml    the codebook the model was trained with
    config.toml      the resolved training config
    model.skops      the fitted scikit-learn pipelines, one per dimension, in the
                     skops format (no pickle; loaded with an explicit trust list)
    compiled.npz     optional: the same linear model as plain arrays (see
    compiled.json    :mod:`framing.runtime.compiled`), which tags without importing
                     scikit-learn and several times faster
    metrics.json     cross-validated and dev/test scores
    README.md        the model card

Every pipeline maps a list of strings to an ``(n, n_labels)`` array of scores in
``[0, 1]`` whose columns follow ``meta["labels"][dimension]``.  A label is
predicted when its score reaches the label's threshold.
"""

from __future__ import annotations

import json
import os
import platform
import warnings
import zipfile
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from framing import __version__
from framing.errors import CodebookError, InputNotFoundError, ModelError
from framing.format.codebook import Codebook, load_codebook

if TYPE_CHECKING:
    import numpy as np

    from framing.runtime.explain import ExplainRequest, LabelExplanation, SentenceExplanation
    from framing.runtime.tagger import TaggedArticle, TaggedSentence

__all__ = [
    "Model",
    "load_model",
    "save_model",
    "ModelVersionWarning",
    "ModelFallbackWarning",
    "FORMAT_VERSION",
]

#: Version of the model folder layout; bumped when a reader could misread a folder.
FORMAT_VERSION = 1
DEFAULT_MODEL = "default"
REQUIRED_FILES = ("meta.json", "codebook.toml")


class ModelVersionWarning(UserWarning):
    """The model was saved with other library versions than the ones installed."""


class ModelFallbackWarning(UserWarning):
    """The compiled form of a model is missing: it is scored with ``model.skops``."""


class Scorer(Protocol):
    def predict_proba(self, texts: Sequence[str]) -> dict[str, np.ndarray]: ...


def _models_roots() -> list[Path]:
    roots = []
    env = os.environ.get("FRAMING_MODELS")
    if env:
        roots.append(Path(env))
    roots.append(Path.cwd() / "models")
    roots.append(bundled_models_root())
    return roots


def bundled_models_root() -> Path:
    """The folder of the models that ship with framing (``models/`` of the repository,
    installed as the ``framing.models`` package data)."""
    import importlib.resources

    return Path(str(importlib.resources.files("framing.models")))


def resolve_model_path(name_or_path: str | Path | None = None) -> Path:
    """Find a model folder: a path, a name under ``models/``, or the bundled default.

    Names are looked up in ``$FRAMING_MODELS``, then ``./models``, then the
    ``models/`` folder of the framing checkout.
    """
    if name_or_path is None:
        name_or_path = DEFAULT_MODEL
    path = Path(name_or_path)
    if path.is_dir():
        return path
    if path.exists():
        raise ModelError(f"{path}: a model is a folder, not a file (give the folder that holds it)")
    if len(path.parts) == 1:
        for root in _models_roots():
            candidate = root / path
            if candidate.is_dir():
                return candidate
    searched = ", ".join(str(r) for r in _models_roots())
    raise InputNotFoundError(
        f"model '{name_or_path}' not found (looked for a folder of that name and in: {searched})"
    )


@dataclass
class Model:
    """A trained model: its codebook, labels, thresholds and scorer.

    Load one with :func:`load_model`; tag text with :meth:`tag`.
    """

    path: Path
    codebook: Codebook
    meta: dict[str, Any]
    scorer: Scorer = field(repr=False)

    @property
    def name(self) -> str:
        return str(self.meta.get("name") or self.path.name)

    @property
    def level(self) -> str:
        """``"sentence"`` or ``"document"``: the unit the model was trained on."""
        return str(self.meta.get("level", "sentence"))

    @property
    def dimensions(self) -> tuple[str, ...]:
        return tuple(self.meta["labels"])

    @property
    def labels(self) -> dict[str, tuple[str, ...]]:
        return {dim: tuple(ids) for dim, ids in self.meta["labels"].items()}

    @property
    def thresholds(self) -> dict[str, dict[str, float]]:
        return {dim: dict(th) for dim, th in self.meta["thresholds"].items()}

    def predict_proba(self, texts: Sequence[str]) -> dict[str, np.ndarray]:
        """Scores per dimension, an ``(len(texts), n_labels)`` array each."""
        texts = list(texts)
        if not texts:
            import numpy as np

            return {dim: np.zeros((0, len(ids))) for dim, ids in self.labels.items()}
        return self.scorer.predict_proba(texts)

    def predict(
        self, sentences: Iterable[str], *, all_scores: bool = False, explain: bool = False
    ) -> list[TaggedSentence]:
        """Label sentences that are already split, one result per sentence."""
        from framing.runtime.tagger import predict_sentences

        return predict_sentences(self, list(sentences), all_scores=all_scores, explain=explain)

    def explain(
        self, sentence: str, *, labels: Sequence[str] | None = None, top: int = 5
    ) -> SentenceExplanation:
        """Why the model labels a sentence as it does: per label, the n-grams that
        contributed most to its score (exact for linear models).

        See :func:`framing.runtime.explain.explain_sentence`.

        Examples
        --------
        >>> model.explain("NATO is a threat to us all.").to_dict()   # doctest: +SKIP
        """
        from framing.runtime.explain import explain_sentence

        return explain_sentence(self, sentence, labels=labels, top=top)

    def tag(
        self,
        text: str,
        *,
        title: str | None = None,
        doc_id: str | None = None,
        all_scores: bool = False,
        explain: bool = False,
    ) -> TaggedArticle:
        """Split an article into sentences, label them and profile the article
        (with ``explain``, say why each label was predicted)."""
        from framing.runtime.tagger import tag_text

        return tag_text(
            self, text, title=title, doc_id=doc_id, all_scores=all_scores, explain=explain
        )

    def tag_many(
        self,
        items: Iterable[Any],
        *,
        batch_size: int = 4096,
        n_jobs: int = 1,
        all_scores: bool = False,
        explain: bool = False,
    ) -> Iterator[TaggedArticle]:
        """Tag a stream of articles in order, in constant memory.

        See :func:`framing.runtime.tagger.tag_many`.
        """
        from framing.runtime.tagger import tag_many

        return tag_many(
            self,
            items,
            batch_size=batch_size,
            n_jobs=n_jobs,
            all_scores=all_scores,
            explain=explain,
        )


class _SkopsScorer:
    """Scores with the fitted scikit-learn pipelines stored in ``model.skops``."""

    def __init__(self, pipelines: Mapping[str, Any], labels: Mapping[str, Sequence[str]]):
        self.pipelines = dict(pipelines)
        self.labels = labels
        self._views: dict[str, tuple[Any, ...]] = {}

    def predict_proba(self, texts: Sequence[str]) -> dict[str, np.ndarray]:
        import numpy as np

        out = {}
        for dim, pipe in self.pipelines.items():
            scores = np.asarray(pipe.predict_proba(list(texts)), dtype=float)
            out[dim] = scores
        return out

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

        from framing.runtime.compiled import CompileError, _features, _head
        from framing.runtime.explain import NotExplainableError

        pipe = self.pipelines[dimension]
        where = f"pipeline '{dimension}'"
        try:
            steps = list(pipe.steps)
            members = _features(steps[0][1], where)
            for vec, _ in members:
                if not hasattr(vec, "vocabulary_") or not hasattr(vec, "analyzer"):
                    raise CompileError(f"{where}: {type(vec).__name__} is not a text vectorizer")
            widths = [len(vec.vocabulary_) for vec, _ in members]
            kind, coef, intercept, constants = _head(dimension, steps[-1][1], sum(widths), where)
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

    file = Path(path) / "model.skops"
    if not file.is_file():
        raise ModelError(f"{file} is missing; retrain the model or copy the whole folder")
    untrusted = check_skops_file(file, trusted)
    try:
        pipelines = sio.load(file, trusted=untrusted)
    except Exception as exc:
        raise ModelError(
            f"{file}: cannot load the pipelines ({type(exc).__name__}: {exc}); "
            "retrain the model or copy the folder again"
        ) from None
    if not isinstance(pipelines, dict):
        raise ModelError(f"{file}: expected a dict of pipelines per dimension; retrain the model")
    return pipelines


def _check_versions(meta: Mapping[str, Any], path: Path) -> None:
    saved = meta.get("versions", {})
    mismatched = []
    for lib in ("sklearn", "numpy"):
        want = saved.get(lib)
        if not want:
            continue
        try:
            have = _library_version(lib)
        except ImportError:
            continue
        if have != want:
            mismatched.append(f"{lib} {want} (installed: {have})")
    if mismatched:
        warnings.warn(
            f"model {path} was saved with {', '.join(mismatched)}; scores may differ. "
            "Retrain the model with the installed versions to be sure.",
            ModelVersionWarning,
            stacklevel=3,
        )


def _library_version(lib: str) -> str:
    # importlib.metadata reads the installed version without importing the library.
    from importlib.metadata import version

    return version({"sklearn": "scikit-learn"}.get(lib, lib))


def load_model(
    name_or_path: str | Path | None = None,
    *,
    codebook: Codebook | str | Path | None = None,
    trusted: Iterable[str] = (),
    use_compiled: bool = True,
    verify_codebook: bool = True,
) -> Model:
    """Load a model folder.

    Parameters
    ----------
    name_or_path
        A folder, a name under ``models/``, or None for the bundled default model.
    codebook
        When given (a codebook or its file), the model must have been trained with
        the same codebook; otherwise a :class:`ModelError` says which versions differ.
    trusted
        Exact type names (``module.Name``) to trust in ``model.skops`` beyond
        :data:`framing.runtime.trust.ALLOWED_TYPES`; only for models from a source you
        trust (see ``docs/threat-model.md``).
    use_compiled
        Score with ``compiled.npz`` when the folder has it (fast, no scikit-learn import);
        False always uses the scikit-learn pipelines.  Only the pipelines depend on the
        installed scikit-learn and numpy: loading them warns
        (:class:`ModelVersionWarning`) when the model was saved with other versions.
        When the compiled files are missing from a compiled model, loading warns
        (:class:`ModelFallbackWarning`) and uses ``model.skops``.
    verify_codebook
        Refuse a folder whose ``codebook.toml`` does not have the hash recorded in
        ``meta.json`` (an edited codebook no longer describes the model's labels).

    Returns
    -------
    Model

    Raises
    ------
    InputNotFoundError, ModelError, UntrustedModelError

    Examples
    --------
    >>> model = load_model()                                  # doctest: +SKIP
    >>> model.tag("The West is a threat, he said.").sentences[0].labels  # doctest: +SKIP
    """
    path = resolve_model_path(name_or_path)
    missing = [name for name in REQUIRED_FILES if not (path / name).is_file()]
    if missing:
        raise ModelError(
            f"{path}: not a complete model folder: missing {', '.join(missing)} "
            "(retrain it with 'framing train' or copy the whole folder)"
        )
    meta = read_meta(path)
    if meta.get("format_version", FORMAT_VERSION) > FORMAT_VERSION:
        raise ModelError(
            f"{path}: model format {meta['format_version']} is newer than this framing "
            f"({__version__}) reads; upgrade framing"
        )
    try:
        model_codebook = load_codebook(path / "codebook.toml")
    except CodebookError as exc:
        raise ModelError(
            f"{exc} (the codebook of model {path} is damaged: copy the model folder again)"
        ) from None
    saved = meta["codebook"]
    if verify_codebook and model_codebook.hash != saved["hash"]:
        raise ModelError(
            f"{path / 'codebook.toml'}: differs from the codebook the model was trained with "
            f"(its hash is not the one in meta.json); restore the file, retrain the model, "
            "or accept the edit with --allow-edited-codebook (API: verify_codebook=False)"
        )
    if codebook is not None:
        given = codebook if isinstance(codebook, Codebook) else load_codebook(codebook)
        if given.hash != saved["hash"]:
            raise ModelError(
                f"{path}: model was trained with codebook '{saved['name']}' "
                f"version {saved['version']}, but the given codebook is "
                f"'{given.name}' version {given.version} (content differs); "
                "retrain the model or use its codebook"
            )
    scorer: Scorer
    if use_compiled and (path / "compiled.npz").is_file():
        # Plain arrays: their scores depend on neither library's version (the compiled
        # layout has its own version check).
        from framing.runtime.compiled import CompiledModel

        scorer = CompiledModel.load(path)
    else:
        if use_compiled and (meta.get("compiled") or (path / "compiled.json").is_file()):
            warnings.warn(
                f"{path}: compiled.npz is missing although the model was compiled; "
                "scoring with model.skops instead (slower; its types are checked before "
                "loading)",
                ModelFallbackWarning,
                stacklevel=2,
            )
        _check_versions(meta, path)
        scorer = _SkopsScorer(load_pipelines(path, trusted), meta["labels"])
    return Model(path=path, codebook=model_codebook, meta=meta, scorer=scorer)


def read_meta(path: Path) -> dict[str, Any]:
    """``meta.json`` of a model folder, checked for the keys and types loading needs."""
    file = path / "meta.json"
    fix = "copy the model folder again or retrain it"
    try:
        meta = json.loads(file.read_bytes().decode("utf-8"))
    except (ValueError, UnicodeDecodeError) as exc:
        raise ModelError(f"{file}: not valid JSON ({exc}); {fix}") from None
    problems = []
    if not isinstance(meta, dict):
        raise ModelError(f"{file}: expected a JSON object, got {type(meta).__name__}; {fix}")
    labels, thresholds, codebook = (meta.get(k) for k in ("labels", "thresholds", "codebook"))
    if not isinstance(labels, dict) or not all(
        isinstance(ids, list) and all(isinstance(i, str) for i in ids) for ids in labels.values()
    ):
        problems.append("'labels' must map each dimension to a list of label ids")
    if not isinstance(thresholds, dict) or not all(
        isinstance(th, dict)
        and all(isinstance(v, int | float) and not isinstance(v, bool) for v in th.values())
        for th in thresholds.values()
    ):
        problems.append("'thresholds' must map each dimension to {label: number}")
    if not isinstance(codebook, dict) or not all(
        isinstance(codebook.get(k), str) for k in ("name", "version", "hash")
    ):
        problems.append("'codebook' must hold its name, version and hash as strings")
    version = meta.get("format_version", FORMAT_VERSION)
    if isinstance(version, bool) or not isinstance(version, int):
        problems.append("'format_version' must be an integer")
    if not problems and set(meta["labels"]) != set(meta["thresholds"]):
        problems.append("'labels' and 'thresholds' name different dimensions")
    if problems:
        raise ModelError(f"{file}: {'; '.join(problems)}; {fix}")
    return meta


def library_versions() -> dict[str, str]:
    """Versions of Python and the libraries a model depends on."""
    versions = {"python": platform.python_version(), "framing": __version__}
    for lib in ("sklearn", "numpy", "scipy", "skops", "joblib"):
        try:
            versions[lib] = _library_version(lib)
        except Exception:
            continue
    return versions


def save_model(
    path: str | Path,
    pipelines: Mapping[str, Any],
    meta: Mapping[str, Any],
    codebook: Codebook,
    *,
    files: Mapping[str, str] | None = None,
    compile: bool = True,
) -> Path:
    """Write a model folder atomically: built in a temporary folder, then swapped in
    (:func:`framing.files.atomic_dir`).

    Parameters
    ----------
    path
        The model folder to create or replace.
    pipelines
        Fitted pipelines per dimension (see the module docstring for the contract).
    meta
        Must hold ``labels`` and ``thresholds``; ``codebook``, ``versions`` and
        ``format_version`` are filled in here.
    codebook
        The codebook the model was trained with; saved beside it.
    files
        Extra text files to write (name -> content), e.g. ``README.md``, ``metrics.json``,
        ``config.toml``.
    compile
        Also write ``compiled.npz``/``compiled.json`` when the pipelines are linear
        models that :mod:`framing.runtime.compiled` can turn into arrays.
    """
    import skops.io as sio

    path = Path(path)
    for key in ("labels", "thresholds"):
        if key not in meta:
            raise ModelError(f"save_model: meta needs '{key}'")
    full_meta = dict(meta)
    full_meta["format_version"] = FORMAT_VERSION
    full_meta["codebook"] = {
        "name": codebook.name,
        "version": codebook.version,
        "hash": codebook.hash,
    }
    full_meta.setdefault("versions", library_versions())
    from framing.files import atomic_dir

    with atomic_dir(path) as tmp:
        # skops writes vocabularies into an uncompressed JSON schema: deflate cuts it ~10x.
        sio.dump(dict(pipelines), tmp / "model.skops", compression=zipfile.ZIP_DEFLATED)
        full_meta["compiled"] = False
        if compile:
            from framing.runtime.compiled import CompileError, compile_pipelines

            try:
                compiled = compile_pipelines(pipelines, meta["labels"])
            except CompileError as exc:
                # Not every pipeline is a linear model over TF-IDF: those load with skops.
                full_meta["compiled_reason"] = str(exc)
            else:
                compiled.save(tmp)
                full_meta["compiled"] = True
        (tmp / "codebook.toml").write_text(codebook.to_toml(), encoding="utf-8")
        for name, content in (files or {}).items():
            (tmp / name).write_text(content, encoding="utf-8")
        (tmp / "meta.json").write_text(
            json.dumps(full_meta, indent=2, ensure_ascii=False, sort_keys=False) + "\n",
            encoding="utf-8",
        )
    return path

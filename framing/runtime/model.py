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
import shutil
import tempfile
import warnings
import zipfile
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from framing import __version__
from framing.errors import InputNotFoundError, ModelError, UntrustedModelError
from framing.format.codebook import Codebook, load_codebook

if TYPE_CHECKING:
    import numpy as np

    from framing.runtime.explain import ExplainRequest, LabelExplanation, SentenceExplanation
    from framing.runtime.tagger import TaggedArticle, TaggedSentence

__all__ = ["Model", "load_model", "save_model", "ModelVersionWarning", "FORMAT_VERSION"]

#: Version of the model folder layout; bumped when a reader could misread a folder.
FORMAT_VERSION = 1
DEFAULT_MODEL = "default"
REQUIRED_FILES = ("meta.json", "codebook.toml")
#: Module prefixes whose types a model file may hold without an explicit trust option.
TRUSTED_MODULE_PREFIXES = ("sklearn.", "framing.", "numpy.", "scipy.sparse.", "builtins.")


class ModelVersionWarning(UserWarning):
    """The model was saved with other library versions than the ones installed."""


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

    Types from scikit-learn, numpy, scipy.sparse and framing are trusted; anything
    else must be named in ``trusted``.

    Raises
    ------
    UntrustedModelError
        Naming the untrusted types, sorted.
    """
    import skops.io as sio

    file = Path(path) / "model.skops"
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
        Extra types to trust in ``model.skops`` beyond scikit-learn's and framing's.
    use_compiled
        Score with ``compiled.npz`` when the folder has it (fast, no scikit-learn import);
        False always uses the scikit-learn pipelines.  Only the pipelines depend on the
        installed scikit-learn and numpy: loading them warns
        (:class:`ModelVersionWarning`) when the model was saved with other versions.

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
    try:
        meta = json.loads((path / "meta.json").read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ModelError(f"{path / 'meta.json'}: not valid JSON ({exc})") from None
    for key in ("labels", "thresholds", "codebook"):
        if key not in meta:
            raise ModelError(f"{path / 'meta.json'}: missing '{key}'")
    if meta.get("format_version", FORMAT_VERSION) > FORMAT_VERSION:
        raise ModelError(
            f"{path}: model format {meta['format_version']} is newer than this framing "
            f"({__version__}) reads; upgrade framing"
        )
    model_codebook = load_codebook(path / "codebook.toml")
    if codebook is not None:
        given = codebook if isinstance(codebook, Codebook) else load_codebook(codebook)
        if given.hash != meta["codebook"]["hash"]:
            raise ModelError(
                f"{path}: model was trained with codebook '{meta['codebook']['name']}' "
                f"version {meta['codebook']['version']}, but the given codebook is "
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
        _check_versions(meta, path)
        scorer = _SkopsScorer(load_pipelines(path, trusted), meta["labels"])
    return Model(path=path, codebook=model_codebook, meta=meta, scorer=scorer)


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
    """Write a model folder atomically: built in a temporary folder, then swapped in.

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
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{path.name}.", dir=path.parent))
    tmp.chmod(0o755)  # mkdtemp makes it private; a model folder is meant to be shared
    try:
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
        old = None
        if path.exists():
            old = path.with_name(f".{path.name}.old")
            if old.exists():
                shutil.rmtree(old)
            os.replace(path, old)
        os.replace(tmp, path)
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return path

"""Model folders: saving, loading and scoring.

A model folder (``models/NAME/``) describes itself::

    meta.json        labels per dimension, thresholds, codebook and data hashes, the
                     scorer kinds the folder holds, the resolved training config,
                     library versions, git commit (:class:`framing.runtime.meta.ModelMeta`)
    codebook.toml    the codebook the model was trained with
    config.toml      the resolved training config
    model.skops      the fitted scikit-learn pipelines, one per dimension, in the
                     skops format (scorer kind ``skops-pipelines.v1``)
    compiled.npz     optional: the same linear model as plain arrays with the lookup
    compiled.json    tables scoring needs (scorer kind ``tfidf-compiled.v2``), which
                     tags without importing scikit-learn and several times faster;
                     with it, ``model.skops`` may be left out (``save_pipelines``)
    metrics.json     cross-validated and dev/test scores
    calibration.json optional: per label, a map from scores to calibrated
                     probabilities and the out-of-fold error rates at the threshold
                     (see :mod:`framing.runtime.calibration`)
    ood.json         optional: the out-of-distribution check (see
    ood.npz          :mod:`framing.runtime.ood`); older models have none
    context.json     optional: the article-context stage that revises the scorer's
                     scores with the article's (see :mod:`framing.runtime.context`);
                     ``meta.json`` names it in ``context``
    README.md        the model card

Every scorer maps a list of strings to an ``(n, n_labels)`` array of scores in
``[0, 1]`` per dimension whose columns follow ``meta.labels[dimension]``
(:mod:`framing.runtime.scorers`); a model's scores are the scorer's, revised by the
context stage when the model has one (:meth:`Model.in_context`);
:mod:`framing.runtime.labels` turns scores into labels.

The module is a little over 500 lines because saving and loading a folder are the two
sides of one file layout (the files above, the format version, the scorer kinds
recorded and the fallback between them) and change together; the metadata, the
scorers, trust checks, explanations and tagging are modules of their own.
"""

from __future__ import annotations

import json
import os
import platform
import warnings
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

from framing import __version__
from framing.errors import CodebookError, InputNotFoundError, ModelError
from framing.format.codebook import Codebook, load_codebook
from framing.runtime.meta import FORMAT_VERSION, CodebookRef, ModelMeta
from framing.runtime.scorers import (
    COMPILED,
    COMPILED_KINDS,
    PIPELINES,
    Scorer,
    ScorerKind,
    scorer_kind,
)

if TYPE_CHECKING:
    import numpy as np

    from framing.runtime.calibration import Calibration
    from framing.runtime.context import ContextStage, Layout
    from framing.runtime.explain import SentenceExplanation
    from framing.runtime.ood import OodCheck
    from framing.runtime.results import TaggedArticle, TaggedSentence

__all__ = [
    "Model",
    "load_model",
    "save_model",
    "ModelVersionWarning",
    "ModelFallbackWarning",
    "FORMAT_VERSION",
]

DEFAULT_MODEL = "default"
REQUIRED_FILES = ("meta.json", "codebook.toml")


class ModelVersionWarning(UserWarning):
    """The model was saved with other library versions than the ones installed."""


class ModelFallbackWarning(UserWarning):
    """The compiled form of a model is missing: it is scored with ``model.skops``."""


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
    meta: ModelMeta
    scorer: Scorer = field(repr=False)
    #: How unlike the training articles an article is (``ood.json``); None: not checked.
    ood: OodCheck | None = field(default=None, repr=False)
    #: The article-context stage (``context.json``); None: the scorer's scores are final.
    context: ContextStage | None = field(default=None, repr=False)

    @property
    def name(self) -> str:
        return self.meta.name or self.path.name

    @property
    def level(self) -> str:
        """``"sentence"`` or ``"document"``: the unit the model was trained on."""
        return self.meta.level

    @property
    def dimensions(self) -> tuple[str, ...]:
        return self.meta.dimensions

    @property
    def labels(self) -> dict[str, tuple[str, ...]]:
        return dict(self.meta.labels)

    @property
    def thresholds(self) -> dict[str, dict[str, float]]:
        return {dim: dict(th) for dim, th in self.meta.thresholds.items()}

    @property
    def multi_label(self) -> dict[str, bool]:
        return dict(self.meta.multi_label)

    def predict_proba(
        self, texts: Sequence[str], layout: Layout | None = None
    ) -> dict[str, np.ndarray]:
        """Scores per dimension, an ``(len(texts), n_labels)`` array each.

        ``layout`` says which article each text belongs to and where
        (:class:`framing.runtime.context.Layout`); without it every text is scored
        alone.  It matters only for a model with a context stage.

        Raises
        ------
        TypeError
            When ``texts`` is a single string rather than a sequence of them.
        """
        _not_a_string(texts, "predict_proba")
        texts = list(texts)
        if not texts:
            import numpy as np

            return {dim: np.zeros((0, len(ids))) for dim, ids in self.labels.items()}
        if layout is None and self.context is not None:
            from framing.runtime.context import Layout

            layout = Layout.alone(texts)
        return self.in_context(self.scorer.predict_proba(texts), layout)

    def in_context(
        self, scores: Mapping[str, np.ndarray], layout: Layout | None
    ) -> dict[str, np.ndarray]:
        """The scorer's ``scores`` of sentences placed by ``layout`` revised by the model's
        context stage; as given when the model has none (``layout`` may then be None)."""
        if self.context is None:
            return dict(scores)
        if layout is None:
            raise ValueError("a model with a context stage needs the sentences' layout")
        return self.context.apply(scores, layout)

    @cached_property
    def calibration(self) -> Calibration | None:
        """The model's ``calibration.json``, or None for a model trained without one.

        Raises
        ------
        ModelError
            When the file is there but damaged.
        """
        from framing.runtime.calibration import load_calibration

        return load_calibration(self.path)

    @property
    def calibration_unit(self) -> str:
        """The calibration unit of the model's own scores: a document-level model scores
        whole articles, so its maps are the ``article`` unit's."""
        return "article" if self.level == "document" else "sentence"

    def require_calibration(self, purpose: str = "calibrated probabilities") -> Calibration:
        """The calibration, or a :class:`ModelError` saying that ``purpose`` needs one."""
        found = self.calibration
        if found is None:
            raise ModelError(
                f"model '{self.name}' ({self.path}) has no calibration.json, which "
                f"{purpose} need(s); retrain it with 'framing train' (models trained by "
                "framing 0.x before calibration existed lack it)"
            )
        return found

    def calibrated_proba(self, texts: Sequence[str]) -> dict[str, np.ndarray]:
        """Calibrated probabilities per dimension, beside :meth:`predict_proba`'s raw scores.

        Each raw score goes through its label's calibration map (fitted on out-of-fold
        scores at training time), so that among sentences given probability ``p`` about
        a share ``p`` carries the label.

        Raises
        ------
        ModelError
            When the model has no ``calibration.json``.
        """
        calibration = self.require_calibration()
        raw = self.predict_proba(texts)
        return {
            dim: calibration.apply(dim, raw[dim], self.labels[dim], unit=self.calibration_unit)
            for dim in self.dimensions
        }

    def predict(
        self, sentences: Iterable[str], *, all_scores: bool = False, explain: bool = False
    ) -> list[TaggedSentence]:
        """Label sentences that are already split, one result per sentence.

        Raises
        ------
        TypeError
            When ``sentences`` is a single string (it would be split into characters):
            use ``predict([text])``, or :meth:`tag` for an article.
        """
        _not_a_string(sentences, "predict")
        from framing.runtime.tagging import predict_sentences

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
        meta: Mapping[str, Any] | None = None,
        all_scores: bool = False,
        explain: bool = False,
    ) -> TaggedArticle:
        """Split an article into sentences, label them and profile the article
        (with ``explain``, say why each label was predicted); ``meta`` (outlet, date, ...)
        is carried into the result."""
        from framing.runtime.tagging import tag_text

        return tag_text(
            self,
            text,
            title=title,
            doc_id=doc_id,
            meta=meta,
            all_scores=all_scores,
            explain=explain,
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

        See :func:`framing.runtime.tagging.tag_many`.
        """
        from framing.runtime.tagging import tag_many

        return tag_many(
            self,
            items,
            batch_size=batch_size,
            n_jobs=n_jobs,
            all_scores=all_scores,
            explain=explain,
        )


def _check_versions(meta: ModelMeta, path: Path) -> None:
    mismatched = []
    for lib in ("sklearn", "numpy"):
        want = meta.versions.get(lib)
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


def _not_a_string(value: object, method: str) -> None:
    if isinstance(value, str | bytes):
        raise TypeError(
            f"Model.{method} takes a list of sentences, not one {type(value).__name__}: "
            f"use {method}([text]), or Model.tag(text) to split an article into sentences"
        )


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
    if meta.codebook is None:
        raise ModelError(f"{path / 'meta.json'}: missing 'codebook'; copy the model folder again")
    try:
        model_codebook = load_codebook(path / "codebook.toml")
    except CodebookError as exc:
        raise ModelError(
            f"{exc} (the codebook of model {path} is damaged: copy the model folder again)"
        ) from None
    saved = meta.codebook
    if verify_codebook and model_codebook.hash != saved.hash:
        raise ModelError(
            f"{path / 'codebook.toml'}: differs from the codebook the model was trained with "
            f"(its hash is not the one in meta.json); restore the file, retrain the model, "
            "or accept the edit with --allow-edited-codebook (API: verify_codebook=False)"
        )
    if codebook is not None:
        given = codebook if isinstance(codebook, Codebook) else load_codebook(codebook)
        if given.hash != saved.hash:
            raise ModelError(
                f"{path}: model was trained with codebook '{saved.name}' "
                f"version {saved.version}, but the given codebook is "
                f"'{given.name}' version {given.version} (content differs); "
                "retrain the model or use its codebook"
            )
    kind = _choose_scorer(path, meta, use_compiled)
    if kind.version_sensitive:
        _check_versions(meta, path)
    from framing.runtime.context import load_context
    from framing.runtime.ood import load_ood

    return Model(
        path=path,
        codebook=model_codebook,
        meta=meta,
        scorer=kind.load(path, meta, trusted),
        ood=load_ood(path),
        context=load_context(path, meta),
    )


def read_meta(path: str | Path) -> ModelMeta:
    """The validated ``meta.json`` of a model folder.

    Raises
    ------
    ModelError
        When the file is missing, not JSON, or breaks the contract of :class:`ModelMeta`
        (including a model saved in a newer format than this framing reads).
    """
    file = Path(path) / "meta.json"
    fix = "copy the model folder again or retrain it"
    try:
        data = json.loads(file.read_bytes().decode("utf-8"))
    except FileNotFoundError:
        raise ModelError(f"{file} is missing; {fix}") from None
    except (ValueError, UnicodeDecodeError) as exc:
        raise ModelError(f"{file}: not valid JSON ({exc}); {fix}") from None
    return ModelMeta.from_dict(data, str(file), fix=fix)


def _choose_scorer(path: Path, meta: ModelMeta, use_compiled: bool) -> ScorerKind:
    """The first scorer kind of ``meta.scorers`` whose files are in the folder.

    Falling back from a preferred kind whose files are missing warns
    (:class:`ModelFallbackWarning`).
    """
    kinds = [scorer_kind(name, path / "meta.json") for name in meta.scorers]
    if not use_compiled:
        kinds = [kind for kind in kinds if kind.name not in COMPILED_KINDS]
    for position, kind in enumerate(kinds):
        if kind.present(path):
            if position:
                missing = [n for k in kinds[:position] for n in k.files if not (path / n).is_file()]
                warnings.warn(
                    f"{path}: {', '.join(missing)} missing although the model has them; "
                    f"scoring with {', '.join(kind.files)} instead (slower; its types are "
                    "checked before loading)",
                    ModelFallbackWarning,
                    stacklevel=3,
                )
            return kind
    if not kinds:
        if not use_compiled and meta.scorers:
            raise ModelError(
                f"{path}: the model has only compiled arrays (it was saved without model.skops); "
                "load it with use_compiled=True, or retrain it with save_pipelines = true"
            )
        raise ModelError(
            f"{path / 'meta.json'}: the model lists no scorer this call can use; retrain the model"
        )
    wanted = ", ".join(name for kind in kinds for name in kind.files)
    raise ModelError(f"{path}: the scorer files are missing ({wanted}); copy the whole folder")


def library_versions() -> dict[str, str]:
    """Versions of Python and the libraries a model depends on."""
    versions = {"python": platform.python_version(), "framing": __version__}
    for lib in ("sklearn", "numpy", "scipy", "skops", "joblib"):
        try:
            versions[lib] = _library_version(lib)
        except ImportError:  # importlib.metadata.PackageNotFoundError: not installed
            continue
    return versions


def save_model(
    path: str | Path,
    pipelines: Mapping[str, Any],
    meta: ModelMeta,
    codebook: Codebook,
    *,
    files: Mapping[str, str] | None = None,
    compile: bool = True,
    scorers: Mapping[str, Any] | None = None,
    ood: OodCheck | None = None,
    context: ContextStage | None = None,
    save_pipelines: bool = True,
) -> Path:
    """Write a model folder atomically: built in a temporary folder, then swapped in
    (:func:`framing.files.atomic_dir`).

    Parameters
    ----------
    path
        The model folder to create or replace.
    pipelines
        Fitted scikit-learn pipelines per dimension (the ``skops-pipelines.v1`` scorer).
    meta
        The model's metadata; ``codebook``, ``versions`` (unless given), ``scorers``
        and ``format_version`` are filled in here.
    codebook
        The codebook the model was trained with; saved beside it.
    files
        Extra text files to write (name -> content), e.g. ``README.md``, ``metrics.json``,
        ``config.toml``.
    compile
        Also write the ``tfidf-compiled.v1`` scorer when the pipelines are linear
        models over TF-IDF features (see :mod:`framing.runtime.compile`); it is then
        the one :func:`load_model` uses.
    ood
        The out-of-distribution check (``ood.json``, see :mod:`framing.runtime.ood`);
        without it, the model's tagged articles are not checked.
    context
        The article-context stage (``context.json``, see :mod:`framing.runtime.context`),
        named in ``meta.json``; without it, the scorer's scores are final.
    scorers
        Other scorers to save, by registered kind name (:mod:`framing.runtime.scorers`),
        preferred first; they come before the two above in ``meta.scorers``.
    save_pipelines
        False: leave ``model.skops`` out when another scorer is saved (the pipelines
        compiled): a smaller folder, which ``load_model(use_compiled=False)`` cannot load.

    Returns
    -------
    Path
        The model folder.
    """
    from framing.runtime.context import CONTEXT_FILE, CONTEXT_KIND
    from framing.runtime.skops_pipelines import PipelineScorer

    path = Path(path)
    if context is None and meta.context is not None:
        # its thresholds and calibration were tuned on the stage's scores: without the
        # stage the folder would load and label with the wrong scores
        raise ModelError(
            f"save_model: the metadata names the context stage '{meta.context}' but no "
            "stage was given; pass context= (FittedModel.save passes everything a fit made)"
        )
    to_save: dict[str, Any] = {}
    for name, scorer in (scorers or {}).items():
        if not scorer_kind(name, "save_model").saved:  # refused before any work
            raise ModelError(f"save_model: scorer kind '{name}' is only read; save {COMPILED}")
        to_save[name] = scorer
    reason = None
    if compile:
        from framing.runtime.compile import CompileError, compile_pipelines

        try:
            to_save[COMPILED] = compile_pipelines(pipelines, meta.labels)
        except CompileError as exc:
            # Not every pipeline is a linear model over TF-IDF: those load with skops.
            reason = str(exc)
    if save_pipelines or not to_save:
        to_save[PIPELINES] = PipelineScorer(pipelines)
    full_meta = replace(
        meta,
        format_version=FORMAT_VERSION,
        codebook=CodebookRef(codebook.name, codebook.version, codebook.hash),
        versions=meta.versions or library_versions(),
        scorers=tuple(to_save),
        compiled_reason=reason,
        context=None if context is None else CONTEXT_KIND,
    )
    from framing.files import atomic_dir

    with atomic_dir(path) as tmp:
        for name, scorer in to_save.items():
            scorer_kind(name).save(scorer, tmp)
        if ood is not None:
            ood.save(tmp)
        if context is not None:
            (tmp / CONTEXT_FILE).write_text(context.to_json(), encoding="utf-8")
        (tmp / "codebook.toml").write_text(codebook.to_toml(), encoding="utf-8")
        for name, content in (files or {}).items():
            (tmp / name).write_text(content, encoding="utf-8")
        (tmp / "meta.json").write_text(full_meta.to_json(), encoding="utf-8")
    return path

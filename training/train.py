"""Train a model from a config: cross-validate, tune thresholds, fit, save.

:func:`train` is what ``framing train`` calls; :func:`fit_model` does the same
without writing anything.  Per dimension, the trainer

1. builds the training examples (``done`` sentences, or document records at the
   document level) of the configured training splits;
2. runs cross-validation grouped by document (no document on both sides of a fold)
   and stratified over labels, once per grid point of ``[search]``, and keeps the
   parameters with the best out-of-fold macro-F1;
3. tunes one threshold per label on the out-of-fold scores (:mod:`framing.training.thresholds`);
   fits a calibration map per label on the same scores and records the out-of-fold
   error rates at the threshold (:mod:`framing.training.calibration`);
4. fits the pipeline on all training examples and scores the dev and test splits.

Everything is deterministic given the config's seed.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import time
import warnings
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import joblib
import numpy as np
from framing.training.calibration import build_calibration, calibrate_dimension
from framing.training.config import SHIFTED_SPLIT as SHIFTED
from framing.training.config import TrainConfig
from framing.training.evaluate import DimensionScores, score_dimension
from framing.training.ood import calibrate_ood
from framing.training.pipelines import build_pipeline
from framing.training.thresholds import grouped_folds, stratification_key, tune_thresholds

from framing.errors import AnnotationError, CodebookError, ConfigError, InputNotFoundError
from framing.format.annotations import Corpus, Sentence, collect_files, read_corpus
from framing.format.codebook import Codebook, load_codebook
from framing.runtime.calibration import Calibration
from framing.runtime.labels import label_mask, threshold_vector
from framing.runtime.meta import ModelMeta
from framing.runtime.ood import OodCheck
from framing.runtime.parallel import resolve_jobs
from framing.runtime.structure import LabelStructure

__all__ = [
    "Examples",
    "FittedModel",
    "TrainResult",
    "build_examples",
    "data_hash",
    "fit_model",
    "train",
]

Progress = Callable[[str], None]


# --------------------------------------------------------------------------- data


def data_hash(paths: Sequence[str | Path]) -> str:
    """SHA-256 over the sorted relative names and the bytes of the training data's JSONL files.

    A folder contributes every ``*.jsonl`` below it, named relative to the folder;
    a file is named by its file name.  So ``data_hash(["data/annotations"])`` equals
    the hash of its ``train.jsonl``, ``dev.jsonl`` and ``test.jsonl`` given one by one,
    and the hash does not depend on where the checkout lives.

    Raises
    ------
    InputNotFoundError
        When a path does not exist or a folder holds no JSONL file.
    """
    entries: list[tuple[str, Path]] = []
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            files = sorted(f for f in path.rglob("*.jsonl") if f.is_file())
            if not files:
                raise InputNotFoundError(f"{path}: folder holds no .jsonl file")
            entries.extend((f.relative_to(path).as_posix(), f) for f in files)
        elif path.is_file():
            entries.append((path.name, path))
        else:
            raise InputNotFoundError(f"{path}: no such file or folder")
    digest = hashlib.sha256()
    for name, file in sorted(entries, key=lambda e: (e[0], str(e[1]))):
        content = file.read_bytes()
        digest.update(name.encode("utf-8") + b"\0")
        digest.update(str(len(content)).encode("ascii") + b"\0")
        digest.update(content)
    return digest.hexdigest()


@dataclass
class Examples:
    """Texts to learn from or score, one per sentence (or per document), with their labels."""

    ids: list[str]
    doc_ids: list[str]
    texts: list[str]
    splits: list[str | None]
    labels: list[dict[str, tuple[str, ...]]]
    sources: list[str | None] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.ids)

    def subset(self, index: Sequence[int] | np.ndarray) -> Examples:
        idx = [int(i) for i in index]
        return Examples(
            ids=[self.ids[i] for i in idx],
            doc_ids=[self.doc_ids[i] for i in idx],
            texts=[self.texts[i] for i in idx],
            splits=[self.splits[i] for i in idx],
            labels=[self.labels[i] for i in idx],
            sources=[self.sources[i] for i in idx] if self.sources else [],
        )

    def indicator(self, dimension: str, labels: Sequence[str]) -> np.ndarray:
        """``(n, len(labels))`` boolean matrix of gold labels; unknown labels are ignored."""
        column = {label: j for j, label in enumerate(labels)}
        Y = np.zeros((len(self), len(labels)), dtype=bool)
        for i, record in enumerate(self.labels):
            for label in record.get(dimension, ()):
                j = column.get(label)
                if j is not None:
                    Y[i, j] = True
        return Y


def _source(record: Any) -> str | None:
    if record.source is None:
        return None
    return f"{record.source[0]}:{record.source[1]}"


def _sentence_order(sentence: Sentence) -> tuple[int, int]:
    return (0, sentence.sent_index) if sentence.sent_index is not None else (1, 0)


def build_examples(
    corpus: Corpus,
    dimensions: Sequence[str],
    *,
    level: str = "sentence",
    document_text: str = "auto",
) -> Examples:
    """Training or evaluation examples of a corpus.

    Parameters
    ----------
    corpus
        Annotations read with :func:`framing.format.annotations.read_corpus`.
    dimensions
        The label dimensions to keep; a record without a dimension's field has no labels in it.
    level
        ``"sentence"``: every ``done`` sentence.  ``"document"``: every ``done`` document
        record, labelled with the document record's labels.
    document_text
        At the document level: ``"text"`` the document record's text, ``"sentences"``
        its sentences joined in order, ``"auto"`` the text when the record has one.

    Raises
    ------
    AnnotationError
        When a document has neither a text nor sentences.
    """
    dims = list(dimensions)
    if level == "sentence":
        done = corpus.done()
        return Examples(
            ids=[s.id for s in done],
            doc_ids=[s.doc_id for s in done],
            texts=[s.text for s in done],
            splits=[corpus.split_of(s) for s in done],
            labels=[{d: s.labels.get(d, ()) for d in dims} for s in done],
            sources=[_source(s) for s in done],
        )
    by_doc: dict[str, list[Sentence]] = {}
    for sentence in corpus.sentences:
        by_doc.setdefault(sentence.doc_id, []).append(sentence)
    examples = Examples([], [], [], [], [], [])
    problems = []
    for doc_id, doc in corpus.documents.items():
        if doc.status != "done":
            continue
        sentences = sorted(by_doc.get(doc_id, []), key=_sentence_order)
        joined = " ".join(s.text.strip() for s in sentences)
        if document_text == "text" or (document_text == "auto" and doc.text):
            text = doc.text or ""
        else:
            text = joined
        if not text.strip():
            where = _source(doc) or doc_id
            what = "no text" if document_text == "text" else "no text and no sentences"
            problems.append(f"{where}: document '{doc_id}' has {what} to learn from")
            continue
        split = doc.split
        if split is None:
            split = next((s.split for s in sentences if s.split is not None), None)
        examples.ids.append(doc_id)
        examples.doc_ids.append(doc_id)
        examples.texts.append(text)
        examples.splits.append(split)
        examples.labels.append({d: doc.labels.get(d, ()) for d in dims})
        examples.sources.append(_source(doc))
    if problems:
        raise AnnotationError(
            "\n".join(problems) + '\n(give the document record a "text" or add its sentences, '
            'or set data.document_text = "auto")'
        )
    return examples


def _relative(path: str | Path) -> str:
    """A path as written in saved files: relative to the working directory when inside it."""
    p = Path(path)
    if p.is_absolute():
        try:
            return p.relative_to(Path.cwd()).as_posix()
        except ValueError:
            return p.as_posix()
    return p.as_posix()


def _git_commit() -> str | None:
    """The commit of the framing checkout this code runs from, read from ``.git`` (no git
    needed); None for an installed wheel.  Not the working directory's repository: a model
    trained from a user's project folder records the code that trained it."""
    here = Path(__file__).resolve().parent
    for folder in (here, *here.parents):
        git = folder / ".git"
        if git.is_file():
            text = git.read_text(encoding="utf-8", errors="replace").strip()
            if not text.startswith("gitdir:"):
                return None
            git = (folder / text.split(":", 1)[1].strip()).resolve()
        if not git.is_dir():
            continue
        try:
            head = (git / "HEAD").read_text(encoding="utf-8").strip()
            if not head.startswith("ref:"):
                return head or None
            ref = head.split(":", 1)[1].strip()
            for base in (git, _common_dir(git)):
                if (base / ref).is_file():
                    return (base / ref).read_text(encoding="utf-8").strip() or None
                packed = base / "packed-refs"
                if packed.is_file():
                    for line in packed.read_text(encoding="utf-8").splitlines():
                        parts = line.split()
                        if len(parts) == 2 and parts[1] == ref:
                            return parts[0]
        except OSError:
            return None
        return None
    return None


def _common_dir(git: Path) -> Path:
    common = git / "commondir"
    if common.is_file():
        return (git / common.read_text(encoding="utf-8").strip()).resolve()
    return git


# --------------------------------------------------------------------------- fitting


@dataclass
class DimensionPlan:
    """What is learned for one dimension."""

    id: str
    multi_label: bool
    labels: list[str]
    untrainable: list[str]


@dataclass
class FittedModel:
    """Everything :func:`fit_model` produces, before it is written to disk."""

    config: TrainConfig
    codebook: Codebook
    pipelines: dict[str, Any]
    meta: ModelMeta
    metrics: dict[str, Any]
    #: ``calibration.json``; None when no dimension had enough documents for folds.
    calibration: Calibration | None = None
    #: The out-of-distribution check, or None when too few articles to calibrate it.
    ood: OodCheck | None = None


@dataclass
class TrainResult:
    """A trained and saved model: its folder, metadata and metrics."""

    path: Path
    meta: ModelMeta
    metrics: dict[str, Any]

    def summary(self) -> str:
        """A few lines for the terminal: where the model is and how well it does."""
        lines = [
            f"trained '{self.meta.name}' in {self.meta.training_seconds or 0:.1f} s "
            f"on {self.meta.data['examples']} {self.meta.level}(s) -> {self.path}"
        ]
        parts = [p for p in ("cv", "dev", "test", SHIFTED) if self.metrics.get(p)]
        width = max((len(p) for p in parts), default=4)
        for part in parts:
            scores = self.metrics.get(part) or {}
            for dim, s in scores.items():
                lines.append(
                    f"  {part:<{width}} {dim}: micro-F1 {s['micro_f1']:.3f}  macro-F1 "
                    f"{s['macro_f1']:.3f}  samples-F1 {s['samples_f1']:.3f}  (n={s['n']})"
                )
        for dim, labels in self.meta.untrainable.items():
            if labels:
                lines.append(
                    f"  warning: {dim}: too few training examples to learn or tune "
                    f"{', '.join(labels)} (fixed threshold; annotate more)"
                )
        return "\n".join(lines)


def _split_indices(examples: Examples, config: TrainConfig) -> dict[str, np.ndarray]:
    splits = examples.splits
    if all(s is None for s in splits):
        # A corpus without splits: train on everything, evaluate by cross-validation only.
        empty = np.array([], dtype=int)
        return {"train": np.arange(len(examples)), "dev": empty, "test": empty, SHIFTED: empty}
    data = config.data
    train = [i for i, s in enumerate(splits) if s is None or s in data.train]
    parts = {"train": np.array(train, int)}
    for part, names in (("dev", data.dev), ("test", data.test), (SHIFTED, data.shifted)):
        parts[part] = np.array(
            [i for i, s in enumerate(splits) if s is not None and s in names], int
        )
    return parts


def _plan(
    dim: str, codebook: Codebook, train: Examples, config: TrainConfig
) -> tuple[DimensionPlan, np.ndarray]:
    """Decide single- or multi-label and the label columns; return the targets."""
    codebook_labels = list(codebook.dimension(dim).label_ids)
    per_example = [record.get(dim, ()) for record in train.labels]
    if config.single_label == "auto":
        single = all(len(labels) == 1 for labels in per_example) and (
            len({labels[0] for labels in per_example}) >= 2
        )
    else:
        single = dim in config.single_label
    min_pos = config.thresholds.min_positives
    if single:
        wrong = [i for i, labels in enumerate(per_example) if len(labels) != 1]
        if wrong:
            first = train.sources[wrong[0]] if train.sources else None
            where = f" (first: {first})" if first else ""
            raise AnnotationError(
                f"single-label dimension '{dim}': {len(wrong)} training example(s) have no "
                f"label or several{where}; give each exactly one or remove '{dim}' from "
                "single_label"
            )
        y = np.array([labels[0] for labels in per_example], dtype=object)
        observed = sorted(set(y.tolist()))
        if len(observed) < 2:
            raise AnnotationError(
                f"single-label dimension '{dim}' has only one label in the training data "
                f"({observed[0]!r}); a classifier needs at least two"
            )
        counts = {label: int((y == label).sum()) for label in observed}
        untrainable = [lab for lab in codebook_labels if counts.get(lab, 0) < min_pos]
        untrainable += [lab for lab in observed if lab not in codebook_labels]
        return DimensionPlan(dim, False, observed, untrainable), y
    Y = train.indicator(dim, codebook_labels)
    positives = Y.sum(axis=0)
    if not positives.any():
        raise AnnotationError(
            f"dimension '{dim}' has no positive label in the {len(train)} training examples; "
            f"annotate some or leave it out with dimensions = [...] in the config"
        )
    if len(codebook_labels) == 1 and positives[0] == len(train):
        raise AnnotationError(
            f"dimension '{dim}' has one label and every training example carries it; "
            "nothing to learn"
        )
    untrainable = [lab for lab, n in zip(codebook_labels, positives, strict=True) if n < min_pos]
    return DimensionPlan(dim, True, codebook_labels, untrainable), Y


def _proba(estimator: Any, texts: list[str], plan: DimensionPlan) -> np.ndarray:
    """Scores with columns in ``plan.labels`` order (a fold may lack a class)."""
    scores = np.asarray(estimator.predict_proba(texts), dtype=float)
    if plan.multi_label:
        return scores
    classes = list(estimator.classes_)
    if classes == plan.labels:
        return scores
    out = np.zeros((len(texts), len(plan.labels)))
    for j, label in enumerate(classes):
        out[:, plan.labels.index(label)] = scores[:, j]
    return out


def _fit(estimator: Any, texts: list[str], target: np.ndarray) -> Any:
    with warnings.catch_warnings():
        # One-vs-rest warns for a label absent from a fold; it then scores 0, as wanted.
        warnings.filterwarnings("ignore", message="Label .* is present in all training examples")
        warnings.filterwarnings("ignore", message="Label not .* is present in all training")
        estimator.fit(texts, target.astype(int) if target.dtype == bool else target)
    return estimator


def _predict(
    scores: np.ndarray, plan: DimensionPlan, thresholds: Mapping[str, float]
) -> np.ndarray:
    """The labels the model would give (:func:`framing.runtime.labels.label_mask`)."""
    return label_mask(scores, threshold_vector(plan.labels, thresholds), plan.multi_label)


def _thresholds(plan: DimensionPlan, tuned: Mapping[str, float]) -> dict[str, float]:
    """The thresholds a model saves: the tuned ones, or for a single-label dimension 0.0,
    which makes the scores-to-labels rule (:mod:`framing.runtime.labels`) always give
    the best label."""
    if plan.multi_label:
        return dict(tuned)
    return dict.fromkeys(plan.labels, 0.0)


def _as_indicator(target: np.ndarray, plan: DimensionPlan) -> np.ndarray:
    if plan.multi_label:
        return target.astype(bool)
    return np.array([[y == label for label in plan.labels] for y in target], dtype=bool).reshape(
        len(target), len(plan.labels)
    )


def _grid(config: TrainConfig) -> list[dict[str, Any]]:
    if not config.search:
        return [{}]
    keys = list(config.search)
    return [
        dict(zip(keys, values, strict=True))
        for values in itertools.product(*config.search.values())
    ]


def _scores_dict(scores: DimensionScores, thresholds: Mapping[str, float] | None) -> dict[str, Any]:
    data = scores.to_dict()
    if thresholds is not None:
        for label, values in data["labels"].items():
            if label in thresholds:
                values["threshold"] = thresholds[label]
    return data


def load_training_codebook(config: TrainConfig, corpus_paths: Sequence[str]) -> Codebook:
    """The config's codebook, or one inferred from the labels found in the data."""
    if config.data.codebook is not None:
        return load_codebook(config.data.codebook)
    # No codebook: infer the dimensions and labels from the data itself.
    corpus = read_corpus(corpus_paths)
    labels: dict[str, set[str]] = {}
    records: list[Any] = [*corpus.sentences, *corpus.documents.values()]
    for record in records:
        for dim, ids in record.labels.items():
            labels.setdefault(dim, set()).update(ids)
    if not labels:
        raise ConfigError("no label dimensions found in the data; set data.codebook")
    return Codebook.from_labels(
        {d: sorted(v) for d, v in labels.items() if v}, name="inferred", version="0.0.0"
    )


@dataclass
class CrossValidationPlan:
    """One dimension's learning plan, targets and document-grouped folds."""

    plan: DimensionPlan
    target: np.ndarray
    indicator: np.ndarray
    folds: list[tuple[np.ndarray, np.ndarray]]


def cross_validation_plan(
    dim: str, codebook: Codebook, examples: Examples, config: TrainConfig
) -> CrossValidationPlan:
    """Plan a dimension and split ``examples`` into folds grouped by document.

    Folds are stratified over label combinations (multi-label) or classes, and no
    document is on both sides of a fold.
    """
    plan, target = _plan(dim, codebook, examples, config)
    indicator = _as_indicator(target, plan)
    strata = stratification_key(indicator) if plan.multi_label else target
    folds = grouped_folds(strata, np.array(examples.doc_ids), config.cv.folds, config.seed)
    return CrossValidationPlan(plan, target, indicator, list(folds))


def out_of_fold(
    examples: Examples,
    cv: CrossValidationPlan,
    config: TrainConfig,
    params: Mapping[str, Any],
    *,
    progress: Progress | None = None,
    where: str = "",
) -> np.ndarray | None:
    """Scores of every example from a pipeline that never saw its document.

    Returns None when there are too few documents for folds.  The folds are fitted
    ``config.n_jobs`` at a time (see :func:`out_of_fold_grid`).
    """
    return out_of_fold_grid(examples, cv, config, [params], progress=progress, where=[where])[0]


def out_of_fold_grid(
    examples: Examples,
    cv: CrossValidationPlan,
    config: TrainConfig,
    grid: Sequence[Mapping[str, Any]],
    *,
    progress: Progress | None = None,
    where: Sequence[str] = (),
    timer: FitTimer | None = None,
) -> list[np.ndarray | None]:
    """:func:`out_of_fold` for every parameter set of ``grid``, all folds of all points in
    one pool of ``config.n_jobs`` worker processes.

    Processes, not threads: liblinear draws from one random generator per process, so
    fits in threads of one process interleave their draws and give scores that change
    from run to run (and it is not safe to share).  Each worker process fits a fold
    exactly as a serial run does (same data, same seed), so the scores do not depend on
    ``n_jobs``.  A worker gets its fold's texts once (pickled); joblib's loky pool is
    started once and reused for the final fits.
    """
    from framing.runtime.parallel import resolve_jobs

    if not cv.folds:
        return [None] * len(grid)
    say = progress or (lambda _message: None)
    plan = cv.plan
    tasks = [(g, k) for g in range(len(grid)) for k in range(len(cv.folds))]

    def fold_args(task: tuple[int, int]) -> tuple[Any, ...]:
        g, k = task
        tr, te = cv.folds[k]
        return (
            config.pipeline.name,
            dict(grid[g]),
            plan,
            config.seed,
            [examples.texts[i] for i in tr],
            cv.target[tr],
            [examples.texts[i] for i in te],
        )

    def announce(task: tuple[int, int]) -> None:
        g, k = task
        label = where[g] if g < len(where) else ""
        say(f"{plan.id}: {label}fold {k + 1}/{len(cv.folds)}")

    def fit_here(task: tuple[int, int]) -> tuple[np.ndarray, float]:
        announce(task)
        return _fit_fold(*fold_args(task))

    n_jobs = min(resolve_jobs(config.n_jobs), len(tasks))
    results: Iterable[tuple[np.ndarray, float]]
    if n_jobs == 1:
        results = map(fit_here, tasks)
    else:
        for t in tasks[:n_jobs]:
            announce(t)
        results = joblib.Parallel(n_jobs=n_jobs, backend="loky", return_as="generator")(
            joblib.delayed(_fit_fold)(*fold_args(t)) for t in tasks
        )
    fold_scores = []
    for i, (scores, seconds) in enumerate(results):
        if timer is not None:
            timer.done(seconds)
        if n_jobs > 1 and i + n_jobs < len(tasks):
            announce(tasks[i + n_jobs])
        fold_scores.append(scores)
    out = [np.zeros(cv.indicator.shape) for _ in grid]
    for (g, k), scores in zip(tasks, fold_scores, strict=True):
        out[g][cv.folds[k][1]] = scores
    return list(out)


def _fit_fold(
    pipeline: str,
    params: dict[str, Any],
    plan: DimensionPlan,
    seed: int,
    train_texts: list[str],
    train_target: np.ndarray,
    test_texts: list[str],
) -> tuple[np.ndarray, float]:
    """One fold: fit on ``train_texts``, score ``test_texts``; the scores and the seconds taken.

    Module-level, so that worker processes can run it.
    """
    started = time.perf_counter()
    estimator = build_pipeline(
        pipeline, params, multi_label=plan.multi_label, n_labels=len(plan.labels), seed=seed
    )
    _fit(estimator, train_texts, train_target)
    return _proba(estimator, test_texts, plan), time.perf_counter() - started


#: Starts the progress message that estimates a run's length (shown even when quiet
#: progress is throttled).
ESTIMATE_PREFIX = "estimate: "


class FitTimer:
    """Counts the pipeline fits of a training run and estimates the time left.

    After the first fit it says how long the whole run will take at that pace, so a
    long run (the ``thorough`` grid) announces its length near its start.
    """

    def __init__(self, total: int, n_jobs: int, progress: Progress | None) -> None:
        import threading

        self.total = max(1, total)
        self.n_jobs = max(1, n_jobs)
        self.progress = progress
        self.count = 0
        self.started = time.perf_counter()
        self._lock = threading.Lock()

    def done(self, seconds: float) -> None:
        with self._lock:
            self.count += 1
            count = self.count
        if self.progress is None:
            return
        elapsed = time.perf_counter() - self.started
        if count == 1:
            estimate = seconds * self.total / self.n_jobs
            self.progress(
                f"{ESTIMATE_PREFIX}{self.total} pipeline fits in all; the first took "
                f"{seconds:.0f} s, so the run will take about {_duration(estimate)} with "
                f"{self.n_jobs} worker(s)"
            )
        elif count < self.total:
            left = elapsed / count * (self.total - count)
            self.progress(f"{count}/{self.total} fits done, about {_duration(left)} left")


def _duration(seconds: float) -> str:
    if seconds < 90:
        return f"{seconds:.0f} s"
    if seconds < 5400:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"


def fit_model(config: TrainConfig, *, progress: Progress | None = None) -> FittedModel:
    """Cross-validate, tune thresholds and fit one pipeline per dimension.

    Parameters
    ----------
    config
        The training run (see :mod:`framing.training.config`).
    progress
        Called with a short message at each fold and grid point (for a progress display).

    Returns
    -------
    FittedModel

    Raises
    ------
    InputNotFoundError, ConfigError, CodebookError, AnnotationError
    """
    started = time.perf_counter()
    say = progress or (lambda _message: None)
    paths = list(config.data.paths)
    files = [_relative(p) for p in collect_files(paths)]
    codebook = load_training_codebook(config, paths)
    dimensions = list(config.dimensions) or list(codebook.dimension_ids)
    for dim in dimensions:
        try:
            codebook.dimension(dim)
        except CodebookError as exc:
            raise ConfigError(f"dimensions: {exc}") from None
    if config.single_label != "auto":
        for dim in config.single_label:
            if dim not in dimensions:
                raise ConfigError(
                    f"single_label names '{dim}', which is not trained "
                    f"(dimensions: {', '.join(dimensions)})"
                )
    say(f"reading {', '.join(paths)}")
    corpus = read_corpus(paths, codebook if config.data.codebook is not None else None)
    examples = build_examples(
        corpus, dimensions, level=config.data.level, document_text=config.data.document_text
    )
    parts = _split_indices(examples, config)
    train_ex = examples.subset(parts["train"])
    if not len(train_ex):
        found = sorted({str(s) for s in examples.splits})
        raise AnnotationError(
            f"no training examples: {len(examples)} done {config.data.level}(s) in "
            f"{', '.join(paths)}, none in split(s) {list(config.data.train)} "
            f"(splits found: {', '.join(found) or 'none'}); fix data.train in the config"
        )
    grid = _grid(config)
    n_jobs = resolve_jobs(config.n_jobs)
    timer = FitTimer(len(dimensions) * (len(grid) * config.cv.folds + 1), n_jobs, progress)
    # The final fits run their per-label models n_jobs at a time, the fold fits n_jobs at
    # a time in out_of_fold_grid, both in worker processes.  Neither changes a result.
    parallel = joblib.parallel_config(backend="loky", n_jobs=n_jobs, mmap_mode="c")
    parallel.__enter__()
    try:
        return _fit_dimensions(
            config,
            codebook,
            dimensions,
            examples,
            train_ex,
            parts,
            grid,
            corpus,
            paths,
            files,
            started,
            say,
            timer,
        )
    finally:
        parallel.__exit__(None, None, None)


def _fit_dimensions(
    config: TrainConfig,
    codebook: Codebook,
    dimensions: list[str],
    examples: Examples,
    train_ex: Examples,
    parts: dict[str, np.ndarray],
    grid: list[dict[str, Any]],
    corpus: Corpus,
    paths: list[str],
    files: list[str],
    started: float,
    say: Progress,
    timer: FitTimer,
) -> FittedModel:
    pipelines: dict[str, Any] = {}
    meta_labels: dict[str, list[str]] = {}
    meta_thresholds: dict[str, dict[str, float]] = {}
    multi_label: dict[str, bool] = {}
    untrainable: dict[str, list[str]] = {}
    fallback: dict[str, list[str]] = {}
    chosen: dict[str, dict[str, Any]] = {}
    calibrations: dict[str, Any] = {}
    metrics: dict[str, Any] = {"cv": {}, "dev": {}, "test": {}, SHIFTED: {}, "search": {}}
    for dim in dimensions:
        cv = cross_validation_plan(dim, codebook, train_ex, config)
        plan, target, Y, folds = cv.plan, cv.target, cv.indicator, cv.folds
        points = [{**config.pipeline.params, **point} for point in grid]
        wheres = [
            f"grid point {g}/{len(grid)} {point}, " if len(grid) > 1 else ""
            for g, point in enumerate(grid, start=1)
        ]
        oofs = out_of_fold_grid(
            train_ex, cv, config, points, progress=say, where=wheres, timer=timer
        )
        results = []
        for point, params, oof in zip(grid, points, oofs, strict=True):
            tuned = tune_thresholds(
                Y,
                oof if plan.multi_label else None,
                plan.labels,
                strategy=config.thresholds.strategy,
                fixed=config.thresholds.fixed,
                min_positives=config.thresholds.min_positives,
            )
            cv_scores = (
                score_dimension(
                    Y, _predict(oof, plan, _thresholds(plan, tuned.values)), plan.labels
                )
                if oof is not None
                else None
            )
            results.append((point, params, oof, tuned, cv_scores))
        # Best out-of-fold macro-F1; ties keep the earlier grid point.
        macro = [0.0 if r[4] is None else r[4].macro_f1 for r in results]
        best = max(range(len(results)), key=lambda i: (macro[i], -i))
        point, params, oof, tuned, cv_scores = results[best]
        if len(grid) > 1:
            metrics["search"][dim] = [
                {
                    "params": r[0],
                    "macro_f1": None if r[4] is None else r[4].macro_f1,
                    "micro_f1": None if r[4] is None else r[4].micro_f1,
                }
                for r in results
            ]
        say(f"{dim}: fitting on {len(train_ex)} examples")
        final = build_pipeline(
            config.pipeline.name,
            params,
            multi_label=plan.multi_label,
            n_labels=len(plan.labels),
            seed=config.seed,
        )
        fit_started = time.perf_counter()
        _fit(final, train_ex.texts, target)
        timer.done(time.perf_counter() - fit_started)
        pipelines[dim] = final
        meta_labels[dim] = list(plan.labels)
        thresholds = _thresholds(plan, tuned.values)
        meta_thresholds[dim] = thresholds
        multi_label[dim] = plan.multi_label
        untrainable[dim] = plan.untrainable
        fallback[dim] = tuned.fallback
        chosen[dim] = params
        if cv_scores is not None:
            metrics["cv"][dim] = _scores_dict(cv_scores, thresholds)
            metrics["cv"][dim]["folds"] = len(folds)
        if oof is not None:
            say(f"{dim}: calibrating on the out-of-fold scores")
            calibrations[dim] = calibrate_dimension(
                plan.labels,
                Y,
                oof,
                _predict(oof, plan, thresholds),
                train_ex.doc_ids,
                thresholds,
                level=config.data.level,
                seed=config.seed,
            )
        for part in ("dev", "test", SHIFTED):
            index = parts[part]
            if not len(index):
                continue
            subset = examples.subset(index)
            scores = _proba(final, subset.texts, plan)
            gold = subset.indicator(dim, plan.labels)
            metrics[part][dim] = _scores_dict(
                score_dimension(gold, _predict(scores, plan, thresholds), plan.labels),
                thresholds,
            )
    metrics = {k: v for k, v in metrics.items() if v}
    seconds = time.perf_counter() - started
    resolved = config.to_dict()
    resolved["data"]["paths"] = [_relative(p) for p in config.data.paths]
    if config.data.codebook is not None:
        resolved["data"]["codebook"] = _relative(config.data.codebook)
    train_docs = sorted(set(train_ex.doc_ids))
    meta = ModelMeta(
        name=config.name,
        level=config.data.level,
        labels={dim: tuple(ids) for dim, ids in meta_labels.items()},
        thresholds=meta_thresholds,
        multi_label=multi_label,
        untrainable=untrainable,
        threshold_fallback=fallback,
        pipeline={"name": config.pipeline.name, "params": chosen},
        data={
            "hash": data_hash(paths),
            "files": files,
            "examples": len(train_ex),
            "sentences": _count_sentences(corpus, train_ex, config.data.level),
            "documents": len(train_docs),
            "splits": {
                part: int(len(index))
                for part, index in parts.items()
                if part != SHIFTED or len(index)
            },
        },
        config=resolved,
        trained_at=datetime.now(UTC).replace(microsecond=0).isoformat(),
        training_seconds=round(seconds, 3),
        git_commit=_git_commit(),
        structure=LabelStructure.from_codebook(
            codebook, hierarchy=config.structure.hierarchy, exclusive=config.structure.exclusive
        ).to_dict_if_any(),
    )
    calibration = (
        build_calibration(
            calibrations,
            {
                "scores": "out-of-fold, folds grouped by document",
                "folds": config.cv.folds,
                "seed": config.seed,
                "selected_by": "held-out Brier score (sigmoid or isotonic)",
                "examples": len(train_ex),
                "documents": len(train_docs),
            },
        )
        if calibrations
        else None
    )
    say("calibrating the out-of-distribution check")
    ood = calibrate_ood(_articles(train_ex))
    return FittedModel(config, codebook, pipelines, meta, metrics, calibration, ood)


def _articles(examples: Examples) -> list[str]:
    """The texts of the articles behind examples: their sentences in order, or documents."""
    texts: dict[str, list[str]] = {}
    for doc_id, text in zip(examples.doc_ids, examples.texts, strict=True):
        texts.setdefault(doc_id, []).append(text)
    return ["\n".join(parts) for parts in texts.values()]


def _count_sentences(corpus: Corpus, train: Examples, level: str) -> int:
    if level == "sentence":
        return len(train)
    docs = set(train.doc_ids)
    return sum(1 for s in corpus.sentences if s.doc_id in docs and s.status == "done")


def train(
    config: TrainConfig,
    *,
    output: str | Path | None = None,
    progress: Progress | None = None,
) -> TrainResult:
    """Train a model and write its folder (``models/NAME`` unless ``output`` is given).

    The folder holds ``model.skops``, ``meta.json``, ``codebook.toml``, ``metrics.json``,
    ``config.toml``, ``calibration.json`` (when cross-validation ran) and a model card
    ``README.md`` (see :mod:`framing.runtime.model`).

    Raises
    ------
    InputNotFoundError, ConfigError, CodebookError, AnnotationError

    Examples
    --------
    >>> from framing.training.config import load_config
    >>> result = train(load_config("default"), output="models/mine")   # doctest: +SKIP
    >>> result.metrics["cv"]["frames"]["micro_f1"]                      # doctest: +SKIP
    """
    from framing.training.config import to_toml
    from framing.training.report import model_card

    from framing.files import check_writable
    from framing.runtime.calibration import CALIBRATION_FILE
    from framing.runtime.model import read_meta, save_model

    path = Path(output) if output is not None else Path("models") / config.name
    if path.exists() and not path.is_dir():
        raise ConfigError(f"--output {path} is a file; give a folder for the model")
    check_writable(path, folder=True)  # before minutes of training, not after
    fitted = fit_model(config, progress=progress)
    if progress:
        progress(f"writing {path}")
    files = {
        "metrics.json": json.dumps(fitted.metrics, indent=2, ensure_ascii=False) + "\n",
        "config.toml": to_toml(fitted.meta.config),
        "README.md": model_card(fitted.meta, fitted.metrics, fitted.codebook),
    }
    if fitted.calibration is not None:
        files[CALIBRATION_FILE] = fitted.calibration.to_json()
    save_model(path, fitted.pipelines, fitted.meta, fitted.codebook, files=files, ood=fitted.ood)
    return TrainResult(path=path, meta=read_meta(path), metrics=fitted.metrics)

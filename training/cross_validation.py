"""Cross-validation of one dimension: its learning plan, folds grouped by document, the
out-of-fold scores of a parameter grid (in worker processes), and the timing of the fits.
"""

from __future__ import annotations

import itertools
import time
import warnings
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import joblib
import numpy as np
from framing.training.config import TrainConfig
from framing.training.examples import Examples
from framing.training.metrics import DimensionScores, score_dimension
from framing.training.pipelines import build_pipeline
from framing.training.thresholds import (
    Thresholds,
    grouped_folds,
    stratification_key,
    tune_thresholds,
)
from threadpoolctl import threadpool_limits

from framing.errors import AnnotationError
from framing.format.codebook import Codebook
from framing.runtime.labels import label_mask, threshold_vector
from framing.runtime.parallel import resolve_jobs

__all__ = [
    "ESTIMATE_PREFIX",
    "CrossValidationPlan",
    "DimensionPlan",
    "FitTimer",
    "as_indicator",
    "cross_validation_plan",
    "fit_quietly",
    "out_of_fold",
    "out_of_fold_grid",
    "parameter_grid",
    "plan_dimension",
    "predict_labels",
    "saved_thresholds",
    "scores_by_label",
]

Progress = Callable[[str], None]


@dataclass
class DimensionPlan:
    """What is learned for one dimension."""

    id: str
    multi_label: bool
    labels: list[str]
    untrainable: list[str]


def plan_dimension(
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


def scores_by_label(estimator: Any, texts: list[str], plan: DimensionPlan) -> np.ndarray:
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


def fit_quietly(estimator: Any, texts: list[str], target: np.ndarray) -> Any:
    """Fit ``estimator`` without one-vs-rest's absent-label warnings, on one BLAS thread.

    One BLAS thread, wherever the fit runs (this process or a worker): liblinear's solver
    sums its vectors with BLAS, and OpenBLAS splits a long sum over its threads, so the
    last bits of every coefficient, and through them thresholds, depended on how many
    threads it had (up to 4e-5 in a probability on the bundled corpus: two threads in a
    serial run, one in each of two workers).  With one thread the model depends neither
    on ``n_jobs`` nor on the machine's core count.
    """
    with threadpool_limits(limits=1, user_api="blas"), warnings.catch_warnings():
        # One-vs-rest warns for a label absent from a fold; it then scores 0, as wanted.
        warnings.filterwarnings("ignore", message="Label .* is present in all training examples")
        warnings.filterwarnings("ignore", message="Label not .* is present in all training")
        estimator.fit(texts, target.astype(int) if target.dtype == bool else target)
    return estimator


def predict_labels(
    scores: np.ndarray, plan: DimensionPlan, thresholds: Mapping[str, float]
) -> np.ndarray:
    """The labels the model would give (:func:`framing.runtime.labels.label_mask`)."""
    return label_mask(scores, threshold_vector(plan.labels, thresholds), plan.multi_label)


def saved_thresholds(plan: DimensionPlan, tuned: Mapping[str, float]) -> dict[str, float]:
    """The thresholds a model saves: the tuned ones, or for a single-label dimension 0.0,
    which makes the scores-to-labels rule (:mod:`framing.runtime.labels`) always give
    the best label."""
    if plan.multi_label:
        return dict(tuned)
    return dict.fromkeys(plan.labels, 0.0)


def tune_and_score(
    config: TrainConfig, plan: DimensionPlan, Y: np.ndarray, oof: np.ndarray | None
) -> tuple[Thresholds, DimensionScores | None]:
    """Thresholds tuned on out-of-fold scores ``oof`` with the config's settings, and the
    out-of-fold scores at the thresholds the model would save (None without ``oof``)."""
    tuned = tune_thresholds(
        Y,
        oof if plan.multi_label else None,
        plan.labels,
        strategy=config.thresholds.strategy,
        fixed=config.thresholds.fixed,
        min_positives=config.thresholds.min_positives,
    )
    if oof is None:
        return tuned, None
    labels = predict_labels(oof, plan, saved_thresholds(plan, tuned.values))
    return tuned, score_dimension(Y, labels, plan.labels)


def as_indicator(target: np.ndarray, plan: DimensionPlan) -> np.ndarray:
    if plan.multi_label:
        return target.astype(bool)
    return np.array([[y == label for label in plan.labels] for y in target], dtype=bool).reshape(
        len(target), len(plan.labels)
    )


def parameter_grid(config: TrainConfig) -> list[dict[str, Any]]:
    if not config.search:
        return [{}]
    keys = list(config.search)
    return [
        dict(zip(keys, values, strict=True))
        for values in itertools.product(*config.search.values())
    ]


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
    plan, target = plan_dimension(dim, codebook, examples, config)
    indicator = as_indicator(target, plan)
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
    fit_quietly(estimator, train_texts, train_target)
    return scores_by_label(estimator, test_texts, plan), time.perf_counter() - started


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

"""Train a model from a config: cross-validate, tune thresholds, fit, save.

:func:`train` is what ``framing train`` calls; :func:`fit_model` does the same
without writing anything.  Per dimension, the trainer

1. builds the training examples (``done`` sentences, or document records at the
   document level) of the configured training splits;
2. runs cross-validation grouped by document (no document on both sides of a fold)
   and stratified over labels, once per grid point of ``[search]``, and keeps the
   parameters with the best out-of-fold macro-F1;
3. for the dimensions of ``[context]``, fits the article-context stage on the out-of-fold
   scores and takes its own cross-fitted scores in their place (:mod:`framing.training.context`);
   tunes one threshold per label on the out-of-fold scores (:mod:`framing.training.thresholds`);
   fits a calibration map per label on the same scores and records the out-of-fold
   error rates at the threshold (:mod:`framing.training.calibration`);
4. fits the pipeline on all training examples and scores the dev and test splits.

Everything is deterministic given the config's seed.

The steps live in modules named for them: :mod:`framing.training.examples` (step 1),
:mod:`framing.training.cross_validation` (steps 2 and 3, with the fits' timing) and
:mod:`framing.training.provenance` (what ``meta.json`` records about the data and code).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import joblib
import numpy as np
from framing.training.calibration import build_calibration, calibrate_dimension
from framing.training.config import SHIFTED_SPLIT as SHIFTED
from framing.training.config import TrainConfig
from framing.training.context import ContextFit, context_stage, fit_dimension
from framing.training.cross_validation import (
    FitTimer,
    cross_validation_plan,
    fit_quietly,
    out_of_fold_grid,
    parameter_grid,
    predict_labels,
    saved_thresholds,
    scores_by_label,
    tune_and_score,
)
from framing.training.examples import Examples, build_examples
from framing.training.metrics import DimensionScores, score_dimension
from framing.training.ood import calibrate_ood
from framing.training.pipelines import build_pipeline
from framing.training.provenance import code_commit, data_hash, relative_path

from framing.errors import AnnotationError, CodebookError, ConfigError
from framing.format.annotations import Corpus, collect_files, read_corpus
from framing.format.codebook import Codebook, load_codebook
from framing.runtime.calibration import Calibration
from framing.runtime.context import CONTEXT_KIND, ContextStage
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
    #: The article-context stage (``context.json``), or None without ``[context]``.
    context: ContextStage | None = None

    def save(self, path: str | Path, *, files: Mapping[str, str] | None = None) -> Path:
        """Write the model folder with everything the fit produced (the scorers, the
        calibration, the out-of-distribution check, the context stage) and ``files``
        (name -> text) beside them; the one way a fitted model is saved, so that no
        caller can leave out a part the thresholds were tuned with."""
        from framing.runtime.calibration import CALIBRATION_FILE
        from framing.runtime.model import save_model

        extra = dict(files or {})
        if self.calibration is not None:
            extra[CALIBRATION_FILE] = self.calibration.to_json()
        return save_model(
            path,
            self.pipelines,
            self.meta,
            self.codebook,
            files=extra,
            ood=self.ood,
            context=self.context,
            save_pipelines=self.config.save_pipelines,
        )


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
    files = [relative_path(p) for p in collect_files(paths)]
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
    grid = parameter_grid(config)
    n_jobs = resolve_jobs(config.n_jobs)
    timer = FitTimer(len(dimensions) * (len(grid) * config.cv.folds + 1), n_jobs, progress)
    # The final fits run their per-label models n_jobs at a time, the fold fits n_jobs at
    # a time in out_of_fold_grid, both in worker processes.  Neither changes a result.
    parallel = joblib.parallel_config(
        backend="loky", n_jobs=n_jobs, mmap_mode="c", inner_max_num_threads=1
    )
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
    contexts: dict[str, ContextFit] = {}
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
            tuned, cv_scores = tune_and_score(config, plan, Y, oof)
            results.append((point, params, oof, tuned, cv_scores))
        # Best out-of-fold macro-F1; ties keep the earlier grid point.
        macro = [0.0 if r[4] is None else r[4].macro_f1 for r in results]
        best = max(range(len(results)), key=lambda i: (macro[i], -i))
        point, params, oof, tuned, cv_scores = results[best]
        wanted = dim in config.context.dimensions and config.data.level == "sentence"
        if staged := wanted and fit_dimension(config, plan, Y, oof, train_ex.layout(), folds):
            # the article-context stage: thresholds and calibration follow its scores
            contexts[dim], tuned, cv_scores = staged
            oof = contexts[dim].oof
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
        fit_quietly(final, train_ex.texts, target)
        timer.done(time.perf_counter() - fit_started)
        pipelines[dim] = final
        meta_labels[dim] = list(plan.labels)
        thresholds = saved_thresholds(plan, tuned.values)
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
                predict_labels(oof, plan, thresholds),
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
            scores = scores_by_label(final, subset.texts, plan)
            if dim in contexts:
                stage = context_stage({dim: contexts[dim]}, config.context.C)
                scores = stage.apply({dim: scores}, subset.layout())[dim]
            gold = subset.indicator(dim, plan.labels)
            metrics[part][dim] = _scores_dict(
                score_dimension(gold, predict_labels(scores, plan, thresholds), plan.labels),
                thresholds,
            )
    metrics = {k: v for k, v in metrics.items() if v}
    seconds = time.perf_counter() - started
    resolved = config.to_dict()
    resolved["data"]["paths"] = [relative_path(p) for p in config.data.paths]
    if config.data.codebook is not None:
        resolved["data"]["codebook"] = relative_path(config.data.codebook)
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
        git_commit=code_commit(),
        structure=LabelStructure.from_codebook(
            codebook, hierarchy=config.structure.hierarchy, exclusive=config.structure.exclusive
        ).to_dict_if_any(),
        context=CONTEXT_KIND if contexts else None,
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
    context = context_stage(contexts, config.context.C) if contexts else None
    return FittedModel(config, codebook, pipelines, meta, metrics, calibration, ood, context)


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

    The folder holds ``model.skops`` (unless the config's ``save_pipelines`` is false and
    the pipelines compile), ``meta.json``, ``codebook.toml``, ``metrics.json``,
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
    from framing.runtime.model import read_meta

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
        "README.md": model_card(
            fitted.meta, fitted.metrics, fitted.codebook, calibration=fitted.calibration
        ),
    }
    fitted.save(path, files=files)
    return TrainResult(path=path, meta=read_meta(path), metrics=fitted.metrics)

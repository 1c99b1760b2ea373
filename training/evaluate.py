"""Evaluate a model on annotated data, and compare two models.

:func:`evaluate` scores every ``done`` sentence (or document) of the data with a
model and reports, per dimension, precision, recall, F1 and support per label,
micro-, macro- and samples-F1, and the worst false positives and negatives.  For
a sentence-level model it also scores documents: a document is predicted to carry
a label when one of its sentences does, and its gold labels are those of its
document record (or, without one, the union of its sentences' labels).

Conventions: macro-F1 averages the labels that occur in the gold data; samples-F1
counts an example with no gold and no predicted label as 1 (a correct "none").

:func:`compare` evaluates two models on the same data, lists per-label deltas and
puts a paired bootstrap confidence interval (resampling documents) on the
difference in micro-F1.

The pieces live in modules named for them, and their names are importable from here:
scores and calibration metrics in :mod:`framing.training.metrics`, the report and its
rendering in :mod:`framing.training.eval_report`, the comparison of two models in
:mod:`framing.training.comparison`.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from framing.training.comparison import Comparison, compare, paired_bootstrap
from framing.training.eval_report import DimensionEval, EvalReport, save_report
from framing.training.metrics import (
    DimensionScores,
    LabelScores,
    brier_score,
    expected_calibration_error,
    reliability_bins,
    score_dimension,
)
from framing.training.task_metrics import score_task, task_metric

from framing.errors import AnnotationError, UsageError
from framing.format.annotations import Document, Sentence
from framing.format.crosswalk import Crosswalk
from framing.runtime.labels import label_masks
from framing.runtime.structure import apply_structure, structure_of

if TYPE_CHECKING:
    from framing.training.examples import Examples

    from framing.format.annotations import Corpus
    from framing.runtime.model import Model

__all__ = [
    "LabelScores",
    "DimensionScores",
    "DimensionEval",
    "EvalReport",
    "Comparison",
    "brier_score",
    "check_labels",
    "compare",
    "evaluate",
    "expected_calibration_error",
    "paired_bootstrap",
    "reliability_bins",
    "resolve_model",
    "save_report",
    "score_dimension",
]


def check_labels(corpus: Corpus, model: Model, dimensions: Iterable[str]) -> None:
    """Refuse data whose labels the model's codebook lacks, naming every one of them.

    Raises
    ------
    AnnotationError
    """
    known = {dim.id: set(dim.label_ids) for dim in model.codebook.dimensions}
    unknown: dict[tuple[str, str], list[str]] = {}
    records: list[Any] = [*corpus.sentences, *corpus.documents.values()]
    for record in records:
        if record.status != "done":
            continue
        for dim in dimensions:
            for label in record.labels.get(dim, ()):
                if label not in known.get(dim, set()):
                    where = f"{record.source[0]}:{record.source[1]}" if record.source else "?"
                    unknown.setdefault((dim, label), []).append(where)
    if unknown:
        parts = [
            f"{dim}: '{label}' ({len(where)} record(s), first at {where[0]})"
            for (dim, label), where in sorted(unknown.items())
        ]
        cb = model.codebook
        raise AnnotationError(
            f"the data has labels that model '{model.name}' (codebook '{cb.name}' "
            f"{cb.version}) does not know: {'; '.join(parts)}. Evaluate with a model "
            "trained on the data's codebook, or fix the labels"
        )


def resolve_model(model: Model | str | Path, trusted: Iterable[str]) -> Model:
    """``model`` itself, or the model loaded from its name or folder."""
    from framing.runtime.model import Model, load_model

    if isinstance(model, Model):
        return model
    return load_model(model, trusted=trusted)


def _columns(model: Model, dim: str, raw: np.ndarray, labels: Sequence[str]) -> np.ndarray:
    """Re-order a model's score columns to ``labels`` (missing ones score 0)."""
    model_labels = list(model.labels[dim])
    if model_labels == list(labels):
        return raw
    out = np.zeros((raw.shape[0], len(labels)))
    for j, label in enumerate(model_labels):
        if label in labels:
            out[:, list(labels).index(label)] = raw[:, j]
    return out


def _calibrated(
    model: Model, dim: str, scores: np.ndarray, labels: Sequence[str], unit: str
) -> np.ndarray | None:
    """Calibrated probabilities of ``scores`` (columns ``labels``), or None without a
    calibration; a label the calibration lacks keeps its raw score."""
    calibration = model.calibration
    if calibration is None:
        return None
    known = calibration.units.get(unit, {}).get(dim, {})
    out = np.asarray(scores, dtype=float).copy()
    for j, label in enumerate(labels):
        if label in known:
            out[:, j] = known[label].map.apply(out[:, j])
    return out


def _document_eval(
    ev: DimensionEval, corpus: Corpus, examples: Examples, dim: str, model: Model
) -> DimensionEval:
    """Aggregate sentence predictions to documents: a label is on when any sentence has it."""
    order: dict[str, int] = {}
    for doc_id in examples.doc_ids:
        order.setdefault(doc_id, len(order))
    n_docs, n_labels = len(order), len(ev.labels)
    T = np.zeros((n_docs, n_labels), dtype=bool)
    P = np.zeros((n_docs, n_labels), dtype=bool)
    S = np.zeros((n_docs, n_labels))
    for i, doc_id in enumerate(examples.doc_ids):
        d = order[doc_id]
        T[d] |= ev.y_true[i]
        P[d] |= ev.y_pred[i]
        S[d] = np.maximum(S[d], ev.y_score[i])
    column = {label: j for j, label in enumerate(ev.labels)}
    for doc_id, d in order.items():
        doc = corpus.documents.get(doc_id)
        if doc is not None and doc.status == "done" and dim in doc.labels:
            T[d] = False
            for label in doc.labels[dim]:
                if label in column:
                    T[d, column[label]] = True
    texts = []
    for doc_id in order:
        doc = corpus.documents.get(doc_id)
        texts.append((doc.title or doc_id) if doc is not None else doc_id)
    return DimensionEval(
        dimension=dim,
        labels=ev.labels,
        multi_label=ev.multi_label,
        thresholds=ev.thresholds,
        y_true=T,
        y_score=S,
        y_pred=P,
        scores=score_dimension(T, P, ev.labels),
        ids=list(order),
        doc_ids=list(order),
        texts=texts,
        y_prob=_calibrated(model, dim, S, ev.labels, "article"),
    )


def evaluate(
    model: Model | str | Path,
    data: Sequence[str | Path],
    *,
    level: str | None = None,
    trusted: Iterable[str] = (),
    worst: int = 5,
    metrics: Sequence[str] = (),
    crosswalk: Crosswalk | str | Path | None = None,
    links: Sequence[str] = ("exact",),
) -> EvalReport:
    """Score a model on annotated data.

    Parameters
    ----------
    model
        A loaded model, a model folder or a name under ``models/``.
    data
        JSONL files or folders; only ``done`` records count.
    level
        ``"sentence"`` or ``"document"``; default: the level the model was trained on.
        A sentence-level model scores documents by "any sentence has the label".
    trusted
        Extra types to trust when loading the model (see :func:`framing.runtime.model.load_model`).
    worst
        How many of the worst false positives and negatives to list per dimension.
    metrics
        Shared-task scoring rules to apply as well (names of
        :data:`framing.training.task_metrics.TASK_METRICS`, e.g. ``"semeval2025"``).
    crosswalk
        Data labelled in another taxonomy: relabel its gold labels into the model's
        codebook through this crosswalk (:mod:`framing.format.crosswalk`) and score only
        the labels its ``links`` reach.

    Returns
    -------
    EvalReport

    Raises
    ------
    InputNotFoundError, ModelError, AnnotationError, UsageError

    Examples
    --------
    >>> report = evaluate("default", ["data/annotations/test.jsonl"])    # doctest: +SKIP
    >>> report.to_dict()["frames"]["micro_f1"]                           # doctest: +SKIP
    """
    from framing.training.examples import build_examples
    from framing.training.provenance import relative_path

    from framing.format.annotations import read_corpus

    loaded = resolve_model(model, trusted)
    if level is None:
        level = loaded.level
    if level not in ("sentence", "document"):
        raise UsageError(f"level must be 'sentence' or 'document', got {level!r}")
    if loaded.level == "document" and level == "sentence":
        raise UsageError(
            f"model '{loaded.name}' was trained on documents; evaluate it with --level document"
        )
    for name in metrics:
        if task_metric(name).level == "sentence" and loaded.level == "document":
            raise UsageError(
                f"metric '{name}' scores sentence records, but model '{loaded.name}' was "
                "trained on documents; evaluate a sentence-level model with it"
            )
    corpus = read_corpus(data)
    reached: dict[str, list[str]] | None = None
    if crosswalk is not None:
        corpus, reached = _crosswalked(corpus, crosswalk, loaded, links)
    records: list[Any] = [*corpus.sentences, *corpus.documents.values()]
    present = {dim for r in records if r.status == "done" for dim in r.labels}
    dims = [d for d in loaded.dimensions if d in present]
    if not dims:
        raise AnnotationError(
            f"the data has none of model '{loaded.name}''s dimensions "
            f"({', '.join(loaded.dimensions)}) on any done record; is it annotated?"
        )
    check_labels(corpus, loaded, dims)
    unit = "document" if loaded.level == "document" else "sentence"
    document_text = str(loaded.meta.config.get("data", {}).get("document_text", "auto"))
    examples = build_examples(corpus, dims, level=unit, document_text=document_text)
    if not len(examples):
        raise AnnotationError(f"no done {unit} records to evaluate in {', '.join(map(str, data))}")
    # a sentence-level model with a context stage sees each sentence in its article
    raw = loaded.predict_proba(examples.texts, examples.layout() if unit == "sentence" else None)
    multi = loaded.meta.multi_label
    structure = structure_of(loaded.meta)
    label_lists: dict[str, list[str]] = {}
    score_arrays: dict[str, np.ndarray] = {}
    for dim in dims:
        labels = list(loaded.codebook.dimension(dim).label_ids)
        if reached is not None:
            labels = [label for label in labels if label in reached[dim]]
        label_lists[dim] = labels
        score_arrays[dim] = _columns(loaded, dim, np.asarray(raw[dim], dtype=float), labels)
    preds = label_masks(score_arrays, label_lists, loaded.meta)
    evals: dict[str, DimensionEval] = {}
    documents: dict[str, DimensionEval] = {}
    for dim in dims:
        labels = label_lists[dim]
        Y = examples.indicator(dim, labels)
        ev = DimensionEval(
            dimension=dim,
            labels=labels,
            multi_label=multi[dim],
            thresholds={k: float(v) for k, v in loaded.thresholds.get(dim, {}).items()},
            y_true=Y,
            y_score=score_arrays[dim],
            y_pred=preds[dim],
            scores=score_dimension(Y, preds[dim], labels),
            ids=examples.ids,
            doc_ids=examples.doc_ids,
            texts=examples.texts,
            sources=examples.sources,
            y_prob=_calibrated(loaded, dim, score_arrays[dim], labels, loaded.calibration_unit),
        )
        if unit == "sentence":
            documents[dim] = _document_eval(ev, corpus, examples, dim, loaded)
        evals[dim] = ev
    if documents and structure is not None:
        # a document's labels are the union of its sentences': enforce the structure again
        doc_preds = apply_structure(
            {dim: ev.y_pred for dim, ev in documents.items()}, label_lists, structure
        )
        for dim, ev in documents.items():
            ev.y_pred = doc_preds[dim]
            ev.scores = score_dimension(ev.y_true, ev.y_pred, ev.labels)
    if unit == "sentence" and level == "document":
        evals, documents = documents, {}
    report = EvalReport(
        model=loaded.name,
        model_path=relative_path(loaded.path),
        level=level,
        files=[relative_path(f) for f in corpus.files],
        dimensions=evals,
        documents=documents,
        worst=worst,
    )
    for name in metrics:
        report.tasks[name] = score_task(name, _task_inputs(report, task_metric(name).level))
    return report


def _crosswalked(
    corpus: Corpus, crosswalk: Crosswalk | str | Path, model: Model, links: Sequence[str]
) -> tuple[Corpus, dict[str, list[str]]]:
    """The corpus relabelled into the model's codebook, and the labels that can be scored."""
    from framing.format.annotations import Corpus as CorpusType
    from framing.format.crosswalk import load_crosswalk

    walk = crosswalk if isinstance(crosswalk, Crosswalk) else load_crosswalk(crosswalk)
    target = walk.codebook_for(model.codebook, links)
    reached = {dim.id: list(dim.label_ids) for dim in target.dimensions}
    if not reached:
        raise UsageError(
            f"crosswalk '{walk.name}' has no {'/'.join(links)} link to model '{model.name}''s "
            "labels: nothing to score"
        )
    sentences, _ = walk.relabel(corpus.sentences, links)
    documents, _ = walk.relabel(corpus.documents.values(), links)
    relabelled = CorpusType(
        sentences=[s for s in sentences if isinstance(s, Sentence)],
        documents={d.doc_id: d for d in documents if isinstance(d, Document)},
        files=corpus.files,
    )
    return relabelled, reached


def _label_sets(matrix: np.ndarray, labels: Sequence[str]) -> list[frozenset[str]]:
    return [frozenset(labels[int(j)] for j in np.flatnonzero(row)) for row in matrix]


def _task_inputs(
    report: EvalReport, unit: str
) -> dict[str, tuple[list[frozenset[str]], list[frozenset[str]], list[str]]]:
    """Gold and predicted label sets per dimension, at the unit a task metric scores."""
    if unit == "document":
        source = report.dimensions if report.level == "document" else report.documents
    elif report.level == "sentence":
        source = report.dimensions
    else:
        raise UsageError("this metric scores sentence records: evaluate with --level sentence")
    return {
        dim: (_label_sets(ev.y_true, ev.labels), _label_sets(ev.y_pred, ev.labels), ev.labels)
        for dim, ev in source.items()
    }

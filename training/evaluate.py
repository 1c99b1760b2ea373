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
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from framing.training.task_metrics import TaskScore, score_task, task_metric

from framing.errors import AnnotationError, UsageError
from framing.format.annotations import Document, Sentence
from framing.format.crosswalk import Crosswalk
from framing.format.text import clip
from framing.runtime.labels import label_masks
from framing.runtime.structure import apply_structure, structure_of

if TYPE_CHECKING:
    from framing.training.train import Examples

    from framing.format.annotations import Corpus
    from framing.runtime.model import Model

__all__ = [
    "LabelScores",
    "DimensionScores",
    "DimensionEval",
    "EvalReport",
    "Comparison",
    "score_dimension",
    "evaluate",
    "compare",
    "save_report",
]


# --------------------------------------------------------------------------- scores


@dataclass
class LabelScores:
    """Precision, recall and F1 of one label; ``support`` is its number of gold positives."""

    precision: float
    recall: float
    f1: float
    support: int
    predicted: int

    def to_dict(self) -> dict[str, Any]:
        return {
            "precision": round(self.precision, 6),
            "recall": round(self.recall, 6),
            "f1": round(self.f1, 6),
            "support": self.support,
            "predicted": self.predicted,
        }


@dataclass
class DimensionScores:
    """Scores of one dimension: per label and averaged."""

    labels: dict[str, LabelScores]
    micro_f1: float
    macro_f1: float
    samples_f1: float
    n: int

    def to_dict(self) -> dict[str, Any]:
        return {
            "micro_f1": round(self.micro_f1, 6),
            "macro_f1": round(self.macro_f1, 6),
            "samples_f1": round(self.samples_f1, 6),
            "n": self.n,
            "labels": {label: s.to_dict() for label, s in self.labels.items()},
        }


def _ratio(a: float, b: float) -> float:
    return float(a / b) if b else 0.0


def score_dimension(
    y_true: np.ndarray, y_pred: np.ndarray, labels: Sequence[str]
) -> DimensionScores:
    """Score predicted against gold label matrices (``(n, n_labels)``, boolean).

    Examples
    --------
    >>> s = score_dimension(np.array([[1, 0], [0, 1]]), np.array([[1, 1], [0, 0]]), ["a", "b"])
    >>> round(s.micro_f1, 3), s.labels["a"].f1, s.labels["b"].recall
    (0.5, 1.0, 0.0)
    """
    T = np.asarray(y_true, dtype=bool).reshape(-1, len(labels))
    P = np.asarray(y_pred, dtype=bool).reshape(-1, len(labels))
    tp = (T & P).sum(axis=0)
    fp = (~T & P).sum(axis=0)
    fn = (T & ~P).sum(axis=0)
    per_label: dict[str, LabelScores] = {}
    for j, label in enumerate(labels):
        precision = _ratio(tp[j], tp[j] + fp[j])
        recall = _ratio(tp[j], tp[j] + fn[j])
        f1 = _ratio(2 * tp[j], 2 * tp[j] + fp[j] + fn[j])
        per_label[label] = LabelScores(
            precision, recall, f1, int(tp[j] + fn[j]), int(tp[j] + fp[j])
        )
    micro = _ratio(2 * tp.sum(), 2 * tp.sum() + fp.sum() + fn.sum())
    present = [s.f1 for s in per_label.values() if s.support > 0]
    macro = float(np.mean(present)) if present else 0.0
    inter = (T & P).sum(axis=1)
    sizes = T.sum(axis=1) + P.sum(axis=1)
    per_example = np.where(sizes > 0, 2 * inter / np.maximum(sizes, 1), 1.0)
    samples = float(per_example.mean()) if len(per_example) else 0.0
    return DimensionScores(per_label, micro, macro, samples, int(T.shape[0]))


# --------------------------------------------------------------------------- calibration


def reliability_bins(
    y_true: np.ndarray, y_score: np.ndarray, n_bins: int = 10
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Mean score, observed positive rate and count per equal-width score bin.

    Empty bins are dropped.
    """
    y = np.asarray(y_true, dtype=float).ravel()
    s = np.asarray(y_score, dtype=float).ravel()
    which = np.clip((s * n_bins).astype(int), 0, n_bins - 1)
    counts = np.bincount(which, minlength=n_bins)
    sums = np.bincount(which, weights=s, minlength=n_bins)
    hits = np.bincount(which, weights=y, minlength=n_bins)
    keep = counts > 0
    return sums[keep] / counts[keep], hits[keep] / counts[keep], counts[keep]


def expected_calibration_error(y_true: np.ndarray, y_prob: np.ndarray, n_bins: int = 10) -> float:
    """ECE: the count-weighted mean gap between the mean probability and the observed
    frequency over ``n_bins`` equal-width bins (0 for a perfectly calibrated model).

    Examples
    --------
    >>> expected_calibration_error(np.array([1, 0, 1, 0]), np.array([0.5, 0.5, 0.5, 0.5]))
    0.0
    """
    mean, observed, counts = reliability_bins(y_true, y_prob, n_bins)
    total = counts.sum()
    return float(np.sum(counts / total * np.abs(mean - observed))) if total else 0.0


def brier_score(y_true: np.ndarray, y_prob: np.ndarray) -> float:
    """Mean squared difference between probability and outcome (lower is better)."""
    y = np.asarray(y_true, dtype=float).ravel()
    p = np.asarray(y_prob, dtype=float).ravel()
    return float(np.mean((p - y) ** 2)) if len(y) else 0.0


# --------------------------------------------------------------------------- evaluation


@dataclass
class DimensionEval:
    """One dimension's gold labels, scores and predictions, and the resulting scores."""

    dimension: str
    labels: list[str]
    multi_label: bool
    thresholds: dict[str, float]
    y_true: np.ndarray
    y_score: np.ndarray
    y_pred: np.ndarray
    scores: DimensionScores
    ids: list[str] = field(default_factory=list)
    doc_ids: list[str] = field(default_factory=list)
    texts: list[str] = field(default_factory=list)
    sources: list[str | None] = field(default_factory=list)
    #: Calibrated probabilities (the model's ``calibration.json``); None without one.
    y_prob: np.ndarray | None = None

    def calibration_errors(self, n_bins: int = 10) -> dict[str, dict[str, float]]:
        """Per label: ECE and Brier score of the raw scores and, when the model is
        calibrated, of the calibrated probabilities."""
        out: dict[str, dict[str, float]] = {}
        for j, label in enumerate(self.labels):
            y = self.y_true[:, j]
            entry = {
                "ece_raw": round(expected_calibration_error(y, self.y_score[:, j], n_bins), 6),
                "brier_raw": round(brier_score(y, self.y_score[:, j]), 6),
            }
            if self.y_prob is not None:
                entry["ece"] = round(expected_calibration_error(y, self.y_prob[:, j], n_bins), 6)
                entry["brier"] = round(brier_score(y, self.y_prob[:, j]), 6)
            out[label] = entry
        return out

    def worst_errors(self, k: int = 5) -> dict[str, list[dict[str, Any]]]:
        """The ``k`` most confident false positives and the ``k`` most missed false negatives."""
        T, P, S = self.y_true, self.y_pred, self.y_score
        rows, cols = np.nonzero(P & ~T)
        fp = sorted(zip(rows, cols, strict=True), key=lambda rc: (-S[rc], rc[0], rc[1]))[:k]
        rows, cols = np.nonzero(T & ~P)
        fn = sorted(zip(rows, cols, strict=True), key=lambda rc: (S[rc], rc[0], rc[1]))[:k]
        return {
            "false_positives": [self._error(int(i), int(j)) for i, j in fp],
            "false_negatives": [self._error(int(i), int(j)) for i, j in fn],
        }

    def _error(self, i: int, j: int) -> dict[str, Any]:
        label = self.labels[j]
        entry: dict[str, Any] = {
            "id": self.ids[i] if self.ids else int(i),
            "label": label,
            "score": round(float(self.y_score[i, j]), 4),
            "threshold": self.thresholds.get(label),
            "gold": [self.labels[c] for c in np.flatnonzero(self.y_true[i])],
            "predicted": [self.labels[c] for c in np.flatnonzero(self.y_pred[i])],
            "text": self.texts[i] if self.texts else "",
        }
        if self.sources and self.sources[i]:
            entry["source"] = self.sources[i]
        return entry

    def to_dict(self, worst: int = 5) -> dict[str, Any]:
        data = self.scores.to_dict()
        for label, values in data["labels"].items():
            values["threshold"] = self.thresholds.get(label)
        data["multi_label"] = self.multi_label
        data["calibrated"] = self.y_prob is not None
        for label, values in self.calibration_errors().items():
            data["labels"][label].update(values)
        if worst:
            data["errors"] = self.worst_errors(worst)
        return data


@dataclass
class EvalReport:
    """What :func:`evaluate` returns; ``to_dict`` gives the JSON of ``framing eval``."""

    model: str
    model_path: str
    level: str
    files: list[str]
    dimensions: dict[str, DimensionEval]
    documents: dict[str, DimensionEval] = field(default_factory=dict)
    worst: int = 5
    tasks: dict[str, TaskScore] = field(default_factory=dict)

    @property
    def n(self) -> int:
        first = next(iter(self.dimensions.values()), None)
        return 0 if first is None else first.scores.n

    def to_dict(self) -> dict[str, Any]:
        """Scores under each dimension's name (``report["frames"]["micro_f1"]``)."""
        data: dict[str, Any] = {
            "model": self.model,
            "model_path": self.model_path,
            "level": self.level,
            "data": {"files": self.files, "examples": self.n},
            "dimensions": list(self.dimensions),
        }
        for dim, ev in self.dimensions.items():
            data[dim] = ev.to_dict(self.worst)
        if self.documents:
            data["documents"] = {dim: ev.to_dict(0) for dim, ev in self.documents.items()}
            data["data"]["documents"] = next(iter(self.documents.values())).scores.n
        if self.tasks:
            data["task_metrics"] = {name: score.to_dict() for name, score in self.tasks.items()}
        return data

    def predictions(self) -> list[Any]:
        """The predicted labels as annotation records, ready for ``framing export``.

        One ``done`` record per scored example (documents for a document-level report,
        sentences otherwise) whose label lists are the *predicted* labels and whose
        ``meta.scores`` holds every label's score; a sentence-level report also gives a
        document record per article with the labels of any of its sentences.
        """
        from framing.format.annotations import Document, Sentence

        def scores(ev: DimensionEval, i: int) -> dict[str, float]:
            return {label: round(float(ev.y_score[i, j]), 6) for j, label in enumerate(ev.labels)}

        def build(evs: dict[str, DimensionEval], documents: bool) -> list[Any]:
            first = next(iter(evs.values()), None)
            if first is None:
                return []
            out: list[Any] = []
            for i, ident in enumerate(first.ids):
                labels = {
                    dim: tuple(ev.labels[j] for j in np.flatnonzero(ev.y_pred[i]))
                    for dim, ev in evs.items()
                }
                meta = {"scores": {dim: scores(ev, i) for dim, ev in evs.items()}}
                if documents:
                    out.append(Document(doc_id=str(ident), labels=labels, meta=meta))
                else:
                    out.append(
                        Sentence(
                            id=str(ident),
                            doc_id=first.doc_ids[i] if first.doc_ids else str(ident),
                            text=first.texts[i] if first.texts else "",
                            labels=labels,
                            meta=meta,
                        )
                    )
            return out

        if self.level == "document":
            return build(self.dimensions, True)
        return [*build(self.documents, True), *build(self.dimensions, False)]

    def to_table(self) -> str:
        """Plain-text tables for the terminal."""
        out = [
            f"model: {self.model} ({self.model_path})   level: {self.level}   "
            f"examples: {self.n}   data: {', '.join(self.files)}"
        ]
        for dim, ev in self.dimensions.items():
            out.append("")
            out.extend(_text_table(dim, ev))
        for dim, ev in self.documents.items():
            out.append("")
            out.extend(_text_table(f"{dim} (documents: any sentence)", ev))
        for score in self.tasks.values():
            out.append("")
            out.append(f"{score.task}, official scoring rule: {score.rule}")
            out.extend(score.lines())
        if self.worst:
            for dim, ev in self.dimensions.items():
                errors = ev.worst_errors(self.worst)
                for kind in ("false_positives", "false_negatives"):
                    if errors[kind]:
                        out.append("")
                        out.append(f"[{dim}] worst {kind.replace('_', ' ')}:")
                        for e in errors[kind]:
                            text = clip(e["text"], 90, one_line=True)
                            out.append(f"  {e['score']:.2f} {e['label']:<22} {e['id']}: {text}")
        return "\n".join(out)

    def to_markdown(self) -> str:
        """Markdown tables (for reports and model cards)."""
        out = [
            f"**Model** `{self.model}`, level {self.level}, {self.n} examples "
            f"({', '.join(f'`{f}`' for f in self.files)})."
        ]
        for dim, ev in self.dimensions.items():
            out.append("")
            out.extend(_markdown_table(dim, ev))
        for dim, ev in self.documents.items():
            out.append("")
            out.extend(_markdown_table(f"{dim} (documents)", ev))
        for score in self.tasks.values():
            out += ["", f"**{score.task}** (`--metric {score.metric}`: {score.rule})", ""]
            out.extend(f"- {line}" for line in score.lines())
        return "\n".join(out) + "\n"


def _fmt_threshold(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}"


def _text_table(title: str, ev: DimensionEval) -> list[str]:
    s = ev.scores
    width = max([len(label) for label in ev.labels] + [5])
    lines = [
        f"[{title}] micro-F1 {s.micro_f1:.3f}  macro-F1 {s.macro_f1:.3f}  "
        f"samples-F1 {s.samples_f1:.3f}  (n={s.n})",
        f"  {'label':<{width}}  precision  recall     f1  support  threshold    ECE  Brier",
    ]
    cal = ev.calibration_errors()
    kind = "" if ev.y_prob is not None else "_raw"
    for label in ev.labels:
        ls = s.labels[label]
        threshold = ev.thresholds.get(label) if ev.multi_label else None
        lines.append(
            f"  {label:<{width}}  {ls.precision:>9.3f}  {ls.recall:>6.3f}  {ls.f1:>5.3f}  "
            f"{ls.support:>7}  {_fmt_threshold(threshold):>9}  {cal[label]['ece' + kind]:.3f}  "
            f"{cal[label]['brier' + kind]:.3f}"
        )
    lines.append(f"  ECE and Brier: {_calibration_note(ev)}")
    return lines


def _calibration_note(ev: DimensionEval) -> str:
    if ev.y_prob is not None:
        return f"of the calibrated probabilities on these {ev.scores.n} examples (10 bins)"
    return (
        f"of the raw scores on these {ev.scores.n} examples (the model has no "
        "calibration.json: retrain it to get calibrated probabilities)"
    )


def _markdown_table(title: str, ev: DimensionEval) -> list[str]:
    s = ev.scores
    lines = [
        f"**{title}**: micro-F1 {s.micro_f1:.3f}, macro-F1 {s.macro_f1:.3f}, "
        f"samples-F1 {s.samples_f1:.3f} (n={s.n})",
        "",
        "| label | precision | recall | F1 | support | threshold | ECE | Brier |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    cal = ev.calibration_errors()
    kind = "" if ev.y_prob is not None else "_raw"
    for label in ev.labels:
        ls = s.labels[label]
        threshold = ev.thresholds.get(label) if ev.multi_label else None
        lines.append(
            f"| `{label}` | {ls.precision:.3f} | {ls.recall:.3f} | {ls.f1:.3f} | "
            f"{ls.support} | {_fmt_threshold(threshold)} | {cal[label]['ece' + kind]:.3f} | "
            f"{cal[label]['brier' + kind]:.3f} |"
        )
    lines.extend(["", f"ECE and Brier: {_calibration_note(ev)}."])
    return lines


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


def _load(model: Model | str | Path, trusted: Iterable[str]) -> Model:
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
    from framing.training.train import _relative, build_examples

    from framing.format.annotations import read_corpus

    loaded = _load(model, trusted)
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
    raw = loaded.predict_proba(examples.texts)
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
        model_path=_relative(loaded.path),
        level=level,
        files=[_relative(f) for f in corpus.files],
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


def save_report(report: EvalReport, folder: str | Path, *, plots: bool = True) -> list[Path]:
    """Write ``report.json``, ``report.md`` and (with ``plots``) PNG plots into ``folder``.

    Returns the paths written.
    """
    from framing.files import write_text

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    written = [folder / "report.json", folder / "report.md"]
    write_text(written[0], json.dumps(report.to_dict(), indent=2, ensure_ascii=False) + "\n")
    write_text(written[1], report.to_markdown())
    if plots:
        from framing.training.plots import write_plots

        written.extend(write_plots(report, folder))
    return written


# --------------------------------------------------------------------------- comparison


@dataclass
class Comparison:
    """Two models on the same data: per-label deltas and a bootstrap interval on micro-F1."""

    a: EvalReport
    b: EvalReport
    bootstrap: dict[str, dict[str, Any]]
    n_boot: int
    unit: str

    def deltas(self, dim: str) -> dict[str, dict[str, float]]:
        ea, eb = self.a.dimensions[dim], self.b.dimensions[dim]
        out = {}
        for label in ea.labels:
            if label in eb.scores.labels:
                fa, fb = ea.scores.labels[label].f1, eb.scores.labels[label].f1
                out[label] = {
                    "f1_a": round(fa, 6),
                    "f1_b": round(fb, 6),
                    "delta": round(fb - fa, 6),
                    "support": ea.scores.labels[label].support,
                }
        return out

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "a": self.a.model,
            "b": self.b.model,
            "level": self.a.level,
            "examples": self.a.n,
            "bootstrap": {"n": self.n_boot, "resampled": self.unit, "confidence": 0.95},
            "dimensions": list(self.bootstrap),
        }
        for dim, boot in self.bootstrap.items():
            ea, eb = self.a.dimensions[dim].scores, self.b.dimensions[dim].scores
            data[dim] = {
                "a": {
                    "micro_f1": ea.micro_f1,
                    "macro_f1": ea.macro_f1,
                    "samples_f1": ea.samples_f1,
                },
                "b": {
                    "micro_f1": eb.micro_f1,
                    "macro_f1": eb.macro_f1,
                    "samples_f1": eb.samples_f1,
                },
                "micro_f1_delta": boot,
                "labels": self.deltas(dim),
            }
        return data

    def to_table(self) -> str:
        out = [
            f"A: {self.a.model}   B: {self.b.model}   level: {self.a.level}   "
            f"examples: {self.a.n}   bootstrap: {self.n_boot} resamples of {self.unit}s"
        ]
        for dim, boot in self.bootstrap.items():
            ea, eb = self.a.dimensions[dim].scores, self.b.dimensions[dim].scores
            out += [
                "",
                f"[{dim}] micro-F1 A {ea.micro_f1:.3f}  B {eb.micro_f1:.3f}  "
                f"delta {boot['delta']:+.3f}  "
                f"95% CI [{boot['ci_low']:+.3f}, {boot['ci_high']:+.3f}]",
                f"        macro-F1 A {ea.macro_f1:.3f}  B {eb.macro_f1:.3f}  "
                f"delta {eb.macro_f1 - ea.macro_f1:+.3f}",
            ]
            deltas = self.deltas(dim)
            width = max([len(label) for label in deltas] + [5])
            out.append(f"  {'label':<{width}}   F1 A   F1 B   delta  support")
            for label, d in deltas.items():
                out.append(
                    f"  {label:<{width}}  {d['f1_a']:.3f}  {d['f1_b']:.3f}  "
                    f"{d['delta']:+.3f}  {d['support']:>7}"
                )
        return "\n".join(out)

    def to_markdown(self) -> str:
        out = [f"**A** `{self.a.model}` vs **B** `{self.b.model}` ({self.a.n} examples)."]
        for dim, boot in self.bootstrap.items():
            ea, eb = self.a.dimensions[dim].scores, self.b.dimensions[dim].scores
            out += [
                "",
                f"**{dim}**: micro-F1 A {ea.micro_f1:.3f}, B {eb.micro_f1:.3f}, delta "
                f"{boot['delta']:+.3f} (95% CI {boot['ci_low']:+.3f} to {boot['ci_high']:+.3f}, "
                f"{self.n_boot} resamples of {self.unit}s)",
                "",
                "| label | F1 A | F1 B | delta | support |",
                "|---|---:|---:|---:|---:|",
            ]
            for label, d in self.deltas(dim).items():
                out.append(
                    f"| `{label}` | {d['f1_a']:.3f} | {d['f1_b']:.3f} | {d['delta']:+.3f} | "
                    f"{d['support']} |"
                )
        return "\n".join(out) + "\n"


def _counts(ev: DimensionEval, labels: Sequence[str]) -> np.ndarray:
    cols = [ev.labels.index(label) for label in labels]
    T, P = ev.y_true[:, cols], ev.y_pred[:, cols]
    return np.stack(
        [(T & P).sum(axis=1), (~T & P).sum(axis=1), (T & ~P).sum(axis=1)], axis=1
    ).astype(float)


def paired_bootstrap(
    counts_a: np.ndarray,
    counts_b: np.ndarray,
    clusters: Sequence[str],
    *,
    n_boot: int = 1000,
    seed: int = 13,
) -> dict[str, float]:
    """95% interval of micro-F1(B) - micro-F1(A), resampling clusters with replacement.

    ``counts_*`` are ``(n, 3)`` arrays of true positives, false positives and false
    negatives per example; ``clusters`` (documents) are resampled whole, since the
    sentences of one article are not independent.
    """
    keys = {c: i for i, c in enumerate(dict.fromkeys(clusters))}
    index = np.array([keys[c] for c in clusters])
    n_clusters = len(keys)
    sums_a = np.zeros((n_clusters, 3))
    sums_b = np.zeros((n_clusters, 3))
    np.add.at(sums_a, index, counts_a)
    np.add.at(sums_b, index, counts_b)

    def micro(c: np.ndarray) -> np.ndarray:
        denominator = 2 * c[..., 0] + c[..., 1] + c[..., 2]
        return np.divide(
            2 * c[..., 0], denominator, out=np.zeros_like(denominator), where=denominator > 0
        )

    rng = np.random.default_rng(seed)
    draws = rng.integers(0, n_clusters, size=(n_boot, n_clusters))
    weights = np.zeros((n_boot, n_clusters))
    np.add.at(weights, (np.repeat(np.arange(n_boot), n_clusters), draws.ravel()), 1.0)
    delta = micro(weights @ sums_b) - micro(weights @ sums_a)
    observed = float(micro(sums_b.sum(axis=0)) - micro(sums_a.sum(axis=0)))
    return {
        "delta": round(observed, 6),
        "ci_low": round(float(np.percentile(delta, 2.5)), 6),
        "ci_high": round(float(np.percentile(delta, 97.5)), 6),
        "p_b_not_better": round(float((delta <= 0).mean()), 4),
    }


def compare(
    model_a: Model | str | Path,
    model_b: Model | str | Path,
    data: Sequence[str | Path],
    *,
    level: str | None = None,
    trusted: Iterable[str] = (),
    n_boot: int = 1000,
    seed: int = 13,
) -> Comparison:
    """Evaluate two models on the same data and compare them.

    Per dimension both models share, lists each shared label's F1 for A and B and
    the delta, and a paired bootstrap 95% interval on micro-F1(B) - micro-F1(A),
    resampling documents (a document's sentences are not independent).

    Raises
    ------
    UsageError
        When the models share no dimension or score different levels.
    """
    a = _load(model_a, trusted)
    b = _load(model_b, trusted)
    if level is None:
        level = "document" if "document" in (a.level, b.level) else "sentence"
    ra = evaluate(a, data, level=level, worst=0)
    rb = evaluate(b, data, level=level, worst=0)
    shared = [d for d in ra.dimensions if d in rb.dimensions]
    if not shared:
        raise UsageError(
            f"models '{a.name}' ({', '.join(ra.dimensions)}) and '{b.name}' "
            f"({', '.join(rb.dimensions)}) share no dimension to compare"
        )
    bootstrap = {}
    for dim in shared:
        ea, eb = ra.dimensions[dim], rb.dimensions[dim]
        if ea.ids != eb.ids:
            raise UsageError(f"models '{a.name}' and '{b.name}' scored different examples")
        labels = [label for label in ea.labels if label in eb.labels]
        clusters = ea.doc_ids or ea.ids
        bootstrap[dim] = paired_bootstrap(
            _counts(ea, labels), _counts(eb, labels), clusters, n_boot=n_boot, seed=seed
        )
    return Comparison(a=ra, b=rb, bootstrap=bootstrap, n_boot=n_boot, unit="document")

"""The evaluation report: each dimension's gold labels, scores and predictions, and the
report rendered as JSON (``framing eval``), text and Markdown, saved with its plots.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from framing.training.metrics import (
    DimensionScores,
    brier_score,
    expected_calibration_error,
)
from framing.training.task_metrics import TaskScore

from framing.format.text import clip

__all__ = ["DimensionEval", "EvalReport", "save_report"]


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

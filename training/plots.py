"""Plots of corpora and evaluations, as matplotlib ``Figure`` objects written to files.

Figures are built with :class:`matplotlib.figure.Figure` directly (the Agg canvas),
never through ``pyplot``, so nothing is ever shown and no GUI backend is needed.
Save one with :func:`save_figure`, which writes atomically.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from framing.training.evaluate import expected_calibration_error, reliability_bins
from matplotlib.figure import Figure

if TYPE_CHECKING:
    from framing.training.evaluate import DimensionEval, EvalReport

    from framing.loop.stats import CorpusStats

__all__ = [
    "plot_label_distribution",
    "plot_precision_recall",
    "plot_f1_threshold",
    "plot_confusion",
    "plot_reliability",
    "plot_format",
    "reliability_bins",
    "save_figure",
    "write_plots",
]

_SPLIT_ORDER = ("train", "dev", "test", "dev-shifted")


def plot_format(path: str | Path) -> str:
    """The image format of ``path`` from its suffix (none: ``png``).

    Raises
    ------
    UsageError
        When matplotlib cannot write that format, listing the ones it can.
    """
    from matplotlib.backend_bases import FigureCanvasBase

    from framing.errors import UsageError

    fmt = Path(path).suffix.lstrip(".").lower() or "png"
    supported = FigureCanvasBase.get_supported_filetypes()
    if fmt not in supported:
        raise UsageError(
            f"{path}: cannot write a chart as '.{fmt}'; use one of "
            + ", ".join(f".{s}" for s in sorted(supported))
        )
    return fmt


def save_figure(fig: Figure, path: str | Path, *, dpi: int = 120) -> Path:
    """Write ``fig`` to ``path`` (format from the suffix, e.g. ``.png``, ``.svg``, ``.pdf``).

    The image goes to a temporary file beside ``path`` that replaces it once complete.
    """
    from framing.files import atomic_write

    path = Path(path)
    fmt = plot_format(path)
    with atomic_write(path, "wb") as out:
        fig.savefig(out, format=fmt, dpi=dpi, bbox_inches="tight")
    return path


def plot_label_distribution(stats: CorpusStats) -> Figure:
    """Horizontal bars of label counts per dimension, stacked by split.

    Examples
    --------
    >>> from framing.loop.stats import stats
    >>> fig = plot_label_distribution(stats(["tests/data/tiny_corpus.jsonl"]))  # doctest: +SKIP
    """
    dims = list(stats.dimensions.items())
    heights = [max(len(d.labels), 1) for _, d in dims] or [1]
    fig = Figure(figsize=(8, 1.2 + 0.32 * sum(heights) + 0.6 * len(heights)))
    if not dims:
        ax = fig.add_subplot()
        ax.text(0.5, 0.5, "no label dimensions", ha="center", va="center")
        ax.set_axis_off()
        return fig
    axes = fig.subplots(len(dims), 1, squeeze=False, gridspec_kw={"height_ratios": heights})
    for ax, (dim, d) in zip(axes[:, 0], dims, strict=True):
        labels = list(d.labels)
        y = np.arange(len(labels))
        splits = [s for s in _SPLIT_ORDER if s in d.by_split] + sorted(
            s for s in d.by_split if s not in _SPLIT_ORDER
        )
        left = np.zeros(len(labels))
        if splits:
            for split in splits:
                values = np.array([d.by_split[split].get(label, 0) for label in labels], float)
                ax.barh(y, values, left=left, label=split)
                left += values
            ax.legend(loc="lower right", fontsize=8)
        else:
            totals = np.array([d.counts.get(label, 0) for label in labels], float)
            ax.barh(y, totals)
            left = totals
        for yi, total in zip(y, left, strict=True):
            ax.text(total, yi, f" {int(total)}", va="center", fontsize=8)
        ax.set_yticks(y, labels, fontsize=8)
        ax.invert_yaxis()
        ax.set_title(dim, loc="left", fontsize=10)
        ax.set_xlabel("done sentences")
        ax.margins(x=0.12)
    fig.suptitle("Labels per dimension")
    fig.tight_layout()
    return fig


def _plotted_labels(ev: DimensionEval) -> list[int]:
    return [j for j in range(len(ev.labels)) if ev.y_true[:, j].any()]


def plot_precision_recall(ev: DimensionEval) -> Figure:
    """Precision-recall curve per label, with the model's chosen threshold marked."""
    from sklearn.metrics import average_precision_score, precision_recall_curve

    fig = Figure(figsize=(7, 5.5))
    ax = fig.add_subplot()
    for j in _plotted_labels(ev):
        label = ev.labels[j]
        y, s = ev.y_true[:, j], ev.y_score[:, j]
        precision, recall, _ = precision_recall_curve(y, s)
        ap = average_precision_score(y, s)
        (line,) = ax.step(recall, precision, where="post", label=f"{label} (AP {ap:.2f})")
        if ev.multi_label and label in ev.thresholds:
            pred = s >= ev.thresholds[label]
            tp = float((pred & y).sum())
            p = tp / pred.sum() if pred.sum() else 1.0
            r = tp / y.sum()
            ax.plot([r], [p], "o", color=line.get_color(), markeredgecolor="black")
    ax.set_xlabel("recall")
    ax.set_ylabel("precision")
    ax.set_xlim(0, 1.02)
    ax.set_ylim(0, 1.05)
    note = "dots: chosen thresholds" if ev.multi_label else "single-label: argmax"
    ax.set_title(f"{ev.dimension}: precision-recall per label ({note})", fontsize=10)
    ax.legend(fontsize=7, loc="lower left", ncol=2 if len(ev.labels) > 8 else 1)
    ax.grid(alpha=0.3)
    return fig


def plot_f1_threshold(ev: DimensionEval) -> Figure:
    """F1 of each label as its threshold moves, with the chosen threshold marked."""
    fig = Figure(figsize=(7, 5))
    ax = fig.add_subplot()
    grid = np.linspace(0.01, 0.99, 99)
    for j in _plotted_labels(ev):
        label = ev.labels[j]
        y, s = ev.y_true[:, j], ev.y_score[:, j]
        pred = s[None, :] >= grid[:, None]
        tp = (pred & y).sum(axis=1)
        f1 = 2 * tp / np.maximum(pred.sum(axis=1) + y.sum(), 1)
        (line,) = ax.plot(grid, f1, label=label)
        chosen = ev.thresholds.get(label)
        if ev.multi_label and chosen is not None:
            at = float(np.interp(chosen, grid, f1))
            ax.plot([chosen], [at], "o", color=line.get_color(), markeredgecolor="black")
    ax.set_xlabel("threshold")
    ax.set_ylabel("F1")
    ax.set_ylim(0, 1.05)
    ax.set_title(f"{ev.dimension}: F1 against threshold (dots: chosen)", fontsize=10)
    ax.legend(fontsize=7, ncol=2 if len(ev.labels) > 8 else 1)
    ax.grid(alpha=0.3)
    return fig


def confusion_counts(ev: DimensionEval) -> tuple[np.ndarray, list[str]]:
    """Counts of (gold label, predicted label) pairs, with a ``(none)`` row and column.

    Multi-label: an example with gold ``a`` and predictions ``{a, b}`` adds to (a, a) and
    (a, b), so off-diagonal cells show which labels are predicted together with, or
    instead of, which.  Single-label, it is the usual confusion matrix.
    """
    T, P = ev.y_true.astype(int), ev.y_pred.astype(int)
    names = [*ev.labels, "(none)"]
    gold_none = (T.sum(axis=1) == 0).astype(int)[:, None]
    pred_none = (P.sum(axis=1) == 0).astype(int)[:, None]
    Tn = np.hstack([T, gold_none])
    Pn = np.hstack([P, pred_none])
    return Tn.T @ Pn, names


def plot_confusion(ev: DimensionEval) -> Figure:
    """Heat map of gold against predicted labels (a confusion matrix for single-label)."""
    counts, names = confusion_counts(ev)
    size = 2.5 + 0.45 * len(names)
    fig = Figure(figsize=(size + 1, size))
    ax = fig.add_subplot()
    image = ax.imshow(np.log1p(counts), cmap="Blues")
    ax.set_xticks(range(len(names)), names, rotation=60, ha="right", fontsize=8)
    ax.set_yticks(range(len(names)), names, fontsize=8)
    ax.set_xlabel("predicted")
    ax.set_ylabel("gold")
    high = np.log1p(counts).max() if counts.size else 0
    for (i, j), value in np.ndenumerate(counts):
        if value:
            color = "white" if np.log1p(value) > high * 0.6 else "black"
            ax.text(j, i, str(int(value)), ha="center", va="center", fontsize=7, color=color)
    fig.colorbar(image, ax=ax, shrink=0.7, label="log(1 + count)")
    ax.set_title(f"{ev.dimension}: gold x predicted labels", fontsize=10)
    fig.tight_layout()
    return fig


def plot_reliability(ev: DimensionEval, n_bins: int = 10) -> Figure:
    """Reliability diagram: observed frequency of a label against its score, all labels
    pooled; raw scores and, for a calibrated model, calibrated probabilities."""
    fig = Figure(figsize=(6, 6.5))
    top, bottom = fig.subplots(2, 1, gridspec_kw={"height_ratios": [3, 1]}, sharex=True)
    top.plot([0, 1], [0, 1], "--", color="grey", label="perfectly calibrated")
    curves = [("raw score", ev.y_score)]
    if ev.y_prob is not None:
        curves.append(("calibrated probability", ev.y_prob))
    for name, values in curves:
        mean, observed, _ = reliability_bins(ev.y_true, values, n_bins)
        ece = expected_calibration_error(ev.y_true, values, n_bins)
        top.plot(mean, observed, "o-", label=f"{name} (ECE {ece:.3f})")
    top.set_ylabel("observed frequency")
    top.set_ylim(0, 1.02)
    top.set_title(
        f"{ev.dimension}: reliability on {ev.scores.n} examples (all labels pooled)", fontsize=10
    )
    top.legend(fontsize=8, loc="upper left")
    top.grid(alpha=0.3)
    edges = np.linspace(0, 1, n_bins + 1)
    hist = np.histogram(np.asarray(ev.y_score).ravel(), bins=edges)[0]
    bottom.bar(edges[:-1], hist, width=1 / n_bins, align="edge", edgecolor="white")
    bottom.set_yscale("symlog")
    bottom.set_xlabel("score")
    bottom.set_ylabel("count")
    bottom.set_xlim(0, 1)
    fig.tight_layout()
    return fig


def write_plots(
    report: EvalReport, folder: str | Path, *, kinds: Sequence[str] | None = None
) -> list[Path]:
    """Write every evaluation plot of ``report`` as PNG files into ``folder``.

    Files: ``pr_<dim>.png``, ``f1_threshold_<dim>.png``, ``confusion_<dim>.png`` and
    ``reliability_<dim>.png`` per dimension.  Returns the paths written.
    """
    makers = {
        "pr": plot_precision_recall,
        "f1_threshold": plot_f1_threshold,
        "confusion": plot_confusion,
        "reliability": plot_reliability,
    }
    chosen = list(kinds) if kinds is not None else list(makers)
    folder = Path(folder)
    written = []
    for dim, ev in report.dimensions.items():
        for kind in chosen:
            written.append(save_figure(makers[kind](ev), folder / f"{kind}_{dim}.png"))
    return written

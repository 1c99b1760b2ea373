"""Figures of a findings report, as matplotlib ``Figure`` objects (never shown).

* :func:`plot_time_series`: per label, the estimate over the date buckets with its
  interval as a band, one line per value of the other ``--by`` fields;
* :func:`plot_heatmap`: groups x labels, the estimate in each cell;
* :func:`plot_forest`: the difference between two groups per label, with its interval.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from framing.findings.report import FindingsReport

if TYPE_CHECKING:
    from matplotlib.figure import Figure

__all__ = ["plot_time_series", "plot_heatmap", "plot_forest", "write_figures"]


def _nan(value: float | None) -> float:
    return math.nan if value is None else value


def plot_time_series(report: FindingsReport, dimension: str) -> Figure:
    """Estimates over time per label (a panel each), with interval bands.

    Raises
    ------
    ValueError
        When no ``--by`` field is a date.
    """
    from matplotlib.figure import Figure

    field = report.time_field
    if field is None:
        raise ValueError("a time series needs a date field among --by")
    t = report.by.index(field)
    times = sorted({g[t] for g in report.groups})
    series = sorted({g[:t] + g[t + 1 :] for g in report.groups})
    labels = list(report.labels[dimension])
    cols = min(3, len(labels))
    rows = math.ceil(len(labels) / cols)
    fig = Figure(figsize=(4.2 * cols, 2.8 * rows))
    axes = np.atleast_1d(fig.subplots(rows, cols, sharex=True, squeeze=False)).ravel()
    x = np.arange(len(times))
    for ax, label in zip(axes, labels, strict=False):
        for other in series:
            values, lows, highs = [], [], []
            for when in times:
                group = (*other[:t], when, *other[t:])
                try:
                    e = report.cell(dimension, label, group).estimate
                except KeyError:
                    e = None
                values.append(e.value if e else math.nan)
                lows.append(e.low if e else math.nan)
                highs.append(e.high if e else math.nan)
            name = " / ".join(other) or "all"
            (line,) = ax.plot(x, 100 * np.array(values), "o-", label=name, markersize=3)
            ax.fill_between(
                x, 100 * np.array(lows), 100 * np.array(highs), color=line.get_color(), alpha=0.2
            )
        ax.set_title(label, fontsize=9)
        ax.set_xticks(x, times, rotation=45, fontsize=7)
        ax.set_ylabel("%", fontsize=8)
        ax.grid(alpha=0.3)
    for ax in axes[len(labels) :]:
        ax.set_visible(False)
    if len(series) > 1:
        axes[0].legend(fontsize=7)
    fig.suptitle(
        f"{dimension}: share of {report.unit}s per {field} "
        f"({int(report.level * 100)} % intervals; {report.n_articles} articles)",
        fontsize=10,
    )
    fig.tight_layout()
    return fig


def plot_heatmap(report: FindingsReport, dimension: str) -> Figure:
    """Groups (rows) x labels (columns): the estimate, written in each cell."""
    from matplotlib.figure import Figure

    labels = list(report.labels[dimension])
    groups = report.groups
    grid = np.full((len(groups), len(labels)), math.nan)
    for i, group in enumerate(groups):
        for j, label in enumerate(labels):
            e = report.cell(dimension, label, group).estimate
            grid[i, j] = 100 * e.value if e else math.nan
    fig = Figure(figsize=(1.0 + 0.75 * len(labels), 1.4 + 0.4 * len(groups)))
    ax = fig.subplots()
    image = ax.imshow(np.ma.masked_invalid(grid), cmap="viridis", aspect="auto")
    ax.set_xticks(range(len(labels)), labels, rotation=45, ha="right", fontsize=7)
    ax.set_yticks(range(len(groups)), [report.group_name(g) for g in groups], fontsize=7)
    for i in range(len(groups)):
        for j in range(len(labels)):
            text = "small" if math.isnan(grid[i, j]) else f"{grid[i, j]:.0f}"
            ax.text(j, i, text, ha="center", va="center", fontsize=6, color="white")
    fig.colorbar(image, ax=ax, label="% (estimate)")
    ax.set_title(f"{dimension}: share of {report.unit}s per {' x '.join(report.by)}", fontsize=10)
    fig.tight_layout()
    return fig


def plot_forest(report: FindingsReport, dimension: str) -> Figure:
    """The difference between the compared groups per label, with its interval.

    Raises
    ------
    ValueError
        When the report has no comparison.
    """
    from matplotlib.figure import Figure

    if report.comparison is None:
        raise ValueError("a forest plot needs a comparison of two groups")
    comp = report.comparison
    labels = list(report.labels[dimension])
    diffs = comp.differences[dimension]
    y = np.arange(len(labels))[::-1]
    d = np.array([100 * _nan(diffs[label][0]) for label in labels])
    lo = np.array([100 * _nan(diffs[label][1]) for label in labels])
    hi = np.array([100 * _nan(diffs[label][2]) for label in labels])
    fig = Figure(figsize=(6.5, 1.2 + 0.35 * len(labels)))
    ax = fig.subplots()
    ax.axvline(0, color="grey", linestyle="--")
    ax.errorbar(d, y, xerr=[d - lo, hi - d], fmt="o", capsize=3)
    ax.set_yticks(y, labels, fontsize=8)
    a, b = report.group_name(comp.a), report.group_name(comp.b)
    ax.set_xlabel(f"{a} minus {b} (percentage points)")
    ax.set_title(
        f"{dimension}: difference in the share of {report.unit}s "
        f"({int(report.level * 100)} % intervals)",
        fontsize=10,
    )
    ax.grid(alpha=0.3)
    fig.tight_layout()
    return fig


def figures(report: FindingsReport) -> dict[str, Figure]:
    """Every figure the report supports, by file stem (``heatmap_frames``, ...)."""
    out: dict[str, Figure] = {}
    for dim in report.labels:
        if report.time_field is not None:
            out[f"timeseries_{dim}"] = plot_time_series(report, dim)
        out[f"heatmap_{dim}"] = plot_heatmap(report, dim)
        if report.comparison is not None:
            out[f"forest_{dim}"] = plot_forest(report, dim)
    return out


def write_figures(report: FindingsReport, folder: str | Path) -> list[Path]:
    """Write every figure as PNG into ``folder``; returns the paths."""
    from framing.files import write_bytes
    from framing.findings.html import figure_png

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for stem, fig in figures(report).items():
        path = folder / f"{stem}.png"
        write_bytes(path, figure_png(fig))
        written.append(path)
    return written

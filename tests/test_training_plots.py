from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
from framing.training.evaluate import DimensionEval, score_dimension
from framing.training.plots import (
    confusion_counts,
    plot_confusion,
    plot_label_distribution,
    plot_reliability,
    reliability_bins,
    save_figure,
)
from matplotlib.figure import Figure

from framing.loop.stats import stats

DATA = Path(__file__).resolve().parent / "data"
PNG = b"\x89PNG\r\n\x1a\n"


def _eval(multi_label: bool = True) -> DimensionEval:
    T = np.array([[1, 0], [0, 1], [1, 1], [0, 0]], dtype=bool)
    S = np.array([[0.9, 0.2], [0.3, 0.8], [0.7, 0.4], [0.1, 0.6]])
    P = S >= 0.5
    return DimensionEval(
        "frames",
        ["a", "b"],
        multi_label,
        {"a": 0.5, "b": 0.5},
        T,
        S,
        P,
        score_dimension(T, P, ["a", "b"]),
    )


def test_plots_label_distribution_is_a_figure_saved_atomically(tmp_path: Path) -> None:
    fig = plot_label_distribution(stats([DATA / "tiny_corpus.jsonl"]))
    assert isinstance(fig, Figure)
    assert len(fig.axes) == 2  # one panel per dimension
    labels = [t.get_text() for t in fig.axes[0].get_yticklabels()]
    assert labels == ["economic", "security", "solidarity"]
    target = tmp_path / "sub" / "labels.png"
    assert save_figure(fig, target) == target
    assert target.read_bytes()[:8] == PNG
    assert [p.name for p in target.parent.iterdir()] == ["labels.png"]  # no temporary left
    save_figure(fig, tmp_path / "labels.svg")
    assert b"<svg" in (tmp_path / "labels.svg").read_bytes()[:500]


def test_plots_never_use_pyplot() -> None:
    code = "import sys, framing.training.plots; print('matplotlib.pyplot' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_plots_confusion_counts_gold_against_predicted() -> None:
    counts, names = confusion_counts(_eval())
    assert names == ["a", "b", "(none)"]
    # gold a: rows 0 and 2; row 0 predicts a, row 2 predicts a (0.7) and nothing else.
    assert counts[0].tolist() == [2, 0, 0]
    # gold none (row 3) predicted b (0.6).
    assert counts[2].tolist() == [0, 1, 0]
    assert isinstance(plot_confusion(_eval(multi_label=False)), Figure)


def test_plots_reliability_bins_average_scores_and_outcomes() -> None:
    mean, observed, counts = reliability_bins(
        np.array([1, 0, 1, 1]), np.array([0.05, 0.08, 0.95, 0.91])
    )
    assert counts.tolist() == [2, 2]
    assert np.allclose(mean, [0.065, 0.93]) and np.allclose(observed, [0.5, 1.0])
    assert isinstance(plot_reliability(_eval()), Figure)

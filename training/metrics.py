"""Scores of multi-label predictions: precision, recall and F1 per label and averaged,
and the calibration of probabilities (reliability bins, expected calibration error, Brier).

Conventions: macro-F1 averages the labels that occur in the gold data; samples-F1
counts an example with no gold and no predicted label as 1 (a correct "none").
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

__all__ = [
    "DimensionScores",
    "LabelScores",
    "brier_score",
    "expected_calibration_error",
    "reliability_bins",
    "score_dimension",
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

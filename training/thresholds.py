"""Grouped cross-validation folds and per-label decision thresholds.

Folds are grouped by document (no document on both sides of a fold) and
stratified over a label key, so that rare labels land in as many folds as they
can.  Thresholds are tuned on out-of-fold scores to maximise each label's F1.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

__all__ = [
    "stratification_key",
    "grouped_folds",
    "best_f1_threshold",
    "tune_thresholds",
    "Thresholds",
]

#: Thresholds are kept inside this range so that a label is never always or never on.
LOW, HIGH = 0.01, 0.99


def stratification_key(Y: np.ndarray) -> np.ndarray:
    """One stratum per example: its rarest positive label, or ``-1`` when it has none.

    Stratifying on the full label combination makes too many tiny strata; the
    rarest label is what matters for spreading rare labels over the folds.

    Examples
    --------
    >>> stratification_key(np.array([[1, 1], [1, 0], [0, 0]]))
    array([ 1,  0, -1])
    """
    Y = np.asarray(Y, dtype=bool)
    if Y.ndim == 1:
        raise ValueError("stratification_key expects an (n, n_labels) indicator matrix")
    counts = Y.sum(axis=0)
    # Rarer labels sort first; ties broken by column order so the key is deterministic.
    order = np.lexsort((np.arange(Y.shape[1]), counts))
    key = np.full(Y.shape[0], -1, dtype=int)
    for column in order[::-1]:
        key[Y[:, column]] = column
    return key


def grouped_folds(
    strata: Sequence[object] | np.ndarray,
    groups: Sequence[str] | np.ndarray,
    n_folds: int,
    seed: int,
) -> list[tuple[np.ndarray, np.ndarray]]:
    """Train/test index pairs of a stratified, document-grouped K-fold split.

    Uses fewer folds when there are fewer groups than ``n_folds``; returns an
    empty list when there are fewer than two groups (no cross-validation possible).
    Deterministic given ``seed``.
    """
    from sklearn.model_selection import StratifiedGroupKFold

    groups = np.asarray(groups)
    n_groups = len(np.unique(groups))
    k = min(n_folds, n_groups)
    if k < 2:
        return []
    strata_arr = np.asarray([str(s) for s in strata])
    splitter = StratifiedGroupKFold(n_splits=k, shuffle=True, random_state=seed)
    with warnings.catch_warnings():
        # "The least populated class has only N members": expected with rare labels.
        warnings.simplefilter("ignore", UserWarning)
        folds = [
            (train, test)
            for train, test in splitter.split(np.zeros(len(groups)), strata_arr, groups)
        ]
    return [(train, test) for train, test in folds if len(train) and len(test)]


def best_f1_threshold(y_true: np.ndarray, scores: np.ndarray) -> tuple[float, float]:
    """The threshold that maximises F1 of ``scores >= threshold``, and that F1.

    The threshold is put halfway between the lowest score kept and the next
    lower one, so that it generalises rather than sitting on a training score;
    ties go to the highest threshold.  Returns ``(nan, 0.0)`` without positives.

    Examples
    --------
    >>> best_f1_threshold(np.array([1, 1, 0, 0]), np.array([0.9, 0.6, 0.4, 0.1]))
    (0.5, 1.0)
    """
    y = np.asarray(y_true, dtype=bool)
    s = np.asarray(scores, dtype=float)
    positives = int(y.sum())
    if positives == 0 or len(s) == 0:
        return float("nan"), 0.0
    order = np.argsort(-s, kind="stable")
    s_sorted, y_sorted = s[order], y[order]
    tp = np.cumsum(y_sorted)
    fp = np.cumsum(~y_sorted)
    # Only cut between distinct scores: the last index of each run of equal scores.
    last = np.r_[s_sorted[1:] != s_sorted[:-1], True]
    f1 = np.where(last, 2 * tp / (2 * tp + fp + (positives - tp)), -1.0)
    best = int(np.argmax(f1))
    lower = s_sorted[best + 1] if best + 1 < len(s_sorted) else 0.0
    threshold = float(np.clip((s_sorted[best] + lower) / 2, LOW, HIGH))
    return threshold, float(f1[best])


@dataclass
class Thresholds:
    """Per-label thresholds and why each was chosen."""

    values: dict[str, float]
    #: Labels with fewer training positives than ``min_positives``: the fixed fallback.
    untrainable: list[str] = field(default_factory=list)
    #: Labels whose out-of-fold scores gave no usable threshold: the fixed fallback.
    fallback: list[str] = field(default_factory=list)
    #: Out-of-fold F1 at the chosen threshold, per tuned label.
    oof_f1: dict[str, float] = field(default_factory=dict)


def tune_thresholds(
    Y: np.ndarray,
    scores: np.ndarray | None,
    labels: Sequence[str],
    *,
    strategy: str = "cv-f1",
    fixed: float = 0.5,
    min_positives: int = 3,
) -> Thresholds:
    """Choose one threshold per label from out-of-fold scores.

    Parameters
    ----------
    Y
        ``(n, n_labels)`` gold indicator matrix of the training examples.
    scores
        Out-of-fold scores of the same shape, or None when there was no cross-validation
        (every label then gets ``fixed``).
    labels
        Label ids, one per column.
    strategy
        ``"cv-f1"`` maximises each label's out-of-fold F1; ``"fixed"`` uses ``fixed``.
    fixed
        The threshold of the fixed strategy and the fallback for labels that cannot be tuned.
    min_positives
        Labels with fewer positives are reported as untrainable and get ``fixed``.

    Returns
    -------
    Thresholds
    """
    Y = np.asarray(Y, dtype=bool)
    result = Thresholds(values={})
    for j, label in enumerate(labels):
        positives = int(Y[:, j].sum())
        if positives < min_positives:
            result.untrainable.append(label)
            result.values[label] = fixed
            continue
        if strategy == "fixed" or scores is None:
            result.values[label] = fixed
            continue
        threshold, f1 = best_f1_threshold(Y[:, j], scores[:, j])
        if not np.isfinite(threshold) or f1 <= 0:
            result.fallback.append(label)
            result.values[label] = fixed
            continue
        result.values[label] = round(threshold, 6)
        result.oof_f1[label] = f1
    return result

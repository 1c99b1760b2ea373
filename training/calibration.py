"""Fit the calibration maps and error rates that ``calibration.json`` stores.

Input: one dimension's document-grouped out-of-fold scores (every score comes from a
pipeline that never saw the sentence's document), the gold labels and the predictions
at the tuned thresholds.  Per label and unit (sentences; articles scored by their best
sentence), the trainer

1. cross-fits a sigmoid map (logistic regression on the score's logit, Platt's method)
   and an isotonic map over folds grouped by document, and keeps the one with the lower
   held-out Brier score (a proper scoring rule); ties go to the sigmoid, the simpler map;
2. refits the chosen map on all out-of-fold scores;
3. counts the out-of-fold true/false positives and negatives at the threshold, and the
   mean and spread of the cross-fitted calibrated probability among positives and
   negatives.

The result is plain numbers (:mod:`framing.runtime.calibration`): the runtime applies
it with numpy alone.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np
from framing.training.thresholds import grouped_folds

from framing.runtime.calibration import (
    Calibration,
    CalibrationMap,
    ErrorRates,
    LabelCalibration,
    logit,
)

__all__ = [
    "MIN_PER_CLASS",
    "N_QUANTILES",
    "article_scores",
    "calibrate_dimension",
    "calibrate_label",
    "fit_map",
]

#: A map is fitted only with at least this many positives and negatives; else identity.
MIN_PER_CLASS = 3
#: Quantiles of the out-of-fold scores kept per class (0, 2 %, ..., 100 %).
N_QUANTILES = 51
#: Folds of the cross-fitting that chooses between the maps.
SELECTION_FOLDS = 5


def fit_map(method: str, y: np.ndarray, s: np.ndarray) -> CalibrationMap:
    """Fit a ``"sigmoid"`` or ``"isotonic"`` map of scores ``s`` to outcomes ``y``."""
    y = np.asarray(y, dtype=bool)
    if method == "sigmoid":
        from sklearn.linear_model import LogisticRegression

        # Mild regularisation keeps the slope finite when the classes are separable.
        lr = LogisticRegression(C=100.0, max_iter=1000)
        lr.fit(logit(s).reshape(-1, 1), y.astype(int))
        return CalibrationMap("sigmoid", a=float(lr.coef_[0, 0]), b=float(lr.intercept_[0]))
    if method == "isotonic":
        from sklearn.isotonic import IsotonicRegression

        iso = IsotonicRegression(y_min=0.0, y_max=1.0, out_of_bounds="clip", increasing=True)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            iso.fit(np.asarray(s, dtype=float), y.astype(float))
        return CalibrationMap(
            "isotonic",
            x=tuple(float(v) for v in iso.X_thresholds_),
            y=tuple(float(v) for v in iso.y_thresholds_),
        )
    raise ValueError(f"unknown calibration method {method!r}")


def _brier(y: np.ndarray, p: np.ndarray) -> float:
    return float(np.mean((np.asarray(p, dtype=float) - y) ** 2))


def _quantiles(values: np.ndarray) -> tuple[float, ...]:
    if not len(values):
        return ()
    q = np.quantile(values, np.linspace(0.0, 1.0, N_QUANTILES))
    return tuple(round(float(v), 6) for v in q)


def calibrate_label(
    y: np.ndarray,
    s: np.ndarray,
    pred: np.ndarray,
    groups: Sequence[str] | np.ndarray,
    threshold: float,
    *,
    seed: int = 0,
) -> LabelCalibration:
    """One label's map, error rates and score quantiles from out-of-fold scores.

    Parameters
    ----------
    y
        Gold: does the example carry the label.
    s
        Out-of-fold raw scores.
    pred
        Out-of-fold predictions at the threshold (for single-label dimensions: best class).
    groups
        The document of every example: the cross-fitting never splits a document.
    threshold
        The label's decision threshold (stored for the record).
    seed
        Seeds the folds of the cross-fitting.
    """
    y = np.asarray(y, dtype=bool)
    s = np.asarray(s, dtype=float)
    pred = np.asarray(pred, dtype=bool)
    n_pos, n_neg = int(y.sum()), int((~y).sum())
    folds = (
        grouped_folds(y.astype(int), np.asarray(groups), min(SELECTION_FOLDS, n_pos, n_neg), seed)
        if min(n_pos, n_neg) >= MIN_PER_CLASS
        else []
    )
    brier: dict[str, float] = {"raw": _brier(y, s)}
    chosen = CalibrationMap("identity")
    held_out = np.clip(s, 0.0, 1.0)
    if folds:
        crossed: dict[str, np.ndarray] = {}
        for method in ("sigmoid", "isotonic"):
            p = np.empty(len(s))
            for train, test in folds:
                if y[train].all() or not y[train].any():
                    p[test] = y[train].mean()  # a fold with one class: its base rate
                    continue
                p[test] = fit_map(method, y[train], s[train]).apply(s[test])
            crossed[method] = p
            brier[method] = _brier(y, p)
        best = min(("sigmoid", "isotonic"), key=lambda m: (brier[m], m != "sigmoid"))
        chosen = fit_map(best, y, s)
        held_out = crossed[best]
    tp = int((pred & y).sum())
    fp = int((pred & ~y).sum())
    rates = ErrorRates(
        tp=tp,
        fn=n_pos - tp,
        fp=fp,
        tn=n_neg - fp,
        mean_prob_pos=float(held_out[y].mean()) if n_pos else float("nan"),
        mean_prob_neg=float(held_out[~y].mean()) if n_neg else float("nan"),
        sd_prob_pos=float(held_out[y].std()) if n_pos else float("nan"),
        sd_prob_neg=float(held_out[~y].std()) if n_neg else float("nan"),
    )
    from framing.training.evaluate import expected_calibration_error

    ece = {
        "raw": expected_calibration_error(y, np.clip(s, 0.0, 1.0)),
        "calibrated": expected_calibration_error(y, held_out),
    }
    return LabelCalibration(
        map=chosen,
        threshold=float(threshold),
        rates=rates,
        brier={k: round(v, 6) for k, v in brier.items()},
        ece={k: round(v, 6) for k, v in ece.items()},
        quantiles_pos=_quantiles(s[y]),
        quantiles_neg=_quantiles(s[~y]),
    )


def article_scores(
    doc_ids: Sequence[str], Y: np.ndarray, scores: np.ndarray, pred: np.ndarray
) -> tuple[list[str], np.ndarray, np.ndarray, np.ndarray]:
    """Per article (in order of first appearance): gold "some sentence carries the label",
    the best sentence score and "some sentence is predicted", each ``(n_articles, n_labels)``."""
    order: dict[str, int] = {}
    index = np.array([order.setdefault(d, len(order)) for d in doc_ids], dtype=int)
    n = len(order)
    width = scores.shape[1]
    gold = np.zeros((n, width), dtype=bool)
    best = np.zeros((n, width))
    hit = np.zeros((n, width), dtype=bool)
    np.logical_or.at(gold, index, np.asarray(Y, dtype=bool))
    np.maximum.at(best, index, np.asarray(scores, dtype=float))
    np.logical_or.at(hit, index, np.asarray(pred, dtype=bool))
    return list(order), gold, best, hit


def calibrate_dimension(
    labels: Sequence[str],
    Y: np.ndarray,
    oof: np.ndarray,
    pred: np.ndarray,
    doc_ids: Sequence[str],
    thresholds: dict[str, float],
    *,
    level: str = "sentence",
    seed: int = 0,
) -> dict[str, dict[str, LabelCalibration]]:
    """Calibrations of one dimension per unit: ``{unit: {label: LabelCalibration}}``.

    A sentence-level model gets both units (the article unit from its sentences' best
    score); a document-level model only ``article``, its own unit.
    """
    out: dict[str, dict[str, LabelCalibration]] = {}
    if level == "sentence":
        out["sentence"] = {
            label: calibrate_label(
                Y[:, j], oof[:, j], pred[:, j], doc_ids, thresholds[label], seed=seed
            )
            for j, label in enumerate(labels)
        }
        articles, gold, best, hit = article_scores(doc_ids, Y, oof, pred)
    else:
        articles, gold, best, hit = list(doc_ids), np.asarray(Y, bool), oof, pred
    out["article"] = {
        label: calibrate_label(
            gold[:, j], best[:, j], hit[:, j], articles, thresholds[label], seed=seed
        )
        for j, label in enumerate(labels)
    }
    return out


def build_calibration(
    per_dimension: dict[str, dict[str, dict[str, LabelCalibration]]], info: dict[str, Any]
) -> Calibration:
    """Regroup ``{dimension: {unit: {label: ...}}}`` into a :class:`Calibration`."""
    units: dict[str, dict[str, dict[str, LabelCalibration]]] = {}
    for dim, by_unit in per_dimension.items():
        for unit, labels in by_unit.items():
            units.setdefault(unit, {})[dim] = labels
    return Calibration(units=units, info=info)

"""Fit the article-context stage that ``context.json`` stores (:mod:`framing.runtime.context`).

Input: one dimension's document-grouped out-of-fold scores (each from a pipeline that
never saw the sentence's article, so the article's other sentences are out of fold
too), the gold labels, and where each sentence sits in its article.  Per label, the
trainer fits a logistic regression on :func:`framing.runtime.context.stage_inputs` of
the scores' log-odds (and the sentences' lengths: the stage of kind
``article-context.v2``), twice:

1. cross-fitted over the same document-grouped folds, which gives the stage's own
   out-of-fold scores: thresholds and calibration are tuned on those, as they are on
   the first stage's for a dimension without the stage;
2. on all the out-of-fold scores: the stage the model keeps.

The ``fill`` of a sentence alone in its article is the mean of each feature over the
sentences that are not alone.  A label whose training sentences are all of one class
keeps its first-stage score (``own`` weighted 1, everything else 0).
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
from framing.training.config import TrainConfig
from framing.training.cross_validation import DimensionPlan, tune_and_score
from framing.training.metrics import DimensionScores
from framing.training.thresholds import Thresholds

from framing.runtime.calibration import logit, sigmoid
from framing.runtime.context import (
    FEATURES,
    ContextStage,
    Layout,
    context_features,
    stage_inputs,
)

__all__ = ["ContextFit", "context_stage", "fit_context", "fit_dimension"]


@dataclass
class ContextFit:
    """One dimension's stage: ``(n_labels, len(FEATURES))`` coefficients and fill values,
    ``(n_labels,)`` intercepts, and its cross-fitted out-of-fold scores."""

    coef: np.ndarray
    intercept: np.ndarray
    fill: np.ndarray
    oof: np.ndarray


def _logistic(C: float) -> object:
    from sklearn.linear_model import LogisticRegression

    return LogisticRegression(C=C, max_iter=1000)


def _fit_label(x: np.ndarray, y: np.ndarray, C: float) -> tuple[np.ndarray, float] | None:
    """Coefficients and intercept of one label's regression; None for one class."""
    if y.all() or not y.any():
        return None
    model = _logistic(C)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # lbfgs convergence notes on separable labels
        model.fit(x, y)  # type: ignore[attr-defined]
    return model.coef_[0].copy(), float(model.intercept_[0])  # type: ignore[attr-defined]


def _identity() -> tuple[np.ndarray, float]:
    coef = np.zeros(len(FEATURES))
    coef[0] = 1.0
    return coef, 0.0


def fit_context(
    Y: np.ndarray,
    oof: np.ndarray,
    layout: Layout,
    folds: Sequence[tuple[np.ndarray, np.ndarray]],
    *,
    C: float = 1.0,
) -> ContextFit:
    """Fit the stage of one dimension on its out-of-fold scores (see the module docstring).

    Parameters
    ----------
    Y
        ``(n, n_labels)`` gold indicator matrix.
    oof
        ``(n, n_labels)`` first-stage out-of-fold scores.
    layout
        Where each of the ``n`` sentences sits in its article.
    folds
        The document-grouped folds that gave ``oof``.
    C
        Inverse regularisation strength of every label's regression.
    """
    Y = np.asarray(Y, dtype=bool)
    z = logit(oof)
    raw = context_features(z, layout)
    alone = np.bincount(layout.article)[layout.article] == 1
    width = Y.shape[1]
    fill = raw[:, ~alone].mean(axis=1).T if (~alone).any() else np.zeros((width, len(FEATURES)))
    x = stage_inputs(z, layout, fill)
    coef = np.zeros((width, len(FEATURES)))
    intercept = np.zeros(width)
    crossed = np.asarray(oof, dtype=float).copy()
    for j in range(width):
        xj = x[:, :, j].T  # (n, len(FEATURES)): label j's inputs
        for train, test in folds:
            found = _fit_label(xj[train], Y[train, j], C)
            if found is not None:
                w, b = found
                crossed[test, j] = sigmoid(xj[test] @ w + b)
        coef[j], intercept[j] = _fit_label(xj, Y[:, j], C) or _identity()
    return ContextFit(coef, intercept, fill, crossed)


def fit_dimension(
    config: TrainConfig,
    plan: DimensionPlan,
    Y: np.ndarray,
    oof: np.ndarray | None,
    layout: Layout,
    folds: Sequence[tuple[np.ndarray, np.ndarray]],
) -> tuple[ContextFit, Thresholds, DimensionScores] | None:
    """The stage of dimension ``plan.id`` (:func:`fit_context`), the thresholds tuned on
    its out-of-fold scores and the cross-validation scores at them; None when the stage
    cannot be fitted (a single-label dimension, or no folds).
    """
    if oof is None or not plan.multi_label:
        return None
    fitted = fit_context(Y, oof, layout, folds, C=config.context.C)
    tuned, scores = tune_and_score(config, plan, Y, fitted.oof)
    assert scores is not None  # out-of-fold scores were given
    return fitted, tuned, scores


def context_stage(fits: Mapping[str, ContextFit], C: float) -> ContextStage:
    """The ``context.json`` of a model from its dimensions' fits."""
    return ContextStage(
        coef={dim: f.coef for dim, f in fits.items()},
        intercept={dim: f.intercept for dim, f in fits.items()},
        fill={dim: f.fill for dim, f in fits.items()},
        info={"C": C, "scores": "out-of-fold, folds grouped by document"},
    )

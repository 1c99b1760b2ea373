"""Prevalence estimators with intervals that count article sampling and model error.

A group's prevalence of a label is the share of its units (sentences, or articles) that
carry the label.  Four estimators (Forman 2008; Bella et al. 2010; Card & Smith 2018):

``cc``
    classify and count: the share of units the model labels.  Biased whenever the
    model errs, and the bias grows as the group's prevalence moves away from training's.
``acc``
    adjusted classify and count: ``(cc - fpr) / (tpr - fpr)``, with the out-of-fold
    true- and false-positive rates of the model at its threshold.
``pcc``
    probabilistic classify and count: the mean calibrated probability.  Unbiased when the
    calibration holds in the group, i.e. when the group's prevalence is near training's.
``pacc``
    probabilistic adjusted: ``(pcc - m0) / (m1 - m0)``, where ``m1``/``m0`` are the mean
    calibrated probabilities of out-of-fold positives/negatives.

The adjusted estimators are unbiased under *label shift* (the group's units that carry
the label look like training's units that carry it, whatever their share), and are
clipped to ``[0, 1]``.

The interval is a bootstrap (BCa percentiles): each replicate resamples the group's *articles*
with replacement (sentences of one article are not independent) and draws the model's
error rates from their posteriors given the stored out-of-fold counts
(``tpr ~ Beta(tp + 1, fn + 1)``, ``fpr ~ Beta(fp + 1, tn + 1)``; ``m1``, ``m0`` normal with
their standard errors).  The same rate draws serve every group in a replicate, so a
difference between two groups is computed replicate by replicate.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from framing.runtime.calibration import ErrorRates

__all__ = [
    "METHODS",
    "MIN_SEPARATION",
    "MIN_POSITIVES",
    "MAX_UNDEFINED",
    "RateDraws",
    "Estimate",
    "choose_method",
    "draw_rates",
    "point_estimates",
    "bootstrap_estimates",
    "estimate_group",
    "difference",
]

METHODS = ("cc", "acc", "pcc", "pacc")
#: An adjusted estimate needs ``tpr - fpr`` (or ``m1 - m0``) at least this large.
MIN_SEPARATION = 0.2
#: ... and at least this many out-of-fold positives behind the rates.
MIN_POSITIVES = 10
#: ``auto`` keeps an adjusted estimate only when at most this share of its bootstrap
#: replicates is undefined (a draw of the error rates that does not separate the label).
MAX_UNDEFINED = 0.1
#: ... and at most this share clipped to 0 or 1 (else its interval is degenerate).
MAX_CLIPPED = 0.5
#: Bootstrap replicates are drawn in chunks of about this many article indexes.
_CHUNK = 2_000_000


@dataclass(frozen=True)
class RateDraws:
    """``B`` draws of each label's error rates: arrays of shape ``(B, n_labels)``."""

    tpr: np.ndarray
    fpr: np.ndarray
    m_pos: np.ndarray
    m_neg: np.ndarray

    @property
    def n(self) -> int:
        return int(self.tpr.shape[0])


def draw_rates(rates: list[ErrorRates], n_draws: int, rng: np.random.Generator) -> RateDraws:
    """Posterior draws of every label's error rates (uniform Beta(1, 1) priors)."""
    tp = np.array([r.tp for r in rates], dtype=float)
    fn = np.array([r.fn for r in rates], dtype=float)
    fp = np.array([r.fp for r in rates], dtype=float)
    tn = np.array([r.tn for r in rates], dtype=float)
    shape = (n_draws, len(rates))
    tpr = rng.beta(tp + 1, fn + 1, size=shape)
    fpr = rng.beta(fp + 1, tn + 1, size=shape)

    def normal(mean: list[float], sd: list[float], n: np.ndarray) -> np.ndarray:
        m = np.nan_to_num(np.array(mean, dtype=float), nan=0.0)
        se = np.nan_to_num(np.array(sd, dtype=float), nan=0.0) / np.sqrt(np.maximum(n, 1))
        return np.clip(m + se * rng.standard_normal(shape), 0.0, 1.0)

    m_pos = normal([r.mean_prob_pos for r in rates], [r.sd_prob_pos for r in rates], tp + fn)
    m_neg = normal([r.mean_prob_neg for r in rates], [r.sd_prob_neg for r in rates], fp + tn)
    return RateDraws(tpr, fpr, m_pos, m_neg)


def _adjust(observed: np.ndarray, high: np.ndarray, low: np.ndarray) -> np.ndarray:
    """``(observed - low) / (high - low)`` clipped to [0, 1]; NaN where ``high <= low``."""
    with np.errstate(divide="ignore", invalid="ignore"):
        out = (observed - low) / (high - low)
    out = np.where(high - low > 0, np.clip(out, 0.0, 1.0), np.nan)
    return out


def point_estimates(
    n: np.ndarray,
    hits: np.ndarray,
    probs: np.ndarray | None,
    rates: list[ErrorRates] | None,
) -> dict[str, np.ndarray]:
    """Every estimator on the whole group, per label: ``{method: (n_labels,)}``.

    ``n`` is ``(n_articles,)`` units per article; ``hits`` and ``probs`` are
    ``(n_articles, n_labels)``: units labelled by the model, and the sum of their
    calibrated probabilities (None without calibration).
    """
    total = max(float(np.sum(n)), 1.0)
    out = {"cc": hits.sum(axis=0) / total}
    if rates is not None:
        tpr = np.array([r.tpr for r in rates])
        fpr = np.array([r.fpr for r in rates])
        out["acc"] = _adjust(out["cc"], tpr, fpr)
    if probs is not None:
        out["pcc"] = probs.sum(axis=0) / total
        if rates is not None:
            m1 = np.array([r.mean_prob_pos for r in rates])
            m0 = np.array([r.mean_prob_neg for r in rates])
            out["pacc"] = _adjust(out["pcc"], m1, m0)
    return out


def bootstrap_estimates(
    n: np.ndarray,
    hits: np.ndarray,
    probs: np.ndarray | None,
    draws: RateDraws | None,
    rng: np.random.Generator,
    n_boot: int,
) -> dict[str, np.ndarray]:
    """Every estimator on ``n_boot`` replicates: ``{method: (n_boot, n_labels)}``.

    Replicate ``b`` resamples the articles and uses rate draw ``b``.
    """
    n_articles = len(n)
    width = hits.shape[1]
    sum_n = np.empty(n_boot)
    sum_hits = np.empty((n_boot, width))
    sum_probs = np.empty((n_boot, width)) if probs is not None else None
    step = max(1, _CHUNK // max(n_articles, 1))
    for lo in range(0, n_boot, step):
        hi = min(n_boot, lo + step)
        idx = rng.integers(0, n_articles, size=(hi - lo, n_articles))
        sum_n[lo:hi] = n[idx].sum(axis=1)
        sum_hits[lo:hi] = hits[idx].sum(axis=1)
        if sum_probs is not None and probs is not None:
            sum_probs[lo:hi] = probs[idx].sum(axis=1)
    total = np.maximum(sum_n, 1.0)[:, None]
    out = {"cc": sum_hits / total}
    if draws is not None:
        out["acc"] = _adjust(out["cc"], draws.tpr[:n_boot], draws.fpr[:n_boot])
    if sum_probs is not None:
        out["pcc"] = sum_probs / total
        if draws is not None:
            out["pacc"] = _adjust(out["pcc"], draws.m_pos[:n_boot], draws.m_neg[:n_boot])
    return out


def choose_method(requested: str, rates: ErrorRates | None, has_probs: bool) -> tuple[str, str]:
    """The estimator for one label and why, given what the model and the data offer.

    ``auto`` takes ``pacc`` as its candidate when the model separates the label well
    enough for the adjustment to be stable, else ``pcc``; without scores ``acc`` (then
    ``cc``); without a calibration ``cc``.  :func:`estimate_group` (``auto=True``) then
    decides per group whether the candidate ``pacc`` is kept or gives way to ``pcc``
    (:func:`settle_auto`).  A requested method the data cannot support falls back the
    same way, and the reason says so.
    """
    if rates is None:
        return "cc", "naive count: the model has no calibration.json (retrain it)"
    positives = rates.n_pos
    sep_prob = rates.mean_prob_pos - rates.mean_prob_neg
    sep_rate = rates.tpr - rates.fpr
    if requested == "cc":
        return "cc", "naive count, as requested"
    if requested == "pcc":
        if has_probs:
            return "pcc", "mean calibrated probability, as requested"
        requested = "auto"
        lead = "pcc needs scores (tag with --all-scores); "
    elif requested in ("acc", "pacc"):
        lead = ""
        if requested == "pacc" and not has_probs:
            lead, requested = "pacc needs scores (tag with --all-scores); ", "acc"
        if requested == "acc" and _finite_at_least(sep_rate, 1e-9):
            return "acc", lead + (
                f"adjusted by the out-of-fold error rates, as requested (tpr {rates.tpr:.2f}, "
                f"fpr {rates.fpr:.2f}, {positives} positives)"
            )
        if requested == "pacc" and _finite_at_least(sep_prob, 1e-9):
            return "pacc", (
                "adjusted by the out-of-fold mean probabilities, as requested "
                f"(positives {rates.mean_prob_pos:.2f}, negatives {rates.mean_prob_neg:.2f})"
            )
        lead += f"{requested} impossible (the model does not separate the label); "
        requested = "auto"
    else:
        lead = ""
    if has_probs:
        if positives >= MIN_POSITIVES and _finite_at_least(sep_prob, MIN_SEPARATION):
            return "pacc", lead + (
                "adjusted for the model's errors (probabilities of out-of-fold positives "
                f"{rates.mean_prob_pos:.2f} vs negatives {rates.mean_prob_neg:.2f}, "
                f"{positives} positives)"
            )
        return "pcc", lead + (
            f"too weakly separated for an adjustment ({positives} out-of-fold positives, "
            f"probabilities {_fmt(rates.mean_prob_pos)} vs {_fmt(rates.mean_prob_neg)}): "
            "mean calibrated probability, which assumes a prevalence near training's"
        )
    if positives >= MIN_POSITIVES and _finite_at_least(sep_rate, MIN_SEPARATION):
        return "acc", lead + (
            f"adjusted for the model's errors (out-of-fold tpr {rates.tpr:.2f}, fpr "
            f"{rates.fpr:.2f}, {positives} positives); no scores for a probabilistic estimate"
        )
    return "cc", lead + (
        f"naive count: too weakly separated to adjust ({positives} positives, tpr "
        f"{_fmt(rates.tpr)}, fpr {_fmt(rates.fpr)}) and no scores (tag with --all-scores)"
    )


def _finite_at_least(value: float, bound: float) -> bool:
    return math.isfinite(value) and value >= bound


def _fmt(value: float) -> str:
    return "n/a" if not math.isfinite(value) else f"{value:.2f}"


def settle_auto(
    reason: str,
    rates: ErrorRates,
    low: float,
    high: float,
    undefined: float,
    level: float,
    clipped: float = 0.0,
) -> tuple[str, str]:
    """``auto``'s choice in one group between its candidate ``pacc`` and ``pcc``, and why.

    PCC (the mean calibrated probability) is unbiased when the group's prevalence is near
    the training data's, where the calibration was fitted, and has the narrower interval;
    PACC stays unbiased under a prevalence shift but is noisier (Card & Smith 2018).  So
    ``pacc`` is kept only when the data show a shift: its interval (``low``, ``high``)
    excludes the training prevalence (the out-of-fold share of positives, same unit), and
    its bootstrap is stable (at most :data:`MAX_UNDEFINED` of the replicates undefined and
    :data:`MAX_CLIPPED` clipped to 0 or 1, where the interval would shrink to a point).
    When ``pcc`` is chosen for lack of evidence of a shift, :func:`estimate_group` widens
    its interval to span the adjusted one too (a shift too small to see is not excluded).
    """
    prior = rates.n_pos / max(rates.n_pos + rates.n_neg, 1)
    span = f"{int(round(level * 100))} % interval [{_pct(low)}, {_pct(high)}]"
    if undefined > MAX_UNDEFINED or not (math.isfinite(low) and math.isfinite(high)):
        return "pcc", (
            f"the adjustment is unstable in this group ({undefined:.0%} of bootstrap replicates "
            "undefined: the drawn error rates barely separate the label): mean calibrated "
            "probability, which assumes a prevalence near training's"
        )
    if clipped > MAX_CLIPPED:
        return "pcc", (
            f"the adjustment is unstable in this group (clipped to 0 % or 100 % in "
            f"{clipped:.0%} of bootstrap replicates, so its interval would be degenerate): "
            "mean calibrated probability, which assumes a prevalence near training's"
        )
    if low <= prior <= high:
        return "pcc", (
            f"no evidence of a prevalence shift: training's prevalence {_pct(prior)} lies inside "
            f"the adjusted estimate's {span}, so the mean calibrated probability (unbiased at "
            "training's prevalence, narrower interval)"
        )
    return "pacc", (
        f"prevalence shift: training's prevalence {_pct(prior)} lies outside the adjusted "
        f"estimate's {span}, where the mean calibrated probability is biased toward "
        f"training's; {reason}"
    )


def _pct(value: float) -> str:
    return "n/a" if not math.isfinite(value) else f"{100 * value:.1f} %"


@dataclass
class Estimate:
    """One group's prevalence of one label."""

    method: str
    reason: str
    value: float
    low: float
    high: float
    naive: float
    naive_low: float
    naive_high: float
    #: The bootstrap replicates of ``value`` (aligned with the shared rate draws).
    replicates: np.ndarray
    #: With ``auto``: the other method weighed (``pcc`` or ``pacc``): its value and
    #: replicates, so that two groups that settled differently can be compared.
    alternative: tuple[str, float, np.ndarray] | None = None

    def replicates_of(self, method: str) -> tuple[float, np.ndarray] | None:
        """The value and replicates of ``method`` (this estimate's or its alternative)."""
        if method == self.method:
            return self.value, self.replicates
        if self.alternative is not None and self.alternative[0] == method:
            return self.alternative[1], self.alternative[2]
        return None


def _interval(values: np.ndarray, level: float) -> tuple[float, float]:
    """Percentile interval of bootstrap replicates."""
    finite = values[np.isfinite(values)]
    if not len(finite):
        return math.nan, math.nan
    alpha = (1 - level) / 2
    lo, hi = np.quantile(finite, [alpha, 1 - alpha])
    return float(lo), float(hi)


def _bca_interval(
    values: np.ndarray, point: float, jackknife: np.ndarray, level: float
) -> tuple[float, float]:
    """Bias-corrected and accelerated percentile interval (Efron 1987).

    A group's article prevalences are skewed (most articles carry a label rarely, a few
    carry it often), and the plain percentile interval then misses on the long side;
    BCa moves the percentiles by the replicates' median bias and by the skewness the
    leave-one-article-out estimates show.
    """
    from statistics import NormalDist

    finite = values[np.isfinite(values)]
    jack = jackknife[np.isfinite(jackknife)]
    if not len(finite) or not math.isfinite(point):
        return math.nan, math.nan
    normal = NormalDist()
    below = (np.sum(finite < point) + 0.5 * np.sum(finite == point)) / len(finite)
    if below <= 0 or below >= 1 or len(jack) < 3:
        return _interval(values, level)
    z0 = normal.inv_cdf(float(below))
    d = jack.mean() - jack
    denominator = 6 * float(np.sum(d**2)) ** 1.5
    a = float(np.sum(d**3)) / denominator if denominator > 0 else 0.0
    out = []
    for alpha in ((1 - level) / 2, (1 + level) / 2):
        z = normal.inv_cdf(alpha)
        adjusted = normal.cdf(z0 + (z0 + z) / (1 - a * (z0 + z)))
        out.append(float(np.quantile(finite, min(max(adjusted, 0.0), 1.0))))
    return out[0], out[1]


def _jackknife(
    n: np.ndarray, hits: np.ndarray, probs: np.ndarray | None, rates: list[ErrorRates] | None
) -> dict[str, np.ndarray]:
    """Every estimator with one article left out at a time: ``{method: (n_articles, n_labels)}``."""
    if len(n) < 2:
        return {}
    total = np.maximum(np.sum(n) - n, 1.0)[:, None]
    out = {"cc": (hits.sum(axis=0) - hits) / total}
    if rates is not None:
        tpr = np.array([r.tpr for r in rates])
        fpr = np.array([r.fpr for r in rates])
        out["acc"] = _adjust(out["cc"], tpr, fpr)
    if probs is not None:
        out["pcc"] = (probs.sum(axis=0) - probs) / total
        if rates is not None:
            m1 = np.array([r.mean_prob_pos for r in rates])
            m0 = np.array([r.mean_prob_neg for r in rates])
            out["pacc"] = _adjust(out["pcc"], m1, m0)
    return out


def estimate_group(
    n: np.ndarray,
    hits: np.ndarray,
    probs: np.ndarray | None,
    rates: list[ErrorRates] | None,
    methods: list[tuple[str, str]],
    draws: RateDraws | None,
    rng: np.random.Generator,
    *,
    n_boot: int = 1000,
    level: float = 0.95,
    auto: bool = False,
) -> list[Estimate]:
    """Every label's estimate for one group, with the method chosen per label.

    ``methods`` holds ``(method, reason)`` per label (from :func:`choose_method`).  With
    ``auto``, a label whose candidate is ``pacc`` is settled in this group by
    :func:`settle_auto` (``pacc`` under evidence of a prevalence shift, else ``pcc``).
    """
    point = point_estimates(n, hits, probs, rates)
    boot = bootstrap_estimates(n, hits, probs, draws, rng, n_boot)
    jack = _jackknife(n, hits, probs, rates)
    empty = np.array([])

    def interval(method: str, j: int) -> tuple[float, float]:
        leave_one_out = jack[method][:, j] if method in jack else empty
        return _bca_interval(boot[method][:, j], float(point[method][j]), leave_one_out, level)

    out = []
    for j, (method, reason) in enumerate(methods):
        alternative = None
        span: tuple[float, float] | None = None
        if auto and method == "pacc" and rates is not None and "pcc" in boot:
            adjusted = interval(method, j)
            values = boot[method][:, j]
            undefined = float(np.mean(~np.isfinite(values)))
            clipped = float(np.mean((values == 0.0) | (values == 1.0)))
            settled, reason = settle_auto(
                reason, rates[j], *adjusted, undefined, level, clipped=clipped
            )
            other = "pcc" if settled == "pacc" else "pacc"
            alternative = (other, float(point[other][j]), boot[other][:, j])
            if settled == "pcc" and reason.startswith("no evidence"):
                # no shift was seen, but one too small to see is not excluded: the
                # interval also spans the adjusted one
                span = adjusted
                reason += "; the interval also spans the adjusted one (a shift too small to see)"
            method = settled
        reps = boot[method][:, j]
        low, high = interval(method, j)
        if span is not None:
            low, high = min(low, span[0]), max(high, span[1])
        naive_low, naive_high = interval("cc", j)
        out.append(
            Estimate(
                method=method,
                reason=reason,
                value=float(point[method][j]),
                low=low,
                high=high,
                naive=float(point["cc"][j]),
                naive_low=naive_low,
                naive_high=naive_high,
                replicates=reps,
                alternative=alternative,
            )
        )
    return out


def difference(a: Estimate, b: Estimate, level: float = 0.95) -> tuple[float, float, float]:
    """``a - b`` and its percentile interval from the aligned replicates.

    When ``auto`` settled the two groups on different methods, both are compared by the
    adjusted one (a shift in one group is a difference from the other); NaN when the two
    have no method in common.
    """
    method = a.method if a.method == b.method else "pacc"
    found_a, found_b = a.replicates_of(method), b.replicates_of(method)
    if found_a is None or found_b is None:
        return math.nan, math.nan, math.nan
    low, high = _interval(found_a[1] - found_b[1], level)
    return found_a[0] - found_b[0], low, high

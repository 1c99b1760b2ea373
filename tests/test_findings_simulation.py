"""Simulated corpora with known prevalence: are the corrected estimators unbiased, do
their intervals cover the truth, and is naive counting visibly biased under shift?

The model's scores are drawn from the bundled default model's own out-of-fold score
distributions (the quantiles in models/default/calibration.json) for one label.  Each
simulated study draws

* a fresh out-of-fold sample of the training size (its positives and negatives), from
  which the error rates are counted, as training does;
* a target corpus of two groups of 100 articles whose true prevalences differ from training's
  (4.5 % for the label simulated, `pragmatic_interest`): 8 % and 25 %.  Articles differ in their own prevalence (a Beta around the group's),
  so sentences of one article are correlated, as in news.

Truth is the group's prevalence; the 90 % interval must cover it in at least 85 % of 400
studies.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from framing.findings.estimators import (
    choose_method,
    draw_rates,
    estimate_group,
)
from framing.runtime.calibration import ErrorRates, load_calibration

REPO = Path(__file__).resolve().parents[1]
# A label whose training prevalence is near 5 %, so that 8 % is "near training" and 25 %
# a shift (divide_and_rule was until the release-4 model, whose training data has it at 2.6 %;
# the test holds for western_deceit, west_as_threat and resisting_pressure too).
LABEL = ("frames", "pragmatic_interest")
GROUP_PREVALENCE = (0.08, 0.25)
# 400, not 200: with 200 studies the coverage measured has a standard error of about 0.02,
# and the round-6 model's score distributions put pacc at 0.845 for the fixed seed while
# 2,000 studies measure it at 0.878 (and 0.903 for the model before); 400 halves that noise.
N_STUDIES = 400
N_ARTICLES = 100
LEVEL = 0.90


def _sampler(quantiles: tuple[float, ...]):
    grid = np.linspace(0, 1, len(quantiles))
    q = np.asarray(quantiles)
    return lambda rng, n: np.interp(rng.random(n), grid, q)


@pytest.fixture(scope="module")
def studies():
    cal = load_calibration(REPO / "models" / "default")
    assert cal is not None
    entry = cal.label("sentence", *LABEL)
    pos, neg = _sampler(entry.quantiles_pos), _sampler(entry.quantiles_neg)
    cmap, threshold = entry.map, entry.threshold
    n_pos, n_neg = entry.rates.n_pos, entry.rates.n_neg
    rng = np.random.default_rng(20261202)
    results = {m: [[], []] for m in ("cc", "acc", "pcc", "pacc")}
    lows = {m: [[], []] for m in results}
    highs = {m: [[], []] for m in results}
    chosen = []
    auto: list[list[str]] = [[], []]
    auto_covered: list[list[bool]] = [[], []]
    for _ in range(N_STUDIES):
        # The out-of-fold sample behind the stored rates.
        s1, s0 = pos(rng, n_pos), neg(rng, n_neg)
        p1, p0 = cmap.apply(s1), cmap.apply(s0)
        tp, fp = int((s1 >= threshold).sum()), int((s0 >= threshold).sum())
        rates = ErrorRates(tp, n_pos - tp, fp, n_neg - fp, p1.mean(), p0.mean(), p1.std(), p0.std())
        draws = draw_rates([rates], 300, rng)
        chosen.append(choose_method("auto", rates, True)[0])
        for g, prevalence in enumerate(GROUP_PREVALENCE):
            sizes = rng.integers(5, 30, N_ARTICLES)
            own = rng.beta(prevalence * 4, (1 - prevalence) * 4, N_ARTICLES)
            hits = np.zeros((N_ARTICLES, 1))
            probs = np.zeros((N_ARTICLES, 1))
            for a in range(N_ARTICLES):
                y = rng.random(sizes[a]) < own[a]
                s = np.where(y, pos(rng, sizes[a]), neg(rng, sizes[a]))
                hits[a, 0] = (s >= threshold).sum()
                probs[a, 0] = cmap.apply(s).sum()
            for method in results:
                est = estimate_group(
                    sizes.astype(float),
                    hits,
                    probs,
                    [rates],
                    [(method, "")],
                    draws,
                    rng,
                    n_boot=300,
                    level=LEVEL,
                )[0]
                results[method][g].append(est.value)
                lows[method][g].append(est.low)
                highs[method][g].append(est.high)
            settled = estimate_group(
                sizes.astype(float),
                hits,
                probs,
                [rates],
                [choose_method("auto", rates, True)],
                draws,
                rng,
                n_boot=300,
                level=LEVEL,
                auto=True,
            )[0]
            auto[g].append(settled.method)
            auto_covered[g].append(settled.low <= prevalence <= settled.high)
    return {
        "value": {m: np.array(v) for m, v in results.items()},
        "low": {m: np.array(v) for m, v in lows.items()},
        "high": {m: np.array(v) for m, v in highs.items()},
        "chosen": chosen,
        "auto": auto,
        "auto_covered": auto_covered,
        "prior": n_pos / (n_pos + n_neg),
    }


@pytest.mark.parametrize("method", ["acc", "pacc"])
def test_findings_simulation_corrected_estimators_are_close_to_unbiased(studies, method) -> None:
    for g, truth in enumerate(GROUP_PREVALENCE):
        bias = studies["value"][method][g].mean() - truth
        assert abs(bias) < 0.02, f"{method}, group prevalence {truth}: bias {bias:+.3f}"


@pytest.mark.parametrize("method", ["acc", "pacc"])
def test_findings_simulation_intervals_cover_the_truth(studies, method) -> None:
    for g, truth in enumerate(GROUP_PREVALENCE):
        low, high = studies["low"][method][g], studies["high"][method][g]
        coverage = np.mean((low <= truth) & (truth <= high))
        assert coverage >= 0.85, f"{method}, prevalence {truth}: 90% interval covers {coverage:.0%}"


def test_findings_simulation_naive_counting_is_biased_under_shift(studies) -> None:
    # At 25 % (five times training's prevalence) the model's misses dominate.
    truth = GROUP_PREVALENCE[1]
    for method in ("cc", "pcc"):
        bias = studies["value"][method][1].mean() - truth
        assert bias < -0.03, f"{method} should visibly undercount under shift, bias {bias:+.3f}"
        low, high = studies["low"][method][1], studies["high"][method][1]
        assert np.mean((low <= truth) & (truth <= high)) < 0.5


def test_findings_simulation_auto_picks_an_adjusted_estimator(studies) -> None:
    assert set(studies["chosen"]) == {"pacc"}


def test_findings_simulation_auto_settles_on_pacc_under_shift_only(studies) -> None:
    """Per group, auto keeps pacc when its interval excludes training's prevalence, else
    falls back to pcc; at five times training's prevalence it keeps pacc and covers the truth."""
    shifted = studies["auto"][1]
    assert np.mean([m == "pacc" for m in shifted]) >= 0.9
    assert np.mean(studies["auto_covered"][1]) >= 0.85
    # near training's prevalence the fallback to pcc happens (its interval is narrower)
    near = GROUP_PREVALENCE[0]
    assert abs(near - studies["prior"]) < 0.05
    assert "pcc" in set(studies["auto"][0])


def test_findings_settle_auto_says_why() -> None:
    from framing.findings.estimators import settle_auto

    rates = ErrorRates(20, 10, 10, 160, 0.6, 0.1, 0.2, 0.1)  # training prevalence 30/200
    method, why = settle_auto("base", rates, 0.10, 0.20, 0.0, 0.95)
    assert method == "pcc" and "no evidence of a prevalence shift" in why and "15.0 %" in why
    method, why = settle_auto("base", rates, 0.20, 0.40, 0.0, 0.95)
    assert method == "pacc" and why.startswith("prevalence shift") and why.endswith("base")
    method, why = settle_auto("base", rates, 0.20, 0.40, 0.25, 0.95)
    assert method == "pcc" and "unstable" in why and "25%" in why
    method, why = settle_auto("base", rates, 0.0, 0.0, 0.0, 0.95, clipped=0.9)
    assert method == "pcc" and "degenerate" in why and "90%" in why


def test_findings_auto_fallback_interval_spans_the_adjusted_one() -> None:
    """Without evidence of a shift auto gives pcc's value, with an interval that also spans
    the adjusted one (a shift too small to see is not excluded)."""
    rates = [ErrorRates(40, 10, 20, 930, 0.6, 0.03, 0.2, 0.05)]  # training prevalence 5 %
    gen = np.random.default_rng(5)
    n = np.full(100, 10.0)
    truth = gen.random((100, 10)) < 0.05
    hits = (truth & (gen.random((100, 10)) < 0.8)).sum(axis=1, keepdims=True).astype(float)
    probs = np.where(truth, 0.6, 0.03).sum(axis=1, keepdims=True)
    draws = draw_rates(rates, 400, np.random.default_rng(1))

    def run(methods, auto):
        return estimate_group(
            n, hits, probs, rates, methods, draws, np.random.default_rng(2), n_boot=400, auto=auto
        )[0]

    settled = run([choose_method("auto", rates[0], True)], True)
    pcc, pacc = run([("pcc", "")], False), run([("pacc", "")], False)
    assert settled.method == "pcc" and "no evidence of a prevalence shift" in settled.reason
    assert settled.value == pcc.value
    assert settled.low == min(pcc.low, pacc.low) and settled.high == max(pcc.high, pacc.high)
    assert settled.high - settled.low > pcc.high - pcc.low

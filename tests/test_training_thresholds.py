from __future__ import annotations

import numpy as np
from framing.training.thresholds import (
    best_f1_threshold,
    grouped_folds,
    stratification_key,
    tune_thresholds,
)
from hypothesis import given, settings
from hypothesis import strategies as st


def _f1(y: np.ndarray, pred: np.ndarray) -> float:
    tp = float((y & pred).sum())
    denominator = 2 * tp + float((~y & pred).sum()) + float((y & ~pred).sum())
    return 2 * tp / denominator if denominator else 0.0


def test_thresholds_stratification_key_is_rarest_positive_label() -> None:
    Y = np.array([[1, 1, 0], [1, 0, 0], [0, 0, 0], [1, 0, 1], [1, 1, 0]], dtype=bool)
    # counts: a=4, b=2, c=1 -> c is rarest, then b
    assert stratification_key(Y).tolist() == [1, 0, -1, 2, 1]


def test_thresholds_grouped_folds_never_split_a_document() -> None:
    rng = np.random.default_rng(0)
    groups = np.repeat([f"d{i}" for i in range(12)], 5)
    strata = rng.integers(0, 3, size=len(groups))
    folds = grouped_folds(strata, groups, 5, seed=3)
    assert len(folds) == 5
    covered = np.concatenate([test for _, test in folds])
    assert sorted(covered.tolist()) == list(range(len(groups)))
    for train, test in folds:
        assert not set(groups[train]) & set(groups[test])


def test_thresholds_grouped_folds_are_deterministic_and_shrink_to_groups() -> None:
    groups = ["a", "a", "b", "b", "c", "c"]
    strata = [0, 1, 0, 1, 0, 1]
    first = grouped_folds(strata, groups, 5, seed=1)
    second = grouped_folds(strata, groups, 5, seed=1)
    assert len(first) == 3  # only three documents
    assert all(
        (a[0] == b[0]).all() and (a[1] == b[1]).all() for a, b in zip(first, second, strict=True)
    )
    assert grouped_folds([0, 1], ["a", "a"], 5, seed=1) == []


def test_thresholds_best_f1_threshold_separates_classes() -> None:
    threshold, f1 = best_f1_threshold(np.array([1, 1, 0, 0]), np.array([0.9, 0.6, 0.4, 0.1]))
    assert threshold == 0.5 and f1 == 1.0
    threshold, f1 = best_f1_threshold(np.array([0, 0]), np.array([0.3, 0.2]))
    assert np.isnan(threshold) and f1 == 0.0


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.tuples(st.booleans(), st.floats(0.0, 1.0, allow_nan=False)), min_size=1, max_size=40
    )
)
def test_thresholds_best_f1_threshold_reaches_the_best_possible_f1(pairs) -> None:
    y = np.array([p[0] for p in pairs], dtype=bool)
    s = np.array([p[1] for p in pairs])
    threshold, f1 = best_f1_threshold(y, s)
    if not y.any():
        assert f1 == 0.0
        return
    best = max(_f1(y, s >= t) for t in np.unique(s))
    assert abs(f1 - best) < 1e-9
    # The returned threshold reproduces that F1 unless clipping into [0.01, 0.99] moved it.
    if 0.01 < threshold < 0.99:
        assert abs(_f1(y, s >= threshold) - best) < 1e-9


def test_thresholds_tune_reports_rare_labels_and_falls_back() -> None:
    Y = np.array([[1, 1, 0], [1, 0, 0], [0, 0, 0], [1, 0, 0], [0, 0, 0], [1, 0, 0]], dtype=bool)
    scores = np.array(
        [
            [0.9, 0.2, 0.1],
            [0.8, 0.1, 0.1],
            [0.2, 0.3, 0.1],
            [0.7, 0.1, 0.2],
            [0.1, 0.2, 0.1],
            [0.6, 0.1, 0.1],
        ]
    )
    result = tune_thresholds(Y, scores, ["a", "b", "c"], min_positives=2, fixed=0.4)
    assert result.untrainable == ["b", "c"]
    assert result.values["b"] == 0.4 and result.values["c"] == 0.4
    assert 0.2 < result.values["a"] < 0.6
    assert result.oof_f1["a"] == 1.0
    fixed = tune_thresholds(
        Y, scores, ["a", "b", "c"], strategy="fixed", fixed=0.3, min_positives=1
    )
    assert fixed.values == {"a": 0.3, "b": 0.3, "c": 0.3}
    no_cv = tune_thresholds(Y, None, ["a", "b", "c"], min_positives=1)
    assert no_cv.values == {"a": 0.5, "b": 0.5, "c": 0.5}

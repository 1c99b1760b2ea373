"""The shared tasks' official scoring rules (training/task_metrics.py), hand-computed cases."""

from __future__ import annotations

import numpy as np
import pytest
from framing.training.task_metrics import (
    TASK_METRICS,
    ptc_sentence_f1,
    score_task,
    semeval2023_multilabel_f1,
    semeval2025_samples_f1,
)
from sklearn.metrics import f1_score
from sklearn.preprocessing import MultiLabelBinarizer

from framing.errors import UsageError

CLASSES = ["A", "B", "C", "Other"]


def test_task_metrics_semeval2025_hand_computed_edges() -> None:
    gold = [{"A", "B"}, {"Other"}, {"Other"}, {"A"}, {"C"}, {"A", "Zed"}]
    pred = [{"A"}, set(), {"A"}, {"A", "Other"}, {"Zed"}, {"A"}]
    result = semeval2025_samples_f1(gold, pred, CLASSES)
    # 1: 2*1/(2+1); 2: empty read as Other, exact; 3: 0; 4: 2*1/(1+2);
    # 5: 'Zed' outside the classes is ignored, so gold {C} and prediction {} -> 0;
    # 6: 'Zed' ignored in the gold too -> {A} vs {A} = 1.
    per_article = [2 / 3, 1.0, 0.0, 2 / 3, 0.0, 1.0]
    assert result["f1_samples"] == pytest.approx(np.mean(per_article))
    assert result["f1_std"] == pytest.approx(np.std(per_article))
    assert result["n"] == 6


def test_task_metrics_semeval2025_neither_gold_nor_predicted_scores_zero() -> None:
    # Without 'Other' among the classes an empty prediction stays empty; an article
    # whose gold labels are all outside the classes then scores 0, not 1.
    result = semeval2025_samples_f1([{"Zed"}], [set()], ["A"])
    assert result["f1_samples"] == 0.0


def _official_2023(gold, pred, classes):
    mlb = MultiLabelBinarizer()
    mlb.fit([classes])
    g = mlb.transform([[x for x in s if x in classes] for s in gold])
    p = mlb.transform([[x for x in s if x in classes] for s in pred])
    return (
        f1_score(g, p, average="micro", zero_division=1),
        f1_score(g, p, average="macro", zero_division=1),
    )


def test_task_metrics_semeval2023_hand_computed_and_sklearn() -> None:
    gold = [{"A"}, {"A", "B"}, set()]
    pred = [{"A"}, {"B", "Zed"}, set()]
    result = semeval2023_multilabel_f1(gold, pred, ["A", "B", "C"])
    # A: tp 1, fn 1 -> 2/3; B: tp 1 -> 1; C: nothing gold nor predicted -> 1 (zero_division=1)
    assert result["macro_f1"] == pytest.approx((2 / 3 + 1 + 1) / 3)
    # pooled: tp 2, fn 1 -> 4/5
    assert result["micro_f1"] == pytest.approx(4 / 5)
    micro, macro = _official_2023(gold, pred, ["A", "B", "C"])
    assert (result["micro_f1"], result["macro_f1"]) == pytest.approx((micro, macro))


def test_task_metrics_semeval2023_all_empty_scores_one() -> None:
    result = semeval2023_multilabel_f1([set(), set()], [set(), set()], ["A", "B"])
    assert result == {"micro_f1": 1.0, "macro_f1": 1.0, "n": 2}


def test_task_metrics_semeval2023_matches_sklearn_on_random_sets() -> None:
    rng = np.random.default_rng(3)
    classes = [f"l{i}" for i in range(6)]
    gold = [{c for c in classes if rng.random() < 0.2} for _ in range(40)]
    pred = [{c for c in classes if rng.random() < 0.25} for _ in range(40)]
    result = semeval2023_multilabel_f1(gold, pred, classes)
    micro, macro = _official_2023(gold, pred, classes)
    assert result["micro_f1"] == pytest.approx(micro)
    assert result["macro_f1"] == pytest.approx(macro)


def test_task_metrics_ptc_sentence_hand_computed() -> None:
    gold = [{"Doubt"}, set(), {"Slogans", "Doubt"}, set(), {"Other_tech"}]
    pred = [{"Slogans"}, {"Doubt"}, set(), set(), set()]
    result = ptc_sentence_f1(gold, pred, ["Doubt", "Slogans"])
    # positives: gold 1,3 ('Other_tech' is not a class); predicted 1,2 -> tp 1, fp 1, fn 1
    assert result == {"precision": 0.5, "recall": 0.5, "f1": 0.5, "n": 5}
    nothing = ptc_sentence_f1([set()], [set()], ["Doubt"])
    assert nothing["f1"] == 0.0 and nothing["precision"] == 0.0


def test_task_metrics_score_task_names_missing_dimension_and_unknown_metric() -> None:
    with pytest.raises(UsageError, match="missing: subnarratives"):
        score_task("semeval2025", {"narratives": ([{"A"}], [{"A"}], ["A"])})
    with pytest.raises(UsageError, match="did you mean 'semeval2025'"):
        score_task("semeval2052", {})


def test_task_metrics_every_entry_says_its_rule_and_headline() -> None:
    for name, metric in TASK_METRICS.items():
        assert metric.name == name and metric.rule and metric.dimensions
        sample = {dim: ([{"x"}], [{"x"}], ["x"]) for dim in metric.dimensions}
        result = score_task(name, sample)
        for values in result.scores.values():
            assert metric.headline in values

"""The official scoring rules of the public shared tasks, reproduced exactly.

``framing eval`` reports its own micro/macro/samples F1 with its own conventions (see
:mod:`framing.training.evaluate`).  A shared task's published figures follow the rules
of its scorer script, which differ in small ways that move the figures: what an empty
prediction means, whether "neither gold nor predicted" scores 1 or 0, which labels are
counted, how a class without gold and without predictions enters a macro average.
Each entry of :data:`TASK_METRICS` reproduces one scorer's rules from its public
source; its ``rule`` says them in words, and ``docs/training.md`` lists them.

An entry scores lists of gold and predicted label sets (one set per unit: an article,
a paragraph, a sentence) of one or more dimensions; ``framing eval --metric NAME``
feeds it the model's predictions, and :func:`score_task` can be called on any sets.

Examples
--------
>>> gold = [{"A"}, {"Other"}]
>>> pred = [{"A", "B"}, set()]          # an empty prediction is written as "Other"
>>> classes = ["A", "B", "Other"]
>>> data = {d: (gold, pred, classes) for d in ("narratives", "subnarratives")}
>>> r = score_task("semeval2025", data)
>>> round(r.scores["narratives"]["f1_samples"], 4)
0.8333
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from framing.errors import UsageError

__all__ = [
    "TaskMetric",
    "TaskScore",
    "TASK_METRICS",
    "score_task",
    "semeval2025_samples_f1",
    "semeval2023_multilabel_f1",
    "ptc_sentence_f1",
    "ptc_si_score",
    "ptc_tc_score",
]

LabelSets = Sequence[Collection[str]]


def semeval2025_samples_f1(
    gold: LabelSets, pred: LabelSets, classes: Sequence[str]
) -> dict[str, float]:
    """SemEval-2025 Task 10 subtask 2: per-article F1 of the class vector, averaged.

    The rules of the task's ``subtask2_scorer.py``: each article's gold and predicted
    labels become 0/1 vectors over ``classes`` (labels outside ``classes`` are ignored,
    on both sides); the article's score is the binary F1 of the two vectors with
    ``zero_division=0`` (an article whose vectors are both empty scores 0, not 1); the
    task figure is the mean over articles, and the scorer also prints the standard
    deviation (population, ``ddof=0``).  An empty prediction is scored as ``Other`` when
    ``Other`` is a class, because the task's submission format (and ``framing export
    semeval2025``) writes an empty list as ``Other``.

    Examples
    --------
    >>> semeval2025_samples_f1([{"a"}, {"b"}], [{"a"}, {"x"}], ["a", "b"])
    {'f1_samples': 0.5, 'f1_std': 0.5, 'n': 2}
    """
    known = set(classes)
    scores = []
    for g, p in zip(gold, pred, strict=True):
        if not p and "Other" in known:
            p = {"Other"}
        gs, ps = set(g) & known, set(p) & known
        size = len(gs) + len(ps)
        scores.append(2 * len(gs & ps) / size if size else 0.0)
    values = np.array(scores, dtype=float)
    return {
        "f1_samples": float(values.mean()) if len(values) else 0.0,
        "f1_std": float(values.std()) if len(values) else 0.0,
        "n": len(values),
    }


def semeval2023_multilabel_f1(
    gold: LabelSets, pred: LabelSets, classes: Sequence[str]
) -> dict[str, float]:
    """SemEval-2023 Task 3 subtasks 2 and 3: micro-F1 (the ranking figure) and macro-F1.

    The rules of the task's scorers: labels become 0/1 vectors over the task's class
    list (labels outside it are ignored; the scorer's format check refuses them in a
    prediction file); micro-F1 pools true and false positives and false negatives over
    all classes and units; macro-F1 averages the F1 of *every* class of the list, and a
    class with no gold and no predicted unit counts as F1 = 1 (``zero_division=1``),
    as does micro-F1 when there is nothing to count.  An empty list is a valid
    prediction (no label).

    Examples
    --------
    >>> r = semeval2023_multilabel_f1([{"a"}, {"a"}], [{"a"}, set()], ["a", "b"])
    >>> round(r["micro_f1"], 4), round(r["macro_f1"], 4)
    (0.6667, 0.8333)
    """
    tp = np.zeros(len(classes))
    fp = np.zeros(len(classes))
    fn = np.zeros(len(classes))
    column = {label: j for j, label in enumerate(classes)}
    n = 0
    for g, p in zip(gold, pred, strict=True):
        n += 1
        gs = {column[label] for label in g if label in column}
        ps = {column[label] for label in p if label in column}
        for j in gs & ps:
            tp[j] += 1
        for j in ps - gs:
            fp[j] += 1
        for j in gs - ps:
            fn[j] += 1
    denominators = 2 * tp + fp + fn
    per_class = np.where(denominators > 0, 2 * tp / np.maximum(denominators, 1), 1.0)
    pooled = 2 * tp.sum() + fp.sum() + fn.sum()
    return {
        "micro_f1": float(2 * tp.sum() / pooled) if pooled else 1.0,
        "macro_f1": float(per_class.mean()) if len(per_class) else 1.0,
        "n": n,
    }


def ptc_sentence_f1(gold: LabelSets, pred: LabelSets, classes: Sequence[str]) -> dict[str, float]:
    """PTC sentence-level classification (NLP4IF 2019 SLC): is the sentence propaganda?

    A sentence is positive when it carries any technique of ``classes`` (PTC's task SLC
    labels a sentence ``propaganda`` when at least one technique span overlaps it, which
    is how ``framing import ptc`` labels sentences).  The figure is the F1 of the positive
    class, with precision and recall; each is 0 when its denominator is 0.

    Examples
    --------
    >>> gold, pred = [{"Doubt"}, set(), {"Slogans"}], [{"Slogans"}, {"Doubt"}, set()]
    >>> ptc_sentence_f1(gold, pred, ["Doubt", "Slogans"])
    {'precision': 0.5, 'recall': 0.5, 'f1': 0.5, 'n': 3}
    """
    known = set(classes)
    tp = fp = fn = n = 0
    for g, p in zip(gold, pred, strict=True):
        n += 1
        is_gold, is_pred = bool(set(g) & known), bool(set(p) & known)
        tp += is_gold and is_pred
        fp += is_pred and not is_gold
        fn += is_gold and not is_pred
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"precision": precision, "recall": recall, "f1": f1, "n": n}


#: A PTC span row: ``(article id, technique, start, end)``, ``end`` exclusive (SI: no technique).
SpanRow = tuple[str, str, int, int]


def _merged(spans: Sequence[tuple[int, int]]) -> list[tuple[int, int]]:
    """Spans with every overlapping pair merged into one (touching spans stay apart)."""
    out: list[list[int]] = []
    for start, end in sorted(spans):
        if out and start < out[-1][1]:
            out[-1][1] = max(out[-1][1], end)
        else:
            out.append([start, end])
    return [(a, b) for a, b in out]


def _prf(p_num: float, p_den: int, r_num: float, r_den: int) -> dict[str, float]:
    """The PTC scorers' ``compute_prec_rec_f1``: a ratio with a zero denominator is 0, F1 is
    1 when both denominators are 0, else 0 unless both ratios are positive."""
    p = p_num / p_den if p_den else 0.0
    r = r_num / r_den if r_den else 0.0
    f1 = 1.0 if not p_den and not r_den else (2 * p * r / (p + r) if p > 0 and r > 0 else 0.0)
    return {"precision": p, "recall": r, "f1": f1}


def ptc_si_score(gold: Sequence[SpanRow], pred: Sequence[SpanRow]) -> dict[str, float]:
    """PTC span identification (SemEval-2020 Task 11 SI): overlap precision and recall.

    The rule of the task paper (Da San Martino et al., SemEval-2020 Task 11, section 4;
    first in Da San Martino et al., EMNLP 2019, "Fine-grained analysis of propaganda in
    news articles") as the task's ``task-SI_scorer.py`` computes it: within an article,
    overlapping gold spans are merged (so are predicted ones, as the scorer's ``-m``
    does; it refuses overlapping predictions otherwise), a span is the set of its
    character offsets, and with ``C(s, t, h) = |s ∩ t| / h``

    * precision ``P = Σ_s Σ_t C(s, t, |s|) / |S|`` over all predicted spans ``S``,
    * recall ``R = Σ_s Σ_t C(s, t, |t|) / |T|`` over all gold spans ``T`` (of every gold
      article, predicted or not),

    summed over articles (micro), pairing spans of the same article only; ``F1`` is their
    harmonic mean, 0 when either is 0, and 1 when there are no spans at all.

    Examples
    --------
    >>> gold = [("1", "", 0, 10)]
    >>> ptc_si_score(gold, [("1", "", 5, 25)])     # P = 5/20, R = 5/10
    {'precision': 0.25, 'recall': 0.5, 'f1': 0.3333333333333333, 'n_gold': 1, 'n_pred': 1}
    """

    def by_article(rows: Sequence[SpanRow]) -> dict[str, list[tuple[int, int]]]:
        out: dict[str, list[tuple[int, int]]] = {}
        for article, _, start, end in rows:
            out.setdefault(article, []).append((start, end))
        return {article: _merged(spans) for article, spans in out.items()}

    golds, preds = by_article(gold), by_article(pred)
    p_num = r_num = 0.0
    for article, spans in preds.items():
        for s_start, s_end in spans:
            for t_start, t_end in golds.get(article, []):
                common = max(0, min(s_end, t_end) - max(s_start, t_start))
                p_num += common / (s_end - s_start)
                r_num += common / (t_end - t_start)
    n_pred = sum(len(v) for v in preds.values())
    n_gold = sum(len(v) for v in golds.values())
    return {**_prf(p_num, n_pred, r_num, n_gold), "n_gold": n_gold, "n_pred": n_pred}


def ptc_tc_score(gold: Sequence[SpanRow], pred: Sequence[SpanRow]) -> dict[str, float]:
    """PTC technique classification (SemEval-2020 Task 11 TC): micro-F1 over template rows.

    The rule of the task's ``task-TC_scorer.py``: the prediction must give exactly the
    gold spans (the template's: the same articles, the same spans the same number of
    times); within each span repeated in the gold with several techniques, predicted and
    gold techniques are paired to match as many as possible; micro-averaged precision,
    recall and F1 over the rows are then all the share of rows whose technique is right.

    Raises
    ------
    UsageError
        When the predicted spans are not exactly the gold spans, naming the first
        difference (the scorer refuses such a file).

    Examples
    --------
    >>> gold = [("1", "Doubt", 0, 5), ("1", "Slogans", 0, 5), ("1", "Doubt", 9, 12)]
    >>> pred = [("1", "Slogans", 0, 5), ("1", "Doubt", 0, 5), ("1", "Slogans", 9, 12)]
    >>> ptc_tc_score(gold, pred)["f1"]
    0.6666666666666666
    """
    from collections import Counter

    def groups(rows: Sequence[SpanRow]) -> dict[tuple[str, int, int], Counter[str]]:
        out: dict[tuple[str, int, int], Counter[str]] = {}
        for article, technique, start, end in rows:
            out.setdefault((article, start, end), Counter())[technique] += 1
        return out

    golds, preds = groups(gold), groups(pred)
    for key in sorted({*golds, *preds}):
        g, p = sum(golds.get(key, Counter()).values()), sum(preds.get(key, Counter()).values())
        if g != p:
            article, start, end = key
            raise UsageError(
                f"article {article}, span {start}-{end}: {g} gold row(s) but {p} predicted; "
                "a TC submission has one row for each row of the template"
            )
    right = sum(sum((golds[key] & preds[key]).values()) for key in golds)
    share = right / len(gold) if gold else 0.0
    return {"precision": share, "recall": share, "f1": share, "n": len(gold)}


@dataclass(frozen=True)
class TaskMetric:
    """One shared task's scoring rule.

    ``dimensions`` maps each dimension the task scores to the name the task's scorer
    prints for it; ``level`` is the unit the task scores (documents or sentence records);
    ``headline`` is the key of the figure the task ranks systems by.
    """

    name: str
    task: str
    level: str
    dimensions: Mapping[str, str]
    headline: str
    rule: str
    score: Callable[[LabelSets, LabelSets, Sequence[str]], dict[str, float]]


@dataclass
class TaskScore:
    """What :func:`score_task` returns: the task figures per dimension."""

    metric: str
    task: str
    level: str
    rule: str
    headline: str
    scores: dict[str, dict[str, float]] = field(default_factory=dict)
    names: dict[str, str] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "metric": self.metric,
            "task": self.task,
            "level": self.level,
            "rule": self.rule,
            "headline": self.headline,
            "dimensions": {
                dim: {
                    "name": self.names.get(dim, dim),
                    **{k: (v if k == "n" else round(v, 6)) for k, v in values.items()},
                }
                for dim, values in self.scores.items()
            },
        }

    def lines(self) -> list[str]:
        """One line per dimension, for the terminal."""
        out = []
        for dim, values in self.scores.items():
            figures = "  ".join(f"{k} {v:.3f}" for k, v in values.items() if k != "n")
            name = self.names.get(dim, dim)
            out.append(f"[{self.metric}] {name} ({dim}): {figures}  (n={values['n']})")
        return out


#: The shared tasks' scoring rules, by the name ``framing eval --metric`` takes.
TASK_METRICS: dict[str, TaskMetric] = {
    "semeval2025": TaskMetric(
        name="semeval2025",
        task="SemEval-2025 Task 10 subtask 2 (narrative classification)",
        level="document",
        dimensions={"narratives": "F1@coarse", "subnarratives": "F1@fine"},
        headline="f1_samples",
        rule=(
            "per-article binary F1 of the label vector over the taxonomy (labels outside it "
            "ignored), 0 when gold and prediction are both empty, an empty prediction read as "
            "'Other'; mean over articles (and population standard deviation)"
        ),
        score=semeval2025_samples_f1,
    ),
    "semeval2023-frames": TaskMetric(
        name="semeval2023-frames",
        task="SemEval-2023 Task 3 subtask 2 (framing)",
        level="document",
        dimensions={"frames": "frames"},
        headline="micro_f1",
        rule=(
            "multi-label micro-F1 over articles and the 14 frames (labels outside the list "
            "ignored), with macro-F1 over every frame of the list, a frame without gold and "
            "predictions counting 1 (zero_division=1)"
        ),
        score=semeval2023_multilabel_f1,
    ),
    "semeval2023-techniques": TaskMetric(
        name="semeval2023-techniques",
        task="SemEval-2023 Task 3 subtask 3 (persuasion techniques, per paragraph)",
        level="sentence",
        dimensions={"techniques": "techniques"},
        headline="micro_f1",
        rule=(
            "multi-label micro-F1 over paragraphs and the technique list (labels outside it "
            "ignored), with macro-F1 over every technique of the list, a technique without "
            "gold and predictions counting 1 (zero_division=1)"
        ),
        score=semeval2023_multilabel_f1,
    ),
    "ptc-sentence": TaskMetric(
        name="ptc-sentence",
        task="PTC sentence-level classification (NLP4IF 2019 SLC)",
        level="sentence",
        dimensions={"techniques": "propaganda"},
        headline="f1",
        rule=(
            "a sentence is 'propaganda' when it carries any technique; precision, recall and "
            "F1 of that class over sentences (0 when a denominator is 0)"
        ),
        score=ptc_sentence_f1,
    ),
}


def task_metric(name: str) -> TaskMetric:
    """The entry of :data:`TASK_METRICS` called ``name``; UsageError naming the choices."""
    from framing.format.codebook import did_you_mean

    if name not in TASK_METRICS:
        close = did_you_mean(name, TASK_METRICS)
        hint = f" (did you mean '{close}'?)" if close else ""
        raise UsageError(f"unknown metric '{name}'{hint}; choose one of {', '.join(TASK_METRICS)}")
    return TASK_METRICS[name]


def score_task(
    name: str, data: Mapping[str, tuple[LabelSets, LabelSets, Sequence[str]]]
) -> TaskScore:
    """Score ``{dimension: (gold sets, predicted sets, classes)}`` by task ``name``'s rules.

    Every dimension the task scores must be given.

    Raises
    ------
    UsageError
        For an unknown metric or a missing dimension.
    """
    metric = task_metric(name)
    missing = [dim for dim in metric.dimensions if dim not in data]
    if missing:
        raise UsageError(
            f"metric '{name}' scores the dimension(s) {', '.join(metric.dimensions)}; "
            f"missing: {', '.join(missing)} (import the data with the task's importer, or "
            "relabel it with --crosswalk)"
        )
    result = TaskScore(
        metric=name,
        task=metric.task,
        level=metric.level,
        rule=metric.rule,
        headline=metric.headline,
        names=dict(metric.dimensions),
    )
    for dim in metric.dimensions:
        gold, pred, classes = data[dim]
        result.scores[dim] = metric.score(gold, pred, classes)
    return result

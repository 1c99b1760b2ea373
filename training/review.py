"""Find likely label errors from out-of-fold predictions (confident learning).

Every ``done`` sentence of the data gets a score per label from a model that did
not see it: cross-validation grouped by document, with the config's pipeline, as
``framing train`` does (:mod:`framing.training.thresholds`, :mod:`framing.training.train`).  Then,
per label, in the manner of confident learning (Northcutt et al., 2021):

- the *positive threshold* is the mean out-of-fold score of the sentences given
  the label, the *negative threshold* the mean score of those not given it;
- a given label scoring at or below the negative threshold looks like a typical
  negative: ``doubtful`` (maybe wrongly given);
- a label not given but scoring at or above the positive threshold looks like a
  typical positive: ``missing`` (maybe forgotten).

On a single-label dimension each class has the mean score of its examples as
threshold; a sentence is ``confused`` when the class it confidently belongs to
(the best-scoring class at or above its threshold) is not the given one.

Each flag has a *margin*: the score of the side the model believes minus the
score of the given side (``1 - 2p`` for doubtful, ``2p - 1`` for missing,
``p_other - p_given`` for confused), confident learning's normalised margin.
The queue is ranked by each sentence's largest margin.  Labels the model cannot
separate (positive threshold not above the negative one) or with fewer positives
than ``thresholds.min_positives`` are not judged, and are reported.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from framing.training.config import TrainConfig

# The trainer's own steps, so that review sees the data exactly as training does.
from framing.training.cross_validation import cross_validation_plan
from framing.training.cross_validation import out_of_fold as oof_scores
from framing.training.examples import build_examples
from framing.training.train import load_training_codebook

from framing.errors import UsageError
from framing.format.annotations import Sentence, read_corpus

__all__ = ["ReviewResult", "out_of_fold", "review"]

Progress = Callable[[str], None]


@dataclass
class OutOfFold:
    """Out-of-fold scores of one dimension, columns in ``labels`` order."""

    labels: list[str]
    multi_label: bool
    given: np.ndarray  # (n, n_labels) bool
    scores: np.ndarray  # (n, n_labels)
    untrainable: list[str]
    folds: int


@dataclass
class ReviewResult:
    """The review queue (ranked sentences) and how it was made."""

    records: list[Sentence]
    sentences: int
    folds: int
    #: dimension -> label -> {"positive": threshold, "negative": threshold} (or "class").
    thresholds: dict[str, dict[str, dict[str, float]]]
    #: dimension -> label -> why it was not judged.
    not_judged: dict[str, dict[str, str]] = field(default_factory=dict)
    flags: dict[str, int] = field(default_factory=dict)

    def summary(self) -> str:
        kinds = ", ".join(f"{k} {v}" for k, v in sorted(self.flags.items())) or "none"
        lines = [
            f"{len(self.records)} of {self.sentences} sentences queued for review "
            f"({self.folds}-fold grouped cross-validation; flags: {kinds})"
        ]
        for dim, labels in self.not_judged.items():
            for label, why in labels.items():
                lines.append(f"  not judged: {dim}:{label} ({why})")
        return "\n".join(lines)

    def to_dict(self) -> dict[str, Any]:
        return {
            "queued": len(self.records),
            "sentences": self.sentences,
            "folds": self.folds,
            "flags": self.flags,
            "thresholds": self.thresholds,
            "not_judged": self.not_judged,
        }


def out_of_fold(
    config: TrainConfig,
    *,
    progress: Progress | None = None,
) -> tuple[list[Sentence], dict[str, OutOfFold]]:
    """Out-of-fold scores of every ``done`` sentence of ``config.data.paths``, all splits.

    Folds are grouped by document and stratified as in ``framing train``; the
    pipeline is the config's with its ``[pipeline.params]`` (a ``[search]`` grid is
    not searched: its first values are used).

    Raises
    ------
    UsageError
        A document-level config, or fewer than two documents.
    AnnotationError, ConfigError, InputNotFoundError
    """
    say = progress or (lambda _message: None)
    if config.data.level != "sentence":
        raise UsageError('review works on sentences; set data.level = "sentence" in the config')
    paths = list(config.data.paths)
    codebook = load_training_codebook(config, paths)
    corpus = read_corpus(paths, codebook if config.data.codebook is not None else None)
    dimensions = list(config.dimensions) or list(codebook.dimension_ids)
    examples = build_examples(corpus, dimensions, level="sentence")
    by_id = {s.id: s for s in corpus.done()}
    sentences = [by_id[i] for i in examples.ids]
    if len(set(examples.doc_ids)) < 2:
        raise UsageError(
            f"review needs done sentences from at least two documents (found "
            f"{len(set(examples.doc_ids))}): out-of-fold scores come from models that never "
            "saw the sentence's document"
        )
    params = {**config.pipeline.params, **{k: v[0] for k, v in config.search.items()}}
    result: dict[str, OutOfFold] = {}
    for dim in dimensions:
        cv = cross_validation_plan(dim, codebook, examples, config)
        plan, Y, folds = cv.plan, cv.indicator, cv.folds
        oof = oof_scores(examples, cv, config, params, progress=say)
        scores = np.zeros(Y.shape) if oof is None else oof
        result[dim] = OutOfFold(
            labels=list(plan.labels),
            multi_label=plan.multi_label,
            given=Y,
            scores=scores,
            untrainable=list(plan.untrainable),
            folds=len(folds),
        )
    return sentences, result


def _flags_multi(
    dim: str, oof: OutOfFold, min_positives: int, out: ReviewResult
) -> list[list[dict[str, Any]]]:
    n = oof.scores.shape[0]
    flags: list[list[dict[str, Any]]] = [[] for _ in range(n)]
    out.thresholds[dim] = {}
    for j, label in enumerate(oof.labels):
        given = oof.given[:, j]
        p = oof.scores[:, j]
        positives, negatives = int(given.sum()), int((~given).sum())
        if positives < min_positives or negatives == 0:
            why = (
                f"{positives} positive(s), fewer than {min_positives}"
                if negatives
                else "always given"
            )
            out.not_judged.setdefault(dim, {})[label] = why
            continue
        t_pos, t_neg = float(p[given].mean()), float(p[~given].mean())
        out.thresholds[dim][label] = {"positive": round(t_pos, 4), "negative": round(t_neg, 4)}
        if t_pos <= t_neg:
            out.not_judged.setdefault(dim, {})[label] = (
                f"the model does not separate it (mean score given {t_pos:.2f}, "
                f"not given {t_neg:.2f})"
            )
            continue
        for i in np.flatnonzero(given & (p <= t_neg)):
            flags[i].append(
                {
                    "dimension": dim,
                    "label": label,
                    "kind": "doubtful",
                    "given": True,
                    "score": round(float(p[i]), 4),
                    "threshold": round(t_neg, 4),
                    "margin": round(1.0 - 2.0 * float(p[i]), 4),
                }
            )
        for i in np.flatnonzero(~given & (p >= t_pos)):
            flags[i].append(
                {
                    "dimension": dim,
                    "label": label,
                    "kind": "missing",
                    "given": False,
                    "score": round(float(p[i]), 4),
                    "threshold": round(t_pos, 4),
                    "margin": round(2.0 * float(p[i]) - 1.0, 4),
                }
            )
    return flags


def _flags_single(
    dim: str, oof: OutOfFold, min_positives: int, out: ReviewResult
) -> list[list[dict[str, Any]]]:
    n = oof.scores.shape[0]
    flags: list[list[dict[str, Any]]] = [[] for _ in range(n)]
    given = oof.given.argmax(axis=1)
    thresholds = np.full(len(oof.labels), np.inf)
    out.thresholds[dim] = {}
    for j, label in enumerate(oof.labels):
        members = given == j
        if members.sum() < min_positives:
            out.not_judged.setdefault(dim, {})[label] = (
                f"{int(members.sum())} example(s), fewer than {min_positives}"
            )
            continue
        thresholds[j] = float(oof.scores[members, j].mean())
        out.thresholds[dim][label] = {"class": round(float(thresholds[j]), 4)}
    confident = np.where(oof.scores >= thresholds, oof.scores, -np.inf)
    for i in range(n):
        k = int(confident[i].argmax())
        y = int(given[i])
        if not np.isfinite(confident[i, k]) or k == y or not np.isfinite(thresholds[y]):
            continue
        flags[i].append(
            {
                "dimension": dim,
                "label": oof.labels[y],
                "kind": "confused",
                "given": True,
                "suggested_label": oof.labels[k],
                "score": round(float(oof.scores[i, y]), 4),
                "suggested_score": round(float(oof.scores[i, k]), 4),
                "threshold": round(float(thresholds[k]), 4),
                "margin": round(float(oof.scores[i, k] - oof.scores[i, y]), 4),
            }
        )
    return flags


def review(
    config: TrainConfig,
    *,
    limit: int | None = None,
    min_margin: float | None = None,
    progress: Progress | None = None,
) -> ReviewResult:
    """Rank the ``done`` sentences whose labels look wrong, with the evidence.

    Parameters
    ----------
    config
        A training config (``framing.training.config.load_config``); its ``data.paths`` are
        reviewed, every split.
    limit
        Keep only the first ``limit`` sentences of the ranked queue.
    min_margin
        Drop flags with a smaller margin; ``0`` keeps only those where the model
        believes the other side more than the given one.
    progress
        Called with a short message at each fold.

    Returns
    -------
    ReviewResult
        ``records`` are the flagged sentences, best first, with all their fields and
        ``review`` = ``{"queue": "label-errors", "rank", "margin", "issues": [...],
        "given": {dim: labels}, "scores": {dim: {label: out-of-fold score}}}``
        (a ``review`` they already had is kept under ``previous``).

    Raises
    ------
    UsageError, AnnotationError, ConfigError, InputNotFoundError

    Examples
    --------
    >>> from framing.training.config import load_config                 # doctest: +SKIP
    >>> queue = review(load_config("default"), limit=50)         # doctest: +SKIP
    >>> queue.records[0].review["issues"][0]["kind"]             # doctest: +SKIP
    'missing'
    """
    if limit is not None and limit < 1:
        raise UsageError(f"limit must be at least 1, got {limit}")
    sentences, oofs = out_of_fold(config, progress=progress)
    folds = max((o.folds for o in oofs.values()), default=0)
    result = ReviewResult(records=[], sentences=len(sentences), folds=folds, thresholds={})
    min_positives = config.thresholds.min_positives
    issues: list[list[dict[str, Any]]] = [[] for _ in sentences]
    for dim, oof in oofs.items():
        flag = _flags_multi if oof.multi_label else _flags_single
        for i, found in enumerate(flag(dim, oof, min_positives, result)):
            issues[i].extend(f for f in found if min_margin is None or f["margin"] >= min_margin)
    margins = np.array([max((f["margin"] for f in found), default=-np.inf) for found in issues])
    ids = np.array([s.id for s in sentences])
    order = [i for i in np.lexsort((ids, -margins)) if issues[i]]
    if limit is not None:
        order = order[:limit]
    for rank, i in enumerate(order, start=1):
        sentence = sentences[int(i)]
        found = sorted(issues[i], key=lambda f: -f["margin"])
        for f in found:
            result.flags[f["kind"]] = result.flags.get(f["kind"], 0) + 1
        evidence: dict[str, Any] = {
            "queue": "label-errors",
            "rank": rank,
            "margin": found[0]["margin"],
            "issues": found,
            "given": {dim: list(sentence.labels.get(dim, ())) for dim in oofs},
            "scores": {
                dim: {
                    label: round(float(oof.scores[i, j]), 4) for j, label in enumerate(oof.labels)
                }
                for dim, oof in oofs.items()
            },
        }
        if sentence.review is not None:
            evidence["previous"] = sentence.review
        sentence.review = evidence
        sentence.source = None
        result.records.append(sentence)
    return result

"""Model help for annotators: pre-annotation and picking the next batch to annotate.

:func:`preannotate` adds a model's suggestions to records, in the ``suggested``
field (``{dimension: {label: score}}``), never in the label lists: annotators
accept or correct them, and gold labels stay human.

:func:`suggest` picks the ``n`` sentences of an unlabelled pool (``todo``
records) that a model would learn most from (active learning), each with the
reason it was picked in ``review``.  Strategies:

``uncertainty``
    A label's score is close to its decision threshold (least confidence).  The
    closeness is ``1 - |score - threshold| / max(threshold, 1 - threshold)``:
    1 at the threshold, 0 at a certain 0 or 1; a sentence's is its highest.
``margin``
    The model hesitates between two labels of a dimension: the smallest gap
    between its two best labels, sentences with a tie first.  Single-label
    dimensions compare class probabilities.  Multi-label dimensions compare
    scores rescaled so that every threshold sits at 0.5, and add how far the best
    label stays below 0.5 (two labels that both clearly do not apply are no dilemma).
``cardinality``
    The scores promise more (or fewer) labels than the thresholds give: the
    expected label count (sum of scores) minus the predicted count, in absolute
    value, summed over dimensions.  Finds sentences with several candidate labels.
``diverse``
    Uncertainty, but the batch avoids near-duplicates: candidates are taken in
    order of uncertainty, skipping any whose TF-IDF cosine similarity (word and
    character n-grams) with one already picked reaches ``max_similarity``.

Ties are broken by pool order, so the result is deterministic.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from framing.errors import UsageError
from framing.format.annotations import Document, Record, Sentence, iter_records
from framing.runtime.labels import label_mask, threshold_vector

if TYPE_CHECKING:
    from framing.runtime.model import Model

__all__ = [
    "STRATEGIES",
    "QueryStrategy",
    "StrategyScores",
    "SuggestResult",
    "preannotate",
    "suggest",
]

BATCH = 512


def _check_model(model: Model) -> None:
    if model.level != "sentence":
        raise UsageError(
            f"model '{model.name}' was trained on {model.level}s; pre-annotation and "
            "suggestions need a sentence-level model"
        )


def _multi_label(model: Model, dim: str) -> bool:
    return model.meta.multi_label[dim]


def _predicted(model: Model, dim: str, scores: np.ndarray) -> np.ndarray:
    """Boolean ``(n, n_labels)``: the labels the model gives."""
    cut = threshold_vector(model.meta.labels[dim], model.meta.thresholds[dim])
    return label_mask(scores, cut, model.meta.multi_label[dim])


def _batches(records: Iterator[Record], size: int) -> Iterator[list[Record]]:
    """Records in batches of about ``size``, each ending between two articles (a model's
    context stage sees the article's sentences of the batch together)."""
    batch: list[Record] = []
    for record in records:
        if len(batch) >= size and record.doc_id != batch[-1].doc_id:
            yield batch
            batch = []
        batch.append(record)
    if batch:
        yield batch


def _scores(model: Model, sentences: Sequence[Sentence]) -> dict[str, np.ndarray]:
    """The model's scores of sentence records, scored ``BATCH`` at a time, each in the
    context of the others of its article (:meth:`Model.in_context`)."""
    from framing.runtime.context import Layout

    texts = [s.text for s in sentences]
    parts = [model.scorer.predict_proba(texts[i : i + BATCH]) for i in range(0, len(texts), BATCH)]
    raw = {dim: np.vstack([np.asarray(p[dim], dtype=float) for p in parts]) for dim in model.labels}
    return model.in_context(raw, Layout.of_sentences(sentences))


def preannotate(
    model: Model,
    paths: Sequence[str | Path],
    *,
    all_scores: bool = False,
    min_score: float = 0.0,
) -> Iterator[Record]:
    """Yield the records of ``paths`` with the model's suggestions in ``suggested``.

    A sentence-level model scores the sentences, in batches, so files of any size stream
    through; document records pass through unchanged.  A document-level model scores each
    document record as a whole, as ``framing tag`` and training do (its ``text``, or, for
    a document without one, its sentences joined; as the model's ``data.document_text``
    says), and its suggestions go to the document record's ``suggested``; sentences pass
    through unchanged (its files are read whole, to join a document's sentences).  Label
    lists, status and every other field are left as they are.  The labels suggested are
    those the model predicts, by the one scores-to-labels rule with the codebook's label
    structure (:func:`framing.runtime.labels.label_masks`).

    Parameters
    ----------
    model
        A sentence- or document-level model (see :func:`framing.runtime.model.load_model`).
    paths
        Annotation files or folders, validated against the model's codebook.
    all_scores
        Suggest every label with its score, not only the labels the model predicts.
    min_score
        With ``all_scores``, leave out labels scoring below this.

    Yields
    ------
    Sentence or Document

    Raises
    ------
    AnnotationError
        At the first invalid record (file and line); for a document-level model, a
        document with neither text nor sentences.

    Examples
    --------
    >>> records = list(preannotate(load_model("default"), ["todo.jsonl"]))  # doctest: +SKIP
    >>> records[0].suggested                                                # doctest: +SKIP
    {'frames': {'west_as_threat': 0.81}, 'rhetoric': {}}
    """
    records: Iterator[Record] = iter_records(paths, model.codebook)
    if model.level == "document":
        yield from _preannotate_documents(model, list(records), all_scores, min_score)
        return
    for batch in _batches(records, BATCH):
        sentences = [r for r in batch if isinstance(r, Sentence)]
        for sentence, suggested in zip(
            sentences,
            _suggestions(model, _scores(model, sentences), len(sentences), all_scores, min_score),
            strict=True,
        ):
            sentence.suggested = suggested
        yield from batch


def _suggestions(
    model: Model, scores: dict[str, np.ndarray], n: int, all_scores: bool, min_score: float
) -> list[dict[str, dict[str, float]]]:
    """Per scored record (``n`` rows of ``scores``), ``{dimension: {label: score}}``: the
    predicted labels (or, with ``all_scores``, every label from ``min_score``), best first."""
    from framing.runtime.labels import label_masks

    if not n:
        return []
    labels = model.labels
    predicted = label_masks(scores, labels, model.meta)
    out = []
    for i in range(n):
        suggested: dict[str, dict[str, float]] = {}
        for dim, ids in labels.items():
            row = scores[dim][i]
            keep = (row >= min_score) if all_scores else predicted[dim][i]
            ranked = sorted((j for j in range(len(ids)) if keep[j]), key=lambda j: (-row[j], j))
            suggested[dim] = {ids[j]: round(float(row[j]), 4) for j in ranked}
        out.append(suggested)
    return out


def _preannotate_documents(
    model: Model, records: list[Record], all_scores: bool, min_score: float
) -> Iterator[Record]:
    """Suggestions of a document-level model on the document records (see preannotate)."""
    from framing.errors import AnnotationError

    mode = str(model.meta.config.get("data", {}).get("document_text", "auto"))
    sentences: dict[str, list[Sentence]] = {}
    for record in records:
        if isinstance(record, Sentence):
            sentences.setdefault(record.doc_id, []).append(record)
    documents = [r for r in records if isinstance(r, Document)]
    texts = []
    for doc in documents:
        joined = " ".join(
            s.text.strip()
            for s in sorted(sentences.get(doc.doc_id, []), key=lambda s: s.sent_index or 0)
        )
        text = (doc.text or "") if mode == "text" or (mode == "auto" and doc.text) else joined
        if not text.strip():
            where = f"{doc.source[0]}:{doc.source[1]}" if doc.source else doc.doc_id
            raise AnnotationError(
                f"{where}: document '{doc.doc_id}' has no text and no sentences for model "
                f"'{model.name}' (it labels whole documents) to score"
            )
        texts.append(text)
    for start in range(0, len(documents), BATCH):
        part = documents[start : start + BATCH]
        for doc, suggested in zip(
            part,
            _suggestions(
                model,
                model.predict_proba(texts[start : start + BATCH]),
                len(part),
                all_scores,
                min_score,
            ),
            strict=True,
        ):
            doc.suggested = suggested
    yield from records


# --------------------------------------------------------------------------- suggest


@dataclass
class SuggestResult:
    """The picked sentences (with ``review`` saying why) and counts."""

    records: list[Sentence]
    strategy: str
    pool: int
    candidates: int
    skipped_near_duplicates: int = 0

    def summary(self) -> str:
        text = (
            f"picked {len(self.records)} of {self.candidates} candidate sentences "
            f"({self.pool} in the pool; done and skip records are not candidates) "
            f"by {self.strategy}"
        )
        if self.strategy == "diverse":
            text += f"; {self.skipped_near_duplicates} near-duplicates passed over"
        return text

    def to_dict(self) -> dict[str, Any]:
        return {
            "strategy": self.strategy,
            "pool": self.pool,
            "candidates": self.candidates,
            "picked": len(self.records),
            "skipped_near_duplicates": self.skipped_near_duplicates,
        }


def _rescale(scores: np.ndarray, cut: np.ndarray) -> np.ndarray:
    """Scores mapped piecewise linearly so that 0 -> 0, threshold -> 0.5, 1 -> 1."""
    cut = np.clip(cut, 1e-6, 1 - 1e-6)
    return np.where(scores < cut, 0.5 * scores / cut, 0.5 + 0.5 * (scores - cut) / (1 - cut))


def _closeness(scores: np.ndarray, cut: np.ndarray) -> np.ndarray:
    span = np.maximum(cut, 1.0 - cut)
    return 1.0 - np.abs(scores - cut) / span


@dataclass
class StrategyScores:
    """Per candidate: the strategy's value (higher = pick first) and the reason."""

    value: np.ndarray
    #: The figure reported as ``score`` (for margin: the margin itself, lower first).
    shown: np.ndarray
    reasons: list[str]
    details: list[dict[str, Any]]


def _uncertainty(model: Model, scores: dict[str, np.ndarray], n: int) -> StrategyScores:
    best = np.full(n, -np.inf)
    reasons = [""] * n
    details: list[dict[str, Any]] = [{} for _ in range(n)]
    rows = np.arange(n)
    for dim, s in scores.items():
        ids = model.labels[dim]
        if _multi_label(model, dim):
            th = model.thresholds.get(dim, {})
            cut = np.array([th.get(label, 0.5) for label in ids])
            close = _closeness(s, cut)
            j = close.argmax(axis=1)
            value = close[rows, j]
        else:  # least confidence of the best class, 1 when all classes tie
            k = max(s.shape[1], 2)
            j = s.argmax(axis=1)
            value = (1.0 - s[rows, j]) / (1.0 - 1.0 / k)
        for i in np.flatnonzero(value > best):
            label, score = ids[j[i]], float(s[i, j[i]])
            if _multi_label(model, dim):
                reasons[i] = (
                    f"{dim}:{label} scores {score:.2f}, close to its threshold {cut[j[i]]:.2f}"
                )
            else:
                reasons[i] = f"{dim}: the most likely label, {label}, scores only {score:.2f}"
            details[i] = {"dimension": dim, "label": label, "label_score": round(score, 4)}
        best = np.maximum(best, value)
    return StrategyScores(best, best, reasons, details)


def _margin(model: Model, scores: dict[str, np.ndarray], n: int) -> StrategyScores:
    smallest = np.full(n, np.inf)
    where: list[tuple[str, int, int, float, float]] = [("", 0, 0, 0.0, 0.0)] * n
    for dim, s in scores.items():
        if s.shape[1] < 2:
            continue
        multi = _multi_label(model, dim)
        if multi:
            th = model.thresholds.get(dim, {})
            cut = np.array([th.get(label, 0.5) for label in model.labels[dim]])
            rel = _rescale(s, cut)  # labels compared on one scale: each threshold at 0.5
        else:
            rel = s
        order = np.argsort(-rel, axis=1, kind="stable")
        top, second = order[:, 0], order[:, 1]
        best = rel[np.arange(n), top]
        gap = best - rel[np.arange(n), second]
        if multi:
            # Two labels tied far below their thresholds are no dilemma: the model
            # thinks neither applies.  Count how far the best one stays below.
            gap = gap + np.maximum(0.0, 0.5 - best)
        better = gap < smallest
        for i in np.flatnonzero(better):
            where[i] = (
                dim,
                int(top[i]),
                int(second[i]),
                float(s[i, top[i]]),
                float(s[i, second[i]]),
            )
        smallest = np.where(better, gap, smallest)
    if not np.isfinite(smallest).any():
        raise UsageError("the margin strategy needs a dimension with two labels or more")
    reasons, details = [], []
    for row, (dim, top_col, second_col, top_score, second_score) in enumerate(where):
        ids = model.labels[dim] if dim else ()
        first, other = (ids[top_col], ids[second_col]) if dim else ("", "")
        reasons.append(
            f"{dim}: {first} ({top_score:.2f}) or {other} ({second_score:.2f})? "
            f"margin {smallest[row]:.2f}"
        )
        details.append({"dimension": dim, "labels": [first, other]})
    return StrategyScores(-smallest, smallest, reasons, details)


def _cardinality(model: Model, scores: dict[str, np.ndarray], n: int) -> StrategyScores:
    total = np.zeros(n)
    parts: list[list[str]] = [[] for _ in range(n)]
    for dim, s in scores.items():
        if not _multi_label(model, dim):
            continue
        expected = s.sum(axis=1)
        predicted = _predicted(model, dim, s).sum(axis=1)
        gap = np.abs(expected - predicted)
        total += gap
        for i in range(n):
            parts[i].append(f"{dim}: expects {expected[i]:.1f} labels, predicts {predicted[i]}")
    if not any(parts):
        raise UsageError("the cardinality strategy needs a multi-label dimension")
    reasons = [f"label count unsure ({'; '.join(p)})" for p in parts]
    return StrategyScores(total, total, reasons, [{} for _ in range(n)])


@dataclass(frozen=True)
class QueryStrategy:
    """A way to pick the next sentences to annotate: one entry of :data:`STRATEGIES`.

    ``score`` gives every candidate a value (higher is picked first) and the reason;
    ``diverse`` makes the batch skip near-duplicates of sentences already picked.  A new
    strategy is one scoring function and one entry (small-text's ``QueryStrategy`` idea).
    """

    name: str
    score: Callable[[Model, dict[str, np.ndarray], int], StrategyScores]
    diverse: bool = False


#: The strategies by name; `framing suggest --strategy` offers exactly these.
STRATEGIES: dict[str, QueryStrategy] = {
    "uncertainty": QueryStrategy("uncertainty", _uncertainty),
    "margin": QueryStrategy("margin", _margin),
    "cardinality": QueryStrategy("cardinality", _cardinality),
    "diverse": QueryStrategy("diverse", _uncertainty, diverse=True),
}


def _tfidf(texts: list[str]) -> Any:
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.pipeline import FeatureUnion

    features = FeatureUnion(
        [
            ("word", TfidfVectorizer(lowercase=True, ngram_range=(1, 2), sublinear_tf=True)),
            (
                "char",
                TfidfVectorizer(
                    lowercase=True, analyzer="char_wb", ngram_range=(3, 5), sublinear_tf=True
                ),
            ),
        ]
    )
    X = features.fit_transform(texts)
    # Each vectorizer's rows have unit norm; halve the squared norm so cosine = dot.
    return X * np.sqrt(0.5)


def _pick_diverse(
    texts: list[str], order: np.ndarray, n: int, max_similarity: float
) -> tuple[list[int], dict[int, float], int]:
    """Greedy: best first, skipping near-duplicates of picked ones; returns picks, sims, skips."""
    # Only the most promising part of a large pool is considered, to keep this fast.
    head = order[: max(20 * n, 2000)]
    X = _tfidf([texts[i] for i in head])
    picked: list[int] = []
    similarity: dict[int, float] = {}
    nearest = np.zeros(len(head))
    skipped = 0
    for pos in range(len(head)):
        if len(picked) >= n:
            break
        if nearest[pos] >= max_similarity:
            skipped += 1
            continue
        picked.append(int(head[pos]))
        similarity[int(head[pos])] = float(nearest[pos])
        sims = (X @ X[pos].T).toarray().ravel()
        nearest = np.maximum(nearest, sims)
    return picked, similarity, skipped


def suggest(
    model: Model,
    paths: Sequence[str | Path],
    n: int = 50,
    *,
    strategy: str = "uncertainty",
    max_similarity: float = 0.8,
) -> SuggestResult:
    """Pick the next ``n`` sentences to annotate from a pool of ``todo`` records.

    Parameters
    ----------
    model
        A sentence-level model.
    paths
        The pool: annotation files or folders.  Only ``todo`` sentences are
        candidates; ``done`` and ``skip`` ones are not picked again.
    n
        How many to pick (fewer when the pool is smaller).
    strategy
        A name of :data:`STRATEGIES`: ``uncertainty``, ``margin``, ``cardinality`` or
        ``diverse`` (see the module docs).
    max_similarity
        For ``diverse``: the TF-IDF cosine similarity from which a candidate counts as a
        near-duplicate of one already picked.

    Returns
    -------
    SuggestResult
        The picked sentences in rank order; each has ``review`` = ``{"queue": "suggest",
        "strategy": ..., "rank": ..., "score": ..., "reason": ...}`` and its label
        lists unchanged.  ``score`` is the strategy's figure: closeness to a threshold
        (uncertainty, diverse), the margin (margin) or the label-count gap (cardinality).

    Raises
    ------
    UsageError
        Unknown strategy, ``n < 1``, or a document-level model.
    AnnotationError
        An invalid pool record.

    Examples
    --------
    >>> model = load_model("default")                                    # doctest: +SKIP
    >>> result = suggest(model, ["pool.jsonl"], 10, strategy="diverse")  # doctest: +SKIP
    >>> result.records[0].review["reason"]                               # doctest: +SKIP
    'frames:multipolarity scores 0.41, close to its threshold 0.40'
    """
    if strategy not in STRATEGIES:
        raise UsageError(f"unknown strategy {strategy!r}; choose one of {', '.join(STRATEGIES)}")
    query = STRATEGIES[strategy]
    if n < 1:
        raise UsageError(f"-n must be at least 1, got {n}")
    if not 0 < max_similarity <= 1:
        raise UsageError(f"max_similarity must be in (0, 1], got {max_similarity}")
    _check_model(model)
    pool = 0
    candidates: list[Sentence] = []
    for record in iter_records(paths, model.codebook):
        if isinstance(record, Document):
            continue
        pool += 1
        if record.status == "todo":
            candidates.append(record)
    result = SuggestResult(records=[], strategy=strategy, pool=pool, candidates=len(candidates))
    if not candidates:
        return result
    texts = [s.text for s in candidates]
    # a candidate's context is the other candidates of its article
    scores = _scores(model, candidates)
    count = len(candidates)
    scored = query.score(model, scores, count)
    order = np.lexsort((np.arange(count), -scored.value))
    similarity: dict[int, float] = {}
    if query.diverse:
        picks, similarity, result.skipped_near_duplicates = _pick_diverse(
            texts, order, n, max_similarity
        )
    else:
        picks = [int(i) for i in order[:n]]
    for rank, i in enumerate(picks, start=1):
        sentence = candidates[i]
        review: dict[str, Any] = {
            "queue": "suggest",
            "strategy": strategy,
            "rank": rank,
            "score": round(float(scored.shown[i]), 4),
            "reason": scored.reasons[i],
            **scored.details[i],
        }
        if query.diverse:
            review["max_similarity_to_picked"] = round(similarity[i], 4)
        sentence.review = review
        result.records.append(sentence)
    return result

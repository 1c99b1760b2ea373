"""Read what ``framing tag`` wrote, one article at a time, into per-article counts.

Per article and dimension the reader keeps, for every label of the model: the units the
model labelled (sentences, or 1 when some sentence carries the label at the article
unit), the sum of their calibrated probabilities (when the records hold every score,
``framing tag --all-scores``) and the best sentences that carry the label (evidence).
The sentences themselves are not kept, so memory grows with articles, not sentences.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from framing.errors import AnnotationError
from framing.format.meta import MetadataError, check_meta
from framing.runtime.calibration import Calibration
from framing.runtime.inputs import collect_inputs
from framing.runtime.tagged_records import tagged_articles

__all__ = ["Article", "TaggedInput", "read_tagged"]

#: Evidence sentences kept per article and label (and per group and label in a report).
EVIDENCE = 3
#: Problems listed before the rest are only counted.
MAX_PROBLEMS = 20


@dataclass
class Evidence:
    doc_id: str
    index: int
    text: str
    score: float

    def to_dict(self) -> dict[str, Any]:
        return {"doc_id": self.doc_id, "index": self.index, "text": self.text, "score": self.score}


@dataclass
class Article:
    """One tagged article reduced to what the estimators need."""

    doc_id: str
    meta: dict[str, Any]
    n_sentences: int
    #: Per dimension: ``(n_labels,)`` sentences labelled by the model.
    hits: dict[str, np.ndarray]
    #: Per dimension: ``(n_labels,)`` sum of calibrated sentence probabilities (or None).
    probs: dict[str, np.ndarray | None]
    #: Per dimension: ``(n_labels,)`` the best sentence score (None without scores).
    best: dict[str, np.ndarray | None]
    #: Per dimension and label index: the best sentences that carry the label.
    evidence: dict[str, dict[int, list[Evidence]]] = field(default_factory=dict)
    #: The tag output's ``out_of_distribution.flagged``: True when the article is unlike
    #: the model's training articles; None when it was not checked (a model without ood.json).
    flagged: bool | None = None


@dataclass
class TaggedInput:
    """The articles of the tagged files and what was found while reading them."""

    articles: list[Article]
    files: list[str]
    model_name: str | None
    codebook_version: str | None
    #: Articles whose sentences carry every score (probabilistic estimators possible).
    with_scores: int = 0
    empty: int = 0


def _files(paths: Sequence[str | Path]) -> list[Path]:
    return collect_inputs(
        paths,
        suffixes=(".jsonl",),
        stdin=False,
        none_given="no tagged file given (the JSONL that 'framing tag' writes)",
    )


def _records(files: list[Path], problems: list[str]) -> Iterator[tuple[str, dict[str, Any]]]:
    for file in files:
        yield from tagged_articles(file, problems)


def read_tagged(
    paths: Sequence[str | Path],
    labels: dict[str, tuple[str, ...]],
    calibration: Calibration | None,
    *,
    unit_of_model: str = "sentence",
) -> TaggedInput:
    """Read tagged JSONL files (``framing tag`` output) for the model's ``labels``.

    Raises
    ------
    InputNotFoundError
        When a path does not exist.
    AnnotationError
        Listing every line that is not a tagged article, whose metadata is wrong (a date
        that is not one) or that was tagged by another model than the first line's.
    """
    files = _files(paths)
    problems: list[str] = []
    articles: list[Article] = []
    model_name: str | None = None
    codebook_version: str | None = None
    seen_model = False
    with_scores = empty = 0
    for where, data in _records(files, problems):
        info = data.get("model") or {}
        name, version = info.get("name"), info.get("codebook_version")
        if not seen_model:
            model_name, codebook_version, seen_model = name, version, True
        elif (name, version) != (model_name, codebook_version):
            problems.append(
                f"{where}: tagged by model '{name}' (codebook {version}), the first article by "
                f"'{model_name}' (codebook {codebook_version}); estimate each model apart"
            )
            continue
        try:
            meta = check_meta(data.get("meta") or {}, where)
        except MetadataError as exc:
            problems.append(str(exc))
            continue
        sentences = data["sentences"]
        doc_id = str(data.get("doc_id") or where)
        document = data.get("document")
        if isinstance(document, dict):  # a document-level model labelled the whole article
            article, scored = _document_article(doc_id, meta, document, labels)
            ood = data.get("out_of_distribution")
            article.flagged = bool(ood.get("flagged")) if isinstance(ood, dict) else None
            with_scores += scored
            articles.append(article)
            continue
        if not sentences:
            empty += 1
            continue
        article, scored = _article(doc_id, meta, sentences, labels, calibration, unit_of_model)
        ood = data.get("out_of_distribution")
        article.flagged = bool(ood.get("flagged")) if isinstance(ood, dict) else None
        with_scores += scored
        articles.append(article)
    if problems:
        more = len(problems) - MAX_PROBLEMS
        shown = problems[:MAX_PROBLEMS] + ([f"... and {more} more"] if more > 0 else [])
        raise AnnotationError("\n".join(shown))
    return TaggedInput(
        articles=articles,
        files=[str(f) for f in files],
        model_name=model_name,
        codebook_version=codebook_version,
        with_scores=with_scores,
        empty=empty,
    )


def _article(
    doc_id: str,
    meta: dict[str, Any],
    sentences: list[dict[str, Any]],
    labels: dict[str, tuple[str, ...]],
    calibration: Calibration | None,
    unit: str,
) -> tuple[Article, bool]:
    n = len(sentences)
    scored = all(isinstance(s.get("scores"), dict) for s in sentences)
    hits: dict[str, np.ndarray] = {}
    probs: dict[str, np.ndarray | None] = {}
    best: dict[str, np.ndarray | None] = {}
    evidence: dict[str, dict[int, list[Evidence]]] = {}
    for dim, ids in labels.items():
        column = {label: j for j, label in enumerate(ids)}
        mask = np.zeros((n, len(ids)), dtype=bool)
        label_scores = np.zeros((n, len(ids)))
        for i, s in enumerate(sentences):
            for item in (s.get("labels") or {}).get(dim, ()):
                j = column.get(item.get("label"))
                if j is not None:
                    mask[i, j] = True
                    label_scores[i, j] = float(item.get("score", 0.0))
        hits[dim] = mask.sum(axis=0).astype(float)
        if scored:
            raw = np.array(
                [
                    [float(s["scores"].get(dim, {}).get(label, 0.0)) for label in ids]
                    for s in sentences
                ]
            )
            best[dim] = raw.max(axis=0)
            probs[dim] = (
                calibration.apply(dim, raw, ids, unit=unit).sum(axis=0)
                if calibration is not None
                else None
            )
            label_scores = np.where(mask, raw, 0.0)
        else:
            best[dim] = probs[dim] = None
        found: dict[int, list[Evidence]] = {}
        rows, cols = np.nonzero(mask)
        order = np.lexsort((rows, -label_scores[rows, cols]))
        for r, c in zip(rows[order].tolist(), cols[order].tolist(), strict=True):
            bucket = found.setdefault(c, [])
            if len(bucket) < EVIDENCE:
                s = sentences[r]
                bucket.append(
                    Evidence(
                        doc_id,
                        int(s.get("index", r + 1)),
                        str(s.get("text", "")),
                        float(label_scores[r, c]),
                    )
                )
        evidence[dim] = found
    return Article(doc_id, meta, n, hits, probs, best, evidence), scored


def _document_article(
    doc_id: str, meta: dict[str, Any], document: dict[str, Any], labels: dict[str, tuple[str, ...]]
) -> tuple[Article, bool]:
    """An article labelled as a whole by a document-level model: one unit, its labels,
    and (with ``--all-scores``) every label's score as the article's score."""
    every = document.get("scores")
    scored = isinstance(every, dict)
    hits: dict[str, np.ndarray] = {}
    best: dict[str, np.ndarray | None] = {}
    for dim, ids in labels.items():
        found = {item.get("label") for item in (document.get("labels") or {}).get(dim, ())}
        hits[dim] = np.array([float(label in found) for label in ids])
        best[dim] = (
            np.array([float(every.get(dim, {}).get(label, 0.0)) for label in ids])
            if isinstance(every, dict)
            else None
        )
    probs: dict[str, np.ndarray | None] = dict.fromkeys(labels)
    return Article(doc_id, meta, 0, hits, probs, best, {}), scored

"""Training examples: the ``done`` sentences, or document records, of a corpus as texts,
labels, splits and document ids, in a stable order.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from framing.errors import AnnotationError
from framing.format.annotations import Corpus, Sentence
from framing.format.article import is_headline
from framing.runtime.context import Layout

__all__ = ["Examples", "build_examples"]


@dataclass
class Examples:
    """Texts to learn from or score, one per sentence (or per document), with their labels."""

    ids: list[str]
    doc_ids: list[str]
    texts: list[str]
    splits: list[str | None]
    labels: list[dict[str, tuple[str, ...]]]
    sources: list[str | None] = field(default_factory=list)
    #: Sentence level: each sentence's ``sent_index`` and whether it is its article's
    #: headline (``meta.part = "headline"``); empty for documents.
    places: list[int | None] = field(default_factory=list)
    headlines: list[bool] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.ids)

    def subset(self, index: Sequence[int] | np.ndarray) -> Examples:
        idx = [int(i) for i in index]
        return Examples(
            ids=[self.ids[i] for i in idx],
            doc_ids=[self.doc_ids[i] for i in idx],
            texts=[self.texts[i] for i in idx],
            splits=[self.splits[i] for i in idx],
            labels=[self.labels[i] for i in idx],
            sources=[self.sources[i] for i in idx] if self.sources else [],
            places=[self.places[i] for i in idx] if self.places else [],
            headlines=[self.headlines[i] for i in idx] if self.headlines else [],
        )

    def layout(self) -> Layout:
        """Where each example sits in its article, for a model's context stage."""
        n = len(self)
        return Layout.from_keys(
            self.doc_ids, self.places or [None] * n, self.headlines or [False] * n, self.texts
        )

    def indicator(self, dimension: str, labels: Sequence[str]) -> np.ndarray:
        """``(n, len(labels))`` boolean matrix of gold labels; unknown labels are ignored."""
        column = {label: j for j, label in enumerate(labels)}
        Y = np.zeros((len(self), len(labels)), dtype=bool)
        for i, record in enumerate(self.labels):
            for label in record.get(dimension, ()):
                j = column.get(label)
                if j is not None:
                    Y[i, j] = True
        return Y


def _source(record: Any) -> str | None:
    if record.source is None:
        return None
    return f"{record.source[0]}:{record.source[1]}"


def _sentence_order(sentence: Sentence) -> tuple[int, int]:
    return (0, sentence.sent_index) if sentence.sent_index is not None else (1, 0)


def build_examples(
    corpus: Corpus,
    dimensions: Sequence[str],
    *,
    level: str = "sentence",
    document_text: str = "auto",
) -> Examples:
    """Training or evaluation examples of a corpus.

    Parameters
    ----------
    corpus
        Annotations read with :func:`framing.format.annotations.read_corpus`.
    dimensions
        The label dimensions to keep; a record without a dimension's field has no labels in it.
    level
        ``"sentence"``: every ``done`` sentence.  ``"document"``: every ``done`` document
        record, labelled with the document record's labels.
    document_text
        At the document level: ``"text"`` the document record's text, ``"sentences"``
        its sentences joined in order, ``"auto"`` the text when the record has one.

    Raises
    ------
    AnnotationError
        When a document has neither a text nor sentences.
    """
    dims = list(dimensions)
    if level == "sentence":
        done = corpus.done()
        return Examples(
            ids=[s.id for s in done],
            doc_ids=[s.doc_id for s in done],
            texts=[s.text for s in done],
            splits=[corpus.split_of(s) for s in done],
            labels=[{d: s.labels.get(d, ()) for d in dims} for s in done],
            sources=[_source(s) for s in done],
            places=[s.sent_index for s in done],
            headlines=[is_headline(s.meta) for s in done],
        )
    by_doc: dict[str, list[Sentence]] = {}
    for sentence in corpus.sentences:
        by_doc.setdefault(sentence.doc_id, []).append(sentence)
    examples = Examples([], [], [], [], [], [])
    problems = []
    for doc_id, doc in corpus.documents.items():
        if doc.status != "done":
            continue
        sentences = sorted(by_doc.get(doc_id, []), key=_sentence_order)
        joined = " ".join(s.text.strip() for s in sentences)
        if document_text == "text" or (document_text == "auto" and doc.text):
            text = doc.text or ""
        else:
            text = joined
        if not text.strip():
            where = _source(doc) or doc_id
            what = "no text" if document_text == "text" else "no text and no sentences"
            problems.append(f"{where}: document '{doc_id}' has {what} to learn from")
            continue
        split = doc.split
        if split is None:
            split = next((s.split for s in sentences if s.split is not None), None)
        examples.ids.append(doc_id)
        examples.doc_ids.append(doc_id)
        examples.texts.append(text)
        examples.splits.append(split)
        examples.labels.append({d: doc.labels.get(d, ()) for d in dims})
        examples.sources.append(_source(doc))
    if problems:
        raise AnnotationError(
            "\n".join(problems) + '\n(give the document record a "text" or add its sentences, '
            'or set data.document_text = "auto")'
        )
    return examples

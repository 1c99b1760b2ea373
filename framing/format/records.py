"""Annotation records: sentences and documents, the fields and values they may hold.

The JSONL format is specified in ``docs/annotation-format.md`` and
``framing/format/schemas/annotation.schema.json``; :mod:`framing.format.validation`
checks files against it and :mod:`framing.format.jsonl` reads and writes them.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

__all__ = [
    "DOCUMENT_FIELDS",
    "RECORD_TYPES",
    "RESERVED_FIELDS",
    "SENTENCE_FIELDS",
    "SPLITS",
    "STATUSES",
    "Corpus",
    "Document",
    "Labels",
    "Record",
    "Sentence",
    "Status",
    "document_labels",
    "labels_found",
]

STATUSES = ("todo", "done", "skip")
SPLITS = ("train", "dev", "test", "dev-shifted")
RECORD_TYPES = ("sentence", "document")
SENTENCE_FIELDS = (
    "type",
    "id",
    "doc_id",
    "text",
    "sent_index",
    "start",
    "end",
    "annotator",
    "note",
    "meta",
    "status",
    "split",
    "suggested",
    "review",
)
DOCUMENT_FIELDS = (
    "type",
    "doc_id",
    "title",
    "text",
    "annotator",
    "note",
    "meta",
    "status",
    "split",
    "suggested",
    "review",
)
#: Every field of the format; a codebook dimension may not use one of these names.
RESERVED_FIELDS = frozenset(SENTENCE_FIELDS + DOCUMENT_FIELDS)

Status = Literal["todo", "done", "skip"]
Labels = dict[str, tuple[str, ...]]


@dataclass
class Sentence:
    """One sentence to annotate; ``labels`` maps a dimension id to its label ids."""

    id: str
    doc_id: str
    text: str
    labels: Labels = field(default_factory=dict)
    status: str = "done"
    split: str | None = None
    sent_index: int | None = None
    start: int | None = None
    end: int | None = None
    annotator: str | None = None
    note: str | None = None
    meta: dict[str, Any] = field(default_factory=dict)
    suggested: dict[str, dict[str, float]] | None = None
    review: dict[str, Any] | None = None
    #: (file, line) the record was read from; not part of equality or output.
    source: tuple[str, int] | None = field(default=None, compare=False, repr=False)

    type = "sentence"

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {"id": self.id, "doc_id": self.doc_id}
        for key in ("sent_index", "start", "end"):
            value = getattr(self, key)
            if value is not None:
                data[key] = value
        data["text"] = self.text
        _add_annotation(self, data)
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Sentence:
        """Build from a validated record dict (use :func:`validate` for untrusted input)."""
        labels = {k: tuple(v) for k, v in data.items() if k not in RESERVED_FIELDS}
        return cls(
            id=data["id"],
            doc_id=data["doc_id"],
            text=data["text"],
            labels=labels,
            status=data.get("status", "done"),
            split=data.get("split"),
            sent_index=data.get("sent_index"),
            start=data.get("start"),
            end=data.get("end"),
            annotator=data.get("annotator"),
            note=data.get("note"),
            meta=dict(data.get("meta") or {}),
            suggested=data.get("suggested"),
            review=data.get("review"),
        )


@dataclass
class Document:
    """Document-level record: title, metadata, optional text and document-level labels."""

    doc_id: str
    title: str | None = None
    text: str | None = None
    labels: Labels = field(default_factory=dict)
    status: str = "done"
    split: str | None = None
    annotator: str | None = None
    note: str | None = None
    meta: dict[str, Any] = field(default_factory=dict)
    review: dict[str, Any] | None = None
    source: tuple[str, int] | None = field(default=None, compare=False, repr=False)
    #: A document-level model's suggestions (``framing preannotate``); never gold labels.
    suggested: dict[str, dict[str, float]] | None = None

    type = "document"

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {"type": "document", "doc_id": self.doc_id}
        if self.title is not None:
            data["title"] = self.title
        _add_annotation(self, data)
        if self.text is not None:
            data["text"] = self.text
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Document:
        labels = {k: tuple(v) for k, v in data.items() if k not in RESERVED_FIELDS}
        return cls(
            doc_id=data["doc_id"],
            title=data.get("title"),
            text=data.get("text"),
            labels=labels,
            status=data.get("status", "done"),
            split=data.get("split"),
            annotator=data.get("annotator"),
            note=data.get("note"),
            meta=dict(data.get("meta") or {}),
            review=data.get("review"),
            suggested=data.get("suggested"),
        )


def _add_annotation(record: Sentence | Document, data: dict[str, Any]) -> None:
    """Add what sentence and document records share to ``data``, in the file's key order:
    labels by dimension, status, the optional fields that are set, then ``meta``."""
    for dim, labels in record.labels.items():
        data[dim] = list(labels)
    data["status"] = record.status
    for key in ("split", "annotator", "note", "suggested", "review"):
        value = getattr(record, key)
        if value is not None:
            data[key] = value
    if record.meta:
        data["meta"] = record.meta


Record = Sentence | Document


@dataclass
class Corpus:
    """Sentences and document records read from annotation files."""

    sentences: list[Sentence]
    documents: dict[str, Document]
    files: list[str]

    def done(self) -> list[Sentence]:
        """Annotated sentences: status ``done`` (``todo`` and ``skip`` are not negatives)."""
        return [s for s in self.sentences if s.status == "done"]

    def split_of(self, sentence: Sentence) -> str | None:
        """A sentence's split, falling back to its document record's split."""
        if sentence.split is not None:
            return sentence.split
        document = self.documents.get(sentence.doc_id)
        return document.split if document is not None else None

    def doc_ids(self) -> list[str]:
        """Document ids in order of first appearance."""
        seen: dict[str, None] = {}
        for doc_id in self.documents:
            seen.setdefault(doc_id, None)
        for sentence in self.sentences:
            seen.setdefault(sentence.doc_id, None)
        return list(seen)


def labels_found(records: Iterable[Record], dimensions: Sequence[str]) -> dict[str, list[str]]:
    """Label ids per dimension in first-seen order (``dimensions`` first, even when empty)."""
    found: dict[str, dict[str, None]] = {dim: {} for dim in dimensions}
    for record in records:
        for dim, labels in record.labels.items():
            bucket = found.setdefault(dim, {})
            for label in labels:
                bucket.setdefault(label, None)
    return {dim: list(labels) for dim, labels in found.items()}


def document_labels(
    records: Iterable[Record], dimensions: Iterable[str]
) -> dict[str, dict[str, tuple[str, ...]]]:
    """Labels per document: its document record's lists, else the union of its sentences'.

    Only ``done`` sentences count; a document with neither is left out.  (The exporters
    and ``framing score`` take an article's labels by this rule; a tagged article of a
    document-level model is a document record, of a sentence-level model its sentences.)
    """
    dims = tuple(dimensions)
    own: dict[str, dict[str, tuple[str, ...]]] = {}
    union: dict[str, dict[str, dict[str, None]]] = {}
    for record in records:
        if isinstance(record, Document):
            lists = {d: record.labels[d] for d in dims if d in record.labels}
            if lists:
                own[record.doc_id] = lists
        elif record.status == "done":
            bucket = union.setdefault(record.doc_id, {d: {} for d in dims})
            for dim in dims:
                for label in record.labels.get(dim, ()):
                    bucket[dim].setdefault(label, None)
    return {
        doc_id: {
            dim: own.get(doc_id, {}).get(dim, tuple(union.get(doc_id, {}).get(dim, {})))
            for dim in dims
        }
        for doc_id in {*own, *union}
    }

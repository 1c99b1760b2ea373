"""The annotation format: JSONL records of sentences and documents.

One JSON object per line, UTF-8.  A *sentence record* (the default ``type``)::

    {"id": "d101-s003", "doc_id": "d101", "sent_index": 3, "text": "...",
     "frames": ["west_as_threat"], "rhetoric": ["loaded_language"], "status": "done"}

A *document record* (``"type": "document"``) carries a title, metadata, optionally
the document's text and document-level labels.  The full specification is in
``docs/annotation-format.md`` and ``framing/schemas/annotation.schema.json``.

Readers stream: :func:`iter_records` holds one line in memory at a time and
:func:`validate` keeps only the ids it has seen.  Writers are atomic: records go
to a temporary file in the target folder, which then replaces the target.

This module gathers the names of the data contract's parts under one documented path:
records (:mod:`framing.format.records`), line reading (:mod:`framing.format.lines`),
validation (:mod:`framing.format.validation`) and JSONL I/O (:mod:`framing.format.jsonl`).
"""

from __future__ import annotations

from framing.format.jsonl import iter_records, read_corpus, write_jsonl
from framing.format.lines import collect_files
from framing.format.records import (
    DOCUMENT_FIELDS,
    RECORD_TYPES,
    RESERVED_FIELDS,
    SENTENCE_FIELDS,
    SPLITS,
    STATUSES,
    Corpus,
    Document,
    Labels,
    Record,
    Sentence,
    Status,
)
from framing.format.validation import ValidationReport, validate

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
    "ValidationReport",
    "collect_files",
    "iter_records",
    "read_corpus",
    "validate",
    "write_jsonl",
]

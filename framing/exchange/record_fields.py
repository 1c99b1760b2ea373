"""Our record fields as the flat key/values of annotation tools' formats, both ways.

Label Studio, doccano and Prodigy records carry our record fields as flat key/values
(in Label Studio's ``data``, Prodigy's ``meta`` and at the top of a doccano line), so
that exporting and importing back gives the same records.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from framing.exchange.importers.problems import RowProblems
from framing.format.annotations import SPLITS, Document, Sentence

__all__ = ["RECORD_KEYS", "build_record", "display_text", "record_fields"]

Record = Sentence | Document


#: Flat keys that hold our record fields in the exchange formats.
RECORD_KEYS = (
    "record_id",
    "doc_id",
    "record_type",
    "title",
    "split",
    "sent_index",
    "start",
    "end",
    "annotator",
    "note",
    "meta",
    "dimensions",
    "has_text",
)


def record_fields(record: Record) -> dict[str, Any]:
    """Our record's fields (not its text, labels or status) as flat exchange keys."""
    data: dict[str, Any] = {}
    if isinstance(record, Sentence):
        data["record_id"] = record.id
        data["doc_id"] = record.doc_id
        for key in ("sent_index", "start", "end"):
            if getattr(record, key) is not None:
                data[key] = getattr(record, key)
    else:
        data["record_id"] = record.doc_id
        data["doc_id"] = record.doc_id
        data["record_type"] = "document"
        data["dimensions"] = list(record.labels)
        if record.text is None:
            data["has_text"] = False
        if record.title is not None:
            data["title"] = record.title
    for key in ("split", "annotator", "note"):
        if getattr(record, key) is not None:
            data[key] = getattr(record, key)
    if record.meta:
        data["meta"] = dict(record.meta)
    return data


def display_text(record: Record) -> str:
    """The text an annotation tool shows: a document without text shows its title (or id)."""
    if record.text is not None:
        return record.text
    assert isinstance(record, Document)
    return record.title or record.doc_id


def build_record(
    fields: Mapping[str, Any],
    *,
    text: Any,
    labels: dict[str, tuple[str, ...]],
    status: str,
    default_id: str,
    where: tuple[str, int | None],
    problems: RowProblems,
    extra_meta: Mapping[str, Any] | None = None,
) -> Record | None:
    """Rebuild one of our records from exchange fields; None (problem added) when invalid.

    ``fields`` are the flat keys of :data:`RECORD_KEYS` (others go to ``meta``);
    ``record_id`` falls back to ``id`` and then to ``default_id``.
    """
    path, line = where
    before = len(problems)

    def bad(message: str, hint: str | None = None) -> None:
        problems.add(path, line, message, hint)

    if not isinstance(text, str) or not text.strip():
        bad("missing or empty text", "every item needs a non-empty text")
    raw_id = fields.get("record_id", fields.get("id", default_id))
    if isinstance(raw_id, bool) or not isinstance(raw_id, str | int) or not str(raw_id).strip():
        bad(f"id must be a non-empty string, got {raw_id!r}")
        raw_id = default_id
    record_id = str(raw_id)
    doc_id = fields.get("doc_id", record_id)
    if not isinstance(doc_id, str | int) or isinstance(doc_id, bool) or not str(doc_id).strip():
        bad(f"doc_id must be a non-empty string, got {doc_id!r}")
        doc_id = record_id
    optional: dict[str, Any] = {}
    for key, kinds in (
        ("title", str),
        ("split", str),
        ("annotator", str),
        ("note", str),
        ("sent_index", int),
        ("start", int),
        ("end", int),
        ("meta", dict),
    ):
        value = fields.get(key)
        if value is None:
            continue
        if not isinstance(value, kinds) or isinstance(value, bool):
            bad(
                f"'{key}' must be {'an object' if kinds is dict else kinds.__name__}, got {value!r}"
            )
            continue
        optional[key] = value
    if "split" in optional and optional["split"] not in SPLITS:
        bad(f"split must be one of {', '.join(SPLITS)}, got {optional['split']!r}")
    meta = dict(optional.get("meta") or {})
    for key, value in (extra_meta or {}).items():
        meta.setdefault(key, value)
    for key, value in fields.items():
        if key not in RECORD_KEYS and key != "id":
            meta.setdefault(key, value)
    kind = fields.get("record_type", "sentence")
    if kind not in ("sentence", "document"):
        bad(f"record_type must be 'sentence' or 'document', got {kind!r}")
    for dim, values in labels.items():
        for label in values:
            if label != label.strip() or not label or any(ord(c) < 32 for c in label):
                bad(
                    f"label {label!r} of '{dim}' is empty or has surrounding spaces "
                    "or control characters",
                    "fix the label in the tool's configuration",
                )
    if len(problems) > before:
        return None
    assert isinstance(text, str)
    if kind == "document":
        listed = fields.get("dimensions")
        if isinstance(listed, list) and all(isinstance(d, str) for d in listed):
            labels = {dim: labels.get(dim, ()) for dim in listed}
        return Document(
            doc_id=str(doc_id),
            title=optional.get("title"),
            # An exported document without text showed its title: do not invent a text.
            text=None if fields.get("has_text") is False else text,
            labels=labels,
            status=status,
            split=optional.get("split"),
            annotator=optional.get("annotator"),
            note=optional.get("note"),
            meta=meta,
            source=(path, line or 0),
        )
    return Sentence(
        id=record_id,
        doc_id=str(doc_id),
        text=text,
        labels=labels,
        status=status,
        split=optional.get("split"),
        sent_index=optional.get("sent_index"),
        start=optional.get("start"),
        end=optional.get("end"),
        annotator=optional.get("annotator"),
        note=optional.get("note"),
        meta=meta,
        source=(path, line or 0),
    )

"""Helpers shared by the format importers: row problems, label lists, codebooks.

Every importer collects *all* the problems of its input in a :class:`RowProblems`
and raises one :class:`~framing.errors.AnnotationError` at the end, whose message
lists each bad row as ``file:line: what (how to fix)``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

from framing.errors import AnnotationError, InputNotFoundError, Problem, UsageError
from framing.format.annotations import SPLITS, Document, Sentence
from framing.format.codebook import Codebook, did_you_mean

Record = Sentence | Document

#: At most this many problems are spelled out in an error message (all are in ``problems``).
MAX_LISTED = 100

_DIMENSION_ID = re.compile(r"^[a-z][a-z0-9_]*$")
_ARTICLE = re.compile(r"^article(.+)\.txt$")


class RowProblems:
    """Collects the problems of an input and raises them all at once."""

    def __init__(self) -> None:
        self.problems: list[Problem] = []

    def __len__(self) -> int:
        return len(self.problems)

    def add(
        self, path: str | Path, line: int | None, message: str, hint: str | None = None
    ) -> None:
        self.problems.append(Problem(str(path), line, message, hint=hint))

    def raise_if_any(self, what: str) -> None:
        """Raise :class:`AnnotationError` listing every problem, if there is any."""
        if not self.problems:
            return
        shown = "\n".join(p.located() for p in self.problems[:MAX_LISTED])
        more = len(self.problems) - MAX_LISTED
        tail = f"\n... and {more} more" if more > 0 else ""
        raise AnnotationError(
            f"{len(self.problems)} problem(s) in {what}:\n{shown}{tail}", list(self.problems)
        )


def keep_unique(
    record: Record,
    records: list[Record],
    seen: dict[str, int],
    where: tuple[Path, int],
    problems: RowProblems,
    hint: str,
) -> None:
    """Append ``record`` unless its id was seen already (then report both lines)."""
    key = record.id if isinstance(record, Sentence) else f"document:{record.doc_id}"
    path, line = where
    if key in seen:
        problems.add(path, line, f"id '{key}' used twice (first at line {seen[key]})", hint)
        return
    seen[key] = line
    records.append(record)


def read_text(path: Path, problems: RowProblems) -> str | None:
    """The UTF-8 text of ``path`` without a byte order mark, or None (problem added)."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        problems.add(path, None, f"cannot read file: {exc.strerror}")
        return None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        problems.add(
            path, line, f"invalid UTF-8 byte 0x{raw[exc.start]:02x}", "re-encode the file as UTF-8"
        )
        return None
    return text[1:] if text.startswith("\ufeff") else text


def iter_lines(path: Path, problems: RowProblems) -> Iterator[tuple[int, str]]:
    """Yield ``(line number, line)`` for the non-blank lines of a text file."""
    text = read_text(path, problems)
    if text is None:
        return
    for number, line in enumerate(text.split("\n"), start=1):
        line = line.removesuffix("\r")
        if line.strip():
            yield number, line


def require_file(path: str | Path, what: str) -> Path:
    path = Path(path)
    if not path.is_file():
        raise InputNotFoundError(f"{path}: {what} not found")
    return path


def require_dir(path: str | Path, what: str) -> Path:
    path = Path(path)
    if not path.is_dir():
        raise InputNotFoundError(f"{path}: {what} folder not found")
    return path


def split_labels(value: str, separator: str) -> list[str]:
    """Split a joined label list, trimming spaces; empty items (``a;;b``, ``a;``) are dropped."""
    return [item.strip() for item in value.split(separator) if item.strip()]


def unique(labels: Iterable[str]) -> tuple[tuple[str, ...], int]:
    """Labels in first-seen order without repeats, and how many repeats were dropped."""
    seen: dict[str, None] = {}
    total = 0
    for label in labels:
        total += 1
        seen.setdefault(label, None)
    return tuple(seen), total - len(seen)


def dimension_id(name: str) -> str:
    """Turn a column or tool field name into a lower_snake_case dimension id.

    Examples
    --------
    >>> dimension_id("Frames")
    'frames'
    >>> dimension_id("Persuasion techniques")
    'persuasion_techniques'
    """
    ident = re.sub(r"[^0-9a-z]+", "_", name.strip().lower()).strip("_")
    if not ident or not ident[0].isalpha():
        ident = f"d_{ident}" if ident else "label"
    return ident


def check_dimension(name: str) -> str:
    """Return ``name`` when it is a valid dimension id; raise UsageError otherwise."""
    from framing.format.annotations import RESERVED_FIELDS

    if not _DIMENSION_ID.match(name):
        raise UsageError(
            f"dimension id '{name}' must be lower_snake_case (letters, digits, '_'), "
            f"e.g. '{dimension_id(name)}'"
        )
    if name in RESERVED_FIELDS:
        raise UsageError(f"dimension id '{name}' is a reserved record field; choose another")
    return name


def check_split(split: str | None) -> str | None:
    if split is not None and split not in SPLITS:
        raise UsageError(f"split must be one of {', '.join(SPLITS)}, got '{split}'")
    return split


def labels_found(records: Iterable[Record], dimensions: Sequence[str]) -> dict[str, list[str]]:
    """Label ids per dimension in first-seen order."""
    found: dict[str, dict[str, None]] = {dim: {} for dim in dimensions}
    for record in records:
        for dim, labels in record.labels.items():
            bucket = found.setdefault(dim, {})
            for label in labels:
                bucket.setdefault(label, None)
    return {dim: list(labels) for dim, labels in found.items()}


def finish(
    records: list[Record],
    *,
    name: str,
    dimensions: Sequence[str],
    taxonomy: Mapping[str, Sequence[str]] | None = None,
    description: str = "",
    split: str | None = None,
    document_dimensions: Sequence[str] | None = None,
    codebook: Codebook | None = None,
) -> Codebook | None:
    """Fill every record's label lists, set the split and build the codebook.

    Dimensions without any label (found or in ``taxonomy``) cannot be in a codebook:
    they are dropped from the records.  Without any label at all (unannotated
    input) there is no codebook: None.  Sentence records get a list for every
    dimension (the format requires one on ``done`` sentences); document records get
    one for each of ``document_dimensions`` (default: only the lists they already
    have), so that a document's other labels stay the union of its sentences' labels.
    With ``codebook``, the labels are checked against it instead (see :func:`conform`).
    """
    if codebook is not None:
        for record in records:
            if split is not None:
                record.split = split
        conform(records, codebook, name)
        return codebook
    found = labels_found(records, dimensions)
    for dim, labels in (taxonomy or {}).items():
        found.setdefault(dim, [])
        found[dim] = list(dict.fromkeys([*labels, *found[dim]]))
    kept = [dim for dim in found if found[dim]]
    for record in records:
        if isinstance(record, Sentence):
            dims = kept
        elif document_dimensions is None:
            dims = [d for d in kept if d in record.labels]
        else:
            dims = [d for d in kept if d in document_dimensions]
        record.labels = {dim: tuple(record.labels.get(dim, ())) for dim in dims}
        if split is not None:
            record.split = split
    if not kept:
        return None
    return Codebook.from_labels(
        {dim: found[dim] for dim in kept}, name=name, description=description
    )


#: What an import does with a label its codebook lacks (``--unknown-labels``).
UNKNOWN_POLICIES = ("error", "drop", "add")


def conform(
    records: list[Record], codebook: Codebook, source: str, unknown: str = "error"
) -> tuple[Codebook, dict[str, int]]:
    """Check imported labels against an existing codebook; give sentences every dimension.

    ``unknown`` says what to do with a label (or dimension) the codebook lacks:
    ``error`` reports each one with where it first occurs and how many records carry it;
    ``drop`` removes it from the records; ``add`` adds it to the codebook.

    Returns
    -------
    tuple
        The codebook (with the added labels under ``add``) and, per unknown
        ``dimension:label``, the number of records that carried it.

    Raises
    ------
    AnnotationError
        Under ``error``, naming every unknown dimension and label (with the closest match).
    """
    if unknown not in UNKNOWN_POLICIES:
        raise UsageError(
            f"unknown-labels must be one of {', '.join(UNKNOWN_POLICIES)}, got '{unknown}'"
        )
    known = {dim.id: set(dim.label_ids) for dim in codebook.dimensions}
    found: dict[tuple[str, str], list[Any]] = {}
    for record in records:
        where = record.source or (source, None)
        for dim, labels in record.labels.items():
            if dim not in known:
                found.setdefault((dim, ""), []).append(where)
                for label in labels:
                    found.setdefault((dim, label), []).append(where)
                continue
            for label in labels:
                if label not in known[dim]:
                    found.setdefault((dim, label), []).append(where)
    summary = {
        f"{dim}:{label}" if label else f"{dim} (dimension)": len(where)
        for (dim, label), where in found.items()
    }
    if found and unknown == "error":
        problems = RowProblems()
        for (dim, label), wheres in found.items():
            first, n = wheres[0], len(wheres)
            count = f" (first of {n} records)" if n > 1 else ""
            if not label:
                match = did_you_mean(dim, known)
                hint = (
                    f"did you mean '{match}'?" if match else f"the codebook has: {', '.join(known)}"
                )
                problems.add(
                    first[0], first[1], f"dimension '{dim}' is not in the codebook{count}", hint
                )
            elif dim in known:
                match = did_you_mean(label, known[dim])
                problems.add(
                    first[0],
                    first[1],
                    f"label '{label}' is not in the codebook's '{dim}'{count}",
                    f"did you mean '{match}'?"
                    if match
                    else "add it to the codebook, or import with --unknown-labels drop|add",
                )
        problems.raise_if_any(f"the labels of {source} (against codebook '{codebook.name}')")
    if found and unknown == "drop":
        for record in records:
            record.labels = {
                dim: tuple(label for label in labels if label in known[dim])
                for dim, labels in record.labels.items()
                if dim in known
            }
    if found and unknown == "add":
        codebook = _with_labels(codebook, [key for key in found if key[1]], source)
        known = {dim.id: set(dim.label_ids) for dim in codebook.dimensions}
    for record in records:
        if isinstance(record, Sentence):
            record.labels = {dim: tuple(record.labels.get(dim, ())) for dim in known}
    return codebook, summary


def _with_labels(codebook: Codebook, added: list[tuple[str, str]], source: str) -> Codebook:
    """``codebook`` with the ``(dimension, label)`` pairs added (new dimensions at the end)."""
    from dataclasses import replace

    from framing.format.codebook import Dimension, Label

    def label(dim: str, ident: str) -> Label:
        return Label(id=ident, name=ident, definition=f"Added on import from {source}.")

    dims = list(codebook.dimensions)
    for i, dim in enumerate(dims):
        extra = tuple(label(dim.id, lab) for d, lab in added if d == dim.id)
        if extra:
            dims[i] = replace(dim, labels=(*dim.labels, *extra))
    present = {dim.id for dim in dims}
    for new_dim in dict.fromkeys(d for d, _ in added if d not in present):
        dims.append(
            Dimension(
                id=new_dim,
                name=new_dim.replace("_", " ").capitalize(),
                description=f"Added on import from {source}.",
                labels=tuple(label(new_dim, lab) for d, lab in added if d == new_dim),
            )
        )
    grown = replace(codebook, dimensions=tuple(dims), source=None)
    return Codebook.from_dict(grown.to_dict(), source=f"<codebook {codebook.name}>")


def label_counts(codebook: Codebook | None) -> dict[str, int]:
    """``{"<dimension> labels": n}`` for an import's counts."""
    if codebook is None:
        return {}
    return {f"{dim.id} labels": len(dim.labels) for dim in codebook.dimensions}


def article_id(path: Path) -> str | None:
    """The id in ``article<ID>.txt``, or None for other file names."""
    match = _ARTICLE.match(path.name)
    return match.group(1) if match else None


def line_spans(text: str) -> list[tuple[int, int, int]]:
    """``(line number, start, end)`` of each non-empty line, trimmed of surrounding spaces."""
    spans: list[tuple[int, int, int]] = []
    offset = 0
    for number, line in enumerate(text.split("\n"), start=1):
        stripped = line.strip()
        if stripped:
            start = offset + (len(line) - len(line.lstrip()))
            spans.append((number, start, start + len(stripped)))
        offset += len(line) + 1
    return spans


# --------------------------------------------------------------------------- exchange formats
# Label Studio, doccano and Prodigy records carry our record fields as flat key/values
# (in Label Studio's ``data``, Prodigy's ``meta`` and at the top of a doccano line), so
# that exporting and importing back gives the same records.

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


def iter_json_items(path: Path, problems: RowProblems) -> Iterator[tuple[int, Any]]:
    """Yield ``(line, item)`` for each element of a JSON array file (or the one object).

    Elements are decoded one at a time so that each is located by the line it starts on.
    """
    text = read_text(path, problems)
    if text is None:
        return
    decoder = json.JSONDecoder()
    index = _skip_space(text, 0)
    if index == len(text):
        problems.add(path, None, "file is empty", "export the project again")
        return
    if text[index] != "[":
        try:
            item, end = decoder.raw_decode(text, index)
        except json.JSONDecodeError as exc:
            problems.add(path, exc.lineno, f"invalid JSON: {exc.msg} at column {exc.colno}")
            return
        yield text.count("\n", 0, index) + 1, item
        return
    index = _skip_space(text, index + 1)
    if index < len(text) and text[index] == "]":
        return
    # Lines are counted from the previous item on, so the whole file is scanned once
    # (counting from the start for every task made large exports quadratic).
    line, counted = 1, 0
    while index < len(text):
        line += text.count("\n", counted, index)
        counted = index
        try:
            item, index = decoder.raw_decode(text, index)
        except json.JSONDecodeError as exc:
            problems.add(
                path,
                exc.lineno,
                f"invalid JSON: {exc.msg} at column {exc.colno}",
                "the file must be one JSON array of tasks",
            )
            return
        yield line, item
        index = _skip_space(text, index)
        if index < len(text) and text[index] == ",":
            index = _skip_space(text, index + 1)
            continue
        if index < len(text) and text[index] == "]":
            return
        problems.add(
            path,
            line + text.count("\n", counted, index),
            "invalid JSON: expected ',' or ']' between tasks",
            "the file must be one JSON array of tasks",
        )
        return
    problems.add(path, text.count("\n") + 1, "invalid JSON: the array is not closed with ']'")


_SPACE = re.compile(r"[ \t\r\n]*")


def _skip_space(text: str, index: int) -> int:
    found = _SPACE.match(text, index)
    return found.end() if found is not None else index


def iter_jsonl(path: Path, problems: RowProblems) -> Iterator[tuple[int, Any]]:
    """Yield ``(line, object)`` for each non-blank line of a JSONL file."""
    seen, known = False, len(problems)
    for number, line in iter_lines(path, problems):
        seen = True
        try:
            yield number, json.loads(line)
        except json.JSONDecodeError as exc:
            problems.add(
                path,
                number,
                f"invalid JSON: {exc.msg} at column {exc.colno}",
                "each line must be one complete JSON object",
            )
    if not seen and len(problems) == known:
        problems.add(path, None, "the file is empty (no JSON line)", "export the data again")

"""Validation of annotation files: every problem of every record, located by file and line.

:func:`validate` reports all the problems it finds (it does not stop at the first);
:class:`RecordChecker` checks one record at a time and is shared with the readers of
:mod:`framing.format.jsonl`, which raise at the first error instead.
"""

from __future__ import annotations

import hashlib
from array import array
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from framing.errors import Problem
from framing.format.codebook import Codebook, did_you_mean
from framing.format.lines import collect_files, decode_lines, parse_line
from framing.format.records import (
    DOCUMENT_FIELDS,
    RECORD_TYPES,
    RESERVED_FIELDS,
    SENTENCE_FIELDS,
    SPLITS,
    STATUSES,
    Document,
    Record,
    Sentence,
)
from framing.format.text import clip

__all__ = ["RecordChecker", "ValidationReport", "scan", "validate"]


@dataclass
class ValidationReport:
    """What :func:`validate` found: counts and every problem, in file order."""

    files: list[str]
    sentences: int = 0
    documents: int = 0
    problems: list[Problem] = field(default_factory=list)

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == "error"]

    @property
    def warnings(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == "warning"]

    @property
    def ok(self) -> bool:
        return not self.errors

    def summary(self) -> str:
        return (
            f"{len(self.files)} file(s), {self.sentences} sentence(s), "
            f"{self.documents} document(s): {len(self.errors)} error(s), "
            f"{len(self.warnings)} warning(s)"
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "files": self.files,
            "sentences": self.sentences,
            "documents": self.documents,
            "errors": len(self.errors),
            "warnings": len(self.warnings),
            "problems": [p.to_dict() for p in self.problems],
        }


IdMode = Literal["exact", "hashes", "none"]


def _id_hash(value: str) -> int:
    digest = hashlib.blake2b(value.encode("utf-8", "surrogatepass"), digest_size=8).digest()
    return int.from_bytes(digest, "little", signed=True)


class _IdIndex:
    """Remembers ids to find duplicates.

    ``exact`` keeps every id with its location and reports a duplicate at once.
    ``hashes`` keeps 8 bytes per id and only says, after the pass, which hashes
    repeat (a second pass then locates them): for files larger than memory.
    ``none`` keeps nothing.
    """

    def __init__(self, mode: IdMode) -> None:
        self.mode = mode
        self.seen: dict[str, tuple[str, int]] = {}
        self.hashes = array("q")

    def add(self, value: str, path: str, line: int) -> tuple[str, int] | None:
        """Record ``value``; return where it was first seen if that is known now."""
        if self.mode == "exact":
            first = self.seen.get(value)
            if first is None:
                self.seen[value] = (path, line)
            return first
        if self.mode == "hashes":
            self.hashes.append(_id_hash(value))
        return None

    def repeated_hashes(self) -> set[int]:
        import numpy as np

        if len(self.hashes) < 2:
            return set()
        values = np.sort(np.frombuffer(self.hashes, dtype=np.int64))
        repeated = values[1:][values[1:] == values[:-1]]
        return {int(v) for v in np.unique(repeated)}


class RecordChecker:
    """Checks records one at a time; keeps only ids and the current document's text."""

    def __init__(self, codebook: Codebook | None, ids: IdMode = "exact") -> None:
        self.codebook = codebook
        self.sentence_ids = _IdIndex(ids)
        self.document_ids = _IdIndex(ids)
        self.current_doc: tuple[str, str] | None = None  # (doc_id, text)
        if codebook is not None:
            self.dimensions: dict[str, tuple[str, ...]] | None = {
                d.id: d.label_ids for d in codebook.dimensions
            }
            self.label_sets = {d: set(ids) for d, ids in self.dimensions.items()}
        else:
            self.dimensions = None
            self.label_sets = {}

    def check(self, data: Any, path: str, line: int) -> tuple[Record | None, list[Problem]]:
        problems: list[Problem] = []

        def err(message: str, hint: str | None = None, code: str = "invalid") -> None:
            problems.append(Problem(path, line, message, hint=hint, code=code))

        def warn(message: str, hint: str | None = None, code: str = "invalid") -> None:
            problems.append(Problem(path, line, message, hint, severity="warning", code=code))

        if not isinstance(data, dict):
            err(f"a record must be a JSON object, got {_json_type(data)}", code="type")
            return None, problems
        kind = data.get("type", "sentence")
        if kind not in RECORD_TYPES:
            err(f"'type' must be one of {', '.join(RECORD_TYPES)}, got {kind!r}", code="type")
            return None, problems
        allowed = SENTENCE_FIELDS if kind == "sentence" else DOCUMENT_FIELDS

        # Identity fields.
        required = ("id", "doc_id", "text") if kind == "sentence" else ("doc_id",)
        for key in required:
            if key not in data:
                err(f"missing required field '{key}'", hint=f'add "{key}": ...', code="missing")
            elif not isinstance(data[key], str):
                err(f"'{key}' must be a string, got {_json_type(data[key])}", code="type")
            elif key != "text" and not data[key].strip():
                err(f"'{key}' is empty", code="empty")
        if kind == "sentence" and isinstance(data.get("text"), str) and not data["text"].strip():
            err("empty text", hint="remove the record or restore its sentence", code="empty-text")

        for key in ("title", "annotator", "note") + (("text",) if kind == "document" else ()):
            if key in data and not isinstance(data[key], str):
                err(f"'{key}' must be a string, got {_json_type(data[key])}", code="type")
        if "meta" in data and not isinstance(data["meta"], dict):
            err(f"'meta' must be an object, got {_json_type(data['meta'])}", code="type")
        if "review" in data and not isinstance(data["review"], dict):
            err(f"'review' must be an object, got {_json_type(data['review'])}", code="type")
        status = data.get("status", "done")
        if status not in STATUSES:
            err(
                f"'status' must be one of {', '.join(STATUSES)}, got {status!r}"
                + _dym(status, STATUSES),
                code="status",
            )
        split = data.get("split")
        if split is not None and split not in SPLITS:
            err(
                f"'split' must be one of {', '.join(SPLITS)}, got {split!r}" + _dym(split, SPLITS),
                code="split",
            )

        # Label dimensions, and unknown fields.
        dims_here: list[str] = []
        for key, value in data.items():
            if key in allowed:
                continue
            if key in RESERVED_FIELDS:
                err(f"field '{key}' is not allowed on a {kind} record", code="unknown-field")
                continue
            if self.dimensions is not None and key not in self.dimensions:
                choices = list(allowed) + list(self.dimensions)
                err(
                    f"unknown field '{key}'" + _dym(key, choices),
                    hint=f"label dimensions of the codebook: {', '.join(self.dimensions)}",
                    code="unknown-field",
                )
                continue
            if self.dimensions is None and not isinstance(value, list):
                err(
                    f"unknown field '{key}'" + _dym(key, allowed),
                    hint="label dimensions are lists of label ids",
                    code="unknown-field",
                )
                continue
            dims_here.append(key)
            self._check_labels(key, value, status, err, warn)
        if self.dimensions is not None and kind == "sentence" and status == "done":
            for dim in self.dimensions:
                if dim not in data:
                    err(
                        f"missing label list '{dim}'",
                        hint=f'add "{dim}": [] when no label applies',
                        code="missing",
                    )
        if "suggested" in data:
            self._check_suggested(data["suggested"], err)

        if kind == "sentence":
            self._check_position(data, err)
        ok = not any(p.severity == "error" for p in problems)
        record: Record | None = None
        if kind == "sentence":
            sid = data.get("id")
            if isinstance(sid, str) and sid:
                first = self.sentence_ids.add(sid, path, line)
                if first is not None:
                    problems.append(_duplicate("sentence", sid, path, line, first))
                    ok = False
            if ok:
                record = Sentence.from_dict(data)
        else:
            doc_id = data.get("doc_id")
            if isinstance(doc_id, str) and doc_id:
                first = self.document_ids.add(doc_id, path, line)
                if first is not None:
                    problems.append(_duplicate("document", doc_id, path, line, first))
                    ok = False
                text = data.get("text")
                self.current_doc = (doc_id, text) if isinstance(text, str) else None
            if ok:
                record = Document.from_dict(data)
        if record is not None:
            record.source = (path, line)
        return record, problems

    def _check_labels(self, dim: str, value: Any, status: Any, err: Any, warn: Any) -> None:
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            err(f"'{dim}' must be a list of label ids (strings)", code="type")
            return
        if value and status == "todo":
            err(
                f"'{dim}' has labels on a 'todo' record",
                hint='set "status": "done" once annotated, or empty the list',
                code="labels-on-todo",
            )
        seen: set[str] = set()
        for label in value:
            if label in seen:
                warn(
                    f"label '{label}' listed twice in '{dim}'", hint="remove one", code="dup-label"
                )
            seen.add(label)
            if self.dimensions is None or label in self.label_sets[dim]:
                continue
            elsewhere = [d for d, ids in self.label_sets.items() if label in ids and d != dim]
            if elsewhere:
                err(
                    f"label '{label}' belongs to dimension '{elsewhere[0]}', not '{dim}'",
                    hint=f'move it to "{elsewhere[0]}"',
                    code="unknown-label",
                )
            else:
                err(
                    f"label '{label}' is not in the codebook's '{dim}'"
                    + _dym(label, self.dimensions[dim]),
                    code="unknown-label",
                )

    def _check_suggested(self, value: Any, err: Any) -> None:
        if not isinstance(value, dict) or not all(
            isinstance(scores, dict)
            and all(isinstance(k, str) and _is_number(v) for k, v in scores.items())
            for scores in value.values()
        ):
            err(
                "'suggested' must map a dimension to {label: score}",
                hint='e.g. "suggested": {"frames": {"multipolarity": 0.82}}',
                code="type",
            )

    def _check_position(self, data: dict[str, Any], err: Any) -> None:
        index = data.get("sent_index")
        if index is not None and not (_is_int(index) and index >= 0):
            err(f"'sent_index' must be a whole number >= 0, got {index!r}", code="type")
        start, end = data.get("start"), data.get("end")
        if start is None and end is None:
            return
        if start is None or end is None:
            err(
                "'start' and 'end' go together", hint="give both offsets or neither", code="offsets"
            )
            return
        if not (_is_int(start) and _is_int(end) and 0 <= start <= end):
            err(
                f"offsets must be whole numbers with 0 <= start <= end, got {start!r}, {end!r}",
                code="offsets",
            )
            return
        text = data.get("text")
        if not isinstance(text, str):
            return
        if end - start != len(text):
            err(
                f"offsets {start}:{end} span {end - start} characters but the text has {len(text)}",
                hint="fix start/end or re-import the document",
                code="offsets",
            )
            return
        if self.current_doc is not None and self.current_doc[0] == data.get("doc_id"):
            document = self.current_doc[1]
            if document[start:end] != text:
                found = document[start:end]
                err(
                    f"offsets {start}:{end} do not match the text: the document has "
                    f"{clip(found, 60)!r} there",
                    hint="fix start/end or re-import the document",
                    code="offsets",
                )


def _duplicate(kind: str, value: str, path: str, line: int, first: tuple[str, int]) -> Problem:
    """A repeated sentence id or document record (``kind``: ``sentence``/``document``)."""
    what, hint = (
        ("duplicate document record", "keep one document record per doc_id")
        if kind == "document"
        else ("duplicate id", "ids must be unique across the corpus")
    )
    where = "first at" if kind == "document" else "first used at"
    return Problem(
        path,
        line,
        f"{what} '{value}' ({where} {first[0]}:{first[1]})",
        hint=hint,
        code="duplicate-id",
    )


def _locate_duplicates(
    files: Sequence[Path], sentence_hashes: set[int], document_hashes: set[int]
) -> list[Problem]:
    """Second pass of :func:`validate`: name both places of each repeated id."""
    problems: list[Problem] = []
    first_sentence: dict[str, tuple[str, int]] = {}
    first_document: dict[str, tuple[str, int]] = {}
    for path in files:
        for number, line in decode_lines(path, []):
            data, problem = parse_line(line, str(path), number)
            if problem is not None or not isinstance(data, dict):
                continue
            is_document = data.get("type", "sentence") == "document"
            key = "doc_id" if is_document else "id"
            hashes = document_hashes if is_document else sentence_hashes
            firsts = first_document if is_document else first_sentence
            value = data.get(key)
            if not isinstance(value, str) or not value or _id_hash(value) not in hashes:
                continue
            first = firsts.setdefault(value, (str(path), number))
            if first != (str(path), number):
                kind = "document" if is_document else "sentence"
                problems.append(_duplicate(kind, value, str(path), number, first))
    return problems


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "an array"
    return "an object"


def _dym(word: Any, choices: Iterable[str]) -> str:
    if not isinstance(word, str):
        return ""
    match = did_you_mean(word, choices)
    return f" (did you mean '{match}'?)" if match else ""


def scan(
    paths: Sequence[str | Path], checker: RecordChecker
) -> Iterator[tuple[str | None, Record | None, list[Problem]]]:
    """Yield (record type or None, record or None when invalid, problems) per line."""
    for path in collect_files(paths):
        file_problems: list[Problem] = []
        for number, line in decode_lines(path, file_problems):
            if file_problems:
                yield None, None, list(file_problems)
                file_problems.clear()
            data, problem = parse_line(line, str(path), number)
            if problem is not None:
                yield None, None, [problem]
                continue
            kind = data.get("type", "sentence") if isinstance(data, dict) else None
            record, problems = checker.check(data, str(path), number)
            yield kind, record, problems
        if file_problems:
            yield None, None, list(file_problems)


def validate(paths: Sequence[str | Path], codebook: Codebook | None = None) -> ValidationReport:
    """Check annotation files and report every problem, not only the first.

    Parameters
    ----------
    paths
        JSONL files or folders (searched recursively for ``*.jsonl``).
    codebook
        When given, label dimensions and label ids are checked against it; without
        one, any list-valued field is taken as a label dimension.

    Returns
    -------
    ValidationReport
        Counts and the problems, each located by file and line.

    Raises
    ------
    InputNotFoundError
        When a path does not exist or a folder holds no JSONL file.

    Examples
    --------
    >>> import pathlib, tempfile
    >>> f = pathlib.Path(tempfile.mkdtemp()) / "a.jsonl"
    >>> _ = f.write_text('{"id": "s1", "doc_id": "d1", "text": ""}\\n')
    >>> [str(p).split(": ", 1)[1] for p in validate([f]).problems]
    ['error: empty text (remove the record or restore its sentence)']
    """
    paths_found = collect_files(paths)
    files = [str(p) for p in paths_found]
    report = ValidationReport(files=files)
    # Ids are kept as 8-byte hashes so that memory stays small on very large files;
    # repeated ones are located by a second pass, which runs only when there are any.
    checker = RecordChecker(codebook, ids="hashes")
    for kind, _record, problems in scan(paths, checker):
        report.problems.extend(problems)
        if kind == "sentence":
            report.sentences += 1
        elif kind == "document":
            report.documents += 1
    repeated = checker.sentence_ids.repeated_hashes(), checker.document_ids.repeated_hashes()
    if repeated[0] or repeated[1]:
        report.problems.extend(_locate_duplicates(paths_found, *repeated))
    order = {name: i for i, name in enumerate(files)}
    report.problems.sort(key=lambda p: (order.get(p.path, len(order)), p.line or 0))
    return report

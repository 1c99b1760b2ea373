"""Exporters: the annotation format into other tools' formats.

Each exporter is a module with a function named after the format that takes our
records and returns an :class:`ExportResult` (the items to write and counts);
``framing export <format> ...`` is a thin wrapper that writes them atomically.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from framing.files import write_text
from framing.format.annotations import (
    Document,
    Sentence,
    write_jsonl,
)
from framing.format.codebook import Codebook
from framing.format.records import labels_found

__all__ = ["ExportResult", "Written", "read_records", "write_json", "write_lines"]

Record = Sentence | Document


@dataclass
class ExportResult:
    """Items of the target format (JSON objects or text lines) and counts."""

    items: list[Any]
    counts: dict[str, Any] = field(default_factory=dict)

    def write_json(self, path: str | Path) -> int:
        """Write the items as one JSON array (Label Studio); return how many."""
        return write_json(path, self.items)

    def write_jsonl(self, path: str | Path) -> int:
        """Write the items as JSON lines (doccano, Prodigy); return how many."""
        return write_jsonl(path, self.items)

    def write_lines(self, path: str | Path) -> int:
        """Write the items as text lines (SemEval predictions); return how many."""
        return write_lines(path, self.items)


@dataclass
class Written:
    """What an export wrote: how many items of what kind, its counts, and other files."""

    written: int
    what: str
    counts: dict[str, Any] = field(default_factory=dict)
    also: list[str] = field(default_factory=list)


def read_records(paths: Sequence[str | Path], codebook: Codebook | None = None) -> list[Record]:
    """Read annotation files, or the JSONL that ``framing tag`` writes, in file order
    (:mod:`framing.exchange.exporters.tagged`; raises AnnotationError on bad records)."""
    from framing.exchange.exporters.tagged import read_any

    return read_any(paths, codebook)


def write_json(path: str | Path, items: Iterable[Any]) -> int:
    items = list(items)
    write_text(path, json.dumps(items, ensure_ascii=False, indent=2) + "\n")
    return len(items)


def write_lines(path: str | Path, lines: Iterable[str]) -> int:
    lines = list(lines)
    write_text(path, "".join(f"{line}\n" for line in lines))
    return len(lines)


def dimensions_of(records: Iterable[Record], codebook: Codebook | None) -> dict[str, list[str]]:
    """Label ids per dimension: the codebook's, or else those found in the records."""
    if codebook is not None:
        return {dim.id: list(dim.label_ids) for dim in codebook.dimensions}
    return labels_found(records, ())

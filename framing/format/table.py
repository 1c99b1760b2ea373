"""Articles from CSV/TSV files: one row per article, the other columns kept as ``meta``.

Used by ``framing tag`` and ``framing import`` for spreadsheet exports: the text is in
the column named by ``--text-column``, the id optionally in ``--id-column``, the title
optionally in ``--title-column`` (``framing tag`` tags it as the article's sentence 0),
and every other column is kept as a plain ``{column: value}`` dict of strings.
"""

from __future__ import annotations

import csv
import io
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from framing.errors import AnnotationError, UsageError
from framing.format.article import read_utf8

__all__ = ["TABLE_SUFFIXES", "TableArticle", "is_table", "read_table"]

TABLE_SUFFIXES = (".csv", ".tsv")


@dataclass(frozen=True)
class TableArticle:
    """One row: the article's id, text, other columns and the line it starts on."""

    doc_id: str
    text: str
    meta: dict[str, str] = field(default_factory=dict)
    line: int = 0
    title: str | None = None


def is_table(path: str | Path) -> bool:
    return Path(path).suffix.lower() in TABLE_SUFFIXES


def read_table(
    path: str | Path,
    text_column: str | None,
    id_column: str | None = None,
    title_column: str | None = None,
) -> Iterator[TableArticle]:
    """The rows of a CSV (``,``) or TSV (tab) file with a header row, as articles.

    The file and its header are checked when this is called; the rows are read as
    they are iterated.

    Raises
    ------
    UsageError
        When ``text_column`` is not given or not a column (the message lists the columns).
    AnnotationError
        When the file is not UTF-8 or not valid CSV, naming the file and line.
    """
    path = Path(path)
    text = read_utf8(path, "save the table as UTF-8 CSV").removeprefix("\ufeff")
    if "\x00" in text:
        raise AnnotationError(f"{path}: holds NUL bytes: a binary file, not a CSV table")
    csv.field_size_limit(sys.maxsize)  # an article can be longer than csv's 128 kB default
    delimiter = "\t" if path.suffix.lower() == ".tsv" else ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        header = next(reader, None)
    except csv.Error as exc:
        raise AnnotationError(f"{path}:1: not a valid CSV header ({exc})") from None
    if not header or not any(h.strip() for h in header):
        raise AnnotationError(f"{path}: empty table (the first row must name the columns)")
    columns = [h.strip() for h in header]
    shown = ", ".join(repr(c) for c in columns)
    if text_column is None:
        raise UsageError(
            f"{path}: a table needs --text-column to say which column holds the text "
            f"(columns: {shown})"
        )
    for name, option in (
        (text_column, "--text-column"),
        (id_column, "--id-column"),
        (title_column, "--title-column"),
    ):
        if name is not None and name not in columns:
            raise UsageError(f"{path}: {option} '{name}' is not a column (columns: {shown})")
    return _rows(path, reader, columns, columns.index(text_column), id_column, title_column)


def _rows(
    path: Path,
    reader: Any,
    columns: list[str],
    text_at: int,
    id_column: str | None,
    title_column: str | None = None,
) -> Iterator[TableArticle]:
    id_at = columns.index(id_column) if id_column is not None else None
    title_at = columns.index(title_column) if title_column is not None else None
    seen: set[str] = set()
    while True:
        line = reader.line_num + 1
        try:
            row = next(reader, None)
        except csv.Error as exc:
            raise AnnotationError(f"{path}:{line}: not valid CSV ({exc})") from None
        if row is None:
            return
        if not any(cell.strip() for cell in row):
            continue
        if len(row) != len(columns):
            raise AnnotationError(
                f"{path}:{line}: {len(row)} fields where the header has {len(columns)} "
                "(quote fields that hold the delimiter)"
            )
        doc_id = row[id_at].strip() if id_at is not None else f"{path.stem}:{line}"
        if not doc_id:
            raise AnnotationError(f"{path}:{line}: empty id in column '{id_column}'")
        if doc_id in seen:
            raise AnnotationError(f"{path}:{line}: id '{doc_id}' is repeated")
        seen.add(doc_id)
        meta = {
            name: value
            for i, (name, value) in enumerate(zip(columns, row, strict=True))
            if i not in (text_at, id_at, title_at)
        }
        title = row[title_at] if title_at is not None else None
        yield TableArticle(doc_id=doc_id, text=row[text_at], meta=meta, line=line, title=title)

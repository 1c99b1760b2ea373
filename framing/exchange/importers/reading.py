"""Reading an import's input files: text, lines, JSON items and JSON lines, each located by
file and line, with their problems added to a :class:`~.problems.RowProblems`.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from framing.errors import InputNotFoundError, UsageError
from framing.exchange.importers.problems import RowProblems
from framing.format.lines import collect_files

__all__ = [
    "article_id",
    "iter_json_items",
    "iter_jsonl",
    "iter_lines",
    "line_spans",
    "read_articles",
    "read_text",
    "require_dir",
    "require_file",
]

_ARTICLE = re.compile(r"^article(.+)\.txt$")


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


def article_id(path: Path) -> str | None:
    """The id in ``article<ID>.txt``, or None for other file names."""
    match = _ARTICLE.match(path.name)
    return match.group(1) if match else None


def read_articles(
    folder: Path, problems: RowProblems, what: str, *, unify_line_ends: bool = False
) -> dict[str, tuple[Path, str]]:
    """``{ID: (file, text)}`` of the ``article<ID>.txt`` files in ``folder`` (others ignored).

    With ``unify_line_ends``, CRLF and CR become LF.

    Raises
    ------
    UsageError
        When the folder holds no ``article<ID>.txt`` file.
    AnnotationError
        Naming every file that cannot be read as UTF-8 (``what`` says whose files).
    """
    texts: dict[str, tuple[Path, str]] = {}
    for file in collect_files([folder], suffix=".txt"):
        ident = article_id(file)
        if ident is None:
            continue
        text = read_text(file, problems)
        if text is not None:
            if unify_line_ends:
                text = text.replace("\r\n", "\n").replace("\r", "\n")
            texts[ident] = (file, text)
    if not texts and not problems:
        raise UsageError(f"{folder}: no article<ID>.txt file found")
    problems.raise_if_any(f"{what} in {folder}")
    return texts


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

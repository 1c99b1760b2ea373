"""Reading annotation files line by line: which files, their lines, each line's JSON.

Decoding problems (a byte order mark, invalid UTF-8, CRLF line ends, blank lines) are
reported as :class:`~framing.errors.Problem` s, located by file and line, not raised.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

from framing.errors import InputNotFoundError, Problem

__all__ = ["collect_files", "decode_lines", "parse_line"]


def collect_files(paths: Iterable[str | Path], *, suffix: str = ".jsonl") -> list[Path]:
    """Expand files and folders (recursively) into a sorted list of ``suffix`` files.

    Raises
    ------
    InputNotFoundError
        When a path does not exist or a folder holds no ``suffix`` file.
    """
    files: list[Path] = []
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            found = sorted(p for p in path.rglob(f"*{suffix}") if p.is_file())
            if not found:
                raise InputNotFoundError(f"{path}: folder holds no {suffix} file")
            files.extend(found)
        elif path.is_file() or str(raw) == "-":
            files.append(path)
        else:
            raise InputNotFoundError(f"{path}: no such file or folder")
    if not files:
        raise InputNotFoundError("no input files given")
    return files


@dataclass
class _FileState:
    path: str
    crlf_lines: int = 0
    first_crlf: int | None = None


def decode_lines(path: Path, problems: list[Problem]) -> Iterator[tuple[int, str]]:
    """Yield (line number, text) of non-blank lines, reporting encoding problems."""
    name = str(path)
    state = _FileState(name)
    try:
        handle: BinaryIO = open(path, "rb")  # noqa: SIM115 - closed in finally
    except OSError as exc:
        problems.append(Problem(name, None, f"cannot read file: {exc.strerror}", code="io"))
        return
    try:
        empty = True
        for number, raw in enumerate(handle, start=1):
            empty = False
            if number == 1 and raw.startswith(b"\xef\xbb\xbf"):
                problems.append(
                    Problem(
                        name,
                        1,
                        "file starts with a UTF-8 byte order mark (BOM)",
                        hint="save the file as UTF-8 without BOM",
                        code="bom",
                    )
                )
                raw = raw[3:]
            if raw.endswith(b"\r\n"):
                state.crlf_lines += 1
                if state.first_crlf is None:
                    state.first_crlf = number
                raw = raw[:-2]
            elif raw.endswith(b"\n"):
                raw = raw[:-1]
            try:
                line = raw.decode("utf-8")
            except UnicodeDecodeError as exc:
                problems.append(
                    Problem(
                        name,
                        number,
                        f"invalid UTF-8 byte 0x{raw[exc.start]:02x} at column {exc.start + 1}",
                        hint="re-encode the file as UTF-8",
                        code="encoding",
                    )
                )
                continue
            if not line.strip():
                problems.append(
                    Problem(
                        name,
                        number,
                        "blank line",
                        hint="remove it",
                        severity="warning",
                        code="blank-line",
                    )
                )
                continue
            yield number, line
        if empty:
            problems.append(
                Problem(
                    name,
                    None,
                    "file is empty",
                    hint="add records or remove the file",
                    code="empty-file",
                )
            )
    finally:
        handle.close()
    if state.crlf_lines:
        problems.append(
            Problem(
                name,
                state.first_crlf,
                f"Windows (CRLF) line ends on {state.crlf_lines} line(s); accepted",
                hint="save with LF line ends",
                severity="warning",
                code="crlf",
            )
        )


def parse_line(line: str, path: str, number: int) -> tuple[Any, Problem | None]:
    try:
        return json.loads(line), None
    except json.JSONDecodeError as exc:
        return None, Problem(
            path,
            number,
            f"invalid JSON: {exc.msg} at column {exc.colno}",
            hint="each line must be one complete JSON object",
            code="json",
        )
    except RecursionError:
        return None, Problem(path, number, "invalid JSON: nested too deeply", code="json")

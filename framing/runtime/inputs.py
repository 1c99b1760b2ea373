"""What tagging reads: files, folders, stdin and in-memory articles, as input items.

``framing tag`` takes ``.txt`` articles (first line + blank line = title), ``.jsonl``
files of articles (``text``, optional ``id``/``title``) and ``-`` for stdin; an input
that cannot be read becomes an :class:`InputFailure` in its place, so one bad line
does not stop a run.
"""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from itertools import chain
from pathlib import Path
from typing import IO, Any

import msgspec

from framing.errors import InputNotFoundError

__all__ = [
    "INPUT_SUFFIXES",
    "ArticleInput",
    "InputFailure",
    "InputItem",
    "article_batches",
    "as_article",
    "collect_inputs",
    "input_batches",
    "open_input",
]

INPUT_SUFFIXES = (".txt", ".jsonl")


_SURROGATE = re.compile("[\ud800-\udfff]")
#: Decodes a JSONL line as ``json.loads`` does, about twice as fast; where it refuses a
#: line, ``json.loads`` is asked (a test compares the two on awkward lines).
_decode_json = msgspec.json.Decoder().decode


@dataclass(frozen=True, slots=True)
class InputFailure:
    """An input that could not be tagged: where (file, file:line) and why."""

    source: str
    message: str

    def __str__(self) -> str:
        return f"{self.source}: {self.message}"


ArticleInput = str | tuple[str | None, str] | Mapping[str, Any]


def as_article(item: ArticleInput, position: int) -> tuple[str | None, str | None, str]:
    if isinstance(item, str):
        return None, None, item
    if isinstance(item, tuple) and len(item) == 2 and isinstance(item[1], str):
        return (None if item[0] is None else str(item[0])), None, item[1]
    if isinstance(item, Mapping):
        text = item.get("text")
        if not isinstance(text, str):
            raise TypeError(f"item {position}: a dict needs a 'text' string")
        doc_id = item.get("id", item.get("doc_id"))
        title = item.get("title")
        return (
            None if doc_id is None else str(doc_id),
            None if title is None else str(title),
            text,
        )
    raise TypeError(
        f"item {position}: expected a str, a (doc_id, text) pair or a dict with 'text', "
        f"got {type(item).__name__}"
    )


def article_batches(
    items: Iterable[ArticleInput], batch_size: int
) -> Iterator[list[tuple[str | None, str | None, str]]]:
    """Articles grouped so that a batch holds about ``batch_size`` sentences' worth of text."""
    # Sentences are not known before splitting; ~120 characters per news sentence.
    budget = batch_size * 120
    batch: list[tuple[str | None, str | None, str]] = []
    size = 0
    for position, item in enumerate(items):
        article = as_article(item, position)
        batch.append(article)
        size += len(article[2])
        if size >= budget:
            yield batch
            batch, size = [], 0
    if batch:
        yield batch


def collect_inputs(
    paths: Sequence[str | Path],
    *,
    suffixes: Sequence[str] = INPUT_SUFFIXES,
    stdin: bool = True,
    none_given: str = "no input given (give files, folders or - for stdin)",
) -> list[Path]:
    """Expand files and folders (recursively, the files with one of ``suffixes``);
    ``-`` is stdin when ``stdin`` is true.

    Raises
    ------
    InputNotFoundError
        When a path does not exist, a folder holds no file with one of ``suffixes``, or
        ``paths`` is empty (``none_given`` says what was expected).
    """
    kinds = " or ".join(suffixes)
    files: list[Path] = []
    for raw in paths:
        path = Path(raw)
        if stdin and str(raw) == "-":
            files.append(path)
        elif path.is_dir():
            found = sorted(
                p for p in path.rglob("*") if p.is_file() and p.suffix.lower() in suffixes
            )
            if not found:
                raise InputNotFoundError(f"{path}: folder holds no {kinds} file")
            files.extend(found)
        elif path.is_file():
            files.append(path)
        else:
            raise InputNotFoundError(f"{path}: no such file or folder")
    if not files:
        raise InputNotFoundError(none_given)
    return files


class _DecodeError(ValueError):
    def __init__(self, line: int, reason: str) -> None:
        super().__init__(reason)
        self.line = line
        self.reason = reason


def _decode(raw: bytes) -> str:
    from framing.format.article import normalise_text

    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise _DecodeError(
            line, f"invalid UTF-8 byte 0x{raw[exc.start]:02x} (re-encode the file as UTF-8)"
        ) from None
    return normalise_text(text)


#: (doc_id, title, text, line number, meta or None) of an article or a sentence, or a failure.
InputItem = tuple[str | None, str | None, str, int, dict[str, Any] | None] | InputFailure


def jsonl_items(lines: Iterable[bytes], source: str, start: int = 1) -> Iterator[InputItem]:
    """Records of a JSONL stream as ``(doc_id, title, text)``; bad lines as failures.

    ``start`` is the line number of the first of ``lines`` in ``source``.
    """
    stem = Path(source).stem if source != "<stdin>" else "stdin"
    for number, raw in enumerate(lines, start=start):
        if not raw or raw.isspace():  # blank (no copy of a long line to find out)
            continue
        where = f"{source}:{number}"
        loose = False  # decoded by json.loads, which lets lone surrogates in
        try:
            data = _decode_json(raw)
        except msgspec.DecodeError:
            loose = True
            # msgspec refuses a few things json takes (a byte order mark, NaN, 1e400, a
            # lone surrogate escape): json decides, and words the error, as before.
            try:
                data = json.loads(raw)
            except UnicodeDecodeError:
                yield InputFailure(where, "invalid UTF-8 (re-encode the file as UTF-8)")
                continue
            except ValueError as exc:
                yield InputFailure(where, f"not valid JSON ({exc.args[0] if exc.args else exc})")
                continue
        if not isinstance(data, dict):
            yield InputFailure(where, f"expected a JSON object, got {type(data).__name__}")
            continue
        text = data.get("text")
        if not isinstance(text, str):
            yield InputFailure(where, 'record has no \'text\' string (add "text": "...")')
            continue
        doc_id = data.get("id", data.get("doc_id"))
        title = data.get("title")
        meta = data.get("meta")
        if meta is not None:
            from framing.format.meta import MetadataError, check_meta

            try:
                meta = check_meta(meta)
            except MetadataError as exc:
                yield InputFailure(where, str(exc))
                continue
        item = (
            f"{stem}:{number}" if doc_id is None else str(doc_id),
            None if title is None else str(title),
            text,
            number,
            meta,
        )
        # Only a \uD800-\uDFFF escape can put a lone surrogate into a string, and msgspec
        # refuses one: only a line json.loads read needs the look (not every line's bytes).
        if loose and b"\\u" in raw and (b"\\ud" in raw or b"\\uD" in raw):
            bad = _lone_surrogate(item[:3])
            if bad is not None:
                yield InputFailure(
                    where,
                    f"a {bad} escape stands alone: it is half of a UTF-16 pair, not a "
                    "character (write the character itself, or both halves of the pair)",
                )
                continue
        yield item


def text_item(raw: bytes, source: str, doc_id: str) -> InputItem:
    """The article of a ``.txt`` input (first line + blank line = title), or its failure."""
    from framing.format.article import split_title

    try:
        text = _decode(raw)
    except _DecodeError as exc:
        return InputFailure(f"{source}:{exc.line}", exc.reason)
    title, body = split_title(text)
    return (doc_id, title, body, 1, None)


def _lone_surrogate(values: Iterable[str | None]) -> str | None:
    """The first lone surrogate in ``values`` as ``\\udXXX``, or None."""
    for value in values:
        found = _SURROGATE.search(value or "")
        if found is not None:
            return f"\\u{ord(found.group()):04x}"
    return None


def file_items(
    path: Path, stdin: IO[bytes] | None, one_per_line: bool, doc_id: str
) -> Iterator[InputItem]:
    """The articles (or sentences, with ``one_per_line``) of one input."""
    is_stdin = str(path) == "-"
    source = "<stdin>" if is_stdin else str(path)
    # A file is closed in the finally below, also when the consumer stops early.
    stream, head, is_jsonl = open_input(path, stdin)
    try:
        lines: Iterable[bytes] = chain([head], stream) if is_stdin else stream
        if is_jsonl:
            yield from jsonl_items(lines, source)
            return
        if one_per_line:
            for number, raw in enumerate(lines, start=1):
                try:
                    line = _decode(raw).rstrip("\n")
                except _DecodeError as exc:
                    yield InputFailure(f"{source}:{number}", exc.reason)
                    continue
                yield (str(number), None, line, number, None)
            return
        yield text_item(head + stream.read(), source, doc_id)
    finally:
        if not is_stdin:
            stream.close()


def doc_ids(files: Sequence[Path]) -> list[str]:
    """The ``doc_id`` of each ``.txt`` input: its file stem, ``-2``, ``-3``... when repeated."""
    ids: list[str] = []
    seen: set[str] = set()
    for file in files:
        base = "stdin" if str(file) == "-" else file.stem or "doc"
        doc_id, n = base, 1
        while doc_id in seen:
            n += 1
            doc_id = f"{base}-{n}"
        seen.add(doc_id)
        ids.append(doc_id)
    return ids


def input_batches(
    paths: Sequence[str | Path],
    one_per_line: bool,
    batch_size: int,
    stdin: IO[bytes] | None,
    on_file: Any,
    ids: Sequence[str] | None = None,
) -> Iterator[list[InputItem]]:
    """The inputs of :func:`tag`, in batches of about ``batch_size`` sentences.

    ``ids`` are the ``doc_id`` of ``.txt`` files, one per path (default:
    :func:`doc_ids` of these paths; a shard of a larger run passes the run's).
    """
    files = collect_inputs(paths)
    given = doc_ids(files) if ids is None else list(ids)

    def items() -> Iterator[InputItem]:
        for file, doc_id in zip(files, given, strict=True):
            if on_file is not None:
                on_file(file)
            try:
                yield from file_items(file, stdin, one_per_line, doc_id)
            except OSError as exc:
                yield InputFailure(str(file), exc.strerror or str(exc))

    stream = items()
    budget = batch_size * (1 if one_per_line else 120)
    while True:
        batch: list[InputItem] = []
        size = 0
        for item in stream:
            batch.append(item)
            size += 1 if one_per_line or isinstance(item, InputFailure) else len(item[2])
            if size >= budget:
                break
        if not batch:
            return
        yield batch


def open_input(path: Path, stdin: IO[bytes] | None) -> tuple[IO[bytes], bytes, bool]:
    """An input's stream, the bytes already read from it, and whether it is JSONL.

    stdin is JSONL when its first line starts with ``{``; a file when it ends in ``.jsonl``.
    """
    if str(path) == "-":
        stream = stdin if stdin is not None else sys.stdin.buffer
        head = stream.readline()  # peek at the first line
        return stream, head, head.lstrip().startswith(b"{")
    return open(path, "rb"), b"", path.suffix.lower() == ".jsonl"  # noqa: SIM115


def crashed_inputs(payload: tuple[Any, ...], reason: str) -> list[Any]:
    """Every input of a batch (``payload[0]``) whose worker process died, as a failure."""
    return [
        u if isinstance(u, InputFailure) else InputFailure(str(u[0] or f"line {u[3]}"), reason)
        for u in payload[0]
    ]

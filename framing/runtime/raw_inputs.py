"""Inputs read but not parsed: batches of bytes, or of where the bytes are, for workers.

With several worker processes (``framing tag --jobs``, sharded output) the main process
only cuts the inputs into batches of about ``batch_size`` sentences' worth of bytes: whole
``.txt`` articles and whole lines of JSONL inputs, given as their bytes or, with
``by_reference``, as :class:`FileSlice` (where the bytes are) for each worker to read
itself.  :func:`raw_items` parses a batch into the input items of
:mod:`framing.runtime.inputs`.  One loop (:func:`_line_blocks`) cuts a JSONL stream at
line ends for every reader here.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from framing.runtime.inputs import (
    InputFailure,
    InputItem,
    collect_inputs,
    crashed_inputs,
    doc_ids,
    jsonl_items,
    open_input,
    text_item,
)

__all__ = [
    "FileSlice",
    "RawInput",
    "crashed_raw",
    "line_ranges",
    "raw_batches",
    "raw_items",
    "slice_batches",
]

#: An input read but not parsed: ``(source, doc_id, first line number, bytes, is_jsonl)``;
#: the bytes are a whole ``.txt`` article or whole lines of a JSONL input.
RawInput = tuple[str, str, int, bytes, bool]


@dataclass(frozen=True, slots=True)
class FileSlice:
    """An input to be read by the process that parses it: bytes ``start`` to ``end``
    (``end`` None: to the end of the file) of the file ``source``, a whole ``.txt``
    article or whole lines of a JSONL input, the first of them line ``line``."""

    source: str
    doc_id: str
    line: int
    start: int
    end: int | None
    is_jsonl: bool

    def read(self) -> RawInput:
        """The slice's bytes, as :func:`raw_batches` gives them without ``by_reference``.

        Raises
        ------
        OSError
            When the file cannot be read.
        """
        with open(self.source, "rb") as stream:
            stream.seek(self.start)
            data = stream.read() if self.end is None else stream.read(self.end - self.start)
        return (self.source, self.doc_id, self.line, data, self.is_jsonl)


class _Batcher:
    """Inputs grouped into batches of about ``batch_size`` sentences' worth of bytes."""

    def __init__(self, batch_size: int) -> None:
        self.budget = batch_size * 120  # bytes: ~120 per news sentence, as in input_batches
        self.batch: list[RawInput | FileSlice | InputFailure] = []
        self.size = 0

    def room(self) -> int:
        """Bytes the current batch still takes (at least 1)."""
        return max(self.budget - self.size, 1)

    def add(
        self, piece: RawInput | FileSlice | InputFailure, size: int
    ) -> list[list[RawInput | FileSlice | InputFailure]]:
        """Add ``piece`` (``size`` bytes); the batch it filled, if it did, to hand out."""
        self.batch.append(piece)
        self.size += size
        if self.size < self.budget:
            return []
        full, self.batch, self.size = self.batch, [], 0
        return [full]

    def rest(self) -> list[list[RawInput | FileSlice | InputFailure]]:
        """The last batch, unless it is empty."""
        return [self.batch] if self.batch else []


def _line_blocks(
    stream: IO[bytes], room: Any, head: bytes = b"", left: int | None = None
) -> Iterator[tuple[bytes, ...]]:
    """The whole lines of ``stream`` in blocks of about ``room()`` bytes (asked again for
    each block, after the previous one was taken): ``head`` (bytes already read) first,
    at most ``left`` bytes from the stream (None: to its end).  A block comes as the
    bytes read and, when they end inside a line, the rest of that line: joined only by
    a reader that keeps the bytes (one that only counts lines copies nothing)."""
    while left is None or left > 0:
        want = room()
        block = head + stream.read(want if left is None else min(want, left))
        head = b""
        if not block:
            return
        if block.endswith(b"\n") or (left is not None and len(block) >= left):
            parts: tuple[bytes, ...] = (block,)
        else:
            parts = (block, stream.readline(-1 if left is None else left - len(block)))
        if left is not None:
            left -= sum(map(len, parts))
        yield parts


def _jsonl_pieces(
    batches: _Batcher,
    stream: IO[bytes],
    where: FileSlice,
    head: bytes = b"",
    by_reference: bool = False,
) -> Iterator[list[RawInput | FileSlice | InputFailure]]:
    """The lines of a JSONL input from ``where.start`` (the stream is there) to
    ``where.end`` added to ``batches`` in blocks: as bytes, or with ``by_reference`` as
    :class:`FileSlice` (then they are read here only to count lines); the batches they fill."""
    line, offset = where.line, where.start
    left = None if where.end is None else where.end - where.start
    source, doc_id = where.source, where.doc_id
    for parts in _line_blocks(stream, batches.room, head, left):
        size = sum(map(len, parts))
        piece: RawInput | FileSlice
        if by_reference:
            piece = FileSlice(source, doc_id, line, offset, offset + size, True)
        else:
            piece = (source, doc_id, line, b"".join(parts), True)
        line += sum(p.count(b"\n") for p in parts)
        offset += size
        yield from batches.add(piece, size)


def raw_batches(
    paths: Sequence[str | Path],
    batch_size: int,
    stdin: IO[bytes] | None,
    on_file: Any,
    ids: Sequence[str] | None = None,
    *,
    by_reference: bool = False,
) -> Iterator[list[RawInput | FileSlice | InputFailure]]:
    """The article inputs of :func:`input_batches`, read but not parsed (:func:`raw_items`
    parses them), in batches of about ``batch_size`` sentences' worth of bytes.

    Reading is all the work done here: with several worker processes the parsing is
    theirs (``framing tag --jobs``).  A JSONL input is cut at line ends.  With
    ``by_reference``, files are not read here but given as :class:`FileSlice` (where
    their bytes are) for the workers to read themselves: only a JSONL input is read
    here, to find line ends and count lines.  stdin is always read here.
    """
    files = collect_inputs(paths)
    given = doc_ids(files) if ids is None else list(ids)
    batches = _Batcher(batch_size)
    for file, doc_id in zip(files, given, strict=True):
        if on_file is not None:
            on_file(file)
        is_stdin = str(file) == "-"
        source = "<stdin>" if is_stdin else str(file)
        whole = FileSlice(source, doc_id, 1, 0, None, False)
        try:
            if by_reference and not is_stdin and file.suffix.lower() != ".jsonl":
                yield from batches.add(whole, file.stat().st_size)
                continue
            stream, head, is_jsonl = open_input(file, stdin)
            try:
                if is_jsonl:
                    reference = by_reference and not is_stdin
                    yield from _jsonl_pieces(batches, stream, whole, head, reference)
                else:
                    data = head + stream.read()
                    yield from batches.add((source, doc_id, 1, data, False), len(data))
            finally:
                if not is_stdin:
                    stream.close()
        except OSError as exc:
            yield from batches.add(InputFailure(source, exc.strerror or str(exc)), 1)
    yield from batches.rest()


def slice_batches(
    slices: Sequence[FileSlice], batch_size: int
) -> Iterator[list[RawInput | FileSlice | InputFailure]]:
    """The inputs of ``slices`` read, in batches of about ``batch_size`` sentences' worth
    of bytes as :func:`raw_batches` makes them: a JSONL slice is read in blocks of whole
    lines, so one large slice (a shard of a big file) never sits in memory whole."""
    batches = _Batcher(batch_size)
    for piece in slices:
        try:
            if not piece.is_jsonl:
                data = piece.read()
                yield from batches.add(data, len(data[3]))
                continue
            with open(piece.source, "rb") as stream:
                stream.seek(piece.start)
                yield from _jsonl_pieces(batches, stream, piece)
        except OSError as exc:
            yield from batches.add(InputFailure(piece.source, exc.strerror or str(exc)), 1)
    yield from batches.rest()


def line_ranges(path: Path, budget: int) -> list[tuple[int, int, int]]:
    """A JSONL file cut at line ends into pieces of about ``budget`` bytes:
    ``(start, end, first line number)`` of each.

    Raises
    ------
    OSError
        When the file cannot be read.
    """
    ranges = []
    start, line = 0, 1
    with open(path, "rb") as stream:
        for parts in _line_blocks(stream, lambda: max(budget, 1)):
            size = sum(map(len, parts))
            ranges.append((start, start + size, line))
            start += size
            line += sum(p.count(b"\n") for p in parts)
    return ranges


def raw_items(batch: Iterable[RawInput | FileSlice | InputFailure]) -> Iterator[InputItem]:
    """The articles (and failures) of a batch of :func:`raw_batches`, in order; the
    slices of files are read here (a file that cannot be read is a failure)."""
    for piece in batch:
        if isinstance(piece, InputFailure):
            yield piece
            continue
        if isinstance(piece, FileSlice):
            where = piece.source
            try:
                piece = piece.read()
            except OSError as exc:
                yield InputFailure(where, exc.strerror or str(exc))
                continue
        source, doc_id, first, data, is_jsonl = piece
        if is_jsonl:
            yield from jsonl_items(data.split(b"\n"), source, first)
        else:
            yield text_item(data, source, doc_id)


def crashed_raw(payload: tuple[Any, ...], reason: str) -> list[Any]:
    """Every input of a raw batch (``payload[0]``) whose worker process died, as a failure."""
    return crashed_inputs((list(raw_items(payload[0])),), reason)

"""Growable and ragged integer arrays, a numpy hash table, strings packed as arrays and
the word cache.

The building blocks of the compiled TF-IDF scorer's numpy path
(:mod:`framing.runtime.tfidf_scoring`): they keep per-word data for a stream of
batches without Python loops per n-gram.  :class:`IntTable` and :class:`PackedStrings`
are also how a model folder stores its lookup tables and vocabularies
(:mod:`framing.runtime.compiled`), so that loading one builds nothing.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from functools import cached_property
from itertools import chain, repeat
from typing import Any

import numpy as np

from framing.errors import ModelError
from framing.runtime import _native

__all__ = [
    "Growing",
    "Ragged",
    "IntTable",
    "PackedStrings",
    "WordIds",
    "Batch",
    "add_column_segments",
    "run_starts",
    "runs",
    "new_word_ids",
]


class WordIds(dict[str, int]):
    """Whitespace-separated word -> word id; a miss queues the word for analysis.

    Used as ``map(word_ids.__getitem__, words)``, which stays in C for known words.
    """

    def __init__(self) -> None:
        super().__init__()
        self.pending: list[str] = []

    def __missing__(self, word: str) -> int:
        uid = len(self)
        self[word] = uid
        self.pending.append(word)
        return uid


def new_word_ids() -> Any:
    """An empty word cache: the compiled ``WordTable`` when there is one, else ``WordIds``."""
    if _native.speedups is None:
        return WordIds()
    return _native.speedups.WordTable(seed=int.from_bytes(os.urandom(8), "little"))


class Growing:
    """An array that grows along its first axis with amortised (doubling) appends.

    ``order="F"`` stores a 2-D array by column, so that ``view.T`` has contiguous rows
    (what :func:`add_column_segments` reads).
    """

    def __init__(self, shape: tuple[int, ...] = (), dtype: Any = np.float64, order: str = "C"):
        self.order = order
        self.data = np.zeros((64, *shape), dtype=dtype, order=order)  # type: ignore[call-overload]
        self.size = 0

    @property
    def view(self) -> np.ndarray:
        return self.data[: self.size]

    def extend(self, values: np.ndarray) -> None:
        need = self.size + len(values)
        if need > len(self.data):
            bigger = np.zeros(
                (max(need, 2 * len(self.data)), *self.data.shape[1:]),
                self.data.dtype,
                order=self.order,  # type: ignore[call-overload]
            )
            bigger[: self.size] = self.data[: self.size]
            self.data = bigger
        self.data[self.size : need] = values
        self.size = need


class Ragged:
    """Append-only lists of integers per word, stored flat (CSR-like)."""

    def __init__(self, dtype: Any = np.int64) -> None:
        self._flat = Growing(dtype=dtype)
        self._start = Growing(dtype=np.int64)
        self._length = Growing(dtype=np.int64)
        self.flat = self._flat.view
        self.start = self.length = np.zeros(0, dtype=np.int64)

    def extend(self, lists: list[list[int]]) -> None:
        lens = np.fromiter(map(len, lists), np.int64, len(lists))
        flat = np.fromiter(chain.from_iterable(lists), self._flat.data.dtype, int(lens.sum()))
        self.extend_flat(flat, lens)

    def extend_looked_up(self, lists: list[list[str]], ids: dict[str, int]) -> None:
        """Append lists of strings as their ids in ``ids`` (-1 for a string not in it);
        the lookups run in C (``map`` over ``dict.get``), not in a Python loop per item."""
        lens = np.fromiter(map(len, lists), np.int64, len(lists))
        items = chain.from_iterable(lists)
        flat = np.fromiter(map(ids.get, items, repeat(-1)), self._flat.data.dtype, int(lens.sum()))
        self.extend_flat(flat, lens)

    def extend_flat(self, flat: np.ndarray, lens: np.ndarray) -> None:
        """Append lists given flat, with their lengths."""
        starts = np.cumsum(lens) - lens
        self._start.extend(starts + self._flat.size)
        self._length.extend(lens)
        self._flat.extend(flat)
        self.flat, self.start, self.length = self._flat.view, self._start.view, self._length.view

    def take(self, uids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The lists of ``uids`` (int32) concatenated: where each begins (``len(uids) + 1``
        entries, from 0) and the items; by the compiled kernel when it is built (the same
        arrays, in one pass)."""
        if _native.speedups is not None and self.flat.dtype == np.int64:
            raw_ptr, raw_items = _native.speedups.ragged_take(
                self.start, self.length, self.flat, np.ascontiguousarray(uids, dtype=np.int32)
            )
            return np.frombuffer(raw_ptr, dtype=np.int64), np.frombuffer(raw_items, np.int64)
        lens = self.length[uids]
        ptr = np.zeros(len(uids) + 1, dtype=np.int64)
        np.cumsum(lens, out=ptr[1:])
        idx = np.repeat(self.start[uids] - ptr[:-1], lens)
        idx += np.arange(int(ptr[-1]))
        return ptr, self.flat[idx]

    def gather(self, uids: np.ndarray, udoc: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The concatenated lists of ``uids`` and the document of each item."""
        ptr, items = self.take(uids)
        if not len(items):
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
        return items, np.repeat(udoc, np.diff(ptr))

    def keys(self, uids: np.ndarray, udoc: np.ndarray, width: int) -> np.ndarray | None:
        """``doc * width + item`` for the concatenated lists of ``uids``, or None if empty.

        uint32 when the keys fit (about twice as fast to sort), else int64.
        """
        ptr, taken = self.take(uids)
        if not len(taken):
            return None
        dtype: type[np.integer[Any]] = (
            np.uint32 if (int(udoc[-1]) + 1) * width < 2**32 else np.int64
        )
        # Items are never negative: a signed array of the same width is reinterpreted.
        same = taken.dtype.itemsize == np.dtype(dtype).itemsize
        keys: np.ndarray = taken.view(dtype) if same else taken.astype(dtype)
        keys += np.repeat((udoc * width).astype(dtype), np.diff(ptr))
        return keys


def run_starts(keys: np.ndarray) -> np.ndarray:
    """Where each run of equal values of ``keys`` starts (none when ``keys`` is empty)."""
    change = np.ones(len(keys), dtype=bool)
    np.not_equal(keys[1:], keys[:-1], out=change[1:])
    return np.flatnonzero(change)


def runs(keys: np.ndarray) -> tuple[list[int], list[int], list[int]]:
    """Runs of equal values in ``keys``: each run's value, start and end, as lists."""
    if not len(keys):
        return [], [], []
    starts = run_starts(keys)
    ends = np.append(starts[1:], len(keys))
    return keys[starts].tolist(), starts.tolist(), ends.tolist()


def add_column_segments(
    out: np.ndarray,
    columns: np.ndarray,
    index: np.ndarray,
    doc: np.ndarray,
    scale: np.ndarray | None = None,
) -> None:
    """Sums of runs of rows of a table stored by column, into ``out``:
    ``out[d] += (columns[:, index] * scale)[:, doc == d].sum(1)`` for ``doc`` ascending.

    ``columns`` is ``(width, n_rows)`` with contiguous rows (``table.T`` of a table in
    Fortran order): gathering from it and summing runs along its rows is several times
    as fast as gathering whole rows and summing runs down the columns.
    """
    if not len(doc):
        return
    bounds = run_starts(doc)
    values = np.take(columns, index, axis=1)
    if scale is not None:
        values *= scale
    out[doc[bounds]] += np.add.reduceat(values, bounds, axis=1).T


class IntTable:
    """A read-only hash table from int64 keys to int64 values, probed with numpy.

    Open addressing with linear probing at a load factor of 1/4, so almost every
    lookup is one vectorised gather (binary search needs ~15 scattered reads).
    """

    _MULT = np.uint64(0x9E3779B97F4A7C15)

    def __init__(self, keys: np.ndarray, values: np.ndarray) -> None:
        size = 16
        while size < 4 * len(keys):
            size *= 2
        self.mask = size - 1
        self.shift = np.uint64(64 - size.bit_length() + 1)
        self.keys = np.full(size, -1, dtype=np.int64)
        self.values = np.zeros(size, dtype=np.int64)
        todo = np.arange(len(keys))
        home = self._hash(keys)
        self.probes = 0
        while len(todo):
            pos = (home[todo] + self.probes) & self.mask
            free = self.keys[pos] == -1
            # Several keys may want the same free slot: the first of each wins.
            cand = todo[free]
            # the first of each wanted slot (not np.unique: it imports numpy.ma, 20 ms)
            wanted = pos[free]
            order = np.argsort(wanted, kind="stable")
            ranked = wanted[order]
            head = run_starts(ranked)
            slots, winners = ranked[head], cand[order[head]]
            self.keys[slots] = keys[winners]
            self.values[slots] = values[winners]
            placed = np.zeros(len(keys), dtype=bool)
            placed[winners] = True
            todo = todo[~placed[todo]]
            self.probes += 1

    @classmethod
    def from_arrays(
        cls, keys: np.ndarray, values: np.ndarray, probes: int, values_below: int
    ) -> IntTable:
        """A table stored by :meth:`arrays` (a model folder: untrusted), checked cheaply.

        Raises
        ------
        ValueError
            When the arrays cannot be such a table: a size that is not a power of two of
            at least 16, keys and values of different lengths or types, ``probes`` out of
            range, or a stored value outside ``[0, values_below)``.
        """
        size = len(keys)
        if (
            keys.ndim != 1
            or values.shape != keys.shape
            or keys.dtype != np.int64
            or values.dtype != np.int64
            or size < 16
            or size & (size - 1)
            or not 0 <= probes <= size
        ):
            raise ValueError(
                f"not a hash table: {keys.dtype}{keys.shape} keys, {values.dtype}{values.shape} "
                f"values, {probes} probes"
            )
        used = values[keys != -1]
        if len(used) and (int(used.min()) < 0 or int(used.max()) >= values_below):
            raise ValueError(f"hash table values outside [0, {values_below})")
        table = cls.__new__(cls)
        table.mask = size - 1
        table.shift = np.uint64(64 - size.bit_length() + 1)
        table.keys, table.values, table.probes = keys, values, int(probes)
        return table

    def arrays(self) -> tuple[np.ndarray, np.ndarray, int]:
        """What :meth:`from_arrays` takes back: keys, values and the number of probes."""
        return self.keys, self.values, self.probes

    def _hash(self, keys: np.ndarray) -> np.ndarray:
        mixed = keys.astype(np.uint64) * self._MULT
        return (mixed >> self.shift).astype(np.int64)

    def lookup(self, query: np.ndarray) -> np.ndarray:
        """The value of each key of ``query`` (keys are never negative), -1 for keys the
        table does not hold: by the compiled kernel when it is built, else by :meth:`get`."""
        query = np.ascontiguousarray(query, dtype=np.int64)
        if _native.speedups is not None:
            ids = np.empty(len(query), dtype=np.int64)
            _native.speedups.table_values(
                self.keys, self.values, self.probes, int(self.shift), query, ids
            )
            return ids
        ids = np.full(len(query), -1, dtype=np.int64)
        at, values = self.get(query, ordered=False)
        ids[at] = values
        return ids

    def get(self, query: np.ndarray, ordered: bool = True) -> tuple[np.ndarray, np.ndarray]:
        """Positions of ``query`` found in the table, and their values: in the order of
        ``query``, or with ``ordered=False`` in any order (no sort)."""
        found_at: list[np.ndarray] = []
        found_val: list[np.ndarray] = []
        todo = np.arange(len(query))
        home = self._hash(query)
        for probe in range(self.probes):
            if not len(todo):
                break
            # every query is still to do at the first probe: no gather of its homes
            pos = (home if probe == 0 else home[todo] + probe) & self.mask
            stored = self.keys[pos]
            hit = stored == (query if probe == 0 else query[todo])
            found_at.append(todo[hit])
            found_val.append(self.values[pos[hit]])
            todo = todo[~hit & (stored != -1)]
        if not found_at:
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
        at, values = np.concatenate(found_at), np.concatenate(found_val)
        if not ordered:
            return at, values
        order = np.argsort(at, kind="stable")
        return at[order], values[order]


class PackedStrings(Sequence[str]):
    """A list of strings kept as two arrays: their UTF-8 text joined, and where each
    ends in it (in code points).  How a model folder stores a vocabulary: it is read
    without parsing, and turned into Python strings only when they are asked for
    (explanations, the general scoring path), once.
    """

    def __init__(self, text: np.ndarray, ends: np.ndarray, source: str = "") -> None:
        """``source``: the file they come from, named when their text turns out damaged.

        Raises
        ------
        ValueError
            When the arrays cannot hold strings (checked without decoding them).
        """
        if text.ndim != 1 or text.dtype != np.uint8 or ends.ndim != 1 or ends.dtype != np.int64:
            raise ValueError("packed strings are uint8 text and int64 ends")
        if len(ends) and (int(ends[0]) < 0 or bool((ends[1:] < ends[:-1]).any())):
            raise ValueError("packed strings' ends decrease")
        if len(ends) and int(ends[-1]) > len(text):
            raise ValueError("packed strings end after their text")
        self.text, self.ends, self.source = text, ends, source
        self._list: list[str] | None = None

    @classmethod
    def pack(cls, strings: Sequence[str]) -> PackedStrings:
        lengths = np.fromiter(map(len, strings), np.int64, len(strings))
        raw = "".join(strings).encode("utf-8", "surrogatepass")
        return cls(np.frombuffer(raw, dtype=np.uint8), np.cumsum(lengths))

    @property
    def strings(self) -> list[str]:
        """The strings, decoded on first use.

        Raises
        ------
        ModelError
            When the text is not UTF-8 or does not end where the last string ends.
        """
        if self._list is None:
            try:
                text = self.text.tobytes().decode("utf-8", "surrogatepass")
            except UnicodeDecodeError as exc:
                raise ModelError(
                    f"{self.source}: strings that are not UTF-8 ({exc}); "
                    "copy the model folder again"
                ) from None
            ends = self.ends.tolist()
            if (ends[-1] if ends else 0) != len(text):
                raise ModelError(
                    f"{self.source}: {len(ends)} strings of {len(text)} characters "
                    "do not end where their text ends; copy the model folder again"
                )
            self._list = [text[a:b] for a, b in zip([0, *ends], ends, strict=False)]
        return self._list

    def __len__(self) -> int:
        return len(self.ends)

    def __getitem__(self, index: Any) -> Any:
        return self.strings[index]

    def __iter__(self) -> Iterator[str]:
        return iter(self.strings)

    def __reduce__(self) -> tuple[Any, ...]:
        return (PackedStrings, (np.array(self.text), np.array(self.ends), self.source))


@dataclass
class Batch:
    """Documents as word ids: ``uids[doc_ptr[d]:doc_ptr[d + 1]]`` is document d."""

    uids: np.ndarray  # int32
    doc_ptr: np.ndarray  # int64, n + 1

    @property
    def n(self) -> int:
        return len(self.doc_ptr) - 1

    @cached_property
    def udoc(self) -> np.ndarray:
        """The document of each entry of :attr:`uids` (int64); made when first asked for
        (the numpy path), never by the compiled loops, which read :attr:`doc_ptr`."""
        return np.repeat(np.arange(self.n), np.diff(self.doc_ptr))

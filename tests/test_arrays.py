"""framing.runtime.arrays: the numpy building blocks of the compiled scorer's numpy path."""

from __future__ import annotations

import numpy as np
import pytest

from framing.runtime import _native
from framing.runtime.arrays import Growing, IntTable, Ragged, add_column_segments


def _naive_segments(
    out: np.ndarray, table: np.ndarray, index: np.ndarray, doc: np.ndarray, scale: np.ndarray | None
) -> np.ndarray:
    expected = out.copy()
    for k, (row, d) in enumerate(zip(index.tolist(), doc.tolist(), strict=True)):
        expected[d] += table[row] * (1.0 if scale is None else scale[k])
    return expected


@pytest.mark.parametrize("seed", range(5))
@pytest.mark.parametrize("scaled", [False, True])
def test_add_column_segments_sums_the_rows_of_each_document(seed: int, scaled: bool) -> None:
    rng = np.random.default_rng(seed)
    table = rng.normal(size=(50, 7))
    n = int(rng.integers(1, 200))
    index = rng.integers(0, 50, n)
    doc = np.sort(rng.integers(0, 30, n))
    scale = rng.normal(size=n) if scaled else None
    out = rng.normal(size=(30, 7))
    expected = _naive_segments(out, table, index, doc, scale)
    add_column_segments(out, np.ascontiguousarray(table.T), index, doc, scale)
    np.testing.assert_allclose(out, expected, rtol=1e-12, atol=1e-12)


def test_add_column_segments_reads_a_growing_table_stored_by_column() -> None:
    rng = np.random.default_rng(7)
    rows = rng.normal(size=(300, 5))
    grown = Growing((5,), order="F")
    for lo in range(0, 300, 70):  # several reallocations
        grown.extend(rows[lo : lo + 70])
    assert np.array_equal(grown.view, rows)
    assert grown.view.T.strides[1] == grown.view.itemsize  # rows of .T are contiguous
    index = rng.integers(0, 300, 1000)
    doc = np.sort(rng.integers(0, 40, 1000))
    out = np.zeros((40, 5))
    add_column_segments(out, grown.view.T, index, doc)
    np.testing.assert_allclose(out, _naive_segments(np.zeros((40, 5)), rows, index, doc, None))
    before = out.copy()
    add_column_segments(out, grown.view.T, index[:0], doc[:0])  # nothing to add
    assert np.array_equal(out, before)


@pytest.mark.parametrize("width", [10, 2**40])
def test_ragged_keys_are_document_times_width_plus_item(width: int) -> None:
    lists = [[3, 1], [], [4, 1, 5], [9]]
    ragged = Ragged(np.int32)
    ragged.extend(lists)
    uids = np.array([2, 0, 3, 0])
    udoc = np.array([0, 0, 1, 2])
    keys = ragged.keys(uids, udoc, width)
    assert keys is not None
    expected = [d * width + item for u, d in zip(uids, udoc, strict=True) for item in lists[u]]
    assert keys.tolist() == expected
    assert keys.dtype == (np.uint32 if width == 10 else np.int64)
    assert ragged.keys(np.array([1]), np.array([0]), width) is None


@pytest.mark.parametrize("native", [False, True])
@pytest.mark.parametrize("n_keys", [0, 1, 40, 3000])
def test_int_table_lookup_gives_each_key_its_value_or_minus_one(
    native: bool, n_keys: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The compiled kernel's look-ups and numpy's agree, hits and misses alike (keys
    crowded into few homes make long probe runs)."""
    if native and _native.speedups is None:
        pytest.skip("the compiled module is not built")
    if not native:
        monkeypatch.setattr(_native, "speedups", None)
    rng = np.random.default_rng(n_keys)
    keys = rng.choice(10 * n_keys + 10, n_keys, replace=False).astype(np.int64) * 7
    values = rng.integers(0, 1000, n_keys)
    table = IntTable(keys, values)
    query = np.concatenate([keys[::-1], keys + 1, rng.integers(0, 2**62, 50)])
    want = dict(zip(keys.tolist(), values.tolist(), strict=True))
    expected = [want.get(k, -1) for k in query.tolist()]
    assert table.lookup(query).tolist() == expected
    if native:
        with pytest.raises(ValueError, match="not a hash table"):
            _native.speedups.table_values(table.keys[:-1], table.values[:-1], 1, 3, query, query)


@pytest.mark.parametrize("native", [False, True])
@pytest.mark.parametrize("n_lists", [0, 1, 50])
def test_ragged_take_joins_the_lists_of_each_uid_in_order(
    native: bool, n_lists: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The compiled kernel's join and numpy's give the lists of the uids, one after the
    other (repeats, empty lists and no uids at all included), and where each begins."""
    if native and _native.speedups is None:
        pytest.skip("the compiled module is not built")
    if not native:
        monkeypatch.setattr(_native, "speedups", None)
    rng = np.random.default_rng(n_lists)
    lists = [rng.integers(-1, 99, rng.integers(0, 4)).tolist() for _ in range(n_lists)]
    ragged = Ragged(np.int64)
    ragged.extend(lists[: n_lists // 2])
    ragged.extend(lists[n_lists // 2 :])
    for uids in ([], rng.integers(0, max(n_lists, 1), 200 if n_lists else 0)):
        uids = np.asarray(uids, dtype=np.int32)
        ptr, items = ragged.take(uids)
        joined = [lists[u] for u in uids.tolist()]
        assert items.dtype == ptr.dtype == np.int64
        assert items.tolist() == [x for one in joined for x in one]
        assert ptr.tolist() == np.cumsum([0, *map(len, joined)]).tolist()
    if native:
        bad = np.array([0, n_lists], dtype=np.int32)
        with pytest.raises(ValueError, match="outside the lists"):
            _native.speedups.ragged_take(ragged.start, ragged.length, ragged.flat, bad)

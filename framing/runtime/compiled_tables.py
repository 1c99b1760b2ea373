"""The lookup tables of a compiled model as named arrays (``compiled.npz``, layout 2).

Scoring looks n-grams up in tables built from a vectorizer's vocabulary: word n-grams
as integer keys in hash tables, character n-grams in an index of their code points
(:mod:`framing.runtime.tfidf_scoring`).  Building them from the vocabulary's strings
took most of the time of loading a model, at every start of every process; layout 2
of :mod:`framing.runtime.compiled` builds them once, when the model is saved, and
stores them as arrays beside the coefficients, with the vocabulary as
:class:`~framing.runtime.arrays.PackedStrings` instead of a JSON list.

:func:`store_tables` names the arrays of one vectorizer's tables and returns the
``compiled.json`` entry that lists them; :func:`read_tables` takes them back from a
model folder (untrusted: dtypes, shapes and the bounds of every stored id are checked,
so that a damaged folder raises instead of scoring out of bounds).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from framing.runtime.analyzers import NgramIndex
from framing.runtime.arrays import IntTable, PackedStrings

__all__ = ["store_strings", "read_strings", "store_tables", "read_tables"]


def store_strings(name: str, strings: Any, arrays: dict[str, np.ndarray]) -> str:
    """Add ``strings`` to ``arrays`` as ``<name>_text`` and ``<name>_ends``; returns ``name``."""
    packed = strings if isinstance(strings, PackedStrings) else PackedStrings.pack(list(strings))
    arrays[f"{name}_text"], arrays[f"{name}_ends"] = packed.text, packed.ends
    return name


def read_strings(name: str, arrays: Mapping[str, np.ndarray], source: str = "") -> PackedStrings:
    """The strings :func:`store_strings` stored as ``name`` (``source``: the file, named
    if they turn out damaged when first decoded)."""
    return PackedStrings(arrays[f"{name}_text"], arrays[f"{name}_ends"], source)


def _store_table(name: str, table: IntTable, arrays: dict[str, np.ndarray]) -> dict[str, Any]:
    keys, values, probes = table.arrays()
    arrays[f"{name}_keys"], arrays[f"{name}_values"] = keys, values
    return {"table": name, "probes": probes}


def _read_table(entry: Mapping[str, Any], arrays: Mapping[str, np.ndarray], n: int) -> IntTable:
    name = entry["table"]
    return IntTable.from_arrays(
        arrays[f"{name}_keys"], arrays[f"{name}_values"], entry["probes"], n
    )


def store_tables(
    v: int, tables: Mapping[str, Any], arrays: dict[str, np.ndarray]
) -> dict[str, Any]:
    """Add vectorizer ``v``'s lookup tables (what its scorer's ``tables()`` gives) to
    ``arrays``; returns the ``tables`` entry of its ``compiled.json`` vectorizer."""
    entry: dict[str, Any] = {}
    if "index" in tables:  # character n-grams
        index: NgramIndex = tables["index"]
        arrays[f"alphabet_{v}"] = index.alphabet
        entry["index"] = {
            "alphabet": f"alphabet_{v}",
            **_store_table(f"index_{v}", index.table, arrays),
        }
    if "unigram" in tables:  # word n-grams
        arrays[f"unigram_{v}"] = tables["unigram"]
        entry["words"] = {
            "tokens": store_strings(f"tokens_{v}", tables["tokens"], arrays),
            "unigram": f"unigram_{v}",
            "ngrams": {
                str(k): _store_table(f"ngrams_{v}_{k}", table, arrays)
                for k, table in sorted(tables["ngrams"].items())
            },
        }
    return entry


def read_tables(
    entry: Mapping[str, Any], arrays: Mapping[str, np.ndarray], n_features: int, source: str = ""
) -> dict[str, Any]:
    """The lookup tables that :func:`store_tables` listed in ``entry``, in the form
    :func:`framing.runtime.tfidf_scoring.make_vectorizer_scorer` takes.

    Raises
    ------
    KeyError, ValueError
        When an array is missing or cannot be such a table (the caller names the file).
    """
    tables: dict[str, Any] = {}
    if "index" in entry:
        index = entry["index"]
        table = _read_table(index, arrays, n_features)
        tables["index"] = NgramIndex.from_arrays(arrays[index["alphabet"]], table)
    if "words" in entry:
        words = entry["words"]
        tables["tokens"] = list(read_strings(words["tokens"], arrays, source))
        tables["unigram"] = arrays[words["unigram"]]
        tables["ngrams"] = {
            int(k): _read_table(t, arrays, n_features) for k, t in words["ngrams"].items()
        }
    return tables

# Types of the optional scoring kernel built from _speedups.c (see framing/runtime/_native.py).
from typing import Any

def unit_scores(
    doc_ptr: Any,
    uids: Any,
    unit_start: Any,
    unit_length: Any,
    unit_feats: Any,
    unit_rows: Any,
    unit_norm: Any,
    rows: Any,
    normw: Any,
    tf_mode: int,
    norm_mode: int,
    out: Any,
    sq: Any,
) -> None: ...
def feature_scores(
    doc_ptr: Any, feats: Any, rows: Any, normw: Any, tf_mode: int, norm_mode: int, out: Any, sq: Any
) -> None: ...
def word_scores(
    doc_ptr: Any,
    uids: Any,
    unit_start: Any,
    unit_length: Any,
    unit_tokens: Any,
    unigram: Any,
    table_keys: Any,
    table_values: Any,
    probes: int,
    shift: int,
    size: int,
    min_n: int,
    max_n: int,
    rows: Any,
    normw: Any,
    tf_mode: int,
    norm_mode: int,
    out: Any,
    sq: Any,
) -> None: ...
def table_values(
    table_keys: Any, table_values: Any, probes: int, shift: int, query: Any, out: Any
) -> None: ...
def word_counts(texts: list[str]) -> bytearray: ...

class WordTable:
    def __init__(self, seed: int = ...) -> None: ...
    def __len__(self) -> int: ...
    def lookup(self, docs: list[str]) -> tuple[bytes, bytes, list[str]]: ...

# Types of the optional compiled module built from _speedups.c (see framing/runtime/_native.py).
from collections.abc import Callable
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
def article_json(
    heads: list[str],
    bounds: Any,
    indexes: Any,
    starts: Any,
    ends: Any,
    texts: list[str],
    dims: list[tuple[Any, ...]],
    as_bytes: bool = ...,
) -> list[Any]: ...
def configure_segmenter(
    terminals: str,
    closers: str,
    line_breaks: str,
    bullets: str,
    no_start: str,
    list_marks: str,
    openers: str,
    dateline_match: Callable[[str, int], Any],
    speech_tag_match: Callable[[str, int], Any],
) -> None: ...
def sentence_spans(
    text: str, pos: int, start: int, abbreviations: dict[str, int]
) -> tuple[list[tuple[int, int]], int, int]: ...

class WordTable:
    def __init__(self, seed: int = ...) -> None: ...
    def __len__(self) -> int: ...
    def lookup(self, docs: list[str]) -> tuple[bytes, bytes, list[str]]: ...

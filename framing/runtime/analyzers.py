"""scikit-learn's text analyzers, reproduced character for character.

The compiled TF-IDF scorer (:mod:`framing.runtime.compiled`) must find exactly the
n-grams a fitted ``TfidfVectorizer`` finds, without importing scikit-learn: these
functions are written as scikit-learn writes ``_word_ngrams``, ``_char_wb_ngrams``
and ``_char_ngrams`` (lowercasing before accent stripping), and the tests compare
them with scikit-learn's on awkward Unicode.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import numpy as np

    from framing.runtime.compiled import VectorizerSpec

__all__ = [
    "ANALYZERS",
    "analyze",
    "preprocess",
    "ACCENT_STRIPPERS",
    "DEFAULT_TOKEN_PATTERN",
    "char_ngrams",
    "char_wb_counts",
    "char_wb_ngrams",
    "char_wb_ngrams_of",
    "strip_accents_ascii",
    "strip_accents_unicode",
    "word_ngrams",
]

ANALYZERS = ("word", "char", "char_wb")
DEFAULT_TOKEN_PATTERN = r"(?u)\b\w\w+\b"
_WHITE_SPACES = re.compile(r"\s\s+")


def strip_accents_unicode(s: str) -> str:
    """scikit-learn's ``strip_accents_unicode``, character for character."""
    try:
        s.encode("ASCII", errors="strict")
        return s
    except UnicodeEncodeError:
        normalized = unicodedata.normalize("NFKD", s)
        return "".join([c for c in normalized if not unicodedata.combining(c)])


def strip_accents_ascii(s: str) -> str:
    """scikit-learn's ``strip_accents_ascii``."""
    return unicodedata.normalize("NFKD", s).encode("ASCII", "ignore").decode("ASCII")


ACCENT_STRIPPERS: dict[str | None, Callable[[str], str] | None] = {
    None: None,
    "unicode": strip_accents_unicode,
    "ascii": strip_accents_ascii,
}


def char_wb_ngrams(word: str, min_n: int, max_n: int) -> list[str]:
    """The ``char_wb`` n-grams of one whitespace-free word, as scikit-learn makes them
    (:func:`char_wb_ngrams_of` of the one word).

    The word is padded with one space on each side; n-grams longer than the padded
    word are replaced by the padded word itself, counted once.

    Examples
    --------
    >>> char_wb_ngrams("to", 2, 5)
    [' t', 'to', 'o ', ' to', 'to ', ' to ']
    """
    return char_wb_ngrams_of([word], min_n, max_n)


def char_wb_ngrams_of(words: Sequence[str], min_n: int, max_n: int) -> list[str]:
    """The ``char_wb`` n-grams of whitespace-free words, word after word in one list
    (word ``k`` has :func:`char_wb_counts` ``[k]`` of them).

    For the padded word ``w``, ``n`` runs up to ``len(w)`` at most, where the only
    n-gram is ``w`` itself: that is scikit-learn's "a word shorter than ``n`` counts
    once", also when ``min_n`` is longer than the word.  One comprehension for all
    the words, without a call per word.
    """
    padded = [" " + w + " " for w in words]
    return [
        w[i : i + n]
        for w in padded
        for n in range(min(min_n, len(w)), min(max_n, len(w)) + 1)
        for i in range(len(w) - n + 1)
    ]


def char_wb_counts(words: Sequence[str], min_n: int, max_n: int) -> np.ndarray:
    """How many n-grams :func:`char_wb_ngrams_of` gives each word (int64), computed
    from the word lengths alone."""
    import numpy as np

    size = np.fromiter(map(len, words), np.int64, len(words)) + 2  # padded
    lo, hi = np.minimum(min_n, size), np.minimum(max_n, size)
    # sum over n in [lo, hi] of (size - n + 1)
    return (hi - lo + 1) * (size + 1) - (lo + hi) * (hi - lo + 1) // 2


def char_ngrams(text: str, min_n: int, max_n: int) -> list[str]:
    """The ``char`` n-grams of a preprocessed document (whitespace runs become one space)."""
    text = _WHITE_SPACES.sub(" ", text)
    size = len(text)
    return [
        text[i : i + n] for n in range(min_n, min(max_n + 1, size + 1)) for i in range(size - n + 1)
    ]


def word_ngrams(tokens: list[str], min_n: int, max_n: int) -> list[str]:
    """Word n-grams joined by a space, in scikit-learn's order."""
    grams = list(tokens) if min_n == 1 else []
    start = max(min_n, 2)
    for n in range(start, min(max_n + 1, len(tokens) + 1)):
        grams.extend(" ".join(tokens[i : i + n]) for i in range(len(tokens) - n + 1))
    return grams


def preprocess(spec: VectorizerSpec, texts: Sequence[str]) -> list[str]:
    """Lowercasing, then accent stripping, as the vectorizer does before analysis."""
    docs = list(map(str.lower, texts)) if spec.lowercase else list(texts)
    strip = ACCENT_STRIPPERS[spec.strip_accents]
    return list(map(strip, docs)) if strip is not None else docs


def analyze(spec: VectorizerSpec, docs: Sequence[str]) -> list[list[str]]:
    """The n-grams of preprocessed documents, one list per document, as the vectorizer
    makes them (the general path; scoring caches words where it can)."""
    min_n, max_n = spec.ngram_range
    if spec.analyzer == "word":
        tokenize = re.compile(spec.token_pattern or DEFAULT_TOKEN_PATTERN).findall
        stop = frozenset(spec.stop_words) if spec.stop_words is not None else None
        grams_per_doc = []
        for d in docs:
            toks = tokenize(d)
            if stop is not None:
                toks = [t for t in toks if t not in stop]
            grams_per_doc.append(word_ngrams(toks, min_n, max_n))
        return grams_per_doc
    if spec.analyzer == "char":
        return [char_ngrams(d, min_n, max_n) for d in docs]
    return [char_wb_ngrams_of(d.split(), min_n, max_n) for d in docs]

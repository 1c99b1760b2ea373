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
from functools import cached_property
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from framing.runtime.arrays import IntTable
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
    "char_wb_windows",
    "NgramIndex",
    "NewWords",
    "default_tokens",
    "strip_accents_ascii",
    "strip_accents_unicode",
    "word_ngrams",
]

ANALYZERS = ("word", "char", "char_wb")
DEFAULT_TOKEN_PATTERN = r"(?u)\b\w\w+\b"
_WHITE_SPACES = re.compile(r"\s\s+")
_DEFAULT_TOKENS = re.compile(DEFAULT_TOKEN_PATTERN).findall


class NewWords(list[str]):
    """Words a word table sees for the first time, handed to all who keep data per word:
    their tokens by the default pattern are found once, for the first who asks."""

    @cached_property
    def tokens(self) -> list[list[str]]:
        return list(map(_DEFAULT_TOKENS, self))


def default_tokens(words: list[str]) -> list[list[str]]:
    """The tokens of each word by :data:`DEFAULT_TOKEN_PATTERN` (those already found for
    :class:`NewWords`)."""
    return words.tokens if isinstance(words, NewWords) else list(map(_DEFAULT_TOKENS, words))


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
    (word ``k`` has :func:`char_wb_counts` ``[k]`` of them): the windows of
    :func:`char_wb_windows`, as strings."""
    text, starts, lengths = char_wb_windows(words, min_n, max_n)
    return [text[i : i + n] for i, n in zip(starts.tolist(), lengths.tolist(), strict=True)]


def char_wb_windows(
    words: Sequence[str], min_n: int, max_n: int
) -> tuple[str, np.ndarray, np.ndarray]:
    """The ``char_wb`` n-grams of whitespace-free words as windows of one text: the
    words padded with a space on each side and joined, and where each n-gram starts in
    it and how long it is (int64), word after word, shortest n-grams first, then by
    position.

    For the padded word ``w``, ``n`` runs up to ``len(w)`` at most, where the only
    n-gram is ``w`` itself: that is scikit-learn's "a word shorter than ``n`` counts
    once", also when ``min_n`` is longer than the word.  Computed with numpy from the
    word lengths, without a string per n-gram (:class:`NgramIndex` reads them so).
    """
    text = " " + "  ".join(words) + " " if words else ""
    size = np.fromiter(map(len, words), np.int64, len(words)) + 2  # padded
    first = np.cumsum(size) - size  # where each padded word starts in text
    lo, hi = np.minimum(min_n, size), np.minimum(max_n, size)
    blocks = hi - lo + 1  # the n-gram lengths of each word
    word = np.repeat(np.arange(len(words)), blocks)
    n = lo[word] + _ramps(blocks)
    count = size[word] - n + 1  # the n-grams of each (word, length)
    block = np.repeat(np.arange(len(n)), count)
    return text, first[word][block] + _ramps(count), n[block]


def _ramps(counts: np.ndarray) -> np.ndarray:
    """``0 .. c - 1`` for each ``c`` of ``counts``, one after the other."""
    total = int(counts.sum())
    return np.arange(total, dtype=np.int64) - np.repeat(np.cumsum(counts) - counts, counts)


class NgramIndex:
    """Character n-grams to ids (a vectorizer's vocabulary), looked up as windows of a
    text without making a string per n-gram.

    Each n-gram is read as a number whose digits are its characters' ranks in the
    alphabet of the vocabulary (1 up; a character outside it is a digit no n-gram of
    the vocabulary has, so a window holding one is unknown): distinct strings give
    distinct numbers, looked up in a hash table of the vocabulary's numbers.
    """

    def __init__(self, vocabulary: dict[str, int], alphabet: np.ndarray, longest: int) -> None:
        from framing.runtime.arrays import IntTable

        self.alphabet = alphabet  # code points, sorted
        self.base = len(alphabet) + 2
        grams = list(vocabulary)
        lengths = np.fromiter(map(len, grams), np.int64, len(grams))
        starts = np.cumsum(lengths) - lengths
        keys = self._numbers(_code_points("".join(grams)), starts, lengths, longest)
        self.table = IntTable(keys, np.fromiter(vocabulary.values(), np.int64, len(grams)))

    @classmethod
    def from_arrays(cls, alphabet: np.ndarray, table: IntTable) -> NgramIndex:
        """An index stored by a model folder: its alphabet and its table (see
        :meth:`IntTable.from_arrays <framing.runtime.arrays.IntTable.from_arrays>`).

        Raises
        ------
        ValueError
            When the alphabet is not sorted, distinct uint32 code points.
        """
        if (
            alphabet.ndim != 1
            or alphabet.dtype != np.uint32
            or (alphabet[1:] <= alphabet[:-1]).any()
        ):
            raise ValueError("an n-gram index's alphabet is not sorted distinct uint32 code points")
        index = cls.__new__(cls)
        index.alphabet, index.base, index.table = alphabet, len(alphabet) + 2, table
        return index

    @classmethod
    def build(cls, vocabulary: dict[str, int]) -> NgramIndex | None:
        """The index of ``vocabulary`` (n-gram -> id), or None when its n-grams as
        numbers would not fit in 63 bits (a very large alphabet or long n-grams)."""
        points = np.sort(_code_points("".join(vocabulary)))
        alphabet = points[np.r_[True, points[1:] != points[:-1]]] if len(points) else points
        longest = max(map(len, vocabulary), default=1)
        if (len(alphabet) + 2) ** longest >= 2**63:
            return None
        return cls(vocabulary, alphabet, longest)

    def lookup(
        self, text: str, starts: np.ndarray, lengths: np.ndarray, longest: int
    ) -> np.ndarray | None:
        """The id of each window (``starts``, ``lengths`` of at most ``longest``
        characters) of ``text``, -1 for those not in the vocabulary; None when such
        windows would not fit in 63 bits."""
        if self.base**longest >= 2**63:
            return None
        return self.table.lookup(self._numbers(_code_points(text), starts, lengths, longest))

    def _numbers(
        self, points: np.ndarray, starts: np.ndarray, lengths: np.ndarray, longest: int
    ) -> np.ndarray:
        """Each window of the text of code points ``points`` as a number."""
        if not len(starts):
            return np.zeros(0, dtype=np.int64)
        digits = self._digits(points)
        # prefix[n - 1, i]: the number of the n characters from i (windows stay in text)
        prefix = np.zeros((longest, len(digits)), dtype=np.int64)
        prefix[0] = digits
        for n in range(1, min(longest, len(digits))):
            step = digits[n:] * self.base**n
            prefix[n, : len(digits) - n] = prefix[n - 1, : len(digits) - n] + step
        return prefix[lengths - 1, starts]

    @cached_property
    def _digit_table(self) -> np.ndarray | None:
        """The digit of every code point up to the alphabet's largest, and ``base - 1``
        after it; None when that is 2**16 or more (a binary search is then cheaper)."""
        top = int(self.alphabet[-1]) if len(self.alphabet) else -1
        if top >= 2**16:
            return None
        table = np.full(top + 2, self.base - 1, dtype=np.int64)
        table[self.alphabet] = np.arange(1, len(self.alphabet) + 1)
        return table

    def _digits(self, points: np.ndarray) -> np.ndarray:
        """Each code point's digit: its rank in the alphabet + 1, or ``base - 1`` (a
        character no n-gram of the vocabulary has).  One gather from a table by code
        point when the alphabet's largest is below 2**16 (as in any alphabetic script),
        else a binary search in the alphabet."""
        table = self._digit_table
        if table is not None:
            return table[np.minimum(points, len(table) - 1)]
        rank = np.searchsorted(self.alphabet, points)
        rank[rank == len(self.alphabet)] = 0
        known = self.alphabet[rank] == points
        return np.where(known, rank + 1, self.base - 1).astype(np.int64)


def _code_points(text: str) -> np.ndarray:
    return np.frombuffer(text.encode("utf-32-le", "surrogatepass"), dtype=np.uint32)


def char_wb_counts(words: Sequence[str], min_n: int, max_n: int) -> np.ndarray:
    """How many n-grams :func:`char_wb_ngrams_of` gives each word (int64), computed
    from the word lengths alone."""
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

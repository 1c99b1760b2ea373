"""Out-of-distribution check: how unlike the training articles an article is.

A model's labels are only as good as the likeness of the text to what it learnt
from.  Each article gets a score, the share of its word n-grams (single words and
word pairs, lowercased) that never occur in the training articles, and is
*flagged* when the score is above a threshold calibrated at training time on
held-out articles: every training article in turn is scored against the n-grams
of all the others (leave one article out), and the threshold is a high quantile
of those scores (0.95 by default, so about 1 in 20 articles like the training
data is flagged too).

The score reads at most the first ``max_chars`` characters of an article (3,000,
about the median training article): it bounds the cost per article and keeps long
and short articles comparable.  Articles with fewer than ``min_ngrams`` n-grams are
never flagged (their share says little).

The model folder's ``ood.json`` holds the settings, the threshold, how it was
calibrated and the training words; ``ood.npz`` holds the word pairs as integer keys
(``first * n_words + second``, by the words' positions in ``ood.json``), sorted, so
that loading reads an array instead of parsing and splitting every pair (layout 2;
layout 1 kept every n-gram as a string in ``ood.json`` and still loads).  A model
without ``ood.json`` (trained before this check existed) tags as before and says so:
the article field is ``null``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from itertools import chain, repeat
from pathlib import Path
from typing import Any

import numpy as np

from framing.errors import ModelError
from framing.runtime.analyzers import DEFAULT_TOKEN_PATTERN, default_tokens
from framing.runtime.arrays import Batch, IntTable, Ragged, run_starts

__all__ = [
    "OOD_FILE",
    "OOD_ARRAYS",
    "OOD_VERSION",
    "OutOfDistribution",
    "OodCheck",
    "article_tokens",
    "ngrams_of",
    "load_ood",
    "touching_inside",
]

OOD_FILE = "ood.json"
#: The word pairs of layout 2, beside ``ood.json``.
OOD_ARRAYS = "ood.npz"
#: Version of the layout that is written (``ood.json`` and ``ood.npz``); 1 is still read.
OOD_VERSION = 2
#: Name of the score in ``ood.json``; a new measure gets a new name.
MEASURE = "unseen_word_ngrams.v1"
DEFAULT_MAX_CHARS = 3000
#: Up to this many possible pairs of known words (32 MB), pairs seen in training are a
#: bitmap; beyond, a hash table (slower to probe, smaller).
_MAX_BITMAP_BITS = 2**28
DEFAULT_MIN_NGRAMS = 20
_TOKEN = re.compile(DEFAULT_TOKEN_PATTERN)


def article_tokens(text: str, max_chars: int | None = DEFAULT_MAX_CHARS) -> list[str]:
    """The lowercased word tokens (two or more word characters) of an article's start."""
    if max_chars is not None:
        text = text[:max_chars]
    return _TOKEN.findall(text.lower())


def ngrams_of(tokens: Sequence[str]) -> list[str]:
    """Single words and word pairs (joined by a space), the n-grams the check counts."""
    return [*tokens, *(f"{a} {b}" for a, b in zip(tokens, tokens[1:], strict=False))]


@dataclass(frozen=True, slots=True)
class OutOfDistribution:
    """An article's out-of-distribution check.

    ``score`` is the share of its ``ngrams`` word n-grams never seen in training;
    ``flagged`` is true when it is above ``threshold`` (and the article has enough
    n-grams to say).
    """

    flagged: bool
    score: float
    threshold: float
    ngrams: int

    def to_dict(self) -> dict[str, Any]:
        return {
            "flagged": self.flagged,
            "score": self.score,
            "threshold": self.threshold,
            "ngrams": self.ngrams,
        }

    def warning(self) -> str:
        """One line for readers of a flagged article (table and HTML output)."""
        return (
            f"out of distribution: {self.score:.0%} of its word n-grams never occur in the "
            f"training articles (threshold {self.threshold:.0%}); its labels are less reliable"
        )


class _Words(dict[str, tuple[int, ...]]):
    """Lowercased whitespace-separated word -> its token ids (-1: unseen in training)."""

    def __init__(self, tokens: dict[str, int]) -> None:
        super().__init__()
        self.tokens = tokens

    def __missing__(self, word: str) -> tuple[int, ...]:
        get = self.tokens.get
        ids = tuple(get(t, -1) for t in _TOKEN.findall(word))
        if len(self) < 500_000:  # bounded: a stream of junk words must not grow it forever
            self[word] = ids
        return ids


class _WordTokens:
    """Each word's token ids (-1: unseen in training), per word id of a scoring word table.

    Follows the table of the model's word scorers (``CompiledModel.follow_words``), so
    the check reads the words the scoring pass has already split and looked up: a word
    is tokenised once, when the table first sees it.
    """

    def __init__(self, tokens: dict[str, int]) -> None:
        self.tokens = tokens
        self.reset()

    def reset(self) -> None:
        self.ids = Ragged(np.int64)

    def add_words(self, words: list[str]) -> None:
        self.ids.extend_looked_up(default_tokens(words), self.tokens)

    def collect(self, sink: list[Any], offset: int, batch: Batch) -> None:
        """Append the tokens of a chunk of sentences: ``(offset, first word of each
        sentence (n + 1), first token of each word (+ 1), the tokens)``."""
        tok_ptr, tokens = self.ids.take(batch.uids)
        sink.append((offset, batch.doc_ptr, tok_ptr, tokens))


def touching_inside(starts: Sequence[int], ends: Sequence[int], bounds: Sequence[int]) -> bool:
    """Whether a sentence starts before the one before it ends, in the same article
    (sentence ``i`` starts at ``starts[i]`` and ends at ``ends[i]`` of its article's text;
    article ``k``'s sentences are ``bounds[k]`` to ``bounds[k + 1]``, ascending)."""
    st, en = np.asarray(starts, dtype=np.int64), np.asarray(ends, dtype=np.int64)
    if len(st) < 2:
        return False
    touch = np.flatnonzero(st[1:] <= en[:-1]) + 1  # sentence touching the one before
    if not len(touch):
        return False
    # an article's first sentence is a bound (not np.isin: it imports numpy.ma, 20 ms
    # in the first batch of each process)
    edges = np.asarray(bounds, dtype=np.int64)
    at = np.minimum(np.searchsorted(edges, touch), len(edges) - 1)
    return bool((edges[at] != touch).any())


class OodCheck:
    """Scores articles against the n-grams of the training articles (see the module)."""

    def __init__(
        self,
        ngrams: Iterable[str],
        threshold: float,
        *,
        max_chars: int = DEFAULT_MAX_CHARS,
        min_ngrams: int = DEFAULT_MIN_NGRAMS,
        calibration: dict[str, Any] | None = None,
    ) -> None:
        listed = list(ngrams)
        # Training gives them sorted and unique: checking is cheaper than sorting again.
        strict = all(map(str.__lt__, listed, listed[1:]))
        grams = listed if strict else sorted(set(listed))
        unigrams = [g for g in grams if " " not in g]
        tokens = dict(zip(unigrams, range(len(unigrams)), strict=True))
        pairs = _pair_keys(tokens, [g for g in grams if " " in g])
        self._setup(unigrams, pairs, threshold, max_chars, min_ngrams, calibration)

    @classmethod
    def from_arrays(
        cls,
        unigrams: Sequence[str],
        pairs: np.ndarray,
        threshold: float,
        *,
        max_chars: int = DEFAULT_MAX_CHARS,
        min_ngrams: int = DEFAULT_MIN_NGRAMS,
        calibration: dict[str, Any] | None = None,
    ) -> OodCheck:
        """The check from its words and its word pairs as :meth:`arrays` gives them
        (sorted distinct keys ``first * len(unigrams) + second``).

        Raises
        ------
        ValueError
            When the pairs are not such keys, or a word is not a string.
        """
        if not all(map(isinstance, unigrams, repeat(str))):
            raise ValueError("the words are not all strings")
        size = max(len(unigrams), 1)
        if pairs.ndim != 1 or pairs.dtype != np.int64:
            raise ValueError(f"pairs are {pairs.dtype}{pairs.shape}, not int64 keys")
        if len(pairs) and (
            int(pairs[0]) < 0
            or int(pairs[-1]) >= size * size
            or bool((pairs[1:] <= pairs[:-1]).any())
        ):
            raise ValueError(f"pairs are not sorted distinct keys below {size}**2")
        check = cls.__new__(cls)
        check._setup(unigrams, pairs, threshold, max_chars, min_ngrams, calibration)
        return check

    def _setup(
        self,
        unigrams: Sequence[str],
        pairs: np.ndarray,
        threshold: float,
        max_chars: int,
        min_ngrams: int,
        calibration: dict[str, Any] | None,
    ) -> None:
        self.unigrams = list(unigrams)
        self.pairs = pairs
        self.threshold = float(threshold)
        self.max_chars = int(max_chars)
        self.min_ngrams = int(min_ngrams)
        self.calibration = dict(calibration or {})
        self._tokens = {t: i for i, t in enumerate(self.unigrams)}
        size = self._size = max(len(self.unigrams), 1)
        self._bits: np.ndarray | None = None
        self._pairs: IntTable | None = None
        if size * size <= _MAX_BITMAP_BITS:
            # One bit per possible pair of known words: a lookup is one gather.
            self._bits = _bitmap(pairs, size * size)
        else:
            # A hash table probed with numpy: about one gather per lookup.
            self._pairs = IntTable(pairs, np.zeros(len(pairs), dtype=np.int64))
        self._words = _Words(self._tokens)
        self._follower = _WordTokens(self._tokens)

    @property
    def ngrams(self) -> list[str]:
        """The training n-grams the check knows, sorted (single words and the pairs of
        two known words; other pairs can never match)."""
        words, size = self.unigrams, self._size
        pairs = (f"{words[k // size]} {words[k % size]}" for k in self.pairs.tolist())
        return sorted([*words, *pairs])

    def follow(self, scorer: Any) -> bool:
        """Follow ``scorer``'s word table, if it has one for lowercased text (see
        :meth:`check_sentences`); True when it does."""
        follow = getattr(scorer, "follow_words", None)
        return follow is not None and bool(follow(self._follower))

    def check(self, text: str) -> OutOfDistribution:
        """The check of one article body."""
        return self.check_many([text])[0]

    def check_many(self, texts: Sequence[str]) -> list[OutOfDistribution]:
        """The checks of many article bodies, computed together."""
        n = len(texts)
        cap = self.max_chars
        per_text = [t[:cap].lower().split() for t in texts]
        words = self._words
        ids_per_text = [list(chain.from_iterable(map(words.__getitem__, w))) for w in per_text]
        lengths = np.fromiter(map(len, ids_per_text), np.int64, n)
        ids = np.fromiter(chain.from_iterable(ids_per_text), np.int64, int(lengths.sum()))
        return self._checks(ids, lengths)

    def check_sentences(
        self,
        texts: Sequence[str],
        bounds: Sequence[int],
        starts: Sequence[int],
        ends: Sequence[int],
        sink: list[Any],
    ) -> list[OutOfDistribution] | None:
        """:meth:`check_many` of ``texts`` from the words of their sentences, as the
        scoring pass collected them into ``sink`` (after :meth:`follow`).

        Article ``k``'s sentences are ``bounds[k]`` to ``bounds[k + 1]``, with their
        ``starts`` and ``ends`` in its text, as ``split_sentences`` gives them: the
        article's words are its sentences' words (sentences cover every word), up to
        the one that ``max_chars`` cuts.  None when sentences touch without whitespace
        between them (no news segmenter rule does that): use :meth:`check_many` then.
        """
        n = len(texts)
        word_ptr, tok_ptr, tokens = _joined(sink, bounds[-1] if n else 0)
        if touching_inside(starts, ends, bounds):
            return None
        st, en = np.asarray(starts, dtype=np.int64), np.asarray(ends, dtype=np.int64)
        cap = self.max_chars
        get = self._tokens.get
        pieces: list[np.ndarray] = []
        lengths = np.zeros(n, dtype=np.int64)
        for k, text in enumerate(texts):
            lo, hi = bounds[k], bounds[k + 1]
            w_hi = word_ptr[hi]
            extra = None
            if len(text) > cap and hi > lo:
                # Sentences that end within the first max_chars characters count whole.
                j = lo + int(np.searchsorted(en[lo:hi], cap, side="right"))
                w_hi = word_ptr[j]
                if j < hi and st[j] < cap:  # the sentence that the cap cuts
                    part = text[st[j] : cap].split()
                    w_hi += len(part)
                    if not text[cap - 1].isspace() and not text[cap].isspace():
                        w_hi -= 1  # its last word is cut: tokenised as cut, below
                        extra = [get(t, -1) for t in _TOKEN.findall(part[-1].lower())]
            t_lo, t_hi = tok_ptr[word_ptr[lo]], tok_ptr[w_hi]
            pieces.append(tokens[t_lo:t_hi])
            lengths[k] = t_hi - t_lo
            if extra:
                pieces.append(np.asarray(extra, dtype=np.int64))
                lengths[k] += len(extra)
        ids = np.concatenate(pieces) if pieces else np.zeros(0, dtype=np.int64)
        return self._checks(ids, lengths)

    def _checks(self, ids: np.ndarray, lengths: np.ndarray) -> list[OutOfDistribution]:
        """The checks from the token ids of the articles' n-grams, ``lengths[k]`` each.

        Counts per article are differences of running sums at the article bounds (the
        articles' tokens are contiguous), and the pair that straddles two articles is
        dropped by its position, so no per-token article index is built.
        """
        total = len(ids)
        ends = np.cumsum(lengths)
        starts = ends - lengths
        known = ids >= 0
        running = np.zeros(total + 1, dtype=np.int64)
        np.cumsum(~known, out=running[1:])
        unseen = running[ends] - running[starts]
        # Pair i is tokens i and i + 1; pairs of two known words are looked up.
        at = np.flatnonzero(known[:-1] & known[1:])
        keys = ids[at] * self._size + ids[at + 1]
        found = np.zeros(max(total - 1, 0), dtype=bool)
        if self._bits is not None:
            found[at] = (self._bits[keys >> 3] >> (keys & 7).astype(np.uint8)) & 1 != 0
        else:
            assert self._pairs is not None
            hit, _ = self._pairs.get(keys, ordered=False)
            found[at[hit]] = True
        # An article's pairs are starts[k] .. ends[k] - 2: the one at ends[k] - 1
        # straddles into the next article and never counts.
        running[0] = 0
        np.cumsum(found, out=running[1:total])
        pairs = np.maximum(lengths - 1, 0)
        last = np.maximum(ends - 1, starts)
        unseen += pairs - (running[last] - running[starts])
        counts = lengths + pairs
        out = []
        for u, c in zip(unseen.astype(np.float64).tolist(), counts.tolist(), strict=True):
            score = u / c if c else 0.0
            flagged = c >= self.min_ngrams and score > self.threshold
            out.append(OutOfDistribution(flagged, score, self.threshold, int(c)))
        return out

    # ----------------------------------------------------------- files
    def to_doc(self, layout: int = OOD_VERSION) -> dict[str, Any]:
        """What ``ood.json`` holds (in layout 2, the pairs are in :meth:`arrays`)."""
        words = {"unigrams": self.unigrams} if layout == 2 else {"ngrams": self.ngrams}
        return {
            "ood_version": layout,
            "measure": MEASURE,
            "threshold": self.threshold,
            "max_chars": self.max_chars,
            "min_ngrams": self.min_ngrams,
            "calibration": self.calibration,
            **words,
        }

    def arrays(self) -> dict[str, np.ndarray]:
        """What ``ood.npz`` holds: the word pairs as sorted keys (see :meth:`from_arrays`)."""
        return {"pairs": self.pairs}

    def save(self, folder: str | Path, layout: int = OOD_VERSION) -> None:
        """Write ``ood.json`` and ``ood.npz`` into ``folder`` (a model folder being built);
        ``layout`` 1, one ``ood.json`` with every n-gram as a string, is what framing
        wrote before (for tests of older folders)."""
        text = json.dumps(self.to_doc(layout), ensure_ascii=False, separators=(",", ":"))
        (Path(folder) / OOD_FILE).write_text(text + "\n", encoding="utf-8")
        if layout == 2:
            from framing.runtime.array_files import write_arrays

            write_arrays(Path(folder) / OOD_ARRAYS, self.arrays())  # read, not inflated


def _pair_keys(tokens: dict[str, int], pairs: list[str]) -> np.ndarray:
    """``first * size + second`` of the word pairs whose two words are known n-grams
    (other pairs can never match), the words given as their ids in ``tokens`` (``size``
    of them, at least 1): sorted, distinct."""
    get, size = tokens.get, max(len(tokens), 1)
    words = " ".join(pairs).split(" ")
    if len(words) == 2 * len(pairs):  # each has one space: look the words up in C
        ids = np.fromiter(map(get, words, repeat(-1)), np.int64, len(words))
        a, b = ids[0::2], ids[1::2]
    else:  # a malformed ood.json: split each at its first space
        split = [g.partition(" ") for g in pairs]
        a = np.array([get(x, -1) for x, _, _ in split], dtype=np.int64)
        b = np.array([get(y, -1) if y else -1 for _, _, y in split], dtype=np.int64)
    known = (a >= 0) & (b >= 0)
    keys = np.sort(a[known] * size + b[known])
    return keys[run_starts(keys)]


def _bitmap(keys: np.ndarray, bits: int) -> np.ndarray:
    """A bitmap of ``bits`` bits (uint8, little-endian bit order) with ``keys`` set
    (sorted, distinct): the bits of each byte are or-ed together in one pass."""
    out = np.zeros((bits + 7) // 8, dtype=np.uint8)
    if len(keys):
        byte = keys >> 3
        first = run_starts(byte)
        out[byte[first]] = np.bitwise_or.reduceat((1 << (keys & 7)).astype(np.uint8), first)
    return out


def _joined(sink: list[Any], n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The chunks of :meth:`_WordTokens.collect` joined: the first word of each of the
    ``n`` sentences (+ 1), the first token of each word (+ 1), and the tokens."""
    if not sink:
        zero = np.zeros(1, dtype=np.int64)
        return np.zeros(n + 1, dtype=np.int64), zero, np.zeros(0, dtype=np.int64)
    word_parts, tok_parts, token_parts = [], [], []
    words = toks = 0
    for _, doc_ptr, tok_ptr, tokens in sorted(sink, key=lambda c: c[0]):
        word_parts.append(doc_ptr[:-1] + words)
        tok_parts.append(tok_ptr[:-1] + toks)
        token_parts.append(tokens)
        words += int(doc_ptr[-1])
        toks += int(tok_ptr[-1])
    word_parts.append(np.array([words]))
    tok_parts.append(np.array([toks]))
    return np.concatenate(word_parts), np.concatenate(tok_parts), np.concatenate(token_parts)


def load_ood(folder: str | Path) -> OodCheck | None:
    """The check stored in a model folder, or None when the folder has no ``ood.json``.

    Raises
    ------
    ModelError
        When ``ood.json`` is there but unreadable, from a newer framing, or of a
        measure this framing does not know.
    """
    path = Path(folder) / OOD_FILE
    if not path.is_file():
        return None
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except (ValueError, UnicodeDecodeError) as exc:
        raise ModelError(f"{path}: not valid JSON ({exc}); copy the model folder again") from None
    if not isinstance(doc, dict):
        raise ModelError(f"{path}: expected a JSON object; copy the model folder again")
    version = doc.get("ood_version")
    if version not in (1, OOD_VERSION) or doc.get("measure") != MEASURE:
        raise ModelError(
            f"{path}: out-of-distribution data version {version} ({doc.get('measure')}) is not "
            f"1 or {OOD_VERSION} ({MEASURE}); upgrade framing, or retrain the model"
        )
    fix = "copy the model folder again"
    try:
        settings = {
            "max_chars": doc["max_chars"],
            "min_ngrams": doc["min_ngrams"],
            "calibration": doc.get("calibration"),
        }
        if version == 1:
            return OodCheck(doc["ngrams"], doc["threshold"], **settings)
        from framing.runtime.array_files import read_arrays

        pairs = read_arrays(path.with_name(OOD_ARRAYS), fix).get("pairs")
        if pairs is None:
            raise ModelError(f"{path.with_name(OOD_ARRAYS)}: no array 'pairs'; {fix}")
        return OodCheck.from_arrays(doc["unigrams"], pairs, doc["threshold"], **settings)
    except ModelError:
        raise
    except (KeyError, TypeError, ValueError) as exc:
        raise ModelError(f"{path}: incomplete out-of-distribution data ({exc!r}); {fix}") from None

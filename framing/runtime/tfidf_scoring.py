"""Scoring documents with one TF-IDF vectorizer against linear coefficients.

:class:`VectorizerScorer` returns ``X . weights`` and the norm of ``X`` per
document, ``X`` being the vectorizer's un-normalised TF-IDF rows, without ever
building ``X``; see :mod:`framing.runtime.compiled` for how the arithmetic is
arranged.  The per-document sums run in ``framing.runtime._speedups`` when it is
built, else in numpy; both give the same numbers.

What a scorer builds from its vocabulary to look n-grams up (hash tables of word
n-grams, the index of character n-grams) is given by :meth:`VectorizerScorer.tables`
and stored in the model folder, so that loading a model builds nothing:
:func:`make_vectorizer_scorer` takes such tables back.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import cached_property
from itertools import chain, repeat
from typing import TYPE_CHECKING, Any, Literal

import numpy as np

from framing.runtime import _native
from framing.runtime.analyzers import (
    DEFAULT_TOKEN_PATTERN,
    NgramIndex,
    analyze,
    char_wb_counts,
    char_wb_ngrams_of,
    char_wb_windows,
    default_tokens,
)
from framing.runtime.arrays import (
    Batch,
    Growing,
    IntTable,
    Ragged,
    add_column_segments,
    run_starts,
)

if TYPE_CHECKING:
    from framing.runtime.compiled import VectorizerSpec

__all__ = ["VectorizerScorer", "WordTables", "make_vectorizer_scorer"]

#: A word scorer's lookup tables: its token strings (token id order), each token's
#: unigram feature id (-1: none) and, per n > 1, the hash table of n-gram keys.
WordTables = tuple[Sequence[str], np.ndarray, dict[int, IntTable]]


class VectorizerScorer:
    """Scores documents with one vectorizer against stacked coefficient columns.

    ``score`` returns ``X . weights`` (n_docs, width) and the norm of ``X`` per
    document, ``X`` being the vectorizer's un-normalised TF-IDF rows.
    """

    uses_words = False

    def __init__(self, spec: VectorizerSpec, weights: np.ndarray) -> None:
        self.spec = spec
        n = len(spec.vocabulary)
        self.n_features = n
        idf = spec.idf if spec.idf is not None else np.ones(n)
        order, self.feature_id = feature_order(idf)
        idf = idf[order]
        self.idf = idf
        self.idf2 = idf * idf
        # Feature rows already scaled by idf: a feature seen once contributes its row
        # (gathered into one new C-order array, scaled in place: no third copy).
        self.rows = weights.take(order, axis=0)
        self.rows *= idf[:, None]
        self._columns: np.ndarray | None = None
        self.width = weights.shape[1]
        self.min_n, self.max_n = spec.ngram_range
        # Repeated features need a correction unless tf is the count and the norm linear.
        self.correct = spec.binary or spec.sublinear_tf or spec.norm == "l2"
        # How the compiled loops weigh terms (see _speedups.c).
        self.tf_mode = 1 if spec.binary else 2 if spec.sublinear_tf else 0
        self.norm_mode = {None: 0, "l1": 1, "l2": 2}[spec.norm]

    @cached_property
    def vocab(self) -> dict[str, int]:
        """n-gram -> feature id, made on first use: only the general path and the
        explanations need the vocabulary's strings (the others look n-grams up in
        tables stored with the model)."""
        return dict(zip(self.spec.vocabulary, self.feature_id.tolist(), strict=True))

    def tables(self) -> dict[str, Any]:
        """The lookup tables this scorer built from its vocabulary, to store with the
        model and give back to :func:`make_vectorizer_scorer` (none for this one)."""
        return {}

    @property
    def columns(self) -> np.ndarray:
        """:attr:`rows` stored by column, ``(width, n_features)``, for the numpy sums
        (:func:`framing.runtime.arrays.add_column_segments`); made on first use."""
        if self._columns is None:
            self._columns = np.ascontiguousarray(self.rows.T)
        return self._columns

    def reset(self) -> None:
        """Forget per-word data (the word table started afresh)."""

    def add_words(self, words: list[str]) -> None:
        """Analyse new words (appended in word-id order)."""

    def _norm_weights(self) -> np.ndarray | None:
        norm = self.spec.norm
        return None if norm is None else (self.idf2 if norm == "l2" else self.idf)

    def _feature_sums(
        self, feats: list[np.ndarray], docs: list[np.ndarray], n: int
    ) -> tuple[np.ndarray, np.ndarray | None]:
        """Naive sums of feature occurrences, given as lists sorted by document each."""
        out = np.zeros((n, self.width))
        sq = None
        nw = self._norm_weights()
        if nw is not None:
            sq = np.zeros(n)
        for f, d in zip(feats, docs, strict=True):
            if len(f):
                add_column_segments(out, self.columns, f, d)
                if sq is not None and nw is not None:
                    sq += np.bincount(d, weights=np.take(nw, f), minlength=n)
        return out, sq

    def _occurrences(
        self, feats: list[np.ndarray], docs: list[np.ndarray], n: int
    ) -> tuple[np.ndarray, np.ndarray]:
        """Scores of feature occurrences, given as lists sorted by document each."""
        if _native.speedups is None or not self.n_features:
            out, sq = self._feature_sums(feats, docs, n)
            if feats:
                self._repeats(np.concatenate(feats), np.concatenate(docs), out, sq)
            return self._finish(out, sq, n)
        doc = np.concatenate(docs) if docs else np.zeros(0, dtype=np.int64)
        feat = np.concatenate(feats).astype(np.int64) if feats else doc
        if len(docs) > 1:
            order = np.argsort(doc, kind="stable")
            doc, feat = doc[order], feat[order]
        doc_ptr = np.zeros(n + 1, dtype=np.int64)
        np.cumsum(np.bincount(doc, minlength=n), out=doc_ptr[1:])
        return self._run_native(_native.speedups.feature_scores, n, doc_ptr, feat)

    def _run_native(
        self, loop: Callable[..., None], n: int, *args: Any
    ) -> tuple[np.ndarray, np.ndarray]:
        """Call a ``_speedups`` loop: ``loop(*args, rows, normw, tf, norm, out, sq)``."""
        nw = self._norm_weights()
        out, sq = np.zeros((n, self.width)), np.zeros(n)
        loop(
            *args, self.rows, self.idf if nw is None else nw, self.tf_mode, self.norm_mode, out, sq
        )
        return self._finish(out, None if nw is None else sq, n)

    def _finish(
        self, out: np.ndarray, sq: np.ndarray | None, n: int
    ) -> tuple[np.ndarray, np.ndarray]:
        if sq is None:
            return out, np.ones(n)
        return out, (np.sqrt(sq) if self.spec.norm == "l2" else sq)

    def _repeats(
        self, occ: np.ndarray, occ_doc: np.ndarray, out: np.ndarray, sq: np.ndarray | None
    ) -> None:
        """Correct the naive sums for features seen more than once in a document.

        The naive sums count a feature seen ``c`` times as ``c``; its real term
        frequency is 1 (binary) or ``1 + log(c)`` (sublinear).
        """
        if not self.correct or not len(occ):
            return
        nf = self.n_features
        # 32-bit keys sort about twice as fast; documents are chunked so they fit.
        dtype: type[np.integer[Any]] = (
            np.uint32 if (int(occ_doc.max()) + 1) * nf < 2**32 else np.int64
        )
        keys: np.ndarray = occ_doc.astype(dtype)
        keys *= dtype(nf)
        keys += occ.astype(dtype)
        self._repeated_keys(keys, out, sq)

    def _repeated_keys(self, keys: np.ndarray, out: np.ndarray, sq: np.ndarray | None) -> None:
        """:meth:`_repeats` given the keys ``doc * n_features + feature`` (any order)."""
        nf = self.n_features
        keys.sort()
        # A key seen c times is followed by itself c - 1 times: only those positions
        # (a small share of all) are looked at further.
        again = keys[np.flatnonzero(keys[1:] == keys[:-1])]
        if not len(again):
            return
        starts = run_starts(again)
        dup = again[starts].astype(np.int64)
        count = np.diff(starts, append=len(again)).astype(np.float64) + 1.0
        feat = dup % nf
        doc = dup // nf
        if self.spec.binary:
            tf = np.ones_like(count)
        elif self.spec.sublinear_tf:
            tf = 1.0 + np.log(count)
        else:
            tf = count
        add_column_segments(out, self.columns, feat, doc, tf - count)
        if sq is not None:
            if self.spec.norm == "l2":
                delta = (tf * tf - count) * self.idf2[feat]
            else:
                delta = (tf - count) * self.idf[feat]
            sq += np.bincount(doc, weights=delta, minlength=len(sq))

    def score_docs(self, docs: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
        """Score preprocessed documents by their n-gram strings (the general path)."""
        n = len(docs)
        grams_per_doc = analyze(self.spec, docs)
        counts = np.fromiter(map(len, grams_per_doc), np.int64, n)
        grams = chain.from_iterable(grams_per_doc)
        ids = np.fromiter(map(self.vocab.get, grams, repeat(-1)), np.int64, int(counts.sum()))
        doc = np.repeat(np.arange(n), counts)
        keep = ids >= 0
        return self._occurrences([ids[keep]], [doc[keep]], n)

    def score_words(self, batch: Batch) -> tuple[np.ndarray, np.ndarray]:
        """Score documents given as word ids (only scorers with ``uses_words``)."""
        raise NotImplementedError  # pragma: no cover


class CharWBScorer(VectorizerScorer):
    """``char_wb`` n-grams, cached per word: each word's n-grams are summed once."""

    uses_words = True

    def __init__(
        self, spec: VectorizerSpec, weights: np.ndarray, index: NgramIndex | None = None
    ) -> None:
        super().__init__(spec, weights)
        self._index: NgramIndex | Literal[False] | None = index
        self.reset()

    def tables(self) -> dict[str, Any]:
        if self._index is None:
            self._index = NgramIndex.build(self.vocab) or False
        return {"index": self._index} if self._index else {}

    def reset(self) -> None:
        self.feats = Ragged(np.int32)  # feature ids: vocabularies stay far below 2**31
        # The compiled loops read word rows row by row (C order); numpy sums them by
        # column (Fortran order).  The layout follows the backend in use: a change of
        # backend starts a new word table, which resets this.
        order = "F" if _native.speedups is None else "C"
        self._rows = Growing((self.width,), order=order)
        self._norm = Growing()
        self.word_rows = self._rows.view
        self.word_norm = self._norm.view

    def add_words(self, words: list[str]) -> None:
        # All the new words' n-grams are looked up at once, as windows of the joined
        # words read as numbers (no string per n-gram); misses are dropped with numpy.
        min_n, max_n = self.min_n, self.max_n
        counts = char_wb_counts(words, min_n, max_n)
        ids = self._ngram_ids(words)
        keep = ids >= 0
        flat = ids[keep]
        word_of = np.repeat(np.arange(len(words)), counts)[keep]
        lens = np.bincount(word_of, minlength=len(words))
        self.feats.extend_flat(flat, lens)
        rows = np.zeros((len(words), self.width))
        norm = np.zeros(len(words))
        nw = self._norm_weights()
        if flat.size and _native.speedups is not None:
            # Each word's naive row and norm term are its feature occurrences summed:
            # the kernel's feature sums with raw counts (and l1 for the norm term).
            word_ptr = np.zeros(len(words) + 1, dtype=np.int64)
            np.cumsum(lens, out=word_ptr[1:])
            normw, norm_mode = (self.idf, 0) if nw is None else (nw, 1)
            _native.speedups.feature_scores(
                word_ptr, flat, self.rows, normw, 0, norm_mode, rows, norm
            )
        elif flat.size:
            add_column_segments(rows, self.columns, flat, word_of)
            if nw is not None:
                norm[:] = np.bincount(word_of, weights=nw[flat], minlength=len(words))
        self._rows.extend(rows)
        self._norm.extend(norm)
        self.word_rows, self.word_norm = self._rows.view, self._norm.view

    def _ngram_ids(self, words: list[str]) -> np.ndarray:
        """The vocabulary id of each n-gram of ``words`` in order, -1 for unknown ones."""
        min_n, max_n = self.min_n, self.max_n
        if self._index is None:  # built on the first new words, in the process scoring
            self._index = NgramIndex.build(self.vocab) or False
        if self._index:
            ids = self._index.lookup(*char_wb_windows(words, min_n, max_n), max_n)
            if ids is not None:
                return ids
        grams = char_wb_ngrams_of(words, min_n, max_n)  # map over dict.get stays in C
        return np.fromiter(map(self.vocab.get, grams, repeat(-1)), np.int64, len(grams))

    def score_words(self, batch: Batch) -> tuple[np.ndarray, np.ndarray]:
        n, uids = batch.n, batch.uids
        if _native.speedups is not None and self.n_features:
            f = self.feats
            return self._run_native(
                _native.speedups.unit_scores,
                n,
                *(batch.doc_ptr, uids, f.start, f.length, f.flat),
                *(self.word_rows, self.word_norm),
            )
        out = np.zeros((n, self.width))
        sq = None
        udoc = batch.udoc
        if self.spec.norm is not None:
            sq = np.bincount(udoc, weights=np.take(self.word_norm, uids), minlength=n)
        if len(uids):
            add_column_segments(out, self.word_rows.T, uids, udoc)
            if self.correct:
                keys = self.feats.keys(uids, udoc, self.n_features)
                if keys is not None:
                    self._repeated_keys(keys, out, sq)
        return self._finish(out, sq, n)


class WordScorer(VectorizerScorer):
    """Word n-grams with the default token pattern, as integer keys.

    Tokens never cross whitespace, so each whitespace-separated word is tokenized
    once and cached as token ids; n-grams are integer keys looked up with
    a numpy hash table of the vocabulary's n-grams.
    """

    uses_words = True

    def __init__(self, spec: VectorizerSpec, weights: np.ndarray, tables: WordTables) -> None:
        super().__init__(spec, weights)
        names, self.unigram, self.ngram_tables = tables
        self.token_names = names
        self.tokens = dict(zip(names, range(len(names)), strict=True))
        self.token_count = max(len(names), 1)
        self.reset()

    @classmethod
    def build(
        cls, spec: VectorizerSpec, weights: np.ndarray, tables: WordTables | None = None
    ) -> VectorizerScorer:
        """A word scorer, by integer keys when the settings allow it, else by strings;
        with ``tables`` (stored with the model), the tables are not built again.

        Raises
        ------
        ValueError
            When given ``tables`` do not fit the vocabulary's size.
        """
        if spec.token_pattern != DEFAULT_TOKEN_PATTERN or spec.stop_words is not None:
            return VectorizerScorer(spec, weights)
        if tables is None:
            parts = [term.split(" ") for term in spec.vocabulary]
            found = list(dict.fromkeys(chain.from_iterable(parts)))
            if max(len(found), 1) ** spec.ngram_range[1] >= 2**62:
                return VectorizerScorer(spec, weights)
            idf = spec.idf if spec.idf is not None else np.ones(len(parts))
            tables = (found, *_word_ngram_tables(found, parts, feature_order(idf)[1]))
        names, unigram, ngrams = tables
        if max(len(names), 1) ** spec.ngram_range[1] >= 2**62:  # keys would overflow
            raise ValueError(f"{len(names)} tokens: their n-gram keys do not fit in 62 bits")
        n = len(spec.vocabulary)
        if unigram.shape != (max(len(names), 1),) or unigram.dtype != np.int64:
            raise ValueError(f"{unigram.dtype}{unigram.shape} unigram ids for {len(names)} tokens")
        if len(unigram) and (int(unigram.min()) < -1 or int(unigram.max()) >= n):
            raise ValueError(f"unigram ids outside [-1, {n})")
        if any(k < 2 or k > spec.ngram_range[1] for k in ngrams):
            raise ValueError(f"n-gram tables of n = {sorted(ngrams)}")
        return cls(spec, weights, tables)

    def tables(self) -> dict[str, Any]:
        return {"tokens": self.token_names, "unigram": self.unigram, "ngrams": self.ngram_tables}

    def reset(self) -> None:
        self.word_tokens = Ragged()

    def add_words(self, words: list[str]) -> None:
        self.word_tokens.extend_looked_up(default_tokens(words), self.tokens)

    def score_words(self, batch: Batch) -> tuple[np.ndarray, np.ndarray]:
        n = batch.n
        if _native.speedups is not None and self.n_features and self.max_n <= 2:
            return self._score_native(batch)
        tid, doc = self.word_tokens.gather(batch.uids, batch.udoc)
        total = len(tid)
        feats, fdocs = [], []
        if self.min_n <= 1 and total:
            known = tid >= 0
            uni = self.unigram[tid[known]]
            hit = uni >= 0
            feats.append(uni[hit])
            fdocs.append(doc[known][hit])
        size = self.token_count
        for k in range(max(self.min_n, 2), self.max_n + 1):
            if k not in self.ngram_tables or total < k:
                continue
            m = total - k + 1
            ok = (doc[:m] == doc[k - 1 :]) & (tid[:m] >= 0)
            key = tid[:m].copy()
            for j in range(1, k):
                part = tid[j : j + m]
                ok &= part >= 0
                key *= size
                key += part
            where = np.flatnonzero(ok)
            at, found = self.ngram_tables[k].get(key[where])
            feats.append(found)
            fdocs.append(doc[where[at]])
        return self._occurrences(feats, fdocs, n)

    def _score_native(self, batch: Batch) -> tuple[np.ndarray, np.ndarray]:
        assert _native.speedups is not None
        table = self.ngram_tables.get(2)
        if table is None:
            table = IntTable(np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64))
        t = self.word_tokens
        return self._run_native(
            _native.speedups.word_scores,
            batch.n,
            *(batch.doc_ptr, batch.uids, t.start, t.length, t.flat, self.unigram),
            *(table.keys, table.values, table.probes, int(table.shift), self.token_count),
            *(self.min_n, self.max_n),
        )


def feature_order(idf: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The order of a vectorizer's features by idf, and each feature's id in it.

    Features are renumbered from the most frequent (lowest idf) down, so the rows that
    most sentences touch sit together in memory and stay in the CPU caches.
    """
    order = np.argsort(idf, kind="stable")
    feature_id = np.empty(len(idf), dtype=np.int64)
    feature_id[order] = np.arange(len(idf))
    return order, feature_id


def _word_ngram_tables(
    names: list[str], parts: list[list[str]], features: np.ndarray
) -> tuple[np.ndarray, dict[int, IntTable]]:
    """Each token's unigram feature id and the hash tables of longer n-grams, from the
    vocabulary's terms split into tokens (``parts``) and their feature ids."""
    tokens = dict(zip(names, range(len(names)), strict=True))
    size = max(len(names), 1)
    lengths = np.fromiter(map(len, parts), np.int64, len(parts))
    flat = np.fromiter(
        map(tokens.__getitem__, chain.from_iterable(parts)), np.int64, int(lengths.sum())
    )
    starts = np.cumsum(lengths) - lengths
    unigram = np.full(size, -1, dtype=np.int64)
    one = lengths == 1
    unigram[flat[starts[one]]] = features[one]
    tables: dict[int, IntTable] = {}
    # (not np.unique: it imports numpy.ma, 20 ms of every start)
    for k in sorted(set(lengths[lengths > 1].tolist())):
        sel = lengths == k
        key = np.zeros(int(sel.sum()), dtype=np.int64)
        for j in range(k):
            key = key * size + flat[starts[sel] + j]
        tables[k] = IntTable(key, features[sel])
    return unigram, tables


def make_vectorizer_scorer(
    spec: VectorizerSpec, weights: np.ndarray, tables: dict[str, Any] | None = None
) -> VectorizerScorer:
    """The scorer of one vectorizer; ``tables`` are what its :meth:`~VectorizerScorer.tables`
    gave when the model was saved (None: build them from the vocabulary)."""
    tables = tables or {}
    if spec.analyzer == "char_wb":
        return CharWBScorer(spec, weights, tables.get("index"))
    if spec.analyzer == "word":
        stored = None
        if "unigram" in tables:
            stored = (tables["tokens"], tables["unigram"], tables["ngrams"])
        return WordScorer.build(spec, weights, stored)
    return VectorizerScorer(spec, weights)

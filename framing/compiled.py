"""Linear TF-IDF models as plain arrays: fast, safe scoring without scikit-learn.

A model folder's pipelines (one per dimension, see :mod:`framing.model`) are
``TfidfVectorizer``/``FeatureUnion`` features followed by logistic regression.
:func:`compile_pipelines` turns such fitted pipelines into

``compiled.json``
    analyzer settings, vocabularies (terms in column order) and how the
    classifier heads map onto them;
``compiled.npz``
    numpy arrays only (idf weights, coefficients, intercepts), read with
    ``np.load(allow_pickle=False)``, so loading runs no code from the file.

:class:`CompiledModel` scores text with numpy and the standard library only
(importing scikit-learn alone takes longer than tagging an article) and gives
the same ``predict_proba`` as the scikit-learn pipelines, to rounding (about
1e-15).

How it stays exact and fast
---------------------------
scikit-learn's analyzers are reproduced as they are written (``_word_ngrams``,
``_char_wb_ngrams``, ``_char_ngrams``, lowercasing before accent stripping).
The work is then arranged around two facts:

* ``char_wb`` n-grams never cross a whitespace-separated word, so every distinct
  word is analysed once and cached with its feature ids, the sum of its features'
  ``idf * coef`` rows and the sum of their squared idf.  A sentence's naive score is
  then a sum over its ~20 words instead of its ~300 n-grams.
* That naive sum treats every n-gram as occurring once.  With sublinear tf, an
  n-gram seen ``c > 1`` times in a sentence weighs ``1 + log(c)``, not ``c``; such
  repeats are found for a whole batch at once by sorting ``(sentence, feature)``
  keys, and corrected.

Word n-grams are looked up in the vocabulary per batch with C-level ``map`` calls.
The union of vectorizers is concatenation with separate l2 norms, so each
vectorizer contributes ``(X_v . coef_v) / ||X_v||``; identical vectorizers shared by
several dimensions are analysed once.
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from itertools import chain, repeat
from pathlib import Path
from typing import Any

import numpy as np

from framing.errors import ModelError

__all__ = ["CompiledModel", "CompileError", "compile_pipelines", "COMPILED_VERSION"]

#: Version of the compiled.json/compiled.npz layout.
COMPILED_VERSION = 1
JSON_NAME = "compiled.json"
NPZ_NAME = "compiled.npz"
ANALYZERS = ("word", "char", "char_wb")
#: Proba kinds of a head: how decision values become the pipeline's predict_proba columns.
HEAD_KINDS = ("ovr", "ovr_normalized", "binary", "softmax")
_WHITE_SPACES = re.compile(r"\s\s+")
#: Documents per scoring chunk: bounds the memory of a call, whatever its size.
CHUNK = 2048
#: Distinct words cached per char_wb vectorizer before the cache starts afresh.
MAX_CACHED_WORDS = 200_000


class CompileError(ModelError):
    """A pipeline is not of a shape :mod:`framing.compiled` can turn into arrays."""


# --------------------------------------------------------------------------- analyzers


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


_ACCENTS: dict[str | None, Callable[[str], str] | None] = {
    None: None,
    "unicode": strip_accents_unicode,
    "ascii": strip_accents_ascii,
}


def char_wb_ngrams(word: str, min_n: int, max_n: int) -> list[str]:
    """The ``char_wb`` n-grams of one whitespace-free word, as scikit-learn makes them.

    The word is padded with one space on each side; n-grams longer than the padded
    word are replaced by the padded word itself, counted once.

    Examples
    --------
    >>> char_wb_ngrams("to", 2, 5)
    [' t', 'to', 'o ', ' to', 'to ', ' to ']
    """
    w = " " + word + " "
    size = len(w)
    grams = [w[i : i + n] for n in range(min_n, min(max_n + 1, size)) for i in range(size - n + 1)]
    if max_n >= size:
        grams.append(w)
    return grams


def char_ngrams(text: str, min_n: int, max_n: int) -> list[str]:
    """The ``char`` n-grams of a preprocessed document (whitespace runs become one space)."""
    text = _WHITE_SPACES.sub(" ", text)
    size = len(text)
    return [text[i : i + n] for n in range(min_n, min(max_n + 1, size + 1)) for i in range(size - n + 1)]


def word_ngrams(tokens: list[str], min_n: int, max_n: int) -> list[str]:
    """Word n-grams joined by a space, in scikit-learn's order."""
    grams = list(tokens) if min_n == 1 else []
    start = max(min_n, 2)
    for n in range(start, min(max_n + 1, len(tokens) + 1)):
        grams.extend(" ".join(tokens[i : i + n]) for i in range(len(tokens) - n + 1))
    return grams


# --------------------------------------------------------------------------- compiling


@dataclass
class VectorizerSpec:
    """The fitted state of one ``TfidfVectorizer`` that scoring needs."""

    analyzer: str
    ngram_range: tuple[int, int]
    lowercase: bool
    strip_accents: str | None
    token_pattern: str | None
    stop_words: list[str] | None
    binary: bool
    sublinear_tf: bool
    norm: str | None
    vocabulary: list[str]
    idf: np.ndarray | None = field(repr=False)

    def settings(self) -> dict[str, Any]:
        return {
            "analyzer": self.analyzer,
            "ngram_range": list(self.ngram_range),
            "lowercase": self.lowercase,
            "strip_accents": self.strip_accents,
            "token_pattern": self.token_pattern,
            "stop_words": self.stop_words,
            "binary": self.binary,
            "sublinear_tf": self.sublinear_tf,
            "norm": self.norm,
            "use_idf": self.idf is not None,
        }

    def key(self) -> tuple[Any, ...]:
        idf = None if self.idf is None else self.idf.tobytes()
        return (json.dumps(self.settings(), sort_keys=True), tuple(self.vocabulary), idf)


@dataclass
class HeadSpec:
    """One dimension's classifier: decision columns over a union of vectorizers."""

    dimension: str
    kind: str
    parts: list[tuple[int, np.ndarray]]  # (vectorizer index, coef (n_features, n_decisions))
    intercept: np.ndarray
    #: Per decision column: None, or the constant probability of a label seen always/never.
    constants: list[float | None]
    n_outputs: int


def _vectorizer_spec(vec: Any, where: str) -> VectorizerSpec:
    from sklearn.feature_extraction.text import TfidfVectorizer

    if type(vec) is not TfidfVectorizer:
        raise CompileError(f"{where}: {type(vec).__name__} is not a TfidfVectorizer")
    if vec.input != "content":
        raise CompileError(f"{where}: input={vec.input!r} (only 'content' is supported)")
    if vec.preprocessor is not None or vec.tokenizer is not None or callable(vec.analyzer):
        raise CompileError(f"{where}: custom preprocessor/tokenizer/analyzer functions")
    if vec.analyzer not in ANALYZERS:
        raise CompileError(f"{where}: analyzer={vec.analyzer!r}")
    if vec.strip_accents not in _ACCENTS:
        raise CompileError(f"{where}: strip_accents={vec.strip_accents!r}")
    if np.dtype(vec.dtype) != np.float64:
        raise CompileError(f"{where}: dtype={vec.dtype!r} (only float64 is reproduced exactly)")
    if vec.norm not in ("l1", "l2", None):
        raise CompileError(f"{where}: norm={vec.norm!r}")
    if vec.analyzer == "word":
        pattern = re.compile(vec.token_pattern)
        if pattern.groups > 1:
            raise CompileError(f"{where}: token_pattern has more than one group")
    vocab = vec.vocabulary_
    terms = [""] * len(vocab)
    for term, index in vocab.items():
        terms[index] = term
    stop = vec.get_stop_words() if vec.analyzer == "word" else None
    idf = np.asarray(vec.idf_, dtype=np.float64) if vec.use_idf else None
    return VectorizerSpec(
        analyzer=vec.analyzer,
        ngram_range=(int(vec.ngram_range[0]), int(vec.ngram_range[1])),
        lowercase=bool(vec.lowercase),
        strip_accents=vec.strip_accents,
        token_pattern=vec.token_pattern if vec.analyzer == "word" else None,
        stop_words=sorted(stop) if stop is not None else None,
        binary=bool(vec.binary),
        sublinear_tf=bool(vec.sublinear_tf),
        norm=vec.norm,
        vocabulary=terms,
        idf=idf,
    )


def _features(step: Any, where: str) -> list[tuple[Any, float]]:
    """(vectorizer, weight) pairs of a vectorizer or a FeatureUnion of vectorizers."""
    from sklearn.pipeline import FeatureUnion

    if isinstance(step, FeatureUnion):
        weights = step.transformer_weights or {}
        out = []
        for name, trans in step.transformer_list:
            if trans is None or (isinstance(trans, str) and trans == "drop"):
                continue
            if isinstance(trans, str):
                raise CompileError(f"{where}: FeatureUnion member '{name}' is {trans!r}")
            out.append((trans, float(weights.get(name, 1.0))))
        if not out:
            raise CompileError(f"{where}: FeatureUnion has no transformer")
        return out
    return [(step, 1.0)]


def _linear(est: Any, where: str) -> tuple[np.ndarray, np.ndarray]:
    from sklearn.linear_model import LogisticRegression

    if type(est) is not LogisticRegression:
        raise CompileError(f"{where}: {type(est).__name__} is not a LogisticRegression")
    return np.asarray(est.coef_, dtype=np.float64), np.asarray(est.intercept_, dtype=np.float64)


def _head(dimension: str, clf: Any, n_features: int, where: str) -> tuple[str, np.ndarray, np.ndarray, list[float | None]]:
    """Kind, coef (n_decisions, n_features), intercept and constants of a classifier."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.multiclass import OneVsRestClassifier, _ConstantPredictor

    if isinstance(clf, OneVsRestClassifier):
        coefs, intercepts, constants = [], [], []
        for i, est in enumerate(clf.estimators_):
            if isinstance(est, _ConstantPredictor):
                coefs.append(np.zeros(n_features))
                intercepts.append(0.0)
                constants.append(float(np.asarray(est.y_, dtype=np.float64).ravel()[0]))
                continue
            coef, intercept = _linear(est, f"{where}: estimator {i}")
            if coef.shape[0] != 1:
                raise CompileError(f"{where}: estimator {i} is not a binary classifier")
            coefs.append(coef[0])
            intercepts.append(float(intercept[0]))
            constants.append(None)
        kind = "ovr" if clf.multilabel_ else "ovr_normalized"
        return kind, np.vstack(coefs), np.asarray(intercepts), constants
    if isinstance(clf, LogisticRegression):
        coef, intercept = _linear(clf, where)
        kind = "binary" if len(clf.classes_) <= 2 else "softmax"
        return kind, coef, intercept, [None] * coef.shape[0]
    raise CompileError(
        f"{where}: classifier {type(clf).__name__} is not a LogisticRegression "
        "or a OneVsRestClassifier of them"
    )


def compile_pipelines(
    pipelines: Mapping[str, Any], labels: Mapping[str, Sequence[str]]
) -> CompiledModel:
    """Turn fitted scikit-learn pipelines into a :class:`CompiledModel`.

    Parameters
    ----------
    pipelines
        Per dimension, a fitted ``Pipeline`` of a ``TfidfVectorizer`` or a
        ``FeatureUnion`` of them, then a ``LogisticRegression`` or a
        ``OneVsRestClassifier`` of logistic regressions.
    labels
        Per dimension, the label ids in the order of ``predict_proba``'s columns.

    Returns
    -------
    CompiledModel

    Raises
    ------
    CompileError
        When a pipeline has another shape (the model then loads with skops).
    """
    from sklearn.pipeline import Pipeline

    vectorizers: list[VectorizerSpec] = []
    index: dict[tuple[Any, ...], int] = {}
    heads: list[HeadSpec] = []
    for dim, pipe in pipelines.items():
        where = f"pipeline '{dim}'"
        if not isinstance(pipe, Pipeline) or len(pipe.steps) != 2:
            raise CompileError(f"{where}: expected a Pipeline of features then a classifier")
        features = _features(pipe.steps[0][1], where)
        parts_v: list[tuple[int, float, int]] = []
        for vec, weight in features:
            spec = _vectorizer_spec(vec, where)
            k = spec.key()
            if k not in index:
                index[k] = len(vectorizers)
                vectorizers.append(spec)
            parts_v.append((index[k], weight, len(spec.vocabulary)))
        n_features = sum(n for _, _, n in parts_v)
        kind, coef, intercept, constants = _head(dim, pipe.steps[1][1], n_features, where)
        if coef.shape[1] != n_features:
            raise CompileError(f"{where}: classifier expects {coef.shape[1]} features, got {n_features}")
        n_outputs = 2 if coef.shape[0] == 1 and kind != "softmax" else coef.shape[0]
        if dim in labels and n_outputs != len(labels[dim]):
            raise CompileError(
                f"{where}: predict_proba gives {n_outputs} columns but the model has "
                f"{len(labels[dim])} labels"
            )
        parts = []
        offset = 0
        for v, weight, n in parts_v:
            # A FeatureUnion weight scales the vectorizer's output; fold it into the coefs.
            block = coef[:, offset : offset + n].T * weight if weight != 1.0 else coef[:, offset : offset + n].T
            parts.append((v, np.ascontiguousarray(block)))
            offset += n
        heads.append(HeadSpec(dim, kind, parts, intercept, constants, n_outputs))
    return CompiledModel(vectorizers, heads)


# --------------------------------------------------------------------------- scoring


class _Grow:
    """A 2-D float array with amortised appends (rows)."""

    def __init__(self, width: int) -> None:
        self.data = np.zeros((256, width))
        self.size = 0

    def extend(self, rows: np.ndarray) -> None:
        need = self.size + len(rows)
        if need > len(self.data):
            bigger = np.zeros((max(need, 2 * len(self.data)), self.data.shape[1]))
            bigger[: self.size] = self.data[: self.size]
            self.data = bigger
        self.data[self.size : need] = rows
        self.size = need


class _WordCache(dict):  # type: ignore[type-arg]
    """Word -> unit id; a miss analyses the word (``map(cache.__getitem__, words)``)."""

    def __init__(self, analyse: Callable[[str], list[int]]) -> None:
        super().__init__()
        self.analyse = analyse
        self.pending: list[list[int]] = []
        self.base = 0

    def __missing__(self, word: str) -> int:
        uid = self.base + len(self.pending)
        self.pending.append(self.analyse(word))
        self[word] = uid
        return uid


class _Vectorizer:
    """Scores documents with one vectorizer's features against stacked coefficients."""

    def __init__(self, spec: VectorizerSpec, weights: np.ndarray) -> None:
        self.spec = spec
        n = len(spec.vocabulary)
        self.n_features = n
        self.vocab = dict(zip(spec.vocabulary, range(n), strict=True))
        idf = spec.idf if spec.idf is not None else np.ones(n)
        self.idf = idf
        self.idf2 = idf * idf
        # Feature rows already scaled by idf: a feature seen once contributes its row.
        self.rows = np.ascontiguousarray(weights * idf[:, None])
        self.width = weights.shape[1]
        self.min_n, self.max_n = spec.ngram_range
        self.correct = spec.binary or spec.sublinear_tf
        if spec.analyzer == "word":
            self.tokenize = re.compile(spec.token_pattern or r"(?u)\b\w\w+\b").findall
            self.stop = frozenset(spec.stop_words) if spec.stop_words is not None else None
        if spec.analyzer == "char_wb":
            self._reset_cache()

    # ----------------------------------------------------------- char_wb word units
    def _reset_cache(self) -> None:
        get, min_n, max_n = self.vocab.get, self.min_n, self.max_n

        def analyse(word: str) -> list[int]:
            return [i for i in map(get, char_wb_ngrams(word, min_n, max_n)) if i is not None]

        self.cache = _WordCache(analyse)
        self.unit_rows = _Grow(self.width)
        self.unit_q = np.zeros(0)
        self.unit_l1 = np.zeros(0)
        self.unit_start = np.zeros(0, dtype=np.int64)
        self.unit_len = np.zeros(0, dtype=np.int64)
        self.unit_flat = np.zeros(0, dtype=np.int64)

    def _flush(self) -> None:
        pending = self.cache.pending
        if not pending:
            return
        lens = np.fromiter(map(len, pending), np.int64, len(pending))
        flat = np.fromiter(chain.from_iterable(pending), np.int64, int(lens.sum()))
        rows = np.zeros((len(pending), self.width))
        nonempty = lens > 0
        starts = np.cumsum(lens) - lens
        if flat.size:
            rows[nonempty] = np.add.reduceat(self.rows[flat], starts[nonempty], axis=0)
        q = np.zeros(len(pending))
        l1 = np.zeros(len(pending))
        if flat.size:
            q[nonempty] = np.add.reduceat(self.idf2[flat], starts[nonempty])
            l1[nonempty] = np.add.reduceat(self.idf[flat], starts[nonempty])
        self.unit_rows.extend(rows)
        self.unit_q = np.concatenate([self.unit_q, q])
        self.unit_l1 = np.concatenate([self.unit_l1, l1])
        self.unit_start = np.concatenate([self.unit_start, starts + len(self.unit_flat)])
        self.unit_len = np.concatenate([self.unit_len, lens])
        self.unit_flat = np.concatenate([self.unit_flat, flat])
        self.cache.base += len(pending)
        self.cache.pending = []

    # ----------------------------------------------------------- analysis per batch
    def _units(self, docs: Sequence[str]) -> tuple[np.ndarray, np.ndarray, bool]:
        """Unit ids, their document index, and whether units are single features."""
        analyzer = self.spec.analyzer
        n = len(docs)
        if analyzer == "char_wb":
            if len(self.cache) > MAX_CACHED_WORDS:
                self._reset_cache()
            per_doc = list(map(str.split, docs))
            counts = np.fromiter(map(len, per_doc), np.int64, n)
            words = list(chain.from_iterable(per_doc))
            uids = np.fromiter(map(self.cache.__getitem__, words), np.int64, len(words))
            self._flush()
            return uids, np.repeat(np.arange(n), counts), False
        if analyzer == "word":
            grams_per_doc = self._word_grams(docs)
        else:
            grams_per_doc = [char_ngrams(d, self.min_n, self.max_n) for d in docs]
        counts = np.fromiter(map(len, grams_per_doc), np.int64, n)
        grams = chain.from_iterable(grams_per_doc)
        total = int(counts.sum())
        ids = np.fromiter(map(self.vocab.get, grams, repeat(-1)), np.int64, total)
        doc = np.repeat(np.arange(n), counts)
        keep = ids >= 0
        return ids[keep], doc[keep], True

    def _word_grams(self, docs: Sequence[str]) -> list[list[str]]:
        tokens = list(map(self.tokenize, docs))
        if self.stop is not None:
            stop = self.stop
            tokens = [[t for t in toks if t not in stop] for toks in tokens]
        min_n, max_n = self.min_n, self.max_n
        if (min_n, max_n) == (1, 1):
            return tokens
        if (min_n, max_n) == (1, 2):
            # The default: unigrams then bigrams, built by C-level map over pairs.
            join = " ".join
            return [toks + list(map(join, zip(toks, toks[1:]))) for toks in tokens]
        return [word_ngrams(toks, min_n, max_n) for toks in tokens]

    def score(self, docs: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
        """``X . weights`` (n_docs, width) and the norm of ``X`` per document."""
        n = len(docs)
        uids, doc, single = self._units(docs)
        out = np.zeros((n, self.width))
        norm_kind = self.spec.norm
        if single:
            rows, q, l1 = self.rows, self.idf2, self.idf
            occ, occ_doc = uids, doc
        else:
            rows, q, l1 = self.unit_rows.data, self.unit_q, self.unit_l1
            lens = self.unit_len[uids] if self.correct else None
        if uids.size:
            per_doc = np.bincount(doc, minlength=n)
            starts = np.cumsum(per_doc) - per_doc
            present = per_doc > 0
            out[present] = np.add.reduceat(np.take(rows, uids, axis=0), starts[present], axis=0)
        if norm_kind == "l2":
            sq = np.bincount(doc, weights=np.take(q, uids), minlength=n)
        elif norm_kind == "l1":
            sq = np.bincount(doc, weights=np.take(l1, uids), minlength=n)
        else:
            sq = None
        if self.correct and uids.size:
            if not single:
                assert lens is not None
                total = int(lens.sum())
                ends = np.cumsum(lens)
                idx = np.repeat(self.unit_start[uids] - (ends - lens), lens)
                idx += np.arange(total)
                occ = self.unit_flat[idx]
                occ_doc = np.repeat(doc, lens)
            self._repeats(occ, occ_doc, out, sq)
        if sq is None:
            return out, np.ones(n)
        norm = np.sqrt(sq) if norm_kind == "l2" else sq
        return out, norm

    def _repeats(
        self, occ: np.ndarray, occ_doc: np.ndarray, out: np.ndarray, sq: np.ndarray | None
    ) -> None:
        """Correct the naive sums for features seen more than once in a document."""
        keys = occ_doc * self.n_features + occ
        keys.sort()
        same = keys[1:] == keys[:-1]
        if not same.any():
            return
        dup_keys, extra = np.unique(keys[1:][same], return_counts=True)
        count = extra + 1.0
        feat = dup_keys % self.n_features
        doc = dup_keys // self.n_features
        if self.spec.binary:
            tf = np.ones_like(count)
        elif self.spec.sublinear_tf:
            tf = 1.0 + np.log(count)
        else:  # pragma: no cover - no correction needed: tf is the count
            tf = count
        np.add.at(out, doc, (tf - count)[:, None] * self.rows[feat])
        if sq is not None:
            if self.spec.norm == "l2":
                np.add.at(sq, doc, (tf * tf - count) * self.idf2[feat])
            else:
                np.add.at(sq, doc, (tf - count) * self.idf[feat])


def _expit(x: np.ndarray) -> np.ndarray:
    out = np.empty_like(x)
    pos = x >= 0
    out[pos] = 1.0 / (1.0 + np.exp(-x[pos]))
    ex = np.exp(x[~pos])
    out[~pos] = ex / (1.0 + ex)
    return out


class CompiledModel:
    """Linear TF-IDF pipelines as arrays; see the module docstring.

    Examples
    --------
    >>> model = CompiledModel.load("models/default")           # doctest: +SKIP
    >>> model.predict_proba(["The West is a threat."])["frames"].shape  # doctest: +SKIP
    (1, 12)
    """

    def __init__(self, vectorizers: list[VectorizerSpec], heads: list[HeadSpec]) -> None:
        self.vectorizer_specs = vectorizers
        self.heads = heads
        # Stack every head's coefficients per vectorizer, so a vectorizer is applied once.
        blocks: list[list[np.ndarray]] = [[] for _ in vectorizers]
        self._columns: list[list[tuple[int, slice]]] = []
        widths = [0] * len(vectorizers)
        for head in heads:
            cols = []
            for v, coef in head.parts:
                cols.append((v, slice(widths[v], widths[v] + coef.shape[1])))
                widths[v] += coef.shape[1]
                blocks[v].append(coef)
            self._columns.append(cols)
        self._vectorizers = [
            _Vectorizer(spec, np.hstack(b) if b else np.zeros((len(spec.vocabulary), 0)))
            for spec, b in zip(vectorizers, blocks, strict=True)
        ]
        prep = {(s.lowercase, s.strip_accents) for s in vectorizers}
        self._preprocessings = sorted(prep, key=repr)

    @property
    def dimensions(self) -> tuple[str, ...]:
        return tuple(h.dimension for h in self.heads)

    def decision_function(self, texts: Sequence[str]) -> dict[str, np.ndarray]:
        """Decision values per dimension, ``(len(texts), n_decisions)`` each."""
        texts = list(texts)
        parts = [self._decisions(texts[i : i + CHUNK]) for i in range(0, len(texts), CHUNK)]
        if not parts:
            return {h.dimension: np.zeros((0, len(h.intercept))) for h in self.heads}
        return {h.dimension: np.vstack([p[h.dimension] for p in parts]) for h in self.heads}

    def _decisions(self, texts: Sequence[str]) -> dict[str, np.ndarray]:
        for i, t in enumerate(texts):
            if not isinstance(t, str):
                raise TypeError(f"text {i} is {type(t).__name__}, not str")
        prepared: dict[tuple[bool, str | None], list[str]] = {}
        for lower, accents in self._preprocessings:
            docs = list(map(str.lower, texts)) if lower else list(texts)
            strip = _ACCENTS[accents]
            if strip is not None:
                docs = list(map(strip, docs))
            prepared[(lower, accents)] = docs
        scored = []
        for vec in self._vectorizers:
            raw, norm = vec.score(prepared[(vec.spec.lowercase, vec.spec.strip_accents)])
            safe = np.where(norm == 0.0, 1.0, norm)
            scored.append(raw / safe[:, None])
        out = {}
        for head, cols in zip(self.heads, self._columns, strict=True):
            d = np.zeros((len(texts), len(head.intercept)))
            for v, cs in cols:
                d += scored[v][:, cs]
            d += head.intercept
            out[head.dimension] = d
        return out

    def predict_proba(self, texts: Sequence[str]) -> dict[str, np.ndarray]:
        """Per dimension, the pipeline's ``predict_proba``: ``(len(texts), n_labels)``.

        Raises
        ------
        TypeError
            When an item of ``texts`` is not a string.
        """
        decisions = self.decision_function(texts)
        return {h.dimension: self._proba(h, decisions[h.dimension]) for h in self.heads}

    @staticmethod
    def _proba(head: HeadSpec, d: np.ndarray) -> np.ndarray:
        if head.kind == "softmax":
            d = d - d.max(axis=1, keepdims=True)
            e = np.exp(d)
            return e / e.sum(axis=1, keepdims=True)
        p = _expit(d)
        for j, const in enumerate(head.constants):
            if const is not None:
                p[:, j] = const
        if p.shape[1] == 1:
            # scikit-learn returns both classes of a binary problem: [1 - p, p].
            p = np.hstack([1 - p, p])
        if head.kind == "ovr_normalized":
            sums = p.sum(axis=1, keepdims=True)
            np.divide(p, sums, out=p, where=sums != 0)
        return p

    # ----------------------------------------------------------- files
    def save(self, folder: str | Path) -> None:
        """Write ``compiled.json`` and ``compiled.npz`` into ``folder``."""
        folder = Path(folder)
        arrays: dict[str, np.ndarray] = {}
        vecs = []
        for i, spec in enumerate(self.vectorizer_specs):
            vecs.append({**spec.settings(), "vocabulary": spec.vocabulary})
            if spec.idf is not None:
                arrays[f"idf_{i}"] = spec.idf
        heads = []
        for h, head in enumerate(self.heads):
            parts = []
            for p, (v, coef) in enumerate(head.parts):
                arrays[f"coef_{h}_{p}"] = coef
                parts.append({"vectorizer": v, "coef": f"coef_{h}_{p}"})
            arrays[f"intercept_{h}"] = head.intercept
            heads.append(
                {
                    "dimension": head.dimension,
                    "kind": head.kind,
                    "parts": parts,
                    "intercept": f"intercept_{h}",
                    "constants": head.constants,
                    "n_outputs": head.n_outputs,
                }
            )
        doc = {"compiled_version": COMPILED_VERSION, "vectorizers": vecs, "heads": heads}
        text = json.dumps(doc, ensure_ascii=False, separators=(",", ":"))
        (folder / JSON_NAME).write_bytes(text.encode("utf-8", "surrogatepass"))
        with open(folder / NPZ_NAME, "wb") as fh:
            np.savez(fh, **arrays)

    @classmethod
    def load(cls, folder: str | Path) -> CompiledModel:
        """Read a compiled model; no code from the files runs (no pickle).

        Raises
        ------
        ModelError
            When a file is missing, unreadable or inconsistent.
        """
        folder = Path(folder)
        jpath, npath = folder / JSON_NAME, folder / NPZ_NAME
        for path in (jpath, npath):
            if not path.is_file():
                raise ModelError(f"{path} is missing; copy the whole model folder")
        try:
            doc = json.loads(jpath.read_bytes().decode("utf-8", "surrogatepass"))
        except (ValueError, UnicodeDecodeError) as exc:
            raise ModelError(f"{jpath}: not valid JSON ({exc})") from None
        try:
            with np.load(npath, allow_pickle=False) as npz:
                arrays = {name: npz[name] for name in npz.files}
        except (OSError, ValueError) as exc:
            raise ModelError(f"{npath}: not a readable numpy archive ({exc})") from None
        try:
            return cls._from_doc(doc, arrays)
        except (KeyError, TypeError, ValueError, IndexError) as exc:
            if isinstance(exc, ModelError):
                raise
            raise ModelError(f"{jpath}: inconsistent compiled model ({type(exc).__name__}: {exc})") from None

    @classmethod
    def _from_doc(cls, doc: dict[str, Any], arrays: dict[str, np.ndarray]) -> CompiledModel:
        version = doc.get("compiled_version")
        if version != COMPILED_VERSION:
            raise ModelError(
                f"compiled model version {version} is not {COMPILED_VERSION}; "
                "re-save the model with this framing (or load it with use_compiled=False)"
            )
        specs = []
        for i, v in enumerate(doc["vectorizers"]):
            if v["analyzer"] not in ANALYZERS or v["strip_accents"] not in _ACCENTS:
                raise ValueError(f"vectorizer {i}: unknown analyzer or strip_accents")
            idf = np.asarray(arrays[f"idf_{i}"], dtype=np.float64) if v["use_idf"] else None
            vocab = v["vocabulary"]
            if idf is not None and len(idf) != len(vocab):
                raise ValueError(f"vectorizer {i}: {len(idf)} idf weights for {len(vocab)} terms")
            specs.append(
                VectorizerSpec(
                    analyzer=v["analyzer"],
                    ngram_range=(int(v["ngram_range"][0]), int(v["ngram_range"][1])),
                    lowercase=bool(v["lowercase"]),
                    strip_accents=v["strip_accents"],
                    token_pattern=v["token_pattern"],
                    stop_words=v["stop_words"],
                    binary=bool(v["binary"]),
                    sublinear_tf=bool(v["sublinear_tf"]),
                    norm=v["norm"],
                    vocabulary=vocab,
                    idf=idf,
                )
            )
        heads = []
        for h in doc["heads"]:
            if h["kind"] not in HEAD_KINDS:
                raise ValueError(f"head '{h['dimension']}': unknown kind {h['kind']!r}")
            parts = []
            for p in h["parts"]:
                coef = np.asarray(arrays[p["coef"]], dtype=np.float64)
                v = int(p["vectorizer"])
                if coef.ndim != 2 or coef.shape[0] != len(specs[v].vocabulary):
                    raise ValueError(f"head '{h['dimension']}': coefficients do not fit vectorizer {v}")
                parts.append((v, coef))
            intercept = np.asarray(arrays[h["intercept"]], dtype=np.float64)
            heads.append(
                HeadSpec(h["dimension"], h["kind"], parts, intercept, list(h["constants"]), int(h["n_outputs"]))
            )
        return cls(specs, heads)


def iter_chunks(items: Iterable[Any], size: int) -> Iterable[list[Any]]:
    """Lists of up to ``size`` consecutive items."""
    chunk: list[Any] = []
    for item in items:
        chunk.append(item)
        if len(chunk) >= size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


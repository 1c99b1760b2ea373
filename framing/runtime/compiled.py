"""Linear TF-IDF models as plain arrays: fast, safe scoring without scikit-learn.

A model folder's pipelines (one per dimension, see :mod:`framing.runtime.model`) are
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

Word n-grams are looked up as integer keys (token ids) in a hash table of the
vocabulary's n-grams.  The union of vectorizers is concatenation with separate l2
norms, so each vectorizer contributes ``(X_v . coef_v) / ||X_v||``; identical
vectorizers shared by several dimensions are analysed once.

Two backends
------------
The per-sentence sums run in ``framing.runtime._speedups`` (``_speedups.c``, compiled at
install time when a C compiler is there), which counts each sentence's features in
one pass instead of sorting; without it, numpy does the same arithmetic in batches.
Both give the scikit-learn scores to rounding, and the tests run both.  Set the
environment variable ``FRAMING_NO_SPEEDUPS=1`` to use numpy even when the module is
built.
"""

from __future__ import annotations

import json
import os
import re
import unicodedata
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from itertools import chain, repeat
from pathlib import Path
from typing import Any

import numpy as np

from framing.errors import ModelError
from framing.runtime._native import speedups as _native
from framing.runtime.explain import (
    ExplainRequest,
    LabelExplanation,
    LinearPart,
    explain_by_head,
    linear_explanations,
)

__all__ = ["CompiledModel", "CompileError", "compile_pipelines", "COMPILED_VERSION"]

#: Version of the compiled.json/compiled.npz layout.
COMPILED_VERSION = 1
JSON_NAME = "compiled.json"
NPZ_NAME = "compiled.npz"
ANALYZERS = ("word", "char", "char_wb")
#: Proba kinds of a head: how decision values become the pipeline's predict_proba columns.
HEAD_KINDS = ("ovr", "ovr_normalized", "binary", "softmax")
_WHITE_SPACES = re.compile(r"\s\s+")
DEFAULT_TOKEN_PATTERN = r"(?u)\b\w\w+\b"
#: Documents per scoring chunk: bounds the memory of a call, whatever its size.
CHUNK = 4096
#: Distinct words cached per char_wb vectorizer before the cache starts afresh.
MAX_CACHED_WORDS = 200_000


class CompileError(ModelError):
    """A pipeline is not of a shape :mod:`framing.runtime.compiled` can turn into arrays."""


_ARRAY_NAME = re.compile(r"[A-Za-z0-9_]+\.npy")


def _read_arrays(npath: Path, fix: str) -> dict[str, np.ndarray]:
    """The numeric arrays of ``compiled.npz``; anything else is refused unread."""
    import zipfile

    try:
        with zipfile.ZipFile(npath) as archive:
            for name in archive.namelist():
                if not _ARRAY_NAME.fullmatch(name):
                    raise ModelError(
                        f"{npath}: unexpected member {name!r} (only plain .npy arrays "
                        f"belong here); {fix}"
                    )
        with np.load(npath, allow_pickle=False) as npz:
            arrays = {name: npz[name] for name in npz.files}
    except ModelError:
        raise
    except Exception as exc:  # zipfile, numpy and OS errors of a damaged file
        reason = f"{type(exc).__name__}: {exc}"
        if "allow_pickle" in reason:
            reason = "it holds pickled Python objects, which are never loaded"
        raise ModelError(f"{npath}: not a readable array archive ({reason}); {fix}") from None
    for name, array in arrays.items():
        if not isinstance(array, np.ndarray) or array.dtype.kind not in "fiub":
            kind = getattr(array, "dtype", type(array).__name__)
            raise ModelError(f"{npath}: member {name!r} is not a numeric array ({kind}); {fix}")
    return arrays


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
    strip = _ACCENTS[spec.strip_accents]
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
    return [[g for w in d.split() for g in char_wb_ngrams(w, min_n, max_n)] for d in docs]


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


def _head(
    dimension: str, clf: Any, n_features: int, where: str
) -> tuple[str, np.ndarray, np.ndarray, list[float | None]]:
    """Kind, coef (n_decisions, n_features), intercept and constants of a classifier."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.multiclass import OneVsRestClassifier, _ConstantPredictor

    if isinstance(clf, OneVsRestClassifier):
        coefs: list[np.ndarray] = []
        intercepts: list[float] = []
        constants: list[float | None] = []
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
            raise CompileError(
                f"{where}: classifier expects {coef.shape[1]} features, got {n_features}"
            )
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
            block = (
                coef[:, offset : offset + n].T * weight
                if weight != 1.0
                else coef[:, offset : offset + n].T
            )
            parts.append((v, np.ascontiguousarray(block)))
            offset += n
        heads.append(HeadSpec(dim, kind, parts, intercept, constants, n_outputs))
    return CompiledModel(vectorizers, heads)


# --------------------------------------------------------------------------- scoring


class _Units(dict[str, int]):
    """Whitespace-separated word -> unit id; a miss queues the word for analysis.

    Used as ``map(units.__getitem__, words)``, which stays in C for known words.
    """

    def __init__(self) -> None:
        super().__init__()
        self.pending: list[str] = []

    def __missing__(self, word: str) -> int:
        uid = len(self)
        self[word] = uid
        self.pending.append(word)
        return uid


def _new_units() -> Any:
    """An empty word cache: the compiled ``WordTable`` when there is one, else ``_Units``."""
    if _native is None:
        return _Units()
    return _native.WordTable(seed=int.from_bytes(os.urandom(8), "little"))


class _Growing:
    """An array that grows along its first axis with amortised (doubling) appends."""

    def __init__(self, shape: tuple[int, ...] = (), dtype: Any = np.float64) -> None:
        self.data = np.zeros((64, *shape), dtype=dtype)
        self.size = 0

    @property
    def view(self) -> np.ndarray:
        return self.data[: self.size]

    def extend(self, values: np.ndarray) -> None:
        need = self.size + len(values)
        if need > len(self.data):
            bigger = np.zeros(
                (max(need, 2 * len(self.data)), *self.data.shape[1:]), self.data.dtype
            )
            bigger[: self.size] = self.data[: self.size]
            self.data = bigger
        self.data[self.size : need] = values
        self.size = need


class _Ragged:
    """Append-only lists of integers per unit, stored flat (CSR-like)."""

    def __init__(self, dtype: Any = np.int64) -> None:
        self._flat = _Growing(dtype=dtype)
        self._start = _Growing(dtype=np.int64)
        self._length = _Growing(dtype=np.int64)
        self.flat = self._flat.view
        self.start = self.length = np.zeros(0, dtype=np.int64)

    def extend(self, lists: list[list[int]]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        lens = np.fromiter(map(len, lists), np.int64, len(lists))
        flat = np.fromiter(chain.from_iterable(lists), self._flat.data.dtype, int(lens.sum()))
        starts = np.cumsum(lens) - lens
        self._start.extend(starts + self._flat.size)
        self._length.extend(lens)
        self._flat.extend(flat)
        self.flat, self.start, self.length = self._flat.view, self._start.view, self._length.view
        return flat, starts, lens

    def gather(self, uids: np.ndarray, udoc: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The concatenated lists of ``uids`` and the document of each item."""
        lens = self.length[uids]
        ends = np.cumsum(lens)
        if not len(ends) or not ends[-1]:
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
        idx = np.repeat(self.start[uids] - (ends - lens), lens)
        idx += np.arange(int(ends[-1]))
        return self.flat[idx], np.repeat(udoc, lens)

    def keys(self, uids: np.ndarray, udoc: np.ndarray, width: int) -> np.ndarray | None:
        """``doc * width + item`` for the concatenated lists of ``uids``, or None if empty.

        uint32 when the keys fit (about twice as fast to sort), else int64.
        """
        lens = self.length[uids]
        ends = np.cumsum(lens)
        if not len(ends) or not ends[-1]:
            return None
        idx = np.repeat(self.start[uids] - (ends - lens), lens)
        idx += np.arange(int(ends[-1]))
        dtype: type[np.integer[Any]] = (
            np.uint32 if (int(udoc[-1]) + 1) * width < 2**32 else np.int64
        )
        keys: np.ndarray = self.flat.take(idx).astype(dtype, copy=False)
        keys += np.repeat((udoc * width).astype(dtype), lens)
        return keys


def _add_segments(out: np.ndarray, values: np.ndarray, doc: np.ndarray) -> None:
    """``out[d] += values[doc == d].sum(0)`` for ``doc`` ascending."""
    if not len(doc):
        return
    change = np.empty(len(doc), dtype=bool)
    change[0] = True
    np.not_equal(doc[1:], doc[:-1], out=change[1:])
    bounds = np.flatnonzero(change)
    out[doc[bounds]] += np.add.reduceat(values, bounds, axis=0)


class _IntTable:
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
            slots, first = np.unique(pos[free], return_index=True)
            winners = cand[first]
            self.keys[slots] = keys[winners]
            self.values[slots] = values[winners]
            placed = np.zeros(len(keys), dtype=bool)
            placed[winners] = True
            todo = todo[~placed[todo]]
            self.probes += 1

    def _hash(self, keys: np.ndarray) -> np.ndarray:
        mixed = keys.astype(np.uint64) * self._MULT
        return (mixed >> self.shift).astype(np.int64)

    def get(self, query: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Positions of ``query`` found in the table, and their values."""
        found_at: list[np.ndarray] = []
        found_val: list[np.ndarray] = []
        todo = np.arange(len(query))
        home = self._hash(query)
        for probe in range(self.probes):
            if not len(todo):
                break
            pos = (home[todo] + probe) & self.mask
            stored = self.keys[pos]
            hit = stored == query[todo]
            found_at.append(todo[hit])
            found_val.append(self.values[pos[hit]])
            todo = todo[~hit & (stored != -1)]
        if not found_at:
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
        at = np.concatenate(found_at)
        order = np.argsort(at, kind="stable")
        return at[order], np.concatenate(found_val)[order]


@dataclass
class _Batch:
    """Documents as unit (word) ids: ``uids[doc_ptr[d]:doc_ptr[d + 1]]`` is document d."""

    uids: np.ndarray  # int32
    udoc: np.ndarray  # int64, the document of each entry of uids
    doc_ptr: np.ndarray  # int64, n + 1

    @property
    def n(self) -> int:
        return len(self.doc_ptr) - 1


class _Scorer:
    """Scores documents with one vectorizer against stacked coefficient columns.

    ``score`` returns ``X . weights`` (n_docs, width) and the norm of ``X`` per
    document, ``X`` being the vectorizer's un-normalised TF-IDF rows.
    """

    uses_units = False

    def __init__(self, spec: VectorizerSpec, weights: np.ndarray) -> None:
        self.spec = spec
        n = len(spec.vocabulary)
        self.n_features = n
        idf = spec.idf if spec.idf is not None else np.ones(n)
        # Features are renumbered from the most frequent (lowest idf) down, so the rows
        # that most sentences touch sit together in memory and stay in the CPU caches.
        order = np.argsort(idf, kind="stable")
        self.feature_id = np.empty(n, dtype=np.int64)
        self.feature_id[order] = np.arange(n)
        self.vocab = dict(zip(spec.vocabulary, self.feature_id.tolist(), strict=True))
        idf = idf[order]
        self.idf = idf
        self.idf2 = idf * idf
        # Feature rows already scaled by idf: a feature seen once contributes its row.
        self.rows = np.ascontiguousarray(weights[order] * idf[:, None])
        self.width = weights.shape[1]
        self.min_n, self.max_n = spec.ngram_range
        # Repeated features need a correction unless tf is the count and the norm linear.
        self.correct = spec.binary or spec.sublinear_tf or spec.norm == "l2"
        # How the compiled loops weigh terms (see _speedups.c).
        self.tf_mode = 1 if spec.binary else 2 if spec.sublinear_tf else 0
        self.norm_mode = {None: 0, "l1": 1, "l2": 2}[spec.norm]

    def reset(self) -> None:
        """Forget per-unit data (the unit table started afresh)."""

    def add_units(self, words: list[str]) -> None:
        """Analyse new units (appended in unit-id order)."""

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
                _add_segments(out, np.take(self.rows, f, axis=0), d)
                if sq is not None and nw is not None:
                    sq += np.bincount(d, weights=np.take(nw, f), minlength=n)
        return out, sq

    def _occurrences(
        self, feats: list[np.ndarray], docs: list[np.ndarray], n: int
    ) -> tuple[np.ndarray, np.ndarray]:
        """Scores of feature occurrences, given as lists sorted by document each."""
        if _native is None or not self.n_features:
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
        return self._run_native(_native.feature_scores, n, doc_ptr, feat)

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
        first = np.empty(len(keys), dtype=bool)
        first[0] = True
        np.not_equal(keys[1:], keys[:-1], out=first[1:])
        starts = np.flatnonzero(first)
        runs = np.diff(starts, append=len(keys))
        repeated = runs > 1
        if not repeated.any():
            return
        dup = keys[starts[repeated]].astype(np.int64)
        count = runs[repeated].astype(np.float64)
        feat = dup % nf
        doc = dup // nf
        if self.spec.binary:
            tf = np.ones_like(count)
        elif self.spec.sublinear_tf:
            tf = 1.0 + np.log(count)
        else:
            tf = count
        _add_segments(out, (tf - count)[:, None] * np.take(self.rows, feat, axis=0), doc)
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

    def score_units(self, batch: _Batch) -> tuple[np.ndarray, np.ndarray]:
        """Score documents given as units (only scorers with ``uses_units``)."""
        raise NotImplementedError  # pragma: no cover


class _CharWBScorer(_Scorer):
    """``char_wb`` n-grams, cached per word: each word's n-grams are summed once."""

    uses_units = True

    def __init__(self, spec: VectorizerSpec, weights: np.ndarray) -> None:
        super().__init__(spec, weights)
        self.reset()

    def reset(self) -> None:
        self.feats = _Ragged(np.int32)  # feature ids: vocabularies stay far below 2**31
        self._rows = _Growing((self.width,))
        self._norm = _Growing()
        self.unit_rows = self._rows.view
        self.unit_norm = self._norm.view

    def add_units(self, words: list[str]) -> None:
        get, min_n, max_n = self.vocab.get, self.min_n, self.max_n
        lists = [
            [i for i in map(get, char_wb_ngrams(w, min_n, max_n)) if i is not None] for w in words
        ]
        flat, starts, lens = self.feats.extend(lists)
        rows = np.zeros((len(words), self.width))
        norm = np.zeros(len(words))
        nonempty = lens > 0
        if flat.size:
            rows[nonempty] = np.add.reduceat(self.rows[flat], starts[nonempty], axis=0)
            nw = self._norm_weights()
            if nw is not None:
                norm[nonempty] = np.add.reduceat(nw[flat], starts[nonempty])
        self._rows.extend(rows)
        self._norm.extend(norm)
        self.unit_rows, self.unit_norm = self._rows.view, self._norm.view

    def score_units(self, batch: _Batch) -> tuple[np.ndarray, np.ndarray]:
        n, uids, udoc = batch.n, batch.uids, batch.udoc
        if _native is not None and self.n_features:
            f = self.feats
            return self._run_native(
                _native.unit_scores,
                n,
                *(batch.doc_ptr, uids, f.start, f.length, f.flat),
                *(self.unit_rows, self.unit_norm),
            )
        out = np.zeros((n, self.width))
        sq = None
        if self.spec.norm is not None:
            sq = np.bincount(udoc, weights=np.take(self.unit_norm, uids), minlength=n)
        if len(uids):
            _add_segments(out, np.take(self.unit_rows, uids, axis=0), udoc)
            if self.correct:
                keys = self.feats.keys(uids, udoc, self.n_features)
                if keys is not None:
                    self._repeated_keys(keys, out, sq)
        return self._finish(out, sq, n)


class _WordScorer(_Scorer):
    """Word n-grams with the default token pattern, as integer keys.

    Tokens never cross whitespace, so each whitespace-separated word is tokenized
    once and cached as token ids; n-grams are integer keys looked up with
    a numpy hash table of the vocabulary's n-grams.
    """

    uses_units = True

    def __init__(
        self,
        spec: VectorizerSpec,
        weights: np.ndarray,
        tokens: dict[str, int],
        parts: list[list[str]],
    ) -> None:
        super().__init__(spec, weights)
        self.tokenize = re.compile(DEFAULT_TOKEN_PATTERN).findall
        self.tokens = tokens
        size = self.token_count = max(len(tokens), 1)
        lengths = np.fromiter(map(len, parts), np.int64, len(parts))
        flat = np.fromiter(
            map(tokens.__getitem__, chain.from_iterable(parts)), np.int64, int(lengths.sum())
        )
        starts = np.cumsum(lengths) - lengths
        features = self.feature_id
        self.unigram = np.full(size, -1, dtype=np.int64)
        one = lengths == 1
        self.unigram[flat[starts[one]]] = features[one]
        self.ngram_tables: dict[int, _IntTable] = {}
        for k in np.unique(lengths[lengths > 1]).tolist():
            sel = lengths == k
            key = np.zeros(int(sel.sum()), dtype=np.int64)
            for j in range(k):
                key = key * size + flat[starts[sel] + j]
            self.ngram_tables[k] = _IntTable(key, features[sel])
        self.reset()

    @classmethod
    def build(cls, spec: VectorizerSpec, weights: np.ndarray) -> _Scorer:
        """A word scorer, by integer keys when the settings allow it, else by strings."""
        if spec.token_pattern != DEFAULT_TOKEN_PATTERN or spec.stop_words is not None:
            return _Scorer(spec, weights)
        parts = [term.split(" ") for term in spec.vocabulary]
        names = dict.fromkeys(chain.from_iterable(parts))
        tokens = dict(zip(names, range(len(names)), strict=True))
        if max(len(tokens), 1) ** spec.ngram_range[1] >= 2**62:
            return _Scorer(spec, weights)
        return cls(spec, weights, tokens, parts)

    def reset(self) -> None:
        self.unit_tokens = _Ragged()

    def add_units(self, words: list[str]) -> None:
        get, tokenize = self.tokens.get, self.tokenize
        self.unit_tokens.extend([[get(t, -1) for t in tokenize(w)] for w in words])

    def score_units(self, batch: _Batch) -> tuple[np.ndarray, np.ndarray]:
        n = batch.n
        if _native is not None and self.n_features and self.max_n <= 2:
            return self._score_native(batch)
        tid, doc = self.unit_tokens.gather(batch.uids, batch.udoc)
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

    def _score_native(self, batch: _Batch) -> tuple[np.ndarray, np.ndarray]:
        assert _native is not None
        table = self.ngram_tables.get(2)
        if table is None:
            table = _IntTable(np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64))
        t = self.unit_tokens
        return self._run_native(
            _native.word_scores,
            batch.n,
            *(batch.doc_ptr, batch.uids, t.start, t.length, t.flat, self.unigram),
            *(table.keys, table.values, table.probes, int(table.shift), self.token_count),
            *(self.min_n, self.max_n),
        )


def _make_scorer(spec: VectorizerSpec, weights: np.ndarray) -> _Scorer:
    if spec.analyzer == "char_wb":
        return _CharWBScorer(spec, weights)
    if spec.analyzer == "word":
        return _WordScorer.build(spec, weights)
    return _Scorer(spec, weights)


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
        self._scorers = [
            _make_scorer(spec, np.hstack(b) if b else np.zeros((len(spec.vocabulary), 0)))
            for spec, b in zip(vectorizers, blocks, strict=True)
        ]
        # Vectorizers with the same preprocessing share one table of words.
        self._preps = sorted({(s.lowercase, s.strip_accents) for s in vectorizers}, key=repr)
        self._units = {prep: _new_units() for prep in self._preps}
        # Term -> column per vectorizer, built on the first explanation.
        self._columns_of: dict[int, dict[str, int]] = {}
        self._word_columns: dict[int, dict[str, np.ndarray]] = {}

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
        n = len(texts)
        scored: list[np.ndarray | None] = [None] * len(self._scorers)
        for prep in self._preps:
            lower, accents = prep
            docs = list(map(str.lower, texts)) if lower else list(texts)
            strip = _ACCENTS[accents]
            if strip is not None:
                docs = list(map(strip, docs))
            users = [
                (i, sc)
                for i, sc in enumerate(self._scorers)
                if (sc.spec.lowercase, sc.spec.strip_accents) == prep
            ]
            if any(sc.uses_units for _, sc in users):
                units = self._units[prep]
                fresh = _Units if _native is None else _native.WordTable
                if len(units) > MAX_CACHED_WORDS or not isinstance(units, fresh):
                    units = self._units[prep] = _new_units()
                    for _, sc in users:
                        sc.reset()
                if isinstance(units, _Units):
                    per_doc = list(map(str.split, docs))
                    counts = np.fromiter(map(len, per_doc), np.int64, n)
                    words = chain.from_iterable(per_doc)
                    uids = np.fromiter(map(units.__getitem__, words), np.int32, int(counts.sum()))
                    new_words, units.pending = units.pending, []
                else:
                    raw_uids, raw_counts, new_words = units.lookup(docs)
                    uids = np.frombuffer(raw_uids, dtype=np.int32)
                    counts = np.frombuffer(raw_counts, dtype=np.int64)
                if new_words:
                    for _, sc in users:
                        if sc.uses_units:
                            sc.add_units(new_words)
                doc_ptr = np.zeros(n + 1, dtype=np.int64)
                np.cumsum(counts, out=doc_ptr[1:])
                batch = _Batch(uids, np.repeat(np.arange(n), counts), doc_ptr)
            for i, sc in users:
                if sc.uses_units:
                    raw, norm = sc.score_units(batch)
                else:
                    raw, norm = sc.score_docs(docs)
                safe = np.where(norm == 0.0, 1.0, norm)
                scored[i] = raw / safe[:, None]
        out = {}
        for head, cols in zip(self.heads, self._columns, strict=True):
            d = np.zeros((len(texts), len(head.intercept)))
            for v, cs in cols:
                block = scored[v]
                assert block is not None
                d += block[:, cs]
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

    # ----------------------------------------------------------- explanations
    def features(self, texts: Sequence[str]) -> list[tuple[np.ndarray, np.ndarray, np.ndarray]]:
        """Per vectorizer, the TF-IDF rows of ``texts`` in CSR form ``(indptr, indices,
        data)``, normalised as the vectorizer does (the ``X`` of ``X . coef``)."""
        return [self._features(v, spec, texts) for v, spec in enumerate(self.vectorizer_specs)]

    def _features(
        self, v: int, spec: VectorizerSpec, texts: Sequence[str]
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        columns = self._columns_of.get(v)
        if columns is None:
            columns = self._columns_of[v] = {t: i for i, t in enumerate(spec.vocabulary)}
        n, nf = len(texts), len(spec.vocabulary)
        docs = preprocess(spec, texts)
        if spec.analyzer == "char_wb":
            # A word's n-grams never cross it: each distinct word is analysed once.
            cache = self._word_columns.setdefault(v, {})
            if len(cache) > MAX_CACHED_WORDS:
                cache.clear()
            min_n, max_n = spec.ngram_range
            per_word: list[np.ndarray] = []
            sizes: list[int] = []
            for doc in docs:
                size = 0
                for w in doc.split():
                    found = cache.get(w)
                    if found is None:
                        grams = char_wb_ngrams(w, min_n, max_n)
                        ids = [c for c in map(columns.get, grams) if c is not None]
                        found = cache[w] = np.array(ids, dtype=np.int64)
                    per_word.append(found)
                    size += len(found)
                sizes.append(size)
            counts = np.array(sizes, dtype=np.int64)
            flat = np.concatenate(per_word) if per_word else np.zeros(0, dtype=np.int64)
        else:
            grams_per_doc = analyze(spec, docs)
            ids_per_doc = [[c for c in map(columns.get, g) if c is not None] for g in grams_per_doc]
            counts = np.fromiter(map(len, ids_per_doc), np.int64, n)
            flat = np.fromiter(chain.from_iterable(ids_per_doc), np.int64, int(counts.sum()))
        # Keys doc * n_features + column, sorted: runs are repeated n-grams. uint32 sorts
        # about twice as fast when the keys fit.
        dtype: type[np.integer[Any]] = np.uint32 if n * nf < 2**32 else np.int64
        keys = np.repeat(np.arange(n, dtype=dtype) * dtype(nf), counts)
        keys += flat.astype(dtype)
        keys.sort()
        first = np.ones(len(keys), dtype=bool)
        np.not_equal(keys[1:], keys[:-1], out=first[1:])
        starts = np.flatnonzero(first)
        tf = np.diff(starts, append=len(keys)).astype(np.float64)
        row, indices = np.divmod(keys[starts].astype(np.int64), nf)
        if spec.binary:
            tf[:] = 1.0
        elif spec.sublinear_tf:
            tf = 1.0 + np.log(tf)
        data = tf * spec.idf[indices] if spec.idf is not None else tf
        if spec.norm is not None:
            weights = data * data if spec.norm == "l2" else np.abs(data)
            norm = np.bincount(row, weights=weights, minlength=n)
            if spec.norm == "l2":
                norm = np.sqrt(norm)
            data = data / np.where(norm == 0.0, 1.0, norm)[row]
        indptr = np.zeros(n + 1, dtype=np.int64)
        np.cumsum(np.bincount(row, minlength=n), out=indptr[1:])
        return indptr, indices, data

    def explain(
        self, texts: Sequence[str], requests: Sequence[ExplainRequest], top: int
    ) -> list[LabelExplanation | None]:
        """Explanations of label scores (see :mod:`framing.runtime.explain`)."""
        wanted = sorted({r.row for r in requests})
        position = {row: i for i, row in enumerate(wanted)}
        feats = self.features([texts[row] for row in wanted])
        heads = {h.dimension: h for h in self.heads}
        specs = self.vectorizer_specs

        def explain_head(dim: str, reqs: list[ExplainRequest]) -> list[LabelExplanation | None]:
            head = heads[dim]
            parts = [
                LinearPart(specs[v].analyzer, specs[v].vocabulary, *feats[v], coef)
                for v, coef in head.parts
            ]
            local = [ExplainRequest(position[r.row], r.dimension, r.column, r.label) for r in reqs]
            return linear_explanations(local, head.kind, head.intercept, head.constants, parts, top)

        return explain_by_head(requests, explain_head)

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
            # Deflate: ~35% smaller (the default model must stay small) for ~30 ms of loading.
            np.savez_compressed(fh, **arrays)  # type: ignore[arg-type]

    @classmethod
    def load(cls, folder: str | Path) -> CompiledModel:
        """Read a compiled model; no code from the files runs (no pickle).

        ``compiled.json`` is checked against ``schemas/compiled.schema.json`` and
        ``compiled.npz`` may hold only numeric arrays with plain member names.

        Raises
        ------
        ModelError
            When a file is missing, unreadable or inconsistent, naming the file.
        """
        from framing.format.schema import load_schema, schema_problems

        folder = Path(folder)
        jpath, npath = folder / JSON_NAME, folder / NPZ_NAME
        fix = (
            "copy the model folder again, or delete compiled.json and compiled.npz "
            "to score with model.skops"
        )
        for path in (jpath, npath):
            if not path.is_file():
                raise ModelError(f"{path} is missing; {fix}")
        try:
            doc = json.loads(jpath.read_bytes().decode("utf-8", "surrogatepass"))
        except (ValueError, UnicodeDecodeError) as exc:
            raise ModelError(f"{jpath}: not valid JSON ({exc}); {fix}") from None
        problems = schema_problems(doc, load_schema("framing.runtime", "compiled"))
        if problems:
            more = f" (and {len(problems) - 3} more)" if len(problems) > 3 else ""
            raise ModelError(
                f"{jpath}: not a compiled model: {'; '.join(problems[:3])}{more}; {fix}"
            )
        arrays = _read_arrays(npath, fix)
        try:
            return cls._from_doc(doc, arrays)
        except ModelError as exc:
            raise ModelError(f"{jpath}: {exc}") from None
        except (KeyError, TypeError, ValueError, IndexError) as exc:
            raise ModelError(
                f"{jpath}: does not match {NPZ_NAME} ({type(exc).__name__}: {exc}); {fix}"
            ) from None

    @classmethod
    def _from_doc(cls, doc: dict[str, Any], arrays: dict[str, np.ndarray]) -> CompiledModel:
        version = doc.get("compiled_version")
        if version != COMPILED_VERSION:
            raise ModelError(
                f"compiled model version {version} is not {COMPILED_VERSION}; "
                "retrain the model with this framing, or delete compiled.json and "
                "compiled.npz to score with model.skops"
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
                    raise ValueError(
                        f"head '{h['dimension']}': coefficients do not fit vectorizer {v}"
                    )
                parts.append((v, coef))
            intercept = np.asarray(arrays[h["intercept"]], dtype=np.float64)
            heads.append(
                HeadSpec(
                    h["dimension"],
                    h["kind"],
                    parts,
                    intercept,
                    list(h["constants"]),
                    int(h["n_outputs"]),
                )
            )
        return cls(specs, heads)

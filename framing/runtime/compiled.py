"""Linear TF-IDF models as plain arrays (scorer kinds ``tfidf-compiled.v2``, and ``v1`` read).

A model folder's pipelines (one per dimension, see :mod:`framing.runtime.model`) are
``TfidfVectorizer``/``FeatureUnion`` features followed by logistic regression.
:func:`framing.runtime.compile.compile_pipelines` turns such fitted pipelines into

``compiled.json``
    analyzer settings and how the classifier heads map onto the arrays;
``compiled.npz``
    numpy arrays only (idf weights, coefficients, intercepts; in layout 2 also the
    vocabularies, terms in column order, and the lookup tables scoring builds from them,
    see :mod:`framing.runtime.compiled_tables`), stored uncompressed and read in one
    pass as read-only arrays, never unpickled, so loading runs no code from the file and
    builds nothing.

Layout 1 (scorer kind ``tfidf-compiled.v1``, folders saved before layout 2) kept the
vocabularies in ``compiled.json`` and deflated the arrays; it still loads (the tables
are then built at load time, which takes several times as long), and
:func:`framing.runtime.recompile.recompile_model` rewrites such a folder in layout 2.

:class:`CompiledModel` scores text with numpy and the standard library only
(importing scikit-learn alone takes longer than tagging an article) and gives
the same ``predict_proba`` as the scikit-learn pipelines, to rounding (about
1e-15).

The module is over 500 lines because the file layout (save, load, checks),
scoring and the exact TF-IDF rows of explanations all read the same specs and change
together; the analyzers, array helpers, per-vectorizer scoring and the compile step
are modules of their own.

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
import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from itertools import chain, repeat
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from framing.errors import ModelError
from framing.runtime import _native
from framing.runtime.analyzers import (
    ACCENT_STRIPPERS,
    ANALYZERS,
    NewWords,
    analyze,
    char_wb_ngrams,
    preprocess,
)
from framing.runtime.array_files import read_arrays, write_arrays
from framing.runtime.arrays import Batch, WordIds, new_word_ids, run_starts
from framing.runtime.compiled_tables import read_strings, read_tables, store_strings, store_tables
from framing.runtime.tfidf_scoring import make_vectorizer_scorer

if TYPE_CHECKING:
    from framing.runtime.explain import ExplainRequest, LabelExplanation
    from framing.runtime.meta import ModelMeta

__all__ = [
    "CompiledModel",
    "VectorizerSpec",
    "HeadSpec",
    "COMPILED_VERSION",
    "load_scorer",
    "save_scorer",
]

#: Version of the compiled.json/compiled.npz layout that is written (1 is still read).
COMPILED_VERSION = 2
JSON_NAME = "compiled.json"
NPZ_NAME = "compiled.npz"
#: Proba kinds of a head: how decision values become the pipeline's predict_proba columns.
HEAD_KINDS = ("ovr", "ovr_normalized", "binary", "softmax")
#: Documents per scoring chunk: bounds the memory of a call, whatever its size.
CHUNK = 4096
#: Distinct words cached per char_wb vectorizer before the cache starts afresh.
MAX_CACHED_WORDS = 200_000


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
    vocabulary: Sequence[str] = field(repr=False)  # a list, or PackedStrings from a folder
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


def _expit(x: np.ndarray) -> np.ndarray:
    """The logistic function, as scikit-learn computes it: ``1 / (1 + exp(-x))`` for
    ``x >= 0`` and ``exp(x) / (1 + exp(x))`` below (no overflow), without masked copies."""
    e = np.exp(-np.abs(x))
    d = 1.0 + e
    out = np.divide(1.0, d)
    np.divide(e, d, out=out, where=x < 0)
    return out


class CompiledModel:
    """Linear TF-IDF pipelines as arrays; see the module docstring.

    Examples
    --------
    >>> model = CompiledModel.load("models/default")           # doctest: +SKIP
    >>> model.predict_proba(["The West is a threat."])["frames"].shape  # doctest: +SKIP
    (1, 12)
    """

    def __init__(
        self,
        vectorizers: list[VectorizerSpec],
        heads: list[HeadSpec],
        tables: Sequence[dict[str, Any] | None] | None = None,
    ) -> None:
        """``tables``: per vectorizer, the lookup tables its scorer built when the model
        was saved (layout 2), or None to build them from the vocabulary."""
        self.vectorizer_specs = vectorizers
        self.heads = heads
        self._tables = list(tables) if tables is not None else [None] * len(vectorizers)
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
            make_vectorizer_scorer(
                spec, np.hstack(b) if b else np.zeros((len(spec.vocabulary), 0)), stored
            )
            for spec, b, stored in zip(vectorizers, blocks, self._tables, strict=True)
        ]
        # Vectorizers with the same preprocessing share one table of words.
        self._preps = sorted({(s.lowercase, s.strip_accents) for s in vectorizers}, key=repr)
        self._word_ids = {prep: new_word_ids() for prep in self._preps}
        self._lock = threading.Lock()
        # Others that follow a word table (reset(), add_words(words)), by preprocessing.
        self._followers: dict[tuple[bool, str | None], list[Any]] = {}
        # Term -> column per vectorizer, built on the first explanation.
        self._columns_of: dict[int, dict[str, int]] = {}
        self._word_columns: dict[int, dict[str, np.ndarray]] = {}

    def __reduce__(self) -> tuple[Any, ...]:
        # Pickled as its arrays and settings (the word tables and caches of the compiled
        # module are rebuilt on the other side): how a cluster ships a model to its workers.
        return (CompiledModel, (self.vectorizer_specs, self.heads, self._tables))

    @property
    def dimensions(self) -> tuple[str, ...]:
        return tuple(h.dimension for h in self.heads)

    def follow_words(self, follower: Any) -> bool:
        """Have ``follower`` follow the word table of lowercased text (no accent stripping).

        Its ``reset()`` and ``add_words(words)`` are called as the scorers' are, so it can
        keep data per word id (the out-of-distribution check keeps each word's tokens);
        ``decision_function(texts, words=sink)`` calls its ``collect(sink, offset, batch)``
        with the word ids of each chunk of texts.  False when no scorer splits
        lowercased text into words (there is no such table).  Following twice is once.
        """
        prep = (True, None)
        if any(f is follower for f in self._followers.get(prep, ())):
            return True
        if not any(
            sc.uses_words and (sc.spec.lowercase, sc.spec.strip_accents) == prep
            for sc in self._scorers
        ):
            return False
        with self._lock:
            self._followers.setdefault(prep, []).append(follower)
            follower.reset()
            table = self._word_ids[prep]
            if len(table):  # words already in the table: start afresh, all together
                self._word_ids[prep] = new_word_ids()
                for sc in self._scorers:
                    if (sc.spec.lowercase, sc.spec.strip_accents) == prep:
                        sc.reset()
        return True

    def decision_function(
        self, texts: Sequence[str], words: list[Any] | None = None
    ) -> dict[str, np.ndarray]:
        """Decision values per dimension, ``(len(texts), n_decisions)`` each.

        ``words``: a list where the followers of :meth:`follow_words` collect what they
        need of the texts' words.
        """
        texts = list(texts)
        # The word tables and the scorers' per-word caches grow as text is scored, so one
        # thread at a time scores with a model; threads that must score in parallel each
        # load their own model (load_model is cheap for a compiled model).
        with self._lock:
            parts = [
                self._decisions(texts[i : i + CHUNK], words, i) for i in range(0, len(texts), CHUNK)
            ]
        if not parts:
            return {h.dimension: np.zeros((0, len(h.intercept))) for h in self.heads}
        return {h.dimension: np.vstack([p[h.dimension] for p in parts]) for h in self.heads}

    def _decisions(
        self,
        texts: Sequence[str],
        sink: list[Any] | None = None,
        offset: int = 0,
    ) -> dict[str, np.ndarray]:
        if not all(map(isinstance, texts, repeat(str))):  # checked in C; the loop names it
            for i, t in enumerate(texts):
                if not isinstance(t, str):
                    raise TypeError(f"text {i} is {type(t).__name__}, not str")
        n = len(texts)
        scored: list[np.ndarray | None] = [None] * len(self._scorers)
        for prep in self._preps:
            lower, accents = prep
            docs = list(map(str.lower, texts)) if lower else list(texts)
            strip = ACCENT_STRIPPERS[accents]
            if strip is not None:
                docs = list(map(strip, docs))
            users = [
                (i, sc)
                for i, sc in enumerate(self._scorers)
                if (sc.spec.lowercase, sc.spec.strip_accents) == prep
            ]
            if any(sc.uses_words for _, sc in users):
                word_ids = self._word_ids[prep]
                fresh = WordIds if _native.speedups is None else _native.speedups.WordTable
                followers = self._followers.get(prep, ())
                if len(word_ids) > MAX_CACHED_WORDS or not isinstance(word_ids, fresh):
                    word_ids = self._word_ids[prep] = new_word_ids()
                    for _, sc in users:
                        sc.reset()
                    for f in followers:
                        f.reset()
                if isinstance(word_ids, WordIds):
                    per_doc = list(map(str.split, docs))
                    counts = np.fromiter(map(len, per_doc), np.int64, n)
                    words = chain.from_iterable(per_doc)
                    uids = np.fromiter(
                        map(word_ids.__getitem__, words), np.int32, int(counts.sum())
                    )
                    new_words, word_ids.pending = word_ids.pending, []
                else:
                    raw_uids, raw_counts, new_words = word_ids.lookup(docs)
                    uids = np.frombuffer(raw_uids, dtype=np.int32)
                    counts = np.frombuffer(raw_counts, dtype=np.int64)
                if new_words:
                    new_words = NewWords(new_words)  # each word tokenised once for all
                    for _, sc in users:
                        if sc.uses_words:
                            sc.add_words(new_words)
                    for f in followers:
                        f.add_words(new_words)
                doc_ptr = np.zeros(n + 1, dtype=np.int64)
                np.cumsum(counts, out=doc_ptr[1:])
                batch = Batch(uids, doc_ptr)
                if sink is not None:
                    for f in followers:  # under the lock: the word ids are this table's
                        f.collect(sink, offset, batch)
            for i, sc in users:
                if sc.uses_words:
                    raw, norm = sc.score_words(batch)
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

    def predict_proba(
        self, texts: Sequence[str], words: list[Any] | None = None
    ) -> dict[str, np.ndarray]:
        """Per dimension, the pipeline's ``predict_proba``: ``(len(texts), n_labels)``.

        ``words``: see :meth:`decision_function`.

        Raises
        ------
        TypeError
            When an item of ``texts`` is not a string.
        """
        decisions = self.decision_function(texts, words)
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
        starts = run_starts(keys)
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
        # imported here: tagging without --explain never needs it (a few ms of every start)
        from framing.runtime.explain import (
            ExplainRequest,
            LinearPart,
            explain_by_head,
            linear_explanations,
        )

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
    def save(self, folder: str | Path, layout: int = COMPILED_VERSION) -> None:
        """Write ``compiled.json`` and ``compiled.npz`` into ``folder``; ``layout`` 1 is
        what framing wrote before layout 2 (for tests of older folders)."""
        folder = Path(folder)
        arrays: dict[str, np.ndarray] = {}
        vecs = []
        for i, (spec, scorer) in enumerate(zip(self.vectorizer_specs, self._scorers, strict=True)):
            if layout == 1:
                vecs.append({**spec.settings(), "vocabulary": list(spec.vocabulary)})
            else:
                terms = store_strings(f"terms_{i}", spec.vocabulary, arrays)
                tables = store_tables(i, scorer.tables(), arrays)
                vecs.append({**spec.settings(), "terms": terms, "tables": tables})
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
        doc = {"compiled_version": layout, "vectorizers": vecs, "heads": heads}
        text = json.dumps(doc, ensure_ascii=False, separators=(",", ":"))
        (folder / JSON_NAME).write_bytes(text.encode("utf-8", "surrogatepass"))
        if layout == 1:
            with open(folder / NPZ_NAME, "wb") as fh:
                np.savez_compressed(fh, **arrays)  # type: ignore[arg-type]
        else:
            # Stored uncompressed and aligned: the loader reads them in one pass instead of
            # inflating them at every start.
            write_arrays(folder / NPZ_NAME, arrays)

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
        arrays = read_arrays(npath, fix)
        try:
            return cls._from_doc(doc, arrays, str(npath))
        except ModelError as exc:
            raise ModelError(f"{jpath}: {exc}") from None
        except (KeyError, TypeError, ValueError, IndexError) as exc:
            raise ModelError(
                f"{jpath}: does not match {NPZ_NAME} ({type(exc).__name__}: {exc}); {fix}"
            ) from None

    @classmethod
    def _from_doc(
        cls, doc: dict[str, Any], arrays: dict[str, np.ndarray], source: str = NPZ_NAME
    ) -> CompiledModel:
        version = doc.get("compiled_version")
        if version not in (1, COMPILED_VERSION):
            raise ModelError(
                f"compiled model version {version} is not one this framing reads (1 or "
                f"{COMPILED_VERSION}); upgrade framing, or delete compiled.json and "
                "compiled.npz to score with model.skops"
            )
        specs = []
        tables: list[dict[str, Any] | None] = []
        for i, v in enumerate(doc["vectorizers"]):
            if v["analyzer"] not in ANALYZERS or v["strip_accents"] not in ACCENT_STRIPPERS:
                raise ValueError(f"vectorizer {i}: unknown analyzer or strip_accents")
            idf = np.asarray(arrays[f"idf_{i}"], dtype=np.float64) if v["use_idf"] else None
            vocab: Sequence[str]
            vocab = v["vocabulary"] if version == 1 else read_strings(v["terms"], arrays, source)
            if idf is not None and len(idf) != len(vocab):
                raise ValueError(f"vectorizer {i}: {len(idf)} idf weights for {len(vocab)} terms")
            if version == 1:
                tables.append(None)
            else:
                tables.append(read_tables(v["tables"], arrays, len(vocab), source))
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
        return cls(specs, heads, tables)


def load_scorer(folder: Path, meta: ModelMeta, trusted: Iterable[str] = ()) -> CompiledModel:
    """The ``tfidf-compiled.v1`` scorer of a model folder (``trusted`` is not needed:
    the files hold no code)."""
    model = CompiledModel.load(folder)
    if set(model.dimensions) != set(meta.labels):
        raise ModelError(
            f"{Path(folder) / JSON_NAME}: its dimensions ({', '.join(model.dimensions)}) are "
            f"not those of meta.json ({', '.join(meta.labels)}); copy the whole model folder"
        )
    return model


def save_scorer(scorer: CompiledModel, folder: Path) -> None:
    """Write ``compiled.json`` and ``compiled.npz`` into ``folder``."""
    scorer.save(folder)

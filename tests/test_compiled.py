"""framing.runtime.compiled: arrays that score exactly like the scikit-learn pipelines."""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sklearn.feature_extraction.text import CountVectorizer, TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.multiclass import OneVsRestClassifier
from sklearn.pipeline import FeatureUnion, Pipeline
from sklearn.svm import LinearSVC

import framing.runtime._native
import framing.runtime.compiled as compiled
from framing.errors import ModelError
from framing.runtime.analyzers import (
    NgramIndex,
    char_wb_counts,
    char_wb_ngrams,
    char_wb_ngrams_of,
    char_wb_windows,
)
from framing.runtime.compile import CompileError, compile_pipelines
from framing.runtime.compiled import CompiledModel
from framing.runtime.explain import ExplainRequest

DATA = Path(__file__).resolve().parent / "data"

TRAIN = [
    json.loads(line)
    for line in (DATA / "tiny_corpus.jsonl").read_text(encoding="utf-8").splitlines()
    if line.strip() and '"type": "document"' not in line
]
TEXTS = [r["text"] for r in TRAIN] + [
    "Ünïcödé naïve café — “quoted” ΣΟΦΟΣ ΟΔΟΣ straße ﬁne Ǆ İstanbul",
    "Tabs\tand\nnew\r\nlines\u2028and\u00a0nbsp and the the the repeated repeated",
    "日本語のテキスト 中文文本 한국어 текст на русском",
]
WORDS = sorted({w for t in TEXTS for w in t.split()})
FRAMES = ["economic", "security", "solidarity"]


NATIVE = framing.runtime._native.speedups


@pytest.fixture(autouse=True, params=["native", "numpy"])
def backend(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Every test runs with the compiled loops (``framing.runtime._speedups``) and without."""
    if request.param == "native":
        if NATIVE is None:
            if os.environ.get("FRAMING_REQUIRE_SPEEDUPS"):
                pytest.fail(
                    "framing.runtime._speedups is not built (FRAMING_REQUIRE_SPEEDUPS is set)"
                )
            pytest.skip("framing.runtime._speedups is not built (no C compiler at install time)")
        monkeypatch.setattr(framing.runtime._native, "speedups", NATIVE)
    else:
        monkeypatch.setattr(framing.runtime._native, "speedups", None)
    return str(request.param)


def _multilabel(dim: str = "frames") -> np.ndarray:
    ids = (
        FRAMES if dim == "frames" else ["loaded_language", "appeal_to_fear", "appeal_to_authority"]
    )
    rows = [[int(label in r.get(dim, [])) for label in ids] for r in TRAIN]
    rows += [[1, 0, 0], [0, 1, 0], [0, 0, 1]]
    return np.array(rows)


def _single() -> np.ndarray:
    """One label per text: the first frame, or 'none'."""
    out = [(r.get("frames") or ["none"])[0] for r in TRAIN] + ["economic", "security", "none"]
    return np.array(out)


def _union(**word_kw: object) -> FeatureUnion:
    word = {"analyzer": "word", "ngram_range": (1, 2), "sublinear_tf": True, **word_kw}
    char = {"analyzer": "char_wb", "ngram_range": (2, 5), "sublinear_tf": True}
    return FeatureUnion([("word", TfidfVectorizer(**word)), ("char", TfidfVectorizer(**char))])


def _ovr() -> OneVsRestClassifier:
    return OneVsRestClassifier(
        LogisticRegression(class_weight="balanced", solver="liblinear", C=10.0)
    )


@pytest.fixture(scope="module")
def default_pipelines() -> dict[str, Pipeline]:
    return {
        dim: Pipeline([("features", _union()), ("clf", _ovr())]).fit(TEXTS, _multilabel(dim))
        for dim in ("frames", "rhetoric")
    }


@pytest.fixture(scope="module")
def default_compiled(default_pipelines: dict[str, Pipeline]) -> CompiledModel:
    labels = {"frames": FRAMES, "rhetoric": ["a", "b", "c"]}
    return compile_pipelines(default_pipelines, labels)


def _assert_same(pipelines: dict[str, Pipeline], model: CompiledModel, texts: list[str]) -> None:
    got = model.predict_proba(texts)
    for dim, pipe in pipelines.items():
        want = pipe.predict_proba(texts)
        assert got[dim].shape == want.shape
        np.testing.assert_allclose(got[dim], want, rtol=0, atol=1e-9)


texts_strategy = st.one_of(
    st.text(max_size=120),
    st.text(
        alphabet=st.sampled_from(
            list("abcxyz ÀéÎøÆß’“”-—.,;:!?'\"()[]\t\n\r\u00a0\u2028ΣσςΟΔ0123456789_")
        ),
        max_size=80,
    ),
    st.lists(st.sampled_from(WORDS + ["", " ", "—", "...", "U.S.", "the", "THE"]), max_size=30).map(
        " ".join
    ),
)


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(texts_strategy, min_size=1, max_size=6))
def test_compiled_matches_sklearn_on_random_texts(
    default_pipelines: dict[str, Pipeline], default_compiled: CompiledModel, texts: list[str]
) -> None:
    _assert_same(default_pipelines, default_compiled, texts)


def test_compiled_matches_sklearn_on_training_texts_and_edge_cases(
    default_pipelines: dict[str, Pipeline], default_compiled: CompiledModel
) -> None:
    texts = TEXTS + ["", "   ", "a", "!!!", "the the the the", "x" * 500, "ab " * 200]
    _assert_same(default_pipelines, default_compiled, texts)
    # Batches larger than one chunk, scored again (the word cache is warm), agree too.
    _assert_same(default_pipelines, default_compiled, TEXTS * 40)


@settings(max_examples=60, deadline=None)
@given(st.text(max_size=12).filter(lambda w: w and not any(c.isspace() for c in w)))
def test_compiled_char_wb_ngrams_match_sklearn(word: str) -> None:
    for lo, hi in [(1, 1), (2, 5), (1, 3), (3, 3), (4, 8)]:
        analyzer = CountVectorizer(analyzer="char_wb", ngram_range=(lo, hi), lowercase=False)
        assert char_wb_ngrams(word, lo, hi) == analyzer.build_analyzer()(word)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.text(max_size=9).filter(lambda w: not any(c.isspace() for c in w))))
def test_compiled_char_wb_ngrams_of_many_words_are_each_words_in_turn(words: list[str]) -> None:
    for lo, hi in [(1, 1), (2, 5), (4, 8)]:
        flat = char_wb_ngrams_of(words, lo, hi)
        each = [char_wb_ngrams(w, lo, hi) for w in words]
        assert flat == [g for grams in each for g in grams]
        assert char_wb_counts(words, lo, hi).tolist() == [len(grams) for grams in each]


_WORD = st.text(max_size=9).filter(lambda w: not any(c.isspace() for c in w))


@settings(max_examples=80, deadline=None)
@given(st.lists(_WORD, min_size=1), st.lists(_WORD), st.lists(st.text(min_size=1, max_size=6)))
def test_compiled_ngram_index_finds_what_the_vocabulary_dict_finds(
    known: list[str], words: list[str], extra: list[str]
) -> None:
    """NgramIndex (n-grams read as numbers) gives each char_wb n-gram of any words the
    id a dict lookup gives, -1 when absent: characters outside the vocabulary's
    alphabet, astral characters, words shorter than min_n, long n-grams."""
    for lo, hi in [(1, 1), (2, 5), (4, 8)]:
        grams = dict.fromkeys(char_wb_ngrams_of(known, lo, hi) + extra)
        vocabulary = {g: i for i, g in enumerate(grams)}
        index = NgramIndex.build(vocabulary)
        assert index is not None  # small alphabets fit
        text, starts, lengths = char_wb_windows(words, lo, hi)
        want = [vocabulary.get(g, -1) for g in char_wb_ngrams_of(words, lo, hi)]
        assert index.lookup(text, starts, lengths, hi).tolist() == want


def test_compiled_ngram_index_declines_numbers_over_63_bits() -> None:
    """An alphabet too large for its longest n-gram as a 63-bit number gives no index
    (the scorer then looks n-grams up by string)."""
    wide = {"".join(chr(0x4E00 + i + k) for k in range(6)): i for i in range(3000)}
    assert NgramIndex.build(wide) is None
    small = NgramIndex.build({"ab": 0, "bc": 1})
    assert small is not None
    text, starts, lengths = char_wb_windows(["abc"] * 2, 2, 40)
    assert small.lookup(text, starts, lengths, 40) is None  # windows too long for numbers


VECTORIZER_VARIANTS = [
    {"ngram_range": (1, 1)},
    {"ngram_range": (1, 3)},
    {"ngram_range": (2, 3)},
    {"lowercase": False},
    {"sublinear_tf": False},
    {"norm": None},
    {"norm": "l1"},
    {"use_idf": False},
    {"binary": True},
    {"strip_accents": "unicode"},
    {"strip_accents": "ascii"},
    {"max_features": 50},
    {"min_df": 2},
    {"stop_words": "english"},
    {"token_pattern": r"(?u)\b\w+\b"},
    {"analyzer": "char", "ngram_range": (1, 4)},
    {"analyzer": "char_wb", "ngram_range": (1, 3), "binary": True, "norm": "l1"},
]


@pytest.mark.parametrize(
    "variant", VECTORIZER_VARIANTS, ids=lambda v: ",".join(map(str, v.items()))
)
def test_compiled_matches_sklearn_for_vectorizer_settings(variant: dict[str, object]) -> None:
    pipe = Pipeline([("features", _union(**variant)), ("clf", _ovr())]).fit(TEXTS, _multilabel())
    model = compile_pipelines({"frames": pipe}, {"frames": FRAMES})
    _assert_same({"frames": pipe}, model, TEXTS + ["", "Naïve CAFÉ, café!", "a b c d e f"])


def test_compiled_matches_sklearn_for_classifier_shapes() -> None:
    y_multi = _multilabel()
    single = _single()
    binary = (single == "economic").astype(int)
    constant = y_multi.copy()
    constant[:, 2] = 0  # a label never seen: OneVsRest keeps a constant predictor
    plain = TfidfVectorizer(sublinear_tf=True)
    weighted = FeatureUnion(
        [("w", TfidfVectorizer()), ("c", TfidfVectorizer(analyzer="char_wb"))],
        transformer_weights={"w": 2.0, "c": 0.5},
    )
    cases = {
        "multinomial": (Pipeline([("f", _union()), ("clf", LogisticRegression(C=5.0))]), single),
        "binary_lr": (Pipeline([("f", plain), ("clf", LogisticRegression())]), binary),
        "ovr_multiclass": (Pipeline([("f", _union()), ("clf", _ovr())]), single),
        "ovr_binary": (Pipeline([("f", _union()), ("clf", _ovr())]), binary),
        "ovr_constant": (Pipeline([("f", _union()), ("clf", _ovr())]), constant),
        "weighted_union": (Pipeline([("f", weighted), ("clf", _ovr())]), y_multi),
    }
    pipelines = {}
    labels = {}
    for name, (pipe, y) in cases.items():
        with pytest.warns() if name == "ovr_constant" else _nothing():
            pipelines[name] = pipe.fit(TEXTS, y)
        labels[name] = [str(i) for i in range(pipe.predict_proba(TEXTS[:1]).shape[1])]
    model = compile_pipelines(pipelines, labels)
    _assert_same(pipelines, model, TEXTS + ["", "economy prices trade"])


class _nothing:
    def __enter__(self) -> None:
        return None

    def __exit__(self, *args: object) -> None:
        return None


def test_compiled_save_load_round_trip_gives_identical_scores(
    default_compiled: CompiledModel, tmp_path: Path
) -> None:
    default_compiled.save(tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["compiled.json", "compiled.npz"]
    loaded = CompiledModel.load(tmp_path)
    texts = TEXTS + ["", "Ünïcödé"]
    before, after = default_compiled.predict_proba(texts), loaded.predict_proba(texts)
    for dim in before:
        assert np.array_equal(before[dim], after[dim])


def _tables(model: CompiledModel) -> list[dict[str, list[np.ndarray]]]:
    """Every lookup table of a model's scorers, as plain arrays, per vectorizer."""
    out = []
    for sc in model._scorers:
        found: dict[str, list[np.ndarray]] = {}
        for name, value in sc.tables().items():
            if name == "index":
                found[name] = [value.alphabet, *value.table.arrays()[:2]]
            elif name == "ngrams":
                found[name] = [a for k in sorted(value) for a in value[k].arrays()[:2]]
            elif name == "tokens":
                found[name] = [np.array(list(value))]
            else:
                found[name] = [value]
        out.append(found)
    return out


def test_compiled_layout_2_maps_the_tables_built_at_save_time_and_scores_as_layout_1(
    default_compiled: CompiledModel, tmp_path: Path
) -> None:
    """Layout 2 stores the lookup tables built when the model is saved and reads every
    array in one pass, read-only and aligned; layout 1 (older folders) builds them at load time.
    Both give the same tables and the same scores, to the bit."""
    old, new = tmp_path / "old", tmp_path / "new"
    old.mkdir()
    new.mkdir()
    default_compiled.save(old, layout=1)
    default_compiled.save(new)
    assert "vocabulary" in json.loads((old / "compiled.json").read_text())["vectorizers"][0]
    built, stored = CompiledModel.load(old), CompiledModel.load(new)
    assert built.heads[0].parts[0][1].flags.writeable  # inflated
    coef = stored.heads[0].parts[0][1]  # a read-only, aligned view of the file read once
    assert coef.base is not None and coef.base.size == (new / "compiled.npz").stat().st_size
    assert not coef.flags.writeable and coef.flags.aligned
    with np.load(new / "compiled.npz") as npz:
        assert {"terms_0_text", "unigram_0", "alphabet_1"} <= set(npz.files)
    want, got = _tables(built), _tables(stored)
    assert [sorted(t) for t in want] == [sorted(t) for t in got]
    pairs = [
        (x, y)
        for a, b in zip(want, got, strict=True)
        for k in a
        for x, y in zip(a[k], b[k], strict=True)
    ]
    assert pairs and all(np.array_equal(x, y) for x, y in pairs)
    assert [list(s.vocabulary) for s in built.vectorizer_specs] == [
        list(s.vocabulary) for s in stored.vectorizer_specs
    ]
    texts = TEXTS + ["", "Ünïcödé", "words never seen before: zyxwv qwertz"]
    a, b, c = (m.predict_proba(texts) for m in (default_compiled, built, stored))
    assert all(np.array_equal(a[d], b[d]) and np.array_equal(a[d], c[d]) for d in a)
    explained = [
        m.explain(texts, [ExplainRequest(0, "frames", 0, "x")], 3) for m in (built, stored)
    ]
    assert explained[0] == explained[1]


def test_compiled_copies_misaligned_stored_arrays(
    default_compiled: CompiledModel, tmp_path: Path
) -> None:
    """An uncompressed .npz that another tool wrote (np.savez: members not aligned) is
    read, and any misaligned array copied: the scoring kernel never reads one."""
    default_compiled.save(tmp_path)
    want = default_compiled.predict_proba(TEXTS)
    with np.load(tmp_path / "compiled.npz") as npz:
        arrays = {name: npz[name] for name in npz.files}
    np.savez(tmp_path / "compiled.npz", **arrays)  # type: ignore[arg-type]
    from framing.runtime.array_files import read_arrays

    read = read_arrays(tmp_path / "compiled.npz", "")
    assert all(array.flags.aligned for array in read.values())
    assert any(array.base is not None for array in read.values())
    assert not all(array.base is not None for array in read.values())
    got = CompiledModel.load(tmp_path).predict_proba(TEXTS)
    assert all(np.array_equal(want[d], got[d]) for d in want)


@pytest.mark.parametrize(
    ("array", "damage", "message"),
    [
        ("index_1_values", lambda a: a + 10**6, r"values outside \[0, "),
        ("index_1_keys", lambda a: a[:-1], "not a hash table"),
        ("unigram_0", lambda a: a + 10**6, "unigram ids outside"),
        ("ngrams_0_2_values", lambda a: a - 10**6, r"values outside \[0, "),
        ("alphabet_1", lambda a: a[::-1].copy(), "alphabet is not sorted"),
        ("terms_0_ends", lambda a: a + 10**6, "end after their text"),
        ("terms_0_ends", lambda a: a[:-1], "idf weights for"),
    ],
)
def test_compiled_refuses_damaged_tables(
    default_compiled: CompiledModel, tmp_path: Path, array: str, damage, message: str
) -> None:
    """Stored tables are untrusted: ids that would index outside the coefficients, and
    tables that cannot be what they claim, are refused naming the files."""
    from framing.runtime.array_files import write_arrays

    default_compiled.save(tmp_path)
    with np.load(tmp_path / "compiled.npz") as npz:
        arrays = {name: npz[name] for name in npz.files}
    arrays[array] = damage(arrays[array])
    write_arrays(tmp_path / "compiled.npz", arrays)
    with pytest.raises(ModelError, match=f"compiled.json: does not match compiled.npz.*{message}"):
        CompiledModel.load(tmp_path)


def test_compiled_damaged_terms_are_refused_when_first_read(
    default_compiled: CompiledModel, tmp_path: Path
) -> None:
    """The vocabulary's text is decoded only when explanations need it; damaged text is
    then a ModelError naming compiled.npz, never a UnicodeDecodeError."""
    from framing.runtime.array_files import write_arrays

    default_compiled.save(tmp_path)
    with np.load(tmp_path / "compiled.npz") as npz:
        arrays = {name: npz[name] for name in npz.files}
    arrays["terms_1_text"] = np.full_like(arrays["terms_1_text"], 0xFF)
    write_arrays(tmp_path / "compiled.npz", arrays)
    model = CompiledModel.load(tmp_path)
    with pytest.raises(ModelError, match="compiled.npz: strings that are not UTF-8"):
        model.explain(TEXTS, [ExplainRequest(0, "frames", 0, "x")], 3)


def test_compiled_refuses_a_truncated_mapped_array(
    default_compiled: CompiledModel, tmp_path: Path
) -> None:
    """A stored member whose .npy header claims more data than the member holds."""
    import io
    import zipfile

    default_compiled.save(tmp_path)
    with np.load(tmp_path / "compiled.npz") as npz:
        arrays = {name: npz[name] for name in npz.files}
    first = sorted(arrays)[0]
    buffer = io.BytesIO()
    np.save(buffer, arrays[first])
    with zipfile.ZipFile(tmp_path / "compiled.npz", "w") as archive:
        for name, array in arrays.items():
            data = io.BytesIO()
            np.save(data, array)
            archive.writestr(f"{name}.npy", data.getvalue()[: -8 if name == first else None])
    with pytest.raises(ModelError, match=f"compiled.npz: not a readable.*{first}.npy"):
        CompiledModel.load(tmp_path)


def test_compiled_refuses_pickled_arrays(default_compiled: CompiledModel, tmp_path: Path) -> None:
    default_compiled.save(tmp_path)
    np.savez(tmp_path / "compiled.npz", idf_0=np.array([{"evil": 1}], dtype=object))
    with pytest.raises(ModelError, match="compiled.npz"):
        CompiledModel.load(tmp_path)


def test_compiled_reports_missing_and_broken_files(
    default_compiled: CompiledModel, tmp_path: Path
) -> None:
    with pytest.raises(ModelError, match="compiled.json is missing"):
        CompiledModel.load(tmp_path)
    default_compiled.save(tmp_path)
    (tmp_path / "compiled.json").write_text("{not json", encoding="utf-8")
    with pytest.raises(ModelError, match="not valid JSON"):
        CompiledModel.load(tmp_path)
    default_compiled.save(tmp_path)
    doc = json.loads((tmp_path / "compiled.json").read_text(encoding="utf-8"))
    doc["compiled_version"] = 99
    (tmp_path / "compiled.json").write_text(json.dumps(doc), encoding="utf-8")
    with pytest.raises(ModelError, match="version 99"):
        CompiledModel.load(tmp_path)
    doc["compiled_version"] = compiled.COMPILED_VERSION
    del doc["heads"][0]["parts"]
    (tmp_path / "compiled.json").write_text(json.dumps(doc), encoding="utf-8")
    with pytest.raises(ModelError, match=r"not a compiled model: heads\[0\]: missing 'parts'"):
        CompiledModel.load(tmp_path)
    doc["heads"][0]["parts"] = [{"vectorizer": 0, "coef": "no_such_array"}]
    (tmp_path / "compiled.json").write_text(json.dumps(doc), encoding="utf-8")
    with pytest.raises(ModelError, match="does not match compiled.npz"):
        CompiledModel.load(tmp_path)


@pytest.mark.parametrize(
    "pipe, message",
    [
        (
            Pipeline([("f", CountVectorizer()), ("clf", LogisticRegression())]),
            "not a TfidfVectorizer",
        ),
        (Pipeline([("f", TfidfVectorizer()), ("clf", LinearSVC())]), "LinearSVC"),
        (
            Pipeline([("f", TfidfVectorizer(dtype=np.float32)), ("clf", LogisticRegression())]),
            "dtype",
        ),
        (
            Pipeline([("f", TfidfVectorizer(analyzer=str.split)), ("clf", LogisticRegression())]),
            "custom",
        ),
    ],
)
def test_compiled_refuses_unsupported_pipelines(pipe: Pipeline, message: str) -> None:
    pipe.fit(TEXTS, (_single() == "economic").astype(int))
    with pytest.raises(CompileError, match=message):
        compile_pipelines({"frames": pipe}, {"frames": ["no", "yes"]})


def test_compiled_checks_label_count(default_pipelines: dict[str, Pipeline]) -> None:
    with pytest.raises(CompileError, match="3 columns but the model has 2 labels"):
        compile_pipelines({"frames": default_pipelines["frames"]}, {"frames": ["a", "b"]})


def test_compiled_word_cache_reset_keeps_scores_exact(
    default_pipelines: dict[str, Pipeline], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(compiled, "MAX_CACHED_WORDS", 5)
    monkeypatch.setattr(compiled, "CHUNK", 7)
    model = compile_pipelines(default_pipelines, {"frames": FRAMES, "rhetoric": ["a", "b", "c"]})
    _assert_same(default_pipelines, model, TEXTS * 3)


def test_compiled_rejects_non_string_texts(default_compiled: CompiledModel) -> None:
    with pytest.raises(TypeError, match="text 1 is int"):
        default_compiled.predict_proba(["fine", 3])  # type: ignore[list-item]


def test_compiled_scoring_imports_neither_sklearn_nor_scipy(tag_model_path: Path) -> None:
    code = (
        "import sys\n"
        "from framing.runtime.model import load_model\n"
        f"m = load_model({str(tag_model_path)!r})\n"
        "a = m.tag('The port strike pushed grain prices up. Ministers met.')\n"
        "assert len(a.sentences) == 2\n"
        "bad = sorted(k for k in sys.modules if k.split('.')[0] in ('sklearn', 'scipy', 'skops'))\n"
        "print(bad)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"


def test_native_loops_refuse_out_of_range_ids(backend: str) -> None:
    if backend != "native":
        pytest.skip("the compiled loops only")
    i64, f64 = np.int64, np.float64
    rows, normw = np.zeros((3, 2)), np.ones(3)
    out, sq = np.zeros((1, 2)), np.zeros(1)
    ptr = np.array([0, 2], dtype=i64)
    with pytest.raises(ValueError, match="feature id out of range"):
        NATIVE.feature_scores(ptr, np.array([0, 3], dtype=i64), rows, normw, 2, 2, out, sq)

    def unit_scores(uids: list[int], feats: list[int]) -> None:
        # One unit (start 0, length 1) whose features are ``feats``.
        unit = (np.zeros(1, i64), np.ones(1, i64), np.array(feats, np.int32))
        cached = (np.zeros((1, 2)), np.zeros(1))
        uid = np.array(uids, dtype=np.int32)
        NATIVE.unit_scores(ptr, uid, *unit, *cached, rows, normw, 2, 2, out, sq)

    with pytest.raises(ValueError, match="unit id out of range"):
        unit_scores([0, 5], [0])
    with pytest.raises(ValueError, match="unit features out of range"):
        unit_scores([0, 0], [7])
    with pytest.raises(ValueError, match="doc_ptr must run from 0 to 2"):
        bad_ptr = np.array([0, 3, 2], dtype=i64)  # two documents, the first past the end
        feats, two_out, two_sq = np.array([0, 1], i64), np.zeros((2, 2)), np.zeros(2)
        NATIVE.feature_scores(bad_ptr, feats, rows, normw, 2, 2, two_out, two_sq)
    with pytest.raises(ValueError, match="items of 4 bytes, expected 8"):
        NATIVE.feature_scores(ptr, np.array([0, 1], dtype=np.int32), rows, normw, 2, 2, out, sq)
    with pytest.raises(ValueError, match="inconsistent"):
        NATIVE.feature_scores(ptr, np.array([0, 1], dtype=i64), rows, normw, 2, 2, out[:0], sq)
    assert out.dtype == f64 and not out.any()


def test_native_unit_scores_when_every_feature_repeats(backend: str) -> None:
    """A document in which every feature of a (tiny) vocabulary repeats, and occurs again
    after that: the lists of the counting pass are full (under .ci/sanitize, a list one
    entry too short is an out-of-bounds write)."""
    if backend != "native":
        pytest.skip("the compiled loops only")
    rng = np.random.default_rng(3)
    rows, idf = rng.normal(size=(2, 3)), np.array([1.5, 2.0])
    feats = np.array([0, 1, 0, 1, 0], dtype=np.int32)  # feature 0 three times, 1 twice
    unit = (np.zeros(1, np.int64), np.array([5], np.int64), feats)
    cached = (rows[feats].sum(axis=0)[None, :], np.array([(idf**2)[feats].sum()]))
    for repeats in (1, 2):  # the unit once, then twice in the document
        out, sq = np.zeros((1, 3)), np.zeros(1)
        ptr, uids = np.array([0, repeats], np.int64), np.zeros(repeats, np.int32)
        NATIVE.unit_scores(ptr, uids, *unit, *cached, rows, idf**2, 2, 2, out, sq)
        tf = 1.0 + np.log(np.array([3.0, 2.0]) * repeats)
        np.testing.assert_allclose(out[0], tf @ rows, rtol=1e-12)
        np.testing.assert_allclose(sq[0], (tf**2 * idf**2).sum(), rtol=1e-12)


@pytest.mark.parametrize("width", [1, 3, 4, 7, 16, 20, 37])
def test_native_sums_are_those_of_plain_loops_to_the_bit(backend: str, width: int) -> None:
    """The kernel adds rows in vector registers, 16 and 4 columns at a time and the rest
    one by one: every output must be the bits of ``out[j] += w * row[j]`` taken in order
    (first the units' naive rows, then each repeated feature's correction in the order
    its count reaches 2), whatever the width and the CPU."""
    if backend != "native":
        pytest.skip("the compiled loops only")
    rng = np.random.default_rng(width)
    n_features, n_units = 12, 6
    rows, idf = rng.normal(size=(n_features, width)), rng.uniform(1.0, 3.0, n_features)
    lengths = rng.integers(1, 6, n_units)
    starts = np.cumsum(lengths) - lengths
    feats = rng.integers(0, n_features, int(lengths.sum())).astype(np.int32)
    urows, unorm = rng.normal(size=(n_units, width)), rng.uniform(0.0, 5.0, n_units)
    docs = [list(rng.integers(0, n_units, k)) for k in (0, 1, 5, 9)]  # repeats across docs
    ptr = np.cumsum([0] + [len(d) for d in docs]).astype(np.int64)
    uids = np.array([u for d in docs for u in d], dtype=np.int32)
    out, sq = np.zeros((len(docs), width)), np.zeros(len(docs))
    NATIVE.unit_scores(ptr, uids, starts, lengths, feats, urows, unorm, rows, idf**2, 2, 2, out, sq)
    for d, units in enumerate(docs):
        want = np.zeros(width)
        count: dict[int, int] = {}
        repeated: list[int] = []
        for u in units:
            want = want + urows[u]
            for f in feats[starts[u] : starts[u] + lengths[u]].tolist():
                count[f] = count.get(f, 0) + 1
                if count[f] == 2:
                    repeated.append(f)
        for f in repeated:  # numpy multiplies and adds separately: no fused rounding
            want = want + (1.0 + math.log(count[f]) - count[f]) * rows[f]
        assert out[d].tobytes() == want.tobytes()


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(st.lists(st.lists(st.text(max_size=40), max_size=4), max_size=3))
def test_native_word_table_splits_and_numbers_like_str_split(
    backend: str, calls: list[list[str]]
) -> None:
    if backend != "native":
        pytest.skip("the compiled loops only")
    table = NATIVE.WordTable(seed=7)
    ids: dict[str, int] = {}
    for docs in calls:
        raw_ids, raw_counts, added = table.lookup(docs)
        words = [w for d in docs for w in d.split()]
        new = [w for w in dict.fromkeys(words) if w not in ids]
        for w in new:
            ids[w] = len(ids)
        assert added == new
        assert np.frombuffer(raw_ids, np.int32).tolist() == [ids[w] for w in words]
        assert np.frombuffer(raw_counts, np.int64).tolist() == [len(d.split()) for d in docs]
        assert len(table) == len(ids)


def test_native_word_table_reads_one_byte_and_wider_text_alike(backend: str) -> None:
    """Text of one byte per character is split and hashed by its own loop: the Latin-1
    whitespace of str.split() separates words there, and a word is the same word
    whichever width its text is stored in."""
    if backend != "native":
        pytest.skip("the compiled loops only")
    table = NATIVE.WordTable(seed=3)
    narrow = "caf\xe9\x85na\xefve\xa0x\x1cy\x1fz \tcaf\xe9\n"  # Latin-1 only
    wide = "na\xefve caf\xe9 \u2014 x\u2003y z\u3000\u0101"  # stored 2 bytes a character
    raw_ids, raw_counts, added = table.lookup([narrow, wide])
    words = narrow.split() + wide.split()
    assert added == list(dict.fromkeys(words))
    assert np.frombuffer(raw_ids, np.int32).tolist() == [added.index(w) for w in words]
    assert np.frombuffer(raw_counts, np.int64).tolist() == [6, 7]

"""The article-context stage: its features, its file, training it, and every scoring path
applying it the same way."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
from framing.training.config import load_config
from framing.training.evaluate import evaluate
from framing.training.train import train
from hypothesis import given, settings
from hypothesis import strategies as st

from framing.errors import ModelError
from framing.format.annotations import Sentence
from framing.loop.suggest import preannotate
from framing.runtime import _native
from framing.runtime.calibration import logit
from framing.runtime.context import (
    CONTEXT_FILE,
    FEATURES,
    ContextStage,
    Layout,
    context_features,
    sentence_length,
    stage_inputs,
)
from framing.runtime.model import load_model

DATA = Path(__file__).resolve().parent / "data"
TINY = DATA / "tiny_corpus.jsonl"
TINY_CODEBOOK = DATA / "tiny_codebook.toml"
COLUMN = {name: k for k, name in enumerate(FEATURES)}


def test_features_of_an_article_with_a_headline_and_of_one_without() -> None:
    # rows out of order on purpose: article 0 is rows 2 (headline), 0, 3; article 1 is row 1
    z = np.array([[1.0], [5.0], [4.0], [-2.0]])
    layout = Layout(
        article=np.array([0, 1, 0, 0]),
        place=np.array([1, 0, 0, 2]),
        headline=np.array([False, False, True, False]),
        texts=["Middle one.", "Alone here, five words.", "A headline", "Last"],
    )
    f = context_features(z, layout)[:, :, 0].T  # (sentences, features) of the one label

    def at(row: int, name: str) -> float:
        return float(f[row, COLUMN[name]])

    # the middle sentence of article 0 (after the headline, before row 3)
    assert at(0, "own") == 1.0
    assert (at(0, "previous"), at(0, "next")) == (4.0, -2.0)
    assert at(0, "article_max") == 4.0  # the best of the others, not its own
    assert at(0, "article_mean") == pytest.approx(1.0)  # (4 - 2) / 2
    assert (at(0, "headline"), at(0, "is_headline")) == (4.0, 0.0)
    assert at(0, "position") == 0.5
    # the headline: no previous sentence, no headline feature of its own
    assert (at(2, "previous"), at(2, "next"), at(2, "headline"), at(2, "is_headline")) == (
        0.0,
        1.0,
        0.0,
        1.0,
    )
    assert at(2, "article_max") == 1.0 and at(2, "position") == 0.0
    # the last sentence
    assert (at(3, "next"), at(3, "article_max"), at(3, "position")) == (0.0, 4.0, 1.0)
    # the length of each sentence: log(1 + its words)
    assert [at(row, "length") for row in range(4)] == pytest.approx(np.log1p([2, 4, 2, 1]))
    # an article of one sentence: no context at all, only its own score and length
    assert f[1].tolist() == [5.0] + [0.0] * (len(FEATURES) - 2) + [pytest.approx(np.log(5))]


def test_a_sentence_alone_gets_the_fill_values_and_others_keep_their_context() -> None:
    z = np.array([[1.0], [2.0], [3.0]])
    fill = np.arange(len(FEATURES), dtype=float)[None, :] + 10
    layout = Layout.from_keys(["a", "a", "b"], [0, 1, 0], [False, False, False], ["x"] * 3)
    f = stage_inputs(z, layout, fill)
    # own score, the fill for the article's features, and its own length
    assert f[:, 2, 0].tolist() == [3.0, *fill[0, 1:-1].tolist(), pytest.approx(np.log(2))]
    assert f[COLUMN["next"], 0, 0] == 2.0  # in an article: its real context


def test_layout_from_bounds_and_alone() -> None:
    layout = Layout.from_bounds([0, 2, 3], [True, False, False], ["a", "b c", "d\te  f"])
    assert layout.article.tolist() == [0, 0, 1]
    assert layout.headline.tolist() == [True, False, False]
    assert layout.length == pytest.approx(np.log1p([1, 2, 3]))  # words split on any space
    alone = Layout.alone(["a", "b", "c"])
    assert len(set(alone.article.tolist())) == 3


def _stage(width: int = 2) -> ContextStage:
    coef = np.zeros((width, len(FEATURES)))
    coef[:, COLUMN["own"]] = 1.0
    coef[:, COLUMN["article_max"]] = 0.5
    return ContextStage(
        coef={"frames": coef},
        intercept={"frames": np.full(width, -0.25)},
        fill={"frames": np.zeros((width, len(FEATURES)))},
        info={"C": 1.0},
    )


def test_the_stage_is_a_logistic_regression_on_the_features() -> None:
    stage = _stage()
    scores = {"frames": np.array([[0.9, 0.2], [0.3, 0.6]]), "rhetoric": np.array([[0.1], [0.2]])}
    out = stage.apply(scores, Layout.from_bounds([0, 2], [False, False], ["a b", "c"]))
    z = logit(scores["frames"])
    expected = 1 / (1 + np.exp(-(z + 0.5 * z[::-1] - 0.25)))  # own + half the other's
    np.testing.assert_allclose(out["frames"], expected)
    assert out["rhetoric"] is scores["rhetoric"]  # a dimension without the stage


def test_a_stage_of_the_first_kind_scores_without_the_length() -> None:
    """Folders saved with ``article-context.v1`` (8 features, no length) load and score as
    they did; the second kind's length moves the score of a sentence by its words."""
    v2 = _stage()
    v2.coef["frames"][:, COLUMN["length"]] = 0.7
    v1 = ContextStage(
        coef={"frames": v2.coef["frames"][:, :-1]},
        intercept=v2.intercept,
        fill={"frames": v2.fill["frames"][:, :-1]},
        info={},
        kind="article-context.v1",
    )
    labels = {"frames": ("a", "b")}
    again = ContextStage.from_dict(json.loads(v1.to_json()), labels, "context.json")
    assert again.kind == "article-context.v1" and len(again.features) == len(FEATURES) - 1
    scores = {"frames": np.array([[0.9, 0.2], [0.3, 0.6]])}
    texts = ["Two words", "and then three more words here"]
    layout = Layout.from_bounds([0, 2], [False, False], texts)
    z = logit(scores["frames"])
    first = 1 / (1 + np.exp(-(z + 0.5 * z[::-1] - 0.25)))
    np.testing.assert_allclose(again.apply(scores, layout)["frames"], first)
    length = np.log1p([2, 6])[:, None]
    second = 1 / (1 + np.exp(-(z + 0.5 * z[::-1] - 0.25 + 0.7 * length)))
    np.testing.assert_allclose(v2.apply(scores, layout)["frames"], second)


def test_context_json_round_trips_and_damage_is_named() -> None:
    stage = _stage()
    labels = {"frames": ("a", "b")}
    again = ContextStage.from_dict(json.loads(stage.to_json()), labels, "context.json")
    np.testing.assert_array_equal(again.coef["frames"], stage.coef["frames"])
    good = json.loads(stage.to_json())
    cases = [
        ({**good, "kind": "article-context.v9"}, "unknown to this framing"),
        ({**good, "features": ["own"]}, "'features' must be"),
        ({**good, "dimensions": {"topics": good["dimensions"]["frames"]}}, "'topics' is not"),
        (
            {**good, "dimensions": {"frames": {**good["dimensions"]["frames"], "intercept": [1]}}},
            r"frames.intercept: expected shape \[2\]",
        ),
        (
            {
                **good,
                "dimensions": {
                    "frames": {**good["dimensions"]["frames"], "coef": [[float("nan")] * 9] * 2}
                },
            },
            "not a finite number",
        ),
        # the first kind has no length: its 8 features, not the 9 of the second
        ({**good, "kind": "article-context.v1"}, "'features' must be"),
    ]
    for data, message in cases:
        with pytest.raises(ModelError, match=message):
            ContextStage.from_dict(json.loads(json.dumps(data)), labels, "context.json")


def _config(*overrides: str):
    """The default config on the tiny corpus, with the scikit-learn pipelines kept (the
    fallback scorer is one of the paths compared)."""
    return load_config(
        "default",
        data=[TINY],
        overrides=[
            f"data.codebook={json.dumps(str(TINY_CODEBOOK))}",
            "cv.folds=3",
            "name=tiny",
            "save_pipelines=true",
            *overrides,
        ],
    )


@pytest.fixture(scope="module")
def staged(tmp_path_factory: pytest.TempPathFactory) -> Path:
    config = _config('context.dimensions=["frames"]')
    return train(config, output=tmp_path_factory.mktemp("m") / "staged").path


def test_training_writes_the_stage_and_meta_names_it(staged: Path) -> None:
    meta = json.loads((staged / "meta.json").read_text(encoding="utf-8"))
    assert meta["context"] == "article-context.v2" and meta["format_version"] >= 3
    model = load_model(staged)
    assert model.context is not None and model.context.dimensions == ("frames",)


def _article() -> tuple[str, str]:
    """The first article of the tiny corpus: its title and its sentences as one text."""
    records = [json.loads(line) for line in TINY.read_text(encoding="utf-8").splitlines()]
    doc = next(r for r in records if r.get("type") == "document")
    body = [r["text"] for r in records if r.get("doc_id") == doc["doc_id"] and "text" in r]
    return doc["title"], " ".join(body)


def test_tagging_scores_each_sentence_in_its_article(staged: Path) -> None:
    model = load_model(staged)
    title, text = _article()
    article = model.tag(text, title=title, all_scores=True)
    texts = [s.text for s in article.sentences]
    raw = model.scorer.predict_proba(texts)
    heads = [s.start is None for s in article.sentences]
    layout = Layout.from_bounds([0, len(texts)], heads, texts)
    expected = model.context.apply(raw, layout)  # type: ignore[union-attr]
    got = np.array(
        [[s.scores["frames"][x] for x in model.labels["frames"]] for s in article.sentences]
    )
    np.testing.assert_allclose(got, expected["frames"], atol=1e-9)
    assert not np.allclose(got, raw["frames"])  # the stage changed the scores
    rhetoric = np.array(
        [[s.scores["rhetoric"][x] for x in model.labels["rhetoric"]] for s in article.sentences]
    )
    np.testing.assert_allclose(rhetoric, raw["rhetoric"], atol=1e-9)  # not in [context]
    # scored alone, the same sentences get other scores (the fill, not their article)
    alone = model.predict_proba(texts)["frames"]
    assert not np.allclose(alone, got)


def test_every_scoring_path_applies_the_stage_alike(staged: Path, tmp_path: Path) -> None:
    """Evaluation and pre-annotation see each sentence in its article, as tagging does;
    the compiled arrays and the scikit-learn pipelines give the same revised scores."""
    model = load_model(staged)
    report = evaluate(model, [TINY], worst=0)
    ev = report.dimensions["frames"]
    records = [json.loads(line) for line in TINY.read_text(encoding="utf-8").splitlines()]
    sentences = [r for r in records if r.get("type") != "document" and r.get("status") == "done"]
    by_id = {r["id"]: r for r in sentences}
    layout = Layout.from_keys(
        [by_id[i]["doc_id"] for i in ev.ids],
        [by_id[i].get("sent_index") for i in ev.ids],
        [(by_id[i].get("meta") or {}).get("part") == "headline" for i in ev.ids],
        ev.texts,
    )
    raw = model.scorer.predict_proba(ev.texts)
    expected = model.context.apply(raw, layout)["frames"]  # type: ignore[union-attr]
    np.testing.assert_allclose(ev.y_score, expected, atol=1e-9)
    pre = {
        r.id: r.suggested
        for r in preannotate(model, [TINY], all_scores=True)
        if isinstance(r, Sentence)
    }
    column = {label: j for j, label in enumerate(model.labels["frames"])}
    # pre-annotation scores every sentence of an article, evaluation its done ones: compare
    # the articles whose sentences are all done
    partial = {r["doc_id"] for r in records if r.get("status") in ("todo", "skip")}
    compared = [(row, sid) for row, sid in enumerate(ev.ids) if by_id[sid]["doc_id"] not in partial]
    assert len(compared) > len(ev.ids) / 2
    for row, sid in compared:
        for label, value in pre[sid]["frames"].items():
            assert value == pytest.approx(expected[row, column[label]], abs=1e-4)
    fallback = load_model(staged, use_compiled=False)
    again = evaluate(fallback, [TINY], worst=0).dimensions["frames"]
    np.testing.assert_allclose(again.y_score, ev.y_score, atol=1e-6)


def test_explanations_say_what_the_context_added(staged: Path) -> None:
    model = load_model(staged)
    title, text = _article()
    article = model.tag(text, title=title, explain=True)
    found = [e for s in article.sentences for e in (s.explanations or {}).get("frames", ())]
    assert found, "the tiny model predicts some frame in the article"
    for e in found:
        assert e.context is not None
        assert float(logit(np.array(e.score))) == pytest.approx(e.decision + e.context)
        assert "context" in e.to_dict()


def test_a_folder_missing_its_stage_is_refused(staged: Path, tmp_path: Path) -> None:
    copy = tmp_path / "copy"
    shutil.copytree(staged, copy)
    (copy / CONTEXT_FILE).unlink()
    with pytest.raises(ModelError, match="context.json is missing"):
        load_model(copy)
    meta = json.loads((staged / "meta.json").read_text(encoding="utf-8"))
    meta["context"] = "article-context.v9"
    (copy / "meta.json").write_text(json.dumps(meta), encoding="utf-8")
    with pytest.raises(ModelError, match="upgrade framing"):
        load_model(copy)


def test_without_context_section_no_stage_is_trained(tmp_path: Path) -> None:
    path = train(_config("context.dimensions=[]"), output=tmp_path / "plain").path
    assert not (path / CONTEXT_FILE).exists()
    assert "context" not in json.loads((path / "meta.json").read_text(encoding="utf-8"))
    assert load_model(path).context is None


def test_a_fit_is_saved_whole_or_not_at_all(tmp_path: Path) -> None:
    """``FittedModel.save`` writes the stage the thresholds were tuned with; saving the
    pipelines and metadata alone, as the benchmark harness once did (it then scored
    frames without the stage), is refused."""
    from framing.training.train import fit_model

    from framing.runtime.model import save_model

    fitted = fit_model(_config('context.dimensions=["frames"]'))
    path = fitted.save(tmp_path / "whole")
    assert (path / CONTEXT_FILE).exists() and (path / "calibration.json").exists()
    model = load_model(path)
    assert model.context is not None and model.context.dimensions == ("frames",)
    with pytest.raises(ModelError, match="no stage was given"):
        save_model(tmp_path / "part", fitted.pipelines, fitted.meta, fitted.codebook)
    assert not (tmp_path / "part").exists()


# Every character str.split() treats as whitespace, a few that it does not (zero-width
# space, word joiner), letters of one, two and four bytes per code point.
_SPLIT_CHARS = (
    "\t\n\x0b\x0c\r\x1c\x1d\x1e\x1f \x85\xa0\u1680\u2000\u2007\u200a\u2028\u2029\u202f"
    "\u205f\u3000\u200b\u2060ab\xe9\u0436\u4e16\U0001f600"
)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.text(alphabet=_SPLIT_CHARS, max_size=40), max_size=12))
def test_sentence_length_counts_the_words_of_str_split(texts: list[str]) -> None:
    """The sentence length the stage reads is log(1 + len(text.split())), with the compiled
    kernel's count as without it."""
    want = np.log1p([float(len(t.split())) for t in texts])
    assert sentence_length(texts).tolist() == want.tolist()
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(_native, "speedups", None)
        assert sentence_length(texts).tolist() == want.tolist()
    if _native.speedups is not None:
        raw = _native.speedups.word_counts(texts)
        assert np.frombuffer(raw, dtype=np.int64).tolist() == [len(t.split()) for t in texts]


def test_word_counts_refuses_what_is_not_a_list_of_str() -> None:
    if _native.speedups is None:
        pytest.skip("the compiled module is not built")
    with pytest.raises(TypeError, match="text 1 is not str"):
        _native.speedups.word_counts(["a b", b"c d"])
    with pytest.raises(TypeError, match="list of str"):
        _native.speedups.word_counts(("a",))

"""framing.runtime.tagging, results, inputs and framing.output, and the public API: tagging articles, batches, profiles, output form."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import warnings
from itertools import count, islice
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import framing
import framing.runtime._native
from framing.errors import InputNotFoundError, ModelError, UsageError
from framing.output.html import HtmlWriter
from framing.output.json import (
    article_json,
    encode_json,
    exact_floats,
    float_list,
    sentence_json,
    tag_json_lines,
)
from framing.output.table import render_table
from framing.runtime.inputs import InputFailure, collect_inputs
from framing.runtime.model import ModelVersionWarning, load_model
from framing.runtime.profiles import MAX_EVIDENCE
from framing.runtime.results import OUTPUT_VERSION, LabelScore, TaggedArticle, TaggedSentence
from framing.runtime.tagging import predict_sentences, tag, tag_many, tag_text

REPO = Path(__file__).resolve().parents[1]
EXAMPLE = REPO / "examples" / "sahel-summit.txt"

ARTICLE = (
    "The port strike pushed the price of grain up by a fifth. Exporters lose millions "
    "of dollars every day, they said.\n\n"
    "The minister called the strikers reckless saboteurs! Troops guard the border.\n"
    "Neighbours pledged to stand together."
)


def _compact(obj: object) -> str:
    """What the JSON writer's JSONL text must be: compact ``json.dumps``."""
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":"))


def _articles() -> list[str]:
    text = EXAMPLE.read_text(encoding="utf-8")
    parts = [p for p in text.split("\n") if p.strip()]
    return [
        ARTICLE,
        text,
        "",
        "One sentence only",
        " \n ",
        *(" ".join(parts[i::3]) for i in range(3)),
    ]


def test_tagger_offsets_index_the_text(tag_model) -> None:
    article = tag_model.tag(ARTICLE, doc_id="a1")
    assert isinstance(article, TaggedArticle)
    assert (article.doc_id, article.title, article.text) == ("a1", None, ARTICLE)
    assert [s.index for s in article.sentences] == list(range(1, 6))
    for s in article.sentences:
        assert ARTICLE[s.start : s.end] == s.text
    assert article.sentences[0].text.startswith("The port strike")
    assert article.sentences[-1].text == "Neighbours pledged to stand together."


def test_tagger_scores_the_title_as_sentence_0(tag_model) -> None:
    body = tag_model.tag(ARTICLE, doc_id="a1", all_scores=True)
    article = tag_model.tag(ARTICLE, title="  Strike  ", doc_id="a1", all_scores=True)
    head, rest = article.sentences[0], article.sentences[1:]
    assert (head.index, head.text, head.start, head.end) == (0, "Strike", None, None)
    assert head.scores == tag_model.predict(["Strike"], all_scores=True)[0].scores
    # the body's sentences, offsets and scores do not change; the title stays as given
    assert [s.to_dict() for s in rest] == [s.to_dict() for s in body.sentences]
    assert article.title == "  Strike  " and article.text == ARTICLE
    assert "start" not in article.to_dict()["sentences"][0]
    assert article.to_dict()["n_sentences"] == len(body.sentences) + 1
    for blank in (None, "", " \n "):
        assert tag_model.tag(ARTICLE, title=blank).sentences[0].index == 1


def test_tagger_labels_follow_scores_and_thresholds(tag_model) -> None:
    article = tag_model.tag(ARTICLE, all_scores=True)
    thresholds = tag_model.thresholds
    seen = 0
    for s in article.sentences:
        assert set(s.labels) == set(tag_model.dimensions)
        assert s.scores is not None
        for dim, found in s.labels.items():
            want = {lab for lab, v in s.scores[dim].items() if v >= thresholds[dim][lab]}
            assert {ls.label for ls in found} == want
            assert [ls.score for ls in found] == sorted((ls.score for ls in found), reverse=True)
            for ls in found:
                assert ls.score == s.scores[dim][ls.label]
            seen += len(found)
    assert seen > 0, "the tiny model should predict something on its own domain"
    assert tag_model.tag(ARTICLE).sentences[0].scores is None


def test_tagger_scores_equal_the_model_scores(tag_model) -> None:
    article = tag_model.tag(ARTICLE, all_scores=True)
    proba = tag_model.predict_proba([s.text for s in article.sentences])
    for i, s in enumerate(article.sentences):
        for dim, labels in tag_model.labels.items():
            assert [s.scores[dim][lab] for lab in labels] == proba[dim][i].tolist()


def test_tagger_profile_summarises_the_sentences(tag_model) -> None:
    article = tag_model.tag(ARTICLE, all_scores=True)
    n = len(article.sentences)
    for dim, labels in tag_model.labels.items():
        for label in labels:
            carriers = [s for s in article.sentences if label in s.label_ids(dim)]
            profile = article.profile[dim].get(label)
            if not carriers:
                assert profile is None
                continue
            scores = [s.scores[dim][label] for s in article.sentences]
            assert profile.count == len(carriers)
            assert profile.share == len(carriers) / n
            assert profile.max_score == max(scores)
            assert profile.mean_score == pytest.approx(sum(scores) / n, abs=1e-12)
            best = sorted(carriers, key=lambda s: (-s.scores[dim][label], s.index))
            assert [e.index for e in profile.evidence] == [s.index for s in best[:MAX_EVIDENCE]]
            for e in profile.evidence:
                assert e.text == article.sentences[e.index - 1].text
                assert e.score == article.sentences[e.index - 1].scores[dim][label]
    assert article.labels("frames") == [
        lab
        for lab, _ in sorted(
            article.profile["frames"].items(), key=lambda kv: (-kv[1].count, -kv[1].max_score)
        )
    ]


def test_tagger_empty_article(tag_model) -> None:
    article = tag_model.tag("   \n  ")
    assert article.sentences == []
    assert article.profile == {dim: {} for dim in tag_model.dimensions}
    assert article.to_dict()["n_sentences"] == 0


def test_tagger_to_dict_has_the_documented_fields(tag_model) -> None:
    data = tag_model.tag(ARTICLE, doc_id="a1", all_scores=True).to_dict(include_text=True)
    assert data["version"] == OUTPUT_VERSION
    assert list(data) == [
        "version",
        "doc_id",
        "title",
        "model",
        "n_sentences",
        "out_of_distribution",
        "text",
        "sentences",
        "profile",
    ]
    assert data["model"] == {
        "name": "tag-tiny",
        "version": "0.0.1",
        "codebook": tag_model.codebook.name,
        "codebook_version": tag_model.codebook.version,
        "level": "sentence",
    }
    first = data["sentences"][0]
    assert list(first) == ["index", "start", "end", "text", "labels", "scores"]
    assert data["text"][first["start"] : first["end"]] == first["text"]
    json.dumps(data)  # plain JSON types only


@settings(max_examples=40, deadline=None)
@given(st.text(max_size=200), st.booleans(), st.one_of(st.none(), st.text(max_size=10)))
def test_tagger_to_json_equals_json_dumps_of_to_dict(tag_model, text, all_scores, title) -> None:
    article = tag_model.tag(text, title=title, doc_id=title, all_scores=all_scores)
    for include_text in (False, True):
        want = _compact(article.to_dict(include_text=include_text))
        assert article_json(article, include_text=include_text) == want
    for s in article.sentences:
        assert sentence_json(s) == _compact(s.to_dict())


def test_tagger_tag_many_equals_tagging_one_by_one(tag_model) -> None:
    texts = _articles()
    items = [texts[0], ("d2", texts[1]), {"text": texts[2], "id": 3, "title": "T"}, *texts[3:]]
    alone = [
        tag_text(tag_model, texts[0]).to_dict(),
        tag_text(tag_model, texts[1], doc_id="d2").to_dict(),
        tag_text(tag_model, texts[2], doc_id="3", title="T").to_dict(),
        *(tag_text(tag_model, t).to_dict() for t in texts[3:]),
    ]
    for batch_size in (1, 7, 10_000):
        got = [a.to_dict() for a in tag_many(tag_model, items, batch_size=batch_size)]
        assert got == alone
    got = [a.to_dict() for a in tag_model.tag_many(items, batch_size=3, n_jobs=2)]
    assert got == alone


def test_tagger_tag_many_streams_lazily(tag_model) -> None:
    endless = (f"Article {i}. The port strike goes on." for i in count())
    first = list(islice(tag_many(tag_model, endless, batch_size=4), 25))
    assert [len(a.sentences) for a in first] == [2] * 25
    assert first[24].sentences[0].text == "Article 24."


def test_tagger_tag_many_rejects_bad_items(tag_model) -> None:
    with pytest.raises(TypeError, match="item 1: expected a str"):
        list(tag_many(tag_model, ["fine", 42]))
    with pytest.raises(TypeError, match="item 0: a dict needs a 'text' string"):
        list(tag_many(tag_model, [{"title": "no text"}]))
    with pytest.raises(UsageError, match="batch_size"):
        list(tag_many(tag_model, ["x"], batch_size=0))
    with pytest.raises(UsageError, match="n_jobs"):
        list(tag_many(tag_model, ["x"], n_jobs=-2))
    with pytest.raises(TypeError, match="text must be a str"):
        tag_model.tag(b"bytes")  # type: ignore[arg-type]


def test_tagger_predict_gives_one_result_per_sentence(tag_model) -> None:
    sentences = ["The price of grain rose.", "", "Troops guard the border. Two sentences."]
    results = tag_model.predict(sentences, all_scores=True)
    assert [r.index for r in results] == [1, 2, 3]
    assert [r.text for r in results] == sentences
    assert all(r.start is None and r.end is None for r in results)
    assert "start" not in results[0].to_dict()
    proba = tag_model.predict_proba(sentences)
    assert [results[2].scores["frames"][lab] for lab in tag_model.labels["frames"]] == proba[
        "frames"
    ][2].tolist()
    assert predict_sentences(tag_model, []) == []
    with pytest.raises(TypeError, match="sentence 1"):
        tag_model.predict(["ok", None])  # type: ignore[list-item]


def test_tagger_single_label_dimension_takes_the_argmax(
    tag_model_path: Path, tmp_path: Path
) -> None:
    folder = tmp_path / "argmax"
    shutil.copytree(tag_model_path, folder)
    meta = json.loads((folder / "meta.json").read_text(encoding="utf-8"))
    meta["multi_label"]["frames"] = False
    meta["thresholds"]["frames"] = dict.fromkeys(meta["labels"]["frames"], 0.0)
    (folder / "meta.json").write_text(json.dumps(meta), encoding="utf-8")
    model = load_model(folder)
    for s in model.tag(ARTICLE, all_scores=True).sentences:
        assert len(s.labels["frames"]) == 1
        best = max(s.scores["frames"].items(), key=lambda kv: kv[1])[0]
        assert s.labels["frames"][0].label == best


def test_tagger_skops_and_compiled_scorers_agree(tag_model_path: Path, tag_model) -> None:
    slow = load_model(tag_model_path, use_compiled=False)
    texts = [ARTICLE, "", "Ünïcödé — “quoted” text!"]
    fast_scores = tag_model.predict_proba(texts)
    slow_scores = slow.predict_proba(texts)
    for dim in tag_model.dimensions:
        np.testing.assert_allclose(fast_scores[dim], slow_scores[dim], rtol=0, atol=1e-9)
    for a, b in zip(slow.tag(ARTICLE).sentences, tag_model.tag(ARTICLE).sentences, strict=True):
        for dim in tag_model.dimensions:
            assert a.label_ids(dim) == b.label_ids(dim)


def test_tagger_model_loading_errors(
    tag_model_path: Path, tmp_path: Path, mini_codebook_path
) -> None:
    with pytest.raises(InputNotFoundError, match="model 'no-such-model' not found"):
        load_model("no-such-model")
    broken = tmp_path / "broken"
    shutil.copytree(tag_model_path, broken)
    (broken / "codebook.toml").unlink()
    with pytest.raises(ModelError, match="missing codebook.toml"):
        load_model(broken)
    with pytest.raises(ModelError, match="trained with codebook 'tiny'"):
        load_model(tag_model_path, codebook=mini_codebook_path)
    old = tmp_path / "old"
    shutil.copytree(tag_model_path, old)
    meta = json.loads((old / "meta.json").read_text(encoding="utf-8"))
    meta["versions"]["sklearn"] = "0.0.1"
    (old / "meta.json").write_text(json.dumps(meta), encoding="utf-8")
    with pytest.warns(ModelVersionWarning, match="sklearn 0.0.1"):
        load_model(old, use_compiled=False)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # compiled arrays do not depend on sklearn's version
        load_model(old)


def test_tagger_collect_inputs(tmp_path: Path) -> None:
    (tmp_path / "sub").mkdir()
    for name in ("b.txt", "a.jsonl", "sub/c.TXT", "skip.md"):
        (tmp_path / name).write_text("x", encoding="utf-8")
    found = collect_inputs([tmp_path, "-"])
    assert [p.relative_to(tmp_path).as_posix() for p in found[:-1]] == [
        "a.jsonl",
        "b.txt",
        "sub/c.TXT",
    ]
    assert str(found[-1]) == "-"
    with pytest.raises(InputNotFoundError, match="no such file"):
        collect_inputs([tmp_path / "missing.txt"])
    (tmp_path / "empty").mkdir()
    with pytest.raises(InputNotFoundError, match="holds no .txt or .jsonl"):
        collect_inputs([tmp_path / "empty"])


def test_tagger_tag_files_reports_failures_in_place(tag_model, tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_text(
        "Headline\n\nThe strike goes on. Prices rise.", encoding="utf-8"
    )
    (tmp_path / "b.txt").write_bytes(b"Fine line.\nBad \xff byte.")
    (tmp_path / "c.jsonl").write_text(
        '{"id": "x", "text": "Troops guard the border."}\n'
        "not json\n"
        '{"title": "no text"}\n'
        '{"text": "No id here."}\n',
        encoding="utf-8",
    )
    results = list(tag([tmp_path], tag_model))
    kinds = [type(r).__name__ for r in results]
    assert kinds == [
        "TaggedArticle",
        "InputFailure",
        "TaggedArticle",
        "InputFailure",
        "InputFailure",
        "TaggedArticle",
    ]
    a, bad_b, x, bad_json, bad_text, no_id = results
    assert (a.doc_id, a.title, len(a.sentences)) == ("a", "Headline", 3)
    assert [(s.index, s.text, s.start) for s in a.sentences[:2]] == [
        (0, "Headline", None),
        (1, "The strike goes on.", 0),
    ]
    assert (
        str(bad_b)
        == f"{tmp_path / 'b.txt'}:2: invalid UTF-8 byte 0xff (re-encode the file as UTF-8)"
    )
    assert x.doc_id == "x"
    assert bad_json.source.endswith("c.jsonl:2") and "not valid JSON" in bad_json.message
    assert bad_text.source.endswith("c.jsonl:3") and "'text'" in bad_text.message
    assert no_id.doc_id == "c:4"
    assert all(isinstance(f, InputFailure) for f in (bad_b, bad_json, bad_text))


def _write_articles(folder: Path, texts: list[str]) -> Path:
    path = folder / "articles.jsonl"
    with path.open("w", encoding="utf-8") as out:
        for i, text in enumerate(texts):
            title = None if i % 3 else f"Title “{i}”"
            out.write(json.dumps({"id": f"a{i}", "title": title, "text": text}) + "\n")
        out.write("not json\n")
    return path


@pytest.fixture(params=["native", "python"])
def json_writer(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """tag_json_lines with the compiled scoring kernel and without it."""
    if request.param == "python":
        monkeypatch.setattr(framing.runtime._native, "speedups", None)
    elif framing.runtime._native.speedups is None:
        pytest.skip("framing.runtime._speedups is not built")
    return str(request.param)


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(st.lists(st.text(max_size=150), max_size=6), st.integers(1, 8))
def test_tagger_json_lines_equal_the_objects_json(
    tag_model, tmp_path, json_writer, texts, batch_size
) -> None:
    articles = _articles()[:4] + texts + ["", "   \n "]
    path = _write_articles(tmp_path, articles)
    fast = list(tag_json_lines([path], tag_model, batch_size=batch_size))
    raw = list(tag_json_lines([path], tag_model, batch_size=batch_size, as_bytes=True))
    objects = list(tag([path], tag_model, batch_size=batch_size))
    for text_line, byte_line in zip(fast, raw, strict=True):
        if isinstance(text_line, tuple):
            assert byte_line == ((text_line[0] + "\n").encode("utf-8"), text_line[1])
    assert len(fast) == len(objects) == len(articles) + 1
    for got, want in zip(fast, objects, strict=True):
        if isinstance(want, InputFailure):
            assert got == want
        else:
            assert isinstance(got, tuple) and isinstance(want, TaggedArticle)
            assert got == (article_json(want), len(want.sentences))


def test_tagger_json_lines_carry_labels_and_profiles(
    tag_model, tmp_path: Path, json_writer: str
) -> None:
    path = _write_articles(tmp_path, _articles())
    lines = [item for item in tag_json_lines([path], tag_model) if isinstance(item, tuple)]
    data = [json.loads(line) for line, _ in lines]
    assert [len(d["sentences"]) for d in data] == [n for _, n in lines]
    assert any(s["labels"]["frames"] for d in data for s in d["sentences"])
    assert any(d["profile"]["frames"] for d in data)
    titled = [d for d in data if d["title"]]
    assert titled and all(d["sentences"][0]["index"] == 0 for d in titled)
    assert all("start" not in d["sentences"][0] for d in titled)


_AWKWARD_LINES = [
    b'{"text": "Plain.", "id": 7, "title": 1.5}',
    b'\xef\xbb\xbf{"text": "A byte order mark."}',
    b'{"text": "NaN in meta.", "meta": {"x": NaN, "y": -Infinity}}',
    b'{"text": "Too big.", "meta": {"x": 1e400, "y": 123456789012345678901234567890}}',
    b'{"text": "Floats.", "meta": {"x": 0.1, "y": 2.2250738585072011e-308, "z": 1E5}}',
    b'{"text": "Twice.", "text": "Last wins.", "id": "a", "id": "b"}',
    b'{"text": "Half a pair \\ud83d here."}',
    b'{"text": "Encoded half \xed\xa0\xbd."}',
    b'{"text": "Raw tab\tinside."}',
    b'{"text": "Trailing."} x',
    b'{"text": "Bad UTF-8 \xff."}',
    b'{"text": 5}',
    b"[1, 2]",
    b'  {"text": "Spaces around."}  \r',
    b"",
    b"{",
]


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.one_of(
            st.sampled_from(_AWKWARD_LINES),
            st.builds(
                lambda text, extra, ascii_only: json.dumps(
                    {"text": text, **extra}, ensure_ascii=ascii_only
                ).encode("utf-8", "surrogatepass"),
                st.text(),
                st.dictionaries(
                    st.sampled_from(["id", "title", "doc_id", "other"]),
                    st.one_of(st.none(), st.integers(), st.floats(), st.text()),
                ),
                st.booleans(),
            ),
        ),
        max_size=8,
    )
)
def test_inputs_jsonl_lines_read_as_json_loads_reads_them(lines: list[bytes]) -> None:
    """msgspec decodes JSONL lines, json.loads where msgspec refuses: the items and
    failures are those of json.loads alone."""
    import msgspec

    import framing.runtime.inputs as inputs

    def refuse(raw: bytes) -> None:
        raise msgspec.DecodeError("refused")

    fast = list(inputs.jsonl_items(lines, "x.jsonl"))
    real = inputs._decode_json
    inputs._decode_json = refuse
    try:
        slow = list(inputs.jsonl_items(lines, "x.jsonl"))
    finally:
        inputs._decode_json = real
    assert repr(fast) == repr(slow)


def test_tagger_lone_surrogate_escapes_are_input_failures(tag_model, tmp_path: Path) -> None:
    path = tmp_path / "s.jsonl"
    path.write_text(
        '{"text": "Half a pair \\ud83d here."}\n'
        '{"text": "A whole pair \\ud83d\\ude00 is fine.", "title": "\\uDC00"}\n'
        '{"text": "Fine."}\n',
        encoding="utf-8",
    )
    for results in (list(tag([path], tag_model)), list(tag_json_lines([path], tag_model))):
        first, second, third = results
        assert isinstance(first, InputFailure) and first.source.endswith("s.jsonl:1")
        assert "\\ud83d escape stands alone" in first.message
        assert isinstance(second, InputFailure) and "\\udc00" in second.message
        assert not isinstance(third, InputFailure)


def test_tagger_tag_files_one_per_line(tag_model, tmp_path: Path) -> None:
    path = tmp_path / "lines.txt"
    path.write_text(
        "The strike goes on. Prices rise.\n\nTroops guard the border.\n", encoding="utf-8"
    )
    results = list(tag([path], tag_model, one_per_line=True, batch_size=2))
    assert [type(r) for r in results] == [TaggedSentence] * 3
    assert [(r.index, r.text) for r in results] == [
        (1, "The strike goes on. Prices rise."),
        (2, ""),
        (3, "Troops guard the border."),
    ]
    assert (
        results[0].to_dict() == tag_model.predict(["The strike goes on. Prices rise."])[0].to_dict()
    )


def test_tagger_renderers(tag_model) -> None:
    article = tag_model.tag(ARTICLE + ' <b>"x" & y</b>.', doc_id="a<1>", title="T & <T>")
    table = render_table(article)
    assert "== a<1>: T & <T>" in table
    assert "The port strike" in table
    import io

    out = io.StringIO()
    html = HtmlWriter(out, tag_model)
    html.write(article)
    html.write(tag_model.predict(["One line <i>"])[0])
    html.close()
    page = out.getvalue()
    assert page.startswith("<!DOCTYPE html>") and page.rstrip().endswith("</html>")
    assert "&lt;b&gt;&quot;x&quot; &amp; y&lt;/b&gt;" in page
    assert "T &amp; &lt;T&gt;" in page and "<b>" not in page and "<i>" not in page
    assert "<script" not in page and "http" not in page and "<link" not in page
    assert "<style>" in page
    for labels in article.profile.values():
        for label in labels:
            assert f"{label}</span>" in page


def test_tagger_example_article_tags(tag_model) -> None:
    from framing.format.article import read_article

    article = read_article(EXAMPLE)
    assert article.title and 15 <= len(framing.split_sentences(article.text)) <= 25
    tagged = tag_model.tag(article.text, title=article.title, doc_id=article.doc_id)
    head, *body = tagged.sentences
    assert (head.index, head.text, head.start) == (0, article.title, None)
    assert all(article.text[s.start : s.end] == s.text for s in body)


def test_tagger_public_api_is_lazy_and_light() -> None:
    assert framing.TaggedArticle is TaggedArticle
    assert set(framing.__all__) >= {"load_model", "Model", "TaggedArticle", "TaggedSentence"}
    with pytest.raises(AttributeError):
        framing.no_such_name  # noqa: B018
    code = (
        "import sys, framing\n"
        "heavy = [m for m in ('numpy', 'sklearn', 'matplotlib', 'datasets', 'training') "
        "if m in sys.modules]\n"
        "framing.load_model, framing.TaggedArticle\n"
        "heavy += [m for m in ('sklearn', 'matplotlib', 'datasets', 'training') if m in sys.modules]\n"
        "print(heavy)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.one_of(
            st.floats(allow_nan=False, allow_infinity=False),
            st.floats(min_value=-1e-3, max_value=1e-3),
            st.floats(min_value=1e15, max_value=1e18),
        ),
        max_size=20,
    )
)
def test_json_writer_floats_keep_the_text_of_repr(values: list[float]) -> None:
    obj = {"scores": values, "nested": [{"score": v} for v in values], "n": 1, "s": "é\x01"}
    want = _compact(obj)
    assert encode_json(exact_floats(obj)).decode() == want
    assert encode_json(float_list(np.array(values, dtype=float))).decode() == _compact(values)


def test_json_writer_writes_non_finite_floats_as_null() -> None:
    values = [float("nan"), float("inf"), -float("inf"), 0.5]
    assert encode_json(exact_floats({"x": values})) == b'{"x":[null,null,null,0.5]}'
    assert encode_json(float_list(np.array(values))) == b"[null,null,null,0.5]"


def test_json_writer_objects_keep_tiny_and_huge_floats_as_repr(tag_model) -> None:
    article = tag_model.tag(ARTICLE, title="Port strike", doc_id="a1")
    article.meta = {"outlet": "X"}
    odd = iter([3.2e-05, 1e-07, 2.5e16, 0.0, 1e-4, 9.99e-05] * 50)
    for s in article.sentences:
        for dim, found in s.labels.items():
            s.labels[dim] = tuple(LabelScore(ls.label, next(odd)) for ls in found)
    for labels in article.profile.values():
        for p in labels.values():
            p.share, p.mean_score, p.strength = next(odd), next(odd), next(odd)
            for e in p.evidence:
                e.score = next(odd)
    want = _compact(article.to_dict())
    assert "e-05" in want and article_json(article) == want
    for s in article.sentences:
        assert sentence_json(s) == _compact(s.to_dict())


def test_json_writer_indent_matches_json_dumps(tag_model) -> None:
    article = tag_model.tag(ARTICLE, title="Port “strike”", all_scores=True)
    data = article.to_dict()
    want = json.dumps(data, ensure_ascii=False, indent=2)
    assert encode_json(exact_floats(data), indent=2).decode() == want


def test_tagger_tag_many_carries_meta_of_dict_inputs(tag_model) -> None:
    from framing.format.meta import MetadataError

    items = [
        {"id": "a", "text": "NATO is a threat.", "meta": {"outlet": "X", "date": "2024-03-14"}},
        "Talks went on.",
        {"id": "c", "text": "Prices rose."},
    ]
    for n_jobs in (1, 2):
        out = list(tag_model.tag_many(items, n_jobs=n_jobs, batch_size=1))
        assert [a.meta for a in out] == [{"outlet": "X", "date": "2024-03-14"}, {}, {}]
        assert out[0].to_dict()["meta"] == {"outlet": "X", "date": "2024-03-14"}
    with pytest.raises(MetadataError, match="item 0 meta.date"):
        list(tag_model.tag_many([{"text": "x", "meta": {"date": "soon"}}]))

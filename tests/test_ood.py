"""The out-of-distribution check: calibration, scoring, the model folder and tag output."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
from framing.training.ood import MIN_ARTICLES, calibrate_ood
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from framing.cli import app
from framing.errors import ModelError
from framing.output.json import article_json
from framing.runtime.model import load_model
from framing.runtime.ood import OOD_ARRAYS, OOD_FILE, OodCheck, article_tokens, load_ood, ngrams_of

NEWS = [
    "Ministers of the bloc met in the capital on Friday and agreed to fund new border posts. "
    "Officials said the plan would cost several million dollars over two years.",
    "The alliance held joint exercises near the border, and its commanders said the drills "
    "were defensive. Critics in the capital called them a provocation.",
    "Grain prices rose after the port strike entered its second week, traders said on Monday. "
    "Exporters warned that the stoppage could cost millions in lost trade.",
    "Leaders of the three countries signed eleven agreements at the summit, including a plan "
    "for a joint force and a regional investment bank, officials said.",
    "The foreign minister accused the West of meddling in the region and said the bloc would "
    "resist outside pressure, according to a statement from the ministry.",
    "Talks on the new trade deal stalled on Tuesday after negotiators failed to agree on "
    "tariffs for farm goods, two officials familiar with the talks said.",
]
FOREIGN = (
    "Die Außenminister trafen sich am Freitag in der Hauptstadt und vereinbarten neue "
    "Grenzposten. Kritiker nannten den Plan teuer und überflüssig, hieß es aus Kreisen."
)


_NEWS_CHECK = calibrate_ood(NEWS)


def reference(check: OodCheck, text: str) -> tuple[float, int]:
    """The score computed the plain way: n-grams of the article start, looked up one by one."""
    known = set(check.ngrams)
    grams = ngrams_of(article_tokens(text, check.max_chars))
    unseen = sum(g not in known for g in grams)
    return (unseen / len(grams) if grams else 0.0), len(grams)


def test_ood_calibration_is_leave_one_article_out() -> None:
    check = calibrate_ood(NEWS, quantile=0.5)
    assert check is not None
    held_out = []
    for i, text in enumerate(NEWS):
        others = {g for j, t in enumerate(NEWS) if j != i for g in ngrams_of(article_tokens(t))}
        grams = ngrams_of(article_tokens(text))
        held_out.append(sum(g not in others for g in grams) / len(grams))
    held_out.sort()
    assert check.threshold == pytest.approx((held_out[2] + held_out[3]) / 2)
    assert check.calibration["articles"] == len(NEWS)
    assert check.calibration["held_out_scores"]["max"] == pytest.approx(held_out[-1])
    assert calibrate_ood(NEWS[: MIN_ARTICLES - 1]) is None


def test_ood_scores_match_the_plain_computation_in_any_batch() -> None:
    check = calibrate_ood(NEWS)
    assert check is not None
    texts = [
        NEWS[0],
        FOREIGN,
        "",
        "Officials said.",
        NEWS[2][:40] + " Zorblat quuxes " + NEWS[4],
        "Ünïcode İstanbul officials SAID the plan, the plan!",
    ]
    batch = check.check_many(texts)
    for text, result in zip(texts, batch, strict=True):
        score, count = reference(check, text)
        assert result.score == pytest.approx(score, abs=1e-12)
        assert result.ngrams == count
        assert result == check.check(text)
    assert batch[0].score == 0.0 and not batch[0].flagged  # a training article
    assert batch[1].score > 0.9 and batch[1].flagged
    assert batch[2].ngrams == 0 and not batch[2].flagged
    assert not batch[3].flagged  # too short to say, however unusual


_VOCAB = sorted({w for t in NEWS for w in t.split()})[:40] + ["zorblat", "quux", "", "Ünïcode"]


@settings(max_examples=60, deadline=None)
@given(st.lists(st.lists(st.sampled_from(_VOCAB), max_size=12).map(" ".join), max_size=8))
def test_ood_batch_counts_equal_the_plain_computation(texts: list[str]) -> None:
    """Any batch (empty articles, one-word articles, first and last) scores each article
    exactly as the plain computation does: the pair across two articles never counts."""
    check = _NEWS_CHECK
    assert check is not None
    for text, result in zip(texts, check.check_many(texts), strict=True):
        score, count = reference(check, text)
        assert (result.score, result.ngrams) == (score, count)


def test_ood_reads_only_the_start_of_long_articles() -> None:
    check = calibrate_ood(NEWS)
    assert check is not None
    long = NEWS[0] + " " * (check.max_chars - len(NEWS[0])) + FOREIGN * 20
    assert check.check(long) == check.check(NEWS[0])


def test_ood_save_load_round_trip_and_broken_files(tmp_path: Path) -> None:
    check = calibrate_ood(NEWS)
    assert check is not None
    assert load_ood(tmp_path) is None
    check.save(tmp_path)
    loaded = load_ood(tmp_path)
    assert loaded is not None
    assert loaded.to_doc() == check.to_doc()
    assert loaded.check_many(NEWS + [FOREIGN]) == check.check_many(NEWS + [FOREIGN])
    doc = json.loads((tmp_path / OOD_FILE).read_text())
    (tmp_path / OOD_FILE).write_text(json.dumps({**doc, "ood_version": 99}))
    with pytest.raises(ModelError, match=r"ood.json: out-of-distribution data version 99"):
        load_ood(tmp_path)
    (tmp_path / OOD_FILE).write_text("{not json")
    with pytest.raises(ModelError, match="ood.json: not valid JSON"):
        load_ood(tmp_path)
    del doc["threshold"]
    (tmp_path / OOD_FILE).write_text(json.dumps(doc))
    with pytest.raises(ModelError, match="incomplete"):
        load_ood(tmp_path)


def test_ood_layout_1_folders_load_and_check_the_same(tmp_path: Path) -> None:
    """ood.json of layout 1 (every n-gram a string, before ood.npz) still loads, and the
    check built from it is the one layout 2 stores."""
    check = calibrate_ood(NEWS)
    assert check is not None
    old, new = tmp_path / "old", tmp_path / "new"
    old.mkdir()
    new.mkdir()
    check.save(old, layout=1)
    check.save(new)
    assert not (old / OOD_ARRAYS).exists() and (new / OOD_ARRAYS).is_file()
    assert "ngrams" in json.loads((old / OOD_FILE).read_text())
    a, b = load_ood(old), load_ood(new)
    assert a is not None and b is not None
    assert a.ngrams == b.ngrams == check.ngrams
    assert np.array_equal(a.pairs, b.pairs) and a.to_doc() == b.to_doc()
    texts = NEWS + [FOREIGN, NEWS[0] + " " + FOREIGN]
    assert a.check_many(texts) == b.check_many(texts) == check.check_many(texts)


def test_ood_refuses_missing_or_damaged_pairs(tmp_path: Path) -> None:
    from framing.runtime.array_files import write_arrays

    check = calibrate_ood(NEWS)
    assert check is not None
    check.save(tmp_path)
    pairs = check.pairs
    for damaged, message in [
        (pairs[::-1].copy(), "not sorted distinct keys"),
        (pairs.astype(np.int32), "not int64 keys"),
        (pairs + len(check.unigrams) ** 2, "not sorted distinct keys below"),
    ]:
        write_arrays(tmp_path / OOD_ARRAYS, {"pairs": damaged})
        with pytest.raises(ModelError, match=f"ood.json: incomplete .*{message}"):
            load_ood(tmp_path)
    write_arrays(tmp_path / OOD_ARRAYS, {"other": pairs})
    with pytest.raises(ModelError, match="ood.npz: no array 'pairs'"):
        load_ood(tmp_path)
    (tmp_path / OOD_ARRAYS).unlink()
    with pytest.raises(ModelError, match="ood.npz: not a readable array archive"):
        load_ood(tmp_path)


@pytest.fixture
def ood_model(tag_model_path: Path, tmp_path: Path) -> Path:
    """The small tagging model with an out-of-distribution check added."""
    folder = tmp_path / "with-ood"
    shutil.copytree(tag_model_path, folder)
    check = calibrate_ood(NEWS)
    assert check is not None
    check.save(folder)
    return folder


def test_ood_in_tag_output_all_paths(ood_model: Path, tmp_path: Path) -> None:
    model = load_model(ood_model)
    assert model.ood is not None
    article = model.tag(FOREIGN, doc_id="de")
    assert article.out_of_distribution is not None and article.out_of_distribution.flagged
    data = article.to_dict()
    assert data["out_of_distribution"] == model.ood.check(FOREIGN).to_dict()
    assert json.loads(article_json(article)) == data
    source = tmp_path / "in.jsonl"
    records = [{"id": "de", "text": FOREIGN}, {"id": "en", "text": NEWS[1]}]
    source.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    runner = CliRunner()
    for extra in ([], ["--explain"], ["--all-scores"]):
        result = runner.invoke(app, ["tag", str(source), "-m", str(ood_model), *extra])
        assert result.exit_code == 0, result.output
        out = [json.loads(line) for line in result.stdout.splitlines()]
        assert [r["out_of_distribution"]["flagged"] for r in out] == [True, False]
        assert "out-of-distribution" not in result.stderr
    html = runner.invoke(app, ["tag", str(source), "-m", str(ood_model), "-f", "html"])
    assert html.stdout.count('class="ood"') == 1
    table = runner.invoke(app, ["tag", str(source), "-m", str(ood_model), "-f", "table"])
    assert table.stdout.count("out of distribution:") == 1


def test_ood_model_without_the_data_says_so(tag_model_path: Path, tmp_path: Path) -> None:
    model = load_model(tag_model_path)
    assert model.ood is None
    assert model.tag(FOREIGN).to_dict()["out_of_distribution"] is None
    result = CliRunner().invoke(app, ["tag", "-m", str(tag_model_path)], input=FOREIGN)
    assert result.exit_code == 0
    assert json.loads(result.stdout)["out_of_distribution"] is None
    assert result.stderr == ""  # to stdout (a pipeline): quiet
    out = tmp_path / "out.jsonl"
    result = CliRunner().invoke(
        app, ["tag", "-m", str(tag_model_path), "-o", str(out)], input=FOREIGN
    )
    assert result.exit_code == 0
    assert json.loads(out.read_text())["out_of_distribution"] is None
    assert "has no out-of-distribution data" in result.stderr


def test_ood_training_writes_the_check(tmp_path: Path) -> None:
    from framing.training.config import load_config
    from framing.training.train import train

    data = Path(__file__).resolve().parent / "data"
    config = load_config(
        "default",
        data=[data / "tiny_corpus.jsonl"],
        overrides=[
            f"data.codebook={json.dumps(str(data / 'tiny_codebook.toml'))}",
            "cv.folds=3",
            "name=tiny",
        ],
    )
    result = train(config, output=tmp_path / "tiny")
    model = load_model(result.path)
    assert model.ood is not None
    assert model.ood.calibration["articles"] == result.meta.data["documents"]
    assert model.tag(FOREIGN).out_of_distribution is not None


@pytest.mark.parametrize("native", [True, False])
def test_ood_checks_from_the_scoring_words_equal_check_many(
    ood_model: Path, native: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Tagging reads the check from the words the scoring pass looked up; it must give
    what check_many gives on the article text, wherever max_chars cuts it."""
    import framing.runtime._native as native_module
    from framing.runtime.tagging import tag_many

    if not native:
        monkeypatch.setattr(native_module, "speedups", None)
    elif native_module.speedups is None:
        pytest.skip("framing.runtime._speedups is not built")
    model = load_model(ood_model)
    assert model.ood is not None
    cap = model.ood.max_chars
    filler = " ".join(NEWS) + " "
    articles = [NEWS[0], FOREIGN, "", "   \n ", "Officials said."]
    for shift in range(-3, 4):  # the cap inside a word, at its edges, in the spaces
        body = (filler * (cap // len(filler) + 2))[: cap + shift - 9]
        articles.append(body + " Well-known ÇAĞRI ΣΟΦΟΣ officials met. Then more.")
        articles.append(NEWS[2] + "\n\n" + body + "Zorblat-quux\n• bullet item")
    articles.append("x" * (cap + 5) + " tail")  # one word across the cap
    articles.append(NEWS[3] + " " * cap + FOREIGN * 3)
    want = model.ood.check_many(articles)
    assert model.ood.follow(model.scorer)  # tagging takes the path under test...
    monkeypatch.setattr(model.ood, "check_many", None)  # ...and not the fallback
    for batch_size in (1, 7, 4096):
        got = [a.out_of_distribution for a in tag_many(model, articles, batch_size=batch_size)]
        assert got == want


def test_ood_pair_bitmap_and_hash_table_agree(monkeypatch: pytest.MonkeyPatch) -> None:
    import framing.runtime.ood as ood_module

    check = calibrate_ood(NEWS)
    assert check is not None and check._bits is not None
    texts = [*NEWS, FOREIGN, NEWS[1][::-1], " ".join(reversed(NEWS[3].split()))]
    monkeypatch.setattr(ood_module, "_MAX_BITMAP_BITS", 0)
    hashed = OodCheck(reversed(check.ngrams), check.threshold)  # unsorted: sorted on load
    assert hashed._bits is None and hashed.ngrams == check.ngrams
    assert hashed.check_many(texts) == check.check_many(texts)
    for text, result in zip(texts, hashed.check_many(texts), strict=True):
        assert result.score == pytest.approx(reference(check, text)[0], abs=1e-12)


def test_ood_malformed_pairs_in_the_file_never_match() -> None:
    """An n-gram with more than one space, or an empty side, is not a pair of known words:
    it matches nothing, whichever way the pairs are read on load."""
    ngrams = ["alpha", "beta", "gamma", "alpha beta"]
    text = "alpha beta alpha gamma beta"  # pairs: alpha beta, beta alpha, alpha gamma, gamma beta
    clean = OodCheck(ngrams, 0.5, min_ngrams=1).check(text)
    assert (clean.score, clean.ngrams) == (3 / 9, 9)
    odd = ["beta alpha gamma", "alpha  gamma", "gamma ", " beta", "alpha gamma beta"]
    assert OodCheck(ngrams + odd, 0.5, min_ngrams=1).check(text) == clean
    both = OodCheck([*ngrams, "beta alpha", *odd], 0.5, min_ngrams=1).check(text)
    assert both.score == 2 / 9  # the one well-formed extra pair is read


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.lists(st.tuples(st.integers(0, 30), st.integers(0, 30)), max_size=5), max_size=5)
)
def test_ood_touching_inside_is_a_sentence_overlapping_the_one_before_in_its_article(
    articles: list[list[tuple[int, int]]],
) -> None:
    """touching_inside: a sentence that starts before the one before it ends, the first
    sentence of an article excepted (positions are per article), as np.isin says."""
    import numpy as np

    from framing.runtime.ood import touching_inside

    spans = [span for article in articles for span in article]
    bounds = [0]
    for article in articles:
        bounds.append(bounds[-1] + len(article))
    starts, ends = [a for a, _ in spans], [b for _, b in spans]
    touch = [i for i in range(1, len(spans)) if starts[i] <= ends[i - 1]]
    want = bool(len(touch)) and not np.isin(touch, bounds).all()
    assert touching_inside(starts, ends, bounds) == want

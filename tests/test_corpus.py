"""The bundled corpus keeps the promises of its data card."""

from __future__ import annotations

import difflib
import json
import re
from pathlib import Path

import pytest

from framing.format.annotations import read_corpus, validate
from framing.format.codebook import load_codebook
from framing.loop.stats import stats
from framing.runtime.segment import split_sentences

from .conftest import DEFAULT_CODEBOOK, REPO

DATA = REPO / "data" / "annotations"


@pytest.fixture(scope="module")
def corpus():  # type: ignore[no-untyped-def]
    return read_corpus([DATA], load_codebook(DEFAULT_CODEBOOK))


def test_corpus_validates_without_problems() -> None:
    report = validate([DATA], load_codebook(DEFAULT_CODEBOOK))
    assert report.problems == []


def test_corpus_size_and_label_quotas(corpus) -> None:  # type: ignore[no-untyped-def]
    codebook = load_codebook(DEFAULT_CODEBOOK)
    done = corpus.done()
    assert len(corpus.documents) >= 200
    assert len(done) >= 6000
    for dim in codebook.dimensions:
        for label in dim.label_ids:
            n = sum(label in s.labels[dim.id] for s in done)
            assert n >= 40, f"{dim.id}/{label} has {n} positive sentences"
    no_frame = sum(not s.labels["frames"] for s in done) / len(done)
    assert no_frame >= 0.30


def test_corpus_every_article_has_a_labelled_headline_record(corpus) -> None:  # type: ignore[no-untyped-def]
    # Round-ups also mark the headlines of their items (later sentences) as headlines.
    heads = {s.doc_id: s for s in corpus.sentences if s.sent_index == 0}
    assert set(heads) == set(corpus.documents)
    for doc_id, head in heads.items():
        assert head.id == f"{doc_id}-s000" and (head.meta or {}).get("part") == "headline"
        assert head.text == corpus.documents[doc_id].title
        assert head.status == "done"


def test_corpus_dev_shifted_holds_registers_absent_from_the_other_splits(corpus) -> None:  # type: ignore[no-untyped-def]
    registers: dict[str, set[str]] = {}
    for doc in corpus.documents.values():
        registers.setdefault(str(doc.split), set()).add(str((doc.meta or {}).get("register")))
    shifted = registers.pop("dev-shifted")
    assert len([d for d in corpus.documents.values() if d.split == "dev-shifted"]) >= 20
    assert not shifted & set().union(*registers.values())


def test_corpus_splits_by_article_and_every_label_in_every_split(corpus) -> None:  # type: ignore[no-untyped-def]
    codebook = load_codebook(DEFAULT_CODEBOOK)
    split_of_doc: dict[str, str] = {}
    for s in corpus.sentences:
        assert s.source is not None
        file_split = Path(s.source[0]).stem
        assert s.split == file_split, s.id
        assert split_of_doc.setdefault(s.doc_id, file_split) == file_split, s.doc_id
    for split in ("train", "dev", "test"):
        sentences = [s for s in corpus.done() if s.split == split]
        for dim in codebook.dimensions:
            for label in dim.label_ids:
                assert any(label in s.labels[dim.id] for s in sentences), (split, label)


def test_corpus_data_card_counts_are_generated() -> None:
    card = (DATA / "README.md").read_text(encoding="utf-8")
    match = re.search(r"<!-- stats:start -->\n(.*?)\n<!-- stats:end -->", card, re.S)
    assert match, "data card lost its stats markers"
    expected = stats([DATA], load_codebook(DEFAULT_CODEBOOK)).to_markdown().strip()
    assert match.group(1).strip() == expected, (
        "data/annotations/README.md is stale: paste the output of "
        "'framing stats data/annotations --format markdown'"
    )


def _five_grams(text: str) -> set[tuple[str, ...]]:
    words = re.findall(r"\w+", text.lower())
    return {tuple(words[i : i + 5]) for i in range(len(words) - 4)}


def test_corpus_holds_no_seed_sentence_or_close_paraphrase(seed_article: Path, corpus) -> None:  # type: ignore[no-untyped-def]
    seed = seed_article.read_text(encoding="utf-8")
    seed_sentences = [seed[a:b] for a, b in split_sentences(seed)]
    seed_grams = [_five_grams(s) for s in seed_sentences]
    for sentence in corpus.sentences:
        grams = _five_grams(sentence.text)
        for seed_sentence, seed_gram in zip(seed_sentences, seed_grams, strict=True):
            assert len(grams & seed_gram) < 3, (sentence.id, seed_sentence)
            matcher = difflib.SequenceMatcher(None, sentence.text.lower(), seed_sentence.lower())
            if matcher.real_quick_ratio() >= 0.7 and matcher.quick_ratio() >= 0.7:
                assert matcher.ratio() < 0.7, (sentence.id, seed_sentence)


def _eight_grams(text: str) -> set[tuple[str, ...]]:
    words = re.findall(r"\w+", text.lower())
    return {tuple(words[i : i + 8]) for i in range(len(words) - 7)}


def test_corpus_trains_on_no_sentence_sharing_eight_words_with_a_held_out_one(corpus) -> None:  # type: ignore[no-untyped-def]
    # The data card's decontamination rule: a training sentence (train or dev split, both
    # trained on) that shares an 8-word sequence with a test or dev-shifted sentence is
    # marked `skip`, so the held-out scores do not reward memorised wording.
    held_out = set().union(
        *(_eight_grams(s.text) for s in corpus.sentences if s.split in {"test", "dev-shifted"})
    )
    leaks = [
        s.id
        for s in corpus.sentences
        if s.split in {"train", "dev"} and s.status == "done" and _eight_grams(s.text) & held_out
    ]
    assert leaks == [], f"training sentences sharing 8 words with held-out ones: {leaks[:10]}"


@pytest.mark.parametrize(
    "round_file",
    ["round5-adjudication.json", "round6-adjudication.json", "round7-adjudication.json"],
)
def test_corpus_carries_every_adjudication_decision(round_file: str, corpus) -> None:  # type: ignore[no-untyped-def]
    # Rounds 5 and 6 (frames) and 7 (rhetoric) decided every disagreement between the first
    # annotation and a blind one; the data card says the decisions are applied to the corpus.
    decisions = json.loads((REPO / "data" / "agreement" / round_file).read_text(encoding="utf-8"))
    dimension = decisions["dimension"]
    by_id = {s.id: s for s in corpus.sentences}
    assert decisions["decisions"], round_file
    for decision in decisions["decisions"]:
        sentence = by_id[decision["id"]]
        assert sentence.text == decision["text"], decision["id"]
        assert sorted(sentence.labels[dimension]) == sorted(decision["decision"][dimension]), (
            decision["id"]
        )

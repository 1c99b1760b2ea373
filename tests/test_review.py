"""Label-error review from out-of-fold predictions (confident learning)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from framing.training.config import config_from_dict
from framing.training.review import OutOfFold, ReviewResult, _flags_single, out_of_fold, review

from framing.errors import UsageError
from framing.format.annotations import read_corpus, validate, write_jsonl
from framing.format.codebook import load_codebook

DATA = Path(__file__).resolve().parent / "data"
CORPUS = DATA / "loop_corpus.jsonl"
CODEBOOK = DATA / "loop_codebook.toml"
# loop_corpus.jsonl is templated text with four planted label errors:
PLANTED = {
    "ld02-s04": ("economic", "missing"),  # an economy sentence with no frame
    "ld04-s06": ("economic", "doubtful"),  # a security sentence labelled economic
    "ld06-s01": ("security", "doubtful"),  # a neutral sentence labelled security
    "ld07-s04": ("loaded_language", "missing"),  # loaded words, rhetoric left empty
}


def _config(**extra: object):
    raw = {
        "name": "review-test",
        "seed": 13,
        "data": {"paths": [str(CORPUS)], "codebook": str(CODEBOOK)},
        "cv": {"folds": 5},
        **extra,
    }
    return config_from_dict(raw)


@pytest.fixture(scope="module")
def queue() -> ReviewResult:
    return review(_config())


def test_review_finds_the_planted_label_errors_first(queue: ReviewResult) -> None:
    ranked = [r.id for r in queue.records]
    assert set(ranked) == set(PLANTED)  # nothing else is flagged on this clean corpus
    for record in queue.records:
        label, kind = PLANTED[record.id]
        assert record.review is not None
        assert (label, kind) in {(i["label"], i["kind"]) for i in record.review["issues"]}
    margins = [r.review["margin"] for r in queue.records]  # type: ignore[index]
    assert margins == sorted(margins, reverse=True)
    assert queue.sentences == 90 and queue.folds == 5


def test_review_evidence_and_fields_are_kept(queue: ReviewResult, tmp_path: Path) -> None:
    original = {s.id: s for s in read_corpus([CORPUS]).sentences}
    swapped = next(r for r in queue.records if r.id == "ld04-s06")
    before = original["ld04-s06"]
    assert (swapped.text, swapped.doc_id, swapped.split, swapped.sent_index) == (
        before.text,
        before.doc_id,
        before.split,
        before.sent_index,
    )
    assert swapped.labels == before.labels and swapped.status == "done"
    evidence = swapped.review
    assert evidence is not None and evidence["queue"] == "label-errors"
    assert evidence["given"] == {"frames": ["economic"], "rhetoric": []}
    kinds = {i["kind"]: i for i in evidence["issues"]}
    # The model gives security, not economic: both sides of the swap are flagged.
    assert kinds["doubtful"]["label"] == "economic" and kinds["missing"]["label"] == "security"
    assert kinds["doubtful"]["score"] == evidence["scores"]["frames"]["economic"]
    assert kinds["doubtful"]["margin"] == pytest.approx(
        1 - 2 * kinds["doubtful"]["score"], abs=1e-3
    )
    out = tmp_path / "queue.jsonl"
    write_jsonl(out, queue.records)
    report = validate([out], load_codebook(CODEBOOK))
    assert report.ok, [str(p) for p in report.problems]


def test_review_thresholds_are_mean_scores_of_given_and_not_given(queue: ReviewResult) -> None:
    sentences, oofs = out_of_fold(_config())
    oof = oofs["frames"]
    j = oof.labels.index("security")
    given = oof.given[:, j]
    expected = {
        "positive": round(float(oof.scores[given, j].mean()), 4),
        "negative": round(float(oof.scores[~given, j].mean()), 4),
    }
    assert queue.thresholds["frames"]["security"] == expected
    assert expected["positive"] > 0.5 > expected["negative"]
    # Out-of-fold: scores come from models that never saw the sentence's document.
    assert len(sentences) == oof.scores.shape[0] == 90


def test_review_limit_keeps_the_top_of_the_queue(queue: ReviewResult) -> None:
    top = review(_config(), limit=2)
    assert [r.id for r in top.records] == [r.id for r in queue.records[:2]]
    with pytest.raises(UsageError, match="limit must be at least 1"):
        review(_config(), limit=0)


def test_review_single_label_flags_confused_classes() -> None:
    # Three classes; example 3 is given "a" but scores like a typical "b".
    scores = np.array(
        [
            [0.8, 0.1, 0.1],
            [0.7, 0.2, 0.1],
            [0.1, 0.8, 0.1],
            [0.2, 0.7, 0.1],
            [0.1, 0.1, 0.8],
            [0.1, 0.2, 0.7],
            [0.15, 0.8, 0.05],
        ]
    )
    given_class = [0, 0, 1, 1, 2, 2, 0]
    given = np.eye(3, dtype=bool)[given_class]
    oof = OutOfFold(["a", "b", "c"], False, given, scores, [], 3)
    out = ReviewResult(records=[], sentences=7, folds=3, thresholds={})
    flags = _flags_single("kind", oof, 2, out)
    assert [len(f) for f in flags] == [0, 0, 0, 0, 0, 0, 1]
    (flag,) = flags[6]
    assert flag["kind"] == "confused" and flag["suggested_label"] == "b"
    assert flag["margin"] == pytest.approx(0.8 - 0.15)
    # Class thresholds: mean score of the class's own examples for that class.
    assert out.thresholds["kind"]["b"]["class"] == pytest.approx(0.75)


def test_review_reports_labels_it_cannot_judge() -> None:
    result = review(_config(thresholds={"min_positives": 30}), limit=1)
    assert "loaded_language" in result.not_judged["rhetoric"]
    assert "fewer than 30" in result.not_judged["rhetoric"]["loaded_language"]
    assert "not judged: rhetoric:loaded_language" in result.summary()


def test_review_refuses_document_level_configs() -> None:
    with pytest.raises(UsageError, match="review works on sentences"):
        review(
            _config(data={"paths": [str(CORPUS)], "codebook": str(CODEBOOK), "level": "document"})
        )


def test_review_min_margin_drops_weaker_flags(queue: ReviewResult) -> None:
    strict = review(_config(), min_margin=0.92)
    issues = [i for r in strict.records for i in r.review["issues"]]  # type: ignore[index]
    assert issues and all(i["margin"] >= 0.92 for i in issues)
    assert 0 < len(strict.records) < len(queue.records)
    assert [r.id for r in strict.records] == [r.id for r in queue.records][: len(strict.records)]

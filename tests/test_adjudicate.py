"""Adjudication: agreed labels kept, disagreements marked, nothing dropped, output valid."""

from __future__ import annotations

from pathlib import Path

import pytest

from framing.errors import UsageError
from framing.format.annotations import Document, Sentence, read_corpus, validate, write_jsonl
from framing.format.codebook import load_codebook
from framing.loop.adjudicate import adjudicate

DATA = Path(__file__).resolve().parent / "data"
CODEBOOK = load_codebook(DATA / "loop_codebook.toml")
ANN = [DATA / f"loop_ann_{x}.jsonl" for x in "abc"]


def _sentences(records: list) -> dict[str, Sentence]:
    return {r.id: r for r in records if isinstance(r, Sentence)}


def test_adjudicate_output_validates_and_keeps_every_record(tmp_path: Path) -> None:
    result = adjudicate(ANN, CODEBOOK)
    out = tmp_path / "merged.jsonl"
    write_jsonl(out, result.records)
    report = validate([out], CODEBOOK)
    assert report.ok, [str(p) for p in report.problems]
    ids = set()
    for path in ANN:
        ids |= {s.id for s in read_corpus([path], CODEBOOK).sentences}
    assert set(_sentences(result.records)) == ids  # nothing dropped
    assert result.counts == {
        "agreed": 5,
        "single": 1,
        "disagreed": 4,
        "uncoded": 0,
        "documents_disagreed": 1,
    }


def test_adjudicate_keeps_agreed_labels_and_names_annotators() -> None:
    merged = _sentences(adjudicate(ANN, CODEBOOK).records)
    s01 = merged["la1-s01"]
    assert (s01.status, s01.labels) == ("done", {"frames": ("economic",), "rhetoric": ()})
    assert s01.review == {"annotators": ["alice", "loop_ann_b", "carol"]}
    assert s01.annotator is None
    # carol left la1-s06 as todo: it is agreed between the two who finished it.
    assert merged["la1-s06"].labels["frames"] == ("security",)
    assert merged["la1-s06"].review == {"annotators": ["alice", "loop_ann_b"]}
    # Only alice coded la2-s04: kept as she coded it.
    assert merged["la2-s04"].status == "done"
    assert merged["la2-s04"].review == {"annotators": ["alice"]}


def test_adjudicate_default_marks_disagreements_todo_with_each_annotation() -> None:
    merged = _sentences(adjudicate(ANN, CODEBOOK).records)
    s04 = merged["la1-s04"]
    assert s04.status == "todo"
    assert s04.labels == {"frames": (), "rhetoric": ()}  # not gold until adjudicated
    assert s04.review is not None
    assert s04.review["disagreement"] is True
    assert s04.review["dimensions"] == ["frames"]
    assert s04.review["agreed"] == {"frames": ["economic"], "rhetoric": []}
    assert s04.review["annotations"] == {
        "alice": {"status": "done", "frames": ["economic", "security"], "rhetoric": []},
        "loop_ann_b": {
            "status": "done",
            "frames": ["economic"],
            "rhetoric": [],
            "note": "budget only, no threat",
        },
    }
    s05 = merged["la1-s05"]
    assert s05.review is not None and s05.review["dimensions"] == ["status"]
    assert s05.review["annotations"]["loop_ann_b"] == {"status": "skip"}


def test_adjudicate_intersection_policy_keeps_common_labels_done() -> None:
    result = adjudicate(ANN, CODEBOOK, policy="intersection")
    merged = _sentences(result.records)
    s04 = merged["la1-s04"]
    assert (s04.status, s04.labels["frames"]) == ("done", ("economic",))
    assert s04.review is not None and "security" in s04.review["annotations"]["alice"]["frames"]
    assert merged["la2-s01"].labels["frames"] == ()  # economic vs security: nothing in common
    assert merged["la2-s01"].status == "done"
    # A skip against a done cannot be intersected: it goes back to todo.
    assert merged["la1-s05"].status == "todo"
    assert merged["la1-s05"].labels == {"frames": (), "rhetoric": ()}


def test_adjudicate_documents_first_and_document_labels_merged() -> None:
    records = adjudicate(ANN, CODEBOOK).records
    kinds = [(type(r).__name__, getattr(r, "doc_id", None)) for r in records]
    assert kinds[0] == ("Document", "la1")
    la2 = kinds.index(("Document", "la2"))
    assert all(doc == "la1" for _, doc in kinds[:la2])
    assert all(doc == "la2" for _, doc in kinds[la2:])
    doc = records[la2]
    assert isinstance(doc, Document)
    assert doc.status == "todo"
    assert doc.review is not None
    assert doc.review["annotations"]["loop_ann_b"]["frames"] == ["economic", "security"]


def test_adjudicate_uncoded_record_stays_todo(tmp_path: Path) -> None:
    a, b = tmp_path / "a.jsonl", tmp_path / "b.jsonl"
    a.write_text('{"id": "s1", "doc_id": "d", "text": "T.", "status": "todo", "note": "later"}\n')
    b.write_text('{"id": "s1", "doc_id": "d", "text": "T.", "status": "todo"}\n')
    result = adjudicate([a, b], CODEBOOK)
    (merged,) = result.records
    assert isinstance(merged, Sentence)
    assert merged.status == "todo"
    assert merged.review == {"annotations": {"a": {"status": "todo", "note": "later"}}}
    assert result.counts["uncoded"] == 1


def test_adjudicate_rejects_unknown_policy() -> None:
    with pytest.raises(UsageError, match="policy must be one of todo, intersection"):
        adjudicate(ANN, CODEBOOK, policy="majority")  # type: ignore[arg-type]

"""Pre-annotation and active-learning suggestions."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest

from framing.errors import UsageError
from framing.format.annotations import Document, Sentence, read_corpus, validate, write_jsonl
from framing.format.codebook import load_codebook
from framing.loop.suggest import preannotate, suggest
from framing.runtime.meta import ModelMeta
from framing.runtime.model import Model, load_model

DATA = Path(__file__).resolve().parent / "data"
CODEBOOK = load_codebook(DATA / "loop_codebook.toml")
POOL = DATA / "loop_pool.jsonl"


class _Scores:
    """A scorer with fixed scores per text: the strategies' behaviour is then exact."""

    def __init__(self, table: dict[str, dict[str, list[float]]]) -> None:
        self.table = table

    def predict_proba(self, texts: Sequence[str]) -> dict[str, np.ndarray]:
        dims = next(iter(self.table.values())).keys()
        return {d: np.array([self.table[t][d] for t in texts], dtype=float) for d in dims}


def _stub(
    table: dict[str, dict[str, list[float]]],
    *,
    thresholds: dict | None = None,
    multi_label: dict | None = None,
    level: str = "sentence",
) -> Model:
    meta = {
        "name": "stub",
        "level": level,
        "labels": {"frames": ["economic", "security"], "rhetoric": ["loaded_language"]},
        "thresholds": thresholds
        or {"frames": {"economic": 0.5, "security": 0.5}, "rhetoric": {"loaded_language": 0.5}},
        "multi_label": multi_label or {"frames": True, "rhetoric": True},
    }
    return Model(
        path=Path("stub"), codebook=CODEBOOK, meta=ModelMeta.from_dict(meta), scorer=_Scores(table)
    )


def _pool(tmp_path: Path, texts: list[str]) -> Path:
    path = tmp_path / "pool.jsonl"
    path.write_text(
        "".join(
            json.dumps({"id": f"p{i}", "doc_id": "d", "text": t, "status": "todo"}) + "\n"
            for i, t in enumerate(texts)
        )
    )
    return path


TABLE = {
    "sure": {"frames": [0.99, 0.01], "rhetoric": [0.02]},
    "borderline": {"frames": [0.52, 0.02], "rhetoric": [0.05]},
    "torn": {"frames": [0.71, 0.70], "rhetoric": [0.03]},
    "many": {"frames": [0.45, 0.45], "rhetoric": [0.45]},
    "quiet": {"frames": [0.10, 0.09], "rhetoric": [0.01]},
}


def test_suggest_uncertainty_picks_scores_nearest_the_threshold(tmp_path: Path) -> None:
    pool = _pool(tmp_path, list(TABLE))
    result = suggest(_stub(TABLE), [pool], 2, strategy="uncertainty")
    assert [r.text for r in result.records] == ["borderline", "many"]
    first = result.records[0].review
    assert first is not None
    assert first["reason"] == "frames:economic scores 0.52, close to its threshold 0.50"
    assert first["rank"] == 1 and first["strategy"] == "uncertainty"
    assert first["score"] == pytest.approx(1 - 0.02 / 0.5)


def test_suggest_margin_picks_two_rival_labels(tmp_path: Path) -> None:
    pool = _pool(tmp_path, list(TABLE))
    result = suggest(_stub(TABLE), [pool], 1, strategy="margin")
    (picked,) = result.records
    assert picked.text == "torn"  # 0.71 vs 0.70, both above threshold
    assert picked.review is not None
    assert picked.review["labels"] == ["economic", "security"]
    # "quiet" has a near tie too, but both labels clearly do not apply: no dilemma.
    order = [r.text for r in suggest(_stub(TABLE), [pool], 5, strategy="margin").records]
    assert order.index("quiet") > order.index("many")


def test_suggest_margin_on_a_single_label_dimension(tmp_path: Path) -> None:
    table = {
        "clear": {"frames": [0.95, 0.05], "rhetoric": [0.0]},
        "coin": {"frames": [0.51, 0.49], "rhetoric": [0.0]},
    }
    model = _stub(table, multi_label={"frames": False, "rhetoric": True})
    result = suggest(model, [_pool(tmp_path, list(table))], 1, strategy="margin")
    assert result.records[0].text == "coin"
    assert result.records[0].review["score"] == pytest.approx(0.02)  # type: ignore[index]


def test_suggest_cardinality_picks_unsure_label_counts(tmp_path: Path) -> None:
    pool = _pool(tmp_path, list(TABLE))
    (picked,) = suggest(_stub(TABLE), [pool], 1, strategy="cardinality").records
    # "many": expects 0.9 + 0.45 labels, predicts none.
    assert picked.text == "many"
    assert picked.review is not None
    assert "expects 0.9 labels, predicts 0" in picked.review["reason"]


def test_suggest_diverse_passes_over_near_duplicates(tmp_path: Path) -> None:
    texts = [
        "Sanctions on fuel exports left troops at the border without supplies.",
        "Sanctions on fuel exports left troops at the border without supplies!",
        "Sanctions on fuel exports left the troops at the border without any supplies.",
        "The ceremony began with a short speech by the host.",
        "Wheat prices and tariffs rose for a third month.",
    ]
    closeness = [0.50, 0.51, 0.52, 0.30, 0.20]  # the duplicates are the most uncertain
    table = {
        t: {"frames": [s, 0.0], "rhetoric": [0.0]} for t, s in zip(texts, closeness, strict=True)
    }
    pool = _pool(tmp_path, texts)
    plain = suggest(_stub(table), [pool], 3, strategy="uncertainty")
    assert [r.text for r in plain.records] == texts[:3]  # all three near-duplicates
    diverse = suggest(_stub(table), [pool], 3, strategy="diverse")
    assert [r.text for r in diverse.records] == [texts[0], texts[3], texts[4]]
    assert diverse.skipped_near_duplicates == 2
    assert diverse.records[1].review["max_similarity_to_picked"] < 0.8  # type: ignore[index]


def test_suggest_takes_only_todo_sentences_and_keeps_their_fields(loop_model: Path) -> None:
    result = suggest(load_model(loop_model), [POOL], 100, strategy="uncertainty")
    ids = [r.id for r in result.records]
    assert result.pool == 20 and result.candidates == 18
    assert "lp1-done" not in ids and "lp1-skip" not in ids
    assert len(ids) == 18 == len(set(ids))
    original = {s.id: s for s in read_corpus([POOL], CODEBOOK).sentences}
    for record in result.records:
        assert record.text == original[record.id].text
        assert record.status == "todo" and not any(record.labels.values())
        assert record.review is not None and record.review["reason"]
    ranks = [r.review["rank"] for r in result.records]  # type: ignore[index]
    assert ranks == list(range(1, 19))
    scores = [r.review["score"] for r in result.records]  # type: ignore[index]
    assert scores == sorted(scores, reverse=True)


def test_suggest_is_deterministic_and_output_validates(loop_model: Path, tmp_path: Path) -> None:
    model = load_model(loop_model)
    first = suggest(model, [POOL], 6, strategy="diverse")
    second = suggest(model, [POOL], 6, strategy="diverse")
    assert [r.id for r in first.records] == [r.id for r in second.records]
    out = tmp_path / "next.jsonl"
    write_jsonl(out, first.records)
    assert validate([out], CODEBOOK).ok


def test_suggest_rejects_bad_arguments(tmp_path: Path) -> None:
    pool = _pool(tmp_path, list(TABLE))
    with pytest.raises(UsageError, match="unknown strategy 'random'"):
        suggest(_stub(TABLE), [pool], 2, strategy="random")  # type: ignore[arg-type]
    with pytest.raises(UsageError, match="-n must be at least 1"):
        suggest(_stub(TABLE), [pool], 0)
    with pytest.raises(UsageError, match="need a sentence-level model"):
        suggest(_stub(TABLE, level="document"), [pool], 2)


def test_preannotate_puts_scores_in_suggested_never_in_labels(
    loop_model: Path, tmp_path: Path
) -> None:
    records = list(preannotate(load_model(loop_model), [POOL]))
    original = read_corpus([POOL], CODEBOOK)
    sentences = [r for r in records if isinstance(r, Sentence)]
    assert len(sentences) == len(original.sentences)
    assert sum(isinstance(r, Document) for r in records) == 2
    for before, after in zip(original.sentences, sentences, strict=True):
        assert after.labels == before.labels and after.status == before.status
        assert after.suggested is not None and set(after.suggested) == {"frames", "rhetoric"}
    wheat = next(s for s in sentences if s.text.startswith("Wheat prices"))
    assert wheat.suggested is not None and "economic" in wheat.suggested["frames"]
    assert wheat.labels == {}  # a todo record stays unlabelled
    out = tmp_path / "pre.jsonl"
    write_jsonl(out, records)
    assert validate([out], CODEBOOK).ok


def test_preannotate_suggests_predicted_labels_or_all_scores(tmp_path: Path) -> None:
    pool = _pool(tmp_path, ["borderline", "quiet"])
    model = _stub(TABLE)
    predicted = [r.suggested for r in preannotate(model, [pool])]
    assert predicted == [
        {"frames": {"economic": 0.52}, "rhetoric": {}},
        {"frames": {}, "rhetoric": {}},
    ]
    every = [r.suggested for r in preannotate(model, [pool], all_scores=True, min_score=0.05)]
    assert every == [
        {"frames": {"economic": 0.52}, "rhetoric": {"loaded_language": 0.05}},
        {"frames": {"economic": 0.1, "security": 0.09}, "rhetoric": {}},
    ]


def test_suggest_strategies_registry_matches_the_cli_choices() -> None:
    from framing.cli.loop import SuggestStrategy
    from framing.loop.suggest import STRATEGIES

    assert [s.value for s in SuggestStrategy] == list(STRATEGIES)
    assert all(name == entry.name for name, entry in STRATEGIES.items())


def test_preannotate_document_model_suggests_on_documents_as_tag_labels_them(
    s25_document_model: Path, tmp_path: Path
) -> None:
    """A document-level model's suggestions go to the document records, and are the labels
    ``framing tag`` gives the same text; sentences pass through unchanged."""
    from framing.errors import AnnotationError

    model = load_model(s25_document_model)
    west = "Western sanctions hurt Europe and the West provoked the war in Ukraine. Item 40."
    council = "The council met on Tuesday and approved the budget for the bridge."
    pool = tmp_path / "pool.jsonl"
    write_jsonl(
        pool,
        [
            Document("a", text=west, status="todo"),
            Sentence("a-s1", "a", west, status="todo", sent_index=1, start=0, end=len(west)),
            Document("b", status="todo"),  # no text: its sentences, joined
            Sentence("b-s1", "b", "The council met on Tuesday", status="todo", sent_index=1),
            Sentence(
                "b-s2", "b", "and approved the budget for the bridge.", status="todo", sent_index=2
            ),
        ],
    )
    records = list(preannotate(model, [pool]))
    docs = {r.doc_id: r for r in records if isinstance(r, Document)}
    for doc_id, text in (("a", west), ("b", council)):
        tagged = model.tag(text)
        assert tagged.document is not None
        for dim in ("narratives", "subnarratives"):
            suggested = docs[doc_id].suggested
            assert suggested is not None
            assert list(suggested[dim]) == tagged.document.label_ids(dim)
        assert docs[doc_id].labels == {}  # suggestions never become labels
    assert (
        "URW: Blaming the war on others rather than the invader"
        in docs["a"].suggested["narratives"]
    )
    assert all(r.suggested is None for r in records if isinstance(r, Sentence))
    out = tmp_path / "pre.jsonl"
    write_jsonl(out, records)
    again = read_corpus([out]).documents["a"]
    assert again.suggested == docs["a"].suggested  # the field survives a round trip
    assert validate([out], model.codebook).ok
    empty = tmp_path / "empty.jsonl"
    write_jsonl(empty, [Document("c", status="todo")])
    with pytest.raises(AnnotationError, match="document 'c' has no text and no sentences"):
        list(preannotate(model, [empty]))

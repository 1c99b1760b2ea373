"""Exporters (framing.exchange.exporters.*) and round trips through the importers."""

from __future__ import annotations

import json
import tempfile
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from framing.errors import AnnotationError, UsageError
from framing.exchange.exporters import read_records
from framing.exchange.exporters.doccano import doccano as export_doccano
from framing.exchange.exporters.labelstudio import labelstudio as export_labelstudio
from framing.exchange.exporters.labelstudio import labelstudio_config
from framing.exchange.exporters.prodigy import prodigy as export_prodigy
from framing.exchange.exporters.semeval2025 import semeval2025 as export_semeval2025
from framing.exchange.importers.doccano import doccano
from framing.exchange.importers.labelstudio import labelstudio
from framing.exchange.importers.prodigy import prodigy
from framing.exchange.importers.semeval2025 import semeval2025
from framing.format.annotations import Document, Sentence, iter_records
from framing.format.codebook import Codebook, load_codebook
from framing.format.records import document_labels

REPO = Path(__file__).resolve().parents[1]
BUNDLED = REPO / "data" / "annotations"
FORMATS = Path(__file__).resolve().parent / "data" / "formats"
S25 = FORMATS / "semeval2025"

Record = Sentence | Document

# Label ids may hold spaces, commas and colons (SemEval narratives do).
LABELS = {
    "frames": [
        "economic",
        "URW: Discrediting the West, Diplomacy",
        "a:b:c",
        "Name_Calling,Labeling",
    ],
    "rhetoric": ["loaded_language", "us vs them"],
}
_text = st.text(
    alphabet=st.characters(blacklist_categories=("Cs", "Cc")), min_size=1, max_size=40
).filter(lambda t: t.strip() != "")


@st.composite
def corpora(draw: st.DrawFn) -> list[Record]:
    """A few documents, each optionally with a document record, and their sentences."""
    records: list[Record] = []
    for d in range(draw(st.integers(1, 3))):
        doc_id = f"doc {d}"
        if draw(st.booleans()):
            dims = draw(st.lists(st.sampled_from(sorted(LABELS)), unique=True))
            records.append(
                Document(
                    doc_id=doc_id,
                    title=draw(st.none() | _text),
                    text=draw(st.none() | _text),
                    labels={
                        dim: tuple(draw(st.lists(st.sampled_from(LABELS[dim]), unique=True)))
                        for dim in dims
                    },
                    split=draw(st.none() | st.sampled_from(["train", "dev", "test"])),
                    meta=draw(st.dictionaries(st.sampled_from(["outlet", "lang"]), _text)),
                )
            )
        for s in range(draw(st.integers(1, 3))):
            status = draw(st.sampled_from(["done", "todo", "skip"]))
            labels = {
                dim: tuple(draw(st.lists(st.sampled_from(values), unique=True)))
                if status == "done"
                else ()
                for dim, values in LABELS.items()
            }
            records.append(
                Sentence(
                    id=f"{doc_id}-s{s}",
                    doc_id=doc_id,
                    text=draw(_text),
                    labels=labels,
                    status=status,
                    split=draw(st.none() | st.sampled_from(["train", "dev", "test"])),
                    sent_index=s + 1,
                    annotator=draw(st.none() | st.sampled_from(["ana", "ben"])),
                    note=draw(st.none() | _text),
                )
            )
    return records


CODEBOOK = Codebook.from_labels(LABELS, name="round-trip")


def dicts(records: list[Record]) -> list[dict[str, object]]:
    return [r.to_dict() for r in records]


# Imports take the codebook, as ``framing import ... --codebook`` does: a dimension that no
# record uses has no label to be found by, so only the codebook can restore its lists.


ROUND_TRIP = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@ROUND_TRIP
@given(corpora())
def test_exporters_labelstudio_round_trip(records: list[Record]) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "tasks.json"
        export_labelstudio(records).write_json(path)
        assert dicts(labelstudio(path, codebook=CODEBOOK).records) == dicts(records)


@ROUND_TRIP
@given(corpora())
def test_exporters_doccano_round_trip(records: list[Record]) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "lines.jsonl"
        result = export_doccano(records, dimensions=sorted(LABELS))
        result.write_jsonl(path)
        assert result.counts["prefixed"] is True
        imported = doccano(path, separator=":", codebook=CODEBOOK)
        assert dicts(imported.records) == dicts(records)


@ROUND_TRIP
@given(corpora())
def test_exporters_prodigy_round_trip(records: list[Record]) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "tasks.jsonl"
        export_prodigy(records).write_jsonl(path)
        assert dicts(prodigy(path, codebook=CODEBOOK).records) == dicts(records)


def test_exporters_round_trip_bundled_corpus(tmp_path: Path) -> None:
    codebook = load_codebook(BUNDLED / "codebook.toml")
    records = read_records([BUNDLED / "dev.jsonl"], codebook)
    assert any(isinstance(r, Document) and r.labels for r in records)
    export_labelstudio(records, codebook).write_json(tmp_path / "ls.json")
    export_doccano(records, codebook).write_jsonl(tmp_path / "dc.jsonl")
    export_prodigy(records, codebook).write_jsonl(tmp_path / "pr.jsonl")
    expected = dicts(records)
    assert dicts(labelstudio(tmp_path / "ls.json").records) == expected
    assert dicts(doccano(tmp_path / "dc.jsonl", separator=":").records) == expected
    assert dicts(prodigy(tmp_path / "pr.jsonl").records) == expected


def test_exporters_doccano_single_dimension_is_unprefixed() -> None:
    s = Sentence("s1", "d1", "Prices soared.", {"frames": ("economic",), "rhetoric": ("x",)})
    line = export_doccano([s], dimensions=["frames"]).items[0]
    assert line["label"] == ["economic"] and line["record_id"] == "s1"
    todo = Sentence("s2", "d1", "Later.", {}, status="todo")
    assert export_doccano([todo]).items[0]["status"] == "todo"
    with pytest.raises(UsageError):
        export_doccano([s], separator="")


def test_exporters_labelstudio_tasks_and_config() -> None:
    codebook = Codebook.from_labels(
        {"frames": ["economic", 'say "no" & <leave>'], "rhetoric": ["loaded_language"]}, name="t"
    )
    done = Sentence("s1", "d1", "Prices soared.", {"frames": ("economic",), "rhetoric": ()})
    skip = Sentence("s2", "d1", "Subscribe now.", {}, status="skip")
    todo = Sentence("s3", "d1", "Later.", {}, status="todo")
    tasks = export_labelstudio([done, skip, todo], codebook).items
    assert tasks[0]["annotations"][0]["result"] == [
        {
            "id": "frames",
            "from_name": "frames",
            "to_name": "text",
            "type": "choices",
            "origin": "manual",
            "value": {"choices": ["economic"]},
        }
    ]
    assert tasks[1]["annotations"][0]["was_cancelled"] is True
    assert "annotations" not in tasks[2]
    view = ET.fromstring(labelstudio_config(codebook))
    choices = {c.get("name"): [x.get("value") for x in c] for c in view.iter("Choices")}
    assert choices == {
        "frames": ["economic", 'say "no" & <leave>'],
        "rhetoric": ["loaded_language"],
    }


def test_exporters_prodigy_options_from_codebook() -> None:
    codebook = Codebook.from_labels({"frames": ["economic", "security"]}, name="t")
    task = export_prodigy([Sentence("s1", "d1", "x", {"frames": ("security",)})], codebook).items[0]
    assert [o["id"] for o in task["options"]] == ["economic", "security"]
    assert task["accept"] == ["security"] and task["answer"] == "accept"
    assert task["meta"]["record_id"] == "s1"


# --------------------------------------------------------------------------- SemEval-2025


def test_exporters_semeval2025_follows_gold_order(tmp_path: Path) -> None:
    imported = semeval2025(S25 / "raw-documents", S25 / "subtask-2-annotations.txt")
    result = export_semeval2025(imported.records, S25 / "subtask-2-annotations.txt")
    out = tmp_path / "pred.txt"
    result.write_lines(out)
    # Gold annotations exported back give the gold file, minus the repeated label.
    gold = (S25 / "subtask-2-annotations.txt").read_text(encoding="utf-8").splitlines()
    written = out.read_text(encoding="utf-8").splitlines()
    assert [line.split("\t")[0] for line in written] == [line.split("\t")[0] for line in gold]
    assert written[1:] == gold[1:]
    assert written[0].split("\t")[1] == (
        "URW: Discrediting the West, Diplomacy;"
        "URW: Blaming the war on others rather than the invader"
    )


def test_exporters_semeval2025_empty_is_other_and_missing_is_an_error(tmp_path: Path) -> None:
    gold = tmp_path / "gold.txt"
    gold.write_text("B.txt\tOther\tOther\nA.txt\tOther\tOther\nC.txt\tOther\tOther\n")
    records: list[Record] = [
        Document("A", labels={"narratives": ("N1",), "subnarratives": ()}),
        Sentence("B-1", "B", "x", {"narratives": ("N2",), "subnarratives": ("N2: S",)}),
        Sentence("B-2", "B", "y", {"narratives": ("N3",), "subnarratives": ()}),
    ]
    with pytest.raises(AnnotationError, match=r"gold.txt:3: article 'C' has no record"):
        export_semeval2025(records, gold)
    lines = export_semeval2025(records, gold, missing="other").items
    assert lines == ["B.txt\tN2;N3\tN2: S", "A.txt\tN1\tOther", "C.txt\tOther\tOther"]
    assert document_labels(records, ("narratives", "subnarratives"))["B"] == {
        "narratives": ("N2", "N3"),
        "subnarratives": ("N2: S",),
    }


def test_exporters_semeval2025_needs_its_dimensions() -> None:
    codebook = Codebook.from_labels({"frames": ["a"]}, name="t")
    with pytest.raises(Exception, match="dimension 'narratives' is not in codebook"):
        export_semeval2025([], S25 / "subtask-2-annotations.txt", codebook)


# --------------------------------------------------------------------------- Hugging Face


def test_exporters_hf_dataset_dict_with_classlabels(tmp_path: Path) -> None:
    import datasets

    from framing.exchange.exporters.hf_datasets import hf_datasets as export_hf
    from framing.exchange.importers.hf_datasets import hf_datasets

    codebook = load_codebook(REPO / "tests" / "data" / "tiny_codebook.toml")
    records = list(iter_records([REPO / "tests" / "data" / "tiny_corpus.jsonl"], codebook))
    result = export_hf(records, codebook)
    data = result.dataset
    assert isinstance(data, datasets.DatasetDict)
    done = [r for r in records if isinstance(r, Sentence) and r.status == "done"]
    assert sum(len(part) for part in data.values()) == len(done)
    names = data[next(iter(data))].features["frames"].feature.names
    assert names == list(codebook.dimension("frames").label_ids)
    for fmt in ("disk", "parquet"):
        folder = tmp_path / fmt
        files = result.save(folder, fmt)
        assert files
        back = hf_datasets(
            folder, labels=["frames", "rhetoric"], id_column="id", doc_id_column="doc_id"
        )
        got = {r.id: (r.labels, r.split) for r in back.records if isinstance(r, Sentence)}
        split_of = {r.doc_id: r.split for r in records if isinstance(r, Document)}
        assert got == {s.id: (s.labels, s.split or split_of.get(s.doc_id)) for s in done}
    # Saving again replaces the folder.
    result.save(tmp_path / "disk", "disk")
    assert (tmp_path / "disk" / "dataset_dict.json").is_file()


def test_exporters_hf_refuses_to_clobber_other_folders(tmp_path: Path) -> None:
    from framing.exchange.exporters.hf_datasets import hf_datasets as export_hf

    (tmp_path / "notes.txt").write_text("keep me")
    result = export_hf([Sentence("s1", "d1", "x", {"frames": ("a",)})])
    with pytest.raises(UsageError, match="holds other files than a dataset"):
        result.save(tmp_path)
    assert (tmp_path / "notes.txt").read_text() == "keep me"


def test_exporters_hf_mixed_splits_is_an_error() -> None:
    from framing.exchange.exporters.hf_datasets import hf_datasets as export_hf

    records = [
        Sentence("s1", "d1", "x", {"frames": ("a",)}, split="train"),
        Sentence("s2", "d2", "y", {"frames": ("a",)}),
    ]
    with pytest.raises(UsageError, match="1 exported record\\(s\\) have no split"):
        export_hf(records)


def test_exporters_hf_document_level(tmp_path: Path) -> None:
    from framing.exchange.exporters.hf_datasets import hf_datasets as export_hf

    records: list[Record] = [
        Document("d1", text="Whole article.", labels={"narratives": ("N1",)}),
        Sentence("d1-s1", "d1", "Whole article.", {"narratives": ()}, status="todo"),
        Document("d2", labels={"narratives": ("N1",)}),
    ]
    result = export_hf(records, level="document")
    assert result.dataset["id"] == ["d1"]
    assert result.counts["not done (left out)"] == 1
    assert json.loads(json.dumps(result.counts))


def test_exporters_read_tag_output_of_a_sentence_model(tag_model, tmp_path) -> None:
    """Tag output becomes a todo document and done sentences with the predicted labels."""
    from framing.format.annotations import Document, Sentence
    from framing.format.codebook import Codebook
    from framing.output.json import article_json

    text = (
        "The price of grain rose by a fifth after the port strike entered its second week. "
        "Exporters say the stoppage costs them millions of dollars in lost trade every day."
    )
    article = tag_model.tag(text, doc_id="d1", meta={"outlet": "X"})
    path = tmp_path / "tagged.jsonl"
    path.write_text(article_json(article) + "\n", encoding="utf-8")
    records = read_records([path])
    doc, *sentences = records
    assert isinstance(doc, Document) and doc.status == "todo" and doc.meta["outlet"] == "X"
    assert doc.meta["model"]["name"] == tag_model.name
    assert [s.id for s in sentences] == ["d1-s1", "d1-s2"]
    for s, tagged in zip(sentences, article.sentences, strict=True):
        assert isinstance(s, Sentence) and s.status == "done"
        assert (s.start, s.end, s.text) == (tagged.start, tagged.end, tagged.text)
        for dim in tag_model.dimensions:
            assert list(s.labels[dim]) == tagged.label_ids(dim)
    other = Codebook.from_labels({"frames": ["nothing"], "rhetoric": ["nothing"]}, name="o")
    assert "economic" in sentences[0].labels["frames"]  # a training sentence
    with pytest.raises(AnnotationError, match="tagged.jsonl:1: label"):
        read_records([path], other)

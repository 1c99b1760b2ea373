"""Importers of public corpora and annotation tools (framing.exchange.importers.*)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from framing.errors import AnnotationError, InputNotFoundError, UsageError
from framing.exchange.importers import ImportResult
from framing.exchange.importers.doccano import doccano
from framing.exchange.importers.frac import FRAMES, frac
from framing.exchange.importers.labels import conform, dimension_id
from framing.exchange.importers.labelstudio import labelstudio
from framing.exchange.importers.prodigy import prodigy
from framing.exchange.importers.ptc import ptc
from framing.exchange.importers.semeval2023 import semeval2023
from framing.exchange.importers.semeval2025 import read_taxonomy, semeval2025
from framing.format.annotations import Document, Sentence, validate, write_jsonl
from framing.format.codebook import Codebook, load_codebook

FORMATS = Path(__file__).resolve().parent / "data" / "formats"
SHARED = Path(__file__).resolve().parents[2] / "shared"
FRAC_CSV = SHARED / "benchmarks" / "frac" / "frac_gold_sentences.csv"
S25 = FORMATS / "semeval2025"
S23 = FORMATS / "semeval2023"


def assert_valid(result: ImportResult, tmp_path: Path) -> None:
    """The records, written, pass framing validate with the written codebook."""
    assert result.codebook is not None
    out = tmp_path / "out.jsonl"
    book = tmp_path / "out.codebook.toml"
    write_jsonl(out, result.records)
    book.write_text(result.codebook.to_toml(), encoding="utf-8")
    report = validate([out], load_codebook(book))
    assert report.ok, [str(p) for p in report.problems]
    assert not report.warnings, [str(p) for p in report.warnings]


def by_id(result: ImportResult) -> dict[str, Sentence | Document]:
    return {(r.id if isinstance(r, Sentence) else f"doc:{r.doc_id}"): r for r in result.records}


# --------------------------------------------------------------------------- SemEval-2025


def test_importers_semeval2025_documents_labels_and_todo_sentences(tmp_path: Path) -> None:
    result = semeval2025(S25 / "raw-documents", S25 / "subtask-2-annotations.txt")
    assert_valid(result, tmp_path)
    records = by_id(result)
    doc = records["doc:EN_UA_001"]
    assert isinstance(doc, Document)
    assert doc.status == "done"
    assert doc.title == 'Western aid "only prolongs the war", says envoy'
    # The repeated narrative is kept once; labels keep their commas and colons.
    assert doc.labels["narratives"] == (
        "URW: Discrediting the West, Diplomacy",
        "URW: Blaming the war on others rather than the invader",
    )
    assert doc.labels["subnarratives"][1] == (
        "URW: Blaming the war on others rather than the invader: The West are the aggressors"
    )
    assert records["doc:EN_UA_002"].labels == {
        "narratives": ("Other",),
        "subnarratives": ("Other",),
    }
    sentences = [r for r in result.records if isinstance(r, Sentence) and r.doc_id == "EN_UA_001"]
    assert [s.status for s in sentences] == ["todo"] * 3
    assert all(doc.text[s.start : s.end] == s.text for s in sentences)  # type: ignore[index]
    assert result.counts["repeated labels dropped"] == 1
    assert result.codebook is not None
    assert result.codebook.dimension_ids == ("narratives", "subnarratives")


def test_importers_semeval2025_taxonomy_lists_every_label(tmp_path: Path) -> None:
    taxonomy = {"narratives": S25 / "narratives.txt", "subnarratives": S25 / "subnarratives.txt"}
    result = semeval2025(
        S25 / "raw-documents", S25 / "subtask-2-annotations.txt", taxonomy=taxonomy
    )
    assert_valid(result, tmp_path)
    assert result.codebook is not None
    assert "URW: Praise of Russia" in result.codebook.dimension("narratives").label_ids
    assert len(read_taxonomy(S25 / "subnarratives.txt")) == 6


def test_importers_semeval2025_label_outside_taxonomy_is_an_error(tmp_path: Path) -> None:
    narratives = tmp_path / "narratives.txt"
    narratives.write_text("Other\nURW: Praise of Russia\n", encoding="utf-8")
    with pytest.raises(AnnotationError) as info:
        semeval2025(
            S25 / "raw-documents",
            S25 / "subtask-2-annotations.txt",
            taxonomy={"narratives": narratives},
        )
    message = str(info.value)
    assert (
        "subtask-2-annotations.txt:1: narrative 'URW: Discrediting the West, Diplomacy'" in message
    )
    assert "subtask-2-annotations.txt:3:" in message


def test_importers_semeval2025_lists_every_bad_row() -> None:
    with pytest.raises(AnnotationError) as info:
        semeval2025(S25 / "raw-documents", S25 / "bad-rows.txt")
    message = str(info.value)
    assert "3 problem(s)" in message
    assert "bad-rows.txt:2: article file 'EN_UA_009.txt' is not in" in message
    assert "(did you mean 'EN_UA_002.txt'?)" in message
    assert "bad-rows.txt:3: no narrative given (use 'Other' when none applies)" in message
    assert "bad-rows.txt:4: article 'EN_UA_001.txt' annotated twice (first at line 1)" in message
    assert [p.line for p in info.value.problems] == [2, 3, 4]


def test_importers_semeval2025_wrong_field_count() -> None:
    with pytest.raises(AnnotationError, match=r"bad-two-fields.txt:1: expected 3 tab-separated"):
        semeval2025(S25 / "raw-documents", S25 / "bad-two-fields.txt")


def test_importers_semeval2025_without_annotations_everything_is_todo() -> None:
    result = semeval2025(S25 / "raw-documents", split="test")
    assert result.codebook is None
    assert {r.status for r in result.records} == {"todo"}
    assert {r.split for r in result.records} == {"test"}


def test_importers_semeval2025_missing_folder() -> None:
    with pytest.raises(InputNotFoundError, match="articles folder not found"):
        semeval2025(S25 / "nope")


# --------------------------------------------------------------------------- SemEval-2023


def test_importers_semeval2023_frames_and_paragraph_techniques(tmp_path: Path) -> None:
    result = semeval2023(
        S23 / "articles", S23 / "labels-subtask-2.txt", S23 / "labels-subtask-3.txt"
    )
    assert_valid(result, tmp_path)
    records = by_id(result)
    doc = records["doc:1001"]
    assert isinstance(doc, Document)
    assert doc.labels == {"frames": ("Economic", "Political")}
    assert doc.title == "Reckless bureaucrats drive fuel prices to record highs"
    # Paragraphs are file lines counted from 1, the title line and empty lines included.
    title = records["1001-p001"]
    assert isinstance(title, Sentence)
    assert title.sent_index == 1 and title.labels["techniques"] == ("Loaded_Language",)
    p4 = records["1001-p004"]
    assert p4.labels["techniques"] == ("Loaded_Language", "Appeal_to_Fear-Prejudice")
    assert records["1001-p003"].status == "done" and records["1001-p003"].labels["techniques"] == ()
    assert "1001-p002" not in records and "1001-p006" not in records
    for record in result.records:
        if isinstance(record, Sentence):
            assert doc.text is not None
            parent = records[f"doc:{record.doc_id}"]
            assert parent.text[record.start : record.end] == record.text  # type: ignore[index]
    # A line the subtask 3 file does not list is not annotated.
    assert records["1002-p004"].status == "todo"


def test_importers_semeval2023_unlisted_lines_as_negatives(tmp_path: Path) -> None:
    result = semeval2023(
        S23 / "articles", techniques=S23 / "labels-subtask-3.txt", unlisted="negative"
    )
    assert_valid(result, tmp_path)
    p4 = by_id(result)["1002-p004"]
    assert p4.status == "done" and p4.labels == {"techniques": ()}
    assert result.codebook is not None and result.codebook.dimension_ids == ("techniques",)


def test_importers_semeval2023_lists_every_bad_row() -> None:
    with pytest.raises(AnnotationError) as info:
        semeval2023(S23 / "articles", techniques=S23 / "bad-subtask-3.txt")
    message = str(info.value)
    assert "bad-subtask-3.txt:1: line 2 of article '1001' is empty but has techniques" in message
    assert "bad-subtask-3.txt:2: paragraph 'x' is not a line number" in message
    assert "bad-subtask-3.txt:3: article '1001' has 7 lines, not 40" in message
    assert "bad-subtask-3.txt:4: article '1009' has no file article1009.txt" in message
    assert (
        "bad-subtask-3.txt:6: paragraph 3 of article '1001' listed twice (first at line 5)"
        in message
    )


# --------------------------------------------------------------------------- PTC


def test_importers_ptc_spans_label_overlapping_sentences(tmp_path: Path) -> None:
    result = ptc(FORMATS / "ptc" / "articles", [FORMATS / "ptc" / "labels"])
    assert_valid(result, tmp_path)
    records = by_id(result)
    assert records["111-s001"].labels["techniques"] == ("Name_Calling,Labeling",)
    # A span across two lines labels both sentences.
    assert "Exaggeration,Minimisation" in records["111-s004"].labels["techniques"]
    assert "Exaggeration,Minimisation" in records["111-s005"].labels["techniques"]
    assert records["111-s005"].labels["techniques"][0] == "Whataboutism,Straw_Men,Red_Herring"
    assert records["111-s007"].labels["techniques"] == ()
    assert records["222-s003"].status == "done" and records["222-s003"].labels["techniques"] == ()
    # Documents keep no technique list: their labels are their sentences' union.
    assert records["doc:111"].labels == {}
    assert result.counts["spans"] == 6
    assert result.codebook is not None
    assert len(result.codebook.dimension("techniques").labels) == 4


def test_importers_ptc_without_labels_is_todo() -> None:
    result = ptc(FORMATS / "ptc" / "articles")
    assert {r.status for r in result.records} == {"todo"}
    assert result.codebook is None


def test_importers_ptc_lists_every_bad_row() -> None:
    with pytest.raises(AnnotationError) as info:
        ptc(FORMATS / "ptc" / "articles", [FORMATS / "ptc" / "bad.labels"])
    message = str(info.value)
    assert "bad.labels:1: expected 4 tab-separated fields, got 3" in message
    assert "span-identification (SI) file" in message
    assert "bad.labels:2: span 10:5 is not inside article '111'" in message
    assert "bad.labels:3: article '999' has no file article999.txt" in message
    assert "bad.labels:4: offsets must be whole numbers" in message
    assert "bad.labels:5: span 0:99999" in message


# --------------------------------------------------------------------------- FrAC


def test_importers_frac_sample_single_label(tmp_path: Path) -> None:
    result = frac(FORMATS / "frac" / "frac_sample.csv")
    assert_valid(result, tmp_path)
    assert result.sentences == 12
    sentences = [r for r in result.records if isinstance(r, Sentence)]
    assert all(len(s.labels["frames"]) == 1 for s in sentences)
    assert len({s.doc_id for s in sentences}) == 12
    assert (
        sentences[1].text == "Cutting the budget, again, means fewer teachers and bigger classes."
    )
    assert sentences[5].labels["frames"] == ("Political and policies",)
    # A quoted sentence over two lines stays one record, located at its first line.
    assert sentences[10].text == "I read this on the bus\nand could not stop laughing."
    assert sentences[10].source == (str(FORMATS / "frac" / "frac_sample.csv"), 12)
    assert sentences[11].source is not None and sentences[11].source[1] == 14


def test_importers_frac_lists_every_bad_row() -> None:
    with pytest.raises(AnnotationError) as info:
        frac(FORMATS / "frac" / "bad.csv")
    message = str(info.value)
    assert "bad.csv:3: empty sentence" in message
    assert "bad.csv:4: label '99' is not a frame code" in message
    assert "bad.csv:5: label 'econ' is not a frame code" in message
    assert "bad.csv:6: expected 2 columns, got 3" in message


def test_importers_frac_real_file(tmp_path: Path) -> None:
    if not FRAC_CSV.is_file():
        pytest.skip("../shared/benchmarks/frac/ is absent (third-party data, not in the repo)")
    result = frac(FRAC_CSV)
    assert_valid(result, tmp_path)
    assert result.sentences == 523
    counts: dict[str, int] = {}
    for record in result.records:
        (label,) = record.labels["frames"]
        counts[label] = counts.get(label, 0) + 1
    # The per-frame counts of ../shared/benchmarks/frac/README.md.
    assert counts == {
        FRAMES[1]: 75,
        FRAMES[3]: 23,
        FRAMES[4]: 46,
        FRAMES[5]: 55,
        FRAMES[6]: 98,
        FRAMES[8]: 42,
        FRAMES[9]: 53,
        FRAMES[11]: 44,
        FRAMES[12]: 37,
        FRAMES[15]: 50,
    }


# --------------------------------------------------------------------------- tools


def test_importers_labelstudio_statuses_and_dimensions(tmp_path: Path) -> None:
    result = labelstudio(FORMATS / "labelstudio" / "export.json")
    assert_valid(result, tmp_path)
    records = by_id(result)
    first = records["ls-101"]
    assert first.labels == {"frames": ("economic",), "rhetoric": ("loaded_language",)}
    assert first.annotator == "3" and first.meta == {"outlet": "Daily Example"}
    # The first submitted annotation is kept; the textarea result is ignored.
    assert records["ls-102"].labels["frames"] == ("security", "economic")
    assert records["ls-102"].annotator == "ana@example.org"
    assert records["ls-103"].status == "done" and records["ls-103"].labels["frames"] == ()
    assert records["ls-104"].status == "skip"
    assert records["ls-105"].status == "todo"
    assert result.counts["tasks with several annotations (first kept)"] == 1
    assert result.counts["non-choice results ignored"] == 1


def test_importers_labelstudio_lists_every_bad_task() -> None:
    with pytest.raises(AnnotationError) as info:
        labelstudio(FORMATS / "labelstudio" / "bad.json")
    lines = [p.line for p in info.value.problems]
    assert lines == [3, 4, 5]
    assert "bad.json:4: a task must be an object with a 'data' object" in str(info.value)


def test_importers_labelstudio_invalid_json_is_located(tmp_path: Path) -> None:
    path = tmp_path / "broken.json"
    path.write_text('[\n  {"data": {"text": "a"}},\n  {"data": {"text": "b"}\n]\n')
    with pytest.raises(AnnotationError, match=r"broken.json:4: invalid JSON"):
        labelstudio(path)


def test_importers_doccano_one_dimension(tmp_path: Path) -> None:
    result = doccano(FORMATS / "doccano" / "export.jsonl", dimension="frames")
    assert_valid(result, tmp_path)
    records = by_id(result)
    assert records["export-2"].labels == {"frames": ("security", "economic")}
    assert records["export-3"].labels == {"frames": ()}
    assert records["export-4"].meta == {"outlet": "Daily Example"}


def test_importers_doccano_lists_every_bad_line() -> None:
    with pytest.raises(AnnotationError) as info:
        doccano(FORMATS / "doccano" / "bad.jsonl")
    message = str(info.value)
    assert "bad.jsonl:2: labels must be strings" in message
    assert "sequence-labelling export" in message
    assert "bad.jsonl:3: missing or empty text" in message
    assert "bad.jsonl:4: invalid JSON" in message
    assert "bad.jsonl:5: id 'bad-1' used twice (first at line 1)" in message


def test_importers_doccano_prefix_needs_separator(tmp_path: Path) -> None:
    path = tmp_path / "x.jsonl"
    path.write_text('{"text": "a", "label": ["economic"]}\n', encoding="utf-8")
    with pytest.raises(AnnotationError, match=r"x.jsonl:1: label 'economic' has no"):
        doccano(path, separator=":")
    with pytest.raises(UsageError, match="lower_snake_case"):
        doccano(path, dimension="Frames")


def test_importers_prodigy_only_accept_is_gold(tmp_path: Path) -> None:
    result = prodigy(FORMATS / "prodigy" / "db.jsonl", dimension="frames")
    assert_valid(result, tmp_path)
    records = by_id(result)
    assert records["prodigy-21"].labels == {"frames": ("economic",)}
    assert records["prodigy-21"].annotator == "frames-ana"
    assert records["prodigy-23"].status == "done" and records["prodigy-23"].labels["frames"] == ()
    assert records["prodigy-24"].status == "skip"
    assert records["prodigy-24"].meta == {"prodigy_answer": "reject"}
    assert records["prodigy-25"].status == "skip"
    # The second session's answer to task 22 is dropped; the first is kept.
    assert records["prodigy-22"].labels["frames"] == ("security", "economic")
    assert result.counts["repeated answers dropped (first kept)"] == 1
    # Every option offered is a label, accepted or not.
    assert result.codebook is not None
    assert result.codebook.dimension("frames").label_ids == ("economic", "health", "security")


def test_importers_prodigy_lists_every_bad_line() -> None:
    with pytest.raises(AnnotationError) as info:
        prodigy(FORMATS / "prodigy" / "bad.jsonl")
    message = str(info.value)
    assert "bad.jsonl:1: task has no 'options' (binary annotations" in message
    assert "bad.jsonl:2: accepted id(s) 'health' are not among the options" in message
    assert "bad.jsonl:3: answer must be accept, reject or ignore, got 'maybe'" in message


# --------------------------------------------------------------------------- shared helpers


def test_importers_conform_to_existing_codebook(tmp_path: Path) -> None:
    result = doccano(FORMATS / "doccano" / "export.jsonl", dimension="frames")
    book = Codebook.from_labels({"frames": ["economic", "security"], "rhetoric": ["x"]}, name="b")
    conform(result.records, book, "export")
    assert all(set(r.labels) == {"frames", "rhetoric"} for r in result.records)
    other = Codebook.from_labels({"frames": ["economy", "security"]}, name="b")
    with pytest.raises(
        AnnotationError,
        match=r"export.jsonl:1: label 'economic' is not in the codebook's 'frames' "
        r"\(first of 2 records\) \(did you mean 'economy'\?\)",
    ):
        conform(
            doccano(FORMATS / "doccano" / "export.jsonl", dimension="frames").records, other, "x"
        )


def test_importers_dimension_id() -> None:
    assert dimension_id("Persuasion Techniques") == "persuasion_techniques"
    assert dimension_id("2023 frames") == "d_2023_frames"


def test_importers_do_not_import_datasets() -> None:
    code = (
        "import sys, framing.cli.exchange, framing.exchange.importers.hf_datasets, "
        "framing.exchange.exporters.hf_datasets\n"
        "print('datasets' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


# --------------------------------------------------------------------------- Hugging Face


@pytest.fixture(scope="module")
def hf_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    import datasets

    features = datasets.Features(
        {
            "sentence": datasets.Value("string"),
            "frame": datasets.ClassLabel(names=["economic", "security", "health"]),
            "devices": datasets.List(datasets.ClassLabel(names=["loaded_language", "fear"])),
            "article": datasets.Value("string"),
        }
    )

    def part(rows: list[tuple[str, int, list[int], str]]) -> Any:
        columns = list(zip(*rows, strict=True))
        return datasets.Dataset.from_dict(
            {
                "sentence": list(columns[0]),
                "frame": list(columns[1]),
                "devices": list(columns[2]),
                "article": list(columns[3]),
            },
            features=features,
        )

    data = datasets.DatasetDict(
        {
            "train": part(
                [
                    ("Prices rose again.", 0, [], "a1"),
                    ("Troops gathered at the border.", 1, [0, 1], "a1"),
                ]
            ),
            "validation": part([("The clinic closed.", 2, [1], "a2")]),
            "test": part([("Nobody knows yet.", -1, [], "a3")]),
        }
    )
    folder = tmp_path_factory.mktemp("hf") / "saved"
    datasets.disable_progress_bars()
    data.save_to_disk(str(folder))
    data["train"].to_parquet(str(folder.parent / "train.parquet"))
    datasets.enable_progress_bars()
    return folder


def test_importers_hf_save_to_disk_splits_and_classlabels(hf_folder: Path, tmp_path: Path) -> None:
    from framing.exchange.importers.hf_datasets import hf_datasets

    result = hf_datasets(
        hf_folder,
        text="sentence",
        labels={"frame": "frames", "devices": "rhetoric"},
        doc_id_column="article",
    )
    assert_valid(result, tmp_path)
    records = by_id(result)
    assert records["train-000002"].labels == {
        "frames": ("security",),
        "rhetoric": ("loaded_language", "fear"),
    }
    assert records["train-000002"].doc_id == "a1"
    assert records["validation-000001"].split == "dev"
    # ClassLabel -1 means unlabelled: the record is todo.
    assert records["test-000001"].status == "todo" and records["test-000001"].split == "test"
    # Every class of the ClassLabel is a codebook label, seen or not.
    assert result.codebook is not None
    assert result.codebook.dimension("frames").label_ids == ("economic", "health", "security")


def test_importers_hf_parquet_file_and_split_selection(hf_folder: Path) -> None:
    from framing.exchange.importers.hf_datasets import hf_datasets

    result = hf_datasets(hf_folder.parent / "train.parquet", text="sentence", labels=["frame"])
    assert [r.labels for r in result.records] == [
        {"frame": ("economic",)},
        {"frame": ("security",)},
    ]
    assert {r.split for r in result.records} == {None}
    only = hf_datasets(hf_folder, text="sentence", labels=["frame"], splits=["train"], split="dev")
    assert {r.split for r in only.records} == {"dev"} and len(only.records) == 2


def test_importers_hf_string_labels_from_csv(tmp_path: Path) -> None:
    from framing.exchange.importers.hf_datasets import hf_datasets

    path = tmp_path / "data.csv"
    path.write_text("id,text,label\nx1,Prices rose.,economic\nx2,Border clash.,security\n")
    result = hf_datasets(path, labels={"label": "frames"}, id_column="id")
    assert [(r.id, r.labels["frames"]) for r in result.records if isinstance(r, Sentence)] == [
        ("x1", ("economic",)),
        ("x2", ("security",)),
    ]


def test_importers_hf_missing_column_names_the_columns(hf_folder: Path) -> None:
    from framing.exchange.importers.hf_datasets import hf_datasets

    with pytest.raises(UsageError, match=r"no column 'sentense' \(did you mean 'sentence'\?\)"):
        hf_datasets(hf_folder, text="sentense", labels=["frame"])


def test_importers_hf_bad_rows_are_listed(tmp_path: Path) -> None:
    from framing.exchange.importers.hf_datasets import hf_datasets

    path = tmp_path / "rows.jsonl"
    rows = [{"text": "Fine.", "label": "a"}, {"text": "", "label": "a"}, {"text": "x", "label": ""}]
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    with pytest.raises(AnnotationError) as info:
        hf_datasets(path)
    message = str(info.value)
    assert f"{path}:2: empty or missing text in column 'text'" in message
    assert f"{path}:3: label '' in column 'label' is not a label name" in message


def test_importers_hf_unknown_split_needs_a_choice(tmp_path: Path) -> None:
    import datasets

    from framing.exchange.importers.hf_datasets import hf_datasets

    folder = tmp_path / "odd"
    datasets.disable_progress_bars()
    datasets.DatasetDict(
        {"unsupervised": datasets.Dataset.from_dict({"text": ["a"], "label": ["x"]})}
    ).save_to_disk(str(folder))
    datasets.enable_progress_bars()
    with pytest.raises(UsageError, match="split\\(s\\) 'unsupervised' have no counterpart"):
        hf_datasets(folder)
    assert hf_datasets(folder, split="train").records[0].split == "train"


def test_importers_unknown_labels_drop_and_add(tmp_path: Path) -> None:
    book = Codebook.from_labels({"frames": ["economy", "security"]}, name="b")
    records = doccano(FORMATS / "doccano" / "export.jsonl", dimension="frames").records
    before = {r.id: r.labels["frames"] for r in records if isinstance(r, Sentence)}
    dropped, summary = conform(records, book, "x", "drop")
    assert dropped is book
    assert summary == {"frames:economic": 2}
    for r in records:
        assert isinstance(r, Sentence)
        assert r.labels["frames"] == tuple(x for x in before[r.id] if x != "economic")
    records = doccano(FORMATS / "doccano" / "export.jsonl", dimension="frames").records
    grown, summary = conform(records, book, "x", "add")
    assert grown.dimension("frames").label_ids == ("economy", "security", "economic")
    assert {r.id: r.labels["frames"] for r in records if isinstance(r, Sentence)} == before
    with pytest.raises(UsageError, match="unknown-labels must be one of error, drop, add"):
        conform(records, book, "x", "keep")

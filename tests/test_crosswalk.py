"""Crosswalks to public taxonomies (framing/format/crosswalk.py, data/crosswalks/)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from framing.cli import app
from framing.errors import CodebookError, UsageError
from framing.format.annotations import Document, Sentence, iter_records, read_corpus
from framing.format.codebook import load_codebook
from framing.format.crosswalk import RELATIONS, Crosswalk, load_crosswalk

REPO = Path(__file__).resolve().parents[1]
CROSSWALKS = REPO / "data" / "crosswalks"
CODEBOOK = REPO / "data" / "annotations" / "codebook.toml"
FORMATS = REPO / "tests" / "data" / "formats"
runner = CliRunner()


@pytest.mark.parametrize("name", ["ptc", "semeval2023", "semeval2025"])
def test_crosswalk_shipped_files_fit_the_codebook(name: str) -> None:
    walk = load_crosswalk(CROSSWALKS / f"{name}.toml")
    walk.check(load_codebook(CODEBOOK))
    assert all(link.relation in RELATIONS and link.why for link in walk.links)


def test_crosswalk_reports_every_problem() -> None:
    data = {
        "name": "x",
        "taxonomy": "X",
        "codebook": "geopolitical-framing",
        "extra": 1,
        "links": [
            {"their_dimension": "t", "theirs": "A", "our_dimension": "rhetoric", "ours": "a"},
            {
                "their_dimension": "t",
                "theirs": "A",
                "our_dimension": "rhetoric",
                "ours": "loaded_language",
                "relation": "exakt",
            },
        ],
    }
    with pytest.raises(CodebookError) as info:
        Crosswalk.from_dict(data, "x.toml")
    message = str(info.value)
    assert "unknown key 'extra'" in message
    assert "#1: relation must be" in message
    assert "did you mean 'exact'" in message


def test_crosswalk_check_names_unknown_labels() -> None:
    walk = Crosswalk.from_dict(
        {
            "name": "x",
            "taxonomy": "X",
            "codebook": "geopolitical-framing",
            "links": [
                {
                    "their_dimension": "t",
                    "theirs": "A",
                    "our_dimension": "rhetoric",
                    "ours": "loaded_langage",
                    "relation": "exact",
                }
            ],
        },
        "x.toml",
    )
    with pytest.raises(CodebookError, match="did you mean 'loaded_language'"):
        walk.check(load_codebook(CODEBOOK))


def test_crosswalk_narrower_and_related_links_never_relabel() -> None:
    walk = load_crosswalk(CROSSWALKS / "ptc.toml")
    with pytest.raises(UsageError, match="cannot relabel"):
        walk.usable(("exact", "narrower"))
    record = Sentence(
        id="s1",
        doc_id="d",
        text="x",
        labels={"techniques": ("Name_Calling,Labeling", "Doubt")},
    )
    exact, counts = walk.relabel([record], ("exact",))
    assert exact[0].labels == {"rhetoric": ()}
    assert exact[0].meta["source_labels"] == {"techniques": ["Name_Calling,Labeling", "Doubt"]}
    assert counts["labels without a usable link"] == 2
    broader, _ = walk.relabel([record], ("exact", "broader"))
    # name_calling is narrower than PTC's label: never inferred from it
    assert broader[0].labels == {"rhetoric": ("loaded_language",)}


def _import(args: list[str], out: Path):
    result = runner.invoke(app, ["import", *args, "-o", str(out)])
    assert result.exception is None or isinstance(result.exception, SystemExit), result.output
    return result


def test_crosswalk_import_ptc_relabels_the_fixture(tmp_path: Path) -> None:
    out = tmp_path / "ptc.jsonl"
    ptc = FORMATS / "ptc"
    args = ["ptc", str(ptc / "articles"), "-l", str(ptc / "labels"), "--crosswalk"]
    result = _import([*args, str(CROSSWALKS / "ptc.toml"), "--links", "broader"], out)
    assert result.exit_code == 0, result.output
    book = load_codebook(tmp_path / "ptc.codebook.toml")
    assert book.dimension_ids == ("rhetoric",)
    assert set(book.dimension("rhetoric").label_ids) == {"appeal_to_authority", "loaded_language"}
    got = {
        r.id: r.labels["rhetoric"]
        for r in iter_records([out], book)
        if isinstance(r, Sentence) and r.doc_id == "111"
    }
    # Hand-read from the fixture: name calling (lines 1, 3, 4) and loaded language (line 4)
    # carry loaded_language over; whataboutism and exaggeration (line 5) map to nothing.
    assert got == {
        "111-s001": ("loaded_language",),
        "111-s003": ("loaded_language",),
        "111-s004": ("loaded_language",),
        "111-s005": (),
        "111-s007": (),
    }
    validate = runner.invoke(app, ["validate", str(out), "-c", str(tmp_path / "ptc.codebook.toml")])
    assert validate.exit_code == 0, validate.output


def test_crosswalk_import_semeval2023_relabels_paragraphs(tmp_path: Path) -> None:
    out = tmp_path / "s23.jsonl"
    s23 = FORMATS / "semeval2023"
    result = _import(
        [
            "semeval2023",
            str(s23 / "articles"),
            "--frames",
            str(s23 / "labels-subtask-2.txt"),
            "--techniques",
            str(s23 / "labels-subtask-3.txt"),
            "--crosswalk",
            str(CROSSWALKS / "semeval2023.toml"),
            "--links",
            "broader",
        ],
        out,
    )
    assert result.exit_code == 0, result.output
    corpus = read_corpus([out])
    labels = {s.id: s.labels.get("rhetoric") for s in corpus.sentences if s.status == "done"}
    assert labels["1001-p001"] == ("loaded_language",)
    assert labels["1001-p004"] == ("loaded_language",)
    assert labels["1001-p005"] == ("consensus_claim",)
    assert labels["1001-p003"] == ()
    # every frame link is 'related': the article frames are not carried over
    assert all("frames" not in d.labels for d in corpus.documents.values())


def test_crosswalk_import_semeval2025_without_exact_links_says_so(tmp_path: Path) -> None:
    s25 = FORMATS / "semeval2025"
    base = [
        "semeval2025",
        str(s25 / "raw-documents"),
        "-a",
        str(s25 / "subtask-2-annotations.txt"),
        "--crosswalk",
        str(CROSSWALKS / "semeval2025.toml"),
    ]
    result = _import(base, tmp_path / "a.jsonl")
    assert result.exit_code == 2
    assert "no exact link" in result.output and "--links broader" in result.output
    assert not (tmp_path / "a.jsonl").exists()
    result = _import([*base, "--links", "broader"], tmp_path / "b.jsonl")
    assert result.exit_code == 0, result.output
    docs = {
        r.doc_id: r.labels
        for r in iter_records([tmp_path / "b.jsonl"])
        if isinstance(r, Document) and r.status == "done"
    }
    # EN_UA_001's subnarrative 'The West are the aggressors' is ours west_as_threat
    assert docs["EN_UA_001"]["frames"] == ("west_as_threat",)
    assert docs["EN_UA_002"]["frames"] == ()
    assert json.loads((tmp_path / "b.jsonl").read_text().splitlines()[0])["meta"]["source_labels"]


def test_crosswalk_eval_scores_our_model_on_their_labels(tmp_path: Path) -> None:
    """The bundled model, scored on PTC-labelled sentences through the crosswalk."""
    out = tmp_path / "ptc.jsonl"
    ptc = FORMATS / "ptc"
    assert _import(["ptc", str(ptc / "articles"), "-l", str(ptc / "labels")], out).exit_code == 0
    walk = str(CROSSWALKS / "ptc.toml")
    result = runner.invoke(
        app, ["eval", "default", str(out), "--crosswalk", walk, "--links", "broader", "-f", "json"]
    )
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["dimensions"] == ["rhetoric"]
    labels = report["rhetoric"]["labels"]
    assert set(labels) == {"appeal_to_authority", "loaded_language"}
    # hand-read: three of the fixture's eight sentences carry name calling or loaded language
    assert labels["loaded_language"]["support"] == 3
    assert labels["appeal_to_authority"]["support"] == 0
    assert report["rhetoric"]["n"] == 8
    exact = runner.invoke(app, ["eval", "default", str(out), "--crosswalk", walk, "-f", "json"])
    assert exact.exit_code == 0, exact.output
    assert set(json.loads(exact.stdout)["rhetoric"]["labels"]) == {"appeal_to_authority"}

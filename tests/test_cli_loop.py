"""The annotation-loop commands: agree, adjudicate, preannotate, suggest, review."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from framing.cli import app
from framing.format.annotations import read_corpus, validate
from framing.format.codebook import load_codebook

runner = CliRunner()
DATA = Path(__file__).resolve().parent / "data"
CODEBOOK = DATA / "loop_codebook.toml"
ANN = [str(DATA / f"loop_ann_{x}.jsonl") for x in "abc"]
POOL = DATA / "loop_pool.jsonl"
CORPUS = DATA / "loop_corpus.jsonl"
COMMANDS = ("agree", "adjudicate", "preannotate", "suggest", "review")


@pytest.mark.parametrize("command", COMMANDS)
def test_cli_loop_every_command_has_help_with_an_example(command: str) -> None:
    result = runner.invoke(app, [command, "--help"])
    assert result.exit_code == 0, result.output
    assert f"Example: framing {command}" in result.output


def test_cli_loop_agree_json_names_the_figures() -> None:
    result = runner.invoke(app, ["agree", *ANN[:2], "-c", str(CODEBOOK), "--format", "json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    economic = data["dimensions"]["frames"]["labels"]["economic"]
    assert set(economic) == {
        "krippendorff_alpha",
        "cohen_kappa",
        "observed_agreement",
        "n_units",
        "positives",
    }
    assert economic["krippendorff_alpha"] == pytest.approx(0.7273, abs=1e-4)
    assert "set_alpha_masi" in data["dimensions"]["frames"]
    assert "set_alpha_jaccard" in data["dimensions"]["rhetoric"]
    first = data["disagreements"][0]
    assert set(first) == {"id", "text", "dimensions", "annotations"}
    assert first["annotations"]["loop_ann_b"]["rhetoric"] == ["loaded_language"]


def test_cli_loop_agree_text_table_with_three_annotators() -> None:
    result = runner.invoke(app, ["agree", *ANN, "-c", str(CODEBOOK)])
    assert result.exit_code == 0, result.output
    assert "annotators: alice, loop_ann_b, carol" in result.output
    assert "kappa" not in result.output.split("disagreements")[0]  # two annotators only
    assert "disagreements: 4" in result.output


def test_cli_loop_agree_bad_input_is_one_line_not_a_traceback(tmp_path: Path) -> None:
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"id": "s1", "doc_id": "d", "text": "x", "frames": "economic"}\n')
    result = runner.invoke(app, ["agree", ANN[0], str(bad), "-c", str(CODEBOOK)])
    assert result.exit_code == 1
    assert "bad.jsonl:1: 'frames' must be a list of label ids" in result.output
    assert "Traceback" not in result.output
    missing = runner.invoke(app, ["agree", ANN[0], str(tmp_path / "nope.jsonl")])
    assert missing.exit_code == 2
    assert "nope.jsonl: no such file or folder" in missing.output


def test_cli_loop_adjudicate_writes_a_valid_merge(tmp_path: Path) -> None:
    out = tmp_path / "merged.jsonl"
    result = runner.invoke(app, ["adjudicate", *ANN, "-o", str(out), "-c", str(CODEBOOK)])
    assert result.exit_code == 0, result.output
    assert "disagreed 4" in result.output
    codebook = load_codebook(CODEBOOK)
    assert validate([out], codebook).ok
    merged = {s.id: s for s in read_corpus([out], codebook).sentences}
    assert merged["la2-s01"].status == "todo"
    assert merged["la2-s01"].review["annotations"]["carol"]["frames"] == ["economic"]  # type: ignore[index]


def test_cli_loop_adjudicate_intersection_and_no_overwrite(tmp_path: Path) -> None:
    out = tmp_path / "merged.jsonl"
    args = ["adjudicate", *ANN[:2], "-o", str(out), "-c", str(CODEBOOK)]
    result = runner.invoke(app, [*args, "--disagreement", "intersection"])
    assert result.exit_code == 0, result.output
    merged = {s.id: s for s in read_corpus([out]).sentences}
    assert (merged["la1-s04"].status, merged["la1-s04"].labels["frames"]) == ("done", ("economic",))
    clash = runner.invoke(app, ["adjudicate", *ANN[:2], "-o", ANN[1]])
    assert clash.exit_code == 2
    assert "would overwrite an input file" in clash.output


def test_cli_loop_preannotate_and_suggest(loop_model: Path, tmp_path: Path) -> None:
    pre = tmp_path / "pre.jsonl"
    result = runner.invoke(app, ["preannotate", str(loop_model), str(POOL), "-o", str(pre)])
    assert result.exit_code == 0, result.output
    assert "20 sentence(s) pre-annotated" in result.output
    sentences = read_corpus([pre]).sentences
    assert all(s.suggested is not None for s in sentences)
    assert validate([pre], load_codebook(CODEBOOK)).ok

    nxt = tmp_path / "next.jsonl"
    result = runner.invoke(
        app,
        ["suggest", str(loop_model), str(POOL), "-n", "4", "--strategy", "diverse", "-o", str(nxt)],
    )
    assert result.exit_code == 0, result.output
    assert "picked 4 of 18 candidate sentences" in result.output
    picked = read_corpus([nxt]).sentences
    assert len(picked) == 4
    assert all(s.review and s.review["strategy"] == "diverse" for s in picked)


def test_cli_loop_suggest_bad_strategy_and_missing_model(loop_model: Path, tmp_path: Path) -> None:
    out = str(tmp_path / "x.jsonl")
    bad = runner.invoke(app, ["suggest", str(loop_model), str(POOL), "-s", "random", "-o", out])
    assert bad.exit_code == 2
    missing = runner.invoke(app, ["suggest", str(tmp_path / "no-model"), str(POOL), "-o", out])
    assert missing.exit_code == 2
    assert "not found" in missing.output and "Traceback" not in missing.output


def test_cli_loop_review_writes_a_ranked_queue(tmp_path: Path) -> None:
    config = tmp_path / "review.toml"
    config.write_text(
        f'name = "review-cli"\n[data]\npaths = ["unused"]\ncodebook = {json.dumps(str(CODEBOOK))}\n'
    )
    out = tmp_path / "queue.jsonl"
    result = runner.invoke(
        app, ["review", str(config), str(CORPUS), "-o", str(out), "--set", "cv.folds=5", "-n", "3"]
    )
    assert result.exit_code == 0, result.output
    assert "3 of 90 sentences queued for review" in result.output
    queue = read_corpus([out], load_codebook(CODEBOOK)).sentences
    assert [s.review["rank"] for s in queue] == [1, 2, 3]  # type: ignore[index]
    assert all(s.review["issues"] for s in queue)  # type: ignore[index]


def test_cli_loop_review_bad_config_key_is_a_usage_error(tmp_path: Path) -> None:
    config = tmp_path / "bad.toml"
    config.write_text('nmae = "x"\n')
    result = runner.invoke(
        app, ["review", str(config), str(CORPUS), "-o", str(tmp_path / "q.jsonl")]
    )
    assert result.exit_code == 2
    assert "unknown key 'nmae' (did you mean 'name'?)" in result.output


def test_cli_loop_suggest_without_todo_sentences_writes_nothing(
    loop_model: Path, tmp_path: Path
) -> None:
    out = tmp_path / "next.jsonl"
    result = runner.invoke(app, ["suggest", str(loop_model), str(CORPUS), "-o", str(out)])
    assert result.exit_code == 1
    assert "no todo sentence to pick from (90 sentence(s), all done or skip)" in result.output
    assert not out.exists()

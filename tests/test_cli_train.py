from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from framing.cli import app
from framing.runtime.model import load_model
from framing.runtime.scorers import COMPILED, COMPILED_V1

runner = CliRunner()
DATA = Path(__file__).resolve().parent / "data"
TINY = DATA / "tiny_corpus.jsonl"
CODEBOOK = f"data.codebook={json.dumps(str(DATA / 'tiny_codebook.toml'))}"


def _train(output: Path, *extra: str):
    return runner.invoke(
        app,
        [
            "train",
            "default",
            "--data",
            str(TINY),
            "--set",
            CODEBOOK,
            "--set",
            "cv.folds=3",
            "--output",
            str(output),
            "--quiet",
            *extra,
        ],
    )


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("cli") / "tiny"
    result = _train(path, "--set", "name=tiny-cli")
    assert result.exit_code == 0, result.output
    return path


def test_cli_train_writes_a_model_that_loads(model_dir: Path) -> None:
    """The shipped default config saves the compiled arrays only (save_pipelines = false)."""
    model = load_model(model_dir)
    assert model.meta.scorers == (COMPILED,)
    assert not (model_dir / "model.skops").exists() and (model_dir / "ood.npz").is_file()
    assert model.name == "tiny-cli"
    assert model.meta.config["cv"]["folds"] == 3
    assert model.dimensions == ("frames", "rhetoric")
    assert (model_dir / "README.md").is_file() and (model_dir / "metrics.json").is_file()


def test_cli_train_prints_a_summary(tmp_path: Path) -> None:
    result = _train(tmp_path / "m", "--set", "pipeline.params.C=3")
    assert result.exit_code == 0, result.output
    assert "trained 'default'" in result.output
    assert "cv   frames: micro-F1" in result.output
    assert load_model(tmp_path / "m").meta.pipeline["params"]["frames"]["C"] == 3


def test_cli_train_unknown_config_key_exits_2_naming_it(tmp_path: Path) -> None:
    result = _train(tmp_path / "m", "--set", "thresholds.strategi=fixed")
    assert result.exit_code == 2
    assert "unknown key 'strategi' (did you mean 'strategy'?)" in result.output
    assert "Traceback" not in result.output
    assert not (tmp_path / "m").exists()


def test_cli_train_missing_config_exits_2(tmp_path: Path) -> None:
    result = runner.invoke(app, ["train", str(tmp_path / "nope.toml")])
    assert result.exit_code == 2
    assert "config file not found" in result.output


def test_cli_train_bad_annotations_exit_1_with_location(tmp_path: Path) -> None:
    bad = tmp_path / "bad.jsonl"
    bad.write_text(
        '{"id": "s1", "doc_id": "d1", "text": "x", "frames": ["econ"], "rhetoric": []}\n'
    )
    result = runner.invoke(
        app, ["train", "default", "--data", str(bad), "--set", CODEBOOK, "-o", str(tmp_path / "m")]
    )
    assert result.exit_code == 1
    assert "bad.jsonl:1" in result.output and "'econ'" in result.output


@pytest.mark.parametrize("fmt", ["json", "table", "markdown"])
def test_cli_eval_formats(model_dir: Path, fmt: str) -> None:
    result = runner.invoke(app, ["eval", str(model_dir), str(TINY), "--format", fmt])
    assert result.exit_code == 0, result.output
    if fmt == "json":
        data = json.loads(result.stdout)
        assert set(data["frames"]) >= {"micro_f1", "macro_f1", "samples_f1", "labels"}
        assert data["rhetoric"]["labels"]["appeal_to_fear"]["support"] == 7
    elif fmt == "table":
        assert "[rhetoric] micro-F1" in result.output
    else:
        assert "| label | precision | recall | F1 | support | threshold |" in result.output


def test_cli_eval_output_folder_gets_report_and_plots(model_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "eval"
    result = runner.invoke(
        app, ["eval", str(model_dir), str(TINY), "--level", "document", "--output", str(out)]
    )
    assert result.exit_code == 0, result.output
    assert json.loads((out / "report.json").read_text())["level"] == "document"
    assert (out / "pr_frames.png").is_file() and (out / "reliability_rhetoric.png").is_file()


def test_cli_eval_compare_two_models(model_dir: Path, tmp_path: Path) -> None:
    other = tmp_path / "other"
    assert _train(other, "--set", "pipeline.params.C=0.5", "--set", "name=other").exit_code == 0
    result = runner.invoke(
        app, ["eval", "--compare", str(other), str(model_dir), str(TINY), "--format", "json"]
    )
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["a"] == "other" and data["b"] == "tiny-cli"
    assert {"delta", "ci_low", "ci_high"} <= set(data["frames"]["micro_f1_delta"])


def test_cli_eval_unknown_labels_exit_1_naming_them(model_dir: Path, tmp_path: Path) -> None:
    data = tmp_path / "other.jsonl"
    data.write_text(
        '{"id": "s1", "doc_id": "d1", "text": "Prices rose.", "frames": ["health"], "rhetoric": []}\n'
    )
    result = runner.invoke(app, ["eval", str(model_dir), str(data)])
    assert result.exit_code == 1
    assert "frames: 'health'" in result.output and "Traceback" not in result.output


def test_cli_eval_missing_model_exits_2(tmp_path: Path) -> None:
    result = runner.invoke(app, ["eval", str(tmp_path / "none"), str(TINY)])
    assert result.exit_code == 2
    assert "not found" in result.output


@pytest.mark.parametrize("command", ["train", "eval", "recompile"])
def test_cli_train_commands_have_help_with_an_example(command: str) -> None:
    result = runner.invoke(app, [command, "--help"])
    assert result.exit_code == 0
    assert f"Example: framing {command}" in result.output


def test_cli_train_progress_log_is_throttled_but_keeps_the_estimate(capsys) -> None:
    from framing.cli.training_cmds import _progress

    assert _progress(quiet=True) is None
    show = _progress(quiet=False, every=3600)
    assert show is not None
    for message in ("reading data", "frames: fold 1/5", "estimate: 12 pipeline fits", "x"):
        show(message)
    err = capsys.readouterr().err
    assert err.splitlines() == ["  reading data", "  estimate: 12 pipeline fits"]


def _as_layout_1(folder: Path) -> None:
    """Rewrite a model folder as framing saved it before layout 2 of the compiled arrays
    and of ood.json (scorer kind tfidf-compiled.v1)."""
    from framing.runtime.compiled import CompiledModel
    from framing.runtime.ood import OodCheck

    model = CompiledModel.load(folder)
    for name in ("compiled.json", "compiled.npz"):
        (folder / name).unlink()
    model.save(folder, layout=1)
    OodCheck(["prices", "rose", "prices rose", "troops"], 0.5).save(folder, layout=1)
    meta = json.loads((folder / "meta.json").read_text(encoding="utf-8"))
    meta["scorers"] = [COMPILED_V1 if s == COMPILED else s for s in meta["scorers"]]
    (folder / "meta.json").write_text(json.dumps(meta), encoding="utf-8")


def test_cli_recompile_rewrites_an_older_folder_with_identical_scores(
    tag_model_path: Path, tmp_path: Path
) -> None:
    import shutil

    from framing.output.json import article_json

    old = shutil.copytree(tag_model_path, tmp_path / "old")
    _as_layout_1(old)
    before = load_model(old)
    assert before.meta.scorers[0] == COMPILED_V1 and before.ood is not None
    records = [json.loads(line) for line in TINY.read_text(encoding="utf-8").splitlines()]
    texts = [r["text"] for r in records if "text" in r]
    article = " ".join(texts[:12]) + " Prices rose as troops left."

    lean = tmp_path / "lean"
    result = runner.invoke(app, ["recompile", str(old), "-o", str(lean), "--drop-pipelines"])
    assert result.exit_code == 0, result.output
    after = load_model(lean)
    assert after.meta.scorers == (COMPILED,)
    assert not (lean / "model.skops").exists() and (lean / "ood.npz").is_file()
    assert "vocabulary" not in (lean / "compiled.json").read_text(encoding="utf-8")
    assert (lean / "codebook.toml").read_bytes() == (old / "codebook.toml").read_bytes()
    a, b = before.predict_proba(texts), after.predict_proba(texts)
    assert all(a[dim].tobytes() == b[dim].tobytes() for dim in a)
    assert article_json(before.tag(article, explain=True)) == article_json(
        after.tag(article, explain=True)
    )

    kept = tmp_path / "kept"
    assert runner.invoke(app, ["recompile", str(old), "-o", str(kept)]).exit_code == 0
    assert load_model(kept).meta.scorers == (COMPILED, "skops-pipelines.v1")
    assert (kept / "model.skops").read_bytes() == (old / "model.skops").read_bytes()

    refused = runner.invoke(app, ["recompile", str(old), "-o", str(old)])
    assert refused.exit_code == 2 and "overwrite an input" in refused.output
    (lean / "compiled.npz").unlink()
    missing = runner.invoke(app, ["recompile", str(lean), "-o", str(tmp_path / "x")])
    assert missing.exit_code == 1 and "has no compiled arrays" in missing.output

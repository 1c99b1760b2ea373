"""Sharded output: the same lines as one process, resuming, refusals; and ``--output-dir``."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from framing.cli import app
from framing.errors import UsageError
from framing.output.json import tag_json_lines
from framing.output.shards import MANIFEST, plan_shards, tag_to_folder
from framing.runtime.inputs import InputFailure

runner = CliRunner()


def make_inputs(folder: Path) -> Path:
    folder.mkdir()
    for i in range(9):
        (folder / f"a{i}.txt").write_text(
            f"Headline {i}\n\nThe port strike goes on, day {i}. Prices of grain rise.",
            encoding="utf-8",
        )
    (folder / "sub").mkdir()
    (folder / "sub" / "a1.txt").write_text("Same stem, other folder.", encoding="utf-8")
    (folder / "bad.txt").write_bytes(b"Broken \xff text.")
    records = [
        json.dumps({"id": f"r{i}", "text": f"Troops guard the border {i}."}) for i in range(5)
    ]
    (folder / "z.jsonl").write_text("\n".join(records) + "\n", encoding="utf-8")
    return folder


def serial_lines(folder: Path, model) -> bytes:
    items = tag_json_lines([folder], model, as_bytes=True)
    return b"".join(i[0] for i in items if not isinstance(i, InputFailure))


def joined(out: Path) -> bytes:
    return b"".join(p.read_bytes() for p in sorted(out.glob("part-*.jsonl")))


def test_shards_equal_one_process_and_resume(tag_model, tmp_path: Path) -> None:
    inputs = make_inputs(tmp_path / "in")
    out = tmp_path / "out"
    shards = plan_shards([inputs], shard_mb=0.00001)  # about one file (or line) per shard
    assert len(shards) == 16  # 11 files, and z.jsonl cut into its 5 lines
    run = tag_to_folder([inputs], tag_model, out, n_jobs=2, shard_mb=0.00001)
    assert joined(out) == serial_lines(inputs, tag_model)
    assert run.articles == 15 and run.skipped == 0
    assert [f.split(":")[0] for f in run.failures] == [str(inputs / "bad.txt")]
    ids = [json.loads(line)["doc_id"] for line in joined(out).splitlines()]
    assert "a1-2" in ids  # doc ids stay unique across shards, as in one process
    # An interrupted run: two shards missing (and a temp file left behind).
    (out / "part-00003.jsonl").unlink()
    (out / "part-00007.jsonl").unlink()
    with pytest.raises(UsageError, match="--resume"):
        tag_to_folder([inputs], tag_model, out, shard_mb=0.00001)
    again = tag_to_folder([inputs], tag_model, out, n_jobs=2, resume=True)
    assert again.skipped == 14
    assert [s.name for s in again.shards if not s.skipped] == [
        "part-00003.jsonl",
        "part-00007.jsonl",
    ]
    assert joined(out) == serial_lines(inputs, tag_model)


def test_shards_refuse_what_would_mix_or_lose_output(tag_model, tmp_path: Path) -> None:
    inputs = make_inputs(tmp_path / "in")
    with pytest.raises(UsageError, match="inside input folder"):
        tag_to_folder([inputs], tag_model, inputs / "out")
    out = tmp_path / "out"
    tag_to_folder([inputs], tag_model, out, shard_mb=0.00001)
    (inputs / "new.txt").write_text("A new article.", encoding="utf-8")
    with pytest.raises(UsageError, match="inputs differ"):
        tag_to_folder([inputs], tag_model, out, resume=True)
    (inputs / "new.txt").unlink()
    manifest = json.loads((out / MANIFEST).read_text())
    manifest["model"]["name"] = "another"
    (out / MANIFEST).write_text(json.dumps(manifest))
    with pytest.raises(UsageError, match="mix two models"):
        tag_to_folder([inputs], tag_model, out, resume=True)
    with pytest.raises(UsageError, match="not stdin"):
        plan_shards(["-"])


def test_shards_cli_output_dir_and_resume(tag_model, tag_model_path: Path, tmp_path: Path) -> None:
    inputs = make_inputs(tmp_path / "in")
    out = tmp_path / "out"
    args = ["tag", str(inputs), "-m", str(tag_model_path), "-O", str(out), "--shard-mb", "0.00001"]
    result = runner.invoke(app, [*args, "-j", "2"])
    assert result.exit_code == 1, result.output  # bad.txt failed, the rest is tagged
    assert f"error: {inputs / 'bad.txt'}:1: invalid UTF-8" in result.stderr
    assert "tagged 15 articles" in result.stderr
    assert joined(out) == serial_lines(inputs, tag_model)
    (out / "part-00000.jsonl").unlink()
    result = runner.invoke(app, [*args, "--resume"])
    assert result.exit_code == 0, result.output
    assert "15 shard(s) already done" in result.stderr
    assert joined(out) == serial_lines(inputs, tag_model)
    result = runner.invoke(app, ["tag", str(inputs), "-m", str(tag_model_path), "--resume"])
    assert result.exit_code == 2
    assert "--output-dir" in result.stderr
    result = runner.invoke(app, [*args, "--format", "table"])
    assert result.exit_code == 2


def test_shards_a_large_jsonl_file_is_cut_at_line_ends(tag_model, tmp_path: Path) -> None:
    """One JSONL file larger than a shard becomes several shards (byte ranges of whole
    lines), tagged in parallel: joined, they are the lines of one process, with the same
    line numbers in ids and failures; resuming with another shard size is the same run."""
    folder = tmp_path / "in"
    folder.mkdir()
    records = [
        json.dumps({"text": f"Troops guard the border {i}. Talks stall."}) for i in range(40)
    ]
    records[13] = "not json"
    (folder / "big.jsonl").write_text("\n".join(records), encoding="utf-8")  # no final newline
    (folder / "small.txt").write_text("The port strike goes on.", encoding="utf-8")
    shards = plan_shards([folder], shard_mb=600 / 1024 / 1024)
    assert len(shards) > 3 and all(s.ranges for s in shards[:-1])
    assert shards[-1].inputs == (str(folder / "small.txt"),) and not shards[-1].ranges
    out = tmp_path / "out"
    run = tag_to_folder([folder], tag_model, out, n_jobs=2, shard_mb=600 / 1024 / 1024)
    assert joined(out) == serial_lines(folder, tag_model)
    ids = [json.loads(line)["doc_id"] for line in joined(out).splitlines()]
    assert ids == [f"big:{n}" for n in range(1, 41) if n != 14] + ["small"]
    assert [f.split(": ")[0] for f in run.failures] == [f"{folder / 'big.jsonl'}:14"]
    (out / "part-00001.jsonl").unlink()
    again = tag_to_folder([folder], tag_model, out, resume=True, shard_mb=1)
    assert [s.name for s in again.shards if not s.skipped] == ["part-00001.jsonl"]
    assert joined(out) == serial_lines(folder, tag_model)

"""The hostile-input suite: every command × every bad-input class (see hostile_inputs.py).

Each case asserts the documented exit code, no traceback, a message naming the file
(and line where there is one), that every input is byte-identical afterwards and that
no temporary file is left behind.
"""

from __future__ import annotations

import hashlib
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from framing.cli import app
from framing.files import TEMP_SUFFIX
from tests.hostile_inputs import CLASSES, COMMANDS, GOOD, Command, InputClass, _jsonl, huge_line

REPO = Path(__file__).resolve().parents[1]


def _snapshot(folder: Path) -> dict[str, str]:
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def _args(command: Command, source: Path, good: Path, out: Path) -> list[str]:
    values = {"{in}": str(source), "{good}": str(good), "{out}": str(out)}
    return [values.get(a, a) for a in command.args]


def _check(result, command: Command, case: InputClass, source: Path, expected: int) -> None:  # noqa: ANN001
    output = result.output
    assert result.exit_code == expected, (command.name, case.name, output)
    assert "Traceback" not in output, output
    if result.exception is not None:
        assert isinstance(result.exception, SystemExit), repr(result.exception)
    if expected != 0 and case.names_file:
        assert source.name in output, (command.name, case.name, output)


@pytest.mark.parametrize("case", CLASSES, ids=lambda c: c.name)
@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: c.name)
def test_hostile_input(tmp_path: Path, command: Command, case: InputClass) -> None:
    inputs = tmp_path / "inputs"
    inputs.mkdir()
    good = inputs / "good.jsonl"
    good.write_bytes(_jsonl(GOOD))
    source = case.make(inputs, command)
    before = _snapshot(inputs)
    out = tmp_path / "out" / "result.jsonl"
    result = CliRunner().invoke(app, _args(command, source, good, out))
    expected = command.overrides.get(case.name, case.exit_code)
    _check(result, command, case, source, expected)
    assert _snapshot(inputs) == before, "an input changed"
    assert not [p for p in tmp_path.rglob(f"*{TEMP_SUFFIX}")], "a temporary file was left"


WRITERS = [c for c in COMMANDS if c.writes]


def _valid_input(folder: Path, command: Command) -> Path:
    from tests.hostile_inputs import crlf

    path = crlf(folder, command)
    return path.rename(path.with_name("valid" + path.suffix))


@pytest.mark.parametrize("command", WRITERS, ids=lambda c: c.name)
def test_hostile_output_is_an_input(tmp_path: Path, command: Command) -> None:
    source = _valid_input(tmp_path, command)
    good = tmp_path / "good.jsonl"
    good.write_bytes(_jsonl(GOOD))
    before = _snapshot(tmp_path)
    result = CliRunner().invoke(app, _args(command, source, good, source))
    assert result.exit_code == 2, result.output
    assert "would overwrite an input" in result.output
    assert _snapshot(tmp_path) == before


@pytest.mark.parametrize("command", WRITERS, ids=lambda c: c.name)
def test_hostile_unwritable_output_folder(tmp_path: Path, command: Command) -> None:
    source = _valid_input(tmp_path, command)
    good = tmp_path / "good.jsonl"
    good.write_bytes(_jsonl(GOOD))
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the output folder should be\n")
    before = _snapshot(tmp_path)
    result = CliRunner().invoke(app, _args(command, source, good, blocker / "out.jsonl"))
    assert result.exit_code in (1, 2), result.output
    assert "Traceback" not in result.output
    assert "not-a-folder" in result.output
    assert _snapshot(tmp_path) == before


BROKEN_CODEBOOK = b'name = "x"\nversion = "1"\n[[dimensions]]\nid = "frames"\nlabels = 3\n'


@pytest.mark.parametrize(
    "args",
    [
        ("validate", "{good}", "--codebook", "{book}"),
        ("stats", "{good}", "--codebook", "{book}"),
        ("import", "{txt}", "--codebook", "{book}", "-o", "{out}"),
        ("tag", "{txt}", "--codebook", "{book}"),
    ],
    ids=lambda a: a[0],
)
def test_hostile_broken_codebook(tmp_path: Path, args: tuple[str, ...]) -> None:
    book = tmp_path / "book.toml"
    book.write_bytes(BROKEN_CODEBOOK)
    good = tmp_path / "good.jsonl"
    good.write_bytes(_jsonl(GOOD))
    txt = tmp_path / "a.txt"
    txt.write_text("The West is a threat.\n")
    values = {
        "{good}": str(good),
        "{book}": str(book),
        "{txt}": str(txt),
        "{out}": str(tmp_path / "out.jsonl"),
    }
    before = _snapshot(tmp_path)
    result = CliRunner().invoke(app, [values.get(a, a) for a in args])
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output
    assert "book.toml" in result.output
    assert _snapshot(tmp_path) == before


_SLOW_WRITER = """
import sys, time
from framing.cli import main
import framing.cli.tagging as tagging
original = tagging._write
def slow(out, *args):
    original(out, *args)
    out.flush()
    print("written", flush=True)
    time.sleep(60)
tagging._write = slow
sys.argv = ["framing", "tag", sys.argv[1], "-o", sys.argv[2]]
main()
"""


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT, signal.SIGHUP])
def test_hostile_signal_during_a_write(tmp_path: Path, sig: int) -> None:
    source = tmp_path / "a.txt"
    source.write_text("The West is a threat. Talks resume.\n")
    out = tmp_path / "out.jsonl"
    out.write_text("the previous result\n")
    before = _snapshot(tmp_path)
    proc = subprocess.Popen(
        [sys.executable, "-c", _SLOW_WRITER, str(source), str(out)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=REPO,
        env={**os.environ, "PYTHONPATH": str(REPO)},
    )
    assert proc.stdout is not None
    assert proc.stdout.readline().strip() == "written"
    proc.send_signal(sig)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode != 0
    assert "Traceback" not in err
    assert _snapshot(tmp_path) == before


@pytest.mark.slow
@pytest.mark.parametrize(
    "args",
    [
        ("validate", "{in}"),
        ("tag", "{in}", "-o", "{out}"),
        ("import", "doccano", "{in}", "-o", "{out}"),
    ],
    ids=lambda a: a[0],
)
def test_hostile_200_mb_single_line(tmp_path: Path, args: tuple[str, ...]) -> None:
    source = huge_line(tmp_path, COMMANDS[0])
    size = source.stat().st_size
    values = {"{in}": str(source), "{out}": str(tmp_path / "out" / "o.jsonl")}
    result = CliRunner().invoke(app, [values.get(a, a) for a in args])
    assert result.exit_code in (0, 1), result.output[-500:]
    assert "Traceback" not in result.output
    assert source.stat().st_size == size

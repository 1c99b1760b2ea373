from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from framing.cli import app
from framing.format.annotations import read_corpus, validate
from framing.format.article import read_article, split_title

runner = CliRunner()


def _sentence(i: int, **extra: object) -> str:
    record = {
        "id": f"s{i}",
        "doc_id": "d1",
        "text": f"Prices rose {i}%.",
        "frames": ["economic"],
        "rhetoric": [],
        "split": "train",
    }
    record.update(extra)
    return json.dumps(record)


def test_cli_validate_clean_file_exits_zero(tmp_path: Path, mini_codebook_path: Path) -> None:
    path = tmp_path / "a.jsonl"
    path.write_text(_sentence(1) + "\n" + _sentence(2) + "\n", encoding="utf-8")
    result = runner.invoke(app, ["validate", str(path), "--codebook", str(mini_codebook_path)])
    assert result.exit_code == 0, result.output
    assert "2 sentence(s), 0 document(s): 0 error(s), 0 warning(s)" in result.output


def test_cli_validate_problems_exit_one_with_locations(
    tmp_path: Path, mini_codebook_path: Path
) -> None:
    path = tmp_path / "a.jsonl"
    path.write_text(_sentence(1) + "\n" + _sentence(2, frames=["econ"]) + "\n", encoding="utf-8")
    result = runner.invoke(app, ["validate", str(path), "-c", str(mini_codebook_path)])
    assert result.exit_code == 1
    assert f"{path}:2: error: label 'econ' is not in the codebook's 'frames'" in result.output
    assert "(did you mean 'economic'?)" in result.output


def test_cli_validate_json_format(tmp_path: Path, mini_codebook_path: Path) -> None:
    path = tmp_path / "a.jsonl"
    path.write_text(_sentence(1, text="") + "\n", encoding="utf-8")
    result = runner.invoke(
        app, ["validate", str(path), "-c", str(mini_codebook_path), "--format", "json"]
    )
    assert result.exit_code == 1
    data = json.loads(result.stdout)
    assert data["ok"] is False
    assert data["problems"][0]["line"] == 1
    assert data["problems"][0]["code"] == "empty-text"


@pytest.mark.parametrize("command", ["validate", "stats"])
def test_cli_bad_paths_are_usage_errors(tmp_path: Path, command: str) -> None:
    result = runner.invoke(app, [command, str(tmp_path / "missing.jsonl")])
    assert result.exit_code == 2
    assert "no such file or folder" in result.output
    assert "Traceback" not in result.output
    result = runner.invoke(app, [command, str(tmp_path)])
    assert result.exit_code == 2
    assert "holds no .jsonl file" in result.output


def test_cli_validate_huge_line_and_binary_input(tmp_path: Path) -> None:
    path = tmp_path / "big.jsonl"
    with path.open("wb") as out:
        out.write(b'{"id": "s1", "doc_id": "d", "text": "' + b"x" * 30_000_000 + b'"\n')
        out.write(b"\x00\xff\xfe binary\n")
    before = path.stat().st_mtime_ns
    result = runner.invoke(app, ["validate", str(path)])
    assert result.exit_code == 1
    assert f"{path}:1: error: invalid JSON" in result.output
    assert f"{path}:2: error: invalid UTF-8 byte" in result.output
    assert path.stat().st_mtime_ns == before


def test_cli_stats_counts_labels_per_split(tmp_path: Path, mini_codebook_path: Path) -> None:
    path = tmp_path / "a.jsonl"
    lines = [
        _sentence(1, frames=["economic", "security"]),
        _sentence(2, split="test"),
        _sentence(3, frames=[], status="todo"),
    ]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    result = runner.invoke(
        app, ["stats", str(path), "-c", str(mini_codebook_path), "--format", "json"]
    )
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["sentences"] == 3
    assert data["status"] == {"done": 2, "todo": 1}
    frames = data["dimensions"]["frames"]
    assert frames["counts"] == {"economic": 2, "security": 1}
    assert frames["by_split"] == {"train": {"economic": 1, "security": 1}, "test": {"economic": 1}}
    assert frames["labels_per_sentence"] == {"1": 1, "2": 1}
    assert frames["cooccurrence"] == [{"labels": ["economic", "security"], "count": 1}]


def test_cli_stats_plot_writes_png(tmp_path: Path, mini_codebook_path: Path) -> None:
    pytest.importorskip("framing.training.plots")
    path = tmp_path / "a.jsonl"
    path.write_text(_sentence(1) + "\n", encoding="utf-8")
    png = tmp_path / "labels.png"
    result = runner.invoke(
        app, ["stats", str(path), "-c", str(mini_codebook_path), "--plot", str(png)]
    )
    assert result.exit_code == 0, result.output
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_cli_import_text_offsets_and_validates(tmp_path: Path, mini_codebook_path: Path) -> None:
    src = tmp_path / "articles"
    src.mkdir()
    (src / "one.txt").write_text(
        "Ministers meet in Rome\n\nROME, May 2. Prices rose 3.5% in April. Mr. Rossi said so.\n",
        encoding="utf-8",
    )
    (src / "two.txt").write_bytes(b"No title here.\r\nA second line.\r\n")
    out = tmp_path / "todo.jsonl"
    result = runner.invoke(app, ["import", str(src), "-o", str(out), "-c", str(mini_codebook_path)])
    assert result.exit_code == 0, result.output
    assert "documents 2, sentences" in result.output
    corpus = read_corpus([out])
    one = corpus.documents["one"]
    assert one.title == "Ministers meet in Rome"
    assert corpus.documents["two"].title is None
    for s in corpus.sentences:
        body = corpus.documents[s.doc_id].text
        assert body is not None and s.start is not None and s.end is not None
        assert body[s.start : s.end] == s.text
        assert s.status == "todo"
        assert s.labels == {"frames": (), "rhetoric": ()}
    assert [s.id for s in corpus.sentences][:2] == ["one-s001", "one-s002"]
    assert validate([out]).ok
    # The explicit form names the format.
    result = runner.invoke(app, ["import", "text", str(src / "one.txt"), "-o", str(out)])
    assert result.exit_code == 0, result.output


def test_cli_import_text_rejects_bad_input(tmp_path: Path) -> None:
    bad = tmp_path / "bad.txt"
    bad.write_bytes(b"Title\n\nSome text \xff here.\n")
    out = tmp_path / "out.jsonl"
    result = runner.invoke(app, ["import", str(bad), "-o", str(out)])
    assert result.exit_code == 1
    assert f"{bad}:3: invalid UTF-8 byte 0xff" in result.output
    assert not out.exists()
    result = runner.invoke(app, ["import", str(tmp_path / "none.txt"), "-o", str(out)])
    assert result.exit_code == 2


def test_import_text_seed_article_offsets(seed_article: Path) -> None:
    from framing.exchange.importers.text import article_records

    article = read_article(seed_article)
    records = article_records(article)
    sentences = [r for r in records if r.type == "sentence"]
    assert len(sentences) > 8
    for s in sentences:
        assert article.text[s.start : s.end] == s.text  # type: ignore[union-attr,misc]
    assert any(s.text.startswith("MINSK, June 20. /TASS/. The West sees") for s in sentences)


def test_import_split_title_needs_blank_line() -> None:
    assert split_title("Title\n\n\nBody.") == ("Title", "Body.")
    assert split_title("Line one\nLine two\n\nBody.") == (None, "Line one\nLine two\n\nBody.")


def test_cli_commands_table_names_every_command_and_its_module() -> None:
    """``framing.cli.COMMANDS`` says which module defines each command (imported only
    when the command runs): it lists every command, in the order help shows them, and
    each command's code is in the modules it names."""
    import typer.main

    from framing.cli import COMMANDS

    group = typer.main.get_command(app)
    assert group.list_commands(None) == list(COMMANDS)
    help_text = runner.invoke(app, ["--help"]).output
    places = [help_text.index(f"│ {name} ") for name in COMMANDS]
    assert places == sorted(places)
    for name, modules in COMMANDS.items():
        command = group.get_command(None, name)
        if hasattr(command, "commands"):  # import/export: each format is a command
            subs = [command.get_command(None, sub) for sub in command.list_commands(None)]
        else:
            subs = [command]
        found = {sub.callback.__module__ for sub in subs}
        assert found == {f"framing.cli.{m}" for m in modules}, name
    result = runner.invoke(app, ["tga"])
    assert result.exit_code == 2 and "Did you mean 'tag'?" in result.output


def test_cli_command_imports_only_its_own_module() -> None:
    import subprocess
    import sys

    code = (
        "import sys, typer.main\n"
        "from framing.cli import app\n"
        "assert typer.main.get_command(app).get_command(None, 'tag') is not None\n"
        "print(sorted(m for m in sys.modules if m.startswith('framing.cli.')))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "['framing.cli.tagging']"


def test_cli_every_command_has_help_and_example() -> None:
    result = runner.invoke(app, ["--help"])
    assert result.exit_code == 0
    import typer.main

    group = typer.main.get_command(app)

    def walk(cmd: Any, path: list[str]) -> list[tuple[list[str], Any]]:
        if hasattr(cmd, "commands"):  # a group: its commands as help lists them
            out = []
            for name in cmd.list_commands(None):
                out += walk(cmd.get_command(None, name), [*path, name])
            return out
        return [(path, cmd)]

    commands = walk(group, [])
    assert len(commands) >= 3
    for path, cmd in commands:
        assert cmd.help and cmd.help.strip(), path
        assert "framing " in cmd.help, f"{' '.join(path)} --help has no example command line"
        result = runner.invoke(app, [*path, "--help"])
        assert result.exit_code == 0, path


def test_cli_version() -> None:
    from framing import __version__

    result = runner.invoke(app, ["--version"])
    assert result.exit_code == 0
    assert result.output.strip() == f"framing {__version__}"


def test_cli_collector_is_on_when_a_command_runs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``framing`` starts with the cyclic garbage collector off (framing.__main__); every
    command but ``tag`` (which switches it on after loading its model) runs with it on."""
    import gc

    import framing.__main__
    import framing.loop.stats

    seen = []

    def spy(*args: Any) -> Any:
        seen.append(gc.isenabled())
        raise SystemExit(0)

    monkeypatch.setattr(framing.loop.stats, "stats", spy)
    monkeypatch.setattr("sys.argv", ["framing", "stats", str(tmp_path)])
    try:
        with pytest.raises(SystemExit):
            framing.__main__.main()
    finally:
        gc.enable()
    assert seen == [True]

"""Clear behaviour at the edges: codebook resolution, CSV input, JSON where prose is
expected, empty input, predict(str), plot suffixes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from framing.cli import app
from framing.runtime.model import load_model

UNKNOWN = (
    '{"id": "s1", "doc_id": "d1", "text": "A sentence.", "frames": ["nope"], "rhetoric": [], '
    '"status": "done"}\n'
)


def run(*args: str):
    return CliRunner().invoke(app, list(args))


def test_edges_validate_outside_the_repository_uses_the_bundled_codebook(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "unknown.jsonl").write_text(UNKNOWN, encoding="utf-8")
    result = run("validate", "unknown.jsonl")
    assert result.exit_code == 1
    assert "bundled default model" in result.stderr
    assert "unknown.jsonl:1" in result.stdout and "nope" in result.stdout
    skipped = run("validate", "unknown.jsonl", "--no-codebook")
    assert skipped.exit_code == 0
    assert "labels are not checked" in skipped.stderr


def test_edges_validate_without_any_codebook_exits_2(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import framing.runtime.model as model_module

    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(model_module, "bundled_models_root", lambda: tmp_path / "none")
    (tmp_path / "unknown.jsonl").write_text(UNKNOWN, encoding="utf-8")
    result = run("validate", "unknown.jsonl")
    assert result.exit_code == 2
    assert "--no-codebook" in result.stderr


def test_edges_stats_says_which_codebook(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "a.jsonl").write_text(UNKNOWN, encoding="utf-8")
    book = tmp_path / "book.toml"
    book.write_bytes((Path(__file__).parent / "data" / "tiny_codebook.toml").read_bytes())
    result = run("stats", "a.jsonl", "--codebook", str(book))
    assert f"codebook: {book}" in result.stderr


def test_edges_stats_plot_with_a_bad_suffix(tmp_path: Path) -> None:
    data = tmp_path / "a.jsonl"
    data.write_text(UNKNOWN.replace('"nope"', ""), encoding="utf-8")  # no label at all
    result = run("stats", str(data), "--plot", str(tmp_path / "out.txt"))
    assert result.exit_code == 2
    assert "out.txt: cannot write a chart as '.txt'" in result.stderr
    assert ".png" in result.stderr
    assert not (tmp_path / "out.txt").exists()


def test_edges_predict_a_string_is_a_type_error() -> None:
    model = load_model()
    with pytest.raises(TypeError, match=r"predict\(\[text\]\)"):
        model.predict("The West is a threat.")
    with pytest.raises(TypeError, match="predict_proba"):
        model.predict_proba("The West is a threat.")
    assert len(model.predict(["The West is a threat."])) == 1


@pytest.mark.parametrize("name", ["art.jsonl", "art.json", "art.txt"])
def test_edges_import_refuses_json(tmp_path: Path, name: str) -> None:
    source = tmp_path / name
    source.write_text('{"id": "a", "text": "The West is a threat."}\n', encoding="utf-8")
    result = run("import", str(source), "-o", str(tmp_path / "out.jsonl"))
    assert result.exit_code == 2, result.output
    assert f"{source}: this is JSON, not raw text" in result.stderr
    assert not (tmp_path / "out.jsonl").exists()


def test_edges_tag_refuses_a_json_file_as_prose(tmp_path: Path) -> None:
    source = tmp_path / "art.json"
    source.write_text('[{"id": "a", "text": "The West is a threat."}]\n', encoding="utf-8")
    result = run("tag", str(source))
    assert result.exit_code == 2
    assert "this is JSON" in result.stderr


CSV = (
    "id,body,outlet,date\n"
    'a1,"The West is a threat, he said. Talks resume.",Daily Example,2024-01-02\n'
    'a2,"Prices rose again.\nThe minister spoke of peace.",Weekly,2024-01-03\n'
)


def test_edges_tag_csv_keeps_the_other_columns_as_meta(tmp_path: Path) -> None:
    table = tmp_path / "articles.csv"
    table.write_text(CSV, encoding="utf-8")
    result = run("tag", str(table), "--text-column", "body", "--id-column", "id")
    assert result.exit_code == 0, result.output
    records = [json.loads(line) for line in result.stdout.splitlines()]
    assert [r["doc_id"] for r in records] == ["a1", "a2"]
    assert records[0]["meta"] == {"outlet": "Daily Example", "date": "2024-01-02"}
    assert records[1]["n_sentences"] == 2


def test_edges_tag_csv_title_column_is_sentence_0(tmp_path: Path) -> None:
    table = tmp_path / "articles.csv"
    table.write_text(CSV, encoding="utf-8")
    args = ("--text-column", "body", "--id-column", "id", "--title-column", "outlet")
    result = run("tag", str(table), *args)
    assert result.exit_code == 0, result.output
    first, second = [json.loads(line) for line in result.stdout.splitlines()]
    assert (first["title"], first["meta"]) == ("Daily Example", {"date": "2024-01-02"})
    assert first["sentences"][0] == {**first["sentences"][0], "index": 0, "text": "Daily Example"}
    assert "start" not in first["sentences"][0]
    assert [s["index"] for s in second["sentences"]] == [0, 1, 2]
    wrong = run("tag", str(table), "--text-column", "body", "--title-column", "headline")
    assert wrong.exit_code == 2 and "--title-column 'headline' is not a column" in wrong.stderr


def test_edges_tag_csv_needs_a_text_column(tmp_path: Path) -> None:
    table = tmp_path / "articles.csv"
    table.write_text(CSV, encoding="utf-8")
    result = run("tag", str(table))
    assert result.exit_code == 2
    assert "--text-column" in result.stderr and "'body'" in result.stderr
    wrong = run("tag", str(table), "--text-column", "text")
    assert wrong.exit_code == 2 and "is not a column" in wrong.stderr


def test_edges_import_csv(tmp_path: Path) -> None:
    from framing.format.annotations import read_corpus

    table = tmp_path / "articles.csv"
    table.write_text(CSV, encoding="utf-8")
    out = tmp_path / "out.jsonl"
    result = run("import", str(table), "--text-column", "body", "--id-column", "id", "-o", str(out))
    assert result.exit_code == 0, result.output
    corpus = read_corpus([out])
    assert corpus.documents["a1"].meta["outlet"] == "Daily Example"
    assert {s.doc_id for s in corpus.sentences} == {"a1", "a2"}
    document = corpus.documents["a2"]
    for sentence in corpus.sentences:
        if sentence.doc_id == "a2":
            assert document.text[sentence.start : sentence.end] == sentence.text


def test_edges_tag_empty_input_says_so(tmp_path: Path) -> None:
    empty = tmp_path / "empty.jsonl"
    empty.write_bytes(b"")
    result = run("tag", str(empty))
    assert result.exit_code == 1
    assert f"{empty}: no text found" in result.stderr
    from_stdin = CliRunner().invoke(app, ["tag"], input="")
    assert from_stdin.exit_code == 1 and "<stdin>: no text found" in from_stdin.stderr


def test_edges_broken_pipe_is_quiet(tmp_path: Path) -> None:
    import subprocess
    import sys

    data = tmp_path / "many.jsonl"
    line = json.dumps({"text": "The West is a threat. Talks resume in Geneva today."})
    data.write_text((line + "\n") * 20000, encoding="utf-8")
    code = "from framing.cli import main; main()"
    shell = f"{sys.executable} -c '{code}' tag {data} | head -c 10 > /dev/null"
    done = subprocess.run(
        ["bash", "-c", shell + "; echo ${PIPESTATUS[0]}"], capture_output=True, text=True
    )
    assert done.stdout.strip() == "141"
    assert done.stderr == ""


def test_edges_stdin_on_a_terminal_gets_a_hint() -> None:
    import os
    import pty
    import subprocess
    import sys

    master, slave = pty.openpty()
    proc = subprocess.Popen(
        [sys.executable, "-c", "from framing.cli import main; main()", "tag"],
        stdin=slave,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    os.close(slave)
    assert proc.stderr is not None
    hint = proc.stderr.readline()
    os.write(master, b"The West is a threat.\n\x04")
    out, _ = proc.communicate(timeout=60)
    os.close(master)
    assert "reading articles from standard input" in hint and "Ctrl-D" in hint
    assert proc.returncode == 0
    assert json.loads(out.splitlines()[0])["n_sentences"] == 1

"""``framing tag``: inputs, formats, failures and exit codes."""

from __future__ import annotations

import gc
import json
import shutil
from pathlib import Path

import numpy as np
import pytest
from sklearn.base import BaseEstimator, TransformerMixin
from typer.testing import CliRunner

from framing.cli import app
from framing.runtime.meta import ModelMeta
from framing.runtime.model import load_model, save_model
from framing.runtime.results import OUTPUT_VERSION

REPO = Path(__file__).resolve().parents[1]
EXAMPLE = REPO / "examples" / "sahel-summit.txt"
ARTICLE = "Headline of the day\n\nThe port strike goes on. Prices of grain rise.\n\nTroops guard the border."

runner = CliRunner()


def run(*args: str, input: str | bytes | None = None):
    return runner.invoke(app, ["tag", *args], input=input)


def lines(text: str) -> list[dict]:
    return [json.loads(line) for line in text.splitlines() if line.strip()]


def test_cli_tag_txt_file_to_jsonl(tag_model_path: Path, tmp_path: Path) -> None:
    path = tmp_path / "strike.txt"
    path.write_text(ARTICLE, encoding="utf-8")
    result = run(str(path), "--model", str(tag_model_path))
    assert result.exit_code == 0, result.output
    (record,) = lines(result.stdout)
    assert record["version"] == OUTPUT_VERSION
    assert (record["doc_id"], record["title"], record["n_sentences"]) == (
        "strike",
        "Headline of the day",
        4,
    )
    body = ARTICLE.split("\n\n", 1)[1]
    head, *rest = record["sentences"]
    assert (head["index"], head["text"], "start" in head) == (0, "Headline of the day", False)
    for s in rest:
        assert body[s["start"] : s["end"]] == s["text"]
    model = load_model(tag_model_path)
    assert record == model.tag(body, title="Headline of the day", doc_id="strike").to_dict()


def test_cli_tag_output_file_folder_and_all_scores(tag_model_path: Path, tmp_path: Path) -> None:
    folder = tmp_path / "in"
    (folder / "sub").mkdir(parents=True)
    (folder / "a.txt").write_text(ARTICLE, encoding="utf-8")
    (folder / "sub" / "b.txt").write_text("No title here. Just text.", encoding="utf-8")
    (folder / "c.jsonl").write_text(
        json.dumps({"id": "c1", "title": "T", "text": "Troops guard the border."}) + "\n",
        encoding="utf-8",
    )
    out = tmp_path / "out" / "tagged.jsonl"
    result = run(str(folder), "-m", str(tag_model_path), "-o", str(out), "--all-scores")
    assert result.exit_code == 0, result.output
    assert result.stdout == ""
    # 3 + 1 + 2 sentences, and the titles of a.txt and c1 as sentence 0
    assert "tagged 3 articles (8 sentences)" in result.stderr
    records = lines(out.read_text(encoding="utf-8"))
    assert [r["doc_id"] for r in records] == ["a", "c1", "b"]
    assert records[1]["title"] == "T"
    assert all("scores" in s for r in records for s in r["sentences"])
    assert not list(out.parent.glob(".*.tmp")), "no temporary file left behind"


def test_cli_tag_json_table_and_html_formats(tag_model_path: Path, tmp_path: Path) -> None:
    path = tmp_path / "a.txt"
    path.write_text(ARTICLE + " <script>alert(1)</script>", encoding="utf-8")
    result = run(str(path), str(EXAMPLE), "-m", str(tag_model_path), "--format", "json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert [d["doc_id"] for d in data] == ["a", "sahel-summit"]

    result = run(str(path), "-m", str(tag_model_path), "-f", "table")
    assert result.exit_code == 0, result.output
    assert "== a: Headline of the day" in result.stdout
    assert "The port strike goes on." in result.stdout

    page = tmp_path / "page.html"
    result = run(str(path), str(EXAMPLE), "-m", str(tag_model_path), "-f", "html", "-o", str(page))
    assert result.exit_code == 0, result.output
    html = page.read_text(encoding="utf-8")
    assert html.startswith("<!DOCTYPE html>") and "<style>" in html
    assert "<script>" not in html and "&lt;script&gt;" in html
    assert "Sahel leaders close ranks" in html


def test_cli_tag_stdin_text_and_jsonl(tag_model_path: Path) -> None:
    result = run("-", "-m", str(tag_model_path), input=ARTICLE)
    assert result.exit_code == 0, result.output
    (record,) = lines(result.stdout)
    assert (record["doc_id"], record["title"], record["n_sentences"]) == (
        "stdin",
        "Headline of the day",
        4,
    )
    stream = "\n".join(
        json.dumps(r) for r in [{"id": "x", "text": "Prices rise. Troops wait."}, {"text": "One."}]
    )
    result = run("-m", str(tag_model_path), input=stream + "\n")
    assert result.exit_code == 0, result.output
    records = lines(result.stdout)
    assert [(r["doc_id"], r["n_sentences"]) for r in records] == [("x", 2), ("stdin:2", 1)]


def test_cli_tag_one_per_line(tag_model_path: Path) -> None:
    text = "The strike goes on. Prices rise.\nTroops guard the border.\n\nLast line"
    result = run("--one-per-line", "-m", str(tag_model_path), input=text)
    assert result.exit_code == 0, result.output
    records = lines(result.stdout)
    assert [(r["index"], r["text"]) for r in records] == [
        (1, "The strike goes on. Prices rise."),
        (2, "Troops guard the border."),
        (3, ""),
        (4, "Last line"),
    ]
    model = load_model(tag_model_path)
    assert (
        records[0]["labels"]
        == model.predict(["The strike goes on. Prices rise."])[0].to_dict()["labels"]
    )


def test_cli_tag_failed_inputs_are_reported_and_skipped(
    tag_model_path: Path, tmp_path: Path
) -> None:
    good = tmp_path / "good.txt"
    good.write_text(ARTICLE, encoding="utf-8")
    bad = tmp_path / "bad.txt"
    bad.write_bytes(b"Title\n\nBroken \xff text.")
    records = tmp_path / "records.jsonl"
    records.write_text('{"text": "Fine."}\n{"text": 3}\n', encoding="utf-8")
    result = run(str(bad), str(good), str(records), "-m", str(tag_model_path))
    assert result.exit_code == 1
    assert [r["doc_id"] for r in lines(result.stdout)] == ["good", "records:1"]
    assert f"error: {bad}:3: invalid UTF-8 byte 0xff" in result.stderr
    assert f"error: {records}:2: record has no 'text' string" in result.stderr
    assert "2 input(s) failed and were skipped" in result.stderr
    assert "Traceback" not in result.output


def test_cli_tag_usage_and_model_errors(
    tag_model_path: Path, tmp_path: Path, mini_codebook_path
) -> None:
    result = run(str(tmp_path / "missing.txt"), "-m", str(tag_model_path))
    assert result.exit_code == 2
    assert "missing.txt: no such file or folder" in result.stderr

    result = run(str(EXAMPLE), "-m", str(tmp_path / "no-model"))
    assert result.exit_code == 2
    assert "not found" in result.stderr

    result = run(str(EXAMPLE), "-m", str(tag_model_path), "--codebook", str(mini_codebook_path))
    assert result.exit_code == 1
    assert "trained with codebook 'tiny'" in result.stderr
    assert "Traceback" not in result.output

    old = tmp_path / "old"
    shutil.copytree(tag_model_path, old)
    meta = json.loads((old / "meta.json").read_text(encoding="utf-8"))
    meta["versions"]["numpy"] = "1.0.0"
    (old / "meta.json").write_text(json.dumps(meta), encoding="utf-8")
    result = run(str(EXAMPLE), "-m", str(old))
    assert result.exit_code == 0, result.output
    assert "warning" not in result.stderr  # compiled arrays: versions do not matter
    (old / "compiled.npz").unlink()  # the scikit-learn pipelines: they do
    result = run(str(EXAMPLE), "-m", str(old))
    assert result.exit_code == 0, result.output
    assert "warning: model" in result.stderr and "numpy 1.0.0" in result.stderr


def test_cli_tag_leaves_the_garbage_collector_on(
    tag_model_path: Path, tmp_path: Path, mini_codebook_path
) -> None:
    """The collector is off while the model loads, and on again afterwards, also when
    loading fails."""
    assert gc.isenabled()
    result = run(str(EXAMPLE), "-m", str(tag_model_path), "--codebook", str(mini_codebook_path))
    assert result.exit_code == 1
    assert gc.isenabled()
    result = run(str(EXAMPLE), "-m", str(tag_model_path))
    assert result.exit_code == 0, result.output
    assert gc.isenabled()


class Lowercase(TransformerMixin, BaseEstimator):
    """A custom step: makes the model uncompilable and its skops file untrusted."""

    def fit(self, X, y=None):
        return self

    def transform(self, X):
        return [x.lower() for x in X]


def test_cli_tag_untrusted_types_need_trust(tmp_path: Path) -> None:
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.multiclass import OneVsRestClassifier
    from sklearn.pipeline import Pipeline

    from framing.format.codebook import Codebook

    texts = ["prices rise", "troops guard", "prices fall", "troops march"] * 3
    y = np.array([[1, 0], [0, 1], [1, 0], [0, 1]] * 3)
    pipe = Pipeline(
        [
            ("low", Lowercase()),
            ("tfidf", TfidfVectorizer()),
            ("clf", OneVsRestClassifier(LogisticRegression())),
        ]
    ).fit(texts, y)
    codebook = Codebook.from_labels({"frames": ["economic", "security"]}, name="custom")
    meta = {
        "labels": {"frames": ["economic", "security"]},
        "thresholds": {"frames": {"economic": 0.5, "security": 0.5}},
    }
    folder = save_model(tmp_path / "custom", {"frames": pipe}, ModelMeta.from_dict(meta), codebook)
    assert not (folder / "compiled.npz").exists()
    assert (
        "expected a Pipeline" in json.loads((folder / "meta.json").read_text())["compiled_reason"]
    )

    result = run("-m", str(folder), input="Prices rise.")
    assert result.exit_code == 1
    assert "untrusted types found in the file: ['tests.test_cli_tag.Lowercase']" in result.stderr
    assert "--trust" in result.stderr

    result = run("-m", str(folder), "--trust", "tests.test_cli_tag.Lowercase", input="Prices rise.")
    assert result.exit_code == 0, result.output
    (record,) = lines(result.stdout)
    assert record["n_sentences"] == 1


def test_cli_tag_help_has_an_example() -> None:
    result = runner.invoke(app, ["tag", "--help"])
    assert result.exit_code == 0
    assert "Example: framing tag" in result.stdout


@pytest.mark.parametrize("fmt", ["jsonl", "json", "table", "html"])
def test_cli_tag_example_article_in_every_format(tag_model_path: Path, fmt: str) -> None:
    result = run(str(EXAMPLE), "-m", str(tag_model_path), "-f", fmt)
    assert result.exit_code == 0, result.output
    assert "Burkina Faso" in result.stdout


def test_cli_tag_document_level_model_labels_whole_articles(
    tag_model_path: Path, tmp_path: Path
) -> None:
    """A document-level model labels each article as a whole (its thresholds were tuned on
    articles), in the 'document' field, the same from the CLI and from Python."""
    import shutil

    import numpy as np

    from framing.runtime.model import load_model

    folder = tmp_path / "doc-model"
    shutil.copytree(tag_model_path, folder)
    meta = json.loads((folder / "meta.json").read_text(encoding="utf-8"))
    meta["level"] = "document"
    (folder / "meta.json").write_text(json.dumps(meta), encoding="utf-8")
    body = "The West lies. It always does. Prices rose and the army marched."
    article = tmp_path / "a.txt"
    article.write_text(f"Title\n\n{body}\n", encoding="utf-8")
    result = CliRunner().invoke(app, ["tag", str(article), "--model", str(folder), "--all-scores"])
    assert result.exit_code == 0, result.output
    record = json.loads(result.stdout)
    assert record["model"]["level"] == "document"
    assert record["sentences"] == [] and record["profile"] == {}
    model = load_model(folder)
    scores = model.predict_proba([body + "\n"])
    for dim, ids in model.labels.items():
        # the article's labels: every label whose score on the whole body reaches its threshold
        want = [
            label
            for label, score in zip(ids, scores[dim][0], strict=True)
            if score >= meta["thresholds"][dim][label]
        ]
        got = [item["label"] for item in record["document"]["labels"][dim]]
        assert sorted(got) == sorted(want)
        assert np.allclose(
            [record["document"]["scores"][dim][label] for label in ids], scores[dim][0]
        )
    python = model.tag(body + "\n", title="Title", doc_id="a", all_scores=True)
    assert python.level == "document"
    assert python.to_dict()["document"] == record["document"]
    many = list(model.tag_many([{"id": "a", "text": body + "\n", "meta": {"outlet": "X"}}]))
    assert many[0].labels("frames") == python.labels("frames")
    assert many[0].meta == {"outlet": "X"}
    for option in ("--one-per-line", "--explain"):
        refused = CliRunner().invoke(app, ["tag", str(article), "--model", str(folder), option])
        assert refused.exit_code == 2
        assert "labels whole articles" in refused.output
    table = CliRunner().invoke(app, ["tag", str(article), "--model", str(folder), "-f", "table"])
    assert table.exit_code == 0 and "the whole article" in table.stdout
    page = CliRunner().invoke(app, ["tag", str(article), "--model", str(folder), "-f", "html"])
    assert page.exit_code == 0 and "document-level model" in page.stdout
    # sharded output (--output-dir) holds the same article records as -o FILE
    single = tmp_path / "single.jsonl"
    assert (
        CliRunner()
        .invoke(app, ["tag", str(article), "-m", str(folder), "-o", str(single)])
        .exit_code
        == 0
    )
    shards = tmp_path / "shards"
    result = CliRunner().invoke(
        app, ["tag", str(article), "-m", str(folder), "--output-dir", str(shards), "-j", "1"]
    )
    assert result.exit_code == 0, result.output
    sharded = b"".join(p.read_bytes() for p in sorted(shards.glob("part-*.jsonl")))
    assert sharded == single.read_bytes() and b'"document"' in sharded


def test_cli_tag_starts_without_what_tagging_does_not_use(
    tag_model_path: Path, tmp_path: Path
) -> None:
    """Start-up is paid by every run (and is serial before --jobs' workers start): the
    tag command loads neither training, plotting, scikit-learn nor the annotation format."""
    import subprocess
    import sys

    article = tmp_path / "a.txt"
    article.write_text("Headline\n\nThe port strike goes on. Prices of grain rise.", "utf-8")
    code = (
        "import sys, runpy\n"
        f"sys.argv = ['framing', 'tag', {str(article)!r}, '-m', {str(tag_model_path)!r}, "
        f"'-o', {str(tmp_path / 'out.jsonl')!r}, '-j', '1']\n"
        "try:\n"
        "    runpy.run_module('framing', run_name='__main__')\n"
        "except SystemExit as exc:\n"
        "    assert not exc.code, exc.code\n"
        "unused = ('sklearn', 'scipy', 'matplotlib', 'skops', 'numpy.ma', 'framing.training', "
        "'framing.findings', 'framing.loop', 'framing.format.annotations', "
        "'framing.output.html', 'framing.output.table')\n"
        "print(sorted(m for m in unused if m in sys.modules))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]", done.stderr

"""``framing import <format>`` and ``framing export <format>`` (framing/cli/exchange.py)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from framing.training.task_metrics import ptc_si_score, ptc_tc_score
from sklearn.metrics import f1_score
from typer.testing import CliRunner, Result

from framing.cli import app
from framing.format.annotations import (
    Document,
    Sentence,
    iter_records,
    read_corpus,
    validate,
    write_jsonl,
)
from framing.format.codebook import Codebook, load_codebook

runner = CliRunner()

FORMATS = Path(__file__).resolve().parent / "data" / "formats"
REPO = Path(__file__).resolve().parents[1]
TINY = REPO / "tests" / "data" / "tiny_corpus.jsonl"
TINY_CODEBOOK = REPO / "tests" / "data" / "tiny_codebook.toml"
S25 = FORMATS / "semeval2025"
S23 = FORMATS / "semeval2023"

IMPORTS = {
    "semeval2025": [
        "semeval2025",
        str(S25 / "raw-documents"),
        "-a",
        str(S25 / "subtask-2-annotations.txt"),
        "--narratives-taxonomy",
        str(S25 / "narratives.txt"),
    ],
    "semeval2023": [
        "semeval2023",
        str(S23 / "articles"),
        "--frames",
        str(S23 / "labels-subtask-2.txt"),
        "--techniques",
        str(S23 / "labels-subtask-3.txt"),
        "--unlisted",
        "negative",
    ],
    "ptc": ["ptc", str(FORMATS / "ptc" / "articles"), "-l", str(FORMATS / "ptc" / "labels")],
    "frac": ["frac", str(FORMATS / "frac" / "frac_sample.csv"), "--split", "train"],
    "labelstudio": ["labelstudio", str(FORMATS / "labelstudio" / "export.json")],
    "doccano": ["doccano", str(FORMATS / "doccano" / "export.jsonl"), "-d", "frames"],
    "prodigy": ["prodigy", str(FORMATS / "prodigy" / "db.jsonl"), "-d", "frames"],
}


def invoke(args: list[str]) -> Result:
    result = runner.invoke(app, args)
    # A user error is an exit code and a message, never a traceback.
    assert result.exception is None or isinstance(result.exception, SystemExit), result.output
    return result


@pytest.mark.parametrize("name", sorted(IMPORTS))
def test_cli_exchange_import_writes_records_and_codebook(name: str, tmp_path: Path) -> None:
    out = tmp_path / "out.jsonl"
    result = runner.invoke(app, ["import", *IMPORTS[name], "-o", str(out)])
    assert result.exit_code == 0, result.output
    codebook = tmp_path / "out.codebook.toml"
    assert "wrote codebook '" in result.output and str(codebook) in result.output
    report = validate([out], load_codebook(codebook))
    assert report.ok and not report.warnings, [str(p) for p in report.problems]
    assert report.sentences + report.documents > 0


def test_cli_exchange_import_counts_and_split(tmp_path: Path) -> None:
    out = tmp_path / "frac.jsonl"
    result = invoke(
        ["import", *IMPORTS["frac"], "-o", str(out), "--codebook-out", str(tmp_path / "cb.toml")]
    )
    assert result.exit_code == 0, result.output
    assert "wrote 12 records" in result.output and "frames labels 10" in result.output
    corpus = read_corpus([out], load_codebook(tmp_path / "cb.toml"))
    assert {s.split for s in corpus.sentences} == {"train"}


def test_cli_exchange_import_with_existing_codebook(tmp_path: Path) -> None:
    first = tmp_path / "a.jsonl"
    assert invoke(["import", *IMPORTS["doccano"], "-o", str(first)]).exit_code == 0
    book = tmp_path / "a.codebook.toml"
    again = tmp_path / "b.jsonl"
    result = invoke(["import", *IMPORTS["prodigy"], "-o", str(again), "--codebook", str(book)])
    # Prodigy's options hold 'health', which the doccano export never used: accepted
    # labels are checked, not the options offered.
    assert result.exit_code == 0, result.output
    assert not (tmp_path / "b.codebook.toml").exists()
    assert validate([again], load_codebook(book)).ok
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"text": "x", "label": ["economy"]}\n', encoding="utf-8")
    result = invoke(
        [
            "import",
            "doccano",
            str(bad),
            "-d",
            "frames",
            "-o",
            str(tmp_path / "c.jsonl"),
            "-c",
            str(book),
        ]
    )
    assert result.exit_code == 1
    assert (
        f"{bad}:1: label 'economy' is not in the codebook's 'frames' (did you mean 'economic'?)"
        in result.output
    )


def test_cli_exchange_import_bad_rows_exit_one_with_locations(tmp_path: Path) -> None:
    out = tmp_path / "x.jsonl"
    result = invoke(
        [
            "import",
            "ptc",
            str(FORMATS / "ptc" / "articles"),
            "-l",
            str(FORMATS / "ptc" / "bad.labels"),
            "-o",
            str(out),
        ]
    )
    assert result.exit_code == 1
    assert "error: 5 problem(s) in the PTC labels" in result.output
    assert "bad.labels:3: article '999' has no file article999.txt" in result.output
    assert not out.exists()


def test_cli_exchange_import_missing_input_exit_two(tmp_path: Path) -> None:
    result = invoke(["import", "frac", str(tmp_path / "nope.csv"), "-o", str(tmp_path / "x.jsonl")])
    assert result.exit_code == 2
    assert "FrAC CSV file not found" in result.output


@pytest.mark.parametrize("command", ["import", "export"])
def test_cli_exchange_datasets_without_hf_extra_names_the_extra(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, command: str
) -> None:
    # None in sys.modules makes `import datasets` raise ImportError, as when it is absent.
    monkeypatch.setitem(__import__("sys").modules, "datasets", None)
    data = tmp_path / "train.jsonl"
    data.write_text(json.dumps({"text": "Prices rose.", "frames": []}) + "\n", encoding="utf-8")
    out = tmp_path / "out"
    args = [command, "datasets", str(data), "-o", str(out)]
    if command == "import":
        args[-1] = str(tmp_path / "out.jsonl")
    result = invoke(args)
    assert result.exit_code == 2, result.output
    assert "pip install 'framing[hf]'" in result.output
    assert "Traceback" not in result.output
    assert data.read_text(encoding="utf-8").startswith('{"text"')


def test_cli_exchange_import_datasets_column_mapping(tmp_path: Path) -> None:
    data = tmp_path / "train.jsonl"
    data.write_text(
        "".join(
            json.dumps({"sentence": s, "frame": f, "art": a}) + "\n"
            for s, f, a in [("Prices rose.", "economic", "a1"), ("Troops came.", "security", "a2")]
        ),
        encoding="utf-8",
    )
    out = tmp_path / "out.jsonl"
    result = invoke(
        [
            "import",
            "datasets",
            str(data),
            "--text",
            "sentence",
            "--labels",
            "frame=frames",
            "--doc-id-column",
            "art",
            "--split",
            "train",
            "-o",
            str(out),
        ]
    )
    assert result.exit_code == 0, result.output
    records = list(iter_records([out], load_codebook(tmp_path / "out.codebook.toml")))
    assert [(r.doc_id, r.labels, r.split) for r in records] == [
        ("a1", {"frames": ("economic",)}, "train"),
        ("a2", {"frames": ("security",)}, "train"),
    ]
    result = invoke(["import", "datasets", str(data), "--labels", "=x", "-o", str(out)])
    assert result.exit_code == 2
    assert "give COLUMN or COLUMN=DIMENSION" in result.output


# --------------------------------------------------------------------------- export


def test_cli_exchange_export_labelstudio_round_trip(tmp_path: Path) -> None:
    tasks, config = tmp_path / "tasks.json", tmp_path / "config.xml"
    result = invoke(
        [
            "export",
            "labelstudio",
            str(TINY),
            "-c",
            str(TINY_CODEBOOK),
            "-o",
            str(tasks),
            "--config-out",
            str(config),
        ]
    )
    assert result.exit_code == 0, result.output
    assert '<Choices name="rhetoric"' in config.read_text(encoding="utf-8")
    back = tmp_path / "back.jsonl"
    result = invoke(
        ["import", "labelstudio", str(tasks), "-o", str(back), "-c", str(TINY_CODEBOOK)]
    )
    assert result.exit_code == 0, result.output
    codebook = load_codebook(TINY_CODEBOOK)
    original = [r.to_dict() for r in iter_records([TINY], codebook)]
    assert [r.to_dict() for r in iter_records([back], codebook)] == original


def test_cli_exchange_export_doccano_and_prodigy(tmp_path: Path) -> None:
    for fmt, extra in (("doccano", ["-d", "frames"]), ("prodigy", [])):
        out = tmp_path / f"{fmt}.jsonl"
        result = invoke(
            ["export", fmt, str(TINY), "-c", str(TINY_CODEBOOK), "-o", str(out), *extra]
        )
        assert result.exit_code == 0, result.output
        lines = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
        assert lines and all("text" in line for line in lines)
    first = json.loads((tmp_path / "doccano.jsonl").read_text(encoding="utf-8").splitlines()[1])
    assert first["label"] == ["economic"]


def test_cli_exchange_export_finds_the_imported_codebook(tmp_path: Path) -> None:
    out = tmp_path / "ls.jsonl"
    assert invoke(["import", *IMPORTS["labelstudio"], "-o", str(out)]).exit_code == 0
    config = tmp_path / "config.xml"
    result = invoke(
        [
            "export",
            "labelstudio",
            str(out),
            "-o",
            str(tmp_path / "t.json"),
            "--config-out",
            str(config),
        ]
    )
    assert result.exit_code == 0, result.output
    assert "hint=\"Label 'loaded_language'" in config.read_text(encoding="utf-8")


def test_cli_exchange_export_semeval2025(tmp_path: Path) -> None:
    data = tmp_path / "s25.jsonl"
    assert invoke(["import", *IMPORTS["semeval2025"], "-o", str(data)]).exit_code == 0
    pred = tmp_path / "pred.txt"
    gold = S25 / "subtask-2-annotations.txt"
    result = invoke(["export", "semeval2025", str(data), "-g", str(gold), "-o", str(pred)])
    assert result.exit_code == 0, result.output
    assert pred.read_text(encoding="utf-8").splitlines()[1] == "EN_UA_002.txt\tOther\tOther"
    longer = tmp_path / "gold.txt"
    longer.write_text(gold.read_text(encoding="utf-8") + "EN_XX_404.txt\tOther\tOther\n")
    result = invoke(["export", "semeval2025", str(data), "-g", str(longer), "-o", str(pred)])
    assert result.exit_code == 1
    assert f"{longer}:4: article 'EN_XX_404' has no record with narratives" in result.output
    result = invoke(
        [
            "export",
            "semeval2025",
            str(data),
            "-g",
            str(longer),
            "-o",
            str(pred),
            "--missing",
            "other",
        ]
    )
    assert result.exit_code == 0
    assert pred.read_text(encoding="utf-8").splitlines()[-1] == "EN_XX_404.txt\tOther\tOther"


def test_cli_exchange_export_datasets(tmp_path: Path) -> None:
    import datasets

    for fmt in ("disk", "parquet"):
        folder = tmp_path / fmt
        result = invoke(
            [
                "export",
                "datasets",
                str(TINY),
                "-c",
                str(TINY_CODEBOOK),
                "-o",
                str(folder),
                "-f",
                fmt,
            ]
        )
        assert result.exit_code == 0, result.output
    loaded = datasets.load_from_disk(str(tmp_path / "disk"))
    assert set(loaded) <= {"train", "validation", "test"}
    back = tmp_path / "back.jsonl"
    result = invoke(
        [
            "import",
            "datasets",
            str(tmp_path / "parquet"),
            "--labels",
            "frames",
            "--labels",
            "rhetoric",
            "--id-column",
            "id",
            "-o",
            str(back),
            "-c",
            str(TINY_CODEBOOK),
        ]
    )
    assert result.exit_code == 0, result.output
    codebook = load_codebook(TINY_CODEBOOK)
    done = {
        r.id: r.labels
        for r in iter_records([TINY], codebook)
        if isinstance(r, Sentence) and r.status == "done"
    }
    got = {r.id: r.labels for r in iter_records([back], codebook) if isinstance(r, Sentence)}
    assert got == done


def test_cli_exchange_every_command_has_help_with_an_example() -> None:
    from framing.exchange.registry import EXPORTERS, IMPORTERS

    assert set(IMPORTS) | {"datasets"} == set(IMPORTERS)
    for group, names in (("import", ["text", *IMPORTERS]), ("export", list(EXPORTERS))):
        for name in names:
            result = runner.invoke(app, [group, name, "--help"])
            assert result.exit_code == 0, (group, name)
            assert "Example: framing" in result.output, (group, name)


def test_cli_exchange_registry_lists_every_format_module() -> None:
    from framing.exchange import exporters, importers
    from framing.exchange.registry import EXPORTERS, IMPORTERS, exporter, importer

    for package, table, load, declares in (
        (importers, IMPORTERS, importer, "\nIMPORTER = "),
        (exporters, EXPORTERS, exporter, "\nEXPORTER = "),
    ):
        # a module that declares a format is registered, and every entry names one
        folder = Path(package.__file__).parent
        modules = {p.stem for p in folder.glob("*.py") if declares in p.read_text("utf-8")}
        assert modules == {module.rsplit(".", 1)[1] for module in table.values()}
        for name in table:
            assert load(name).name == name


def test_cli_exchange_format_modules_load_only_when_their_command_runs() -> None:
    import subprocess
    import sys

    code = (
        "import sys, framing.cli.exchange\n"
        "print(sorted(m for m in sys.modules if m.startswith('framing.exchange.')))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "['framing.exchange.registry']"


def test_cli_exchange_unknown_format_is_a_usage_error() -> None:
    from framing.errors import UsageError
    from framing.exchange.registry import importer

    with pytest.raises(UsageError, match="did you mean 'doccano'"):
        importer("docano")
    result = invoke(["export", "docano", "x.jsonl", "-o", "y.jsonl"])
    assert result.exit_code == 2


# --------------------------------------------------------------------------- end to end


def _semeval_folder(root: Path, articles: list[tuple[str, str, str]]) -> Path:
    docs = root / "raw-documents"
    docs.mkdir(parents=True)
    rows = []
    for name, narrative, body in articles:
        (docs / f"{name}.txt").write_text(f"Headline of {name}\n\n{body}\n", encoding="utf-8")
        sub = f"{narrative}: Other" if narrative != "Other" else "Other"
        rows.append(f"{name}.txt\t{narrative}\t{sub}\n")
    (root / "annotations.txt").write_text("".join(rows), encoding="utf-8")
    return root


def test_cli_exchange_semeval2025_import_trains_and_evaluates(tmp_path: Path) -> None:
    """Imported SemEval data trains at document level and ``framing eval`` reports samples F1."""
    blame = "URW: Blaming the war on others rather than the invader"
    climate = "CC: Criticism of climate movement"
    west = "Western sanctions hurt Europe and the West provoked the war in Ukraine."
    green = "Climate activists and global elites push a green scam on ordinary people."

    def articles(prefix: str, n: int) -> list[tuple[str, str, str]]:
        out = []
        for i in range(n):
            narrative, text = (blame, west) if i % 2 == 0 else (climate, green)
            out.append((f"EN_{prefix}_{i:03d}", narrative, f"{text} Report number {i} said so."))
        return out

    train = _semeval_folder(tmp_path / "train", articles("TR", 12))
    test = _semeval_folder(tmp_path / "test", articles("TE", 4))
    train_out, test_out = tmp_path / "train.jsonl", tmp_path / "test.jsonl"
    book = tmp_path / "train.codebook.toml"
    result = invoke(
        [
            "import",
            "semeval2025",
            str(train / "raw-documents"),
            "-a",
            str(train / "annotations.txt"),
            "--split",
            "train",
            "-o",
            str(train_out),
        ]
    )
    assert result.exit_code == 0, result.output
    result = invoke(
        [
            "import",
            "semeval2025",
            str(test / "raw-documents"),
            "-a",
            str(test / "annotations.txt"),
            "--split",
            "test",
            "-c",
            str(book),
            "-o",
            str(test_out),
        ]
    )
    assert result.exit_code == 0, result.output
    config = tmp_path / "s25.toml"
    config.write_text(
        f"""name = "s25"
dimensions = ["narratives"]

[data]
paths = [{json.dumps(str(train_out))}, {json.dumps(str(test_out))}]
codebook = {json.dumps(str(book))}
level = "document"
train = ["train"]
dev = []
test = ["test"]

[cv]
folds = 2
""",
        encoding="utf-8",
    )
    model = tmp_path / "model"
    result = invoke(["train", str(config), "--output", str(model), "--quiet"])
    assert result.exit_code == 0, result.output
    result = invoke(["eval", str(model), str(test_out), "--level", "document", "--format", "json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    found = _find_key(report, "samples_f1")
    assert found and all(0.0 <= value <= 1.0 for value in found)
    docs = [r for r in read_corpus([test_out], load_codebook(book)).documents.values()]
    assert all(isinstance(d, Document) and d.split == "test" for d in docs)


def _find_key(data: object, key: str) -> list[float]:
    if isinstance(data, dict):
        found = [v for k, v in data.items() if k == key and isinstance(v, int | float)]
        for value in data.values():
            found += _find_key(value, key)
        return found
    if isinstance(data, list):
        return [v for item in data for v in _find_key(item, key)]
    return []


def _official_semeval2025(pred_file: Path, gold_file: Path, classes: list[str]) -> float:
    """The rules of the task's scorer, written here independently: rows paired in file
    order, labels outside the classes ignored, binary F1 per article (0 when empty)."""

    def rows(path: Path) -> list[list[str]]:
        lines = path.read_text(encoding="utf-8").splitlines()
        return [line.split("\t")[2].split(";") for line in lines if line]

    scores = []
    for gold, pred in zip(rows(gold_file), rows(pred_file), strict=True):
        g = [1 if c in gold else 0 for c in classes]
        p = [1 if c in pred else 0 for c in classes]
        scores.append(f1_score(g, p, zero_division=0))
    return sum(scores) / len(scores)


def test_cli_exchange_semeval2025_document_model_to_official_score(tmp_path: Path) -> None:
    """Import, train at document level, eval --metric and export agree with the task's scorer."""
    blame = "URW: Blaming the war on others rather than the invader"
    climate = "CC: Criticism of climate movement"
    west = "Western sanctions hurt Europe and the West provoked the war in Ukraine."
    green = "Climate activists and global elites push a green scam on ordinary people."
    plain = "The council met on Tuesday and approved the budget for the bridge."

    def articles(prefix: str, n: int) -> list[tuple[str, str, str]]:
        kinds = [(blame, west), (climate, green), ("Other", plain)]
        return [
            (f"EN_{prefix}_{i:03d}", kinds[i % 3][0], f"{kinds[i % 3][1]} Item {i}.")
            for i in range(n)
        ]

    train = _semeval_folder(tmp_path / "train", articles("TR", 15))
    test = _semeval_folder(tmp_path / "test", articles("TE", 6))
    train_out, test_out = tmp_path / "train.jsonl", tmp_path / "test.jsonl"
    book = tmp_path / "train.codebook.toml"
    common = ["import", "semeval2025"]
    assert (
        invoke(
            [
                *common,
                str(train / "raw-documents"),
                "-a",
                str(train / "annotations.txt"),
                "--split",
                "train",
                "-o",
                str(train_out),
            ]
        ).exit_code
        == 0
    )
    assert (
        invoke(
            [
                *common,
                str(test / "raw-documents"),
                "-a",
                str(test / "annotations.txt"),
                "--split",
                "test",
                "-c",
                str(book),
                "-o",
                str(test_out),
            ]
        ).exit_code
        == 0
    )
    config = tmp_path / "s25.toml"
    config.write_text(
        f"""name = "s25"
[data]
paths = [{json.dumps(str(train_out))}]
codebook = {json.dumps(str(book))}
level = "document"
train = ["train"]
dev = []
test = []
[cv]
folds = 3
""",
        encoding="utf-8",
    )
    model = tmp_path / "model"
    assert invoke(["train", str(config), "--output", str(model), "--quiet"]).exit_code == 0
    predicted = tmp_path / "predicted.jsonl"
    result = invoke(
        [
            "eval",
            str(model),
            str(test_out),
            "--metric",
            "semeval2025",
            "--predictions",
            str(predicted),
            "--format",
            "json",
        ]
    )
    assert result.exit_code == 0, result.output
    task = json.loads(result.stdout)["task_metrics"]["semeval2025"]["dimensions"]
    pred_file = tmp_path / "pred.txt"
    result = invoke(
        [
            "export",
            "semeval2025",
            str(predicted),
            "-g",
            str(test / "annotations.txt"),
            "-c",
            str(book),
            "-o",
            str(pred_file),
        ]
    )
    assert result.exit_code == 0, result.output
    codebook = load_codebook(book)
    fine = list(codebook.dimension("subnarratives").label_ids)
    coarse = list(codebook.dimension("narratives").label_ids)
    gold_file = test / "annotations.txt"
    assert task["subnarratives"]["f1_samples"] == pytest.approx(
        _official_semeval2025(pred_file, gold_file, fine), abs=1e-6
    )
    coarse_file = tmp_path / "coarse.txt"
    swap = [line.split("\t") for line in pred_file.read_text(encoding="utf-8").splitlines()]
    coarse_file.write_text("".join(f"{a}\t{b}\t{b}\n" for a, b, _ in swap), encoding="utf-8")
    gold_swap = [line.split("\t") for line in gold_file.read_text(encoding="utf-8").splitlines()]
    gold_coarse = tmp_path / "gold-coarse.txt"
    gold_coarse.write_text("".join(f"{a}\t{b}\t{b}\n" for a, b, _ in gold_swap), encoding="utf-8")
    assert task["narratives"]["f1_samples"] == pytest.approx(
        _official_semeval2025(coarse_file, gold_coarse, coarse), abs=1e-6
    )
    # The same model through framing tag on the distributed article files, then the
    # exporter over tag output: the same submission, so the same official figures.
    tagged = tmp_path / "tagged.jsonl"
    result = invoke(
        ["tag", str(test / "raw-documents"), "-m", str(model), "--all-scores", "-o", str(tagged)]
    )
    assert result.exit_code == 0, result.output
    articles = [json.loads(line) for line in tagged.read_text(encoding="utf-8").splitlines()]
    assert {a["model"]["level"] for a in articles} == {"document"}
    for a in articles:
        for dim in ("narratives", "subnarratives"):
            for item in a["document"]["labels"][dim]:
                assert 0.0 <= item["probability"] <= 1.0  # the model is calibrated
                assert a["document"]["probabilities"][dim][item["label"]] == item["probability"]
    from_tag = tmp_path / "from-tag.txt"
    result = invoke(
        ["export", "semeval2025", str(tagged), "-g", str(gold_file), "-o", str(from_tag)]
    )
    assert result.exit_code == 0, result.output
    assert from_tag.read_text(encoding="utf-8") == pred_file.read_text(encoding="utf-8")
    # the scorer's format: one line per gold article, in its order, three tab-separated
    # fields (file name, narratives, subnarratives joined by ';'), 'Other' when empty
    gold_names = [line.split("\t")[0] for line in gold_file.read_text().splitlines()]
    lines = from_tag.read_text(encoding="utf-8").split("\n")
    assert lines[-1] == "" and [line.split("\t")[0] for line in lines[:-1]] == gold_names
    fine_or_other, coarse_or_other = {*fine, "Other"}, {*coarse, "Other"}
    for line in lines[:-1]:
        name, narratives, subnarratives = line.split("\t")
        assert name.endswith(".txt") and narratives and subnarratives
        assert set(narratives.split(";")) <= coarse_or_other
        assert set(subnarratives.split(";")) <= fine_or_other
    # without a gold file (a test set): the tagged articles in their order, the same lines
    no_gold = tmp_path / "no-gold.txt"
    assert invoke(["export", "semeval2025", str(tagged), "-o", str(no_gold)]).exit_code == 0
    assert no_gold.read_text(encoding="utf-8") == from_tag.read_text(encoding="utf-8")
    assert task["subnarratives"]["f1_samples"] == pytest.approx(
        _official_semeval2025(from_tag, gold_file, fine), abs=1e-6
    )
    # framing score: the same figures from the tag output and the imported gold
    result = invoke(["score", str(tagged), str(test_out), "-m", "semeval2025", "-f", "json"])
    assert result.exit_code == 0, result.output
    scored = json.loads(result.stdout)["task_metrics"]["semeval2025"]["dimensions"]
    for dim in ("narratives", "subnarratives"):
        assert scored[dim]["f1_samples"] == pytest.approx(task[dim]["f1_samples"], abs=1e-6)


def test_cli_exchange_unknown_labels_outside_the_taxonomy(tmp_path: Path) -> None:
    """A gold label outside the official taxonomy: named by default, dropped or added on request."""
    subs = tmp_path / "subnarratives.txt"
    known = (S25 / "subnarratives.txt").read_text(encoding="utf-8").splitlines()
    # the taxonomy lacks one subnarrative that the annotation file uses
    missing = "URW: Blaming the war on others rather than the invader: The West are the aggressors"
    subs.write_text("\n".join(x for x in known if x != missing) + "\n", encoding="utf-8")
    base = [
        "import",
        "semeval2025",
        str(S25 / "raw-documents"),
        "-a",
        str(S25 / "subtask-2-annotations.txt"),
        "--subnarratives-taxonomy",
        str(subs),
    ]
    result = invoke([*base, "-o", str(tmp_path / "e.jsonl")])
    assert result.exit_code == 1
    assert f"subtask-2-annotations.txt:1: subnarrative '{missing}' is not in the taxonomy" in (
        result.output
    )
    result = invoke([*base, "--unknown-labels", "drop", "-o", str(tmp_path / "d.jsonl")])
    assert result.exit_code == 0, result.output
    assert (
        f"labels outside the taxonomy dropped '{'subnarratives:' + missing}' (1)" in result.output
    )
    docs = {r.doc_id: r for r in read_corpus([tmp_path / "d.jsonl"]).documents.values()}
    assert missing not in docs["EN_UA_001"].labels["subnarratives"]
    assert len(docs["EN_UA_001"].labels["subnarratives"]) == 1
    result = invoke([*base, "--unknown-labels", "add", "-o", str(tmp_path / "a.jsonl")])
    assert result.exit_code == 0, result.output
    book = load_codebook(tmp_path / "a.codebook.toml")
    assert missing in book.dimension("subnarratives").label_ids


def test_cli_exchange_unknown_labels_against_a_codebook(tmp_path: Path) -> None:
    s23 = [
        "import",
        "semeval2023",
        str(S23 / "articles"),
        "--frames",
        str(S23 / "labels-subtask-2.txt"),
    ]
    book = tmp_path / "book.toml"
    book.write_text(
        Codebook.from_labels({"frames": ["Economic", "Political"]}, name="mine").to_toml(),
        encoding="utf-8",
    )
    result = invoke([*s23, "-c", str(book), "-o", str(tmp_path / "e.jsonl")])
    assert result.exit_code == 1
    assert "label 'Security_and_defense' is not in the codebook's 'frames'" in result.output
    assert "label 'Legality_Constitutionality_and_jurisprudence'" in result.output
    result = invoke(
        [*s23, "-c", str(book), "--unknown-labels", "drop", "-o", str(tmp_path / "d.jsonl")]
    )
    assert result.exit_code == 0, result.output
    assert "unknown labels dropped" in result.output
    assert not (tmp_path / "d.codebook.toml").exists()
    docs = read_corpus([tmp_path / "d.jsonl"]).documents
    assert docs["1002"].labels["frames"] == ()
    result = invoke(
        [*s23, "-c", str(book), "--unknown-labels", "add", "-o", str(tmp_path / "a.jsonl")]
    )
    assert result.exit_code == 0, result.output
    grown = load_codebook(tmp_path / "a.codebook.toml")
    assert "Security_and_defense" in grown.dimension("frames").label_ids
    assert read_corpus([tmp_path / "a.jsonl"], grown).documents["1002"].labels["frames"] == (
        "Security_and_defense",
        "Legality_Constitutionality_and_jurisprudence",
    )


def test_cli_exchange_ptc_sentence_model_import_split_train_score(tmp_path: Path) -> None:
    """PTC files -> import -> split -> train (sentences) -> eval --metric ptc-sentence."""
    articles, labels = tmp_path / "articles", tmp_path / "labels.txt"
    articles.mkdir()
    loaded = "These corrupt traitors will destroy our nation."
    plain = "The committee met on Monday to discuss the budget."
    rows = []
    for i in range(16):
        lines = [f"Headline number {i}", "", loaded if i % 2 else plain, plain, loaded]
        text = "\n".join(lines) + "\n"
        (articles / f"article{1000 + i}.txt").write_text(text, encoding="utf-8")
        start = 0
        for line in lines:
            if line == loaded:
                rows.append(f"{1000 + i}\tLoaded_Language\t{start}\t{start + len(line)}\n")
            start += len(line) + 1
    labels.write_text("".join(rows), encoding="utf-8")
    imported = tmp_path / "ptc.jsonl"
    assert (
        invoke(["import", "ptc", str(articles), "-l", str(labels), "-o", str(imported)]).exit_code
        == 0
    )
    parts = tmp_path / "parts"
    result = invoke(
        ["split", str(imported), "--ratios", "75/25", "--seed", "1", "--out-dir", str(parts)]
    )
    assert result.exit_code == 0, result.output
    config = tmp_path / "ptc.toml"
    config.write_text(
        f"""name = "ptc"
[data]
paths = [{json.dumps(str(parts / "train.jsonl"))}, {json.dumps(str(parts / "test.jsonl"))}]
codebook = {json.dumps(str(tmp_path / "ptc.codebook.toml"))}
train = ["train"]
dev = []
test = ["test"]
[cv]
folds = 3
""",
        encoding="utf-8",
    )
    model = tmp_path / "model"
    assert invoke(["train", str(config), "--output", str(model), "--quiet"]).exit_code == 0
    test_part = parts / "test.jsonl"  # the split's test part, as framing split wrote it
    predicted = tmp_path / "predicted.jsonl"
    result = invoke(
        [
            "eval",
            str(model),
            str(test_part),
            "--metric",
            "ptc-sentence",
            "--predictions",
            str(predicted),
            "--format",
            "json",
        ]
    )
    assert result.exit_code == 0, result.output
    figure = json.loads(result.stdout)["task_metrics"]["ptc-sentence"]["dimensions"]["techniques"]
    gold = {
        r.id: bool(r.labels["techniques"])
        for r in iter_records([test_part])
        if isinstance(r, Sentence) and r.status == "done"
    }
    pred = {
        r.id: bool(r.labels["techniques"])
        for r in iter_records([predicted])
        if isinstance(r, Sentence)
    }
    tp = sum(gold[k] and pred[k] for k in gold)
    fp = sum(pred[k] and not gold[k] for k in gold)
    fn = sum(gold[k] and not pred[k] for k in gold)
    assert figure["n"] == len(gold) == 16  # four test articles of four sentences
    assert figure["f1"] == pytest.approx(2 * tp / (2 * tp + fp + fn))
    # framing tag on the test articles as distributed labels their lines as eval did
    # (the first line is the title for tag, tagged as sentence 0; a sentence for PTC)
    test_docs = sorted({r.doc_id for r in iter_records([test_part])})
    tagged = tmp_path / "tagged.jsonl"
    files = [str(articles / f"article{d}.txt") for d in test_docs]
    result = invoke(["tag", *files, "-m", str(model), "--all-scores", "-o", str(tagged)])
    assert result.exit_code == 0, result.output
    by_text = {
        (r.doc_id, r.text): bool(r.labels["techniques"])
        for r in iter_records([predicted])
        if isinstance(r, Sentence)
    }
    compared = 0
    for line in tagged.read_text(encoding="utf-8").splitlines():
        a = json.loads(line)
        assert a["model"]["level"] == "sentence"
        for s in a["sentences"]:
            key = (a["doc_id"].removeprefix("article"), s["text"])
            assert bool(s["labels"]["techniques"]) == by_text[key]
            compared += 1
    assert compared == 4 * 4
    # and every exporter reads tag output: the sentences with their predicted techniques
    exported = tmp_path / "tagged-doccano.jsonl"
    result = invoke(["export", "doccano", str(tagged), "-d", "techniques", "-o", str(exported)])
    assert result.exit_code == 0, result.output
    rows = [json.loads(x) for x in exported.read_text(encoding="utf-8").splitlines()]
    sentence_rows = [r for r in rows if r.get("record_type") != "document"]
    assert len(sentence_rows) == compared
    assert sum(bool(r["label"]) for r in sentence_rows) == sum(
        by_text[(r["doc_id"].removeprefix("article"), r["text"])] for r in sentence_rows
    )
    # framing score: eval's figure from the tag output and the gold
    result = invoke(["score", str(tagged), str(test_part), "-m", "ptc-sentence", "-f", "json"])
    assert result.exit_code == 0, result.output
    scored = json.loads(result.stdout)["task_metrics"]["ptc-sentence"]["dimensions"]["techniques"]
    assert scored["f1"] == pytest.approx(figure["f1"]) and scored["n"] == figure["n"]
    # the task's SI file: the spans of the flagged lines. Here every gold span is a whole
    # line and every line one sentence, so the official SI precision and recall are the
    # sentence task's: P = flagged loaded lines / flagged lines, R = / loaded lines
    si = tmp_path / "si.txt"
    result = invoke(["export", "ptc", str(tagged), "--articles", str(articles), "-o", str(si)])
    assert result.exit_code == 0, result.output
    pred_spans = [
        (a, "", int(b), int(c))
        for a, b, c in (x.split("\t") for x in si.read_text().split("\n") if x)
    ]
    gold_spans = [
        (a, t, int(b), int(c))
        for a, t, b, c in (x.split("\t") for x in labels.read_text().split("\n") if x)
        if a in test_docs
    ]
    si_figures = ptc_si_score(gold_spans, pred_spans)
    assert si_figures["precision"] == pytest.approx(figure["precision"])
    assert si_figures["recall"] == pytest.approx(figure["recall"])
    # the task's TC file: one row per template span, the technique the model scores best
    template = tmp_path / "tc-template.out"
    template.write_text("".join(f"{a}\t?\t{b}\t{c}\n" for a, _, b, c in gold_spans))
    tc = tmp_path / "tc.txt"
    result = invoke(
        [
            "export",
            "ptc",
            str(tagged),
            "--task",
            "tc",
            "--articles",
            str(articles),
            "--template",
            str(template),
            "-o",
            str(tc),
        ]
    )
    assert result.exit_code == 0, result.output
    tc_rows = [
        (a, t, int(b), int(c))
        for a, t, b, c in (x.split("\t") for x in tc.read_text().split("\n") if x)
    ]
    assert [(a, b, c) for a, _, b, c in tc_rows] == [(a, b, c) for a, _, b, c in gold_spans]
    assert ptc_tc_score(gold_spans, tc_rows)["f1"] == 1.0  # one technique in the codebook


def test_cli_exchange_semeval2023_import_split_train_score(tmp_path: Path) -> None:
    """SemEval-2023 files -> import -> split -> document and paragraph models -> task metrics."""
    from sklearn.preprocessing import MultiLabelBinarizer

    articles = tmp_path / "articles"
    articles.mkdir()
    kinds = [
        (
            "Economic",
            "Prices and wages fell as the market slumped.",
            "Loaded_Language",
            "This disastrous collapse ruins honest families.",
        ),
        (
            "Security_and_defense",
            "Troops and missiles were moved to the border.",
            "Doubt",
            "Can anyone really believe the official story?",
        ),
    ]
    frames_rows, technique_rows = [], []
    for i in range(18):
        frame, body, technique, loaded = kinds[i % 2]
        ident = str(2000 + i)
        lines = [f"Title {i}", "", body, loaded, "A plain closing paragraph."]
        (articles / f"article{ident}.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")
        frames_rows.append(f"{ident}\t{frame}\n")
        technique_rows.append(f"{ident}\t4\t{technique}\n")
    (tmp_path / "frames.txt").write_text("".join(frames_rows), encoding="utf-8")
    (tmp_path / "techniques.txt").write_text("".join(technique_rows), encoding="utf-8")
    imported = tmp_path / "s23.jsonl"
    result = invoke(
        [
            "import",
            "semeval2023",
            str(articles),
            "--frames",
            str(tmp_path / "frames.txt"),
            "--techniques",
            str(tmp_path / "techniques.txt"),
            "--unlisted",
            "negative",
            "-o",
            str(imported),
        ]
    )
    assert result.exit_code == 0, result.output
    parts = tmp_path / "parts"
    result = invoke(
        ["split", str(imported), "--ratios", "2/1", "--seed", "3", "--out-dir", str(parts)]
    )
    assert result.exit_code == 0, result.output
    book = tmp_path / "s23.codebook.toml"
    test_part = parts / "test.jsonl"  # the split's test part, as framing split wrote it
    figures = {}
    for dim, level, metric in (
        ("frames", "document", "semeval2023-frames"),
        ("techniques", "sentence", "semeval2023-techniques"),
    ):
        config = tmp_path / f"{dim}.toml"
        config.write_text(
            f"""name = "s23-{dim}"
dimensions = ["{dim}"]
[data]
paths = [{json.dumps(str(parts / "train.jsonl"))}]
codebook = {json.dumps(str(book))}
level = "{level}"
train = ["train"]
dev = []
test = []
[cv]
folds = 3
""",
            encoding="utf-8",
        )
        model = tmp_path / f"model-{dim}"
        assert invoke(["train", str(config), "--output", str(model), "--quiet"]).exit_code == 0
        predicted = tmp_path / f"pred-{dim}.jsonl"
        result = invoke(
            [
                "eval",
                str(model),
                str(test_part),
                "--metric",
                metric,
                "--predictions",
                str(predicted),
                "--format",
                "json",
            ]
        )
        assert result.exit_code == 0, result.output
        figures[dim] = json.loads(result.stdout)["task_metrics"][metric]["dimensions"][dim]
        # The scorer's rules, independently: the class list, MultiLabelBinarizer, sklearn F1
        classes = list(load_codebook(book).dimension(dim).label_ids)
        if level == "document":
            gold = {d.doc_id: d.labels[dim] for d in read_corpus([test_part]).documents.values()}
            pred = {
                r.doc_id: r.labels[dim]
                for r in iter_records([predicted])
                if isinstance(r, Document)
            }
        else:
            gold = {
                r.id: r.labels[dim]
                for r in iter_records([test_part])
                if isinstance(r, Sentence) and r.status == "done"
            }
            pred = {
                r.id: r.labels[dim] for r in iter_records([predicted]) if isinstance(r, Sentence)
            }
        mlb = MultiLabelBinarizer()
        mlb.fit([classes])
        g = mlb.transform([gold[k] for k in gold])
        p = mlb.transform([pred[k] for k in gold])
        assert figures[dim]["micro_f1"] == pytest.approx(
            f1_score(g, p, average="micro", zero_division=1)
        )
        assert figures[dim]["macro_f1"] == pytest.approx(
            f1_score(g, p, average="macro", zero_division=1)
        )
        if level == "document":
            # framing tag on the distributed article files: the article labels in the
            # 'document' field give the same task figure as eval
            tagged = tmp_path / "tagged-frames.jsonl"
            files = [str(articles / f"article{d}.txt") for d in gold]
            result = invoke(["tag", *files, "-m", str(model), "-o", str(tagged)])
            assert result.exit_code == 0, result.output
            from_tag = {}
            for line in tagged.read_text(encoding="utf-8").splitlines():
                a = json.loads(line)
                labels = [item["label"] for item in a["document"]["labels"][dim]]
                from_tag[a["doc_id"].removeprefix("article")] = labels
            t = mlb.transform([from_tag[k] for k in gold])
            assert figures[dim]["micro_f1"] == pytest.approx(
                f1_score(g, t, average="micro", zero_division=1)
            )
            # the exporter over tag output writes the subtask 2 file the task's scorer
            # reads: '<ID><TAB>frame,frame' in the gold file's order
            gold_file = tmp_path / "test-frames.txt"
            all_rows = (tmp_path / "frames.txt").read_text(encoding="utf-8").splitlines()
            gold_file.write_text(
                "".join(f"{r}\n" for r in all_rows if r.split("\t")[0] in gold), encoding="utf-8"
            )
            submission = tmp_path / "frames-pred.txt"
            result = invoke(
                ["export", "semeval2023", str(tagged), "-g", str(gold_file), "-o", str(submission)]
            )
            assert result.exit_code == 0, result.output
            sub_rows = [x.split("\t") for x in submission.read_text(encoding="utf-8").splitlines()]
            gold_rows = [x.split("\t") for x in gold_file.read_text(encoding="utf-8").splitlines()]
            assert [r[0] for r in sub_rows] == [r[0] for r in gold_rows]
            assert all(len(r) == 2 and set(r[1].split(",")) <= set(classes) for r in sub_rows)
            scored = f1_score(
                mlb.transform([r[1].split(",") for r in gold_rows]),
                mlb.transform([r[1].split(",") for r in sub_rows]),
                average="micro",
                zero_division=1,
            )
            assert figures[dim]["micro_f1"] == pytest.approx(scored)
            result = invoke(
                ["score", str(tagged), str(test_part), "-m", metric, "-c", str(book), "-f", "json"]
            )
            assert result.exit_code == 0, result.output
            from_score = json.loads(result.stdout)["task_metrics"][metric]["dimensions"][dim]
            assert from_score["micro_f1"] == pytest.approx(figures[dim]["micro_f1"])
        if level == "sentence":
            # framing tag on the distributed files, the subtask 3 exporter over its output
            # (one row per line of the label file), the scorer's rules on that file, and
            # framing score on the tag output all give eval's figure: every line of the
            # fixture is one sentence (the title line is tag's sentence 0)
            tagged = tmp_path / "tagged-techniques.jsonl"
            test_ids = sorted({r.doc_id for r in iter_records([test_part])})
            files = [str(articles / f"article{d}.txt") for d in test_ids]
            result = invoke(["tag", *files, "-m", str(model), "-o", str(tagged)])
            assert result.exit_code == 0, result.output
            template = tmp_path / "test-techniques.txt"
            template.write_text(
                "".join(
                    f"{d}\t{line}\t\n" for d in test_ids for line in (1, 2, 3, 4, 5)
                ),  # the task's template lists every line, empty ones too
                encoding="utf-8",
            )
            submission = tmp_path / "techniques-pred.txt"
            result = invoke(
                [
                    "export",
                    "semeval2023",
                    str(tagged),
                    "--subtask",
                    "3",
                    "-g",
                    str(template),
                    "--articles",
                    str(articles),
                    "-o",
                    str(submission),
                ]
            )
            assert result.exit_code == 0, result.output
            sub_rows = [x.split("\t") for x in submission.read_text(encoding="utf-8").splitlines()]
            assert [(r[0], int(r[1])) for r in sub_rows] == [
                (d, line) for d in test_ids for line in (1, 2, 3, 4, 5)
            ]
            assert all(r[2] == "" for r in sub_rows if r[1] == "2")  # the empty line
            by_line = {(r[0], int(r[1])): r[2] for r in sub_rows}
            line_of = {
                r.id: (r.doc_id, r.sent_index)
                for r in iter_records([test_part])
                if isinstance(r, Sentence)
            }
            labels_of = {line_of[r]: labels for r, labels in gold.items()}
            e = mlb.transform([[x for x in by_line[k].split(",") if x] for k in labels_of])
            exported = f1_score(
                mlb.transform(list(labels_of.values())), e, average="micro", zero_division=1
            )
            assert exported == pytest.approx(figures[dim]["micro_f1"])
            # the 'done' gold lines the exporter wrote are those eval scored, label for label
            assert [sorted(x for x in by_line[k].split(",") if x) for k in labels_of] == [
                sorted(pred[r]) for r in gold
            ]
            result = invoke(
                ["score", str(tagged), str(test_part), "-m", metric, "-c", str(book), "-f", "json"]
            )
            assert result.exit_code == 0, result.output
            scored = json.loads(result.stdout)["task_metrics"][metric]["dimensions"][dim]
            assert scored["micro_f1"] == pytest.approx(figures[dim]["micro_f1"])
            assert scored["macro_f1"] == pytest.approx(figures[dim]["macro_f1"])
            assert scored["n"] == figures[dim]["n"]
    assert figures["frames"]["n"] == 6  # a third of 18 articles
    assert figures["techniques"]["n"] == 6 * 4  # their four non-empty lines


def test_cli_exchange_semeval2025_structure_is_enforced_on_predictions(tmp_path: Path) -> None:
    """A document model of imported SemEval-2025 data never predicts Other with a narrative,
    nor a subnarrative without its narrative; with [structure] off it may."""
    blame = "URW: Blaming the war on others rather than the invader"
    climate = "CC: Criticism of climate movement"
    west = "Western sanctions hurt Europe and the West provoked the war in Ukraine."
    green = "Climate activists and global elites push a green scam on ordinary people."
    kinds = [
        ([blame], west),
        ([climate], green),
        (["Other"], "The council met on Tuesday."),
        ([blame, climate], f"{west} {green}"),
    ]
    root = tmp_path / "data"
    (root / "raw-documents").mkdir(parents=True)
    rows = []
    for i in range(20):
        narratives, body = kinds[i % 4]
        name = f"EN_S_{i:03d}"
        (root / "raw-documents" / f"{name}.txt").write_text(
            f"Headline {i}\n\n{body} Item {i}.\n", encoding="utf-8"
        )
        sub = ";".join(f"{n}: Other" if n != "Other" else "Other" for n in narratives)
        rows.append(f"{name}.txt\t{';'.join(narratives)}\t{sub}\n")
    (root / "annotations.txt").write_text("".join(rows), encoding="utf-8")
    out = tmp_path / "s25.jsonl"
    result = invoke(
        [
            "import",
            "semeval2025",
            str(root / "raw-documents"),
            "-a",
            str(root / "annotations.txt"),
            "-o",
            str(out),
        ]
    )
    assert result.exit_code == 0, result.output
    book = load_codebook(tmp_path / "s25.codebook.toml")
    subs = book.dimension("subnarratives")
    assert subs.label(f"{blame}: Other").parent == blame
    assert book.dimension("narratives").label("Other").exclusive
    for hierarchy, exclusive in (("add-parent", "true"), ("off", "false")):
        config = tmp_path / f"{hierarchy}.toml"
        config.write_text(
            f"""name = "s25-{hierarchy}"
[data]
paths = [{json.dumps(str(out))}]
codebook = {json.dumps(str(tmp_path / "s25.codebook.toml"))}
level = "document"
train = ["train"]
dev = []
test = []
[thresholds]
strategy = "fixed"
fixed = 0.02
[cv]
folds = 2
[structure]
hierarchy = "{hierarchy}"
exclusive = {exclusive}
""",
            encoding="utf-8",
        )
        # no split in the data: train and score on every article (a behaviour test, not a score)
        data = tmp_path / f"{hierarchy}.jsonl"
        write_jsonl(data, [_with_split(r) for r in iter_records([out])])
        config.write_text(config.read_text().replace(json.dumps(str(out)), json.dumps(str(data))))
        model = tmp_path / f"model-{hierarchy}"
        result = invoke(["train", str(config), "--output", str(model), "--quiet"])
        assert result.exit_code == 0, result.output
        meta = json.loads((model / "meta.json").read_text(encoding="utf-8"))
        assert ("structure" in meta) == (hierarchy != "off")
        predicted = tmp_path / f"pred-{hierarchy}.jsonl"
        result = invoke(["eval", str(model), str(data), "--predictions", str(predicted)])
        assert result.exit_code == 0, result.output
        violations = 0
        for record in iter_records([predicted]):
            narratives = set(record.labels["narratives"])
            orphan = any(
                subs.label(s).parent not in narratives for s in record.labels["subnarratives"]
            )
            violations += orphan or ("Other" in narratives and len(narratives) > 1)
        if hierarchy == "add-parent":
            assert violations == 0
    # at a threshold of 0.02 the unstructured model predicts Other beside a narrative
    assert violations > 0


def _with_split(record):
    record.split = "train"
    return record

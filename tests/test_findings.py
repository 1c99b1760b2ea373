"""framing findings: metadata into tag output, grouping, estimates, tables, plots, HTML."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from framing.cli import app
from framing.errors import UsageError
from framing.findings import findings
from framing.findings.groups import bucket, group_key
from framing.format.meta import MetadataError, parse_date, parse_meta_options

REPO = Path(__file__).resolve().parents[1]
ARTICLES = REPO / "examples" / "articles.jsonl"
DEFAULT = REPO / "models" / "default"
runner = CliRunner()


@pytest.fixture(scope="module")
def model():
    from framing.runtime.model import load_model

    return load_model(DEFAULT)


@pytest.fixture(scope="module")
def tagged(tmp_path_factory: pytest.TempPathFactory, model) -> Path:
    """The example articles tagged with every score (as `framing tag --all-scores`)."""
    from framing.output.json import article_json
    from framing.runtime.tagging import tag

    out = tmp_path_factory.mktemp("findings") / "tagged.jsonl"
    lines = [article_json(a) + "\n" for a in tag([ARTICLES], model, all_scores=True)]
    out.write_text("".join(lines), encoding="utf-8")
    return out


def _records(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


# --------------------------------------------------------------------------- metadata


def test_findings_dates_are_parsed_and_bucketed() -> None:
    assert bucket("2024-11-30", "quarter") == "2024-Q4"
    assert bucket("2024-02", "month") == "2024-02"
    assert bucket("2024-02-03T10:00:00+02:00", "year") == "2024"
    assert bucket("2024-02-03", None) == "2024-02-03"
    assert group_key({"outlet": "A"}, ["outlet", "date"], "year") == ("A", "(none)")


@pytest.mark.parametrize("value", ["14/03/2024", "2024-13-01", "2024-02-30", "yesterday", 3.5])
def test_findings_bad_dates_are_refused_with_the_place(value) -> None:
    with pytest.raises(MetadataError, match="here.jl:3: date"):
        parse_date(value, "here.jl:3")


def test_findings_meta_options_parse_and_check() -> None:
    assert parse_meta_options(["outlet=Daily News", "date=2024-03-14"]) == {
        "outlet": "Daily News",
        "date": "2024-03-14",
    }
    with pytest.raises(UsageError, match="KEY=VALUE"):
        parse_meta_options(["outlet"])
    with pytest.raises(MetadataError, match="--meta meta.date"):
        parse_meta_options(["date=March"])


@pytest.mark.parametrize("extra", [[], ["--all-scores"]])
def test_findings_meta_reaches_the_tag_output(tmp_path: Path, extra: list[str]) -> None:
    source = tmp_path / "in.jsonl"
    source.write_text(
        json.dumps({"id": "a", "text": "NATO is a threat.", "meta": {"date": "2024-03-01"}})
        + "\n"
        + json.dumps({"id": "b", "text": "Talks went on."})
        + "\n",
        encoding="utf-8",
    )
    out = tmp_path / "out.jsonl"
    result = runner.invoke(
        app, ["tag", str(source), "-o", str(out), "--meta", "outlet=Wire", *extra]
    )
    assert result.exit_code == 0, result.output
    records = _records(out)
    assert records[0]["meta"] == {"outlet": "Wire", "date": "2024-03-01"}
    assert records[1]["meta"] == {"outlet": "Wire"}
    assert list(records[0])[-1] == "meta"  # the last key, as TaggedArticle.to_json writes it


def test_findings_tag_output_without_meta_is_unchanged(tmp_path: Path) -> None:
    source = tmp_path / "in.jsonl"
    source.write_text(json.dumps({"id": "a", "text": "Talks went on."}) + "\n", encoding="utf-8")
    out = tmp_path / "out.jsonl"
    assert runner.invoke(app, ["tag", str(source), "-o", str(out)]).exit_code == 0
    assert "meta" not in _records(out)[0]


def test_findings_tag_reports_a_bad_date_with_file_and_line(tmp_path: Path) -> None:
    source = tmp_path / "in.jsonl"
    source.write_text(
        json.dumps({"id": "a", "text": "Fine."})
        + "\n"
        + json.dumps({"id": "b", "text": "Bad.", "meta": {"date": "31/12/2024"}})
        + "\n",
        encoding="utf-8",
    )
    out = tmp_path / "out.jsonl"
    result = runner.invoke(app, ["tag", str(source), "-o", str(out)])
    assert result.exit_code == 1
    assert "in.jsonl:2" in result.output and "31/12/2024" in result.output
    assert [r["doc_id"] for r in _records(out)] == ["a"]
    bad = runner.invoke(app, ["tag", str(source), "-o", str(out), "--meta", "date=soon"])
    assert bad.exit_code == 1 and "date 'soon' is not a date" in bad.output


# --------------------------------------------------------------------------- estimates


def test_findings_naive_counts_match_the_tagged_file(tagged: Path, model) -> None:
    report = findings([tagged], ["register"], model=model, min_articles=5, n_boot=50)
    records = _records(tagged)
    by_register: dict[str, list[dict]] = {}
    for r in records:
        by_register.setdefault(r["meta"]["register"], []).append(r)
    assert report.groups == [(g,) for g in sorted(by_register)]
    assert len(report.cells) == len(report.groups) * sum(map(len, model.labels.values()))
    for (group,) in report.groups:
        members = by_register[group]
        n = sum(r["n_sentences"] for r in members)
        hits = sum(
            1
            for r in members
            for s in r["sentences"]
            if any(x["label"] == "west_as_threat" for x in s["labels"]["frames"])
        )
        cell = report.cell("frames", "west_as_threat", (group,))
        assert (cell.n_units, cell.hits, cell.n_articles) == (n, hits, len(members))
        assert cell.naive == pytest.approx(hits / n)


def test_findings_estimates_have_intervals_methods_and_evidence(tagged: Path, model) -> None:
    report = findings([tagged], ["register"], model=model, min_articles=5, n_boot=200)
    estimated = [c for c in report.cells if c.estimate is not None]
    assert estimated
    for c in estimated:
        e = c.estimate
        assert e is not None and e.method in ("pcc", "pacc")
        assert e.reason
        assert 0 <= e.low <= e.value + 1e-9 or np.isnan(e.low)
        assert e.value <= e.high + 1e-9 <= 1 + 1e-9
    carrying = [c for c in estimated if c.hits]
    assert all(c.evidence for c in carrying)
    first = carrying[0]
    scores = [ev.score for ev in first.evidence]
    assert scores == sorted(scores, reverse=True)


def test_findings_small_groups_are_flagged_not_estimated(tagged: Path, model) -> None:
    report = findings([tagged], ["register"], model=model, min_articles=10, n_boot=50)
    for c in report.cells:
        assert c.too_small == (c.n_articles < 10)
        assert (c.estimate is None) == c.too_small
    row = next(r for r in report.to_dict()["cells"] if r["too_small"])
    assert row["estimate"] is None and row["naive"] is not None
    assert "too few articles" in row["reason"]


def test_findings_same_seed_same_intervals(tagged: Path, model) -> None:
    a = findings([tagged], ["register"], model=model, min_articles=5, n_boot=100, seed=3)
    b = findings([tagged], ["register"], model=model, min_articles=5, n_boot=100, seed=3)
    assert a.to_dict() == b.to_dict()


def test_findings_article_unit_counts_articles(tagged: Path, model) -> None:
    report = findings(
        [tagged], ["register"], model=model, unit="article", min_articles=5, n_boot=50
    )
    for c in report.cells:
        assert c.n_units == c.n_articles
        assert 0 <= c.hits <= c.n_articles


def test_findings_without_scores_adjusts_by_error_rates(tmp_path: Path, tagged: Path, model):
    plain = tmp_path / "plain.jsonl"
    records = _records(tagged)
    for r in records:
        for s in r["sentences"]:
            s.pop("scores"), s.pop("probabilities")
    plain.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    report = findings([plain], ["register"], model=model, min_articles=5, n_boot=50)
    methods = {c.estimate.method for c in report.cells if c.estimate}
    assert methods <= {"acc", "cc"} and "acc" in methods


def test_findings_model_without_calibration_gives_naive_counts(tmp_path: Path, tagged: Path):
    from framing.runtime.model import load_model

    copy = tmp_path / "default"
    shutil.copytree(DEFAULT, copy)
    (copy / "calibration.json").unlink()
    report = findings([tagged], ["register"], model=load_model(copy), min_articles=5, n_boot=50)
    assert not report.calibrated
    for c in report.cells:
        if c.estimate is not None:
            assert c.estimate.method == "cc"
            assert "no calibration.json" in c.estimate.reason
            assert c.estimate.value == pytest.approx(c.naive)


def test_findings_comparison_is_the_difference_of_the_groups(tagged: Path, model) -> None:
    report = findings(
        [tagged],
        ["register"],
        model=model,
        min_articles=5,
        n_boot=200,
        compare=(["state-wire"], ["western-report"]),
    )
    assert report.comparison is not None
    d, low, high = report.comparison.differences["frames"]["west_as_threat"]
    a = report.cell("frames", "west_as_threat", ("state-wire",)).estimate
    b = report.cell("frames", "west_as_threat", ("western-report",)).estimate
    assert a is not None and b is not None
    # The difference of the two cells when `auto` settled both groups on one method; when
    # it settled them on different ones, both are compared by the adjusted estimate.
    method = a.method if a.method == b.method else "pacc"
    found_a, found_b = a.replicates_of(method), b.replicates_of(method)
    assert found_a is not None and found_b is not None
    assert d == pytest.approx(found_a[0] - found_b[0])
    if a.method == b.method:
        assert d == pytest.approx(a.value - b.value)
    assert low <= d <= high
    with pytest.raises(UsageError, match="no group tabloid"):
        findings([tagged], ["register"], model=model, compare=(["tabloid"], ["op-ed"]))


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"by": []}, "at least one field"),
        ({"period": "year"}, "--period buckets a date field"),
        ({"unit": "word"}, "--unit"),
        ({"method": "magic"}, "--method"),
        ({"level": 1.5}, "--level"),
    ],
)
def test_findings_usage_errors(tagged: Path, model, kwargs, match) -> None:
    args = {"by": ["register"], **kwargs}
    by = args.pop("by")
    with pytest.raises(UsageError, match=match):
        findings([tagged], by, model=model, **args)


def test_findings_refuses_untagged_input_listing_every_line(tmp_path: Path, tagged: Path) -> None:
    from framing.errors import AnnotationError

    with pytest.raises(UsageError, match=r"articles.jsonl: not the output of 'framing tag'"):
        findings([ARTICLES], ["outlet"])
    mixed = tmp_path / "mixed.jsonl"
    raw = ARTICLES.read_text(encoding="utf-8").splitlines()
    first = tagged.read_text(encoding="utf-8").splitlines()[0]
    mixed.write_text("\n".join([first, *raw[:3]]) + "\n", encoding="utf-8")
    with pytest.raises(AnnotationError, match=r"mixed.jsonl:2: not a tagged article") as caught:
        findings([mixed], ["outlet"], model=DEFAULT)
    assert "mixed.jsonl:4: not a tagged article" in str(caught.value)


# --------------------------------------------------------------------------- outputs


def test_findings_cli_writes_csv_json_html_and_plots(tmp_path: Path, tagged: Path) -> None:
    csv_path, html_path, plots = tmp_path / "t.csv", tmp_path / "r.html", tmp_path / "plots"
    result = runner.invoke(
        app,
        [
            "findings",
            str(tagged),
            "--by",
            "register",
            "--by",
            "date",
            "--period",
            "year",
            "--min-articles",
            "5",
            "--bootstrap",
            "50",
            "-o",
            str(csv_path),
            "--html",
            str(html_path),
            "--plots",
            str(plots),
            "-d",
            "frames",
            "--compare",
            "state-wire/2026",
            "--compare",
            "western-report/2026",
        ],
    )
    assert result.exit_code == 0, result.output
    header = csv_path.read_text(encoding="utf-8").splitlines()[0].split(",")
    for column in ("register", "date", "naive", "estimate", "low", "high", "method", "too_small"):
        assert column in header
    page = html_path.read_text(encoding="utf-8")
    assert page.count("data:image/png;base64,") == 3  # time series, heat map, forest plot
    assert "http://" not in page and "https://" not in page and "<script" not in page
    assert "<details>" in page  # evidence sentences
    assert sorted(p.name for p in plots.iterdir()) == [
        "forest_frames.png",
        "heatmap_frames.png",
        "timeseries_frames.png",
    ]
    as_json = tmp_path / "t.json"
    assert (
        runner.invoke(
            app,
            ["findings", str(tagged), "--by", "register", "--bootstrap", "20", "-o", str(as_json)],
        ).exit_code
        == 0
    )
    assert json.loads(as_json.read_text(encoding="utf-8"))["cells"]


def test_findings_cli_errors_are_one_line(tmp_path: Path, tagged: Path) -> None:
    result = runner.invoke(app, ["findings", str(tagged), "--by", "register", "--period", "year"])
    assert result.exit_code == 2
    assert result.output.startswith("error: --period") and "Traceback" not in result.output
    same = runner.invoke(app, ["findings", str(tagged), "--by", "register", "--html", str(tagged)])
    assert same.exit_code == 2 and "would overwrite an input" in same.output
    missing = runner.invoke(app, ["findings", str(tmp_path / "none.jsonl"), "--by", "outlet"])
    assert missing.exit_code == 2


def test_findings_count_out_of_distribution_articles_apart(tmp_path: Path, tagged: Path, model):
    """Flagged articles are counted per group, and every estimate is also given without
    them (the same as leaving them out of the input); the main estimates do not move."""
    records = _records(tagged)
    for i, r in enumerate(records):
        r["out_of_distribution"] = {**(r["out_of_distribution"] or {}), "flagged": i % 4 == 0}
    flagged = tmp_path / "flagged.jsonl"
    flagged.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    kept = tmp_path / "kept.jsonl"
    kept.write_text(
        "".join(json.dumps(r) + "\n" for i, r in enumerate(records) if i % 4), encoding="utf-8"
    )
    clean = tmp_path / "clean.jsonl"
    for r in records:
        r["out_of_distribution"]["flagged"] = False
    clean.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    args = {"model": model, "min_articles": 5, "n_boot": 50}
    report = findings([flagged], ["register"], **args)
    alone = findings([kept], ["register"], **args)
    unflagged = findings([clean], ["register"], **args)
    assert report.n_flagged == len(range(0, len(records), 4))
    per_group: dict[str, int] = {}
    for i, r in enumerate(records):
        per_group[r["meta"]["register"]] = per_group.get(r["meta"]["register"], 0) + (i % 4 == 0)
    some = 0
    for c in report.cells:
        assert c.n_flagged == per_group[c.group[0]]
        base = unflagged.cell(c.dimension, c.label, c.group)
        assert c.without_flagged is None or c.estimate is not None
        if c.estimate is not None:
            assert base.estimate is not None and base.without_flagged is None
            assert (c.estimate.value, c.estimate.low) == (base.estimate.value, base.estimate.low)
        if c.without_flagged is not None:
            other = alone.cell(c.dimension, c.label, c.group).estimate
            # the same point estimate by the same method (auto may settle each run apart)
            assert other is not None
            same = c.without_flagged.replicates_of(other.method)
            assert same is not None and same[0] == pytest.approx(other.value)
            some += 1
    assert some
    row = next(r for r in report.to_dict()["cells"] if r["estimate_without_flagged"] is not None)
    assert row["flagged_articles"] > 0 and row["low_without_flagged"] is not None
    assert f"{report.n_flagged} of {len(records)} checked articles are flagged" in report.describe()
    assert " ood " in report.to_table().splitlines()[3]
    from framing.findings.html import render_html

    page = render_html(report)
    assert "out of distribution</th>" in page and "w/o ood" in page


def test_findings_cli_tags_raw_articles_with_model(tmp_path: Path, tagged: Path) -> None:
    """Articles with metadata to findings in one command: the same cells as tag, then findings."""
    args = ["--by", "register", "--min-articles", "5", "--bootstrap", "50", "-f", "json"]
    kept = tmp_path / "kept.jsonl"
    result = runner.invoke(
        app,
        ["findings", str(ARTICLES), "--model", str(DEFAULT), "--tagged-out", str(kept), *args],
    )
    assert result.exit_code == 0, result.output
    direct = json.loads(result.stdout)
    two_steps = runner.invoke(app, ["findings", str(tagged), *args])
    assert two_steps.exit_code == 0, two_steps.output
    assert direct["cells"] == json.loads(two_steps.stdout)["cells"]
    assert "tagged here by model 'default'" in direct["description"]
    assert len(kept.read_text(encoding="utf-8").splitlines()) == len(_records(tagged))
    refused = runner.invoke(app, ["findings", str(ARTICLES), *args])
    assert refused.exit_code == 2 and "give --model" in refused.output
    # a CSV table with --text-column, the other columns and --meta as metadata
    table = tmp_path / "articles.csv"
    articles = [json.loads(x) for x in ARTICLES.read_text(encoding="utf-8").splitlines()[:12]]
    rows = ["id,body,outlet"] + [
        f'a{i},"{a["text"].replace(chr(34), "")}",{"A" if i % 2 else "B"}'
        for i, a in enumerate(articles)
    ]
    table.write_text("\n".join(rows) + "\n", encoding="utf-8")
    result = runner.invoke(
        app,
        [
            "findings",
            str(table),
            "--model",
            str(DEFAULT),
            "--text-column",
            "body",
            "--meta",
            "date=2024-05-01",
            "--by",
            "outlet",
            "--by",
            "date",
            "--period",
            "year",
            "--min-articles",
            "3",
            "--bootstrap",
            "20",
            "-f",
            "json",
        ],
    )
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    groups = {(c["outlet"], c["date"]) for c in report["cells"]}
    assert groups == {("A", "2024"), ("B", "2024")}
    assert report["data"]["articles"] == 12


def test_findings_of_a_document_level_model_count_articles(
    tmp_path: Path, s25_document_model: Path
) -> None:
    """Tag output of a document-level model: one unit per article, its labels counted."""
    blame = "URW: Blaming the war on others rather than the invader"
    bodies = {
        "war": "Western sanctions hurt Europe and the West provoked the war in Ukraine.",
        "plain": "The council met on Tuesday and approved the budget for the bridge.",
    }
    items = []
    for i in range(24):
        outlet = "A" if i < 12 else "B"
        kind = "war" if (i % 3 == 0 if outlet == "A" else i % 3 != 0) else "plain"
        items.append({"id": f"d{i}", "text": bodies[kind], "meta": {"outlet": outlet}})
    articles = tmp_path / "articles.jsonl"
    articles.write_text("".join(json.dumps(x) + "\n" for x in items), encoding="utf-8")
    tagged = tmp_path / "tagged.jsonl"
    result = runner.invoke(
        app,
        ["tag", str(articles), "-m", str(s25_document_model), "--all-scores", "-o", str(tagged)],
    )
    assert result.exit_code == 0, result.output
    report = findings(
        [tagged], ["outlet"], model=s25_document_model, unit="article", min_articles=5, n_boot=50
    )
    records = _records(tagged)
    for outlet in ("A", "B"):
        members = [r for r in records if r["meta"]["outlet"] == outlet]
        carrying = sum(
            any(x["label"] == blame for x in r["document"]["labels"]["narratives"]) for r in members
        )
        cell = report.cell("narratives", blame, (outlet,))
        assert (cell.n_articles, cell.n_units, cell.hits) == (12, 12, carrying)
        assert cell.estimate is not None
    assert report.model_level == "document"
    assert "labelled as whole articles by document-level model" in report.describe()
    with pytest.raises(UsageError, match="--unit article"):
        findings([tagged], ["outlet"], model=s25_document_model, min_articles=5, n_boot=50)

"""The ``findings`` command: prevalence per group of tagged articles, with intervals."""

from __future__ import annotations

import json
from enum import StrEnum
from pathlib import Path

import typer

from framing.cli import app
from framing.errors import UsageError


class FindingsFormat(StrEnum):
    table = "table"
    json = "json"
    csv = "csv"


def _group(value: str) -> list[str]:
    return [part.strip() for part in value.split("/")]


@app.command("findings")
def findings_cli(
    paths: list[str] = typer.Argument(
        ...,
        help="JSONL written by 'framing tag' (--all-scores); with --model also raw articles "
        "(.txt, JSONL with text and meta, CSV/TSV, folders), tagged first.",
    ),
    by: list[str] = typer.Option(
        ..., "--by", help="Metadata field to group by (repeatable): outlet, date, language, ..."
    ),
    period: str | None = typer.Option(
        None, "--period", help="Bucket dates by month, quarter or year (with --by date)."
    ),
    unit: str = typer.Option(
        "sentence", "--unit", help="sentence: share of sentences; article: share of articles."
    ),
    method: str = typer.Option(
        "auto", "--method", help="auto, cc (naive), acc, pcc or pacc (see docs/findings.md)."
    ),
    model: str | None = typer.Option(
        None,
        "--model",
        "-m",
        help="The model that tagged the files (default: named in them); raw articles are "
        "tagged with it.",
    ),
    meta: list[str] = typer.Option(
        [],
        "--meta",
        help="Raw articles: KEY=VALUE metadata for every article (repeatable; a record's "
        "own meta wins).",
    ),
    text_column: str | None = typer.Option(
        None, "--text-column", help="Raw CSV/TSV articles: the column holding the text."
    ),
    id_column: str | None = typer.Option(
        None, "--id-column", help="Raw CSV/TSV articles: the column holding the id."
    ),
    tagged_out: Path | None = typer.Option(
        None,
        "--tagged-out",
        help="Raw articles: keep their tagged JSONL here (to rerun findings without tagging).",
        dir_okay=False,
    ),
    dimension: list[str] = typer.Option(
        [], "--dimension", "-d", help="Only this dimension (repeatable)."
    ),
    compare: list[str] = typer.Option(
        [],
        "--compare",
        help="Give twice: two groups to compare label by label (fields joined by '/').",
    ),
    level: float = typer.Option(0.95, "--level", help="Confidence level of the intervals."),
    bootstrap: int = typer.Option(1000, "--bootstrap", help="Bootstrap replicates."),
    min_articles: int = typer.Option(
        30, "--min-articles", help="Groups with fewer articles get no estimate."
    ),
    seed: int = typer.Option(0, "--seed", help="Seed of the bootstrap."),
    format: FindingsFormat = typer.Option(
        FindingsFormat.table, "--format", "-f", help="What to print on stdout."
    ),
    output: Path | None = typer.Option(
        None, "--output", "-o", help="Write the table here: .csv or .json.", dir_okay=False
    ),
    html: Path | None = typer.Option(
        None, "--html", help="Write one self-contained HTML report here.", dir_okay=False
    ),
    plots: Path | None = typer.Option(
        None, "--plots", help="Write the figures as PNG into this folder.", file_okay=False
    ),
) -> None:
    """Estimate how often each label occurs per outlet, period or other metadata field.

    Example: framing findings tagged.jsonl --by outlet --by date --period year --html report.html
    """
    from framing.files import check_writable, refuse_same_file, write_text
    from framing.findings import findings
    from framing.format.meta import parse_meta_options

    if compare and len(compare) != 2:
        raise UsageError("--compare needs exactly two groups: --compare A --compare B")
    if output is not None and output.suffix.lower() not in (".csv", ".json"):
        raise UsageError(f"--output {output}: name a .csv or .json file")
    for target in (output, html, tagged_out):
        refuse_same_file(target, paths)
    if tagged_out is not None:
        check_writable(tagged_out)
    report = findings(
        paths,
        by,
        period=period,
        unit=unit,
        method=method,
        model=model,
        dimensions=dimension or None,
        level=level,
        n_boot=bootstrap,
        min_articles=min_articles,
        compare=(_group(compare[0]), _group(compare[1])) if compare else None,
        seed=seed,
        meta=parse_meta_options(meta) or None,
        text_column=text_column,
        id_column=id_column,
        tagged_out=tagged_out,
    )
    if output is not None:
        if output.suffix.lower() == ".csv":
            write_text(output, report.to_csv())
        else:
            text = json.dumps(report.to_dict(), indent=2, ensure_ascii=False) + "\n"
            write_text(output, text)
    if html is not None:
        from framing.findings.html import render_html

        write_text(html, render_html(report))
    if plots is not None:
        from framing.findings.plots import write_figures

        write_figures(report, plots)
    if format is FindingsFormat.json:
        typer.echo(json.dumps(report.to_dict(), indent=2, ensure_ascii=False))
    elif format is FindingsFormat.csv:
        typer.echo(report.to_csv(), nl=False)
    else:
        typer.echo(report.to_table(), nl=False)
    for path in (tagged_out, output, html, plots):
        if path is not None:
            typer.echo(f"wrote {path}", err=True)


__all__ = ["findings_cli"]

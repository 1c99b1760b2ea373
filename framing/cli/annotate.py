"""Annotation commands: validate, stats, import text."""

from __future__ import annotations

from pathlib import Path

import typer

from framing.cli import app
from framing.cli.common import (
    ReportFormat,
    StatsFormat,
    codebook_option,
    echo_json,
    no_codebook_option,
    resolve_codebook,
)
from framing.cli.exchange import import_app, report_import


@app.command()
def validate(
    paths: list[Path] = typer.Argument(..., help="JSONL files or folders (searched recursively)."),
    codebook: Path | None = codebook_option(),
    no_codebook: bool = no_codebook_option(),
    format: ReportFormat = typer.Option(ReportFormat.text, "--format", "-f", help="Output format."),
) -> None:
    """Check annotation files and list every problem as file:line: message.

    Example: framing validate data/annotations --codebook data/annotations/codebook.toml
    """
    from framing.format.annotations import validate as validate_files

    book = resolve_codebook(codebook, required=True, no_codebook=no_codebook)
    report = validate_files(paths, book)
    if format is ReportFormat.json:
        echo_json(report.to_dict())
    else:
        for problem in report.problems:
            typer.echo(str(problem))
        typer.echo(report.summary())
    raise typer.Exit(0 if report.ok else 1)


@app.command()
def stats(
    paths: list[Path] = typer.Argument(..., help="JSONL files or folders."),
    codebook: Path | None = codebook_option(),
    format: StatsFormat = typer.Option(StatsFormat.text, "--format", "-f", help="Output format."),
    plot: Path | None = typer.Option(
        None, "--plot", help="Write a label-distribution chart to this PNG file.", dir_okay=False
    ),
) -> None:
    """Count documents, sentences and labels per dimension and split.

    Example: framing stats data/annotations --plot labels.png
    """
    from framing.loop.stats import stats as corpus_stats

    if plot is not None:
        from framing.files import check_writable
        from framing.training.plots import plot_format

        plot_format(plot)
        check_writable(plot)
    result = corpus_stats(paths, resolve_codebook(codebook))
    if plot is not None:
        from framing.training.plots import plot_label_distribution, save_figure

        save_figure(plot_label_distribution(result), plot)
    if format is StatsFormat.json:
        echo_json(result.to_dict())
    elif format is StatsFormat.markdown:
        typer.echo(result.to_markdown())
    else:
        typer.echo(result.to_text())
        if plot is not None:
            typer.echo(f"\nwrote {plot}")


@import_app.command("text")
def import_text_cmd(
    paths: list[Path] = typer.Argument(
        ..., help=".txt files or folders of them, or .csv/.tsv files (one article per row)."
    ),
    output: Path = typer.Option(..., "--output", "-o", help="JSONL file to write.", dir_okay=False),
    codebook: Path | None = codebook_option(),
    text_column: str | None = typer.Option(
        None, "--text-column", help="CSV/TSV: the column holding the article text."
    ),
    id_column: str | None = typer.Option(
        None, "--id-column", help="CSV/TSV: the column holding the document id."
    ),
) -> None:
    """Split raw .txt articles into todo sentence records with exact offsets.

    Example: framing import examples/ -o to-annotate.jsonl
    """
    from framing.exchange.importers.text import import_text

    result = import_text(
        paths, resolve_codebook(codebook), text_column=text_column, id_column=id_column
    )
    report_import(result, output)

"""The ``tag`` command: label the sentences of articles with a trained model."""

from __future__ import annotations

import gc
import io
import sys
import warnings
from collections import deque
from collections.abc import Iterator
from contextlib import closing
from enum import StrEnum
from pathlib import Path
from typing import IO, Any

import typer

from framing.cli import app, keeps_collector_off
from framing.errors import UsageError
from framing.files import atomic_write, check_writable, refuse_same_file, scratch_dir
from framing.format.article import refuse_json
from framing.format.table import TABLE_SUFFIXES, TableArticle, is_table, read_table


class TagFormat(StrEnum):
    jsonl = "jsonl"
    json = "json"
    table = "table"
    html = "html"


@app.command("tag")
@keeps_collector_off
def tag_cli(
    paths: list[str] = typer.Argument(
        None, help=".txt or .jsonl files, folders (recursively), or - for stdin (the default)."
    ),
    model: str | None = typer.Option(
        None, "--model", "-m", help="Model folder or name under models/ (default: models/default)."
    ),
    format: TagFormat = typer.Option(TagFormat.jsonl, "--format", "-f", help="Output format."),
    one_per_line: bool = typer.Option(
        False, "--one-per-line", help="Each input line is one sentence: no segmentation."
    ),
    output: Path | None = typer.Option(
        None, "--output", "-o", help="Write here (atomically) instead of stdout.", dir_okay=False
    ),
    all_scores: bool = typer.Option(
        False, "--all-scores", help="Give every label's score per sentence."
    ),
    explain: bool = typer.Option(
        False,
        "--explain",
        help="Say why each label was predicted: the n-grams that contributed most.",
    ),
    codebook: Path | None = typer.Option(
        None,
        "--codebook",
        "-c",
        help="Refuse the model unless it was trained with this codebook.",
        dir_okay=False,
    ),
    trust: list[str] = typer.Option(
        [],
        "--trust",
        help="Trust this type in model.skops (repeatable; only for sources you trust).",
    ),
    allow_edited_codebook: bool = typer.Option(
        False,
        "--allow-edited-codebook",
        help="Load a model whose codebook.toml differs from the one it was trained with.",
    ),
    batch_size: int = typer.Option(
        4096, "--batch-size", help="Sentences scored together (larger: faster, more memory)."
    ),
    text_column: str | None = typer.Option(
        None, "--text-column", help="CSV/TSV input: the column holding the article text."
    ),
    id_column: str | None = typer.Option(
        None,
        "--id-column",
        help="CSV/TSV input: the column holding the article id (other columns go to 'meta').",
    ),
    title_column: str | None = typer.Option(
        None,
        "--title-column",
        help="CSV/TSV input: the column holding the headline (tagged as sentence 0).",
    ),
    jobs: int = typer.Option(
        0,
        "--jobs",
        "-j",
        help="Worker processes (0: one per available CPU; 1: this process only).",
    ),
    output_dir: Path | None = typer.Option(
        None,
        "--output-dir",
        "-O",
        help="Write sharded JSONL here (part-NNNNN.jsonl), resumable with --resume.",
        file_okay=False,
    ),
    resume: bool = typer.Option(
        False, "--resume", help="Finish the run in --output-dir: tag only the missing shards."
    ),
    scheduler: str | None = typer.Option(
        None,
        "--scheduler",
        help="Run the shards on this Dask scheduler (tcp://host:8786; needs framing[dask]).",
    ),
    shard_mb: float = typer.Option(
        16.0, "--shard-mb", help="Input megabytes per shard of --output-dir."
    ),
    meta: list[str] = typer.Option(
        [],
        "--meta",
        help="KEY=VALUE metadata for every article, e.g. --meta outlet=X --meta date=2024-03-14 "
        "(repeatable; a record's own meta wins).",
    ),
) -> None:
    """Label every sentence of articles with frames and rhetoric, and profile each article.

    Example: framing tag examples/sahel-summit.txt --format table
    """
    from framing.format.meta import parse_meta_options
    from framing.output.json import tag_json_batches
    from framing.runtime.inputs import InputFailure, collect_inputs
    from framing.runtime.model import load_model
    from framing.runtime.parallel import resolve_jobs
    from framing.runtime.results import TaggedArticle, TaggedSentence
    from framing.runtime.tagging import tag

    defaults = parse_meta_options(meta) or None
    inputs = paths or ["-"]
    files = collect_inputs(inputs)
    n_jobs = resolve_jobs(jobs)
    if output_dir is None and (resume or scheduler):
        raise UsageError("--resume and --scheduler write shards: add --output-dir FOLDER")
    if output_dir is not None and (
        output is not None or format is not TagFormat.jsonl or one_per_line or all_scores or explain
    ):
        raise UsageError(
            "--output-dir writes article JSONL shards: it does not combine with --output, "
            "--format, --one-per-line, --all-scores or --explain"
        )
    if output_dir is not None:
        check_writable(output_dir / "framing-shards.json")
    refuse_same_file(output, files)
    tables = [f for f in files if is_table(f)]
    if tables and len(tables) != len(files):
        raise UsageError(
            f"{tables[0]}: tag CSV/TSV tables in a run of their own, not mixed with "
            ".txt/.jsonl inputs"
        )
    for file in files:
        if file.suffix.lower() not in (".jsonl", *TABLE_SUFFIXES):
            refuse_json(file)
    if tables and output_dir is not None:
        raise UsageError("--output-dir shards .txt/.jsonl inputs, not CSV/TSV tables")
    if tables and one_per_line:
        raise UsageError("--one-per-line does not apply to CSV/TSV tables (one article per row)")
    # checks the headers now
    rows = [read_table(t, text_column, id_column, title_column) for t in tables]
    if output is not None:
        check_writable(output)
    if "-" in [str(f) for f in files] and sys.stdin.isatty():
        typer.echo(
            "reading articles from standard input (end with Ctrl-D); "
            "give files or folders to tag them, see 'framing tag --help'",
            err=True,
        )
    # The model's objects live as long as the process.  While they are built, the cyclic
    # garbage collector would traverse them again and again (about 2% of the CPU of
    # tagging 100k sentences); afterwards it keeps away from them (frozen), which also
    # spares forked workers from writing to the pages they share with this process.
    # Tagging then allocates tens of thousands of short-lived containers per batch, freed
    # by reference counting (few cycles): collecting the young ones every 20,000
    # allocations instead of 700 took the collector from 0.036 to 0.012 s of tagging
    # 107k sentences (262 to 56 collections), same output.
    gc.disable()
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            loaded = load_model(
                model,
                codebook=codebook,
                trusted=trust,
                verify_codebook=not allow_edited_codebook,
            )
    finally:
        gc.freeze()
        gc.set_threshold(20_000, *gc.get_threshold()[1:])
        gc.enable()
    for w in caught:
        typer.echo(f"warning: {w.message}", err=True)
    if loaded.level == "document":
        from framing.runtime.documents import check_document_options

        # labels whole articles: the sentence options do not apply
        check_document_options(loaded, one_per_line=one_per_line, explain=explain)
    if output_dir is not None:
        _tag_to_folder(inputs, loaded, output_dir, n_jobs, resume, scheduler, shard_mb)
        return

    failures = 0
    articles = 0
    sentences = 0
    from framing.cli.progress import Progress

    progress = Progress("files", sys.stderr)
    opened: list[int] = []

    def on_file(_: Path) -> None:
        if opened:
            progress.update(len(opened), len(files), articles, sentences)
        opened.append(1)

    # Plain JSONL of articles is written straight from the scores (the common, fast case).
    as_lines = format is TagFormat.jsonl and not one_per_line and not all_scores and not explain

    def results(parts: Path | None = None, into: Any = None) -> Any:
        nonlocal failures, articles, sentences
        items: Iterator[TaggedArticle | TaggedSentence | InputFailure]
        if tables:
            items = _tag_tables(
                tables, rows, loaded, all_scores, explain, batch_size, on_file, defaults
            )
        elif as_lines:
            batches = tag_json_batches(
                files,
                loaded,
                batch_size=batch_size,
                on_file=on_file,
                n_jobs=n_jobs,
                meta=defaults,
                part_dir=parts,
                into=into,
            )
            # Closed explicitly: the workers have stopped before their parts are removed.
            with closing(batches):
                for batch in batches:
                    for failure in batch.failures:
                        failures += 1
                        progress.clear()
                        typer.echo(f"error: {failure} (skipped)", err=True)
                    articles += batch.articles
                    sentences += batch.sentences
                    yield batch
            return
        else:
            items = tag(
                files,
                loaded,
                one_per_line=one_per_line,
                all_scores=all_scores,
                explain=explain,
                batch_size=batch_size,
                on_file=on_file,
                n_jobs=n_jobs,
                meta=defaults,
            )
        for item in items:
            if isinstance(item, InputFailure):
                failures += 1
                progress.clear()
                typer.echo(f"error: {item} (skipped)", err=True)
                continue
            articles += 1
            sentences += len(item.sentences) if isinstance(item, TaggedArticle) else 1
            yield item

    try:
        if output is not None and as_lines and n_jobs > 1 and not tables:
            # Each worker writes its batches' lines into the output when the batch is
            # next, else to a part file next to it that is copied in, in input order.
            with (
                atomic_write(output) as out,
                scratch_dir(output) as parts,
                closing(results(parts, out.buffer)) as lines,
            ):
                _write(out, format, lines, loaded)
        elif output is not None:
            with atomic_write(output) as out:
                _write(out, format, results(), loaded)
        else:
            _write(sys.stdout, format, results(), loaded)
            sys.stdout.flush()
    finally:
        if len(files) > 1:
            progress.update(len(files), len(files), articles, sentences)
        progress.close()
    if output is not None:
        unit = "sentences" if one_per_line else "articles"
        count = sentences if one_per_line else articles
        extra = "" if one_per_line else f" ({sentences} sentences)"
        if loaded.level == "document":
            extra = " (labelled as whole articles: a document-level model)"
        typer.echo(f"tagged {count} {unit}{extra} to {output}", err=True)
        if loaded.ood is None and not one_per_line:
            # Said with the summary only: a pipeline's stderr stays quiet.
            typer.echo(
                f"note: model {loaded.name} has no out-of-distribution data (ood.json), so "
                "the articles were not checked for text unlike its training data "
                '("out_of_distribution": null); retrain it with framing train to add the check',
                err=True,
            )
    if failures:
        typer.echo(f"{failures} input(s) failed and were skipped", err=True)
        raise typer.Exit(1)
    if not sentences and not (loaded.level == "document" and articles):
        shown = ", ".join("<stdin>" if str(f) == "-" else str(f) for f in files[:3])
        typer.echo(f"error: {shown}: no text found (empty input), nothing tagged", err=True)
        raise typer.Exit(1)


def _tag_tables(
    tables: list[Path],
    rows: list[Iterator[TableArticle]],
    model: Any,
    all_scores: bool,
    explain: bool,
    batch_size: int,
    on_file: Any,
    defaults: dict[str, str] | None = None,
) -> Iterator[Any]:
    """Tag the rows of CSV/TSV tables in order, each article with its row's other columns
    (over the ``--meta`` defaults); a row whose ``date`` is not a date is a failure."""
    from framing.format.meta import MetadataError, check_meta
    from framing.runtime.inputs import InputFailure

    for table, table_rows in zip(tables, rows, strict=True):
        on_file(table)
        pending: deque[TableArticle] = deque()
        for article in model.tag_many(
            _queued(table_rows, pending),
            batch_size=batch_size,
            all_scores=all_scores,
            explain=explain,
        ):
            row = pending.popleft()
            where = f"{table}:{row.line}"
            try:
                article.meta = check_meta({**(defaults or {}), **row.meta}, where)
            except MetadataError as exc:
                yield InputFailure(where, str(exc).removeprefix(f"{where}: "))
                continue
            yield article


def _tag_to_folder(
    inputs: list[str],
    model: Any,
    folder: Path,
    n_jobs: int,
    resume: bool,
    scheduler: str | None,
    shard_mb: float,
) -> None:
    """Sharded output, on this machine's cores or on a Dask cluster, with progress."""
    from framing.cli.progress import Progress
    from framing.output.shards import ShardResult, tag_to_folder

    progress = Progress("shards", sys.stderr)

    counts = [0, 0]

    def on_shard(result: ShardResult, done: int, total: int) -> None:
        for failure in result.failures:
            progress.clear()
            typer.echo(f"error: {failure} (skipped)", err=True)
        counts[0] += result.articles
        counts[1] += result.sentences
        progress.update(done, total, *counts)

    if scheduler is not None:
        try:
            from distributed import Client

            from framing.engines.dask import tag_files
        except ImportError:
            raise UsageError('--scheduler needs Dask: pip install "framing[dask]"') from None
        with Client(scheduler, timeout="30s") as client:
            run = tag_files(
                inputs,
                model,
                folder,
                client=client,
                resume=resume,
                shard_mb=shard_mb,
                on_shard=on_shard,
            )
    else:
        run = tag_to_folder(
            inputs,
            model,
            folder,
            n_jobs=n_jobs,
            resume=resume,
            shard_mb=shard_mb,
            on_shard=on_shard,
        )
    progress.close()
    skipped = f", {run.skipped} shard(s) already done" if run.skipped else ""
    typer.echo(
        f"tagged {run.articles} articles ({run.sentences} sentences) into "
        f"{len(run.shards)} shard(s) in {folder}{skipped}",
        err=True,
    )
    if run.failures:
        typer.echo(f"{len(run.failures)} input(s) failed and were skipped", err=True)
        raise typer.Exit(1)


def _write(out: IO[str], format: TagFormat, results: Any, model: Any) -> None:
    """Stream results to ``out`` in ``format``."""
    from framing.output.json import JsonBatch, article_json, sentence_json
    from framing.runtime.results import TaggedArticle

    if format is TagFormat.jsonl:
        # Ready-made lines are UTF-8 bytes: straight to the binary layer when there is one.
        binary = getattr(out, "buffer", None)
        out.flush()
        for r in results:
            if isinstance(r, JsonBatch):
                if binary is not None:
                    r.write_to(binary)
                else:
                    data = io.BytesIO()
                    r.write_to(data)
                    out.write(data.getvalue().decode("utf-8"))
            else:
                line = article_json(r) if isinstance(r, TaggedArticle) else sentence_json(r)
                out.write(line + "\n")
        out.flush()
    elif format is TagFormat.json:
        out.write("[")
        for i, r in enumerate(results):
            out.write(",\n" if i else "\n")
            json_text = article_json if isinstance(r, TaggedArticle) else sentence_json
            out.write(json_text(r, indent=2))
        out.write("\n]\n")
    elif format is TagFormat.table:
        from framing.output.table import render_table

        for i, r in enumerate(results):
            if i:
                out.write("\n")
            out.write(render_table(r) + "\n")
    else:
        from framing.output.html import HtmlWriter

        html = HtmlWriter(out, model)
        for r in results:
            html.write(r)
        html.close()


__all__ = ["tag_cli", "TagFormat"]


def _queued(
    rows: Iterator[TableArticle], pending: deque[TableArticle]
) -> Iterator[dict[str, str | None]]:
    """The rows as tagger inputs, each also queued so its meta joins its result."""
    for row in rows:
        pending.append(row)
        yield {"id": row.doc_id, "text": row.text, "title": row.title}

"""Annotation-loop commands: agree, adjudicate, preannotate, suggest, review."""

from __future__ import annotations

import sys
from collections.abc import Iterable, Iterator
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING

import typer

from framing.cli import app
from framing.cli.common import ReportFormat, codebook_option, echo_json, resolve_codebook
from framing.errors import AnnotationError, UsageError
from framing.files import refuse_same_file

if TYPE_CHECKING:
    from framing.format.annotations import Record


def write_jsonl(path: Path, records: Iterable[Record]) -> int:
    """:func:`framing.format.annotations.write_jsonl`, imported when a command writes."""
    from framing.format.annotations import write_jsonl as write

    return write(path, records)


class DisagreementPolicy(StrEnum):
    todo = "todo"
    intersection = "intersection"


class SuggestStrategy(StrEnum):
    """The names of framing.loop.suggest.STRATEGIES (a test keeps them equal; the registry
    itself is not imported here, so that the CLI starts without numpy)."""

    uncertainty = "uncertainty"
    margin = "margin"
    cardinality = "cardinality"
    diverse = "diverse"


def _output_option() -> Path:
    return typer.Option(..., "--output", "-o", help="JSONL file to write.", dir_okay=False)


def _trust_option() -> list[str]:
    return typer.Option(
        [],
        "--trust",
        help="Extra type to trust in the model file (repeatable).",
        show_default=False,
    )


def _progress(message: str) -> None:
    if sys.stderr.isatty():  # progress is for people watching, not for logs
        typer.echo(f"  {message}", err=True)


@app.command()
def agree(
    paths: list[Path] = typer.Argument(..., help="Two or more JSONL files, one per annotator."),
    codebook: Path | None = codebook_option(),
    format: ReportFormat = typer.Option(ReportFormat.text, "--format", "-f", help="Output format."),
) -> None:
    """Measure inter-annotator agreement per label and dimension, then list disagreements.

    Example: framing agree ann_a.jsonl ann_b.jsonl --format json
    """
    from framing.loop.agreement import agree as agree_files

    report = agree_files(paths, resolve_codebook(codebook))
    if format is ReportFormat.json:
        echo_json(report.to_dict())
    else:
        typer.echo(report.to_text())


@app.command()
def adjudicate(
    paths: list[Path] = typer.Argument(..., help="Two or more JSONL files, one per annotator."),
    output: Path = _output_option(),
    codebook: Path | None = codebook_option(),
    disagreement: DisagreementPolicy = typer.Option(
        DisagreementPolicy.todo,
        "--disagreement",
        help="On a disagreement: 'todo' (re-annotate) or 'intersection' (keep common labels).",
    ),
) -> None:
    """Merge annotators' files: agreed labels kept, disagreements marked for review.

    Example: framing adjudicate ann_a.jsonl ann_b.jsonl -o merged.jsonl
    """
    from framing.loop.adjudicate import adjudicate as adjudicate_files

    result = adjudicate_files(paths, resolve_codebook(codebook), policy=disagreement.value)
    written = write_jsonl(output, result.records)
    typer.echo(f"wrote {written} records to {output}; {result.summary()}")


@app.command()
def preannotate(
    model: str = typer.Argument(..., help="Model folder or name under models/."),
    paths: list[Path] = typer.Argument(..., help="JSONL files or folders to pre-annotate."),
    output: Path = _output_option(),
    all_scores: bool = typer.Option(
        False, "--all-scores", help="Suggest every label with its score, not only predicted ones."
    ),
    min_score: float = typer.Option(
        0.0, "--min-score", help="With --all-scores: leave out labels scoring below this."
    ),
    trust: list[str] = _trust_option(),
) -> None:
    """Add model suggestions with scores in 'suggested' (of the sentences, or of the documents
    for a document-level model), never in the label lists.

    Example: framing preannotate models/default todo.jsonl -o todo-suggested.jsonl
    """
    from framing.loop.suggest import preannotate as preannotate_records
    from framing.runtime.model import load_model

    loaded = load_model(model, trusted=trust)
    records = _Counted(
        preannotate_records(loaded, paths, all_scores=all_scores, min_score=min_score)
    )
    written = write_jsonl(output, records)
    typer.echo(
        f"wrote {written} records to {output}; {records.sentences} {loaded.level}(s) "
        "pre-annotated, "
        f"{records.with_suggestion} with at least one suggested label"
    )


class _Counted:
    """Counts sentences and suggestions while the records stream to the writer."""

    def __init__(self, records: Iterable[Record]) -> None:
        self.records = records
        self.sentences = 0
        self.with_suggestion = 0

    def __iter__(self) -> Iterator[Record]:
        for record in self.records:
            suggested = getattr(record, "suggested", None)
            if suggested is not None:
                self.sentences += 1
                self.with_suggestion += int(any(suggested.values()))
            yield record


@app.command()
def suggest(
    model: str = typer.Argument(..., help="Model folder or name under models/."),
    paths: list[Path] = typer.Argument(..., help="The pool: JSONL files with todo sentences."),
    n: int = typer.Option(50, "-n", "--number", help="How many sentences to pick."),
    strategy: SuggestStrategy = typer.Option(
        SuggestStrategy.uncertainty, "--strategy", "-s", help="How to pick them."
    ),
    output: Path = _output_option(),
    max_similarity: float = typer.Option(
        0.8, "--max-similarity", help="diverse: cosine similarity that makes a near-duplicate."
    ),
    trust: list[str] = _trust_option(),
) -> None:
    """Pick the next batch to annotate from a pool, each with the reason it was picked.

    Example: framing suggest models/default pool.jsonl -n 50 --strategy diverse -o next.jsonl
    """
    from framing.loop.suggest import suggest as suggest_records
    from framing.runtime.model import load_model

    result = suggest_records(
        load_model(model, trusted=trust),
        paths,
        n,
        strategy=strategy.value,
        max_similarity=max_similarity,
    )
    if not result.records:
        raise AnnotationError(
            f"{', '.join(map(str, paths))}: no todo sentence to pick from ({result.pool} "
            "sentence(s), all done or skip); nothing written"
        )
    write_jsonl(output, result.records)
    typer.echo(f"{result.summary()} -> {output}")
    for record in result.records[:10]:
        assert record.review is not None
        typer.echo(f"  {record.review['rank']:>3}. {record.id}: {record.review['reason']}")
    if len(result.records) > 10:
        typer.echo(f"  ... and {len(result.records) - 10} more in {output}")


@app.command()
def review(
    config: Path = typer.Argument(..., help="Training config TOML (or a shipped name: default)."),
    data: list[Path] | None = typer.Argument(
        None, help="Annotation files or folders to review (default: the config's data.paths)."
    ),
    output: Path = _output_option(),
    limit: int | None = typer.Option(None, "--limit", "-n", help="Queue at most this many."),
    min_margin: float | None = typer.Option(
        None, "--min-margin", help="Drop weaker flags; 0: the model must prefer the other side."
    ),
    set_: list[str] = typer.Option(
        [], "--set", help="Override a config key, e.g. --set cv.folds=3 (repeatable)."
    ),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress messages."),
) -> None:
    """Queue likely label errors found from out-of-fold predictions, with the evidence.

    Example: framing review training/configs/default.toml data/annotations -o queue.jsonl
    """
    from framing.files import check_writable
    from framing.training.config import load_config
    from framing.training.review import review as review_labels

    check_writable(output)
    loaded = load_config(config, overrides=set_, data=data or ())
    result = review_labels(
        loaded, limit=limit, min_margin=min_margin, progress=None if quiet else _progress
    )
    if not result.records:  # an empty JSONL file would not validate
        typer.echo(f"{result.summary()}\nno likely label errors: {output} not written")
        return
    written = write_jsonl(output, result.records)
    typer.echo(f"{result.summary()}\nwrote {written} records to {output}")


class SplitBy(StrEnum):
    doc = "doc"
    sentence = "sentence"


@app.command("split")
def split(
    paths: list[Path] = typer.Argument(..., help="Annotation JSONL files or folders."),
    by: SplitBy = typer.Option(
        SplitBy.doc, "--by", help="Keep each document's records together (doc) or not."
    ),
    ratios: str = typer.Option(
        "80/10/10", "--ratios", help="Part sizes: train/dev/test, or train/test."
    ),
    seed: int = typer.Option(13, "--seed", help="The same seed gives the same split."),
    output: Path | None = typer.Option(
        None, "--output", "-o", help="One JSONL file with the split field set.", dir_okay=False
    ),
    out_dir: Path | None = typer.Option(
        None, "--out-dir", help="Write train.jsonl, dev.jsonl and test.jsonl here.", file_okay=False
    ),
    format: ReportFormat = typer.Option(ReportFormat.text, "--format", "-f", help="Report format."),
) -> None:
    """Split a corpus by document into train/dev/test, stratified over labels, seeded.

    Example: framing split en.jsonl --by doc --ratios 80/10/10 --seed 13 -o en-split.jsonl
    """
    from framing.format.annotations import collect_files, iter_records
    from framing.loop.split import parse_ratios, split_corpus

    if (output is None) == (out_dir is None):
        raise UsageError("give exactly one of -o FILE (one file) or --out-dir DIR (one per part)")
    inputs = collect_files(paths)
    refuse_same_file(output, [*paths, *inputs])
    if out_dir is not None:
        for part in ("train", "dev", "test"):
            refuse_same_file(out_dir / f"{part}.jsonl", [*paths, *inputs])
    result = split_corpus(iter_records(inputs), ratios=parse_ratios(ratios), seed=seed, by=by.value)
    targets: dict[str, Path] = {}
    if output is not None:
        write_jsonl(output, result.records)
        targets["all"] = output
    else:
        assert out_dir is not None
        for part in result.counts:
            targets[part] = out_dir / f"{part}.jsonl"
        for part, target in targets.items():
            write_jsonl(target, [r for r in result.records if r.split == part])
    if format is ReportFormat.json:
        echo_json({**result.to_dict(), "written": {k: str(v) for k, v in targets.items()}})
        return
    unit = "documents" if by is SplitBy.doc else "sentences"
    for part, counts in result.counts.items():
        typer.echo(
            f"{part}: {counts.get(unit, 0)} {unit}, {counts['sentences']} sentence records, "
            f"{len(counts['labels'])} labels present"
        )
    typer.echo(
        f"{result.changed} records got a new split; wrote {', '.join(map(str, targets.values()))}"
    )

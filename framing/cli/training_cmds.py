"""Training commands: ``framing train``, ``framing eval``, ``framing score`` and
``framing recompile``.

The training toolkit (:mod:`training`, scikit-learn, matplotlib) is imported inside
the commands, so that ``framing --help`` and the other commands stay light.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from enum import StrEnum
from pathlib import Path

import typer

from framing.cli import app
from framing.cli.common import Links, echo_json, links_followed


class EvalFormat(StrEnum):
    table = "table"
    json = "json"
    markdown = "markdown"


class Level(StrEnum):
    sentence = "sentence"
    document = "document"


def _progress(quiet: bool, every: float = 30.0) -> Callable[[str], None] | None:
    """A progress printer on stderr: every message on a terminal, otherwise (a log) the
    run's length estimate and then one line every ``every`` seconds; None when quiet."""
    import time

    from framing.training.cross_validation import ESTIMATE_PREFIX

    if quiet:
        return None
    terminal = sys.stderr.isatty()
    last = [-every]

    def show(message: str) -> None:
        now = time.monotonic()
        if terminal or message.startswith(ESTIMATE_PREFIX) or now - last[0] >= every:
            last[0] = now
            typer.echo(f"  {message}", err=True)

    return show


@app.command("train")
def train(
    config: str = typer.Argument(
        ..., help="Training config TOML, or the name of a shipped one (default, thorough)."
    ),
    data: list[Path] | None = typer.Option(
        None, "--data", "-d", help="Annotation files or folders; replace the config's data.paths."
    ),
    output: Path | None = typer.Option(
        None,
        "--output",
        "-o",
        help="Model folder to write (default: models/NAME).",
        file_okay=False,
    ),
    overrides: list[str] | None = typer.Option(
        None, "--set", help="Override a config key, e.g. --set pipeline.params.C=2 (repeatable)."
    ),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress messages."),
    jobs: int | None = typer.Option(
        None,
        "--jobs",
        "-j",
        help="Folds and per-label fits at once (0: every CPU; default: the config's n_jobs).",
    ),
) -> None:
    """Train a model from a TOML config: cross-validate, tune thresholds, fit and save.

    Example: framing train training/configs/default.toml --output models/mine --set seed=7
    """
    from framing.training.config import load_config
    from framing.training.train import train as train_model

    extra = [f"n_jobs={jobs}"] if jobs is not None else []
    resolved = load_config(config, overrides=[*(overrides or []), *extra], data=data or [])
    result = train_model(resolved, output=output, progress=_progress(quiet))
    typer.echo(result.summary())


@app.command("eval")
def evaluate(
    model: str = typer.Argument(..., help="Model folder or name (model B with --compare)."),
    data: list[Path] = typer.Argument(..., help="Annotated JSONL files or folders."),
    level: Level | None = typer.Option(
        None, "--level", help="Score sentences or documents (default: the model's level)."
    ),
    output: Path | None = typer.Option(
        None,
        "--output",
        "-o",
        help="Folder for report.json, report.md and plots (PR curves, F1 against threshold, "
        "confusion heat map, reliability diagram).",
        file_okay=False,
    ),
    format: EvalFormat = typer.Option(EvalFormat.table, "--format", "-f", help="Output format."),
    compare_with: str | None = typer.Option(
        None,
        "--compare",
        metavar="MODEL_A",
        help="Compare MODEL_A with MODEL: per-label deltas and a bootstrap interval on micro-F1.",
    ),
    worst: int = typer.Option(5, "--worst", help="Worst false positives/negatives to list.", min=0),
    agreement: bool = typer.Option(
        False,
        "--agreement",
        help="DATA are one file per annotator: the model's Krippendorff alpha against each "
        "annotator beside the annotators' own.",
    ),
    trust: list[str] | None = typer.Option(
        None, "--trust", help="Trust this extra type in model.skops (repeatable)."
    ),
    predictions: Path | None = typer.Option(
        None,
        "--predictions",
        "-p",
        help="Also write the predicted labels as annotation JSONL (for framing export).",
        dir_okay=False,
    ),
    crosswalk: Path | None = typer.Option(
        None,
        "--crosswalk",
        help="The data is labelled in another taxonomy: relabel its gold labels through this "
        "crosswalk (data/crosswalks/*.toml) and score the labels its links reach.",
        dir_okay=False,
    ),
    links: Links = typer.Option(
        Links.exact,
        "--links",
        help="With --crosswalk: exact links, or broader too (recall is then sound, precision not).",
    ),
    metric: list[str] | None = typer.Option(
        None,
        "--metric",
        "-m",
        help="Also score by a shared task's official rules: semeval2025, semeval2023-frames, "
        "semeval2023-techniques, ptc-sentence (repeatable).",
    ),
) -> None:
    """Score a model on annotated data: per-label P/R/F1, micro/macro/samples F1, errors.

    Example: framing eval models/default data/annotations/test.jsonl --output eval/ --format json

    With --agreement: framing eval models/default --agreement ann_a.jsonl ann_b.jsonl
    """
    from framing.training.evaluate import compare, evaluate, save_report

    if agreement:
        from framing.training.agreement import model_agreement

        agreed = model_agreement(model, data, trusted=trust or [])
        if format is EvalFormat.json:
            echo_json(agreed.to_dict())
        else:
            typer.echo(agreed.to_table(), nl=False)
        return
    if predictions is not None:
        from framing.files import check_writable, refuse_same_file

        refuse_same_file(predictions, data)
        check_writable(predictions)
    lvl = level.value if level is not None else None
    if output is not None:
        from framing.files import check_writable

        check_writable(output / "report.json")
    if compare_with is not None:
        comparison = compare(compare_with, model, data, level=lvl, trusted=trust or [])
        if output is not None:
            from framing.files import write_text

            output.mkdir(parents=True, exist_ok=True)
            write_text(output / "compare.md", comparison.to_markdown())
            write_text(
                output / "compare.json",
                json.dumps(comparison.to_dict(), indent=2, ensure_ascii=False) + "\n",
            )
        if format is EvalFormat.json:
            echo_json(comparison.to_dict())
        elif format is EvalFormat.markdown:
            typer.echo(comparison.to_markdown())
        else:
            typer.echo(comparison.to_table())
        return
    report = evaluate(
        model,
        data,
        level=lvl,
        trusted=trust or [],
        worst=worst,
        metrics=metric or [],
        crosswalk=crosswalk,
        links=links_followed(links),
    )
    written = save_report(report, output) if output is not None else []
    if predictions is not None:
        from framing.format.annotations import write_jsonl

        count = write_jsonl(predictions, report.predictions())
        typer.echo(f"wrote {count} predicted records to {predictions}", err=True)
    if format is EvalFormat.json:
        echo_json(report.to_dict())
    elif format is EvalFormat.markdown:
        typer.echo(report.to_markdown())
    else:
        typer.echo(report.to_table())
        if written:
            typer.echo(f"\nwrote {len(written)} files to {output}")


@app.command("score")
def score(
    tagged: Path = typer.Argument(..., help="What 'framing tag' wrote (JSONL).", dir_okay=False),
    gold: list[Path] = typer.Argument(..., help="Gold annotation files or folders (imported)."),
    metric: list[str] = typer.Option(
        ...,
        "--metric",
        "-m",
        help="A shared task's official rules: semeval2025, semeval2023-frames, "
        "semeval2023-techniques, ptc-sentence (repeatable).",
    ),
    codebook: Path | None = typer.Option(
        None,
        "--codebook",
        "-c",
        help="Class lists (default: <gold>.codebook.toml or codebook.toml next to the gold, "
        "else the labels found).",
        dir_okay=False,
    ),
    format: EvalFormat = typer.Option(EvalFormat.table, "--format", "-f", help="table or json."),
) -> None:
    """Score tag output against gold annotations by a shared task's rules, without the model.

    Example: framing score tagged.jsonl en-dev.jsonl --metric semeval2023-techniques
    """
    from framing.cli.exchange import codebook_for
    from framing.training.scoring import score as score_tagged

    report = score_tagged([tagged], gold, metric, codebook_for(gold, codebook))
    if format is EvalFormat.json:
        echo_json(report.to_dict())
    else:
        typer.echo("\n".join(report.lines()))


@app.command("recompile")
def recompile(
    model: str = typer.Argument(..., help="The model folder (or name) to recompile."),
    output: Path = typer.Option(
        ..., "--output", "-o", help="The model folder to write (not the input).", file_okay=False
    ),
    drop_pipelines: bool = typer.Option(
        False,
        "--drop-pipelines",
        help="Leave model.skops out of the copy (smaller; compiled only).",
    ),
) -> None:
    """Rewrite a model folder in the current layout from its own arrays (loads faster).

    Example: framing recompile models/default -o models/default-new --drop-pipelines
    """
    from framing.runtime.recompile import recompile_model

    written = recompile_model(model, output, keep_pipelines=not drop_pipelines)
    typer.echo(f"wrote {written}")


__all__ = ["train", "evaluate", "score", "recompile"]

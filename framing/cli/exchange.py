"""Exchange commands: ``framing import <format>`` for public corpora and annotation
tools, and ``framing export <format>``.

Each command parses its arguments, calls the importer or exporter function of the
same name and writes the result atomically.  An import writes the records and, next to
them, the codebook of the labels it found (``<out>.codebook.toml`` unless
``--codebook-out`` says otherwise); with ``--codebook`` the labels are checked against
an existing codebook instead.
"""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Any

import typer

from framing.cli import FramingGroup, app
from framing.cli.annotate import import_app, report_import
from framing.cli.common import Links, links_followed
from framing.errors import UsageError
from framing.format.codebook import Codebook, load_codebook

export_app = typer.Typer(
    cls=FramingGroup,
    help="Export annotation JSONL to annotation tools, shared-task formats and datasets.",
    no_args_is_help=True,
    context_settings={"help_option_names": ["-h", "--help"]},
)
app.add_typer(export_app, name="export")


class Split(StrEnum):
    train = "train"
    dev = "dev"
    test = "test"
    dev_shifted = "dev-shifted"


class Unlisted(StrEnum):
    todo = "todo"
    negative = "negative"


class Missing(StrEnum):
    error = "error"
    other = "other"


class Unknown(StrEnum):
    error = "error"
    drop = "drop"
    add = "add"


class HFFormat(StrEnum):
    disk = "disk"
    parquet = "parquet"


class Level(StrEnum):
    sentence = "sentence"
    document = "document"


def _output() -> Any:
    return typer.Option(..., "--output", "-o", help="JSONL file to write.", dir_okay=False)


def _codebook_out() -> Any:
    return typer.Option(
        None,
        "--codebook-out",
        help="Where to write the codebook of the labels found (default: <output>.codebook.toml).",
        dir_okay=False,
    )


def _codebook_in() -> Any:
    return typer.Option(
        None,
        "--codebook",
        "-c",
        help="Check the labels against this codebook instead of writing a new one.",
        dir_okay=False,
    )


def _split() -> Any:
    return typer.Option(None, "--split", help="Set this split on every record.")


def _crosswalk() -> Any:
    return typer.Option(
        None,
        "--crosswalk",
        help="Relabel into our codebook through this crosswalk (data/crosswalks/*.toml); "
        "--codebook then names our codebook (default: the bundled model's).",
        dir_okay=False,
    )


def _links() -> Any:
    return typer.Option(
        Links.exact,
        "--links",
        help="Crosswalk links to follow: exact (sound for training and evaluation), or "
        "broader (adds the positives of our broader labels; their negatives are unsure).",
    )


def _unknown() -> Any:
    return typer.Option(
        Unknown.error,
        "--unknown-labels",
        help="Labels the codebook (or taxonomy) lacks: error (name each), drop them, or add "
        "them to the codebook written next to the output.",
    )


def run_import(
    importer: Any,
    codebook: Path | None,
    unknown: Unknown = Unknown.error,
    crosswalk: Path | None = None,
    links: Links = Links.exact,
) -> tuple[Any, bool]:
    """Run ``importer()`` and fit its result to the codebook the options name.

    Returns the result and whether the codebook is the user's own, unchanged (then no
    codebook is written).  With ``--codebook`` the labels are checked against it,
    unknown ones handled by ``--unknown-labels``; with a crosswalk the labels found
    (their taxonomy) are relabelled into ours, and the codebook written is ours cut
    down to the labels the links reach.
    """
    result = importer()
    if crosswalk is not None:
        from framing.format.crosswalk import load_crosswalk
        from framing.runtime.model import resolve_model_path

        walk = load_crosswalk(crosswalk)
        ours = load_codebook(codebook or resolve_model_path(None) / "codebook.toml")
        return result.relabel(walk, ours, links_followed(links)), False
    if codebook is None:
        return result, False
    conformed = result.conform(load_codebook(codebook), unknown.value)
    return conformed, unknown is not Unknown.add or conformed.codebook == load_codebook(codebook)


def default_codebook_path(output: Path) -> Path:
    """``out.jsonl`` -> ``out.codebook.toml``."""
    return output.with_suffix(".codebook.toml")


def finish_import(
    result: Any, output: Path, codebook_given: bool, codebook_out: Path | None
) -> None:
    """Write the records and, unless the caller gave one, the codebook of the labels found."""
    if codebook_given:
        report_import(result, output)
        return
    target = codebook_out or default_codebook_path(output)
    if result.codebook is not None:
        from framing.files import write_text

        write_text(target, result.codebook.to_toml())
    report_import(result, output)
    if result.codebook is not None:
        typer.echo(f"wrote codebook '{result.codebook.name}' to {target}")
    else:
        typer.echo("no label found, so no codebook written")


def _value(option: Split | None) -> str | None:
    return option.value if option is not None else None


# --------------------------------------------------------------------------- import


@import_app.command("semeval2025")
def import_semeval2025_cmd(
    documents: Path = typer.Argument(
        ..., help="Folder of the article .txt files.", file_okay=False
    ),
    annotations: Path | None = typer.Option(
        None, "--annotations", "-a", help="The tab-separated annotation file.", dir_okay=False
    ),
    narratives_taxonomy: Path | None = typer.Option(
        None, "--narratives-taxonomy", help="Narrative labels, one a line.", dir_okay=False
    ),
    subnarratives_taxonomy: Path | None = typer.Option(
        None, "--subnarratives-taxonomy", help="Subnarrative labels, one a line.", dir_okay=False
    ),
    output: Path = _output(),
    codebook: Path | None = _codebook_in(),
    codebook_out: Path | None = _codebook_out(),
    split: Split | None = _split(),
    unknown: Unknown = _unknown(),
    crosswalk: Path | None = _crosswalk(),
    links: Links = _links(),
) -> None:
    """Import SemEval-2025 Task 10 subtask 2 articles with their narratives.

    Example: framing import semeval2025 EN/raw-documents -a EN/subtask-2-annotations.txt -o en.jsonl
    """
    from framing.exchange.importers.semeval2025 import semeval2025

    taxonomy = {
        dim: path
        for dim, path in (
            ("narratives", narratives_taxonomy),
            ("subnarratives", subnarratives_taxonomy),
        )
        if path is not None
    }
    result, given = run_import(
        lambda: semeval2025(
            documents, annotations, taxonomy=taxonomy, split=_value(split), unknown=unknown.value
        ),
        codebook,
        unknown,
        crosswalk,
        links,
    )
    finish_import(result, output, given, codebook_out)


@import_app.command("semeval2023")
def import_semeval2023_cmd(
    articles: Path = typer.Argument(
        ..., help="Folder of the article<ID>.txt files.", file_okay=False
    ),
    frames: Path | None = typer.Option(
        None, "--frames", help="Subtask 2 labels: <ID><TAB>frame,frame.", dir_okay=False
    ),
    techniques: Path | None = typer.Option(
        None,
        "--techniques",
        help="Subtask 3 labels: <ID><TAB><line><TAB>technique,technique.",
        dir_okay=False,
    ),
    unlisted: Unlisted = typer.Option(
        Unlisted.todo,
        "--unlisted",
        help="Lines the subtask 3 file does not list: todo, or negative (done, no technique).",
    ),
    output: Path = _output(),
    codebook: Path | None = _codebook_in(),
    codebook_out: Path | None = _codebook_out(),
    split: Split | None = _split(),
    unknown: Unknown = _unknown(),
    crosswalk: Path | None = _crosswalk(),
    links: Links = _links(),
) -> None:
    """Import SemEval-2023 Task 3 articles with frames and/or persuasion techniques.

    Example: framing import semeval2023 en/articles --frames en/labels-subtask-2.txt -o en.jsonl
    """
    from framing.exchange.importers.semeval2023 import semeval2023

    result, given = run_import(
        lambda: semeval2023(
            articles, frames, techniques, split=_value(split), unlisted=unlisted.value
        ),
        codebook,
        unknown,
        crosswalk,
        links,
    )
    finish_import(result, output, given, codebook_out)


@import_app.command("ptc")
def import_ptc_cmd(
    articles: Path = typer.Argument(
        ..., help="Folder of the article<ID>.txt files.", file_okay=False
    ),
    labels: list[Path] | None = typer.Option(
        None, "--labels", "-l", help="Technique-classification .labels files or folders."
    ),
    output: Path = _output(),
    codebook: Path | None = _codebook_in(),
    codebook_out: Path | None = _codebook_out(),
    split: Split | None = _split(),
    unknown: Unknown = _unknown(),
    crosswalk: Path | None = _crosswalk(),
    links: Links = _links(),
) -> None:
    """Import the Propaganda Techniques Corpus as sentences labelled with techniques.

    Example: framing import ptc train-articles -l train-labels-task2-TC -o ptc.jsonl
    """
    from framing.exchange.importers.ptc import ptc

    result, given = run_import(
        lambda: ptc(articles, labels or None, split=_value(split)),
        codebook,
        unknown,
        crosswalk,
        links,
    )
    finish_import(result, output, given, codebook_out)


@import_app.command("frac")
def import_frac_cmd(
    path: Path = typer.Argument(..., help="The FrAC CSV (sentence,label).", dir_okay=False),
    output: Path = _output(),
    codebook: Path | None = _codebook_in(),
    codebook_out: Path | None = _codebook_out(),
    split: Split | None = _split(),
    unknown: Unknown = _unknown(),
) -> None:
    """Import the FrAC gold sentences as single-label frame records.

    Example: framing import frac ../shared/benchmarks/frac/frac_gold_sentences.csv -o frac.jsonl
    """
    from framing.exchange.importers.frac import frac

    result, given = run_import(lambda: frac(path, split=_value(split)), codebook, unknown)
    finish_import(result, output, given, codebook_out)


@import_app.command("labelstudio")
def import_labelstudio_cmd(
    path: Path = typer.Argument(..., help="Label Studio JSON export.", dir_okay=False),
    text_field: str = typer.Option("text", "--text-field", help="The data key holding the text."),
    output: Path = _output(),
    codebook: Path | None = _codebook_in(),
    codebook_out: Path | None = _codebook_out(),
    split: Split | None = _split(),
    unknown: Unknown = _unknown(),
) -> None:
    """Import a Label Studio JSON export of choice annotations.

    Example: framing import labelstudio project-1-export.json -o annotated.jsonl
    """
    from framing.exchange.importers.labelstudio import labelstudio

    result, given = run_import(
        lambda: labelstudio(path, text_field=text_field, split=_value(split)), codebook, unknown
    )
    finish_import(result, output, given, codebook_out)


@import_app.command("doccano")
def import_doccano_cmd(
    path: Path = typer.Argument(
        ..., help="doccano text-classification JSONL export.", dir_okay=False
    ),
    dimension: str = typer.Option(
        "label", "--dimension", "-d", help="The dimension the labels go to."
    ),
    separator: str | None = typer.Option(
        None,
        "--separator",
        help="Labels are '<dimension><separator><label>' (as 'framing export doccano' writes "
        "with several dimensions), e.g. ':'.",
    ),
    output: Path = _output(),
    codebook: Path | None = _codebook_in(),
    codebook_out: Path | None = _codebook_out(),
    split: Split | None = _split(),
    unknown: Unknown = _unknown(),
) -> None:
    """Import a doccano text-classification JSONL export.

    Example: framing import doccano all.jsonl --dimension frames -o annotated.jsonl
    """
    from framing.exchange.importers.doccano import doccano

    result, given = run_import(
        lambda: doccano(path, dimension=dimension, separator=separator, split=_value(split)),
        codebook,
        unknown,
    )
    finish_import(result, output, given, codebook_out)


@import_app.command("prodigy")
def import_prodigy_cmd(
    path: Path = typer.Argument(..., help="Prodigy JSONL (prodigy db-out).", dir_okay=False),
    dimension: str = typer.Option(
        "label", "--dimension", "-d", help="The dimension of options that name none."
    ),
    output: Path = _output(),
    codebook: Path | None = _codebook_in(),
    codebook_out: Path | None = _codebook_out(),
    split: Split | None = _split(),
    unknown: Unknown = _unknown(),
) -> None:
    """Import Prodigy choice annotations; only accepted answers are gold.

    Example: framing import prodigy round1.jsonl --dimension frames -o annotated.jsonl
    """
    from framing.exchange.importers.prodigy import prodigy

    result, given = run_import(
        lambda: prodigy(path, dimension=dimension, split=_value(split)), codebook, unknown
    )
    finish_import(result, output, given, codebook_out)


def _label_columns(specs: list[str]) -> dict[str, str]:
    from framing.exchange.importers._common import dimension_id

    columns: dict[str, str] = {}
    for spec in specs:
        column, sep, dim = spec.partition("=")
        if not column or (sep and not dim):
            raise UsageError(f"--labels '{spec}': give COLUMN or COLUMN=DIMENSION")
        columns[column] = dim if sep else dimension_id(column)
    return columns


@import_app.command("datasets")
def import_datasets_cmd(
    source: str = typer.Argument(
        ...,
        help="A save_to_disk folder, a parquet/CSV/JSON file, a folder of split files, "
        "or a hub name (network).",
    ),
    text: str = typer.Option("text", "--text", help="The text column."),
    labels: list[str] = typer.Option(
        ["label"],
        "--labels",
        help="A label column, or COLUMN=DIMENSION; repeat for several dimensions.",
    ),
    id_column: str | None = typer.Option(None, "--id-column", help="Column of record ids."),
    doc_id_column: str | None = typer.Option(
        None, "--doc-id-column", help="Column of document ids."
    ),
    split_column: str | None = typer.Option(
        None, "--split-column", help="Column of each row's split."
    ),
    splits: str | None = typer.Option(
        None, "--splits", help="Dataset splits to import, comma-separated (default: all)."
    ),
    config: str | None = typer.Option(None, "--config", help="Hub dataset configuration."),
    output: Path = _output(),
    codebook: Path | None = _codebook_in(),
    codebook_out: Path | None = _codebook_out(),
    split: Split | None = _split(),
    unknown: Unknown = _unknown(),
) -> None:
    """Import a Hugging Face dataset (folder, data files or hub name) as sentence records.

    Example: framing import datasets my-dataset/ --text sentence --labels label=frames -o data.jsonl
    """
    from framing.exchange.importers.hf_datasets import hf_datasets

    result, given = run_import(
        lambda: hf_datasets(
            source,
            text=text,
            labels=_label_columns(labels),
            id_column=id_column,
            doc_id_column=doc_id_column,
            split_column=split_column,
            splits=[s.strip() for s in splits.split(",") if s.strip()] if splits else None,
            split=_value(split),
            config=config,
        ),
        codebook,
        unknown,
    )
    finish_import(result, output, given, codebook_out)


# --------------------------------------------------------------------------- export


def _data() -> Any:
    return typer.Argument(
        ..., help="Annotation JSONL files or folders, or the JSONL that 'framing tag' writes."
    )


def _export_codebook() -> Any:
    return typer.Option(
        None,
        "--codebook",
        "-c",
        help="Codebook (default: <file>.codebook.toml or codebook.toml next to the data, "
        "else the labels found).",
        dir_okay=False,
    )


def codebook_for(paths: list[Path], explicit: Path | None) -> Codebook | None:
    """The explicit codebook, else the one an import wrote next to the data, else None."""
    if explicit is not None:
        return load_codebook(explicit)
    first = paths[0]
    candidates = (
        [default_codebook_path(first), first.parent / "codebook.toml"]
        if first.is_file()
        else [first / "codebook.toml"]
    )
    for candidate in candidates:
        if candidate.is_file():
            return load_codebook(candidate)
    return None


def _read(paths: list[Path], codebook: Path | None) -> tuple[list[Any], Codebook | None]:
    from framing.exchange.exporters import read_records

    book = codebook_for(paths, codebook)
    return read_records(paths, book), book


def _report(written: int, what: str, output: Path, counts: dict[str, Any]) -> None:
    details = ", ".join(f"{k} {v}" for k, v in counts.items())
    typer.echo(f"wrote {written} {what} to {output} ({details})")


@export_app.command("labelstudio")
def export_labelstudio_cmd(
    paths: list[Path] = _data(),
    output: Path = typer.Option(..., "--output", "-o", help="JSON file of tasks.", dir_okay=False),
    config_out: Path | None = typer.Option(
        None, "--config-out", help="Also write the labelling config (XML) here.", dir_okay=False
    ),
    codebook: Path | None = _export_codebook(),
) -> None:
    """Export records as Label Studio tasks (choices), with their labels as annotations.

    Example: framing export labelstudio data/annotations/dev.jsonl -o tasks.json --config-out ls.xml
    """
    from framing.exchange.exporters.labelstudio import config_for, labelstudio

    records, book = _read(paths, codebook)
    result = labelstudio(records, book)
    if config_out is not None:
        from framing.files import write_text

        write_text(config_out, config_for(records, book))
    _report(result.write_json(output), "tasks", output, result.counts)
    if config_out is not None:
        typer.echo(f"wrote the labelling config to {config_out}")


@export_app.command("doccano")
def export_doccano_cmd(
    paths: list[Path] = _data(),
    output: Path = typer.Option(..., "--output", "-o", help="JSONL file.", dir_okay=False),
    dimension: list[str] | None = typer.Option(
        None, "--dimension", "-d", help="Dimension to export (repeat; default: all)."
    ),
    separator: str = typer.Option(
        ":", "--separator", help="Between dimension and label when several are exported."
    ),
    codebook: Path | None = _export_codebook(),
) -> None:
    """Export records as doccano text-classification JSONL.

    Example: framing export doccano data/annotations/dev.jsonl -d frames -o doccano.jsonl
    """
    from framing.exchange.exporters.doccano import doccano

    records, book = _read(paths, codebook)
    result = doccano(records, book, dimensions=dimension or None, separator=separator)
    _report(result.write_jsonl(output), "lines", output, result.counts)


@export_app.command("prodigy")
def export_prodigy_cmd(
    paths: list[Path] = _data(),
    output: Path = typer.Option(..., "--output", "-o", help="JSONL file.", dir_okay=False),
    codebook: Path | None = _export_codebook(),
) -> None:
    """Export records as Prodigy choice tasks (options from the codebook).

    Example: framing export prodigy data/annotations/dev.jsonl -o tasks.jsonl
    """
    from framing.exchange.exporters.prodigy import prodigy

    records, book = _read(paths, codebook)
    result = prodigy(records, book)
    _report(result.write_jsonl(output), "tasks", output, result.counts)


@export_app.command("semeval2025")
def export_semeval2025_cmd(
    paths: list[Path] = _data(),
    gold: Path | None = typer.Option(
        None,
        "--gold",
        "-g",
        help="Task annotation file giving the articles and order (default: every article "
        "of the input, in its order).",
        dir_okay=False,
    ),
    output: Path = typer.Option(..., "--output", "-o", help="Predictions file.", dir_okay=False),
    missing: Missing = typer.Option(
        Missing.error, "--missing", help="Articles without a record: error, or write 'Other'."
    ),
    codebook: Path | None = _export_codebook(),
) -> None:
    """Export narratives (annotations, eval predictions or 'framing tag' output of a
    document-level model) as SemEval-2025 subtask 2 predictions, in the gold file's order.

    Example: framing export semeval2025 tagged.jsonl -g EN/subtask-2-annotations.txt -o pred.txt
    """
    from framing.exchange.exporters.semeval2025 import semeval2025

    records, book = _read(paths, codebook)
    result = semeval2025(records, gold, book, missing=missing.value)
    _report(result.write_lines(output), "articles", output, result.counts)


@export_app.command("semeval2023")
def export_semeval2023_cmd(
    paths: list[Path] = _data(),
    output: Path = typer.Option(..., "--output", "-o", help="Predictions file.", dir_okay=False),
    gold: Path | None = typer.Option(
        None,
        "--gold",
        "-g",
        help="Subtask 2 label file giving the articles and order (default: every article "
        "of the input, in its order).",
        dir_okay=False,
    ),
    dimension: str = typer.Option("frames", "--dimension", "-d", help="The frames dimension."),
    codebook: Path | None = _export_codebook(),
) -> None:
    """Export frames (annotations, eval predictions or 'framing tag' output of a
    document-level model) as SemEval-2023 Task 3 subtask 2 predictions.

    Example: framing export semeval2023 tagged.jsonl -g en/dev-labels-subtask-2.txt -o pred.txt
    """
    from framing.exchange.exporters.semeval2023 import semeval2023

    records, book = _read(paths, codebook)
    result = semeval2023(records, book, gold=gold, dimension=dimension)
    _report(result.write_lines(output), "articles", output, result.counts)


@export_app.command("datasets")
def export_datasets_cmd(
    paths: list[Path] = _data(),
    output: Path = typer.Option(..., "--output", "-o", help="Folder to write.", file_okay=False),
    format: HFFormat = typer.Option(
        HFFormat.disk, "--format", "-f", help="disk (save_to_disk) or parquet (one file a split)."
    ),
    level: Level = typer.Option(Level.sentence, "--level", help="Rows: sentences or documents."),
    codebook: Path | None = _export_codebook(),
) -> None:
    """Export done records as a Hugging Face dataset folder (splits as a DatasetDict).

    Example: framing export datasets data/annotations -o hf-corpus --format parquet
    """
    from framing.exchange.exporters.hf_datasets import hf_datasets
    from framing.exchange.importers.hf_datasets import require_datasets

    require_datasets()  # before reading the data: a missing extra is known at once
    records, book = _read(paths, codebook)
    result = hf_datasets(records, book, level=level.value)
    files = result.save(output, format.value)
    _report(result.counts["rows"], "rows", output, {**result.counts, "files": len(files)})

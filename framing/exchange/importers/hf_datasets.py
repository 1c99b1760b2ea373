"""Hugging Face ``datasets`` into the annotation format.

Sources: a folder written by ``save_to_disk`` (a ``Dataset`` or a ``DatasetDict``), a
parquet, CSV or JSON(L) file, a folder of such files (``train.parquet``,
``validation.parquet``, ...: the file names give the splits), or a hub name (needs a
network).  A column mapping says which column holds the text, which hold labels (each
label column is one dimension), and optionally the record id, the document id and the
split.  ``datasets`` is imported only when a function here runs, so ``import framing``
stays light.
"""

from __future__ import annotations

import contextlib
import re
import tempfile
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from framing.errors import InputNotFoundError, MissingExtraError, UsageError
from framing.exchange.importers import ImportResult
from framing.exchange.importers.labels import (
    check_dimension,
    check_split,
    dimension_id,
    finish,
    label_counts,
)
from framing.exchange.importers.problems import RowProblems
from framing.exchange.registry import REQUIRED, Importer, Param
from framing.format.annotations import Document, Sentence
from framing.format.codebook import Codebook, did_you_mean

if TYPE_CHECKING:
    import datasets

__all__ = ["hf_datasets", "SPLIT_NAMES", "load_source"]

#: Hugging Face split names and ours.
SPLIT_NAMES = {
    "train": "train",
    "validation": "dev",
    "valid": "dev",
    "dev": "dev",
    "test": "test",
}
_DATA_SUFFIXES = {".parquet": "parquet", ".csv": "csv", ".json": "json", ".jsonl": "json"}
_SHARD = re.compile(r"^(?P<split>[a-z]+)(?:[-_].*)?$")


def require_datasets() -> Any:
    """The ``datasets`` module, or a :class:`MissingExtraError` naming the extra to install."""
    try:
        import datasets
    except ImportError as exc:
        raise MissingExtraError(
            "the Hugging Face import/export needs the 'datasets' package, which is not "
            "installed (install it with: pip install 'framing[hf]')"
        ) from exc
    return datasets


@contextlib.contextmanager
def quiet_datasets() -> Iterator[None]:
    """Silence ``datasets`` progress bars for the duration (library code never prints)."""
    datasets = require_datasets()

    was_disabled = datasets.are_progress_bars_disabled()
    verbosity = datasets.logging.get_verbosity()
    datasets.disable_progress_bars()
    datasets.logging.set_verbosity_error()
    try:
        yield
    finally:
        datasets.logging.set_verbosity(verbosity)
        if not was_disabled:
            datasets.enable_progress_bars()


def _from_files(files: Sequence[Path], cache: str) -> datasets.Dataset:
    datasets = require_datasets()

    kind = _DATA_SUFFIXES[files[0].suffix]
    paths = [str(f) for f in files]
    if kind == "parquet":
        return datasets.Dataset.from_parquet(paths, cache_dir=cache, keep_in_memory=True)
    if kind == "csv":
        return datasets.Dataset.from_csv(paths, cache_dir=cache, keep_in_memory=True)
    return datasets.Dataset.from_json(paths, cache_dir=cache, keep_in_memory=True)


def load_source(
    source: str | Path, *, config: str | None = None
) -> dict[str | None, datasets.Dataset]:
    """Load a ``datasets`` source as ``{hf split name or None: Dataset}``.

    Raises
    ------
    InputNotFoundError
        When a local path does not exist or a folder holds no dataset.
    """
    datasets = require_datasets()

    path = Path(source)
    with quiet_datasets(), tempfile.TemporaryDirectory(prefix="framing-hf-") as cache:
        if path.is_dir() and (
            (path / "dataset_dict.json").is_file() or (path / "state.json").is_file()
        ):
            loaded = datasets.load_from_disk(str(path), keep_in_memory=True)
            if isinstance(loaded, datasets.DatasetDict):
                return dict(loaded.items())
            return {None: loaded}
        if path.is_file():
            if path.suffix not in _DATA_SUFFIXES:
                raise UsageError(
                    f"{path}: unknown data file type '{path.suffix}' "
                    f"(use {', '.join(sorted(_DATA_SUFFIXES))})"
                )
            return {None: _from_files([path], cache)}
        if path.is_dir():
            groups: dict[str | None, list[Path]] = {}
            for file in sorted(path.rglob("*")):
                if file.is_file() and file.suffix in _DATA_SUFFIXES:
                    match = _SHARD.match(file.stem)
                    name = match.group("split") if match else None
                    groups.setdefault(name if name in SPLIT_NAMES else None, []).append(file)
            if not groups:
                raise InputNotFoundError(
                    f"{path}: no dataset here (no save_to_disk folder, no "
                    f"{'/'.join(sorted(_DATA_SUFFIXES))} file)"
                )
            if None in groups and len(groups) > 1:
                names = ", ".join(f.name for f in groups[None])
                raise UsageError(
                    f"{path}: cannot tell the split of {names} "
                    "(name data files train.*, validation.*, test.*)"
                )
            suffixes = {f.suffix.replace(".jsonl", ".json") for fs in groups.values() for f in fs}
            if len(suffixes) > 1:
                raise UsageError(f"{path}: mixes data file types {sorted(suffixes)}")
            return {name: _from_files(files, cache) for name, files in groups.items()}
        if path.suffix in _DATA_SUFFIXES or str(source).startswith((".", "/", "~")):
            raise InputNotFoundError(f"{source}: no such file or folder")
        # Anything else is taken as a hub name such as "org/dataset" (needs a network).
        try:
            hub = datasets.load_dataset(str(source), config)
        except Exception as exc:  # the hub client raises many unrelated types
            raise InputNotFoundError(
                f"{source}: not a local file or folder, and loading it from the Hugging Face "
                f"hub failed ({type(exc).__name__}: {exc})"
            ) from None
        if isinstance(hub, datasets.DatasetDict):
            return dict(hub.items())
        if isinstance(hub, datasets.Dataset):
            return {None: hub}
        raise UsageError(f"{source}: streaming datasets are not supported")


def _column_names(
    mapping: Mapping[str, str] | Sequence[str] | str,
) -> dict[str, str]:
    if isinstance(mapping, str):
        mapping = [mapping]
    if isinstance(mapping, Mapping):
        pairs = dict(mapping)
    else:
        pairs = {column: dimension_id(column) for column in mapping}
    for dim in pairs.values():
        check_dimension(dim)
    return pairs


def _decoder(feature: Any) -> tuple[bool, Any]:
    """``(multi-label?, ClassLabel or None)`` for a label column's feature."""
    datasets = require_datasets()

    inner = feature
    multi = False
    if isinstance(feature, datasets.Sequence | datasets.List | list):
        multi = True
        inner = feature[0] if isinstance(feature, list) else feature.feature
    if isinstance(inner, datasets.ClassLabel):
        return multi, inner
    return multi, None


def hf_datasets(
    source: str | Path,
    *,
    text: str = "text",
    labels: Mapping[str, str] | Sequence[str] | str = ("label",),
    id_column: str | None = None,
    doc_id_column: str | None = None,
    split_column: str | None = None,
    splits: Sequence[str] | None = None,
    split: str | None = None,
    codebook: Codebook | None = None,
    config: str | None = None,
) -> ImportResult:
    """Import a Hugging Face dataset as sentence records.

    Parameters
    ----------
    source
        A ``save_to_disk`` folder, a parquet/CSV/JSON(L) file, a folder of split files,
        or a hub name (network).
    text
        The column with the text.
    labels
        Label columns: a list (each column is a dimension named after it, in
        lower_snake_case) or ``{column: dimension}``.  A column holds one label (a
        string, or an integer with a ``ClassLabel`` feature; ``None`` or ``-1`` means
        unlabelled: the record is ``todo``) or a list of them (multi-label).
    id_column, doc_id_column
        Columns with the record and document ids (default: ``<split>-<row>``; the
        document id defaults to the record id).
    split_column
        A column holding each row's split (``train``, ``validation``/``dev``, ``test``).
    splits
        The dataset splits to import (default: all); their names map to ours
        (``validation`` is ``dev``).
    split
        Our split for every record, overriding the dataset's.
    config
        The configuration name of a hub dataset.
    codebook
        As every importer's (see :mod:`framing.exchange.importers`).

    Returns
    -------
    ImportResult
        One sentence record per row of the splits imported.

    Raises
    ------
    AnnotationError
        Listing every bad row as ``source (split):row: what (how to fix)``.
    UsageError
        When a column is missing (naming the columns there are) or a split has no
        counterpart among ours.

    Examples
    --------
    >>> import datasets, pathlib, tempfile
    >>> folder = pathlib.Path(tempfile.mkdtemp()) / "ds"
    >>> features = datasets.Features({"text": datasets.Value("string"),
    ...     "label": datasets.ClassLabel(names=["economic", "security"])})
    >>> ds = datasets.Dataset.from_dict({"text": ["Prices soared."], "label": [0]}, features)
    >>> _ = ds.to_parquet(f"{folder}.parquet")
    >>> hf_datasets(f"{folder}.parquet", labels={"label": "frames"}).records[0].labels
    {'frames': ('economic',)}
    """
    split = check_split(split)
    columns = _column_names(labels)
    parts = load_source(source, config=config)
    if splits is not None:
        missing = [s for s in splits if s not in parts]
        if missing:
            raise UsageError(
                f"{source}: no split {', '.join(map(repr, missing))} "
                f"(it has: {', '.join(str(s) for s in parts)})"
            )
        parts = {name: parts[name] for name in splits}
    if split is None and split_column is None:
        unknown = [name for name in parts if name is not None and name not in SPLIT_NAMES]
        if unknown:
            raise UsageError(
                f"{source}: split(s) {', '.join(map(repr, unknown))} have no counterpart "
                "among train, dev, test (choose splits with --splits, or set one with --split)"
            )
    problems = RowProblems()
    records: list[Sentence | Document] = []
    seen: dict[str, str] = {}
    todo = 0
    for name, dataset in parts.items():
        where = f"{source} ({name})" if name is not None else str(source)
        needed = [text, *columns, id_column, doc_id_column, split_column]
        for column in needed:
            if column is not None and column not in dataset.column_names:
                close = did_you_mean(column, dataset.column_names)
                raise UsageError(
                    f"{where}: no column '{column}'"
                    + (f" (did you mean '{close}'?)" if close else "")
                    + f"; columns: {', '.join(dataset.column_names)}"
                )
        decoders = {column: _decoder(dataset.features[column]) for column in columns}
        ours = split or (SPLIT_NAMES.get(name) if name is not None else None)
        for index, row in enumerate(dataset):
            line = index + 1
            value = row[text]
            if not isinstance(value, str) or not value.strip():
                problems.add(where, line, f"empty or missing text in column '{text}'")
                continue
            record_labels: dict[str, tuple[str, ...]] = {}
            complete = True
            bad = False
            for column, dim in columns.items():
                _, classes = decoders[column]
                raw = row[column]
                if raw is None or (classes is not None and raw == -1):
                    complete = False
                    continue
                items = raw if isinstance(raw, list) else [raw]
                names: list[str] = []
                for item in items:
                    if classes is not None and isinstance(item, int):
                        if not 0 <= item < classes.num_classes:
                            problems.add(
                                where,
                                line,
                                f"class {item} of '{column}' is out of range",
                                f"the ClassLabel has {classes.num_classes} names",
                            )
                            bad = True
                            continue
                        names.append(classes.int2str(item))
                    elif isinstance(item, str) and item.strip():
                        names.append(item.strip())
                    elif isinstance(item, int) and not isinstance(item, bool):
                        names.append(str(item))
                    else:
                        problems.add(
                            where,
                            line,
                            f"label {item!r} in column '{column}' is not a label name",
                            "labels must be strings, or integers of a ClassLabel",
                        )
                        bad = True
                record_labels[dim] = tuple(dict.fromkeys(names))
            if bad:
                continue
            row_split = ours
            if split is None and split_column is not None:
                raw_split = row[split_column]
                row_split = SPLIT_NAMES.get(str(raw_split)) if raw_split is not None else None
                if raw_split is not None and row_split is None:
                    problems.add(
                        where,
                        line,
                        f"split {raw_split!r} in column '{split_column}' is not one of ours",
                        "use train, validation (or dev) or test",
                    )
                    continue
            prefix = name or "row"
            ident = str(row[id_column]) if id_column else f"{prefix}-{line:06d}"
            if ident in seen:
                problems.add(where, line, f"id '{ident}' used twice (first at {seen[ident]})")
                continue
            seen[ident] = f"{where}:{line}"
            doc_id = str(row[doc_id_column]) if doc_id_column else ident
            if not complete:
                todo += 1
            records.append(
                Sentence(
                    id=ident,
                    doc_id=doc_id,
                    text=value,
                    labels=record_labels if complete else {},
                    status="done" if complete else "todo",
                    split=row_split,
                    source=(where, line),
                )
            )
    problems.raise_if_any(f"the dataset {source}")
    codebook = finish(
        records,
        name=f"hf-{dimension_id(Path(str(source)).name or 'dataset')}",
        dimensions=list(columns.values()),
        taxonomy=_class_names(parts, columns),
        codebook=codebook,
    )
    result = ImportResult(records=records, codebook=codebook)
    result.counts = {
        "sentences": result.sentences,
        "unlabelled (todo)": todo,
        **{f"{s} split": sum(r.split == s for r in records) for s in ("train", "dev", "test")},
        **label_counts(codebook),
    }
    return result


def _class_names(
    parts: Mapping[str | None, datasets.Dataset], columns: Mapping[str, str]
) -> dict[str, list[str]]:
    """ClassLabel names per dimension: every class is a codebook label, seen or not."""
    names: dict[str, list[str]] = {}
    for dataset in parts.values():
        for column, dim in columns.items():
            _, classes = _decoder(dataset.features[column])
            if classes is not None:
                names.setdefault(dim, [])
                names[dim] += [n for n in classes.names if n not in names[dim]]
    return names


def label_columns(specs: Sequence[str]) -> dict[str, str]:
    """``["label", "col=frames"]`` -> ``{"label": "label", "col": "frames"}``.

    Raises
    ------
    UsageError
        For a spec that is neither ``COLUMN`` nor ``COLUMN=DIMENSION``.
    """
    columns: dict[str, str] = {}
    for spec in specs:
        column, sep, dim = spec.partition("=")
        if not column or (sep and not dim):
            raise UsageError(f"--labels '{spec}': give COLUMN or COLUMN=DIMENSION")
        columns[column] = dim if sep else dimension_id(column)
    return columns


def _from_options(
    source: str,
    text: str,
    labels: Sequence[str],
    id_column: str | None,
    doc_id_column: str | None,
    split_column: str | None,
    splits: str | None,
    config: str | None,
    split: str | None,
) -> ImportResult:
    return hf_datasets(
        source,
        text=text,
        labels=label_columns(labels),
        id_column=id_column,
        doc_id_column=doc_id_column,
        split_column=split_column,
        splits=[s.strip() for s in splits.split(",") if s.strip()] if splits else None,
        split=split,
        config=config,
    )


IMPORTER = Importer(
    name="datasets",
    help="Import a Hugging Face dataset (folder, data files or hub name) as sentence "
    "records.\n\n"
    "Example: framing import datasets my-dataset/ --text sentence --labels label=frames "
    "-o data.jsonl",
    params=(
        Param(
            "source",
            "A save_to_disk folder, a parquet/CSV/JSON file, a folder of split "
            "files, or a hub name (network).",
            default=REQUIRED,
        ),
        Param("text", "The text column.", ("--text",), default="text"),
        Param(
            "labels",
            "A label column, or COLUMN=DIMENSION; repeat for several dimensions.",
            ("--labels",),
            default=["label"],
            many=True,
        ),
        Param("id_column", "Column of record ids.", ("--id-column",)),
        Param("doc_id_column", "Column of document ids.", ("--doc-id-column",)),
        Param("split_column", "Column of each row's split.", ("--split-column",)),
        Param("splits", "Dataset splits to import, comma-separated (default: all).", ("--splits",)),
        Param("config", "Hub dataset configuration.", ("--config",)),
    ),
    run=_from_options,
)

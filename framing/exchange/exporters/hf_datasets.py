"""The annotation format into a Hugging Face dataset (a ``save_to_disk`` folder or parquet).

Columns: ``id``, ``doc_id``, ``text`` and one column per dimension holding a list of
class indices whose ``ClassLabel`` names are the codebook's label ids (so the label
names travel with the data).  Splits become a ``DatasetDict`` (``dev`` is called
``validation``, as on the hub).  Only ``done`` records are exported: a dataset has no
place for "not annotated yet".  ``datasets`` is imported only when these functions run.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from framing.errors import UsageError
from framing.exchange.exporters import Written, dimensions_of
from framing.exchange.importers.hf_datasets import quiet_datasets, require_datasets
from framing.exchange.registry import Exporter, Param, output_param
from framing.files import atomic_dir
from framing.format.annotations import Document, Sentence
from framing.format.codebook import Codebook

__all__ = ["hf_datasets", "HFExport", "HF_SPLIT_NAMES"]

#: Our split names and the hub's.
HF_SPLIT_NAMES = {"train": "train", "dev": "validation", "test": "test"}


@dataclass
class HFExport:
    """The dataset built by :func:`hf_datasets` (a ``Dataset`` or ``DatasetDict``) and counts."""

    dataset: Any
    counts: dict[str, Any] = field(default_factory=dict)

    def save(self, path: str | Path, format: Literal["disk", "parquet"] = "disk") -> list[Path]:
        """Write the dataset to the folder ``path`` atomically; return the files written.

        ``disk`` is ``save_to_disk`` (read back with ``datasets.load_from_disk``);
        ``parquet`` writes one ``<split>.parquet`` per split (``data.parquet`` without
        splits), which ``datasets.load_dataset("parquet", data_dir=...)`` reads.

        Raises
        ------
        UsageError
            When ``path`` is a file, or a folder that holds something other than a dataset.
        """
        datasets = require_datasets()

        if format not in ("disk", "parquet"):
            raise UsageError(f"format must be 'disk' or 'parquet', got '{format}'")
        target = Path(path)
        _check_replaceable(target)
        with atomic_dir(target) as tmp, quiet_datasets():
            if format == "disk":
                shutil.rmtree(tmp)
                self.dataset.save_to_disk(str(tmp))
            elif isinstance(self.dataset, datasets.DatasetDict):
                for name, part in self.dataset.items():
                    part.to_parquet(str(tmp / f"{name}.parquet"))
            else:
                self.dataset.to_parquet(str(tmp / "data.parquet"))
        return sorted(p for p in target.rglob("*") if p.is_file())


def _looks_like_dataset(folder: Path) -> bool:
    files = [p for p in folder.rglob("*") if p.is_file()]
    if not files:
        return True
    if (folder / "dataset_dict.json").is_file() or (folder / "state.json").is_file():
        return True
    return all(p.suffix == ".parquet" for p in files)


def _check_replaceable(target: Path) -> None:
    if target.is_file():
        raise UsageError(f"{target}: is a file; give a folder for the dataset")
    if target.is_dir() and not _looks_like_dataset(target):
        raise UsageError(
            f"{target}: the folder exists and holds other files than a dataset; "
            "choose a new or empty folder"
        )


def hf_datasets(
    records: Iterable[Sentence | Document],
    codebook: Codebook | None = None,
    *,
    level: Literal["sentence", "document"] = "sentence",
) -> HFExport:
    """Build a ``datasets`` dataset from annotated records.

    Parameters
    ----------
    records
        Records in file order (document records give their sentences' split).
    codebook
        Gives the label names of each dimension's ``ClassLabel``; without it, the
        labels found.
    level
        ``sentence``: one row per ``done`` sentence; ``document``: one row per ``done``
        document record that has a text.

    Returns
    -------
    HFExport
        A ``DatasetDict`` when the records have splits (all of them must), else a ``Dataset``.

    Raises
    ------
    UsageError
        When some exported records have a split and others none.

    Examples
    --------
    >>> from framing.format.annotations import Sentence
    >>> s = Sentence("s1", "d1", "Prices soared.", {"frames": ("economic",)})
    >>> hf_datasets([s]).dataset[0]
    {'id': 's1', 'doc_id': 'd1', 'text': 'Prices soared.', 'frames': [0]}
    """
    datasets = require_datasets()

    if level not in ("sentence", "document"):
        raise UsageError(f"level must be 'sentence' or 'document', got '{level}'")
    records = list(records)
    doc_splits = {r.doc_id: r.split for r in records if isinstance(r, Document)}
    dims = dimensions_of(records, codebook)
    rows: dict[str | None, dict[str, list[Any]]] = {}
    left_out = 0
    for record in records:
        wanted = Sentence if level == "sentence" else Document
        if not isinstance(record, wanted):
            continue
        if record.status != "done" or record.text is None:
            left_out += 1
            continue
        split = record.split or doc_splits.get(record.doc_id)
        columns = rows.setdefault(
            split, {"id": [], "doc_id": [], "text": [], **{dim: [] for dim in dims}}
        )
        columns["id"].append(record.id if isinstance(record, Sentence) else record.doc_id)
        columns["doc_id"].append(record.doc_id)
        columns["text"].append(record.text)
        for dim, labels in dims.items():
            index = {label: i for i, label in enumerate(labels)}
            columns[dim].append([index[label] for label in record.labels.get(dim, ())])
    if None in rows and len(rows) > 1:
        raise UsageError(
            f"{len(rows[None]['id'])} exported record(s) have no split while others have one: "
            "give every record a split, or none"
        )
    features = datasets.Features(
        {
            "id": datasets.Value("string"),
            "doc_id": datasets.Value("string"),
            "text": datasets.Value("string"),
            **{
                dim: datasets.List(datasets.ClassLabel(names=labels))
                for dim, labels in dims.items()
            },
        }
    )
    if not rows:
        rows[None] = {name: [] for name in features}
    with quiet_datasets():
        parts = {
            split: datasets.Dataset.from_dict(columns, features=features)
            for split, columns in rows.items()
        }
        if None in parts:
            dataset: Any = parts[None]
        else:
            order = [s for s in HF_SPLIT_NAMES if s in parts]
            dataset = datasets.DatasetDict(
                {HF_SPLIT_NAMES[s]: parts[s] for s in order if s is not None}
            )
    counts: dict[str, Any] = {"rows": sum(len(p) for p in parts.values())}
    counts.update({f"{HF_SPLIT_NAMES.get(s or '', s)}": len(p) for s, p in parts.items() if s})
    counts["not done (left out)"] = left_out
    return HFExport(dataset=dataset, counts=counts)


def _write(
    records: list[Sentence | Document],
    codebook: Codebook | None,
    *,
    output: Path,
    format: Literal["disk", "parquet"],
    level: Literal["sentence", "document"],
) -> Written:
    result = hf_datasets(records, codebook, level=level)
    files = result.save(output, format)
    return Written(result.counts["rows"], "rows", {**result.counts, "files": len(files)})


EXPORTER = Exporter(
    name="datasets",
    help="Export done records as a Hugging Face dataset folder (splits as a DatasetDict).\n\n"
    "Example: framing export datasets data/annotations -o hf-corpus --format parquet",
    params=(
        output_param("Folder to write.", folder=True),
        Param(
            "format",
            "disk (save_to_disk) or parquet (one file a split).",
            ("--format", "-f"),
            default="disk",
            choices=("disk", "parquet"),
        ),
        Param(
            "level",
            "Rows: sentences or documents.",
            ("--level",),
            default="sentence",
            choices=("sentence", "document"),
        ),
    ),
    run=_write,
    # before reading the data: a missing extra is known at once
    before=require_datasets,
)

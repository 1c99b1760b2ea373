"""The annotation format into Prodigy tasks for the choice interface.

Each record becomes ``{"text", "options", "meta"}``; the options are every label of
every dimension (from the codebook, or those found), each carrying its ``dimension``
and ``label`` so that the answers import back exactly.  ``done`` records come with
their labels pre-selected in ``accept`` and ``answer: accept``; ``skip`` records with
``answer: ignore``; ``todo`` records without an answer.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

from framing.exchange.exporters import ExportResult, Written, dimensions_of
from framing.exchange.record_fields import display_text, record_fields
from framing.exchange.registry import Exporter, output_param
from framing.format.annotations import Document, Sentence
from framing.format.codebook import Codebook

__all__ = ["prodigy"]


def prodigy(
    records: Iterable[Sentence | Document], codebook: Codebook | None = None
) -> ExportResult:
    """Turn records into Prodigy choice tasks.

    Parameters
    ----------
    records
        Sentence and document records (a document without text shows its title).
    codebook
        Gives the options (every label, with its name); without it the labels found.

    Returns
    -------
    ExportResult
        ``items`` are the tasks; write them with :meth:`ExportResult.write_jsonl`.

    Examples
    --------
    >>> from framing.format.annotations import Sentence
    >>> task = prodigy([Sentence("s1", "d1", "Prices soared.", {"frames": ("economic",)})])
    >>> task.items[0]["accept"], task.items[0]["options"][0]["id"]
    (['economic'], 'economic')
    """
    records = list(records)
    dims = dimensions_of(records, codebook)
    several = len(dims) > 1

    def option_id(dim: str, label: str) -> str:
        return f"{dim}:{label}" if several else label

    names: dict[tuple[str, str], str] = {}
    if codebook is not None:
        for dimension in codebook.dimensions:
            for lab in dimension.labels:
                text = f"{dimension.name}: {lab.name}" if several else lab.name
                names[(dimension.id, lab.id)] = text
    options = [
        {
            "id": option_id(dim, label),
            "text": names.get((dim, label), f"{dim}: {label}" if several else label),
            "dimension": dim,
            "label": label,
        }
        for dim, labels in dims.items()
        for label in labels
    ]
    tasks: list[dict[str, Any]] = []
    for record in records:
        task: dict[str, Any] = {"text": display_text(record), "options": options}
        task["meta"] = record_fields(record)
        if record.status == "done":
            task["accept"] = [
                option_id(dim, label) for dim in dims for label in record.labels.get(dim, ())
            ]
            task["answer"] = "accept"
        elif record.status == "skip":
            task["accept"] = []
            task["answer"] = "ignore"
        tasks.append(task)
    return ExportResult(
        items=tasks,
        counts={
            "tasks": len(tasks),
            "options": len(options),
        },
    )


def _write(
    records: list[Sentence | Document], codebook: Codebook | None, *, output: Path
) -> Written:
    result = prodigy(records, codebook)
    return Written(result.write_jsonl(output), "tasks", result.counts)


EXPORTER = Exporter(
    name="prodigy",
    help="Export records as Prodigy choice tasks (options from the codebook).\n\n"
    "Example: framing export prodigy data/annotations/dev.jsonl -o tasks.jsonl",
    params=(output_param("JSONL file."),),
    run=_write,
)

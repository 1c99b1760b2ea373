"""The annotation format into doccano JSONL (text classification).

One line per record: ``{"text": ..., "label": [...]}`` plus our record fields
(``record_id``, ``doc_id``, ``split``, ...) and ``status`` when it is not ``done``;
doccano keeps extra fields as metadata.  doccano has one label set per project, so
with several dimensions the labels are prefixed: ``frames:economic``.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from framing.errors import UsageError
from framing.exchange.exporters import ExportResult, Written
from framing.exchange.record_fields import display_text, record_fields
from framing.exchange.registry import Exporter, Param, output_param
from framing.format.annotations import Document, Sentence
from framing.format.codebook import Codebook

__all__ = ["doccano"]


def doccano(
    records: Iterable[Sentence | Document],
    codebook: Codebook | None = None,
    *,
    dimensions: Sequence[str] | None = None,
    separator: str = ":",
) -> ExportResult:
    """Turn records into doccano text-classification lines.

    Parameters
    ----------
    records
        Sentence and document records (a document without text shows its title).
    codebook
        When given, ``dimensions`` are checked against it.
    dimensions
        The dimensions to export (default: all those of the codebook or the records).
    separator
        Between dimension and label when more than one dimension is exported.

    Returns
    -------
    ExportResult
        ``counts["prefixed"]`` says whether labels carry a dimension prefix (import
        them back with ``separator``).

    Examples
    --------
    >>> from framing.format.annotations import Sentence
    >>> s = Sentence("s1", "d1", "Prices soared.", {"frames": ("economic",)})
    >>> doccano([s]).items[0]["label"]
    ['economic']
    """
    records = list(records)
    if dimensions is None:
        if codebook is not None:
            dims = list(codebook.dimension_ids)
        else:
            dims = list(dict.fromkeys(d for r in records for d in r.labels))
    else:
        dims = list(dimensions)
        if codebook is not None:
            for dim in dims:
                codebook.dimension(dim)
    if not separator:
        raise UsageError("the label separator must not be empty")
    prefixed = len(dims) > 1
    lines: list[dict[str, Any]] = []
    for record in records:
        labels = [
            f"{dim}{separator}{label}" if prefixed else label
            for dim in dims
            for label in record.labels.get(dim, ())
        ]
        line: dict[str, Any] = {
            "text": display_text(record),
            "label": labels,
            **record_fields(record),
        }
        if record.status != "done":
            line["status"] = record.status
        lines.append(line)
    return ExportResult(
        items=lines,
        counts={
            "lines": len(lines),
            "dimensions": ", ".join(dims),
            "prefixed": prefixed,
        },
    )


def _write(
    records: list[Sentence | Document],
    codebook: Codebook | None,
    *,
    output: Path,
    dimension: list[str] | None,
    separator: str,
) -> Written:
    result = doccano(records, codebook, dimensions=dimension or None, separator=separator)
    return Written(result.write_jsonl(output), "lines", result.counts)


EXPORTER = Exporter(
    name="doccano",
    help="Export records as doccano text-classification JSONL.\n\n"
    "Example: framing export doccano data/annotations/dev.jsonl -d frames -o doccano.jsonl",
    params=(
        output_param("JSONL file."),
        Param(
            "dimension",
            "Dimension to export (repeat; default: all).",
            ("--dimension", "-d"),
            many=True,
        ),
        Param(
            "separator",
            "Between dimension and label when several are exported.",
            ("--separator",),
            default=":",
        ),
    ),
    run=_write,
)

"""doccano JSONL exports (text classification) into the annotation format.

doccano exports one JSON object a line with the text and its labels::

    {"id": 12, "text": "Prices soared.", "label": ["economic"]}

The labels go to one dimension (``label`` unless told otherwise).  Several dimensions
travel as prefixed labels (``frames:economic``) when a separator is given: the text
before the first separator is the dimension.  Fields that ``framing export doccano``
writes (``record_id``, ``doc_id``, ``status``, ...) are read back, so a round trip
gives the same records; other fields go to ``meta``.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from framing.errors import UsageError
from framing.exchange.importers import ImportResult
from framing.exchange.importers.labels import check_dimension, check_split, finish, label_counts
from framing.exchange.importers.problems import RowProblems, keep_unique
from framing.exchange.importers.reading import iter_jsonl, require_file
from framing.exchange.record_fields import build_record
from framing.exchange.registry import REQUIRED, Importer, Param
from framing.format.annotations import STATUSES, Document, Sentence
from framing.format.codebook import Codebook

__all__ = ["doccano"]

#: Keys of a doccano line that are doccano's own, not metadata worth keeping.
_DOCCANO_KEYS = ("id", "text", "label", "labels", "Comments", "comments", "status")


def doccano(
    path: str | Path,
    *,
    dimension: str = "label",
    separator: str | None = None,
    split: str | None = None,
    codebook: Codebook | None = None,
) -> ImportResult:
    """Import a doccano text-classification JSONL export.

    Parameters
    ----------
    path
        The exported JSONL file.
    dimension
        The dimension the labels go to (lower_snake_case), when ``separator`` is None.
    separator
        When given (e.g. ``":"``), every label is ``<dimension><separator><label>``.
    split, codebook
        As every importer's (see :mod:`framing.exchange.importers`);
        the split overrides exported splits.

    Returns
    -------
    ImportResult
        One ``done`` record per line (``todo``/``skip`` when the line has a ``status``
        field saying so).

    Raises
    ------
    AnnotationError
        Listing every malformed line as ``file:line: what (how to fix)``.

    Examples
    --------
    >>> import pathlib, tempfile
    >>> f = pathlib.Path(tempfile.mkdtemp()) / "export.jsonl"
    >>> _ = f.write_text('{"id": 1, "text": "Prices soared.", "label": ["economic"]}\\n')
    >>> doccano(f, dimension="frames").records[0].labels
    {'frames': ('economic',)}
    """
    split = check_split(split)
    if separator is None:
        check_dimension(dimension)
    elif not separator:
        raise UsageError("the label separator must not be empty")
    path = require_file(path, "doccano export")
    problems = RowProblems()
    records: list[Sentence | Document] = []
    seen: dict[str, int] = {}
    for line, item in iter_jsonl(path, problems):
        if not isinstance(item, Mapping):
            problems.add(path, line, "a line must be a JSON object")
            continue
        raw = item.get("label", item.get("labels", []))
        if isinstance(raw, str):
            raw = [raw]
        if not isinstance(raw, list) or not all(isinstance(v, str) for v in raw):
            hint = (
                "this looks like a sequence-labelling export; export a text-classification project"
                if isinstance(raw, list)
                else "'label' must be a list of label names"
            )
            problems.add(path, line, f"labels must be strings, got {raw!r}", hint)
            continue
        labels: dict[str, dict[str, None]] = {}
        bad = False
        for value in raw:
            if separator is None:
                dim, label = dimension, value
            else:
                dim, sep, label = value.partition(separator)
                if not sep or not dim:
                    problems.add(
                        path,
                        line,
                        f"label {value!r} has no '<dimension>{separator}' prefix",
                        "import without --separator, or prefix every label",
                    )
                    bad = True
                    continue
            labels.setdefault(dim, {}).setdefault(label, None)
        if bad:
            continue
        status = item.get("status", "done")
        if status not in STATUSES:
            problems.add(path, line, f"status must be one of {', '.join(STATUSES)}, got {status!r}")
            continue
        fields: dict[str, Any] = {k: v for k, v in item.items() if k not in _DOCCANO_KEYS}
        if "record_id" not in fields and "id" in item:
            fields["record_id"] = f"{path.stem}-{item['id']}"
        record = build_record(
            fields,
            text=item.get("text"),
            labels={dim: tuple(values) for dim, values in labels.items()},
            status=status,
            default_id=f"{path.stem}-{line}",
            where=(str(path), line),
            problems=problems,
        )
        if record is None:
            continue
        for dim in record.labels:
            if not _valid_dimension(dim):
                problems.add(
                    path,
                    line,
                    f"dimension '{dim}' is not lower_snake_case",
                    "prefix labels with a dimension id such as 'frames'",
                )
        keep_unique(
            record, records, seen, (path, line), problems, "give each line a unique record_id"
        )
    problems.raise_if_any(f"the doccano export {path}")
    dims = [dimension] if separator is None else []
    dims += [d for r in records for d in r.labels if d not in dims]
    codebook = finish(
        records, name=f"doccano-{path.stem}", dimensions=dims, split=split, codebook=codebook
    )
    result = ImportResult(records=records, codebook=codebook)
    result.counts = {
        "records": len(records),
        "done": sum(r.status == "done" for r in records),
        **label_counts(codebook),
    }
    return result


def _valid_dimension(dim: str) -> bool:
    try:
        check_dimension(dim)
    except ValueError:
        return False
    return True


IMPORTER = Importer(
    name="doccano",
    help="Import a doccano text-classification JSONL export.\n\n"
    "Example: framing import doccano all.jsonl --dimension frames -o annotated.jsonl",
    params=(
        Param(
            "path",
            "doccano text-classification JSONL export.",
            kind=Path,
            default=REQUIRED,
            dir_okay=False,
        ),
        Param(
            "dimension", "The dimension the labels go to.", ("--dimension", "-d"), default="label"
        ),
        Param(
            "separator",
            "Labels are '<dimension><separator><label>' (as 'framing export doccano' "
            "writes with several dimensions), e.g. ':'.",
            ("--separator",),
        ),
    ),
    run=doccano,
)

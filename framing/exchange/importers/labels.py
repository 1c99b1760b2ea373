"""The labels of an import: label lists, dimension ids and splits checked, and the
records fitted to a codebook (one built from the labels found, or an existing one with
``--unknown-labels error|drop|add``).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from framing.errors import UsageError
from framing.exchange.importers.problems import RowProblems
from framing.format.annotations import SPLITS, Document, Sentence
from framing.format.codebook import Codebook, did_you_mean
from framing.format.records import labels_found

__all__ = [
    "UNKNOWN_POLICIES",
    "check_dimension",
    "check_split",
    "conform",
    "dimension_id",
    "finish",
    "label_counts",
    "labels_found",
    "split_labels",
    "unique",
]

Record = Sentence | Document

_DIMENSION_ID = re.compile(r"^[a-z][a-z0-9_]*$")


def split_labels(value: str, separator: str) -> list[str]:
    """Split a joined label list, trimming spaces; empty items (``a;;b``, ``a;``) are dropped."""
    return [item.strip() for item in value.split(separator) if item.strip()]


def unique(labels: Iterable[str]) -> tuple[tuple[str, ...], int]:
    """Labels in first-seen order without repeats, and how many repeats were dropped."""
    seen: dict[str, None] = {}
    total = 0
    for label in labels:
        total += 1
        seen.setdefault(label, None)
    return tuple(seen), total - len(seen)


def dimension_id(name: str) -> str:
    """Turn a column or tool field name into a lower_snake_case dimension id.

    Examples
    --------
    >>> dimension_id("Frames")
    'frames'
    >>> dimension_id("Persuasion techniques")
    'persuasion_techniques'
    """
    ident = re.sub(r"[^0-9a-z]+", "_", name.strip().lower()).strip("_")
    if not ident or not ident[0].isalpha():
        ident = f"d_{ident}" if ident else "label"
    return ident


def check_dimension(name: str) -> str:
    """Return ``name`` when it is a valid dimension id; raise UsageError otherwise."""
    from framing.format.annotations import RESERVED_FIELDS

    if not _DIMENSION_ID.match(name):
        raise UsageError(
            f"dimension id '{name}' must be lower_snake_case (letters, digits, '_'), "
            f"e.g. '{dimension_id(name)}'"
        )
    if name in RESERVED_FIELDS:
        raise UsageError(f"dimension id '{name}' is a reserved record field; choose another")
    return name


def check_split(split: str | None) -> str | None:
    if split is not None and split not in SPLITS:
        raise UsageError(f"split must be one of {', '.join(SPLITS)}, got '{split}'")
    return split


def finish(
    records: list[Record],
    *,
    name: str,
    dimensions: Sequence[str],
    taxonomy: Mapping[str, Sequence[str]] | None = None,
    description: str = "",
    split: str | None = None,
    document_dimensions: Sequence[str] | None = None,
    codebook: Codebook | None = None,
) -> Codebook | None:
    """Fill every record's label lists, set the split and build the codebook.

    Dimensions without any label (found or in ``taxonomy``) cannot be in a codebook:
    they are dropped from the records.  Without any label at all (unannotated
    input) there is no codebook: None.  Sentence records get a list for every
    dimension (the format requires one on ``done`` sentences); document records get
    one for each of ``document_dimensions`` (default: only the lists they already
    have), so that a document's other labels stay the union of its sentences' labels.
    With ``codebook``, the labels are checked against it instead (see :func:`conform`).
    """
    if codebook is not None:
        for record in records:
            if split is not None:
                record.split = split
        conform(records, codebook, name)
        return codebook
    found = labels_found(records, dimensions)
    for dim, labels in (taxonomy or {}).items():
        found.setdefault(dim, [])
        found[dim] = list(dict.fromkeys([*labels, *found[dim]]))
    kept = [dim for dim in found if found[dim]]
    for record in records:
        if isinstance(record, Sentence):
            dims = kept
        elif document_dimensions is None:
            dims = [d for d in kept if d in record.labels]
        else:
            dims = [d for d in kept if d in document_dimensions]
        record.labels = {dim: tuple(record.labels.get(dim, ())) for dim in dims}
        if split is not None:
            record.split = split
    if not kept:
        return None
    return Codebook.from_labels(
        {dim: found[dim] for dim in kept}, name=name, description=description
    )


#: What an import does with a label its codebook lacks (``--unknown-labels``).
UNKNOWN_POLICIES = ("error", "drop", "add")


def conform(
    records: list[Record], codebook: Codebook, source: str, unknown: str = "error"
) -> tuple[Codebook, dict[str, int]]:
    """Check imported labels against an existing codebook; give sentences every dimension.

    ``unknown`` says what to do with a label (or dimension) the codebook lacks:
    ``error`` reports each one with where it first occurs and how many records carry it;
    ``drop`` removes it from the records; ``add`` adds it to the codebook.

    Returns
    -------
    tuple
        The codebook (with the added labels under ``add``) and, per unknown
        ``dimension:label``, the number of records that carried it.

    Raises
    ------
    AnnotationError
        Under ``error``, naming every unknown dimension and label (with the closest match).
    """
    if unknown not in UNKNOWN_POLICIES:
        raise UsageError(
            f"unknown-labels must be one of {', '.join(UNKNOWN_POLICIES)}, got '{unknown}'"
        )
    known = {dim.id: set(dim.label_ids) for dim in codebook.dimensions}
    found: dict[tuple[str, str], list[Any]] = {}
    for record in records:
        where = record.source or (source, None)
        for dim, labels in record.labels.items():
            if dim not in known:
                found.setdefault((dim, ""), []).append(where)
                for label in labels:
                    found.setdefault((dim, label), []).append(where)
                continue
            for label in labels:
                if label not in known[dim]:
                    found.setdefault((dim, label), []).append(where)
    summary = {
        f"{dim}:{label}" if label else f"{dim} (dimension)": len(where)
        for (dim, label), where in found.items()
    }
    if found and unknown == "error":
        problems = RowProblems()
        for (dim, label), wheres in found.items():
            first, n = wheres[0], len(wheres)
            count = f" (first of {n} records)" if n > 1 else ""
            if not label:
                match = did_you_mean(dim, known)
                hint = (
                    f"did you mean '{match}'?" if match else f"the codebook has: {', '.join(known)}"
                )
                problems.add(
                    first[0], first[1], f"dimension '{dim}' is not in the codebook{count}", hint
                )
            elif dim in known:
                match = did_you_mean(label, known[dim])
                problems.add(
                    first[0],
                    first[1],
                    f"label '{label}' is not in the codebook's '{dim}'{count}",
                    f"did you mean '{match}'?"
                    if match
                    else "add it to the codebook, or import with --unknown-labels drop|add",
                )
        problems.raise_if_any(f"the labels of {source} (against codebook '{codebook.name}')")
    if found and unknown == "drop":
        for record in records:
            record.labels = {
                dim: tuple(label for label in labels if label in known[dim])
                for dim, labels in record.labels.items()
                if dim in known
            }
    if found and unknown == "add":
        codebook = _with_labels(codebook, [key for key in found if key[1]], source)
        known = {dim.id: set(dim.label_ids) for dim in codebook.dimensions}
    for record in records:
        if isinstance(record, Sentence):
            record.labels = {dim: tuple(record.labels.get(dim, ())) for dim in known}
    return codebook, summary


def _with_labels(codebook: Codebook, added: list[tuple[str, str]], source: str) -> Codebook:
    """``codebook`` with the ``(dimension, label)`` pairs added (new dimensions at the end)."""
    from dataclasses import replace

    from framing.format.codebook import Dimension, Label

    def label(dim: str, ident: str) -> Label:
        return Label(id=ident, name=ident, definition=f"Added on import from {source}.")

    dims = list(codebook.dimensions)
    for i, dim in enumerate(dims):
        extra = tuple(label(dim.id, lab) for d, lab in added if d == dim.id)
        if extra:
            dims[i] = replace(dim, labels=(*dim.labels, *extra))
    present = {dim.id for dim in dims}
    for new_dim in dict.fromkeys(d for d, _ in added if d not in present):
        dims.append(
            Dimension(
                id=new_dim,
                name=new_dim.replace("_", " ").capitalize(),
                description=f"Added on import from {source}.",
                labels=tuple(label(new_dim, lab) for d, lab in added if d == new_dim),
            )
        )
    grown = replace(codebook, dimensions=tuple(dims), source=None)
    return Codebook.from_dict(grown.to_dict(), source=f"<codebook {codebook.name}>")


def label_counts(codebook: Codebook | None) -> dict[str, int]:
    """``{"<dimension> labels": n}`` for an import's counts."""
    if codebook is None:
        return {}
    return {f"{dim.id} labels": len(dim.labels) for dim in codebook.dimensions}

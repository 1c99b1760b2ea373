"""Split a corpus into train/dev/test by document, stratified over labels.

Sentences of one article are not independent, so a split that puts some of them in
training and others in the test set measures memory, not generalisation: the unit of
the split is the document (``by="doc"``).  Among the ways to cut documents into parts
of the requested sizes, :func:`split_corpus` looks for one where each label's
documents are spread in the same proportions, by iterative stratification (Sechidis,
Tsoumakas and Vlahavas 2011, "On the stratification of multi-label data"): the
rarest label is placed first, each of its documents going to the part that most lacks
that label, ties broken by the part that most lacks documents, then by a seeded draw.

Examples
--------
>>> from framing.format.annotations import Sentence
>>> recs = [Sentence(id=f"s{i}", doc_id=f"d{i}", text="x", labels={"f": ("a",) if i % 2 else ()})
...         for i in range(10)]
>>> result = split_corpus(recs, ratios=(0.8, 0.2), seed=1)
>>> result.counts["train"]["documents"], result.counts["test"]["documents"]
(8, 2)
"""

from __future__ import annotations

import random
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from framing.errors import UsageError
from framing.format.annotations import Document, Record, Sentence

__all__ = ["SplitResult", "split_corpus", "parse_ratios"]


def parse_ratios(text: str) -> tuple[float, ...]:
    """``"80/10/10"`` -> ``(0.8, 0.1, 0.1)``; two parts are train/test, three train/dev/test.

    Raises
    ------
    UsageError
    """
    parts = text.replace(":", "/").split("/")
    try:
        values = [float(p) for p in parts]
    except ValueError:
        raise UsageError(f"--ratios '{text}': give numbers joined by '/', e.g. 80/10/10") from None
    if len(values) not in (2, 3) or any(v < 0 for v in values) or sum(values) <= 0:
        raise UsageError(
            f"--ratios '{text}': give two (train/test) or three (train/dev/test) "
            "non-negative numbers, e.g. 80/10/10"
        )
    total = sum(values)
    return tuple(v / total for v in values)


@dataclass
class SplitResult:
    """The records with their ``split`` set, each document's part, and counts per part."""

    records: list[Record]
    assignment: dict[str, str]
    counts: dict[str, dict[str, Any]] = field(default_factory=dict)
    changed: int = 0

    def to_dict(self) -> dict[str, Any]:
        return {"parts": self.counts, "records whose split changed": self.changed}


def _unit(record: Record, by: str) -> str:
    if isinstance(record, Document) or by == "doc":
        return record.doc_id
    return f"{record.doc_id}\x00{record.id}"


def split_corpus(
    records: Iterable[Record],
    *,
    ratios: Sequence[float] = (0.8, 0.1, 0.1),
    seed: int = 13,
    by: str = "doc",
) -> SplitResult:
    """Set the ``split`` of every record, grouped by document and stratified over labels.

    Parameters
    ----------
    records
        Annotation records; the labels of ``done`` records (sentences and document
        records, every dimension) are what the split is stratified over.
    ratios
        Sizes of the parts in documents: two values (train, test) or three (train,
        dev, test); they are normalised to sum to 1.
    seed
        The same seed and input give the same split.
    by
        ``"doc"`` (a document's records stay together) or ``"sentence"`` (each sentence
        on its own; document records then keep no split).

    Returns
    -------
    SplitResult

    Raises
    ------
    UsageError
        For bad ratios or ``by``, or no records.
    """
    if by not in ("doc", "sentence"):
        raise UsageError(f"--by must be 'doc' or 'sentence', got '{by}'")
    if len(ratios) not in (2, 3) or any(r < 0 for r in ratios) or sum(ratios) <= 0:
        raise UsageError("ratios must be two (train/test) or three (train/dev/test) sizes")
    names = ("train", "test") if len(ratios) == 2 else ("train", "dev", "test")
    weights = [r / sum(ratios) for r in ratios]
    records = list(records)
    if not records:
        raise UsageError("no records to split")
    labels: dict[str, set[tuple[str, str]]] = {}
    for record in records:
        if isinstance(record, Document) and by == "sentence":
            continue
        bucket = labels.setdefault(_unit(record, by), set())
        if record.status == "done":
            bucket.update((dim, label) for dim, values in record.labels.items() for label in values)
    units = list(labels)
    rng = random.Random(seed)
    rng.shuffle(units)
    need_docs = [w * len(units) for w in weights]
    label_docs: dict[tuple[str, str], int] = {}
    for unit in units:
        for key in labels[unit]:
            label_docs[key] = label_docs.get(key, 0) + 1
    need = {key: [w * n for w in weights] for key, n in label_docs.items()}
    assignment: dict[str, str] = {}
    remaining = set(units)

    def place(unit: str, key: tuple[str, str] | None) -> None:
        def rank(i: int) -> tuple[float, float, float]:
            lack = need[key][i] if key is not None else 0.0
            return (lack, need_docs[i], rng.random())

        best = max(range(len(names)), key=rank)
        assignment[unit] = names[best]
        need_docs[best] -= 1
        for other in labels[unit]:
            need[other][best] -= 1
        remaining.discard(unit)

    while remaining:
        counts: dict[tuple[str, str], int] = {}
        for unit in remaining:
            for key in labels[unit]:
                counts[key] = counts.get(key, 0) + 1
        if not counts:
            for unit in [u for u in units if u in remaining]:
                place(unit, None)
            break
        rarest = min(counts, key=lambda k: (counts[k], k))
        for unit in [u for u in units if u in remaining and rarest in labels[u]]:
            place(unit, rarest)

    changed = 0
    out: list[Record] = []
    for record in records:
        if isinstance(record, Document) and by == "sentence":
            part = None
        else:
            part = assignment[_unit(record, by)]
        if record.split != part:
            changed += 1
            record.split = part
        out.append(record)
    result = SplitResult(records=out, assignment=assignment, changed=changed)
    for name in names:
        members = [u for u, part in assignment.items() if part == name]
        per_label: dict[str, int] = {}
        for unit in members:
            for dim, label in sorted(labels[unit]):
                per_label[f"{dim}:{label}"] = per_label.get(f"{dim}:{label}", 0) + 1
        result.counts[name] = {
            "documents" if by == "doc" else "sentences": len(members),
            "sentences": sum(1 for r in out if isinstance(r, Sentence) and r.split == name),
            "labels": dict(sorted(per_label.items())),
        }
    return result

"""Corpus statistics: what ``framing stats`` prints."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from itertools import combinations
from pathlib import Path
from typing import Any

from framing.format.annotations import Document, Sentence, iter_records
from framing.format.codebook import Codebook

__all__ = ["CorpusStats", "stats"]


@dataclass
class DimensionStats:
    """Label counts of one dimension over ``done`` sentences."""

    labels: list[str]
    counts: dict[str, int] = field(default_factory=dict)
    by_split: dict[str, dict[str, int]] = field(default_factory=dict)
    labels_per_sentence: dict[int, int] = field(default_factory=dict)
    cooccurrence: dict[tuple[str, str], int] = field(default_factory=dict)
    document_counts: dict[str, int] = field(default_factory=dict)
    unlabelled_by_split: dict[str, int] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "counts": {label: self.counts.get(label, 0) for label in self.labels},
            "by_split": self.by_split,
            "labels_per_sentence": {str(k): v for k, v in sorted(self.labels_per_sentence.items())},
            "cooccurrence": [
                {"labels": list(pair), "count": n}
                for pair, n in sorted(self.cooccurrence.items(), key=lambda kv: (-kv[1], kv[0]))
            ],
            "document_counts": self.document_counts,
            "unlabelled_by_split": self.unlabelled_by_split,
        }


@dataclass
class CorpusStats:
    """Counts of a set of annotation files (see :func:`stats`)."""

    files: list[str]
    documents: int
    document_records: int
    sentences: int
    status: dict[str, int]
    splits: dict[str, int]
    dimensions: dict[str, DimensionStats]

    def to_dict(self) -> dict[str, Any]:
        return {
            "files": self.files,
            "documents": self.documents,
            "document_records": self.document_records,
            "sentences": self.sentences,
            "status": self.status,
            "splits": self.splits,
            "dimensions": {dim: d.to_dict() for dim, d in self.dimensions.items()},
        }

    def to_text(self) -> str:
        """A plain-text report for the terminal."""
        lines = [
            f"files: {len(self.files)}",
            f"documents: {self.documents} ({self.document_records} document records)",
            f"sentences: {self.sentences} ("
            + ", ".join(f"{k} {v}" for k, v in sorted(self.status.items()))
            + ")",
        ]
        if self.splits:
            lines.append(
                "splits (done sentences): "
                + ", ".join(f"{k} {v}" for k, v in sorted(self.splits.items()))
            )
        splits = sorted(self.splits)
        for dim, d in self.dimensions.items():
            lines.append("")
            lines.append(f"[{dim}]")
            width = max([len(label) for label in d.labels] + [5])
            header = f"  {'label':<{width}}  {'total':>5}" + "".join(f"  {s:>5}" for s in splits)
            lines.append(header)
            for label in d.labels:
                row = f"  {label:<{width}}  {d.counts.get(label, 0):>5}"
                row += "".join(f"  {d.by_split.get(s, {}).get(label, 0):>5}" for s in splits)
                lines.append(row)
            per = ", ".join(f"{k}: {v}" for k, v in sorted(d.labels_per_sentence.items()))
            lines.append(f"  labels per sentence: {per}")
            top = sorted(d.cooccurrence.items(), key=lambda kv: (-kv[1], kv[0]))[:5]
            if top:
                lines.append(
                    "  most frequent pairs: " + ", ".join(f"{a}+{b} ({n})" for (a, b), n in top)
                )
        return "\n".join(lines)

    def to_markdown(self) -> str:
        """Label counts per split as Markdown tables (for data cards)."""
        splits = sorted(self.splits)

        def row(cells: list[object]) -> str:
            return "| " + " | ".join(str(c) for c in cells) + " |"

        out = []
        for dim, d in self.dimensions.items():
            out.append(row([dim, "total", *splits]))
            out.append("|---|" + "---:|" * (1 + len(splits)))
            for label in d.labels:
                by_split = [d.by_split.get(s, {}).get(label, 0) for s in splits]
                out.append(row([f"`{label}`", d.counts.get(label, 0), *by_split]))
            out.append(
                row(
                    ["*(sentences)*", self.sentences_done, *[self.splits.get(s, 0) for s in splits]]
                )
            )
            out.append(
                row(
                    [
                        f"*(no {dim} label)*",
                        d.labels_per_sentence.get(0, 0),
                        *[d.unlabelled_by_split.get(s, 0) for s in splits],
                    ]
                )
            )
            out.append("")
        return "\n".join(out)

    @property
    def sentences_done(self) -> int:
        return self.status.get("done", 0)


def stats(paths: Sequence[str | Path], codebook: Codebook | None = None) -> CorpusStats:
    """Count documents, sentences, statuses and labels per dimension and split.

    Only ``done`` sentences count towards label statistics; ``todo`` and ``skip``
    sentences are counted by status only.

    Raises
    ------
    AnnotationError
        When a record is malformed (validate first to see every problem).
    """
    files: list[str] = []
    doc_ids: set[str] = set()
    document_records = 0
    sentences = 0
    status: Counter[str] = Counter()
    splits: Counter[str] = Counter()
    doc_split: dict[str, str] = {}
    dims: dict[str, DimensionStats] = {}
    if codebook is not None:
        dims = {d.id: DimensionStats(list(d.label_ids)) for d in codebook.dimensions}
    doc_labels: dict[str, dict[str, set[str]]] = {}

    for record in iter_records(paths, codebook):
        if record.source and record.source[0] not in files:
            files.append(record.source[0])
        if isinstance(record, Document):
            document_records += 1
            doc_ids.add(record.doc_id)
            if record.split:
                doc_split[record.doc_id] = record.split
            continue
        assert isinstance(record, Sentence)
        sentences += 1
        doc_ids.add(record.doc_id)
        status[record.status] += 1
        if record.status != "done":
            continue
        split = record.split or doc_split.get(record.doc_id) or "unsplit"
        splits[split] += 1
        for dim, given in record.labels.items():
            d = dims.setdefault(dim, DimensionStats([]))
            for label in given:
                if label not in d.labels:
                    d.labels.append(label)
        for dim, d in dims.items():
            labels = sorted(set(record.labels.get(dim, ())))
            d.labels_per_sentence[len(labels)] = d.labels_per_sentence.get(len(labels), 0) + 1
            bucket = d.by_split.setdefault(split, {})
            if not labels:
                d.unlabelled_by_split[split] = d.unlabelled_by_split.get(split, 0) + 1
            for label in labels:
                d.counts[label] = d.counts.get(label, 0) + 1
                bucket[label] = bucket.get(label, 0) + 1
                doc_labels.setdefault(dim, {}).setdefault(label, set()).add(record.doc_id)
            for a, b in combinations(labels, 2):
                d.cooccurrence[(a, b)] = d.cooccurrence.get((a, b), 0) + 1
    for dim, d in dims.items():
        d.document_counts = {
            label: len(doc_labels.get(dim, {}).get(label, ())) for label in d.labels
        }
    return CorpusStats(
        files=files,
        documents=len(doc_ids),
        document_records=document_records,
        sentences=sentences,
        status=dict(status),
        splits=dict(splits),
        dimensions=dims,
    )

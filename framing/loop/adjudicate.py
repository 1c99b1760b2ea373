"""Adjudication: merge several annotators' files into one, marking disagreements.

Records are matched by ``id`` (see :mod:`framing.loop.agreement` for how annotators
are named).  For each sentence:

- annotators who finished it (``done``, or ``skip``) and agree: their labels (or
  the skip) are kept, status unchanged;
- they disagree: by default (``policy="todo"``) the record becomes ``todo`` with
  empty label lists, so it is not gold until someone adjudicates it; with
  ``policy="intersection"`` it stays ``done`` with the labels every annotator
  gave (a ``skip`` against a ``done`` always becomes ``todo``: a status cannot be
  intersected);
- nobody finished it: it stays ``todo``.

Nothing is dropped: the ``review`` field of every merged record names the
annotators who coded it and, on a disagreement, holds what each of them said::

    "review": {"annotators": ["ann_a", "ann_b"], "disagreement": true,
               "dimensions": ["frames"], "agreed": {"frames": [], "rhetoric": []},
               "annotations": {"ann_a": {"status": "done", "frames": ["economic"], ...},
                               "ann_b": {"status": "done", "frames": ["security"], ...}}}

Document records are merged the same way (by ``doc_id``), so document-level labels
are adjudicated too.  The output validates against the same codebook.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Literal

from framing.errors import UsageError
from framing.format.annotations import Document, Record, Sentence
from framing.format.codebook import Codebook
from framing.loop.agreement import dimension_labels, read_annotators

__all__ = ["AdjudicationResult", "adjudicate", "POLICIES"]

Policy = Literal["todo", "intersection"]
POLICIES: tuple[str, ...] = ("todo", "intersection")


@dataclass
class AdjudicationResult:
    """The merged records, in document order, and what happened to them."""

    records: list[Record]
    annotators: list[str]
    policy: str
    counts: dict[str, int] = field(default_factory=dict)

    def summary(self) -> str:
        counts = ", ".join(f"{k} {v}" for k, v in self.counts.items())
        return f"{len(self.annotators)} annotators ({', '.join(self.annotators)}): {counts}"

    def to_dict(self) -> dict[str, Any]:
        return {"annotators": self.annotators, "policy": self.policy, "counts": self.counts}


def _said(record: Sentence | Document, dims: Iterable[str]) -> dict[str, Any]:
    data: dict[str, Any] = {"status": record.status}
    if record.status == "done":
        for dim in dims:
            if dim in record.labels:
                data[dim] = list(record.labels[dim])
    if record.note is not None:
        data["note"] = record.note
    if record.review is not None:
        data["review"] = record.review
    return data


def _merge(
    versions: Mapping[str, Sentence | Document],
    dims: Sequence[str],
    policy: Policy,
    counts: dict[str, int],
) -> Sentence | Document:
    """One merged record from each annotator's version of it (first file's fields win)."""
    base = next(iter(versions.values()))
    decided = {name: r for name, r in versions.items() if r.status in ("done", "skip")}
    # Dimensions this kind of record uses: every codebook dimension on sentences; on
    # documents only those some annotator filled in (document-level labels are optional).
    used = [
        d
        for d in dims
        if isinstance(base, Sentence) or any(d in r.labels for r in decided.values())
    ]
    merged: Sentence | Document = replace(base, annotator=None, source=None)
    if not decided:
        counts["uncoded"] += 1
        merged.status = "todo"
        merged.labels = {d: () for d in used} if isinstance(base, Sentence) else {}
        kept = {n: _said(r, dims) for n, r in versions.items() if r.note or r.review}
        merged.review = {"annotations": kept} if kept else None
        return merged
    statuses = {r.status for r in decided.values()}
    label_sets = {
        d: [frozenset(r.labels.get(d, ())) for r in decided.values() if r.status == "done"]
        for d in used
    }
    differ = ["status"] if len(statuses) > 1 else []
    differ += [d for d, sets in label_sets.items() if len(set(sets)) > 1]
    agreed = {
        d: tuple(lab for lab in _ordered(decided.values(), d) if all(lab in s for s in sets))
        for d, sets in label_sets.items()
    }
    review: dict[str, Any] = {"annotators": list(decided)}
    notes = {r.note for r in decided.values() if r.note is not None}
    if not differ:
        counts["single" if len(decided) == 1 else "agreed"] += 1
        merged.status = statuses.pop()
        merged.labels = dict(agreed) if merged.status == "done" else {}
        if len(notes) > 1:  # differing notes are kept where they can be read
            review["annotations"] = {n: _said(r, dims) for n, r in versions.items()}
        merged.review = review
        return merged
    counts["disagreed"] += 1
    review.update(
        disagreement=True,
        dimensions=differ,
        agreed={d: list(labels) for d, labels in agreed.items()},
        annotations={n: _said(r, dims) for n, r in versions.items()},
    )
    merged.review = review
    if policy == "intersection" and "status" not in differ:
        merged.status = "done"
        merged.labels = dict(agreed)
    else:
        merged.status = "todo"
        merged.labels = {d: () for d in used}
    if len(notes) > 1:
        merged.note = None
    return merged


def _ordered(records: Iterable[Sentence | Document], dim: str) -> list[str]:
    """Labels of ``dim`` in order of first mention, so output order is stable."""
    seen: dict[str, None] = {}
    for record in records:
        for label in record.labels.get(dim, ()):
            seen.setdefault(label, None)
    return list(seen)


def adjudicate(
    paths: Sequence[str | Path],
    codebook: Codebook | None = None,
    *,
    policy: Policy = "todo",
) -> AdjudicationResult:
    """Merge the files of several annotators; keep agreements, mark disagreements.

    Parameters
    ----------
    paths
        Two or more JSONL files, one per annotator.
    codebook
        Validates the inputs; its dimensions are the ones compared.
    policy
        ``"todo"``: a disagreement makes the record ``todo`` (not gold until adjudicated).
        ``"intersection"``: it stays ``done`` with the labels all annotators gave.
        Either way each annotator's labels are kept in ``review``.

    Returns
    -------
    AdjudicationResult
        ``counts`` has ``agreed`` (two or more annotators agree), ``single`` (one
        annotator coded it), ``disagreed`` and ``uncoded`` (nobody finished it).

    Raises
    ------
    UsageError, AnnotationError, InputNotFoundError

    Examples
    --------
    >>> import pathlib, tempfile
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> rec = '{{"id": "s1", "doc_id": "d", "text": "t", "frames": ["{}"]}}\\n'
    >>> _ = (d / "a.jsonl").write_text(rec.format("x"))
    >>> _ = (d / "b.jsonl").write_text(rec.format("y"))
    >>> merged = adjudicate([d / "a.jsonl", d / "b.jsonl"]).records[0]
    >>> merged.status, merged.review["annotations"]["b"]["frames"]
    ('todo', ['y'])
    """
    if policy not in POLICIES:
        raise UsageError(f"policy must be one of {', '.join(POLICIES)}, got {policy!r}")
    annotators = read_annotators(paths, codebook)
    dims = list(dimension_labels(annotators, codebook))
    counts = {"agreed": 0, "single": 0, "disagreed": 0, "uncoded": 0}
    documents: dict[str, Document] = {}
    doc_counts = dict.fromkeys(counts, 0)
    for doc_id in _order(a.documents for a in annotators):
        versions = {a.name: a.documents[doc_id] for a in annotators if doc_id in a.documents}
        merged = _merge(versions, dims, policy, doc_counts)
        assert isinstance(merged, Document)
        documents[doc_id] = merged
    by_doc: dict[str, list[Sentence]] = {}
    for sid in _order(a.sentences for a in annotators):
        codings = {a.name: a.sentences[sid] for a in annotators if sid in a.sentences}
        sentence = _merge(codings, dims, policy, counts)
        assert isinstance(sentence, Sentence)
        by_doc.setdefault(sentence.doc_id, []).append(sentence)
    for sentences in by_doc.values():
        if all(s.sent_index is not None for s in sentences):
            sentences.sort(key=lambda s: s.sent_index or 0)
    records: list[Record] = []
    # Each document record before its sentences, as the format wants (offsets check).
    for doc_id in _order([documents, by_doc]):
        if doc_id in documents:
            records.append(documents[doc_id])
        records.extend(by_doc.get(doc_id, []))
    if doc_counts["disagreed"]:
        counts["documents_disagreed"] = doc_counts["disagreed"]
    return AdjudicationResult(
        records=records, annotators=[a.name for a in annotators], policy=policy, counts=counts
    )


def _order(keyed: Iterable[Iterable[str]]) -> list[str]:
    seen: dict[str, None] = {}
    for keys in keyed:
        for key in keys:
            seen.setdefault(key, None)
    return list(seen)

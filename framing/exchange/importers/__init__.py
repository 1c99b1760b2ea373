"""Importers: other formats into the annotation format.

Each importer is a module with a function named after the format that returns an
:class:`ImportResult`, and declares its command (``framing import <format>``) in the
registry (:mod:`framing.exchange.registry`).

Every importer takes two keyword arguments with the same meaning:

``split``
    ``train``, ``dev``, ``test`` or ``dev-shifted``, set on every record.
``codebook``
    When given, the labels are checked against it (each unknown label is an error, with
    the closest match) and it is the result's codebook; otherwise a codebook is built
    from the labels found.

and raises :class:`~framing.errors.AnnotationError` listing every malformed row of its
input as ``file:line: what (how to fix)`` (see :mod:`.problems`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from framing.format.annotations import Document, Sentence
from framing.format.codebook import Codebook
from framing.format.crosswalk import Crosswalk


@dataclass
class ImportResult:
    """Records produced by an importer, the codebook of the labels it found, and counts."""

    records: list[Sentence | Document]
    codebook: Codebook | None = None
    counts: dict[str, Any] = field(default_factory=dict)

    @property
    def sentences(self) -> int:
        return sum(1 for r in self.records if isinstance(r, Sentence))

    @property
    def documents(self) -> int:
        return sum(1 for r in self.records if isinstance(r, Document))

    def relabel(
        self, crosswalk: Crosswalk, codebook: Codebook, links: tuple[str, ...] = ("exact",)
    ) -> ImportResult:
        """The records relabelled into ``codebook`` through ``crosswalk``'s chosen links.

        The result's codebook is ``codebook`` cut down to the labels the links reach.

        Raises
        ------
        CodebookError
            When the crosswalk does not fit the codebook.
        UsageError
            When the chosen links reach no label of ours.
        """
        from framing.errors import UsageError

        target = crosswalk.codebook_for(codebook, links)
        if not target.dimensions:
            kinds = sorted({link.relation for link in crosswalk.links})
            raise UsageError(
                f"crosswalk '{crosswalk.name}' has no {'/'.join(links)} link "
                f"(its links are {', '.join(kinds)}); give --links broader to carry the "
                "positives of broader links over, or evaluate with a model of their taxonomy"
            )
        records, counts = crosswalk.relabel(self.records, links)
        reached = {f"{dim.id} labels reached": len(dim.labels) for dim in target.dimensions}
        return ImportResult(
            records=records,
            codebook=target,
            counts={**self.counts, **counts, **reached, "links used": "/".join(links)},
        )

    def conform(self, codebook: Codebook, unknown: str = "error") -> ImportResult:
        """The records checked against ``codebook``, unknown labels handled by ``unknown``.

        ``error`` (raise, naming each unknown label, where it first occurs and how many
        records carry it), ``drop`` (remove them) or ``add`` (add them to the codebook);
        the counts say what was dropped or added.

        Raises
        ------
        AnnotationError
        """
        from framing.exchange.importers.labels import conform, label_counts

        book, summary = conform(self.records, codebook, "the import", unknown)
        counts = {k: v for k, v in self.counts.items() if not k.endswith(" labels")}
        counts.update(label_counts(book))
        if summary:
            verb = "dropped" if unknown == "drop" else "added"
            listed = ", ".join(f"'{key}' ({n})" for key, n in summary.items())
            counts[f"unknown labels {verb}"] = listed
        return ImportResult(records=self.records, codebook=book, counts=counts)

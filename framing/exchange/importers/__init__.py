"""Importers: other formats into the annotation format.

Each importer is a module with a function named after the format that returns an
:class:`ImportResult`; ``framing import <format>`` is a thin wrapper over it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from framing.format.annotations import Document, Sentence
from framing.format.codebook import Codebook


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

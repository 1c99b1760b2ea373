"""The problems of an import's input, collected and raised all at once.

Every importer collects *all* the problems of its input in a :class:`RowProblems`
and raises one :class:`~framing.errors.AnnotationError` at the end, whose message
lists each bad row as ``file:line: what (how to fix)``.
"""

from __future__ import annotations

from pathlib import Path

from framing.errors import AnnotationError, Problem
from framing.format.annotations import Document, Sentence

__all__ = ["MAX_LISTED", "RowProblems", "keep_unique"]

Record = Sentence | Document

#: At most this many problems are spelled out in an error message (all are in ``problems``).
MAX_LISTED = 100


class RowProblems:
    """Collects the problems of an input and raises them all at once."""

    def __init__(self) -> None:
        self.problems: list[Problem] = []

    def __len__(self) -> int:
        return len(self.problems)

    def add(
        self, path: str | Path, line: int | None, message: str, hint: str | None = None
    ) -> None:
        self.problems.append(Problem(str(path), line, message, hint=hint))

    def raise_if_any(self, what: str) -> None:
        """Raise :class:`AnnotationError` listing every problem, if there is any."""
        if not self.problems:
            return
        shown = "\n".join(p.located() for p in self.problems[:MAX_LISTED])
        more = len(self.problems) - MAX_LISTED
        tail = f"\n... and {more} more" if more > 0 else ""
        raise AnnotationError(
            f"{len(self.problems)} problem(s) in {what}:\n{shown}{tail}", list(self.problems)
        )


def keep_unique(
    record: Record,
    records: list[Record],
    seen: dict[str, int],
    where: tuple[Path, int],
    problems: RowProblems,
    hint: str,
) -> None:
    """Append ``record`` unless its id was seen already (then report both lines)."""
    key = record.id if isinstance(record, Sentence) else f"document:{record.doc_id}"
    path, line = where
    if key in seen:
        problems.add(path, line, f"id '{key}' used twice (first at line {seen[key]})", hint)
        return
    seen[key] = line
    records.append(record)

"""Narrative predictions in the SemEval-2025 Task 10 subtask 2 format.

One tab-separated line per article, in the order of a given gold (or template) file::

    EN_UA_001.txt<TAB>URW: Discrediting the West, Diplomacy<TAB>URW: Discrediting ...: Other

Labels of a dimension are joined with ``;``; an article without any label gets
``Other``, as the task prescribes.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Literal

from framing.errors import AnnotationError, Problem, UsageError
from framing.exchange.exporters import ExportResult, Written
from framing.exchange.importers.semeval2025 import DIMENSIONS, gold_order
from framing.exchange.registry import Exporter, Param, output_param
from framing.format.annotations import Document, Sentence
from framing.format.codebook import Codebook
from framing.format.records import document_labels

__all__ = ["semeval2025", "document_labels"]


def semeval2025(
    records: Iterable[Sentence | Document],
    gold: str | Path | None = None,
    codebook: Codebook | None = None,
    *,
    missing: Literal["error", "other"] = "error",
) -> ExportResult:
    """Write predictions (or annotations) as SemEval-2025 subtask 2 lines.

    Parameters
    ----------
    records
        Records with ``narratives`` and ``subnarratives`` labels on document records
        (or on ``done`` sentences, whose union is the article's labels).
    gold
        The gold (or any) annotation file of the task: its first column gives the
        articles and their order.  None (a test set without annotations): every article
        of the records, in their order, named ``<doc_id>.txt`` as the task's files are.
    codebook
        When given, it must have the two dimensions.
    missing
        An article of the gold file without any record: ``error`` (the default) or
        ``other`` (written as ``Other``).

    Returns
    -------
    ExportResult
        ``items`` are the lines; write them with :meth:`ExportResult.write_lines`.

    Raises
    ------
    AnnotationError
        Naming the articles of the gold file that have no record (``missing="error"``).
    """
    if missing not in ("error", "other"):
        raise UsageError(f"missing must be 'error' or 'other', got '{missing}'")
    if codebook is not None:
        for dim in DIMENSIONS:
            codebook.dimension(dim)
    records = list(records)
    labels = document_labels(records, DIMENSIONS)
    if gold is None:
        seen = dict.fromkeys(r.doc_id for r in records if r.doc_id in labels)
        order = [(0, f"{doc_id}.txt", doc_id) for doc_id in seen]
    else:
        gold = Path(gold)
        order = gold_order(gold)
    lines: list[str] = []
    problems: list[Problem] = []
    others = 0
    for number, name, doc_id in order:
        found = labels.get(doc_id)
        if found is None:
            if missing == "error":
                problems.append(
                    Problem(
                        str(gold),
                        number,
                        f"article '{doc_id}' has no record with narratives",
                        "tag or annotate it, or pass --missing other",
                    )
                )
                continue
            found = {}
        fields = []
        for dim in DIMENSIONS:
            values = found.get(dim, ())
            if not values:
                others += 1
            fields.append(";".join(values) if values else "Other")
        lines.append("\t".join([name, *fields]))
    if problems:
        shown = "\n".join(p.located() for p in problems[:100])
        more = f"\n... and {len(problems) - 100} more" if len(problems) > 100 else ""
        raise AnnotationError(
            f"{len(problems)} article(s) of {gold} have no prediction:\n{shown}{more}", problems
        )
    return ExportResult(
        items=lines,
        counts={"articles": len(lines), "empty lists written as Other": others},
    )


def _write(
    records: list[Sentence | Document],
    codebook: Codebook | None,
    *,
    gold: Path | None,
    output: Path,
    missing: Literal["error", "other"],
) -> Written:
    result = semeval2025(records, gold, codebook, missing=missing)
    return Written(result.write_lines(output), "articles", result.counts)


EXPORTER = Exporter(
    name="semeval2025",
    help="Export narratives (annotations, eval predictions or 'framing tag' output of a\n"
    "document-level model) as SemEval-2025 subtask 2 predictions, in the gold file's order.\n\n"
    "Example: framing export semeval2025 tagged.jsonl -g EN/subtask-2-annotations.txt "
    "-o pred.txt",
    params=(
        Param(
            "gold",
            "Task annotation file giving the articles and order (default: every article "
            "of the input, in its order).",
            ("--gold", "-g"),
            Path,
            dir_okay=False,
        ),
        output_param("Predictions file."),
        Param(
            "missing",
            "Articles without a record: error, or write 'Other'.",
            ("--missing",),
            default="error",
            choices=("error", "other"),
        ),
    ),
    run=_write,
)

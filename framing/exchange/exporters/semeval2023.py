"""Frame predictions in the SemEval-2023 Task 3 subtask 2 format.

One tab-separated line per article, the article id then its frames joined by commas::

    2000<TAB>Economic,Security_and_defense

the file the task's subtask 2 scorer reads.  The id is the ``<ID>`` of the task's
``article<ID>.txt`` files: the record's ``doc_id`` (what ``framing import semeval2023``
gives), or the file name without ``article`` and ``.txt`` (what ``framing tag`` gives a
folder of the task's articles).  An article's frames are its document record's (a
document-level model's ``document`` labels in tag output), else the union of its ``done``
paragraphs' or sentences'.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path

from framing.errors import AnnotationError, Problem
from framing.exchange.exporters import ExportResult, Written
from framing.exchange.exporters.semeval2025 import document_labels
from framing.exchange.registry import Exporter, Param, output_param
from framing.format.annotations import Document, Sentence
from framing.format.codebook import Codebook

__all__ = ["semeval2023", "task_id"]

_FILE_ID = re.compile(r"^article(\d+)$")


def task_id(doc_id: str) -> str:
    """The task's article id of a record: ``article2000`` (a tagged file) gives ``2000``.

    Examples
    --------
    >>> task_id("article2000"), task_id("2000")
    ('2000', '2000')
    """
    match = _FILE_ID.match(doc_id)
    return match.group(1) if match else doc_id


def _gold_ids(path: Path) -> list[tuple[int, str]]:
    """``(line, article id)`` of each row of a subtask 2 label file, in order."""
    out = []
    with open(path, encoding="utf-8") as stream:
        for number, line in enumerate(stream, start=1):
            if line.strip():
                out.append((number, line.split("\t", 1)[0].strip()))
    return out


def semeval2023(
    records: Iterable[Sentence | Document],
    codebook: Codebook | None = None,
    *,
    gold: str | Path | None = None,
    dimension: str = "frames",
) -> ExportResult:
    """Write frame predictions (or annotations) as SemEval-2023 subtask 2 lines.

    Parameters
    ----------
    records
        Records with ``dimension`` labels on document records (or on ``done`` sentences,
        whose union is the article's frames): annotations, ``framing eval
        --predictions``, or ``framing tag`` output of a document-level model.
    codebook
        When given, it must have ``dimension``.
    gold
        A subtask 2 label file: its first column gives the articles and their order.
        None: every article of the records, in their order.
    dimension
        The dimension holding the frames.

    Returns
    -------
    ExportResult
        ``items`` are the lines; write them with :meth:`ExportResult.write_lines`.

    Raises
    ------
    AnnotationError
        Naming the articles of the gold file that have no record.
    """
    if codebook is not None:
        codebook.dimension(dimension)
    records = list(records)
    found = {
        task_id(doc_id): labels[dimension]
        for doc_id, labels in document_labels(records, (dimension,)).items()
    }
    if gold is None:
        order = dict.fromkeys(task_id(r.doc_id) for r in records)
        rows = [(0, ident) for ident in order if ident in found]
    else:
        rows = _gold_ids(Path(gold))
    lines: list[str] = []
    problems: list[Problem] = []
    empty = 0
    for number, ident in rows:
        if ident not in found:
            problems.append(
                Problem(
                    str(gold),
                    number,
                    f"article '{ident}' has no record with {dimension}",
                    "tag or annotate it",
                )
            )
            continue
        empty += not found[ident]
        lines.append(f"{ident}\t{','.join(found[ident])}")
    if problems:
        shown = "\n".join(p.located() for p in problems[:100])
        more = f"\n... and {len(problems) - 100} more" if len(problems) > 100 else ""
        raise AnnotationError(
            f"{len(problems)} article(s) of {gold} have no prediction:\n{shown}{more}", problems
        )
    return ExportResult(items=lines, counts={"articles": len(lines), "without frames": empty})


def _write(
    records: list[Sentence | Document],
    codebook: Codebook | None,
    *,
    output: Path,
    gold: Path | None,
    dimension: str,
) -> Written:
    result = semeval2023(records, codebook, gold=gold, dimension=dimension)
    return Written(result.write_lines(output), "articles", result.counts)


EXPORTER = Exporter(
    name="semeval2023",
    help="Export frames (annotations, eval predictions or 'framing tag' output of a\n"
    "document-level model) as SemEval-2023 Task 3 subtask 2 predictions.\n\n"
    "Example: framing export semeval2023 tagged.jsonl -g en/dev-labels-subtask-2.txt "
    "-o pred.txt",
    params=(
        output_param("Predictions file."),
        Param(
            "gold",
            "Subtask 2 label file giving the articles and order (default: every article "
            "of the input, in its order).",
            ("--gold", "-g"),
            Path,
            dir_okay=False,
        ),
        Param("dimension", "The frames dimension.", ("--dimension", "-d"), default="frames"),
    ),
    run=_write,
)

"""Predictions in the SemEval-2023 Task 3 formats: subtask 2 (frames) and 3 (techniques).

Subtask 2: one tab-separated line per article, the article id then its frames joined by
commas::

    2000<TAB>Economic,Security_and_defense

the file the task's subtask 2 scorer reads.  The id is the ``<ID>`` of the task's
``article<ID>.txt`` files: the record's ``doc_id`` (what ``framing import semeval2023``
gives), or the file name without ``article`` and ``.txt`` (what ``framing tag`` gives a
folder of the task's articles).  An article's frames are its document record's (a
document-level model's ``document`` labels in tag output), else the union of its ``done``
paragraphs' or sentences'.

Subtask 3 (:func:`semeval2023_techniques`): one line per row of the task's subtask 3
label or template file, ``<ID><TAB><line><TAB>technique,technique``, a line's techniques
being the union of those of the tagged sentences that overlap it in the article file.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from framing.errors import AnnotationError, Problem, UsageError
from framing.exchange.exporters import ExportResult, Written
from framing.exchange.importers.problems import RowProblems
from framing.exchange.importers.reading import (
    iter_lines,
    line_spans,
    read_articles,
    require_dir,
    require_file,
)
from framing.exchange.registry import Exporter, Param, output_param
from framing.format.annotations import Document, Sentence
from framing.format.codebook import Codebook
from framing.format.records import document_labels
from framing.runtime.alignment import (
    TaggedSpan,
    group_articles,
    labels_over,
    overlapping,
    sentence_spans,
    task_id,
)

__all__ = ["semeval2023", "semeval2023_techniques", "task_id"]


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


def _template_rows(path: Path, problems: RowProblems) -> list[tuple[int, str, int]]:
    """``(row, article id, line)`` of a subtask 3 label or template file, in order.

    Both start with the article id and the line number (the label file then has the
    techniques, the ``.template`` file the line's text); the rest is not read.
    """
    rows = []
    for number, row in iter_lines(path, problems):
        fields = row.split("\t")
        if len(fields) < 2 or not fields[1].strip().isdigit() or int(fields[1]) < 1:
            problems.add(
                path,
                number,
                "expected an article id and a line number (counted from 1), tab-separated",
                "give the task's subtask 3 label or template file",
            )
            continue
        rows.append((number, fields[0].strip(), int(fields[1])))
    return rows


def semeval2023_techniques(
    records: Iterable[Sentence | Document],
    codebook: Codebook | None = None,
    *,
    articles: str | Path,
    gold: str | Path,
    dimension: str = "techniques",
) -> ExportResult:
    """Write persuasion techniques as SemEval-2023 subtask 3 lines, one per template row.

    The subtask scores the lines of the article file (counted from 1, the title is line
    1, empty lines count), numbered as ``framing import semeval2023`` numbers them.  A
    line's techniques are the union of the techniques of the sentences that overlap it
    (:func:`framing.runtime.alignment.labels_over`), the sentences placed in the article
    file by their offsets; a line no labelled sentence overlaps (an empty line, a line
    of an article tagged without any technique) is written with an empty technique list,
    which the task's scorer reads as "no technique".

    Parameters
    ----------
    records
        ``framing tag`` output of a sentence-level model (offsets into the body, the
        title as sentence 0), or annotation records with offsets into the document text
        (an import, ``framing eval --predictions``).
    codebook
        When given, it must have ``dimension``.
    articles
        The folder of the task's ``article<ID>.txt`` files: the lines are theirs.
    gold
        The subtask 3 label file or ``.template`` file: its rows (article id, line) are
        the rows written, in its order.
    dimension
        The dimension holding the techniques.

    Returns
    -------
    ExportResult
        ``items`` are the lines ``<ID><TAB><line><TAB>technique,technique``.

    Raises
    ------
    AnnotationError
        Naming every template row whose article has no file or no record, or whose line
        the article lacks; a tagged sentence that is not where its offsets say.
    UsageError
        For the tag output of a document-level model (it labels no line).
    """
    if codebook is not None:
        codebook.dimension(dimension)
    problems = RowProblems()
    folder = require_dir(articles, "articles")
    template = require_file(gold, "subtask 3 label or template file")
    texts = read_articles(folder, problems, "the SemEval-2023 articles", unify_line_ends=True)
    rows = _template_rows(template, problems)
    problems.raise_if_any(str(template))
    grouped = group_articles(records)
    lines_of: dict[str, dict[int, tuple[int, int] | None]] = {}
    spans_of: dict[str, list[TaggedSpan]] = {}
    items: list[str] = []
    counts = {"lines": 0, "lines with techniques": 0, "lines no sentence overlaps": 0}
    for number, ident, line in rows:
        if ident not in texts:
            problems.add(template, number, f"article '{ident}' has no file article{ident}.txt")
            continue
        article = grouped.get(ident)
        if article is None:
            problems.add(template, number, f"article '{ident}' has no record", "tag it")
            continue
        if article.level == "document":
            raise UsageError(
                f"article '{article.doc_id}' was tagged by a document-level model, which "
                "labels no line: tag the articles with a sentence-level techniques model"
            )
        file, text = texts[ident]
        if ident not in lines_of:
            count = len(text.removesuffix("\n").split("\n"))
            known: dict[int, tuple[int, int] | None] = dict.fromkeys(range(1, count + 1))
            known.update({n: (start, end) for n, start, end in line_spans(text)})
            lines_of[ident] = known
            spans_of[ident] = sentence_spans(
                text, article.sentences, str(file), tagged=article.tagged
            )
        if line not in lines_of[ident]:
            problems.add(
                template,
                number,
                f"article '{ident}' has {len(lines_of[ident])} lines, not {line}",
                "the lines of the article file are counted from 1",
            )
            continue
        unit = lines_of[ident][line]
        spans = spans_of[ident]
        labels = labels_over(unit, spans, dimension) if unit is not None else []
        counts["lines"] += 1
        counts["lines with techniques"] += bool(labels)
        counts["lines no sentence overlaps"] += unit is None or not overlapping(unit, spans)
        items.append(f"{ident}\t{line}\t{','.join(labels)}")
    problems.raise_if_any(f"the rows of {template}")
    return ExportResult(items=items, counts=counts)


def _write(
    records: list[Sentence | Document],
    codebook: Codebook | None,
    *,
    output: Path,
    gold: Path | None,
    dimension: str | None,
    subtask: str,
    articles: Path | None,
) -> Written:
    if subtask == "3":
        if gold is None or articles is None:
            raise UsageError(
                "subtask 3 needs --gold (the subtask 3 label or template file) and "
                "--articles (the folder of article<ID>.txt files)"
            )
        result = semeval2023_techniques(
            records, codebook, articles=articles, gold=gold, dimension=dimension or "techniques"
        )
        return Written(result.write_lines(output), "lines", result.counts)
    result = semeval2023(records, codebook, gold=gold, dimension=dimension or "frames")
    return Written(result.write_lines(output), "articles", result.counts)


EXPORTER = Exporter(
    name="semeval2023",
    help="Export frames (subtask 2: annotations, eval predictions or 'framing tag' output\n"
    "of a document-level model) or persuasion techniques per line (subtask 3: 'framing\n"
    "tag' output of a sentence-level model) as SemEval-2023 Task 3 predictions.\n\n"
    "Example: framing export semeval2023 tagged.jsonl -g en/dev-labels-subtask-2.txt "
    "-o pred.txt",
    params=(
        output_param("Predictions file."),
        Param(
            "gold",
            "Subtask 2: label file giving the articles and order (default: every article "
            "of the input, in its order). Subtask 3: the label or .template file whose "
            "rows (article, line) are written.",
            ("--gold", "-g"),
            Path,
            dir_okay=False,
        ),
        Param(
            "dimension",
            "The frames (subtask 2) or techniques (subtask 3) dimension.",
            ("--dimension", "-d"),
        ),
        Param(
            "subtask",
            "2: frames per article; 3: persuasion techniques per line.",
            ("--subtask",),
            default="2",
            choices=("2", "3"),
        ),
        Param(
            "articles",
            "Subtask 3: the folder of article<ID>.txt files (the lines written are theirs).",
            ("--articles",),
            Path,
            file_okay=False,
        ),
    ),
    run=_write,
)

"""Sentence-model predictions as PTC (SemEval-2020 Task 11) span submissions.

The task scores character spans of the article files, in two subtasks:

* **SI** (span identification), ``<ID><TAB><start><TAB><end>`` per propaganda span;
* **TC** (technique classification), ``<ID><TAB><technique><TAB><start><TAB><end>``, one
  row for each span of the task's template (the spans are given; the technique is
  asked), exactly those spans.

A sentence-level model produces neither spans nor span labels, so the exporter writes
what such a model can honestly claim:

* SI: the span of every sentence it labels with any technique.  A sentence is not a
  propaganda span: the official SI precision counts the share of each written span that
  gold spans cover, so a long sentence around a short gold span scores low precision
  (recall does not suffer the same way).
* TC: for each template span, the technique that scores highest on the sentence(s)
  overlapping the span (the highest score of each technique over those sentences).  The
  sentence, not the span's own text, is scored: the exporter reads ``framing tag``
  output and has no model, and the model was trained and its scores calibrated on
  sentences, while template spans are often a few words.  When the template repeats a
  span (the gold gives it several techniques), the repeats get the second-, third-...
  highest technique, so that one span's rows are not all the same guess.  A span no
  sentence overlaps takes the article's highest-scoring technique (counted).

The sentences are placed in the article files by their offsets
(:mod:`framing.runtime.alignment`), so the exporter needs the files as distributed.
TC needs every technique's score: tag with ``--all-scores``.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from framing.errors import UsageError
from framing.exchange.exporters import ExportResult, Written
from framing.exchange.importers.problems import RowProblems
from framing.exchange.importers.reading import iter_lines, read_articles, require_dir
from framing.exchange.registry import REQUIRED, Exporter, Param, output_param
from framing.format.annotations import Document, Sentence, collect_files
from framing.format.codebook import Codebook
from framing.runtime.alignment import (
    ArticleRecords,
    TaggedSpan,
    group_articles,
    overlapping,
    sentence_spans,
)

__all__ = ["ptc_si", "ptc_tc", "read_span_rows"]

Span = tuple[str, str, int, int]


def read_span_rows(paths: Iterable[str | Path], *, technique: bool) -> list[Span]:
    """``(article id, technique, start, end)`` of PTC label files, in file order.

    ``paths`` are files or folders (their ``*.labels`` files, sorted); rows are
    ``<ID><TAB><technique><TAB><start><TAB><end>`` with ``technique`` (a TC label or
    template file, whose technique may be ``?``), else ``<ID><TAB><start><TAB><end>``
    (SI, the technique is returned as ``""``).

    Raises
    ------
    AnnotationError
        Listing every malformed row as ``file:line``.
    """
    problems = RowProblems()
    rows: list[Span] = []
    width = 4 if technique else 3
    for path in collect_files(list(paths), suffix=".labels"):
        for number, line in iter_lines(path, problems):
            fields = line.split("\t")
            if len(fields) != width or not all(f.strip().isdigit() for f in fields[-2:]):
                problems.add(
                    path,
                    number,
                    f"expected {width} tab-separated fields ending with start and end offsets",
                    "give the task's TC labels or template"
                    if technique
                    else "give the task's SI labels",
                )
                continue
            start, end = int(fields[-2]), int(fields[-1])
            if start >= end:
                problems.add(path, number, f"span {start}-{end} is empty", "end must exceed start")
                continue
            rows.append((fields[0].strip(), fields[1].strip() if technique else "", start, end))
    problems.raise_if_any("the PTC labels")
    return rows


def _article_spans(
    grouped: dict[str, ArticleRecords], texts: dict[str, tuple[Path, str]], ident: str
) -> list[TaggedSpan]:
    article = grouped[ident]
    if article.level == "document":
        raise UsageError(
            f"article '{article.doc_id}' was tagged by a document-level model, which labels "
            "no span: tag the articles with a sentence-level techniques model"
        )
    file, text = texts[ident]
    return sentence_spans(text, article.sentences, str(file), tagged=article.tagged)


def ptc_si(
    records: Iterable[Sentence | Document],
    codebook: Codebook | None = None,
    *,
    articles: str | Path,
    dimension: str = "techniques",
) -> ExportResult:
    """SI submission rows: the span of each sentence labelled with any technique.

    Every article of ``records`` is written, in order (the SI scorer accepts a
    submission for a subset of the gold articles).  See the module docstring for what
    the figure means.

    Raises
    ------
    AnnotationError
        An article without its file in ``articles``, or a sentence not at its offsets.
    """
    if codebook is not None:
        codebook.dimension(dimension)
    texts = read_articles(require_dir(articles, "articles"), RowProblems(), "the PTC articles")
    grouped = group_articles(records)
    missing = sorted(ident for ident in grouped if ident not in texts)
    if missing:
        raise UsageError(
            f"{len(missing)} tagged article(s) have no article<ID>.txt in {articles}: "
            f"{', '.join(missing[:10])} (give the folder of the files that were tagged)"
        )
    items: list[str] = []
    sentences = 0
    for ident in grouped:
        spans = _article_spans(grouped, texts, ident)
        sentences += len(spans)
        for span in spans:
            if span.labels.get(dimension):
                items.append(f"{ident}\t{span.start}\t{span.end}")
    return ExportResult(items=items, counts={"articles": len(grouped), "sentences": sentences})


def ptc_tc(
    records: Iterable[Sentence | Document],
    codebook: Codebook | None = None,
    *,
    articles: str | Path,
    template: Iterable[str | Path],
    dimension: str = "techniques",
) -> ExportResult:
    """TC submission rows: one per template span, its technique from the sentences over it.

    Raises
    ------
    UsageError
        Tag output without every technique's score (tag with ``--all-scores``), or a
        document-level model's.
    AnnotationError
        A template article without its file or without tagged sentences; a sentence not
        at its offsets; a malformed template row.
    """
    if codebook is not None:
        codebook.dimension(dimension)
    rows = read_span_rows(template, technique=True)
    texts = read_articles(require_dir(articles, "articles"), RowProblems(), "the PTC articles")
    grouped = group_articles(records)
    problems = RowProblems()
    for ident in dict.fromkeys(r[0] for r in rows):
        if ident not in texts:
            problems.add(articles, None, f"article '{ident}' of the template has no file")
        elif ident not in grouped:
            problems.add(articles, None, f"article '{ident}' of the template was not tagged")
    problems.raise_if_any("the TC template's articles")
    spans_of = {ident: _article_spans(grouped, texts, ident) for ident in {r[0] for r in rows}}
    seen: dict[tuple[str, int, int], int] = {}
    items: list[str] = []
    fallback = 0
    for ident, _, start, end in rows:
        spans = spans_of[ident]
        over = overlapping((start, end), spans) or spans
        fallback += over is spans and not overlapping((start, end), spans)
        ranked = _ranked(over, dimension, ident)
        repeat = seen.get((ident, start, end), 0)
        seen[(ident, start, end)] = repeat + 1
        items.append(f"{ident}\t{ranked[min(repeat, len(ranked) - 1)]}\t{start}\t{end}")
    return ExportResult(
        items=items, counts={"spans": len(items), "spans no sentence overlaps": fallback}
    )


def _ranked(spans: list[TaggedSpan], dimension: str, ident: str) -> list[str]:
    """Techniques by their highest score over ``spans``, best first (ties by name)."""
    best: dict[str, float] = {}
    for span in spans:
        scores = span.scores.get(dimension)
        if not scores:
            raise UsageError(
                f"article '{ident}': the tag output has no score for every {dimension} label; "
                "tag the articles with --all-scores for TC"
            )
        for label, score in scores.items():
            best[label] = max(best.get(label, 0.0), float(score))
    if not best:
        raise UsageError(f"article '{ident}' has no tagged sentence to take a technique from")
    return sorted(best, key=lambda label: (-best[label], label))


def _write(
    records: list[Sentence | Document],
    codebook: Codebook | None,
    *,
    output: Path,
    task: str,
    articles: Path,
    template: list[Path] | None,
    dimension: str,
) -> Written:
    if task == "tc":
        if not template:
            raise UsageError("--task tc needs --template (the task's TC template or labels)")
        result = ptc_tc(
            records, codebook, articles=articles, template=template, dimension=dimension
        )
        return Written(result.write_lines(output), "spans", result.counts)
    result = ptc_si(records, codebook, articles=articles, dimension=dimension)
    return Written(result.write_lines(output), "spans", result.counts)


EXPORTER = Exporter(
    name="ptc",
    help="Export a sentence-level model's 'framing tag' output as a PTC (SemEval-2020\n"
    "Task 11) submission: SI spans (sentences with any technique) or TC techniques of\n"
    "the template's spans.\n\n"
    "Example: framing export ptc tagged.jsonl --task tc --articles dev-articles "
    "--template dev-task-TC-template.out -o tc.txt",
    params=(
        output_param("Submission file."),
        Param(
            "task",
            "si: spans of the sentences labelled with any technique; tc: a technique for "
            "each template span.",
            ("--task",),
            default="si",
            choices=("si", "tc"),
        ),
        Param(
            "articles",
            "The folder of the article<ID>.txt files that were tagged.",
            ("--articles",),
            Path,
            REQUIRED,
            file_okay=False,
        ),
        Param(
            "template",
            "TC: the template (or TC label) file(s) or folder whose spans are written.",
            ("--template",),
            Path,
            many=True,
        ),
        Param(
            "dimension", "The techniques dimension.", ("--dimension", "-d"), default="techniques"
        ),
    ),
    run=_write,
)

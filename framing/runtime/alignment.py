"""Tagged sentences onto a task's own units: lines, paragraphs, spans of the article file.

``framing tag`` splits an article into sentences and gives their offsets into the article
*body* (the text after the title line, see :func:`framing.format.article.split_title`);
the title is sentence 0, without offsets.  A shared task scores its own units instead
(SemEval-2023 subtask 3 the lines of the article file, PTC character spans of it).  This
module places the tagged sentences in the article file, and gives a unit the labels of
the sentences that overlap it:

* :func:`sentence_spans`: each tagged sentence as a span of the article text (the title
  sentence covers the title line), checked against the text;
* :func:`labels_over`: the one overlap rule, written once: a sentence overlaps a unit when
  ``sentence.start < unit.end`` and ``sentence.end > unit.start`` (the rule by which
  ``framing import ptc`` gives a span's technique to the lines it touches), and a unit's
  labels are the union of its overlapping sentences' labels (none overlap: no label).

Used by the SemEval-2023 subtask 3 and PTC exporters and by ``framing score``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from framing.errors import AnnotationError
from framing.format.annotations import Document, Sentence
from framing.format.article import normalise_text, split_title

__all__ = [
    "ArticleRecords",
    "TaggedSpan",
    "group_articles",
    "overlapping",
    "body_start",
    "labels_over",
    "sentence_spans",
    "task_id",
]

_FILE_ID = re.compile(r"^article(\d+)$")


def task_id(doc_id: str) -> str:
    """The task's article id of a tagged article: ``article2000`` (the file
    ``article2000.txt`` that ``framing tag`` read) gives ``2000``; other ids are kept.

    Examples
    --------
    >>> task_id("article2000"), task_id("2000"), task_id("EN_UA_001")
    ('2000', '2000', 'EN_UA_001')
    """
    match = _FILE_ID.match(doc_id)
    return match.group(1) if match else doc_id


@dataclass(frozen=True)
class TaggedSpan:
    """A tagged sentence placed in the article text: ``text[start:end]`` is the sentence."""

    start: int
    end: int
    labels: dict[str, tuple[str, ...]]
    scores: dict[str, dict[str, float]] = field(default_factory=dict)
    index: int = 0


def body_start(text: str) -> int:
    """Where the body that ``framing tag`` sees starts in ``text`` (0 without a title).

    Examples
    --------
    >>> body_start("Title\\n\\nBody."), body_start("No title. Body.")
    (7, 0)
    """
    _, body = split_title(text)
    return len(text) - len(body)


def _title_span(text: str) -> tuple[int, int] | None:
    title, _ = split_title(text)
    if title is None:
        return None
    start = text.index(title)
    return start, start + len(title)


def sentence_spans(
    text: str, sentences: Iterable[Sentence], where: str, *, tagged: bool = True
) -> list[TaggedSpan]:
    """The sentences of one article as spans of its text ``text``.

    With ``tagged``, ``sentences`` are what
    :func:`framing.runtime.tagged_records.tagged_records` gives for a sentence-level
    model's article (body offsets, the title as sentence 0); otherwise they are
    annotation records (an import, ``framing eval --predictions``) whose offsets index
    the document text already.  ``text`` is the article as the task distributes it (line
    ends as the task's importer reads them).

    Raises
    ------
    AnnotationError
        Naming ``where`` when a sentence has no offsets (tagged with ``--one-per-line``) or
        its text is not at its place in ``text`` (another version of the article, or an
        article whose line ends ``framing tag`` changed).
    """
    normalised = normalise_text(text)
    offset = body_start(normalised) if tagged else 0
    title = _title_span(normalised) if tagged else None
    spans: list[TaggedSpan] = []
    for sentence in sentences:
        scores = sentence.meta.get("scores") or {}
        if sentence.start is None or sentence.end is None:
            if sentence.sent_index == 0 and title is not None:
                start, end = title
            else:
                raise AnnotationError(
                    f"{where}: sentence {sentence.sent_index} has no offsets (tagged with "
                    "--one-per-line?); tag the article files as distributed"
                )
        else:
            start, end = sentence.start + offset, sentence.end + offset
        if text[start:end] != sentence.text:
            raise AnnotationError(
                f"{where}: tagged sentence {sentence.sent_index} '{sentence.text[:40]}' is not "
                f"at characters {start}-{end} of the article file; tag the same files as "
                "given here (unchanged, with LF line ends)"
            )
        spans.append(
            TaggedSpan(start, end, dict(sentence.labels), dict(scores), sentence.sent_index or 0)
        )
    return spans


def overlapping(unit: tuple[int, int], spans: Sequence[TaggedSpan]) -> list[TaggedSpan]:
    """The spans that overlap ``unit`` (``start < unit end`` and ``end > unit start``)."""
    start, end = unit
    return [s for s in spans if s.start < end and s.end > start]


def labels_over(unit: tuple[int, int], spans: Sequence[TaggedSpan], dimension: str) -> list[str]:
    """The union of the ``dimension`` labels of the spans overlapping ``unit``, in order.

    Examples
    --------
    >>> spans = [TaggedSpan(0, 10, {"t": ("A",)}), TaggedSpan(11, 20, {"t": ("B", "A")})]
    >>> labels_over((5, 15), spans, "t"), labels_over((10, 11), spans, "t")
    (['A', 'B'], [])
    """
    found: dict[str, Any] = {}
    for span in overlapping(unit, spans):
        found.update(dict.fromkeys(span.labels.get(dimension, ())))
    return list(found)


@dataclass
class ArticleRecords:
    """One article's records: its document record (if any) and its sentences, in order."""

    doc_id: str
    document: Document | None = None
    sentences: list[Sentence] = field(default_factory=list)

    @property
    def tagged(self) -> bool:
        """Whether the records are ``framing tag`` output (the document names its model)."""
        return self.document is not None and "model" in self.document.meta

    @property
    def level(self) -> str:
        """``document`` for a document-level model's tagged article, else ``sentence``."""
        if self.tagged and self.document is not None and not self.sentences:
            model = self.document.meta.get("model") or {}
            return str(model.get("level", "sentence"))
        return "sentence"


def group_articles(records: Iterable[Sentence | Document]) -> dict[str, ArticleRecords]:
    """Records by the task's article id (:func:`task_id` of their ``doc_id``), in order."""
    out: dict[str, ArticleRecords] = {}
    for record in records:
        ident = task_id(record.doc_id)
        article = out.setdefault(ident, ArticleRecords(record.doc_id))
        if isinstance(record, Document):
            article.document = record
        else:
            article.sentences.append(record)
    return out

"""What ``framing tag`` wrote, as annotation records, so that every exporter reads it.

A tagged article (``docs/output-format.md``) becomes

* a **document-level model's** article: one ``done`` document record whose label lists
  are the model's labels of the article (``document.labels``);
* a **sentence-level model's** article: a ``todo`` document record (the article as a whole
  was not labelled) and one ``done`` sentence record per sentence, id
  ``<doc_id>-s<index>``, with the sentence's predicted labels, its offsets into the body
  and ``sent_index`` (the title, sentence 0, has ``meta.part = "headline"``; with
  ``framing tag --all-scores``, every label's score is in ``meta.scores``); an exporter
  that needs article labels takes the union of its sentences' (as
  :func:`framing.exchange.exporters.semeval2025.document_labels` does).

The article's ``meta`` goes to the document record, the model that tagged it to
``meta.model``.  :func:`read_records` reads tag output and annotation files alike, file by
file, by looking at each file's first record.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from framing.errors import AnnotationError
from framing.format.annotations import Document, Sentence, collect_files, iter_records
from framing.format.article import HEADLINE_PART
from framing.format.codebook import Codebook
from framing.runtime.results import is_tagged_article as is_tagged
from framing.runtime.results import is_tagged_file

__all__ = ["is_tagged", "is_tagged_file", "read_any", "tagged_articles", "tagged_records"]

Record = Sentence | Document


def tagged_records(path: Path, codebook: Codebook | None = None) -> Iterator[Record]:
    """The records of one file of tag output, in order (see the module docstring).

    Raises
    ------
    AnnotationError
        Naming ``file:line`` for a line that is not a tagged article, and for a label
        outside ``codebook`` (when one is given).
    """
    allowed = (
        {dim.id: set(dim.label_ids) for dim in codebook.dimensions}
        if codebook is not None
        else None
    )
    for where, data in tagged_articles(path):
        yield from _article_records(data, where, allowed)


def tagged_articles(
    path: Path, problems: list[str] | None = None
) -> Iterator[tuple[str, dict[str, Any]]]:
    """``(file:line, article)`` for each tagged article of one file of ``framing tag`` output.

    Blank lines are skipped.  A line that is not valid JSON or not a tagged article raises
    :class:`AnnotationError` naming ``file:line``; given a ``problems`` list, the message is
    appended to it instead and the line skipped, so that a caller can report every bad
    line at once.
    """
    with open(path, encoding="utf-8", errors="replace") as stream:
        for number, line in enumerate(stream, start=1):
            if not line.strip():
                continue
            where = f"{path}:{number}"
            try:
                data = json.loads(line)
            except ValueError as exc:
                problem = f"{where}: not valid JSON ({exc})"
            else:
                if is_tagged(data):
                    yield where, data
                    continue
                problem = (
                    f"{where}: not a tagged article (no 'sentences' list and 'model'): give "
                    "the JSONL output of 'framing tag', not its input or annotation records"
                )
            if problems is None:
                raise AnnotationError(problem)
            problems.append(problem)


def _labels(
    found: Any, where: str, allowed: dict[str, set[str]] | None
) -> dict[str, tuple[str, ...]]:
    out: dict[str, tuple[str, ...]] = {}
    for dim, items in (found or {}).items():
        ids = tuple(str(item["label"]) for item in items)
        if allowed is not None:
            bad = [x for x in ids if x not in allowed.get(dim, set())]
            if bad:
                raise AnnotationError(
                    f"{where}: label '{bad[0]}' of '{dim}' is not in the codebook (the article "
                    "was tagged by a model with another codebook: give its codebook with -c)"
                )
        out[dim] = ids
    return out


def _article_records(
    data: dict[str, Any], where: str, allowed: dict[str, set[str]] | None
) -> Iterator[Record]:
    doc_id = str(data.get("doc_id") or where.rsplit("/", 1)[-1])
    meta = dict(data.get("meta") or {})
    meta["model"] = data["model"]
    title = data.get("title")
    document = data.get("document")
    if isinstance(document, dict):
        yield Document(
            doc_id,
            title=title,
            labels=_labels(document.get("labels"), where, allowed),
            status="done",
            meta=meta,
        )
        return
    yield Document(doc_id, title=title, status="todo", meta=meta)
    for s in data["sentences"]:
        index = int(s.get("index", 0))
        yield Sentence(
            id=f"{doc_id}-s{index}",
            doc_id=doc_id,
            text=str(s.get("text", "")),
            labels=_labels(s.get("labels"), where, allowed),
            status="done",
            sent_index=index,
            start=s.get("start"),
            end=s.get("end"),
            meta=_sentence_meta(s, index),
        )


def _sentence_meta(sentence: dict[str, Any], index: int) -> dict[str, Any]:
    meta: dict[str, Any] = {}
    # sentence 0 without offsets is the title (output format 1.2), as in the corpus
    if index == 0 and sentence.get("start") is None:
        meta["part"] = HEADLINE_PART
    if isinstance(sentence.get("scores"), dict):
        meta["scores"] = sentence["scores"]
    return meta


def read_any(paths: Sequence[str | Path], codebook: Codebook | None = None) -> list[Record]:
    """Records of annotation files and of ``framing tag`` output alike, in file order."""
    records: list[Record] = []
    plain: list[Path] = []

    def flush() -> None:
        if plain:
            records.extend(iter_records(plain, codebook))
            plain.clear()

    for file in collect_files(paths):
        if is_tagged_file(file):
            flush()
            records.extend(tagged_records(file, codebook))
        else:
            plain.append(file)
    flush()
    return records

"""Raw articles (``.txt``) into annotation-ready JSONL.

Files are read by :func:`framing.format.article.read_article` (the title rule and line-end
normalisation live there).  Sentence offsets index into the body, which
is stored in the document record's ``text``, so ``body[start:end] == text`` holds
for every sentence.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path

from framing.errors import AnnotationError
from framing.exchange.importers import ImportResult
from framing.format.annotations import Document, Sentence, collect_files
from framing.format.article import Article, normalise_text, read_article, refuse_json
from framing.format.codebook import Codebook
from framing.format.table import is_table, read_table
from framing.runtime.segment import split_sentences

__all__ = ["article_records", "import_text"]


def article_records(
    article: Article, codebook: Codebook | None = None
) -> list[Sentence | Document]:
    """A document record and one ``todo`` sentence record per sentence of ``article``."""
    empty = {dim: () for dim in codebook.dimension_ids} if codebook else {}
    meta = {"source": Path(article.source).name} if article.source else {}
    records: list[Sentence | Document] = [
        Document(
            doc_id=article.doc_id,
            title=article.title,
            text=article.text,
            status="todo",
            labels=dict(empty),
            meta=meta,
        )
    ]
    for index, (start, end) in enumerate(split_sentences(article.text), start=1):
        records.append(
            Sentence(
                id=f"{article.doc_id}-s{index:03d}",
                doc_id=article.doc_id,
                text=article.text[start:end],
                labels=dict(empty),
                status="todo",
                sent_index=index,
                start=start,
                end=end,
            )
        )
    return records


def _doc_ids(files: Sequence[Path]) -> list[str]:
    ids: list[str] = []
    seen: set[str] = set()
    for file in files:
        base = re.sub(r"[^\w.-]+", "-", file.stem).strip("-") or "doc"
        doc_id, n = base, 1
        while doc_id in seen:
            n += 1
            doc_id = f"{base}-{n}"
        seen.add(doc_id)
        ids.append(doc_id)
    return ids


def import_text(
    paths: Sequence[str | Path],
    codebook: Codebook | None = None,
    *,
    text_column: str | None = None,
    id_column: str | None = None,
) -> ImportResult:
    """Import ``.txt`` articles (files or folders, recursively) as ``todo`` records.

    Document ids are the file names without ``.txt`` (made unique with ``-2``,
    ``-3``, ...); sentence ids are ``<doc_id>-s001``, ``-s002``, ... and
    ``sent_index`` counts from 1.  A ``.csv``/``.tsv`` file given by name holds one
    article per row (see :func:`framing.format.table.read_table`): its other columns
    are kept in the document record's ``meta``.

    Parameters
    ----------
    paths
        Text files or folders holding them, or CSV/TSV files.
    codebook
        When given, every record gets an empty label list per dimension, ready to fill.
    text_column, id_column
        For CSV/TSV files: the column of the text, and of the document id (default:
        ``<file stem>:<line>``).

    Returns
    -------
    ImportResult

    Raises
    ------
    InputNotFoundError
        When a path does not exist or a folder holds no ``.txt`` file.
    UsageError
        When a file is JSON (which needs no import or another importer), or a table
        has no ``text_column``.
    AnnotationError
        When a file is not valid UTF-8 or is empty.
    """
    files = collect_files(paths, suffix=".txt")
    records: list[Sentence | Document] = []
    for file, doc_id in zip(files, _doc_ids(files), strict=True):
        if is_table(file):
            for row in read_table(file, text_column, id_column):
                body = normalise_text(row.text)
                if not body.strip():
                    raise AnnotationError(f"{file}:{row.line}: the text column is empty")
                article = Article(doc_id=row.doc_id, title=None, text=body, source=str(file))
                article_recs = article_records(article, codebook)
                document = article_recs[0]
                assert isinstance(document, Document)
                document.meta.update(row.meta)
                records.extend(article_recs)
            continue
        refuse_json(file)
        article = read_article(file, doc_id=doc_id)
        if not article.text.strip():
            raise AnnotationError(f"{file}: the article has no text after its title")
        records.extend(article_records(article, codebook))
    result = ImportResult(records=records, codebook=codebook)
    result.counts = {"documents": result.documents, "sentences": result.sentences}
    return result

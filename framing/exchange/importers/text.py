"""Raw articles (``.txt``) into annotation-ready JSONL.

The title rule: when the first line of a file is followed by a blank line, that
line is the title and the body starts after the blank line(s); otherwise the file
has no title and all of it is the body.  Line ends are normalised to ``\\n``; a
leading byte order mark is dropped.  Sentence offsets index into the body, which
is stored in the document record's ``text``, so ``body[start:end] == text`` holds
for every sentence.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from framing.errors import AnnotationError
from framing.exchange.importers import ImportResult
from framing.format.annotations import Document, Sentence, collect_files
from framing.format.codebook import Codebook
from framing.runtime.segment import split_sentences

__all__ = ["Article", "read_article", "split_title", "import_text"]

_TITLE = re.compile(r"\A[ \t]*([^\n]*\S)[ \t]*\n[ \t]*\n\s*")


@dataclass(frozen=True)
class Article:
    """A raw article: an id, an optional title and the body text."""

    doc_id: str
    title: str | None
    text: str
    source: str | None = None


def normalise_text(text: str) -> str:
    """Drop a byte order mark and turn CRLF/CR line ends into LF."""
    if text.startswith("\ufeff"):
        text = text[1:]
    return text.replace("\r\n", "\n").replace("\r", "\n")


def split_title(text: str) -> tuple[str | None, str]:
    """Apply the title rule: ``(title, body)``.

    Examples
    --------
    >>> split_title("Headline\\n\\nBody. More.")
    ('Headline', 'Body. More.')
    >>> split_title("No title here. Just text.")
    (None, 'No title here. Just text.')
    """
    match = _TITLE.match(text)
    if match is None:
        return None, text
    return match.group(1), text[match.end() :]


def read_article(
    path: str | Path, *, doc_id: str | None = None, title_rule: bool = True
) -> Article:
    """Read a UTF-8 text file as an :class:`Article`.

    Raises
    ------
    AnnotationError
        When the file is not valid UTF-8 (naming the byte offset).
    """
    path = Path(path)
    raw = path.read_bytes()
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise AnnotationError(
            f"{path}:{line}: invalid UTF-8 byte 0x{raw[exc.start]:02x} "
            "(re-encode the file as UTF-8)"
        ) from None
    text = normalise_text(text)
    title, body = split_title(text) if title_rule else (None, text)
    return Article(doc_id=doc_id or path.stem, title=title, text=body, source=str(path))


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


def import_text(paths: Sequence[str | Path], codebook: Codebook | None = None) -> ImportResult:
    """Import ``.txt`` articles (files or folders, recursively) as ``todo`` records.

    Document ids are the file names without ``.txt`` (made unique with ``-2``,
    ``-3``, ...); sentence ids are ``<doc_id>-s001``, ``-s002``, ... and
    ``sent_index`` counts from 1.

    Parameters
    ----------
    paths
        Text files or folders holding them.
    codebook
        When given, every record gets an empty label list per dimension, ready to fill.

    Returns
    -------
    ImportResult

    Raises
    ------
    InputNotFoundError
        When a path does not exist or a folder holds no ``.txt`` file.
    AnnotationError
        When a file is not valid UTF-8 or is empty.
    """
    files = collect_files(paths, suffix=".txt")
    records: list[Sentence | Document] = []
    for file, doc_id in zip(files, _doc_ids(files), strict=True):
        article = read_article(file, doc_id=doc_id)
        if not article.text.strip():
            raise AnnotationError(f"{file}: the article has no text after its title")
        records.extend(article_records(article, codebook))
    result = ImportResult(records=records, codebook=codebook)
    result.counts = {"documents": result.documents, "sentences": result.sentences}
    return result

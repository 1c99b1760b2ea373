"""A raw article: the title rule and the text normalisation that every reader applies.

The title rule: when the first line of a text is followed by a blank line, that line is
the title and the body starts after the blank line(s); otherwise there is no title and
all of it is the body.  Lines of site chrome above the title (a saved web page's "All
news", "Read more", "Share | Print"; see :func:`is_navigation_line`) are dropped first:
they are neither the title nor part of the body.  Line ends are normalised to ``\n``; a
leading byte order mark is dropped.  Used by ``framing import`` (annotation files) and
``framing tag`` (tagging) alike, so both read an article the same way.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from framing.errors import AnnotationError

__all__ = [
    "HEADLINE_PART",
    "Article",
    "is_headline",
    "is_navigation_line",
    "normalise_text",
    "read_article",
    "read_utf8",
    "refuse_json",
    "split_title",
]

#: ``meta.part`` of the sentence record that holds an article's title (its headline).
HEADLINE_PART = "headline"


def is_headline(meta: Mapping[str, Any] | None) -> bool:
    """Whether a sentence record with this ``meta`` is its article's headline."""
    return meta is not None and meta.get("part") == HEADLINE_PART


_TITLE = re.compile(r"\A[ \t]*([^\n]*\S)[ \t]*\n[ \t]*\n\s*")
_FIRST_LINE = re.compile(r"\A\s*([^\n]*\S)[ \t]*\n\s*")
_WORD = re.compile(r"[^\W\d_]+(?:['’-][^\W\d_]+)*")
#: Words that only site chrome is made of: navigation, paging, sharing and account links.
#: A line made of these alone, with at least one of _CHROME_CORE, is not a title.
_CHROME_WORDS_TEXT = """
    all news latest top stories story home menu read more full article articles share
    print email e-mail subscribe sign log in login out register back to next previous prev
    related comments comment advertisement skip content main follow us on tweet search
    live updates video videos photo photos gallery world local page"""
_CHROME_WORDS = frozenset(_CHROME_WORDS_TEXT.split())
_CHROME_CORE_TEXT = """
    news home menu more share print email e-mail subscribe sign log login register
    back related comments comment advertisement skip search"""
_CHROME_CORE = frozenset(_CHROME_CORE_TEXT.split())
#: A navigation line is short: "Share | Print | Email | Comments" is four words.
_MAX_CHROME_WORDS = 6


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


def is_navigation_line(line: str) -> bool:
    """Whether a line is site chrome (a navigation, paging or sharing link), not a title.

    A saved web page often starts with such a line ("All news", "Read more", "Share |
    Print", "Home › News"): short, without a verb of its own, made only of the words
    links are made of.  The rule: at most six words, every one of them a word of site
    chrome, and at least one that only chrome uses ("news", "more", "share", "home", ...),
    so that a short title of common words ("All in", "Live updates") stays one.

    Examples
    --------
    >>> is_navigation_line("All news")
    True
    >>> is_navigation_line("West sees CSTO as threat, tries to breed discord — Lavrov")
    False
    """
    words = _WORD.findall(line.lower())
    return (
        0 < len(words) <= _MAX_CHROME_WORDS
        and all(word in _CHROME_WORDS for word in words)
        and any(word in _CHROME_CORE for word in words)
    )


def split_title(text: str) -> tuple[str | None, str]:
    """Apply the title rule: ``(title, body)``, site chrome above the title dropped.

    Examples
    --------
    >>> split_title("Headline\\n\\nBody. More.")
    ('Headline', 'Body. More.')
    >>> split_title("No title here. Just text.")
    (None, 'No title here. Just text.')
    >>> split_title("All news\\n\\nHeadline\\n\\nBody.")
    ('Headline', 'Body.')
    """
    while (line := _FIRST_LINE.match(text)) is not None and is_navigation_line(line.group(1)):
        text = text[line.end() :]
    match = _TITLE.match(text)
    if match is None:
        return None, text
    return match.group(1), text[match.end() :]


def read_utf8(path: Path, fix: str = "re-encode the file as UTF-8") -> str:
    """The text of a UTF-8 file.

    Raises
    ------
    AnnotationError
        When it is not UTF-8, naming the line and the byte, and ``fix``.
    """
    raw = path.read_bytes()
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise AnnotationError(
            f"{path}:{line}: invalid UTF-8 byte 0x{raw[exc.start]:02x} ({fix})"
        ) from None


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
    text = normalise_text(read_utf8(path))
    title, body = split_title(text) if title_rule else (None, text)
    return Article(doc_id=doc_id or path.stem, title=title, text=body, source=str(path))


def refuse_json(path: str | Path) -> None:
    """Stop when a file meant to be prose is JSON or JSONL.

    Raises
    ------
    UsageError
        Naming the file and what to use instead.
    """
    from framing.errors import UsageError

    path = Path(path)
    if str(path) == "-" or not path.is_file():
        return
    looks_json = path.suffix.lower() in (".json", ".jsonl")
    if not looks_json:
        with open(path, "rb") as fh:
            head = fh.read(4096).lstrip(b"\xef\xbb\xbf \t\r\n")
        if head[:1] in (b"{", b"["):
            first = head.split(b"\n", 1)[0]
            try:
                json.loads(first)
            except ValueError:
                looks_json = head[:1] == b"[" and first.strip() == b"["
            else:
                looks_json = True
    if looks_json:
        raise UsageError(
            f"{path}: this is JSON, not raw text. Annotation JSONL needs no import (check it "
            "with 'framing validate'); exports of annotation tools have their own importers "
            "('framing import labelstudio|doccano|prodigy ...'); 'framing tag' reads JSONL "
            "articles directly"
        )

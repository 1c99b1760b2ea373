"""Rule-based sentence segmentation for news articles.

The segmenter returns character spans (``start``, ``end``) so that every later stage
(annotation, tagging, evaluation) can point back into the original document.

Approach
--------
One compiled regular expression scans the text for *candidate boundaries* only; every
pattern starts with a single character class (terminal punctuation, a line break or an
inline bullet), which lets the regex engine skip ordinary text quickly.  Each candidate is
then accepted or rejected by a few cheap checks in Python (set look-ups and at most one
small anchored regex match); there is no per-character Python loop.

Candidates and the rules applied to them:

* **Terminal punctuation** -- a run of ``.``, ``!``, ``?`` or ``…`` optionally followed by
  closing quotes or brackets (``" ” ’ ' » ) ]``) and then whitespace.  The closing quote
  stays with the sentence it closes (``"We agree." He left.`` gives two sentences and the
  quote mark belongs to the first).  The candidate is rejected when

  - the next word starts with a lowercase letter or with ``, ; : % ) ]`` (``"Why?" he
    asked.``, ``the talks... were hard``);
  - the period belongs to a title-like abbreviation that never ends a sentence (``Mr.``,
    ``Dr.``, ``Gen.``, ``Sen.``, ``vs.``, ``e.g.``, ...);
  - the period belongs to a number prefix followed by a digit (``No. 5``, ``Art. 51``);
  - the period belongs to an *ambiguous* abbreviation (``U.S.``, ``a.m.``, ``Inc.``,
    ``Jan.``, ``etc.``, ``Jr.``, ``St.``) or to a one-letter initial (``George W. Bush``)
    and the next word is not a typical sentence opener such as *The*, *He*, *In* or *But*
    (``in the U.S. The`` splits, ``the U.S. Senate`` does not);
  - it is a detached ellipsis (``the West ... is``), which marks an omission;
  - it lies inside a news dateline at the start of a sentence (``MINSK, June 20. /TASS/.``,
    ``ST. PETERSBURG, June 14 (Reuters) -``): the dateline belongs to the first sentence;
  - it ends a quotation with ``?``/``!``/``.`` that is followed by a short speech tag
    (``"Why?" Lavrov asked.``);
  - the sentence so far is only a list number (``1. First item``).

* **Line breaks** (the line rule).  A blank line (two line breaks with only spaces or tabs
  between them) always ends a sentence, and so does a line break followed by a bullet
  (``- ``, ``* ``, ``• ``, ``– ``) or a numbered item (``2. ``, ``3) ``) with text after it
  on its line (a mark alone on a line is not an item).  Otherwise a
  single line break

  - after terminal punctuation follows the rules above, except that only title-like
    abbreviations (``Mr.``), number prefixes and one-letter initials still join across it:
    a line ending in ``U.S.`` or ``Inc.`` before a capitalised line is taken as complete;
  - after a line without terminal punctuation (a headline, section head, photo caption or
    credit line) ends the sentence, *unless* the line looks hard-wrapped: it ends with
    ``, ; : ( - – — / &`` or with a function word (*the*, *of*, *and*, *said*, ...), or the
    next line starts with a lowercase letter or with ``, ; : % ) ]``.

* **Inline bullets** -- ``•`` or ``▪`` preceded by whitespace start a new sentence.

Spans never include leading or trailing whitespace and never overlap; together they cover
every non-whitespace character of the input, and the gaps between them are whitespace only.

Speed
-----
The rules are written once, here, in Python; there is no compiled copy of them.  The
scan regex settles what it can by itself (it only stops at candidates), and the
common candidate (terminal punctuation, one space or line break, a capital, an
ordinary word before the period) takes a few set and dict look-ups: the class of the
word before a period is worked out once per distinct word and kept (``_KINDS``, a
bounded cache), since news text ends sentence after sentence on the same words.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

__all__ = ["iter_sentences", "split_sentences"]

# --------------------------------------------------------------------------- characters

#: Characters treated as line breaks (``\r\n`` counts as one break).
_NL_CHARS = "\n\r\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029"
_NL = r"(?:\r\n|\r(?!\n)|[" + _NL_CHARS.replace("\r", "") + r"])"
#: Whitespace that is not a line break.
_HSPACE = r"[^\S" + _NL_CHARS + r"]"
_TERMINALS = ".!?…"
_CLOSERS = "\"'”’»)\\]"
_BULLETS = "•▪"
#: Opening quotes and brackets, stripped from the word before a period.
_OPENING_MARKS = "(\"'“‘«["

# Characters a new sentence cannot start with.
_NO_START = frozenset(",;:%)]}.…")
# Characters ending a line that is hard-wrapped in the middle of a sentence.
_CONTINUE_END = frozenset(",;:(-–—/&")

# One pass over candidate boundaries.  Every alternative begins with the same leading
# character class, so the regex engine can skip ordinary text with its fast charset scan.
_SCAN = re.compile(
    "[" + _TERMINALS + _NL_CHARS + _BULLETS + "]"
    "(?:"
    # 1. terminal punctuation: rest of the run, closing quotes/brackets, whitespace
    "(?<=[" + _TERMINALS + "])[" + _TERMINALS + "]*"
    "(?P<close>[" + _CLOSERS + "]*)(?P<ws>\\s+)"
    # 2. line break: all following whitespace
    "|(?<=[" + _NL_CHARS + "])(?P<nlws>\\s*)"
    # 3. inline bullet preceded by whitespace
    "|(?<=\\s[" + _BULLETS + "])"
    ")"
)
_G_CLOSE, _G_WS, _G_NLWS = (_SCAN.groupindex[g] for g in ("close", "ws", "nlws"))
_BLANK_LINE = re.compile(_NL + _HSPACE + "*" + _NL)
_HAS_NL = re.compile("[" + _NL_CHARS + "]")
#: A list item starts with one of these, a digit or a lowercase ASCII letter; the
#: scanner tests that first, which spares most calls of the regex.
_LIST_MARKS = "-*•▪◦‣–"
_UPPER_ASCII = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZ")
_LIST_ITEM = re.compile(r"(?:[" + _LIST_MARKS + r"]|\d{1,3}[.)]|[a-z][)])[ \t]+(?=\S)")
_DOTTED = re.compile(r"(?:[A-Za-z]\.)+[A-Za-z]")
_NEXT_WORD = re.compile(r"[\"'“‘«(\[]*([^\W\d_][\w'’-]*)(\.?)")
_LAST_WORD = re.compile(r"[\w'’-]+\Z")
_DATELINE = re.compile(
    r"[A-Z][A-Z'’.\-]+(?:[ ][A-Z][A-Z'’.\-]*)*"  # CITY: MINSK, NEW YORK, ST. PETERSBURG
    r"(?:,[ ][^\n,()/]{1,30}?){0,2}"  # , June 20.  , Fla.  , Ukraine
    r"[ ]?(?:"
    r"\([^()\n]{1,40}\)\.?(?:[ ]?(?:-{1,2}|[–—]))?"  # (Reuters) -   (AFP) –
    r"|/[^/\n]{1,30}/\.?"  # /TASS/.
    r"|(?:-{1,2}|[–—])(?=[ ]|\Z)"  # MOSCOW — (or at the end: a span is re-split alike)
    r")"
)
_TIME_ZONE = re.compile(r"[A-Z]{2,4}\b(?![.'’])|[A-Z]\w*[ ]time\b")
_SPEECH_TAG = re.compile(
    r"(?:[A-Z][\w'’.-]*[ ]){1,4}"
    r"(?:said|says|asked|asks|added|adds|told\s+\w+|wrote|writes|replied|noted|stressed|"
    r"declared|insisted|exclaimed|wondered|shouted|concluded|continued|explained)"
    r"(?:[ ](?:on[ ]\w+|today|yesterday|later|then))?[.,;]"
)

# --------------------------------------------------------------------------- lexicon

_TITLE = 1  # never ends a sentence: Mr. Putin
_NUMBER = 2  # no boundary before a digit: No. 5
_AMBIGUOUS = 3  # boundary only before a typical sentence opener: in the U.S. The ...
_INITIAL = 4  # one-letter initial: George W. Bush
_CLOCK = 5  # a.m./p.m.: boundary before a capital unless a time zone follows (4 p.m. GMT)
_LIST_NUMBER = 6  # up to three digits: no boundary when they open the sentence (1. First)


def _words(spaced: str) -> list[str]:
    """Split a whitespace-separated word list (keeps the lexicon below readable)."""
    return spaced.split()


_ABBREV: dict[str, int] = {}
for _w in _words(
    "Mr Mrs Ms Messrs Mmes Dr Drs Prof Gen Gens Lt Col Maj Capt Cpt Cmdr Cdr Adm Brig Sgt "
    "Cpl Pvt Sen Sens Rep Reps Gov Govs Pres Rev Hon Amb Atty Supt Insp Sec Secy Mt Ft Rt "
    "Fr Sra Mme Mlle vs v cf e.g i.e approx ca incl esp viz Ph.D"
):
    _ABBREV[_w] = _TITLE
for _w in _words("No Nos no nos Art Arts Fig Figs Vol Vols p pp Para Ch Op Nr"):
    _ABBREV[_w] = _NUMBER
for _w in _words(
    "Jan Feb Mar Apr Jun Jul Aug Sep Sept Oct Nov Dec Inc Co Corp Cos Ltd Bros LLC Jr Sr "
    "St Ave Blvd Rd Sq Univ Assn Est est al ibid Mon Tue Tues Wed Thu Thur Thurs Fri "
    "Sat Sun mln bln bn tn min sec hr hrs Dept"
):
    _ABBREV[_w] = _AMBIGUOUS
for _w in ("a.m", "p.m", "A.M", "P.M"):
    _ABBREV[_w] = _CLOCK
del _w

#: Words that typically open a sentence; after an ambiguous abbreviation they signal a
#: boundary (``in the U.S. The``), any other word does not (``the U.S. Senate``).
_OPENERS = frozenset(
    _words(
        """
        The A An This That These Those There Here It Its He She We They I You His Her Our
        Their My Your But And Or So Yet Nor In On At For With Without After Before During As
        When While Whereas If Although Though Because Since Until However Meanwhile Moreover
        Furthermore Nevertheless Nonetheless Still Also Then Now Thus Therefore Instead
        Indeed Earlier Later Last Next Today Yesterday Tomorrow Tonight According Some Many
        Most Several All Both Each Every No None Other Others Such What Why How Who Where
        Which Whether Despite Under Over From By To Of One Two Three Four Five Six Seven
        Eight Nine Ten Not Only Even Just Yes Neither Either Another Few
        """
    )
)

#: Line-final words after which a line break is a hard wrap, not a sentence end.
_CONTINUE_WORDS = frozenset(
    _words(
        """
        a an the and or but nor of to in on at by for with from into onto upon as than that
        which who whom whose where when while if because although though after before about
        over under between against amid among during including per via is are was were be
        been being has have had will would could should can may might must not its their
        his her our your my this these those said says told say very more most such so also
        both either neither whether mr mrs ms dr
        """
    )
)


# --------------------------------------------------------------------------- helpers


def _abbrev_kind(tok: str) -> int:
    """Return the abbreviation class of ``tok`` (the word before a period), 0 if none."""
    kind = _ABBREV.get(tok)
    if kind is not None:
        return kind
    if len(tok) == 1:
        return _INITIAL if tok.isupper() else 0
    if "." in tok and _DOTTED.fullmatch(tok):
        return _AMBIGUOUS
    if tok.isupper() and tok.isalpha():
        return _ABBREV.get(tok.capitalize(), 0)
    if "-" in tok:  # Ex-Sen., Lt.-Gen.
        head = tok.rsplit("-", 1)[1]
        if head and head != tok:
            return _abbrev_kind(head)
    return 0


#: The kinds of the tokens seen before a period (:func:`_token_kind`), kept because the
#: same words end sentence after sentence; emptied when it grows past a bound.
_KINDS: dict[str, int] = {}
_KINDS_BOUND = 1 << 16


def _token_kind(tok: str) -> int:
    """The abbreviation class of ``tok``, the word before a period (:func:`_abbrev_kind`),
    or ``_LIST_NUMBER`` for a number of up to three digits (``1. First item``); cached
    in ``_KINDS``."""
    kind = _abbrev_kind(tok)
    if not kind and tok.isdigit() and len(tok) <= 3:
        kind = _LIST_NUMBER
    if len(_KINDS) >= _KINDS_BOUND:
        _KINDS.clear()
    _KINDS[tok] = kind
    return kind


def _has_quote(close: str) -> bool:
    """Whether a run of closing characters contains a quotation mark."""
    return bool(close.strip(")]"))


def _opens_sentence(text: str, q: int) -> bool:
    """Whether the word at ``q`` is a typical sentence opener (or an opening quote)."""
    c = text[q]
    if c in "\"“‘«'":
        return True
    m = _NEXT_WORD.match(text, q)
    if m is None:
        return False
    word = m.group(1)
    if len(word) == 1 and m.group(2):  # another initial: "J. A. Smith"
        return False
    return word in _OPENERS


def _line_continues(text: str, s: int, e: int, q: int) -> bool:
    """Whether the line ending at ``e`` is hard-wrapped into the line starting at ``q``."""
    last = text[e - 1]
    if last in _CONTINUE_END:
        return True
    nxt = text[q]
    if nxt.islower() or nxt in _NO_START:
        return True
    tail = text[max(s, e - 16) : e]
    word = tail[tail.rfind(" ") + 1 :]
    if word.isalpha():  # the usual case: the word is all of the line's last token
        return word.lower() in _CONTINUE_WORDS
    m = _LAST_WORD.search(text, max(s, e - 16), e)
    return m is not None and m.group().lower() in _CONTINUE_WORDS


# --------------------------------------------------------------------------- public API


def iter_sentences(text: str) -> Iterator[tuple[int, int]]:
    """Yield the character spans of the sentences of a news document, lazily.

    Parameters
    ----------
    text : str
        The document (headline, captions and body, in any mix of line breaks).

    Yields
    ------
    tuple of (int, int)
        ``(start, end)`` such that ``text[start:end]`` is one sentence without leading or
        trailing whitespace; spans come in document order and never overlap.

    See Also
    --------
    split_sentences : The same spans as a list.

    Examples
    --------
    >>> text = 'MINSK, June 20. /TASS/. The West agrees. "Fine," he said.'
    >>> [text[s:e] for s, e in iter_sentences(text)]
    ['MINSK, June 20. /TASS/. The West agrees.', '"Fine," he said.']
    """
    n = len(text)
    s = n - len(text.lstrip())
    if s == n:
        return
    dl_start = -1  # sentence start for which the dateline was computed
    dl_end = -1
    for m in _SCAN.finditer(text, s):
        p = m.start()
        ws_start = m.start(_G_WS)
        if ws_start >= 0:
            # ---- terminal punctuation --------------------------------------------
            q = m.end()
            if q >= n:
                break
            c = text[q]
            capital = c in _UPPER_ASCII  # the usual next character: settles two rules
            if q - ws_start == 1:  # the usual case: one space or one line break
                newline = text[ws_start] in _NL_CHARS
                if (
                    newline
                    and not capital
                    and (c in _LIST_MARKS or "a" <= c <= "z" or c.isdecimal())
                    and _LIST_ITEM.match(text, q)
                ):
                    yield s, ws_start
                    s = q
                    continue
            elif _HAS_NL.search(text, ws_start, q):
                newline = True
                if _BLANK_LINE.search(text, ws_start, q) or (
                    (c in _LIST_MARKS or "a" <= c <= "z" or c.isdecimal())
                    and _LIST_ITEM.match(text, q)
                ):
                    yield s, ws_start
                    s = q
                    continue
            else:
                newline = False
            if not capital and (c.islower() or c in _NO_START):
                continue
            close_start = m.start(_G_CLOSE)
            term = text[p:close_start]
            if term == ".":
                if p == s or text[p - 1].isspace():
                    kind = 0
                    tok = ""
                else:
                    window = text[p - 24 if p - 24 > s else s : p]
                    tok = window.rsplit(None, 1)[-1].lstrip(_OPENING_MARKS)
                    kind = _KINDS.get(tok, -1)
                    if kind < 0:  # a token not seen yet
                        kind = _token_kind(tok)
                if not kind:
                    pass  # an ordinary word: the usual case
                elif kind == _TITLE:
                    continue
                elif kind == _NUMBER:
                    if c.isdigit():
                        continue
                elif kind == _INITIAL:
                    if not _opens_sentence(text, q):
                        continue
                elif kind == _CLOCK:
                    if c.isdigit() or _TIME_ZONE.match(text, q):
                        continue
                elif kind == _AMBIGUOUS:
                    if c.isdigit() or (not newline and not _opens_sentence(text, q)):
                        continue
                elif p - len(tok) == s:  # _LIST_NUMBER
                    continue  # list number: "1. First item"
            elif p > s and text[p - 1].isspace() and ("…" in term or ".." in term):
                continue  # a detached ellipsis marks an omission inside a sentence
            if p - s <= 80:
                if dl_start != s:
                    dl_start = s
                    dl_end = -1
                    if s + 1 < n and text[s + 1].isupper() and text[s].isupper():
                        dm = _DATELINE.match(text, s)
                        if dm is not None:
                            dl_end = dm.end()
                if ws_start <= dl_end:
                    continue
            if (
                close_start < ws_start
                and c.isupper()
                and _has_quote(text[close_start:ws_start])
                and _SPEECH_TAG.match(text, q)
            ):
                continue
            yield s, ws_start
            s = q
        elif m.start(_G_NLWS) >= 0:
            # ---- line break without terminal punctuation before it -------------------
            q = m.end()
            if q >= n:
                break
            e = s + len(text[s:p].rstrip()) if text[p - 1].isspace() else p
            if e == s:  # pragma: no cover - s is never whitespace
                s = q
                continue
            if (
                q - p > 1
                and _BLANK_LINE.search(text, p, q)
                or _LIST_ITEM.match(text, q)
                or not _line_continues(text, s, e, q)
            ):
                yield s, e
                s = q
        else:
            # ---- inline bullet -------------------------------------------------------
            if p > s:
                yield s, s + len(text[s:p].rstrip())
                s = p
    if s < n:
        e = s + len(text[s:].rstrip())
        if e > s:
            yield s, e


def split_sentences(text: str) -> list[tuple[int, int]]:
    """Split a news document into sentences, as character spans.

    Parameters
    ----------
    text : str
        The document.

    Returns
    -------
    list of tuple of (int, int)
        ``(start, end)`` spans in order; ``text[start:end]`` is a sentence with no leading
        or trailing whitespace.  Whitespace-only input gives ``[]``.

    See Also
    --------
    iter_sentences : The same spans, lazily.

    Examples
    --------
    >>> text = "WASHINGTON (Reuters) - Mr. Smith left at 5 p.m. He did not return."
    >>> [text[s:e] for s, e in split_sentences(text)]
    ['WASHINGTON (Reuters) - Mr. Smith left at 5 p.m.', 'He did not return.']
    >>> split_sentences("  ")
    []
    """
    return list(iter_sentences(text))

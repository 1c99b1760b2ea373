"""Tests for :mod:`framing.runtime.segment`."""

from __future__ import annotations

import doctest
import json
import re
from pathlib import Path

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from framing.runtime import segment
from framing.runtime.segment import iter_sentences, split_sentences

CASES_PATH = Path(__file__).parent / "data" / "segmentation_cases.jsonl"
SEED_PATH = Path(__file__).parents[2] / "shared" / "seeds" / "tass-csto-lavrov.txt"

Span = tuple[int, int]


def _load_cases() -> list[dict[str, object]]:
    with CASES_PATH.open(encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


CASES = _load_cases()


def _sentences(text: str) -> list[str]:
    return [text[s:e] for s, e in split_sentences(text)]


def _check_invariants(text: str, spans: list[Span]) -> None:
    """The contract of split_sentences.

    Spans are strictly increasing and non-overlapping, each one is a non-empty slice with
    no leading or trailing whitespace, and everything outside the spans (before the first,
    between two, after the last) is whitespace.  Together this means the spans cover every
    non-whitespace character of the input exactly once.
    """
    prev_end = 0
    for start, end in spans:
        assert isinstance(start, int) and isinstance(end, int)
        assert prev_end <= start < end <= len(text)
        assert text[prev_end:start].strip() == "", "non-space text left between spans"
        piece = text[start:end]
        assert piece == piece.strip() and piece
        prev_end = end
    assert text[prev_end:].strip() == ""
    covered = "".join(text[s:e] for s, e in spans)
    assert "".join(covered.split()) == "".join(text.split())


# --------------------------------------------------------------------------- tricky set


def test_segment_cases_file_is_well_formed() -> None:
    assert len(CASES) >= 60
    names = [str(case["name"]) for case in CASES]
    assert len(names) == len(set(names)), "duplicate case names"
    for case in CASES:
        assert set(case) == {"name", "text", "sentences"}
        text = str(case["text"])
        pos = 0
        sentences = case["sentences"]
        assert isinstance(sentences, list)
        for sentence in sentences:
            assert sentence and sentence == sentence.strip(), case["name"]
            found = text.find(sentence, pos)
            assert found >= 0 and not text[pos:found].strip(), case["name"]
            pos = found + len(sentence)
        assert not text[pos:].strip(), case["name"]


@pytest.mark.parametrize("case", CASES, ids=[str(c["name"]) for c in CASES])
def test_segment_tricky_case(case: dict[str, object]) -> None:
    text = str(case["text"])
    spans = split_sentences(text)
    _check_invariants(text, spans)
    assert [text[s:e] for s, e in spans] == case["sentences"]


# --------------------------------------------------------------------------- behaviours


@pytest.mark.parametrize("text", ["", " ", "\n\n\t ", "\r\n", "\u2028\u00a0"])
def test_segment_whitespace_only_gives_no_sentences(text: str) -> None:
    assert split_sentences(text) == []
    assert list(iter_sentences(text)) == []


def test_segment_iter_is_lazy_and_matches_split() -> None:
    text = "One. Two! Three?\n\nFour"
    iterator = iter_sentences(text)
    assert next(iterator) == (0, 4)
    assert [(0, 4), *iterator] == split_sentences(text)


def test_segment_dateline_belongs_to_first_sentence() -> None:
    for dateline in (
        "MINSK, June 20. /TASS/.",
        "WASHINGTON (Reuters) -",
        "PARIS, March 3 (AFP) -",
        "ST. PETERSBURG, Fla. (AP) —",
        "WASHINGTON, Jan. 5 (Reuters) -",
    ):
        text = f"{dateline} The West sees a threat. It says so."
        assert _sentences(text) == [f"{dateline} The West sees a threat.", "It says so."]


def test_segment_closing_quote_stays_with_its_sentence() -> None:
    assert _sentences('"We agree." He left.') == ['"We agree."', "He left."]
    assert _sentences("“We agree.” He left.") == ["“We agree.”", "He left."]
    text = '"It is the most dangerous place in the world," Lavrov said. He left.'
    assert _sentences(text) == [text[: -len(" He left.")], "He left."]


def test_segment_line_break_rule() -> None:
    # a complete line (terminal punctuation, headline, caption) ends the sentence
    assert _sentences("Talks fail\nThe envoy left.") == ["Talks fail", "The envoy left."]
    assert _sentences("It ended.\nThe envoy left.") == ["It ended.", "The envoy left."]
    # a hard-wrapped line does not
    assert _sentences("The envoy\nleft early.") == ["The envoy\nleft early."]
    assert _sentences("Russia, Iran and\nChina agreed.") == ["Russia, Iran and\nChina agreed."]
    assert _sentences("He met Gen.\nSmith.") == ["He met Gen.\nSmith."]
    # a blank line always ends it, a bullet always starts a new one
    assert _sentences("The envoy and\n\nthe aide") == ["The envoy and", "the aide"]
    assert _sentences("Demands:\n- peace\n• bread") == ["Demands:", "- peace", "• bread"]


def test_segment_hard_wrap_reads_the_last_word_of_the_line() -> None:
    # the last word is read whole when it is all letters, else as the regex run of
    # word characters at the line's end ("(the" ends in "the", "x-of" in "x-of")
    for line in ("talks with the", "talks with THE", "talks with (the", "met at 5 with"):
        assert _sentences(f"{line}\nPresident left.") == [f"{line}\nPresident left."]
    for line in ("talks with bathe", "talks with x-of", "talks at 2024", "talks with the’s"):
        assert _sentences(f"{line}\nPresident left.") == [line, "President left."]


def test_segment_word_classes_do_not_depend_on_the_cache(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # the class of the word before a period is cached; emptying the cache at every
    # new word (a bound of 1) gives the same spans
    text = (
        "Mr. Smith met Gen. Lee in the U.S. The talks at 4 p.m. GMT ended. No. 5 won. "
        "J. A. Smith left. 1. First item. Ex-Sen. Jones came. It was 12. Then 123. "
        "Then 2024. End at 5 p.m. The end. Apple Inc. Shares fell."
    )
    warm = split_sentences(text)
    assert split_sentences(text) == warm
    monkeypatch.setattr(segment, "_KINDS_BOUND", 1)
    segment._KINDS.clear()
    assert split_sentences(text) == warm
    assert len(segment._KINDS) == 1


def test_segment_decimals_and_versions_do_not_split() -> None:
    text = "It rose 3.5% to $1.2 billion in v2.0 of the U.S.-led index."
    assert _sentences(text) == [text]


def test_segment_docstring_examples_run() -> None:
    result = doctest.testmod(segment, verbose=False)
    assert result.attempted >= 3
    assert result.failed == 0


# --------------------------------------------------------------------------- properties

_FRAGMENTS = [
    "The",
    "West",
    "said",
    " ",
    " ",
    "  ",
    "\n",
    "\n\n",
    "\r\n",
    "\t",
    ".",
    ". ",
    "!",
    "?",
    "...",
    "…",
    '"',
    "“",
    "”",
    "'",
    "’",
    "»",
    "(",
    ")",
    ",",
    ":",
    "-",
    "- ",
    "* ",
    "• ",
    "▪",
    "Mr.",
    "U.S.",
    "p.m.",
    "Jan.",
    "No.",
    "J.",
    "3.5%",
    "1. ",
    "MINSK, June 20. /TASS/.",
    "WASHINGTON (Reuters) -",
    "and",
    "lavrov",
    "Lavrov asked.",
    "\u2028",
    "\x85",
    "\u00a0",
]
news_like = st.lists(st.sampled_from(_FRAGMENTS), max_size=40).map("".join)
any_text = st.one_of(news_like, st.text(max_size=200))
_BLANK = re.compile(
    r"(?:\r\n|\r(?!\n)|[\n\x0b\x0c\x1c-\x1e\x85\u2028\u2029])"
    r"[^\S\n\r\x0b\x0c\x1c-\x1e\x85\u2028\u2029]*"
    r"(?:\r\n|\r|[\n\x0b\x0c\x1c-\x1e\x85\u2028\u2029])"
)


@settings(max_examples=400, deadline=None)
@given(any_text)
def test_segment_spans_cover_text_in_order(text: str) -> None:
    spans = split_sentences(text)
    _check_invariants(text, spans)
    assert list(iter_sentences(text)) == spans


@settings(max_examples=300, deadline=None)
@given(any_text)
def test_segment_no_span_contains_a_blank_line(text: str) -> None:
    for start, end in split_sentences(text):
        assert _BLANK.search(text, start, end) is None


@settings(max_examples=300, deadline=None)
@given(any_text)
def test_segment_each_sentence_is_a_fixed_point(text: str) -> None:
    for start, end in split_sentences(text):
        assert split_sentences(text[start:end]) == [(0, end - start)]


@settings(max_examples=300, deadline=None)
@given(any_text, any_text, st.sampled_from(["\n\n", " \n \n ", "\r\n\r\n"]))
def test_segment_paragraphs_are_independent(first: str, second: str, gap: str) -> None:
    text = first + gap + second
    offset = len(first) + len(gap)
    expected = split_sentences(first) + [
        (s + offset, e + offset) for s, e in split_sentences(second)
    ]
    assert split_sentences(text) == expected


@settings(max_examples=200, deadline=None)
@given(any_text, st.sampled_from([" ", "\n", "  \t", "\n \n"]))
def test_segment_leading_whitespace_only_shifts_spans(text: str, pad: str) -> None:
    shifted = [(s + len(pad), e + len(pad)) for s, e in split_sentences(text)]
    assert split_sentences(pad + text) == shifted


# --------------------------------------------------------------------------- seed article

# (first words, last words) of every expected sentence of the seed article -- short
# fragments used to check boundaries, not a copy of the text.
SEED_EXPECTED = [
    ("All news", "All news"),
    ("West sees CSTO", "discord — Lavrov"),
    ("The top diplomat", "president of Belarus"),
    ("Russian Foreign Minister", "Bobylev/TASS"),
    ("Russian Foreign Minister", "Sergey Lavrov"),
    ("© Sergey", "Bobylev/TASS"),
    ("MINSK, June 20. /TASS/. The West sees", "Alexander Lukashenko."),
    ('"We noted', '," Lavrov said.'),
    ('"In this regard', '," said Lavrov.'),
    ("He said that", "president of Belarus."),
    ("Alexander Lukashenko explained", "of the CSTO."),
    ("The participants", "strengthen solidarity."),
    ('"The president of Belarus', "pragmatic interests."),
    ("Ultimately,", "problems together."),
    ("We are destined", '," Lavrov concluded.'),
]


@pytest.fixture(scope="module")
def seed_text() -> str:
    if not SEED_PATH.is_file():
        pytest.skip(f"../shared/seeds is absent ({SEED_PATH} not found)")
    return SEED_PATH.read_text(encoding="utf-8")


def test_segment_seed_article_invariants(seed_text: str) -> None:
    _check_invariants(seed_text, split_sentences(seed_text))


def test_segment_seed_article_boundaries(seed_text: str) -> None:
    spans = split_sentences(seed_text)
    assert len(spans) == len(SEED_EXPECTED)
    pos = 0
    for (start, end), (head, tail) in zip(spans, SEED_EXPECTED, strict=True):
        expected_start = seed_text.index(head, pos)
        assert start == expected_start, head
        sentence = seed_text[start:end]
        assert sentence.startswith(head) and sentence.endswith(tail), (head, tail)
        assert "\n" not in sentence
        pos = end
    assert spans[0] == (0, 8)
    assert spans[-1][1] == len(seed_text.rstrip())


def test_segment_seed_article_dateline_and_quotes(seed_text: str) -> None:
    sentences = [seed_text[s:e] for s, e in split_sentences(seed_text)]
    assert sentences[0] == "All news"
    dateline = [s for s in sentences if s.startswith("MINSK")]
    assert len(dateline) == 1
    assert dateline[0].startswith("MINSK, June 20. /TASS/. The West sees")
    for tag in ('," Lavrov said.', '," said Lavrov.'):
        quoted = [s for s in sentences if s.endswith(tag)]
        assert len(quoted) == 1
        assert quoted[0].startswith('"') and quoted[0].count('"') == 2
    assert "© Sergey Bobylev/TASS" in sentences
    assert "Russian Foreign Minister Sergey Lavrov Sergey Bobylev/TASS" in sentences


# ---------------------------------------------------------------- edge cases of the scan

_WORDS = (
    "abc xyz The He In But NATO U.S. Mr. Dr. Jan. No. Inc. etc. a.m. p.m. GMT J. Smith "
    "e.g. vs. Gen. Art. Sept. St. Kyiv's pro-Western 1 12 123 2024 5,000 Ltd. Co. "
    "said asked told Lavrov. Why? Stop! No... Wait… so… Ünïcödé ΣΟΦΟΣ straße ١٢ Ⅻ ǅ"
)
_PIECES = [
    *_WORDS.split(),
    *[".", "!", "?", "...", "…", "?!", '"', "”", "’", "'", ")", "(", "“", "«", "»", "[", "]"],
    *[",", ";", ":", "%", "-", "–", "—", "/", "&", "•", "▪", "- ", "* ", "1. ", "2) ", "b) "],
    *[" ", " ", " ", "  ", "\n", "\n", "\n\n", "\r\n", "\t", "\u2028", "\xa0", "\x1c", "\x0b"],
    *["MOSCOW, June 20 (Reuters) - ", "MINSK, June 20. /TASS/. ", "ST. PETERSBURG — "],
]


_EDGES = [
    "He met Mr.\r\nSmith today. Then he left.",
    "He met Mr.\n\nSmith today.",
    "It ended.\r\n\r\nThe next one began.\r\nAnd so on.",
    "It ended.\r\rThe next one.\u2028\u2029Another.",
    "Items:\n1. First.\n2. Second.\na) third.",
    "In the U.S.\r\nThe talks went on. In the U.S. Senate, no.",
    'He asked: "Why?"\nLavrov asked. "Fine." He said so.',
    "MINSK, June 20. /TASS/. The West agrees. MOSCOW, June 21 (Reuters) - Talks.",
    "Prices rose 5.\n\n5 more fell. No. 5 won. It was 12. Then 123.  Then 2024. End",
    "Wait …  next. Wait... Next. Wait ... next. So…\nThe end.",
]


@pytest.mark.parametrize("text", _EDGES)
def test_segment_scan_edges_keep_the_invariants(text: str) -> None:
    _check_invariants(text, split_sentences(text))


@settings(max_examples=400, deadline=None)
@given(
    text=st.one_of(
        st.lists(st.sampled_from(_PIECES), max_size=60).map("".join),
        st.lists(st.sampled_from(_PIECES), max_size=40).map(" ".join),
    )
)
@example(text="NATOST. PETERSBURG — ")
def test_segment_scan_pieces_keep_the_invariants(text: str) -> None:
    spans = split_sentences(text)
    _check_invariants(text, spans)
    for start, end in spans:
        assert split_sentences(text[start:end]) == [(0, end - start)]


def test_segment_a_dateline_dash_at_the_end_of_the_text_is_still_a_dateline() -> None:
    # Found by test_segment_scan_pieces_keep_the_invariants: "MOSCOW —" was a dateline
    # only with a space after the dash, so the sentence "NATOST. PETERSBURG —" (its
    # trailing space cut off) split at "NATOST." when it was split again.
    assert split_sentences("NATOST. PETERSBURG — ") == [(0, 20)]
    assert split_sentences("NATOST. PETERSBURG —") == [(0, 20)]
    assert split_sentences("ST. PETERSBURG — Talks began.") == [(0, 29)]


def test_segment_a_list_mark_alone_on_its_line_is_not_an_item() -> None:
    # Found by test_segment_paragraphs_are_independent: a trailing space after "-" made
    # it a list item, so "The\n-" split differently once a blank line followed it.
    assert split_sentences("The\n- ") == split_sentences("The\n-") == [(0, 5)]
    assert split_sentences("The\n- \n \n ") == [(0, 5)]
    assert split_sentences("Intro:\n- first item\n- second") == [(0, 6), (7, 19), (20, 28)]

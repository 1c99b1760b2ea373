"""The title rule of raw articles: site chrome above the headline is not the title."""

from __future__ import annotations

from pathlib import Path

import pytest

from framing.format.article import is_navigation_line, read_article, split_title

NAVIGATION = [
    "All news",
    "Read more",
    "Share",
    "Share | Print | Email",
    "Home › News › World",
    "Skip to main content",
    "Sign in",
    "Latest news »",
    "Back to top",
]

# Real titles, some short and without a verb, some made of words that chrome also uses.
TITLES = [
    "West sees CSTO as threat, tries to breed discord — Lavrov",
    "Sahel leaders close ranks",
    "Lavrov in Minsk",
    "Brexit",
    "All in",
    "Live updates",
    "More sanctions on Moscow",
    "News of the world's end is exaggerated",
    "Share prices fall as Beijing tightens exports",
    "Home front: Kyiv rations power",
    "Back to the table: Iran talks resume in Vienna",
]


@pytest.mark.parametrize("line", NAVIGATION)
def test_article_navigation_line_is_recognised(line: str) -> None:
    assert is_navigation_line(line)


@pytest.mark.parametrize("title", TITLES)
def test_article_real_title_is_not_a_navigation_line(title: str) -> None:
    assert not is_navigation_line(title)
    assert split_title(f"{title}\n\nBody. More.") == (title, "Body. More.")


def test_article_navigation_lines_above_the_title_are_dropped() -> None:
    text = "All news\n\nWest sees CSTO as threat — Lavrov\n\nMINSK. Body."
    assert split_title(text) == ("West sees CSTO as threat — Lavrov", "MINSK. Body.")
    # several chrome lines, with or without a blank line after each
    text = "Home › News\nShare | Print\n\nHeadline here\n\nBody."
    assert split_title(text) == ("Headline here", "Body.")


def test_article_navigation_line_without_a_title_leaves_the_body() -> None:
    assert split_title("Read more\nFirst sentence. Second one.") == (
        None,
        "First sentence. Second one.",
    )
    # a chrome word in the body's first line does not drop it
    assert split_title("More troops arrived. Then more.") == (
        None,
        "More troops arrived. Then more.",
    )


def test_article_seed_headline_is_the_title(seed_article: Path) -> None:
    article = read_article(seed_article)
    assert article.title == "West sees CSTO as threat, tries to breed discord — Lavrov"
    assert "All news" not in article.text
    assert article.text.startswith("The top diplomat said")

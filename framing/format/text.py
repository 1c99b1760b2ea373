"""Short text for messages and terminal views: clipping long strings."""

from __future__ import annotations

__all__ = ["clip"]


def clip(text: str, width: int, *, one_line: bool = False) -> str:
    """``text`` cut to ``width`` characters, the last one an ellipsis when cut.

    With ``one_line``, runs of white space (newlines included) become one space first.

    Examples
    --------
    >>> clip("Prices soared again", 10)
    'Prices so…'
    >>> clip("two\\n lines", 20, one_line=True)
    'two lines'
    """
    if one_line:
        text = " ".join(text.split())
    return text if len(text) <= width else text[: width - 1] + "…"

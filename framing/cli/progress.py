"""Progress of a long run on stderr: a live line on a terminal, a periodic log line otherwise."""

from __future__ import annotations

import time
from typing import IO

__all__ = ["Progress"]


def _duration(seconds: float) -> str:
    seconds = max(0, int(seconds))
    if seconds < 3600:
        return f"{seconds // 60}:{seconds % 60:02d}"
    return f"{seconds // 3600}:{seconds // 60 % 60:02d}:{seconds % 60:02d}"


class Progress:
    """``update(done, total, articles, sentences)``: done/total, the rate and the time left.

    On a terminal the line is redrawn in place (at most 5 times a second); otherwise one
    line is logged every ``every`` seconds, so that a batch job's log shows how far it got.
    """

    def __init__(self, unit: str, stream: IO[str], *, every: float = 30.0) -> None:
        self.unit = unit
        self.stream = stream
        self.terminal = stream.isatty()
        self.every = every if not self.terminal else 0.2
        self.started = time.monotonic()
        self.last = self.started
        self.articles = 0
        self.sentences = 0
        self.shown = False

    def line(self, done: int, total: int) -> str:
        elapsed = max(time.monotonic() - self.started, 1e-9)
        rate = self.sentences / elapsed
        left = elapsed / done * (total - done) if done else 0.0
        eta = f", {_duration(left)} left" if 0 < done < total else ""
        return (
            f"{done}/{total} {self.unit}, {self.articles} articles, {self.sentences} sentences "
            f"({rate:,.0f} sentences/s, {_duration(elapsed)} elapsed{eta})"
        )

    def update(self, done: int, total: int, articles: int, sentences: int) -> None:
        """Show the counts so far (``articles`` and ``sentences`` are totals, not increments)."""
        self.articles = articles
        self.sentences = sentences
        now = time.monotonic()
        # A log gets a line every `every` seconds only: a short run logs nothing.
        if now - self.last < self.every and (done < total or not self.terminal):
            return
        self.last = now
        if self.terminal:
            self.stream.write("\r\x1b[2K" + self.line(done, total))
            self.shown = True
        else:
            self.stream.write(self.line(done, total) + "\n")
        self.stream.flush()

    def clear(self) -> None:
        """Make room for a message on a terminal."""
        if self.terminal and self.shown:
            self.stream.write("\r\x1b[2K")
            self.stream.flush()
            self.shown = False

    def close(self) -> None:
        if self.terminal and self.shown:
            self.stream.write("\n")
            self.stream.flush()
            self.shown = False

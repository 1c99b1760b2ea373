"""The ``framing`` command line: thin wrappers over library functions.

Each command parses its arguments, calls the library function of the same name
and prints the result.  Exit codes: 0 success, 1 the data has problems (or some
inputs failed), 2 usage errors (bad options, missing paths).
"""

from __future__ import annotations

import sys
from typing import Any

import typer
from typer.core import TyperGroup

from framing import __version__
from framing.errors import FramingError


class FramingGroup(TyperGroup):
    """Turns library errors into a one-line message and an exit code, never a traceback."""

    def invoke(self, ctx: Any) -> Any:
        try:
            return super().invoke(ctx)
        except FramingError as exc:
            typer.echo(f"error: {exc}", err=True)
            raise typer.Exit(exc.exit_code) from None
        except OSError as exc:
            where = f"{exc.filename}: " if exc.filename else ""
            typer.echo(f"error: {where}{exc.strerror or exc}", err=True)
            raise typer.Exit(1) from None
        except MemoryError:
            typer.echo("error: out of memory (is a line or file unexpectedly large?)", err=True)
            raise typer.Exit(1) from None


app = typer.Typer(
    cls=FramingGroup,
    name="framing",
    help="Find how news articles frame the world: annotate, train, evaluate and tag.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"framing {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: bool = typer.Option(
        False, "--version", callback=_version, is_eager=True, help="Show the version and exit."
    ),
) -> None:
    """Find how news articles frame the world: annotate, train, evaluate and tag."""


# Command modules register themselves on ``app``; imported here for that side effect.
from framing.cli import annotate, exchange, findings, loop, tagging, training_cmds  # noqa: E402,F401


def main() -> None:
    """Entry point of the ``framing`` console script."""
    sys.exit(app())

"""The ``framing`` command line: thin wrappers over library functions.

Each command parses its arguments, calls the library function of the same name
and prints the result.  Exit codes: 0 success, 1 the data has problems (or some
inputs failed), 2 usage errors (bad options, missing paths).
"""

from __future__ import annotations

import functools
import os
import sys
from typing import Any

import typer
from typer.core import TyperGroup

from framing import __version__
from framing.errors import FramingError

# One BLAS thread, set before numpy is first imported: no command computes with more
# (training limits every fit to one thread, tagging does no matrix products worth a
# thread), and OpenBLAS's extra thread would busy-wait on another core after numpy's
# import for about 0.08 CPU seconds per run. A value the user set is kept.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

#: Parameters that name a file or folder a command writes; every other path parameter
#: is an input, and no output may be one of them (see :func:`framing.files.refuse_same_file`).
OUTPUT_PARAMS = ("output", "codebook_out", "config_out", "plot", "predictions", "out_dir")


def _paths(value: Any) -> list[str]:
    items = value if isinstance(value, list | tuple) else [value]
    return [str(v) for v in items if isinstance(v, str | os.PathLike)]


def refuse_outputs_over_inputs(params: dict[str, Any]) -> None:
    """Exit 2 before any work when an output parameter names one of the inputs, or
    names a place that cannot be written."""
    from pathlib import Path

    from framing.files import check_writable, refuse_same_file

    inputs = [p for name, v in params.items() if name not in OUTPUT_PARAMS for p in _paths(v)]
    for name in OUTPUT_PARAMS:
        value = params.get(name)
        if value is not None:
            refuse_same_file(value, inputs)
            if str(value) != "-":
                check_writable(value, folder=Path(value).is_dir())
            refuse_same_file(
                value,
                [p for other in OUTPUT_PARAMS if other != name for p in _paths(params.get(other))],
            )


class FramingGroup(TyperGroup):
    """Turns library errors into a one-line message and an exit code, never a traceback,
    and refuses an output that is one of the command's inputs before the command runs."""

    def resolve_command(self, ctx: Any, args: list[str]) -> Any:
        name, cmd, rest = super().resolve_command(ctx, args)
        callback = getattr(cmd, "callback", None)
        guarded = getattr(callback, "_outputs_guarded", False)
        # A group's own callback has no outputs; its subcommands are guarded in turn.
        if callback is not None and not guarded and not hasattr(cmd, "commands"):
            cmd.callback = _guarded(callback)  # type: ignore[union-attr]
        return name, cmd, rest

    def invoke(self, ctx: Any) -> Any:
        try:
            return super().invoke(ctx)
        except FramingError as exc:
            typer.echo(f"error: {exc}", err=True)
            raise typer.Exit(exc.exit_code) from None
        except BrokenPipeError:
            # The reader went away (`framing tag ... | head`): stop quietly, as Unix tools
            # do, with the status of a process ended by SIGPIPE.
            _silence_stdout()
            raise typer.Exit(128 + 13) from None
        except OSError as exc:
            where = f"{exc.filename}: " if exc.filename else ""
            typer.echo(f"error: {where}{exc.strerror or exc}", err=True)
            raise typer.Exit(1) from None
        except MemoryError:
            typer.echo("error: out of memory (is a line or file unexpectedly large?)", err=True)
            raise typer.Exit(1) from None


def _silence_stdout() -> None:
    """Point stdout at /dev/null, so that flushing it at exit raises nothing more."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError, AttributeError):  # no real file descriptor (tests)
        pass


def _guarded(callback: Any) -> Any:
    @functools.wraps(callback)
    def run(**params: Any) -> Any:
        refuse_outputs_over_inputs(params)
        return callback(**params)

    run._outputs_guarded = True  # type: ignore[attr-defined]
    return run


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

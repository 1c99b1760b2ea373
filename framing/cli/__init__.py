"""The ``framing`` command line: thin wrappers over library functions.

Each command parses its arguments, calls the library function of the same name
and prints the result.  Exit codes: 0 success, 1 the data has problems (or some
inputs failed), 2 usage errors (bad options, missing paths).
"""

from __future__ import annotations

import functools
import gc
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


#: The module (under ``framing.cli``) that defines each command, in the order
#: ``framing --help`` lists them. A command's module is imported only when the command
#: runs, or when help lists them all: ``framing tag`` imports neither the training nor
#: the annotation commands' modules. ``import`` takes commands from both of its modules.
COMMANDS: dict[str, tuple[str, ...]] = {
    "validate": ("annotate",),
    "stats": ("annotate",),
    "findings": ("findings",),
    **dict.fromkeys(
        ("agree", "adjudicate", "preannotate", "suggest", "review", "split"), ("loop",)
    ),
    "tag": ("tagging",),
    **dict.fromkeys(("train", "eval", "score", "recompile"), ("training_cmds",)),
    "import": ("exchange", "annotate"),
    "export": ("exchange",),
}
_ALL_MODULES = tuple(dict.fromkeys(m for modules in COMMANDS.values() for m in modules))


class _RootGroup(FramingGroup):
    """``framing``: each command is built from its module when it is first asked for
    (the click pattern of a group with lazy subcommands)."""

    def list_commands(self, ctx: Any) -> list[str]:
        self._load(_ALL_MODULES)
        return [
            *(name for name in COMMANDS if name in self.commands),
            *(name for name in self.commands if name not in COMMANDS),
        ]

    def get_command(self, ctx: Any, cmd_name: str) -> Any:
        if cmd_name not in self.commands:
            # An unknown name loads every command, so "did you mean" sees them all.
            self._load(COMMANDS.get(cmd_name, _ALL_MODULES))
        return self.commands.get(cmd_name)

    def _load(self, modules: Any) -> None:
        import importlib

        for module in modules:
            importlib.import_module(f"framing.cli.{module}")  # registers on ``app``
        built = typer.main.get_group(app)
        for name, command in built.commands.items():
            self.commands.setdefault(name, command)


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
        if not manages_collector:
            gc.enable()  # off while the CLI starts (framing.__main__)
        refuse_outputs_over_inputs(params)
        return callback(**params)

    manages_collector = getattr(callback, "_keeps_collector_off", False)

    run._outputs_guarded = True  # type: ignore[attr-defined]
    return run


app = typer.Typer(
    cls=_RootGroup,
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


def keeps_collector_off(callback: Any) -> Any:
    """Mark a command that switches the cyclic garbage collector on itself (after its
    start-up imports and loading), rather than when it starts."""
    callback._keeps_collector_off = True
    return callback


def main() -> None:
    """Run the ``framing`` command line (see :func:`framing.__main__.main`)."""
    sys.exit(app())

"""Exchange commands: ``framing import <format>`` and ``framing export <format>``.

The sub-commands are built from the registry of formats
(:mod:`framing.exchange.registry`), one for each entry, when they are asked for: a
format's module is imported only when its command runs or the list of commands is
shown.  An import writes the records and, next to them, the codebook of the labels it
found (``<out>.codebook.toml`` unless ``--codebook-out`` says otherwise); with
``--codebook`` the labels are checked against an existing codebook instead.  An export
reads annotation files and hands the records to the exporter, which writes its output.
"""

from __future__ import annotations

import inspect
import types
from collections.abc import Callable
from enum import StrEnum
from pathlib import Path
from typing import Any

import typer

from framing.cli import FramingGroup, app
from framing.cli.common import Links, links_followed
from framing.exchange.registry import (
    CROSSWALK_PARAMS,
    EXPORT_PARAMS,
    EXPORTERS,
    IMPORT_PARAMS,
    IMPORTERS,
    REQUIRED,
    Param,
    exporter,
    importer,
)
from framing.format.codebook import Codebook, load_codebook

__all__ = ["export_app", "import_app", "report_import"]


class _RegistryGroup(FramingGroup):
    """A group whose commands are the formats of a registry table, built when asked for."""

    formats: dict[str, str] = {}

    def build(self, name: str) -> Any:
        raise NotImplementedError

    def list_commands(self, ctx: Any) -> list[str]:
        return [*self.commands, *(name for name in self.formats if name not in self.commands)]

    def get_command(self, ctx: Any, cmd_name: str) -> Any:
        if cmd_name not in self.commands and cmd_name in self.formats:
            self.commands[cmd_name] = self.build(cmd_name)
        return self.commands.get(cmd_name)


class _ImportGroup(_RegistryGroup):
    """``framing import PATH...`` means ``framing import text PATH...``."""

    formats = IMPORTERS

    def build(self, name: str) -> Any:
        return _import_command(name)

    def parse_args(self, ctx: Any, args: list[str]) -> list[str]:
        known = (*self.commands, *self.formats, "-h", "--help")
        if args and args[0] not in known:
            args = ["text", *args]
        return super().parse_args(ctx, args)


class _ExportGroup(_RegistryGroup):
    formats = EXPORTERS

    def build(self, name: str) -> Any:
        return _export_command(name)


import_app = typer.Typer(
    cls=_ImportGroup,
    help="Import raw articles or other formats as annotation JSONL.",
    no_args_is_help=True,
    context_settings={"help_option_names": ["-h", "--help"]},
)
app.add_typer(import_app, name="import")

export_app = typer.Typer(
    cls=_ExportGroup,
    help="Export annotation JSONL to annotation tools, shared-task formats and datasets.",
    no_args_is_help=True,
    context_settings={"help_option_names": ["-h", "--help"]},
)
app.add_typer(export_app, name="export")


# --------------------------------------------------------------------------- commands


def _typer_parameter(param: Param) -> tuple[Any, Any]:
    """The annotation and the ``typer.Option``/``typer.Argument`` of ``param``."""
    kind: Any = param.kind
    if param.choices:
        # typer shows and checks the choices of an enum
        kind = _choices(param.name, param.choices)
    annotation: Any = types.GenericAlias(list, (kind,)) if param.many else kind
    if param.default is REQUIRED:
        default: Any = ...
    elif param.default is None:
        default, annotation = None, annotation | None
    elif param.many:
        default = list(param.default)
    else:
        default = kind(param.default)
    paths: dict[str, Any] = (
        {"file_okay": param.file_okay, "dir_okay": param.dir_okay} if kind is Path else {}
    )
    if param.is_argument:
        return annotation, typer.Argument(default, help=param.help, **paths)
    return annotation, typer.Option(default, *param.flags, help=param.help, **paths)


def _choices(name: str, choices: tuple[str, ...]) -> Any:
    return StrEnum(name.title().replace("_", ""), {c: c for c in choices})


def _plain(value: Any) -> Any:
    """Choices as their strings, so that library functions get plain values."""
    if isinstance(value, StrEnum):
        return value.value
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


def _command(
    name: str, help: str, params: tuple[Param, ...], body: Callable[[dict[str, Any]], None]
) -> Any:
    """A click command named ``name`` whose options are ``params``; it calls ``body``."""

    def command(**values: Any) -> None:
        body({key: _plain(value) for key, value in values.items()})

    signature, annotations = [], {}
    for param in params:
        annotation, default = _typer_parameter(param)
        annotations[param.name] = annotation
        signature.append(
            inspect.Parameter(
                param.name, inspect.Parameter.KEYWORD_ONLY, default=default, annotation=annotation
            )
        )
    command.__signature__ = inspect.Signature(signature)  # type: ignore[attr-defined]
    command.__annotations__ = {**annotations, "return": None}
    one = typer.Typer(add_completion=False)
    one.command(name, help=help)(command)
    return typer.main.get_command(one)


def _import_command(name: str) -> Any:
    spec = importer(name)
    params = (*spec.params, *IMPORT_PARAMS, *(CROSSWALK_PARAMS if spec.crosswalk else ()))

    def body(values: dict[str, Any]) -> None:
        own = {param.name: values[param.name] for param in spec.params}
        own["split"] = values["split"]
        if spec.takes_unknown:
            own["unknown"] = values["unknown"]
        result, given = run_import(
            lambda: spec.run(**own),
            values["codebook"],
            values["unknown"],
            values.get("crosswalk"),
            values.get("links", "exact"),
        )
        finish_import(result, values["output"], given, values["codebook_out"])

    return _command(name, spec.help, params, body)


def _export_command(name: str) -> Any:
    spec = exporter(name)
    data, codebook = EXPORT_PARAMS

    def body(values: dict[str, Any]) -> None:
        if spec.before is not None:
            spec.before()
        records, book = _read(values["paths"], values["codebook"])
        written = spec.run(records, book, **{p.name: values[p.name] for p in spec.params})
        details = ", ".join(f"{k} {v}" for k, v in written.counts.items())
        typer.echo(f"wrote {written.written} {written.what} to {values['output']} ({details})")
        for also in written.also:
            typer.echo(f"wrote {also}")

    return _command(name, spec.help, (data, *spec.params, codebook), body)


# --------------------------------------------------------------------------- import


def report_import(result: Any, output: Path) -> None:
    """Write an import's records atomically and print its counts."""
    from framing.format.annotations import write_jsonl

    written = write_jsonl(output, result.records)
    counts = ", ".join(f"{k} {v}" for k, v in result.counts.items())
    typer.echo(f"wrote {written} records to {output} ({counts})")


def run_import(
    importer: Any,
    codebook: Path | None,
    unknown: str = "error",
    crosswalk: Path | None = None,
    links: str = "exact",
) -> tuple[Any, bool]:
    """Run ``importer()`` and fit its result to the codebook the options name.

    Returns the result and whether the codebook is the user's own, unchanged (then no
    codebook is written).  With ``--codebook`` the labels are checked against it,
    unknown ones handled by ``--unknown-labels``; with a crosswalk the labels found
    (their taxonomy) are relabelled into ours, and the codebook written is ours cut
    down to the labels the links reach.
    """
    result = importer()
    if crosswalk is not None:
        from framing.format.crosswalk import load_crosswalk
        from framing.runtime.model import resolve_model_path

        walk = load_crosswalk(crosswalk)
        ours = load_codebook(codebook or resolve_model_path(None) / "codebook.toml")
        return result.relabel(walk, ours, links_followed(Links(links))), False
    if codebook is None:
        return result, False
    conformed = result.conform(load_codebook(codebook), unknown)
    return conformed, unknown != "add" or conformed.codebook == load_codebook(codebook)


def default_codebook_path(output: Path) -> Path:
    """``out.jsonl`` -> ``out.codebook.toml``."""
    return output.with_suffix(".codebook.toml")


def finish_import(
    result: Any, output: Path, codebook_given: bool, codebook_out: Path | None
) -> None:
    """Write the records and, unless the caller gave one, the codebook of the labels found."""
    if codebook_given:
        report_import(result, output)
        return
    target = codebook_out or default_codebook_path(output)
    if result.codebook is not None:
        from framing.files import write_text

        write_text(target, result.codebook.to_toml())
    report_import(result, output)
    if result.codebook is not None:
        typer.echo(f"wrote codebook '{result.codebook.name}' to {target}")
    else:
        typer.echo("no label found, so no codebook written")


# --------------------------------------------------------------------------- export


def codebook_for(paths: list[Path], explicit: Path | None) -> Codebook | None:
    """The explicit codebook, else the one an import wrote next to the data, else None."""
    if explicit is not None:
        return load_codebook(explicit)
    first = paths[0]
    candidates = (
        [default_codebook_path(first), first.parent / "codebook.toml"]
        if first.is_file()
        else [first / "codebook.toml"]
    )
    for candidate in candidates:
        if candidate.is_file():
            return load_codebook(candidate)
    return None


def _read(paths: list[Path], codebook: Path | None) -> tuple[list[Any], Codebook | None]:
    from framing.exchange.exporters import read_records

    book = codebook_for(paths, codebook)
    return read_records(paths, book), book

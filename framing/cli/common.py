"""Options and helpers shared by the command modules."""

from __future__ import annotations

import json
from enum import StrEnum
from pathlib import Path
from typing import Any

import typer

from framing.format.codebook import Codebook, load_codebook

DEFAULT_CODEBOOK = Path("data") / "annotations" / "codebook.toml"


class ReportFormat(StrEnum):
    text = "text"
    json = "json"


class StatsFormat(StrEnum):
    text = "text"
    json = "json"
    markdown = "markdown"


def codebook_option(
    help: str = "Codebook TOML (default: data/annotations/codebook.toml if present, "
    "else the bundled default model's).",
) -> Any:
    return typer.Option(None, "--codebook", "-c", help=help, dir_okay=False)


def no_codebook_option() -> Any:
    return typer.Option(False, "--no-codebook", help="Do not check labels against any codebook.")


def find_codebook(path: Path | None) -> tuple[Path | None, str]:
    """The codebook file to use and where it came from: ``--codebook``, then
    ``./data/annotations/codebook.toml``, then the bundled default model's codebook."""
    if path is not None:
        return path, "--codebook"
    if DEFAULT_CODEBOOK.is_file():
        return DEFAULT_CODEBOOK, "found in the current folder"
    from framing.runtime.model import DEFAULT_MODEL, bundled_models_root

    bundled = bundled_models_root() / DEFAULT_MODEL / "codebook.toml"
    if bundled.is_file():
        return bundled, "the bundled default model's; give --codebook to use another"
    return None, ""


def resolve_codebook(
    path: Path | None, *, required: bool = False, no_codebook: bool = False
) -> Codebook | None:
    """Load the codebook to check labels against, saying on stderr which one it is.

    Raises
    ------
    UsageError
        When ``required`` and no codebook is found (exit 2).
    """
    if no_codebook:
        if path is not None:
            from framing.errors import UsageError

            raise UsageError("--codebook and --no-codebook contradict each other; give one")
        typer.echo("labels are not checked (--no-codebook)", err=True)
        return None
    file, source = find_codebook(path)
    if file is None:
        if required:
            from framing.errors import UsageError

            raise UsageError(
                f"no codebook given, {DEFAULT_CODEBOOK} does not exist and no bundled model "
                "is installed: give --codebook FILE (or --no-codebook to skip label checks)"
            )
        typer.echo("no codebook found: labels are not checked (give --codebook)", err=True)
        return None
    book = load_codebook(file)
    typer.echo(f"codebook: {file} ('{book.name}' {book.version}; {source})", err=True)
    return book


def echo_json(data: Any) -> None:
    typer.echo(json.dumps(data, indent=2, ensure_ascii=False))


class Links(StrEnum):
    """Which crosswalk links ``--links`` follows."""

    exact = "exact"
    broader = "broader"


def links_followed(links: Links) -> tuple[str, ...]:
    """The link types a ``--links`` choice follows: exact, or exact and broader."""
    return ("exact",) if links is Links.exact else ("exact", "broader")

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
    help: str = "Codebook TOML (default: data/annotations/codebook.toml if present).",
) -> Any:
    return typer.Option(None, "--codebook", "-c", help=help, dir_okay=False)


def resolve_codebook(path: Path | None, *, required: bool = False) -> Codebook | None:
    """Load ``path``, or the default codebook when it exists, or None."""
    if path is not None:
        return load_codebook(path)
    if DEFAULT_CODEBOOK.is_file():
        return load_codebook(DEFAULT_CODEBOOK)
    if required:
        from framing.errors import UsageError

        raise UsageError(
            f"no codebook given and {DEFAULT_CODEBOOK} does not exist (use --codebook)"
        )
    return None


def echo_json(data: Any) -> None:
    typer.echo(json.dumps(data, indent=2, ensure_ascii=False))


class Links(StrEnum):
    """Which crosswalk links ``--links`` follows."""

    exact = "exact"
    broader = "broader"


def links_followed(links: Links) -> tuple[str, ...]:
    """The link types a ``--links`` choice follows: exact, or exact and broader."""
    return ("exact",) if links is Links.exact else ("exact", "broader")

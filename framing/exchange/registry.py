"""The registry of exchange formats: what ``framing import`` and ``framing export`` offer.

Each importer or exporter module declares its format once, at its end, as an
:class:`Importer` or :class:`Exporter` (name, help, options and the function to call);
the tables :data:`IMPORTERS` and :data:`EXPORTERS` name the module of each format.  The
command line iterates over the tables and builds one sub-command a format, loading a
format's module only when that command (or the list of commands) is asked for.

Adding a format is one module and one line here.  The options every import shares
(``--output``, ``--codebook``, ``--split``, ``--unknown-labels`` ...) and every export
shares (the data, ``--codebook``) are declared once below, not in each format.
``framing import text`` (raw articles, no labels; the default of ``framing import``) is
not a format of this registry: its command is in ``framing/cli/annotate.py``.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from framing.errors import UsageError

__all__ = [
    "EXPORTERS",
    "EXPORT_PARAMS",
    "IMPORTERS",
    "IMPORT_PARAMS",
    "CROSSWALK_PARAMS",
    "REQUIRED",
    "Exporter",
    "Importer",
    "Param",
    "exporter",
    "importer",
    "output_param",
]

#: Format name -> the module that declares it as ``IMPORTER``.
IMPORTERS: dict[str, str] = {
    "semeval2025": "framing.exchange.importers.semeval2025",
    "semeval2023": "framing.exchange.importers.semeval2023",
    "ptc": "framing.exchange.importers.ptc",
    "frac": "framing.exchange.importers.frac",
    "labelstudio": "framing.exchange.importers.labelstudio",
    "doccano": "framing.exchange.importers.doccano",
    "prodigy": "framing.exchange.importers.prodigy",
    "datasets": "framing.exchange.importers.hf_datasets",
}

#: Format name -> the module that declares it as ``EXPORTER``.
EXPORTERS: dict[str, str] = {
    "labelstudio": "framing.exchange.exporters.labelstudio",
    "doccano": "framing.exchange.exporters.doccano",
    "prodigy": "framing.exchange.exporters.prodigy",
    "semeval2025": "framing.exchange.exporters.semeval2025",
    "semeval2023": "framing.exchange.exporters.semeval2023",
    "ptc": "framing.exchange.exporters.ptc",
    "datasets": "framing.exchange.exporters.hf_datasets",
}


class _Required:
    def __repr__(self) -> str:
        return "REQUIRED"


#: The default of a parameter the user must give.
REQUIRED: Any = _Required()


@dataclass(frozen=True)
class Param:
    """One option (or, without ``flags``, positional argument) of a format's command.

    ``name`` is the keyword the format's function receives; ``kind`` is ``str`` or
    ``Path``; ``many`` makes it a list (an option repeated, or several arguments);
    ``choices`` restricts a ``str`` to named values.  ``file_okay``/``dir_okay`` say
    what a ``Path`` may name.
    """

    name: str
    help: str
    flags: tuple[str, ...] = ()
    kind: type = str
    default: Any = None
    many: bool = False
    choices: tuple[str, ...] = ()
    file_okay: bool = True
    dir_okay: bool = True

    @property
    def is_argument(self) -> bool:
        return not self.flags


@dataclass(frozen=True)
class Importer:
    """A format ``framing import <name>`` reads.

    ``run`` receives the values of ``params`` and ``split`` (and ``unknown``, the
    ``--unknown-labels`` policy, when ``takes_unknown``) as keywords and returns an
    :class:`~framing.exchange.importers.ImportResult`.  ``crosswalk`` says whether the
    format is a public corpus with its own taxonomy that ``--crosswalk`` relabels into ours.
    """

    name: str
    help: str
    params: tuple[Param, ...]
    run: Callable[..., Any]
    crosswalk: bool = False
    takes_unknown: bool = False


@dataclass(frozen=True)
class Exporter:
    """A format ``framing export <name>`` writes.

    ``run`` receives the records read, their codebook (or None) and the values of
    ``params`` as keywords, writes the output itself (through :mod:`framing.files`) and
    returns an :class:`~framing.exchange.exporters.Written`.  ``before`` runs before the
    data is read (to check for a missing extra at once).
    """

    name: str
    help: str
    params: tuple[Param, ...]
    run: Callable[..., Any]
    before: Callable[[], Any] | None = None


#: Options of every import, after the format's own.
IMPORT_PARAMS: tuple[Param, ...] = (
    Param("output", "JSONL file to write.", ("--output", "-o"), Path, REQUIRED, dir_okay=False),
    Param(
        "codebook",
        "Check the labels against this codebook instead of writing a new one.",
        ("--codebook", "-c"),
        Path,
        dir_okay=False,
    ),
    Param(
        "codebook_out",
        "Where to write the codebook of the labels found (default: <output>.codebook.toml).",
        ("--codebook-out",),
        Path,
        dir_okay=False,
    ),
    Param(
        "split",
        "Set this split on every record.",
        ("--split",),
        choices=("train", "dev", "test", "dev-shifted"),
    ),
    Param(
        "unknown",
        "Labels the codebook (or taxonomy) lacks: error (name each), drop them, or add "
        "them to the codebook written next to the output.",
        ("--unknown-labels",),
        default="error",
        choices=("error", "drop", "add"),
    ),
)

#: Options of the imports of public corpora (``Importer.crosswalk``), after the others.
CROSSWALK_PARAMS: tuple[Param, ...] = (
    Param(
        "crosswalk",
        "Relabel into our codebook through this crosswalk (data/crosswalks/*.toml); "
        "--codebook then names our codebook (default: the bundled model's).",
        ("--crosswalk",),
        Path,
        dir_okay=False,
    ),
    Param(
        "links",
        "Crosswalk links to follow: exact (sound for training and evaluation), or "
        "broader (adds the positives of our broader labels; their negatives are unsure).",
        ("--links",),
        default="exact",
        choices=("exact", "broader"),
    ),
)

#: The data every export reads (first) and its codebook (last).
EXPORT_PARAMS: tuple[Param, Param] = (
    Param(
        "paths",
        "Annotation JSONL files or folders, or the JSONL that 'framing tag' writes.",
        (),
        Path,
        REQUIRED,
        many=True,
    ),
    Param(
        "codebook",
        "Codebook (default: <file>.codebook.toml or codebook.toml next to the data, "
        "else the labels found).",
        ("--codebook", "-c"),
        Path,
        dir_okay=False,
    ),
)


def output_param(help: str, *, folder: bool = False) -> Param:
    """The ``--output/-o`` of an export, with what it names in ``help``."""
    return Param(
        "output",
        help,
        ("--output", "-o"),
        Path,
        REQUIRED,
        file_okay=not folder,
        dir_okay=folder,
    )


def importer(name: str) -> Importer:
    """The :class:`Importer` registered as ``name`` (its module is imported now).

    Raises
    ------
    UsageError
        When no importer has that name.
    """
    return _load(name, IMPORTERS, "IMPORTER", "importer")


def exporter(name: str) -> Exporter:
    """The :class:`Exporter` registered as ``name`` (its module is imported now).

    Raises
    ------
    UsageError
        When no exporter has that name.
    """
    return _load(name, EXPORTERS, "EXPORTER", "exporter")


def _load(name: str, table: dict[str, str], attribute: str, what: str) -> Any:
    if name not in table:
        from framing.format.codebook import did_you_mean

        match = did_you_mean(name, table)
        hint = f" (did you mean '{match}'?)" if match else f"; known: {', '.join(table)}"
        raise UsageError(f"no {what} named '{name}'{hint}")
    return getattr(importlib.import_module(table[name]), attribute)

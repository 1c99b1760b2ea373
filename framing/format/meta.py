"""Article metadata (``meta``): options given as ``KEY=VALUE`` and dates.

Metadata is a flat JSON object of an article (``outlet``, ``date``, ``url``,
``language``, a topic, ...).  Values are kept as given, except ``date``, which must be a
calendar date: ``YYYY-MM-DD``, ``YYYY-MM``, ``YYYY`` or an ISO 8601 date-time (the date
part is kept as written).  Dates are checked where they enter (``framing tag --meta``,
JSONL ``meta``) so that a wrong one is reported with its place, not discovered in a plot.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from datetime import date
from typing import Any

from framing.errors import UsageError

__all__ = ["DATE_FIELDS", "MetadataError", "parse_date", "parse_meta_options", "check_meta"]

#: Metadata keys whose values must be dates.
DATE_FIELDS = ("date",)
_DATE = re.compile(r"^(\d{4})(?:-(\d{2})(?:-(\d{2}))?)?(?:[T ][0-9:.]+(?:Z|[+-]\d{2}:?\d{2})?)?$")


class MetadataError(UsageError):
    """A metadata value that is not what its key needs (for example a date that is not one)."""

    exit_code = 1


def parse_date(value: Any, where: str = "") -> date:
    """A date from ``YYYY-MM-DD``, ``YYYY-MM`` (first of the month), ``YYYY`` (1 January)
    or an ISO date-time.

    Raises
    ------
    MetadataError
        Naming ``where``, the value and the accepted forms.

    Examples
    --------
    >>> parse_date("2024-03-14"), parse_date("2024-03"), parse_date("2024-03-14T09:30:00Z")
    (datetime.date(2024, 3, 14), datetime.date(2024, 3, 1), datetime.date(2024, 3, 14))
    """
    prefix = f"{where}: " if where else ""
    text = str(value).strip() if isinstance(value, str | int) else None
    found = _DATE.match(text) if text is not None else None
    if found is None:
        raise MetadataError(
            f"{prefix}date {value!r} is not a date; write YYYY-MM-DD (or YYYY-MM, YYYY, "
            "an ISO date-time)"
        )
    year, month, day = (int(g) if g else 1 for g in found.groups())
    try:
        return date(year, month, day)
    except ValueError as exc:
        raise MetadataError(f"{prefix}date {value!r} does not exist ({exc})") from None


def check_meta(meta: Mapping[str, Any], where: str = "") -> dict[str, Any]:
    """``meta`` as a dict, its date fields checked.

    Raises
    ------
    MetadataError
        When ``meta`` is not an object or a date field is not a date.
    """
    if not isinstance(meta, Mapping):
        prefix = f"{where}: " if where else ""
        raise MetadataError(f"{prefix}'meta' must be an object, got {type(meta).__name__}")
    for key in DATE_FIELDS:
        if key in meta and meta[key] not in (None, ""):
            parse_date(meta[key], f"{where} meta.{key}" if where else f"meta.{key}")
    return dict(meta)


def parse_meta_options(options: Iterable[str]) -> dict[str, str]:
    """``["outlet=Meridian Press", "date=2024-03-14"]`` as a dict, dates checked.

    Raises
    ------
    UsageError
        For an option without ``=`` or with an empty key; :class:`MetadataError` for a bad
        date.
    """
    meta: dict[str, str] = {}
    for option in options:
        key, sep, value = option.partition("=")
        if not sep or not key.strip():
            raise UsageError(f"--meta {option!r}: write KEY=VALUE, e.g. --meta outlet='Daily News'")
        meta[key.strip()] = value.strip()
    return check_meta(meta, "--meta")

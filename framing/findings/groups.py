"""Group articles by metadata fields; dates bucketed by month, quarter or year."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from framing.errors import UsageError
from framing.format.meta import DATE_FIELDS, parse_date

__all__ = ["MISSING", "PERIODS", "bucket", "group_key"]

PERIODS = ("month", "quarter", "year")
#: The group value of an article without the field.
MISSING = "(none)"


def bucket(value: Any, period: str | None, where: str = "") -> str:
    """A date's period label: ``2024-03`` (month), ``2024-Q1`` (quarter), ``2024`` (year);
    the date itself (``2024-03-14``) without a period.  Labels sort in time order.

    Examples
    --------
    >>> bucket("2024-03-14", "quarter"), bucket("2024-03-14", "month"), bucket("2024-11", "year")
    ('2024-Q1', '2024-03', '2024')
    """
    day = parse_date(value, where)
    if period is None:
        return day.isoformat()
    if period == "month":
        return f"{day.year}-{day.month:02d}"
    if period == "quarter":
        return f"{day.year}-Q{(day.month - 1) // 3 + 1}"
    if period == "year":
        return str(day.year)
    raise UsageError(f"--period must be one of {', '.join(PERIODS)}, got {period!r}")


def group_key(
    meta: Mapping[str, Any], fields: Sequence[str], period: str | None, where: str = ""
) -> tuple[str, ...]:
    """The values of ``fields`` in ``meta``; date fields bucketed by ``period``."""
    key = []
    for name in fields:
        value = meta.get(name)
        if value is None or value == "":
            key.append(MISSING)
        elif name in DATE_FIELDS:
            key.append(bucket(value, period, where))
        else:
            key.append(str(value))
    return tuple(key)

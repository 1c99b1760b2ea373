"""Agreement coefficients: Krippendorff's alpha, Cohen's kappa, observed agreement, and
the set distances (Jaccard, MASI) that alpha uses for label sets.

Alpha is computed from the coincidence matrix as in Krippendorff, "Computing
Krippendorff's Alpha-Reliability" (2011)::

    alpha = 1 - (n - 1) * sum_ck o_ck * d_ck / sum_ck n_c * n_k * d_ck

It is undefined (``None``) when the codings show no variation at all, e.g. a label
nobody used.  Pure numpy and the standard library.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable, Sequence
from typing import Any

import numpy as np

from framing.errors import UsageError

__all__ = [
    "Distance",
    "cohen_kappa",
    "jaccard_distance",
    "krippendorff_alpha",
    "masi_distance",
    "observed_agreement",
]

Distance = Callable[[Any, Any], float]


def _nominal(a: Any, b: Any) -> float:
    return 0.0 if a == b else 1.0


def jaccard_distance(a: Iterable[Hashable], b: Iterable[Hashable]) -> float:
    """``1 - |a & b| / |a | b|``; two empty sets are identical (distance 0).

    Examples
    --------
    >>> jaccard_distance({"x", "y"}, {"y", "z"})
    0.6666666666666667
    """
    a, b = set(a), set(b)
    union = len(a | b)
    return 0.0 if union == 0 else 1.0 - len(a & b) / union


def masi_distance(a: Iterable[Hashable], b: Iterable[Hashable]) -> float:
    """MASI distance (Passonneau 2006): ``1 - jaccard * monotonicity``.

    Monotonicity is 1 for equal sets, 2/3 when one set contains the other, 1/3 when
    they overlap otherwise and 0 when they are disjoint.  Two empty sets are
    identical (distance 0).

    Examples
    --------
    >>> round(masi_distance({"x"}, {"x", "y"}), 4)
    0.6667
    """
    a, b = set(a), set(b)
    if a == b:
        return 0.0
    common = len(a & b)
    if common == 0:
        return 1.0
    monotonicity = 2 / 3 if common == min(len(a), len(b)) else 1 / 3
    return 1.0 - common / len(a | b) * monotonicity


def _value_counts(data: Sequence[Sequence[Any]]) -> tuple[list[Any], np.ndarray]:
    """Distinct values and, per unit, how many coders gave each: ``(n_units, n_values)``."""
    n_units = max((len(row) for row in data), default=0)
    if any(len(row) != n_units for row in data):
        raise UsageError("reliability data: every coder needs one entry per unit (None if missing)")
    index: dict[Any, int] = {}
    codes = np.full((len(data), n_units), -1, dtype=np.int64)
    for c, row in enumerate(data):
        for u, value in enumerate(row):
            if value is not None:
                codes[c, u] = index.setdefault(value, len(index))
    counts = np.zeros((n_units, len(index)))
    coders, units = np.nonzero(codes >= 0)
    np.add.at(counts, (units, codes[coders, units]), 1.0)
    return list(index), counts


def _coincidences(data: Sequence[Sequence[Any]]) -> tuple[list[Any], np.ndarray]:
    """Values and the coincidence matrix of reliability data (coders x units, None = missing).

    ``o_ck = sum_u (number of ordered pairs of coders giving c and k in u) / (m_u - 1)``;
    a unit with fewer than two codings is not pairable and adds nothing.
    """
    values, counts = _value_counts(data)
    m = counts.sum(axis=1)
    pairable = m >= 2
    counts, weight = counts[pairable], 1.0 / (m[pairable] - 1.0)
    matrix = np.einsum("uc,uk,u->ck", counts, counts, weight)
    matrix -= np.diag((counts * weight[:, None]).sum(axis=0))  # a coder is not paired with itself
    return values, matrix


def krippendorff_alpha(
    data: Sequence[Sequence[Any]], distance: Distance | None = None
) -> float | None:
    """Krippendorff's alpha of reliability data, missing codings allowed.

    Parameters
    ----------
    data
        One row per coder, one column per unit; ``None`` marks a missing coding.
        Values must be hashable (use ``frozenset`` for sets).
    distance
        A difference function between two values; nominal (0 if equal, else 1)
        by default.  :func:`masi_distance` and :func:`jaccard_distance` suit sets.

    Returns
    -------
    float or None
        None when alpha is undefined: no pairable values or no variation at all.

    Examples
    --------
    Krippendorff (2011), binary data, two observers:

    >>> a = [0, 1, 0, 0, 0, 0, 0, 0, 1, 0]
    >>> b = [1, 1, 1, 0, 0, 1, 0, 0, 0, 0]
    >>> round(krippendorff_alpha([a, b]), 3)
    0.095
    """
    delta = distance or _nominal
    values, o = _coincidences(data)
    n = o.sum()
    if n <= 1:
        return None
    d = np.array([[delta(a, b) for b in values] for a in values], dtype=float)
    marginals = o.sum(axis=1)
    expected = float(marginals @ d @ marginals)
    if expected == 0:
        return None
    return float(1.0 - (n - 1) * float((o * d).sum()) / expected)


def cohen_kappa(a: Sequence[Any], b: Sequence[Any]) -> float | None:
    """Cohen's kappa of two coders over the units both coded (None = missing).

    Returns None when chance agreement is 1 (both coders used one and the same value).

    Examples
    --------
    >>> round(cohen_kappa([1, 1, 0, 0], [1, 0, 0, 0]), 3)
    0.5
    """
    if len(a) != len(b):
        raise UsageError("cohen_kappa: both coders need one entry per unit")
    pairs = [(x, y) for x, y in zip(a, b, strict=True) if x is not None and y is not None]
    if not pairs:
        return None
    n = len(pairs)
    observed = sum(x == y for x, y in pairs) / n
    left: dict[Any, int] = {}
    right: dict[Any, int] = {}
    for x, y in pairs:
        left[x] = left.get(x, 0) + 1
        right[y] = right.get(y, 0) + 1
    chance = sum(left[v] * right.get(v, 0) for v in left) / (n * n)
    if chance >= 1.0:
        return None
    return (observed - chance) / (1.0 - chance)


def observed_agreement(data: Sequence[Sequence[Any]]) -> float | None:
    """Share of agreeing coder pairs, averaged over the units coded by two or more.

    With two coders this is the plain percent agreement.  None when no unit is
    coded twice.

    Examples
    --------
    >>> observed_agreement([[1, 1, 0], [1, 0, None]])
    0.5
    """
    _, counts = _value_counts(data)
    m = counts.sum(axis=1)
    pairable = m >= 2
    if not pairable.any():
        return None
    counts, m = counts[pairable], m[pairable]
    return float(np.mean((counts * (counts - 1)).sum(axis=1) / (m * (m - 1))))

"""Article profiles: per label, how many sentences carry it, its scores, the evidence.

Computed for a whole batch of articles at once from the score arrays; every
statistic is per article, so an article gets the same profile in any batch.

Labels are ranked by their **strength** (:func:`strengths`): the calibrated evidence
of the sentences that carry the label, not how many sentences do.  A label carried
only by sentences that barely pass its threshold (a protocol sentence scored just
above a low threshold) ranks below one carried by a single clear sentence.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from framing.runtime.results import Evidence, LabelProfile, TaggedSentence

if TYPE_CHECKING:
    import numpy as np

    from framing.runtime.tagging import Labeler

__all__ = [
    "MAX_EVIDENCE",
    "DimensionStats",
    "profile_stats",
    "build_profiles",
    "sentence_hits",
    "strengths",
    "rank_key",
]

#: Evidence sentences kept per label in an article profile.
MAX_EVIDENCE = 3


@dataclass(slots=True)
class DimensionStats:
    """One dimension's profile numbers for a batch of articles.

    ``counts``, ``shares``, ``maxes`` and ``means`` are ``(n_articles, n_labels)``;
    the evidence is flat, ordered by article, label, then score (best first):
    ``ev_articles[k]``, ``ev_cols[k]`` name the profile entry, ``ev_rows[k]`` the
    sentence's batch row and ``ev_scores[k]`` its score.  ``strengths`` is
    ``(n_articles, n_labels)`` (:func:`strengths`; NaN without calibration maps).
    """

    counts: np.ndarray
    shares: np.ndarray
    maxes: np.ndarray
    means: np.ndarray
    ev_articles: np.ndarray
    ev_cols: np.ndarray
    ev_rows: np.ndarray
    ev_scores: np.ndarray
    strengths: np.ndarray
    hits: tuple[np.ndarray, np.ndarray, np.ndarray]


def sentence_hits(
    rows: np.ndarray, cols: np.ndarray, values: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The hits ``(rows, cols, values)`` of a dimension (``np.nonzero`` of its mask, rows
    in order) ordered as each sentence lists its labels: by row, then highest score
    first (ties in label order)."""
    import numpy as np

    # Only the hits of rows with several need an order (a sort of all of them cost
    # about ten times as much): the hits of each such row keep their places, sorted.
    several = np.flatnonzero(rows[1:] == rows[:-1])
    if not len(several):
        return rows, cols, values
    inside = np.zeros(len(rows), dtype=bool)
    inside[several] = True
    inside[several + 1] = True
    place = np.flatnonzero(inside)
    order = np.arange(len(rows))
    order[place] = place[np.lexsort((-values[place], rows[place]))]
    return rows[order], cols[order], values[order]


def strengths(
    plan: Labeler,
    dim: str,
    p: np.ndarray,
    rows: np.ndarray,
    cols: np.ndarray,
    article_of: np.ndarray,
    n_articles: int,
) -> np.ndarray:
    """``(n_articles, n_labels)``: per article and label, ``1 - prod(1 - q)`` over the
    sentences that carry the label, ``q`` each one's calibrated probability.

    Under the calibration maps of the model (fitted on out-of-fold training scores),
    it is the chance that at least one of those sentences really carries the label,
    if sentences were independent: one clear sentence (q = 0.9) outweighs three that
    barely pass a low threshold (q = 0.2 each: 0.49).  ``(rows, cols)`` are the
    predicted cells of the batch; NaN everywhere when the model has no calibration maps.
    """
    import numpy as np

    from framing.runtime.calibration import apply_by_column

    width = len(plan.labels[dim])
    out = np.full((n_articles, width), np.nan)
    cal = plan.calibration
    if cal is None:
        return out
    maps = [cal.label(plan.calibration_unit, dim, label).map for label in plan.labels[dim]]
    q = apply_by_column(maps, p[rows, cols], cols)
    miss = np.zeros((n_articles, width))
    np.add.at(miss, (article_of[rows], cols), np.log1p(-np.clip(q, 0.0, 1.0 - 1e-12)))
    out[:] = -np.expm1(miss)  # cells without a hit: 0
    return out


def rank_key(label: str, profile: LabelProfile) -> tuple[float, float, float, str]:
    """Sort key of a profile entry, strongest first: strength (when the model has
    calibration maps), then count, then best score, then the label id."""
    strength = profile.strength if profile.strength is not None else 0.0
    return (-strength, -profile.count, -profile.max_score, label)


def profile_stats(
    plan: Labeler,
    scores: Mapping[str, np.ndarray],
    masks: Mapping[str, np.ndarray],
    bounds: Sequence[int],
) -> dict[str, DimensionStats]:
    """Profile numbers of the articles whose sentences are rows ``bounds[k]:bounds[k+1]``.

    Computed for the whole batch at once; an article gets the same numbers
    whatever batch it is in (every statistic is per article).
    """
    import numpy as np

    n_articles = len(bounds) - 1
    sizes = np.diff(np.asarray(bounds))
    present = np.flatnonzero(sizes > 0)
    starts = np.asarray(bounds[:-1])[present]
    article_of = np.repeat(np.arange(n_articles), sizes)
    out = {}
    for dim in plan.dims:
        p, mask = scores[dim], masks[dim]
        width = len(plan.labels[dim])
        counts = np.zeros((n_articles, width), dtype=np.int64)
        maxes = np.zeros((n_articles, width))
        sums = np.zeros((n_articles, width))
        if len(present) and width:
            counts[present] = np.add.reduceat(mask.astype(np.int64), starts, axis=0)
            maxes[present] = np.maximum.reduceat(p, starts, axis=0)
            sums[present] = np.add.reduceat(p, starts, axis=0)
        denominators = np.maximum(sizes, 1)[:, None]
        # Evidence: per article and label, the best-scoring sentences that carry it.
        hit_rows, hit_cols = np.nonzero(mask)
        hit_values = p[hit_rows, hit_cols]
        # By article and label (one key), then score, best first; the sort is stable and
        # the hits come by row, so equal scores stay in row order.
        group = article_of[hit_rows] * width + hit_cols
        order = np.lexsort((-hit_values, group))
        rows, cols, values, group = (
            hit_rows[order],
            hit_cols[order],
            hit_values[order],
            group[order],
        )
        arts = article_of[rows]
        new = np.ones(len(group), dtype=bool)
        np.not_equal(group[1:], group[:-1], out=new[1:])
        first = np.maximum.accumulate(np.where(new, np.arange(len(group)), 0))
        keep = np.arange(len(group)) - first < MAX_EVIDENCE
        strength = strengths(plan, dim, p, hit_rows, hit_cols, article_of, n_articles)
        out[dim] = DimensionStats(
            counts,
            counts / denominators,
            maxes,
            sums / denominators,
            arts[keep],
            cols[keep],
            rows[keep],
            values[keep],
            strength,
            sentence_hits(hit_rows, hit_cols, hit_values),
        )
    return out


def build_profiles(
    plan: Labeler,
    stats: Mapping[str, DimensionStats],
    sentences: Sequence[TaggedSentence],
    n_articles: int,
) -> list[dict[str, dict[str, LabelProfile]]]:
    """Profile objects from :func:`profile_stats`, a dimension at a time: the entries
    carried by some sentence (``counts > 0``, article by article, labels in model
    order) and their evidence, which :func:`profile_stats` orders the same way."""
    from framing.runtime.arrays import runs

    out: list[dict[str, dict[str, LabelProfile]]] = [{} for _ in range(n_articles)]
    for dim in plan.dims:
        names = plan.labels[dim]
        st = stats[dim]
        carriers = list(map(sentences.__getitem__, st.ev_rows.tolist()))
        evidence = [
            Evidence(s.index, s.text, v)
            for s, v in zip(carriers, st.ev_scores.tolist(), strict=True)
        ]
        _, ev_lo, ev_hi = runs(st.ev_articles * len(names) + st.ev_cols)
        arts, cols = st.counts.nonzero()
        strong = [None if v != v else v for v in st.strengths[arts, cols].tolist()]
        entries = list(
            map(
                LabelProfile,
                st.counts[arts, cols].tolist(),
                st.shares[arts, cols].tolist(),
                st.maxes[arts, cols].tolist(),
                st.means[arts, cols].tolist(),
                [evidence[lo:hi] for lo, hi in zip(ev_lo, ev_hi, strict=True)],
                strong,
            )
        )
        labels = list(map(names.__getitem__, cols.tolist()))
        for profile in out:
            profile[dim] = {}
        for a, lo, hi in zip(*runs(arts), strict=True):
            out[a][dim] = dict(zip(labels[lo:hi], entries[lo:hi], strict=True))
    return out

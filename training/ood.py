"""Calibrating the out-of-distribution check at training time.

See :mod:`framing.runtime.ood` for what the check measures.  Each training article
in turn is held out: its score is the share of its n-grams that no *other*
training article has.  The threshold is a high quantile of those held-out scores,
so an article as unlike the rest as only the most unusual training articles is
flagged.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from itertools import chain

import numpy as np

from framing.runtime.ood import (
    DEFAULT_MAX_CHARS,
    DEFAULT_MIN_NGRAMS,
    OodCheck,
    article_tokens,
    ngrams_of,
)

__all__ = ["calibrate_ood", "DEFAULT_QUANTILE", "MIN_ARTICLES"]

#: Share of held-out training articles below the threshold.
DEFAULT_QUANTILE = 0.95
#: Fewer calibration articles than this and no threshold is stored.
MIN_ARTICLES = 5


def calibrate_ood(
    articles: Sequence[str],
    *,
    quantile: float = DEFAULT_QUANTILE,
    max_chars: int = DEFAULT_MAX_CHARS,
    min_ngrams: int = DEFAULT_MIN_NGRAMS,
) -> OodCheck | None:
    """The out-of-distribution check of a model trained on ``articles`` (their texts).

    Returns None when fewer than :data:`MIN_ARTICLES` articles have ``min_ngrams``
    n-grams: too few to calibrate a threshold.
    """
    full = [set(ngrams_of(article_tokens(text, None))) for text in articles]
    df = Counter(chain.from_iterable(full))
    scores = []
    for text in articles:
        grams = ngrams_of(article_tokens(text, max_chars))
        if len(grams) < min_ngrams:
            continue
        # Every n-gram of the article is in the article: unseen elsewhere means df == 1.
        scores.append(sum(df[g] == 1 for g in grams) / len(grams))
    if len(scores) < MIN_ARTICLES:
        return None
    values = np.asarray(scores)
    threshold = float(np.quantile(values, quantile))
    calibration = {
        "method": "leave one training article out",
        "articles": len(scores),
        "quantile": quantile,
        "held_out_scores": {
            "min": float(values.min()),
            "median": float(np.median(values)),
            "max": float(values.max()),
        },
    }
    return OodCheck(
        df, threshold, max_chars=max_chars, min_ngrams=min_ngrams, calibration=calibration
    )

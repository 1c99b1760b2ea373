"""Labels and profiles of a batch, built from its score matrices a dimension at a time,
against a plain per-sentence and per-article computation on random scores."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from framing.runtime.model import load_model
from framing.runtime.profiles import MAX_EVIDENCE, build_profiles, profile_stats
from framing.runtime.tagging import Labeler, tag_sentences


def _random_scores(plan: Labeler, n: int, rng: np.random.Generator) -> dict[str, np.ndarray]:
    scores = {}
    for dim in plan.dims:
        p = rng.random((n, len(plan.labels[dim])))
        p[rng.random(p.shape) < 0.2] = 0.5  # ties, at a threshold or between labels
        scores[dim] = p
    return scores


@pytest.mark.parametrize("seed", range(4))
def test_batch_labels_and_profiles_match_a_plain_computation(
    tag_model_path: Path, seed: int
) -> None:
    model = load_model(tag_model_path)
    plan = Labeler(model)
    rng = np.random.default_rng(seed)
    sizes = rng.integers(0, 9, 12)  # articles of 0 to 8 sentences
    bounds = np.concatenate([[0], np.cumsum(sizes)]).tolist()
    n = bounds[-1]
    scores = _random_scores(plan, n, rng)
    texts = [f"sentence {i}" for i in range(n)]
    indexes = [i - bounds[int(np.searchsorted(bounds, i, side="right")) - 1] + 1 for i in range(n)]
    none = [None] * n
    sentences, _, masks = tag_sentences(
        plan, model, texts, none, none, indexes, False, False, scores
    )
    assert any(masks[dim].any() for dim in plan.dims)

    # labels: each sentence's hits, highest score first (ties in label order)
    for i, sentence in enumerate(sentences):
        for dim in plan.dims:
            names, p = plan.labels[dim], scores[dim][i]
            hits = [(names[j], p[j]) for j in np.flatnonzero(masks[dim][i])]
            expected = sorted(hits, key=lambda h: -h[1])
            assert [(ls.label, ls.score) for ls in sentence.labels[dim]] == expected

    # profiles: per article and carried label, the numbers and the best sentences
    stats = profile_stats(plan, scores, masks, bounds)
    profiles = build_profiles(plan, stats, sentences, len(sizes))
    for a in range(len(sizes)):
        rows = range(bounds[a], bounds[a + 1])
        for dim in plan.dims:
            names, p, mask = plan.labels[dim], scores[dim], masks[dim]
            carried = [j for j in range(len(names)) if any(mask[r, j] for r in rows)]
            assert list(profiles[a][dim]) == [names[j] for j in carried]
            for j in carried:
                entry = profiles[a][dim][names[j]]
                count = sum(bool(mask[r, j]) for r in rows)
                assert entry.count == count
                assert entry.share == pytest.approx(count / len(rows))
                assert entry.max_score == max(p[r, j] for r in rows)
                assert entry.mean_score == pytest.approx(sum(p[r, j] for r in rows) / len(rows))
                best = sorted((r for r in rows if mask[r, j]), key=lambda r: (-p[r, j], r))
                assert [(e.index, e.text, e.score) for e in entry.evidence] == [
                    (indexes[r], texts[r], p[r, j]) for r in best[:MAX_EVIDENCE]
                ]
                strength = stats[dim].strengths[a, j]
                assert entry.strength == (None if np.isnan(strength) else strength)

"""The one rule that turns a model's scores into labels.

Tagging, suggestion, evaluation and training all call :func:`label_mask` (through
:func:`label_masks` when they label every dimension of a model), so a label is
"predicted" in exactly the same cases everywhere:

* **multi-label dimension**: every label whose score reaches its threshold
  (``score >= threshold``).  When no label reaches its threshold, the sentence
  has no label in that dimension: there is no fall-back to the best one.
* **single-label dimension**: the best-scoring label (the first of equal ones),
  when its score reaches its threshold; otherwise none.  Training saves a
  threshold of 0.0 for every label of a single-label dimension, so a model from
  ``framing train`` always gives its best label there; a higher threshold makes
  the model abstain on sentences it is unsure of.

Then, across the dimensions of an example, :func:`label_masks` enforces the label
structure the model records (:mod:`framing.runtime.structure`: a child label brings
its parent, an exclusive label such as ``Other`` gives way to any other label).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

from framing.runtime.meta import DEFAULT_THRESHOLD

if TYPE_CHECKING:
    import numpy as np

    from framing.runtime.meta import ModelMeta

__all__ = ["label_mask", "label_masks", "threshold_vector"]


def threshold_vector(labels: Sequence[str], thresholds: Mapping[str, float]) -> np.ndarray:
    """The thresholds of ``labels`` in their order; a label without one gets 0.5."""
    import numpy as np

    return np.array([float(thresholds.get(label, DEFAULT_THRESHOLD)) for label in labels])


def label_mask(scores: np.ndarray, thresholds: np.ndarray, multi_label: bool) -> np.ndarray:
    """Boolean ``(n, n_labels)``: which labels the scores predict (see the module docstring).

    Parameters
    ----------
    scores
        ``(n, n_labels)`` scores of one dimension.
    thresholds
        ``(n_labels,)`` thresholds in the same column order (:func:`threshold_vector`).
    multi_label
        Whether the dimension allows several labels per sentence.

    Examples
    --------
    >>> import numpy as np
    >>> scores = np.array([[0.7, 0.6], [0.2, 0.3]])
    >>> label_mask(scores, np.array([0.5, 0.5]), multi_label=True).tolist()
    [[True, True], [False, False]]
    >>> label_mask(scores, np.array([0.0, 0.0]), multi_label=False).tolist()
    [[True, False], [False, True]]
    """
    import numpy as np

    above = scores >= thresholds
    if multi_label or not scores.shape[1]:
        return above
    best = np.zeros_like(above)
    best[np.arange(len(scores)), scores.argmax(axis=1)] = True
    return best & above


def label_masks(
    scores: Mapping[str, np.ndarray], labels: Mapping[str, Sequence[str]], meta: ModelMeta
) -> dict[str, np.ndarray]:
    """:func:`label_mask` for every dimension of ``scores``, then the model's label structure.

    ``labels`` gives each dimension's column order (the model's, or a subset of it that
    ``scores`` was cut down to); thresholds and single/multi-label come from ``meta``.
    """
    from framing.runtime.structure import apply_structure, structure_of

    masks = {
        dim: label_mask(
            scores[dim], threshold_vector(labels[dim], meta.thresholds[dim]), meta.multi_label[dim]
        )
        for dim in scores
    }
    structure = structure_of(meta)
    return masks if structure is None else apply_structure(masks, labels, structure)

"""Building models: configs, pipelines, training, threshold tuning, evaluation, plots.

``framing`` never imports this package at module level; ``framing train`` and
``framing eval`` import it when they run.  See ``docs/training.md``.
"""

from __future__ import annotations

__all__ = ["config", "pipelines", "thresholds", "train", "evaluate", "plots", "report"]

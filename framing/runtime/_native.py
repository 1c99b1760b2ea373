"""The optional scoring kernel (``framing/runtime/_speedups.c``), or None when it is absent.

The extension is built at install time when a C compiler is available.  It holds the
per-sentence TF-IDF sums and the word table of :mod:`framing.runtime.tfidf_scoring` and
:mod:`framing.runtime.compiled`, nothing else.  Without it, or with the environment
variable ``FRAMING_NO_SPEEDUPS`` set to anything but an empty string, framing scores
with numpy, which gives the same scores, only slower.
"""

from __future__ import annotations

import os
from types import ModuleType


def _load() -> ModuleType | None:
    if os.environ.get("FRAMING_NO_SPEEDUPS"):
        return None
    try:
        from framing.runtime import _speedups
    except ImportError:  # pragma: no cover - depends on the build
        return None
    return _speedups


speedups = _load()

__all__ = ["speedups"]

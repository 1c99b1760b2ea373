"""The optional compiled loops (``framing/runtime/_speedups.c``), or None when they are absent.

The extension is built at install time when a C compiler is available.  Without it,
or with the environment variable ``FRAMING_NO_SPEEDUPS`` set to anything but an
empty string, framing uses its numpy and Python code paths, which give the same
results, only slower.
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

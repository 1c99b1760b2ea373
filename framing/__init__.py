"""framing: find how news articles frame the world.

Annotate sentences with frames and rhetorical devices from a versioned codebook,
train scikit-learn models on them, and tag new articles.
"""

from __future__ import annotations

__version__ = "0.1.0"

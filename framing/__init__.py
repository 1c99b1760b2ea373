"""framing: find how news articles frame the world.

Annotate sentences with frames and rhetorical devices from a versioned codebook,
train scikit-learn models on them, and tag new articles::

    import framing

    model = framing.load_model()
    article = model.tag(text)

The names below are imported on first use, so ``import framing`` stays light
(no numpy, scikit-learn or plotting import until a model is used).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

__all__ = [
    "__version__",
    "load_model",
    "Model",
    "TaggedArticle",
    "TaggedSentence",
    "LabelScore",
    "LabelProfile",
    "Evidence",
    "tag_many",
    "Codebook",
    "load_codebook",
    "split_sentences",
    "FramingError",
    "ModelError",
    "OUTPUT_VERSION",
]

_LAZY = {
    "load_model": "framing.model",
    "Model": "framing.model",
    "TaggedArticle": "framing.tagger",
    "TaggedSentence": "framing.tagger",
    "LabelScore": "framing.tagger",
    "LabelProfile": "framing.tagger",
    "Evidence": "framing.tagger",
    "tag_many": "framing.tagger",
    "OUTPUT_VERSION": "framing.tagger",
    "Codebook": "framing.codebook",
    "load_codebook": "framing.codebook",
    "split_sentences": "framing.segment",
    "FramingError": "framing.errors",
    "ModelError": "framing.errors",
}

if TYPE_CHECKING:
    from framing.codebook import Codebook, load_codebook
    from framing.errors import FramingError, ModelError
    from framing.model import Model, load_model
    from framing.segment import split_sentences
    from framing.tagger import (
        OUTPUT_VERSION,
        Evidence,
        LabelProfile,
        LabelScore,
        TaggedArticle,
        TaggedSentence,
        tag_many,
    )


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'framing' has no attribute '{name}'")
    import importlib

    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))

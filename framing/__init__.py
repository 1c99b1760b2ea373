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
    "SentenceExplanation",
    "LabelExplanation",
    "OutOfDistribution",
    "DocumentLabels",
    "DocumentLabel",
    "tag_many",
    "Codebook",
    "load_codebook",
    "split_sentences",
    "FramingError",
    "ModelError",
    "OUTPUT_VERSION",
]

_LAZY = {
    "load_model": "framing.runtime.model",
    "Model": "framing.runtime.model",
    "TaggedArticle": "framing.runtime.results",
    "TaggedSentence": "framing.runtime.results",
    "LabelScore": "framing.runtime.results",
    "LabelProfile": "framing.runtime.results",
    "Evidence": "framing.runtime.results",
    "DocumentLabels": "framing.runtime.results",
    "DocumentLabel": "framing.runtime.results",
    "tag_many": "framing.runtime.tagging",
    "OUTPUT_VERSION": "framing.runtime.results",
    "SentenceExplanation": "framing.runtime.explain",
    "LabelExplanation": "framing.runtime.explain",
    "OutOfDistribution": "framing.runtime.ood",
    "Codebook": "framing.format.codebook",
    "load_codebook": "framing.format.codebook",
    "split_sentences": "framing.runtime.segment",
    "FramingError": "framing.errors",
    "ModelError": "framing.errors",
}

if TYPE_CHECKING:
    from framing.errors import FramingError, ModelError
    from framing.format.codebook import Codebook, load_codebook
    from framing.runtime.explain import LabelExplanation, SentenceExplanation
    from framing.runtime.model import Model, load_model
    from framing.runtime.ood import OutOfDistribution
    from framing.runtime.results import (
        OUTPUT_VERSION,
        DocumentLabel,
        DocumentLabels,
        Evidence,
        LabelProfile,
        LabelScore,
        TaggedArticle,
        TaggedSentence,
    )
    from framing.runtime.segment import split_sentences
    from framing.runtime.tagging import tag_many


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

"""The results of tagging: labelled sentences and articles with their profiles.

Plain dataclasses; ``to_dict`` gives the JSON form documented in
``docs/output-format.md`` (:data:`OUTPUT_VERSION` is its version), which
:mod:`framing.output.json` writes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from framing.runtime.explain import LabelExplanation
    from framing.runtime.ood import OutOfDistribution

__all__ = [
    "OUTPUT_VERSION",
    "LabelScore",
    "TaggedSentence",
    "Evidence",
    "LabelProfile",
    "TaggedArticle",
    "DocumentLabel",
    "DocumentLabels",
    "is_tagged_article",
    "is_tagged_file",
]

#: Version of the output format in ``docs/output-format.md``.
OUTPUT_VERSION = "1.3"


@dataclass(slots=True)
class LabelScore:
    """A label predicted for a sentence, with its score in ``[0, 1]``."""

    label: str
    score: float

    def to_dict(self) -> dict[str, Any]:
        return {"label": self.label, "score": self.score}


@dataclass(slots=True)
class TaggedSentence:
    """One sentence: its position, text, predicted labels and (on request) all scores.

    ``labels`` maps every dimension of the model to a tuple of the labels whose
    score reached their threshold, highest score first.  ``start``/``end`` are character offsets
    into the article text (``text == article.text[start:end]``), or None for
    sentences given already split.  ``index`` counts from 1.
    """

    index: int
    text: str
    labels: dict[str, tuple[LabelScore, ...]]
    start: int | None = None
    end: int | None = None
    scores: dict[str, dict[str, float]] | None = None
    #: With ``explain=True``: per dimension, why each predicted label was predicted.
    explanations: dict[str, tuple[LabelExplanation, ...]] | None = None
    #: With ``all_scores=True`` and a calibrated model: every label's calibrated probability.
    probabilities: dict[str, dict[str, float]] | None = None

    def label_ids(self, dimension: str) -> list[str]:
        """The predicted label ids of one dimension."""
        return [ls.label for ls in self.labels.get(dimension, [])]

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {"index": self.index}
        if self.start is not None:
            data["start"] = self.start
            data["end"] = self.end
        data["text"] = self.text
        data["labels"] = {
            dim: [{"label": ls.label, "score": ls.score} for ls in found]
            for dim, found in self.labels.items()
        }
        if self.explanations is not None:
            for dim, found in data["labels"].items():
                why = {e.label: e for e in self.explanations.get(dim, ())}
                for item in found:
                    e = why.get(item["label"])
                    item["explanation"] = None if e is None else e.to_dict()
        if self.scores is not None:
            data["scores"] = self.scores
        if self.probabilities is not None:
            data["probabilities"] = self.probabilities
        return data


@dataclass(slots=True)
class Evidence:
    """A sentence that supports a label in an article profile."""

    index: int
    text: str
    score: float

    def to_dict(self) -> dict[str, Any]:
        return {"index": self.index, "text": self.text, "score": self.score}


@dataclass(slots=True)
class LabelProfile:
    """How much of an article carries one label (only labels that some sentence carries).

    ``count`` sentences (``share`` of all) carry the label; ``max_score`` and
    ``mean_score`` are over all sentences of the article; ``strength`` is the
    calibrated evidence of the sentences that carry it
    (:func:`framing.runtime.profiles.strengths`; None when the model has no
    calibration maps), which ranks the labels; ``evidence`` holds the
    highest-scoring sentences that carry it (at most three, best first).
    """

    count: int
    share: float
    max_score: float
    mean_score: float
    evidence: list[Evidence] = field(default_factory=list)
    strength: float | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "count": self.count,
            "share": self.share,
            "max_score": self.max_score,
            "mean_score": self.mean_score,
            "strength": self.strength,
            "evidence": [e.to_dict() for e in self.evidence],
        }


@dataclass(slots=True)
class DocumentLabel:
    """A label a document-level model predicts for a whole article: its raw score and,
    for a calibrated model, its calibrated probability (None without calibration)."""

    label: str
    score: float
    probability: float | None = None

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {"label": self.label, "score": self.score}
        if self.probability is not None:
            data["probability"] = self.probability
        return data


@dataclass(slots=True)
class DocumentLabels:
    """What a document-level model (``level = "document"``) says about a whole article.

    ``labels`` maps every dimension of the model to the labels predicted for the article,
    highest score first; ``scores`` and ``probabilities`` (with ``all_scores``; the latter
    for a calibrated model) give every label's raw score and calibrated probability.
    """

    labels: dict[str, tuple[DocumentLabel, ...]]
    scores: dict[str, dict[str, float]] | None = None
    probabilities: dict[str, dict[str, float]] | None = None

    def label_ids(self, dimension: str) -> list[str]:
        """The predicted label ids of one dimension."""
        return [item.label for item in self.labels.get(dimension, ())]

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "labels": {
                dim: [item.to_dict() for item in found] for dim, found in self.labels.items()
            }
        }
        if self.scores is not None:
            data["scores"] = self.scores
        if self.probabilities is not None:
            data["probabilities"] = self.probabilities
        return data


@dataclass(slots=True)
class TaggedArticle:
    """An article split into tagged sentences, with a profile per dimension and label."""

    doc_id: str | None
    title: str | None
    text: str
    sentences: list[TaggedSentence]
    profile: dict[str, dict[str, LabelProfile]]
    model: dict[str, Any]
    #: The input's other fields (e.g. the other columns of a CSV row), strings only;
    #: written as ``meta`` when not empty.
    meta: dict[str, str] = field(default_factory=dict)
    #: How unlike the model's training articles this one is; None when the model
    #: has no out-of-distribution data (see :mod:`framing.runtime.ood`).
    out_of_distribution: OutOfDistribution | None = None
    #: A document-level model's labels for the whole article (then ``sentences`` and
    #: ``profile`` are empty); None for a sentence-level model.
    document: DocumentLabels | None = None

    @property
    def level(self) -> str:
        """``"document"`` when a document-level model labelled the article as a whole,
        else ``"sentence"``."""
        return "sentence" if self.document is None else "document"

    def labels(self, dimension: str) -> list[str]:
        """Labels of ``dimension``: a document-level model's labels of the article,
        highest score first; else those carried by at least one sentence, strongest first
        (:func:`framing.runtime.profiles.rank_key`: calibrated strength, then count)."""
        if self.document is not None:
            return self.document.label_ids(dimension)
        return [label for label, _ in self.ranked(dimension)]

    def ranked(self, dimension: str) -> list[tuple[str, LabelProfile]]:
        """The profile entries of ``dimension`` carried by a sentence, strongest first."""
        from framing.runtime.profiles import rank_key

        found = [(label, p) for label, p in self.profile.get(dimension, {}).items() if p.count]
        return sorted(found, key=lambda lp: rank_key(*lp))

    def to_dict(self, *, include_text: bool = False) -> dict[str, Any]:
        """The JSON form; the article text only with ``include_text`` (offsets index it)."""
        data: dict[str, Any] = {
            "version": OUTPUT_VERSION,
            "doc_id": self.doc_id,
            "title": self.title,
            "model": self.model,
            "n_sentences": len(self.sentences),
            "out_of_distribution": (
                None if self.out_of_distribution is None else self.out_of_distribution.to_dict()
            ),
        }
        if include_text:
            data["text"] = self.text
        if self.document is not None:
            data["document"] = self.document.to_dict()
        data["sentences"] = [s.to_dict() for s in self.sentences]
        data["profile"] = {
            dim: {label: p.to_dict() for label, p in labels.items()}
            for dim, labels in self.profile.items()
        }
        if self.meta:
            data["meta"] = dict(self.meta)
        return data


def is_tagged_article(data: Any) -> bool:
    """Whether a parsed JSON line is a tagged article (what ``framing tag`` writes), as
    opposed to an input article or an annotation record."""
    return (
        isinstance(data, dict)
        and isinstance(data.get("sentences"), list)
        and isinstance(data.get("model"), dict)
        and "record_type" not in data
    )


def is_tagged_file(path: str | Path) -> bool:
    """Whether a file's first non-blank line is a tagged article (``framing tag`` output)."""
    import json

    path = Path(path)
    if str(path) == "-" or not path.is_file() or path.suffix.lower() != ".jsonl":
        return False
    with open(path, encoding="utf-8", errors="replace") as stream:
        for line in stream:
            if line.strip():
                try:
                    return is_tagged_article(json.loads(line))
                except ValueError:
                    return False
    return False

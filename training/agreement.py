"""Is the model within annotator disagreement?  Model-vs-annotator alpha beside
human-vs-human alpha, per label (``framing eval MODEL --agreement A.jsonl B.jsonl``).

The annotators' files are read as ``framing agree`` reads them (records matched by id,
only ``done`` sentences are codings).  Per label:

* **human alpha**: Krippendorff's alpha of the annotators among themselves
  (:func:`framing.loop.agreement.agree`);
* **model alpha** against each annotator: alpha of the two codings "label given or not",
  the model's being its prediction at its threshold, over the sentences that annotator
  finished; and their mean.

A model whose mean alpha reaches the human alpha disagrees with an annotator no more than
annotators disagree with each other.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from framing.errors import AnnotationError
from framing.loop.agreement import agree, krippendorff_alpha, read_annotators, record_order
from framing.runtime.model import Model, load_model

__all__ = ["LabelModelAgreement", "ModelAgreementReport", "model_agreement"]


@dataclass
class LabelModelAgreement:
    dimension: str
    label: str
    human_alpha: float | None
    #: Annotator name -> alpha of the model against that annotator.
    model_alpha: dict[str, float | None]

    @property
    def mean_model_alpha(self) -> float | None:
        found = [v for v in self.model_alpha.values() if v is not None]
        return float(np.mean(found)) if found else None

    @property
    def within(self) -> bool | None:
        """Does the model agree with annotators as well as they agree with each other?"""
        mean = self.mean_model_alpha
        if mean is None or self.human_alpha is None:
            return None
        return mean >= self.human_alpha

    def to_dict(self) -> dict[str, Any]:
        return {
            "human_alpha": _round(self.human_alpha),
            "model_alpha": {k: _round(v) for k, v in self.model_alpha.items()},
            "mean_model_alpha": _round(self.mean_model_alpha),
            "within_human_disagreement": self.within,
        }


@dataclass
class ModelAgreementReport:
    model: str
    annotators: list[str]
    files: list[str]
    sentences: int
    labels: list[LabelModelAgreement]

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "model": self.model,
            "annotators": self.annotators,
            "files": self.files,
            "sentences": self.sentences,
            "dimensions": {},
        }
        for entry in self.labels:
            out["dimensions"].setdefault(entry.dimension, {})[entry.label] = entry.to_dict()
        return out

    def to_table(self) -> str:
        names = self.annotators
        lines = [
            f"Krippendorff's alpha per label on {self.sentences} sentences: the annotators "
            f"among themselves ({', '.join(names)}) and model '{self.model}' against each.",
        ]
        width = max([len(e.label) for e in self.labels] + [5])
        current = None
        for e in self.labels:
            if e.dimension != current:
                current = e.dimension
                cols = "".join(f"  {'vs ' + n:>12}" for n in names)
                lines += [
                    "",
                    f"[{current}]",
                    f"  {'label':<{width}}  {'human':>6}{cols}  {'model':>6}  within",
                ]
            cols = "".join(f"  {_fmt(e.model_alpha.get(n)):>12}" for n in names)
            within = {True: "yes", False: "no", None: "-"}[e.within]
            lines.append(
                f"  {e.label:<{width}}  {_fmt(e.human_alpha):>6}{cols}  "
                f"{_fmt(e.mean_model_alpha):>6}  {within}"
            )
        return "\n".join(lines) + "\n"


def _round(value: float | None) -> float | None:
    return None if value is None else round(float(value), 4)


def _fmt(value: float | None) -> str:
    return "-" if value is None else f"{value:.3f}"


def model_agreement(
    model: Model | str | Path, paths: Sequence[str | Path], *, trusted: Iterable[str] = ()
) -> ModelAgreementReport:
    """Alpha of the model against each annotator beside the annotators' own alpha.

    Raises
    ------
    UsageError, AnnotationError, InputNotFoundError, ModelError
    """
    loaded = model if isinstance(model, Model) else load_model(model, trusted=trusted)
    annotators = read_annotators(paths, loaded.codebook)
    human = agree(paths, loaded.codebook)
    human_alpha = {
        (d.dimension, la.label): la.krippendorff_alpha for d in human.dimensions for la in d.labels
    }
    ids = record_order(annotators)
    texts: dict[str, str] = {}
    for a in annotators:
        for sid in ids:
            coding = a.coding(sid)
            if coding is not None:
                texts.setdefault(sid, coding.text)
    if not texts:
        raise AnnotationError("no done sentence in the annotators' files to compare with")
    order = list(texts)
    predicted = loaded.predict([texts[sid] for sid in order])
    by_id = {sid: p for sid, p in zip(order, predicted, strict=True)}
    out = []
    for dim, labels in loaded.labels.items():
        for label in labels:
            per_annotator: dict[str, float | None] = {}
            for a in annotators:
                rows: list[list[int | None]] = [[], []]
                for sid in order:
                    coding = a.coding(sid)
                    if coding is None:
                        continue
                    rows[0].append(int(label in coding.labels.get(dim, ())))
                    rows[1].append(int(label in by_id[sid].label_ids(dim)))
                per_annotator[a.name] = krippendorff_alpha(rows) if rows[0] else None
            out.append(
                LabelModelAgreement(dim, label, human_alpha.get((dim, label)), per_annotator)
            )
    return ModelAgreementReport(
        model=loaded.name,
        annotators=[a.name for a in annotators],
        files=[a.path for a in annotators],
        sentences=len(order),
        labels=out,
    )

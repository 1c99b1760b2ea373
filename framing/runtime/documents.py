"""Tagging with a document-level model: labels for whole articles.

A model trained with ``level = "document"`` scores an article's text as one example, and
its thresholds were tuned on whole articles, so it is never applied sentence by
sentence: :func:`tag_documents` gives each article its :class:`DocumentLabels` (labels by
the one scores-to-labels rule, :func:`framing.runtime.labels.label_masks`, with raw scores
and, for a calibrated model, calibrated probabilities) and no sentences.
:func:`framing.runtime.tagging.tag_batch` calls it for such a model, so ``framing tag``,
``model.tag`` and ``model.tag_many`` all give the same results.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from framing.errors import UsageError
from framing.runtime.results import DocumentLabel, DocumentLabels, TaggedArticle

if TYPE_CHECKING:
    from framing.runtime.model import Model
    from framing.runtime.tagging import Labeler

__all__ = ["check_document_options", "tag_documents"]


def check_document_options(
    model: Model, *, one_per_line: bool = False, explain: bool = False
) -> None:
    """Refuse the options that label sentences when ``model`` is a document-level model.

    Raises
    ------
    UsageError
        With ``one_per_line`` or ``explain`` for a document-level model.
    """
    if model.level != "document":
        return
    if one_per_line:
        raise UsageError(
            f"model '{model.name}' labels whole articles (level = \"document\"); "
            "--one-per-line gives it single sentences, on which its thresholds mean nothing: "
            "tag the articles without --one-per-line"
        )
    if explain:
        raise UsageError(
            f"model '{model.name}' labels whole articles (level = \"document\"); --explain "
            "explains sentence labels: drop it, or use model.explain(text) on an article's text"
        )


def tag_documents(
    plan: Labeler,
    model: Model,
    articles: Sequence[tuple[str | None, str | None, str]],
    all_scores: bool,
    checks: Sequence[Any],
) -> list[TaggedArticle]:
    """Tag articles ``(doc_id, title, text)`` with a document-level model, in one model call.

    ``checks`` are the articles' out-of-distribution checks
    (:func:`framing.runtime.tagging.ood_checks`).  The text scored is the article body,
    as training scored a document record's ``text``.
    """
    import numpy as np

    texts = [text for _, _, text in articles]
    raw = model.predict_proba(texts)
    scores = {dim: np.asarray(raw[dim], dtype=float) for dim in plan.dims}
    masks = plan.masks(scores)
    calibration, unit = plan.calibration, plan.calibration_unit
    probs = (
        {dim: calibration.apply(dim, scores[dim], plan.labels[dim], unit=unit) for dim in plan.dims}
        if calibration is not None
        else None
    )
    out = []
    for k, (doc_id, title, text) in enumerate(articles):
        labels: dict[str, tuple[DocumentLabel, ...]] = {}
        every: dict[str, dict[str, float]] = {}
        every_prob: dict[str, dict[str, float]] = {}
        for dim in plan.dims:
            names = plan.labels[dim]
            row = scores[dim][k].tolist()
            prow = probs[dim][k].tolist() if probs is not None else None
            hits = [j for j in np.flatnonzero(masks[dim][k]).tolist()]
            hits.sort(key=lambda j: -row[j])
            labels[dim] = tuple(
                DocumentLabel(names[j], row[j], None if prow is None else prow[j]) for j in hits
            )
            every[dim] = dict(zip(names, row, strict=True))
            if prow is not None:
                every_prob[dim] = dict(zip(names, prow, strict=True))
        document = DocumentLabels(
            labels,
            scores=every if all_scores else None,
            probabilities=every_prob if all_scores and probs is not None else None,
        )
        out.append(
            TaggedArticle(
                doc_id,
                title,
                text,
                [],
                {},
                dict(plan.model_info),
                out_of_distribution=checks[k],
                document=document,
            )
        )
    return out

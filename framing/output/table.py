"""A plain-text view of tagged results for a terminal (``framing tag --format table``)."""

from __future__ import annotations

from collections.abc import Sequence

from framing.format.text import clip
from framing.runtime.results import TaggedArticle, TaggedSentence

__all__ = ["render_table"]


def render_table(result: TaggedArticle | TaggedSentence, *, width: int = 100) -> str:
    """A readable plain-text view of one result for a terminal."""
    if isinstance(result, TaggedSentence):
        return _sentence_rows([result], width)
    head = result.doc_id or "(article)"
    lines = [f"== {head}" + (f": {result.title}" if result.title else "")]
    if result.document is not None:
        return "\n".join([*lines, *_document_rows(result)])
    lines.append(f"   {len(result.sentences)} sentences, model {result.model.get('name')}")
    ood = result.out_of_distribution
    if ood is not None and ood.flagged:
        lines.append(f"   {ood.warning()}")
    lines.append(_sentence_rows(result.sentences, width))
    lines.append("")
    lines.append(
        "   profile, strongest first (strength, sentences with the label, share, max score; "
        "best evidence)"
    )
    for dim in result.profile:
        found = result.ranked(dim)
        lines.append(f"   {dim}: " + ("none" if not found else ""))
        for label, p in found:
            ev = p.evidence[0] if p.evidence else None
            where = f"  #{ev.index} {clip(ev.text, 50, one_line=True)}" if ev else ""
            strength = "   - " if p.strength is None else f"{p.strength:.2f} "
            lines.append(
                f"     {label:<24} {strength}{p.count:>3} {p.share:>5.0%} {p.max_score:.2f}{where}"
            )
    return "\n".join(lines)


def _sentence_rows(sentences: Sequence[TaggedSentence], width: int) -> str:
    rows = []
    for s in sentences:
        found = [f"{ls.label} {ls.score:.2f}" for labels in s.labels.values() for ls in labels]
        rows.append(f"{s.index:>4}  {clip(s.text, width, one_line=True)}")
        rows.append("      -> " + (", ".join(found) if found else "-"))
    return "\n".join(rows)


def _document_rows(result: TaggedArticle) -> list[str]:
    """A document-level model's labels of the whole article (score, calibrated probability)."""
    assert result.document is not None
    lines = [f"   the whole article, document-level model {result.model.get('name')}"]
    ood = result.out_of_distribution
    if ood is not None and ood.flagged:
        lines.append(f"   {ood.warning()}")
    for dim, found in result.document.labels.items():
        lines.append(f"   {dim}: " + ("none" if not found else ""))
        for item in found:
            prob = "" if item.probability is None else f"  probability {item.probability:.2f}"
            lines.append(f"     {item.label:<40} {item.score:.2f}{prob}")
    return lines

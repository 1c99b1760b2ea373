"""One self-contained HTML page of tagged results (``framing tag --format html``)."""

from __future__ import annotations

import html
from typing import IO, TYPE_CHECKING

from framing.format.text import clip
from framing.runtime.results import TaggedArticle, TaggedSentence
from framing.runtime.tagging import Labeler

if TYPE_CHECKING:
    from framing.runtime.model import Model

__all__ = ["HtmlWriter"]

_HTML_HEAD = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title>
<style>
body {{ font: 16px/1.6 Georgia, serif; max-width: 60rem; margin: 2rem auto; padding: 0 1rem;
  color: #222; }}
h1 {{ font-size: 1.4rem; }}
article {{ border-top: 2px solid #ccc; margin-top: 2rem; padding-top: 1rem; }}
.meta, .legend, table {{ font: 13px/1.4 system-ui, sans-serif; }}
.meta {{ color: #666; }}
.s {{ padding: 0.1rem 0.15rem; border-radius: 3px; }}
.s[data-labels] {{ border-bottom: 3px solid var(--c); background: var(--b); }}
.s sup {{ font: 10px system-ui, sans-serif; color: #555; }}
.legend span {{ display: inline-block; margin: 0 0.6rem 0.3rem 0; padding: 0 0.3rem;
  border-bottom: 3px solid var(--c); background: var(--b); }}
table {{ border-collapse: collapse; margin: 0.5rem 0 1rem; }}
td, th {{ border-bottom: 1px solid #ddd; padding: 0.2rem 0.5rem; text-align: left;
  vertical-align: top; }}
td.n {{ text-align: right; }}
.ood {{ font: 13px/1.4 system-ui, sans-serif; color: #8a4b00; background: #fff4e0;
  padding: 0.3rem 0.5rem; }}
.why {{ display: none; }}
.s:focus .why {{ display: block; margin: 0.2rem 0 0.4rem; padding: 0.3rem 0.5rem;
  font: 12px/1.4 system-ui, sans-serif; background: #fff; border: 1px solid #ccc; }}
</style>
</head>
<body>
<h1>{title}</h1>
"""


class HtmlWriter:
    """Writes one self-contained HTML page (inline CSS, no scripts, no external assets).

    Sentences are highlighted by their highest-scoring label (a colour per label,
    listed in the legend), with every label and score in the hover text; each
    article ends with its profile.  All text is escaped.
    """

    def __init__(
        self, out: IO[str], model: Model, *, title: str = "framing: tagged articles"
    ) -> None:
        self.out = out
        self.plan = Labeler(model)
        self.colors: dict[str, str] = {}
        names = [(dim, label) for dim in self.plan.dims for label in self.plan.labels[dim]]
        for i, (_, label) in enumerate(names):
            hue = (i * 137.508) % 360
            self.colors[label] = f"{hue:.0f}"
        self.out.write(_HTML_HEAD.format(title=_escape(title)))
        legend = " ".join(
            f'<span style="{self._style(label)}">{_escape(label)}</span>' for _, label in names
        )
        info = self.plan.model_info
        self.out.write(
            f'<p class="meta">Model {_escape(str(info["name"]))}, codebook '
            f"{_escape(str(info['codebook']))} {_escape(str(info['codebook_version']))}. "
            "Hover a sentence for its labels and scores; tagged with --explain, hover or "
            "click it for the n-grams that made each label.</p>\n"
            f'<p class="legend">{legend}</p>\n'
        )

    def _style(self, label: str) -> str:
        hue = self.colors.get(label, "0")
        return f"--c: hsl({hue} 65% 45%); --b: hsl({hue} 80% 94%)"

    def _sentence(self, s: TaggedSentence) -> str:
        found = [ls for labels in s.labels.values() for ls in labels]
        if not found:
            return f'<span class="s" title="#{s.index}">{_escape(s.text)}</span>'
        best = max(found, key=lambda ls: ls.score)
        tip = f"#{s.index}: " + ", ".join(f"{ls.label} {ls.score:.2f}" for ls in found)
        if s.explanations is not None:
            tip += "".join(
                f"\n{e.label} because of: "
                + (", ".join(f"{_quoted(c.ngram)} +{c.contribution:.2f}" for c in e.ngrams) or "-")
                for found_dim in s.explanations.values()
                for e in found_dim
            )
        names = " ".join(ls.label for ls in found)
        why = ""
        focus = ""
        if s.explanations is not None:
            # Clicking focuses the sentence, which shows the box (CSS only, no script).
            focus = ' tabindex="0"'
            why = '<span class="why">' + "<br>".join(_escape(line) for line in tip.split("\n")[1:])
            why += "</span>"
        return (
            f'<span class="s" data-labels="{_escape(names)}" style="{self._style(best.label)}" '
            f'title="{_escape(tip)}"{focus}>{_escape(s.text)}<sup>{_escape(best.label)}</sup>{why}</span>'
        )

    def write(self, result: TaggedArticle | TaggedSentence) -> None:
        if isinstance(result, TaggedSentence):
            self.out.write(f"<p>{self._sentence(result)}</p>\n")
            return
        w = self.out.write
        w("<article>\n")
        sentences = result.sentences
        if sentences and sentences[0].index == 0:  # the title, tagged as sentence 0
            w(f"<h2>{self._sentence(sentences[0])}</h2>\n")
        else:
            w(f"<h2>{_escape(result.title or result.doc_id or 'Article')}</h2>\n")
        count = len(sentences)
        if result.document is not None:
            count_text = "labelled as a whole (document-level model)"
        else:
            count_text = f"{count} sentences"
        w(f'<p class="meta">{_escape(result.doc_id or "")} &middot; {count_text}</p>\n')
        ood = result.out_of_distribution
        if ood is not None and ood.flagged:
            w(f'<p class="ood">{_escape(ood.warning())}</p>\n')
        if result.document is not None:
            self._document(result)
            return
        paragraphs = _paragraphs(result)
        for para in paragraphs:
            w("<p>" + " ".join(self._sentence(s) for s in para) + "</p>\n")
        w(
            "<table><tr><th>dimension</th><th>label</th><th>strength</th><th>sentences</th>"
            "<th>share</th><th>max</th><th>evidence</th></tr>\n"
        )
        for dim in result.profile:
            for label, p in result.ranked(dim):
                ev = "<br>".join(
                    f"#{e.index} {_escape(clip(e.text, 90, one_line=True))}" for e in p.evidence
                )
                strength = "-" if p.strength is None else f"{p.strength:.2f}"
                w(
                    f'<tr><td>{_escape(dim)}</td><td><span class="s" data-labels '
                    f'style="{self._style(label)}">{_escape(label)}</span></td>'
                    f'<td class="n">{strength}</td><td class="n">{p.count}</td>'
                    f'<td class="n">{p.share:.0%}</td>'
                    f'<td class="n">{p.max_score:.2f}</td><td>{ev}</td></tr>\n'
                )
        w("</table>\n</article>\n")

    def _document(self, result: TaggedArticle) -> None:
        """A document-level model's labels, then the article text as it is."""
        assert result.document is not None
        w = self.out.write
        w("<table><tr><th>dimension</th><th>label</th><th>score</th><th>probability</th></tr>\n")
        for dim, found in result.document.labels.items():
            for item in found:
                prob = "" if item.probability is None else f"{item.probability:.2f}"
                w(
                    f'<tr><td>{_escape(dim)}</td><td><span class="s" data-labels '
                    f'style="{self._style(item.label)}">{_escape(item.label)}</span></td>'
                    f'<td class="n">{item.score:.2f}</td><td class="n">{prob}</td></tr>\n'
                )
        w("</table>\n")
        for para in result.text.split("\n\n"):
            if para.strip():
                w(f"<p>{_escape(para.strip())}</p>\n")
        w("</article>\n")

    def close(self) -> None:
        self.out.write("</body>\n</html>\n")


def _paragraphs(article: TaggedArticle) -> list[list[TaggedSentence]]:
    """The body's sentences grouped by the blank lines of the article text (the
    headline, sentence 0, is the page's heading)."""
    paras: list[list[TaggedSentence]] = [[]]
    prev_end = 0
    for s in article.sentences:
        if s.index == 0:
            continue
        gap = article.text[prev_end : s.start] if s.start is not None else ""
        if paras[-1] and gap.count("\n") >= 2:
            paras.append([])
        paras[-1].append(s)
        prev_end = s.end if s.end is not None else prev_end
    return [p for p in paras if p]


def _quoted(ngram: str) -> str:
    """An n-gram in quotes, its edge spaces (word boundaries of char n-grams) shown as _."""
    return '"' + ngram.replace(" ", "_") + '"' if ngram != ngram.strip() else f'"{ngram}"'


def _escape(text: str) -> str:
    return html.escape(text, quote=True)

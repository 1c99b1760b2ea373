"""A findings report as one self-contained HTML page: tables, figures inlined as PNG,
and the strongest evidence sentences of every cell (click a cell to see them)."""

from __future__ import annotations

import base64
import html
import io
import math
from typing import TYPE_CHECKING

from framing.findings.report import Cell, FindingsReport

if TYPE_CHECKING:
    from matplotlib.figure import Figure

__all__ = ["figure_png", "render_html"]

_STYLE = """
body{font-family:system-ui,sans-serif;max-width:1100px;margin:2em auto;padding:0 1em;color:#222}
h1{font-size:1.4em}h2{font-size:1.15em;margin-top:2em}
table{border-collapse:collapse;font-size:.85em;margin:.5em 0}
th,td{border:1px solid #ccc;padding:.25em .5em;text-align:right;vertical-align:top}
th{background:#f3f3f3}td.l{text-align:left}
.small{color:#999}.note{color:#555;font-size:.9em}
details summary{cursor:pointer}details blockquote{margin:.3em 0;padding-left:.6em;
border-left:3px solid #9ab;text-align:left;font-size:.9em;max-width:40em}
img{max-width:100%;border:1px solid #eee;margin:.5em 0}
"""


def figure_png(fig: Figure, dpi: int = 110) -> bytes:
    """A figure as PNG bytes (Agg canvas, nothing shown)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    FigureCanvasAgg(fig)
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=dpi)
    return buffer.getvalue()


def _pct(value: float | None) -> str:
    return "n/a" if value is None or not math.isfinite(value) else f"{100 * value:.1f}%"


def _cell_html(cell: Cell) -> str:
    e = cell.estimate
    naive = _pct(cell.naive)
    if e is None:
        main = f'<span class="small" title="too few articles">small</span><br>naive {naive}'
    else:
        main = (
            f"<b>{_pct(e.value)}</b><br>[{_pct(e.low)}, {_pct(e.high)}]<br>"
            f'<span class="small" title="{html.escape(e.reason)}">{e.method}; naive {naive}</span>'
        )
    w = cell.without_flagged
    if w is not None:
        main += (
            f'<br><span class="small" title="without the {cell.n_flagged} articles flagged out '
            f'of distribution">w/o ood {_pct(w.value)} [{_pct(w.low)}, {_pct(w.high)}]</span>'
        )
    if not cell.evidence:
        return main
    quotes = "".join(
        f"<blockquote>{html.escape(ev.text)}<br><span class=small>{html.escape(ev.doc_id)}, "
        f"sentence {ev.index}, score {ev.score:.2f}</span></blockquote>"
        for ev in cell.evidence
    )
    return f"{main}<details><summary>evidence</summary>{quotes}</details>"


def render_html(report: FindingsReport) -> str:
    """The whole report as one HTML document (no external files or scripts)."""
    from framing.findings.plots import figures

    parts = [
        "<!DOCTYPE html><html><head><meta charset='utf-8'>",
        f"<title>Findings: {html.escape(' x '.join(report.by))}</title>",
        f"<style>{_STYLE}</style></head><body>",
        f"<h1>Findings by {html.escape(' x '.join(report.by))}</h1>",
        f"<p>{html.escape(report.describe())}</p>",
        "<p class=note>Each cell: the estimate, its interval, the estimator (hover for why) "
        "and the naive count (the share of units the model labelled). <i>small</i>: fewer "
        f"than {report.min_articles} articles, no estimate. The interval covers article "
        "sampling and the model's error rates; it does not cover whether the codebook "
        "measures what you mean, nor the annotators' bias (see docs/findings.md). "
        "<i>out of distribution</i>: the group's articles unlike the model's training "
        "articles; <i>w/o ood</i>: the estimate without them.</p>",
    ]
    if not report.calibrated:
        parts.append(
            "<p><b>The model has no calibration.json: these are naive counts, "
            "uncorrected for its errors.</b> Retrain it with 'framing train'.</p>"
        )
    pictures = figures(report)
    for dim, labels in report.labels.items():
        parts.append(f"<h2>{html.escape(dim)}</h2>")
        for stem in (f"timeseries_{dim}", f"heatmap_{dim}", f"forest_{dim}"):
            fig = pictures.get(stem)
            if fig is not None:
                data = base64.b64encode(figure_png(fig)).decode("ascii")
                parts.append(f"<img alt='{stem}' src='data:image/png;base64,{data}'>")
        head = "".join(f"<th>{html.escape(f)}</th>" for f in report.by)
        parts.append(f"<table><tr>{head}<th>articles</th><th>out of distribution</th>")
        parts.append("".join(f"<th>{html.escape(label)}</th>" for label in labels) + "</tr>")
        for group in report.groups:
            row = "".join(f"<td class=l>{html.escape(v)}</td>" for v in group)
            cells = [report.cell(dim, label, group) for label in labels]
            row += f"<td>{cells[0].n_articles}</td><td>{cells[0].n_flagged}</td>"
            row += "".join(f"<td>{_cell_html(c)}</td>" for c in cells)
            parts.append(f"<tr>{row}</tr>")
        parts.append("</table>")
        if report.comparison is not None:
            comp = report.comparison
            a, b = report.group_name(comp.a), report.group_name(comp.b)
            parts.append(
                f"<p>Difference <b>{html.escape(a)}</b> minus <b>{html.escape(b)}</b> "
                "(percentage points):</p><table><tr><th>label</th><th>difference</th>"
                "<th>interval</th></tr>"
            )
            for label in labels:
                d, lo, hi = comp.differences[dim][label]
                parts.append(
                    f"<tr><td class=l>{html.escape(label)}</td><td>{_pct(d)}</td>"
                    f"<td>[{_pct(lo)}, {_pct(hi)}]</td></tr>"
                )
            parts.append("</table>")
    parts.append("</body></html>\n")
    return "\n".join(parts)

"""The model card: a ``README.md`` written into every model folder."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from framing.format.codebook import Codebook
from framing.runtime.calibration import Calibration
from framing.runtime.meta import ModelMeta

__all__ = ["model_card", "metrics_table", "calibration_lines"]

_PARTS = {
    "cv": "cross-validation (train split, out-of-fold)",
    "dev": "dev split",
    "test": "test split",
    "dev-shifted": "dev-shifted split (style-shifted held-out articles)",
}


def metrics_table(metrics: Mapping[str, Any]) -> str:
    """Markdown table of micro-, macro- and samples-F1 per dimension and evaluation part."""
    rows = [
        "| part | dimension | micro-F1 | macro-F1 | samples-F1 | n |",
        "|---|---|---:|---:|---:|---:|",
    ]
    for part, title in _PARTS.items():
        for dim, s in (metrics.get(part) or {}).items():
            rows.append(
                f"| {title} | {dim} | {s['micro_f1']:.3f} | {s['macro_f1']:.3f} | "
                f"{s['samples_f1']:.3f} | {s['n']} |"
            )
    return "\n".join(rows)


def _label_table(meta: ModelMeta, metrics: Mapping[str, Any], dim: str) -> list[str]:
    part = "test" if dim in (metrics.get("test") or {}) else "cv"
    scores = (metrics.get(part) or {}).get(dim)
    thresholds = meta.thresholds[dim]
    multi = meta.multi_label[dim]
    untrainable = set(meta.untrainable.get(dim, []))
    header = f"Per label ({_PARTS[part]})" if scores else "Labels"
    rows = [
        f"{header}:",
        "",
        "| label | precision | recall | F1 | support | threshold | note |",
        "|---|---:|---:|---:|---:|---:|---|",
    ]
    for label in meta.labels[dim]:
        s = (scores or {}).get("labels", {}).get(label)
        cells = (
            [f"{s['precision']:.3f}", f"{s['recall']:.3f}", f"{s['f1']:.3f}", str(s["support"])]
            if s
            else ["-", "-", "-", "-"]
        )
        threshold = f"{thresholds[label]:.2f}" if multi else "best label"
        note = "too few training examples" if label in untrainable else ""
        rows.append(f"| `{label}` | " + " | ".join([*cells, threshold, note]) + " |")
    return rows


def _mean(values: list[float]) -> float:
    finite = [v for v in values if v == v]
    return sum(finite) / len(finite) if finite else float("nan")


def _examples(info: Mapping[str, Any], level: str) -> str:
    if level == "document":
        return f"{info.get('examples', '?')} documents"
    return f"{info.get('examples', '?')} {level}s from {info.get('documents', '?')} documents"


def calibration_lines(calibration: Calibration | None, level: str) -> list[str]:
    """The model card's calibration section: what the maps were fitted and measured on,
    and the mean over labels of the Brier score and ECE, raw and calibrated, per unit."""
    if calibration is None:
        return [
            "No `calibration.json`: scores are not calibrated probabilities (cross-validation "
            "did not run), and `framing findings` can only count naively."
        ]
    info = calibration.info
    lines = [
        "`calibration.json` maps every label's raw score to a probability (sigmoid or "
        "isotonic, chosen by held-out Brier score). Fitted and measured on the out-of-fold "
        f"scores of {info.get('folds', '?')}-fold cross-validation grouped by document on "
        f"the training split ({_examples(info, level)}; seed {info.get('seed', '?')}), each "
        "calibrated probability from a map fitted without its document. Mean over labels "
        "(lower is better):",
        "",
        "| unit | labels | Brier raw | Brier calibrated | ECE raw | ECE calibrated |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for unit, dims in calibration.units.items():
        entries = [e for labels in dims.values() for e in labels.values()]
        chosen = [e.brier.get(e.map.method, e.brier.get("raw", float("nan"))) for e in entries]
        ece_raw = [e.ece.get("raw", float("nan")) for e in entries]
        ece_cal = [e.ece.get("calibrated", float("nan")) for e in entries]
        cells = [_mean([e.brier.get("raw", float("nan")) for e in entries]), _mean(chosen)]
        cells += [_mean(ece_raw), _mean(ece_cal)]
        shown = ["-" if c != c else f"{c:.4f}" for c in cells]
        what = "sentence" if unit == "sentence" else "article (best sentence score)"
        if level == "document":
            what = "article"
        lines.append(f"| {what} | {len(entries)} | " + " | ".join(shown) + " |")
    return lines


def _context_lines(meta: ModelMeta, config: Mapping[str, Any]) -> list[str]:
    if meta.context is None:
        return []
    from framing.runtime.context import KINDS

    context = config.get("context", {})
    what = "its article and its headline"
    if "length" in KINDS.get(meta.context, ()):
        what = "its article and its headline, and on the sentence's length,"
    return [
        f"- Article context (`{meta.context}`) for "
        + ", ".join(f"`{d}`" for d in context.get("dimensions", []))
        + ": per label, a logistic regression (C="
        + f"{context.get('C')}) on the out-of-fold log-odds of the sentence, its neighbours, "
        f"{what} revises the score; thresholds and calibration "
        "are tuned on its cross-fitted scores. A sentence's labels depend on its article."
    ]


def model_card(
    meta: ModelMeta,
    metrics: Mapping[str, Any],
    codebook: Codebook | None = None,
    calibration: Calibration | None = None,
) -> str:
    """The model card (Markdown): intended use, data, metrics, limitations, how to reproduce."""
    data = meta.data
    config = meta.config
    pipeline = meta.pipeline
    level = meta.level
    name = meta.name
    cb = (
        f"`{codebook.name}` version {codebook.version} (hash `{codebook.hash[:12]}…`)"
        if codebook is not None
        else "(see meta.json)"
    )
    lines = [
        f"# Model card: `{name}`",
        "",
        f"A {level}-level classifier of news framing, trained by `framing train` on "
        f"{meta.trained_at or '?'} in {meta.training_seconds or 0:.1f} s.",
        "",
        "## Intended use",
        "",
        f"Suggesting frame and rhetoric labels for English news {level}s, to speed up "
        "annotation (`framing preannotate`) and to profile large collections of articles "
        "(`framing tag`) for research. Labels follow the codebook "
        f"{cb}; read its definitions before interpreting any count.",
        "",
        "Not intended for: judging whether a claim is true, rating outlets or people, "
        "moderation or any automated decision about individuals. Scores are evidence for "
        "a human reader, not verdicts.",
        "",
        "## Data",
        "",
        f"- Files: {', '.join(f'`{f}`' for f in data.get('files', []))} "
        f"(SHA-256 `{str(data.get('hash', ''))[:12]}…`)",
        f"- Trained on {data.get('examples')} {level}(s) from {data.get('documents')} "
        f"documents (split(s) {', '.join(config.get('data', {}).get('train', []))}); "
        f"records per split: " + ", ".join(f"{k} {v}" for k, v in data.get("splits", {}).items()),
        "- Only `done` records are used; `todo` and `skip` never count as negatives.",
        "",
        "## Method",
        "",
        f"- Pipeline `{pipeline.get('name')}`, one model per dimension; parameters: "
        + "; ".join(
            f"{dim}: " + ", ".join(f"{k}={v}" for k, v in sorted(params.items()))
            if params
            else f"{dim}: defaults"
            for dim, params in pipeline.get("params", {}).items()
        ),
        f"- Per-label thresholds tuned to maximise F1 on out-of-fold scores of "
        f"{config.get('cv', {}).get('folds', '?')}-fold cross-validation grouped by "
        "document (no article on both sides of a fold) and stratified over labels; "
        f"seed {config.get('seed')}.",
        *_context_lines(meta, config),
        "",
        "## Metrics",
        "",
        metrics_table(metrics),
        "",
        "Cross-validated scores use thresholds tuned on the same out-of-fold scores "
        "(and, with a parameter search, the best grid point), so they are slightly "
        "optimistic; the dev and test splits are untouched by training.",
    ]
    for dim in meta.labels:
        lines += ["", f"### {dim}", "", *_label_table(meta, metrics, dim)]
    lines += ["", "## Calibration", "", *calibration_lines(calibration, level)]
    untrainable = {d: v for d, v in meta.untrainable.items() if v}
    lines += ["", "## Limitations", ""]
    if untrainable:
        for dim, labels in untrainable.items():
            lines.append(
                f"- `{dim}`: too few training examples to learn or tune "
                f"{', '.join(f'`{x}`' for x in labels)}; these use a fixed threshold and "
                "their predictions are unreliable. Annotate more examples."
            )
    lines += [
        "- Bag-of-n-grams model: it sees words and character n-grams, not meaning. It "
        "misses frames expressed without their usual vocabulary and fires on vocabulary "
        "used ironically, negated or quoted to be rejected.",
        "- Trained on a small corpus of English news from a limited set of outlets and "
        "topics; expect lower scores on other outlets, topics, periods or genres "
        "(opinion, social media), and check a sample before trusting counts.",
        (
            "- Raw scores are not probabilities; compare them within a label, or use the "
            "calibrated probabilities (`framing tag --all-scores`, `model.calibrated_proba`), "
            "which hold on text like the training data (see Calibration)."
            if calibration is not None
            else "- Scores are not calibrated probabilities; compare them within a label, "
            "not across labels."
        ),
        "",
        "## Reproduce",
        "",
        "```",
        f"framing train config.toml --output models/{name}",
        "```",
        "",
        f"`config.toml` in this folder is the resolved config; `meta.json` holds the "
        f"library versions and git commit ({meta.git_commit or 'unknown'}).",
    ]
    return "\n".join(lines) + "\n"

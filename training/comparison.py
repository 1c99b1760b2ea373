"""Compare two models on the same data: per-label F1 deltas and a paired bootstrap
confidence interval (resampling documents) on the difference in micro-F1.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from framing.training.eval_report import DimensionEval, EvalReport

from framing.errors import UsageError

if TYPE_CHECKING:
    from framing.runtime.model import Model

__all__ = ["Comparison", "compare", "paired_bootstrap"]


@dataclass
class Comparison:
    """Two models on the same data: per-label deltas and a bootstrap interval on micro-F1."""

    a: EvalReport
    b: EvalReport
    bootstrap: dict[str, dict[str, Any]]
    n_boot: int
    unit: str

    def deltas(self, dim: str) -> dict[str, dict[str, float]]:
        eval_a, eval_b = self.a.dimensions[dim], self.b.dimensions[dim]
        out = {}
        for label in eval_a.labels:
            if label in eval_b.scores.labels:
                f1_a, f1_b = eval_a.scores.labels[label].f1, eval_b.scores.labels[label].f1
                out[label] = {
                    "f1_a": round(f1_a, 6),
                    "f1_b": round(f1_b, 6),
                    "delta": round(f1_b - f1_a, 6),
                    "support": eval_a.scores.labels[label].support,
                }
        return out

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "a": self.a.model,
            "b": self.b.model,
            "level": self.a.level,
            "examples": self.a.n,
            "bootstrap": {"n": self.n_boot, "resampled": self.unit, "confidence": 0.95},
            "dimensions": list(self.bootstrap),
        }
        for dim, boot in self.bootstrap.items():
            eval_a, eval_b = self.a.dimensions[dim].scores, self.b.dimensions[dim].scores
            data[dim] = {
                "a": {
                    "micro_f1": eval_a.micro_f1,
                    "macro_f1": eval_a.macro_f1,
                    "samples_f1": eval_a.samples_f1,
                },
                "b": {
                    "micro_f1": eval_b.micro_f1,
                    "macro_f1": eval_b.macro_f1,
                    "samples_f1": eval_b.samples_f1,
                },
                "micro_f1_delta": boot,
                "labels": self.deltas(dim),
            }
        return data

    def to_table(self) -> str:
        out = [
            f"A: {self.a.model}   B: {self.b.model}   level: {self.a.level}   "
            f"examples: {self.a.n}   bootstrap: {self.n_boot} resamples of {self.unit}s"
        ]
        for dim, boot in self.bootstrap.items():
            eval_a, eval_b = self.a.dimensions[dim].scores, self.b.dimensions[dim].scores
            out += [
                "",
                f"[{dim}] micro-F1 A {eval_a.micro_f1:.3f}  B {eval_b.micro_f1:.3f}  "
                f"delta {boot['delta']:+.3f}  "
                f"95% CI [{boot['ci_low']:+.3f}, {boot['ci_high']:+.3f}]",
                f"        macro-F1 A {eval_a.macro_f1:.3f}  B {eval_b.macro_f1:.3f}  "
                f"delta {eval_b.macro_f1 - eval_a.macro_f1:+.3f}",
            ]
            deltas = self.deltas(dim)
            width = max([len(label) for label in deltas] + [5])
            out.append(f"  {'label':<{width}}   F1 A   F1 B   delta  support")
            for label, d in deltas.items():
                out.append(
                    f"  {label:<{width}}  {d['f1_a']:.3f}  {d['f1_b']:.3f}  "
                    f"{d['delta']:+.3f}  {d['support']:>7}"
                )
        return "\n".join(out)

    def to_markdown(self) -> str:
        out = [f"**A** `{self.a.model}` vs **B** `{self.b.model}` ({self.a.n} examples)."]
        for dim, boot in self.bootstrap.items():
            eval_a, eval_b = self.a.dimensions[dim].scores, self.b.dimensions[dim].scores
            out += [
                "",
                f"**{dim}**: micro-F1 A {eval_a.micro_f1:.3f}, B {eval_b.micro_f1:.3f}, delta "
                f"{boot['delta']:+.3f} (95% CI {boot['ci_low']:+.3f} to {boot['ci_high']:+.3f}, "
                f"{self.n_boot} resamples of {self.unit}s)",
                "",
                "| label | F1 A | F1 B | delta | support |",
                "|---|---:|---:|---:|---:|",
            ]
            for label, d in self.deltas(dim).items():
                out.append(
                    f"| `{label}` | {d['f1_a']:.3f} | {d['f1_b']:.3f} | {d['delta']:+.3f} | "
                    f"{d['support']} |"
                )
        return "\n".join(out) + "\n"


def _counts(ev: DimensionEval, labels: Sequence[str]) -> np.ndarray:
    cols = [ev.labels.index(label) for label in labels]
    T, P = ev.y_true[:, cols], ev.y_pred[:, cols]
    return np.stack(
        [(T & P).sum(axis=1), (~T & P).sum(axis=1), (T & ~P).sum(axis=1)], axis=1
    ).astype(float)


def paired_bootstrap(
    counts_a: np.ndarray,
    counts_b: np.ndarray,
    clusters: Sequence[str],
    *,
    n_boot: int = 1000,
    seed: int = 13,
) -> dict[str, float]:
    """95% interval of micro-F1(B) - micro-F1(A), resampling clusters with replacement.

    ``counts_*`` are ``(n, 3)`` arrays of true positives, false positives and false
    negatives per example; ``clusters`` (documents) are resampled whole, since the
    sentences of one article are not independent.
    """
    keys = {c: i for i, c in enumerate(dict.fromkeys(clusters))}
    index = np.array([keys[c] for c in clusters])
    n_clusters = len(keys)
    sums_a = np.zeros((n_clusters, 3))
    sums_b = np.zeros((n_clusters, 3))
    np.add.at(sums_a, index, counts_a)
    np.add.at(sums_b, index, counts_b)

    def micro(c: np.ndarray) -> np.ndarray:
        denominator = 2 * c[..., 0] + c[..., 1] + c[..., 2]
        return np.divide(
            2 * c[..., 0], denominator, out=np.zeros_like(denominator), where=denominator > 0
        )

    rng = np.random.default_rng(seed)
    draws = rng.integers(0, n_clusters, size=(n_boot, n_clusters))
    weights = np.zeros((n_boot, n_clusters))
    np.add.at(weights, (np.repeat(np.arange(n_boot), n_clusters), draws.ravel()), 1.0)
    delta = micro(weights @ sums_b) - micro(weights @ sums_a)
    observed = float(micro(sums_b.sum(axis=0)) - micro(sums_a.sum(axis=0)))
    return {
        "delta": round(observed, 6),
        "ci_low": round(float(np.percentile(delta, 2.5)), 6),
        "ci_high": round(float(np.percentile(delta, 97.5)), 6),
        "p_b_not_better": round(float((delta <= 0).mean()), 4),
    }


def compare(
    model_a: Model | str | Path,
    model_b: Model | str | Path,
    data: Sequence[str | Path],
    *,
    level: str | None = None,
    trusted: Iterable[str] = (),
    n_boot: int = 1000,
    seed: int = 13,
) -> Comparison:
    """Evaluate two models on the same data and compare them.

    Per dimension both models share, lists each shared label's F1 for A and B and
    the delta, and a paired bootstrap 95% interval on micro-F1(B) - micro-F1(A),
    resampling documents (a document's sentences are not independent).

    Raises
    ------
    UsageError
        When the models share no dimension or score different levels.
    """
    from framing.training.evaluate import evaluate, resolve_model

    a = resolve_model(model_a, trusted)
    b = resolve_model(model_b, trusted)
    if level is None:
        level = "document" if "document" in (a.level, b.level) else "sentence"
    report_a = evaluate(a, data, level=level, worst=0)
    report_b = evaluate(b, data, level=level, worst=0)
    shared = [d for d in report_a.dimensions if d in report_b.dimensions]
    if not shared:
        raise UsageError(
            f"models '{a.name}' ({', '.join(report_a.dimensions)}) and '{b.name}' "
            f"({', '.join(report_b.dimensions)}) share no dimension to compare"
        )
    bootstrap = {}
    for dim in shared:
        eval_a, eval_b = report_a.dimensions[dim], report_b.dimensions[dim]
        if eval_a.ids != eval_b.ids:
            raise UsageError(f"models '{a.name}' and '{b.name}' scored different examples")
        labels = [label for label in eval_a.labels if label in eval_b.labels]
        clusters = eval_a.doc_ids or eval_a.ids
        bootstrap[dim] = paired_bootstrap(
            _counts(eval_a, labels), _counts(eval_b, labels), clusters, n_boot=n_boot, seed=seed
        )
    return Comparison(a=report_a, b=report_b, bootstrap=bootstrap, n_boot=n_boot, unit="document")

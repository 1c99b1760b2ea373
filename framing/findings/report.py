"""``findings``: prevalence of every label per group of articles, with honest intervals.

:func:`findings` is what ``framing findings`` calls.  It reads tagged JSONL, groups the
articles by metadata fields, and estimates per group and label the share of units
(sentences or articles) that carry the label, with the estimator of
:mod:`framing.findings.estimators` chosen per label, a bootstrap interval over articles
that also draws the model's error rates, the naive count beside it, and the strongest
evidence sentences.
"""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np

from framing.errors import UsageError
from framing.findings.estimators import (
    METHODS,
    Estimate,
    choose_method,
    difference,
    draw_rates,
    estimate_group,
)
from framing.findings.groups import PERIODS, group_key
from framing.findings.tagged import EVIDENCE, Article, Evidence, read_tagged
from framing.format.meta import DATE_FIELDS

__all__ = ["Cell", "Comparison", "FindingsReport", "findings", "UNITS"]

UNITS = ("sentence", "article")
#: Groups with fewer articles get no estimate (flagged ``too_small``).
MIN_ARTICLES = 30


def _json_rounded(value: float) -> float | None:
    """A number for JSON: rounded to 6 places, null where it is not finite."""
    return None if value is None or not math.isfinite(value) else round(float(value), 6)


@dataclass
class Cell:
    """One group's prevalence of one label."""

    dimension: str
    label: str
    group: tuple[str, ...]
    n_articles: int
    n_units: int
    #: Units the model labelled, and their share (the naive count).
    hits: int
    estimate: Estimate | None
    too_small: bool
    evidence: list[Evidence] = field(default_factory=list)
    #: Articles of the group flagged out of distribution by the tagging model.
    n_flagged: int = 0
    #: The same estimate without the flagged articles (None when none is flagged, or when
    #: too few articles are left to estimate).
    without_flagged: Estimate | None = None

    @property
    def naive(self) -> float:
        return self.hits / self.n_units if self.n_units else math.nan

    def to_dict(self, fields: Sequence[str]) -> dict[str, Any]:
        e = self.estimate
        return {
            "dimension": self.dimension,
            "label": self.label,
            **dict(zip(fields, self.group, strict=True)),
            "n_articles": self.n_articles,
            "n_units": self.n_units,
            "labelled_units": self.hits,
            "naive": _json_rounded(self.naive),
            "naive_low": _json_rounded(e.naive_low) if e else None,
            "naive_high": _json_rounded(e.naive_high) if e else None,
            "estimate": _json_rounded(e.value) if e else None,
            "low": _json_rounded(e.low) if e else None,
            "high": _json_rounded(e.high) if e else None,
            "method": e.method if e else None,
            "reason": (
                e.reason if e else f"too few articles to estimate ({self.n_articles} < the minimum)"
            ),
            "too_small": self.too_small,
            "flagged_articles": self.n_flagged,
            "estimate_without_flagged": _json_rounded(w.value)
            if (w := self.without_flagged)
            else None,
            "low_without_flagged": _json_rounded(w.low) if w else None,
            "high_without_flagged": _json_rounded(w.high) if w else None,
            "evidence": [ev.to_dict() for ev in self.evidence],
        }


@dataclass
class Comparison:
    """Group ``a`` minus group ``b``, per dimension and label."""

    a: tuple[str, ...]
    b: tuple[str, ...]
    #: ``{dimension: {label: (difference, low, high)}}``; NaN when a group is too small.
    differences: dict[str, dict[str, tuple[float, float, float]]]

    def to_dict(self) -> dict[str, Any]:
        return {
            "a": list(self.a),
            "b": list(self.b),
            "differences": {
                dim: {
                    label: {
                        "difference": _json_rounded(d),
                        "low": _json_rounded(lo),
                        "high": _json_rounded(hi),
                    }
                    for label, (d, lo, hi) in labels.items()
                }
                for dim, labels in self.differences.items()
            },
        }


@dataclass
class FindingsReport:
    """What :func:`findings` returns; ``to_dict`` is the JSON of ``framing findings``."""

    by: list[str]
    period: str | None
    unit: str
    method: str
    level: float
    n_boot: int
    seed: int
    min_articles: int
    model: str
    model_path: str
    calibrated: bool
    files: list[str]
    n_articles: int
    n_sentences: int
    with_scores: int
    empty: int
    labels: dict[str, tuple[str, ...]]
    groups: list[tuple[str, ...]]
    cells: list[Cell]
    comparison: Comparison | None = None
    #: Articles flagged out of distribution, and articles the model could not check
    #: (tagged by a model without ood.json).
    n_flagged: int = 0
    n_unchecked: int = 0
    #: The tagging model's level: ``document`` when it labelled whole articles.
    model_level: str = "sentence"

    def cell(self, dimension: str, label: str, group: tuple[str, ...]) -> Cell:
        for c in self.cells:
            if (c.dimension, c.label, c.group) == (dimension, label, group):
                return c
        raise KeyError((dimension, label, group))

    @property
    def time_field(self) -> str | None:
        """The ``--by`` field that is a date, if any (its groups form a time series)."""
        return next((f for f in self.by if f in DATE_FIELDS), None)

    def group_name(self, group: tuple[str, ...]) -> str:
        return " / ".join(group)

    def describe(self) -> str:
        """One sentence: what was measured on what."""
        unit = "sentences" if self.unit == "sentence" else "articles"
        return (
            f"Share of {unit} carrying each label, per {' x '.join(self.by)}"
            f"{f' (dates by {self.period})' if self.period else ''}: {self.n_articles} articles "
            + (
                "labelled as whole articles by document-level "
                if self.model_level == "document"
                else f"({self.n_sentences} sentences) tagged by "
            )
            + f"model '{self.model}' from "
            f"{', '.join(self.files)}; {int(self.level * 100)} % intervals from {self.n_boot} "
            "bootstrap replicates over articles with the model's error rates drawn from "
            f"their out-of-fold counts. {self.ood_note()}"
        )

    def ood_note(self) -> str:
        """How many articles were flagged out of distribution, and what is done with them."""
        if self.n_unchecked == self.n_articles:
            return (
                "The articles were not checked for text unlike the model's training data "
                "(the model has no ood.json)."
            )
        checked = self.n_articles - self.n_unchecked
        note = (
            f"{self.n_flagged} of {checked} checked articles are flagged out of distribution "
            "(unlike the model's training articles, so its error rates may not hold for them)"
        )
        if self.n_flagged:
            note += "; each estimate is also given without them"
        if self.n_unchecked:
            note += f"; {self.n_unchecked} articles were not checked"
        return note + "."

    def to_dict(self) -> dict[str, Any]:
        return {
            "description": self.describe(),
            "by": self.by,
            "period": self.period,
            "unit": self.unit,
            "method": self.method,
            "level": self.level,
            "bootstrap": self.n_boot,
            "seed": self.seed,
            "min_articles": self.min_articles,
            "model": {
                "name": self.model,
                "path": self.model_path,
                "calibrated": self.calibrated,
                "level": self.model_level,
            },
            "data": {
                "files": self.files,
                "articles": self.n_articles,
                "sentences": self.n_sentences,
                "articles_with_scores": self.with_scores,
                "empty_articles": self.empty,
                "flagged_out_of_distribution": self.n_flagged,
                "not_checked_out_of_distribution": self.n_unchecked,
            },
            "cells": [c.to_dict(self.by) for c in self.cells],
            "comparison": self.comparison.to_dict() if self.comparison else None,
        }

    def to_csv(self) -> str:
        """One row per group and label (evidence left out)."""
        rows = [c.to_dict(self.by) for c in self.cells]
        out = io.StringIO()
        if not rows:
            return ""
        columns = [k for k in rows[0] if k != "evidence"]
        writer = csv.DictWriter(out, fieldnames=columns, extrasaction="ignore", lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
        return out.getvalue()

    def to_table(self) -> str:
        """A plain-text table for the terminal."""
        lines = [self.describe(), ""]
        width = max([len(self.group_name(g)) for g in self.groups] + [5])
        for dim in self.labels:
            lines.append(f"[{dim}]")
            head = f"  {'group':<{width}}  {'label':<24} {'arts':>5} {'ood':>4}  {'naive':>6}  "
            lines.append(head + f"{'estimate':>8}  interval         method  w/o ood")
            for c in self.cells:
                if c.dimension != dim:
                    continue
                e = c.estimate
                if e is None:
                    rest = "   -      too few articles"
                else:
                    rest = (
                        f"{_pct(e.value):>8}  [{_pct(e.low)}, {_pct(e.high)}]".ljust(28)
                        + f" {e.method}"
                    )
                w = c.without_flagged
                if w is not None:
                    rest = rest.ljust(36) + f"  {_pct(w.value)} [{_pct(w.low)}, {_pct(w.high)}]"
                lines.append(
                    f"  {self.group_name(c.group):<{width}}  {c.label:<24} {c.n_articles:>5} "
                    f"{c.n_flagged:>4}  {_pct(c.naive):>6}  {rest}"
                )
            lines.append("")
        if self.comparison is not None:
            a, b = self.group_name(self.comparison.a), self.group_name(self.comparison.b)
            lines.append(f"difference {a} minus {b}:")
            for dim, labels_ in self.comparison.differences.items():
                for label, (d, lo, hi) in labels_.items():
                    lines.append(f"  {dim}/{label:<24} {_pct(d):>7}  [{_pct(lo)}, {_pct(hi)}]")
        return "\n".join(lines).rstrip() + "\n"


def _pct(value: float) -> str:
    return "n/a" if value is None or not math.isfinite(value) else f"{100 * value:.1f}%"


def findings(
    paths: Sequence[str | Path],
    by: Sequence[str],
    *,
    period: str | None = None,
    unit: str = "sentence",
    method: str = "auto",
    model: Any = None,
    dimensions: Sequence[str] | None = None,
    level: float = 0.95,
    n_boot: int = 1000,
    min_articles: int = MIN_ARTICLES,
    compare: tuple[Sequence[str], Sequence[str]] | None = None,
    seed: int = 0,
    meta: Mapping[str, Any] | None = None,
    text_column: str | None = None,
    id_column: str | None = None,
    tagged_out: str | Path | None = None,
) -> FindingsReport:
    """Prevalence of every label per group of tagged articles, with intervals.

    Parameters
    ----------
    paths
        JSONL files (or folders of them) written by ``framing tag``; tag with
        ``--all-scores`` so that the probabilistic estimators can be used.  With
        ``model``, also raw articles (``.txt``, JSONL with ``text`` and ``meta``, CSV/TSV
        tables, folders): they are tagged first with every score
        (:func:`framing.findings.raw.tag_raw`).
    by
        Metadata fields to group by (``outlet``, ``date``, ``language``, ...).
    period
        Bucket date fields by ``month``, ``quarter`` or ``year`` (default: the day).
    unit
        ``sentence``: the share of sentences carrying a label; ``article``: the share of
        articles with at least one such sentence.
    method
        ``auto`` (per label, see :func:`framing.findings.estimators.choose_method`, then
        per group :func:`framing.findings.estimators.settle_auto`), ``cc``, ``acc``,
        ``pcc`` or ``pacc``.
    model
        A loaded model, a model folder or name; default: the model named in the records.
        Needed to tag raw articles.
    dimensions
        Only these dimensions (default: all of the model's).
    level
        Confidence level of the intervals.
    n_boot
        Bootstrap replicates.
    min_articles
        Groups with fewer articles are flagged ``too_small`` and get no estimate.
    compare
        Two group values (one per ``by`` field) to compare label by label.
    seed
        Seeds the bootstrap (same seed, same intervals).
    meta
        Raw articles only: metadata for every article (a record's own keys win).
    text_column, id_column
        Raw CSV/TSV tables only: the columns of the text and the id.
    tagged_out
        Raw articles only: keep their tagged JSONL here (default: a temporary file).

    Returns
    -------
    FindingsReport

    Raises
    ------
    UsageError, InputNotFoundError, ModelError, AnnotationError
    """
    import tempfile
    from contextlib import ExitStack

    from framing.findings.raw import split_inputs, tag_raw
    from framing.runtime.model import Model, load_model

    tagged, raw = split_inputs(paths)
    estimate = partial(
        _findings_of_tagged,
        by=by,
        period=period,
        unit=unit,
        method=method,
        dimensions=dimensions,
        level=level,
        n_boot=n_boot,
        min_articles=min_articles,
        compare=compare,
        seed=seed,
    )
    if not raw:
        return estimate(paths, model=model)
    if model is None:
        raise UsageError(
            f"{raw[0]}: not the output of 'framing tag': give --model NAME (e.g. --model "
            "default) to tag the articles here, or tag them first with framing tag --all-scores"
        )
    if not list(by):
        raise UsageError("give at least one field to group by (--by outlet)")
    loaded = model if isinstance(model, Model) else load_model(model)
    with ExitStack() as stack:
        if tagged_out is not None:
            from framing.files import atomic_write

            target = Path(tagged_out)
            with atomic_write(target) as out:
                count = tag_raw(
                    raw, loaded, out, meta=meta, text_column=text_column, id_column=id_column
                )
        else:
            folder = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="framing-")))
            target = folder / "tagged.jsonl"
            with open(target, "w", encoding="utf-8") as out:
                count = tag_raw(
                    raw, loaded, out, meta=meta, text_column=text_column, id_column=id_column
                )
        if not count:
            raise UsageError(f"no article found in {', '.join(str(p) for p in raw)}")
        report = estimate([*tagged, target], model=loaded)
    where = f", tagged into {target}" if tagged_out is not None else ""
    shown = [f"{p} (tagged here by model '{loaded.name}' with every score{where})" for p in raw]
    report.files = [f for f in report.files if f != str(target)] + shown
    return report


def _findings_of_tagged(
    paths: Sequence[str | Path],
    by: Sequence[str],
    *,
    period: str | None = None,
    unit: str = "sentence",
    method: str = "auto",
    model: Any = None,
    dimensions: Sequence[str] | None = None,
    level: float = 0.95,
    n_boot: int = 1000,
    min_articles: int = MIN_ARTICLES,
    compare: tuple[Sequence[str], Sequence[str]] | None = None,
    seed: int = 0,
) -> FindingsReport:
    """:func:`findings` of files that all hold ``framing tag`` output."""
    from framing.runtime.model import Model, load_model

    by = list(by)
    if not by:
        raise UsageError("give at least one field to group by (--by outlet)")
    if unit not in UNITS:
        raise UsageError(f"--unit must be one of {', '.join(UNITS)}, got {unit!r}")
    if method not in ("auto", *METHODS):
        raise UsageError(f"--method must be auto or one of {', '.join(METHODS)}, got {method!r}")
    if period is not None and period not in PERIODS:
        raise UsageError(f"--period must be one of {', '.join(PERIODS)}, got {period!r}")
    if period is not None and not any(f in DATE_FIELDS for f in by):
        raise UsageError(f"--period buckets a date field; add --by {DATE_FIELDS[0]}")
    if not 0 < level < 1:
        raise UsageError(f"--level must be between 0 and 1, got {level}")
    if n_boot < 10:
        raise UsageError(f"--bootstrap needs at least 10 replicates, got {n_boot}")

    if model is None:
        first = _first_model_name(paths)
        loaded = load_model(first)
    else:
        loaded = model if isinstance(model, Model) else load_model(model)
    labels = {dim: ids for dim, ids in loaded.labels.items()}
    if dimensions:
        unknown = [d for d in dimensions if d not in labels]
        if unknown:
            raise UsageError(
                f"model '{loaded.name}' has no dimension {', '.join(unknown)} "
                f"(it has {', '.join(labels)})"
            )
        labels = {d: labels[d] for d in dimensions}
    if loaded.level == "document" and unit != "article":
        raise UsageError(
            f"model '{loaded.name}' labels whole articles (level = \"document\"): estimate "
            "the share of articles with --unit article"
        )
    calibration = loaded.calibration
    data = read_tagged(paths, labels, calibration, unit_of_model=loaded.calibration_unit)
    if data.model_name is not None and data.model_name != loaded.name:
        raise UsageError(
            f"the articles were tagged by model '{data.model_name}', not '{loaded.name}': "
            f"give --model {data.model_name} (its error rates are what the estimates need)"
        )
    if data.codebook_version is not None and data.codebook_version != loaded.codebook.version:
        raise UsageError(
            f"the articles were tagged with codebook {data.codebook_version}, model "
            f"'{loaded.name}' has {loaded.codebook.version}: retag them or give the model used"
        )
    if not data.articles:
        raise UsageError(f"no tagged article with sentences in {', '.join(data.files)}")
    has_probs = calibration is not None and data.with_scores == len(data.articles)

    grouped: dict[tuple[str, ...], list[Article]] = {}
    for article in data.articles:
        grouped.setdefault(group_key(article.meta, by, period, article.doc_id), []).append(article)
    groups = sorted(grouped)
    rng = np.random.default_rng(seed)
    # the estimates without flagged articles draw apart, so the main ones do not move
    rng_ood = np.random.default_rng([seed, 1])
    cells: list[Cell] = []
    for dim, ids in labels.items():
        rates = (
            [calibration.label(unit, dim, label).rates for label in ids]
            if calibration is not None
            else None
        )
        chosen = [
            choose_method(method, rates[j] if rates else None, has_probs) for j in range(len(ids))
        ]
        draws = draw_rates(rates, n_boot, rng) if rates is not None else None
        estimate = partial(
            _estimate_labels,
            dim=dim,
            ids=ids,
            unit=unit,
            calibration=calibration,
            probs_ok=has_probs,
            rates=rates,
            chosen=chosen,
            draws=draws,
            n_boot=n_boot,
            level=level,
            min_articles=min_articles,
            auto=method == "auto",
        )

        for group in groups:
            members = grouped[group]
            n, hits, _ = _arrays(members, dim, unit, calibration, ids)
            small = len(members) < min_articles
            estimates = estimate(members, rng)
            checked = [a for a in members if not a.flagged]
            n_flagged = len(members) - len(checked)
            without: list[Estimate | None] = (
                estimate(checked, rng_ood) if n_flagged and not small else [None] * len(ids)
            )
            for j, label in enumerate(ids):
                cells.append(
                    Cell(
                        dimension=dim,
                        label=label,
                        group=group,
                        n_articles=len(members),
                        n_units=int(n.sum()),
                        hits=int(hits[:, j].sum()),
                        estimate=estimates[j],
                        too_small=small,
                        evidence=_evidence(members, dim, j),
                        n_flagged=n_flagged,
                        without_flagged=without[j],
                    )
                )
    report = FindingsReport(
        by=by,
        period=period,
        unit=unit,
        method=method,
        level=level,
        n_boot=n_boot,
        seed=seed,
        min_articles=min_articles,
        model=loaded.name,
        model_path=str(loaded.path),
        calibrated=calibration is not None,
        files=data.files,
        n_articles=len(data.articles),
        n_sentences=sum(a.n_sentences for a in data.articles),
        with_scores=data.with_scores,
        empty=data.empty,
        labels=labels,
        groups=groups,
        cells=cells,
        n_flagged=sum(1 for a in data.articles if a.flagged),
        n_unchecked=sum(1 for a in data.articles if a.flagged is None),
        model_level=loaded.level,
    )
    if compare is not None:
        report.comparison = _compare(report, tuple(compare[0]), tuple(compare[1]), level)
    return report


def _estimate_labels(
    members: list[Article],
    rng: np.random.Generator,
    *,
    dim: str,
    ids: tuple[str, ...],
    unit: str,
    calibration: Any,
    probs_ok: bool,
    rates: Any,
    chosen: list[tuple[str, str]],
    draws: Any,
    n_boot: int,
    level: float,
    min_articles: int,
    auto: bool,
) -> list[Estimate | None]:
    """Every label's estimate for these articles (None each when they are too few)."""
    if len(members) < min_articles:
        return [None] * len(ids)
    n, hits, probs = _arrays(members, dim, unit, calibration, ids)
    return list(
        estimate_group(
            n,
            hits,
            probs if probs_ok else None,
            rates,
            chosen,
            draws,
            rng,
            n_boot=n_boot,
            level=level,
            auto=auto,
        )
    )


def _first_model_name(paths: Sequence[str | Path]) -> str:
    import json

    from framing.findings.tagged import _files

    for file in _files(paths):
        with open(file, encoding="utf-8", errors="replace") as stream:
            for line in stream:
                if line.strip():
                    try:
                        name = (json.loads(line).get("model") or {}).get("name")
                    except (ValueError, AttributeError):
                        name = None
                    if not name:
                        raise UsageError(f"{file}: the first record names no model; give --model")
                    return str(name)
    raise UsageError("the tagged files are empty")


def _arrays(
    members: list[Article], dim: str, unit: str, calibration: Any, ids: tuple[str, ...]
) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """Per-article units, labelled units and summed probabilities of one dimension."""
    if unit == "sentence":
        n = np.array([a.n_sentences for a in members], dtype=float)
        hits = np.stack([a.hits[dim] for a in members])
        if all(a.probs[dim] is not None for a in members):
            probs = np.stack([a.probs[dim] for a in members])  # type: ignore[misc]
        else:
            probs = None
        return n, hits, probs
    n = np.ones(len(members))
    hits = np.stack([(a.hits[dim] > 0).astype(float) for a in members])
    probs = None
    if calibration is not None and all(a.best[dim] is not None for a in members):
        best = np.stack([a.best[dim] for a in members])  # type: ignore[misc]
        probs = calibration.apply(dim, best, ids, unit="article")
    return n, hits, probs


def _evidence(members: list[Article], dim: str, j: int) -> list[Evidence]:
    found = [e for a in members for e in a.evidence.get(dim, {}).get(j, ())]
    found.sort(key=lambda e: (-e.score, e.doc_id, e.index))
    return found[:EVIDENCE]


def _compare(
    report: FindingsReport, a: tuple[str, ...], b: tuple[str, ...], level: float
) -> Comparison:
    for group in (a, b):
        if group not in report.groups:
            names = "; ".join(report.group_name(g) for g in report.groups)
            raise UsageError(f"--compare: no group {' / '.join(group)} (groups: {names})")
    out: dict[str, dict[str, tuple[float, float, float]]] = {}
    for dim, ids in report.labels.items():
        out[dim] = {}
        for label in ids:
            ea = report.cell(dim, label, a).estimate
            eb = report.cell(dim, label, b).estimate
            if ea is None or eb is None:
                out[dim][label] = (math.nan, math.nan, math.nan)
            else:
                out[dim][label] = difference(ea, eb, level)
    return Comparison(a, b, out)

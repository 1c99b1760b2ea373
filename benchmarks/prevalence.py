"""Prevalence estimates against gold: naive counting vs the corrected estimators.

The bundled model (``models/default``) never saw the dev and test splits of
``data/annotations``.  For each held-out set, the annotated sentences (with the corpus's
own segmentation) are scored by the model, grouped by article, and each label's share of
sentences is estimated by every estimator of :mod:`framing.findings.estimators`, with
the per-label ``auto`` choice of ``framing findings``; the gold share is the annotators'.

Reported per dimension: the mean absolute error over labels (percentage points) of each
estimator, and how many labels' gold share falls inside the ``auto`` 95 % interval.
"Groups" pools the dev and test articles and splits them by the ``register`` metadata
(wire, state wire, Western report, ...); groups of fewer than 3 articles are left out.

Run from the repository root::

    python benchmarks/prevalence.py            # print the Markdown section
    python benchmarks/prevalence.py --write    # and update BENCHMARKS.md
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))

from _markdown import machine, replace_section  # noqa: E402

from framing.findings.estimators import (  # noqa: E402
    choose_method,
    draw_rates,
    estimate_group,
)
from framing.format.annotations import read_corpus  # noqa: E402
from framing.runtime.model import load_model  # noqa: E402

METHODS = ("cc", "pcc", "acc", "pacc")


def _sets(corpus) -> dict[str, dict[str, list]]:
    """Held-out article sets: name -> {doc_id: [sentences]}."""
    by_doc: dict[str, list] = {}
    for s in corpus.done():
        split = corpus.split_of(s)
        if split in ("dev", "test"):
            by_doc.setdefault(s.doc_id, []).append((split, s))
    sets: dict[str, dict[str, list]] = {"test": {}, "dev": {}, "dev+test": {}}
    for doc_id, items in by_doc.items():
        split = items[0][0]
        sentences = [s for _, s in items]
        sets[split][doc_id] = sentences
        sets["dev+test"][doc_id] = sentences
    for doc_id, sentences in sets["dev+test"].items():
        doc = corpus.documents.get(doc_id)
        register = (doc.meta.get("register") if doc is not None else None) or "(none)"
        sets.setdefault(f"register: {register}", {})[doc_id] = sentences
    return sets


def measure(model, docs: dict[str, list], rng: np.random.Generator) -> dict[str, dict]:
    cal = model.require_calibration()
    out: dict[str, dict] = {}
    doc_ids = sorted(docs)
    texts = [s.text for d in doc_ids for s in docs[d]]
    owner = np.repeat(np.arange(len(doc_ids)), [len(docs[d]) for d in doc_ids])
    raw = model.predict_proba(texts)
    n = np.bincount(owner, minlength=len(doc_ids)).astype(float)
    for dim, labels in model.labels.items():
        scores = raw[dim]
        thresholds = np.array([model.thresholds[dim][label] for label in labels])
        hits_s = (scores >= thresholds).astype(float)
        probs_s = cal.apply(dim, scores, labels)
        gold_s = np.array(
            [
                [label in s.labels.get(dim, ()) for label in labels]
                for d in doc_ids
                for s in docs[d]
            ],
            dtype=float,
        )
        hits = np.zeros((len(doc_ids), len(labels)))
        probs = np.zeros_like(hits)
        np.add.at(hits, owner, hits_s)
        np.add.at(probs, owner, probs_s)
        gold = gold_s.mean(axis=0)
        rates = [cal.label("sentence", dim, label).rates for label in labels]
        draws = draw_rates(rates, 1000, rng)
        errors: dict[str, list[float]] = {m: [] for m in (*METHODS, "auto")}
        covered = 0
        for method in (*METHODS, "auto"):
            chosen = [choose_method(method, r, True) for r in rates]
            est = estimate_group(n, hits, probs, rates, chosen, draws, rng, n_boot=1000)
            errors[method] = [abs(e.value - g) for e, g in zip(est, gold, strict=True)]
            if method == "auto":
                covered = sum(e.low <= g <= e.high for e, g in zip(est, gold, strict=True))
                picked = [c[0] for c in chosen]
        out[dim] = {
            "mae": {m: 100 * float(np.mean(v)) for m, v in errors.items()},
            "covered": covered,
            "labels": len(labels),
            "sentences": len(texts),
            "articles": len(doc_ids),
            "picked": {m: picked.count(m) for m in set(picked)},
        }
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--write", action="store_true", help="update BENCHMARKS.md")
    args = parser.parse_args()
    started = time.perf_counter()
    model = load_model(ROOT / "models" / "default")
    corpus = read_corpus([ROOT / "data" / "annotations"])
    rng = np.random.default_rng(0)
    rows = []
    for name, docs in _sets(corpus).items():
        if len(docs) < 3:
            continue
        for dim, r in measure(model, docs, rng).items():
            mae = r["mae"]
            rows.append(
                f"| {name} | {dim} | {r['articles']} | {r['sentences']} | {mae['cc']:.2f} | "
                f"{mae['pcc']:.2f} | {mae['acc']:.2f} | {mae['pacc']:.2f} | "
                f"**{mae['auto']:.2f}** | {r['covered']}/{r['labels']} |"
            )
    body = "\n".join(
        [
            "## Prevalence: naive counting against the corrected estimators",
            "",
            "`python benchmarks/prevalence.py --write`. Mean absolute error, in percentage "
            "points, between each label's share of sentences estimated from the bundled "
            "model's output and the annotators' share, averaged over the labels of a "
            "dimension, on articles the model never saw (the dev and test splits of "
            "`data/annotations`). `cc` is naive counting (labels above threshold), `auto` "
            "what `framing findings` picks per label; the last column counts the labels whose "
            "gold share lies inside the `auto` 95 % interval (1000 replicates over articles "
            "with the error rates drawn). Register groups pool dev and test. Small samples: "
            "the differences between estimators are within their own noise here; the "
            "simulation test (`tests/test_findings_simulation.py`) is where the bias of "
            "naive counting under prevalence shift is measured.",
            "",
            "| articles | dimension | articles | sentences | cc | pcc | acc | pacc | auto | "
            "in 95 % interval |",
            "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|",
            *rows,
            "",
            f"Measured on {machine()}, {time.perf_counter() - started:.0f} s in all.",
        ]
    )
    print(body)
    if args.write:
        replace_section("prevalence", body)


if __name__ == "__main__":
    main()

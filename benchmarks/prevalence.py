"""Prevalence estimates against gold: naive counting vs the corrected estimators.

The bundled model (``models/default``) is scored on the splits of ``data/annotations``
it never saw: test, and dev unless its config trained on dev (it does since round 3).
For each held-out set, the annotated sentences (with the corpus's
own segmentation) are scored by the model, grouped by article, and each label's share of
sentences is estimated by every estimator of :mod:`framing.findings.estimators`, with
the ``auto`` choice of ``framing findings`` (per label, then settled per set: ``pacc``
only under evidence of a prevalence shift); the gold share is the annotators'.

Reported per dimension: the mean absolute error over labels (percentage points) of each
estimator, and how many labels' gold share falls inside the ``auto`` 95 % interval.
"Groups" pools the dev and test articles and splits them by the ``register`` metadata
(wire, state wire, Western report, ...); groups of fewer than 3 articles are left out.

Part 2, FrAC (``../shared/benchmarks/frac/frac_gold_sentences.csv``, 523 sentences, one
frame each; skipped when absent): 5 stratified folds; on each, a model is trained with
the default config (``fit_model``, which writes the calibration), and each frame's share
is estimated on the held-out fold as it is ("natural") and on a resample of it where the
frame's share is three times its natural share ("shifted", at most 50 %; drawn with
replacement, seeded).  Each sentence is its own article.

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


def _sets(corpus, trained: set[str]) -> dict[str, dict[str, list]]:
    """Held-out article sets: name -> {doc_id: [sentences]}.

    The dev and test splits, less any the model was trained on (the bundled model trains
    on dev since round 3 of BENCHMARKS.md's "Modelling for real text"); "dev+test" pools
    them when both are held out.
    """
    held = [split for split in ("dev", "test") if split not in trained]
    by_doc: dict[str, list] = {}
    for s in corpus.done():
        split = corpus.split_of(s)
        if split in held:
            by_doc.setdefault(s.doc_id, []).append((split, s))
    sets: dict[str, dict[str, list]] = {split: {} for split in held}
    pooled: dict[str, list] = {}
    for doc_id, items in by_doc.items():
        split = items[0][0]
        sentences = [s for _, s in items]
        sets[split][doc_id] = sentences
        pooled[doc_id] = sentences
    if len(held) > 1:
        sets["+".join(held)] = pooled
    for doc_id, sentences in pooled.items():
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
            est = estimate_group(
                n, hits, probs, rates, chosen, draws, rng, n_boot=1000, auto=method == "auto"
            )
            errors[method] = [abs(e.value - g) for e, g in zip(est, gold, strict=True)]
            if method == "auto":
                covered = sum(e.low <= g <= e.high for e, g in zip(est, gold, strict=True))
                picked = [e.method for e in est]
        out[dim] = {
            "mae": {m: 100 * float(np.mean(v)) for m, v in errors.items()},
            "covered": covered,
            "labels": len(labels),
            "sentences": len(texts),
            "articles": len(doc_ids),
            "picked": {m: picked.count(m) for m in set(picked)},
        }
    return out


FRAC = ROOT.parent / "shared" / "benchmarks" / "frac" / "frac_gold_sentences.csv"


def _estimates(
    hits: np.ndarray, probs: np.ndarray, rates: list, rng: np.random.Generator
) -> dict[str, np.ndarray]:
    """Point estimates per method (columns: labels), each unit its own article."""
    n = np.ones(len(hits))
    draws = draw_rates(rates, 200, rng)
    out = {}
    for method in (*METHODS, "auto"):
        chosen = [choose_method(method, r, True) for r in rates]
        est = estimate_group(
            n, hits, probs, rates, chosen, draws, rng, n_boot=200, auto=method == "auto"
        )
        out[method] = np.array([e.value for e in est])
    return out


def measure_frac(rng: np.random.Generator, path: Path = FRAC) -> dict[str, dict[str, float]] | None:
    """MAE (points) per method, natural and shifted, over FrAC folds and frames."""
    import csv
    import json
    import tempfile

    from framing.training.config import load_config
    from framing.training.train import fit_model
    from sklearn.model_selection import StratifiedKFold

    from framing.format.codebook import Codebook

    if not path.is_file():
        return None
    with path.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    texts = [r["sentence"] for r in rows]
    gold = np.array([r["label"] for r in rows])
    errors: dict[str, dict[str, list[float]]] = {"natural": {}, "shifted": {}}
    folds = StratifiedKFold(5, shuffle=True, random_state=13).split(texts, gold)
    for train, test in folds:
        with tempfile.TemporaryDirectory() as tmp:
            folder = Path(tmp)
            codebook = Codebook.from_labels({"frame": sorted(set(gold[train]))}, name="frac")
            (folder / "codebook.toml").write_text(codebook.to_toml(), encoding="utf-8")
            with (folder / "train.jsonl").open("w", encoding="utf-8") as out:
                for i in train:
                    record = {
                        "id": f"s{i}",
                        "doc_id": f"s{i}",
                        "text": texts[i],
                        "frame": [gold[i]],
                    }
                    out.write(json.dumps(record, ensure_ascii=False) + "\n")
            config = load_config(
                "default",
                data=[folder / "train.jsonl"],
                overrides=[f"data.codebook={json.dumps(str(folder / 'codebook.toml'))}"],
            )
            fitted = fit_model(config)
        assert fitted.calibration is not None
        labels = list(fitted.meta.labels["frame"])
        scores = np.asarray(fitted.pipelines["frame"].predict_proba([texts[i] for i in test]))
        hits = np.zeros_like(scores)
        hits[np.arange(len(scores)), scores.argmax(axis=1)] = 1.0
        probs = fitted.calibration.apply("frame", scores, labels)
        rates = [fitted.calibration.label("sentence", "frame", lab).rates for lab in labels]
        y = np.array([[g == lab for lab in labels] for g in gold[test]], dtype=float)
        natural = _estimates(hits, probs, rates, rng)
        for method, values in natural.items():
            errors["natural"].setdefault(method, []).extend(np.abs(values - y.mean(axis=0)))
        for j in range(len(labels)):
            pos, neg = np.flatnonzero(y[:, j]), np.flatnonzero(y[:, j] == 0)
            if not len(pos):
                continue
            share = min(0.5, 3 * len(pos) / len(y))
            k = int(round(share * len(y)))
            pick = np.concatenate(
                [rng.choice(pos, k, replace=True), rng.choice(neg, len(y) - k, replace=True)]
            )
            shifted = _estimates(hits[pick], probs[pick], rates, rng)
            truth = y[pick, j].mean()
            for method, values in shifted.items():
                errors["shifted"].setdefault(method, []).append(abs(values[j] - truth))
    return {
        kind: {m: 100 * float(np.mean(v)) for m, v in per.items()} for kind, per in errors.items()
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--write", action="store_true", help="update BENCHMARKS.md")
    parser.add_argument("--frac", type=Path, default=FRAC, help="the FrAC gold sentences CSV")
    args = parser.parse_args()
    started = time.perf_counter()
    model = load_model(ROOT / "models" / "default")
    corpus = read_corpus([ROOT / "data" / "annotations"])
    rng = np.random.default_rng(0)
    rows = []
    trained = set(model.meta.config.get("data", {}).get("train", ["train"]))
    held = " and ".join(split for split in ("dev", "test") if split not in trained)
    for name, docs in _sets(corpus, trained).items():
        if len(docs) < 3:
            continue
        for dim, r in measure(model, docs, rng).items():
            mae = r["mae"]
            rows.append(
                f"| {name} | {dim} | {r['articles']} | {r['sentences']} | {mae['cc']:.2f} | "
                f"{mae['pcc']:.2f} | {mae['acc']:.2f} | {mae['pacc']:.2f} | "
                f"**{mae['auto']:.2f}** | {r['covered']}/{r['labels']} |"
            )
    frac = measure_frac(rng, args.frac)
    frac_rows = (
        [
            f"| FrAC, {kind} | frame (10) | 523 sentences, 5 folds | "
            + " | ".join(f"{frac[kind][m]:.2f}" for m in METHODS)
            + f" | **{frac[kind]['auto']:.2f}** | |"
            for kind in ("natural", "shifted")
        ]
        if frac is not None
        else []
    )
    body = "\n".join(
        [
            "## Prevalence: naive counting against the corrected estimators",
            "",
            "`python benchmarks/prevalence.py --write`. Mean absolute error, in percentage "
            "points, between each label's share of sentences estimated from the bundled "
            "model's output and the annotators' share, averaged over the labels of a "
            "dimension, on articles the model never saw (the splits of `data/annotations` "
            f"it was not trained on: {held}). `cc` is naive counting (labels above "
            "threshold), `auto` "
            "what `framing findings` picks per label; the last column counts the labels whose "
            "gold share lies inside the `auto` 95 % interval (1000 replicates over articles "
            f"with the error rates drawn). Register groups pool {held}. Small samples: "
            "the differences between estimators are within their own noise here; the "
            "simulation test (`tests/test_findings_simulation.py`) is where the bias of "
            "naive counting under prevalence shift is measured. Where these held-out "
            "splits have no real shift, `auto`'s choice of an adjusted estimator for some "
            "labels costs variance, so it can have a larger error than naive counting "
            "(compare the `cc` and `auto` columns); what it buys is an interval that "
            "covers the gold share.",
            "",
            "| articles | dimension | articles | sentences | cc | pcc | acc | pacc | auto | "
            "in 95 % interval |",
            "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|",
            *rows,
            *frac_rows,
            "",
            "FrAC rows (`../shared/benchmarks/frac`, skipped when absent): a model trained "
            "with the default config on 4 folds, each frame's share estimated on the 5th "
            "as it is (natural) and on a resample where the frame's share is tripled "
            "(shifted, at most 50 %); the mean over frames and folds.",
            "",
            f"Measured on {machine()}, {time.perf_counter() - started:.0f} s in all.",
        ]
    )
    print(body)
    if args.write:
        replace_section("prevalence", body)


if __name__ == "__main__":
    main()

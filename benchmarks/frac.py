"""Quality bar of ``framing train``: FrAC frames, and the bundled corpus's test split.

Part 1, FrAC (``../shared/benchmarks/frac/frac_gold_sentences.csv``: 523 sentences,
one single-label frame dimension, 10 classes).  5-fold stratified cross-validation
with the same folds for every system; macro-F1 (and accuracy) on each held-out fold,
mean and standard deviation over folds.  Systems:

* ``framing train`` with each shipped config (``training/configs/*.toml``): the whole
  training path (``framing.training.train.fit_model``) on the fold's training sentences,
  written to a temporary JSONL file with a one-dimension codebook; the dimension is
  detected as single-label, so the model is a multinomial logistic regression;
* the honest baselines of ``benchmarks/_baselines.py`` (the same as ``bench.py``'s), each
  tuned on the fold's training sentences only: TF-IDF word 1-2-grams, and word plus
  character 2-5-grams, into logistic regression with ``C`` and ``class_weight`` chosen by
  inner cross-validation on macro-F1; and fastText with its settings chosen on macro-F1.

Part 2, the bundled corpus (``data/annotations``): every shipped config is trained on
the train split, timed on one core, and scored on the test split (micro and macro F1
per dimension), when the corpus is present.

Everything runs pinned to one CPU core.  Run from the repository root::

    python benchmarks/frac.py            # print the Markdown section
    python benchmarks/frac.py --write    # and update BENCHMARKS.md (between frac markers)
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _markdown import machine, replace_section  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
#: The FrAC CSV; FRAMING_FRAC overrides the location (e.g. when running from a worktree).
FRAC = Path(
    os.environ.get(
        "FRAMING_FRAC", ROOT.parent / "shared" / "benchmarks" / "frac" / "frac_gold_sentences.csv"
    )
)
CONFIGS = ROOT / "training" / "configs"
SECTION = "frac"
FOLDS = 5
SEED = 13

Fitter = Callable[[list[str], list[str], list[str]], list[str]]


def read_frac(path: Path = FRAC) -> tuple[list[str], list[str]]:
    """Sentences and their frame codes, read directly from the CSV."""
    with path.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    return [r["sentence"] for r in rows], [r["label"] for r in rows]


def framing_system(config_path: Path) -> Fitter:
    """Train with ``framing.training.train.fit_model`` exactly as ``framing train`` would."""
    from framing.training.config import load_config
    from framing.training.train import fit_model

    from framing.format.codebook import Codebook

    def fit_predict(texts: list[str], labels: list[str], test: list[str]) -> list[str]:
        with tempfile.TemporaryDirectory() as tmp:
            folder = Path(tmp)
            codebook = Codebook.from_labels({"frame": sorted(set(labels))}, name="frac")
            (folder / "codebook.toml").write_text(codebook.to_toml(), encoding="utf-8")
            with (folder / "train.jsonl").open("w", encoding="utf-8") as out:
                for i, (text, label) in enumerate(zip(texts, labels, strict=True)):
                    record = {"id": f"s{i}", "doc_id": f"s{i}", "text": text, "frame": [label]}
                    out.write(json.dumps(record, ensure_ascii=False) + "\n")
            config = load_config(
                config_path,
                data=[folder / "train.jsonl"],
                overrides=[f"data.codebook={json.dumps(str(folder / 'codebook.toml'))}"],
            )
            fitted = fit_model(config)
        pipe = fitted.pipelines["frame"]
        scores = pipe.predict_proba(test)
        classes = fitted.meta.labels["frame"]
        return [classes[j] for j in scores.argmax(axis=1)]

    return fit_predict


def baseline_system(kind: str) -> Fitter:
    """An honest baseline of ``_baselines`` (see bench.py), tuned on the training folds only."""
    from _baselines import fit_fasttext, fit_tfidf

    def fit_predict(texts: list[str], labels: list[str], test: list[str]) -> list[str]:
        groups = [f"s{i}" for i in range(len(texts))]  # every FrAC sentence is its own document
        multi = [[label] for label in labels]
        if kind == "fasttext":
            with tempfile.TemporaryDirectory() as tmp:
                model = fit_fasttext(texts, multi, groups, Path(tmp))
        else:
            model = fit_tfidf(texts, multi, groups, char=kind == "wordchar", metric="macro_f1")
        return [predicted[0] if predicted else "" for predicted in model.predict(test)]

    return fit_predict


def run_frac(systems: dict[str, Fitter]) -> list[dict[str, object]]:
    from sklearn.metrics import accuracy_score, f1_score
    from sklearn.model_selection import StratifiedKFold

    texts, labels = read_frac()
    folds = list(
        StratifiedKFold(n_splits=FOLDS, shuffle=True, random_state=SEED).split(texts, labels)
    )
    rows = []
    for name, fit_predict in systems.items():
        macro, accuracy, seconds = [], [], 0.0
        for train, test in folds:
            started = time.perf_counter()
            predicted = fit_predict(
                [texts[i] for i in train], [labels[i] for i in train], [texts[i] for i in test]
            )
            seconds += time.perf_counter() - started
            gold = [labels[i] for i in test]
            macro.append(f1_score(gold, predicted, average="macro", zero_division=0))
            accuracy.append(accuracy_score(gold, predicted))
        rows.append(
            {
                "system": name,
                "macro_f1": float(np.mean(macro)),
                "macro_f1_std": float(np.std(macro)),
                "folds": [round(float(m), 3) for m in macro],
                "accuracy": float(np.mean(accuracy)),
                "seconds": seconds,
            }
        )
        print(f"  {name}: macro-F1 {rows[-1]['macro_f1']:.3f}", file=sys.stderr)
    return rows


def run_corpus(configs: Sequence[Path]) -> list[dict[str, object]]:
    from framing.training.config import load_config
    from framing.training.train import fit_model

    rows = []
    for path in configs:
        started = time.perf_counter()
        fitted = fit_model(load_config(path))
        seconds = time.perf_counter() - started
        for dim, s in fitted.metrics.get("test", {}).items():
            cv = fitted.metrics.get("cv", {}).get(dim, {})
            rows.append(
                {
                    "config": path.stem,
                    "dimension": dim,
                    "test_micro_f1": s["micro_f1"],
                    "test_macro_f1": s["macro_f1"],
                    "cv_micro_f1": cv.get("micro_f1"),
                    "cv_macro_f1": cv.get("macro_f1"),
                    "n": s["n"],
                    "seconds": seconds,
                    "params": fitted.meta.pipeline["params"][dim],
                }
            )
        print(f"  {path.stem}: {seconds:.1f} s", file=sys.stderr)
    return rows


def render(frac: list[dict[str, object]], corpus: list[dict[str, object]]) -> str:
    lines = [
        "## Training quality: FrAC frames and the bundled corpus",
        "",
        "Rerun: `python benchmarks/frac.py --write` (from the repository root; needs "
        "`../shared/benchmarks/frac/` and the `bench` extra for fastText).",
        "",
        f"Machine: {machine()}; everything pinned to one core; load average at start "
        f"{' / '.join(f'{x:.1f}' for x in os.getloadavg())} (other work on the machine "
        "slows the timings, not the scores).",
        "",
    ]
    if frac:
        lines += [
            "### FrAC (523 sentences, 10 frames, single-label)",
            "",
            f"{FOLDS}-fold stratified cross-validation, the same folds (seed {SEED}) for "
            "every system; macro-F1 and accuracy averaged over the held-out folds; time is "
            "the total for the five folds (training and prediction).",
            "",
            "| system | macro-F1 (mean ± sd) | per fold | accuracy | seconds |",
            "|---|---:|---|---:|---:|",
        ]
        for r in frac:
            lines.append(
                f"| {r['system']} | {r['macro_f1']:.3f} ± {r['macro_f1_std']:.3f} | "
                f"{' '.join(f'{x:.3f}' for x in r['folds'])} | "  # type: ignore[attr-defined]
                f"{r['accuracy']:.3f} | {r['seconds']:.1f} |"
            )
        lines += [
            "",
            "The baselines choose their settings on the training folds only (inner "
            "cross-validation for TF-IDF, a held-out fifth for fastText's settings); see "
            "`benchmarks/_baselines.py`.",
            "",
        ]
    if corpus:
        lines += [
            "### Bundled corpus (`data/annotations`), test split",
            "",
            "Each shipped config trained on the train split (`framing train CONFIG`); "
            "cross-validated scores are out-of-fold on the train split; time is the whole "
            "training run (cross-validation, grid, final fit) on one core, without saving.",
            "",
            "| config | dimension | test micro-F1 | test macro-F1 | CV micro-F1 | CV macro-F1 "
            "| test n | train seconds | chosen parameters |",
            "|---|---|---:|---:|---:|---:|---:|---:|---|",
        ]
        for r in corpus:
            params = ", ".join(f"{k}={v}" for k, v in sorted(r["params"].items()))  # type: ignore[attr-defined]
            lines.append(
                f"| {r['config']} | {r['dimension']} | {r['test_micro_f1']:.3f} | "
                f"{r['test_macro_f1']:.3f} | {r['cv_micro_f1']:.3f} | {r['cv_macro_f1']:.3f} | "
                f"{r['n']} | {r['seconds']:.1f} | {params} |"
            )
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--write", action="store_true", help="update BENCHMARKS.md")
    parser.add_argument("--skip-corpus", action="store_true", help="FrAC only")
    parser.add_argument("--skip-frac", action="store_true", help="bundled corpus only")
    args = parser.parse_args(argv)
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]})
    configs = sorted(CONFIGS.glob("*.toml"), key=lambda p: (p.stem != "default", p.stem))
    frac_rows: list[dict[str, object]] = []
    if not args.skip_frac:
        if not FRAC.is_file():
            print(f"{FRAC} is absent: skipping FrAC", file=sys.stderr)
        else:
            systems: dict[str, Fitter] = {
                f"framing `{p.stem}` config": framing_system(p) for p in configs
            }
            systems["TF-IDF word 1-2 + LogisticRegression, C and class_weight tuned"] = (
                baseline_system("word")
            )
            systems["TF-IDF word 1-2 + char 2-5 + LogisticRegression, tuned"] = baseline_system(
                "wordchar"
            )
            systems["fastText, tuned on the training folds"] = baseline_system("fasttext")
            frac_rows = run_frac(systems)
    corpus_rows: list[dict[str, object]] = []
    if not args.skip_corpus and (ROOT / "data" / "annotations" / "train.jsonl").is_file():
        os.chdir(ROOT)
        corpus_rows = run_corpus(configs)
    body = render(frac_rows, corpus_rows)
    print(body)
    if args.write:
        replace_section(SECTION, body)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

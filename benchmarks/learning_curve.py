"""How the default model's scores grow with the size of its training data.

The default config (``training/configs/default.toml``) is trained on random subsets of
whole articles of its training splits (train and dev), at several fractions and seeds,
and each model is scored on the held-out splits it never sees: the style-shifted
``dev-shifted`` (the split that chooses modelling changes) and ``test``.  Every model is
trained exactly as ``framing train`` trains the shipped one (5-fold cross-validation for
the thresholds, the same seed); only the training articles differ.  The question it
answers: would more annotated articles help, and by how much per doubling?

Run from the repository root::

    python benchmarks/learning_curve.py            # print the Markdown section
    python benchmarks/learning_curve.py --write    # and update BENCHMARKS.md
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))

from _markdown import machine, replace_section  # noqa: E402
from framing.training.config import load_config  # noqa: E402
from framing.training.train import train  # noqa: E402

CONFIG = ROOT / "training" / "configs" / "default.toml"
CORPUS = ROOT / "data" / "annotations"
HELD_OUT = ("test", "dev-shifted")


def _articles(splits: tuple[str, ...]) -> dict[str, list[str]]:
    """doc_id -> its JSONL lines, in file order, for the records of ``splits``."""
    articles: dict[str, list[str]] = defaultdict(list)
    for split in splits:
        for line in (CORPUS / f"{split}.jsonl").read_text(encoding="utf-8").splitlines():
            if line.strip():
                articles[json.loads(line)["doc_id"]].append(line)
    return articles


def _subset_corpus(folder: Path, lines: list[str]) -> None:
    """A corpus folder: the chosen training articles (as split "train") and the held-out splits."""
    folder.mkdir(parents=True)
    rows = []
    for line in lines:
        record = json.loads(line)
        record["split"] = "train"
        rows.append(json.dumps(record, ensure_ascii=False))
    (folder / "train.jsonl").write_text("\n".join(rows) + "\n", encoding="utf-8")
    for split in HELD_OUT:
        (folder / f"{split}.jsonl").write_text(
            (CORPUS / f"{split}.jsonl").read_text(encoding="utf-8"), encoding="utf-8"
        )


def run(fractions: list[float], seeds: list[int], jobs: int) -> str:
    base = load_config(str(CONFIG))
    training_splits = tuple(base.data.train)
    articles = _articles(training_splits)
    ids = sorted(articles)
    rows: dict[float, list[dict]] = defaultdict(list)
    started = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        for fraction in fractions:
            for seed in seeds if fraction < 1 else seeds[:1]:
                chosen = list(ids)
                random.Random(seed).shuffle(chosen)
                chosen = sorted(chosen[: round(len(chosen) * fraction)])
                folder = Path(tmp) / f"f{fraction}-s{seed}"
                _subset_corpus(folder / "data", [line for d in chosen for line in articles[d]])
                config = load_config(
                    str(CONFIG),
                    overrides=[
                        f'data.paths=["{folder / "data"}"]',
                        f'data.codebook="{CORPUS / "codebook.toml"}"',
                        'data.train=["train"]',
                        f"n_jobs={jobs}",
                    ],
                )
                train(config, output=folder / "model")
                metrics = json.loads((folder / "model" / "metrics.json").read_text())
                rows[fraction].append(
                    {
                        "articles": len(chosen),
                        "sentences": metrics["cv"]["frames"]["n"],
                        **{
                            (split, dim): metrics[split][dim]["micro_f1"]
                            for split in HELD_OUT
                            for dim in ("frames", "rhetoric")
                        },
                    }
                )
                print(f"fraction {fraction} seed {seed}: {rows[fraction][-1]}", file=sys.stderr)
    minutes = (time.perf_counter() - started) / 60

    def mean(fraction: float, key) -> str:
        return f"{statistics.mean(r[key] for r in rows[fraction]):.3f}"

    lines = [
        "## How the default model grows with its training data",
        "",
        "Rerun: `python benchmarks/learning_curve.py --write` (trains one model per row and seed; "
        f"{minutes:.0f} minutes on this run's machine: {machine()}).",
        "",
        f"The default config trained on a random share of the articles of its training splits "
        f"({', '.join(training_splits)}: {len(ids)} articles), whole articles drawn with seeds "
        f"{', '.join(map(str, seeds))} (the full set once), and scored on the held-out splits; "
        "sentence micro-F1, mean over seeds. The full row is the shipped model's recipe. "
        "The test figures are printed for the record; no choice is made on them.",
        "",
        "| share of articles | articles | training sentences | dev-shifted frames | "
        "dev-shifted rhetoric | test frames | test rhetoric | seeds |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for fraction in fractions:
        r = rows[fraction]
        lines.append(
            f"| {fraction:.0%} | {r[0]['articles']} | "
            f"{statistics.mean(x['sentences'] for x in r):,.0f} | "
            f"{mean(fraction, ('dev-shifted', 'frames'))} | "
            f"{mean(fraction, ('dev-shifted', 'rhetoric'))} | "
            f"{mean(fraction, ('test', 'frames'))} | {mean(fraction, ('test', 'rhetoric'))} | "
            f"{len(r)} |"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--fractions", type=float, nargs="+", default=[0.25, 0.5, 0.75, 1.0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--jobs", type=int, default=0, help="Training workers (0: every CPU).")
    parser.add_argument("--write", action="store_true", help="Update BENCHMARKS.md.")
    args = parser.parse_args()
    body = run(sorted(args.fractions), args.seeds, args.jobs)
    print(body)
    if args.write:
        replace_section("learning-curve", body)


if __name__ == "__main__":
    main()

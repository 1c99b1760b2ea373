"""How training time and memory grow with the corpus: the default config at 10k-100k sentences.

The corpus is synthetic: the training split of ``data/annotations``, copied until it
holds ``N`` sentences, each copy a new set of documents whose words are changed at
random (15% of the words of a sentence replaced by words drawn from the corpus), so
that copies are not exact duplicates: the vocabulary grows with the corpus and the
solver does not see the same rows again and again (exact copies would act like a
larger ``C`` and slow it down for a reason real data does not have).  Labels are kept.

Each size is trained in a fresh process (``fit_model``, nothing written); the table
gives wall time, CPU time (user + system of the process and of its worker processes),
and the peak resident memory of the main process and of the largest worker.

    python benchmarks/training_scale.py --sizes 10000 30000 --jobs 2
    python benchmarks/training_scale.py --sizes 10000 30000 100000 --write
"""

from __future__ import annotations

import argparse
import json
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _markdown import machine, replace_section  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
SOURCE = REPO / "data" / "annotations"
CODEBOOK = SOURCE / "codebook.toml"


def synthetic_corpus(folder: Path, n_sentences: int, seed: int = 13) -> int:
    """Write ``folder/train.jsonl`` with about ``n_sentences`` done sentences; return the count."""
    records = [
        json.loads(line)
        for line in (SOURCE / "train.jsonl").read_text(encoding="utf-8").splitlines()
        if line.strip()
    ]
    words = [w for r in records if r.get("text") for w in r["text"].split()]
    rng = random.Random(seed)
    folder.mkdir(parents=True, exist_ok=True)
    count = 0
    copy = 0
    with (folder / "train.jsonl").open("w", encoding="utf-8") as out:
        while count < n_sentences:
            for record in records:
                r = dict(record)
                if copy:
                    # Changed words no longer match the article text and its offsets.
                    for key in (
                        ("start", "end", "text") if "sent_index" not in r else ("start", "end")
                    ):
                        r.pop(key, None)
                    r["doc_id"] = f"{record['doc_id']}-c{copy}"
                    if "id" in r:
                        r["id"] = f"{record['id']}-c{copy}"
                    if r.get("text") and "sent_index" in r:
                        tokens = r["text"].split()
                        r["text"] = " ".join(
                            rng.choice(words) if rng.random() < 0.15 else t for t in tokens
                        )
                if "sent_index" in r:
                    if count >= n_sentences:
                        continue
                    count += 1
                out.write(json.dumps(r, ensure_ascii=False) + "\n")
            copy += 1
    return count


CHILD = """
import json, resource, sys, time
from framing.training.config import load_config
from framing.training.train import fit_model
folder, jobs, config = sys.argv[1], sys.argv[2], sys.argv[3]
cfg = load_config(config, data=[folder], overrides=[
    f"data.codebook={json.dumps(sys.argv[4])}", f"n_jobs={jobs}"])
start = time.perf_counter()
fitted = fit_model(cfg)
wall = time.perf_counter() - start
# The worker processes (joblib's loky pool) are shut down and reaped, so that their CPU
# time and peak memory are counted in RUSAGE_CHILDREN.
from joblib.externals.loky import get_reusable_executor
get_reusable_executor().shutdown(wait=True)
me = resource.getrusage(resource.RUSAGE_SELF)
kids = resource.getrusage(resource.RUSAGE_CHILDREN)
print(json.dumps({"wall": wall,
                  "cpu": me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime,
                  "peak_mb": me.ru_maxrss / 1024, "worker_peak_mb": kids.ru_maxrss / 1024,
                  "examples": fitted.meta.data["examples"]}))
"""


def run(folder: Path, jobs: int, config: str) -> dict[str, float]:
    out = subprocess.run(
        [sys.executable, "-c", CHILD, str(folder), str(jobs), config, str(CODEBOOK)],
        capture_output=True,
        text=True,
        cwd=REPO,
    )
    if out.returncode:
        sys.exit(f"training {folder.name} failed:\n{out.stderr[-3000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 30_000, 100_000])
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--config", default="default")
    parser.add_argument("--write", action="store_true", help="update BENCHMARKS.md")
    args = parser.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for size in args.sizes:
            folder = Path(tmp) / f"n{size}"
            n = synthetic_corpus(folder, size)
            started = time.strftime("%H:%M:%S")
            result = run(folder, args.jobs, args.config)
            rows.append((n, result))
            print(f"{started} {n} sentences: {json.dumps(result)}", flush=True)
    print(f"Machine: {machine()}; `--jobs {args.jobs}`; config `{args.config}`.")
    lines = [
        "| sentences | wall s | CPU s | CPU s per 1k sentences | peak RSS MB, main process "
        "| peak RSS MB, largest worker |",
        "|---:|---:|---:|---:|---:|---:|",
    ]
    for n, r in rows:
        lines.append(
            f"| {n:,} | {r['wall']:.0f} | {r['cpu']:.0f} | {r['cpu'] / n * 1000:.1f} "
            f"| {r['peak_mb']:.0f} | {r['worker_peak_mb']:.0f} |"
        )
    table = "\n".join(lines)
    print(table)
    if args.write:
        replace_section("training-scale-table", table)


if __name__ == "__main__":
    main()

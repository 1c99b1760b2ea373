"""Time of the Label Studio importer against the size of the export: it must be linear.

Generates Label Studio JSON exports of 5k, 20k and 100k choice-annotated tasks (the
pretty-printed layout Label Studio writes) in a temporary folder and times
``framing.exchange.importers.labelstudio`` on each, next to a bare ``json.loads`` of
the same file.  Linear means: the time per task stays flat as the file grows.

    python benchmarks/importers.py            # print the table
    python benchmarks/importers.py --write    # also update BENCHMARKS.md
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _markdown import machine, replace_section  # noqa: E402

SIZES = (5_000, 20_000, 100_000)
FRAMES = ("economic", "security", "morality", "conflict")


def generate(path: Path, n: int) -> None:
    tasks = []
    for i in range(n):
        tasks.append(
            {
                "id": i,
                "data": {"text": f"Sentence number {i} says that prices rose again this week."},
                "annotations": [
                    {
                        "id": i,
                        "completed_by": 1 + i % 3,
                        "result": [
                            {
                                "id": f"r{i}",
                                "from_name": "frames",
                                "to_name": "text",
                                "type": "choices",
                                "value": {"choices": [FRAMES[i % len(FRAMES)]]},
                            }
                        ],
                        "was_cancelled": False,
                    }
                ],
            }
        )
    path.write_text(json.dumps(tasks, indent=2), encoding="utf-8")


def best_of(runs: int, fn: object) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()  # type: ignore[operator]
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--write", action="store_true", help="update BENCHMARKS.md")
    args = parser.parse_args()
    from framing.exchange.importers.labelstudio import labelstudio

    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for n in SIZES:
            path = Path(tmp) / f"ls-{n}.json"
            generate(path, n)
            mb = path.stat().st_size / 1e6
            parse = best_of(3, lambda p=path: json.loads(p.read_bytes()))
            imported = best_of(3, lambda p=path: labelstudio(p))
            rows.append((n, mb, parse, imported))
            print(f"{n:>7} tasks {mb:6.1f} MB  json.loads {parse:6.2f} s  import {imported:6.2f} s")
    lines = [
        "## Importers: Label Studio export size against time",
        "",
        "Rerun: `python benchmarks/importers.py --write` (generates the exports in a "
        "temporary folder).",
        "",
        f"Synthetic pretty-printed exports, one choice annotation per task. Best of 3 runs. "
        f"Machine: {machine()}.",
        "",
        "| tasks | MB | `json.loads` (s) | `framing import labelstudio` (s) | µs per task |",
        "|---:|---:|---:|---:|---:|",
    ]
    for n, mb, parse, imported in rows:
        lines.append(
            f"| {n:,} | {mb:.1f} | {parse:.2f} | {imported:.2f} | {imported / n * 1e6:.0f} |"
        )
    lines.append("")
    lines.append(
        "Before the fix the importer recounted newlines from the start of the file for every "
        "task: 5k/10k/20k tasks took 1.5/6.1/24.5 s when issue 11 was filed (quadratic). "
        "Linear means a flat time per task in the last column."
    )
    if args.write:
        replace_section("importers", "\n".join(lines))


if __name__ == "__main__":
    main()

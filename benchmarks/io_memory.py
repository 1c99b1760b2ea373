"""Memory and speed of reading and validating a large annotation file.

Generates a JSONL file of ``--size-mb`` megabytes (default 1024) in a temporary folder,
then measures, each in a fresh process: ``framing validate`` on it and a streaming
pass of ``framing.format.annotations.iter_records``. Peak memory is the child process's
maximum resident set size.

    python benchmarks/io_memory.py            # print the table
    python benchmarks/io_memory.py --write    # also update BENCHMARKS.md
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _markdown import machine, replace_section  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
CODEBOOK = REPO / "data" / "annotations" / "codebook.toml"


def generate(path: Path, size_mb: int) -> int:
    target = size_mb * 1024 * 1024
    written = records = 0
    text = (
        "The ministers said the alliance would stand together against pressure from abroad, "
        "and that sanctions imposed by Western capitals had failed to change its course."
    )
    with path.open("w", encoding="utf-8") as out:
        doc = 0
        while written < target:
            doc += 1
            for i in range(1, 21):
                line = json.dumps(
                    {
                        "id": f"doc{doc:07d}-s{i:03d}",
                        "doc_id": f"doc{doc:07d}",
                        "sent_index": i,
                        "text": text,
                        "frames": ["resisting_pressure"] if i % 3 == 0 else [],
                        "rhetoric": ["loaded_language"] if i % 5 == 0 else [],
                        "status": "done",
                        "split": "train",
                    }
                )
                out.write(line + "\n")
                written += len(line) + 1
                records += 1
    return records


def measure(code: str) -> tuple[float, float]:
    """Run ``code`` in a fresh Python; return (seconds, peak RSS in MB) of that process."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    start = time.perf_counter()
    subprocess.run([sys.executable, "-c", code], check=True, cwd=REPO)
    seconds = time.perf_counter() - start
    peak_kb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    if peak_kb <= before:
        raise RuntimeError("peak RSS of the child is not above earlier children's; run alone")
    return seconds, peak_kb / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size-mb", type=int, default=1024)
    parser.add_argument("--write", action="store_true", help="update BENCHMARKS.md")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "big.jsonl"
        records = generate(path, args.size_mb)
        size_mb = path.stat().st_size / 1024 / 1024
        # The streaming pass first: a child's peak RSS only shows if it beats earlier ones.
        stream = measure(
            "from framing.format.annotations import iter_records\n"
            "from framing.format.codebook import load_codebook\n"
            f"cb = load_codebook({str(CODEBOOK)!r})\n"
            f"n = sum(1 for _ in iter_records([{str(path)!r}], cb))\n"
            f"assert n == {records}, n\n"
        )
        check = measure(
            "from framing.format.annotations import validate\n"
            "from framing.format.codebook import load_codebook\n"
            f"cb = load_codebook({str(CODEBOOK)!r})\n"
            f"r = validate([{str(path)!r}], cb)\n"
            f"assert r.ok and r.sentences == {records}, r.summary()\n"
        )
    rows = [
        ("`iter_records` (stream)", *stream),
        ("`validate` (all checks, duplicate ids)", *check),
    ]
    table = [
        f"File: {size_mb:,.0f} MB, {records:,} sentence records. Machine: {machine()}.",
        "",
        "| pass | seconds | records/s | peak RSS (MB) |",
        "|---|---:|---:|---:|",
    ]
    for name, seconds, peak in rows:
        table.append(f"| {name} | {seconds:.1f} | {records / seconds:,.0f} | {peak:,.0f} |")
    body = "\n".join(table)
    print(body)
    if args.write:
        replace_section(
            "io",
            "## Reading and validating large files\n\n"
            "Rerun: `python benchmarks/io_memory.py --write` (generates a 1 GB file in a "
            "temporary folder).\n\n" + body,
        )


if __name__ == "__main__":
    main()

"""Install time and environment size of framing, core and with each extra.

Builds the wheel of the working tree (and, with ``--before REV``, of an earlier commit),
installs it into fresh virtual environments, one per variant, and measures the wall time
of ``pip install`` and the size of the environment on disk.  pip's cache is kept as it is
(warm after the first run), so the time is mostly unpacking and linking, not downloading:
compare rows of one run, not runs on different machines.

Rerun: ``python benchmarks/install.py --before 2470868 --write``.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _markdown import machine, replace_section  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]


def _size_mb(folder: Path) -> float:
    total = 0
    for dirpath, _, files in os.walk(folder):
        for name in files:
            path = Path(dirpath, name)
            if not path.is_symlink():
                total += path.stat().st_size
    return total / 1e6


def _build_wheel(source: Path, out: Path) -> Path:
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", str(out), str(source)],
        check=True,
    )
    return next(out.glob("framing-*.whl"))


def _measure(wheel: Path, extra: str, work: Path) -> tuple[float, float]:
    venv = work / f"venv-{extra or 'core'}"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    base = _size_mb(venv)
    spec = f"{wheel}[{extra}]" if extra else str(wheel)
    start = time.perf_counter()
    subprocess.run([str(venv / "bin" / "pip"), "install", "-q", spec], check=True)
    seconds = time.perf_counter() - start
    return seconds, _size_mb(venv) - base


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--before", help="an earlier commit to measure for comparison")
    parser.add_argument("--extras", default="hf,dask", help="extras to measure, comma-separated")
    parser.add_argument("--write", action="store_true", help="update BENCHMARKS.md")
    args = parser.parse_args()
    extras = ["", *[e for e in args.extras.split(",") if e]]
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        wheels = {"now": _build_wheel(ROOT, work / "now")}
        if args.before:
            tree = work / "before-src"
            subprocess.run(
                ["git", "-C", str(ROOT), "worktree", "add", "--detach", str(tree), args.before],
                check=True,
                capture_output=True,
            )
            try:
                wheels["before"] = _build_wheel(tree, work / "before")
            finally:
                subprocess.run(
                    ["git", "-C", str(ROOT), "worktree", "remove", "--force", str(tree)],
                    check=True,
                )
        for label, wheel in wheels.items():
            for extra in extras if label == "now" else [""]:
                try:
                    seconds, size = _measure(wheel, extra, work / label)
                except subprocess.CalledProcessError:
                    print(f"{label} [{extra}]: install failed (no such extra?)", file=sys.stderr)
                    continue
                name = f"`framing[{extra}]`" if extra else "`framing` (core)"
                commit = args.before if label == "before" else "this tree"
                rows.append(f"| {name} | {commit} | {seconds:.1f} | {size:,.0f} |")
                print(rows[-1])
    body = (
        "## Install time and environment size\n\n"
        "Rerun: `python benchmarks/install.py --before 2470868 --write`.\n\n"
        f"Machine: {machine()}. Each row is a fresh virtual environment: the wall time of "
        "`pip install` of the wheel (pip's cache warm, packages from the package index "
        "mirror, so mostly unpacking) and the size the install added to the environment. "
        "Before: commit 2470868, when `datasets` (with pyarrow and pandas) was a core "
        "dependency.\n\n"
        "| install | code | seconds | MB added |\n|---|---|---:|---:|\n" + "\n".join(rows)
    )
    if args.write:
        replace_section("install", body)


if __name__ == "__main__":
    main()

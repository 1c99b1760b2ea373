"""Tagging on several cores: 1 and N worker processes, a 2-worker Dask LocalCluster, fastText.

The corpus is the articles of ``data/annotations/train.jsonl`` repeated to about
``--sentences`` sentences, one JSONL line per article.  Every run is a fresh process
on the cores this benchmark may use (its CPU affinity), timed by the wall clock, since a
speed-up is about wall time:

``framing tag articles.jsonl -o out.jsonl --jobs 1`` and ``--jobs N``
    the whole command; the resident memory of the main process and of each worker of
    ``--jobs N`` is sampled from ``/proc/PID/smaps_rollup`` (RSS, and USS: the pages only
    that process holds, i.e. what is not shared with the others) in a run of its own,
    not timed: reading ``smaps_rollup`` walks the page tables of the process read (about
    0.7 ms of CPU each), so sampling three processes every 50 ms took about 4% of a core
    from the busy workers of ``--jobs N`` while ``--jobs 1`` left a core free for it, and
    slowed only the run it is compared with.  Also the same rates
    after start-up: the wall time of ``framing tag`` on one article (imports and model
    loading, paid once per run whatever its size; starting the workers is not in it) is
    subtracted from both, which is what a run over millions of articles sees;
``tag_files`` on ``LocalCluster(n_workers=2, threads_per_worker=1)``
    sharded output, cluster start-up excluded (reported apart);
fastText (``loss="ova"``, ``wordNgrams=2``), given the sentences already split
    one process predicting all of them, and N processes predicting a share each, timed
    from the first process starting to predict to the last finishing (each process's
    model loading is left out, which favours fastText).

Rounds alternate the configurations, so a change in the machine's load hits all of them;
the table gives every round.  On a shared machine the load average is printed with each
round: compare only numbers from rounds with similar load.

    python benchmarks/scaling.py --sentences 400000 --rounds 3
    python benchmarks/scaling.py --write        # also update BENCHMARKS.md
"""

from __future__ import annotations

import argparse
import compileall
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _markdown import machine, replace_section  # noqa: E402
from throughput import articles_from, fasttext_model, get_model, training_sentences  # noqa: E402

REPO = Path(__file__).resolve().parents[1]


def _rollup(pid: int) -> tuple[int, int]:
    """RSS and USS (private pages) of a process, in kB."""
    rss = uss = 0
    try:
        for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
            key, _, rest = line.partition(":")
            if key == "Rss":
                rss = int(rest.split()[0])
            elif key in ("Private_Clean", "Private_Dirty"):
                uss += int(rest.split()[0])
    except (OSError, ValueError):
        pass
    return rss, uss


def _children(pid: int) -> list[int]:
    try:
        text = Path(f"/proc/{pid}/task/{pid}/children").read_text()
    except OSError:
        return []
    return [int(p) for p in text.split()]


def _children_cpu() -> float:
    """CPU seconds (user + system) of this process's finished children and theirs."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def framing_tag(
    src: Path, out: Path, jobs: int, *, memory: bool = False
) -> tuple[float, dict[str, float]]:
    """Wall seconds of ``framing tag`` and the CPU seconds of its processes (``cpu``), a
    check that a busy machine skews less; with ``memory``, also the peak RSS/USS (MB) of
    the main process and of the workers (the time of such a run is not a measurement:
    the sampling takes CPU from the workers).

    The previous round's output is deleted first, untimed: replacing a large file frees
    its blocks during the rename, a cost of the file system, not of tagging."""
    out.unlink(missing_ok=True)
    cmd = [sys.executable, "-m", "framing", "tag", str(src), "-o", str(out), "--jobs", str(jobs)]
    peaks = {"main_rss": 0.0, "main_uss": 0.0, "worker_rss": 0.0, "worker_uss": 0.0}
    cpu = _children_cpu()
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    done = threading.Event()

    def sample() -> None:
        while not done.is_set():
            rss, uss = _rollup(proc.pid)
            peaks["main_rss"] = max(peaks["main_rss"], rss / 1024)
            peaks["main_uss"] = max(peaks["main_uss"], uss / 1024)
            for child in _children(proc.pid):
                rss, uss = _rollup(child)
                peaks["worker_rss"] = max(peaks["worker_rss"], rss / 1024)
                peaks["worker_uss"] = max(peaks["worker_uss"], uss / 1024)
            time.sleep(0.05)

    sampler = threading.Thread(target=sample)
    if memory:
        sampler.start()
    _, err = proc.communicate()
    seconds = time.perf_counter() - start
    peaks["cpu"] = _children_cpu() - cpu
    done.set()
    if memory:
        sampler.join()
    if proc.returncode != 0:
        raise RuntimeError(err.decode(errors="replace"))
    return seconds, peaks


DASK_CHILD = """
import sys, time, json, shutil
from distributed import Client, LocalCluster
import framing
from framing.engines.dask import tag_files
src, out = sys.argv[1], sys.argv[2]
t0 = time.perf_counter()
model = framing.load_model()
with LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                  dashboard_address=None) as cluster, Client(cluster) as client:
    client.wait_for_workers(2)
    t1 = time.perf_counter()
    run = tag_files([src], model, out, client=client, shard_mb=float(sys.argv[3]))
    t2 = time.perf_counter()
print(json.dumps({"startup": t1 - t0, "tagging": t2 - t1, "sentences": run.sentences}))
"""


def dask_tag(src: Path, out: Path, shard_mb: float) -> dict[str, float]:
    proc = subprocess.run(
        [sys.executable, "-c", DASK_CHILD, str(src), str(out), str(shard_mb)],
        cwd=REPO,
        capture_output=True,
        text=True,
    )
    if proc.returncode != 0:
        raise RuntimeError(proc.stderr[-3000:])
    return json.loads(proc.stdout.strip().splitlines()[-1])


def fasttext_parallel(ft_path: Path, lines: list[str], jobs: int) -> float:
    """Wall seconds of ``jobs`` fresh processes each predicting its share of ``lines``."""
    code = (
        "import sys, time, fasttext\n"
        "ft = fasttext.load_model(sys.argv[1])\n"
        "lines = open(sys.argv[2], encoding='utf-8').read().split('\\n')\n"
        "k, n = int(sys.argv[3]), int(sys.argv[4])\n"
        "predict = ft.f.predict\n"
        "start = time.perf_counter()\n"
        "for line in lines[k::n]:\n"
        "    predict(line, -1, 0.5, 'strict')\n"
        "print(start, time.perf_counter())\n"
    )
    with tempfile.NamedTemporaryFile("w", suffix=".txt", delete=False, encoding="utf-8") as fh:
        fh.write("\n".join(lines))
        name = fh.name
    try:
        procs = [
            subprocess.Popen(
                [sys.executable, "-c", code, str(ft_path), name, str(k), str(jobs)],
                stdout=subprocess.PIPE,
                text=True,
            )
            for k in range(jobs)
        ]
        spans = []
        for p in procs:
            out, _ = p.communicate()
            if p.returncode != 0:
                raise RuntimeError("fastText child failed")
            spans.append([float(x) for x in out.split()])
        # From the first child starting to predict to the last one finishing (model
        # loading, which fastText does per process, is left out, as for `framing tag`
        # it is not: the comparison favours fastText).
        return max(e for _, e in spans) - min(s for s, _ in spans)
    finally:
        os.unlink(name)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sentences", type=int, default=400_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--jobs", type=int, default=len(os.sched_getaffinity(0)))
    parser.add_argument("--write", action="store_true", help="update BENCHMARKS.md")
    args = parser.parse_args()
    from framing.runtime.segment import split_sentences

    # An installed package has its bytecode compiled; a checkout run with
    # PYTHONDONTWRITEBYTECODE would compile every module at every start-up.
    compileall.compile_dir(REPO / "framing", quiet=1)
    sentences, source = training_sentences()
    base = articles_from(sentences)
    rows: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        model_path, how = get_model(work)
        corpus, split = [], []
        while len(split) < args.sentences:
            for text in base:
                corpus.append(text)
                split.extend(text[s:e] for s, e in split_sentences(text))
        src = work / "articles.jsonl"
        src.write_text(
            "".join(json.dumps({"id": f"a{i}", "text": t}) + "\n" for i, t in enumerate(corpus)),
            encoding="utf-8",
        )
        one_article = work / "one.jsonl"
        one_article.write_text(json.dumps({"id": "a0", "text": corpus[0]}) + "\n")
        n = len(split)
        shard_mb = src.stat().st_size / 1024 / 1024 / 16  # 16 shards
        ft, ft_version = fasttext_model(sentences, work)
        ft_path = work / "ft.bin"
        ft.save_model(str(ft_path))
        for r in range(1, args.rounds + 1):
            load = os.getloadavg()[0]
            startup, _ = framing_tag(one_article, work / "start.jsonl", 1)
            one, single = framing_tag(src, work / "out1.jsonl", 1)
            many, timed = framing_tag(src, work / "outN.jsonl", args.jobs)
            _, peaks = framing_tag(src, work / "outM.jsonl", args.jobs, memory=True)
            peaks["cpu"] = timed["cpu"]
            same = (work / "out1.jsonl").read_bytes() == (work / "outN.jsonl").read_bytes()
            dask = dask_tag(src, work / f"dask{r}", shard_mb)
            ft1 = fasttext_parallel(ft_path, split, 1)
            ftn = fasttext_parallel(ft_path, split, args.jobs)
            row = {
                "round": r,
                "load": load,
                "one": n / one,
                "many": n / many,
                "startup": startup,
                "one_run": n / (one - startup),
                "many_run": n / (many - startup),
                "dask": n / dask["tagging"],
                "dask_startup": dask["startup"],
                "ft1": n / ft1,
                "ftn": n / ftn,
                "same": same,
                "cpu_one": single["cpu"],
                "cpu_many": peaks.pop("cpu"),
                **peaks,
            }
            rows.append(row)
            print(json.dumps(row), flush=True)
    med = {k: statistics.median(r[k] for r in rows) for k in rows[0] if k not in ("same",)}
    j = args.jobs
    lines = [
        f"Machine: {machine()}; this benchmark's CPU affinity: {len(os.sched_getaffinity(0))} "
        f"cores. Model: {how}. Corpus: {len(corpus):,} articles, {n:,} sentences (the "
        f"articles of {source}, repeated). fastText: {ft_version}, one-vs-all, given the "
        "sentences already split. Rates are sentences per wall-clock second, medians of "
        f"{len(rows)} rounds; every round is listed below with the load average at its start.",
        "",
        "| what | sentences/s | vs 1 worker | vs fastText, same processes |",
        "|---|---:|---:|---:|",
        f"| `framing tag --jobs 1` | {med['one']:,.0f} | 1.00x | {med['one'] / med['ft1']:.2f}x |",
        f"| `framing tag --jobs {j}` | {med['many']:,.0f} | {med['many'] / med['one']:.2f}x "
        f"| {med['many'] / med['ftn']:.2f}x |",
        f"| `framing tag --jobs 1`, after start-up ({med['startup']:.2f} s subtracted) | "
        f"{med['one_run']:,.0f} | 1.00x | {med['one_run'] / med['ft1']:.2f}x |",
        f"| `framing tag --jobs {j}`, after start-up | {med['many_run']:,.0f} | "
        f"{med['many_run'] / med['one_run']:.2f}x | {med['many_run'] / med['ftn']:.2f}x |",
        f"| Dask `tag_files`, LocalCluster of 2 worker processes (start-up of "
        f"{med['dask_startup']:.1f} s not counted) | {med['dask']:,.0f} | "
        f"{med['dask'] / med['one']:.2f}x | {med['dask'] / med['ftn']:.2f}x |",
        f"| fastText, 1 process | {med['ft1']:,.0f} | | 1.00x |",
        f"| fastText, {j} processes | {med['ftn']:,.0f} | | 1.00x |",
        "",
        f"Memory of `framing tag --jobs {j}` (peak, MB, sampled in an untimed run of its own): "
        "main process RSS "
        f"{med['main_rss']:.0f} (USS {med['main_uss']:.0f}); each worker RSS "
        f"{med['worker_rss']:.0f}, of which only USS {med['worker_uss']:.0f} is its own: the "
        "rest (the model's arrays, the interpreter) is shared with the main process, "
        "copy-on-write after the fork. `--jobs 1` and `--jobs N` wrote identical output in "
        f"every round: {all(r['same'] for r in rows)}. CPU seconds (user + system, the main "
        f"process and its workers): {med['cpu_one']:.2f} with `--jobs 1`, {med['cpu_many']:.2f} "
        f"with `--jobs {j}` (the extra: each worker fills its own caches of the words it "
        "has seen, and the main process finds the line ends and hands out the batches; "
        "see the text above the table).",
        "",
        "| round | load average | jobs 1 | jobs N | speed-up | after start-up "
        "| CPU s, jobs 1 / jobs N | Dask | fastText 1 | fastText N |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        lines.append(
            f"| {r['round']} | {r['load']:.1f} | {r['one']:,.0f} | {r['many']:,.0f} | "
            f"{r['many'] / r['one']:.2f}x | {r['many_run'] / r['one_run']:.2f}x | "
            f"{r['cpu_one']:.2f} / {r['cpu_many']:.2f} | "
            f"{r['dask']:,.0f} | {r['ft1']:,.0f} | {r['ftn']:,.0f} |"
        )
    table = "\n".join(lines)
    print(table)
    if args.write:
        replace_section("scaling-table", table)


if __name__ == "__main__":
    main()

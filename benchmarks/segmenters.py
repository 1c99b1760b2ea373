"""Compare sentence segmenters on the tricky news set and on speed.

Candidates: ``framing.runtime.segment`` (ours), pysbd, blingfire and syntok.  Third-party
segmenters are optional imports; a missing one is reported and skipped.

Accuracy is measured on ``tests/data/segmentation_cases.jsonl``:

* *cases right*: the predicted spans equal the expected spans exactly;
* *boundary P/R/F1*: micro-averaged over all cases, where the boundaries of a document are
  the start offsets of every sentence but the first (after stripping whitespace, so
  segmenters that keep or drop surrounding whitespace are treated alike).

Speed is measured on a synthetic news corpus of at least 2 MB (UTF-8) built by shuffling
and repeating the tricky texts into article-sized documents (about 20 cases each, separated
by blank lines).  Each segmenter runs over every document, on one CPU core, best of 3 runs;
*sentences/s* is the number of reference sentences in the corpus divided by that time, so
every candidate is credited with the same workload whatever it predicts.  For third-party
segmenters only the library call is timed, not our mapping of its output to spans.

Run from the repository root::

    python benchmarks/segmenters.py            # print the Markdown table
    python benchmarks/segmenters.py --write    # and update BENCHMARKS.md
"""

from __future__ import annotations

import argparse
import gc
import importlib.metadata
import importlib.util
import json
import os
import random
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _markdown import machine, replace_section  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
CASES = ROOT / "tests" / "data" / "segmentation_cases.jsonl"
BENCHMARKS_MD = ROOT / "BENCHMARKS.md"
START, END = "<!-- segmenters:start -->", "<!-- segmenters:end -->"
MIN_CORPUS_BYTES = 2 * 1024 * 1024
CASES_PER_DOC = 20
REPEATS = 3
SEED = 13

Span = tuple[int, int]
#: A candidate: takes a document, returns its sentence spans.  ``raw`` runs only the
#: library call (used for timing); ``spans`` also maps its output to character spans.
Splitter = Callable[[str], object]


@dataclass
class Candidate:
    name: str
    version: str
    raw: Splitter
    spans: Callable[[str], list[Span]]


# --------------------------------------------------------------------------- mapping


def _strip_span(text: str, start: int, end: int) -> Span | None:
    """Shrink ``text[start:end]`` to its non-whitespace core, ``None`` if it is empty."""
    piece = text[start:end]
    left = len(piece) - len(piece.lstrip())
    right = len(piece.rstrip())
    if right <= left:
        return None
    return start + left, start + right


def spans_from_strings(text: str, sentences: Sequence[str]) -> list[Span]:
    """Map sentence strings back to spans by walking the non-whitespace characters.

    Segmenters that return strings may drop, add or change whitespace (pysbd keeps the
    trailing whitespace, some normalise line breaks), so each sentence is aligned by its
    count of non-whitespace characters: the n-th sentence covers the next ``k`` non-space
    characters of ``text``.  This never fails on whitespace changes; if a segmenter altered
    visible characters the alignment is still positionally fair.
    """
    nonspace = [i for i, ch in enumerate(text) if not ch.isspace()]
    spans: list[Span] = []
    cursor = 0
    for sentence in sentences:
        k = sum(1 for ch in sentence if not ch.isspace())
        if k == 0 or cursor >= len(nonspace):
            continue
        last = min(cursor + k, len(nonspace)) - 1
        spans.append((nonspace[cursor], nonspace[last] + 1))
        cursor = last + 1
    if cursor < len(nonspace) and spans:  # a segmenter dropped trailing text
        spans[-1] = (spans[-1][0], nonspace[-1] + 1)
    return spans


# --------------------------------------------------------------------------- candidates


def _load_ours() -> ModuleType:
    sys.path.insert(0, str(ROOT))
    try:
        import framing.runtime.segment as module

        return module
    except Exception:  # a sibling module may be half-written: load the file by path
        spec = importlib.util.spec_from_file_location(
            "framing_segment", ROOT / "framing" / "segment.py"
        )
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        return module


def _version(dist: str) -> str:
    try:
        return importlib.metadata.version(dist)
    except importlib.metadata.PackageNotFoundError:
        return "?"


def candidates() -> list[Candidate]:
    found: list[Candidate] = []
    ours = _load_ours()
    found.append(
        Candidate(
            "framing.runtime.segment (ours)",
            _version("framing"),
            ours.split_sentences,
            ours.split_sentences,
        )
    )

    try:
        import pysbd
    except ImportError:
        print("pysbd is not installed: skipped", file=sys.stderr)
    else:
        # clean=False keeps the original text; strings are aligned by spans_from_strings
        # (pysbd's own char_span mode re-finds sentences with str.find and is slower).
        seg = pysbd.Segmenter(language="en", clean=False)
        found.append(
            Candidate(
                "pysbd",
                _version("pysbd"),
                seg.segment,
                lambda t: spans_from_strings(t, seg.segment(t)),
            )
        )

    try:
        import blingfire
    except ImportError:
        print("blingfire is not installed: skipped", file=sys.stderr)
    else:
        # text_to_sentences_and_offsets returns character offsets into the input; each
        # span is stripped of surrounding whitespace and empty spans are dropped.
        def blingfire_spans(text: str) -> list[Span]:
            if not text.strip():
                return []
            _, offsets = blingfire.text_to_sentences_and_offsets(text)
            out = [_strip_span(text, a, b) for a, b in offsets]
            return [s for s in out if s is not None]

        found.append(
            Candidate(
                "blingfire",
                _version("blingfire"),
                blingfire.text_to_sentences_and_offsets,
                blingfire_spans,
            )
        )

    try:
        from syntok import segmenter as syntok_segmenter
    except ImportError:
        print("syntok is not installed: skipped", file=sys.stderr)
    else:
        # analyze() yields paragraphs of sentences of tokens; every token knows its offset
        # in the input, so a sentence is (first token offset, last token offset + length),
        # ignoring the empty end-of-text tokens syntok emits.
        def syntok_spans(text: str) -> list[Span]:
            out: list[Span] = []
            for paragraph in syntok_segmenter.analyze(text):
                for sentence in paragraph:
                    toks = [t for t in sentence if t.value]
                    if toks:
                        out.append((toks[0].offset, toks[-1].offset + len(toks[-1].value)))
            return out

        def syntok_raw(text: str) -> None:
            for paragraph in syntok_segmenter.analyze(text):
                for sentence in paragraph:
                    for _ in sentence:
                        pass

        found.append(Candidate("syntok", _version("syntok"), syntok_raw, syntok_spans))
    return found


# --------------------------------------------------------------------------- evaluation


@dataclass
class Case:
    name: str
    text: str
    sentences: list[str]


def load_cases() -> list[Case]:
    with CASES.open(encoding="utf-8") as handle:
        rows = [json.loads(line) for line in handle if line.strip()]
    return [Case(str(r["name"]), str(r["text"]), [str(s) for s in r["sentences"]]) for r in rows]


def expected_spans(text: str, sentences: Sequence[str]) -> list[Span]:
    spans: list[Span] = []
    pos = 0
    for sentence in sentences:
        start = text.index(sentence, pos)
        spans.append((start, start + len(sentence)))
        pos = start + len(sentence)
    return spans


@dataclass
class Accuracy:
    right: int
    total: int
    precision: float
    recall: float
    f1: float


def accuracy(cand: Candidate, cases: Sequence[Case]) -> Accuracy:
    right = tp = fp = fn = 0
    for case in cases:
        gold = expected_spans(case.text, case.sentences)
        pred = cand.spans(case.text)
        right += pred == gold
        gold_b = {s for s, _ in gold[1:]}
        pred_b = {s for s, _ in pred[1:]}
        tp += len(gold_b & pred_b)
        fp += len(pred_b - gold_b)
        fn += len(gold_b - pred_b)
    p = tp / (tp + fp) if tp + fp else 1.0
    r = tp / (tp + fn) if tp + fn else 1.0
    f = 2 * p * r / (p + r) if p + r else 0.0
    return Accuracy(right, len(cases), p, r, f)


def build_corpus(cases: Sequence[Case]) -> tuple[list[str], int]:
    """Article-sized documents of shuffled cases, >= 2 MB in total, and their sentence count."""
    rng = random.Random(SEED)
    usable = [c for c in cases if c.text.strip()]
    docs: list[str] = []
    size = sentences = 0
    while size < MIN_CORPUS_BYTES:
        batch = rng.sample(usable, CASES_PER_DOC)
        doc = "\n\n".join(c.text.strip() for c in batch)
        docs.append(doc)
        size += len(doc.encode("utf-8"))
        sentences += sum(len(c.sentences) for c in batch)
    return docs, sentences


def best_time(func: Splitter, docs: Sequence[str]) -> float:
    best = float("inf")
    for _ in range(REPEATS):
        gc.collect()
        t0 = time.perf_counter()
        for doc in docs:
            func(doc)
        best = min(best, time.perf_counter() - t0)
    return best


def pin_one_core() -> str:
    if hasattr(os, "sched_setaffinity"):
        core = min(os.sched_getaffinity(0))
        os.sched_setaffinity(0, {core})
        return f"pinned to core {core}"
    return "not pinned"


def run() -> str:
    pinned = pin_one_core()
    cases = load_cases()
    docs, n_sentences = build_corpus(cases)
    n_bytes = sum(len(d.encode("utf-8")) for d in docs)
    rows = []
    for cand in candidates():
        acc = accuracy(cand, cases)
        seconds = best_time(cand.raw, docs)
        rows.append((cand, acc, seconds))
        print(f"{cand.name}: {acc.right}/{acc.total} right, {seconds:.2f}s", file=sys.stderr)
    lines = [
        "Rerun: `python benchmarks/segmenters.py --write` (from the repository root).",
        "",
        f"Machine: {machine()}; each segmenter runs on one core ({pinned}). "
        f"Tricky set: {len(cases)} hand-checked cases in "
        "`tests/data/segmentation_cases.jsonl`. Speed corpus: "
        f"{len(docs)} synthetic articles, {n_bytes / 1e6:.2f} MB, {n_sentences:,} reference "
        f"sentences; best of {REPEATS} runs.",
        "",
        "| Segmenter | Version | Cases fully right | Boundary P | Boundary R | Boundary F1 "
        "| Sentences/s | MB/s |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for cand, acc, seconds in rows:
        lines.append(
            f"| {cand.name} | {cand.version} | {acc.right}/{acc.total} "
            f"({100 * acc.right / acc.total:.1f}%) | {acc.precision:.3f} | {acc.recall:.3f} "
            f"| {acc.f1:.3f} | {n_sentences / seconds:,.0f} | {n_bytes / 1e6 / seconds:.2f} |"
        )
    return "\n".join(lines)


INTRO = (
    "Every number on this page is written by a script in `benchmarks/`; do not edit the "
    "generated blocks by hand. Each section names the command that regenerates it: run it "
    "from the repository root with the `bench` extra installed (`pip install -e .[bench]`)."
)
SECTION_HEAD = (
    "## Sentence segmentation\n\n"
    "`benchmarks/segmenters.py` compares `framing.runtime.segment` with pysbd, blingfire and "
    "syntok on the hand-checked tricky news set (accuracy) and on a synthetic news corpus "
    "(speed).\n"
)


def write_benchmarks(section: str) -> None:
    """Create BENCHMARKS.md if needed, then replace only the segmenters block."""
    text = BENCHMARKS_MD.read_text(encoding="utf-8") if BENCHMARKS_MD.exists() else ""
    if not text.strip():
        text = "# Benchmarks\n"
    if INTRO not in text:  # put the intro paragraph right after the top heading
        head, _, rest = text.partition("\n")
        text = f"{head}\n\n{INTRO}\n\n{rest.lstrip()}".rstrip() + "\n"
    if START not in text or END not in text:
        text = text.rstrip() + f"\n\n{SECTION_HEAD}\n{START}\n{END}\n"
    tmp = BENCHMARKS_MD.with_suffix(".md.tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, BENCHMARKS_MD)
    replace_section("segmenters", section, BENCHMARKS_MD)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument(
        "--write", action="store_true", help=f"replace the segmenters section of {BENCHMARKS_MD}"
    )
    args = parser.parse_args(argv)
    table = run()
    print(table)
    if args.write:
        write_benchmarks(table)
        print(f"wrote {BENCHMARKS_MD}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

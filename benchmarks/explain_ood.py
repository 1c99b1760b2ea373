"""What ``--explain`` and the out-of-distribution check cost, and how often the check flags.

cost
    ``framing tag articles.jsonl -o out.jsonl`` on the corpus of
    ``benchmarks/throughput.py`` (the bundled articles repeated to ``--sentences``),
    each run a fresh process pinned to one core, best of ``--repeats`` CPU times, the
    runs alternating: the model without out-of-distribution data, the same model with
    it, and that model with ``--explain``.
flag rates
    The share of articles flagged by the check, calibrated on the training articles as
    ``framing train`` does, on the bundled dev and test splits (held out, same style)
    and on a style-shifted set (``--shifted``, default
    ``data/annotations/dev-shifted.jsonl``).

The model: ``models/default``; when it has no ``ood.json`` (trained before the check
existed), the check is calibrated here on ``data/annotations`` train split exactly as
training does and added to a copy.

    python benchmarks/explain_ood.py                 # print the results
    python benchmarks/explain_ood.py --write         # also update BENCHMARKS.md
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
from collections import defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _markdown import machine, replace_section  # noqa: E402
from throughput import articles_from, pin, run_child, training_sentences  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
DATA = REPO / "data" / "annotations"
SHIFTED = DATA / "dev-shifted.jsonl"


def articles_of(path: Path) -> dict[str, str]:
    """Article bodies of an annotation file: a document's ``text``, else its sentences."""
    sentences: dict[str, list[tuple[int, str]]] = defaultdict(list)
    bodies: dict[str, str] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip():
            continue
        record = json.loads(line)
        if record.get("type") == "document":
            if isinstance(record.get("text"), str):
                bodies[record["doc_id"]] = record["text"]
        elif isinstance(record.get("text"), str):
            sentences[record["doc_id"]].append((record.get("sent_index") or 0, record["text"]))
    for doc_id, parts in sentences.items():
        bodies.setdefault(doc_id, "\n".join(text for _, text in sorted(parts)))
    return bodies


def model_with_ood(workdir: Path) -> tuple[Path, Path, str]:
    """(model without ood.json, model with it, how the check was made)."""
    from framing.training.ood import calibrate_ood

    from framing.runtime.model import resolve_model_path
    from framing.runtime.ood import OOD_FILE

    default = resolve_model_path("default")
    with_ood = workdir / "default-ood"
    without = workdir / "default-no-ood"
    shutil.copytree(default, with_ood)
    shutil.copytree(default, without)
    (without / OOD_FILE).unlink(missing_ok=True)
    if (default / OOD_FILE).is_file():
        return without, with_ood, "the model's own `ood.json`"
    check = calibrate_ood(list(articles_of(DATA / "train.jsonl").values()))
    assert check is not None
    check.save(with_ood)
    return (
        without,
        with_ood,
        (
            "calibrated for the run on the train split's articles, as `framing train` does "
            "(`models/default` predates the check)"
        ),
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--write", action="store_true", help="update BENCHMARKS.md")
    parser.add_argument("--sentences", type=int, default=100_000, help="corpus size")
    parser.add_argument("--repeats", type=int, default=3, help="best of N")
    parser.add_argument("--shifted", type=Path, default=SHIFTED, help="style-shifted articles")
    args = parser.parse_args()
    pin()

    from framing.runtime.model import load_model
    from framing.runtime.segment import split_sentences

    with tempfile.TemporaryDirectory(prefix="framing-bench-") as tmp:
        workdir = Path(tmp)
        without, with_ood, how = model_with_ood(workdir)
        sentences, source = training_sentences()
        base = articles_from(sentences)
        corpus: list[str] = []
        n_sent = 0
        while n_sent < args.sentences:
            for text in base:
                corpus.append(text)
                n_sent += len(split_sentences(text))
        articles_file = workdir / "articles.jsonl"
        with articles_file.open("w", encoding="utf-8") as out:
            for i, text in enumerate(corpus):
                out.write(json.dumps({"id": f"a{i}", "text": text}, ensure_ascii=False) + "\n")
        print(f"corpus: {len(corpus)} articles, {n_sent} sentences from {source}", flush=True)

        runs: dict[str, list[str]] = {
            "no check": ["-m", str(without)],
            "check": ["-m", str(with_ood)],
            "check + explain": ["-m", str(with_ood), "--explain"],
        }
        best: dict[str, float] = dict.fromkeys(runs, float("inf"))
        sizes: dict[str, int] = {}
        for _ in range(args.repeats):
            for name, extra in runs.items():
                out = workdir / f"{name.replace(' ', '-')}.jsonl"
                cmd = [sys.executable, "-m", "framing", "tag", str(articles_file), *extra]
                _, cpu, _ = run_child([*cmd, "-o", str(out)])
                best[name] = min(best[name], cpu)
                sizes[name] = out.stat().st_size
        rates = {name: n_sent / cpu for name, cpu in best.items()}
        for name, rate in rates.items():
            print(f"{name}: {rate:,.0f} sentences/s, output {sizes[name] / 1e6:,.1f} MB")

        model = load_model(with_ood)
        assert model.ood is not None
        sets: dict[str, dict[str, str]] = {}
        # the bundled model trains on dev since round 3 (BENCHMARKS.md): then dev is not held out
        if "dev" not in model.meta.config.get("data", {}).get("train", ["train"]):
            sets["dev split (held out, same sources and style)"] = articles_of(DATA / "dev.jsonl")
        sets["test split (held out, same sources and style)"] = articles_of(DATA / "test.jsonl")
        shifted_note = ""
        if args.shifted.is_file():
            sets["style-shifted articles (TV transcripts, interviews, speeches, blogs, ...)"] = (
                articles_of(args.shifted)
            )
            shifted_note = (
                "`data/annotations/dev-shifted.jsonl`"
                if args.shifted.resolve() == SHIFTED.resolve()
                else f"`--shifted {args.shifted.name}`, given a copy from outside the repository"
            )
        else:
            print(f"{args.shifted} is absent: no style-shifted row", flush=True)
        flags: list[tuple[str, int, int, float, float]] = []
        for name, texts in sets.items():
            checks = model.ood.check_many(list(texts.values()))
            flagged = sum(c.flagged for c in checks)
            scores = sorted(c.score for c in checks)
            median = scores[len(scores) // 2] if scores else float("nan")
            flags.append((name, flagged, len(checks), median, max(scores, default=float("nan"))))
            print(f"{name}: {flagged}/{len(checks)} flagged, median score {median:.3f}")

    base_rate = rates["no check"]
    cost_rows = "\n".join(
        f"| {label} | {rates[name]:,.0f} | {rates[name] / base_rate:.2f}x | "
        f"{sizes[name] / 1e6:,.1f} |"
        for name, label in (
            ("no check", "`framing tag` with a model without `ood.json` (no check)"),
            ("check", "`framing tag` with the check (the default once a model has `ood.json`)"),
            ("check + explain", "`framing tag --explain` with the check"),
        )
    )
    flag_rows = "\n".join(
        f"| {name} | {k} of {n} ({k / n:.0%}) | {median:.3f} | {top:.3f} |"
        for name, k, n, median, top in flags
    )
    threshold = model.ood.threshold
    cal = model.ood.calibration
    body = f"""## Explanations and the out-of-distribution check

Rerun: `python benchmarks/explain_ood.py --write`. Style-shifted articles: {
        shifted_note or "absent from this run"
    }.

Machine: {machine()}; every process pinned to one core.
Model: `models/default`; its out-of-distribution check: {how}.

**Cost.** `framing tag articles.jsonl -o out.jsonl` on the corpus of
`benchmarks/throughput.py` ({len(corpus):,} articles, {n_sent:,} sentences: the bundled
articles repeated), whole process, sentences per CPU second, best of {args.repeats}, the three
runs alternating:

| run | sentences/s | vs no check | output MB |
|---|---:|---:|---:|
{cost_rows}

`--explain` explains every predicted label (the bundled model's thresholds are low, so most
sentences carry one or more labels): the n-grams of each sentence are looked up again and
each label's contributions gathered and ranked, and each article's JSON is built from
result objects rather than straight from the batch's score arrays (the same msgspec
writer). It is meant to be left on for a whole run; the table says what that costs.

**Flag rates.** Threshold {threshold:.3f} (the {cal.get("quantile")} quantile of
{cal.get("articles")} leave-one-article-out scores of the training articles; held-out scores
ranged {cal.get("held_out_scores", {}).get("min", float("nan")):.3f}-{
        cal.get("held_out_scores", {}).get("max", float("nan")):.3f}). Score: the share of an
article's word n-grams (words and word pairs, first 3,000 characters) never seen in training.

| articles | flagged | median score | highest score |
|---|---:|---:|---:|
{flag_rows}

By construction about {1 - cal.get("quantile", 0.95):.0%} of the training articles, each held
out in turn, are above the threshold. With 10 articles per held-out split and
{cal.get("articles")} calibration articles, these rates are rough: each held-out article is
10 percentage points.
"""
    print(body)
    if args.write:
        replace_section("explain-ood", body)
        print("updated BENCHMARKS.md")


if __name__ == "__main__":
    main()

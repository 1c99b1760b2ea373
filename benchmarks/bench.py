"""Benchmark harness: our shipped training configs against two peers, on one corpus.

    python benchmarks/bench.py benchmarks/corpora/frac.toml            # print the table
    python benchmarks/bench.py benchmarks/corpora/frac.toml --write    # also update BENCHMARKS.md

A corpus config (see ``benchmarks/corpora/``) names the data (a framing importer and
its input, or annotation JSONL), the protocol (k-fold cross-validation grouped by
document and stratified over labels, or a fixed train/test split) and the task's metric.
In one run, on the same folds, the harness trains and scores:

* every shipped config in ``training/configs/`` (``framing.training.train.fit_model``: its own
  thresholds are tuned by cross-validation on the training part only);
* the honest peers of ``_baselines.py``, the strongest plain systems a competent user
  would build in an afternoon, each tuned on the fold's training part only: TF-IDF word
  1-2-grams, and word 1-2-grams plus character 2-5-grams, into logistic regression with
  ``C`` and ``class_weight`` chosen by grouped 3-fold cross-validation on the corpus's
  metric; and fastText with its learning rate, epochs and character n-grams chosen on
  the corpus's metric on a grouped 80/20 split of the training part.
  Multi-label dimensions get one threshold per label tuned on out-of-fold (fastText:
  validation) scores, as our configs do.

Single-label dimensions (every training example has exactly one label) take the
best-scoring label, for every system alike.  Each system runs in its own
single-threaded process (BLAS/OpenMP threads and fastText threads set to 1), so that its
peak memory (maximum resident set size) is its own; training time is the mean per fold,
and tagging throughput is measured on 5,000 sentences of the corpus (test texts,
cycled) after training; our configs tag through the saved model (``Model.predict``).
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import re
import resource
import statistics
import subprocess
import sys
import tempfile
import time
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(Path(__file__).resolve().parent))
from _markdown import machine, replace_section  # noqa: E402

SECTION = "bench"
LOAD = " / ".join(f"{x:.1f}" for x in os.getloadavg())
#: (row name, worker name) of the peers.
PEER_SYSTEMS = [
    ("TF-IDF word 1-2, tuned", "tfidf-word"),
    ("TF-IDF word+char, tuned", "tfidf-wordchar"),
    ("fastText, tuned", "fasttext-tuned"),
]
BASELINES = {worker for _, worker in PEER_SYSTEMS}
METRICS = ("micro_f1", "macro_f1", "samples_f1")
THROUGHPUT_N = 5000


# --------------------------------------------------------------------------- corpus


@dataclass(frozen=True)
class CorpusSpec:
    name: str
    title: str
    source: dict[str, Any]
    protocol: dict[str, Any]
    metric: str
    level: str
    dimensions: tuple[str, ...]


def load_spec(path: Path) -> CorpusSpec:
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    allowed = {"name", "title", "source", "protocol", "metric", "level", "dimensions"}
    unknown = set(data) - allowed
    if unknown:
        raise SystemExit(f"{path}: unknown key(s) {sorted(unknown)}; valid: {sorted(allowed)}")
    protocol = dict(data.get("protocol", {"kind": "cv", "folds": 5, "seed": 13}))
    if protocol.get("kind") not in ("cv", "split"):
        raise SystemExit(f"{path}: protocol.kind must be 'cv' or 'split'")
    metric = data.get("metric", {}).get("name", "macro_f1")
    if metric not in METRICS:
        raise SystemExit(f"{path}: metric.name must be one of {', '.join(METRICS)}")
    return CorpusSpec(
        name=data["name"],
        title=data.get("title", data["name"]),
        source=dict(data["source"]),
        protocol=protocol,
        metric=metric,
        level=data.get("level", "sentence"),
        dimensions=tuple(data.get("dimensions", ())),
    )


def _repo_path(value: str) -> Path:
    path = Path(value)
    return path if path.is_absolute() else REPO / path


def load_records(spec: CorpusSpec) -> tuple[list[Any], Any]:
    """The corpus's records and codebook, read or imported with a framing importer."""
    from framing.format.annotations import iter_records
    from framing.format.codebook import load_codebook

    source = spec.source
    if source["importer"] == "jsonl":
        codebook = load_codebook(_repo_path(source["codebook"]))
        paths = [_repo_path(p) for p in source["paths"]]
        return list(iter_records(paths, codebook)), codebook
    module = importlib.import_module(f"framing.exchange.importers.{source['importer']}")
    path = _repo_path(source["path"])
    if not path.exists():
        raise SystemExit(f"{path}: corpus not found (third-party data lives in ../shared/)")
    result = getattr(module, source["importer"])(path, **source.get("options", {}))
    return result.records, result.codebook


def prepare(spec: CorpusSpec, work: Path) -> dict[str, Any]:
    """Write the corpus once per fold (splits: train/test) and the examples; return the plan."""
    from framing.training.thresholds import grouped_folds, stratification_key
    from framing.training.train import build_examples

    from framing.files import write_text
    from framing.format.annotations import read_corpus, write_jsonl

    records, codebook = load_records(spec)
    write_text(work / "codebook.toml", codebook.to_toml())
    write_jsonl(work / "corpus.jsonl", records)
    corpus = read_corpus([work / "corpus.jsonl"], codebook)
    dims = list(spec.dimensions) or list(codebook.dimension_ids)
    examples = build_examples(corpus, dims, level=spec.level)
    if spec.protocol["kind"] == "cv":
        first = dims[0]
        Y = examples.indicator(first, list(codebook.dimension(first).label_ids))
        folds = grouped_folds(
            stratification_key(Y),
            examples.doc_ids,
            int(spec.protocol.get("folds", 5)),
            int(spec.protocol.get("seed", 13)),
        )
        fold_docs = [
            ({examples.doc_ids[i] for i in tr}, {examples.doc_ids[i] for i in te})
            for tr, te in folds
        ]
        index = [(tr.tolist(), te.tolist()) for tr, te in folds]
    else:
        train_splits, test_splits = set(spec.protocol["train"]), set(spec.protocol["test"])
        tr = [i for i, s in enumerate(examples.splits) if s in train_splits]
        te = [i for i, s in enumerate(examples.splits) if s in test_splits]
        fold_docs = [({examples.doc_ids[i] for i in tr}, {examples.doc_ids[i] for i in te})]
        index = [(tr, te)]
    fold_files = []
    for k, (train_docs, test_docs) in enumerate(fold_docs):
        for record in records:
            record.split = (
                "train"
                if record.doc_id in train_docs
                else "test"
                if record.doc_id in test_docs
                else None
            )
        path = work / f"fold{k + 1}.jsonl"
        write_jsonl(path, records)
        fold_files.append(str(path))
    labels = {dim: list(codebook.dimension(dim).label_ids) for dim in dims}
    plan = {
        "corpus": spec.name,
        "level": spec.level,
        "dimensions": dims,
        "labels": labels,
        "codebook": str(work / "codebook.toml"),
        "texts": examples.texts,
        "gold": [{d: list(lab.get(d, ())) for d in dims} for lab in examples.labels],
        "folds": [
            {"train": tr, "test": te, "jsonl": f}
            for (tr, te), f in zip(index, fold_files, strict=True)
        ],
        "n_examples": len(examples),
        "doc_ids": examples.doc_ids,
        "metric": spec.metric,
        "n_labels": {d: len(v) for d, v in labels.items()},
    }
    (work / "plan.json").write_text(json.dumps(plan), encoding="utf-8")
    return plan


# --------------------------------------------------------------------------- systems


def _throughput_texts(plan: dict[str, Any]) -> list[str]:
    test = [plan["texts"][i] for fold in plan["folds"] for i in fold["test"]]
    return [test[i % len(test)] for i in range(THROUGHPUT_N)]


def run_ours(plan: dict[str, Any], config_path: Path, work: Path) -> dict[str, Any]:
    """Train a shipped config with ``fit_model`` on each fold, then tag the held-out part
    with the saved model through the path ``framing tag`` uses (``Model.predict``)."""
    from framing.training.config import config_from_dict
    from framing.training.train import fit_model

    from framing.runtime.model import load_model

    raw = tomllib.loads(config_path.read_text(encoding="utf-8"))
    folds_out = []
    model = None
    for k, fold in enumerate(plan["folds"], start=1):
        raw["name"] = f"bench-{config_path.stem}"
        raw["dimensions"] = plan["dimensions"]
        raw["n_jobs"] = 1  # one process, as every peer (the shipped configs use every CPU)
        raw["data"] = {
            **raw.get("data", {}),
            "paths": [fold["jsonl"]],
            "codebook": plan["codebook"],
            "level": plan["level"],
            "train": ["train"],
            "dev": [],
            "test": [],
        }
        config = config_from_dict(raw)
        start = time.perf_counter()
        fitted = fit_model(config)
        seconds = time.perf_counter() - start
        folder = work / f"model-{config_path.stem}-{k}"
        fitted.save(folder)
        model = load_model(folder)
        texts = [plan["texts"][i] for i in fold["test"]]
        folds_out.append({"train_seconds": seconds, "predictions": _predict_ours(model, texts)})
    assert model is not None
    sample = _throughput_texts(plan)
    start = time.perf_counter()
    _predict_ours(model, sample)
    rate = len(sample) / (time.perf_counter() - start)
    return {"folds": folds_out, "sentences_per_second": rate}


def _predict_ours(model: Any, texts: list[str]) -> list[dict[str, list[str]]]:
    return [
        {dim: tagged.label_ids(dim) for dim in model.dimensions} for tagged in model.predict(texts)
    ]


def run_baseline(plan: dict[str, Any], kind: str, work: Path) -> dict[str, Any]:
    """An honest baseline of ``_baselines`` (tuned on each fold's training part only)."""
    from _baselines import fit_fasttext, fit_tfidf

    def fit(texts: list[str], labels: list[list[str]], groups: list[str]) -> Any:
        if kind == "fasttext-tuned":
            return fit_fasttext(texts, labels, groups, work, metric=plan["metric"])
        return fit_tfidf(
            texts, labels, groups, char=kind == "tfidf-wordchar", metric=plan["metric"]
        )

    folds_out = []
    models: dict[str, Any] = {}
    for fold in plan["folds"]:
        texts = [plan["texts"][i] for i in fold["train"]]
        groups = [plan["doc_ids"][i] for i in fold["train"]]
        start = time.perf_counter()
        models = {
            dim: fit(texts, [plan["gold"][i][dim] for i in fold["train"]], groups)
            for dim in plan["dimensions"]
        }
        seconds = time.perf_counter() - start
        test = [plan["texts"][i] for i in fold["test"]]
        per_dim = {dim: model.predict(test) for dim, model in models.items()}
        folds_out.append(
            {
                "train_seconds": seconds,
                "predictions": [
                    {dim: per_dim[dim][i] for dim in per_dim} for i in range(len(test))
                ],
                "chosen": {dim: model.chosen for dim, model in models.items()},
            }
        )
    sample = _throughput_texts(plan)
    start = time.perf_counter()
    for model in models.values():
        model.predict(sample)
    rate = len(sample) / (time.perf_counter() - start)
    return {"folds": folds_out, "sentences_per_second": rate}


def worker(system: str, plan_path: Path, out: Path) -> None:
    """Run one system on every fold (in this process) and write its results as JSON."""
    plan = json.loads(plan_path.read_text(encoding="utf-8"))
    if system in BASELINES:
        result = run_baseline(plan, system, plan_path.parent)
    else:
        result = run_ours(plan, Path(system), plan_path.parent)
    result["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    out.write_text(json.dumps(result), encoding="utf-8")


def spawn(system: str, plan_path: Path, out: Path) -> dict[str, Any]:
    env = dict(os.environ)
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        env[var] = "1"
    env["PYTHONHASHSEED"] = "0"
    command = [sys.executable, __file__, "--worker", system, "--plan", str(plan_path)]
    command += ["--out", str(out)]
    subprocess.run(command, check=True, env=env, cwd=REPO)
    return json.loads(out.read_text(encoding="utf-8"))


# --------------------------------------------------------------------------- scoring


def score(plan: dict[str, Any], result: dict[str, Any]) -> dict[str, Any]:
    """Per dimension and metric: the mean and standard deviation over folds."""
    import numpy as np
    from framing.training.evaluate import score_dimension

    per: dict[str, dict[str, list[float]]] = {
        dim: {m: [] for m in METRICS} for dim in plan["dimensions"]
    }
    for fold, out in zip(plan["folds"], result["folds"], strict=True):
        for dim in plan["dimensions"]:
            labels = plan["labels"][dim]
            column = {label: j for j, label in enumerate(labels)}
            gold = np.zeros((len(fold["test"]), len(labels)), dtype=bool)
            pred = np.zeros_like(gold)
            for row, i in enumerate(fold["test"]):
                for label in plan["gold"][i][dim]:
                    gold[row, column[label]] = True
                for label in out["predictions"][row][dim]:
                    pred[row, column[label]] = True
            scores = score_dimension(gold, pred, labels)
            for m in METRICS:
                per[dim][m].append(getattr(scores, m))
    return {
        dim: {
            m: (
                statistics.mean(values),
                statistics.stdev(values) if len(values) > 1 else None,
            )
            for m, values in metrics.items()
        }
        for dim, metrics in per.items()
    }


def _fmt(value: tuple[float, float | None]) -> str:
    mean, sd = value
    return f"{mean:.3f}" if sd is None else f"{mean:.3f} ± {sd:.3f}"


def table(spec: CorpusSpec, plan: dict[str, Any], rows: list[tuple[str, dict, dict]]) -> str:
    dims = plan["dimensions"]
    metric = spec.metric.replace("_f1", "-F1")
    others = [m for m in METRICS if m != spec.metric]
    head = ["system"]
    for dim in dims:
        head += [f"{dim} **{metric}**", *(f"{dim} {m.replace('_f1', '-F1')}" for m in others)]
    if len(dims) > 1:
        head.append(f"mean {metric}")
    head += ["training s / fold", "tagging sentences/s", "peak RSS MB"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" + "---:|" * (len(head) - 1)]
    for name, scores, result in rows:
        cells = [name]
        for dim in dims:
            cells.append(_fmt(scores[dim][spec.metric]))
            cells += [_fmt(scores[dim][m]) for m in others]
        if len(dims) > 1:
            cells.append(f"{primary(spec, scores):.3f}")
        train = statistics.mean(f["train_seconds"] for f in result["folds"])
        cells += [
            f"{train:.2f}",
            f"{result['sentences_per_second']:,.0f}",
            f"{result['peak_rss_mb']:.0f}",
        ]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def primary(spec: CorpusSpec, scores: dict[str, Any]) -> float:
    """The task's metric, averaged over dimensions."""
    return statistics.mean(scores[dim][spec.metric][0] for dim in scores)


def verdict(spec: CorpusSpec, rows: list[tuple[str, dict, dict]]) -> str:
    by_name = {name: primary(spec, scores) for name, scores, _ in rows}
    ours = by_name.get("default")
    if ours is None:
        return ""
    peers = {name: by_name[name] for name, _ in PEER_SYSTEMS if name in by_name}
    behind = {name: v for name, v in peers.items() if v >= ours}
    metric = spec.metric.replace("_f1", "-F1")
    detail = ", ".join(f"{name} {v:.3f}" for name, v in peers.items())
    if not behind:
        return (
            f"**Verdict:** the default config is ahead of every peer on {metric} "
            f"({ours:.3f} against {detail})."
        )
    return (
        f"**Verdict:** the default config is **not** ahead of "
        f"{' and '.join(behind)} on {metric} ({ours:.3f} against {detail})."
    )


def protocol_text(spec: CorpusSpec, plan: dict[str, Any]) -> str:
    if spec.protocol["kind"] == "cv":
        return (
            f"{len(plan['folds'])}-fold cross-validation grouped by document and stratified "
            f"over labels (seed {spec.protocol.get('seed', 13)}); scores are the mean ± standard "
            f"deviation over folds"
        )
    fold = plan["folds"][0]
    return (
        f"train on split(s) {' + '.join(spec.protocol['train'])} ({len(fold['train'])} "
        f"{spec.level}s), test on {' + '.join(spec.protocol['test'])} ({len(fold['test'])})"
    )


# --------------------------------------------------------------------------- main


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("corpus", nargs="?", type=Path, help="Corpus config TOML.")
    parser.add_argument("--write", action="store_true", help="Update BENCHMARKS.md.")
    parser.add_argument(
        "--configs",
        default=None,
        help="Comma-separated shipped config names (default: all of training/configs/).",
    )
    parser.add_argument(
        "--peers",
        default=None,
        help="Comma-separated baselines to run (default: all of "
        + ", ".join(worker for _, worker in PEER_SYSTEMS)
        + ").",
    )
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    parser.add_argument("--plan", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        worker(args.worker, args.plan, args.out)
        return 0
    if args.corpus is None:
        parser.error("give a corpus config, e.g. benchmarks/corpora/frac.toml")
    spec = load_spec(args.corpus)
    configs_dir = REPO / "training" / "configs"
    names = args.configs.split(",") if args.configs else None
    configs = sorted(configs_dir.glob("*.toml"), key=lambda p: (p.stem != "default", p.stem))
    if names:
        configs = [p for p in configs if p.stem in names]
    with tempfile.TemporaryDirectory(prefix="framing-bench-") as tmp:
        work = Path(tmp)
        plan = prepare(spec, work)
        print(
            f"{spec.name}: {plan['n_examples']} {spec.level}s, "
            f"{len(plan['folds'])} fold(s), dimensions {', '.join(plan['dimensions'])}",
            file=sys.stderr,
        )
        rows: list[tuple[str, dict, dict]] = []
        peers = args.peers.split(",") if args.peers else None
        systems = [(p.stem, str(p)) for p in configs] + [
            (name, worker) for name, worker in PEER_SYSTEMS if peers is None or worker in peers
        ]
        for name, system in systems:
            print(f"  running {name} ...", file=sys.stderr, flush=True)
            result = spawn(system, work / "plan.json", work / f"result-{name}.json")
            rows.append((name, score(plan, result), result))
    body = render(spec, plan, rows)
    print(body)
    if args.write:
        write_block(spec.name, body)
        print(
            f"updated the '{spec.name}' block of the {SECTION} section of BENCHMARKS.md",
            file=sys.stderr,
        )
    return 0


def chosen_text(rows: list[tuple[str, dict, dict]]) -> str:
    """What tuning chose for each baseline, fold by fold."""
    out = []
    for name, _, result in rows:
        picks = [fold.get("chosen") for fold in result["folds"] if fold.get("chosen")]
        if not picks:
            continue
        text = "; ".join(
            ", ".join(
                f"{dim}: " + " ".join(f"{k}={v}" for k, v in values.items())
                for dim, values in pick.items()
            )
            for pick in picks
        )
        out.append(f"- {name} chose, per fold: {text}")
    return "\n".join(out)


# What every row scores: sentences one by one, so a config's article-context stage sees each
# as in an average article and works from the sentence only, as the baselines do.
SENTENCES_ALONE = (
    "Every system scores each test sentence alone (ours through `Model.predict`): a "
    "config's article-context stage then sees it as in an average article, so the default "
    "row is the model without the article around the sentence; `framing eval` on an "
    "article split scores sentences in their articles (the model card's figures)."
)


def render(spec: CorpusSpec, plan: dict[str, Any], rows: list[tuple[str, dict, dict]]) -> str:
    import sklearn

    return "\n".join(
        [
            f"### {spec.title}",
            "",
            f"Rerun: `python benchmarks/bench.py benchmarks/corpora/{spec.name}.toml --write`.",
            "",
            f"Protocol: {protocol_text(spec, plan)}. Task metric: "
            f"**{spec.metric.replace('_f1', '-F1')}** per dimension. Machine: {machine()}; "
            f"scikit-learn {sklearn.__version__}; load average at start {LOAD}. {SENTENCES_ALONE}",
            "",
            table(spec, plan, rows),
            "",
            chosen_text(rows),
            "",
            verdict(spec, rows),
        ]
    )


def write_block(name: str, body: str) -> None:
    """Replace this corpus's block of the bench section, keeping the other corpora's."""
    from _markdown import BENCHMARKS

    text = BENCHMARKS.read_text(encoding="utf-8") if BENCHMARKS.exists() else ""
    match = re.search(r"<!-- bench:start -->\n(.*?)<!-- bench:end -->", text, flags=re.S)
    blocks = dict(
        re.findall(
            r"<!-- bench-([\w-]+):start -->\n(.*?)\n<!-- bench-\1:end -->",
            match.group(1) if match else "",
            flags=re.S,
        )
    )
    blocks[name] = body.strip()
    parts = [INTRO.strip()]
    parts += [f"<!-- bench-{k}:start -->\n{v}\n<!-- bench-{k}:end -->" for k, v in blocks.items()]
    replace_section(SECTION, "\n\n".join(parts))


INTRO = """## Our configs against honest baselines

`benchmarks/bench.py CORPUS_CONFIG` trains, on the same folds and in one run, every shipped
config in `training/configs/` (thresholds tuned by cross-validation on the training part
only, never by hand) and the strongest plain systems a competent user would build in an
afternoon (`benchmarks/_baselines.py`), each tuned on the fold's training part only and
never on test data:

* **TF-IDF word 1-2, tuned**: word 1-2-gram TF-IDF (sublinear tf) into logistic regression
  (multinomial for a single-label dimension, one-vs-rest otherwise), `C` in {0.1, 1, 10,
  100} and `class_weight` in {none, balanced} chosen by 3-fold cross-validation on the
  training part (grouped by document, stratified over labels) on the corpus's metric;
* **TF-IDF word+char, tuned**: the same with character 2-5-grams (within word boundaries)
  added;
* **fastText, tuned**: fastText (word bigrams, `bucket` at its default of 2,000,000),
  softmax for a single-label dimension, one-vs-all otherwise, with the learning rate in
  {0.1, 0.5, 1}, epochs in {10, 25, 50} and character n-grams (none, or 3-6) chosen on the
  corpus's metric on a document-grouped 80/20 split of the training part. fastText's own
  autotune is not used: its F1 counts the `__label__NONE` a multi-label corpus needs for
  sentences without labels, and on the bundled corpus (release 4) it chose a setting that
  scored 0.18 frames macro-F1 on test, against 0.60 for fastText's tutorial setting.

Scores become labels the same way for every system: the best-scoring label for a
single-label dimension, otherwise one threshold per label maximising its F1 on
out-of-fold scores of the training part (fastText: on its validation part). The settings
each baseline chose are listed under each table. Every system runs single-threaded in its
own process. Training time is per fold (tuning included); tagging throughput is measured on
5,000 corpus sentences after training (ours through the saved model, as `framing tag`
does; fastText one sentence per call, as its API does); peak memory is the maximum
resident set size of the system's own process. The machine is shared, so timings carry
some noise; the load average at the start of the run is given.
"""


if __name__ == "__main__":
    sys.exit(main())

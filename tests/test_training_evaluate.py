from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from framing.training.config import load_config
from framing.training.evaluate import (
    compare,
    evaluate,
    paired_bootstrap,
    save_report,
    score_dimension,
)
from framing.training.train import train
from sklearn.metrics import f1_score

from framing.errors import AnnotationError, UsageError

DATA = Path(__file__).resolve().parent / "data"
TINY = DATA / "tiny_corpus.jsonl"
TINY_CODEBOOK = DATA / "tiny_codebook.toml"


def _config(*overrides: str):
    return load_config(
        "default",
        data=[TINY],
        overrides=[f"data.codebook={json.dumps(str(TINY_CODEBOOK))}", "cv.folds=3", *overrides],
    )


@pytest.fixture(scope="module")
def model_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return train(_config("name=tiny"), output=tmp_path_factory.mktemp("m") / "tiny").path


@pytest.fixture(scope="module")
def other_model_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    config = _config("name=tiny-c01", "pipeline.params.C=0.1", "thresholds.strategy=fixed")
    return train(config, output=tmp_path_factory.mktemp("m") / "tiny-c01").path


def test_evaluate_score_dimension_matches_sklearn() -> None:
    rng = np.random.default_rng(1)
    T = rng.random((50, 4)) < 0.3
    P = rng.random((50, 4)) < 0.3
    T[:, 3] = False  # a label absent from the gold data does not count in macro-F1
    scores = score_dimension(T, P, ["a", "b", "c", "d"])
    assert scores.micro_f1 == pytest.approx(f1_score(T, P, average="micro"))
    assert scores.macro_f1 == pytest.approx(f1_score(T[:, :3], P[:, :3], average="macro"))
    assert scores.samples_f1 == pytest.approx(f1_score(T, P, average="samples", zero_division=1.0))
    assert scores.labels["b"].support == int(T[:, 1].sum())
    assert scores.labels["d"].support == 0


def test_evaluate_reports_scores_under_each_dimension(model_path: Path) -> None:
    report = evaluate(model_path, [TINY])
    data = report.to_dict()
    assert data["dimensions"] == ["frames", "rhetoric"]
    assert data["data"]["examples"] == 63
    for dim in ("frames", "rhetoric"):
        assert {"micro_f1", "macro_f1", "samples_f1"} <= set(data[dim])
        for label, values in data[dim]["labels"].items():
            assert {"precision", "recall", "f1", "support", "threshold"} <= set(values), label
    assert data["frames"]["labels"]["economic"]["support"] == 22
    assert data["documents"]["frames"]["n"] == 10
    errors = data["frames"]["errors"]
    assert set(errors) == {"false_positives", "false_negatives"}
    for error in errors["false_positives"]:
        assert error["label"] not in error["gold"] and error["text"]
        assert error["source"].startswith(str(TINY))
    scores = [e["score"] for e in errors["false_positives"]]
    assert scores == sorted(scores, reverse=True)
    json.dumps(data)
    table = report.to_table()
    assert "[frames] micro-F1" in table and "worst false" in table
    assert "| `economic` |" in report.to_markdown()


def test_evaluate_document_level_aggregates_sentences(model_path: Path) -> None:
    report = evaluate(model_path, [TINY], level="document")
    assert report.level == "document" and report.n == 10
    ev = report.dimensions["frames"]
    # Gold document labels come from the document records.
    t2 = ev.ids.index("t2")
    assert [ev.labels[j] for j in np.flatnonzero(ev.y_true[t2])] == ["security", "solidarity"]


def test_evaluate_unknown_labels_are_named(model_path: Path, tmp_path: Path) -> None:
    lines = TINY.read_text(encoding="utf-8").splitlines()
    record = json.loads(lines[1])
    record["frames"] = ["economic", "health"]
    lines[1] = json.dumps(record)
    bad = tmp_path / "bad.jsonl"
    bad.write_text("\n".join(lines) + "\n", encoding="utf-8")
    with pytest.raises(
        AnnotationError,
        match=r"does not know: frames: 'health' \(1 record\(s\), first at .*bad.jsonl:2\)",
    ):
        evaluate(model_path, [bad])


def test_evaluate_document_model_refuses_sentence_level(tmp_path: Path) -> None:
    path = train(_config("name=docs", "data.level=document"), output=tmp_path / "docs").path
    with pytest.raises(UsageError, match="trained on documents"):
        evaluate(path, [TINY], level="sentence")
    report = evaluate(path, [TINY])
    assert report.level == "document" and report.n == 10


def test_evaluate_save_report_writes_json_markdown_and_plots(
    model_path: Path, tmp_path: Path
) -> None:
    written = save_report(evaluate(model_path, [TINY]), tmp_path / "out")
    names = sorted(p.name for p in written)
    for kind in ("pr", "f1_threshold", "confusion", "reliability"):
        assert f"{kind}_frames.png" in names and f"{kind}_rhetoric.png" in names
    for path in written:
        if path.suffix == ".png":
            assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert json.loads((tmp_path / "out" / "report.json").read_text())["frames"]["micro_f1"] >= 0


def test_evaluate_compare_gives_deltas_and_a_bootstrap_interval(
    model_path: Path, other_model_path: Path
) -> None:
    comparison = compare(other_model_path, model_path, [TINY], n_boot=200)
    data = comparison.to_dict()
    assert data["a"] == "tiny-c01" and data["b"] == "tiny"
    boot = data["frames"]["micro_f1_delta"]
    assert boot["ci_low"] <= boot["delta"] <= boot["ci_high"]
    delta = data["frames"]["b"]["micro_f1"] - data["frames"]["a"]["micro_f1"]
    assert boot["delta"] == pytest.approx(delta, abs=1e-6)
    assert set(data["frames"]["labels"]) == {"economic", "security", "solidarity"}
    assert "95% CI" in comparison.to_table()
    same = compare(model_path, model_path, [TINY], n_boot=50).to_dict()
    assert same["rhetoric"]["micro_f1_delta"] == {
        "delta": 0.0,
        "ci_low": 0.0,
        "ci_high": 0.0,
        "p_b_not_better": 1.0,
    }


def test_evaluate_paired_bootstrap_resamples_whole_documents() -> None:
    # B is better on document x only; resampling documents keeps its sentences together.
    a = np.array([[0, 0, 1], [0, 0, 1], [1, 0, 0], [1, 0, 0]], float)
    b = np.array([[1, 0, 0], [1, 0, 0], [1, 0, 0], [1, 0, 0]], float)
    result = paired_bootstrap(a, b, ["x", "x", "y", "y"], n_boot=500, seed=3)
    assert result["delta"] == pytest.approx(1.0 - 2 * 2 / (2 * 2 + 2), abs=1e-6)
    assert 0 <= result["ci_low"] <= result["ci_high"] <= 1.0
    again = paired_bootstrap(a, b, ["x", "x", "y", "y"], n_boot=500, seed=3)
    assert again == result

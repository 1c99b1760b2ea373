from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
from framing.training.config import load_config
from framing.training.train import build_examples, data_hash, fit_model, train

from framing.errors import AnnotationError, ConfigError
from framing.format.annotations import read_corpus
from framing.runtime.context import Layout
from framing.runtime.meta import ModelMeta

DATA = Path(__file__).resolve().parent / "data"
TINY = DATA / "tiny_corpus.jsonl"
TINY_CODEBOOK = DATA / "tiny_codebook.toml"
# Fast settings for tests: three folds, no grid; dev held out (the shipped default config
# trains on dev too, the tests check that a held-out dev split is scored, not trained on).
FAST = ["cv.folds=3", "name=tiny", 'data.train=["train"]', 'data.dev=["dev"]']


def tiny_config(*overrides: str, data: list[Path] | None = None):
    return load_config(
        "default",
        data=data or [TINY],
        overrides=[f"data.codebook={json.dumps(str(TINY_CODEBOOK))}", *FAST, *overrides],
    )


def _records() -> list[dict]:
    return [json.loads(line) for line in TINY.read_text(encoding="utf-8").splitlines()]


def _write(path: Path, records: list[dict]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def fitted():
    return fit_model(tiny_config())


def test_train_meta_follows_the_model_contract(fitted) -> None:
    meta = fitted.meta.to_dict()
    assert ModelMeta.from_dict(meta) == fitted.meta  # the JSON form reads back the same
    for key in (
        "name",
        "level",
        "labels",
        "thresholds",
        "multi_label",
        "data",
        "config",
        "trained_at",
        "training_seconds",
        "git_commit",
        "untrainable",
    ):
        assert key in meta, key
    assert meta["level"] == "sentence"
    assert meta["labels"] == {
        "frames": ["economic", "security", "solidarity"],
        "rhetoric": ["loaded_language", "appeal_to_fear", "appeal_to_authority"],
    }
    assert meta["multi_label"] == {"frames": True, "rhetoric": True}
    assert meta["untrainable"] == {"frames": [], "rhetoric": []}
    for dim, labels in meta["labels"].items():
        assert set(meta["thresholds"][dim]) == set(labels)
        assert all(0 < t < 1 for t in meta["thresholds"][dim].values())
    assert meta["data"]["hash"] == data_hash([TINY])
    assert meta["data"]["sentences"] == 42 and meta["data"]["documents"] == 6
    assert meta["data"]["splits"] == {"train": 42, "dev": 11, "test": 10}
    assert meta["config"]["cv"]["folds"] == 3
    json.dumps(meta)  # plain JSON


def test_train_pipelines_score_in_label_order(fitted) -> None:
    texts = ["Tariffs pushed up the price of steel.", "Troops massed on the border."]
    for dim, labels in fitted.meta.labels.items():
        scores = fitted.pipelines[dim].predict_proba(texts)
        assert scores.shape == (2, len(labels))
        assert ((scores >= 0) & (scores <= 1)).all()
    frames = fitted.pipelines["frames"].predict_proba(texts)
    assert frames[0].argmax() == 0 and frames[1].argmax() == 1  # economic, security


def test_train_metrics_have_cv_dev_and_test_scores(fitted) -> None:
    for part in ("cv", "dev", "test"):
        for dim in ("frames", "rhetoric"):
            scores = fitted.metrics[part][dim]
            assert {"micro_f1", "macro_f1", "samples_f1", "labels"} <= set(scores)
            assert 0 <= scores["micro_f1"] <= 1
    assert fitted.metrics["cv"]["frames"]["n"] == 42
    assert fitted.metrics["test"]["frames"]["n"] == 10
    assert fitted.metrics["cv"]["rhetoric"]["micro_f1"] > 0.5


def test_train_same_seed_gives_identical_scores(fitted) -> None:
    again = fit_model(tiny_config())
    texts = [line["text"] for line in _records() if "text" in line][:20]
    for dim in fitted.pipelines:
        assert np.array_equal(
            fitted.pipelines[dim].predict_proba(texts), again.pipelines[dim].predict_proba(texts)
        )
    assert fitted.meta.thresholds == again.meta.thresholds
    assert fitted.metrics == again.metrics


def test_train_only_done_sentences_are_training_data() -> None:
    corpus = read_corpus([TINY])
    examples = build_examples(corpus, ["frames"])
    assert "t1-s08" not in examples.ids  # todo
    assert "t2-s08" not in examples.ids  # skip
    assert len(examples) == 63


def test_train_writes_a_loadable_model_folder(tmp_path: Path, fitted) -> None:
    from framing.runtime.model import load_model

    # The shipped config leaves model.skops out (save_pipelines = false); asked for, it is there.
    result = train(tiny_config("save_pipelines=true"), output=tmp_path / "tiny")
    for name in (
        "model.skops",
        "meta.json",
        "codebook.toml",
        "metrics.json",
        "config.toml",
        "README.md",
    ):
        assert (result.path / name).is_file(), name
    model = load_model(result.path, use_compiled=False)
    texts = ["Grain prices rose again.", "Allies pledged to stand together."]
    # the scorer is the pipelines; the model's scores are theirs through the context stage
    # the default config has for frames (tests/test_context.py checks the stage itself)
    raw = model.scorer.predict_proba(texts)
    for dim in model.dimensions:
        assert np.allclose(raw[dim], fitted.pipelines[dim].predict_proba(texts))
    scores = model.predict_proba(texts)
    assert model.context is not None and model.context.dimensions == ("frames",)
    alone = Layout.alone(texts)
    assert np.allclose(scores["frames"], model.in_context(raw, alone)["frames"])
    assert np.allclose(scores["rhetoric"], raw["rhetoric"])
    assert model.meta.codebook.name == "tiny"
    assert json.loads((result.path / "metrics.json").read_text())["cv"]["frames"]["n"] == 42
    config = load_config(result.path / "config.toml")
    assert config.cv.folds == 3 and config.name == "tiny"
    card = (result.path / "README.md").read_text()
    assert (
        "## Intended use" in card and "## Limitations" in card and "| test split | frames |" in card
    )
    assert "trained 'tiny'" in result.summary()
    # the calibration line: what it was measured on, and the card's means are the file's
    from framing.runtime.calibration import load_calibration

    calibration = load_calibration(result.path)
    assert calibration is not None
    assert "## Calibration" in card and "3-fold cross-validation grouped by document" in card
    entries = list(calibration.units["sentence"]["frames"].values())
    entries += [e for e in calibration.units["sentence"]["rhetoric"].values()]
    mean_ece = np.nanmean([e.ece["calibrated"] for e in entries])
    row = next(line for line in card.splitlines() if line.startswith("| sentence |"))
    assert row.split(" | ")[-1].rstrip(" |") == f"{mean_ece:.4f}"


def test_train_data_hash_folder_equals_its_files_and_tracks_content(tmp_path: Path) -> None:
    folder = tmp_path / "a"
    folder.mkdir()
    one = _write(folder / "train.jsonl", _records()[:10])
    two = _write(folder / "dev.jsonl", _records()[10:20])
    assert data_hash([folder]) == data_hash([two, one])
    moved = tmp_path / "elsewhere"
    shutil.copytree(folder, moved)
    assert data_hash([moved]) == data_hash([folder])
    before = data_hash([folder])
    one.write_text(one.read_text().replace("grain", "wheat"), encoding="utf-8")
    changed = data_hash([folder])
    assert changed != before
    two.rename(folder / "test.jsonl")  # same bytes, other name: another split
    assert data_hash([folder]) != changed


def test_train_rare_labels_are_reported_by_name() -> None:
    fitted = fit_model(tiny_config("thresholds.min_positives=6", "thresholds.fixed=0.4"))
    assert fitted.meta.untrainable["rhetoric"] == ["appeal_to_fear", "appeal_to_authority"]
    assert fitted.meta.thresholds["rhetoric"]["appeal_to_fear"] == 0.4
    assert fitted.meta.untrainable["frames"] == []
    assert fitted.pipelines["rhetoric"].predict_proba(["x"]).shape == (1, 3)


def test_train_document_level_learns_document_labels() -> None:
    fitted = fit_model(tiny_config("data.level=document"))
    assert fitted.meta.level == "document"
    assert fitted.meta.data["examples"] == 6
    assert fitted.meta.data["sentences"] == 42
    assert fitted.metrics["test"]["frames"]["n"] == 2
    corpus = read_corpus([TINY])
    docs = build_examples(corpus, ["frames"], level="document")
    assert docs.ids[:3] == ["t1", "t2", "t3"]
    # t3 has a document text; the others are their sentences joined in order.
    assert (
        docs.texts[0].startswith("The price of grain rose")
        and "second week. Exporters" in docs.texts[0]
    )
    assert docs.labels[1]["frames"] == ("security", "solidarity")


def test_train_single_label_dimension_is_detected(tmp_path: Path) -> None:
    records = [
        r for r in _records() if r.get("type") != "document" and len(r.get("frames", [])) == 1
    ]
    path = _write(tmp_path / "single.jsonl", records)
    fitted = fit_model(tiny_config('dimensions=["frames"]', data=[path]))
    assert fitted.meta.multi_label == {"frames": False}
    assert fitted.meta.labels["frames"] == ("economic", "security", "solidarity")
    scores = fitted.pipelines["frames"].predict_proba(["Steel tariffs raise costs."])
    assert np.isclose(scores.sum(), 1.0)
    with pytest.raises(
        AnnotationError, match="single-label dimension 'frames': .* no label or several"
    ):
        fit_model(tiny_config('single_label=["frames"]'))


def test_train_one_label_dimension_gets_one_column(
    tmp_path: Path, mini_codebook_path: Path
) -> None:
    records = []
    for r in (r for r in _records() if r.get("type") != "document"):
        frames = [f for f in r["frames"] if f in ("economic", "security")]
        records.append(
            {
                "id": r["id"],
                "doc_id": r["doc_id"],
                "text": r["text"],
                "frames": frames,
                "rhetoric": ["loaded_language"] if r["rhetoric"] == ["loaded_language"] else [],
                "status": r["status"],
                "split": r["split"],
            }
        )
    path = _write(tmp_path / "mini.jsonl", records)
    config = load_config(
        "default",
        data=[path],
        overrides=[f"data.codebook={json.dumps(str(mini_codebook_path))}", *FAST],
    )
    fitted = fit_model(config)
    assert fitted.meta.labels["rhetoric"] == ("loaded_language",)
    assert fitted.pipelines["rhetoric"].predict_proba(["a reckless, shameful act"]).shape == (1, 1)


def test_train_corpus_without_splits_uses_cross_validation_only(tmp_path: Path) -> None:
    records = [{k: v for k, v in r.items() if k != "split"} for r in _records()]
    fitted = fit_model(tiny_config(data=[_write(tmp_path / "nosplit.jsonl", records)]))
    assert set(fitted.metrics) == {"cv"}
    assert fitted.meta.data["splits"] == {"train": 63, "dev": 0, "test": 0}


def test_train_grid_search_records_every_point_and_the_choice() -> None:
    fitted = fit_model(tiny_config("search.C=[0.5, 20.0]"))
    points = fitted.metrics["search"]["frames"]
    assert [p["params"] for p in points] == [{"C": 0.5}, {"C": 20.0}]
    best = max(points, key=lambda p: p["macro_f1"])
    assert fitted.meta.pipeline["params"]["frames"]["C"] == best["params"]["C"]


def test_train_missing_training_split_names_the_splits_found() -> None:
    with pytest.raises(
        AnnotationError, match=r"none in split\(s\) \['nope'\] \(splits found: dev, test, train\)"
    ):
        fit_model(tiny_config('data.train=["nope"]'))


def test_train_unknown_dimension_is_a_config_error() -> None:
    with pytest.raises(
        ConfigError, match="dimension 'frame' is not in codebook 'tiny'.*did you mean 'frames'"
    ):
        fit_model(tiny_config('dimensions=["frame"]'))


def test_train_invalid_annotations_name_file_and_line(tmp_path: Path) -> None:
    records = _records()
    records[3]["frames"] = ["econ"]
    path = _write(tmp_path / "bad.jsonl", records)
    with pytest.raises(AnnotationError, match=r"bad.jsonl:4: .*'econ'.*did you mean 'economic'"):
        fit_model(tiny_config(data=[path]))


def test_train_git_commit_is_the_code_checkout_not_the_working_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import subprocess

    from framing.training.provenance import code_commit as _git_commit

    repo = Path(__file__).resolve().parents[1]
    try:
        head = subprocess.run(
            ["git", "-C", str(repo), "rev-parse", "HEAD"], capture_output=True, text=True
        )
    except OSError:
        pytest.skip("git is not installed")
    if head.returncode != 0:
        pytest.skip("the tests do not run from a git checkout")
    monkeypatch.chdir(tmp_path)  # a user's project folder, not a repository
    assert _git_commit() == head.stdout.strip()


def test_train_scores_the_shifted_split_and_never_trains_on_it(tmp_path: Path) -> None:
    records = _records()
    shifted_doc = next(r["doc_id"] for r in records if r.get("split") == "test")
    for r in records:
        if r.get("doc_id") == shifted_doc:
            r["split"] = "dev-shifted"
    path = _write(tmp_path / "corpus.jsonl", records)
    fitted = fit_model(tiny_config(data=[path]))
    n_shifted = sum(1 for r in records if r.get("doc_id") == shifted_doc and "id" in r)
    assert fitted.metrics["dev-shifted"]["frames"]["n"] == n_shifted
    assert fitted.meta.data["splits"]["dev-shifted"] == n_shifted
    # A test article moved to dev-shifted: the training examples are those of the tiny corpus.
    assert fitted.meta.data["examples"] == fitted.metrics["cv"]["frames"]["n"] == 42


def test_train_n_jobs_gives_the_serial_model_and_estimates_its_length() -> None:
    messages: list[str] = []
    serial = fit_model(tiny_config("n_jobs=1", "search.C=[0.5, 20.0]"))
    parallel = fit_model(tiny_config("n_jobs=2", "search.C=[0.5, 20.0]"), progress=messages.append)
    texts = [line["text"] for line in _records() if "text" in line][:20]
    for dim in serial.pipelines:
        assert np.array_equal(
            serial.pipelines[dim].predict_proba(texts),
            parallel.pipelines[dim].predict_proba(texts),
        )
    assert serial.meta.thresholds == parallel.meta.thresholds
    assert serial.metrics == parallel.metrics
    # 2 dimensions x (2 grid points x 3 folds + 1 final fit)
    (estimate,) = [m for m in messages if m.startswith("estimate: ")]
    assert estimate.startswith("estimate: 14 pipeline fits in all")
    assert "with 2 worker(s)" in estimate
    with pytest.raises(ConfigError, match="n_jobs must be a whole number >= 0"):
        tiny_config("n_jobs=-1")

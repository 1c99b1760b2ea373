"""The bundled default model (models/default/) matches the data it claims to come from."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
DEFAULT = REPO / "models" / "default"
DATA = REPO / "data" / "annotations"
EXAMPLE = REPO / "examples" / "sahel-summit.txt"
SEEDS = Path(__file__).resolve().parents[2] / "shared" / "seeds"
MAX_BYTES = 20 * 1024 * 1024


@pytest.fixture(scope="module")
def default_model():
    from framing.runtime.model import load_model

    return load_model(DEFAULT)


def test_default_model_data_hash_matches_the_annotations() -> None:
    from framing.training.train import data_hash

    meta = json.loads((DEFAULT / "meta.json").read_text(encoding="utf-8"))
    recorded = meta.get("data_hash") or meta.get("data", {}).get("hash")
    assert recorded == data_hash([DATA]), (
        "models/default/ was trained on other data than data/annotations/: retrain it"
    )


def test_default_model_codebook_hash_matches_the_codebook() -> None:
    from framing.format.codebook import load_codebook

    meta = json.loads((DEFAULT / "meta.json").read_text(encoding="utf-8"))
    assert meta["codebook"]["hash"] == load_codebook(DATA / "codebook.toml").hash


def test_default_model_tags_the_example_article(default_model) -> None:
    from framing.format.article import read_article

    article = read_article(EXAMPLE)
    tagged = default_model.tag(article.text, title=article.title, doc_id=article.doc_id)
    assert len(tagged.sentences) >= 15
    assert all(article.text[s.start : s.end] == s.text for s in tagged.sentences)
    assert any(s.labels[dim] for s in tagged.sentences for dim in default_model.dimensions)


def test_default_model_finds_west_as_threat_in_the_seed_article(default_model) -> None:
    seed = SEEDS / "tass-csto-lavrov.txt"
    if not seed.is_file():
        pytest.skip("../shared/seeds/tass-csto-lavrov.txt is absent (third-party data)")
    from framing.format.article import read_article

    article = read_article(seed)
    tagged = default_model.tag(article.text, title=article.title)
    for s in tagged.sentences:
        assert article.text[s.start : s.end] == s.text
    found = {ls.label for s in tagged.sentences for ls in s.labels.get("frames", [])}
    assert "west_as_threat" in found, f"frames found: {sorted(found)}"


def test_default_model_folder_is_small() -> None:
    size = sum(p.stat().st_size for p in DEFAULT.rglob("*") if p.is_file())
    assert size < MAX_BYTES, f"models/default/ is {size / 1e6:.1f} MB (limit 20 MB)"


def test_default_model_loads_compiled(default_model) -> None:
    from framing.runtime.compiled import CompiledModel

    assert isinstance(default_model.scorer, CompiledModel), (
        "models/default/ has no compiled.npz: tagging would import scikit-learn and be slow"
    )


def _close(a, b, path: str = "") -> None:  # type: ignore[no-untyped-def]
    if isinstance(a, dict):
        assert set(a) == set(b), path
        for key in a:
            _close(a[key], b[key], f"{path}.{key}")
    elif isinstance(a, list):
        assert len(a) == len(b), path
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            _close(x, y, f"{path}[{i}]")
    elif isinstance(a, float):
        assert a == pytest.approx(b, abs=1e-9), path
    else:
        assert a == b, path


@pytest.mark.slow
def test_default_model_retrains_to_the_recorded_scores(monkeypatch: pytest.MonkeyPatch) -> None:
    """The committed model is what its config and the committed data produce."""
    from framing.training.config import load_config
    from framing.training.train import fit_model

    monkeypatch.chdir(REPO)  # the config's data paths are relative to the repository
    meta = json.loads((DEFAULT / "meta.json").read_text(encoding="utf-8"))
    metrics = json.loads((DEFAULT / "metrics.json").read_text(encoding="utf-8"))
    fitted = fit_model(load_config(REPO / "training" / "configs" / "default.toml"))
    _close(fitted.meta.thresholds, meta["thresholds"], "thresholds")
    _close(fitted.metrics, metrics, "metrics")

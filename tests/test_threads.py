"""A Model shared between threads gives the single-thread scores, on both backends."""

from __future__ import annotations

import sys
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

import framing.runtime._native
from framing.runtime.compiled import CompiledModel
from framing.runtime.model import bundled_models_root, load_model

NATIVE = framing.runtime._native.speedups

# Every sentence brings new words, so the threads grow the word caches together.
SENTENCES = [
    f"{who} said the {what} was a threat to peace, zq{i}x and w{i * 7}ord{i % 13} {extra}."
    for i, (who, what, extra) in enumerate(
        zip(
            ["NATO", "Moscow", "The minister", "Beijing", "Washington", "The EU"] * 100,
            ["summit", "sanction", "alliance", "pipeline", "drill", "treaty"] * 100,
            ["unprecedented", "naïve", "Ünïcode wörds", "brand-new words " * 3, "x", ""] * 100,
            strict=True,
        )
    )
]


@pytest.fixture(params=["native", "numpy"])
def backend(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    if request.param == "native":
        if NATIVE is None:
            pytest.skip("the compiled loops are not built")
        monkeypatch.setattr(framing.runtime._native, "speedups", NATIVE)
    else:
        monkeypatch.setattr(framing.runtime._native, "speedups", None)
    return str(request.param)


def test_threads_share_a_compiled_model(backend: str) -> None:
    # Fresh models: the shared one starts with empty word caches, as in an application.
    reference = CompiledModel.load(bundled_models_root() / "default")
    expected = reference.predict_proba(SENTENCES)
    row = {sentence: i for i, sentence in enumerate(SENTENCES)}
    shared = CompiledModel.load(bundled_models_root() / "default")
    batches = [SENTENCES[i::24] for i in range(24)]

    def score(batch: list[str]) -> dict[str, np.ndarray]:
        return shared.predict_proba(batch)

    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)  # switch threads often, so that races show
    try:
        with ThreadPoolExecutor(max_workers=8) as pool:
            results = list(pool.map(score, batches))
    finally:
        sys.setswitchinterval(interval)
    for batch, got in zip(batches, results, strict=True):
        for j, sentence in enumerate(batch):
            for dim, scores in expected.items():
                np.testing.assert_allclose(got[dim][j], scores[row[sentence]], rtol=0, atol=1e-12)


def test_threads_share_a_model_through_tag(backend: str) -> None:
    model = load_model()
    articles = [" ".join(SENTENCES[i : i + 5]) for i in range(0, 60, 5)]
    reference = load_model()
    expected = [reference.tag(a).to_dict() for a in articles]
    with ThreadPoolExecutor(max_workers=6) as pool:
        got = list(pool.map(lambda a: model.tag(a).to_dict(), articles * 3))
    assert got == expected * 3

"""Explanations: the n-grams behind each label, exact on both scoring backends."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from framing.cli import app
from framing.output.json import article_json
from framing.runtime import _native, compiled
from framing.runtime.analyzers import analyze, preprocess
from framing.runtime.explain import NotExplainableError
from framing.runtime.model import load_model

TEXTS = [
    "The price of grain rose after the port strike; exporters fear the loss of trade.",
    "Troops guard the border as the threat of war grows, officials warned.",
    "Allies stand together in solidarity with the striking dockers.",
    "",
    "Ünïcode prices — rise, RISE, rise!",
]
NATIVE = _native.speedups


@pytest.fixture(params=["native", "numpy"])
def backend(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    if request.param == "native":
        if NATIVE is None:
            pytest.skip("framing.runtime._speedups is not built")
        monkeypatch.setattr(_native, "speedups", NATIVE)
    else:
        monkeypatch.setattr(_native, "speedups", None)
    return str(request.param)


def every_label(model) -> list[str]:
    return [f"{dim}:{label}" for dim, ids in model.labels.items() for label in ids]


def check_decisions(model, decisions: dict[str, np.ndarray]) -> int:
    """Every label of every text: intercept + contributions == the model's decision."""
    checked = 0
    for i, text in enumerate(TEXTS):
        top_all = model.explain(text, labels=every_label(model), top=10**6)
        top_two = model.explain(text, labels=every_label(model), top=2)
        for dim, found in top_all.labels.items():
            assert sorted(e.label for e in found) == sorted(model.labels[dim])
            scores = [e.score for e in found]
            assert scores == sorted(scores, reverse=True)
            for e, e2 in zip(found, top_two.labels[dim], strict=True):
                j = model.labels[dim].index(e.label)
                assert e.decision == pytest.approx(decisions[dim][i, j], abs=1e-9)
                total = e.intercept + sum(c.contribution for c in e.ngrams) + e.rest
                assert total == pytest.approx(e.decision, abs=1e-9)
                # Only the negative contributions are left out when every n-gram may be listed.
                assert e.rest <= 1e-12
                assert all(c.contribution > 0 for c in e.ngrams)
                values = [c.contribution for c in e.ngrams]
                assert values == sorted(values, reverse=True)
                assert e2.ngrams == e.ngrams[:2]
                assert e2.rest == pytest.approx(e.rest + sum(values[2:]), abs=1e-9)
                checked += 1
    return checked


def test_explain_reproduces_compiled_decisions(tag_model_path: Path, backend: str) -> None:
    model = load_model(tag_model_path)
    assert isinstance(model.scorer, compiled.CompiledModel)
    decisions = model.scorer.decision_function(TEXTS)
    assert check_decisions(model, decisions) == len(TEXTS) * 6


def test_explain_reproduces_skops_pipeline_decisions(tag_model_path: Path) -> None:
    model = load_model(tag_model_path, use_compiled=False)
    pipes = model.scorer.pipelines
    decisions = {dim: pipe.decision_function(TEXTS) for dim, pipe in pipes.items()}
    assert check_decisions(model, decisions) == len(TEXTS) * 6
    # Each listed contribution is the TF-IDF value times the coefficient, read off sklearn.
    e = model.explain(TEXTS[0], labels=["economic"]).labels["frames"][0]
    features, clf = pipes["frames"].steps[0][1], pipes["frames"].steps[1][1]
    X = features.transform([TEXTS[0]]).toarray()[0]
    names = features.get_feature_names_out().tolist()
    coef = clf.estimators_[0].coef_[0]
    for c in e.ngrams:
        prefix = "word__" if c.analyzer == "word" else "char__"
        f = names.index(prefix + c.ngram)
        assert c.contribution == pytest.approx(X[f] * coef[f], abs=1e-12)


def test_explain_without_speedups_in_a_fresh_process(tag_model_path: Path) -> None:
    code = f"""
import numpy as np
from framing.runtime import _native
from framing.runtime.model import load_model
assert _native.speedups is None
model = load_model({str(tag_model_path)!r})
texts = {TEXTS!r}
d = model.scorer.decision_function(texts)
worst = 0.0
for i, text in enumerate(texts):
    labels = [f"{{k}}:{{x}}" for k, ids in model.labels.items() for x in ids]
    for dim, found in model.explain(text, labels=labels, top=10**6).labels.items():
        for e in found:
            j = model.labels[dim].index(e.label)
            total = e.intercept + sum(c.contribution for c in e.ngrams) + e.rest
            worst = max(worst, abs(e.decision - d[dim][i, j]), abs(total - e.decision))
print(worst)
"""
    env = {**os.environ, "FRAMING_NO_SPEEDUPS": "1"}
    out = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
    )
    assert float(out.stdout) < 1e-9


def test_explain_lists_ngrams_of_the_sentence(tag_model) -> None:
    text = TEXTS[0]
    specs = {spec.analyzer: spec for spec in tag_model.scorer.vectorizer_specs}
    grams = {a: set(analyze(s, preprocess(s, [text]))[0]) for a, s in specs.items()}
    result = tag_model.explain(text, labels=["economic", "loaded_language"], top=20)
    found = [e for per in result.labels.values() for e in per]
    assert [e.label for e in found] == ["economic", "loaded_language"]
    assert all(c.ngram in grams[c.analyzer] for e in found for c in e.ngrams)


def test_explain_defaults_to_the_predicted_labels(tag_model) -> None:
    for text in TEXTS:
        tagged = tag_model.predict([text])[0]
        result = tag_model.explain(text)
        assert {d: [e.label for e in f] for d, f in result.labels.items()} == {
            d: [ls.label for ls in f] for d, f in tagged.labels.items()
        }
        for dim, found in result.labels.items():
            for e, ls in zip(found, tagged.labels[dim], strict=True):
                assert e.score == ls.score
                assert 1 / (1 + np.exp(-e.decision)) == pytest.approx(e.score, abs=1e-12)
    data = tag_model.explain(TEXTS[1], labels=["security"]).to_dict()
    assert json.loads(json.dumps(data)) == data
    (item,) = data["labels"]["frames"]
    assert set(item) == {"label", "score", "decision", "intercept", "ngrams", "rest"}


def test_explain_rejects_unknown_labels_and_bad_top(tag_model) -> None:
    with pytest.raises(ValueError, match="'ecnomic' is not one of the model's labels"):
        tag_model.explain("x", labels=["ecnomic"])
    with pytest.raises(ValueError, match="top must be 0 or more"):
        tag_model.explain("x", top=-1)
    with pytest.raises(TypeError):
        tag_model.explain(3)  # type: ignore[arg-type]


def test_explain_refuses_a_model_that_is_not_linear(loop_model: Path) -> None:
    model = load_model(loop_model)
    # loop-tiny's single-label dimension is a ClassifierChain: not explainable.
    single = [dim for dim, ids in model.labels.items() if len(ids) == 1]
    assert single
    with pytest.raises(NotExplainableError, match="explanations need"):
        model.explain("x", labels=[f"{single[0]}:{model.labels[single[0]][0]}"])
    result = CliRunner().invoke(app, ["tag", "--model", str(loop_model), "--explain"], input="x")
    assert result.exit_code == 2
    assert "explanations need" in result.stderr
    assert "Traceback" not in result.output


def test_tag_explain_json_matches_explain(tag_model_path: Path, tmp_path: Path) -> None:
    model = load_model(tag_model_path)
    path = tmp_path / "a.txt"
    path.write_text("Title\n\n" + " ".join(TEXTS), encoding="utf-8")
    result = CliRunner().invoke(
        app, ["tag", str(path), "--model", str(tag_model_path), "--explain"]
    )
    assert result.exit_code == 0, result.output
    record = json.loads(result.stdout)
    article = model.tag(" ".join(TEXTS), title="Title", doc_id="a", explain=True)
    assert record == article.to_dict()
    assert json.loads(article_json(article)) == article.to_dict()
    labelled = 0
    for s in record["sentences"]:
        why = model.explain(s["text"])
        for dim, found in s["labels"].items():
            for item, e in zip(found, why.labels[dim], strict=True):
                assert item["explanation"] == e.to_dict()
                labelled += 1
    assert labelled
    plain = CliRunner().invoke(app, ["tag", str(path), "--model", str(tag_model_path)])
    assert "explanation" not in plain.stdout


def test_tag_explain_html_shows_the_ngrams(tag_model_path: Path, tmp_path: Path) -> None:
    path = tmp_path / "a.txt"
    path.write_text(" ".join(TEXTS), encoding="utf-8")
    args = ["tag", str(path), "--model", str(tag_model_path), "-f", "html"]
    result = CliRunner().invoke(app, [*args, "--explain"])
    assert result.exit_code == 0, result.output
    model = load_model(tag_model_path)
    e = next(
        e
        for s in model.tag(" ".join(TEXTS), explain=True).sentences
        for f in (s.explanations or {}).values()
        for e in f
        if e.ngrams
    )
    assert f"{e.label} because of: " in result.stdout
    assert 'class="why"' in result.stdout
    assert 'class="why"' not in CliRunner().invoke(app, args).stdout

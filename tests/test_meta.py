"""framing.runtime.meta, labels and scorers: the typed model contract."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from framing.errors import ModelError
from framing.runtime.labels import label_mask, threshold_vector
from framing.runtime.meta import FORMAT_VERSION, ModelMeta
from framing.runtime.model import load_model, read_meta
from framing.runtime.scorers import COMPILED, COMPILED_V1, PIPELINES, SCORER_KINDS, scorer_kind

REPO = Path(__file__).resolve().parents[1]
DEFAULT = REPO / "models" / "default"

MINIMAL = {
    "name": "m",
    "labels": {"frames": ["economic", "security"]},
    "thresholds": {"frames": {"economic": 0.3}},
}


def test_meta_fills_defaults_once() -> None:
    meta = ModelMeta.from_dict(MINIMAL)
    assert meta.thresholds == {"frames": {"economic": 0.3, "security": 0.5}}
    assert meta.multi_label == {"frames": True}
    assert meta.level == "sentence"
    assert meta.format_version == 1  # no format_version: the first format
    assert meta.scorers == (PIPELINES,)


def test_meta_round_trips_through_json() -> None:
    data = {
        **MINIMAL,
        "custom": {"kept": True},
        "scorers": [COMPILED],
        "context": "article-context.v1",
        "format_version": FORMAT_VERSION,
    }
    meta = ModelMeta.from_dict(data)
    again = ModelMeta.from_dict(json.loads(json.dumps(meta.to_dict())))
    assert again == meta
    assert again.context == "article-context.v1"
    assert again.extra == {"custom": {"kept": True}}
    assert again.to_dict()["format_version"] == FORMAT_VERSION


def test_meta_refuses_a_newer_format_and_says_to_upgrade() -> None:
    with pytest.raises(
        ModelError, match=r"meta.json: the model is in format 99, .*upgrade framing"
    ):
        ModelMeta.from_dict({**MINIMAL, "format_version": 99})


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"labels": {"frames": "economic"}}, "labels of 'frames' must be a list"),
        ({"thresholds": {"frames": {"economic": "high"}}}, "'frames/economic' is 'high'"),
        ({"thresholds": {"frames": {"econ": 0.5}}}, r"unknown label\(s\) \['econ'\]"),
        ({"thresholds": {"other": {}}}, r"unknown dimension\(s\) \['other'\]"),
        ({"multi_label": {"frames": "yes"}}, "multi_label of 'frames'"),
        ({"level": "paragraph"}, "level must be one of"),
        ({"scorers": "compiled"}, "'scorers' must be a list"),
        ({"format_version": "2"}, "format_version must be a positive integer"),
        ({"context": ["article-context.v1"]}, "'context' must name a context stage"),
    ],
)
def test_meta_names_what_is_wrong(change: dict, message: str) -> None:
    with pytest.raises(ModelError, match=message):
        ModelMeta.from_dict({**MINIMAL, **change}, "x/meta.json")


def test_meta_reads_a_version_1_model(tmp_path: Path) -> None:
    # tests/data/meta-format-1.json is the meta.json of the bundled model as shipped in format 1.
    folder = tmp_path / "m"
    shutil.copytree(DEFAULT, folder)
    shutil.copy(REPO / "tests" / "data" / "meta-format-1.json", folder / "meta.json")
    meta = read_meta(folder)
    assert meta.format_version == 1
    assert meta.scorers == (COMPILED_V1, PIPELINES)  # from its "compiled": true
    assert meta.codebook is not None and meta.codebook.name == "geopolitical-framing"


def test_load_model_refuses_an_unknown_scorer_kind(tmp_path: Path) -> None:
    folder = tmp_path / "m"
    shutil.copytree(DEFAULT, folder)
    data = json.loads((folder / "meta.json").read_text(encoding="utf-8"))
    data["scorers"] = ["embedding.v9"]
    (folder / "meta.json").write_text(json.dumps(data), encoding="utf-8")
    with pytest.raises(ModelError, match="scorer kind 'embedding.v9' is unknown .* upgrade"):
        load_model(folder)


def test_scorer_registry_names_each_kind_once() -> None:
    assert set(SCORER_KINDS) == {COMPILED, COMPILED_V1, PIPELINES}
    for name, kind in SCORER_KINDS.items():
        assert kind.name == name and kind.files
    assert scorer_kind(COMPILED).version_sensitive is False
    assert not scorer_kind(COMPILED_V1).saved  # read only: folders are saved as COMPILED
    with pytest.raises(ModelError, match="unknown"):
        scorer_kind("nope")


def test_labels_multi_label_gives_every_label_at_or_above_its_threshold() -> None:
    scores = np.array([[0.5, 0.2, 0.9], [0.1, 0.1, 0.1]])
    mask = label_mask(scores, np.array([0.5, 0.3, 0.95]), multi_label=True)
    # Exactly at the threshold counts; nothing above it means no label (no fall-back).
    assert mask.tolist() == [[True, False, False], [False, False, False]]


def test_labels_single_label_gives_the_best_label_when_it_reaches_its_threshold() -> None:
    scores = np.array([[0.2, 0.5, 0.3], [0.4, 0.35, 0.25], [0.3, 0.3, 0.4]])
    zero = label_mask(scores, np.zeros(3), multi_label=False)
    assert zero.tolist() == [[False, True, False], [True, False, False], [False, False, True]]
    floor = label_mask(scores, np.full(3, 0.45), multi_label=False)
    assert floor.sum(axis=1).tolist() == [1, 0, 0]


def test_labels_threshold_vector_follows_label_order_with_the_default() -> None:
    assert threshold_vector(["b", "a"], {"a": 0.2}).tolist() == [0.5, 0.2]


def test_labels_rule_is_the_one_the_tagger_uses() -> None:
    model = load_model(DEFAULT)
    texts = ["NATO is a threat to Russia.", "The weather was mild.", "Sanctions hurt Europe."]
    scores = model.predict_proba(texts)
    sentences = model.predict(texts)
    for dim in model.dimensions:
        cut = threshold_vector(model.labels[dim], model.thresholds[dim])
        mask = label_mask(scores[dim], cut, model.multi_label[dim])
        for row, sentence in zip(mask, sentences, strict=True):
            expected = {label for label, on in zip(model.labels[dim], row, strict=True) if on}
            assert set(sentence.label_ids(dim)) == expected


class _ConstantScorer:
    """A scorer kind made up for the test: every label of 'frames' scores ``value``."""

    def __init__(self, value: float) -> None:
        self.value = value

    def predict_proba(self, texts: list[str]) -> dict[str, np.ndarray]:
        return {"frames": np.full((len(texts), 2), self.value)}


def save_scorer(scorer: _ConstantScorer, folder: Path) -> None:
    (folder / "constant.json").write_text(json.dumps(scorer.value), encoding="utf-8")


def load_scorer(folder: Path, meta: ModelMeta, trusted: object = ()) -> _ConstantScorer:
    return _ConstantScorer(json.loads((folder / "constant.json").read_text(encoding="utf-8")))


def test_scorers_a_new_kind_is_one_module_and_one_entry(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.multiclass import OneVsRestClassifier
    from sklearn.pipeline import Pipeline

    from framing.format.codebook import Codebook
    from framing.runtime.model import save_model
    from framing.runtime.scorers import ScorerKind

    kind = ScorerKind("constant.v1", ("constant.json",), __name__, False, "a test kind")
    monkeypatch.setitem(SCORER_KINDS, kind.name, kind)
    texts = ["prices rise", "troops guard", "prices fall", "troops march"]
    pipe = Pipeline(
        [("tfidf", TfidfVectorizer()), ("clf", OneVsRestClassifier(LogisticRegression()))]
    )
    pipe.fit(texts, np.array([[1, 0], [0, 1], [1, 0], [0, 1]]))
    meta = ModelMeta.from_dict(
        {"name": "c", "labels": {"frames": ["economic", "security"]}, "thresholds": {}}
    )
    codebook = Codebook.from_labels({"frames": ["economic", "security"]}, name="c")
    folder = save_model(
        tmp_path / "c", {"frames": pipe}, meta, codebook, scorers={kind.name: _ConstantScorer(0.7)}
    )
    model = load_model(folder)
    assert model.meta.scorers == ("constant.v1", COMPILED, PIPELINES)
    assert model.predict_proba(["anything"])["frames"].tolist() == [[0.7, 0.7]]
    assert model.predict(["anything"])[0].label_ids("frames") == ["economic", "security"]
    with pytest.raises(ModelError, match="scorer kind 'nope.v1' is unknown"):
        save_model(tmp_path / "d", {"frames": pipe}, meta, codebook, scorers={"nope.v1": None})
    with pytest.raises(ModelError, match=f"'{COMPILED_V1}' is only read; save {COMPILED}"):
        save_model(tmp_path / "d", {"frames": pipe}, meta, codebook, scorers={COMPILED_V1: None})
    assert not (tmp_path / "d").exists()
    lean = save_model(tmp_path / "e", {"frames": pipe}, meta, codebook, save_pipelines=False)
    assert not (lean / "model.skops").exists()
    assert load_model(lean).meta.scorers == (COMPILED,)
    with pytest.raises(ModelError, match="only compiled arrays .* save_pipelines = true"):
        load_model(lean, use_compiled=False)


def test_meta_json_is_read_in_one_place() -> None:
    """Only ``framing.runtime.model.read_meta`` parses ``meta.json``; everything else reads
    the :class:`ModelMeta` it returns (no ``meta.get(key, default)`` scattered around)."""
    import re

    literal = re.compile(r"""["']meta\.json["']""")
    readers = sorted(
        str(path.relative_to(REPO))
        for folder in ("framing", "training")
        for path in (REPO / folder).rglob("*.py")
        if literal.search(text := path.read_text(encoding="utf-8")) and "json.load" in text
    )
    assert readers == ["framing/runtime/model.py"]

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest
from framing.training.config import (
    CONFIGS_DIR,
    apply_overrides,
    config_from_dict,
    load_config,
    to_toml,
)

from framing.errors import ConfigError, InputNotFoundError


def test_config_shipped_configs_load_and_validate() -> None:
    names = sorted(p.stem for p in CONFIGS_DIR.glob("*.toml"))
    assert "default" in names and len(names) >= 2
    for name in names:
        config = load_config(CONFIGS_DIR / f"{name}.toml")
        assert config.name == name
        assert config.pipeline.name == "tfidf-logreg.v1"
    default = load_config("default")
    assert default.data.paths == ("data/annotations",)
    assert default.thresholds.strategy == "cv-f1"
    assert load_config("thorough").search["C"]


def test_config_unknown_top_key_names_key_and_valid_ones() -> None:
    with pytest.raises(
        ConfigError, match=r"unknown key 'sed' \(did you mean 'seed'\?\); valid keys: .*name"
    ):
        config_from_dict({"sed": 3})


def test_config_unknown_section_key_names_section() -> None:
    with pytest.raises(ConfigError, match=r"\[cv\] unknown key 'fold' .*valid keys: folds"):
        config_from_dict({"cv": {"fold": 3}})


def test_config_unknown_pipeline_param_lists_builder_parameters() -> None:
    with pytest.raises(ConfigError, match=r"unknown key 'CC'.*valid keys: C, char_ngrams"):
        config_from_dict({"pipeline": {"params": {"CC": 1}}})


def test_config_unknown_pipeline_name_lists_known() -> None:
    with pytest.raises(
        ConfigError, match=r"'tfidf-logreg' is not a known pipeline.*tfidf-logreg.v1"
    ):
        config_from_dict({"pipeline": {"name": "tfidf-logreg"}})


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ({"cv": {"folds": 1}}, "cv.folds must be a whole number >= 2"),
        ({"thresholds": {"fixed": 1.5}}, r"thresholds.fixed must be a number in \(0, 1\)"),
        ({"thresholds": {"strategy": "best"}}, "thresholds.strategy must be one of"),
        ({"data": {"level": "paragraph"}}, "data.level must be one of sentence, document"),
        (
            {"data": {"train": ["train"], "test": ["train"]}},
            "'train' is in both data.train and data.test",
        ),
        (
            {"data": {"train": ["train", "dev-shifted"]}},
            "data.train names 'dev-shifted': .* never trained on",
        ),
        (
            {"data": {"dev": ["dev", "dev-shifted"]}},
            "'dev-shifted' is in both data.dev and data.shifted",
        ),
        ({"seed": -1}, "seed must be a whole number >= 0"),
        ({"save_pipelines": "no"}, "save_pipelines must be true or false"),
        ({"name": "a/b"}, "must not contain path separators"),
        ({"search": {"C": []}}, "search.C must be a non-empty list"),
        ({"search": {"CC": [1]}}, r"search: unknown key 'CC' \(did you mean 'C'\?\)"),
    ],
)
def test_config_invalid_values_are_explained(raw: dict, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        config_from_dict(raw)


def test_config_overrides_set_dotted_keys_with_toml_values() -> None:
    raw = apply_overrides(
        {"pipeline": {"params": {"C": 1}}},
        ["pipeline.params.C=2.5", 'data.train=["train", "dev"]', "name=mine", "seed=7"],
    )
    assert raw == {
        "pipeline": {"params": {"C": 2.5}},
        "data": {"train": ["train", "dev"]},
        "name": "mine",
        "seed": 7,
    }


def test_config_override_without_equals_is_an_error() -> None:
    with pytest.raises(ConfigError, match="expected KEY=VALUE"):
        apply_overrides({}, ["seed"])
    with pytest.raises(ConfigError, match="'seed' is a value, not a table"):
        apply_overrides({"seed": 1}, ["seed.x=2"])


def test_config_load_applies_data_and_overrides_and_names_file_on_error(tmp_path: Path) -> None:
    path = tmp_path / "c.toml"
    path.write_text('name = "x"\n[cv]\nfolds = 3\n', encoding="utf-8")
    config = load_config(path, overrides=["cv.folds=4"], data=["a.jsonl", "b"])
    assert config.cv.folds == 4
    assert config.data.paths == ("a.jsonl", "b")
    path.write_text('name = "x"\n[cv]\nfoldz = 3\n', encoding="utf-8")
    with pytest.raises(ConfigError, match=r"c\.toml: \[cv\] unknown key 'foldz'"):
        load_config(path)
    path.write_text("name = \n", encoding="utf-8")
    with pytest.raises(ConfigError, match="invalid TOML"):
        load_config(path)
    with pytest.raises(InputNotFoundError, match="config file not found .*default"):
        load_config(tmp_path / "missing.toml")


def test_config_resolved_toml_round_trips() -> None:
    config = load_config("thorough", overrides=["seed=5"])
    text = to_toml(config.to_dict())
    again = config_from_dict(tomllib.loads(text))
    assert again == config
    assert again.to_dict() == config.to_dict()

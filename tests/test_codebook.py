from __future__ import annotations

import tomllib
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from framing.errors import CodebookError, InputNotFoundError
from framing.format.codebook import Codebook, load_codebook

from .conftest import DEFAULT_CODEBOOK, MINI_CODEBOOK


def test_codebook_loads_dimensions_and_labels(mini_codebook_path: Path) -> None:
    cb = load_codebook(mini_codebook_path)
    assert cb.dimension_ids == ("frames", "rhetoric")
    assert cb.dimension("frames").label_ids == ("economic", "security")
    assert cb.dimension("frames").label("security").definition == "Threats, defence, war."


def test_codebook_hash_ignores_formatting(tmp_path: Path) -> None:
    a = tmp_path / "a.toml"
    b = tmp_path / "b.toml"
    a.write_text(MINI_CODEBOOK, encoding="utf-8")
    b.write_text("# a comment\n" + MINI_CODEBOOK.replace(" = ", "=") + "\n\n", encoding="utf-8")
    assert load_codebook(a).hash == load_codebook(b).hash
    c = tmp_path / "c.toml"
    c.write_text(MINI_CODEBOOK.replace("Costs, prices, trade.", "Costs."), encoding="utf-8")
    assert load_codebook(c).hash != load_codebook(a).hash


def test_codebook_reports_every_problem(tmp_path: Path) -> None:
    bad = MINI_CODEBOOK.replace('version = "0.1.0"', 'version = "one"')
    bad = bad.replace('definition = "Costs, prices, trade."', 'definiton = "Costs."')
    bad = bad.replace('id = "security"', 'id = "economic"')
    bad += '\n[[dimensions.labels]]\nid = "x"\ndefinition = "X."\nparent = "nope"\n'
    path = tmp_path / "bad.toml"
    path.write_text(bad, encoding="utf-8")
    with pytest.raises(CodebookError) as info:
        load_codebook(path)
    message = str(info.value)
    assert "'one' is not a version number" in message
    assert "unknown key 'definiton' (did you mean 'definition'?)" in message
    assert "missing 'definition'" in message
    assert "duplicate label id 'economic'" in message
    assert "parent 'nope' is not a label of 'rhetoric'" in message
    assert all(line.startswith(str(path)) for line in message.splitlines())


def test_codebook_rejects_reserved_dimension_id(tmp_path: Path) -> None:
    path = tmp_path / "c.toml"
    path.write_text(MINI_CODEBOOK.replace('id = "rhetoric"', 'id = "status"'), encoding="utf-8")
    with pytest.raises(CodebookError, match="reserved record field"):
        load_codebook(path)


def test_codebook_rejects_parent_cycle(tmp_path: Path) -> None:
    text = MINI_CODEBOOK.replace(
        'definition = "Costs, prices, trade."', 'definition = "Costs."\nparent = "security"'
    ).replace('definition = "Threats, defence, war."', 'definition = "War."\nparent = "economic"')
    path = tmp_path / "c.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(CodebookError, match="cycle"):
        load_codebook(path)


def test_codebook_invalid_toml_names_line(tmp_path: Path) -> None:
    path = tmp_path / "c.toml"
    path.write_text('version = "1"\nname = \n', encoding="utf-8")
    with pytest.raises(CodebookError, match=r"invalid TOML: .*line 2"):
        load_codebook(path)


def test_codebook_missing_file_is_usage_error(tmp_path: Path) -> None:
    with pytest.raises(InputNotFoundError, match="codebook file not found"):
        load_codebook(tmp_path / "nope.toml")


def test_codebook_unknown_label_suggests(mini_codebook_path: Path) -> None:
    dim = load_codebook(mini_codebook_path).dimension("frames")
    with pytest.raises(CodebookError, match="did you mean 'economic'"):
        dim.label("econmic")


_ids = st.text(alphabet=st.characters(blacklist_categories=("Cc", "Cs")), min_size=1).filter(
    lambda s: s == s.strip()
)


@given(
    labels=st.dictionaries(
        st.from_regex(r"[a-z][a-z0-9_]{0,8}", fullmatch=True).filter(
            lambda s: s not in {"type", "id", "text", "meta", "note", "end", "start", "title"}
        ),
        st.lists(_ids, min_size=1, max_size=4, unique=True),
        min_size=1,
        max_size=3,
    )
)
def test_codebook_toml_round_trip(labels: dict[str, list[str]]) -> None:
    cb = Codebook.from_labels(labels, name="round-trip")
    again = Codebook.from_dict(tomllib.loads(cb.to_toml()))
    assert again == cb
    assert again.hash == cb.hash


def test_codebook_default_has_required_labels() -> None:
    if not DEFAULT_CODEBOOK.is_file():
        pytest.fail("data/annotations/codebook.toml is missing")
    cb = load_codebook(DEFAULT_CODEBOOK)
    assert cb.dimension("frames").label_ids == (
        "west_as_threat",
        "divide_and_rule",
        "multipolarity",
        "allied_solidarity",
        "shared_destiny",
        "resisting_pressure",
        "moral_duty",
        "pragmatic_interest",
        "western_deceit",
        "western_decline",
        "victimhood",
        "guarantor_of_stability",
    )
    assert cb.dimension("rhetoric").label_ids == (
        "appeal_to_authority",
        "consensus_claim",
        "us_vs_them",
        "loaded_language",
        "appeal_to_fear",
        "inevitability",
        "whataboutism",
        "name_calling",
    )
    for dim in cb.dimensions:
        for label in dim.labels:
            assert len(label.examples) >= 3, label.id
            assert len(label.near_misses) >= 1, label.id
            assert label.include and label.exclude, label.id

"""Label structure (framing/runtime/structure.py): parents and exclusive labels."""

from __future__ import annotations

import tomllib

import numpy as np
import pytest

from framing.errors import CodebookError, UsageError
from framing.exchange.importers.semeval2025 import with_hierarchy
from framing.format.codebook import Codebook
from framing.runtime.structure import LabelStructure, apply_structure

NAR = ["N1", "N2", "Other"]
SUB = ["N1: a", "N1: Other", "N2: b", "Other"]


def _structure(hierarchy: str = "add-parent", exclusive: bool = True) -> LabelStructure:
    book = with_hierarchy(
        Codebook.from_labels({"narratives": NAR, "subnarratives": SUB}, name="s25")
    )
    return LabelStructure.from_codebook(book, hierarchy=hierarchy, exclusive=exclusive)


def _masks(nar: list[list[str]], sub: list[list[str]]) -> dict[str, np.ndarray]:
    return {
        "narratives": np.array([[x in row for x in NAR] for row in nar]),
        "subnarratives": np.array([[x in row for x in SUB] for row in sub]),
    }


def _names(masks: dict[str, np.ndarray]) -> list[tuple[list[str], list[str]]]:
    return [
        ([NAR[j] for j in np.flatnonzero(n)], [SUB[j] for j in np.flatnonzero(s)])
        for n, s in zip(masks["narratives"], masks["subnarratives"], strict=True)
    ]


LABELS = {"narratives": NAR, "subnarratives": SUB}


def test_structure_add_parent_and_exclusive_hand_cases() -> None:
    masks = _masks(
        [["Other"], ["Other", "N2"], [], ["N1"]],
        [["N1: a"], ["Other"], ["Other"], []],
    )
    out = _names(apply_structure(masks, LABELS, _structure()))
    assert out == [
        (["N1"], ["N1: a"]),  # the child adds N1; then Other gives way to N1
        (["N2"], ["Other"]),  # exclusive: Other goes when N2 is on (subnarrative alone stays)
        (["Other"], ["Other"]),  # the subnarrative Other implies the narrative Other
        (["N1"], []),  # a parent without a child is left alone
    ]


def test_structure_drop_orphan_and_off() -> None:
    masks = _masks([["N2"], ["Other", "N1"]], [["N1: a", "N2: b"], []])
    dropped = _names(apply_structure(masks, LABELS, _structure("drop-orphan")))
    assert dropped == [(["N2"], ["N2: b"]), (["N1"], [])]
    off = _names(apply_structure(masks, LABELS, _structure("off", exclusive=False)))
    assert off == [(["N2"], ["N1: a", "N2: b"]), (["N1", "Other"], [])]
    assert masks["narratives"][1].tolist() == [True, False, True]  # inputs untouched


def test_structure_round_trips_and_validates() -> None:
    s = _structure()
    assert LabelStructure.from_dict(s.to_dict()) == s
    assert not s.empty and LabelStructure().empty
    with pytest.raises(UsageError, match="hierarchy must be one of"):
        LabelStructure(hierarchy="parents")


def test_structure_codebook_checks_cross_dimension_parents() -> None:
    data = {
        "version": "1.0",
        "name": "x",
        "dimensions": [
            {"id": "a", "labels": [{"id": "p", "definition": "d", "exclusive": "yes"}]},
            {
                "id": "b",
                "labels": [
                    {"id": "c", "definition": "d", "parent": "q", "parent_dimension": "a"},
                    {"id": "e", "definition": "d", "parent": "p", "parent_dimension": "z"},
                ],
            },
        ],
    }
    with pytest.raises(CodebookError) as info:
        Codebook.from_dict(data)
    message = str(info.value)
    assert "'exclusive' must be true or false" in message
    assert "parent 'q' is not a label of 'a'" in message
    assert "parent_dimension 'z' is not a dimension" in message
    book = with_hierarchy(
        Codebook.from_labels({"narratives": NAR, "subnarratives": SUB}, name="s25")
    )
    again = Codebook.from_dict(tomllib.loads(book.to_toml()))
    assert again == book
    assert again.dimension("subnarratives").label("N1: Other").parent == "N1"


def test_structure_label_masks_applies_the_models_structure() -> None:
    from framing.runtime.labels import label_masks
    from framing.runtime.meta import ModelMeta

    labels = {"narratives": tuple(NAR), "subnarratives": tuple(SUB)}
    meta = ModelMeta(
        name="m",
        labels=labels,
        thresholds={dim: dict.fromkeys(ids, 0.5) for dim, ids in labels.items()},
        multi_label={"narratives": True, "subnarratives": True},
        structure=_structure().to_dict(),
    )
    scores = {
        "narratives": np.array([[0.1, 0.1, 0.9]]),  # Other only
        "subnarratives": np.array([[0.9, 0.1, 0.1, 0.1]]),  # N1: a
    }
    masks = label_masks(scores, labels, meta)
    assert _names(masks) == [(["N1"], ["N1: a"])]
    plain = ModelMeta.from_dict({**meta.to_dict(), "structure": {}})
    assert _names(label_masks(scores, labels, plain)) == [(["Other"], ["N1: a"])]
    assert ModelMeta.from_dict(meta.to_dict()).structure == meta.structure

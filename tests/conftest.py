"""Shared fixtures.  Add new fixtures at the end; do not rename existing ones."""

from __future__ import annotations

from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"
SEED_ARTICLE = SHARED / "seeds" / "tass-csto-lavrov.txt"
DEFAULT_CODEBOOK = REPO / "data" / "annotations" / "codebook.toml"

MINI_CODEBOOK = """\
version = "0.1.0"
name = "mini"
description = "A two-dimension codebook for tests."

[[dimensions]]
id = "frames"
name = "Frames"

[[dimensions.labels]]
id = "economic"
name = "Economic"
definition = "Costs, prices, trade."

[[dimensions.labels]]
id = "security"
name = "Security"
definition = "Threats, defence, war."

[[dimensions]]
id = "rhetoric"
name = "Rhetoric"

[[dimensions.labels]]
id = "loaded_language"
name = "Loaded language"
definition = "Emotionally charged words."
"""


@pytest.fixture
def mini_codebook_path(tmp_path: Path) -> Path:
    path = tmp_path / "codebook.toml"
    path.write_text(MINI_CODEBOOK, encoding="utf-8")
    return path


@pytest.fixture
def seed_article() -> Path:
    if not SEED_ARTICLE.is_file():
        pytest.skip(
            "../shared/seeds/tass-csto-lavrov.txt is absent (third-party data, not in the repo)"
        )
    return SEED_ARTICLE

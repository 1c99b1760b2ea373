from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import framing.format.annotations as fa

SCHEMA = Path(fa.__file__).parent / "schemas" / "annotation.schema.json"


def test_package_python_m_framing_runs() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "framing", "--version"], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("framing ")


def test_package_import_is_light() -> None:
    code = (
        "import sys, framing, framing.format.annotations, framing.format.codebook, framing.runtime.segment; "
        "heavy = [m for m in ('matplotlib', 'datasets', 'training', 'sklearn', 'scipy') "
        "if m in sys.modules]; print(heavy)"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


def test_package_schema_matches_the_validator() -> None:
    schema = json.loads(SCHEMA.read_text(encoding="utf-8"))
    sentence = schema["$defs"]["sentence"]
    document = schema["$defs"]["document"]
    assert sorted(sentence["required"]) == ["doc_id", "id", "text"]
    assert set(sentence["properties"]) == set(fa.SENTENCE_FIELDS)
    assert set(document["properties"]) == set(fa.DOCUMENT_FIELDS)
    assert schema["$defs"]["status"]["enum"] == list(fa.STATUSES)
    assert schema["$defs"]["split"]["enum"] == list(fa.SPLITS)

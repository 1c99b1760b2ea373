"""Property-based fuzzing: arbitrary bytes and mutated valid files never raise anything
but framing's own errors, in the JSONL reader, the validator, the codebook loader, the
table reader and each file importer.

Set ``FRAMING_FUZZ_COUNTS`` to a file name to have the number of examples run written
there (``docs/reliability.md`` quotes it).
"""

from __future__ import annotations

import json
import os
import tempfile
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from framing.errors import FramingError
from framing.exchange.importers.doccano import doccano
from framing.exchange.importers.frac import frac
from framing.exchange.importers.labelstudio import labelstudio
from framing.exchange.importers.prodigy import prodigy
from framing.format.annotations import iter_records, read_corpus, validate
from framing.format.codebook import load_codebook
from framing.format.table import read_table

REPO = Path(__file__).resolve().parents[1]
DATA = REPO / "tests" / "data"
CODEBOOK = load_codebook(DATA / "tiny_codebook.toml")
EXAMPLES = int(os.environ.get("FRAMING_FUZZ_EXAMPLES", "60"))
FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
COUNTS: Counter[str] = Counter()


@pytest.fixture(scope="module", autouse=True)
def _report_counts() -> Iterator[None]:
    yield
    target = os.environ.get("FRAMING_FUZZ_COUNTS")
    if target:
        Path(target).write_text(json.dumps(dict(COUNTS), indent=2) + "\n", encoding="utf-8")


def _mutated(valid: bytes) -> st.SearchStrategy[bytes]:
    """Arbitrary bytes, or the valid file with a slice replaced by arbitrary bytes."""
    n = len(valid)
    splice = st.tuples(st.integers(0, n), st.integers(0, n), st.binary(max_size=40)).map(
        lambda t: valid[: min(t[0], t[1])] + t[2] + valid[max(t[0], t[1]) :]
    )
    return st.one_of(st.binary(max_size=2000), splice, splice)


def _run(name: str, suffix: str, data: bytes, call: Callable[[Path], Any]) -> None:
    COUNTS[name] += 1
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / f"input{suffix}"
        path.write_bytes(data)
        try:
            result = call(path)
            if hasattr(result, "__next__"):
                list(result)
        except FramingError:
            pass
        assert path.read_bytes() == data  # reading never changes the input


CORPUS = (DATA / "tiny_corpus.jsonl").read_bytes()
CODEBOOK_BYTES = (DATA / "tiny_codebook.toml").read_bytes()
FORMATS = DATA / "formats"


@FUZZ
@given(_mutated(CORPUS))
def test_fuzz_jsonl_reader(data: bytes) -> None:
    _run("jsonl reader (iter_records)", ".jsonl", data, lambda p: iter_records([p], CODEBOOK))
    _run("jsonl reader (read_corpus)", ".jsonl", data, lambda p: read_corpus([p], CODEBOOK))


@FUZZ
@given(_mutated(CORPUS))
def test_fuzz_validator(data: bytes) -> None:
    _run("validator", ".jsonl", data, lambda p: validate([p], CODEBOOK))


@FUZZ
@given(_mutated(CODEBOOK_BYTES))
def test_fuzz_codebook_loader(data: bytes) -> None:
    _run("codebook loader", ".toml", data, load_codebook)


@FUZZ
@given(_mutated(b'id,body,outlet\na1,"The West is a threat.",Daily\na2,Talks resume.,Weekly\n'))
def test_fuzz_table_reader(data: bytes) -> None:
    _run("CSV table reader", ".csv", data, lambda p: read_table(p, "body", "id"))


IMPORTERS: dict[str, tuple[str, Path, Callable[[Path], Any]]] = {
    "labelstudio": (".json", FORMATS / "labelstudio" / "export.json", labelstudio),
    "doccano": (".jsonl", FORMATS / "doccano" / "export.jsonl", doccano),
    "prodigy": (".jsonl", FORMATS / "prodigy" / "db.jsonl", prodigy),
    "frac": (".csv", FORMATS / "frac" / "frac_sample.csv", frac),
}


@pytest.mark.parametrize("name", sorted(IMPORTERS))
def test_fuzz_importer(name: str) -> None:
    suffix, sample, importer = IMPORTERS[name]

    @FUZZ
    @given(_mutated(sample.read_bytes()))
    def fuzz(data: bytes) -> None:
        _run(f"importer {name}", suffix, data, importer)

    fuzz()

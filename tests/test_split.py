"""framing split (framing/loop/split.py): grouped by document, stratified, seeded."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from framing.cli import app
from framing.errors import UsageError
from framing.format.annotations import Document, Sentence, iter_records, write_jsonl
from framing.loop.split import parse_ratios, split_corpus

runner = CliRunner()


def _corpus(n_docs: int = 100, rare_every: int = 10) -> list[Sentence | Document]:
    records: list[Sentence | Document] = []
    for d in range(n_docs):
        doc = f"d{d:03d}"
        records.append(Document(doc_id=doc, title=f"Title {d}", labels={"topic": ()}))
        for s in range(3):
            labels = ("common",) if (d + s) % 2 else ()
            if s == 0 and d % rare_every == 0:
                labels = (*labels, "rare")
            records.append(
                Sentence(
                    id=f"{doc}-s{s}", doc_id=doc, text=f"Text {d} {s}.", labels={"frames": labels}
                )
            )
    return records


def test_split_keeps_documents_together_and_stratifies_rare_labels() -> None:
    result = split_corpus(_corpus(), ratios=(0.8, 0.1, 0.1), seed=3)
    by_doc: dict[str, set[str | None]] = {}
    for record in result.records:
        by_doc.setdefault(record.doc_id, set()).add(record.split)
    assert all(len(parts) == 1 for parts in by_doc.values())
    assert [result.counts[p]["documents"] for p in ("train", "dev", "test")] == [80, 10, 10]
    # ten documents carry 'rare': 8/1/1 is the only proportional spread
    assert [result.counts[p]["labels"]["frames:rare"] for p in ("train", "dev", "test")] == [
        8,
        1,
        1,
    ]
    assert result.changed == len(result.records)


def test_split_is_seeded() -> None:
    a = split_corpus(_corpus(), seed=5).assignment
    b = split_corpus(_corpus(), seed=5).assignment
    c = split_corpus(_corpus(), seed=6).assignment
    assert a == b and a != c


def test_split_by_sentence_and_bad_ratios() -> None:
    result = split_corpus(_corpus(20), ratios=(0.5, 0.5), seed=1, by="sentence")
    assert {r.split for r in result.records if isinstance(r, Sentence)} == {"train", "test"}
    assert all(r.split is None for r in result.records if isinstance(r, Document))
    assert parse_ratios("80/10/10") == pytest.approx((0.8, 0.1, 0.1))
    assert parse_ratios("9:1") == pytest.approx((0.9, 0.1))
    for bad in ("80", "a/b", "1/2/3/4", "-1/2"):
        with pytest.raises(UsageError, match="--ratios"):
            parse_ratios(bad)


def test_split_cli_writes_one_file_or_one_per_part(tmp_path: Path) -> None:
    source = tmp_path / "corpus.jsonl"
    write_jsonl(source, _corpus(30))
    out = tmp_path / "split.jsonl"
    result = runner.invoke(
        app, ["split", str(source), "--ratios", "80/10/10", "--seed", "2", "-o", str(out)]
    )
    assert result.exit_code == 0, result.output
    parts = [r.split for r in iter_records([out])]
    assert set(parts) == {"train", "dev", "test"}
    result = runner.invoke(
        app, ["split", str(source), "--out-dir", str(tmp_path / "parts"), "--format", "json"]
    )
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    for part in ("train", "dev", "test"):
        written = list(iter_records([tmp_path / "parts" / f"{part}.jsonl"]))
        assert written and all(r.split == part for r in written)
        assert report["parts"][part]["documents"] == sum(isinstance(r, Document) for r in written)
    refused = runner.invoke(app, ["split", str(source), "-o", str(source)])
    assert refused.exit_code == 2 and "overwrite an input" in refused.output
    both = runner.invoke(app, ["split", str(source), "-o", str(out), "--out-dir", str(tmp_path)])
    assert both.exit_code == 2
    assert source.read_text(encoding="utf-8").count('"split"') == 0

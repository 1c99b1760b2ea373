"""framing eval --agreement: the model's alpha against each annotator beside theirs."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from framing.cli import app
from framing.loop.agreement import agree, krippendorff_alpha, read_annotators

DATA = Path(__file__).resolve().parent / "data"
FILES = [DATA / "loop_ann_a.jsonl", DATA / "loop_ann_b.jsonl"]


def test_model_agreement_human_and_model_alpha_per_label(loop_model: Path) -> None:
    from framing.training.agreement import model_agreement

    from framing.runtime.model import load_model

    model = load_model(loop_model)
    report = model_agreement(model, FILES)
    human = agree(FILES, model.codebook)
    expected_human = {
        (d.dimension, la.label): la.krippendorff_alpha for d in human.dimensions for la in d.labels
    }
    alice = read_annotators(FILES, model.codebook)[0]
    for entry in report.labels:
        assert entry.human_alpha == expected_human[(entry.dimension, entry.label)]
        gold, pred = [], []
        for sentence in alice.sentences.values():
            if sentence.status != "done":
                continue
            gold.append(int(entry.label in sentence.labels.get(entry.dimension, ())))
            hit = model.predict([sentence.text])[0].label_ids(entry.dimension)
            pred.append(int(entry.label in hit))
        assert entry.model_alpha[alice.name] == krippendorff_alpha([gold, pred])
        if entry.within is not None:
            assert entry.within == (entry.mean_model_alpha >= entry.human_alpha)


def test_model_agreement_cli_json(loop_model: Path) -> None:
    result = CliRunner().invoke(
        app, ["eval", str(loop_model), "--agreement", *map(str, FILES), "--format", "json"]
    )
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["annotators"][0] == "alice"
    entry = data["dimensions"]["frames"]["economic"]
    assert set(entry) == {
        "human_alpha",
        "model_alpha",
        "mean_model_alpha",
        "within_human_disagreement",
    }


def test_model_agreement_needs_two_files(loop_model: Path) -> None:
    result = CliRunner().invoke(app, ["eval", str(loop_model), "--agreement", str(FILES[0])])
    assert result.exit_code == 2
    assert "at least two annotators" in result.output

"""Shared-task submissions from tag output, and scoring tag output, on hand-computed fixtures.

The tag output is written by hand (sentences placed on the fixture articles of
``tests/data/formats``), so every expected row and figure below is worked out by hand from
the article lines and the official rules.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from framing.training.scoring import score
from framing.training.task_metrics import ptc_si_score, ptc_tc_score, semeval2023_multilabel_f1
from typer.testing import CliRunner

from framing.cli import app
from framing.errors import AnnotationError, UsageError
from framing.exchange.exporters.ptc import ptc_si, ptc_tc, read_span_rows
from framing.exchange.exporters.semeval2023 import semeval2023_techniques
from framing.exchange.importers.semeval2023 import semeval2023 as import_semeval2023
from framing.format.annotations import Sentence, write_jsonl
from framing.runtime.tagged_records import tagged_records

FORMATS = Path(__file__).parent / "data" / "formats"
S23, PTC = FORMATS / "semeval2023", FORMATS / "ptc"


def _article(
    path: Path, doc_id: str, sentences: list[tuple[str, list[str], dict[str, float]]]
) -> dict:
    """A tagged article of a sentence-level model: ``sentences`` are (text, labels, scores);
    the first is the title (sentence 0, no offsets), the others are found in the body."""
    text = path.read_text(encoding="utf-8")
    title, body = text.split("\n", 1)[0], text.split("\n\n", 1)[1]
    out, at = [], 0
    for index, (sentence, labels, scores) in enumerate(sentences):
        item: dict = {
            "index": index,
            "text": sentence,
            "labels": {"techniques": [{"label": x, "score": scores.get(x, 0.9)} for x in labels]},
        }
        if scores:
            item["scores"] = {"techniques": scores}
        if index:
            start = body.index(sentence, at)
            item.update(start=start, end=start + len(sentence))
            at = start + len(sentence)
        out.append(item)
    return {
        "version": "1.2",
        "doc_id": doc_id,
        "title": title,
        "model": {"name": "m", "version": None, "codebook": "c", "level": "sentence"},
        "n_sentences": len(out),
        "sentences": out,
        "profile": {},
    }


def _write(path: Path, articles: list[dict]) -> Path:
    path.write_text("".join(json.dumps(a) + "\n" for a in articles), encoding="utf-8")
    return path


@pytest.fixture
def s23_tagged(tmp_path: Path) -> Path:
    a = S23 / "articles"
    return _write(
        tmp_path / "tagged.jsonl",
        [
            _article(
                a / "article1001.txt",
                "article1001",
                [
                    (
                        "Reckless bureaucrats drive fuel prices to record highs",
                        ["Loaded_Language"],
                        {},
                    ),
                    # one sentence over lines 3 and 4
                    (
                        "Fuel prices rose again this week, the third rise in a month.\n"
                        "Critics say the ministry's reckless policy will ruin small farmers.",
                        ["Doubt"],
                        {},
                    ),
                    ("Everyone knows the ministers never pay for their own mistakes.", [], {}),
                    (
                        "The ministry said the rise was caused by global markets.",
                        ["Appeal_to_Fear-Prejudice", "Doubt"],
                        {},
                    ),
                ],
            ),
            _article(
                a / "article1002.txt",
                "article1002",
                [
                    ("Border guards stop smuggling ring", [], {}),
                    (
                        "Border guards arrested six people on Friday near the river crossing.",
                        ["Slogans"],
                        {},
                    ),
                    ("Officials say the ring moved weapons and cigarettes for years.", [], {}),
                ],
            ),
        ],
    )


def test_task_exports_semeval2023_subtask3_rows_hand_computed(s23_tagged: Path) -> None:
    result = semeval2023_techniques(
        tagged_records(s23_tagged),
        articles=S23 / "articles",
        gold=S23 / "labels-subtask-3.txt",
    )
    # lines of article1001: 1 title, 2 empty, 3 and 4 one sentence, 5, 6 empty, 7
    assert result.items == [
        "1001\t1\tLoaded_Language",
        "1001\t3\tDoubt",
        "1001\t4\tDoubt",
        "1001\t5\t",
        "1001\t7\tAppeal_to_Fear-Prejudice,Doubt",
        "1002\t1\t",
        "1002\t3\tSlogans",
    ]
    assert result.counts["lines with techniques"] == 5


def test_task_exports_semeval2023_subtask3_scored_equals_framing_score(
    s23_tagged: Path, tmp_path: Path
) -> None:
    """Scoring the exported file by the task's rules gives what ``framing score`` gives on
    the tag output against the imported gold: micro-F1 2*1 / (2*1 + 5 + 3) = 0.2."""
    pred = semeval2023_techniques(
        tagged_records(s23_tagged), articles=S23 / "articles", gold=S23 / "labels-subtask-3.txt"
    ).items
    gold_rows = (S23 / "labels-subtask-3.txt").read_text(encoding="utf-8").splitlines()

    def sets(rows: list[str]) -> list[set[str]]:
        return [{x for x in (r.split("\t") + [""])[2].split(",") if x} for r in rows]

    classes = sorted(set().union(*sets(gold_rows), *sets(pred)))
    official = semeval2023_multilabel_f1(sets(gold_rows), sets(pred), classes)
    # tp: line 1 Loaded_Language; fp: Doubt on 3, 4 and 7, Appeal_to_Fear-Prejudice on 7,
    # Slogans on 1002:3; fn: Loaded_Language and Appeal_to_Fear-Prejudice on 4,
    # Appeal_to_Popularity on 5
    assert official["micro_f1"] == pytest.approx(0.2)
    gold = tmp_path / "gold.jsonl"
    imported = import_semeval2023(S23 / "articles", techniques=S23 / "labels-subtask-3.txt")
    write_jsonl(gold, imported.records)
    report = score([s23_tagged], [gold], ["semeval2023-techniques"])
    figures = report.tasks["semeval2023-techniques"].scores["techniques"]
    assert figures["micro_f1"] == pytest.approx(0.2)
    assert figures["macro_f1"] == pytest.approx(official["macro_f1"])
    assert figures["n"] == 7
    # through the command line, with the codebook the import wrote next to the gold: its
    # class list lacks Doubt and Slogans, which the task's rules then ignore, so
    # tp 1, fp 1 (Appeal_to_Fear-Prejudice on 7), fn 3: micro-F1 2 / (2 + 1 + 3)
    book = tmp_path / "gold.codebook.toml"
    book.write_text(imported.codebook.to_toml(), encoding="utf-8")
    result = CliRunner().invoke(
        app, ["score", str(s23_tagged), str(gold), "-m", "semeval2023-techniques"]
    )
    assert result.exit_code == 0, result.output
    assert "micro_f1 0.333" in result.output and "(2 articles)" in result.output


def test_task_exports_score_names_missing_and_extra_articles(
    s23_tagged: Path, tmp_path: Path
) -> None:
    imported = import_semeval2023(S23 / "articles", techniques=S23 / "labels-subtask-3.txt")
    only_1001 = tmp_path / "gold-1001.jsonl"
    write_jsonl(only_1001, [r for r in imported.records if r.doc_id == "1001"])
    with pytest.raises(AnnotationError, match=r"tagged article\(s\) not in the gold.*article1002"):
        score([s23_tagged], [only_1001], ["semeval2023-techniques"])
    one = tmp_path / "tagged-1001.jsonl"
    one.write_text(s23_tagged.read_text(encoding="utf-8").splitlines()[0] + "\n")
    gold = tmp_path / "gold.jsonl"
    write_jsonl(gold, imported.records)
    with pytest.raises(AnnotationError, match=r"gold article\(s\) not in the tag output: '1002'"):
        score([one], [gold], ["semeval2023-techniques"])
    result = CliRunner().invoke(app, ["score", str(one), str(gold), "-m", "semeval2023-techniques"])
    assert result.exit_code == 1 and "'1002'" in result.output
    with pytest.raises(UsageError, match="not 'framing tag' output"):
        score([gold], [gold], ["semeval2023-techniques"])


def test_task_exports_subtask3_refuses_a_moved_sentence(s23_tagged: Path, tmp_path: Path) -> None:
    data = [json.loads(x) for x in s23_tagged.read_text(encoding="utf-8").splitlines()]
    data[0]["sentences"][2]["start"] += 1
    data[0]["sentences"][2]["end"] += 1
    moved = _write(tmp_path / "moved.jsonl", data)
    with pytest.raises(AnnotationError, match="article1001.txt: tagged sentence 2"):
        semeval2023_techniques(
            tagged_records(moved), articles=S23 / "articles", gold=S23 / "labels-subtask-3.txt"
        )


# ------------------------------------------------------------------------------------ PTC
# article111.txt: line 1 [0, 42) the title, 3 [44, 99), 4 [100, 163), 5 [164, 221), 7 [223, 255)

NCL, LL, W = "Name_Calling,Labeling", "Loaded_Language", "Whataboutism,Straw_Men,Red_Herring"


@pytest.fixture
def ptc_tagged(tmp_path: Path) -> Path:
    a = PTC / "articles"
    low = {NCL: 0.05, LL: 0.1, W: 0.02}
    return _write(
        tmp_path / "tagged.jsonl",
        [
            _article(
                a / "article111.txt",
                "article111",
                [
                    (
                        "Traitors in parliament sell out the nation",
                        [NCL],
                        {NCL: 0.9, LL: 0.2, W: 0.1},
                    ),
                    (
                        "The so-called reformers voted for the bill on Thursday.",
                        [],
                        {NCL: 0.3, LL: 0.4, W: 0.1},
                    ),
                    (
                        "These traitors will stop at nothing to destroy our way of life.",
                        [LL],
                        {NCL: 0.6, LL: 0.8, W: 0.1},
                    ),
                    (
                        "What about the other party, which did the same last year?",
                        [],
                        {NCL: 0.1, LL: 0.2, W: 0.5},
                    ),
                    ("The vote passed by twelve votes.", [], low),
                ],
            ),
            _article(
                a / "article222.txt",
                "article222",
                [
                    ("Mayor opens new bridge", [], low),
                    (
                        "The mayor opened the new bridge on Saturday.",
                        [LL],
                        {NCL: 0.1, LL: 0.7, W: 0.1},
                    ),
                    ("Thousands of residents attended the ceremony.", [], low),
                ],
            ),
        ],
    )


def test_task_exports_ptc_si_spans_and_official_score(ptc_tagged: Path) -> None:
    result = ptc_si(tagged_records(ptc_tagged), articles=PTC / "articles")
    # the sentences labelled with a technique: the title, line 4, and article222's line 3
    assert result.items == ["111\t0\t42", "111\t100\t163", "222\t24\t68"]
    pred = [
        (r.split("\t")[0], "", int(r.split("\t")[1]), int(r.split("\t")[2])) for r in result.items
    ]
    gold = [(a, "", s, e) for a, _, s, e in read_span_rows([PTC / "labels"], technique=True)]
    figures = ptc_si_score(gold, pred)
    # gold merged: [0,8) [48,67) [100,114) [115,221) (115-174, 139-162 and 164-221 overlap)
    # P = (8/42 + 14/63 + 48/63 + 0/44) / 3 predicted spans
    # R = (8/8 + 14/14 + 48/106) / 4 gold spans
    p = (8 / 42 + 14 / 63 + 48 / 63) / 3
    r = (1 + 1 + 48 / 106) / 4
    assert (figures["n_pred"], figures["n_gold"]) == (3, 4)
    assert figures["precision"] == pytest.approx(p)
    assert figures["recall"] == pytest.approx(r)
    assert figures["f1"] == pytest.approx(2 * p * r / (p + r))


def test_task_exports_ptc_tc_rows_and_official_score(ptc_tagged: Path, tmp_path: Path) -> None:
    template = tmp_path / "template.out"
    gold = read_span_rows([PTC / "labels"], technique=True)
    template.write_text("".join(f"{a}\t?\t{s}\t{e}\n" for a, _, s, e in gold), encoding="utf-8")
    result = ptc_tc(tagged_records(ptc_tagged), articles=PTC / "articles", template=[template])
    # each template span: the best technique of the sentence(s) over it
    assert result.items == [
        f"111\t{NCL}\t0\t8",  # title: NCL 0.9 (right)
        f"111\t{LL}\t48\t67",  # line 3: LL 0.4 (gold NCL)
        f"111\t{LL}\t139\t162",  # line 4: LL 0.8 (right)
        f"111\t{LL}\t100\t114",  # line 4 (gold NCL)
        f"111\t{W}\t164\t221",  # line 5: W 0.5 (right)
        f"111\t{LL}\t115\t174",  # lines 4-5: LL 0.8 beats W 0.5 (gold Exaggeration)
    ]
    pred = [(a, t, int(s), int(e)) for a, t, s, e in (r.split("\t") for r in result.items)]
    assert ptc_tc_score(gold, pred)["f1"] == pytest.approx(3 / 6)
    # a span the template repeats takes the next-best technique the second time
    template.write_text("111\t?\t100\t114\n111\t?\t100\t114\n", encoding="utf-8")
    again = ptc_tc(tagged_records(ptc_tagged), articles=PTC / "articles", template=[template])
    assert again.items == [f"111\t{LL}\t100\t114", f"111\t{NCL}\t100\t114"]
    with pytest.raises(UsageError, match="exactly|one row for each"):
        ptc_tc_score(gold, pred[:-1])


def test_task_exports_ptc_cli_and_missing_scores(ptc_tagged: Path, tmp_path: Path) -> None:
    out = tmp_path / "si.txt"
    result = CliRunner().invoke(
        app, ["export", "ptc", str(ptc_tagged), "--articles", str(PTC / "articles"), "-o", str(out)]
    )
    assert result.exit_code == 0, result.output
    assert out.read_text(encoding="utf-8").splitlines()[0] == "111\t0\t42"
    data = [json.loads(x) for x in ptc_tagged.read_text(encoding="utf-8").splitlines()]
    for article in data:
        for sentence in article["sentences"]:
            sentence.pop("scores")
    bare = _write(tmp_path / "bare.jsonl", data)
    result = CliRunner().invoke(
        app,
        [
            "export",
            "ptc",
            str(bare),
            "--task",
            "tc",
            "--articles",
            str(PTC / "articles"),
            "--template",
            str(PTC / "labels"),
            "-o",
            str(tmp_path / "tc.txt"),
        ],
    )
    assert result.exit_code == 2 and "--all-scores" in result.output


def test_task_exports_score_document_metric_hand_computed(tmp_path: Path) -> None:
    """A document-level model's tag output against the subtask 2 gold: 1001 gold Economic,
    Political, predicted Economic, Morality; 1002 gold Security_and_defense,
    Legality_Constitutionality_and_jurisprudence, predicted Security_and_defense.
    tp 2, fp 1, fn 2: micro-F1 4 / (4 + 1 + 2)."""
    from framing.exchange.exporters.semeval2023 import semeval2023 as export_frames

    def article(doc_id: str, frames: list[str]) -> dict:
        return {
            "version": "1.2",
            "doc_id": doc_id,
            "title": None,
            "model": {"name": "m", "version": None, "codebook": "c", "level": "document"},
            "n_sentences": 0,
            "sentences": [],
            "profile": {},
            "document": {"labels": {"frames": [{"label": f, "score": 0.9} for f in frames]}},
        }

    tagged = _write(
        tmp_path / "tagged.jsonl",
        [
            article("article1001", ["Economic", "Morality"]),
            article("article1002", ["Security_and_defense"]),
        ],
    )
    imported = import_semeval2023(S23 / "articles", frames=S23 / "labels-subtask-2.txt")
    gold = tmp_path / "gold.jsonl"
    write_jsonl(gold, imported.records)
    figures = score([tagged], [gold], ["semeval2023-frames"]).tasks["semeval2023-frames"]
    assert figures.scores["frames"]["micro_f1"] == pytest.approx(4 / 7)
    assert figures.scores["frames"]["n"] == 2
    # the subtask 2 file of the same tag output, scored by the task's rules: the same
    rows = export_frames(tagged_records(tagged), gold=S23 / "labels-subtask-2.txt").items
    assert rows == ["1001\tEconomic,Morality", "1002\tSecurity_and_defense"]
    gold_sets = [
        {"Economic", "Political"},
        {"Security_and_defense", "Legality_Constitutionality_and_jurisprudence"},
    ]
    pred_sets = [set(r.split("\t")[1].split(",")) for r in rows]
    classes = sorted(set().union(*gold_sets, *pred_sets))
    assert semeval2023_multilabel_f1(gold_sets, pred_sets, classes)["micro_f1"] == pytest.approx(
        4 / 7
    )
    # a sentence metric needs a sentence-level model's output
    with_techniques = import_semeval2023(
        S23 / "articles",
        frames=S23 / "labels-subtask-2.txt",
        techniques=S23 / "labels-subtask-3.txt",
    )
    write_jsonl(gold, with_techniques.records)
    with pytest.raises(UsageError, match="document-level model"):
        score([tagged], [gold], ["semeval2023-techniques"])


def test_task_exports_score_leaves_out_gold_articles_the_metric_does_not_score(
    s23_tagged: Path, tmp_path: Path
) -> None:
    """A tagged article whose gold has no annotated unit for the metric is not an error
    (it is in the gold) and is not scored: only 1001's five lines count."""
    imported = import_semeval2023(S23 / "articles", techniques=S23 / "labels-subtask-3.txt")
    records = [
        Sentence(
            r.id, r.doc_id, r.text, status="todo", sent_index=r.sent_index, start=r.start, end=r.end
        )
        if isinstance(r, Sentence) and r.doc_id == "1002"
        else r
        for r in imported.records
    ]
    gold = tmp_path / "gold.jsonl"
    write_jsonl(gold, records)
    figures = score([s23_tagged], [gold], ["semeval2023-techniques"]).tasks
    assert figures["semeval2023-techniques"].scores["techniques"]["n"] == 5

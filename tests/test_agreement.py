"""Agreement figures, checked against published worked examples and by hand."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest

from framing.errors import AnnotationError, UsageError
from framing.format.codebook import load_codebook
from framing.loop.agreement import (
    agree,
    cohen_kappa,
    jaccard_distance,
    krippendorff_alpha,
    masi_distance,
    observed_agreement,
)

DATA = Path(__file__).resolve().parent / "data"
CODEBOOK = DATA / "loop_codebook.toml"
ANN = [DATA / f"loop_ann_{x}.jsonl" for x in "abc"]
N = None

# Krippendorff, K. (2011). Computing Krippendorff's Alpha-Reliability. Annenberg School
# for Communication, University of Pennsylvania.  Section C, "Nominal data, any number of
# observers, missing data": 4 observers, 12 units, "." = missing.  Published alpha = 0.743.
KRIPPENDORFF_NOMINAL = [
    [1, 2, 3, 3, 2, 1, 4, 1, 2, N, N, N],  # observer A
    [1, 2, 3, 3, 2, 2, 4, 1, 2, 5, N, 3],  # observer B
    [N, 3, 3, 3, 2, 3, 4, 2, 2, 5, 1, N],  # observer C
    [1, 2, 3, 3, 2, 4, 4, 1, 2, 5, 1, N],  # observer D
]
# Same source, section A, "Binary or dichotomous data, two observers, no missing data":
# 10 units.  Published alpha = 0.095.
KRIPPENDORFF_BINARY = [
    [0, 1, 0, 0, 0, 0, 0, 0, 1, 0],  # observer A
    [1, 1, 1, 0, 0, 1, 0, 0, 0, 0],  # observer B
]
# Same source, section B, "Nominal data, two observers, no missing data": 12 units coded
# a-e.  Published alpha = 0.692.
KRIPPENDORFF_TWO_NOMINAL = [list("aabbdcccedda"), list("babbbccceddd")]


def _table(both_yes: int, a_only: int, b_only: int, both_no: int) -> tuple[list[int], list[int]]:
    """Two coders' yes/no codings from a 2x2 agreement table."""
    a = [1] * both_yes + [1] * a_only + [0] * b_only + [0] * both_no
    b = [1] * both_yes + [0] * a_only + [1] * b_only + [0] * both_no
    return a, b


def test_agreement_krippendorff_nominal_published_example() -> None:
    assert krippendorff_alpha(KRIPPENDORFF_NOMINAL) == pytest.approx(0.743, abs=5e-4)


def test_agreement_krippendorff_binary_published_example() -> None:
    # The coincidence matrix is o00 = 10, o01 = o10 = 4, o11 = 2: alpha = 1 - 19 * 4 / (14 * 6).
    assert krippendorff_alpha(KRIPPENDORFF_BINARY) == pytest.approx(1 - 19 * 4 / 84)
    assert round(krippendorff_alpha(KRIPPENDORFF_BINARY) or 0, 3) == 0.095


def test_agreement_krippendorff_two_observers_nominal_published_example() -> None:
    assert round(krippendorff_alpha(KRIPPENDORFF_TWO_NOMINAL) or 0, 3) == 0.692


def test_agreement_krippendorff_undefined_without_variation() -> None:
    assert krippendorff_alpha([[0, 0, 0], [0, 0, None]]) is None
    assert krippendorff_alpha([[1, None], [None, 2]]) is None  # nothing pairable
    assert krippendorff_alpha([[0, 1, 1], [0, 1, 1]]) == 1.0


def test_agreement_cohen_kappa_textbook_example() -> None:
    # Wikipedia, "Cohen's kappa", worked example: 50 grant proposals read by two readers;
    # both yes 20, A yes/B no 5, A no/B yes 10, both no 15.  p_o = 0.7, p_e = 0.5, kappa = 0.4.
    assert cohen_kappa(*_table(20, 5, 10, 15)) == pytest.approx(0.4)
    # Same article, "same percentages but different numbers": 0.1304 and 0.2593.
    assert cohen_kappa(*_table(45, 15, 25, 15)) == pytest.approx(0.1304, abs=1e-4)
    assert cohen_kappa(*_table(25, 35, 5, 35)) == pytest.approx(0.2593, abs=1e-4)


def test_agreement_cohen_kappa_matches_sklearn_and_skips_missing() -> None:
    from sklearn.metrics import cohen_kappa_score

    rng = random.Random(3)
    a = [rng.choice("xyz") for _ in range(60)]
    b = [v if rng.random() < 0.6 else rng.choice("xyz") for v in a]
    assert cohen_kappa(a, b) == pytest.approx(cohen_kappa_score(a, b))
    # A unit missing for either coder is left out, not counted as disagreement.
    assert cohen_kappa([*a, "x", None], [*b, None, "y"]) == pytest.approx(cohen_kappa(a, b))
    assert cohen_kappa([1, 1], [1, 1]) is None  # chance agreement 1: undefined


def test_agreement_krippendorff_matches_krippendorff_package() -> None:
    krippendorff = pytest.importorskip("krippendorff", reason="optional cross-check package")
    import numpy as np

    rng = random.Random(5)
    data = [[rng.choice([0, 1, 2, None]) for _ in range(40)] for _ in range(3)]
    expected = krippendorff.alpha(
        reliability_data=np.array(data, dtype=float), level_of_measurement="nominal"
    )
    assert krippendorff_alpha(data) == pytest.approx(expected)


def test_agreement_masi_and_jaccard_distances() -> None:
    # Passonneau (2006): monotonicity 1 (equal), 2/3 (subset), 1/3 (overlap), 0 (disjoint).
    assert masi_distance({"a", "b"}, {"a", "b"}) == 0.0
    assert masi_distance({"a"}, {"a", "b"}) == pytest.approx(1 - 1 / 2 * 2 / 3)
    assert masi_distance({"a", "b"}, {"b", "c"}) == pytest.approx(1 - 1 / 3 * 1 / 3)
    assert masi_distance({"a"}, {"b"}) == 1.0
    assert masi_distance(set(), set()) == 0.0
    assert masi_distance(set(), {"a"}) == 1.0
    assert jaccard_distance({"a", "b"}, {"b", "c"}) == pytest.approx(2 / 3)
    assert jaccard_distance(set(), set()) == 0.0


def test_agreement_set_alpha_of_singletons_is_nominal_alpha() -> None:
    # With one label per unit, both set distances are the nominal distance.
    sets = [[None if v is None else frozenset([v]) for v in row] for row in KRIPPENDORFF_NOMINAL]
    assert krippendorff_alpha(sets, masi_distance) == pytest.approx(0.743, abs=5e-4)
    assert krippendorff_alpha(sets, jaccard_distance) == pytest.approx(0.743, abs=5e-4)


def test_agreement_set_alpha_hand_computed() -> None:
    # Two coders, three units: {a} vs {a, b} (MASI 2/3), {b} vs {b}, {} vs {}.
    # Values {a}, {a,b}, {b}, {} -> o has 1 per cross pair, 2 on the diagonal for agreements.
    data = [
        [frozenset("a"), frozenset("b"), frozenset()],
        [frozenset("ab"), frozenset("b"), frozenset()],
    ]
    d = 1 - 1 / 2 * 2 / 3
    observed = 2 * d  # o({a},{a,b}) + o({a,b},{a}), each 1, times the distance
    # n_c: {a} 1, {a,b} 1, {b} 2, {} 2; n = 6; expected sums n_c n_k d_ck over ordered pairs.
    pairs = {
        ("a", "ab"): d,
        ("a", "b"): 1,
        ("a", ""): 1,
        ("ab", "b"): 1 - 1 / 2 * 2 / 3,
        ("ab", ""): 1,
        ("b", ""): 1,
    }
    counts = {"a": 1, "ab": 1, "b": 2, "": 2}
    expected = 2 * sum(counts[x] * counts[y] * dist for (x, y), dist in pairs.items())
    assert krippendorff_alpha(data, masi_distance) == pytest.approx(1 - 5 * observed / expected)


def test_agreement_observed_agreement_averages_pairs_per_unit() -> None:
    # Unit 1: 3 coders agree (1.0); unit 2: 2 of 3 pairs disagree (1/3); unit 3: one coder only.
    data = [[1, 1, 1], [1, 0, None], [1, 0, None]]
    assert observed_agreement(data) == pytest.approx((1.0 + 1 / 3) / 2)


def _write_reliability_files(tmp_path: Path, table: list[list[object]]) -> list[Path]:
    paths = []
    for c, row in enumerate(table):
        path = tmp_path / f"coder{c}.jsonl"
        lines = [
            json.dumps(
                {"id": f"u{u + 1}", "doc_id": "d", "text": f"unit {u + 1}", "value": [f"v{v}"]}
            )
            for u, v in enumerate(row)
            if v is not None
        ]
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
        paths.append(path)
    return paths


def test_agreement_from_files_reproduces_krippendorff_example(tmp_path: Path) -> None:
    # The published table as four annotators' files: a missing value is a missing record.
    report = agree(_write_reliability_files(tmp_path, KRIPPENDORFF_NOMINAL)).to_dict()
    dim = report["dimensions"]["value"]
    assert dim["set_alpha_masi"] == pytest.approx(0.743, abs=5e-4)
    assert dim["set_alpha_jaccard"] == pytest.approx(0.743, abs=5e-4)
    assert dim["n_units"] == 11  # unit 12 was coded by one observer only
    assert "cohen_kappa" not in dim["labels"]["v1"]  # four annotators


def test_agreement_from_files_binary_example_per_label(tmp_path: Path) -> None:
    table = [[["yes"] if v else [] for v in row] for row in KRIPPENDORFF_BINARY]
    paths = []
    for c, row in enumerate(table):
        path = tmp_path / f"obs{c}.jsonl"
        path.write_text(
            "".join(
                json.dumps({"id": f"u{u}", "doc_id": "d", "text": f"t{u}", "q": labels}) + "\n"
                for u, labels in enumerate(row)
            )
        )
        paths.append(path)
    label = agree(paths).to_dict()["dimensions"]["q"]["labels"]["yes"]
    assert label["krippendorff_alpha"] == pytest.approx(0.0952, abs=1e-4)
    assert label["observed_agreement"] == pytest.approx(0.6)
    # p_o = 0.6; p_e = 0.2 * 0.4 + 0.8 * 0.6 = 0.56; kappa = 0.04 / 0.44.
    assert label["cohen_kappa"] == pytest.approx(0.0909, abs=1e-4)
    assert label["n_units"] == 10


def test_agreement_two_annotator_files_hand_computed() -> None:
    report = agree(ANN[:2], load_codebook(CODEBOOK)).to_dict()
    assert report["annotators"] == ["alice", "loop_ann_b"]  # annotator field, else file name
    economic = report["dimensions"]["frames"]["labels"]["economic"]
    # 8 units coded by both (la1-s05 is skip for b, la2-s04 is missing in b).
    # alice 1,0,0,1,0,1,0,0 vs b 1,0,0,1,0,0,0,0: o11 = 4, o00 = 10, o01 = o10 = 1, n = 16.
    assert economic == {
        "krippendorff_alpha": pytest.approx(1 - 15 * 1 / (11 * 5), abs=1e-4),
        "cohen_kappa": pytest.approx((0.875 - 0.5625) / (1 - 0.5625), abs=1e-4),
        "observed_agreement": 0.875,
        "n_units": 8,
        "positives": {"alice": 4, "loop_ann_b": 2},
    }
    assert set(report["dimensions"]["frames"]) >= {"set_alpha_masi", "set_alpha_jaccard", "labels"}


def test_agreement_lists_disagreements_with_each_annotators_labels() -> None:
    report = agree(ANN, load_codebook(CODEBOOK))
    by_id = {d.id: d for d in report.disagreements}
    assert list(by_id) == ["la1-s02", "la1-s04", "la1-s05", "la2-s01"]
    assert by_id["la1-s02"].dimensions == ["rhetoric"]
    assert by_id["la1-s05"].dimensions == ["status"]  # skip against done
    assert by_id["la1-s04"].annotations == {
        "alice": {"frames": ["economic", "security"], "rhetoric": []},
        "loop_ann_b": {"frames": ["economic"], "rhetoric": []},
        "carol": None,  # the record is missing from carol's file
    }
    assert by_id["la2-s01"].text.startswith("Sanctions on fuel")
    assert report.to_dict()["disagreements"][0]["id"] == "la1-s02"


def test_agreement_unused_label_is_undefined(tmp_path: Path) -> None:
    codebook = load_codebook(CODEBOOK)
    a, b = tmp_path / "a.jsonl", tmp_path / "b.jsonl"
    line = (
        '{{"id": "s{0}", "doc_id": "d", "text": "t{0}", "frames": ["economic"], "rhetoric": []}}\n'
    )
    for path in (a, b):
        path.write_text(line.format(1) + line.format(2))
    report = agree([a, b], codebook).to_dict()
    frames = report["dimensions"]["frames"]["labels"]
    assert frames["security"]["krippendorff_alpha"] is None  # nobody used it
    assert frames["security"]["cohen_kappa"] is None
    assert frames["security"]["observed_agreement"] == 1.0


def test_agreement_text_report_is_a_table() -> None:
    text = agree(ANN[:2], load_codebook(CODEBOOK)).to_text()
    assert "alpha" in text and "kappa" in text
    row = next(line for line in text.splitlines() if line.strip().startswith("economic"))
    assert row.split()[1:4] == ["0.727", "0.714", "0.875"]
    assert "disagreements: 4" in text
    assert "la2-s01" in text


def test_agreement_refuses_a_different_text_under_the_same_id(tmp_path: Path) -> None:
    a, b = tmp_path / "a.jsonl", tmp_path / "b.jsonl"
    a.write_text('{"id": "s1", "doc_id": "d", "text": "One.", "frames": []}\n')
    b.write_text(
        '{"id": "s0", "doc_id": "d", "text": "Zero.", "frames": []}\n'
        '{"id": "s1", "doc_id": "d", "text": "Another.", "frames": []}\n'
    )
    with pytest.raises(
        AnnotationError, match=r"b\.jsonl:2: id 's1' has another text than in .*a\.jsonl:1"
    ):
        agree([a, b])


def test_agreement_needs_two_annotator_files(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="at least two annotators"):
        agree([ANN[0]])
    with pytest.raises(UsageError, match="same file was given twice"):
        agree([ANN[0], ANN[0]])


def test_agreement_reports_invalid_input_with_file_and_line(tmp_path: Path) -> None:
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"id": "s1", "doc_id": "d", "text": "x", "frames": ["econ"], "rhetoric": []}\n')
    with pytest.raises(
        AnnotationError, match=r"bad\.jsonl:1: label 'econ'.*did you mean 'economic'"
    ):
        agree([ANN[0], bad], load_codebook(CODEBOOK))

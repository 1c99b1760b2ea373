"""Calibration maps and out-of-fold error rates: fitted by training, applied by the runtime."""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

import numpy as np
import pytest
from framing.training.calibration import article_scores, calibrate_label, fit_map

from framing.errors import ModelError
from framing.runtime.calibration import (
    CALIBRATION_FILE,
    Calibration,
    CalibrationMap,
    apply_by_column,
    load_calibration,
)

REPO = Path(__file__).resolve().parents[1]
DEFAULT = REPO / "models" / "default"


def _overconfident(seed: int = 0, n: int = 3000) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Scores pushed towards 0 and 1 (a too-sure model), with document groups."""
    rng = np.random.default_rng(seed)
    truth = rng.uniform(0.02, 0.98, n)
    y = rng.random(n) < truth
    z = np.log(truth / (1 - truth)) * 2.5  # overconfident: slope 2.5 on the logit
    s = 1 / (1 + np.exp(-z))
    groups = np.array([f"d{i // 5}" for i in range(n)])
    return y, s, groups


def test_calibration_sigmoid_map_repairs_an_overconfident_score() -> None:
    y, s, _ = _overconfident()
    fitted = fit_map("sigmoid", y, s)
    assert fitted.a == pytest.approx(0.4, abs=0.08)  # undoes the slope of 2.5
    before = np.mean((s - y) ** 2)
    after = np.mean((fitted.apply(s) - y) ** 2)
    assert after < before


def test_calibration_isotonic_map_equals_scikit_learn() -> None:
    from sklearn.isotonic import IsotonicRegression

    y, s, _ = _overconfident(1, 500)
    ours = fit_map("isotonic", y, s)
    theirs = IsotonicRegression(y_min=0, y_max=1, out_of_bounds="clip").fit(s, y.astype(float))
    grid = np.linspace(-0.1, 1.1, 301)
    np.testing.assert_allclose(ours.apply(grid), theirs.predict(grid), atol=1e-12)


def test_calibration_maps_applied_by_column_give_each_map_s_numbers() -> None:
    """``apply_by_column`` (the sigmoid maps in one pass) gives, to the bit, what each
    score's own map gives: profile strengths are output and must not move."""
    rng = np.random.default_rng(3)
    maps = [
        CalibrationMap("sigmoid", a=1.7, b=-0.4),
        CalibrationMap("isotonic", x=(0.0, 0.3, 0.6, 1.0), y=(0.05, 0.2, 0.7, 0.9)),
        CalibrationMap("identity"),
        CalibrationMap("sigmoid", a=0.6, b=1.3),
        CalibrationMap("sigmoid", a=2.2, b=0.1),
    ]
    for n in (0, 1, 7, 500):
        cols = rng.integers(0, len(maps), n)
        scores = np.concatenate([rng.random(n - min(n, 2)), [0.0, 1.0][: min(n, 2)]])
        got = apply_by_column(maps, scores, cols)
        want = np.array([maps[c].apply(scores[k : k + 1])[0] for k, c in enumerate(cols)])
        assert got.tobytes() == want.tobytes()


def test_calibration_label_counts_rates_and_chooses_by_held_out_brier() -> None:
    y, s, groups = _overconfident(2)
    pred = s >= 0.5
    cal = calibrate_label(y, s, pred, groups, 0.5, seed=3)
    assert cal.map.method in ("sigmoid", "isotonic")
    assert cal.brier[cal.map.method] == min(cal.brier["sigmoid"], cal.brier["isotonic"])
    assert cal.brier[cal.map.method] < cal.brier["raw"]
    r = cal.rates
    assert (r.tp, r.fp) == (int((pred & y).sum()), int((pred & ~y).sum()))
    assert (r.n_pos, r.n_neg) == (int(y.sum()), int((~y).sum()))
    assert r.tpr == pytest.approx(r.tp / y.sum())
    assert 0 < r.mean_prob_neg < r.mean_prob_pos < 1
    assert len(cal.quantiles_pos) == len(cal.quantiles_neg) == 51
    assert cal.quantiles_pos[0] == pytest.approx(s[y].min(), abs=1e-6)


def test_calibration_label_with_too_few_positives_is_identity() -> None:
    y = np.array([True, False, False, False, False, False])
    s = np.array([0.9, 0.1, 0.2, 0.3, 0.1, 0.4])
    cal = calibrate_label(y, s, s >= 0.5, [str(i) for i in range(6)], 0.5)
    assert cal.map.method == "identity"
    assert cal.rates.tp == 1 and cal.rates.n_pos == 1


def test_calibration_article_scores_take_the_best_sentence() -> None:
    Y = np.array([[1], [0], [0], [0]], dtype=bool)
    S = np.array([[0.2], [0.7], [0.1], [0.3]])
    docs, gold, best, hit = article_scores(["a", "a", "b", "b"], Y, S, S >= 0.5)
    assert docs == ["a", "b"]
    assert gold[:, 0].tolist() == [True, False]
    assert best[:, 0].tolist() == [0.7, 0.3]
    assert hit[:, 0].tolist() == [True, False]


def test_calibration_json_round_trip_is_exact() -> None:
    cal = load_calibration(DEFAULT)
    assert cal is not None
    again = Calibration.from_dict(json.loads(cal.to_json()))
    assert again == cal


@pytest.mark.parametrize(
    "content, match",
    [
        ("{not json", "not readable JSON"),
        ("[]", "not a calibration file"),
        ('{"version": 99, "units": {}}', "newer"),
        ('{"units": {"sentence": {"frames": {"x": {"map": {}}}}}}', "malformed"),
    ],
)
def test_calibration_damaged_file_is_a_model_error(
    tmp_path: Path, content: str, match: str
) -> None:
    (tmp_path / CALIBRATION_FILE).write_text(content, encoding="utf-8")
    with pytest.raises(ModelError, match=match):
        load_calibration(tmp_path)


def test_calibration_map_rejects_an_unknown_method() -> None:
    with pytest.raises(ValueError, match="method"):
        CalibrationMap("platt")


def test_calibration_default_model_has_every_label_and_unit() -> None:
    from framing.runtime.model import load_model

    model = load_model(DEFAULT)
    cal = model.require_calibration()
    for unit in ("sentence", "article"):
        for dim, labels in model.labels.items():
            assert set(cal.units[unit][dim]) == set(labels)
            for label in labels:
                entry = cal.label(unit, dim, label)
                assert entry.threshold == pytest.approx(model.thresholds[dim][label])
    # The out-of-fold sample is the training split: every sentence counted once per label.
    n = model.meta.data["examples"]
    for entry in cal.units["sentence"]["frames"].values():
        assert entry.rates.n_pos + entry.rates.n_neg == n


def test_calibration_model_exposes_probabilities_beside_scores() -> None:
    from framing.runtime.model import load_model

    model = load_model(DEFAULT)
    texts = ["NATO is a threat to all of us.", "Talks went on."]
    raw = model.predict_proba(texts)
    probs = model.calibrated_proba(texts)
    for dim, labels in model.labels.items():
        assert probs[dim].shape == raw[dim].shape
        for j, label in enumerate(labels):
            m = model.calibration.label("sentence", dim, label).map  # type: ignore[union-attr]
            np.testing.assert_allclose(probs[dim][:, j], m.apply(raw[dim][:, j]))
    tagged = model.tag(" ".join(texts), all_scores=True)
    first = tagged.sentences[0].to_dict()
    assert set(first["probabilities"]) == set(model.dimensions)
    from framing.output.json import sentence_json

    assert json.loads(sentence_json(tagged.sentences[0])) == first


def test_calibration_missing_file_says_so_where_needed(tmp_path: Path) -> None:
    from framing.runtime.model import load_model

    copy = tmp_path / "old"
    shutil.copytree(DEFAULT, copy)
    (copy / CALIBRATION_FILE).unlink()
    model = load_model(copy)
    assert model.calibration is None
    assert model.tag("NATO is a threat.", all_scores=True).sentences[0].probabilities is None
    with pytest.raises(ModelError, match="no calibration.json.*retrain"):
        model.calibrated_proba(["x"])


def test_calibration_training_writes_it(tmp_path: Path) -> None:
    from framing.training.train import train

    from framing.runtime.model import load_model
    from tests.test_training_train import tiny_config

    result = train(tiny_config(), output=tmp_path / "m")
    model = load_model(result.path)
    cal = model.require_calibration()
    assert cal.info["folds"] == 3
    for dim, labels in model.labels.items():
        for label in labels:
            entry = cal.label("sentence", dim, label)
            assert entry.rates.n_pos + entry.rates.n_neg == result.meta.data["examples"]
            assert entry.map.method in ("sigmoid", "isotonic", "identity")


def test_calibration_runtime_applies_it_without_scikit_learn() -> None:
    import subprocess

    code = (
        "import sys, numpy as np\n"
        "from framing.runtime.calibration import load_calibration\n"
        f"cal = load_calibration({str(DEFAULT)!r})\n"
        "cal.apply('frames', np.full((2, 12), 0.3), list(cal.units['sentence']['frames']))\n"
        "assert 'sklearn' not in sys.modules, 'scikit-learn was imported'\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr


def test_calibration_eval_reports_ece_and_brier_per_label() -> None:
    from framing.training.evaluate import brier_score, evaluate, expected_calibration_error
    from framing.training.plots import plot_reliability

    report = evaluate(DEFAULT, [REPO / "data" / "annotations" / "test.jsonl"], worst=0)
    ev = report.dimensions["frames"]
    assert ev.y_prob is not None
    data = report.to_dict()["frames"]
    assert data["calibrated"] is True
    for j, label in enumerate(ev.labels):
        values = data["labels"][label]
        assert values["ece"] == pytest.approx(
            expected_calibration_error(ev.y_true[:, j], ev.y_prob[:, j]), abs=1e-6
        )
        assert values["brier"] == pytest.approx(
            brier_score(ev.y_true[:, j], ev.y_prob[:, j]), abs=1e-6
        )
        assert "ece_raw" in values and "brier_raw" in values
    assert "ECE and Brier: of the calibrated probabilities" in report.to_table()
    fig = plot_reliability(ev)
    legend = [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
    assert any(t.startswith("calibrated probability (ECE") for t in legend)


def test_calibration_brier_and_ece_of_known_cases() -> None:
    from framing.training.evaluate import brier_score, expected_calibration_error

    y = np.array([1, 0, 0, 0])
    assert brier_score(y, np.array([1.0, 0.0, 0.0, 0.0])) == 0.0
    assert brier_score(y, np.full(4, 0.5)) == pytest.approx(0.25)
    assert expected_calibration_error(y, np.full(4, 0.25)) == pytest.approx(0.0)
    assert expected_calibration_error(y, np.full(4, 0.95)) == pytest.approx(0.70)

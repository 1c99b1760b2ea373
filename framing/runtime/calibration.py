"""Calibrated probabilities and out-of-fold error rates stored with a model.

A model folder may hold ``calibration.json`` (written by ``framing train``; layout in
``docs/training.md``).  Per unit (``sentence``: one score per sentence; ``article``: the
highest sentence score of an article, against "some sentence carries the label"), per
dimension and label it stores:

* a calibration map from a raw score to a probability, fitted on document-grouped
  out-of-fold scores: ``sigmoid`` (``p = 1 / (1 + exp(-(a * logit(s) + b)))``),
  ``isotonic`` (a step function given by ``x``/``y`` knots, interpolated linearly) or
  ``identity`` (too few examples to fit one), chosen by the lower held-out Brier score;
* the out-of-fold confusion counts at the label's threshold (``tp``, ``fn``, ``fp``,
  ``tn``): true- and false-positive rates with their sample sizes;
* the mean and standard deviation of the cross-fitted calibrated probability among
  positives and among negatives (what probabilistic adjusted counting needs);
* quantiles of the raw out-of-fold score among positives and negatives (for simulations).

Everything is plain numbers: applying it needs numpy only.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from framing.errors import ModelError

if TYPE_CHECKING:
    import numpy as np

__all__ = [
    "CALIBRATION_FILE",
    "CALIBRATION_VERSION",
    "UNITS",
    "Calibration",
    "CalibrationMap",
    "ErrorRates",
    "LabelCalibration",
    "apply_by_column",
    "load_calibration",
    "logit",
]

CALIBRATION_FILE = "calibration.json"
#: Version of the ``calibration.json`` layout.
CALIBRATION_VERSION = 1
UNITS = ("sentence", "article")
METHODS = ("sigmoid", "isotonic", "identity")
#: Scores are clipped into ``[EPS, 1 - EPS]`` before the logit.
EPS = 1e-6


def logit(scores: np.ndarray) -> np.ndarray:
    """``log(s / (1 - s))`` of scores clipped away from 0 and 1."""
    import numpy as np

    s = np.clip(np.asarray(scores, dtype=float), EPS, 1 - EPS)
    return np.log(s / (1 - s))


def sigmoid(z: np.ndarray) -> np.ndarray:
    """``1 / (1 + exp(-z))``: log-odds back to scores (the inverse of :func:`logit`)."""
    import numpy as np

    return 1.0 / (1.0 + np.exp(-np.asarray(z, dtype=float)))


def _sigmoid_map(a: Any, b: Any, scores: np.ndarray) -> np.ndarray:
    """The ``sigmoid`` map with slope ``a`` and intercept ``b`` (numbers, or one per score)."""
    return sigmoid(a * logit(scores) + b)


def apply_by_column(
    maps: Sequence[CalibrationMap], scores: np.ndarray, cols: np.ndarray
) -> np.ndarray:
    """``maps[cols[k]].apply(scores[k])`` for every ``k``: the sigmoid maps in one pass
    (the same numbers), the others a map at a time."""
    import numpy as np

    out = np.empty(len(scores))
    is_sigmoid = np.array([m.method == "sigmoid" for m in maps], dtype=bool)
    if is_sigmoid.any():
        at = is_sigmoid[cols]
        a = np.array([m.a for m in maps])[cols[at]]
        b = np.array([m.b for m in maps])[cols[at]]
        out[at] = _sigmoid_map(a, b, scores[at])
    for j in np.flatnonzero(~is_sigmoid).tolist():
        at = cols == j
        if at.any():
            out[at] = maps[j].apply(scores[at])
    return out


@dataclass(frozen=True)
class CalibrationMap:
    """A monotone map from raw scores to probabilities."""

    method: str
    a: float = 1.0
    b: float = 0.0
    x: tuple[float, ...] = ()
    y: tuple[float, ...] = ()

    def __post_init__(self) -> None:
        if self.method not in METHODS:
            raise ValueError(f"calibration method must be one of {METHODS}, got {self.method!r}")
        if self.method == "isotonic" and (len(self.x) != len(self.y) or len(self.x) < 1):
            raise ValueError("an isotonic map needs as many x as y knots, at least one")

    def apply(self, scores: np.ndarray) -> np.ndarray:
        """Calibrated probabilities of ``scores`` (any shape)."""
        import numpy as np

        s = np.asarray(scores, dtype=float)
        if self.method == "sigmoid":
            return _sigmoid_map(self.a, self.b, s)
        if self.method == "isotonic":
            return np.interp(s, np.asarray(self.x), np.asarray(self.y))
        return np.clip(s, 0.0, 1.0)

    def to_dict(self) -> dict[str, Any]:
        if self.method == "sigmoid":
            return {"method": "sigmoid", "a": self.a, "b": self.b}
        if self.method == "isotonic":
            return {"method": "isotonic", "x": list(self.x), "y": list(self.y)}
        return {"method": "identity"}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> CalibrationMap:
        method = data.get("method")
        if method == "sigmoid":
            return cls("sigmoid", a=float(data["a"]), b=float(data["b"]))
        if method == "isotonic":
            return cls(
                "isotonic",
                x=tuple(float(v) for v in data["x"]),
                y=tuple(float(v) for v in data["y"]),
            )
        return cls(str(method))


@dataclass(frozen=True)
class ErrorRates:
    """Out-of-fold confusion counts at a threshold, and calibrated-probability moments."""

    tp: int
    fn: int
    fp: int
    tn: int
    mean_prob_pos: float = math.nan
    mean_prob_neg: float = math.nan
    sd_prob_pos: float = math.nan
    sd_prob_neg: float = math.nan

    @property
    def n_pos(self) -> int:
        return self.tp + self.fn

    @property
    def n_neg(self) -> int:
        return self.fp + self.tn

    @property
    def tpr(self) -> float:
        """True-positive rate (recall); NaN without positives."""
        return self.tp / self.n_pos if self.n_pos else math.nan

    @property
    def fpr(self) -> float:
        """False-positive rate; NaN without negatives."""
        return self.fp / self.n_neg if self.n_neg else math.nan

    def to_dict(self) -> dict[str, Any]:
        return {
            "tp": self.tp,
            "fn": self.fn,
            "fp": self.fp,
            "tn": self.tn,
            "n_pos": self.n_pos,
            "n_neg": self.n_neg,
            "tpr": _json_float(self.tpr),
            "fpr": _json_float(self.fpr),
            "mean_prob_pos": _json_float(self.mean_prob_pos),
            "mean_prob_neg": _json_float(self.mean_prob_neg),
            "sd_prob_pos": _json_float(self.sd_prob_pos),
            "sd_prob_neg": _json_float(self.sd_prob_neg),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ErrorRates:
        return cls(
            tp=int(data["tp"]),
            fn=int(data["fn"]),
            fp=int(data["fp"]),
            tn=int(data["tn"]),
            mean_prob_pos=_float(data.get("mean_prob_pos")),
            mean_prob_neg=_float(data.get("mean_prob_neg")),
            sd_prob_pos=_float(data.get("sd_prob_pos")),
            sd_prob_neg=_float(data.get("sd_prob_neg")),
        )


def _json_float(value: float) -> float | None:
    """JSON has no NaN: missing numbers are written as null."""
    return None if value is None or math.isnan(value) else float(value)


def _float(value: Any) -> float:
    return math.nan if value is None else float(value)


@dataclass(frozen=True)
class LabelCalibration:
    """One label's calibration map, error rates and out-of-fold score quantiles."""

    map: CalibrationMap
    threshold: float
    rates: ErrorRates
    #: Held-out Brier score of each candidate map (and of the raw scores, ``"raw"``).
    brier: dict[str, float] = field(default_factory=dict)
    #: Expected calibration error (10 equal-width bins) of the raw out-of-fold scores
    #: (``"raw"``) and of their cross-fitted calibrated probabilities (``"calibrated"``);
    #: empty for a model trained before it was stored.
    ece: dict[str, float] = field(default_factory=dict)
    #: Quantiles (at ``i / (len - 1)``) of the raw out-of-fold scores of positives/negatives.
    quantiles_pos: tuple[float, ...] = ()
    quantiles_neg: tuple[float, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {
            "map": self.map.to_dict(),
            "threshold": self.threshold,
            "rates": self.rates.to_dict(),
            "brier": {k: _json_float(v) for k, v in self.brier.items()},
            **({"ece": {k: _json_float(v) for k, v in self.ece.items()}} if self.ece else {}),
            "quantiles_pos": list(self.quantiles_pos),
            "quantiles_neg": list(self.quantiles_neg),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> LabelCalibration:
        return cls(
            map=CalibrationMap.from_dict(data["map"]),
            threshold=float(data["threshold"]),
            rates=ErrorRates.from_dict(data["rates"]),
            brier={k: _float(v) for k, v in data.get("brier", {}).items()},
            ece={k: _float(v) for k, v in data.get("ece", {}).items()},
            quantiles_pos=tuple(float(v) for v in data.get("quantiles_pos", ())),
            quantiles_neg=tuple(float(v) for v in data.get("quantiles_neg", ())),
        )


@dataclass(frozen=True)
class Calibration:
    """A model's ``calibration.json``: ``units[unit][dimension][label]``."""

    units: dict[str, dict[str, dict[str, LabelCalibration]]]
    #: How the out-of-fold scores were made (folds, seed, grouping), for the record.
    info: dict[str, Any] = field(default_factory=dict)

    def label(self, unit: str, dimension: str, label: str) -> LabelCalibration:
        """One label's calibration; :class:`ModelError` names what is missing."""
        try:
            return self.units[unit][dimension][label]
        except KeyError:
            have = ", ".join(sorted(self.units)) or "none"
            raise ModelError(
                f"calibration.json has no entry for unit '{unit}', dimension '{dimension}', "
                f"label '{label}' (units: {have}); retrain the model with 'framing train'"
            ) from None

    def apply(
        self,
        dimension: str,
        scores: np.ndarray,
        labels: tuple[str, ...] | list[str],
        *,
        unit: str = "sentence",
    ) -> np.ndarray:
        """Calibrated probabilities of an ``(n, len(labels))`` score array."""
        import numpy as np

        s = np.asarray(scores, dtype=float)
        out = np.empty_like(s)
        for j, label in enumerate(labels):
            out[:, j] = self.label(unit, dimension, label).map.apply(s[:, j])
        return out

    def to_dict(self) -> dict[str, Any]:
        return {
            "version": CALIBRATION_VERSION,
            "info": self.info,
            "units": {
                unit: {
                    dim: {label: cal.to_dict() for label, cal in labels.items()}
                    for dim, labels in dims.items()
                }
                for unit, dims in self.units.items()
            },
        }

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=1, ensure_ascii=False) + "\n"

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Calibration:
        return cls(
            units={
                unit: {
                    dim: {label: LabelCalibration.from_dict(v) for label, v in labels.items()}
                    for dim, labels in dims.items()
                }
                for unit, dims in data["units"].items()
            },
            info=dict(data.get("info", {})),
        )


def load_calibration(folder: str | Path) -> Calibration | None:
    """The ``calibration.json`` of a model folder, or None when the folder has none.

    Raises
    ------
    ModelError
        When the file exists but cannot be read, naming the file and what to do.
    """
    file = Path(folder) / CALIBRATION_FILE
    if not file.is_file():
        return None
    try:
        data = json.loads(file.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ModelError(f"{file}: not readable JSON ({exc}); retrain the model") from None
    if not isinstance(data, dict) or "units" not in data:
        raise ModelError(f"{file}: not a calibration file (no 'units'); retrain the model")
    if int(data.get("version", 0)) > CALIBRATION_VERSION:
        raise ModelError(
            f"{file}: calibration format {data['version']} is newer than this framing reads "
            f"({CALIBRATION_VERSION}); upgrade framing"
        )
    try:
        return Calibration.from_dict(data)
    except (KeyError, TypeError, ValueError) as exc:
        raise ModelError(
            f"{file}: malformed calibration entry ({exc}); retrain the model"
        ) from None

"""Training configuration: one TOML file is the source of truth for a training run.

A config names the data and its splits, the label dimensions to learn, the
pipeline (a versioned name plus its parameters), the threshold strategy,
cross-validation and the seed::

    name = "default"
    seed = 13
    dimensions = []                 # empty: every dimension of the codebook
    single_label = "auto"           # or a list of dimension ids

    [data]
    paths = ["data/annotations"]
    codebook = "data/annotations/codebook.toml"
    level = "sentence"              # or "document"
    document_text = "auto"          # document level: "text", "sentences" or "auto"
    train = ["train"]
    dev = ["dev"]
    test = ["test"]
    shifted = ["dev-shifted"]       # style-shifted held-out articles: scored, never trained on

    [pipeline]
    name = "tfidf-logreg.v1"
    [pipeline.params]
    C = 10.0

    [thresholds]
    strategy = "cv-f1"              # or "fixed"
    fixed = 0.5
    min_positives = 3

    [cv]
    folds = 5

    [context]                       # optional second stage: each sentence's scores
    dimensions = ["frames"]         # revised with its article's (sentence level only)
    C = 1.0

    [search]                        # optional grid, chosen by grouped cross-validation;
    C = [1.0, 3.0, 10.0]            # a searched value replaces the one in [pipeline.params]

A top-level ``n_jobs`` (default 1; 0: every available CPU) sets how many folds and
per-label fits run at once, in worker processes; the model does not depend on it.
A top-level ``save_pipelines`` (default true) also writes the fitted scikit-learn
pipelines (``model.skops``) beside the compiled arrays; false leaves them out when the
pipelines compile (a smaller folder that scores the same, without scikit-learn).

Relative paths are relative to the working directory (run from the repository
root).  Unknown keys are errors that name the key and the valid ones; the
pipeline's parameters are checked against its builder's signature.

The module is a little over 500 lines: one validated dataclass per section of the file,
next to the others it is checked against.
"""

from __future__ import annotations

import inspect
import itertools
import json
import math
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from framing.errors import ConfigError, InputNotFoundError
from framing.format.codebook import did_you_mean

__all__ = [
    "TrainConfig",
    "DataConfig",
    "PipelineConfig",
    "ThresholdConfig",
    "CVConfig",
    "ContextConfig",
    "load_config",
    "config_from_dict",
    "apply_overrides",
    "to_toml",
    "CONFIGS_DIR",
]

#: The configs shipped with framing.
CONFIGS_DIR = Path(__file__).resolve().parent / "configs"
LEVELS = ("sentence", "document")
DOCUMENT_TEXTS = ("auto", "text", "sentences")
STRATEGIES = ("cv-f1", "fixed")
#: The split of style-shifted held-out articles (registers and outlet styles absent from
#: training): scored after training to choose modelling changes, never trained on.
SHIFTED_SPLIT = "dev-shifted"


def _suggest(key: str, valid: Sequence[str]) -> str:
    match = did_you_mean(key, valid)
    return f" (did you mean '{match}'?)" if match else ""


def _unknown(where: str, key: str, valid: Sequence[str]) -> str:
    place = f"[{where}] " if where else ""
    return (
        f"{place}unknown key '{key}'{_suggest(key, valid)}; valid keys: {', '.join(sorted(valid))}"
    )


def _strings(value: Any, name: str) -> tuple[str, ...]:
    if isinstance(value, str):
        return (value,)
    if not isinstance(value, list | tuple) or not all(isinstance(v, str) for v in value):
        raise ConfigError(f"{name} must be a list of strings, got {value!r}")
    return tuple(value)


@dataclass(frozen=True)
class DataConfig:
    """Where the annotations are and which split values train, tune, test and probe.

    ``shifted`` names the split(s) of style-shifted held-out articles, scored after
    training like ``dev`` and ``test`` (as ``dev-shifted`` in the metrics) and never
    trained on.
    """

    paths: tuple[str, ...] = ("data/annotations",)
    codebook: str | None = "data/annotations/codebook.toml"
    level: str = "sentence"
    document_text: str = "auto"
    train: tuple[str, ...] = ("train",)
    dev: tuple[str, ...] = ("dev",)
    test: tuple[str, ...] = ("test",)
    shifted: tuple[str, ...] = (SHIFTED_SPLIT,)

    def __post_init__(self) -> None:
        for name in ("paths", "train", "dev", "test", "shifted"):
            object.__setattr__(self, name, _strings(getattr(self, name), f"data.{name}"))
        if not self.paths:
            raise ConfigError("data.paths is empty: name at least one JSONL file or folder")
        if self.codebook is not None and not isinstance(self.codebook, str):
            raise ConfigError(f"data.codebook must be a path (string), got {self.codebook!r}")
        if self.level not in LEVELS:
            raise ConfigError(
                f"data.level must be one of {', '.join(LEVELS)}, got {self.level!r}"
                f"{_suggest(str(self.level), LEVELS)}"
            )
        if self.document_text not in DOCUMENT_TEXTS:
            raise ConfigError(
                f"data.document_text must be one of {', '.join(DOCUMENT_TEXTS)}, "
                f"got {self.document_text!r}"
            )
        if not self.train:
            raise ConfigError("data.train is empty: name the split value(s) to train on")
        if SHIFTED_SPLIT in self.train:
            raise ConfigError(
                f"data.train names {SHIFTED_SPLIT!r}: that split holds the style-shifted "
                "held-out articles used to choose modelling changes and is never trained on; "
                f"remove it from data.train (it is scored through data.shifted)"
            )
        pairs = itertools.combinations(("train", "dev", "test", "shifted"), 2)
        for a, b in pairs:
            both = sorted(set(getattr(self, a)) & set(getattr(self, b)))
            if both:
                raise ConfigError(
                    f"split {both[0]!r} is in both data.{a} and data.{b}; "
                    "a record can serve one purpose only"
                )


@dataclass(frozen=True)
class PipelineConfig:
    """A versioned pipeline name from :data:`framing.training.pipelines.PIPELINES` and its
    parameters."""

    name: str = "tfidf-logreg.v1"
    params: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        from framing.training.pipelines import PIPELINES

        if self.name not in PIPELINES:
            raise ConfigError(
                f"pipeline.name {self.name!r} is not a known pipeline"
                f"{_suggest(self.name, list(PIPELINES))}; known: {', '.join(PIPELINES)}"
            )
        if not isinstance(self.params, Mapping):
            raise ConfigError("pipeline.params must be a table")
        valid = pipeline_parameters(self.name)
        for key in self.params:
            if key not in valid:
                raise ConfigError(
                    f"pipeline.params: {_unknown('', key, list(valid))} (for {self.name})"
                )
        object.__setattr__(self, "params", dict(self.params))


def pipeline_parameters(name: str) -> dict[str, Any]:
    """The tunable parameters of pipeline ``name`` and their defaults."""
    from framing.training.pipelines import PIPELINES

    signature = inspect.signature(PIPELINES[name])
    return {
        p.name: p.default
        for p in signature.parameters.values()
        if p.kind is p.KEYWORD_ONLY and p.name not in ("multi_label", "seed", "n_labels")
    }


@dataclass(frozen=True)
class ThresholdConfig:
    """How per-label decision thresholds are chosen.

    ``cv-f1`` tunes each label's threshold on out-of-fold scores to maximise F1;
    ``fixed`` uses ``fixed`` for every label.  Labels with fewer than
    ``min_positives`` training examples are reported as untrainable and get ``fixed``.
    """

    strategy: str = "cv-f1"
    fixed: float = 0.5
    min_positives: int = 3

    def __post_init__(self) -> None:
        if self.strategy not in STRATEGIES:
            raise ConfigError(
                f"thresholds.strategy must be one of {', '.join(STRATEGIES)}, "
                f"got {self.strategy!r}{_suggest(str(self.strategy), STRATEGIES)}"
            )
        if (
            isinstance(self.fixed, bool)
            or not isinstance(self.fixed, int | float)
            or not 0 < self.fixed < 1
        ):
            raise ConfigError(f"thresholds.fixed must be a number in (0, 1), got {self.fixed!r}")
        object.__setattr__(self, "fixed", float(self.fixed))
        if not _is_int(self.min_positives) or self.min_positives < 1:
            raise ConfigError(
                f"thresholds.min_positives must be a whole number >= 1, got {self.min_positives!r}"
            )


@dataclass(frozen=True)
class CVConfig:
    """Cross-validation grouped by document (no document on both sides of a fold)."""

    folds: int = 5

    def __post_init__(self) -> None:
        if not _is_int(self.folds) or self.folds < 2:
            raise ConfigError(f"cv.folds must be a whole number >= 2, got {self.folds!r}")


@dataclass(frozen=True)
class ContextConfig:
    """The article-context stage (:mod:`framing.runtime.context`): per label of each of
    ``dimensions``, a logistic regression (inverse regularisation ``C``) on the
    out-of-fold log-odds of the sentence and of its article.  No dimensions: no stage.

    The stage is fitted where it can be: for a multi-label dimension of a sentence-level
    model with cross-validation folds.  A dimension named here that is not trained, or
    cannot have the stage, is left without it (so that the default config trains any
    corpus); ``meta.json`` and ``context.json`` say which dimensions have it.
    """

    dimensions: tuple[str, ...] = ()
    C: float = 1.0

    def __post_init__(self) -> None:
        object.__setattr__(self, "dimensions", _strings(self.dimensions, "context.dimensions"))
        if isinstance(self.C, bool) or not isinstance(self.C, int | float) or not self.C > 0:
            raise ConfigError(f"context.C must be a number > 0, got {self.C!r}")
        object.__setattr__(self, "C", float(self.C))


@dataclass(frozen=True)
class StructureConfig:
    """How the codebook's label structure is enforced at prediction time.

    ``hierarchy``: ``add-parent`` (a predicted child switches its parent on),
    ``drop-orphan`` (a child without its parent is dropped) or ``off``; ``exclusive``:
    whether a label marked ``exclusive`` in the codebook (``Other``) is dropped when
    another label of its dimension is predicted.  See :mod:`framing.runtime.structure`.
    """

    hierarchy: str = "add-parent"
    exclusive: bool = True

    def __post_init__(self) -> None:
        from framing.runtime.structure import HIERARCHY_RULES

        if self.hierarchy not in HIERARCHY_RULES:
            raise ConfigError(
                f"structure.hierarchy must be one of {', '.join(HIERARCHY_RULES)}, "
                f"got {self.hierarchy!r}{_suggest(str(self.hierarchy), HIERARCHY_RULES)}"
            )
        if not isinstance(self.exclusive, bool):
            raise ConfigError(f"structure.exclusive must be true or false, got {self.exclusive!r}")


@dataclass(frozen=True)
class TrainConfig:
    """A whole training run; build one with :func:`load_config`.

    Examples
    --------
    >>> config = config_from_dict({"name": "demo", "pipeline": {"params": {"C": 3}}})
    >>> config.pipeline.params["C"], config.data.level
    (3, 'sentence')
    >>> config_from_dict({"nmae": "x"})
    Traceback (most recent call last):
    ...
    framing.errors.ConfigError: unknown key 'nmae' (did you mean 'name'?); valid keys: ...
    """

    name: str = "model"
    seed: int = 13
    dimensions: tuple[str, ...] = ()
    single_label: str | tuple[str, ...] = "auto"
    data: DataConfig = field(default_factory=DataConfig)
    pipeline: PipelineConfig = field(default_factory=PipelineConfig)
    thresholds: ThresholdConfig = field(default_factory=ThresholdConfig)
    cv: CVConfig = field(default_factory=CVConfig)
    search: Mapping[str, tuple[Any, ...]] = field(default_factory=dict)
    structure: StructureConfig = field(default_factory=StructureConfig)
    context: ContextConfig = field(default_factory=ContextConfig)
    #: Folds and per-label fits run at once, in worker processes (0: every available CPU).
    n_jobs: int = 1
    #: Also write ``model.skops``; False: only the compiled arrays, when the pipelines compile.
    save_pipelines: bool = True

    def __post_init__(self) -> None:
        if not _is_int(self.n_jobs) or self.n_jobs < 0:
            raise ConfigError(
                f"n_jobs must be a whole number >= 0 (0: every available CPU), got {self.n_jobs!r}"
            )
        if not isinstance(self.save_pipelines, bool):
            raise ConfigError(f"save_pipelines must be true or false, got {self.save_pipelines!r}")
        if not isinstance(self.name, str) or not self.name.strip():
            raise ConfigError("name must be a non-empty string (it names the model folder)")
        if any(c in self.name for c in "/\\") or self.name in (".", ".."):
            raise ConfigError(f"name {self.name!r} must not contain path separators")
        if not _is_int(self.seed) or self.seed < 0:
            raise ConfigError(f"seed must be a whole number >= 0, got {self.seed!r}")
        object.__setattr__(self, "dimensions", _strings(self.dimensions, "dimensions"))
        if self.single_label != "auto":
            object.__setattr__(self, "single_label", _strings(self.single_label, "single_label"))
        if not isinstance(self.search, Mapping):
            raise ConfigError("[search] must be a table of parameter = [values]")
        valid = pipeline_parameters(self.pipeline.name)
        search: dict[str, tuple[Any, ...]] = {}
        for key, values in self.search.items():
            if key not in valid:
                raise ConfigError(
                    f"search: {_unknown('', key, list(valid))} (for {self.pipeline.name})"
                )
            if not isinstance(values, list | tuple) or not values:
                raise ConfigError(f"search.{key} must be a non-empty list of values")
            search[key] = tuple(values)
        object.__setattr__(self, "search", search)

    def to_dict(self) -> dict[str, Any]:
        """The resolved config as plain data (lists, not tuples), as saved with a model."""
        return json.loads(json.dumps(_as_plain(self)))


def _as_plain(value: Any) -> Any:
    if hasattr(value, "__dataclass_fields__"):
        return {f.name: _as_plain(getattr(value, f.name)) for f in fields(value)}
    if isinstance(value, Mapping):
        return {k: _as_plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_as_plain(v) for v in value]
    return value


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


_SECTIONS: dict[str, type] = {
    "data": DataConfig,
    "pipeline": PipelineConfig,
    "thresholds": ThresholdConfig,
    "cv": CVConfig,
    "structure": StructureConfig,
    "context": ContextConfig,
}
_TOP = (
    "name",
    "seed",
    "dimensions",
    "single_label",
    "search",
    "n_jobs",
    "save_pipelines",
    *_SECTIONS,
)


def config_from_dict(raw: Mapping[str, Any]) -> TrainConfig:
    """Build a :class:`TrainConfig` from parsed TOML, refusing unknown keys.

    Raises
    ------
    ConfigError
        Naming the unknown or invalid key and the valid ones.
    """
    if not isinstance(raw, Mapping):
        raise ConfigError("a training config must be a TOML table")
    for key in raw:
        if key not in _TOP:
            raise ConfigError(_unknown("", key, _TOP))
    kwargs: dict[str, Any] = {}
    for key, value in raw.items():
        if key in _SECTIONS:
            cls = _SECTIONS[key]
            if not isinstance(value, Mapping):
                raise ConfigError(f"[{key}] must be a table")
            valid = [f.name for f in fields(cls)]
            for sub in value:
                if sub not in valid:
                    raise ConfigError(_unknown(key, sub, valid))
            try:
                kwargs[key] = cls(**value)
            except TypeError as exc:  # a wrongly typed value that broke a comparison
                raise ConfigError(f"[{key}]: {exc}") from None
        else:
            kwargs[key] = value
    return TrainConfig(**kwargs)


def _parse_value(text: str) -> Any:
    """A ``--set`` value: TOML syntax when it parses (numbers, lists, booleans), else a string."""
    try:
        value = tomllib.loads(f"v = {text}")["v"]
    except tomllib.TOMLDecodeError:
        return text
    if isinstance(value, float) and not math.isfinite(value):
        return text
    return value


def apply_overrides(raw: Mapping[str, Any], overrides: Sequence[str]) -> dict[str, Any]:
    """Apply ``key=value`` overrides with dotted keys to parsed TOML.

    ``pipeline.params.C=2`` sets ``raw["pipeline"]["params"]["C"] = 2``.  Values are
    read as TOML (``2``, ``true``, ``["a", "b"]``) and otherwise taken as strings.

    Raises
    ------
    ConfigError
        When an override has no ``=`` or an empty key.

    Examples
    --------
    >>> apply_overrides({"seed": 1}, ["seed=7", "pipeline.params.C=2.5"])
    {'seed': 7, 'pipeline': {'params': {'C': 2.5}}}
    """
    result: dict[str, Any] = json.loads(json.dumps(raw))
    for item in overrides:
        key, sep, text = item.partition("=")
        key = key.strip()
        parts = key.split(".")
        if not sep or not key or any(not p for p in parts):
            raise ConfigError(
                f"--set {item!r}: expected KEY=VALUE with a dotted key, "
                "e.g. --set pipeline.params.C=2"
            )
        node = result
        for i, part in enumerate(parts[:-1]):
            child = node.setdefault(part, {})
            if not isinstance(child, dict):
                where = ".".join(parts[: i + 1])
                raise ConfigError(f"--set {item!r}: '{where}' is a value, not a table")
            node = child
        node[parts[-1]] = _parse_value(text.strip())
    return result


def load_config(
    path: str | Path | None = None,
    *,
    overrides: Sequence[str] = (),
    data: Sequence[str | Path] = (),
) -> TrainConfig:
    """Read a training config TOML, apply ``--set`` overrides and ``--data`` paths.

    Parameters
    ----------
    path
        The TOML file; a bare name such as ``"default"`` means ``training/configs/default.toml``.
        None gives the built-in defaults.
    overrides
        ``key=value`` strings with dotted keys (see :func:`apply_overrides`).
    data
        When given, replaces ``data.paths``.

    Raises
    ------
    InputNotFoundError, ConfigError
    """
    raw: dict[str, Any] = {}
    if path is not None:
        file = Path(path)
        if not file.is_file() and len(file.parts) == 1 and (CONFIGS_DIR / f"{file}.toml").is_file():
            file = CONFIGS_DIR / f"{file}.toml"
        if not file.is_file():
            shipped = ", ".join(sorted(p.stem for p in CONFIGS_DIR.glob("*.toml")))
            raise InputNotFoundError(
                f"{file}: config file not found (shipped configs: {shipped}, "
                "e.g. training/configs/default.toml)"
            )
        try:
            raw = tomllib.loads(file.read_text(encoding="utf-8"))
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            raise ConfigError(f"{file}: invalid TOML: {exc}") from None
        source = str(file)
    else:
        source = "<defaults>"
    if data:
        raw.setdefault("data", {})
        if isinstance(raw["data"], dict):
            raw["data"]["paths"] = [str(p) for p in data]
    raw = apply_overrides(raw, overrides)
    try:
        return config_from_dict(raw)
    except ConfigError as exc:
        raise ConfigError(f"{source}: {exc}") from None


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    if value is None:
        raise ValueError("TOML has no null")
    raise TypeError(f"cannot write {type(value).__name__} as TOML")


def to_toml(data: Mapping[str, Any]) -> str:
    """Write a config dict (as :meth:`TrainConfig.to_dict` gives) as TOML; None is omitted."""
    lines: list[str] = []

    def table(prefix: str, mapping: Mapping[str, Any]) -> None:
        scalars = [(k, v) for k, v in mapping.items() if not isinstance(v, Mapping)]
        tables = [(k, v) for k, v in mapping.items() if isinstance(v, Mapping)]
        if prefix:
            lines.append("")
            lines.append(f"[{prefix}]")
        for key, value in scalars:
            if value is not None:
                lines.append(f"{key} = {_toml_value(value)}")
        for key, value in tables:
            table(f"{prefix}.{key}" if prefix else key, value)

    table("", data)
    return "\n".join(lines).lstrip("\n") + "\n"

"""The model contract: what a model folder's ``meta.json`` holds, typed and validated.

Every reader of ``meta.json`` goes through :meth:`ModelMeta.from_dict`, which checks
the file once and fills in the defaults, so the rest of the code reads attributes
(``meta.thresholds[dim][label]``) and never ``meta.get(key, default)``.

``format_version`` says how to read a folder.  A model saved by a newer framing is
refused with a message that says to upgrade; version 1 folders (written before the
scorer registry) are read as they are, their scorer kinds derived from the
``compiled`` flag they carry.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from framing import __version__
from framing.errors import ModelError

__all__ = ["FORMAT_VERSION", "DEFAULT_THRESHOLD", "CodebookRef", "ModelMeta"]

#: Version of the model folder layout; bumped when an older reader could misread a folder.
#: 2: ``scorers`` names the scorer kinds of the folder (the registry of
#: :mod:`framing.runtime.scorers`); 1 had a ``compiled`` flag instead.  3: ``context``
#: may name a second stage (``context.json``, :mod:`framing.runtime.context`) that an
#: older framing would ignore, giving other labels than the thresholds were tuned for.
FORMAT_VERSION = 3
#: The threshold of a label that ``meta.json`` gives none.
DEFAULT_THRESHOLD = 0.5
LEVELS = ("sentence", "document")

#: Scorer kinds of a version 1 folder, by its ``compiled`` flag.
_V1_SCORERS = {True: ("tfidf-compiled.v1", "skops-pipelines.v1"), False: ("skops-pipelines.v1",)}

#: The keys :class:`ModelMeta` knows; other keys are kept in ``extra`` as they are.
_KNOWN = (
    "name",
    "level",
    "labels",
    "thresholds",
    "multi_label",
    "untrainable",
    "threshold_fallback",
    "pipeline",
    "data",
    "config",
    "trained_at",
    "training_seconds",
    "git_commit",
    "version",
    "format_version",
    "codebook",
    "versions",
    "scorers",
    "compiled_reason",
    "compiled",
    "structure",
    "context",
)


@dataclass(frozen=True)
class CodebookRef:
    """The codebook a model was trained with: enough to tell whether another one matches."""

    name: str
    version: str
    hash: str

    def to_dict(self) -> dict[str, str]:
        return {"name": self.name, "version": self.version, "hash": self.hash}


@dataclass(frozen=True)
class ModelMeta:
    """A model's ``meta.json``.

    ``labels`` gives, per dimension, the label ids in the order of the scorer's
    columns; ``thresholds`` has a threshold for every one of them and
    ``multi_label`` a flag for every dimension (see :func:`framing.runtime.labels.label_mask`
    for how scores become labels).  ``scorers`` names the scorer kinds the folder
    holds, preferred first.  The training provenance (``pipeline``, ``data``,
    ``config``, ...) is kept as written by :mod:`framing.training`.
    """

    name: str
    labels: dict[str, tuple[str, ...]]
    thresholds: dict[str, dict[str, float]]
    multi_label: dict[str, bool]
    level: str = "sentence"
    scorers: tuple[str, ...] = ()
    codebook: CodebookRef | None = None
    versions: dict[str, str] = field(default_factory=dict)
    format_version: int = FORMAT_VERSION
    #: The model's own version, when its maker gave one.
    version: str | None = None
    untrainable: dict[str, list[str]] = field(default_factory=dict)
    threshold_fallback: dict[str, list[str]] = field(default_factory=dict)
    pipeline: dict[str, Any] = field(default_factory=dict)
    data: dict[str, Any] = field(default_factory=dict)
    config: dict[str, Any] = field(default_factory=dict)
    trained_at: str | None = None
    training_seconds: float | None = None
    git_commit: str | None = None
    #: Why the fast compiled scorer could not be made, when it could not.
    compiled_reason: str | None = None
    #: The label structure enforced after thresholds (:mod:`framing.runtime.structure`);
    #: empty when the codebook has no parents or exclusive labels.
    structure: dict[str, Any] = field(default_factory=dict)
    #: The article-context stage applied after the scorer (its kind, e.g.
    #: ``article-context.v1``; :mod:`framing.runtime.context`), or None.
    context: str | None = None
    #: Keys this framing does not know, kept so that re-saving does not drop them.
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def dimensions(self) -> tuple[str, ...]:
        return tuple(self.labels)

    @classmethod
    def from_dict(
        cls, data: Mapping[str, Any], where: str = "meta.json", *, fix: str = ""
    ) -> ModelMeta:
        """Validate a parsed ``meta.json``; ``where`` names the file in error messages
        and ``fix`` (when given) ends the message of a damaged file.

        Raises
        ------
        ModelError
            Naming the file and the first key that is wrong, or saying to upgrade
            framing when the model's format is newer than this one reads.
        """
        if not isinstance(data, Mapping):
            raise ModelError(f"{where}: expected a JSON object, got {type(data).__name__}")
        version = data.get("format_version", 1)
        if not isinstance(version, int) or isinstance(version, bool) or version < 1:
            raise ModelError(f"{where}: format_version must be a positive integer, got {version!r}")
        if version > FORMAT_VERSION:
            raise ModelError(
                f"{where}: the model is in format {version}, newer than this framing "
                f"({__version__}) reads (format {FORMAT_VERSION}); upgrade framing"
            )
        try:
            return cls._validated(data, where, version)
        except ModelError as exc:
            if not fix:
                raise
            raise ModelError(f"{exc}; {fix}") from None

    @classmethod
    def _validated(cls, data: Mapping[str, Any], where: str, version: int) -> ModelMeta:
        for key in ("labels", "thresholds"):
            if key not in data:
                raise ModelError(f"{where}: missing '{key}'")
        labels = _labels(data["labels"], where)
        thresholds = _thresholds(data["thresholds"], labels, where)
        multi_label = _multi_label(data.get("multi_label", {}), labels, where)
        level = data.get("level", "sentence")
        if level not in LEVELS:
            raise ModelError(f"{where}: level must be one of {', '.join(LEVELS)}, got {level!r}")
        if "scorers" in data:
            scorers = data["scorers"]
            if not isinstance(scorers, list) or not all(isinstance(s, str) for s in scorers):
                raise ModelError(f"{where}: 'scorers' must be a list of scorer kind names")
            scorer_kinds = tuple(scorers)
        else:
            scorer_kinds = _V1_SCORERS[bool(data.get("compiled", False))]
        codebook = data.get("codebook")
        ref = None
        if codebook is not None:
            if not isinstance(codebook, Mapping) or not all(
                isinstance(codebook.get(k), str) for k in ("name", "version", "hash")
            ):
                raise ModelError(f"{where}: 'codebook' must hold name, version and hash strings")
            ref = CodebookRef(codebook["name"], codebook["version"], codebook["hash"])
        name = data.get("name")
        return cls(
            name=str(name) if name else "",
            labels=labels,
            thresholds=thresholds,
            multi_label=multi_label,
            level=level,
            scorers=scorer_kinds,
            codebook=ref,
            versions={str(k): str(v) for k, v in _mapping(data, "versions", where).items()},
            format_version=version,
            version=_optional_str(data.get("version")),
            untrainable=_label_lists(data, "untrainable", where),
            threshold_fallback=_label_lists(data, "threshold_fallback", where),
            pipeline=dict(_mapping(data, "pipeline", where)),
            data=dict(_mapping(data, "data", where)),
            config=dict(_mapping(data, "config", where)),
            trained_at=_optional_str(data.get("trained_at")),
            training_seconds=_optional_float(
                data.get("training_seconds"), "training_seconds", where
            ),
            git_commit=_optional_str(data.get("git_commit")),
            compiled_reason=_optional_str(data.get("compiled_reason")),
            structure=dict(_mapping(data, "structure", where)),
            context=_context_kind(data.get("context"), where),
            extra={k: v for k, v in data.items() if k not in _KNOWN},
        )

    def to_dict(self) -> dict[str, Any]:
        """The JSON form written to ``meta.json`` (always in the current format)."""
        out: dict[str, Any] = {
            "name": self.name,
            "level": self.level,
            "labels": {dim: list(ids) for dim, ids in self.labels.items()},
            "thresholds": {dim: dict(th) for dim, th in self.thresholds.items()},
            "multi_label": dict(self.multi_label),
        }
        if self.version is not None:
            out["version"] = self.version
        for key in ("untrainable", "threshold_fallback", "pipeline", "data", "config", "structure"):
            value = getattr(self, key)
            if value:
                out[key] = value
        for key in ("trained_at", "training_seconds", "git_commit"):
            value = getattr(self, key)
            if value is not None:
                out[key] = value
        out["format_version"] = FORMAT_VERSION
        if self.codebook is not None:
            out["codebook"] = self.codebook.to_dict()
        if self.versions:
            out["versions"] = dict(self.versions)
        out["scorers"] = list(self.scorers)
        if self.compiled_reason is not None:
            out["compiled_reason"] = self.compiled_reason
        if self.context is not None:
            out["context"] = self.context
        out.update(self.extra)
        return out

    def to_json(self) -> str:
        """The text of ``meta.json``."""
        return json.dumps(self.to_dict(), indent=2, ensure_ascii=False) + "\n"


def _mapping(data: Mapping[str, Any], key: str, where: str) -> Mapping[str, Any]:
    value = data.get(key) or {}
    if not isinstance(value, Mapping):
        raise ModelError(f"{where}: '{key}' must be an object, got {type(value).__name__}")
    return value


def _context_kind(value: Any, where: str) -> str | None:
    if value is not None and not isinstance(value, str):
        raise ModelError(f"{where}: 'context' must name a context stage, got {value!r}")
    return value


def _optional_str(value: Any) -> str | None:
    return None if value is None else str(value)


def _optional_float(value: Any, key: str, where: str) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ModelError(f"{where}: '{key}' must be a number, got {value!r}")
    return float(value)


def _labels(value: Any, where: str) -> dict[str, tuple[str, ...]]:
    if not isinstance(value, Mapping) or not value:
        raise ModelError(f"{where}: 'labels' must map each dimension to its label ids")
    out = {}
    for dim, ids in value.items():
        if not isinstance(ids, list | tuple) or not all(isinstance(i, str) for i in ids):
            raise ModelError(f"{where}: labels of '{dim}' must be a list of label ids")
        if len(set(ids)) != len(ids):
            raise ModelError(f"{where}: labels of '{dim}' name a label twice")
        out[str(dim)] = tuple(ids)
    return out


def _thresholds(
    value: Any, labels: Mapping[str, tuple[str, ...]], where: str
) -> dict[str, dict[str, float]]:
    if not isinstance(value, Mapping):
        raise ModelError(f"{where}: 'thresholds' must map each dimension to label thresholds")
    unknown = sorted(set(value) - set(labels))
    if unknown:
        raise ModelError(f"{where}: thresholds for unknown dimension(s) {unknown}")
    out = {}
    for dim, ids in labels.items():
        given = value.get(dim) or {}
        if not isinstance(given, Mapping):
            raise ModelError(f"{where}: thresholds of '{dim}' must map label ids to numbers")
        extra = sorted(set(given) - set(ids))
        if extra:
            raise ModelError(f"{where}: thresholds of '{dim}' name unknown label(s) {extra}")
        row = {}
        for label in ids:
            t = given.get(label, DEFAULT_THRESHOLD)
            if isinstance(t, bool) or not isinstance(t, int | float):
                raise ModelError(f"{where}: threshold of '{dim}/{label}' is {t!r}, not a number")
            row[label] = float(t)
        out[dim] = row
    return out


def _multi_label(value: Any, labels: Mapping[str, tuple[str, ...]], where: str) -> dict[str, bool]:
    if not isinstance(value, Mapping):
        raise ModelError(f"{where}: 'multi_label' must map each dimension to true or false")
    out = {}
    for dim in labels:
        flag = value.get(dim, True)
        if not isinstance(flag, bool):
            raise ModelError(f"{where}: multi_label of '{dim}' is {flag!r}, not true or false")
        out[dim] = flag
    return out


def _label_lists(data: Mapping[str, Any], key: str, where: str) -> dict[str, list[str]]:
    value = _mapping(data, key, where)
    out = {}
    for dim, ids in value.items():
        if not isinstance(ids, list) or not all(isinstance(i, str) for i in ids):
            raise ModelError(f"{where}: '{key}' of '{dim}' must be a list of label ids")
        out[str(dim)] = list(ids)
    return out

"""The codebook: versioned label dimensions with definitions and rules.

A codebook is a TOML file (the default is ``data/annotations/codebook.toml``)::

    version = "1.0.0"
    name = "geopolitical-framing"
    description = "..."
    guidelines = "..."

    [[dimensions]]
    id = "frames"
    name = "Frames"
    description = "What the sentence asserts about the world."

    [[dimensions.labels]]
    id = "west_as_threat"
    name = "The West as a threat"
    definition = "..."
    include = ["..."]
    exclude = ["..."]
    examples = ["..."]
    near_misses = ["..."]
    parent = "..."          # optional, a label of the same dimension ...
    parent_dimension = "..."  # ... or of this other dimension (a subnarrative's narrative)
    exclusive = true        # optional: never predicted together with another label
                            # of its dimension (an "Other" / "none of these" label)

Loading validates the whole file and reports every problem at once.  The
:attr:`Codebook.hash` is a stable digest of the content (not of the file's
formatting), which models record so that data and models can be matched.
"""

from __future__ import annotations

import difflib
import hashlib
import json
import re
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from framing.errors import CodebookError, InputNotFoundError

__all__ = ["Codebook", "Dimension", "Label", "load_codebook", "did_you_mean"]

_DIMENSION_ID = re.compile(r"^[a-z][a-z0-9_]*$")
_VERSION = re.compile(r"^\d+(\.\d+){0,2}([-+.][0-9A-Za-z.-]+)?$")
_TOP_KEYS = ("version", "name", "description", "guidelines", "dimensions")
_DIMENSION_KEYS = ("id", "name", "description", "labels")
_LABEL_KEYS = (
    "id",
    "name",
    "definition",
    "include",
    "exclude",
    "examples",
    "near_misses",
    "parent",
    "parent_dimension",
    "exclusive",
)


def _reserved_fields() -> frozenset[str]:
    # The record fields live with the format (records, not annotations: that would load
    # the whole annotation format, reader and validation, with every model).
    from framing.format.records import RESERVED_FIELDS

    return RESERVED_FIELDS


def did_you_mean(word: str, choices: Iterable[str]) -> str | None:
    """Return the closest of ``choices`` to ``word``, or None when none is close."""
    matches = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    return matches[0] if matches else None


def _suggest(word: str, choices: Iterable[str]) -> str:
    match = did_you_mean(word, choices)
    return f" (did you mean '{match}'?)" if match else ""


@dataclass(frozen=True)
class Label:
    """One category of a dimension, with the rules annotators apply."""

    id: str
    name: str
    definition: str
    include: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()
    examples: tuple[str, ...] = ()
    near_misses: tuple[str, ...] = ()
    parent: str | None = None
    #: The dimension of ``parent`` when it is not this label's own.
    parent_dimension: str | None = None
    #: Never together with another label of the dimension ("Other", "none of these").
    exclusive: bool = False

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "id": self.id,
            "name": self.name,
            "definition": self.definition,
            "include": list(self.include),
            "exclude": list(self.exclude),
            "examples": list(self.examples),
            "near_misses": list(self.near_misses),
        }
        if self.parent is not None:
            data["parent"] = self.parent
        if self.parent_dimension is not None:
            data["parent_dimension"] = self.parent_dimension
        if self.exclusive:
            data["exclusive"] = True
        return data


@dataclass(frozen=True)
class Dimension:
    """A set of labels annotated independently (multi-label) on each record."""

    id: str
    name: str
    description: str
    labels: tuple[Label, ...]

    @property
    def label_ids(self) -> tuple[str, ...]:
        return tuple(label.id for label in self.labels)

    def label(self, label_id: str) -> Label:
        """Return the label with id ``label_id``; raise CodebookError naming the choices."""
        for label in self.labels:
            if label.id == label_id:
                return label
        raise CodebookError(
            f"label '{label_id}' is not in the codebook's '{self.id}'"
            f"{_suggest(label_id, self.label_ids)}"
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "name": self.name,
            "description": self.description,
            "labels": [label.to_dict() for label in self.labels],
        }


@dataclass(frozen=True)
class Codebook:
    """A versioned set of label dimensions.

    Examples
    --------
    >>> cb = Codebook.from_dict({"version": "1.0", "name": "demo", "dimensions": [
    ...     {"id": "frames", "name": "Frames", "labels": [
    ...         {"id": "economic", "name": "Economic", "definition": "Costs and benefits."}]}]})
    >>> cb.dimension("frames").label_ids
    ('economic',)
    >>> len(cb.hash)
    64
    """

    version: str
    name: str
    dimensions: tuple[Dimension, ...]
    description: str = ""
    guidelines: str = ""
    source: str | None = field(default=None, compare=False)

    @property
    def dimension_ids(self) -> tuple[str, ...]:
        return tuple(dim.id for dim in self.dimensions)

    def dimension(self, dimension_id: str) -> Dimension:
        """Return the dimension ``dimension_id``; raise CodebookError naming the choices."""
        for dim in self.dimensions:
            if dim.id == dimension_id:
                return dim
        raise CodebookError(
            f"dimension '{dimension_id}' is not in codebook '{self.name}' "
            f"(it has: {', '.join(self.dimension_ids)}){_suggest(dimension_id, self.dimension_ids)}"
        )

    @property
    def hash(self) -> str:
        """SHA-256 of the codebook's content in canonical JSON (formatting does not count)."""
        canonical = json.dumps(self.to_dict(), sort_keys=True, ensure_ascii=False)
        return hashlib.sha256(canonical.encode("utf-8")).hexdigest()

    def to_dict(self) -> dict[str, Any]:
        return {
            "version": self.version,
            "name": self.name,
            "description": self.description,
            "guidelines": self.guidelines,
            "dimensions": [dim.to_dict() for dim in self.dimensions],
        }

    def to_toml(self) -> str:
        """Serialise to TOML text that :func:`load_codebook` reads back unchanged."""
        lines = [
            f"version = {_toml_str(self.version)}",
            f"name = {_toml_str(self.name)}",
            f"description = {_toml_str(self.description)}",
            f"guidelines = {_toml_str(self.guidelines)}",
        ]
        for dim in self.dimensions:
            lines += [
                "",
                "[[dimensions]]",
                f"id = {_toml_str(dim.id)}",
                f"name = {_toml_str(dim.name)}",
                f"description = {_toml_str(dim.description)}",
            ]
            for label in dim.labels:
                lines += ["", "[[dimensions.labels]]"]
                for key, value in label.to_dict().items():
                    if isinstance(value, list):
                        items = ", ".join(_toml_str(v) for v in value)
                        lines.append(f"{key} = [{items}]")
                    elif isinstance(value, bool):
                        lines.append(f"{key} = {'true' if value else 'false'}")
                    else:
                        lines.append(f"{key} = {_toml_str(value)}")
        return "\n".join(lines) + "\n"

    @classmethod
    def from_labels(
        cls,
        labels: Mapping[str, Iterable[str]],
        *,
        name: str,
        version: str = "1.0.0",
        description: str = "",
    ) -> Codebook:
        """Build a minimal codebook from label ids per dimension (used by importers)."""
        dims = []
        for dim_id, label_ids in labels.items():
            dims.append(
                Dimension(
                    id=dim_id,
                    name=dim_id.replace("_", " ").capitalize(),
                    description="",
                    labels=tuple(
                        Label(id=lab, name=lab, definition=f"Label '{lab}' of {name}.")
                        for lab in sorted(set(label_ids))
                    ),
                )
            )
        codebook = cls(version=version, name=name, dimensions=tuple(dims), description=description)
        # Round-trip through the validator so importers cannot produce a broken codebook.
        return cls.from_dict(codebook.to_dict(), source=f"<codebook {name}>")

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], *, source: str = "<codebook>") -> Codebook:
        """Validate ``data`` (parsed TOML) and build a codebook.

        Raises
        ------
        CodebookError
            Listing every problem found, one per line, each prefixed by ``source``.
        """
        problems: list[str] = []

        def problem(where: str, message: str) -> None:
            problems.append(f"{source}: {where}: {message}" if where else f"{source}: {message}")

        def text(obj: Mapping[str, Any], key: str, where: str, required: bool) -> str:
            value = obj.get(key)
            if value is None:
                if required:
                    problem(where, f"missing '{key}' (add {key} = \"...\")")
                return ""
            if not isinstance(value, str):
                problem(where, f"'{key}' must be a string, got {type(value).__name__}")
                return ""
            if required and not value.strip():
                problem(where, f"'{key}' is empty")
            return value

        def strings(obj: Mapping[str, Any], key: str, where: str) -> tuple[str, ...]:
            value = obj.get(key, [])
            if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                problem(where, f"'{key}' must be a list of strings")
                return ()
            return tuple(value)

        def unknown(obj: Mapping[str, Any], allowed: tuple[str, ...], where: str) -> None:
            for key in obj:
                if key not in allowed:
                    problem(
                        where,
                        f"unknown key '{key}'{_suggest(key, allowed)}; "
                        f"valid keys: {', '.join(allowed)}",
                    )

        if not isinstance(data, Mapping):
            raise CodebookError(f"{source}: a codebook must be a TOML table")
        unknown(data, _TOP_KEYS, "")
        version = text(data, "version", "", required=True)
        if version and not _VERSION.match(version):
            problem("version", f"'{version}' is not a version number like \"1.2.0\"")
        name = text(data, "name", "", required=True)
        description = text(data, "description", "", required=False)
        guidelines = text(data, "guidelines", "", required=False)
        raw_dims = data.get("dimensions")
        if not isinstance(raw_dims, list) or not raw_dims:
            problem("", "no [[dimensions]]: a codebook needs at least one label dimension")
            raw_dims = []

        dims: list[Dimension] = []
        seen_dims: set[str] = set()
        for i, raw_dim in enumerate(raw_dims):
            where = f"dimensions[{i}]"
            if not isinstance(raw_dim, Mapping):
                problem(where, "must be a table")
                continue
            dim_id = text(raw_dim, "id", where, required=True)
            if dim_id:
                where = f"dimensions[{i}] ('{dim_id}')"
                if not _DIMENSION_ID.match(dim_id):
                    problem(where, "id must be lower_snake_case (letters, digits, '_')")
                if dim_id in _reserved_fields():
                    problem(where, f"id '{dim_id}' is a reserved record field; choose another")
                if dim_id in seen_dims:
                    problem(where, f"duplicate dimension id '{dim_id}'")
                seen_dims.add(dim_id)
            unknown(raw_dim, _DIMENSION_KEYS, where)
            dim_name = text(raw_dim, "name", where, required=False) or dim_id
            dim_description = text(raw_dim, "description", where, required=False)
            raw_labels = raw_dim.get("labels")
            if not isinstance(raw_labels, list) or not raw_labels:
                problem(where, "no [[dimensions.labels]]: a dimension needs at least one label")
                raw_labels = []
            labels: list[Label] = []
            seen_labels: dict[str, int] = {}
            for j, raw in enumerate(raw_labels):
                lwhere = f"{where}.labels[{j}]"
                if not isinstance(raw, Mapping):
                    problem(lwhere, "must be a table")
                    continue
                label_id = text(raw, "id", lwhere, required=True)
                if label_id:
                    lwhere = f"{where}.labels[{j}] ('{label_id}')"
                    if label_id != label_id.strip() or any(ord(c) < 32 for c in label_id):
                        problem(lwhere, "id has leading/trailing spaces or control characters")
                    if label_id in seen_labels:
                        problem(
                            lwhere,
                            f"duplicate label id '{label_id}' "
                            f"(also labels[{seen_labels[label_id]}])",
                        )
                    seen_labels.setdefault(label_id, j)
                unknown(raw, _LABEL_KEYS, lwhere)
                parent = raw.get("parent")
                if parent is not None and not isinstance(parent, str):
                    problem(lwhere, "'parent' must be a label id (a string)")
                    parent = None
                parent_dimension = raw.get("parent_dimension")
                if parent_dimension is not None and (
                    not isinstance(parent_dimension, str) or parent is None
                ):
                    problem(lwhere, "'parent_dimension' must be a dimension id, set with 'parent'")
                    parent_dimension = None
                exclusive = raw.get("exclusive", False)
                if not isinstance(exclusive, bool):
                    problem(lwhere, "'exclusive' must be true or false")
                    exclusive = False
                labels.append(
                    Label(
                        id=label_id,
                        name=text(raw, "name", lwhere, required=False) or label_id,
                        definition=text(raw, "definition", lwhere, required=True),
                        include=strings(raw, "include", lwhere),
                        exclude=strings(raw, "exclude", lwhere),
                        examples=strings(raw, "examples", lwhere),
                        near_misses=strings(raw, "near_misses", lwhere),
                        parent=parent,
                        parent_dimension=parent_dimension if parent_dimension != dim_id else None,
                        exclusive=exclusive,
                    )
                )
            ids = [label.id for label in labels]
            parents = {label.id: label.parent for label in labels}
            for j, label in enumerate(labels):
                if label.parent is None or label.parent_dimension is not None:
                    continue
                lwhere = f"{where}.labels[{j}] ('{label.id}')"
                if label.parent not in parents:
                    problem(
                        lwhere,
                        f"parent '{label.parent}' is not a label of '{dim_id}'"
                        f"{_suggest(label.parent, ids)}",
                    )
                    continue
                seen = {label.id}
                node: str | None = label.parent
                while node is not None:
                    if node in seen:
                        problem(lwhere, "parent chain forms a cycle")
                        break
                    seen.add(node)
                    node = parents.get(node)
            dims.append(Dimension(dim_id, dim_name, dim_description, tuple(labels)))

        by_dim = {dim.id: dim for dim in dims}
        for dim in dims:
            for label in dim.labels:
                if label.parent_dimension is None:
                    continue
                lwhere = f"dimension '{dim.id}', label '{label.id}'"
                other = by_dim.get(label.parent_dimension)
                if other is None:
                    problem(
                        lwhere,
                        f"parent_dimension '{label.parent_dimension}' is not a dimension"
                        f"{_suggest(label.parent_dimension, by_dim)}",
                    )
                elif label.parent not in other.label_ids:
                    problem(
                        lwhere,
                        f"parent '{label.parent}' is not a label of '{other.id}'"
                        f"{_suggest(str(label.parent), other.label_ids)}",
                    )
                elif other.label(str(label.parent)).parent_dimension is not None:
                    problem(
                        lwhere,
                        f"parent '{label.parent}' has a parent in another dimension itself: "
                        "a hierarchy across dimensions has two levels",
                    )

        if problems:
            raise CodebookError("\n".join(problems))
        return cls(
            version=version,
            name=name,
            dimensions=tuple(dims),
            description=description,
            guidelines=guidelines,
            source=source,
        )


def _toml_str(value: str) -> str:
    # JSON string escaping is valid TOML basic-string escaping for everything json emits.
    return json.dumps(value, ensure_ascii=False)


def load_codebook(path: str | Path) -> Codebook:
    """Read and validate a codebook TOML file.

    Parameters
    ----------
    path
        The codebook file.

    Returns
    -------
    Codebook

    Raises
    ------
    InputNotFoundError
        When the file does not exist.
    CodebookError
        When the file is not valid TOML or breaks a rule; every problem is listed.
    """
    path = Path(path)
    if not path.is_file():
        raise InputNotFoundError(f"{path}: codebook file not found")
    try:
        raw = path.read_bytes().decode("utf-8")
    except UnicodeDecodeError as exc:
        raise CodebookError(f"{path}: not valid UTF-8 at byte {exc.start}") from None
    try:
        data = tomllib.loads(raw)
    except tomllib.TOMLDecodeError as exc:
        raise CodebookError(f"{path}: invalid TOML: {exc}") from None
    return Codebook.from_dict(data, source=str(path))

"""Label structure: a child label implies its parent, an exclusive label stands alone.

A codebook can say that a label has a ``parent`` (in its own dimension or, with
``parent_dimension``, in another: SemEval-2025's subnarrative ``URW: Praise of Russia:
Russia is a guarantor of peace and prosperity`` belongs to the narrative ``URW: Praise of
Russia``), and that a label is ``exclusive`` (``Other``: none of the other labels). A
model that scores each label on its own ignores both, and predicts ``Other`` together
with a real narrative, or a subnarrative without its narrative.

:func:`apply_structure` is the step the scores-to-labels rule runs after thresholds,
on all dimensions of an example at once:

1. **hierarchy** (``add-parent``, the default): a predicted child switches its parent
   on, up the chain; ``drop-orphan`` instead switches off a child whose parent is off;
   ``off`` does nothing;
2. **exclusive labels** (on by default): an exclusive label is switched off when any
   other label of its dimension is on.

Examples
--------
>>> import numpy as np
>>> s = LabelStructure(parents={("sub", "N1: a"): ("nar", "N1")},
...                    exclusive={"nar": ("Other",), "sub": ()})
>>> masks = {"nar": np.array([[True, False]]), "sub": np.array([[True]])}
>>> out = apply_structure(masks, {"nar": ["Other", "N1"], "sub": ["N1: a"]}, s)
>>> out["nar"].tolist()
[[False, True]]
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from framing.errors import UsageError

if TYPE_CHECKING:
    import numpy as np

    from framing.format.codebook import Codebook

__all__ = ["HIERARCHY_RULES", "LabelStructure", "apply_structure", "structure_of"]

#: What a predicted child does to its parent.
HIERARCHY_RULES = ("add-parent", "drop-orphan", "off")

Key = tuple[str, str]


@dataclass(frozen=True)
class LabelStructure:
    """Parents (``(dimension, label) -> (dimension, parent)``) and exclusive labels."""

    parents: Mapping[Key, Key] = field(default_factory=dict)
    exclusive: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    hierarchy: str = "add-parent"
    enforce_exclusive: bool = True

    def __post_init__(self) -> None:
        if self.hierarchy not in HIERARCHY_RULES:
            raise UsageError(
                f"hierarchy must be one of {', '.join(HIERARCHY_RULES)}, got '{self.hierarchy}'"
            )

    @classmethod
    def from_codebook(
        cls, codebook: Codebook, *, hierarchy: str = "add-parent", exclusive: bool = True
    ) -> LabelStructure:
        parents: dict[Key, Key] = {}
        only: dict[str, tuple[str, ...]] = {}
        for dim in codebook.dimensions:
            only[dim.id] = tuple(label.id for label in dim.labels if label.exclusive)
            for label in dim.labels:
                if label.parent is not None:
                    parents[(dim.id, label.id)] = (label.parent_dimension or dim.id, label.parent)
        return cls(parents, only, hierarchy, exclusive)

    @property
    def empty(self) -> bool:
        """True when there is nothing to enforce."""
        hierarchy = self.hierarchy != "off" and bool(self.parents)
        exclusive = self.enforce_exclusive and any(self.exclusive.values())
        return not (hierarchy or exclusive)

    def to_dict(self) -> dict[str, Any]:
        """What a model records (``meta.json``); :meth:`from_dict` reads it back."""
        return {
            "hierarchy": self.hierarchy,
            "exclusive": self.enforce_exclusive,
            "parents": [[*child, *parent] for child, parent in self.parents.items()],
            "exclusive_labels": {dim: list(v) for dim, v in self.exclusive.items() if v},
        }

    def to_dict_if_any(self) -> dict[str, Any]:
        """:meth:`to_dict`, or ``{}`` when there is nothing to enforce (what a model records)."""
        return {} if self.empty else self.to_dict()

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> LabelStructure:
        parents = {(a, b): (c, d) for a, b, c, d in data.get("parents", [])}
        only = {dim: tuple(v) for dim, v in data.get("exclusive_labels", {}).items()}
        return cls(
            parents,
            only,
            str(data.get("hierarchy", "add-parent")),
            bool(data.get("exclusive", True)),
        )


def structure_of(meta: Any) -> LabelStructure | None:
    """The structure a model records (``ModelMeta.structure``, ``meta.json``), or None."""
    data = meta.get("structure") if isinstance(meta, Mapping) else getattr(meta, "structure", None)
    if not data:
        return None
    structure = LabelStructure.from_dict(data)
    return None if structure.empty else structure


def apply_structure(
    masks: Mapping[str, np.ndarray],
    labels: Mapping[str, Sequence[str]],
    structure: LabelStructure,
) -> dict[str, np.ndarray]:
    """Enforce ``structure`` on boolean ``(n, n_labels)`` masks of each dimension.

    Dimensions and labels missing from ``masks``/``labels`` are left alone (a link to
    a dimension the model does not predict is ignored). The masks are not modified;
    new arrays are returned.
    """
    out = {dim: mask.copy() for dim, mask in masks.items()}
    column = {dim: {label: j for j, label in enumerate(ls)} for dim, ls in labels.items()}

    def where(key: Key) -> tuple[str, int] | None:
        dim, label = key
        j = column.get(dim, {}).get(label)
        return None if j is None or dim not in out else (dim, j)

    links = []
    for child, parent in structure.parents.items():
        c, p = where(child), where(parent)
        if c is not None and p is not None:
            links.append((c, p))
    if structure.hierarchy == "add-parent":
        # a chain is at most as long as the number of links: repeat until nothing changes
        for _ in range(len(links)):
            changed = False
            for (cd, cj), (pd, pj) in links:
                turn_on = out[cd][:, cj] & ~out[pd][:, pj]
                if turn_on.any():
                    out[pd][:, pj] |= turn_on
                    changed = True
            if not changed:
                break
    elif structure.hierarchy == "drop-orphan":
        for _ in range(len(links)):
            changed = False
            for (cd, cj), (pd, pj) in links:
                turn_off = out[cd][:, cj] & ~out[pd][:, pj]
                if turn_off.any():
                    out[cd][:, cj] &= ~turn_off
                    changed = True
            if not changed:
                break
    if structure.enforce_exclusive:
        for dim, exclusive in structure.exclusive.items():
            if dim not in out:
                continue
            cols = [column[dim][label] for label in exclusive if label in column.get(dim, {})]
            if not cols:
                continue
            others = [j for j in range(out[dim].shape[1]) if j not in cols]
            if not others:
                continue
            has_other = out[dim][:, others].any(axis=1)
            for j in cols:
                out[dim][:, j] &= ~has_other
    return out

"""Crosswalks: typed links from another taxonomy's labels to our codebook's labels.

A crosswalk file (``data/crosswalks/*.toml``) maps the labels of a public taxonomy (the
PTC techniques, the SemEval-2023 Task 3 frames and techniques, the SemEval-2025 Task 10
narratives) to labels of our codebook.  Each link says how *our* label relates to
*theirs*, in the SKOS sense:

``exact``
    the same concept: a text carries ours exactly when it carries theirs;
``broader``
    ours is broader: every instance of theirs is one of ours, not the reverse;
``narrower``
    ours is narrower: every instance of ours is one of theirs, not the reverse;
``related``
    the concepts overlap, neither contains the other.

Relabelling (:meth:`Crosswalk.relabel`) turns records labelled in their taxonomy into
records labelled in ours.  A link can carry a positive over only when theirs implies
ours (``exact`` or ``broader``); only an ``exact`` link also carries the negatives
over (no label of theirs means no label of ours), so only labels reached by ``exact``
links are sound to train or evaluate on with both precision and recall.  The default
is therefore ``exact`` links only; ``links=("exact", "broader")`` adds the positives of
broader labels, whose recall can be measured but whose precision cannot.

Examples
--------
>>> cw = Crosswalk.from_dict({
...     "name": "demo", "taxonomy": "Demo", "codebook": "geopolitical-framing",
...     "links": [{"their_dimension": "techniques", "theirs": "Loaded_Language",
...                "our_dimension": "rhetoric", "ours": "loaded_language",
...                "relation": "exact", "why": "same definition"}]})
>>> cw.targets()
{'rhetoric': ['loaded_language']}
"""

from __future__ import annotations

import tomllib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from framing.errors import CodebookError, InputNotFoundError, UsageError
from framing.format.annotations import Document, Sentence
from framing.format.codebook import Codebook, did_you_mean

__all__ = ["RELATIONS", "Link", "Crosswalk", "load_crosswalk"]

#: The link types, from our label's point of view.
RELATIONS = ("exact", "broader", "narrower", "related")
#: Link types whose positives carry over (theirs implies ours).
IMPLYING = ("exact", "broader")

Record = Sentence | Document


@dataclass(frozen=True)
class Link:
    """One typed link from a label of theirs to a label of ours."""

    their_dimension: str
    theirs: str
    our_dimension: str
    ours: str
    relation: str
    why: str = ""


@dataclass(frozen=True)
class Crosswalk:
    """A validated crosswalk file."""

    name: str
    taxonomy: str
    codebook: str
    links: tuple[Link, ...]
    description: str = ""
    source: str | None = None

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], where: str = "<crosswalk>") -> Crosswalk:
        """Build from parsed TOML; every problem is reported at once.

        Raises
        ------
        CodebookError
        """
        problems: list[str] = []
        allowed = {"name", "taxonomy", "codebook", "description", "links", "sources"}
        for key in data:
            if key not in allowed:
                problems.append(f"unknown key '{key}' (allowed: {', '.join(sorted(allowed))})")
        for key in ("name", "taxonomy", "codebook"):
            if not isinstance(data.get(key), str) or not data.get(key):
                problems.append(f"'{key}' must be a non-empty string")
        links: list[Link] = []
        seen: dict[tuple[str, str, str, str], int] = {}
        fields = ("their_dimension", "theirs", "our_dimension", "ours", "relation")
        for n, raw in enumerate(data.get("links") or [], start=1):
            at = f"[[links]] #{n}"
            if not isinstance(raw, Mapping):
                problems.append(f"{at}: must be a table")
                continue
            for key in raw:
                if key not in (*fields, "why"):
                    problems.append(f"{at}: unknown key '{key}'")
            values = {key: raw.get(key) for key in fields}
            bad = [key for key, value in values.items() if not isinstance(value, str) or not value]
            if bad:
                problems.append(f"{at}: {', '.join(bad)} must be non-empty strings")
                continue
            if values["relation"] not in RELATIONS:
                close = did_you_mean(str(values["relation"]), RELATIONS)
                hint = f" (did you mean '{close}'?)" if close else ""
                problems.append(
                    f"{at}: relation '{values['relation']}' is not one of "
                    f"{', '.join(RELATIONS)}{hint}"
                )
                continue
            key4 = (
                str(values["their_dimension"]),
                str(values["theirs"]),
                str(values["our_dimension"]),
                str(values["ours"]),
            )
            if key4 in seen:
                problems.append(f"{at}: the same link as #{seen[key4]}")
                continue
            seen[key4] = n
            links.append(
                Link(**{k: str(v) for k, v in values.items()}, why=str(raw.get("why", "")))
            )
        if not links and not problems:
            problems.append("no [[links]]")
        if problems:
            raise CodebookError(
                f"{len(problems)} problem(s) in crosswalk {where}:\n"
                + "\n".join(f"{where}: {p}" for p in problems)
            )
        return cls(
            name=str(data["name"]),
            taxonomy=str(data["taxonomy"]),
            codebook=str(data["codebook"]),
            links=tuple(links),
            description=str(data.get("description", "")),
            source=where,
        )

    def usable(self, links: Sequence[str] = ("exact",)) -> list[Link]:
        """The links of the given relations that carry positives over (never narrower/related)."""
        for relation in links:
            if relation not in IMPLYING:
                raise UsageError(
                    f"links of type '{relation}' cannot relabel: theirs does not imply ours "
                    f"(use {' or '.join(IMPLYING)})"
                )
        return [link for link in self.links if link.relation in links]

    def targets(self, links: Sequence[str] = ("exact",)) -> dict[str, list[str]]:
        """Our labels per our dimension that the chosen links reach, in link order."""
        out: dict[str, dict[str, None]] = {}
        for link in self.usable(links):
            out.setdefault(link.our_dimension, {}).setdefault(link.ours, None)
        return {dim: list(labels) for dim, labels in out.items()}

    def check(self, codebook: Codebook) -> None:
        """Every label of ours that a link names must be in ``codebook``.

        Raises
        ------
        CodebookError
            Naming each missing dimension or label, with the closest match.
        """
        problems = []
        if codebook.name != self.codebook:
            problems.append(
                f"written for codebook '{self.codebook}', given '{codebook.name}' "
                f"({codebook.source or 'no file'})"
            )
        known = {dim.id: set(dim.label_ids) for dim in codebook.dimensions}
        for link in self.links:
            if link.our_dimension not in known:
                problems.append(f"dimension '{link.our_dimension}' is not in the codebook")
            elif link.ours not in known[link.our_dimension]:
                close = did_you_mean(link.ours, known[link.our_dimension])
                hint = f" (did you mean '{close}'?)" if close else ""
                problems.append(f"label '{link.ours}' is not in '{link.our_dimension}'{hint}")
        if problems:
            listed = "\n".join(f"{self.source}: {p}" for p in dict.fromkeys(problems))
            raise CodebookError(f"crosswalk '{self.name}' does not fit the codebook:\n{listed}")

    def codebook_for(self, codebook: Codebook, links: Sequence[str] = ("exact",)) -> Codebook:
        """``codebook`` cut down to the dimensions and labels the chosen links reach."""
        self.check(codebook)
        targets = self.targets(links)
        dims = []
        for dim in codebook.dimensions:
            if dim.id in targets:
                keep = set(targets[dim.id])
                dims.append(replace(dim, labels=tuple(lb for lb in dim.labels if lb.id in keep)))
        return replace(
            codebook,
            name=f"{codebook.name}+{self.name}",
            dimensions=tuple(dims),
            description=(
                f"{codebook.name} {codebook.version}, the labels reached from {self.taxonomy} "
                f"by the {'/'.join(links)} links of crosswalk '{self.name}'."
            ),
            source=None,
        )

    def relabel(
        self, records: Iterable[Record], links: Sequence[str] = ("exact",)
    ) -> tuple[list[Record], dict[str, int]]:
        """Records with their labels replaced by ours, and counts of what was mapped.

        A record gets an our-dimension when it has one of the their-dimensions that
        feed it; its labels there are the targets of its labels' links.  The labels it
        had are kept in ``meta["source_labels"]``; labels without a usable link are
        counted as unmapped.
        """
        usable = self.usable(links)
        by_theirs: dict[tuple[str, str], list[Link]] = {}
        feeds: dict[str, set[str]] = {}
        for link in usable:
            by_theirs.setdefault((link.their_dimension, link.theirs), []).append(link)
            feeds.setdefault(link.our_dimension, set()).add(link.their_dimension)
        their_dims = {link.their_dimension for link in self.links}
        counts = {"labels mapped": 0, "labels without a usable link": 0}
        out: list[Record] = []
        for record in records:
            source = {dim: list(v) for dim, v in record.labels.items()}
            new: dict[str, dict[str, None]] = {
                ours: {} for ours, theirs in feeds.items() if theirs & set(record.labels)
            }
            for dim, labels in record.labels.items():
                for label in labels:
                    targets = by_theirs.get((dim, label), [])
                    if not targets:
                        counts["labels without a usable link"] += dim in their_dims
                    for link in targets:
                        new[link.our_dimension].setdefault(link.ours, None)
                        counts["labels mapped"] += 1
            meta = dict(record.meta)
            if source:
                meta["source_labels"] = source
            out.append(replace(record, labels={d: tuple(v) for d, v in new.items()}, meta=meta))
        return out, counts


def load_crosswalk(path: str | Path) -> Crosswalk:
    """Read and validate a crosswalk TOML file.

    Raises
    ------
    InputNotFoundError, CodebookError
    """
    path = Path(path)
    if not path.is_file():
        raise InputNotFoundError(f"{path}: crosswalk file not found")
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise CodebookError(f"{path}: invalid TOML: {exc}") from None
    return Crosswalk.from_dict(data, str(path))

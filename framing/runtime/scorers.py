"""Scorer kinds: the ways a model folder can hold what turns text into scores.

A scorer maps a list of strings to, per dimension, an ``(n, n_labels)`` array of
scores in ``[0, 1]`` whose columns follow ``meta.labels[dimension]``.  Each kind
is one module with two functions,

``load_scorer(folder, meta, trusted) -> Scorer``
    read the kind's files from a model folder;
``save_scorer(scorer, folder) -> None``
    write them,

and one entry in :data:`SCORER_KINDS`.  ``meta.json`` lists the kinds a folder
holds, preferred first (``ModelMeta.scorers``); :func:`framing.load_model` uses the
first one whose files are all there.  Names carry a version (``.v1``): a kind
whose files change meaning gets a new name, so an old framing refuses the folder
instead of misreading it; the old name stays registered, read only, so that older
folders still load (``saved=False``: new folders are written with the new name).
"""

from __future__ import annotations

import importlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from framing.errors import ModelError

if TYPE_CHECKING:
    import numpy as np

    from framing.runtime.meta import ModelMeta

__all__ = [
    "Scorer",
    "ScorerKind",
    "SCORER_KINDS",
    "COMPILED",
    "COMPILED_KINDS",
    "PIPELINES",
    "scorer_kind",
]


class Scorer(Protocol):
    """What tagging needs from a model: scores per dimension for a list of texts."""

    def predict_proba(self, texts: Sequence[str]) -> dict[str, np.ndarray]: ...


@dataclass(frozen=True)
class ScorerKind:
    """One registered scorer kind (see the module docstring)."""

    name: str
    #: The files the kind keeps in a model folder.
    files: tuple[str, ...]
    #: The module with ``load_scorer`` and ``save_scorer``; imported on first use.
    module: str
    #: Whether scores may change with the installed scikit-learn/numpy (loading then
    #: warns when the model was saved with other versions).
    version_sensitive: bool
    description: str
    #: False for an older kind that is only read (its successor is written instead).
    saved: bool = True

    def load(self, folder: Path, meta: ModelMeta, trusted: Iterable[str] = ()) -> Scorer:
        loaded: Scorer = importlib.import_module(self.module).load_scorer(folder, meta, trusted)
        return loaded

    def save(self, scorer: Any, folder: Path) -> None:
        if not self.saved:
            raise ModelError(f"scorer kind '{self.name}' is only read, no longer written")
        importlib.import_module(self.module).save_scorer(scorer, folder)

    def present(self, folder: Path) -> bool:
        return all((folder / name).is_file() for name in self.files)


#: Linear TF-IDF models as plain arrays, scored without scikit-learn, with the lookup
#: tables scoring needs built at save time and every array stored uncompressed
#: (layout 2 of :mod:`framing.runtime.compiled`).
COMPILED = "tfidf-compiled.v2"
#: The same in layout 1 (vocabularies as JSON, arrays deflated): read only.
COMPILED_V1 = "tfidf-compiled.v1"
#: The kinds of compiled arrays (``load_model(use_compiled=False)`` skips them).
COMPILED_KINDS = frozenset({COMPILED, COMPILED_V1})
#: Fitted scikit-learn pipelines in the skops format.
PIPELINES = "skops-pipelines.v1"

SCORER_KINDS: dict[str, ScorerKind] = {
    kind.name: kind
    for kind in (
        ScorerKind(
            COMPILED,
            ("compiled.json", "compiled.npz"),
            "framing.runtime.compiled",
            version_sensitive=False,
            description="linear TF-IDF pipelines and their lookup tables as numpy arrays "
            "(no scikit-learn needed; nothing built at load)",
        ),
        ScorerKind(
            COMPILED_V1,
            ("compiled.json", "compiled.npz"),
            "framing.runtime.compiled",
            version_sensitive=False,
            description="linear TF-IDF pipelines as numpy arrays, layout 1 (read only: "
            "'framing recompile' rewrites such a folder in the layout of tfidf-compiled.v2)",
            saved=False,
        ),
        ScorerKind(
            PIPELINES,
            ("model.skops",),
            "framing.runtime.skops_pipelines",
            version_sensitive=True,
            description="fitted scikit-learn pipelines, one per dimension, in skops format",
        ),
    )
}


def scorer_kind(name: str, where: str | Path = "meta.json") -> ScorerKind:
    """The registered kind called ``name``.

    Raises
    ------
    ModelError
        When no kind has that name (the model needs a newer framing).
    """
    kind = SCORER_KINDS.get(name)
    if kind is None:
        raise ModelError(
            f"{where}: scorer kind '{name}' is unknown to this framing (it knows "
            f"{', '.join(sorted(SCORER_KINDS))}); upgrade framing to load this model"
        )
    return kind

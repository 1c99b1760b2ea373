"""Rewriting a model folder in the current layout, from its own arrays.

A folder saved before layout 2 of the compiled arrays (scorer kind
``tfidf-compiled.v1``, ``ood.json`` layout 1) still loads, but every load then builds
the lookup tables that layout 2 stores.  :func:`recompile_model` reads such a folder's
compiled arrays and out-of-distribution data, and writes a copy in which they are
stored in the current layout: no retraining, no scikit-learn, the same scores to the
last bit (the tables are built by the same code either way).  Every other file is
copied as it is, and ``meta.json`` changes only in the scorer kinds it lists.

    framing recompile models/default -o models/default-new --drop-pipelines
"""

from __future__ import annotations

import shutil
from dataclasses import replace
from pathlib import Path

from framing.errors import ModelError
from framing.runtime.compiled import CompiledModel
from framing.runtime.ood import OOD_ARRAYS, OOD_FILE, load_ood
from framing.runtime.scorers import COMPILED, COMPILED_KINDS, PIPELINES, scorer_kind

__all__ = ["recompile_model"]


def recompile_model(source: str | Path, output: str | Path, *, keep_pipelines: bool = True) -> Path:
    """Write ``source``'s model to ``output`` with its compiled arrays and
    out-of-distribution data in the current layout.

    Parameters
    ----------
    source
        A model folder (or a model name, see :func:`framing.runtime.model.load_model`).
    output
        The folder to write (replaced as a whole; not ``source`` itself).
    keep_pipelines
        False: leave ``model.skops`` out of the copy (what the training config's
        ``save_pipelines = false`` does); the copy then loads only through its compiled
        arrays.

    Returns
    -------
    Path
        The folder written.

    Raises
    ------
    ModelError
        When ``source`` has no compiled arrays (its pipelines are not linear TF-IDF
        models; such a folder has nothing to recompile) or is damaged.
    UsageError
        When ``output`` is ``source``.

    Examples
    --------
    >>> recompile_model("models/default", "models/default-new")  # doctest: +SKIP
    """
    from framing.files import atomic_dir, refuse_same_file
    from framing.runtime.model import read_meta, resolve_model_path

    path = resolve_model_path(source)
    refuse_same_file(output, [path])
    meta = read_meta(path)
    compiled = [k for k in meta.scorers if k in COMPILED_KINDS]
    if not compiled or not scorer_kind(compiled[0]).present(path):
        raise ModelError(
            f"{path}: has no compiled arrays to recompile (its scorers: "
            f"{', '.join(meta.scorers) or 'none'}); it loads as it is"
        )
    model = CompiledModel.load(path)
    ood = load_ood(path)
    scorers: list[str] = []
    for name in meta.scorers:
        name = COMPILED if name in COMPILED_KINDS else name
        if name not in scorers and (keep_pipelines or name != PIPELINES):
            scorers.append(name)
    rewritten = {*scorer_kind(COMPILED).files, OOD_FILE, OOD_ARRAYS, "meta.json"}
    if not keep_pipelines:
        rewritten.update(scorer_kind(PIPELINES).files)
    with atomic_dir(output) as tmp:
        for item in sorted(path.iterdir()):
            if item.is_file() and item.name not in rewritten:
                shutil.copy2(item, tmp / item.name)
        model.save(tmp)
        if ood is not None:
            ood.save(tmp)
        (tmp / "meta.json").write_text(
            replace(meta, scorers=tuple(scorers)).to_json(), encoding="utf-8"
        )
    return Path(output)

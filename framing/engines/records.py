"""Articles in columns to tagged columns: what every engine maps over its partitions.

A partition of articles (texts, and optionally ids and titles) becomes the columns

``doc_id``
    the article's id (as given, or None);
``n_sentences``
    how many sentences it was split into;
``labels_<dimension>``
    per dimension of the model, the labels that at least one sentence carries, most
    frequent first; for a document-level model, the article's own labels (both are
    ``TaggedArticle.labels``);
``tagged``
    the whole result as one JSON text, the line ``framing tag`` writes for it
    (``docs/output-format.md``).

A model is given loaded (then the engine ships it to each worker once) or as a model
folder or name, which each worker process loads once and keeps.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pandas as pd

    from framing.runtime.model import Model

__all__ = ["ModelSource", "resolve_model", "output_columns", "tag_columns", "tag_pandas"]

#: A loaded model, or the folder or name of one for each worker to load.
ModelSource = Any

_LOADED: dict[str, Model] = {}
_LOCK = threading.Lock()


def resolve_model(model: ModelSource) -> Model:
    """The model itself, or the one at a folder/name, loaded once per process."""
    if not isinstance(model, str | Path):
        return model
    key = str(model)
    with _LOCK:
        found = _LOADED.get(key)
        if found is None:
            from framing.runtime.model import load_model

            found = _LOADED[key] = load_model(key)
    return found


def output_columns(model: Model) -> list[str]:
    """The column names of :func:`tag_columns`, in order."""
    return ["doc_id", "n_sentences", *(f"labels_{d}" for d in model.dimensions), "tagged"]


def tag_columns(
    model: ModelSource,
    texts: Sequence[str],
    doc_ids: Sequence[Any] | None = None,
    titles: Sequence[Any] | None = None,
) -> dict[str, list[Any]]:
    """Tag a column of article texts; see the module docstring for the columns.

    Raises
    ------
    TypeError
        When a text is not a string.
    """
    from framing.output.json import article_json
    from framing.runtime.tagging import tag_many

    loaded = resolve_model(model)
    n = len(texts)
    ids = list(doc_ids) if doc_ids is not None else [None] * n
    heads = list(titles) if titles is not None else [None] * n
    items = [
        {"text": t, "id": None if _missing(i) else i, "title": None if _missing(h) else h}
        for t, i, h in zip(texts, ids, heads, strict=True)
    ]
    out: dict[str, list[Any]] = {name: [] for name in output_columns(loaded)}
    for article in tag_many(loaded, items):
        out["doc_id"].append(article.doc_id)
        out["n_sentences"].append(len(article.sentences))
        for dim in loaded.dimensions:
            out[f"labels_{dim}"].append(article.labels(dim))
        out["tagged"].append(article_json(article))
    return out


def _missing(value: Any) -> bool:
    """None, or a missing value of pandas/pyarrow (NaN, NA)."""
    if value is None or isinstance(value, str):
        return value is None
    try:
        return bool(value != value)  # NaN is the one value not equal to itself
    except TypeError:  # pandas.NA: its comparisons give NA, which has no truth value
        return True


def tag_pandas(
    frame: pd.DataFrame,
    model: ModelSource,
    *,
    text: str = "text",
    doc_id: str | None = "id",
    title: str | None = "title",
) -> pd.DataFrame:
    """:func:`tag_columns` over a pandas frame of articles; the frame's other columns are
    not carried over (join on ``doc_id``).

    Raises
    ------
    KeyError
        When the frame has no ``text`` column.
    """
    import pandas as pd

    if text not in frame.columns:
        raise KeyError(f"no {text!r} column in the articles (columns: {list(frame.columns)})")
    ids = frame[doc_id].tolist() if doc_id and doc_id in frame.columns else None
    heads = frame[title].tolist() if title and title in frame.columns else None
    columns = tag_columns(model, frame[text].tolist(), ids, heads)
    return pd.DataFrame(columns, columns=list(columns))

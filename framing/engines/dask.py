"""Tagging on Dask: bags and dataframes of articles, and sharded files on a cluster.

Needs ``pip install "framing[dask]"`` (``dask[distributed]``); university clusters run
the same code under Slurm or PBS through ``dask-jobqueue``.  Three entry points:

* :func:`tag_bag`: a bag of articles (strings or dicts with ``text``, ``id``,
  ``title``) to a bag of tagged records (``TaggedArticle.to_dict()``);
* :func:`tag_dataframe`: a dataframe with a ``text`` column to one row per article
  (the columns of :mod:`framing.engines.records`), ready for ``to_parquet``;
* :func:`tag_files`: ``.txt``/``.jsonl`` files to sharded JSONL, one task per shard
  (:mod:`framing.output.shards`), resumable; what ``framing tag --scheduler`` runs.

The model goes to each worker once: a loaded model as one task of the graph (or one
scattered copy per worker in :func:`tag_files`), a model folder or name by each worker
loading it once.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from framing.engines.records import ModelSource, output_columns, resolve_model, tag_pandas
from framing.output.shards import (
    DEFAULT_SHARD_MB,
    FolderRun,
    Shard,
    ShardResult,
    prepare_folder,
    tag_shard,
)

if TYPE_CHECKING:
    import dask.bag as db
    import dask.dataframe as dd
    from distributed import Client

__all__ = ["tag_bag", "tag_dataframe", "tag_files"]


def _shipped(model: ModelSource) -> Any:
    """A loaded model as one graph task (fetched once by each worker); a path as it is."""
    if isinstance(model, str | Path):
        return str(model)
    import dask

    return dask.delayed(model, pure=True)


def _tag_partition(items: Any, model: ModelSource, all_scores: bool) -> list[dict[str, Any]]:
    from framing.runtime.tagging import tag_many

    loaded = resolve_model(model)
    return [a.to_dict() for a in tag_many(loaded, list(items), all_scores=all_scores)]


def tag_bag(bag: db.Bag, model: ModelSource, *, all_scores: bool = False) -> db.Bag:
    """Tag a bag of articles into a bag of records (``TaggedArticle.to_dict()``), in order.

    Examples
    --------
    >>> import dask.bag as db                                             # doctest: +SKIP
    >>> articles = db.read_text("articles/*.jsonl").map(json.loads)       # doctest: +SKIP
    >>> tagged = tag_bag(articles, "models/default")                     # doctest: +SKIP
    >>> tagged.map(json.dumps).to_textfiles("tagged/*.jsonl")             # doctest: +SKIP
    """
    return bag.map_partitions(_tag_partition, _shipped(model), all_scores)


def tag_dataframe(
    frame: dd.DataFrame,
    model: ModelSource,
    *,
    text: str = "text",
    doc_id: str | None = "id",
    title: str | None = "title",
) -> dd.DataFrame:
    """One row per article of ``frame`` (the columns of :mod:`framing.engines.records`).

    Examples
    --------
    >>> import dask.dataframe as dd                                       # doctest: +SKIP
    >>> articles = dd.read_parquet("articles/")                           # doctest: +SKIP
    >>> tag_dataframe(articles, "models/default").to_parquet("tagged/")   # doctest: +SKIP
    """
    import pandas as pd

    loaded = resolve_model(model)
    columns = output_columns(loaded)
    meta = pd.DataFrame(
        {c: pd.Series(dtype="int64" if c == "n_sentences" else "object") for c in columns}
    )
    return frame.map_partitions(
        tag_pandas,
        _shipped(model),
        text=text,
        doc_id=doc_id,
        title=title,
        meta=meta,
        enforce_metadata=False,
    )


def _shard_task(shard: Shard, model: ModelSource, folder: str) -> ShardResult:
    return tag_shard(shard, resolve_model(model), folder)


def tag_files(
    paths: Sequence[str | Path],
    model: ModelSource,
    folder: str | Path,
    *,
    client: Client | None = None,
    resume: bool = False,
    shard_mb: float = DEFAULT_SHARD_MB,
    on_shard: Callable[[ShardResult, int, int], None] | None = None,
) -> FolderRun:
    """Tag files into sharded JSONL in ``folder``, one Dask task per shard.

    The workers must see the inputs and ``folder`` at the same paths (a shared file
    system, as on a cluster).  ``client`` defaults to the current Dask client.

    Raises
    ------
    UsageError, InputNotFoundError
        See :func:`framing.output.shards.prepare_folder`.
    """
    from distributed import as_completed, get_client

    client = client or get_client()
    loaded = resolve_model(model)
    shards = prepare_folder(folder, paths, loaded, resume=resume, shard_mb=shard_mb)
    todo = [s for s in shards if not (Path(folder) / s.name).is_file()]
    results = {s.name: ShardResult(s.name, skipped=True) for s in shards if s not in todo}
    if todo:
        # A path is loaded by each worker; a loaded model is copied to each worker once.
        shipped = (
            str(model) if isinstance(model, str | Path) else client.scatter(loaded, broadcast=True)
        )
        futures = client.map(_shard_task, todo, model=shipped, folder=str(folder), pure=False)
        for done, future in enumerate(as_completed(futures), start=1):
            result = future.result()
            results[result.name] = result
            if on_shard is not None:
                on_shard(result, done, len(todo))
    return FolderRun(Path(folder), [results[s.name] for s in shards])

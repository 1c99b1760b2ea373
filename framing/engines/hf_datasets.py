"""Tagging a Hugging Face ``datasets.Dataset`` of articles with ``Dataset.map``.

For corpora already held as a ``Dataset`` (``pip install "framing[hf]"``)::

    from datasets import load_dataset
    from framing.engines.hf_datasets import tag_dataset

    articles = load_dataset("json", data_files="articles/*.jsonl", split="train")
    tagged = tag_dataset(articles, "models/default", num_proc=8)
    tagged.to_parquet("tagged.parquet")

The dataset keeps its columns and gains those of :mod:`framing.engines.records`
(``doc_id``, ``n_sentences``, ``labels_<dimension>``, ``tagged``); ``num_proc``
processes each load the model once (or are sent the loaded model once).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from framing.engines.records import ModelSource, tag_columns

if TYPE_CHECKING:
    from datasets import Dataset

__all__ = ["tag_dataset"]


def _tag_batch(
    batch: dict[str, list[Any]],
    model: ModelSource,
    text: str,
    doc_id: str | None,
    title: str | None,
) -> dict[str, list[Any]]:
    ids = batch.get(doc_id) if doc_id else None
    heads = batch.get(title) if title else None
    return tag_columns(model, batch[text], ids, heads)


def tag_dataset(
    dataset: Dataset,
    model: ModelSource,
    *,
    num_proc: int | None = None,
    batch_size: int = 256,
    text: str = "text",
    doc_id: str | None = "id",
    title: str | None = "title",
) -> Dataset:
    """``dataset.map(batched=True, num_proc=num_proc)`` that tags the ``text`` column.

    Raises
    ------
    KeyError
        When the dataset has no ``text`` column.
    """
    if text not in dataset.column_names:
        raise KeyError(f"no {text!r} column in the dataset (columns: {dataset.column_names})")
    clash = [c for c in ("doc_id", "n_sentences", "tagged") if c in dataset.column_names]
    return dataset.map(
        _tag_batch,
        batched=True,
        batch_size=batch_size,
        num_proc=num_proc,
        fn_kwargs={"model": model, "text": text, "doc_id": doc_id, "title": title},
        remove_columns=clash,
        desc="tagging",
    )

"""Tagging on Spark: the function to give ``DataFrame.mapInPandas`` and its schema.

Spark is not a dependency of framing (``pip install pyspark`` brings a JVM runtime of
several hundred megabytes; Spark needs Java 17 or later).  The recipe::

    from framing.engines.spark import spark_schema, tag_batches
    import framing

    model = framing.load_model("models/default")
    articles = spark.read.json("articles/*.jsonl")          # columns text, id, title
    tagged = articles.mapInPandas(
        lambda batches: tag_batches(batches, "models/default"), schema=spark_schema(model)
    )
    tagged.write.parquet("tagged/")

Each Spark Python worker loads the model folder once (it must be at the same path on
every machine, or shipped with ``spark.addFile``); the rows are the columns of
:mod:`framing.engines.records`.  :func:`tag_batches` is plain pandas, so the tests run
it without Spark.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING

from framing.engines.records import ModelSource, resolve_model, tag_pandas

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["spark_schema", "tag_batches"]


def spark_schema(model: ModelSource) -> str:
    """The DDL schema of the rows :func:`tag_batches` yields, for ``mapInPandas``."""
    loaded = resolve_model(model)
    labels = ", ".join(f"labels_{d} array<string>" for d in loaded.dimensions)
    return f"doc_id string, n_sentences long, {labels}, tagged string"


def tag_batches(
    batches: Iterable[pd.DataFrame],
    model: ModelSource,
    *,
    text: str = "text",
    doc_id: str | None = "id",
    title: str | None = "title",
) -> Iterator[pd.DataFrame]:
    """Tag each pandas batch of articles (``mapInPandas``' iterator) into tagged rows."""
    for frame in batches:
        yield tag_pandas(frame, model, text=text, doc_id=doc_id, title=title)

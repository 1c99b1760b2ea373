"""Engines: a two-worker Dask LocalCluster, Hugging Face Dataset.map, Spark's mapInPandas
function; each gives what tagging in one process gives."""

from __future__ import annotations

import json
import signal
from pathlib import Path

import pytest

from framing.output.json import article_json, tag_json_lines
from framing.runtime.inputs import InputFailure
from framing.runtime.tagging import tag_many

ARTICLES = [
    {"id": f"n{i}", "title": f"T{i}", "text": f"The port strike goes on, day {i}. Prices rise."}
    for i in range(7)
] + [{"id": "x", "title": None, "text": "Troops guard the border. Talks went on."}]


def expected_columns(model, articles: list[dict] = ARTICLES) -> dict[str, list]:
    tagged = list(tag_many(model, articles))
    out: dict[str, list] = {
        "doc_id": [a.doc_id for a in tagged],
        "n_sentences": [len(a.sentences) for a in tagged],
    }
    for dim in model.dimensions:
        out[f"labels_{dim}"] = [a.labels(dim) for a in tagged]
    out["tagged"] = [article_json(a) for a in tagged]
    return out


def test_engines_spark_batches_are_tagged_as_in_one_process(tag_model, tag_model_path) -> None:
    pd = pytest.importorskip("pandas")
    from framing.engines.spark import spark_schema, tag_batches

    frame = pd.DataFrame(ARTICLES)
    parts = list(tag_batches([frame.iloc[:3], frame.iloc[3:]], str(tag_model_path)))
    got = pd.concat(parts, ignore_index=True)
    want = expected_columns(tag_model)
    assert list(got.columns) == list(want)
    for column, values in want.items():
        assert [list(v) if isinstance(v, list) else v for v in got[column]] == values
    assert spark_schema(tag_model).startswith("doc_id string, n_sentences long, labels_")
    with pytest.raises(KeyError, match="no 'body' column"):
        list(tag_batches([frame], tag_model, text="body"))


def test_engines_hf_dataset_map_with_two_processes(tag_model, tag_model_path) -> None:
    datasets = pytest.importorskip("datasets")
    from framing.engines.hf_datasets import tag_dataset

    ds = datasets.Dataset.from_list(ARTICLES)
    tagged = tag_dataset(ds, str(tag_model_path), num_proc=2, batch_size=3)
    want = expected_columns(tag_model)
    for column, values in want.items():
        assert tagged[column] == values
    assert tagged["text"] == [a["text"] for a in ARTICLES]  # the dataset keeps its columns


@pytest.fixture(scope="module")
def dask_client():
    distributed = pytest.importorskip("distributed")

    def too_slow(*_):
        raise TimeoutError("the Dask LocalCluster test took over 240 s")

    old = signal.signal(signal.SIGALRM, too_slow)
    signal.alarm(240)
    try:
        with (
            distributed.LocalCluster(
                n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
            ) as cluster,
            distributed.Client(cluster, timeout="60s") as client,
        ):
            yield client
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, old)


def test_engines_dask_local_cluster_equals_one_process(
    dask_client, tag_model, tmp_path: Path
) -> None:
    import dask.bag as db
    import dask.dataframe as dd
    import pandas as pd

    from framing.engines.dask import tag_bag, tag_dataframe, tag_files

    inputs = tmp_path / "in"
    inputs.mkdir()
    for i, article in enumerate(ARTICLES):
        (inputs / f"a{i}.txt").write_text(f"{article['title']}\n\n{article['text']}")
    (inputs / "all.jsonl").write_text("".join(json.dumps(a) + "\n" for a in ARTICLES))
    out = tmp_path / "out"
    # A loaded model, scattered once to each of the two worker processes.
    run = tag_files([inputs], tag_model, out, client=dask_client, shard_mb=0.0001)
    assert len(run.shards) > 2
    one = b"".join(
        i[0]
        for i in tag_json_lines([inputs], tag_model, as_bytes=True)
        if not isinstance(i, InputFailure)
    )
    assert b"".join(p.read_bytes() for p in sorted(out.glob("part-*.jsonl"))) == one
    assert run.articles == 2 * len(ARTICLES) and not run.failures

    bag = db.from_sequence(ARTICLES, npartitions=3)
    got = tag_bag(bag, tag_model).compute()
    assert got == [a.to_dict() for a in tag_many(tag_model, ARTICLES)]

    frame = dd.from_pandas(pd.DataFrame(ARTICLES), npartitions=2)
    tagged = tag_dataframe(frame, str(tag_model.path)).compute()
    assert tagged["tagged"].tolist() == expected_columns(tag_model)["tagged"]


DOCUMENTS = [
    {"id": f"d{i}", "title": f"Headline {i}", "text": text}
    for i, text in enumerate(
        [
            "Western sanctions hurt Europe and the West provoked the war in Ukraine. Item 1.",
            "Climate activists and global elites push a green scam on ordinary people. Item 2.",
            "The council met on Tuesday and approved the budget for the bridge. Item 3.",
        ]
        * 2
    )
]


def test_engines_document_model_labels_whole_articles_in_every_engine(
    dask_client, s25_document_model: Path, tmp_path: Path
) -> None:
    """A document-level model through each engine: the article's labels (the ``document``
    field), no sentences, as ``framing tag`` gives them in one process."""
    import dask.bag as db
    import dask.dataframe as dd
    import pandas as pd

    from framing.engines.dask import tag_bag, tag_dataframe, tag_files
    from framing.engines.hf_datasets import tag_dataset
    from framing.engines.spark import tag_batches
    from framing.runtime.model import load_model

    model = load_model(s25_document_model)
    want = expected_columns(model, DOCUMENTS)
    one = list(tag_many(model, DOCUMENTS))
    assert want["n_sentences"] == [0] * len(DOCUMENTS)
    assert want["labels_narratives"] == [a.document.label_ids("narratives") for a in one]
    assert "URW: Blaming the war on others rather than the invader" in want["labels_narratives"][0]
    assert all('"document"' in line for line in want["tagged"])

    frame = pd.DataFrame(DOCUMENTS)
    got = pd.concat(list(tag_batches([frame.iloc[:2], frame.iloc[2:]], model)), ignore_index=True)
    for column, values in want.items():
        assert [list(v) if isinstance(v, list) else v for v in got[column]] == values
    tagged = tag_dataset(
        __import__("datasets").Dataset.from_list(DOCUMENTS), str(s25_document_model)
    )
    for column, values in want.items():
        assert tagged[column] == values
    assert tag_bag(db.from_sequence(DOCUMENTS, npartitions=2), model).compute() == [
        a.to_dict() for a in one
    ]
    parts = tag_dataframe(dd.from_pandas(frame, npartitions=2), str(s25_document_model))
    assert parts.compute()["tagged"].tolist() == want["tagged"]
    inputs = tmp_path / "in"
    inputs.mkdir()
    (inputs / "all.jsonl").write_text("".join(json.dumps(a) + "\n" for a in DOCUMENTS))
    out = tmp_path / "out"
    run = tag_files([inputs], model, out, client=dask_client)
    lines = [
        json.loads(x)
        for p in sorted(out.glob("part-*.jsonl"))
        for x in p.read_text().split("\n")
        if x
    ]
    assert [x["document"]["labels"] for x in lines] == [
        a.to_dict()["document"]["labels"] for a in one
    ]
    assert run.articles == len(DOCUMENTS) and not run.failures

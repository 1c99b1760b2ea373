"""The annotation format into Label Studio tasks (text classification with choices).

Each record becomes a task whose ``data`` holds the text and our record fields
(``record_id``, ``doc_id``, ``split``, ...); each dimension is a ``Choices`` control
named after the dimension id.  ``done`` records carry one submitted annotation with
their labels, ``skip`` records a cancelled (skipped) one, ``todo`` records none.
:func:`labelstudio_config` writes the matching labelling interface.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any
from xml.sax.saxutils import quoteattr

from framing.exchange.exporters import ExportResult, Written, dimensions_of
from framing.exchange.record_fields import display_text, record_fields
from framing.exchange.registry import Exporter, Param, output_param
from framing.files import write_text
from framing.format.annotations import Document, Sentence
from framing.format.codebook import Codebook

__all__ = ["labelstudio", "labelstudio_config"]


def _results(record: Sentence | Document) -> list[dict[str, Any]]:
    return [
        {
            "id": f"{dim}",
            "from_name": dim,
            "to_name": "text",
            "type": "choices",
            "origin": "manual",
            "value": {"choices": list(labels)},
        }
        for dim, labels in record.labels.items()
        if labels
    ]


def labelstudio(
    records: Iterable[Sentence | Document], codebook: Codebook | None = None
) -> ExportResult:
    """Turn records into Label Studio tasks (import them with Label Studio's JSON import).

    Parameters
    ----------
    records
        Sentence and document records (a document without text shows its title).
    codebook
        Not needed for the tasks; accepted so that every exporter has the same signature.

    Returns
    -------
    ExportResult
        ``items`` is the list of tasks; write it with :meth:`ExportResult.write_json`.

    Examples
    --------
    >>> from framing.format.annotations import Sentence
    >>> task = labelstudio([Sentence("s1", "d1", "Prices soared.", {"frames": ("economic",)})])
    >>> task.items[0]["annotations"][0]["result"][0]["value"]
    {'choices': ['economic']}
    """
    tasks: list[dict[str, Any]] = []
    for record in records:
        task: dict[str, Any] = {"data": {"text": display_text(record), **record_fields(record)}}
        if record.status == "done":
            task["annotations"] = [{"result": _results(record), "was_cancelled": False}]
        elif record.status == "skip":
            task["annotations"] = [{"result": [], "was_cancelled": True}]
        tasks.append(task)
    return ExportResult(
        items=tasks,
        counts={
            "tasks": len(tasks),
            "annotated": sum(1 for t in tasks if "annotations" in t),
        },
    )


def labelstudio_config(codebook: Codebook | dict[str, list[str]]) -> str:
    """The Label Studio labelling config (XML): the text and one ``Choices`` per dimension.

    Examples
    --------
    >>> print(labelstudio_config({"frames": ["economic"]}))  # doctest: +NORMALIZE_WHITESPACE
    <View>
      <Text name="text" value="$text"/>
      <Header value="frames"/>
      <Choices name="frames" toName="text" choice="multiple" showInline="false">
        <Choice value="economic"/>
      </Choices>
    </View>
    """
    lines = ["<View>", '  <Text name="text" value="$text"/>']
    dims: list[tuple[str, str, list[tuple[str, str | None]]]]
    if isinstance(codebook, Codebook):
        dims = [
            (d.id, d.name, [(lab.id, lab.definition) for lab in d.labels])
            for d in codebook.dimensions
        ]
    else:
        dims = [(dim, dim, [(lab, None) for lab in labels]) for dim, labels in codebook.items()]
    for dim, name, labels in dims:
        lines.append(f"  <Header value={quoteattr(name)}/>")
        lines.append(
            f'  <Choices name={quoteattr(dim)} toName="text" choice="multiple" showInline="false">'
        )
        for label, hint in labels:
            extra = f" hint={quoteattr(hint)}" if hint else ""
            lines.append(f"    <Choice value={quoteattr(label)}{extra}/>")
        lines.append("  </Choices>")
    lines.append("</View>")
    return "\n".join(lines) + "\n"


def config_for(records: list[Sentence | Document], codebook: Codebook | None) -> str:
    """The config for ``codebook``, or for the labels found in ``records``."""
    return labelstudio_config(codebook if codebook is not None else dimensions_of(records, None))


def _write(
    records: list[Sentence | Document],
    codebook: Codebook | None,
    *,
    output: Path,
    config_out: Path | None,
) -> Written:
    result = labelstudio(records, codebook)
    also = []
    if config_out is not None:
        write_text(config_out, config_for(records, codebook))
        also.append(f"the labelling config to {config_out}")
    return Written(result.write_json(output), "tasks", result.counts, also)


EXPORTER = Exporter(
    name="labelstudio",
    help="Export records as Label Studio tasks (choices), with their labels as annotations.\n\n"
    "Example: framing export labelstudio data/annotations/dev.jsonl -o tasks.json "
    "--config-out ls.xml",
    params=(
        output_param("JSON file of tasks."),
        Param(
            "config_out",
            "Also write the labelling config (XML) here.",
            ("--config-out",),
            Path,
            dir_okay=False,
        ),
    ),
    run=_write,
)

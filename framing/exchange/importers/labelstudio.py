"""Label Studio JSON exports (text classification with choices) into the annotation format.

A Label Studio export is a JSON array of tasks::

    [{"id": 7, "data": {"text": "Prices soared."},
      "annotations": [{"completed_by": 1, "was_cancelled": false, "result": [
          {"from_name": "frames", "to_name": "text", "type": "choices",
           "value": {"choices": ["economic"]}}]}]}]

Each ``Choices`` control (its ``from_name``) is a label dimension.  A task with a
submitted annotation is ``done``; one whose annotations were all cancelled (skipped)
is ``skip``; one without annotations is ``todo``.  Fields that ``framing export
labelstudio`` writes into ``data`` (``record_id``, ``doc_id``, ``split``, ...) are read
back, so a round trip gives the same records; other ``data`` fields go to ``meta``.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from framing.exchange.importers import ImportResult
from framing.exchange.importers.labels import check_split, dimension_id, finish, label_counts
from framing.exchange.importers.problems import RowProblems, keep_unique
from framing.exchange.importers.reading import iter_json_items, require_file
from framing.exchange.record_fields import build_record
from framing.exchange.registry import REQUIRED, Importer, Param
from framing.format.annotations import Document, Sentence
from framing.format.codebook import Codebook

__all__ = ["labelstudio"]


def _annotator(annotation: Mapping[str, Any]) -> str | None:
    who = annotation.get("completed_by")
    if isinstance(who, Mapping):
        who = who.get("email") or who.get("id")
    return None if who is None else str(who)


def labelstudio(
    path: str | Path,
    *,
    text_field: str = "text",
    split: str | None = None,
    codebook: Codebook | None = None,
) -> ImportResult:
    """Import a Label Studio JSON export of choice annotations.

    Parameters
    ----------
    path
        The exported JSON file (``Export`` > ``JSON`` in Label Studio).
    text_field
        The key of ``data`` that holds the text.
    split, codebook
        As every importer's (see :mod:`framing.exchange.importers`);
        the split overrides exported splits.

    Returns
    -------
    ImportResult
        One record per task; when a task has several submitted annotations, the first
        is kept (the count says how many tasks had more).

    Raises
    ------
    AnnotationError
        Listing every malformed task as ``file:line: what (how to fix)``.

    Examples
    --------
    >>> import json, pathlib, tempfile
    >>> f = pathlib.Path(tempfile.mkdtemp()) / "export.json"
    >>> result = {"from_name": "frames", "to_name": "text", "type": "choices",
    ...           "value": {"choices": ["economic"]}}
    >>> _ = f.write_text(json.dumps([{"id": 1, "data": {"text": "Prices soared."},
    ...     "annotations": [{"result": [result], "was_cancelled": False}]}]))
    >>> labelstudio(f).records[0].labels
    {'frames': ('economic',)}
    """
    split = check_split(split)
    path = require_file(path, "Label Studio export")
    problems = RowProblems()
    records: list[Sentence | Document] = []
    seen: dict[str, int] = {}
    several = ignored = 0
    for line, task in iter_json_items(path, problems):
        if not isinstance(task, Mapping) or not isinstance(task.get("data"), Mapping):
            problems.add(
                path,
                line,
                "a task must be an object with a 'data' object",
                "export the project as JSON (not JSON-MIN or CSV)",
            )
            continue
        data = dict(task["data"])
        text = data.pop(text_field, None)
        annotations = task.get("annotations") or task.get("completions") or []
        if not isinstance(annotations, list) or not all(
            isinstance(a, Mapping) for a in annotations
        ):
            problems.add(path, line, "'annotations' must be a list of objects")
            continue
        submitted = [a for a in annotations if not a.get("was_cancelled")]
        labels: dict[str, tuple[str, ...]] = {}
        status = "todo"
        annotator = None
        if submitted:
            status = "done"
            several += len(submitted) > 1
            annotator = _annotator(submitted[0])
            results = submitted[0].get("result") or []
            if not isinstance(results, list):
                problems.add(path, line, "'result' of the annotation must be a list")
                continue
            found: dict[str, dict[str, None]] = {}
            for item in results:
                if not isinstance(item, Mapping) or item.get("type") != "choices":
                    ignored += 1
                    continue
                choices = (item.get("value") or {}).get("choices")
                name = item.get("from_name")
                if not isinstance(name, str) or not name.strip():
                    problems.add(path, line, "a choices result has no 'from_name'")
                    continue
                if not isinstance(choices, list) or not all(isinstance(c, str) for c in choices):
                    problems.add(path, line, f"the choices of '{name}' must be a list of strings")
                    continue
                bucket = found.setdefault(dimension_id(name), {})
                for choice in choices:
                    bucket.setdefault(choice, None)
            labels = {dim: tuple(values) for dim, values in found.items()}
        elif annotations:
            status = "skip"
            annotator = _annotator(annotations[0])
        if annotator is not None and "annotator" not in data:
            data["annotator"] = annotator
        default_id = f"ls-{task['id']}" if "id" in task else f"{path.stem}-{line}"
        record = build_record(
            data,
            text=text,
            labels=labels,
            status=status,
            default_id=default_id,
            where=(str(path), line),
            problems=problems,
        )
        if record is None:
            continue
        keep_unique(
            record, records, seen, (path, line), problems, "give each task a unique data.record_id"
        )
    problems.raise_if_any(f"the Label Studio export {path}")
    dims = list(dict.fromkeys(d for r in records for d in r.labels))
    codebook = finish(
        records, name=f"labelstudio-{path.stem}", dimensions=dims, split=split, codebook=codebook
    )
    result = ImportResult(records=records, codebook=codebook)
    result.counts = {
        "records": len(records),
        "done": sum(r.status == "done" for r in records),
        "todo": sum(r.status == "todo" for r in records),
        "skip": sum(r.status == "skip" for r in records),
        **label_counts(codebook),
        "tasks with several annotations (first kept)": several,
        "non-choice results ignored": ignored,
    }
    return result


IMPORTER = Importer(
    name="labelstudio",
    help="Import a Label Studio JSON export of choice annotations.\n\n"
    "Example: framing import labelstudio project-1-export.json -o annotated.jsonl",
    params=(
        Param("path", "Label Studio JSON export.", kind=Path, default=REQUIRED, dir_okay=False),
        Param("text_field", "The data key holding the text.", ("--text-field",), default="text"),
    ),
    run=labelstudio,
)

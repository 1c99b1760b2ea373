"""Prodigy JSONL (choice interface) into the annotation format.

Prodigy writes one task a line, with the options shown, the ids the annotator
accepted and the answer::

    {"text": "Prices soared.", "options": [{"id": "economic", "text": "Economic"}],
     "accept": ["economic"], "answer": "accept"}

Only ``accept`` answers are gold: they become ``done`` records.  ``reject`` and
``ignore`` answers become ``skip`` records: the annotator refused the task, which is
kept so that it is not queued again but never used as training data (a ``reject`` is
noted in ``meta.prodigy_answer``).  Tasks without an answer are ``todo``.  Every option
offered becomes a codebook label, accepted or not.  Options written by ``framing export
prodigy`` carry their ``dimension`` and ``label``; other options go to one dimension
(``label`` unless told).  When the same task was answered several times (several
sessions), the first answer is kept and the count says how many were dropped.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from framing.exchange.importers import ImportResult
from framing.exchange.importers.labels import check_dimension, check_split, finish, label_counts
from framing.exchange.importers.problems import RowProblems
from framing.exchange.importers.reading import iter_jsonl, require_file
from framing.exchange.record_fields import build_record
from framing.exchange.registry import REQUIRED, Importer, Param
from framing.format.annotations import Document, Sentence
from framing.format.codebook import Codebook

__all__ = ["prodigy"]

ANSWERS = {"accept": "done", "reject": "skip", "ignore": "skip"}


def _options(
    options: Any, dimension: str, path: Path, line: int, problems: RowProblems
) -> dict[str, tuple[str, str]] | None:
    """Map each option id to ``(dimension, label)``."""
    if not isinstance(options, list):
        problems.add(path, line, "'options' must be a list of {id, text} objects")
        return None
    mapping: dict[str, tuple[str, str]] = {}
    for option in options:
        if not isinstance(option, Mapping) or "id" not in option:
            problems.add(path, line, f"option {option!r} has no 'id'")
            return None
        dim, label = option.get("dimension"), option.get("label")
        if isinstance(dim, str) and isinstance(label, str):
            mapping[str(option["id"])] = (dim, label)
        else:
            mapping[str(option["id"])] = (dimension, str(option["id"]))
    return mapping


def prodigy(
    path: str | Path,
    *,
    dimension: str = "label",
    split: str | None = None,
    codebook: Codebook | None = None,
) -> ImportResult:
    """Import Prodigy choice annotations (``prodigy db-out`` output).

    Parameters
    ----------
    path
        The JSONL file.
    dimension
        The dimension of options that do not name one themselves.
    split, codebook
        As every importer's (see :mod:`framing.exchange.importers`);
        the split overrides exported splits.

    Returns
    -------
    ImportResult
        One record per task: accepted answers ``done`` with the accepted options as
        labels, rejected or ignored ones ``skip``, unanswered ones ``todo``.

    Raises
    ------
    AnnotationError
        Listing every malformed line as ``file:line: what (how to fix)``.

    Examples
    --------
    >>> import pathlib, tempfile
    >>> f = pathlib.Path(tempfile.mkdtemp()) / "db.jsonl"
    >>> _ = f.write_text('{"text": "Prices soared.", "options": [{"id": "economic", '
    ...     '"text": "Economic"}], "accept": ["economic"], "answer": "accept"}\\n')
    >>> prodigy(f, dimension="frames").records[0].labels
    {'frames': ('economic',)}
    """
    split = check_split(split)
    check_dimension(dimension)
    path = require_file(path, "Prodigy JSONL file")
    problems = RowProblems()
    records: list[Sentence | Document] = []
    seen: dict[str, int] = {}
    dropped = 0
    offered: dict[str, dict[str, None]] = {}
    for line, task in iter_jsonl(path, problems):
        if not isinstance(task, Mapping):
            problems.add(path, line, "a line must be a JSON object")
            continue
        if "options" not in task:
            hint = (
                "binary annotations (one 'label' per task) are not supported: "
                "annotate with the choice interface"
                if "label" in task
                else "annotate with the choice interface (options/accept)"
            )
            problems.add(path, line, "task has no 'options'", hint)
            continue
        options = _options(task["options"], dimension, path, line, problems)
        if options is None:
            continue
        for dim, label in options.values():
            offered.setdefault(dim, {}).setdefault(label, None)
        answer = task.get("answer")
        if answer is not None and answer not in ANSWERS:
            problems.add(path, line, f"answer must be accept, reject or ignore, got {answer!r}")
            continue
        status = ANSWERS.get(answer, "todo") if answer is not None else "todo"
        labels: dict[str, dict[str, None]] = {}
        if status == "done":
            accepted = task.get("accept", [])
            if not isinstance(accepted, list):
                problems.add(path, line, "'accept' must be a list of option ids")
                continue
            unknown = [a for a in accepted if str(a) not in options]
            if unknown:
                problems.add(
                    path,
                    line,
                    f"accepted id(s) {', '.join(map(repr, unknown))} are not among the options",
                    "accept only ids listed in 'options'",
                )
                continue
            for option_id in accepted:
                dim, label = options[str(option_id)]
                labels.setdefault(dim, {}).setdefault(label, None)
        meta = task.get("meta") if isinstance(task.get("meta"), Mapping) else {}
        fields: dict[str, Any] = dict(meta or {})
        if "annotator" not in fields:
            who = task.get("_annotator_id") or task.get("_session_id")
            if isinstance(who, str) and answer is not None:
                fields["annotator"] = who
        if answer == "reject":
            fields.setdefault("prodigy_answer", "reject")
        default_id = (
            f"prodigy-{task['_task_hash']}" if "_task_hash" in task else f"{path.stem}-{line}"
        )
        record = build_record(
            fields,
            text=task.get("text"),
            labels={dim: tuple(values) for dim, values in labels.items()},
            status=status,
            default_id=default_id,
            where=(str(path), line),
            problems=problems,
        )
        if record is None:
            continue
        key = record.id if isinstance(record, Sentence) else f"document:{record.doc_id}"
        if key in seen:
            dropped += 1
            continue
        seen[key] = line
        records.append(record)
    problems.raise_if_any(f"the Prodigy file {path}")
    for dim in offered:
        try:
            check_dimension(dim)
        except ValueError:
            problems.add(path, None, f"option dimension '{dim}' is not lower_snake_case")
    problems.raise_if_any(f"the Prodigy file {path}")
    codebook = finish(
        records,
        name=f"prodigy-{path.stem}",
        dimensions=list(offered),
        taxonomy={dim: list(labels) for dim, labels in offered.items()},
        split=split,
        codebook=codebook,
    )
    result = ImportResult(records=records, codebook=codebook)
    result.counts = {
        "records": len(records),
        "accepted (done)": sum(r.status == "done" for r in records),
        "rejected or ignored (skip)": sum(r.status == "skip" for r in records),
        "unanswered (todo)": sum(r.status == "todo" for r in records),
        **label_counts(codebook),
        "repeated answers dropped (first kept)": dropped,
    }
    return result


IMPORTER = Importer(
    name="prodigy",
    help="Import Prodigy choice annotations; only accepted answers are gold.\n\n"
    "Example: framing import prodigy round1.jsonl --dimension frames -o annotated.jsonl",
    params=(
        Param(
            "path", "Prodigy JSONL (prodigy db-out).", kind=Path, default=REQUIRED, dir_okay=False
        ),
        Param(
            "dimension",
            "The dimension of options that name none.",
            ("--dimension", "-d"),
            default="label",
        ),
    ),
    run=prodigy,
)

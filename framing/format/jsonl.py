"""Reading and writing annotation JSONL: stream the records, read a corpus, write atomically.

Readers stream: :func:`iter_records` holds one line in memory at a time.  Writers are
atomic: records go to a temporary file in the target folder, which then replaces the
target (see :mod:`framing.files`).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

from framing.errors import AnnotationError, Problem
from framing.files import atomic_write
from framing.format.codebook import Codebook
from framing.format.lines import collect_files
from framing.format.records import Corpus, Document, Record, Sentence
from framing.format.validation import RecordChecker, scan

__all__ = ["iter_records", "read_corpus", "write_jsonl"]


def iter_records(paths: Sequence[str | Path], codebook: Codebook | None = None) -> Iterator[Record]:
    """Stream the records of annotation files, in file order.

    Warnings (CRLF line ends, blank lines) are ignored; the first error raises.
    Memory stays constant whatever the file size: ids are not remembered, so
    duplicate ids are not detected here (:func:`validate` and :func:`read_corpus` do).

    Raises
    ------
    AnnotationError
        At the first malformed record, naming its file and line.
    """
    for _kind, record, problems in scan(paths, RecordChecker(codebook, ids="none")):
        errors = [p for p in problems if p.severity == "error"]
        if errors:
            raise AnnotationError(
                f"{errors[0].located()}\nrun 'framing validate' to list every problem", errors
            )
        if record is not None:
            yield record


def read_corpus(paths: Sequence[str | Path], codebook: Codebook | None = None) -> Corpus:
    """Read annotation files into memory, refusing invalid data.

    Raises
    ------
    AnnotationError
        When any record is invalid; ``problems`` holds every error found and the
        message shows the first ones.
    """
    sentences: list[Sentence] = []
    documents: dict[str, Document] = {}
    errors: list[Problem] = []
    files = [str(p) for p in collect_files(paths)]
    for _kind, record, problems in scan(paths, RecordChecker(codebook, ids="exact")):
        errors.extend(p for p in problems if p.severity == "error")
        if isinstance(record, Sentence):
            sentences.append(record)
        elif isinstance(record, Document):
            documents[record.doc_id] = record
    if errors:
        shown = "\n".join(p.located() for p in errors[:10])
        more = f"\n... and {len(errors) - 10} more" if len(errors) > 10 else ""
        raise AnnotationError(
            f"{len(errors)} problem(s) in the annotations:\n{shown}{more}\n"
            "run 'framing validate' to list every problem",
            errors,
        )
    return Corpus(sentences=sentences, documents=documents, files=files)


def write_jsonl(path: str | Path, records: Iterable[Record | Mapping[str, Any]]) -> int:
    """Write records as JSONL atomically; return how many were written.

    The records go to a temporary file beside ``path`` that replaces it only once
    everything is written, so an interrupted write never leaves a half file
    (see :mod:`framing.files`).
    """
    count = 0
    with atomic_write(path) as out:
        for record in records:
            data = record if isinstance(record, Mapping) else record.to_dict()
            out.write(json.dumps(data, ensure_ascii=False))
            out.write("\n")
            count += 1
    return count

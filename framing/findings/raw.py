"""Raw articles into tagged JSONL for ``framing findings --model``: tag first, then estimate.

``framing findings`` reads what ``framing tag`` writes.  Given articles instead (``.txt``
files, JSONL of ``{"id", "text", "meta"}``, CSV/TSV tables, folders of them) and a model,
:func:`tag_raw` tags them with every score (as ``framing tag --all-scores``) into a JSONL
file, so that one command goes from articles with metadata to findings.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import IO, Any

from framing.errors import AnnotationError, UsageError
from framing.format.table import is_table
from framing.runtime.results import TaggedArticle, is_tagged_file

__all__ = ["split_inputs", "tag_raw"]

#: Input failures listed before the rest are only counted.
MAX_PROBLEMS = 20


def _is_tagged_path(path: Path) -> bool:
    if path.is_dir():
        first = next(iter(sorted(p for p in path.rglob("*.jsonl") if p.is_file())), None)
        return first is not None and is_tagged_file(first)
    return is_tagged_file(path)


def split_inputs(paths: Sequence[str | Path]) -> tuple[list[Path], list[Path]]:
    """The paths that hold ``framing tag`` output, and those that hold raw articles.

    A file is tag output when its first line is a tagged article; a folder when its first
    ``.jsonl`` file is.  Paths that do not exist are left for the reader to report.
    """
    tagged: list[Path] = []
    raw: list[Path] = []
    for given in paths:
        path = Path(given)
        if not path.exists() or _is_tagged_path(path):
            tagged.append(path)
        else:
            raw.append(path)
    return tagged, raw


def tag_raw(
    paths: Sequence[Path],
    model: Any,
    out: IO[str],
    *,
    meta: Mapping[str, Any] | None = None,
    text_column: str | None = None,
    id_column: str | None = None,
) -> int:
    """Tag raw articles with every score and write them to ``out`` as JSONL.

    Parameters
    ----------
    paths
        ``.txt``/``.jsonl`` files or folders, or CSV/TSV tables (not both in one call).
    model
        A loaded model.
    out
        A text stream the tagged articles are written to, one JSON line each.
    meta
        Metadata for every article (a record's own ``meta`` or a table's columns win).
    text_column, id_column
        For CSV/TSV tables, as ``framing tag --text-column/--id-column``.

    Returns
    -------
    int
        The number of articles tagged.

    Raises
    ------
    AnnotationError
        Listing every input that could not be read or tagged (nothing is estimated then).
    UsageError
        When tables and ``.txt``/``.jsonl`` inputs are mixed.
    """
    tables = [p for p in paths if is_table(p)]
    if tables and len(tables) != len(paths):
        raise UsageError(
            f"{tables[0]}: give CSV/TSV tables or .txt/.jsonl articles, not both in one run"
        )
    problems: list[str] = []
    count = 0
    for article in _tagged(paths, tables, model, meta, text_column, id_column, problems):
        out.write(json.dumps(article.to_dict(), ensure_ascii=False) + "\n")
        count += 1
    if problems:
        more = len(problems) - MAX_PROBLEMS
        shown = problems[:MAX_PROBLEMS] + ([f"... and {more} more"] if more > 0 else [])
        raise AnnotationError("\n".join(shown))
    return count


def _tagged(
    paths: Sequence[Path],
    tables: list[Path],
    model: Any,
    meta: Mapping[str, Any] | None,
    text_column: str | None,
    id_column: str | None,
    problems: list[str],
) -> Iterator[TaggedArticle]:
    from framing.format.meta import MetadataError, check_meta
    from framing.runtime.inputs import InputFailure, collect_inputs
    from framing.runtime.tagging import tag

    if not tables:
        for item in tag(collect_inputs(paths), model, all_scores=True, meta=meta):
            if isinstance(item, InputFailure):
                problems.append(str(item))
            elif isinstance(item, TaggedArticle):
                yield item
        return
    from framing.format.table import read_table

    for table in tables:
        items = []
        for row in read_table(table, text_column, id_column):
            try:
                own = check_meta({**(meta or {}), **row.meta}, f"{table}:{row.line}")
            except MetadataError as exc:
                problems.append(str(exc))
                continue
            items.append({"id": row.doc_id, "text": row.text, "meta": own})
        yield from model.tag_many(items, all_scores=True)

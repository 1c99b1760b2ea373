"""SemEval-2025 Task 10, subtask 2 (narrative classification) into the annotation format.

The task publishes a folder of article files (``EN_10001.txt``: the title on the first
line, a blank line, then the body) and an annotation file of tab-separated rows::

    EN_10001.txt<TAB>URW: Discrediting Ukraine;Other<TAB>URW: Discrediting Ukraine: Other;Other

Each article becomes a document record (doc id: the file name without ``.txt``) with
two label dimensions, ``narratives`` and ``subnarratives``, followed by its sentences
as ``todo`` records.  Labels repeated within a row are kept once.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from framing.errors import UsageError
from framing.exchange.importers import ImportResult
from framing.exchange.importers.labels import (
    UNKNOWN_POLICIES,
    check_split,
    finish,
    label_counts,
    split_labels,
    unique,
)
from framing.exchange.importers.problems import RowProblems
from framing.exchange.importers.reading import iter_lines, require_dir, require_file
from framing.exchange.importers.text import article_records
from framing.exchange.registry import REQUIRED, Importer, Param
from framing.format.annotations import Document, Sentence, collect_files
from framing.format.article import read_article
from framing.format.codebook import Codebook, did_you_mean

__all__ = ["semeval2025", "read_taxonomy", "with_hierarchy", "DIMENSIONS"]

DIMENSIONS = ("narratives", "subnarratives")


def read_taxonomy(path: str | Path) -> list[str]:
    """Read a taxonomy file: one label a line (blank lines and ``#`` comments ignored)."""
    path = require_file(path, "taxonomy file")
    problems = RowProblems()
    labels: dict[str, int] = {}
    for number, line in iter_lines(path, problems):
        label = line.strip()
        if label.startswith("#"):
            continue
        if label in labels:
            problems.add(
                path, number, f"label '{label}' listed twice", f"first at line {labels[label]}"
            )
        labels.setdefault(label, number)
    problems.raise_if_any(str(path))
    return list(labels)


def semeval2025(
    documents: str | Path,
    annotations: str | Path | None = None,
    *,
    taxonomy: Mapping[str, str | Path] | None = None,
    split: str | None = None,
    codebook: Codebook | None = None,
    unknown: str = "error",
) -> ImportResult:
    """Import SemEval-2025 Task 10 subtask 2 articles and their narrative labels.

    Parameters
    ----------
    documents
        The folder of article ``.txt`` files (searched recursively).
    annotations
        The tab-separated annotation file; without it every article is ``todo``.
    taxonomy
        Optional taxonomy files, ``{"narratives": path, "subnarratives": path}``, one label
        a line: the codebook then lists every taxonomy label, and labels outside it are errors.
    split, codebook
        As every importer's (see :mod:`framing.exchange.importers`).
    unknown
        A label outside the taxonomy: ``error`` (each named with its row), ``drop`` it
        from its row, or ``add`` it to the codebook; the counts say which were dropped
        or added.

    Returns
    -------
    ImportResult
        Document records (``done`` when annotated) each followed by its ``todo`` sentences,
        and a codebook with the dimensions ``narratives`` and ``subnarratives``.

    Raises
    ------
    AnnotationError
        Listing every malformed row as ``file:line: what (how to fix)``.
    InputNotFoundError
        When the folder or a file does not exist.

    Examples
    --------
    >>> import pathlib, tempfile
    >>> root = pathlib.Path(tempfile.mkdtemp())
    >>> _ = (root / "EN_1.txt").write_text("Title\\n\\nThe West lies. It always does.\\n")
    >>> _ = (root / "ann.txt").write_text("EN_1.txt\\tURW: Blame the West\\tOther\\n")
    >>> result = semeval2025(root, root / "ann.txt")
    >>> result.records[0].labels
    {'narratives': ('URW: Blame the West',), 'subnarratives': ('Other',)}
    """
    split = check_split(split)
    folder = require_dir(documents, "articles")
    files = collect_files([folder], suffix=".txt")
    if annotations is not None:
        annotation_path = require_file(annotations, "annotation file")
        files = [f for f in files if f.resolve() != annotation_path.resolve()]
    by_name = {f.name: f for f in files}
    problems = RowProblems()

    if unknown not in UNKNOWN_POLICIES:
        raise UsageError(
            f"unknown-labels must be one of {', '.join(UNKNOWN_POLICIES)}, got '{unknown}'"
        )
    outside: dict[str, int] = {}
    allowed: dict[str, list[str]] = {}
    for dim, path in (taxonomy or {}).items():
        if dim not in DIMENSIONS:
            raise UsageError(
                f"taxonomy for unknown dimension '{dim}' (use {' or '.join(DIMENSIONS)})"
            )
        allowed[dim] = read_taxonomy(path)

    labels: dict[str, dict[str, tuple[str, ...]]] = {}
    repeated = 0
    if annotations is not None:
        first_row: dict[str, int] = {}
        for number, line in iter_lines(annotation_path, problems):
            fields = line.split("\t")
            if len(fields) != 3:
                problems.add(
                    annotation_path,
                    number,
                    f"expected 3 tab-separated fields (file, narratives, subnarratives), "
                    f"got {len(fields)}",
                    "separate the fields with one tab; join labels with ';'",
                )
                continue
            name, raw_narr, raw_sub = (f.strip() for f in fields)
            ok = True
            if name in first_row:
                problems.add(
                    annotation_path,
                    number,
                    f"article '{name}' annotated twice (first at line {first_row[name]})",
                    "keep one row per article",
                )
                ok = False
            first_row.setdefault(name, number)
            if name not in by_name:
                close = did_you_mean(name, by_name)
                problems.add(
                    annotation_path,
                    number,
                    f"article file '{name}' is not in {folder}",
                    f"did you mean '{close}'?" if close else "check the file name and the folder",
                )
                ok = False
            row: dict[str, tuple[str, ...]] = {}
            for dim, raw in zip(DIMENSIONS, (raw_narr, raw_sub), strict=True):
                items = split_labels(raw, ";")
                if not items:
                    problems.add(
                        annotation_path,
                        number,
                        f"no {dim[:-1]} given",
                        "use 'Other' when none applies",
                    )
                    ok = False
                kept = []
                for item in items:
                    if dim in allowed and item not in allowed[dim]:
                        outside[f"{dim}:{item}"] = outside.get(f"{dim}:{item}", 0) + 1
                        if unknown == "drop":
                            continue
                        if unknown == "error":
                            close = did_you_mean(item, allowed[dim])
                            problems.add(
                                annotation_path,
                                number,
                                f"{dim[:-1]} '{item}' is not in the taxonomy",
                                f"did you mean '{close}'?"
                                if close
                                else "check the taxonomy file, or import with "
                                "--unknown-labels drop|add",
                            )
                            ok = False
                    kept.append(item)
                row[dim], dropped = unique(kept)
                repeated += dropped
            if ok:
                labels[by_name[name].stem] = row
    problems.raise_if_any(f"the SemEval-2025 annotations {annotations}")

    records: list[Sentence | Document] = []
    for file in files:
        article = read_article(file, doc_id=file.stem)
        if not article.text.strip():
            problems.add(file, None, "the article has no text after its title", "remove the file")
            continue
        article_recs = article_records(article)
        doc = article_recs[0]
        assert isinstance(doc, Document)
        doc.source = (str(file), 1)
        if doc.doc_id in labels:
            doc.status = "done"
            doc.labels = dict(labels[doc.doc_id])
        records.extend(article_recs)
    problems.raise_if_any(f"the SemEval-2025 articles in {folder}")

    given = codebook is not None
    codebook = finish(
        records,
        name="semeval2025-narratives",
        dimensions=DIMENSIONS,
        taxonomy=allowed,
        description="Narratives and subnarratives of SemEval-2025 Task 10 subtask 2.",
        split=split,
        codebook=codebook,
    )
    if codebook is not None and not given:
        codebook = with_hierarchy(codebook)
    result = ImportResult(records=records, codebook=codebook)
    annotated = sum(1 for r in records if isinstance(r, Document) and r.status == "done")
    result.counts = {
        "documents": result.documents,
        "annotated documents": annotated,
        "sentences (todo)": result.sentences,
        **label_counts(codebook),
        "repeated labels dropped": repeated,
    }
    if outside:
        verb = "dropped" if unknown == "drop" else "added"
        listed = ", ".join(f"'{key}' ({n})" for key, n in outside.items())
        result.counts[f"labels outside the taxonomy {verb}"] = listed
    return result


def with_hierarchy(codebook: Codebook) -> Codebook:
    """The task's label structure written into an imported codebook.

    ``Other`` is exclusive in both dimensions (it means "none of the others"); each
    subnarrative ``Narrative: Sub`` has its narrative as parent (``parent_dimension =
    "narratives"``), and the subnarrative ``Other`` has the narrative ``Other``.

    Examples
    --------
    >>> book = Codebook.from_labels({"narratives": ["N", "Other"],
    ...     "subnarratives": ["N: s", "N: Other", "Other"]}, name="x")
    >>> sub = with_hierarchy(book).dimension("subnarratives")
    >>> sub.label("N: s").parent, sub.label("Other").exclusive, sub.label("N: Other").exclusive
    ('N', True, False)
    """
    from dataclasses import replace

    if set(codebook.dimension_ids) != set(DIMENSIONS):
        return codebook
    narratives = codebook.dimension("narratives").label_ids
    by_length = sorted(narratives, key=len, reverse=True)
    dims = []
    for dim in codebook.dimensions:
        labels = []
        for label in dim.labels:
            parent: str | None = None
            if dim.id == "subnarratives":
                if label.id == "Other":
                    parent = "Other" if "Other" in narratives else None
                else:
                    parent = next((n for n in by_length if label.id.startswith(f"{n}: ")), None)
            labels.append(
                replace(
                    label,
                    exclusive=label.id == "Other",
                    parent=parent if parent is not None else label.parent,
                    parent_dimension="narratives" if parent is not None else label.parent_dimension,
                )
            )
        dims.append(replace(dim, labels=tuple(labels)))
    structured = replace(codebook, dimensions=tuple(dims), source=None)
    return Codebook.from_dict(structured.to_dict(), source=f"<codebook {codebook.name}>")


def gold_order(path: str | Path) -> list[tuple[int, str, str]]:
    """``(line, file name, doc id)`` of each row of a SemEval-2025 annotation file, in order."""
    path = require_file(path, "gold file")
    problems = RowProblems()
    order: list[tuple[int, str, str]] = []
    for number, line in iter_lines(path, problems):
        name = line.split("\t", 1)[0].strip()
        order.append((number, name, name.removesuffix(".txt")))
    problems.raise_if_any(str(path))
    return order


def _from_options(
    documents: Path,
    annotations: Path | None,
    narratives_taxonomy: Path | None,
    subnarratives_taxonomy: Path | None,
    split: str | None,
    unknown: str,
) -> ImportResult:
    taxonomy = {
        dim: path
        for dim, path in (
            ("narratives", narratives_taxonomy),
            ("subnarratives", subnarratives_taxonomy),
        )
        if path is not None
    }
    return semeval2025(documents, annotations, taxonomy=taxonomy, split=split, unknown=unknown)


IMPORTER = Importer(
    name="semeval2025",
    help="Import SemEval-2025 Task 10 subtask 2 articles with their narratives.\n\n"
    "Example: framing import semeval2025 EN/raw-documents -a EN/subtask-2-annotations.txt "
    "-o en.jsonl",
    params=(
        Param(
            "documents",
            "Folder of the article .txt files.",
            kind=Path,
            default=REQUIRED,
            file_okay=False,
        ),
        Param(
            "annotations",
            "The tab-separated annotation file.",
            ("--annotations", "-a"),
            Path,
            dir_okay=False,
        ),
        Param(
            "narratives_taxonomy",
            "Narrative labels, one a line.",
            ("--narratives-taxonomy",),
            Path,
            dir_okay=False,
        ),
        Param(
            "subnarratives_taxonomy",
            "Subnarrative labels, one a line.",
            ("--subnarratives-taxonomy",),
            Path,
            dir_okay=False,
        ),
    ),
    run=_from_options,
    crosswalk=True,
    takes_unknown=True,
)

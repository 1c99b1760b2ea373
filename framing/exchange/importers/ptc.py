"""The Propaganda Techniques Corpus (SemEval-2020 Task 11) into the annotation format.

The corpus has article files ``article<ID>.txt`` with one sentence a line, and
technique-classification labels, tab-separated, with character offsets into the file::

    111111111<TAB>Name_Calling,Labeling<TAB>34<TAB>40

Each article becomes a document record (its whole file as ``text``, the first line as
``title``) followed by one sentence record per non-empty line (id ``<ID>-s<line>``,
``sent_index`` = the line number, offsets into the document text).  A sentence carries
a technique in its ``techniques`` list when a span of that technique overlaps it.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from framing.exchange.importers import ImportResult
from framing.exchange.importers.labels import check_split, finish, label_counts
from framing.exchange.importers.problems import RowProblems
from framing.exchange.importers.reading import (
    iter_lines,
    line_spans,
    read_articles,
    require_dir,
)
from framing.exchange.registry import REQUIRED, Importer, Param
from framing.format.annotations import Document, Sentence, collect_files
from framing.format.codebook import Codebook, did_you_mean

__all__ = ["ptc"]


def ptc(
    articles: str | Path,
    labels: Sequence[str | Path] | None = None,
    *,
    split: str | None = None,
    codebook: Codebook | None = None,
) -> ImportResult:
    """Import PTC articles as sentence records labelled with propaganda techniques.

    Parameters
    ----------
    articles
        The folder of ``article<ID>.txt`` files (other files are ignored).
    labels
        Technique-classification label files, or folders of ``*.labels`` files.  The corpus
        is annotated exhaustively, so with labels every sentence is ``done`` (no overlapping
        span: no technique); without them every sentence is ``todo``.
    split, codebook
        As every importer's (see :mod:`framing.exchange.importers`).

    Returns
    -------
    ImportResult
        Per article, a document record and one sentence record per non-empty line,
        labelled with the techniques whose spans overlap it.

    Raises
    ------
    AnnotationError
        Listing every malformed row as ``file:line: what (how to fix)``.

    Examples
    --------
    >>> import pathlib, tempfile
    >>> root = pathlib.Path(tempfile.mkdtemp())
    >>> _ = (root / "article1.txt").write_text("Title\\n\\nThey are traitors.\\n")
    >>> _ = (root / "a.labels").write_text("1\\tName_Calling,Labeling\\t16\\t24\\n")
    >>> [r.labels for r in ptc(root, [root / "a.labels"]).records[1:]]
    [{'techniques': ()}, {'techniques': ('Name_Calling,Labeling',)}]
    """
    split = check_split(split)
    folder = require_dir(articles, "articles")
    problems = RowProblems()
    # The label offsets count characters of the file as it is: no line-end change.
    texts = read_articles(folder, problems, "the PTC articles")

    spans: dict[str, list[tuple[int, int, str]]] = {ident: [] for ident in texts}
    label_files = collect_files(labels, suffix=".labels") if labels else []
    seen: dict[tuple[str, str, int, int], tuple[Path, int]] = {}
    duplicates = 0
    for path in label_files:
        for number, line in iter_lines(path, problems):
            fields = [f.strip() for f in line.split("\t")]
            if len(fields) != 4:
                hint = (
                    "this looks like a span-identification (SI) file: give the "
                    "technique-classification (TC) labels"
                    if len(fields) == 3
                    else "article id, technique, start, end, separated by tabs"
                )
                problems.add(
                    path, number, f"expected 4 tab-separated fields, got {len(fields)}", hint
                )
                continue
            ident, technique, raw_start, raw_end = fields
            if ident not in texts:
                close = did_you_mean(ident, texts)
                problems.add(
                    path,
                    number,
                    f"article '{ident}' has no file article{ident}.txt in {folder}",
                    f"did you mean '{close}'?" if close else "check the id and the folder",
                )
                continue
            if not technique:
                problems.add(path, number, "empty technique name")
                continue
            if not (raw_start.isdigit() and raw_end.isdigit()):
                problems.add(
                    path,
                    number,
                    f"offsets must be whole numbers, got '{raw_start}' and '{raw_end}'",
                )
                continue
            start, end = int(raw_start), int(raw_end)
            size = len(texts[ident][1])
            if not start < end <= size:
                problems.add(
                    path,
                    number,
                    f"span {start}:{end} is not inside article '{ident}' ({size} characters)",
                    "offsets must satisfy start < end <= length of the article file",
                )
                continue
            key = (ident, technique, start, end)
            if key in seen:
                duplicates += 1
                continue
            seen[key] = (path, number)
            spans[ident].append((start, end, technique))
    problems.raise_if_any("the PTC labels")

    annotated = labels is not None
    records: list[Sentence | Document] = []
    unplaced = 0
    for ident in sorted(texts, key=lambda i: (len(i), i)):
        file, text = texts[ident]
        first_line = text.split("\n", 1)[0].strip()
        records.append(
            Document(
                doc_id=ident,
                title=first_line or None,
                text=text,
                status="done" if annotated else "todo",
                meta={"source": file.name},
                source=(str(file), 1),
            )
        )
        placed: set[int] = set()
        for number, start, end in line_spans(text):
            found: dict[str, None] = {}
            for i, (s, e, technique) in enumerate(spans[ident]):
                if s < end and e > start:
                    found.setdefault(technique, None)
                    placed.add(i)
            records.append(
                Sentence(
                    id=f"{ident}-s{number:03d}",
                    doc_id=ident,
                    text=text[start:end],
                    labels={"techniques": tuple(found)},
                    status="done" if annotated else "todo",
                    sent_index=number,
                    start=start,
                    end=end,
                    source=(str(file), number),
                )
            )
        unplaced += len(spans[ident]) - len(placed)

    codebook = finish(
        records,
        name="ptc-techniques",
        dimensions=["techniques"],
        description="Propaganda techniques of the PTC corpus (SemEval-2020 Task 11).",
        split=split,
        document_dimensions=[],
        codebook=codebook,
    )
    result = ImportResult(records=records, codebook=codebook)
    result.counts = {
        "documents": result.documents,
        "sentences": result.sentences,
        "spans": sum(len(s) for s in spans.values()),
        "sentences with a technique": sum(
            1 for r in records if isinstance(r, Sentence) and r.labels.get("techniques")
        ),
        **label_counts(codebook),
        "duplicate spans dropped": duplicates,
        "spans over blank text only": unplaced,
    }
    return result


IMPORTER = Importer(
    name="ptc",
    help="Import the Propaganda Techniques Corpus as sentences labelled with techniques.\n\n"
    "Example: framing import ptc train-articles -l train-labels-task2-TC -o ptc.jsonl",
    params=(
        Param(
            "articles",
            "Folder of the article<ID>.txt files.",
            kind=Path,
            default=REQUIRED,
            file_okay=False,
        ),
        Param(
            "labels",
            "Technique-classification .labels files or folders.",
            ("--labels", "-l"),
            Path,
            many=True,
        ),
    ),
    run=ptc,
    crosswalk=True,
)

"""SemEval-2023 Task 3 (frames and persuasion techniques) into the annotation format.

The task publishes article files ``article<ID>.txt`` (the title on the first line) and
tab-separated label files:

* subtask 2, frames per article: ``<ID><TAB>Economic,Security_and_defense``;
* subtask 3, persuasion techniques per paragraph: ``<ID><TAB><line><TAB>Loaded_Language,Doubt``,
  where paragraphs are the lines of the article file counted from 1 (the title is line 1,
  empty lines count).

Each article becomes a document record (doc id ``<ID>``, its whole file as ``text``,
the first line as ``title``, subtask 2 labels in ``frames``) followed by one record per
non-empty line (id ``<ID>-p<line>``, ``sent_index`` = the line number, offsets into the
document text) with the subtask 3 labels in ``techniques``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from framing.errors import UsageError
from framing.exchange.importers import ImportResult
from framing.exchange.importers.labels import (
    check_split,
    finish,
    label_counts,
    split_labels,
    unique,
)
from framing.exchange.importers.problems import RowProblems
from framing.exchange.importers.reading import (
    iter_lines,
    line_spans,
    read_articles,
    require_dir,
    require_file,
)
from framing.exchange.registry import REQUIRED, Importer, Param
from framing.format.annotations import Document, Sentence
from framing.format.codebook import Codebook, did_you_mean

__all__ = ["semeval2023"]


def semeval2023(
    articles: str | Path,
    frames: str | Path | None = None,
    techniques: str | Path | None = None,
    *,
    split: str | None = None,
    codebook: Codebook | None = None,
    unlisted: Literal["todo", "negative"] = "todo",
) -> ImportResult:
    """Import SemEval-2023 Task 3 articles with subtask 2 frames and/or subtask 3 techniques.

    Parameters
    ----------
    articles
        The folder of ``article<ID>.txt`` files (other files are ignored).
    frames
        The subtask 2 label file (``<ID><TAB>frame,frame``).
    techniques
        The subtask 3 label file (``<ID><TAB><line><TAB>technique,technique``).
    split, codebook
        As every importer's (see :mod:`framing.exchange.importers`).
    unlisted
        What a non-empty line of an article that has subtask 3 labels, but that the label
        file does not list, becomes: ``todo`` (not annotated; the default) or ``negative``
        (``done`` with no technique).

    Returns
    -------
    ImportResult
        Per article, a document record with its frames, then one record per non-empty
        line with its techniques.

    Raises
    ------
    AnnotationError
        Listing every malformed row as ``file:line: what (how to fix)``.

    Examples
    --------
    >>> import pathlib, tempfile
    >>> root = pathlib.Path(tempfile.mkdtemp())
    >>> _ = (root / "article7.txt").write_text("Title\\n\\nPrices soar.\\n")
    >>> _ = (root / "frames.txt").write_text("7\\tEconomic\\n")
    >>> semeval2023(root, root / "frames.txt").records[0].labels
    {'frames': ('Economic',)}
    """
    split = check_split(split)
    if unlisted not in ("todo", "negative"):
        raise UsageError(f"unlisted must be 'todo' or 'negative', got '{unlisted}'")
    folder = require_dir(articles, "articles")
    problems = RowProblems()
    texts = read_articles(folder, problems, "the SemEval-2023 articles", unify_line_ends=True)

    def known(path: Path, number: int, ident: str) -> bool:
        if ident in texts:
            return True
        close = did_you_mean(ident, texts)
        problems.add(
            path,
            number,
            f"article '{ident}' has no file article{ident}.txt in {folder}",
            f"did you mean '{close}'?" if close else "check the id and the folder",
        )
        return False

    repeated = 0
    frame_labels: dict[str, tuple[str, ...]] = {}
    if frames is not None:
        path = require_file(frames, "subtask 2 label file")
        first: dict[str, int] = {}
        for number, line in iter_lines(path, problems):
            fields = line.split("\t")
            if len(fields) == 1:
                fields.append("")
            if len(fields) != 2:
                problems.add(
                    path,
                    number,
                    f"expected 2 tab-separated fields (article id, frames), got {len(fields)}",
                    "join the frames with ',' in the second field",
                )
                continue
            ident = fields[0].strip()
            if ident in first:
                problems.add(
                    path, number, f"article '{ident}' listed twice (first at line {first[ident]})"
                )
                continue
            first[ident] = number
            if known(path, number, ident):
                frame_labels[ident], dropped = unique(split_labels(fields[1], ","))
                repeated += dropped

    technique_labels: dict[tuple[str, int], tuple[str, ...]] = {}
    if techniques is not None:
        path = require_file(techniques, "subtask 3 label file")
        seen: dict[tuple[str, int], int] = {}
        lines_of = {i: text.removesuffix("\n").split("\n") for i, (_, text) in texts.items()}
        for number, line in iter_lines(path, problems):
            fields = line.split("\t")
            if len(fields) == 2:
                fields.append("")
            if len(fields) != 3:
                problems.add(
                    path,
                    number,
                    f"expected 3 tab-separated fields (article id, paragraph, techniques), "
                    f"got {len(fields)}",
                    "join the techniques with ',' in the third field",
                )
                continue
            ident, raw_line = fields[0].strip(), fields[1].strip()
            if not raw_line.isdigit() or int(raw_line) < 1:
                problems.add(
                    path,
                    number,
                    f"paragraph '{raw_line}' is not a line number",
                    "give the article line, counted from 1",
                )
                continue
            key = (ident, int(raw_line))
            if key in seen:
                problems.add(
                    path,
                    number,
                    f"paragraph {key[1]} of article '{ident}' listed twice "
                    f"(first at line {seen[key]})",
                )
                continue
            seen[key] = number
            if not known(path, number, ident):
                continue
            items, dropped = unique(split_labels(fields[2], ","))
            repeated += dropped
            article_lines = lines_of[ident]
            if key[1] > len(article_lines):
                problems.add(
                    path,
                    number,
                    f"article '{ident}' has {len(article_lines)} lines, not {key[1]}",
                    "paragraphs are the lines of the article file, counted from 1",
                )
                continue
            if not article_lines[key[1] - 1].strip():
                if items:
                    problems.add(
                        path,
                        number,
                        f"line {key[1]} of article '{ident}' is empty but has techniques",
                        "check the line numbering (empty lines count)",
                    )
                continue
            technique_labels[key] = items
    problems.raise_if_any("the SemEval-2023 labels")

    with_techniques = {ident for ident, _ in technique_labels}
    records: list[Sentence | Document] = []
    for ident in sorted(texts, key=lambda i: (len(i), i)):
        file, text = texts[ident]
        first_line = text.split("\n", 1)[0].strip()
        doc = Document(
            doc_id=ident,
            title=first_line or None,
            text=text,
            status="done" if ident in frame_labels else "todo",
            labels={"frames": frame_labels[ident]} if ident in frame_labels else {},
            meta={"source": file.name},
            source=(str(file), 1),
        )
        records.append(doc)
        for number, start, end in line_spans(text):
            labels = technique_labels.get((ident, number))
            if labels is not None:
                status = "done"
            elif ident in with_techniques and unlisted == "negative":
                status, labels = "done", ()
            else:
                status = "todo"
            records.append(
                Sentence(
                    id=f"{ident}-p{number:03d}",
                    doc_id=ident,
                    text=text[start:end],
                    labels={"techniques": labels} if labels else {},
                    status=status,
                    sent_index=number,
                    start=start,
                    end=end,
                    source=(str(file), number),
                )
            )

    dimensions = [d for d, f in (("frames", frames), ("techniques", techniques)) if f is not None]
    codebook = finish(
        records,
        name="semeval2023-task3",
        dimensions=dimensions,
        description="SemEval-2023 Task 3: frames (subtask 2), persuasion techniques (subtask 3).",
        split=split,
        document_dimensions=["frames"],
        codebook=codebook,
    )
    result = ImportResult(records=records, codebook=codebook)
    result.counts = {
        "documents": result.documents,
        "documents with frames": len(frame_labels),
        "paragraphs": result.sentences,
        "paragraphs with technique labels": sum(
            1 for r in records if isinstance(r, Sentence) and r.status == "done"
        ),
        **label_counts(codebook),
        "repeated labels dropped": repeated,
    }
    return result


IMPORTER = Importer(
    name="semeval2023",
    help="Import SemEval-2023 Task 3 articles with frames and/or persuasion techniques.\n\n"
    "Example: framing import semeval2023 en/articles --frames en/labels-subtask-2.txt "
    "-o en.jsonl",
    params=(
        Param(
            "articles",
            "Folder of the article<ID>.txt files.",
            kind=Path,
            default=REQUIRED,
            file_okay=False,
        ),
        Param(
            "frames", "Subtask 2 labels: <ID><TAB>frame,frame.", ("--frames",), Path, dir_okay=False
        ),
        Param(
            "techniques",
            "Subtask 3 labels: <ID><TAB><line><TAB>technique,technique.",
            ("--techniques",),
            Path,
            dir_okay=False,
        ),
        Param(
            "unlisted",
            "Lines the subtask 3 file does not list: todo, or negative (done, no technique).",
            ("--unlisted",),
            default="todo",
            choices=("todo", "negative"),
        ),
    ),
    run=semeval2023,
    crosswalk=True,
)

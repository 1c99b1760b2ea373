"""The FrAC gold sentences (``sentence,label`` CSV) into the annotation format.

FrAC (Guida et al. 2025) labels each sentence with one frame, as a Media Frames Corpus
code.  Codes become frame names (the FrAC README's list, where some frames are merged),
in a single-label dimension ``frames``; the file has no document information, so every
row is its own document.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

from framing.exchange.importers import ImportResult
from framing.exchange.importers.labels import check_split, finish, label_counts
from framing.exchange.importers.problems import RowProblems
from framing.exchange.importers.reading import read_text, require_file
from framing.exchange.registry import REQUIRED, Importer, Param
from framing.format.annotations import Document, Sentence
from framing.format.codebook import Codebook

__all__ = ["frac", "FRAMES"]

#: Media Frames Corpus codes and the frame names FrAC uses for them.  FrAC merges
#: legality with crime (5) and policy with politics (6); the codes it does not use
#: (2, 7, 10, 13, 14) keep their Media Frames Corpus names.
FRAMES = {
    1: "Economic",
    2: "Capacity and resources",
    3: "Morality",
    4: "Fairness and equality",
    5: "Legality and crime",
    6: "Political and policies",
    7: "Crime and punishment",
    8: "Security and defense",
    9: "Health and safety",
    10: "Quality of life",
    11: "Cultural identity",
    12: "Public opinion",
    13: "Political",
    14: "External regulation and reputation",
    15: "Other",
}


def frac(
    path: str | Path, *, split: str | None = None, codebook: Codebook | None = None
) -> ImportResult:
    """Import the FrAC gold CSV as single-label sentence records.

    Parameters
    ----------
    path
        The CSV file with a ``sentence,label`` header; labels are codes 1 to 15.
    split, codebook
        As every importer's (see :mod:`framing.exchange.importers`);
        without a split, the records are for cross-validation.

    Returns
    -------
    ImportResult
        One ``done`` sentence per row (ids ``frac-0001``, ..., each its own document)
        with exactly one label in ``frames``.

    Raises
    ------
    AnnotationError
        Listing every malformed row as ``file:line: what (how to fix)``.

    Examples
    --------
    >>> import pathlib, tempfile
    >>> f = pathlib.Path(tempfile.mkdtemp()) / "frac.csv"
    >>> _ = f.write_text('sentence,label\\n"Taxes rose, again.",1\\n')
    >>> frac(f).records[0].labels
    {'frames': ('Economic',)}
    """
    split = check_split(split)
    path = require_file(path, "FrAC CSV file")
    problems = RowProblems()
    text = read_text(path, problems)
    problems.raise_if_any(str(path))
    assert text is not None
    reader = csv.reader(io.StringIO(text, newline=""))
    records: list[Sentence | Document] = []
    header = next(reader, None)
    columns = [c.strip().lower() for c in header] if header else []
    if "sentence" not in columns or "label" not in columns:
        problems.add(
            path, 1, f"header must name the columns 'sentence' and 'label', got {header!r}"
        )
        problems.raise_if_any(str(path))
    text_col, label_col = columns.index("sentence"), columns.index("label")
    row_number = 0
    line = reader.line_num + 1
    for row in reader:
        start_line, line = line, reader.line_num + 1
        if not any(cell.strip() for cell in row):
            continue
        row_number += 1
        if len(row) != len(columns):
            problems.add(
                path,
                start_line,
                f"expected {len(columns)} columns, got {len(row)}",
                "quote a sentence that contains commas",
            )
            continue
        sentence, code = row[text_col], row[label_col].strip()
        if not sentence.strip():
            problems.add(path, start_line, "empty sentence", "remove the row")
            continue
        if not code.isdigit() or int(code) not in FRAMES:
            problems.add(
                path,
                start_line,
                f"label '{code}' is not a frame code",
                "use a Media Frames Corpus code from 1 to 15",
            )
            continue
        ident = f"frac-{row_number:04d}"
        records.append(
            Sentence(
                id=ident,
                doc_id=ident,
                text=sentence,
                labels={"frames": (FRAMES[int(code)],)},
                meta={"frac_code": int(code)},
                source=(str(path), start_line),
            )
        )
    problems.raise_if_any(f"the FrAC file {path}")
    codebook = finish(
        records,
        name="frac",
        dimensions=["frames"],
        description="Media Frames Corpus frames as used by FrAC (Guida et al. 2025).",
        split=split,
        codebook=codebook,
    )
    result = ImportResult(records=records, codebook=codebook)
    result.counts = {"sentences": result.sentences, **label_counts(codebook)}
    return result


IMPORTER = Importer(
    name="frac",
    help="Import the FrAC gold sentences as single-label frame records.\n\n"
    "Example: framing import frac ../shared/benchmarks/frac/frac_gold_sentences.csv "
    "-o frac.jsonl",
    params=(
        Param(
            "path", "The FrAC CSV (sentence,label).", kind=Path, default=REQUIRED, dir_okay=False
        ),
    ),
    run=frac,
)

"""Inter-annotator agreement: Krippendorff's alpha, Cohen's kappa, observed agreement.

Each annotator's work is one annotation file (the annotator is named by the
records' ``annotator`` field when the whole file has one, else by the file name).
Records are matched by ``id``.  Only ``done`` sentences are codings: a record that
is missing from a file, or is ``todo`` or ``skip`` there, is a *missing coding*,
which Krippendorff's alpha allows.

Per label, the coding is a binary variable (the label is given or not) and gets
Krippendorff's alpha (nominal), Cohen's kappa (with exactly two annotators) and the
observed agreement.  Per dimension, the whole label set is compared with a
set-based alpha under the MASI and the Jaccard distances (Passonneau 2006).

Alpha is computed from the coincidence matrix as in Krippendorff, "Computing
Krippendorff's Alpha-Reliability" (2011)::

    alpha = 1 - (n - 1) * sum_ck o_ck * d_ck / sum_ck n_c * n_k * d_ck

It is undefined (``None``) when the codings show no variation at all, e.g. a label
nobody used.  Pure numpy and the standard library.  The coefficients are in
:mod:`framing.loop.coefficients` (their names are importable from here too).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from framing.errors import AnnotationError, UsageError
from framing.format.annotations import Document, Sentence, collect_files, read_corpus
from framing.format.codebook import Codebook
from framing.format.text import clip
from framing.loop.coefficients import (
    cohen_kappa,
    jaccard_distance,
    krippendorff_alpha,
    masi_distance,
    observed_agreement,
)

__all__ = [
    "AgreementReport",
    "Annotator",
    "agree",
    "cohen_kappa",
    "jaccard_distance",
    "krippendorff_alpha",
    "masi_distance",
    "observed_agreement",
    "read_annotators",
]

#: Krippendorff's rule of thumb: alpha >= 0.800 is reliable, >= 0.667 allows tentative conclusions.
RELIABLE_ALPHA = 0.800
TENTATIVE_ALPHA = 0.667


# --------------------------------------------------------------------------- annotators


@dataclass
class Annotator:
    """One annotator's file: records by id, in file order."""

    name: str
    path: str
    sentences: dict[str, Sentence]
    documents: dict[str, Document] = field(default_factory=dict)

    def coding(self, record_id: str) -> Sentence | None:
        """The sentence if this annotator finished it (status ``done``), else None."""
        sentence = self.sentences.get(record_id)
        return sentence if sentence is not None and sentence.status == "done" else None


def read_annotators(
    paths: Sequence[str | Path], codebook: Codebook | None = None
) -> list[Annotator]:
    """Read one annotation file per annotator, validating each.

    An annotator is named by the ``annotator`` field when every sentence of the
    file that has one gives the same name, else by the file name without
    ``.jsonl``.  Two files with the same name are told apart by their file names.

    Raises
    ------
    UsageError
        Fewer than two files, or a folder (each annotator is one file).
    AnnotationError
        A file is invalid, or one id has a different text in two files.
    """
    files = collect_files(paths)
    if any(Path(p).is_dir() for p in paths):
        raise UsageError("give one JSONL file per annotator, not a folder")
    if len(files) < 2:
        raise UsageError(f"need the files of at least two annotators, got {len(files)}")
    if len({str(f.resolve()) for f in files}) != len(files):
        raise UsageError("the same file was given twice; give one file per annotator")
    annotators: list[Annotator] = []
    for path in files:
        corpus = read_corpus([path], codebook)
        names = {s.annotator for s in corpus.sentences if s.annotator}
        name = names.pop() if len(names) == 1 else path.stem
        annotators.append(
            Annotator(
                name=name,
                path=str(path),
                sentences={s.id: s for s in corpus.sentences},
                documents=dict(corpus.documents),
            )
        )
    taken = [a.name for a in annotators]
    for annotator in annotators:
        if taken.count(annotator.name) > 1:
            annotator.name = f"{annotator.name}@{Path(annotator.path).name}"
    _check_same_texts(annotators)
    return annotators


def _check_same_texts(annotators: Sequence[Annotator]) -> None:
    first: dict[str, tuple[Sentence, Annotator]] = {}
    problems = []
    for annotator in annotators:
        for sid, sentence in annotator.sentences.items():
            seen = first.setdefault(sid, (sentence, annotator))
            other, where = seen
            if other.text != sentence.text or other.doc_id != sentence.doc_id:
                what = "text" if other.text != sentence.text else "doc_id"
                line = sentence.source[1] if sentence.source else "?"
                first_line = other.source[1] if other.source else "?"
                problems.append(
                    f"{annotator.path}:{line}: id '{sid}' has another {what} than in "
                    f"{where.path}:{first_line}; records are matched by id, so both files "
                    "must hold the same sentence under the same id"
                )
    if problems:
        shown = "\n".join(problems[:10])
        more = f"\n... and {len(problems) - 10} more" if len(problems) > 10 else ""
        raise AnnotationError(f"{shown}{more}")


def record_order(annotators: Sequence[Annotator]) -> list[str]:
    """Sentence ids in order of first appearance across the files."""
    order: dict[str, None] = {}
    for annotator in annotators:
        for sid in annotator.sentences:
            order.setdefault(sid, None)
    return list(order)


def dimension_labels(
    annotators: Sequence[Annotator], codebook: Codebook | None
) -> dict[str, tuple[str, ...]]:
    """Label ids per dimension: the codebook's, or those the files use."""
    if codebook is not None:
        return {d.id: d.label_ids for d in codebook.dimensions}
    found: dict[str, set[str]] = {}
    for annotator in annotators:
        for sentence in annotator.sentences.values():
            for dim, labels in sentence.labels.items():
                found.setdefault(dim, set()).update(labels)
    return {dim: tuple(sorted(labels)) for dim, labels in sorted(found.items())}


def differing(codings: Mapping[str, Sentence], dimensions: Iterable[str]) -> list[str]:
    """Dimensions (and ``"status"``) on which finished codings of one record differ."""
    decided = [s for s in codings.values() if s.status in ("done", "skip")]
    if len(decided) < 2:
        return []
    if len({s.status for s in decided}) > 1:
        return ["status"]
    if decided[0].status == "skip":
        return []
    return [
        dim for dim in dimensions if len({frozenset(s.labels.get(dim, ())) for s in decided}) > 1
    ]


# --------------------------------------------------------------------------- report


@dataclass
class LabelAgreement:
    """Agreement on one label coded as a binary variable."""

    label: str
    krippendorff_alpha: float | None
    cohen_kappa: float | None
    observed_agreement: float | None
    n_units: int
    positives: dict[str, int]

    def to_dict(self, with_kappa: bool) -> dict[str, Any]:
        data: dict[str, Any] = {"krippendorff_alpha": _round(self.krippendorff_alpha)}
        if with_kappa:
            data["cohen_kappa"] = _round(self.cohen_kappa)
        data["observed_agreement"] = _round(self.observed_agreement)
        data["n_units"] = self.n_units
        data["positives"] = self.positives
        return data


@dataclass
class DimensionAgreement:
    """Agreement on one dimension: per label, and on the label set as a whole."""

    dimension: str
    labels: list[LabelAgreement]
    set_alpha_masi: float | None
    set_alpha_jaccard: float | None
    n_units: int

    def to_dict(self, with_kappa: bool) -> dict[str, Any]:
        return {
            "labels": {la.label: la.to_dict(with_kappa) for la in self.labels},
            "set_alpha_masi": _round(self.set_alpha_masi),
            "set_alpha_jaccard": _round(self.set_alpha_jaccard),
            "n_units": self.n_units,
        }


@dataclass
class Disagreement:
    """A record on which annotators differ, with what each of them said."""

    id: str
    text: str
    dimensions: list[str]
    #: annotator -> {dimension: labels} (plus ``status`` when it is ``skip``); None if not coded.
    annotations: dict[str, dict[str, Any] | None]

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "text": self.text,
            "dimensions": self.dimensions,
            "annotations": self.annotations,
        }


@dataclass
class AgreementReport:
    """What :func:`agree` found; ``to_dict()`` for JSON, ``to_text()`` for the terminal."""

    annotators: list[str]
    files: list[str]
    records: int
    dimensions: list[DimensionAgreement]
    disagreements: list[Disagreement]

    def to_dict(self) -> dict[str, Any]:
        two = len(self.annotators) == 2
        return {
            "annotators": self.annotators,
            "files": self.files,
            "records": self.records,
            "dimensions": {d.dimension: d.to_dict(two) for d in self.dimensions},
            "disagreements": [d.to_dict() for d in self.disagreements],
        }

    def to_text(self, max_disagreements: int | None = 20) -> str:
        """A readable table of the figures, then the disagreements."""
        two = len(self.annotators) == 2
        coded = max((d.n_units for d in self.dimensions), default=0)
        lines = [
            f"annotators: {', '.join(self.annotators)}",
            f"records: {self.records} ({coded} coded by two or more)",
        ]
        header = f"  {'label':<28} {'alpha':>7}" + (f" {'kappa':>7}" if two else "")
        header += f" {'agree':>7} {'units':>6}  positives ({' / '.join(self.annotators)})"
        for dim in self.dimensions:
            lines += ["", f"{dim.dimension}", header]
            for la in dim.labels:
                row = f"  {la.label:<28} {_fmt(la.krippendorff_alpha):>7}"
                if two:
                    row += f" {_fmt(la.cohen_kappa):>7}"
                row += f" {_fmt(la.observed_agreement):>7} {la.n_units:>6}  "
                row += " / ".join(f"{n}" for n in la.positives.values())
                lines.append(row)
            lines.append(
                f"  label set as a whole: alpha (MASI) {_fmt(dim.set_alpha_masi)}, "
                f"alpha (Jaccard) {_fmt(dim.set_alpha_jaccard)}"
            )
        lines += [
            "",
            f"alpha >= {RELIABLE_ALPHA:.3f} is reliable, >= {TENTATIVE_ALPHA:.3f} tentative "
            "(Krippendorff); n/a: undefined (no variation); agree: observed agreement",
            "",
            f"disagreements: {len(self.disagreements)}",
        ]
        shown = self.disagreements
        if max_disagreements is not None:
            shown = shown[:max_disagreements]
        width = max((len(a) for a in self.annotators), default=0)
        for dis in shown:
            lines.append(f"  {dis.id} [{', '.join(dis.dimensions)}]: {clip(dis.text, 70)}")
            for name, coding in dis.annotations.items():
                if coding is None:
                    said = "(not coded)"
                elif coding.get("status") == "skip":
                    said = "skip"
                else:
                    said = "; ".join(
                        f"{dim}: {', '.join(labels) or '-'}" for dim, labels in coding.items()
                    )
                lines.append(f"    {name:<{width}}  {said}")
        if len(shown) < len(self.disagreements):
            lines.append(
                f"  ... and {len(self.disagreements) - len(shown)} more (--format json lists all)"
            )
        return "\n".join(lines)


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 4)


def _fmt(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.3f}"


def coding_dict(sentence: Sentence | None, dimensions: Iterable[str]) -> dict[str, Any] | None:
    """What one annotator said about a record: labels per dimension, or the skip status."""
    if sentence is None or sentence.status == "todo":
        return None
    if sentence.status == "skip":
        return {"status": "skip"}
    return {dim: list(sentence.labels.get(dim, ())) for dim in dimensions}


def agree(paths: Sequence[str | Path], codebook: Codebook | None = None) -> AgreementReport:
    """Measure agreement between annotators, one file each.

    Parameters
    ----------
    paths
        Two or more JSONL files, one per annotator; records are matched by ``id``.
    codebook
        When given, the files are validated against it and every label of it is
        reported (an unused label has an undefined alpha); otherwise dimensions and
        labels are those the files use.

    Returns
    -------
    AgreementReport

    Raises
    ------
    UsageError, AnnotationError, InputNotFoundError

    Examples
    --------
    >>> import pathlib, tempfile
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> rec = '{{"id": "s{0}", "doc_id": "d", "text": "t{0}", "frames": {1}}}'
    >>> _ = (d / "a.jsonl").write_text("\\n".join(
    ...     rec.format(i, '["x"]' if i % 2 else "[]") for i in range(6)) + "\\n")
    >>> _ = (d / "b.jsonl").write_text("\\n".join(
    ...     rec.format(i, '["x"]' if i % 3 else "[]") for i in range(6)) + "\\n")
    >>> report = agree([d / "a.jsonl", d / "b.jsonl"])
    >>> report.to_dict()["dimensions"]["frames"]["labels"]["x"]["observed_agreement"]
    0.5
    """
    annotators = read_annotators(paths, codebook)
    dims = dimension_labels(annotators, codebook)
    ids = record_order(annotators)
    results = []
    for dim, labels in dims.items():
        sets = [
            [
                frozenset(c.labels.get(dim, ())) if (c := a.coding(sid)) is not None else None
                for sid in ids
            ]
            for a in annotators
        ]
        n_units = sum(1 for u in range(len(ids)) if sum(row[u] is not None for row in sets) >= 2)
        per_label = []
        for label in labels:
            data = [[None if s is None else int(label in s) for s in row] for row in sets]
            per_label.append(
                LabelAgreement(
                    label=label,
                    krippendorff_alpha=krippendorff_alpha(data),
                    cohen_kappa=cohen_kappa(data[0], data[1]) if len(data) == 2 else None,
                    observed_agreement=observed_agreement(data),
                    n_units=n_units,
                    positives={
                        a.name: sum(1 for v in row if v)
                        for a, row in zip(annotators, data, strict=True)
                    },
                )
            )
        results.append(
            DimensionAgreement(
                dimension=dim,
                labels=per_label,
                set_alpha_masi=krippendorff_alpha(sets, masi_distance),
                set_alpha_jaccard=krippendorff_alpha(sets, jaccard_distance),
                n_units=n_units,
            )
        )
    disagreements = []
    for sid in ids:
        codings = {a.name: a.sentences[sid] for a in annotators if sid in a.sentences}
        which = differing(codings, dims)
        if not which:
            continue
        text = next(iter(codings.values())).text
        disagreements.append(
            Disagreement(
                id=sid,
                text=text,
                dimensions=which,
                annotations={a.name: coding_dict(a.sentences.get(sid), dims) for a in annotators},
            )
        )
    return AgreementReport(
        annotators=[a.name for a in annotators],
        files=[a.path for a in annotators],
        records=len(ids),
        dimensions=results,
        disagreements=disagreements,
    )

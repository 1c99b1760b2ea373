"""Score ``framing tag`` output against gold annotations by a shared task's rules.

``framing eval`` runs a model on annotated data.  A researcher who already has the
model's output (``tagged.jsonl``, from ``framing tag`` with any model level) and the gold
annotations (what ``framing import`` wrote from the task's files) gets the task figure
from :func:`score` without running the model again: the same rules
(:func:`framing.training.task_metrics.score_task`) on the same units:

* a **document** metric (``semeval2025``, ``semeval2023-frames``) compares each gold
  article's labels (its document record's, else the union of its ``done`` sentences')
  with the tagged article's (a document-level model's ``document`` labels, else the
  union of its sentences' labels);
* a **sentence** metric (``semeval2023-techniques``, ``ptc-sentence``) scores each
  ``done`` gold unit (a SemEval-2023 paragraph, a PTC line: a record with offsets into its
  document's text) with the union of the labels of the tagged sentences that overlap it
  (:mod:`framing.runtime.alignment`; the rule the SemEval-2023 subtask 3 exporter
  writes), so it needs a sentence-level model's output and gold documents with text.

Tagged and gold articles are matched by document id: the tagged ``doc_id``, or the
task's id in it (``article1001``, from the file ``article1001.txt``, is ``1001``).  Every
gold article the metric scores (a ``done`` document record with the task's dimensions, as
``framing eval`` takes them; an article with ``done`` units) must be tagged, and every
tagged article must be an article of the gold: either kind of mismatch is an error naming
the ids.  A tagged article the gold has but the metric does not score is left out.

What differs from ``framing eval`` on the same data: eval scores each gold unit's own
text, tag output scores the sentences tag split the article into; a unit that is one
sentence gets the same labels either way.  Tag output of a sentence-level model does not
re-apply the codebook's label structure to an article's union of sentence labels (eval
does, knowing the model).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from framing.training.task_metrics import TaskScore, score_task, task_metric

from framing.errors import AnnotationError, UsageError
from framing.format.annotations import Corpus, Document, Sentence, read_corpus
from framing.format.codebook import Codebook
from framing.format.records import document_labels
from framing.runtime.alignment import ArticleRecords, group_articles, labels_over, sentence_spans
from framing.runtime.results import is_tagged_file
from framing.runtime.tagged_records import tagged_records

__all__ = ["ScoreReport", "score"]

LabelSets = list[frozenset[str]]


@dataclass
class ScoreReport:
    """What :func:`score` returns: the task figures, and what they were measured on."""

    tagged: list[str]
    gold: list[str]
    articles: int
    tasks: dict[str, TaskScore] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "tagged": self.tagged,
            "gold": self.gold,
            "articles": self.articles,
            "task_metrics": {name: s.to_dict() for name, s in self.tasks.items()},
        }

    def lines(self) -> list[str]:
        """The figures, one line per metric and dimension, then what they were measured on."""
        out = [line for s in self.tasks.values() for line in s.lines()]
        out.append(
            f"tag output {', '.join(self.tagged)} scored against {', '.join(self.gold)} "
            f"({self.articles} articles)"
        )
        return out


def score(
    tagged: Sequence[str | Path],
    gold: Sequence[str | Path],
    metrics: Sequence[str],
    codebook: Codebook | None = None,
) -> ScoreReport:
    """Score tag output against gold annotations by shared tasks' official rules.

    Parameters
    ----------
    tagged
        Files that ``framing tag`` wrote (JSONL).
    gold
        Annotation files or folders with the gold labels (what ``framing import``
        wrote from the task's files).
    metrics
        Names of :data:`framing.training.task_metrics.TASK_METRICS`.
    codebook
        Gives each dimension's class list (labels outside it are ignored, as the task
        scorers ignore labels outside the task's list); None: the labels found in the
        gold and the tag output.

    Returns
    -------
    ScoreReport

    Raises
    ------
    UsageError
        An unknown metric, a file that is not tag output, a sentence metric on a
        document-level model's output.
    AnnotationError
        Gold articles that were not tagged, tagged articles not in the gold (both
        named), a gold unit without offsets or document text.
    """
    if not metrics:
        raise UsageError("give at least one --metric")
    for name in metrics:
        task_metric(name)
    records: list[Sentence | Document] = []
    for path in tagged:
        if not is_tagged_file(path):
            raise UsageError(
                f"{path}: not 'framing tag' output (JSONL of tagged articles); give the "
                "file 'framing tag -o tagged.jsonl' wrote first, then the gold files"
            )
        records.extend(tagged_records(Path(path)))
    corpus = read_corpus(gold)
    predicted = group_articles(records)
    report = ScoreReport(
        tagged=[str(p) for p in tagged], gold=[str(p) for p in gold], articles=len(predicted)
    )
    for name in metrics:
        metric = task_metric(name)
        dims = list(metric.dimensions)
        if metric.level == "document":
            gold_docs = _gold_documents(corpus, dims)
            matched = _match(predicted, list(gold_docs), corpus, gold)
            pred_docs = document_labels([r for a in matched.values() for r in _records(a)], dims)
            data = {}
            for dim in dims:
                g = [frozenset(gold_docs[d][dim]) for d in matched]
                p = [frozenset(pred_docs.get(a.doc_id, {}).get(dim, ())) for a in matched.values()]
                data[dim] = (g, p, _classes(codebook, dim, g, p))
        else:
            units = _gold_units(corpus, dims)
            matched = _match(predicted, list(units), corpus, gold)
            data = _unit_sets(corpus, units, matched, dims, codebook)
        report.tasks[name] = score_task(name, data)
    return report


def _records(article: ArticleRecords) -> list[Sentence | Document]:
    return [*([article.document] if article.document else []), *article.sentences]


def _gold_documents(corpus: Corpus, dims: list[str]) -> dict[str, dict[str, tuple[str, ...]]]:
    """The gold articles a document metric scores, in order, with their labels: every
    ``done`` document record with one of ``dims`` (as ``framing eval`` takes them), and,
    for a document without a record, the union of its ``done`` sentences' labels."""
    out: dict[str, dict[str, tuple[str, ...]]] = {}
    for doc in corpus.documents.values():
        if doc.status == "done" and any(d in doc.labels for d in dims):
            out[doc.doc_id] = {d: doc.labels.get(d, ()) for d in dims}
    loose = [s for s in corpus.sentences if s.doc_id not in corpus.documents]
    for doc_id, labels in document_labels(loose, dims).items():
        out.setdefault(doc_id, labels)
    return out


def _gold_units(corpus: Corpus, dims: list[str]) -> dict[str, list[Sentence]]:
    """The ``done`` gold units (sentence records with one of ``dims``) per document."""
    units: dict[str, list[Sentence]] = {}
    for sentence in corpus.sentences:
        if sentence.status == "done" and any(d in sentence.labels for d in dims):
            units.setdefault(sentence.doc_id, []).append(sentence)
    return units


def _match(
    predicted: dict[str, ArticleRecords],
    needed: list[str],
    corpus: Corpus,
    gold: Sequence[str | Path],
) -> dict[str, ArticleRecords]:
    """Gold doc id -> its tagged article, for the ``needed`` gold articles in order.

    Every needed article must be tagged, and every tagged article must be an article of
    the gold (one the gold has but the metric does not score, e.g. not annotated, is left
    out)."""
    known = {*corpus.documents, *(s.doc_id for s in corpus.sentences)}
    by_id: dict[str, ArticleRecords] = {}
    extra = []
    for ident, article in predicted.items():
        found = next((c for c in (article.doc_id, ident) if c in known), None)
        if found is None:
            extra.append(article.doc_id)
        else:
            by_id[found] = article
    missing = [d for d in needed if d not in by_id]
    problems = []
    if missing:
        problems.append(
            f"{len(missing)} gold article(s) not in the tag output: {_some(missing)} (tag "
            "every article of the gold, e.g. the task's article folder)"
        )
    if extra:
        problems.append(
            f"{len(extra)} tagged article(s) not in the gold ({', '.join(map(str, gold))}): "
            f"{_some(extra)} (tag only the gold's articles, or give their gold)"
        )
    if problems:
        raise AnnotationError("; ".join(problems))
    return {d: by_id[d] for d in needed}


def _some(ids: list[str]) -> str:
    shown = ", ".join(f"'{i}'" for i in sorted(ids)[:10])
    return shown + (f" and {len(ids) - 10} more" if len(ids) > 10 else "")


def _classes(codebook: Codebook | None, dim: str, *sets: LabelSets) -> list[str]:
    if codebook is not None and dim in {d.id for d in codebook.dimensions}:
        return list(codebook.dimension(dim).label_ids)
    return sorted({label for group in sets for s in group for label in s})


def _unit_sets(
    corpus: Corpus,
    units: dict[str, list[Sentence]],
    matched: dict[str, ArticleRecords],
    dims: list[str],
    codebook: Codebook | None,
) -> dict[str, tuple[LabelSets, LabelSets, list[str]]]:
    """Gold and predicted label sets of every ``done`` gold unit, per dimension."""
    gold_sets: dict[str, LabelSets] = {d: [] for d in dims}
    pred_sets: dict[str, LabelSets] = {d: [] for d in dims}
    for doc_id, article in matched.items():
        if article.level == "document":
            raise UsageError(
                f"article '{article.doc_id}' was tagged by a document-level model; a "
                "sentence metric needs the tag output of a sentence-level model"
            )
        document = corpus.documents.get(doc_id)
        if document is None or not document.text:
            raise AnnotationError(
                f"gold article '{doc_id}' has no document record with its text; import the "
                "task's files with 'framing import' (it keeps the article text)"
            )
        where = f"tag output of '{article.doc_id}' against gold '{doc_id}'"
        spans = sentence_spans(document.text, article.sentences, where, tagged=article.tagged)
        for unit in units[doc_id]:
            if unit.start is None or unit.end is None:
                raise AnnotationError(
                    f"gold record '{unit.id}' has no offsets into its document; a sentence "
                    "metric needs them"
                )
            for dim in dims:
                gold_sets[dim].append(frozenset(unit.labels.get(dim, ())))
                pred_sets[dim].append(frozenset(labels_over((unit.start, unit.end), spans, dim)))
    return {
        dim: (
            gold_sets[dim],
            pred_sets[dim],
            _classes(codebook, dim, gold_sets[dim], pred_sets[dim]),
        )
        for dim in dims
    }

"""Tagging: sentences with labels and scores, articles with a profile and evidence.

Everything here goes through one batch function (:func:`tag_batch`), so tagging an
article alone, in a batch (:func:`tag_many`) or from files (:func:`tag`) gives the
same result.  Scores become labels by :func:`framing.runtime.labels.label_masks`.
Results are :mod:`framing.runtime.results`; :mod:`framing.output` writes them.

The model is only used through its attributes: this module never imports
:mod:`framing.runtime.model` (which imports this one for ``Model.tag``).

The module is over 500 lines because the batch path (scores, labels, profiles, hit
arrays) is one piece that changes together; input reading, results, output and the
context stage are modules of their own.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Iterator, Mapping, Sequence
from itertools import repeat
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, cast

from framing.errors import UsageError
from framing.runtime.documents import check_document_options
from framing.runtime.inputs import (
    ArticleInput,
    InputFailure,
    InputItem,
    article_batches,
    crashed_inputs,
    input_batches,
)
from framing.runtime.labels import label_masks, threshold_vector
from framing.runtime.profiles import build_profiles, profile_stats, sentence_hits
from framing.runtime.results import LabelScore, TaggedArticle, TaggedSentence
from framing.runtime.segment import split_sentences

if TYPE_CHECKING:
    import numpy as np

    from framing.runtime.context import Layout
    from framing.runtime.model import Model
    from framing.runtime.ood import OutOfDistribution

__all__ = [
    "DEFAULT_BATCH_SIZE",
    "Labeler",
    "tag_text",
    "tag_many",
    "predict_sentences",
    "tag",
    "tag_batch",
    "split_articles",
    "headline",
    "score_batch",
    "score_articles",
    "hit_arrays",
]

#: Sentences scored together; larger batches amortise numpy calls, smaller ones memory.
DEFAULT_BATCH_SIZE = 4096


class Labeler:
    """A model's labels, thresholds and identity, set up once per call to label scores."""

    def __init__(self, model: Model) -> None:
        meta = model.meta
        self.dims = list(model.dimensions)
        self.labels = {dim: list(ids) for dim, ids in meta.labels.items()}
        self.thresholds = {
            dim: threshold_vector(self.labels[dim], meta.thresholds[dim]) for dim in self.dims
        }
        self.multi_label = dict(meta.multi_label)
        self.calibration = model.calibration
        self.calibration_unit = model.calibration_unit
        self.meta = meta
        self.model_info = {
            "name": model.name,
            "version": meta.version,
            "codebook": model.codebook.name,
            "codebook_version": model.codebook.version,
            "level": model.level,
        }

    def masks(self, scores: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
        """Boolean ``(n, n_labels)`` per dimension: which labels are predicted
        (:func:`framing.runtime.labels.label_masks`: thresholds, then the label structure)."""
        return label_masks(scores, self.labels, self.meta)


def hit_arrays(p: np.ndarray, mask: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Rows, columns and scores of the hits in ``mask``, by row, then highest score first
    (:func:`framing.runtime.profiles.sentence_hits`)."""
    import numpy as np

    rows, cols = np.nonzero(mask)
    return sentence_hits(rows, cols, p[rows, cols])


def _label_lists(
    plan: Labeler, scores: Mapping[str, np.ndarray], n: int
) -> tuple[list[dict[str, tuple[LabelScore, ...]]], dict[str, np.ndarray]]:
    """Per sentence, labels above threshold sorted by score; and the hit masks.

    Built a dimension at a time from the batch's hits (:func:`hit_arrays`, grouped by
    sentence), not sentence by sentence."""
    from framing.runtime.arrays import runs

    template: dict[str, tuple[LabelScore, ...]] = dict.fromkeys(plan.dims, ())
    labels = list(map(dict.copy, repeat(template, n)))
    masks = plan.masks(scores)
    for dim in plan.dims:
        rows, cols, values = hit_arrays(scores[dim], masks[dim])
        names = plan.labels[dim]
        found = list(map(LabelScore, map(names.__getitem__, cols.tolist()), values.tolist()))
        for r, lo, hi in zip(*runs(rows), strict=True):
            labels[r][dim] = tuple(found[lo:hi])
    return labels, masks


def _all_scores(
    plan: Labeler, scores: Mapping[str, np.ndarray], n: int
) -> list[dict[str, dict[str, float]]]:
    out: list[dict[str, dict[str, float]]] = [{} for _ in range(n)]
    for dim in plan.dims:
        names = plan.labels[dim]
        for i, row in enumerate(scores[dim].tolist()):
            out[i][dim] = dict(zip(names, row, strict=True))
    return out


def score_batch(
    model: Model, texts: list[str], layout: Layout | None = None
) -> dict[str, np.ndarray]:
    """The model's scores of ``texts`` placed by ``layout`` (None: each alone)."""
    import numpy as np

    scores = model.predict_proba(texts, layout)
    return {dim: np.asarray(scores[dim], dtype=float) for dim in model.dimensions}


def score_articles(
    model: Model,
    articles: Sequence[tuple[str | None, str | None, str]],
    texts: list[str],
    starts: Sequence[int | None],
    ends: Sequence[int | None],
    bounds: Sequence[int],
) -> tuple[dict[str, np.ndarray], Sequence[OutOfDistribution | None]]:
    """Scores of the articles' sentences (:func:`split_articles`) and each article's
    out-of-distribution check, read from the words the scoring pass looked up when the
    model's scorer has a word table the check can follow (else checked apart, as when
    a title is sentence 0: the check is of the body, which does not hold the title).
    Each article is the context of its sentences, its title (sentence 0, without
    offsets) the headline."""
    import numpy as np

    from framing.runtime.context import Layout

    titled = None in starts
    # Without titles (the usual JSONL input) no row is a headline and every row has
    # offsets: neither needs a pass over the rows.
    headlines: Any = [s is None for s in starts] if titled else np.zeros(len(starts), bool)
    layout = Layout.from_bounds(bounds, headlines, texts)
    ood = model.ood
    if ood is None or not texts or titled or not ood.follow(model.scorer):
        return score_batch(model, texts, layout), ood_checks(model, articles)
    body_starts = cast("Sequence[int]", starts)  # untitled: no None among them
    body_ends = cast("Sequence[int]", ends)
    sink: list[Any] = []
    raw = model.scorer.predict_proba(texts, words=sink)  # type: ignore[call-arg]
    scores = model.in_context(raw, layout)
    bodies = [a[2] for a in articles]
    checks = ood.check_sentences(bodies, bounds, body_starts, body_ends, sink)
    if checks is None:
        checks = ood.check_many(bodies)
    return {dim: np.asarray(scores[dim], dtype=float) for dim in model.dimensions}, checks


def tag_sentences(
    plan: Labeler,
    model: Model,
    texts: list[str],
    starts: Sequence[int | None],
    ends: Sequence[int | None],
    indexes: Iterable[int],
    all_scores: bool,
    explain: bool = False,
    scores: dict[str, np.ndarray] | None = None,
) -> tuple[list[TaggedSentence], dict[str, np.ndarray], dict[str, np.ndarray]]:
    """The sentences ``texts`` labelled (scored here unless their ``scores`` are given)."""
    n = len(texts)
    if scores is None:
        scores = score_batch(model, texts)
    labels, masks = _label_lists(plan, scores, n)
    every: Iterable[Any] = _all_scores(plan, scores, n) if all_scores else repeat(None, n)
    why: Iterable[Any] = repeat(None, n)
    if explain:
        from framing.runtime.explain import explain_hits

        why = explain_hits(model, texts, scores, masks)
    probs: Iterable[Any] = repeat(None, n)
    if all_scores and plan.calibration is not None:
        cal, unit = plan.calibration, plan.calibration_unit
        calibrated = {
            dim: cal.apply(dim, scores[dim], plan.labels[dim], unit=unit) for dim in plan.dims
        }
        probs = _all_scores(plan, calibrated, n)
    out = list(map(TaggedSentence, indexes, texts, labels, starts, ends, every, why, probs))
    return out, scores, masks


def headline(title: str | None) -> str | None:
    """The text of an article's headline sentence: its title without edge whitespace,
    or None when there is no title (None, empty or blank)."""
    if title is None:
        return None
    return title.strip() or None


def split_articles(
    articles: Sequence[tuple[str | None, str | None, str]],
) -> tuple[list[str], list[int | None], list[int | None], list[int], list[int]]:
    """Sentence texts, starts, ends and indexes of articles, and each article's bounds.

    An article with a title gets it as sentence 0, before the body's sentences 1, 2, ...:
    the model was trained on headlines as sentences (``meta.part = "headline"`` in the
    corpus).  The title is not part of the body that offsets index, so its start and
    end are None.
    """
    texts: list[str] = []
    starts: list[int | None] = []
    ends: list[int | None] = []
    indexes: list[int] = []
    bounds = [0]
    for _, title, text in articles:
        head = headline(title)
        if head is not None:
            texts.append(head)
            starts.append(None)
            ends.append(None)
            indexes.append(0)
        found = split_sentences(text)
        starts.extend([s for s, _ in found])
        ends.extend([e for _, e in found])
        texts.extend([text[s:e] for s, e in found])
        indexes.extend(range(1, len(found) + 1))
        bounds.append(len(texts))
    return texts, starts, ends, indexes, bounds


def tag_batch(
    plan: Labeler,
    model: Model,
    articles: Sequence[tuple[str | None, str | None, str]],
    all_scores: bool,
    explain: bool = False,
) -> list[TaggedArticle]:
    """Tag articles ``(doc_id, title, text)`` together: one model call for all sentences
    (for a document-level model, one call for the articles: :mod:`framing.runtime.documents`)."""
    if model.level == "document":
        from framing.runtime.documents import tag_documents

        return tag_documents(plan, model, articles, all_scores, ood_checks(model, articles))
    texts, starts, ends, indexes, bounds = split_articles(articles)
    scores, checks = score_articles(model, articles, texts, starts, ends, bounds)
    sentences, scores, masks = tag_sentences(
        plan, model, texts, starts, ends, indexes, all_scores, explain, scores
    )
    stats = profile_stats(plan, scores, masks, bounds)
    profiles = build_profiles(plan, stats, sentences, len(articles))
    info = plan.model_info
    return [
        TaggedArticle(
            doc_id,
            title,
            text,
            sentences[bounds[k] : bounds[k + 1]],
            profiles[k],
            dict(info),
            out_of_distribution=checks[k],
        )
        for k, (doc_id, title, text) in enumerate(articles)
    ]


def ood_checks(
    model: Model, articles: Sequence[tuple[str | None, str | None, str]]
) -> Sequence[OutOfDistribution | None]:
    """Each article's out-of-distribution check (None each when the model has none)."""
    if model.ood is None:
        return [None] * len(articles)
    return model.ood.check_many([text for _, _, text in articles])


def tag_text(
    model: Model,
    text: str,
    *,
    title: str | None = None,
    doc_id: str | None = None,
    meta: Mapping[str, Any] | None = None,
    all_scores: bool = False,
    explain: bool = False,
) -> TaggedArticle:
    """Split ``text`` into sentences, label them and profile the article.

    Parameters
    ----------
    model
        A loaded model (:func:`framing.load_model`).
    text
        The article body; sentence offsets index into it.
    title
        The headline, carried into the result as it is and also tagged, as sentence 0
        (without offsets) before the body's sentences 1, 2, ...
    doc_id
        Carried into the result as it is.
    meta
        The article's metadata (outlet, date, ...), carried into the result; a ``date``
        must be a date (:class:`framing.format.meta.MetadataError` otherwise).
    all_scores
        Also give every label's score per sentence (``TaggedSentence.scores``).
    explain
        Also say why each label was predicted (``TaggedSentence.explanations``).

    Returns
    -------
    TaggedArticle

    Raises
    ------
    TypeError
        When ``text`` is not a string.
    NotExplainableError
        With ``explain``, when the model is not linear.

    Examples
    --------
    >>> article = tag_text(model, "NATO is a threat. Talks went on.")  # doctest: +SKIP
    >>> [s.text for s in article.sentences]                            # doctest: +SKIP
    ['NATO is a threat.', 'Talks went on.']
    """
    if not isinstance(text, str):
        raise TypeError(f"text must be a str, not {type(text).__name__}")
    check_document_options(model, explain=explain)
    article = tag_batch(Labeler(model), model, [(doc_id, title, text)], all_scores, explain)[0]
    if meta is not None:
        from framing.format.meta import check_meta

        article.meta = check_meta(meta)
    return article


def predict_sentences(
    model: Model, sentences: Sequence[str], *, all_scores: bool = False, explain: bool = False
) -> list[TaggedSentence]:
    """Label sentences that are already split: one result per sentence, in order.

    Results have ``index`` 1, 2, ... and no offsets.

    Raises
    ------
    TypeError
        When a sentence is not a string.
    """
    texts = list(sentences)
    for i, s in enumerate(texts):
        if not isinstance(s, str):
            raise TypeError(f"sentence {i} must be a str, not {type(s).__name__}")
    plan = Labeler(model)
    out: list[TaggedSentence] = []
    for lo in range(0, len(texts), DEFAULT_BATCH_SIZE * 8):
        chunk = texts[lo : lo + DEFAULT_BATCH_SIZE * 8]
        none = [None] * len(chunk)
        part, _, _ = tag_sentences(
            plan,
            model,
            chunk,
            none,
            none,
            range(lo + 1, lo + len(chunk) + 1),
            all_scores,
            explain,
        )
        out.extend(part)
    return out


def _tag_articles(
    model: Model,
    labeler: Labeler,
    payload: tuple[list[tuple[str | None, str | None, str]], bool, bool],
) -> list[TaggedArticle]:
    batch, all_scores, explain = payload
    return tag_batch(labeler, model, batch, all_scores, explain)


def _tag_inputs(
    model: Model,
    labeler: Labeler,
    payload: tuple[list[InputItem], bool, bool, bool, Mapping[str, Any] | None],
) -> list[TaggedArticle | TaggedSentence | InputFailure]:
    """One batch of :func:`tag`'s inputs tagged (articles with their metadata), failures
    in their place."""
    batch, one_per_line, all_scores, explain, meta = payload
    good = [u for u in batch if not isinstance(u, InputFailure)]
    results: Iterator[TaggedArticle | TaggedSentence]
    if one_per_line:
        texts = [u[2] for u in good]
        none = [None] * len(texts)
        lines = [u[3] for u in good]
        tagged, _, _ = tag_sentences(labeler, model, texts, none, none, lines, all_scores, explain)
        results = iter(tagged)
    else:
        tagged_articles = tag_batch(labeler, model, [u[:3] for u in good], all_scores, explain)
        for article, u in zip(tagged_articles, good, strict=True):
            article.meta = merge_meta(meta, u[4])
        results = iter(tagged_articles)
    return [item if isinstance(item, InputFailure) else next(results) for item in batch]


def tag_many(
    model: Model,
    items: Iterable[ArticleInput],
    *,
    batch_size: int = DEFAULT_BATCH_SIZE,
    n_jobs: int = 1,
    all_scores: bool = False,
    explain: bool = False,
) -> Iterator[TaggedArticle]:
    """Tag a stream of articles, in order, in constant memory.

    Gives exactly what :func:`tag_text` gives for each article alone.

    Parameters
    ----------
    model
        A loaded model.
    items
        Articles: strings, ``(doc_id, text)`` pairs or dicts with ``text`` and
        optional ``id`` (or ``doc_id``), ``title`` and ``meta`` (outlet, date, ...;
        carried into the result's ``meta``, a ``date`` checked as in :func:`tag_text`).
        Consumed lazily.
    batch_size
        About how many sentences to score per model call.
    n_jobs
        Worker processes (1: in this process; 0 or -1: one per available CPU, see
        :func:`framing.runtime.parallel.available_cpus`).  Results still come in input
        order; at most ``2 * n_jobs`` batches are in flight.
    all_scores
        Also give every label's score per sentence.
    explain
        Also say why each label was predicted (``TaggedSentence.explanations``).

    Yields
    ------
    TaggedArticle

    Raises
    ------
    TypeError
        When an item is not one of the accepted forms.
    UsageError
        When ``batch_size`` is not positive or ``n_jobs`` is below -1, or with
        ``explain`` for a document-level model.
    MetadataError
        When an item's ``meta`` is not a dict or its ``date`` is not a date.

    A document-level model (``model.level == "document"``) labels each article as a
    whole: the results carry ``document`` (:class:`DocumentLabels`) and no sentences.
    """
    if batch_size < 1:
        raise UsageError(f"batch_size must be at least 1, got {batch_size}")
    check_document_options(model, explain=explain)
    from framing.runtime.parallel import map_with_model, resolve_jobs

    n_jobs = resolve_jobs(n_jobs)
    metas: deque[Mapping[str, Any] | None] = deque()
    batches = article_batches(_with_metas(items, metas), batch_size)
    if n_jobs == 1:
        labeler = Labeler(model)
        tagged: Iterator[TaggedArticle] = (
            a for batch in batches for a in tag_batch(labeler, model, batch, all_scores, explain)
        )
    else:
        payloads = ((batch, all_scores, explain) for batch in batches)
        tagged = (
            a
            for articles in map_with_model(model, _tag_articles, payloads, n_jobs=n_jobs)
            for a in articles
        )
    for position, article in enumerate(tagged):
        meta = metas.popleft()
        if meta is not None:
            from framing.format.meta import check_meta

            article.meta = check_meta(meta, f"item {position}")
        yield article


def _with_metas(
    items: Iterable[ArticleInput], metas: deque[Mapping[str, Any] | None]
) -> Iterator[ArticleInput]:
    """The items as they are, each one's ``meta`` (dict items) queued in order so that it
    joins its result."""
    for item in items:
        metas.append(item.get("meta") if isinstance(item, Mapping) else None)
        yield item


def merge_meta(defaults: Mapping[str, Any] | None, own: Mapping[str, Any] | None) -> dict[str, Any]:
    """An article's metadata: its own keys over the defaults given for every article."""
    return {**(defaults or {}), **(own or {})}


def tag(
    paths: Sequence[str | Path],
    model: Model,
    *,
    one_per_line: bool = False,
    all_scores: bool = False,
    explain: bool = False,
    batch_size: int = DEFAULT_BATCH_SIZE,
    stdin: IO[bytes] | None = None,
    on_file: Any = None,
    meta: Mapping[str, Any] | None = None,
    n_jobs: int = 1,
) -> Iterator[TaggedArticle | TaggedSentence | InputFailure]:
    """Tag files: the library side of ``framing tag``.

    ``.txt`` files are articles (first line + blank line = title); ``.jsonl`` files
    hold one article a line (``text``, optional ``id``, ``title``); ``-`` reads stdin
    (JSONL when it starts with ``{``, else one article).  With ``one_per_line`` every
    line (or JSONL record) is one sentence, not segmented: results are
    :class:`TaggedSentence` in input order, ``index`` being the line number.

    Inputs that cannot be read (a bad file, a bad JSONL line) come out as
    :class:`InputFailure` in their place; the others are tagged.

    Parameters
    ----------
    paths
        Files, folders (searched recursively for ``.txt``/``.jsonl``) or ``-``.
    model
        A loaded model.
    one_per_line, all_scores, explain, batch_size
        See above and :func:`tag_many`.
    stdin
        Binary stream read for ``-`` (default: ``sys.stdin.buffer``).
    on_file
        Called with each input path as it is opened (e.g. to advance a progress bar).
    meta
        Metadata for every article (``framing tag --meta KEY=VALUE``); a JSONL record's
        own ``meta`` keys win over it.  Articles carry it as ``meta``.
    n_jobs
        Worker processes (see :func:`framing.runtime.parallel.imap_ordered`): files are
        read here, batches are tagged in the workers, results come in input order.

    Raises
    ------
    InputNotFoundError
        Before anything is tagged, when a path does not exist.
    NotExplainableError
        Before anything is tagged, with ``explain``, when the model is not linear.
    """
    from framing.runtime.parallel import map_with_model

    check_document_options(model, one_per_line=one_per_line, explain=explain)
    if explain:
        from framing.runtime.explain import check_explainable

        check_explainable(model)
    batches = input_batches(paths, one_per_line, batch_size, stdin, on_file)
    payloads = ((batch, one_per_line, all_scores, explain, meta) for batch in batches)
    if n_jobs > 1:
        for items in map_with_model(
            model, _tag_inputs, payloads, n_jobs=n_jobs, on_crash=crashed_inputs
        ):
            yield from items
        return
    labeler = Labeler(model)
    for payload in payloads:
        yield from _tag_inputs(model, labeler, payload)

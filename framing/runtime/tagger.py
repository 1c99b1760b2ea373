"""Tagging: sentences with labels and scores, articles with a profile and evidence.

Everything here goes through one batch function, so tagging an article alone,
in a batch (:func:`tag_many`) or from files (:func:`tag`) gives the same result.
The JSON form of the results (``to_dict``) is documented in
``docs/output-format.md``; :data:`OUTPUT_VERSION` is its version.
"""

from __future__ import annotations

import json
import os
import re
import sys
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from functools import partial
from itertools import chain, repeat
from json.encoder import encode_basestring as _enc
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from framing.errors import InputNotFoundError, UsageError
from framing.runtime import _native
from framing.runtime.labels import label_masks, threshold_vector
from framing.runtime.segment import split_sentences

if TYPE_CHECKING:
    import numpy as np

    from framing.runtime.explain import LabelExplanation
    from framing.runtime.model import Model

__all__ = [
    "OUTPUT_VERSION",
    "LabelScore",
    "TaggedSentence",
    "Evidence",
    "LabelProfile",
    "TaggedArticle",
    "InputFailure",
    "tag_text",
    "tag_many",
    "predict_sentences",
    "tag",
    "tag_json_lines",
    "collect_inputs",
    "render_table",
    "HtmlWriter",
]

#: Version of the output format in ``docs/output-format.md``.
OUTPUT_VERSION = "1.0"
#: Sentences scored together; larger batches amortise numpy calls, smaller ones memory.
DEFAULT_BATCH_SIZE = 4096
#: Evidence sentences kept per label in an article profile.
MAX_EVIDENCE = 3
INPUT_SUFFIXES = (".txt", ".jsonl")


_KEYS: dict[str, str] = {}
_SURROGATE = re.compile("[\ud800-\udfff]")


def _num(value: float) -> str:
    """A float as ``json.dumps`` writes it (``NaN``/``Infinity`` included)."""
    return repr(value) if value - value == 0.0 else json.dumps(value)


def _key(text: str) -> str:
    """A label or dimension id as a JSON string (memoised: ids repeat on every line)."""
    found = _KEYS.get(text)
    if found is None:
        found = _KEYS[text] = _enc(text)
    return found


_EMPTY_DIMS: dict[str, str] = {}


def _evidence_text(
    e: Evidence, encoded: list[str], sentences: Sequence[TaggedSentence], n: int
) -> str:
    """The JSON of an evidence text, reusing its sentence's encoding (the usual case)."""
    if 0 < e.index <= n and sentences[e.index - 1].text is e.text:
        return encoded[e.index - 1]
    return _enc(e.text)


def _labels_json(labels: Mapping[str, Sequence[LabelScore]]) -> str:
    parts = []
    for dim, found in labels.items():
        if found:
            items = ", ".join(
                [f'{{"label": {_key(ls.label)}, "score": {_num(ls.score)}}}' for ls in found]
            )
            parts.append(f"{_key(dim)}: [{items}]")
        else:
            empty = _EMPTY_DIMS.get(dim)
            if empty is None:
                empty = _EMPTY_DIMS[dim] = f"{_key(dim)}: []"
            parts.append(empty)
    return ", ".join(parts)


# --------------------------------------------------------------------------- results


@dataclass(slots=True)
class LabelScore:
    """A label predicted for a sentence, with its score in ``[0, 1]``."""

    label: str
    score: float

    def to_dict(self) -> dict[str, Any]:
        return {"label": self.label, "score": self.score}


@dataclass(slots=True)
class TaggedSentence:
    """One sentence: its position, text, predicted labels and (on request) all scores.

    ``labels`` maps every dimension of the model to a tuple of the labels whose
    score reached their threshold, highest score first.  ``start``/``end`` are character offsets
    into the article text (``text == article.text[start:end]``), or None for
    sentences given already split.  ``index`` counts from 1.
    """

    index: int
    text: str
    labels: dict[str, tuple[LabelScore, ...]]
    start: int | None = None
    end: int | None = None
    scores: dict[str, dict[str, float]] | None = None
    #: With ``explain=True``: per dimension, why each predicted label was predicted.
    explanations: dict[str, tuple[LabelExplanation, ...]] | None = None

    def label_ids(self, dimension: str) -> list[str]:
        """The predicted label ids of one dimension."""
        return [ls.label for ls in self.labels.get(dimension, [])]

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {"index": self.index}
        if self.start is not None:
            data["start"] = self.start
            data["end"] = self.end
        data["text"] = self.text
        data["labels"] = {
            dim: [{"label": ls.label, "score": ls.score} for ls in found]
            for dim, found in self.labels.items()
        }
        if self.explanations is not None:
            for dim, found in data["labels"].items():
                why = {e.label: e for e in self.explanations.get(dim, ())}
                for item in found:
                    e = why.get(item["label"])
                    item["explanation"] = None if e is None else e.to_dict()
        if self.scores is not None:
            data["scores"] = self.scores
        return data

    def to_json(self) -> str:
        """``json.dumps(self.to_dict(), ensure_ascii=False)``, several times faster."""
        if self.explanations is not None:
            return json.dumps(self.to_dict(), ensure_ascii=False)
        if self.start is None:
            head = f'{{"index": {self.index}, "text": {_enc(self.text)}, "labels": {{'
        else:
            head = (
                f'{{"index": {self.index}, "start": {self.start}, "end": {self.end}, '
                f'"text": {_enc(self.text)}, "labels": {{'
            )
        if self.scores is None:
            return f"{head}{_labels_json(self.labels)}}}}}"
        scores = json.dumps(self.scores, ensure_ascii=False)
        return f'{head}{_labels_json(self.labels)}}}, "scores": {scores}}}'


@dataclass(slots=True)
class Evidence:
    """A sentence that supports a label in an article profile."""

    index: int
    text: str
    score: float

    def to_dict(self) -> dict[str, Any]:
        return {"index": self.index, "text": self.text, "score": self.score}


@dataclass(slots=True)
class LabelProfile:
    """How much of an article carries one label (only labels that some sentence carries).

    ``count`` sentences (``share`` of all) carry the label; ``max_score`` and
    ``mean_score`` are over all sentences of the article; ``evidence`` holds the
    highest-scoring sentences that carry it (at most three, best first).
    """

    count: int
    share: float
    max_score: float
    mean_score: float
    evidence: list[Evidence] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "count": self.count,
            "share": self.share,
            "max_score": self.max_score,
            "mean_score": self.mean_score,
            "evidence": [e.to_dict() for e in self.evidence],
        }


@dataclass(slots=True)
class TaggedArticle:
    """An article split into tagged sentences, with a profile per dimension and label."""

    doc_id: str | None
    title: str | None
    text: str
    sentences: list[TaggedSentence]
    profile: dict[str, dict[str, LabelProfile]]
    model: dict[str, Any]
    #: The input's other fields (e.g. the other columns of a CSV row), strings only;
    #: written as ``meta`` when not empty.
    meta: dict[str, str] = field(default_factory=dict)

    def labels(self, dimension: str) -> list[str]:
        """Labels of ``dimension`` carried by at least one sentence, most frequent first."""
        found = self.profile.get(dimension, {})
        hits = [(p.count, p.max_score, label) for label, p in found.items() if p.count]
        return [label for _, _, label in sorted(hits, key=lambda h: (-h[0], -h[1]))]

    def to_dict(self, *, include_text: bool = False) -> dict[str, Any]:
        """The JSON form; the article text only with ``include_text`` (offsets index it)."""
        data: dict[str, Any] = {
            "version": OUTPUT_VERSION,
            "doc_id": self.doc_id,
            "title": self.title,
            "model": self.model,
            "n_sentences": len(self.sentences),
        }
        if include_text:
            data["text"] = self.text
        data["sentences"] = [s.to_dict() for s in self.sentences]
        data["profile"] = {
            dim: {label: p.to_dict() for label, p in labels.items()}
            for dim, labels in self.profile.items()
        }
        if self.meta:
            data["meta"] = dict(self.meta)
        return data

    def to_json(self, *, include_text: bool = False) -> str:
        """``json.dumps(self.to_dict(...), ensure_ascii=False)``, several times faster."""
        parts = [
            f'{{"version": {_enc(OUTPUT_VERSION)}, "doc_id": {_opt(self.doc_id)}, '
            f'"title": {_opt(self.title)}, "model": {json.dumps(self.model, ensure_ascii=False)}, '
            f'"n_sentences": {len(self.sentences)}, '
        ]
        if include_text:
            parts.append(f'"text": {_enc(self.text)}, ')
        parts.append('"sentences": [')
        enc, labels_json = _enc, _labels_json
        texts = [enc(s.text) for s in self.sentences]
        parts.append(
            ", ".join(
                [
                    f'{{"index": {s.index}, "start": {s.start}, "end": {s.end}, '
                    f'"text": {text}, "labels": {{{labels_json(s.labels)}}}}}'
                    if s.scores is None and s.start is not None and s.explanations is None
                    else s.to_json()
                    for s, text in zip(self.sentences, texts, strict=True)
                ]
            )
        )
        parts.append('], "profile": {')
        n = len(texts)
        dims = []
        sentences = self.sentences
        for dim, labels in self.profile.items():
            items = []
            for label, p in labels.items():
                if p.evidence:
                    ev = ", ".join(
                        [
                            f'{{"index": {e.index}, '
                            f'"text": {_evidence_text(e, texts, sentences, n)}, '
                            f'"score": {_num(e.score)}}}'
                            for e in p.evidence
                        ]
                    )
                else:
                    ev = ""
                items.append(
                    f'{_key(label)}: {{"count": {p.count}, "share": {_num(p.share)}, '
                    f'"max_score": {_num(p.max_score)}, "mean_score": {_num(p.mean_score)}, '
                    f'"evidence": [{ev}]}}'
                )
            dims.append(f"{_key(dim)}: {{{', '.join(items)}}}")
        parts.append(", ".join(dims))
        parts.append("}")
        if self.meta:
            parts.append(f', "meta": {json.dumps(self.meta, ensure_ascii=False)}')
        parts.append("}")
        return "".join(parts)


@dataclass(frozen=True, slots=True)
class InputFailure:
    """An input that could not be tagged: where (file, file:line) and why."""

    source: str
    message: str

    def __str__(self) -> str:
        return f"{self.source}: {self.message}"


# --------------------------------------------------------------------------- batch core


class _Plan:
    """What turning scores into labels needs, computed once per model and call."""

    def __init__(self, model: Model) -> None:
        meta = model.meta
        self.dims = list(model.dimensions)
        self.labels = {dim: list(ids) for dim, ids in meta.labels.items()}
        self.thresholds = {
            dim: threshold_vector(self.labels[dim], meta.thresholds[dim]) for dim in self.dims
        }
        self.multi_label = dict(meta.multi_label)
        self.meta = meta
        self.model_info = {
            "name": model.name,
            "version": meta.version,
            "codebook": model.codebook.name,
            "codebook_version": model.codebook.version,
        }
        self.model_json = json.dumps(self.model_info, ensure_ascii=False)

    def hits(self, scores: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
        """Boolean ``(n, n_labels)`` per dimension: which labels are predicted."""
        return label_masks(scores, self.labels, self.meta)


def _hit_arrays(p: np.ndarray, mask: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Rows, columns and scores of the hits in ``mask``, by row, then highest score first."""
    import numpy as np

    rows, cols = np.nonzero(mask)
    values = p[rows, cols]
    order = np.lexsort((-values, rows))
    return rows[order], cols[order], values[order]


def _sorted_hits(p: np.ndarray, mask: np.ndarray) -> tuple[list[int], list[int], list[float]]:
    """:func:`_hit_arrays` as lists."""
    rows, cols, values = _hit_arrays(p, mask)
    return rows.tolist(), cols.tolist(), values.tolist()


def _label_lists(
    plan: _Plan, scores: Mapping[str, np.ndarray], n: int
) -> tuple[list[dict[str, tuple[LabelScore, ...]]], dict[str, np.ndarray]]:
    """Per sentence, labels above threshold sorted by score; and the hit masks."""

    template: dict[str, tuple[LabelScore, ...]] = dict.fromkeys(plan.dims, ())
    labels = list(map(dict.copy, repeat(template, n)))
    masks = plan.hits(scores)
    for dim in plan.dims:
        rows, cols, values = _sorted_hits(scores[dim], masks[dim])
        if not rows:
            continue
        names = plan.labels[dim]
        found: list[LabelScore] = []
        current = -1
        for r, c, v in zip(rows, cols, values, strict=True):
            if r != current:
                if found:
                    labels[current][dim] = tuple(found)
                found = []
                current = r
            found.append(LabelScore(names[c], v))
        labels[current][dim] = tuple(found)
    return labels, masks


def _all_scores(
    plan: _Plan, scores: Mapping[str, np.ndarray], n: int
) -> list[dict[str, dict[str, float]]]:
    out: list[dict[str, dict[str, float]]] = [{} for _ in range(n)]
    for dim in plan.dims:
        names = plan.labels[dim]
        for i, row in enumerate(scores[dim].tolist()):
            out[i][dim] = dict(zip(names, row, strict=True))
    return out


@dataclass(slots=True)
class _DimensionStats:
    """One dimension's profile numbers for a batch of articles.

    ``counts``, ``shares``, ``maxes`` and ``means`` are ``(n_articles, n_labels)``;
    the evidence is flat, ordered by article, label, then score (best first):
    ``ev_articles[k]``, ``ev_cols[k]`` name the profile entry, ``ev_rows[k]`` the
    sentence's batch row and ``ev_scores[k]`` its score.
    """

    counts: np.ndarray
    shares: np.ndarray
    maxes: np.ndarray
    means: np.ndarray
    ev_articles: np.ndarray
    ev_cols: np.ndarray
    ev_rows: np.ndarray
    ev_scores: np.ndarray


def _profile_stats(
    plan: _Plan,
    scores: Mapping[str, np.ndarray],
    masks: Mapping[str, np.ndarray],
    bounds: Sequence[int],
) -> dict[str, _DimensionStats]:
    """Profile numbers of the articles whose sentences are rows ``bounds[k]:bounds[k+1]``.

    Computed for the whole batch at once; an article gets the same numbers
    whatever batch it is in (every statistic is per article).
    """
    import numpy as np

    n_articles = len(bounds) - 1
    sizes = np.diff(np.asarray(bounds))
    present = np.flatnonzero(sizes > 0)
    starts = np.asarray(bounds[:-1])[present]
    article_of = np.repeat(np.arange(n_articles), sizes)
    out = {}
    for dim in plan.dims:
        p, mask = scores[dim], masks[dim]
        width = len(plan.labels[dim])
        counts = np.zeros((n_articles, width), dtype=np.int64)
        maxes = np.zeros((n_articles, width))
        sums = np.zeros((n_articles, width))
        if len(present) and width:
            counts[present] = np.add.reduceat(mask.astype(np.int64), starts, axis=0)
            maxes[present] = np.maximum.reduceat(p, starts, axis=0)
            sums[present] = np.add.reduceat(p, starts, axis=0)
        denominators = np.maximum(sizes, 1)[:, None]
        # Evidence: per article and label, the best-scoring sentences that carry it.
        rows, cols = np.nonzero(mask)
        values = p[rows, cols]
        arts = article_of[rows]
        order = np.lexsort((rows, -values, cols, arts))
        rows, cols, values, arts = rows[order], cols[order], values[order], arts[order]
        group = arts * width + cols
        new = np.ones(len(group), dtype=bool)
        np.not_equal(group[1:], group[:-1], out=new[1:])
        first = np.maximum.accumulate(np.where(new, np.arange(len(group)), 0))
        keep = np.arange(len(group)) - first < MAX_EVIDENCE
        out[dim] = _DimensionStats(
            counts,
            counts / denominators,
            maxes,
            sums / denominators,
            arts[keep],
            cols[keep],
            rows[keep],
            values[keep],
        )
    return out


def _profiles(
    plan: _Plan,
    stats: Mapping[str, _DimensionStats],
    sentences: Sequence[TaggedSentence],
    n_articles: int,
) -> list[dict[str, dict[str, LabelProfile]]]:
    """Profile objects from :func:`_profile_stats`."""
    out: list[dict[str, dict[str, LabelProfile]]] = [{} for _ in range(n_articles)]
    for dim in plan.dims:
        names = plan.labels[dim]
        st = stats[dim]
        evidence: dict[tuple[int, int], list[Evidence]] = {}
        for a, c, r, v in zip(
            st.ev_articles.tolist(),
            st.ev_cols.tolist(),
            st.ev_rows.tolist(),
            st.ev_scores.tolist(),
            strict=True,
        ):
            sent = sentences[r]
            evidence.setdefault((a, c), []).append(Evidence(sent.index, sent.text, v))
        counts, shares = st.counts.tolist(), st.shares.tolist()
        maxes, means = st.maxes.tolist(), st.means.tolist()
        for a in range(n_articles):
            ca, sa, ma, mea = counts[a], shares[a], maxes[a], means[a]
            out[a][dim] = {
                name: LabelProfile(ca[j], sa[j], ma[j], mea[j], evidence[(a, j)])
                for j, name in enumerate(names)
                if ca[j]
            }
    return out


def _score(model: Model, texts: list[str]) -> dict[str, np.ndarray]:
    import numpy as np

    scores = model.predict_proba(texts)
    return {dim: np.asarray(scores[dim], dtype=float) for dim in model.dimensions}


def _sentences(
    plan: _Plan,
    model: Model,
    texts: list[str],
    starts: Sequence[int | None],
    ends: Sequence[int | None],
    indexes: Iterable[int],
    all_scores: bool,
    explain: bool = False,
) -> tuple[list[TaggedSentence], dict[str, np.ndarray], dict[str, np.ndarray]]:
    n = len(texts)
    scores = _score(model, texts)
    labels, masks = _label_lists(plan, scores, n)
    every: Iterable[Any] = _all_scores(plan, scores, n) if all_scores else repeat(None, n)
    why: Iterable[Any] = repeat(None, n)
    if explain:
        from framing.runtime.explain import explain_hits

        why = explain_hits(model, texts, scores, masks)
    out = list(map(TaggedSentence, indexes, texts, labels, starts, ends, every, why))
    return out, scores, masks


def _split_articles(
    articles: Sequence[tuple[str | None, str | None, str]],
) -> tuple[list[str], list[int], list[int], list[int], list[int]]:
    """Sentence texts, starts, ends and indexes of articles, and each article's bounds."""
    texts: list[str] = []
    starts: list[int] = []
    ends: list[int] = []
    indexes: list[int] = []
    bounds = [0]
    for _, _, text in articles:
        found = split_sentences(text)
        starts.extend([s for s, _ in found])
        ends.extend([e for _, e in found])
        texts.extend([text[s:e] for s, e in found])
        indexes.extend(range(1, len(found) + 1))
        bounds.append(len(texts))
    return texts, starts, ends, indexes, bounds


def _tag_batch(
    plan: _Plan,
    model: Model,
    articles: Sequence[tuple[str | None, str | None, str]],
    all_scores: bool,
    explain: bool = False,
) -> list[TaggedArticle]:
    """Tag articles ``(doc_id, title, text)`` together: one model call for all sentences."""
    texts, starts, ends, indexes, bounds = _split_articles(articles)
    sentences, scores, masks = _sentences(
        plan, model, texts, starts, ends, indexes, all_scores, explain
    )
    stats = _profile_stats(plan, scores, masks, bounds)
    profiles = _profiles(plan, stats, sentences, len(articles))
    info = plan.model_info
    return [
        TaggedArticle(
            doc_id, title, text, sentences[bounds[k] : bounds[k + 1]], profiles[k], dict(info)
        )
        for k, (doc_id, title, text) in enumerate(articles)
    ]


def _groups(keys: np.ndarray) -> tuple[list[int], list[int], list[int]]:
    """Runs of equal values in ``keys``: each run's value, start and end."""
    import numpy as np

    if not len(keys):
        return [], [], []
    new = np.ones(len(keys), dtype=bool)
    np.not_equal(keys[1:], keys[:-1], out=new[1:])
    starts = np.flatnonzero(new)
    ends = np.append(starts[1:], len(keys))
    return keys[starts].tolist(), starts.tolist(), ends.tolist()


def _tag_batch_json(
    plan: _Plan,
    model: Model,
    articles: Sequence[tuple[str | None, str | None, str]],
    as_bytes: bool = False,
) -> list[tuple[Any, int]]:
    """``[(a.to_json(), len(a.sentences)) for a in _tag_batch(...)]``, without the objects.

    The JSON is written straight from the score arrays, a batch at a time, by the
    compiled module when it is there; a test checks that both writers give the same
    text as the objects.
    """
    import numpy as np

    texts, starts, ends, indexes, bounds = _split_articles(articles)
    n, n_articles = len(texts), len(articles)
    sizes = [bounds[a + 1] - bounds[a] for a in range(n_articles)]
    scores = _score(model, texts)
    if not all(np.isfinite(p).all() for p in scores.values()):  # repr() would not be JSON
        lines = [a.to_json() for a in _tag_batch(plan, model, articles, False)]
        return list(zip(_as_lines(lines, as_bytes), sizes, strict=True))
    masks = plan.hits(scores)
    hits = {dim: _hit_arrays(scores[dim], masks[dim]) for dim in plan.dims}
    stats = _profile_stats(plan, scores, masks, bounds)
    heads = [
        f'{{"version": {_enc(OUTPUT_VERSION)}, "doc_id": {_opt(doc_id)}, '
        f'"title": {_opt(title)}, "model": {plan.model_json}, '
        f'"n_sentences": {sizes[a]}, '
        for a, (doc_id, title, _) in enumerate(articles)
    ]
    if _native.speedups is not None:
        dims = []
        for dim in plan.dims:
            st = stats[dim]
            dims.append(
                (
                    _key(dim),
                    [_key(name) for name in plan.labels[dim]],
                    *hits[dim],
                    *(st.counts, st.shares, st.maxes, st.means),
                    *(st.ev_articles, st.ev_cols, st.ev_rows, st.ev_scores),
                )
            )
        as_array = partial(np.array, dtype=np.int64)
        lines = _native.speedups.article_json(
            heads,
            *map(as_array, (bounds, indexes, starts, ends)),
            texts,
            dims,
            as_bytes,
        )
        return list(zip(lines, sizes, strict=True))
    encoded = list(map(_enc, texts))
    per_dim = []
    profiles: list[list[str]] = [[] for _ in range(n_articles)]
    for dim in plan.dims:
        key = _key(dim)
        names = [_key(name) for name in plan.labels[dim]]
        # Sentence labels: one string per hit, joined per sentence.
        rows, cols, values = hits[dim]
        items = [
            f'{{"label": {names[c]}, "score": {v!r}}}'
            for c, v in zip(cols.tolist(), values.tolist(), strict=True)
        ]
        parts = [f"{key}: []"] * n
        for r, lo, hi in zip(*_groups(rows), strict=True):
            parts[r] = f"{key}: [{', '.join(items[lo:hi])}]"
        per_dim.append(parts)
        # Profile: one string per (article, label) carried, with its evidence.
        st = stats[dim]
        evidence = [
            f'{{"index": {indexes[r]}, "text": {encoded[r]}, "score": {v!r}}}'
            for r, v in zip(st.ev_rows.tolist(), st.ev_scores.tolist(), strict=True)
        ]
        _, ev_lo, ev_hi = _groups(st.ev_articles * len(names) + st.ev_cols)
        arts, cols = np.nonzero(st.counts)
        entries = [
            f'{names[c]}: {{"count": {k}, "share": {sh!r}, "max_score": {mx!r}, '
            f'"mean_score": {mn!r}, "evidence": [{", ".join(evidence[lo:hi])}]}}'
            for c, k, sh, mx, mn, lo, hi in zip(
                cols.tolist(),
                st.counts[arts, cols].tolist(),
                st.shares[arts, cols].tolist(),
                st.maxes[arts, cols].tolist(),
                st.means[arts, cols].tolist(),
                ev_lo,
                ev_hi,
                strict=True,
            )
        ]
        empty = f"{key}: {{}}"
        for profile in profiles:
            profile.append(empty)
        for a, lo, hi in zip(*_groups(arts), strict=True):
            profiles[a][-1] = f"{key}: {{{', '.join(entries[lo:hi])}}}"
    labels = list(map(", ".join, zip(*per_dim, strict=True))) if per_dim else [""] * n
    sentences = [
        f'{{"index": {i}, "start": {s}, "end": {e}, "text": {t}, "labels": {{{lab}}}}}'
        for i, s, e, t, lab in zip(indexes, starts, ends, encoded, labels, strict=True)
    ]
    lines = [
        f'{heads[a]}"sentences": [{", ".join(sentences[bounds[a] : bounds[a + 1]])}], '
        f'"profile": {{{", ".join(profiles[a])}}}}}'
        for a in range(n_articles)
    ]
    return list(zip(_as_lines(lines, as_bytes), sizes, strict=True))


def _as_lines(lines: list[str], as_bytes: bool) -> list[Any]:
    """JSON strings as they are, or as UTF-8 JSONL lines (bytes ending in a newline)."""
    return [(line + "\n").encode("utf-8") for line in lines] if as_bytes else lines


# --------------------------------------------------------------------------- public API


def tag_text(
    model: Model,
    text: str,
    *,
    title: str | None = None,
    doc_id: str | None = None,
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
    title, doc_id
        Carried into the result as they are.
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
    return _tag_batch(_Plan(model), model, [(doc_id, title, text)], all_scores, explain)[0]


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
    plan = _Plan(model)
    out: list[TaggedSentence] = []
    for lo in range(0, len(texts), DEFAULT_BATCH_SIZE * 8):
        chunk = texts[lo : lo + DEFAULT_BATCH_SIZE * 8]
        none = [None] * len(chunk)
        part, _, _ = _sentences(
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


ArticleInput = str | tuple[str | None, str] | Mapping[str, Any]


def _as_article(item: ArticleInput, position: int) -> tuple[str | None, str | None, str]:
    if isinstance(item, str):
        return None, None, item
    if isinstance(item, tuple) and len(item) == 2 and isinstance(item[1], str):
        return (None if item[0] is None else str(item[0])), None, item[1]
    if isinstance(item, Mapping):
        text = item.get("text")
        if not isinstance(text, str):
            raise TypeError(f"item {position}: a dict needs a 'text' string")
        doc_id = item.get("id", item.get("doc_id"))
        title = item.get("title")
        return (
            None if doc_id is None else str(doc_id),
            None if title is None else str(title),
            text,
        )
    raise TypeError(
        f"item {position}: expected a str, a (doc_id, text) pair or a dict with 'text', "
        f"got {type(item).__name__}"
    )


def _batches(
    items: Iterable[ArticleInput], batch_size: int
) -> Iterator[list[tuple[str | None, str | None, str]]]:
    """Articles grouped so that a batch holds about ``batch_size`` sentences' worth of text."""
    # Sentences are not known before splitting; ~120 characters per news sentence.
    budget = batch_size * 120
    batch: list[tuple[str | None, str | None, str]] = []
    size = 0
    for position, item in enumerate(items):
        article = _as_article(item, position)
        batch.append(article)
        size += len(article[2])
        if size >= budget:
            yield batch
            batch, size = [], 0
    if batch:
        yield batch


_WORKER_MODEL: Any = None


def _worker_init(model: Model | None) -> None:
    global _WORKER_MODEL
    if model is not None:
        _WORKER_MODEL = model


def _worker_tag(
    batch: list[tuple[str | None, str | None, str]], all_scores: bool, explain: bool = False
) -> list[TaggedArticle]:
    model = _WORKER_MODEL
    return _tag_batch(_Plan(model), model, batch, all_scores, explain)


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
        optional ``id`` (or ``doc_id``) and ``title``.  Consumed lazily.
    batch_size
        About how many sentences to score per model call.
    n_jobs
        Worker processes (1: in this process; -1: one per CPU).  Results still
        come in input order; at most ``2 * n_jobs`` batches are in flight.
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
        When ``batch_size`` or ``n_jobs`` is not a positive number (or -1).
    """
    if batch_size < 1:
        raise UsageError(f"batch_size must be at least 1, got {batch_size}")
    if n_jobs == -1:
        n_jobs = os.cpu_count() or 1
    if n_jobs < 1:
        raise UsageError(f"n_jobs must be a positive number or -1, got {n_jobs}")
    batches = _batches(items, batch_size)
    if n_jobs == 1:
        plan = _Plan(model)
        for batch in batches:
            yield from _tag_batch(plan, model, batch, all_scores, explain)
        return
    yield from _tag_parallel(model, batches, n_jobs, all_scores, explain)


def _tag_parallel(
    model: Model,
    batches: Iterator[list[tuple[str | None, str | None, str]]],
    n_jobs: int,
    all_scores: bool,
    explain: bool = False,
) -> Iterator[TaggedArticle]:
    import multiprocessing
    from collections import deque
    from concurrent.futures import ProcessPoolExecutor

    methods = multiprocessing.get_all_start_methods()
    # With fork the workers inherit the loaded model instead of unpickling a copy.
    if "fork" in methods:
        global _WORKER_MODEL
        _WORKER_MODEL = model
        context: Any = multiprocessing.get_context("fork")
        initargs: tuple[Any, ...] = (None,)
    else:  # pragma: no cover - not on Linux
        context = multiprocessing.get_context()
        initargs = (model,)
    with ProcessPoolExecutor(
        n_jobs, mp_context=context, initializer=_worker_init, initargs=initargs
    ) as pool:
        pending: deque[Any] = deque()
        for batch in batches:
            pending.append(pool.submit(_worker_tag, batch, all_scores, explain))
            if len(pending) >= 2 * n_jobs:
                yield from pending.popleft().result()
        while pending:
            yield from pending.popleft().result()


# --------------------------------------------------------------------------- files


def collect_inputs(paths: Sequence[str | Path]) -> list[Path]:
    """Expand ``.txt``/``.jsonl`` files and folders (recursively); ``-`` is stdin.

    Raises
    ------
    InputNotFoundError
        When a path does not exist or a folder holds no ``.txt``/``.jsonl`` file.
    """
    files: list[Path] = []
    for raw in paths:
        path = Path(raw)
        if str(raw) == "-":
            files.append(path)
        elif path.is_dir():
            found = sorted(
                p for p in path.rglob("*") if p.is_file() and p.suffix.lower() in INPUT_SUFFIXES
            )
            if not found:
                raise InputNotFoundError(f"{path}: folder holds no .txt or .jsonl file")
            files.extend(found)
        elif path.is_file():
            files.append(path)
        else:
            raise InputNotFoundError(f"{path}: no such file or folder")
    if not files:
        raise InputNotFoundError("no input given (give files, folders or - for stdin)")
    return files


class _DecodeError(ValueError):
    def __init__(self, line: int, reason: str) -> None:
        super().__init__(reason)
        self.line = line
        self.reason = reason


def _decode(raw: bytes) -> str:
    from framing.format.article import normalise_text

    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise _DecodeError(
            line, f"invalid UTF-8 byte 0x{raw[exc.start]:02x} (re-encode the file as UTF-8)"
        ) from None
    return normalise_text(text)


#: (doc_id, title, text, line number) of an article or a sentence, or a failure.
Unit = tuple[str | None, str | None, str, int] | InputFailure


def _jsonl_units(lines: Iterable[bytes], source: str) -> Iterator[Unit]:
    """Records of a JSONL stream as ``(doc_id, title, text)``; bad lines as failures."""
    stem = Path(source).stem if source != "<stdin>" else "stdin"
    for number, raw in enumerate(lines, start=1):
        if not raw.strip():
            continue
        where = f"{source}:{number}"
        try:
            data = json.loads(raw)
        except UnicodeDecodeError:
            yield InputFailure(where, "invalid UTF-8 (re-encode the file as UTF-8)")
            continue
        except ValueError as exc:
            yield InputFailure(where, f"not valid JSON ({exc.args[0] if exc.args else exc})")
            continue
        if not isinstance(data, dict):
            yield InputFailure(where, f"expected a JSON object, got {type(data).__name__}")
            continue
        text = data.get("text")
        if not isinstance(text, str):
            yield InputFailure(where, 'record has no \'text\' string (add "text": "...")')
            continue
        doc_id = data.get("id", data.get("doc_id"))
        title = data.get("title")
        unit = (
            f"{stem}:{number}" if doc_id is None else str(doc_id),
            None if title is None else str(title),
            text,
            number,
        )
        # Only a \uD800-\uDFFF escape can put a lone surrogate into a string.
        if b"\\u" in raw and (b"\\ud" in raw or b"\\uD" in raw):
            bad = _lone_surrogate(unit[:3])
            if bad is not None:
                yield InputFailure(
                    where,
                    f"a {bad} escape stands alone: it is half of a UTF-16 pair, not a "
                    "character (write the character itself, or both halves of the pair)",
                )
                continue
        yield unit


def _lone_surrogate(values: Iterable[str | None]) -> str | None:
    """The first lone surrogate in ``values`` as ``\\udXXX``, or None."""
    for value in values:
        found = _SURROGATE.search(value or "")
        if found is not None:
            return f"\\u{ord(found.group()):04x}"
    return None


def _file_units(
    path: Path, stdin: IO[bytes] | None, one_per_line: bool, doc_id: str
) -> Iterator[Unit]:
    """The articles (or sentences, with ``one_per_line``) of one input."""
    from framing.format.article import split_title

    is_stdin = str(path) == "-"
    source = "<stdin>" if is_stdin else str(path)
    # A file is closed in the finally below, also when the consumer stops early.
    stream: IO[bytes] = (
        (stdin if stdin is not None else sys.stdin.buffer) if is_stdin else open(path, "rb")  # noqa: SIM115
    )
    try:
        lines: Iterable[bytes] = stream
        head = b""
        if is_stdin:
            # Peek at the first line: JSONL when it starts with '{'.
            head = stream.readline()
            lines = chain([head], stream)
        if (path.suffix.lower() == ".jsonl" and not is_stdin) or (
            is_stdin and head.lstrip().startswith(b"{")
        ):
            yield from _jsonl_units(lines, source)
            return
        if one_per_line:
            for number, raw in enumerate(lines, start=1):
                try:
                    line = _decode(raw).rstrip("\n")
                except _DecodeError as exc:
                    yield InputFailure(f"{source}:{number}", exc.reason)
                    continue
                yield (str(number), None, line, number)
            return
        try:
            text = _decode(head + stream.read())
        except _DecodeError as exc:
            yield InputFailure(f"{source}:{exc.line}", exc.reason)
            return
        title, body = split_title(text)
        yield (doc_id, title, body, 1)
    finally:
        if not is_stdin:
            stream.close()


def _doc_ids(files: Sequence[Path]) -> list[str]:
    ids: list[str] = []
    seen: set[str] = set()
    for file in files:
        base = "stdin" if str(file) == "-" else file.stem or "doc"
        doc_id, n = base, 1
        while doc_id in seen:
            n += 1
            doc_id = f"{base}-{n}"
        seen.add(doc_id)
        ids.append(doc_id)
    return ids


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

    Raises
    ------
    InputNotFoundError
        Before anything is tagged, when a path does not exist.
    NotExplainableError
        Before anything is tagged, with ``explain``, when the model is not linear.
    """
    plan = _Plan(model)
    if explain:
        from framing.runtime.explain import check_explainable

        check_explainable(model)
    for batch in _unit_batches(paths, one_per_line, batch_size, stdin, on_file):
        good = [u for u in batch if not isinstance(u, InputFailure)]
        results: Iterator[TaggedArticle | TaggedSentence]
        if one_per_line:
            texts = [u[2] for u in good]
            none = [None] * len(texts)
            lines = [u[3] for u in good]
            tagged, _, _ = _sentences(plan, model, texts, none, none, lines, all_scores, explain)
            results = iter(tagged)
        else:
            results = iter(_tag_batch(plan, model, [u[:3] for u in good], all_scores, explain))
        for unit in batch:
            yield unit if isinstance(unit, InputFailure) else next(results)


def tag_json_lines(
    paths: Sequence[str | Path],
    model: Model,
    *,
    batch_size: int = DEFAULT_BATCH_SIZE,
    stdin: IO[bytes] | None = None,
    on_file: Any = None,
    as_bytes: bool = False,
) -> Iterator[tuple[Any, int] | InputFailure]:
    """:func:`tag` as JSON lines: ``(article.to_json(), n_sentences)`` per article.

    The same text as ``to_json()`` of :func:`tag`'s articles, written straight from
    the scores without building the result objects (what ``framing tag`` does for
    JSONL output).  With ``as_bytes`` each line is UTF-8 ``bytes`` ending in a
    newline, ready for a binary file.  Failures come out as :class:`InputFailure`
    in their place.
    """
    plan = _Plan(model)
    for batch in _unit_batches(paths, False, batch_size, stdin, on_file):
        good = [u[:3] for u in batch if not isinstance(u, InputFailure)]
        results = iter(_tag_batch_json(plan, model, good, as_bytes))
        for unit in batch:
            yield unit if isinstance(unit, InputFailure) else next(results)


def _unit_batches(
    paths: Sequence[str | Path],
    one_per_line: bool,
    batch_size: int,
    stdin: IO[bytes] | None,
    on_file: Any,
) -> Iterator[list[Unit]]:
    """The inputs of :func:`tag`, in batches of about ``batch_size`` sentences."""
    files = collect_inputs(paths)

    def units() -> Iterator[Unit]:
        for file, doc_id in zip(files, _doc_ids(files), strict=True):
            if on_file is not None:
                on_file(file)
            try:
                yield from _file_units(file, stdin, one_per_line, doc_id)
            except OSError as exc:
                yield InputFailure(str(file), exc.strerror or str(exc))

    stream = units()
    budget = batch_size * (1 if one_per_line else 120)
    while True:
        batch: list[Unit] = []
        size = 0
        for unit in stream:
            batch.append(unit)
            size += 1 if one_per_line or isinstance(unit, InputFailure) else len(unit[2])
            if size >= budget:
                break
        if not batch:
            return
        yield batch


# --------------------------------------------------------------------------- renderers


def _short(text: str, width: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= width else text[: width - 1] + "…"


def render_table(result: TaggedArticle | TaggedSentence, *, width: int = 100) -> str:
    """A readable plain-text view of one result for a terminal."""
    if isinstance(result, TaggedSentence):
        return _sentence_rows([result], width)
    head = result.doc_id or "(article)"
    lines = [f"== {head}" + (f": {result.title}" if result.title else "")]
    lines.append(f"   {len(result.sentences)} sentences, model {result.model.get('name')}")
    lines.append(_sentence_rows(result.sentences, width))
    lines.append("")
    lines.append("   profile (sentences with the label, share, max score; best evidence)")
    for dim, labels in result.profile.items():
        found = [(label, p) for label, p in labels.items() if p.count]
        found.sort(key=lambda lp: (-lp[1].count, -lp[1].max_score))
        lines.append(f"   {dim}: " + ("none" if not found else ""))
        for label, p in found:
            ev = p.evidence[0] if p.evidence else None
            where = f"  #{ev.index} {_short(ev.text, 50)}" if ev else ""
            lines.append(f"     {label:<24} {p.count:>3} {p.share:>5.0%} {p.max_score:.2f}{where}")
    return "\n".join(lines)


def _sentence_rows(sentences: Sequence[TaggedSentence], width: int) -> str:
    rows = []
    for s in sentences:
        found = [f"{ls.label} {ls.score:.2f}" for labels in s.labels.values() for ls in labels]
        rows.append(f"{s.index:>4}  {_short(s.text, width)}")
        rows.append("      -> " + (", ".join(found) if found else "-"))
    return "\n".join(rows)


_HTML_HEAD = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title>
<style>
body {{ font: 16px/1.6 Georgia, serif; max-width: 60rem; margin: 2rem auto; padding: 0 1rem;
  color: #222; }}
h1 {{ font-size: 1.4rem; }}
article {{ border-top: 2px solid #ccc; margin-top: 2rem; padding-top: 1rem; }}
.meta, .legend, table {{ font: 13px/1.4 system-ui, sans-serif; }}
.meta {{ color: #666; }}
.s {{ padding: 0.1rem 0.15rem; border-radius: 3px; }}
.s[data-labels] {{ border-bottom: 3px solid var(--c); background: var(--b); }}
.s sup {{ font: 10px system-ui, sans-serif; color: #555; }}
.legend span {{ display: inline-block; margin: 0 0.6rem 0.3rem 0; padding: 0 0.3rem;
  border-bottom: 3px solid var(--c); background: var(--b); }}
table {{ border-collapse: collapse; margin: 0.5rem 0 1rem; }}
td, th {{ border-bottom: 1px solid #ddd; padding: 0.2rem 0.5rem; text-align: left;
  vertical-align: top; }}
td.n {{ text-align: right; }}
.why {{ display: none; }}
.s:focus .why {{ display: block; margin: 0.2rem 0 0.4rem; padding: 0.3rem 0.5rem;
  font: 12px/1.4 system-ui, sans-serif; background: #fff; border: 1px solid #ccc; }}
</style>
</head>
<body>
<h1>{title}</h1>
"""


class HtmlWriter:
    """Writes one self-contained HTML page (inline CSS, no scripts, no external assets).

    Sentences are highlighted by their highest-scoring label (a colour per label,
    listed in the legend), with every label and score in the hover text; each
    article ends with its profile.  All text is escaped.
    """

    def __init__(
        self, out: IO[str], model: Model, *, title: str = "framing: tagged articles"
    ) -> None:
        self.out = out
        self.plan = _Plan(model)
        self.colors: dict[str, str] = {}
        names = [(dim, label) for dim in self.plan.dims for label in self.plan.labels[dim]]
        for i, (_, label) in enumerate(names):
            hue = (i * 137.508) % 360
            self.colors[label] = f"{hue:.0f}"
        self.out.write(_HTML_HEAD.format(title=_esc(title)))
        legend = " ".join(
            f'<span style="{self._style(label)}">{_esc(label)}</span>' for _, label in names
        )
        info = self.plan.model_info
        self.out.write(
            f'<p class="meta">Model {_esc(str(info["name"]))}, codebook '
            f"{_esc(str(info['codebook']))} {_esc(str(info['codebook_version']))}. "
            "Hover a sentence for its labels and scores; tagged with --explain, hover or "
            "click it for the n-grams that made each label.</p>\n"
            f'<p class="legend">{legend}</p>\n'
        )

    def _style(self, label: str) -> str:
        hue = self.colors.get(label, "0")
        return f"--c: hsl({hue} 65% 45%); --b: hsl({hue} 80% 94%)"

    def _sentence(self, s: TaggedSentence) -> str:
        found = [ls for labels in s.labels.values() for ls in labels]
        if not found:
            return f'<span class="s" title="#{s.index}">{_esc(s.text)}</span>'
        best = max(found, key=lambda ls: ls.score)
        tip = f"#{s.index}: " + ", ".join(f"{ls.label} {ls.score:.2f}" for ls in found)
        if s.explanations is not None:
            tip += "".join(
                f"\n{e.label} because of: "
                + (", ".join(f"{_quoted(c.ngram)} +{c.contribution:.2f}" for c in e.ngrams) or "-")
                for found_dim in s.explanations.values()
                for e in found_dim
            )
        names = " ".join(ls.label for ls in found)
        why = ""
        focus = ""
        if s.explanations is not None:
            # Clicking focuses the sentence, which shows the box (CSS only, no script).
            focus = ' tabindex="0"'
            why = '<span class="why">' + "<br>".join(_esc(line) for line in tip.split("\n")[1:])
            why += "</span>"
        return (
            f'<span class="s" data-labels="{_esc(names)}" style="{self._style(best.label)}" '
            f'title="{_esc(tip)}"{focus}>{_esc(s.text)}<sup>{_esc(best.label)}</sup>{why}</span>'
        )

    def write(self, result: TaggedArticle | TaggedSentence) -> None:
        if isinstance(result, TaggedSentence):
            self.out.write(f"<p>{self._sentence(result)}</p>\n")
            return
        w = self.out.write
        w("<article>\n")
        heading = result.title or result.doc_id or "Article"
        w(f"<h2>{_esc(heading)}</h2>\n")
        count = len(result.sentences)
        w(f'<p class="meta">{_esc(result.doc_id or "")} &middot; {count} sentences</p>\n')
        paragraphs = _paragraphs(result)
        for para in paragraphs:
            w("<p>" + " ".join(self._sentence(s) for s in para) + "</p>\n")
        w(
            "<table><tr><th>dimension</th><th>label</th><th>sentences</th><th>share</th>"
            "<th>max</th><th>evidence</th></tr>\n"
        )
        for dim, labels in result.profile.items():
            for label, p in sorted(labels.items(), key=lambda lp: -lp[1].count):
                if not p.count:
                    continue
                ev = "<br>".join(f"#{e.index} {_esc(_short(e.text, 90))}" for e in p.evidence)
                w(
                    f'<tr><td>{_esc(dim)}</td><td><span class="s" data-labels '
                    f'style="{self._style(label)}">{_esc(label)}</span></td>'
                    f'<td class="n">{p.count}</td><td class="n">{p.share:.0%}</td>'
                    f'<td class="n">{p.max_score:.2f}</td><td>{ev}</td></tr>\n'
                )
        w("</table>\n</article>\n")

    def close(self) -> None:
        self.out.write("</body>\n</html>\n")


def _paragraphs(article: TaggedArticle) -> list[list[TaggedSentence]]:
    """Sentences grouped by the blank lines of the article text."""
    paras: list[list[TaggedSentence]] = [[]]
    prev_end = 0
    for s in article.sentences:
        gap = article.text[prev_end : s.start] if s.start is not None else ""
        if paras[-1] and gap.count("\n") >= 2:
            paras.append([])
        paras[-1].append(s)
        prev_end = s.end if s.end is not None else prev_end
    return [p for p in paras if p]


def _quoted(ngram: str) -> str:
    """An n-gram in quotes, its edge spaces (word boundaries of char n-grams) shown as _."""
    return '"' + ngram.replace(" ", "_") + '"' if ngram != ngram.strip() else f'"{ngram}"'


def _opt(text: str | None) -> str:
    return "null" if text is None else _enc(text)


def _esc(text: str) -> str:
    import html

    return html.escape(text, quote=True)

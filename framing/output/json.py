"""The JSON of tagged articles and sentences (``docs/output-format.md``): the one writer.

Every JSON text of tag output goes through :func:`encode_json`: msgspec encodes compact
JSON, the text of ``json.dumps(obj, ensure_ascii=False, separators=(",", ":"))`` byte for
byte (one JSONL line: no spaces after separators, as msgspec and orjson write it); with
``indent`` ``msgspec.json.format`` lays it out as ``json.dumps(..., indent=2)`` does.
msgspec writes a float as ``repr`` does in ``[1e-4, 1e16)``; the rare float outside
it is handed over as its ``repr`` text (:func:`exact_floats`), so every float keeps the
text of ``repr``.  A non-finite float (a broken model's score) is written ``null``.

The structure handed to msgspec is a few small Structs (a sentence, a hit, a piece of
evidence, a profile entry) in the key order of ``to_dict()``.  :func:`tag_json_lines`
fills them straight from the score arrays of a batch (``.tolist()`` columns), without
the result objects: what ``framing tag`` does for JSONL.  :func:`article_json` and
:func:`sentence_json` fill them from result objects.  Tests check that both give the
text of :func:`encode_json` for ``result.to_dict()``, and that it is ``json.dumps``' text.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Generator, Iterator, Mapping, Sequence
from contextlib import closing
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

import msgspec

from framing.files import OrderedFile
from framing.runtime.arrays import runs
from framing.runtime.inputs import InputFailure
from framing.runtime.profiles import profile_stats
from framing.runtime.raw_inputs import (
    FileSlice,
    RawInput,
    crashed_raw,
    raw_batches,
    raw_items,
    slice_batches,
)
from framing.runtime.results import OUTPUT_VERSION, TaggedArticle, TaggedSentence
from framing.runtime.tagging import (
    DEFAULT_BATCH_SIZE,
    Labeler,
    score_articles,
    split_articles,
    tag_batch,
)

if TYPE_CHECKING:
    import numpy as np

    from framing.runtime.model import Model
    from framing.runtime.ood import OutOfDistribution

__all__ = [
    "JsonBatch",
    "article_json",
    "encode_json",
    "exact_floats",
    "float_list",
    "sentence_json",
    "tag_json_batches",
    "tag_json_lines",
]

_encode = msgspec.json.Encoder().encode
_format = msgspec.json.format
_Raw = msgspec.Raw
_INF = float("inf")


def encode_json(obj: Any, *, indent: int = 0) -> bytes:
    """``json.dumps(obj, ensure_ascii=False, separators=(",", ":"))`` as UTF-8 bytes, or
    with ``indent`` ``json.dumps(obj, ensure_ascii=False, indent=indent)``.

    Floats outside ``[1e-4, 1e16)`` must come as :func:`exact_floats` gives them to
    keep ``repr``'s text (msgspec writes ``1e-05`` as ``0.00001``).
    """
    return _format(_encode(obj), indent=indent) if indent else _encode(obj)


def _float_text(value: float) -> Any:
    """A float msgspec would write differently from ``repr``, as ``repr``'s text."""
    return _Raw(repr(value).encode())


def _plain(value: float) -> bool:
    """Whether msgspec writes ``value`` as ``repr`` does (or it is not finite: null)."""
    return 1e-4 <= abs(value) < 1e16 or value == 0.0 or value != value or abs(value) == _INF


def exact_floats(obj: Any) -> Any:
    """``obj`` (JSON types) with every float that msgspec would write differently from
    ``repr`` replaced by its ``repr`` text (a copy only where one is replaced)."""
    kind = type(obj)
    if kind is float:
        return obj if _plain(obj) else _float_text(obj)
    if kind is dict:
        new = {k: exact_floats(v) for k, v in obj.items()}
        return obj if all(new[k] is v for k, v in obj.items()) else new
    if kind is list or kind is tuple:
        items = [exact_floats(v) for v in obj]
        return obj if all(a is b for a, b in zip(items, obj, strict=True)) else items
    return obj


def float_list(values: np.ndarray) -> list[Any]:
    """``values.tolist()``, each float that msgspec would write differently from ``repr``
    given as its ``repr`` text (checked on the whole array at once)."""
    import numpy as np

    out = values.tolist()
    size = np.abs(values)
    if not len(out) or (size.min() >= 1e-4 and size.max() < 1e16):  # the usual case
        return out
    odd = np.flatnonzero(((size < 1e-4) & (values != 0.0)) | ((size >= 1e16) & (size < _INF)))
    for k in odd.tolist():
        out[k] = _float_text(out[k])
    return out


class _Hit(msgspec.Struct, gc=False):
    """A predicted label of a sentence (``LabelScore.to_dict()``)."""

    label: str
    score: Any


class _Sentence(msgspec.Struct, gc=False):
    """``TaggedSentence.to_dict()`` of a body sentence."""

    index: int
    start: int | None
    end: int | None
    text: str
    labels: Any


class _Headline(msgspec.Struct, gc=False):
    """``TaggedSentence.to_dict()`` of a headline (no offsets)."""

    index: int
    text: str
    labels: Any


class _Evidence(msgspec.Struct, gc=False):
    """``Evidence.to_dict()``."""

    index: int
    text: str
    score: Any


class _Profile(msgspec.Struct, gc=False):
    """``LabelProfile.to_dict()``."""

    count: int
    share: Any
    max_score: Any
    mean_score: Any
    strength: Any
    evidence: list[_Evidence]


class _Ood(msgspec.Struct, gc=False):
    """``OutOfDistribution.to_dict()``."""

    flagged: bool
    score: Any
    threshold: Any
    ngrams: int


def _ood_obj(check: OutOfDistribution | None) -> Any:
    """``check.to_dict()`` (None without a check) for the writer."""
    if check is None:
        return None
    return _Ood(
        check.flagged, exact_floats(check.score), exact_floats(check.threshold), check.ngrams
    )


@functools.lru_cache(maxsize=16)
def _labels_struct(dims: tuple[str, ...]) -> type[msgspec.Struct]:
    """The Struct of a sentence's labels: one field per dimension, in order (made once
    per model, not per batch)."""
    return msgspec.defstruct(
        "Labels",
        [(f"d{k}", Any) for k in range(len(dims))],
        rename=dict((f"d{k}", dim) for k, dim in enumerate(dims)),
        gc=False,
    )


def _exact(value: float) -> Any:
    """One float as :func:`exact_floats` gives it."""
    return value if _plain(value) else _float_text(value)


def _sentence_obj(sentence: TaggedSentence) -> Any:
    """``sentence.to_dict()`` for the writer, as the Structs of the batch path when it
    holds only labels (the usual case), else the dict with :func:`exact_floats`."""
    s = sentence
    if s.scores is not None or s.explanations is not None or s.probabilities is not None:
        return exact_floats(s.to_dict())
    labels = {
        dim: [_Hit(ls.label, _exact(ls.score)) for ls in found] for dim, found in s.labels.items()
    }
    if s.start is None:
        return _Headline(s.index, s.text, labels)
    return _Sentence(s.index, s.start, s.end, s.text, labels)


def _article_obj(article: TaggedArticle, include_text: bool) -> Any:
    """``article.to_dict(include_text=...)`` for the writer (see :func:`_sentence_obj`)."""
    if article.document is not None:
        return exact_floats(article.to_dict(include_text=include_text))
    data: dict[str, Any] = {
        "version": OUTPUT_VERSION,
        "doc_id": article.doc_id,
        "title": article.title,
        "model": exact_floats(article.model),
        "n_sentences": len(article.sentences),
        "out_of_distribution": _ood_obj(article.out_of_distribution),
    }
    if include_text:
        data["text"] = article.text
    data["sentences"] = list(map(_sentence_obj, article.sentences))
    data["profile"] = {
        dim: {
            label: _Profile(
                p.count,
                _exact(p.share),
                _exact(p.max_score),
                _exact(p.mean_score),
                None if p.strength is None else _exact(p.strength),
                [_Evidence(e.index, e.text, _exact(e.score)) for e in p.evidence],
            )
            for label, p in labels.items()
        }
        for dim, labels in article.profile.items()
    }
    if article.meta:
        data["meta"] = exact_floats(dict(article.meta))
    return data


def sentence_json(sentence: TaggedSentence, *, indent: int = 0) -> str:
    """The JSON text of ``sentence.to_dict()`` (:func:`encode_json`)."""
    return encode_json(_sentence_obj(sentence), indent=indent).decode()


def article_json(article: TaggedArticle, *, include_text: bool = False, indent: int = 0) -> str:
    """The JSON text of ``article.to_dict(include_text=...)`` (:func:`encode_json`)."""
    return encode_json(_article_obj(article, include_text), indent=indent).decode()


def _article_dicts(
    plan: Labeler,
    model: Model,
    articles: Sequence[tuple[str | None, str | None, str]],
) -> tuple[list[dict[str, Any]], list[int]]:
    """The JSON structure of each article of a batch (what ``TaggedArticle.to_dict()``
    gives) and its number of sentences, built from the score arrays without the result
    objects: per sentence, hit and profile entry a small msgspec Struct filled from
    ``.tolist()`` columns."""
    import numpy as np

    if model.level == "document":  # one short line per article: the objects are cheap
        tagged = tag_batch(plan, model, articles, False)
        return [_article_obj(a, False) for a in tagged], [0] * len(tagged)
    texts, starts, ends, indexes, bounds = split_articles(articles)
    n, n_articles = len(texts), len(articles)
    sizes = [bounds[a + 1] - bounds[a] for a in range(n_articles)]
    scores, checks = score_articles(model, articles, texts, starts, ends, bounds)
    masks = plan.masks(scores)
    stats = profile_stats(plan, scores, masks, bounds)
    dims = plan.dims
    labels_of = _labels_struct(tuple(dims))
    per_dim = []
    for dim in dims:
        names = plan.labels[dim]
        rows, cols, values = stats[dim].hits
        items = list(map(_Hit, map(names.__getitem__, cols.tolist()), float_list(values)))
        labels: list[Any] = [()] * n
        for r, lo, hi in zip(*runs(rows), strict=True):
            labels[r] = items[lo:hi]
        per_dim.append(labels)
    sentences: list[Any] = list(
        map(_Sentence, indexes, starts, ends, texts, map(labels_of, *per_dim))
    )
    for k, start in enumerate(starts if None in starts else ()):
        if start is None:  # a headline: no offsets
            s = sentences[k]
            sentences[k] = _Headline(s.index, s.text, s.labels)
    # Profiles: one entry per (article, label) carried, with its evidence.
    profiles: list[dict[str, Any]] = [{} for _ in range(n_articles)]
    for dim in dims:
        names = plan.labels[dim]
        st = stats[dim]
        ev_rows = st.ev_rows.tolist()
        evidence = list(
            map(
                _Evidence,
                map(indexes.__getitem__, ev_rows),
                map(texts.__getitem__, ev_rows),
                float_list(st.ev_scores),
            )
        )
        _, ev_lo, ev_hi = runs(st.ev_articles * len(names) + st.ev_cols)
        arts, cols = np.nonzero(st.counts)
        strengths = st.strengths[arts, cols]
        strength = float_list(strengths)
        for k in np.flatnonzero(np.isnan(strengths)).tolist():
            strength[k] = None
        entries = list(
            zip(
                map(names.__getitem__, cols.tolist()),
                map(
                    _Profile,
                    st.counts[arts, cols].tolist(),
                    float_list(st.shares[arts, cols]),
                    float_list(st.maxes[arts, cols]),
                    float_list(st.means[arts, cols]),
                    strength,
                    [evidence[lo:hi] for lo, hi in zip(ev_lo, ev_hi, strict=True)],
                ),
                strict=True,
            )
        )
        for profile in profiles:
            profile[dim] = {}
        for a, lo, hi in zip(*runs(arts), strict=True):
            profiles[a][dim] = dict(entries[lo:hi])
    info = _Raw(_encode(plan.model_info))  # the same for every article: encoded once
    out = [
        {
            "version": OUTPUT_VERSION,
            "doc_id": doc_id,
            "title": title,
            "model": info,
            "n_sentences": sizes[a],
            "out_of_distribution": _ood_obj(check),
            "sentences": sentences[bounds[a] : bounds[a + 1]],
            "profile": profiles[a],
        }
        for a, ((doc_id, title, _), check) in enumerate(zip(articles, checks, strict=True))
    ]
    return out, sizes


def tag_json_lines(
    paths: Sequence[str | Path],
    model: Model,
    *,
    batch_size: int = DEFAULT_BATCH_SIZE,
    stdin: IO[bytes] | None = None,
    on_file: Any = None,
    as_bytes: bool = False,
    n_jobs: int = 1,
    doc_ids: Sequence[str] | None = None,
    meta: Mapping[str, Any] | None = None,
    slices: Sequence[FileSlice] | None = None,
) -> Iterator[tuple[Any, int] | InputFailure]:
    """:func:`framing.runtime.tagging.tag` as JSON lines: ``(article_json(a), n_sentences)``.

    The same text as :func:`article_json` of ``tag``'s articles, written straight from
    the scores without building the result objects (what ``framing tag`` does for
    JSONL output).  With ``as_bytes`` each line is UTF-8 ``bytes`` ending in a
    newline, ready for a binary file.  Failures come out as :class:`InputFailure`
    in their place.  ``meta`` and ``n_jobs`` as in :func:`framing.runtime.tagging.tag`; ``doc_ids``:
    the ids of ``.txt`` inputs, one per path (see ``framing.runtime.inputs.input_batches``);
    ``slices``: tag these parts of files instead of ``paths`` (see
    :class:`framing.runtime.raw_inputs.FileSlice`).
    """
    from framing.runtime.parallel import map_with_model

    # With several workers, reading and parsing the inputs is theirs.
    if slices is not None:  # parts of files (a shard of a large JSONL file), not ``paths``
        batches = slice_batches(slices, batch_size)
    else:
        batches = raw_batches(paths, batch_size, stdin, on_file, doc_ids, by_reference=n_jobs > 1)
    payloads = ((batch, meta, as_bytes) for batch in batches)
    if n_jobs > 1:
        for items in map_with_model(
            model, _json_lines, payloads, n_jobs=n_jobs, on_crash=crashed_raw
        ):
            yield from items
        return
    labeler = Labeler(model)
    for payload in payloads:
        yield from _json_lines(model, labeler, payload)


@dataclass(slots=True)
class JsonBatch:
    """A batch of inputs tagged as JSONL: every article's line (UTF-8, in input order)
    in ``data``, or in the file ``part`` when its worker wrote them there; how many
    articles and sentences that is, and the inputs that failed."""

    data: bytes = b""
    articles: int = 0
    sentences: int = 0
    failures: list[InputFailure] = field(default_factory=list)
    part: str | None = None

    def write_to(self, out: IO[bytes]) -> None:
        """Append the batch's lines to ``out`` (a part file is copied, then removed)."""
        if self.part is None:
            out.write(self.data)
            return
        from framing.files import append_file

        append_file(self.part, out)
        os.unlink(self.part)


def tag_json_batches(
    paths: Sequence[str | Path],
    model: Model,
    *,
    batch_size: int = DEFAULT_BATCH_SIZE,
    stdin: IO[bytes] | None = None,
    on_file: Any = None,
    n_jobs: int = 1,
    meta: Mapping[str, Any] | None = None,
    part_dir: str | Path | None = None,
    into: IO[bytes] | None = None,
) -> Generator[JsonBatch, None, None]:
    """:func:`tag_json_lines` (``as_bytes``) a batch at a time, each batch's lines joined:
    what ``framing tag`` writes.

    With several workers the main process only hands out work: each worker reads its
    inputs itself (files are given by where their bytes are, not sent) and, with
    ``part_dir`` (an empty folder, see :func:`framing.files.scratch_dir`), writes each
    batch's lines to a file there (:attr:`JsonBatch.part`) instead of sending them back;
    :meth:`JsonBatch.write_to` joins the parts in order.  With ``into`` as well (the
    binary output file, open here; workers that are forks of this process), the lines go
    into it in input order as the batches come (:class:`framing.files.OrderedFile`): a
    worker whose batch is next writes it in place, the others' parts are copied in here,
    and the batches given out carry only counts and failures."""
    from framing.runtime.parallel import inherits_parent, map_with_model

    global _ORDERED
    if n_jobs > 1:
        batches = raw_batches(paths, batch_size, stdin, on_file, by_reference=True)
        folder = None if part_dir is None else Path(part_dir)
        payloads = (
            (batch, meta, None if folder is None else str(folder / f"{k:06d}.jsonl"), k)
            for k, batch in enumerate(batches)
        )
        if into is None or folder is None or not inherits_parent():
            yield from map_with_model(
                model, _json_batch, payloads, n_jobs=n_jobs, on_crash=_crashed_batch
            )
            return
        ordered = _ORDERED = OrderedFile(into)
        try:
            done = map_with_model(
                model, _json_batch, payloads, n_jobs=n_jobs, on_crash=_crashed_batch
            )
            with closing(done):  # the workers stop before the parts go
                for k, result in enumerate(done):
                    ordered.add(k, result.part)
                    if result.part is not None:
                        os.unlink(result.part)
                        result.part = None
                    yield result
            ordered.finish()
        finally:
            _ORDERED = None
        return
    labeler = Labeler(model)
    for batch in raw_batches(paths, batch_size, stdin, on_file):
        yield _json_batch(model, labeler, (batch, meta, None))


#: The output the batches of :func:`tag_json_batches` go into (inherited by forked workers).
_ORDERED: OrderedFile | None = None


def _json_batch(
    model: Model,
    labeler: Labeler,
    payload: tuple[Any, ...],
) -> JsonBatch:
    """Tag one batch: ``(inputs, meta, part file or None[, batch number])``."""
    out = JsonBatch()
    lines = []
    for item in _json_inputs(model, labeler, payload[:2]):
        if isinstance(item, InputFailure):
            out.failures.append(item)
        else:
            lines.append(item[0])
            out.sentences += item[1]
    out.articles = len(lines)
    # Each line's newline comes with the join: adding it to each line copied the
    # batch's text once more.
    data = b"\n".join([*lines, b""]) if lines else b""
    part = payload[2]
    if _ORDERED is not None and len(payload) > 3 and _ORDERED.write_next(payload[3], [data]):
        return out  # written into the output in place
    if part is None:
        out.data = data
    else:
        # Not created if missing: the folder is gone when the run was stopped.
        with open(part, "wb") as fh:
            fh.write(data)
        out.part = part
    return out


def _crashed_batch(payload: tuple[Any, ...], reason: str) -> JsonBatch:
    return JsonBatch(failures=crashed_raw(payload, reason))


def _json_lines(
    model: Model,
    labeler: Labeler,
    payload: tuple[list[RawInput | FileSlice | InputFailure], Mapping[str, Any] | None, bool],
) -> list[tuple[Any, int] | InputFailure]:
    """:func:`_json_inputs` of ``(inputs, meta, as_bytes)``, each line a ``str``, or with
    ``as_bytes`` UTF-8 ending in a newline."""
    items = _json_inputs(model, labeler, payload[:2])
    if payload[2]:
        return [i if isinstance(i, InputFailure) else (i[0] + b"\n", i[1]) for i in items]
    return [i if isinstance(i, InputFailure) else (i[0].decode(), i[1]) for i in items]


def _json_inputs(
    model: Model,
    labeler: Labeler,
    payload: tuple[list[RawInput | FileSlice | InputFailure], Mapping[str, Any] | None],
) -> list[tuple[bytes, int] | InputFailure]:
    """One batch of inputs as JSON lines (UTF-8, no newline) with their number of
    sentences, failures in their place."""
    from framing.runtime.tagging import merge_meta

    raw, meta = payload
    batch = list(raw_items(raw))
    units = [u for u in batch if not isinstance(u, InputFailure)]
    objs, sizes = _article_dicts(labeler, model, [u[:3] for u in units])
    if meta or any(u[4] is not None for u in units):
        for obj, u in zip(objs, units, strict=True):
            own = merge_meta(meta, u[4])
            if own:
                obj["meta"] = exact_floats(own)
    results = iter(zip(map(encode_json, objs), sizes, strict=True))
    return [item if isinstance(item, InputFailure) else next(results) for item in batch]

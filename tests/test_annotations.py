from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from framing.errors import AnnotationError, InputNotFoundError
from framing.format.annotations import (
    SPLITS,
    Document,
    Sentence,
    iter_records,
    read_corpus,
    validate,
    write_jsonl,
)
from framing.format.codebook import load_codebook


def _write(path: Path, *records: object) -> Path:
    lines = [r if isinstance(r, str) else json.dumps(r) for r in records]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _sent(i: int, **extra: object) -> dict[str, object]:
    record: dict[str, object] = {
        "id": f"s{i}",
        "doc_id": "d1",
        "text": f"Sentence {i}.",
        "frames": [],
        "rhetoric": [],
    }
    record.update(extra)
    return record


def _messages(path: Path, codebook_path: Path | None = None) -> list[str]:
    cb = load_codebook(codebook_path) if codebook_path else None
    return [str(p) for p in validate([path], cb).problems]


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("{not json", "invalid JSON"),
        ('["a list"]', "a record must be a JSON object, got an array"),
        (
            '{"doc_id": "d1", "text": "Hi.", "frames": [], "rhetoric": []}',
            "missing required field 'id'",
        ),
        (
            '{"id": 3, "doc_id": "d1", "text": "Hi.", "frames": [], "rhetoric": []}',
            "'id' must be a string, got a number",
        ),
        ('{"id": "x", "doc_id": "d1", "text": "  ", "frames": [], "rhetoric": []}', "empty text"),
        (
            '{"id": "x", "doc_id": "d1", "text": "Hi.", "frames": ["econ"], "rhetoric": []}',
            "label 'econ' is not in the codebook's 'frames' (did you mean 'economic'?)",
        ),
        (
            '{"id": "x", "doc_id": "d1", "text": "Hi.", "frames": ["loaded_language"], "rhetoric": []}',
            "label 'loaded_language' belongs to dimension 'rhetoric', not 'frames'",
        ),
        (
            '{"id": "x", "doc_id": "d1", "text": "Hi.", "frmes": [], "frames": [], "rhetoric": []}',
            "unknown field 'frmes' (did you mean 'frames'?)",
        ),
        (
            '{"id": "x", "doc_id": "d1", "text": "Hi.", "rhetoric": []}',
            "missing label list 'frames'",
        ),
        (
            '{"id": "x", "doc_id": "d1", "text": "Hi.", "frames": "economic", "rhetoric": []}',
            "'frames' must be a list of label ids",
        ),
        (
            '{"id": "x", "doc_id": "d1", "text": "Hi.", "frames": ["economic"], "rhetoric": [], "status": "todo"}',
            "'frames' has labels on a 'todo' record",
        ),
        (
            '{"id": "x", "doc_id": "d1", "text": "Hi.", "frames": [], "rhetoric": [], "status": "dnoe"}',
            "'status' must be one of todo, done, skip, got 'dnoe' (did you mean 'done'?)",
        ),
        (
            '{"id": "x", "doc_id": "d1", "text": "Hi.", "frames": [], "rhetoric": [], "split": "tset"}',
            "'split' must be one of train, dev, test",
        ),
        (
            '{"id": "x", "doc_id": "d1", "text": "Hi.", "frames": [], "rhetoric": [], "start": 3}',
            "'start' and 'end' go together",
        ),
        (
            '{"id": "x", "doc_id": "d1", "text": "Hi.", "frames": [], "rhetoric": [], "start": 3, "end": 9}',
            "offsets 3:9 span 6 characters but the text has 3",
        ),
        (
            '{"id": "x", "doc_id": "d1", "text": "Hi.", "frames": [], "rhetoric": [], "meta": []}',
            "'meta' must be an object",
        ),
        (
            '{"id": "x", "doc_id": "d1", "text": "Hi.", "frames": [], "rhetoric": [], "suggested": {"frames": {"economic": "high"}}}',
            "'suggested' must map a dimension",
        ),
        ('{"type": "paragraph", "doc_id": "d1"}', "'type' must be one of sentence, document"),
    ],
)
def test_annotations_validate_error_classes(
    tmp_path: Path, mini_codebook_path: Path, line: str, expected: str
) -> None:
    path = _write(tmp_path / "a.jsonl", _sent(1), line)
    messages = _messages(path, mini_codebook_path)
    assert any(m.startswith(f"{path}:2: error: ") and expected in m for m in messages), messages
    assert not any(":1:" in m for m in messages)


def test_annotations_validate_reports_all_problems_in_order(
    tmp_path: Path, mini_codebook_path: Path
) -> None:
    path = _write(
        tmp_path / "a.jsonl", _sent(1), "{bad", _sent(2, frames=["econ"]), _sent(3, text="")
    )
    report = validate([path], load_codebook(mini_codebook_path))
    assert [p.line for p in report.errors] == [2, 3, 4]
    assert report.sentences == 3
    assert not report.ok


def test_annotations_duplicate_id_names_both_lines(tmp_path: Path) -> None:
    a = _write(tmp_path / "a.jsonl", _sent(1), _sent(2))
    b = _write(tmp_path / "b.jsonl", _sent(3), _sent(1))
    messages = [str(p) for p in validate([tmp_path]).problems]
    assert messages == [
        f"{b}:2: error: duplicate id 's1' (first used at {a}:1) "
        "(ids must be unique across the corpus)"
    ]


def test_annotations_duplicate_document_record(tmp_path: Path) -> None:
    doc = {"type": "document", "doc_id": "d1", "title": "T"}
    path = _write(tmp_path / "a.jsonl", doc, _sent(1), doc)
    assert any(
        ":3: error: duplicate document record 'd1' (first at" in str(p)
        for p in validate([path]).problems
    )


def test_annotations_offsets_checked_against_document_text(tmp_path: Path) -> None:
    doc = {"type": "document", "doc_id": "d1", "text": "One. Two."}
    good = _sent(1, text="Two.", start=5, end=9)
    bad = _sent(2, text="Two.", start=4, end=8)
    path = _write(tmp_path / "a.jsonl", doc, good, bad)
    messages = [str(p) for p in validate([path]).problems]
    assert len(messages) == 1
    assert f"{path}:3: error: offsets 4:8 do not match the text" in messages[0]


def test_annotations_encoding_problems(tmp_path: Path) -> None:
    path = tmp_path / "a.jsonl"
    good = json.dumps(_sent(1)).encode()
    path.write_bytes(
        b"\xef\xbb\xbf"
        + good
        + b"\r\n"
        + good.replace(b"s1", b"s2")
        + b"\r\n"
        + b'{"id": "s3", "doc_id": "d1", "text": "caf\xe9"}\n'
    )
    report = validate([path])
    by_code = {p.code: p for p in report.problems}
    assert by_code["bom"].line == 1 and by_code["bom"].severity == "error"
    assert by_code["crlf"].severity == "warning"
    assert "2 line(s)" in by_code["crlf"].message
    assert by_code["encoding"].line == 3
    assert "invalid UTF-8 byte 0xe9" in by_code["encoding"].message


def test_annotations_crlf_alone_is_only_a_warning(tmp_path: Path) -> None:
    path = tmp_path / "a.jsonl"
    path.write_bytes(json.dumps(_sent(1)).encode() + b"\r\n")
    report = validate([path])
    assert report.ok
    assert [p.code for p in report.warnings] == ["crlf"]


def test_annotations_empty_file_and_missing_paths(tmp_path: Path) -> None:
    (tmp_path / "empty.jsonl").write_text("", encoding="utf-8")
    report = validate([tmp_path / "empty.jsonl"])
    assert [p.code for p in report.errors] == ["empty-file"]
    with pytest.raises(InputNotFoundError, match="no such file or folder"):
        validate([tmp_path / "missing.jsonl"])
    (tmp_path / "sub").mkdir()
    with pytest.raises(InputNotFoundError, match="holds no .jsonl file"):
        validate([tmp_path / "sub"])


def test_annotations_without_codebook_accepts_any_dimension(tmp_path: Path) -> None:
    path = _write(tmp_path / "a.jsonl", {"id": "s1", "doc_id": "d", "text": "A.", "topics": ["x"]})
    assert validate([path]).ok
    path = _write(tmp_path / "b.jsonl", {"id": "s1", "doc_id": "d", "text": "A.", "topic": "x"})
    assert "unknown field 'topic'" in str(validate([path]).problems[0])


def test_annotations_iter_records_streams_and_stops_at_first_error(tmp_path: Path) -> None:
    path = _write(tmp_path / "a.jsonl", _sent(1), _sent(2), "{oops", _sent(3))
    records = iter_records([path])
    assert next(records).id == "s1"  # type: ignore[union-attr]
    assert next(records).id == "s2"  # type: ignore[union-attr]
    with pytest.raises(AnnotationError, match=r"a\.jsonl:3: invalid JSON"):
        next(records)


def test_annotations_read_corpus_collects_every_error(tmp_path: Path) -> None:
    path = _write(tmp_path / "a.jsonl", _sent(1, text=""), _sent(2), _sent(2))
    with pytest.raises(AnnotationError) as info:
        read_corpus([path])
    assert [p.line for p in info.value.problems] == [1, 3]


def test_annotations_corpus_split_falls_back_to_document(tmp_path: Path) -> None:
    path = _write(
        tmp_path / "a.jsonl",
        {"type": "document", "doc_id": "d1", "split": "dev"},
        _sent(1),
        _sent(2, split="test", status="done"),
        _sent(3, status="todo", frames=[], rhetoric=[]),
    )
    corpus = read_corpus([path])
    assert [corpus.split_of(s) for s in corpus.sentences] == ["dev", "test", "dev"]
    assert [s.id for s in corpus.done()] == ["s1", "s2"]


def test_annotations_write_is_atomic(tmp_path: Path) -> None:
    path = tmp_path / "out.jsonl"
    write_jsonl(path, [Sentence(id="a", doc_id="d", text="Keep me.")])
    before = path.read_bytes()

    def records():  # type: ignore[no-untyped-def]
        yield Sentence(id="b", doc_id="d", text="Half.")
        raise RuntimeError("interrupted")

    with pytest.raises(RuntimeError):
        write_jsonl(path, records())
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["out.jsonl"]


_text = st.text(min_size=1).filter(lambda s: s.strip() != "")
_label_lists = st.lists(st.sampled_from(["economic", "security", "x y: z, w"]), unique=True)


@given(
    id=_text,
    doc_id=_text,
    text=_text,
    frames=_label_lists,
    status=st.sampled_from(["done", "todo", "skip"]),
    split=st.none() | st.sampled_from(list(SPLITS)),
    index=st.none() | st.integers(min_value=0, max_value=10_000),
    note=st.none() | st.text(),
    meta=st.dictionaries(st.text(max_size=5), st.text(max_size=5) | st.integers(), max_size=3),
)
@settings(deadline=None)  # a loaded 2-core CI machine can take over 200 ms for one example
def test_annotations_sentence_round_trip(
    id: str,
    doc_id: str,
    text: str,
    frames: list[str],
    status: str,
    split: str | None,
    index: int | None,
    note: str | None,
    meta: dict[str, object],
) -> None:
    s = Sentence(
        id=id,
        doc_id=doc_id,
        text=text,
        labels={"frames": tuple(frames)},
        status=status,
        split=split,
        sent_index=index,
        note=note,
        meta=meta,
    )
    again = Sentence.from_dict(json.loads(json.dumps(s.to_dict())))
    assert again == s


@given(title=st.none() | st.text(), text=st.none() | st.text(), labels=_label_lists)
@settings(deadline=None)  # a loaded 2-core CI machine can take over 200 ms for one example
def test_annotations_document_round_trip(
    title: str | None, text: str | None, labels: list[str]
) -> None:
    d = Document(doc_id="d1", title=title, text=text, labels={"frames": tuple(labels)})
    again = Document.from_dict(json.loads(json.dumps(d.to_dict())))
    assert again == d


def test_annotations_written_file_validates(tmp_path: Path, mini_codebook_path: Path) -> None:
    records = [
        Document(doc_id="d1", title="T", text="Prices rose. Troops massed."),
        Sentence(
            id="s1",
            doc_id="d1",
            text="Prices rose.",
            start=0,
            end=12,
            labels={"frames": ("economic",), "rhetoric": ()},
        ),
        Sentence(
            id="s2",
            doc_id="d1",
            text="Troops massed.",
            start=13,
            end=27,
            labels={"frames": ("security",), "rhetoric": ()},
        ),
    ]
    path = tmp_path / "out.jsonl"
    assert write_jsonl(path, records) == 3
    report = validate([path], load_codebook(mini_codebook_path))
    assert report.ok, [str(p) for p in report.problems]
    assert list(iter_records([path])) == records

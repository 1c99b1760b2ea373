"""The table of hostile inputs: every command that reads files × every bad-input class.

``tests/test_hostile_inputs.py`` runs the table; ``docs/reliability.md`` gives its size.
Each class writes its input files into a fresh folder and says the exit code every
command must give for it (1: the data has problems, 2: a usage problem), or a command
overrides it where its contract differs.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
FORMATS = REPO / "tests" / "data" / "formats"
#: A valid file of each format a command may read (our JSONL is built from GOOD).
VALID_FILES = {
    "labelstudio": FORMATS / "labelstudio" / "export.json",
    "doccano": FORMATS / "doccano" / "export.jsonl",
    "prodigy": FORMATS / "prodigy" / "db.jsonl",
}

GOOD = [
    {"id": "s1", "doc_id": "d1", "text": "The West is a threat.", "frames": [], "rhetoric": []},
    {"id": "s2", "doc_id": "d1", "text": "Talks resume in Geneva.", "frames": [], "rhetoric": []},
]


def _jsonl(records: list[dict]) -> bytes:
    return "".join(json.dumps(r) + "\n" for r in records).encode()


@dataclass(frozen=True)
class Command:
    """A command line over one input (``{in}``), an output (``{out}``) and a good file."""

    name: str
    args: tuple[str, ...]
    #: The kind of file the command reads: jsonl (todo-jsonl: unannotated), text, or a
    #: tool's format (labelstudio, doccano, prodigy).
    reads: str = "jsonl"
    writes: bool = True
    #: Exit codes that differ from a class's default for this command.
    overrides: dict[str, int] = field(default_factory=dict)


#: Labels and ids are checked by the commands that read annotations as annotations;
#: exporters, tag and the model commands carry them through (exit 0).
CARRIED = {"unknown-labels": 0, "duplicate-ids": 0}
#: A byte order mark is an error in annotation JSONL (the format says UTF-8 without
#: BOM); readers of prose and of tools' JSON drop it.
BOM_OK = {"bom": 0}

COMMANDS = [
    Command("validate", ("validate", "{in}"), writes=False),
    Command("stats", ("stats", "{in}"), writes=False, overrides={"duplicate-ids": 0}),
    Command("agree", ("agree", "{in}", "{good}"), writes=False),
    # Prose that happens to start like JSON is prose.
    Command(
        "tag",
        ("tag", "{in}", "-o", "{out}"),
        reads="text",
        overrides={"truncated-json": 0, **CARRIED, **BOM_OK},
    ),
    Command("tag-jsonl", ("tag", "{in}", "-o", "{out}"), overrides={**CARRIED, **BOM_OK}),
    # import takes prose: a JSON file is a usage error, prose starting like JSON is prose.
    Command(
        "import",
        ("import", "{in}", "-o", "{out}"),
        reads="text",
        overrides={"truncated-json": 0, "unknown-labels": 2, "duplicate-ids": 2, **BOM_OK},
    ),
    Command(
        "import-labelstudio",
        ("import", "labelstudio", "{in}", "-o", "{out}"),
        reads="labelstudio",
        overrides=BOM_OK,
    ),
    Command(
        "import-doccano",
        ("import", "doccano", "{in}", "-o", "{out}"),
        reads="doccano",
        overrides={"unknown-labels": 0, **BOM_OK},  # doccano records carry their labels
    ),
    Command(
        "import-prodigy",
        ("import", "prodigy", "{in}", "-o", "{out}"),
        reads="prodigy",
        overrides=BOM_OK,
    ),
    Command(
        "export-labelstudio", ("export", "labelstudio", "{in}", "-o", "{out}"), overrides=CARRIED
    ),
    Command("export-doccano", ("export", "doccano", "{in}", "-o", "{out}"), overrides=CARRIED),
    Command("adjudicate", ("adjudicate", "{in}", "{good}", "-o", "{out}")),
    Command(
        "preannotate",
        ("preannotate", "default", "{in}", "-o", "{out}"),
        reads="todo-jsonl",
        overrides={"duplicate-ids": 0},
    ),
    Command(
        "suggest", ("suggest", "default", "{in}", "-n", "1", "-o", "{out}"), reads="todo-jsonl"
    ),
    Command("eval", ("eval", "default", "{in}"), writes=False),
]


@dataclass(frozen=True)
class InputClass:
    """A bad input: ``make(folder, command)`` returns the input path to give."""

    name: str
    make: Callable[[Path, Command], Path]
    exit_code: int
    #: The message must name the input file (False for inputs that are not files).
    names_file: bool = True


def _file(folder: Path, name: str, data: bytes) -> Path:
    path = folder / name
    path.write_bytes(data)
    return path


def _suffix(command: Command) -> str:
    return {"text": ".txt", "labelstudio": ".json"}.get(command.reads, ".jsonl")


def _valid(command: Command) -> bytes:
    if command.reads == "text":
        return b"The West is a threat.\n\nTalks resume in Geneva.\n"
    if command.reads in VALID_FILES:
        return VALID_FILES[command.reads].read_bytes()
    if command.reads == "todo-jsonl":
        return _jsonl([dict(r, status="todo") for r in GOOD])
    return _jsonl(GOOD)


def missing(folder: Path, command: Command) -> Path:
    return folder / f"missing{_suffix(command)}"


def empty_folder(folder: Path, command: Command) -> Path:
    (folder / "empty").mkdir()
    (folder / "empty" / "notes.md").write_text("nothing to read here\n")
    return folder / "empty"


def empty_file(folder: Path, command: Command) -> Path:
    return _file(folder, f"empty{_suffix(command)}", b"")


def non_utf8(folder: Path, command: Command) -> Path:
    data = _valid(command).replace(b"e", b"\xe9", 1)
    return _file(folder, f"latin1{_suffix(command)}", data)


def binary(folder: Path, command: Command) -> Path:
    return _file(folder, f"binary{_suffix(command)}", bytes(range(256)) * 64)


def truncated(folder: Path, command: Command) -> Path:
    data = _valid(command)
    if command.reads == "text":
        data = b'{"id": "a1", "text": "The West is a thr'
    return _file(folder, f"truncated{_suffix(command)}", data[: len(data) * 2 // 3])


def bom(folder: Path, command: Command) -> Path:
    return _file(folder, f"bom{_suffix(command)}", b"\xef\xbb\xbf" + _valid(command))


def crlf(folder: Path, command: Command) -> Path:
    return _file(folder, f"crlf{_suffix(command)}", _valid(command).replace(b"\n", b"\r\n"))


def unknown_labels(folder: Path, command: Command) -> Path:
    records = [dict(r, frames=["no_such_frame"], status="done") for r in GOOD]
    return _file(folder, "unknown.jsonl", _jsonl(records))


def duplicate_ids(folder: Path, command: Command) -> Path:
    return _file(folder, "dupes.jsonl", _jsonl([GOOD[0], GOOD[0]]))


def huge_line(folder: Path, command: Command, size: int = 200 * 1024 * 1024) -> Path:
    path = folder / f"huge{_suffix(command)}"
    with open(path, "wb") as out:
        out.write(b'{"id": "h1", "doc_id": "d1", "text": "')
        chunk = b"word " * (1024 * 1024 // 5)
        for _ in range(size // len(chunk)):
            out.write(chunk)
        out.write(b'"}\n')
    return path


CLASSES = [
    InputClass("missing-path", missing, 2),
    InputClass("folder-without-inputs", empty_folder, 2),
    InputClass("empty-file", empty_file, 1),
    InputClass("non-utf8", non_utf8, 1),
    InputClass("binary", binary, 1),
    InputClass("truncated-json", truncated, 1),
    InputClass("bom", bom, 1),
    InputClass("crlf", crlf, 0, names_file=False),
    InputClass("unknown-labels", unknown_labels, 1),
    InputClass("duplicate-ids", duplicate_ids, 1),
]

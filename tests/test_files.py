"""framing.files: atomic writes, permissions, left-overs, signals, outputs over inputs."""

from __future__ import annotations

import os
import signal
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from framing.cli import app
from framing.errors import UsageError
from framing.files import (
    TEMP_SUFFIX,
    append_file,
    atomic_dir,
    atomic_write,
    check_writable,
    refuse_same_file,
    scratch_dir,
    sweep_temporaries,
    write_text,
)

REPO = Path(__file__).resolve().parents[1]


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.mark.parametrize("umask, expected", [(0o022, 0o644), (0o077, 0o600), (0o002, 0o664)])
def test_files_written_with_the_umask_permissions(tmp_path: Path, umask: int, expected: int):
    old = os.umask(umask)
    try:
        target = tmp_path / "out.txt"
        target.write_text("old")
        target.chmod(0o640)
        write_text(target, "new\n")
        assert _mode(target) == expected
        with atomic_dir(tmp_path / "folder") as folder:
            (folder / "x").write_text("x")
        assert _mode(tmp_path / "folder") == 0o777 & ~umask
    finally:
        os.umask(old)


def test_files_failed_write_keeps_the_old_content(tmp_path: Path) -> None:
    target = tmp_path / "out.jsonl"
    target.write_text("precious\n")
    with pytest.raises(RuntimeError), atomic_write(target) as out:
        out.write("half")
        raise RuntimeError("boom")
    assert target.read_text() == "precious\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.jsonl"]


def test_files_leftover_temporary_is_swept_by_the_next_write(tmp_path: Path) -> None:
    target = tmp_path / "out.jsonl"
    dead = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        capture_output=True,
        text=True,
        check=True,
    )
    leftover = tmp_path / f".out.jsonl.{dead.stdout.strip()}-abcd{TEMP_SUFFIX}"
    leftover.write_text("x" * 1000)
    live = tmp_path / f".out.jsonl.{os.getppid()}-abcd{TEMP_SUFFIX}"
    live.write_text("another process is writing")
    other = tmp_path / f".other.jsonl.1-abcd{TEMP_SUFFIX}"
    other.write_text("not ours")
    write_text(target, "new\n")
    assert not leftover.exists()
    assert live.exists() and other.exists()
    assert sweep_temporaries(target) == []


_WRITER = """
import sys, time
from framing.files import atomic_write
with atomic_write(sys.argv[1]) as out:
    out.write("partial " * 1000)
    out.flush()
    print("writing", flush=True)
    time.sleep(60)
"""


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT, signal.SIGHUP])
def test_files_signal_during_a_write_removes_the_temporary(tmp_path: Path, sig: int) -> None:
    target = tmp_path / "out.jsonl"
    target.write_text("precious\n")
    proc = subprocess.Popen(
        [sys.executable, "-c", _WRITER, str(target)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=REPO,
    )
    assert proc.stdout is not None
    assert proc.stdout.readline().strip() == "writing"
    assert any(p.name.endswith(TEMP_SUFFIX) for p in tmp_path.iterdir())
    proc.send_signal(sig)
    proc.wait(timeout=30)
    assert proc.returncode != 0
    assert target.read_text() == "precious\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.jsonl"]


def test_files_refuse_same_file_sees_links(tmp_path: Path) -> None:
    data = tmp_path / "in.jsonl"
    data.write_text("{}\n")
    (tmp_path / "sym.jsonl").symlink_to(data)
    os.link(data, tmp_path / "hard.jsonl")
    for output in (
        data,
        tmp_path / "sym.jsonl",
        tmp_path / "hard.jsonl",
        tmp_path / "." / "in.jsonl",
    ):
        with pytest.raises(UsageError, match="would overwrite an input"):
            refuse_same_file(output, [data])
    refuse_same_file(tmp_path / "new.jsonl", [data])
    with pytest.raises(UsageError, match="inside the input folder"):
        refuse_same_file(data, [tmp_path])


def test_files_check_writable(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("")
    with pytest.raises(UsageError, match="not a folder"):
        check_writable(blocker / "sub" / "out.jsonl")
    with pytest.raises(UsageError, match="is a folder"):
        check_writable(tmp_path)
    check_writable(tmp_path / "new" / "deeper" / "out.jsonl")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["file"]


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into read-only folders")
def test_files_check_writable_read_only_folder(tmp_path: Path) -> None:
    folder = tmp_path / "ro"
    folder.mkdir()
    folder.chmod(0o500)
    try:
        with pytest.raises(UsageError, match="cannot write"):
            check_writable(folder / "out.jsonl")
    finally:
        folder.chmod(0o700)


def _same_file_cases(tmp_path: Path) -> list[tuple[list[str], Path]]:
    article = tmp_path / "art.txt"
    article.write_text("The West is a threat. Talks resume.\n")
    pool = tmp_path / "pool.jsonl"
    pool.write_text(
        '{"id": "s1", "doc_id": "d1", "text": "The West is a threat.", "status": "todo"}\n'
    )
    ls = tmp_path / "ls.json"
    ls.write_bytes((REPO / "tests/data/formats/labelstudio/export.json").read_bytes())
    link = tmp_path / "link.txt"
    link.symlink_to(article)
    return [
        (["tag", str(article), "-o", str(article)], article),
        (["tag", str(article), "-o", str(link)], article),
        (["suggest", "default", str(pool), "-n", "1", "-o", str(pool)], pool),
        (["export", "labelstudio", str(pool), "-o", str(pool)], pool),
        (["import", str(article), "-o", str(article)], article),
        (["import", "labelstudio", str(ls), "-o", str(ls)], ls),
        (["preannotate", "default", str(pool), "-o", str(pool)], pool),
        (["stats", str(pool), "--plot", str(pool)], pool),
    ]


def test_files_commands_never_write_over_an_input(tmp_path: Path) -> None:
    for args, victim in _same_file_cases(tmp_path):
        before = victim.read_bytes()
        start = time.perf_counter()
        result = CliRunner().invoke(app, args)
        assert result.exit_code == 2, (args, result.output)
        assert "would overwrite an input" in result.output, args
        assert "Traceback" not in result.output
        assert victim.read_bytes() == before, args
        assert time.perf_counter() - start < 5, "refused before any work"


def test_files_train_fails_on_an_unwritable_output_before_training(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import framing.training.train as train_module

    def no_training(*args: object, **kwargs: object) -> None:
        raise AssertionError("trained before checking the output")

    monkeypatch.setattr(train_module, "fit_model", no_training)
    blocker = tmp_path / "file"
    blocker.write_text("")
    result = CliRunner().invoke(app, ["train", "default", "-o", str(blocker / "model")])
    assert result.exit_code == 2, result.output
    assert "cannot write" in result.output


def test_files_scratch_dir_is_removed_with_its_parts(tmp_path: Path) -> None:
    target = tmp_path / "out.jsonl"
    with scratch_dir(target) as parts:
        assert parts.parent == tmp_path and parts.name.endswith(TEMP_SUFFIX)
        (parts / "000000.jsonl").write_bytes(b"a\n")
    assert list(tmp_path.iterdir()) == []
    with pytest.raises(RuntimeError), scratch_dir(target) as parts:
        (parts / "000000.jsonl").write_bytes(b"a\n")
        raise RuntimeError("stopped")
    assert list(tmp_path.iterdir()) == []


def test_files_append_file_copies_to_files_and_streams(tmp_path: Path) -> None:
    import io

    part = tmp_path / "part"
    part.write_bytes(b"x" * 300_000 + b"\n")
    target = tmp_path / "out"
    with open(target, "wb") as out:
        out.write(b"head\n")  # buffered: must be flushed before the kernel copies
        assert append_file(part, out) == 300_001
        out.write(b"tail\n")
    assert target.read_bytes() == b"head\n" + part.read_bytes() + b"tail\n"
    memory = io.BytesIO()
    append_file(part, memory)
    assert memory.getvalue() == part.read_bytes()


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork")
def test_files_a_forked_child_ended_by_a_signal_keeps_the_parents_temporary(
    tmp_path: Path,
) -> None:
    """A worker forked during a write and ended by SIGTERM (as a broken process pool
    ends its workers) must not remove the temporary file its parent is writing."""
    target = tmp_path / "out.jsonl"
    with atomic_write(target) as out:
        out.write("kept\n")
        pid = os.fork()
        if pid == 0:  # pragma: no cover - the child
            os.kill(os.getpid(), signal.SIGTERM)
            time.sleep(5)
            os._exit(0)
        _, status = os.waitpid(pid, 0)
        assert os.WIFSIGNALED(status)
        assert any(p.name.endswith(TEMP_SUFFIX) for p in tmp_path.iterdir())
    assert target.read_text() == "kept\n"


@pytest.mark.parametrize("kernel_copies", [True, False])
def test_files_ordered_file_takes_pieces_in_turn(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, kernel_copies: bool
) -> None:
    """OrderedFile: a piece is written in place only in its turn; the main process adds
    the others in order (from a part file, or as nothing), skips one already written,
    and finish() cuts what a killed writer left past the end. Also without
    os.pwritev and os.copy_file_range (systems that lack them)."""
    from framing.files import OrderedFile

    if not kernel_copies:
        monkeypatch.delattr(os, "pwritev", raising=False)
        monkeypatch.delattr(os, "copy_file_range", raising=False)
    part = tmp_path / "part"
    part.write_bytes(b"second\n" * 3000)
    with open(tmp_path / "out", "wb") as out:
        out.write(b"head\n")
        ordered = OrderedFile(out)
        assert not ordered.write_next(1, [b"early\n"])  # piece 0 is not in yet
        assert ordered.write_next(0, [b"first\n", b"line\n"])
        ordered.add(0)  # written in place already: nothing to do
        ordered.add(1, part)
        ordered.add(2)  # a piece whose inputs all failed
        os.pwrite(out.fileno(), b"#" * 100_000, os.fstat(out.fileno()).st_size)  # a killed writer
        assert ordered.write_next(3, [b"last\n"])
        with pytest.raises(RuntimeError, match="piece 5 given while piece 4 is next"):
            ordered.add(5)
        ordered.finish()
        out.write(b"tail\n")
    want = b"head\nfirst\nline\n" + b"second\n" * 3000 + b"last\ntail\n"
    assert (tmp_path / "out").read_bytes() == want


def test_files_ordered_file_without_locks_takes_every_piece_from_the_main_process(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Where the file cannot be locked (ENOLCK on some network file systems) no worker
    writes in place: write_next declines and the pieces are added in order."""
    import errno
    import fcntl

    from framing.files import OrderedFile

    def no_locks(fd: int, cmd: int) -> None:
        raise OSError(errno.ENOLCK, "No locks available")

    monkeypatch.setattr(fcntl, "lockf", no_locks)
    part = tmp_path / "part"
    part.write_bytes(b"one\n")
    with open(tmp_path / "out", "wb") as out:
        ordered = OrderedFile(out)
        assert not ordered.shared
        assert not ordered.write_next(0, [b"in place\n"])
        ordered.add(0, part)
        ordered.add(1)
        ordered.finish()
    assert (tmp_path / "out").read_bytes() == b"one\n"

"""Writing files without losing what the user wrote: the one module that writes outputs.

* A file is written to a temporary file in the target's folder and renamed over the
  target only once complete, so an interrupted write never leaves half a file and the
  old content stays until the new one is whole.
* Files get the permissions the umask gives (as ``open`` would), not ``mkstemp``'s 0600.
* Temporary names are recognisable, ``.NAME.PID-RANDOM.framing-tmp``; a left-over one
  (after SIGKILL or a power cut) is removed by the next write to the same target when
  the process that made it is gone.  SIGINT, SIGTERM and SIGHUP remove the temporary
  files of writes in progress before the process ends; a forked child (a worker
  process) does not inherit that duty, so a worker ended by a signal leaves its
  parent's temporary files alone.
* :class:`OrderedFile` is an output that worker processes write into in input order,
  each piece in its turn; :func:`scratch_dir` is a temporary folder next to an output,
  for the pieces finished out of turn before they are joined into it; it goes away like
  a temporary file.
* :func:`refuse_same_file` stops a command before any work when its output is one of
  its inputs (``os.path.samefile``: symlinks and hard links included);
  :func:`check_writable` stops long commands early when the output cannot be written.
"""

from __future__ import annotations

import os
import shutil
import signal
import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from types import FrameType
from typing import IO, Any, Literal, overload

from framing.errors import UsageError

__all__ = [
    "OrderedFile",
    "TEMP_SUFFIX",
    "append_file",
    "atomic_dir",
    "atomic_write",
    "check_writable",
    "refuse_same_file",
    "scratch_dir",
    "sweep_temporaries",
    "write_bytes",
    "write_text",
]

TEMP_SUFFIX = ".framing-tmp"
_SIGNALS = tuple(
    getattr(signal, name) for name in ("SIGINT", "SIGTERM", "SIGHUP") if hasattr(signal, name)
)

#: Suffixes of files that commands collect from input folders.
_READ_SUFFIXES = frozenset({".jsonl", ".json", ".txt", ".csv", ".tsv"})

# Temporary paths of the writes in progress, removed on a signal.
_live: set[Path] = set()
_lock = threading.Lock()
_previous: dict[int, Any] = {}


def _forget_in_child() -> None:
    """In a forked child: the parent's writes in progress are not the child's to remove
    (a worker ended by a signal must not delete its parent's temporary files)."""
    _live.clear()
    for sig, handler in _previous.items():
        signal.signal(sig, handler if handler is not None else signal.SIG_DFL)
    _previous.clear()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget_in_child)


def _temp_path(target: Path) -> Path:
    # os.urandom is what secrets.token_hex reads; importing secrets (random, hashlib,
    # base64) cost every command about 3 ms of start-up.
    return target.with_name(f".{target.name}.{os.getpid()}-{os.urandom(4).hex()}{TEMP_SUFFIX}")


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # exists, owned by someone else
        return True
    return True


def sweep_temporaries(target: str | Path) -> list[Path]:
    """Remove left-over temporary files of ``target`` whose writer is gone; return them."""
    target = Path(target)
    removed: list[Path] = []
    folder = target.parent if str(target.parent) else Path(".")
    if not folder.is_dir():
        return removed
    for leftover in folder.glob(f".{target.name}.*{TEMP_SUFFIX}"):
        stem = leftover.name[len(target.name) + 2 : -len(TEMP_SUFFIX)]
        pid_text, _, _ = stem.partition("-")
        if not pid_text.isdigit():
            continue
        pid = int(pid_text)
        if leftover in _live or (pid != os.getpid() and _alive(pid)):
            continue
        if leftover.is_dir() and not leftover.is_symlink():
            shutil.rmtree(leftover, ignore_errors=True)
        else:
            leftover.unlink(missing_ok=True)
        removed.append(leftover)
    return removed


def _remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path, ignore_errors=True)
    else:
        path.unlink(missing_ok=True)


def _on_signal(signum: int, frame: FrameType | None) -> None:
    for path in list(_live):
        _remove(path)
    _live.clear()
    previous = _previous.get(signum)
    if callable(previous):
        previous(signum, frame)
        return
    # Default action: end as the signal would, after the clean-up above.
    signal.signal(signum, signal.SIG_DFL)
    os.kill(os.getpid(), signum)


@contextmanager
def _tracked(path: Path) -> Iterator[None]:
    """Remove ``path`` on a signal while the block runs (signals reach the main thread)."""
    main = threading.current_thread() is threading.main_thread()
    with _lock:
        first = not _live
        _live.add(path)
        if first and main:
            for sig in _SIGNALS:
                _previous[sig] = signal.signal(sig, _on_signal)
    try:
        yield
    finally:
        with _lock:
            _live.discard(path)
            if not _live and main and _previous:
                for sig, handler in _previous.items():
                    signal.signal(sig, handler if handler is not None else signal.SIG_DFL)
                _previous.clear()


@overload
def atomic_write(path: str | Path, mode: Literal["w"] = "w") -> Any: ...
@overload
def atomic_write(path: str | Path, mode: Literal["wb"]) -> Any: ...


@contextmanager
def atomic_write(path: str | Path, mode: str = "w") -> Iterator[IO[Any]]:
    """A file that replaces ``path`` only once the block completes.

    ``mode`` is ``"w"`` (UTF-8 text, ``\\n`` line ends) or ``"wb"``.  On an exception or
    a signal the temporary file is removed and ``path`` keeps its old content.

    Examples
    --------
    >>> import pathlib, tempfile
    >>> target = pathlib.Path(tempfile.mkdtemp()) / "out.txt"
    >>> with atomic_write(target) as out:
    ...     _ = out.write("hello\\n")
    >>> target.read_text()
    'hello\\n'
    """
    if mode not in ("w", "wb"):
        raise ValueError(f"mode must be 'w' or 'wb', got {mode!r}")
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    sweep_temporaries(target)
    tmp = _temp_path(target)
    with _tracked(tmp):
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)  # the umask applies
        try:
            if mode == "w":
                handle: IO[Any] = os.fdopen(fd, "w", encoding="utf-8", newline="\n")
            else:
                handle = os.fdopen(fd, "wb")
            with handle:
                yield handle
            os.replace(tmp, target)
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise


def write_text(path: str | Path, text: str) -> None:
    """Write ``text`` (UTF-8, ``\\n`` line ends) to ``path`` atomically."""
    with atomic_write(path) as out:
        out.write(text)


def write_bytes(path: str | Path, data: bytes) -> None:
    """Write ``data`` to ``path`` atomically."""
    with atomic_write(path, "wb") as out:
        out.write(data)


@contextmanager
def atomic_dir(path: str | Path) -> Iterator[Path]:
    """A new folder to fill that then takes the place of the folder ``path``.

    The old folder is kept until the new one is in place; on an exception or a signal
    the new folder is removed and ``path`` is left as it was.
    """
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    sweep_temporaries(target)
    tmp = _temp_path(target)
    with _tracked(tmp):
        tmp.mkdir(mode=0o777)  # the umask applies, as for any new folder
        try:
            yield tmp
            if target.exists():
                old = _temp_path(target)
                with _tracked(old):
                    os.replace(target, old)
                    try:
                        os.replace(tmp, target)
                    except BaseException:
                        os.replace(old, target)
                        raise
                    shutil.rmtree(old, ignore_errors=True)
            else:
                os.replace(tmp, target)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise


@contextmanager
def scratch_dir(target: str | Path) -> Iterator[Path]:
    """A new, empty temporary folder next to ``target``, removed with all it holds when
    the block ends (or on a signal): where parts of ``target`` are written before they
    are joined into it (``framing tag --jobs``).  A left-over one (after SIGKILL) is
    removed by the next write to ``target``, as temporary files are."""
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = _temp_path(target)
    with _tracked(tmp):
        tmp.mkdir(mode=0o700)
        try:
            yield tmp
        finally:
            shutil.rmtree(tmp, ignore_errors=True)


def append_file(source: str | Path, out: IO[bytes]) -> int:
    """Copy the bytes of the file ``source`` to the end of the binary file ``out``;
    return how many.  The copy is made by the kernel when both are files
    (``os.copy_file_range``), else through a buffer."""
    out.flush()
    with open(source, "rb") as src:
        size = os.fstat(src.fileno()).st_size
        copy_range = getattr(os, "copy_file_range", None)
        try:
            dst = out.fileno()
        except (AttributeError, OSError, ValueError):  # not a file (an in-memory stream)
            dst = -1
        done = 0
        if copy_range is not None and dst >= 0:
            try:
                while done < size:
                    copied = copy_range(src.fileno(), dst, size - done)
                    if copied == 0:
                        break
                    done += copied
            except OSError:  # another file system, a pipe, an old kernel: copy below
                pass
        if done < size:
            src.seek(done)
            shutil.copyfileobj(src, out, 1 << 20)
            out.flush()
        return size


class OrderedFile:
    """A file open for writing that the pieces of a run go into in order (numbered from
    0), written by whichever process has piece ``k`` when piece ``k - 1`` is in.

    Made by the main process before its worker processes fork (they inherit the open
    file and a shared page of two numbers: the next piece and the bytes written).  A
    worker that finishes piece ``k`` when it is next writes it in place
    (:meth:`write_next`: no part file, no copy); otherwise it writes a part file, and
    the main process, which takes the pieces in order, writes it in (:meth:`add`).
    One process writes at a time (a POSIX lock on the file, which the kernel releases
    when its holder dies).  Whatever a worker killed while writing left past the end
    is overwritten by the next piece or cut off by :meth:`finish`.
    """

    def __init__(self, out: IO[bytes]) -> None:
        import mmap

        out.flush()
        self.fd = out.fileno()
        self._state = mmap.mmap(-1, 16)  # shared with forked children
        self._set(0, os.lseek(self.fd, 0, os.SEEK_CUR))
        # Where the file cannot be locked (some network file systems), only the main
        # process writes: every piece then comes through a part file.
        self.shared = True
        try:
            with self._locked():
                pass
        except OSError:
            self.shared = False

    def _get(self) -> tuple[int, int]:
        import struct

        piece, size = struct.unpack_from("qq", self._state)
        return piece, size

    def _set(self, piece: int, size: int) -> None:
        import struct

        struct.pack_into("qq", self._state, 0, piece, size)

    @contextmanager
    def _locked(self) -> Iterator[tuple[int, int]]:
        if not self.shared:  # the main process alone writes
            yield self._get()
            return
        import fcntl

        fcntl.lockf(self.fd, fcntl.LOCK_EX)
        try:
            yield self._get()
        finally:
            fcntl.lockf(self.fd, fcntl.LOCK_UN)

    def write_next(self, piece: int, chunks: list[bytes]) -> bool:
        """Write ``chunks`` as piece ``piece`` if it is next; False if it is not (or if
        the file cannot be locked: then it goes through a part file)."""
        if not self.shared:
            return False
        with self._locked() as (next_piece, size):
            if next_piece != piece:
                return False
            self._set(piece + 1, size + _write_at(self.fd, chunks, size))
            return True

    def add(self, piece: int, part: str | Path | None = None) -> None:
        """Write in piece ``piece`` (the next one, the pieces taken in order) from the
        file ``part``, or as nothing (``part`` None: a piece whose inputs all failed);
        nothing to do when a worker wrote it in place, also in an earlier run of it."""
        with self._locked() as (next_piece, size):
            if next_piece > piece:
                return
            if next_piece != piece:
                raise RuntimeError(f"piece {piece} given while piece {next_piece} is next")
            written = 0 if part is None else _copy_at(part, self.fd, size)
            self._set(piece + 1, size + written)

    def finish(self) -> None:
        """Cut the file at the end of the last piece and leave its offset there."""
        _, size = self._get()
        os.ftruncate(self.fd, size)
        os.lseek(self.fd, size, os.SEEK_SET)


def _write_at(fd: int, chunks: list[bytes], offset: int) -> int:
    """Write ``chunks`` one after the other at ``offset`` of ``fd``; how many bytes."""
    pwritev = getattr(os, "pwritev", None)  # not on every system
    done = 0
    for i in range(0, len(chunks), 512):  # under IOV_MAX
        group = chunks[i : i + 512]
        want = sum(map(len, group))
        wrote = 0 if pwritev is None else pwritev(fd, group, offset + done)
        if wrote < want:  # short write: the rest one buffer at a time
            rest = memoryview(b"".join(group))[wrote:]
            while rest:
                n = os.pwrite(fd, rest, offset + done + wrote)
                wrote += n
                rest = rest[n:]
        done += want
    return done


def _copy_at(source: str | Path, fd: int, offset: int) -> int:
    """Copy the file ``source`` to ``offset`` of ``fd`` (by the kernel when it can);
    how many bytes."""
    with open(source, "rb") as src:
        size = os.fstat(src.fileno()).st_size
        done = 0
        copy_range = getattr(os, "copy_file_range", None)  # Linux only
        try:
            while copy_range is not None and done < size:
                copied = copy_range(src.fileno(), fd, size - done, None, offset + done)
                if copied == 0:
                    break
                done += copied
        except OSError:  # another file system, an old kernel: copy below
            pass
        src.seek(done)
        while done < size:
            block = src.read(min(1 << 20, size - done))
            if not block:
                break
            done += _write_at(fd, [block], offset + done)
        return done


def refuse_same_file(output: str | Path | None, inputs: Iterable[str | Path]) -> None:
    """Stop before any work when ``output`` is one of ``inputs`` (links included).

    Raises
    ------
    UsageError
        Naming both paths (exit 2).
    """
    if output is None or str(output) == "-":
        return
    out = Path(output)
    if not out.exists():
        return
    for item in inputs:
        if str(item) == "-":
            continue
        source = Path(item)
        try:
            same = os.path.samefile(out, source)
        except OSError:
            continue
        if same:
            shown = f"{out}" if str(out) == str(source) else f"{out} (the same file as {source})"
            raise UsageError(
                f"{shown}: the output would overwrite an input file; choose another -o"
            )
        if (
            source.is_dir()
            and out.suffix.lower() in _READ_SUFFIXES
            and source.resolve() in out.resolve().parents
        ):
            raise UsageError(
                f"{out}: the output is inside the input folder {source} and would be read "
                "as an input; choose an output outside it"
            )


def check_writable(output: str | Path, *, folder: bool = False) -> None:
    """Fail early when ``output`` cannot be written (before long work starts).

    Creates and removes a temporary file where the output's temporary file would go,
    the only test that holds for every user and file system.  ``folder``: the output
    is a folder replaced as a whole (a model), not a file.

    Raises
    ------
    UsageError
        Naming the path and the reason (exit 2).
    """
    target = Path(output)
    if target.is_dir() and not folder:
        raise UsageError(f"{target}: is a folder; give a file name for the output")
    if target.exists() and not target.is_dir() and folder:
        raise UsageError(f"{target}: is a file; give a folder for the output")
    probe_dir = target.parent
    while not probe_dir.exists() and probe_dir.parent != probe_dir:
        probe_dir = probe_dir.parent
    if not probe_dir.is_dir():
        raise UsageError(f"{target}: cannot write here ({probe_dir} is not a folder)")
    probe = _temp_path(probe_dir / target.name)
    try:
        fd = os.open(probe, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except OSError as exc:
        raise UsageError(
            f"{target}: cannot write to {probe_dir} ({exc.strerror}); choose another output"
        ) from None
    os.close(fd)
    probe.unlink(missing_ok=True)

"""Worker processes: how many, and an ordered map over them that survives a crashed worker.

Used by tagging (:func:`framing.runtime.tagging.tag_many`, ``framing tag --jobs``) and by
sharded output.  What a worker needs (a loaded model) is set up once per worker by an
initializer; with the ``fork`` start method (Linux) the workers inherit the parent's
loaded model instead, so its arrays are shared copy-on-write between all workers rather
than copied into each (``BENCHMARKS.md`` measures the memory per worker).
"""

from __future__ import annotations

import math
import os
from collections import deque
from collections.abc import Callable, Generator, Iterable, Iterator
from pathlib import Path
from typing import Any, TypeVar

from framing.errors import UsageError

__all__ = [
    "available_cpus",
    "resolve_jobs",
    "imap_ordered",
    "map_with_model",
    "inherits_parent",
    "WorkerCrashError",
]

T = TypeVar("T")
R = TypeVar("R")

#: Tasks in flight per worker: enough to keep every worker busy, few enough to bound memory.
IN_FLIGHT_PER_WORKER = 2


def _cgroup_cpus(root: Path = Path("/sys/fs/cgroup")) -> float | None:
    """The CPU limit of this process's cgroup (v2 ``cpu.max`` or v1 CFS quota), if any."""
    try:
        quota, period = (root / "cpu.max").read_text().split()[:2]
        if quota != "max":
            return int(quota) / int(period)
        return None
    except (OSError, ValueError):
        pass
    try:
        quota = (root / "cpu" / "cpu.cfs_quota_us").read_text().strip()
        period = (root / "cpu" / "cpu.cfs_period_us").read_text().strip()
        if int(quota) > 0:
            return int(quota) / int(period)
    except (OSError, ValueError):
        pass
    return None


def available_cpus() -> int:
    """The CPUs this process may use: its CPU affinity, capped by a cgroup CPU limit.

    ``os.cpu_count()`` counts the machine's CPUs, which overcounts in a container or
    under ``taskset``; this counts what the scheduler will actually give.
    """
    try:
        count = len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not on Linux
        count = os.cpu_count() or 1
    limit = _cgroup_cpus()
    if limit is not None:
        count = min(count, max(1, math.ceil(limit)))
    return max(1, count)


def resolve_jobs(n_jobs: int | None) -> int:
    """Worker count from a user's ``n_jobs``: None, 0 or -1 mean every available CPU.

    Raises
    ------
    UsageError
        When ``n_jobs`` is below -1.
    """
    if n_jobs is None or n_jobs in (0, -1):
        return available_cpus()
    if n_jobs < -1:
        raise UsageError(f"n_jobs must be a positive number, or 0 or -1 for all CPUs; got {n_jobs}")
    return n_jobs


def inherits_parent() -> bool:
    """Whether workers start as forks of this process, inheriting what it has loaded.

    True on Linux.  Elsewhere workers start afresh and what they need is pickled to
    each of them once, through the pool's initializer.
    """
    import multiprocessing

    return "fork" in multiprocessing.get_all_start_methods()


def _context() -> Any:
    import multiprocessing

    # fork: workers inherit what the parent loaded (shared pages, no pickling).
    if inherits_parent():
        return multiprocessing.get_context("fork")
    return multiprocessing.get_context()  # pragma: no cover - not on Linux


def imap_ordered(
    func: Callable[[T], R],
    tasks: Iterable[T],
    *,
    n_jobs: int,
    initializer: Callable[..., None] | None = None,
    initargs: tuple[Any, ...] = (),
    on_crash: Callable[[T, str], R] | None = None,
) -> Iterator[R]:
    """``map(func, tasks)`` over ``n_jobs`` worker processes, results in task order.

    Tasks are taken from ``tasks`` lazily, at most ``2 * n_jobs`` at a time, so memory
    stays bounded whatever the input's length.  With one worker, or when ``tasks``
    holds a single task, everything runs in this process (no pool to start).

    An exception raised by ``func`` comes out of the iterator, as it would in one
    process.  A worker that dies (killed, out of memory, a crash in native code) takes
    its pool down; the tasks in flight are then retried one at a time in a new pool,
    and a task that kills its worker again gives ``on_crash(task, reason)`` in its
    place (or raises :class:`WorkerCrashError` without ``on_crash``), and the run goes on.
    """
    it = iter(tasks)
    first = next(it, _END)
    if first is _END:
        return
    second = next(it, _END)
    if n_jobs <= 1 or second is _END:
        if initializer is not None:
            initializer(*initargs)
        yield func(first)
        if second is not _END:
            yield func(second)
            for task in it:
                yield func(task)
        return
    from itertools import chain

    yield from _pooled(func, chain([first, second], it), n_jobs, initializer, initargs, on_crash)


_END: Any = object()


def _init_worker(initializer: Callable[..., None] | None, initargs: tuple[Any, ...]) -> None:
    """A new worker: Ctrl-C is the main process's to handle (it stops the pool, letting
    each worker finish its task, so nothing is left half-written), then ``initializer``."""
    import signal

    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if initializer is not None:
        initializer(*initargs)


class WorkerCrashError(RuntimeError):
    """A worker process died while running a task (and again when the task ran alone)."""


def _pooled(
    func: Callable[[T], R],
    tasks: Iterator[T],
    n_jobs: int,
    initializer: Callable[..., None] | None,
    initargs: tuple[Any, ...],
    on_crash: Callable[[T, str], R] | None,
) -> Iterator[R]:
    from concurrent.futures import ProcessPoolExecutor
    from concurrent.futures.process import BrokenProcessPool

    def new_pool() -> ProcessPoolExecutor:
        return ProcessPoolExecutor(
            n_jobs,
            mp_context=_context(),
            initializer=_init_worker,
            initargs=(initializer, initargs),
        )

    def restart(broken: ProcessPoolExecutor) -> ProcessPoolExecutor:
        broken.shutdown(wait=True, cancel_futures=True)
        return new_pool()

    pool = new_pool()
    pending: deque[tuple[T, Any]] = deque()
    suspects: deque[T] = deque()  # tasks in flight when a worker died: rerun one at a time
    limit = IN_FLIGHT_PER_WORKER * n_jobs
    try:
        while True:
            while suspects and not pending:
                task = suspects.popleft()
                try:
                    result = pool.submit(func, task).result()
                except BrokenProcessPool as exc:
                    pool = restart(pool)
                    reason = f"the worker process died while running it ({exc})"
                    if on_crash is None:
                        raise WorkerCrashError(reason) from None
                    result = on_crash(task, reason)
                yield result
            if not suspects:
                while len(pending) < limit:
                    task = next(tasks, _END)
                    if task is _END:
                        break
                    try:
                        future = pool.submit(func, task)
                    except BrokenProcessPool:
                        # The pool broke between two results: same as a failed result.
                        pool = restart(pool)
                        suspects.extend(t for t, _ in pending)
                        suspects.append(task)
                        pending.clear()
                        break
                    pending.append((task, future))
            if not pending:
                if suspects:
                    continue
                return
            task, future = pending[0]
            try:
                result = future.result()
            except BrokenProcessPool:
                pool = restart(pool)
                suspects.extend(t for t, _ in pending)
                pending.clear()
                continue
            pending.popleft()
            yield result
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


# --------------------------------------------------------------------------- a model per worker

_MODEL: Any = None
_LABELER: Any = None


def _init_model_worker(model: Any) -> None:
    """Set up a worker once: its model (inherited with fork, else given) and labeler."""
    from framing.runtime.tagging import Labeler

    global _MODEL, _LABELER
    if model is not None:
        _MODEL = model
    _LABELER = Labeler(_MODEL)


def _call_with_model(task: tuple[Callable[..., Any], Any]) -> Any:
    func, payload = task
    return func(_MODEL, _LABELER, payload)


def map_with_model(
    model: Any,
    func: Callable[[Any, Any, T], R],
    payloads: Iterable[T],
    *,
    n_jobs: int,
    on_crash: Callable[[T, str], R] | None = None,
) -> Generator[R, None, None]:
    """``func(model, labeler, payload)`` for each payload in ``n_jobs`` workers, in order.

    ``func`` must be a module-level function (workers find it by name).  The model is
    loaded once, here: forked workers inherit it; elsewhere it is pickled to each worker
    once.  See :func:`imap_ordered` for ordering, memory and crashed workers.
    """
    global _MODEL, _LABELER
    inherit = inherits_parent()
    if inherit:
        _MODEL = model
    crash = None if on_crash is None else (lambda task, why: on_crash(task[1], why))
    try:
        yield from imap_ordered(
            _call_with_model,
            ((func, p) for p in payloads),
            n_jobs=n_jobs,
            initializer=_init_model_worker,
            initargs=(None,) if inherit else (model,),
            on_crash=crash,
        )
    finally:
        _MODEL = _LABELER = None

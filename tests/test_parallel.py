"""Worker processes: CPU counting, the ordered map, crashed workers, and ``--jobs``."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from typer.testing import CliRunner

from framing.cli import app
from framing.errors import UsageError
from framing.runtime import parallel
from framing.runtime.parallel import available_cpus, imap_ordered, resolve_jobs

runner = CliRunner()


def _square(x: int) -> int:
    return x * x


def _die_on_seven(x: int) -> int:
    if x == 7:
        os._exit(3)  # a worker killed mid-task, as by the OOM killer
    return x * x


def _raise_on_three(x: int) -> int:
    if x == 3:
        raise ValueError("three is bad")
    return x


def test_parallel_available_cpus_respects_affinity() -> None:
    assert 1 <= available_cpus() <= len(os.sched_getaffinity(0))


@pytest.mark.parametrize(
    ("files", "expected"),
    [
        ({"cpu.max": "150000 100000\n"}, 1.5),
        ({"cpu.max": "max 100000\n"}, None),
        ({"cpu/cpu.cfs_quota_us": "200000\n", "cpu/cpu.cfs_period_us": "100000\n"}, 2.0),
        ({"cpu/cpu.cfs_quota_us": "-1\n", "cpu/cpu.cfs_period_us": "100000\n"}, None),
        ({}, None),
    ],
)
def test_parallel_cgroup_limit_is_read(tmp_path: Path, files: dict, expected) -> None:
    for name, text in files.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text)
    assert parallel._cgroup_cpus(tmp_path) == expected


def test_parallel_cgroup_limit_caps_the_count(monkeypatch) -> None:
    monkeypatch.setattr(parallel, "_cgroup_cpus", lambda: 0.5)
    assert available_cpus() == 1


def test_parallel_resolve_jobs() -> None:
    assert resolve_jobs(3) == 3
    assert resolve_jobs(0) == resolve_jobs(-1) == resolve_jobs(None) == available_cpus()
    with pytest.raises(UsageError, match="n_jobs must be"):
        resolve_jobs(-2)


def test_parallel_imap_ordered_keeps_order_and_bounds_what_is_in_flight() -> None:
    pulled = []

    def tasks():
        for i in range(40):
            pulled.append(i)
            yield i

    out = []
    for result in imap_ordered(_square, tasks(), n_jobs=2):
        # never more than 2 tasks per worker taken ahead of what has come out
        assert len(pulled) - len(out) <= 2 * 2
        out.append(result)
    assert out == [i * i for i in range(40)]


def test_parallel_imap_ordered_single_task_runs_here() -> None:
    seen = []
    assert list(imap_ordered(os.getpid, [], n_jobs=2)) == []
    assert list(imap_ordered(lambda _: os.getpid(), [0], n_jobs=2)) == [os.getpid()]
    list(imap_ordered(seen.append, [1, 2, 3], n_jobs=1))
    assert seen == [1, 2, 3]  # one worker: in this process (a lambda could not be pickled)


def test_parallel_a_dead_worker_fails_its_task_only() -> None:
    got = list(
        imap_ordered(
            _die_on_seven, range(12), n_jobs=2, on_crash=lambda task, why: f"{task}: {why}"
        )
    )
    assert got[:7] == [i * i for i in range(7)]
    assert got[8:] == [i * i for i in range(8, 12)]
    assert str(got[7]).startswith("7: the worker process died")
    with pytest.raises(parallel.WorkerCrashError):
        list(imap_ordered(_die_on_seven, range(12), n_jobs=2))


def test_parallel_a_pool_broken_before_submit_reruns_its_tasks(monkeypatch) -> None:
    # The pool can be marked broken between two results, so that the next submit raises
    # (seen on a loaded CI machine): the tasks in flight are rerun, nothing is lost.
    import concurrent.futures
    from concurrent.futures.process import BrokenProcessPool

    real = concurrent.futures.ProcessPoolExecutor
    calls = {"submit": 0}

    class BreaksOnce(real):  # type: ignore[misc, valid-type]
        def submit(self, fn, /, *args, **kwargs):
            calls["submit"] += 1
            if calls["submit"] == 6:
                raise BrokenProcessPool("broken while submitting")
            return super().submit(fn, *args, **kwargs)

    monkeypatch.setattr(concurrent.futures, "ProcessPoolExecutor", BreaksOnce)
    assert list(imap_ordered(_square, range(20), n_jobs=2)) == [i * i for i in range(20)]
    assert calls["submit"] > 20  # the tasks in flight were submitted again


def test_parallel_an_exception_comes_out_as_in_one_process() -> None:
    with pytest.raises(ValueError, match="three is bad"):
        list(imap_ordered(_raise_on_three, range(6), n_jobs=2))


def test_parallel_cli_tag_jobs_gives_the_serial_output(
    tag_model_path: Path, tmp_path: Path
) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    for i in range(12):
        (folder / f"a{i:02d}.txt").write_text(
            f"Headline {i}\n\nThe port strike goes on, day {i}. Prices of grain rise.",
            encoding="utf-8",
        )
    (folder / "bad.txt").write_bytes(b"Broken \xff text.")
    records = [
        json.dumps({"id": f"r{i}", "text": f"Troops guard the border {i}."}) for i in range(9)
    ]
    records.insert(4, '{"text": 3}')
    (folder / "z.jsonl").write_text("\n".join(records) + "\n", encoding="utf-8")
    outputs = {}
    for jobs in ("1", "2"):
        for extra in ([], ["--format", "json"], ["--one-per-line"]):
            result = runner.invoke(
                app,
                ["tag", str(folder), "-m", str(tag_model_path), "--batch-size", "1", "-j", jobs]
                + extra,
            )
            assert result.exit_code == 1, result.output
            assert "2 input(s) failed and were skipped" in result.stderr
            outputs[jobs, tuple(extra)] = (result.stdout, result.stderr)
    for extra in ([], ["--format", "json"], ["--one-per-line"]):
        assert outputs["1", tuple(extra)] == outputs["2", tuple(extra)]
    ids = [json.loads(line)["doc_id"] for line in outputs["1", ()][0].splitlines()]
    assert ids == [f"a{i:02d}" for i in range(12)] + [f"r{i}" for i in range(9)]


@pytest.mark.parametrize("batch_size", [1, 3, 4096])
def test_parallel_raw_batches_parse_to_the_same_inputs(tmp_path: Path, batch_size: int) -> None:
    """What workers parse (raw_items of raw_batches) is what one process reads."""
    import io

    from framing.runtime.inputs import input_batches
    from framing.runtime.raw_inputs import raw_batches, raw_items

    (tmp_path / "a.txt").write_text("Title\n\nBody one. Body two.", encoding="utf-8")
    (tmp_path / "b.txt").write_bytes(b"Broken \xff text.")
    lines = [json.dumps({"id": f"r{i}", "text": f"Sentence {i}. " * (i % 5)}) for i in range(30)]
    lines[7] = '{"text": 3}'
    lines[11] = ""
    lines[12] = "not json"
    (tmp_path / "c.jsonl").write_text("\n".join(lines), encoding="utf-8")  # no final newline
    stdin_jsonl = ("\n".join(lines[:9]) + "\n").encode()
    for paths, stdin in (([tmp_path], None), (["-"], stdin_jsonl), (["-"], b"Just text.\n")):

        def stream(data: bytes | None = stdin) -> io.BytesIO | None:
            return None if data is None else io.BytesIO(data)

        want = [u for b in input_batches(paths, False, batch_size, stream(), None) for u in b]
        raw = list(raw_batches(paths, batch_size, stream(), None))
        got = [u for b in raw for u in raw_items(b)]
        assert got == want
        assert len(raw) > 1 or batch_size == 4096 or stdin is not None


def test_parallel_a_crashed_raw_batch_fails_each_of_its_inputs(tmp_path: Path) -> None:
    from framing.runtime.inputs import InputFailure
    from framing.runtime.raw_inputs import crashed_raw, raw_batches

    (tmp_path / "c.jsonl").write_text('{"id": "x", "text": "A."}\nnope\n{"text": "B."}\n')
    (batch,) = raw_batches([tmp_path / "c.jsonl"], 4096, None, None)
    got = crashed_raw((batch, False, None), "it died")
    assert [str(f) for f in got[::2]] == ["x: it died", "c:3: it died"]
    assert str(got[1]).startswith(f"{tmp_path / 'c.jsonl'}:2: not valid JSON")
    assert all(isinstance(f, InputFailure) for f in got)


def test_parallel_a_worker_dying_on_an_input_fails_that_input_only(
    tag_model, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """framing tag's JSONL path: a worker killed while tagging one file (as by the OOM
    killer) gives a failure for that file; the other files come out as in one process."""
    from framing.output import json as json_output

    real = json_output._json_inputs

    def dies_on_crash(model, labeler, payload):  # inherited by the forked workers
        from framing.runtime.raw_inputs import raw_items

        if any("CRASH" in item[2] for item in raw_items(payload[0])):
            os._exit(3)
        return real(model, labeler, payload)

    for i in range(6):
        text = "CRASH here." if i == 3 else f"The port strike goes on, day {i}."
        text += " Prices of grain rise." * 6  # over 120 bytes: one file per batch
        (tmp_path / f"a{i}.txt").write_text(text, encoding="utf-8")
    monkeypatch.setattr(json_output, "_json_inputs", dies_on_crash)
    batches = list(json_output.tag_json_batches([tmp_path], tag_model, batch_size=1, n_jobs=2))
    failures = [str(f) for b in batches for f in b.failures]
    assert len(failures) == 1 and failures[0].startswith("a3: the worker process died")
    monkeypatch.setattr(json_output, "_json_inputs", real)
    serial = list(json_output.tag_json_batches([tmp_path], tag_model, batch_size=1))
    lines = b"".join(b.data for b in batches).splitlines()
    want = [line for b in serial for line in b.data.splitlines() if b"CRASH" not in line]
    assert lines == want and len(lines) == 5


def _mixed_inputs(folder: Path) -> None:
    """``.txt`` articles (one undecodable), and a JSONL file with a bad record."""
    folder.mkdir()
    for i in range(8):
        (folder / f"a{i:02d}.txt").write_text(
            f"Headline {i}\n\nThe port strike goes on, day {i}. Prices of grain rise.",
            encoding="utf-8",
        )
    (folder / "bad.txt").write_bytes(b"Broken \xff text.")
    records = [
        json.dumps({"text": f"Troops guard the border {i}. Talks stall."}) for i in range(20)
    ]
    records.insert(4, '{"text": 3}')
    (folder / "z.jsonl").write_text("\n".join(records) + "\n", encoding="utf-8")


@pytest.mark.parametrize("what", ["folder", "jsonl"])
def test_parallel_cli_tag_jobs_output_file_is_the_serial_one(
    tag_model_path: Path, tmp_path: Path, what: str
) -> None:
    """-o with --jobs 2: workers read their inputs and write parts next to the output,
    joined in input order into the same bytes as --jobs 1; no part is left behind."""
    _mixed_inputs(tmp_path / "in")
    source = tmp_path / "in" if what == "folder" else tmp_path / "in" / "z.jsonl"
    out = tmp_path / "out"
    out.mkdir()
    written = {}
    for jobs in ("1", "2"):
        target = out / f"tagged{jobs}.jsonl"
        result = runner.invoke(
            app,
            ["tag", str(source), "-m", str(tag_model_path), "--batch-size", "1", "-j", jobs]
            + ["-o", str(target)],
        )
        assert result.exit_code == 1, result.output
        failed = "2 input(s)" if what == "folder" else "1 input(s)"
        assert f"{failed} failed and were skipped" in result.stderr
        written[jobs] = target.read_bytes()
    assert written["1"] == written["2"]
    ids = [json.loads(line)["doc_id"] for line in written["2"].splitlines()]
    want = [f"z:{n}" for n in range(1, 22) if n != 5]
    assert ids == ([f"a{i:02d}" for i in range(8)] if what == "folder" else []) + want
    assert sorted(p.name for p in out.iterdir()) == ["tagged1.jsonl", "tagged2.jsonl"]


def test_parallel_file_slices_read_what_one_process_reads(tmp_path: Path) -> None:
    """Files given by reference (where their bytes are) parse to the same inputs; a file
    gone before its worker reads it is a failure in its place."""
    from framing.runtime.inputs import InputFailure
    from framing.runtime.raw_inputs import FileSlice, raw_batches, raw_items

    _mixed_inputs(tmp_path / "in")
    for size in (1, 7, 4096):
        want = [u for b in raw_batches([tmp_path / "in"], size, None, None) for u in raw_items(b)]
        sliced = list(raw_batches([tmp_path / "in"], size, None, None, by_reference=True))
        assert all(not isinstance(p, tuple) for b in sliced for p in b)  # nothing read here
        assert [u for b in sliced for u in raw_items(b)] == want
    gone = FileSlice(str(tmp_path / "gone.txt"), "gone", 1, 0, None, False)
    (failure,) = raw_items([gone])
    assert isinstance(failure, InputFailure) and "No such file" in str(failure)


def test_parallel_a_dying_worker_leaves_the_output_file_whole(
    tag_model_path: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """-o with --jobs 2: a worker killed on one input fails that input; the restarted
    pool (which ends the other workers with a signal) leaves the output to be written."""
    from framing.output import json as json_output
    from framing.runtime.raw_inputs import raw_items

    real = json_output._json_inputs

    def dies_on_crash(model, labeler, payload):  # inherited by the forked workers
        if any("CRASH" in item[2] for item in raw_items(payload[0])):
            os._exit(3)
        return real(model, labeler, payload)

    folder = tmp_path / "in"
    folder.mkdir()
    for i in range(6):
        text = "CRASH here." if i == 3 else f"The port strike goes on, day {i}."
        (folder / f"a{i}.txt").write_text(text + " Prices of grain rise." * 6, encoding="utf-8")
    monkeypatch.setattr(json_output, "_json_inputs", dies_on_crash)
    target = tmp_path / "out.jsonl"
    args = ["tag", str(folder), "-m", str(tag_model_path), "--batch-size", "1", "-o", str(target)]
    result = runner.invoke(app, [*args, "-j", "2"])
    assert result.exit_code == 1, result.output
    assert "a3: the worker process died" in result.stderr
    ids = [json.loads(line)["doc_id"] for line in target.read_bytes().splitlines()]
    assert ids == ["a0", "a1", "a2", "a4", "a5"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in", "out.jsonl"]


@pytest.mark.parametrize("when", ["halfway", "after"])
def test_parallel_a_worker_killed_writing_into_the_output_leaves_it_right(
    tag_model_path: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, when: str
) -> None:
    """-o with --jobs 2: a worker killed while writing its batch into the output (half
    of it, then garbage far past its end) or just after (before telling the main
    process) costs nothing: its batch is run again and the output is one process's."""
    import signal

    from framing.files import OrderedFile

    real = OrderedFile.write_next
    killed = tmp_path / "killed"
    parent = os.getpid()

    def dies_once(self: OrderedFile, piece: int, chunks: list[bytes]) -> bool:  # in workers
        if os.getpid() == parent or killed.exists() or piece < 2:
            return real(self, piece, chunks)
        if when == "halfway":
            next_piece, size = self._get()
            if next_piece != piece:
                return False
            data = b"".join(chunks)
            os.pwrite(self.fd, data[: len(data) // 2] + b"#" * 1_000_000, size)
        else:
            if not real(self, piece, chunks):
                return False
        killed.touch()
        os.kill(os.getpid(), signal.SIGKILL)
        raise AssertionError("not reached")

    folder = tmp_path / "in"
    folder.mkdir()
    for i in range(8):
        (folder / f"a{i}.txt").write_text(f"Day {i} of the strike. Grain prices rise." * 4)
    args = ["tag", str(folder), "-m", str(tag_model_path), "--batch-size", "1", "-o"]
    assert runner.invoke(app, [*args, str(tmp_path / "one.jsonl"), "-j", "1"]).exit_code == 0
    monkeypatch.setattr(OrderedFile, "write_next", dies_once)
    result = runner.invoke(app, [*args, str(tmp_path / "two.jsonl"), "-j", "2"])
    assert result.exit_code == 0, result.output
    assert killed.exists()  # a worker did die writing
    assert (tmp_path / "two.jsonl").read_bytes() == (tmp_path / "one.jsonl").read_bytes()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in", "killed", "one.jsonl", "two.jsonl"]


def test_parallel_an_error_leaves_no_part_behind(
    tag_model_path: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An exception in a worker stops the run: no output, no part file, no temporary."""
    from framing.output import json as json_output
    from framing.runtime.raw_inputs import raw_items

    real = json_output._json_inputs

    def fails(model, labeler, payload):
        if any("FAIL" in item[2] for item in raw_items(payload[0])):
            raise RuntimeError("a bug in tagging")
        return real(model, labeler, payload)

    folder = tmp_path / "in"
    folder.mkdir()
    for i in range(8):
        text = "FAIL here." if i == 5 else f"The port strike goes on, day {i}."
        (folder / f"a{i}.txt").write_text(text + " Prices of grain rise." * 6, encoding="utf-8")
    monkeypatch.setattr(json_output, "_json_inputs", fails)
    target = tmp_path / "out.jsonl"
    args = ["tag", str(folder), "-m", str(tag_model_path), "--batch-size", "1", "-o", str(target)]
    result = runner.invoke(app, [*args, "-j", "2"])
    assert isinstance(result.exception, RuntimeError)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in"]


@pytest.mark.parametrize("budget", [1, 200, 10_000])
def test_parallel_slices_of_a_jsonl_file_read_as_the_whole_file(tmp_path: Path, budget) -> None:
    """A JSONL file cut at line ends (line_ranges) and read slice by slice, in batches
    (slice_batches), gives the records and line numbers of reading it whole."""
    from framing.runtime.raw_inputs import (
        FileSlice,
        line_ranges,
        raw_batches,
        raw_items,
        slice_batches,
    )

    lines = [json.dumps({"text": f"Sentence {i}. " * (i % 7)}) for i in range(50)]
    lines[9] = "not json"
    lines[20] = ""
    path = tmp_path / "c.jsonl"
    path.write_text("\n".join(lines), encoding="utf-8")  # no final newline
    want = [u for b in raw_batches([path], 3, None, None) for u in raw_items(b)]
    ranges = line_ranges(path, budget)
    assert ranges[0][0] == 0 and ranges[-1][1] == path.stat().st_size
    assert all(a[1] == b[0] for a, b in zip(ranges, ranges[1:], strict=False))
    slices = [FileSlice(str(path), "c", line, a, b, True) for a, b, line in ranges]
    for size in (1, 3, 4096):
        got = [u for b in slice_batches(slices, size) for u in raw_items(b)]
        assert got == want


def test_parallel_ctrl_c_leaves_no_output_and_no_part(tag_model_path: Path, tmp_path: Path) -> None:
    """Ctrl-C (SIGINT to the process group, as a terminal sends it) during
    ``framing tag --jobs 2 -o``: the run stops, the old output is kept, and neither the
    temporary output nor the parts' folder is left behind."""
    import signal
    import subprocess
    import sys
    import time

    source = tmp_path / "in.jsonl"
    line = json.dumps({"text": "The port strike goes on. Prices of grain rise. " * 20})
    source.write_text((line + "\n") * 20_000, encoding="utf-8")
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    target = out_dir / "tagged.jsonl"
    target.write_text("old\n", encoding="utf-8")
    args = ["-m", "framing", "tag", str(source), "-m", str(tag_model_path), "-j", "2"]
    proc = subprocess.Popen(
        [sys.executable, *args, "--batch-size", "64", "-o", str(target)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        start_new_session=True,  # its own process group, as a shell job has
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and proc.poll() is None:
        if any(p.is_dir() for p in out_dir.iterdir()):  # the workers are writing parts
            break
        time.sleep(0.01)
    stopped = proc.poll() is None
    if stopped:
        time.sleep(0.2)
        os.killpg(proc.pid, signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    if stopped and proc.returncode != 0:
        assert b"Traceback" not in err  # no traceback, from the workers either
        assert target.read_text(encoding="utf-8") == "old\n"
    assert sorted(p.name for p in out_dir.iterdir()) == ["tagged.jsonl"], err

"""Two runs on one output folder: the second fails clearly or waits; nothing is corrupted.

Overlaps are made deterministic without sleeping on luck: a test either holds ``OUT/.lock``
itself (as a running run does), or starts a real run through a small wrapper that pauses it at
one of the named checkpoints of :mod:`pipeline.publish.faults` (holding the lock) until the
test lets it go.
"""

from __future__ import annotations

import fcntl
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from test_crash import (
    AS_OF_A,
    AS_OF_B,
    AS_OF_C,
    TIMEOUT,
    assert_consistent,
    assert_readable,
    change_data,
    child_env,
    make_project,
    pause_folder,
    paused,
    reap,
    release,
    run_args,
    run_here,
    snapshot_bytes,
    start_paused,
    statuses,
    wait_for,
)

from pipeline.errors import RunError
from pipeline.publish.lock import output_lock


@pytest.fixture
def flags(tmp_path: Path) -> Iterator[Path]:
    folder = pause_folder(tmp_path)
    yield folder
    reap(folder)  # a test that failed half way leaves no run behind it


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A project whose first run is published, with changed inputs for the next one."""
    project = make_project(tmp_path / "p")
    assert run_here(project, AS_OF_A, "duckdb") == 0
    change_data(project)
    return project


@contextmanager
def lock_held(out: Path, pid: str) -> Iterator[None]:
    """Hold ``OUT/.lock`` the way a running run does."""
    with open(out / ".lock", "a+") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        handle.seek(0)
        handle.truncate()
        handle.write(pid)
        handle.flush()
        yield


def reason(stderr: str) -> str:
    return stderr.splitlines()[0]


def test_second_run_exits_4_with_one_line_reason_while_another_holds_the_lock(
    project: Path,
) -> None:
    out = project / "out"
    before = snapshot_bytes(out)
    with lock_held(out, "424242"):
        began = time.monotonic()
        done = subprocess.run(
            [sys.executable, "-m", "pipeline", *run_args(project, AS_OF_B, "duckdb"), "--quiet"],
            env=child_env(), capture_output=True, text=True, timeout=TIMEOUT,
        )  # fmt: skip
        assert time.monotonic() - began < TIMEOUT / 2  # failed at once, did not queue
    assert done.returncode == 4
    assert reason(done.stderr) == (f"segments: error: another run is writing to {out} (pid 424242)")
    assert "--wait" in done.stderr  # the hint says how to queue instead
    assert "Traceback" not in done.stderr
    assert snapshot_bytes(out) == before
    # The lock is free again: the same run now publishes.
    assert run_here(project, AS_OF_B, "duckdb") == 0
    assert assert_consistent(out).startswith("20261127T120000Z-")


def test_wait_gives_up_after_its_seconds_with_the_same_reason(project: Path) -> None:
    out = project / "out"
    before = snapshot_bytes(out)
    with lock_held(out, "424242"):
        began = time.monotonic()
        code = run_here(project, AS_OF_B, "duckdb", "--wait", "1")
        waited = time.monotonic() - began
    assert code == 4
    assert waited >= 1
    assert snapshot_bytes(out) == before


def test_two_runs_started_at_once_one_publishes_the_other_exits_4(
    project: Path, flags: Path
) -> None:
    out = project / "out"
    before = snapshot_bytes(out)
    # Both pause right after taking the lock, so whichever wins holds it while the other tries.
    runs = {
        as_of: start_paused(project, flags, "inputs-read", as_of) for as_of in (AS_OF_B, AS_OF_C)
    }
    wait_for(lambda: len(paused(flags)) + sum(p.poll() is not None for p in runs.values()) == 2,
             "one run to pause and the other to exit")  # fmt: skip
    [winner_pid] = paused(flags)
    [(winner_as_of, winner)] = [(a, p) for a, p in runs.items() if p.pid == winner_pid]
    [loser] = [p for p in runs.values() if p.pid != winner_pid]
    _, err = loser.communicate(timeout=TIMEOUT)
    assert loser.returncode == 4, err
    assert reason(err) == f"segments: error: another run is writing to {out} (pid {winner_pid})"
    assert snapshot_bytes(out) == before  # the winner has not published yet

    release(flags)
    _, err = winner.communicate(timeout=TIMEOUT)
    assert winner.returncode == 0, err
    assert_readable(out)
    run_id = assert_consistent(out)
    assert run_id.startswith(f"{winner_as_of[:10].replace('-', '')}T120000Z-")
    # The refused run left no record: it never started.
    assert statuses(out) == [("2026-11-20", "succeeded"), (winner_as_of[:10], "succeeded")]


def test_with_wait_the_second_run_queues_then_publishes(project: Path, flags: Path) -> None:
    out = project / "out"
    before = snapshot_bytes(out)
    first = start_paused(project, flags, "snapshot-written", AS_OF_B)
    wait_for(lambda: paused(flags) or first.poll() is not None, "the first run to pause")
    assert paused(flags) == [first.pid]

    log = out.parent / "second.log"
    with open(log, "w") as stderr:
        second = subprocess.Popen(
            [sys.executable, "-m", "pipeline", *run_args(project, AS_OF_C, "duckdb"),
             "--wait", "30"],
            env=child_env(), stdout=subprocess.PIPE, stderr=stderr, text=True,
        )  # fmt: skip
    # It says that it queues behind the first run.
    wait_for(lambda: "waiting for another run" in log.read_text(), "the second run to queue")
    time.sleep(1.0)
    assert second.poll() is None, log.read_text()
    # Mid-publish (snapshot written, pointer not switched): readers still see the first run.
    assert snapshot_bytes(out) == before

    release(flags)
    _, err = first.communicate(timeout=TIMEOUT)
    assert first.returncode == 0, err
    second.communicate(timeout=TIMEOUT)
    assert second.returncode == 0, log.read_text()
    assert_readable(out)
    assert assert_consistent(out).startswith("20261204T120000Z-")
    assert statuses(out) == [
        ("2026-11-20", "succeeded"),
        ("2026-11-27", "succeeded"),
        ("2026-12-04", "succeeded"),
    ]


@pytest.mark.parametrize("point", ["inputs-read", "snapshot-written"])
def test_lock_of_a_killed_run_is_released(project: Path, flags: Path, point: str) -> None:
    out = project / "out"
    before = snapshot_bytes(out)
    holder = start_paused(project, flags, point, AS_OF_B)
    wait_for(lambda: paused(flags) or holder.poll() is not None, "the run to pause")
    assert paused(flags) == [holder.pid]
    assert (out / ".lock").read_text() == str(holder.pid)
    os.kill(holder.pid, signal.SIGKILL)
    holder.communicate(timeout=TIMEOUT)
    assert holder.returncode == -signal.SIGKILL
    assert snapshot_bytes(out) == before

    # No --wait: a stuck lock would fail this run at once with exit 4.
    assert run_here(project, AS_OF_C, "duckdb") == 0
    assert assert_consistent(out).startswith("20261204T120000Z-")
    assert statuses(out) == [("2026-11-20", "succeeded"), ("2026-12-04", "succeeded")]


def _dead_pid() -> int:
    done = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True)  # fmt: skip
    return int(done.stdout)


@pytest.mark.parametrize("left_behind", ["", "dead"])
def test_refused_run_names_the_holder_even_when_it_looks_in_before_the_pid_is_written(
    tmp_path: Path, left_behind: str
) -> None:
    """The holder takes the lock, then writes its pid: a run looking in between reads an empty
    file, or the pid of a run killed earlier. It must wait for the holder's pid, not report
    those."""
    out = tmp_path / "out"
    out.mkdir()
    stale = str(_dead_pid()) if left_behind == "dead" else ""
    with open(out / ".lock", "a+") as handle:
        handle.write(stale)
        handle.flush()
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)

        def write_pid() -> None:
            time.sleep(0.3)
            handle.seek(0)
            handle.truncate()
            handle.write(str(os.getpid()))
            handle.flush()

        writer = threading.Thread(target=write_pid)
        writer.start()
        try:
            with pytest.raises(RunError) as refused, output_lock(out):
                pytest.fail("the lock is held")
        finally:
            writer.join()
    assert (
        str(refused.value).splitlines()[0] == f"another run is writing to {out} (pid {os.getpid()})"
    )


def test_a_finished_run_leaves_no_pid_behind(tmp_path: Path) -> None:
    out = tmp_path / "out"
    with output_lock(out):
        assert (out / ".lock").read_text() == str(os.getpid())
    assert (out / ".lock").read_text() == ""

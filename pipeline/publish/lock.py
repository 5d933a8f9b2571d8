"""One run at a time per output directory.

``flock`` on ``OUT/.lock``: the kernel drops the lock when its process dies, so a killed run
can never leave it stuck. A second run fails at once with the holder's pid, unless asked to
wait.

The pid is written just after the lock is taken and cleared just before it is let go, so a
second run can look in the instant between: it reads again until the file names a live
process, and only then reports it.
"""

from __future__ import annotations

import fcntl
import os
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import IO

from pipeline.errors import RunError, machine_error


@contextmanager
def output_lock(
    out: Path, wait_seconds: float = 0.0, on_wait: Callable[[str], None] | None = None
) -> Iterator[None]:
    """Hold ``OUT/.lock`` for the block; ``on_wait(holder)`` is called once if it must wait."""
    for folder in (out, *out.parents):  # --out FILE, or --out FILE/sub
        if folder.exists() and not folder.is_dir():
            where = "" if folder == out else f" ({folder} is a file)"
            raise RunError(
                f"--out {out} is a file, not a folder{where}", "give a folder (it is created)"
            )
    path = out / ".lock"
    try:
        out.mkdir(parents=True, exist_ok=True)
        handle = open(path, "a+")  # noqa: SIM115 - held for the whole run
    except OSError as error:
        raise RunError(
            f"cannot write to the output folder {out}: {error.strerror}",
            "give a folder this user may create and write to (on a file system mounted "
            "read-write); the published tables are unchanged",
        ) from None
    try:
        deadline = time.monotonic() + wait_seconds
        while True:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                # The holder is read only to be reported: a retry while waiting need not.
                if time.monotonic() >= deadline:
                    raise RunError(
                        f"another run is writing to {out} (pid {_holder(handle)})",
                        "wait for it to finish, or pass --wait SECONDS to queue behind it",
                    ) from None
                if on_wait is not None:
                    on_wait(_holder(handle))
                    on_wait = None
                time.sleep(0.2)
        handle.seek(0)
        handle.truncate()
        try:
            # Past Python's buffer: a write that fails leaves nothing to write again at close.
            os.write(handle.fileno(), str(os.getpid()).encode())
        except OSError as error:  # a full disk: not even the pid fits (the file stays empty)
            raise (machine_error(error, path) or error) from None
        try:
            yield
        finally:
            # Still held: the next run never reads a finished (or failed) run's pid.
            with suppress(OSError):
                handle.seek(0)
                handle.truncate()
    finally:
        handle.close()


def _holder(handle: IO[str], patience_seconds: float = 1.0) -> str:
    """The pid in the lock file once it names a live process (the holder writes it just after
    taking the lock); whatever is there after ``patience_seconds`` otherwise."""
    deadline = time.monotonic() + patience_seconds
    while True:
        handle.seek(0)
        text = handle.read().strip()
        if text.isdigit() and _alive(int(text)):
            return text
        if time.monotonic() >= deadline:
            return text or "another process"
        time.sleep(0.02)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # it exists, run by another user
    return True

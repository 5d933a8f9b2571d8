"""One run at a time per output directory.

``flock`` on ``OUT/.lock``: the kernel drops the lock when its process dies, so a killed run
can never leave it stuck. A second run fails at once with the holder's pid, unless asked to
wait.
"""

from __future__ import annotations

import fcntl
import os
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from pipeline.errors import RunError


@contextmanager
def output_lock(
    out: Path, wait_seconds: float = 0.0, on_wait: Callable[[str], None] | None = None
) -> Iterator[None]:
    """Hold ``OUT/.lock`` for the block; ``on_wait(holder)`` is called once if it must wait."""
    out.mkdir(parents=True, exist_ok=True)
    path = out / ".lock"
    handle = open(path, "a+")  # noqa: SIM115 - held for the whole run
    try:
        deadline = time.monotonic() + wait_seconds
        while True:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                handle.seek(0)
                holder = handle.read().strip() or "another process"
                if time.monotonic() < deadline and on_wait is not None:
                    on_wait(holder)
                    on_wait = None
                if time.monotonic() >= deadline:
                    raise RunError(
                        f"another run is writing to {out} (pid {holder})",
                        "wait for it to finish, or pass --wait SECONDS to queue behind it",
                    ) from None
                time.sleep(0.2)
        handle.seek(0)
        handle.truncate()
        handle.write(str(os.getpid()))
        handle.flush()
        yield
    finally:
        handle.close()

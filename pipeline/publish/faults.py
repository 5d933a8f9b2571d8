"""Named points where a test can kill the run, to prove that publishing is crash-safe.

``SEGMENTS_FAULT=<point>`` makes the process SIGKILL itself when it reaches ``<point>``: no
cleanup handler runs, exactly as when a scheduler or the OOM killer stops it.
"""

from __future__ import annotations

import os
import signal
from typing import Final

POINTS: Final = (
    "inputs-read",
    "evaluated",
    "table-written",
    "snapshot-written",
    "snapshot-renamed",
    "pointer-switched",
    "warehouse-built",
    "pruned",
)


def checkpoint(point: str) -> None:
    if os.environ.get("SEGMENTS_FAULT") == point:
        os.kill(os.getpid(), signal.SIGKILL)

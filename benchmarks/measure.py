"""Run a command and measure it: wall time, peak RSS of its whole process tree, its log.

The peak RSS is sampled with psutil every ``interval`` seconds as the sum of the RSS of the
process and all its descendants (so a short spike between two samples can be missed; the
kernel's own ``ru_maxrss`` of the waited-for child, which never misses a spike but does not
add up concurrent descendants, is reported next to it). ``cpu_seconds`` is the user + system
CPU time of the child (and the descendants it waited for): on a shared, loaded machine it
moves much less than the wall time.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psutil


@dataclass
class Measured:
    command: list[str]
    returncode: int
    seconds: float
    peak_rss_bytes: int
    maxrss_bytes: int
    cpu_seconds: float
    stdout: str
    stderr_lines: list[str] = field(default_factory=list)
    rss_samples: list[tuple[float, int]] = field(default_factory=list)
    #: Why the command was stopped ("timeout" or "memory"), or None if it ended by itself.
    stopped: str | None = None

    def events(self) -> list[dict[str, Any]]:
        """The JSON log lines the command wrote on stderr."""
        out = []
        for line in self.stderr_lines:
            if line.startswith("{"):
                try:
                    out.append(json.loads(line))
                except json.JSONDecodeError:
                    continue
        return out

    def phase_peaks(self) -> dict[str, int]:
        """Peak sampled RSS of the tree during each ``"<phase> done"`` phase of a run."""
        peaks: dict[str, int] = {}
        for e in self.events():
            if not (str(e.get("event", "")).endswith(" done") and "seconds" in e and "ts" in e):
                continue
            end = float(e["ts"])
            start = end - float(e["seconds"])
            inside = [rss for t, rss in self.rss_samples if start <= t <= end]
            if inside:
                peaks[e["event"].removesuffix(" done")] = max(inside)
        return peaks

    def phases(self) -> dict[str, float]:
        """Seconds per phase, from the ``"<phase> done"`` events of a run."""
        return {
            e["event"].removesuffix(" done"): float(e["seconds"])
            for e in self.events()
            if str(e.get("event", "")).endswith(" done") and "seconds" in e
        }


def _tree_rss(proc: psutil.Process) -> int:
    total = 0
    try:
        procs = [proc, *proc.children(recursive=True)]
    except psutil.Error:
        return 0
    for p in procs:
        try:
            total += p.memory_info().rss
        except psutil.Error:
            continue
    return total


@dataclass(frozen=True)
class Limits:
    """When to stop a measured command: after ``seconds``, or above ``rss_bytes`` of RSS."""

    seconds: float | None = None
    rss_bytes: int | None = None


def run_measured(
    command: list[str],
    *,
    env: dict[str, str] | None = None,
    cwd: Path | None = None,
    interval: float = 0.05,
    limits: Limits = Limits(),
) -> Measured:
    """Run ``command`` (stdout and stderr captured, not on a TTY) and measure it.

    The process tree is killed at the ``limits``: after so many seconds, or as soon as its
    RSS passes so many bytes (before the machine itself runs out of memory).
    """
    started = time.perf_counter()
    popen = subprocess.Popen(
        command,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        cwd=cwd,
    )
    stderr: list[str] = []
    stdout: list[str] = []
    readers = [
        threading.Thread(target=lambda: stderr.extend(popen.stderr), daemon=True),  # type: ignore[arg-type]
        threading.Thread(target=lambda: stdout.extend(popen.stdout), daemon=True),  # type: ignore[arg-type]
    ]
    for reader in readers:
        reader.start()
    proc = psutil.Process(popen.pid)
    peak = 0
    samples: list[tuple[float, int]] = []
    status = 0
    usage = None
    stopped: str | None = None
    while True:
        pid, status, usage = os.wait4(popen.pid, os.WNOHANG)
        if pid:
            break
        rss = _tree_rss(proc)
        samples.append((time.time(), rss))
        peak = max(peak, rss)
        elapsed = time.perf_counter() - started
        if stopped is None:
            if limits.seconds is not None and elapsed > limits.seconds:
                stopped = "timeout"
            elif limits.rss_bytes is not None and rss > limits.rss_bytes:
                stopped = "memory"
            if stopped is not None:  # once: wait4 above reaps the process, nothing else may
                for child in proc.children(recursive=True):
                    child.kill()
                os.kill(popen.pid, signal.SIGKILL)  # not popen.kill(): it polls, and reaps
        time.sleep(interval)
    seconds = time.perf_counter() - started
    popen.returncode = os.waitstatus_to_exitcode(status)
    for reader in readers:
        reader.join(timeout=10)
    return Measured(
        command=command,
        returncode=popen.returncode,
        seconds=round(seconds, 3),
        peak_rss_bytes=peak,
        maxrss_bytes=(usage.ru_maxrss * 1024) if usage is not None else 0,
        cpu_seconds=round(usage.ru_utime + usage.ru_stime, 3) if usage is not None else 0.0,
        stdout="".join(stdout),
        stderr_lines=[line.rstrip("\n") for line in stderr],
        rss_samples=samples,
        stopped=stopped,
    )

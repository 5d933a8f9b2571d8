"""Progress for people on a terminal, JSON lines for schedulers and log collectors."""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, TextIO

from rich.console import Console


class Reporter:
    """Announces phases with their elapsed time; ``quiet`` silences everything."""

    def __init__(self, stream: TextIO | None = None, *, quiet: bool = False) -> None:
        self.stream = stream or sys.stderr
        self.quiet = quiet
        self.tty = self.stream.isatty()
        self.console = Console(file=self.stream, highlight=False) if self.tty else None
        self.started = time.monotonic()
        self.timings: dict[str, float] = {}

    def event(self, event: str, **fields: Any) -> None:
        if self.quiet:
            return
        if self.console is not None:
            details = "  ".join(f"{k}={v}" for k, v in fields.items())
            elapsed = time.monotonic() - self.started
            self.console.print(f"[dim]{elapsed:6.1f}s[/dim] {event}  {details}".rstrip())
        else:
            record = {"ts": time.time(), "event": event, **fields}
            self.stream.write(json.dumps(record, default=str) + "\n")
            self.stream.flush()

    @contextmanager
    def phase(self, name: str) -> Iterator[dict[str, Any]]:
        """Time a phase; the yielded dict collects fields reported when it ends."""
        fields: dict[str, Any] = {}
        start = time.monotonic()
        if self.console is not None and not self.quiet:
            with self.console.status(f"{name} ..."):
                yield fields
        else:
            yield fields
        seconds = round(time.monotonic() - start, 3)
        self.timings[name] = seconds
        self.event(f"{name} done", seconds=seconds, **fields)

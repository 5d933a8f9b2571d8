"""Progress for people on a terminal, JSON lines for schedulers and log collectors.

``log_format``: ``text`` (lines for people), ``json`` (one JSON object a line) or ``auto``
(text on a terminal, JSON otherwise). Colour only on a terminal and never with ``NO_COLOR``
set (https://no-color.org): then not even dim or bold. ``quiet`` keeps warnings and
failures only; ``verbose`` shows every field of every event (examples, hints) in text.
"""

from __future__ import annotations

import json
import os
import sys
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any, Final, TextIO

from rich.console import Console
from rich.markup import escape

LOG_FORMATS: Final = ("auto", "text", "json")
#: Events shown even with ``quiet``.
_ALWAYS: Final = frozenset({"warning"})
#: In text, a field's value is cut to this length unless ``verbose``.
_SHORT: Final = 120


def colour_allowed(stream: TextIO) -> bool:
    """Colour and styles: on a terminal, unless ``NO_COLOR`` is set (to anything)."""
    return stream.isatty() and not os.environ.get("NO_COLOR")


class Reporter:
    """Announces phases with their elapsed time, and what a run warns about."""

    def __init__(
        self,
        stream: TextIO | None = None,
        *,
        quiet: bool = False,
        log_format: str = "auto",
        verbose: bool = False,
    ) -> None:
        self.stream = stream or sys.stderr
        self.quiet = quiet
        self.verbose = verbose
        tty = self.stream.isatty()
        self.json = log_format == "json" or (log_format == "auto" and not tty)
        styled = colour_allowed(self.stream) and not self.json
        self.console = (
            Console(file=self.stream, highlight=False, no_color=not styled, force_terminal=styled)
            if not self.json
            else None
        )
        self.styled = styled
        self.started = time.monotonic()
        self.timings: dict[str, float] = {}
        #: The warnings of the run, each with its segment when it has one (for the summary).
        self.warnings: list[dict[str, Any]] = []

    def event(self, event: str, **fields: Any) -> None:
        if event == "warning":
            self.warnings.append(fields)
        if self.quiet and event not in _ALWAYS:
            return
        if self.console is None:
            record = {"ts": time.time(), "event": event, **fields}
            self.stream.write(json.dumps(record, default=str) + "\n")
            self.stream.flush()
            return
        self.console.print(self._line(event, fields), markup=self.styled, soft_wrap=True)

    def _line(self, event: str, fields: dict[str, Any]) -> str:
        elapsed = f"{time.monotonic() - self.started:6.1f}s"
        shown = dict(fields)
        hint = shown.pop("hint", None) if event == "warning" else None
        message = shown.pop("message", None) if event == "warning" else None
        details = "  ".join(f"{k}={self._value(v)}" for k, v in shown.items())
        if event == "warning":
            head = f"warning: {message}" + (f"  {details}" if details else "")
            text = head + (f"\n        hint: {hint}" if hint else "")
            return f"[yellow]{escape(text)}[/yellow]" if self.styled else text
        line = f"{elapsed} {event}  {details}".rstrip()
        if not self.styled:
            return line
        return f"[dim]{elapsed}[/dim] {escape(event)}  {escape(details)}".rstrip()

    def _value(self, value: Any) -> str:
        text = str(value)
        if self.verbose or len(text) <= _SHORT:
            return text
        return text[: _SHORT - 3] + "..."

    @contextmanager
    def phase(self, name: str) -> Iterator[dict[str, Any]]:
        """Time a phase; the yielded dict collects fields reported when it ends."""
        fields: dict[str, Any] = {}
        start = time.monotonic()
        if self.console is not None and self.styled and not self.quiet:
            with self.console.status(f"{name} ..."):
                yield fields
        else:
            yield fields
        seconds = round(time.monotonic() - start, 3)
        self.timings[name] = seconds
        self.event(f"{name} done", seconds=seconds, **fields)


def table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """Columns aligned on their widest cell."""
    widths = [len(h) for h in headers]
    for row in rows:
        widths = [max(w, len(c)) for w, c in zip(widths, row, strict=True)]
    lines = ["  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True)).rstrip()]
    lines.append("  ".join("-" * w for w in widths))
    lines += [
        "  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip() for row in rows
    ]
    return "\n".join(lines)


def summary(
    rows: Sequence[tuple[str, int, int, int]],
    warnings: Sequence[dict[str, Any]],
    removed: Sequence[str],
) -> str:
    """The end of a run for people: each segment's members, entered, exited and change,
    with empty segments, warnings and removed segments marked."""
    warned = {str(w["segment"]) for w in warnings if "segment" in w}
    lines = []
    for segment_id, members, entered, exited in rows:
        notes = []
        if segment_id in removed:
            notes.append("removed: its members exited")
        elif members == 0:
            notes.append("EMPTY")
        if segment_id in warned:
            notes.append("warning (see above)")
        change = entered - exited
        lines.append(
            [
                segment_id,
                f"{members:,}",
                f"{entered:,}",
                f"{exited:,}",
                f"{change:+,}" if change else "0",
                ", ".join(notes),
            ]
        )
    return table(["segment", "members", "entered", "exited", "change", "note"], lines)

"""The report's charts: inline SVG (and colour legends) drawn from numbers and labels.

Pure functions, no reading and no data frames: :mod:`pipeline.publish.report` reads the
published tables into :class:`History` values and day counts, and these turn them into
markup. Every label is escaped here; a chart draws at most :data:`POINTS` points.

    >>> sparkline(None)
    ''
    >>> legend([("<b>", ENTERED)]).count("&lt;b&gt;")
    1
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Sequence
from dataclasses import dataclass
from html import escape
from typing import Final

#: Most points a chart draws; a longer history is drawn in buckets of consecutive runs.
POINTS: Final = 120
SPARK_POINTS: Final = 60

MEMBERS: Final = "#0969da"
ENTERED: Final = "#1a7f37"
EXITED: Final = "#cf222e"
KIND_COLORS: Final = {"note": "#8250df", "chat": "#1b7c83", "ticket": "#bf8700", "call": "#bf3989"}
OTHER_KIND: Final = "#6e7781"


@dataclass(frozen=True, slots=True)
class Point:
    """A segment (or every segment) at one run, or at a bucket of consecutive runs."""

    as_of: dt.datetime
    members: int
    entered: int
    exited: int


@dataclass(frozen=True, slots=True)
class History:
    """A segment's runs (or all segments' runs), drawn in at most :data:`POINTS` points."""

    points: list[Point]
    #: The last run itself, and the members at the run before it (0 at the first run).
    last: Point
    previous: int
    runs: int
    first: dt.datetime

    @property
    def change(self) -> int:
        return self.last.members - self.previous


def history_chart(history: History | None, width: int, *, members: bool, label: str) -> str:
    """Members as a line (with ``members``) above entered (up) and exited (down) bars.

    >>> history_chart(None, 640, members=True, label="members per run")
    '<p class="muted">No runs yet.</p>'
    """
    if history is None:
        return '<p class="muted">No runs yet.</p>'
    shown = history.points
    left, right = 64, width - 12
    xs = _xs(len(shown), left + 6, right - 6)
    body = []
    if members:
        top, bottom = 12, 84
        peak = max(p.members for p in shown) or 1
        body += [_grid(left, right, top, f"{peak:,}"), _grid(left, right, bottom, "0")]
        body.append(_line(xs, [p.members for p in shown], bottom, top, peak, MEMBERS))
        high, mid, low = 108, 130, 152
    else:
        high, mid, low = 12, 70, 128
    # The first run enters every member: its bar is cut at the top of the chart rather than
    # flattening every later one (unless nothing changed later).
    later = [n for p in shown[1:] for n in (p.entered, p.exited)]
    reach = max(later) if any(later) else max(shown[0].entered, shown[0].exited, 1)
    body += [
        _grid(left, right, high, f"+{reach:,}"),
        _grid(left, right, mid, "0"),
        _grid(left, right, low, f"-{reach:,}"),
    ]
    bar = max(1.0, min(10.0, (right - left) / len(shown) * 0.6))
    entered = [min(p.entered, reach) for p in shown]
    exited = [min(p.exited, reach) for p in shown]
    body.append(_bars(xs, entered, mid, (mid - high) / reach, ENTERED, bar))
    body.append(_bars(xs, exited, mid, (mid - low) / reach, EXITED, bar))
    grouped = "" if len(shown) == history.runs else f", {_group(history.runs)} per point"
    height = low + 22
    body.append(
        f'<text x="{left}" y="{height - 4}">{instant(history.first)}</text>'
        f'<text x="{right}" y="{height - 4}" text-anchor="end">{instant(history.last.as_of)} '
        f"({history.runs:,} runs{grouped})</text>"
    )
    return _svg(width, height, label, "".join(body))


def sparkline(history: History | None) -> str:
    """Members at each run as a small line (at most :data:`SPARK_POINTS` points); empty
    without runs."""
    if history is None:
        return ""
    shown = _bucket(history.points, SPARK_POINTS)
    peak = max(p.members for p in shown) or 1
    line = _line(_xs(len(shown), 3, 115), [p.members for p in shown], 25, 3, peak, MEMBERS)
    return _svg(120, 28, f"members at {history.runs:,} runs", line)


def stacked_chart(
    days: Sequence[dt.date],
    kinds: Sequence[str],
    colors: dict[str, str],
    events: dict[tuple[dt.date, str], int],
) -> str:
    """Events per day as bars stacked by kind: one path per kind, one tooltip per day."""
    width, height, left, right, top, bottom = 960, 190, 64, 948, 12, 160
    peak = max([sum(events.get((d, k), 0) for k in kinds) for d in days] + [1])
    step = (right - left) / len(days)
    bar = max(1.0, step * 0.8)
    paths: dict[str, list[str]] = {k: [] for k in kinds}
    tips = []
    for i, day in enumerate(days):
        x = left + (i + 0.5) * step
        y = float(bottom)
        said = []
        for kind in kinds:
            count = events.get((day, kind), 0)
            if count:
                high = y - count / peak * (bottom - top)
                paths[kind].append(f"M{x:.1f} {y:.1f}V{high:.1f}")
                y = high
                said.append(f"{count:,} {kind}")
        tips.append(
            f'<rect x="{x - step / 2:.1f}" y="{top}" width="{step:.1f}" height="{bottom - top}" '
            f'fill="transparent"><title>{day:%Y-%m-%d}: {_e(", ".join(said) or "none")}'
            "</title></rect>"
        )
    body = [_grid(left, right, top, f"{peak:,}"), _grid(left, right, bottom, "0")]
    body += [
        f'<path d="{"".join(d)}" stroke="{colors[k]}" stroke-width="{bar:.1f}"/>'
        for k, d in paths.items()
        if d
    ]
    body += tips
    for i in range(0, len(days), 15):
        x = left + (i + 0.5) * step
        body.append(
            f'<text x="{x:.1f}" y="{height - 12}" text-anchor="middle">{days[i]:%m-%d}</text>'
        )
    return _svg(width, height, "timeline events per day and kind", "".join(body))


def legend(items: Sequence[tuple[str, str]]) -> str:
    """A swatch of each colour with its (escaped) name."""
    spans = "".join(
        f'<span><span class="swatch" style="background:{color}"></span>{_e(name)}</span>'
        for name, color in items
    )
    return f'<p class="legend">{spans}</p>'


def instant(value: dt.datetime | None) -> str:
    """An instant as the whole page writes it, on chart axes and in tables alike.

    >>> instant(dt.datetime(2026, 11, 20, 13, 0, tzinfo=dt.timezone(dt.timedelta(hours=1))))
    '2026-11-20 12:00 UTC'
    """
    return "" if value is None else f"{value.astimezone(dt.UTC):%Y-%m-%d %H:%M} UTC"


# -- drawing ----------------------------------------------------------------------------------


def _svg(width: int, height: int, label: str, body: str) -> str:
    return (
        f'<svg class="chart" width="{width}" height="{height}" viewBox="0 0 {width} {height}" '
        f'role="img" aria-label="{_e(label)}"><title>{_e(label)}</title>{body}</svg>'
    )


def _e(value: object) -> str:
    return escape(str(value), quote=True)


def _grid(left: float, right: float, y: float, label: str) -> str:
    return (
        f'<line x1="{left}" x2="{right}" y1="{y}" y2="{y}" stroke="#d0d7de"/>'
        f'<text x="{left - 6}" y="{y + 4}" text-anchor="end">{label}</text>'
    )


def _line(
    xs: Sequence[float], values: Sequence[int], bottom: float, top: float, peak: int, color: str
) -> str:
    ys = [bottom - v / peak * (bottom - top) for v in values]
    points = " ".join(f"{x:.1f},{y:.1f}" for x, y in zip(xs, ys, strict=True))
    return (
        f'<polyline points="{points}" fill="none" stroke="{color}" stroke-width="1.8"/>'
        f'<circle cx="{xs[-1]:.1f}" cy="{ys[-1]:.1f}" r="2.5" fill="{color}"/>'
    )


def _bars(
    xs: Sequence[float], values: Sequence[int], base: float, scale: float, color: str, width: float
) -> str:
    """Vertical bars from ``base`` as one path (a bar per non-zero value)."""
    d = "".join(
        f"M{x:.1f} {base:.1f}V{base - v * scale:.1f}" for x, v in zip(xs, values, strict=True) if v
    )
    return f'<path d="{d}" stroke="{color}" stroke-width="{width:.1f}"/>' if d else ""


def _xs(count: int, left: float, right: float) -> list[float]:
    if count == 1:
        return [(left + right) / 2]
    return [left + i * (right - left) / (count - 1) for i in range(count)]


# -- scaling ----------------------------------------------------------------------------------


def _group(runs: int) -> int:
    """How many consecutive runs a chart point stands for."""
    return max(1, math.ceil(runs / POINTS))


def _bucket(points: Sequence[Point], cap: int) -> list[Point]:
    """At most ``cap`` points: consecutive runs grouped, each group its last size and its
    summed changes."""
    if len(points) <= cap:
        return list(points)
    size = math.ceil(len(points) / cap)
    groups = [points[i : i + size] for i in range(0, len(points), size)]
    return [
        Point(g[-1].as_of, g[-1].members, sum(p.entered for p in g), sum(p.exited for p in g))
        for g in groups
    ]

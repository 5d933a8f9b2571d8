"""``OUT/report.html``: one self-contained page over the published tables, written by every run.

It shows segment sizes over time, entered and exited per run, a breakdown per property,
timeline activity per day and each segment's definition in words. It works offline: CSS is
inline, charts are SVG drawn by :mod:`pipeline.publish.charts`, there is no script, and a
Content-Security-Policy forbids fetching anything. Every text that comes from definitions or
data (names, descriptions, property ids) is escaped. Its cost is bounded: a chart draws at most
:data:`~pipeline.publish.charts.POINTS` points (more runs are drawn in buckets of consecutive
runs: the last size, the summed changes), and tables have a fixed number of rows per segment.

This module reads the tables and assembles the sections; the charts module only draws.

The run writes it after publishing; a report that fails is a warning, never a failed run.

    >>> write_report(Path("out"), segments, clock, reporter)  # doctest: +SKIP
    PosixPath('out/report.html')
"""

from __future__ import annotations

import datetime as dt
import os
import time
import zoneinfo
from collections.abc import Sequence
from dataclasses import dataclass
from html import escape
from pathlib import Path
from typing import Final

import polars as pl

from pipeline.errors import machine_error
from pipeline.language import ir
from pipeline.language.words import explain
from pipeline.outputs import DAILY, RUNS, SIZES
from pipeline.progress import Reporter
from pipeline.publish.charts import (
    ENTERED,
    EXITED,
    KIND_COLORS,
    MEMBERS,
    OTHER_KIND,
    POINTS,
    History,
    Point,
    history_chart,
    instant,
    legend,
    sparkline,
    stacked_chart,
)
from pipeline.publish.snapshot import published_parts, read_published_frame

REPORT: Final = "report.html"
#: Days of timeline activity shown, ending with the run's day.
DAYS: Final = 90
#: Most rows of a table that grows with the data (properties of a segment, runs, attempts).
PROPERTY_ROWS: Final = 50
RUN_ROWS: Final = 20
ATTEMPT_ROWS: Final = 10

STYLE: Final = """
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,Arial,sans-serif;color:#1f2328;
 background:#fff;max-width:1200px;margin:0 auto;padding:12px 24px}
h1{font-size:24px;margin:8px 0}
h2{font-size:19px;margin:28px 0 8px;border-bottom:1px solid #d0d7de;padding-bottom:4px}
h3{font-size:16px;margin:16px 0 4px}
nav a{margin-right:14px}
table{border-collapse:collapse;margin:8px 0}
th,td{padding:3px 10px;border-bottom:1px solid #eaeef2;text-align:left;vertical-align:middle}
th{background:#f6f8fa;font-weight:600}
.num{text-align:right;font-variant-numeric:tabular-nums}
.up{color:#1a7f37}.down{color:#cf222e}.muted,small{color:#656d76}
.bar{height:12px;background:#0969da;border-radius:2px;min-width:1px}
.legend span{margin-right:16px}
.swatch{display:inline-block;width:10px;height:10px;margin-right:4px;border-radius:2px}
pre.words{background:#f6f8fa;padding:10px 12px;border-radius:6px;white-space:pre-wrap;
 overflow-wrap:anywhere;font-size:13px}
article.segment{border-top:1px solid #d0d7de;margin-top:18px}
article.segment:target{background:#fffbdd}
svg text{font-size:11px;fill:#656d76}
"""
#: Nothing may be fetched or run: inline styles only, no script, no network.
POLICY: Final = "default-src 'none'; style-src 'unsafe-inline'; img-src data:"


@dataclass(frozen=True, slots=True)
class Published:
    """What the report reads from the current snapshot."""

    sizes: pl.DataFrame
    runs: pl.DataFrame
    #: ``timeline_daily`` summed per ``day`` and ``kind`` over ``first_day..last_day``.
    activity: pl.DataFrame
    first_day: dt.date
    last_day: dt.date


def write_report(
    out: Path, segments: Sequence[ir.Segment], clock: ir.Clock, reporter: Reporter
) -> Path | None:
    """Write ``out/report.html`` atomically from the published tables; never raises for a
    failed report (the run has published already): it is said as a warning, and None.

    An event rather than a phase: a phase may hold the terminal's live status line, and
    nothing here may fail a published run."""
    started = time.monotonic()
    path = out / REPORT
    try:
        page = render(read(out, clock), segments, clock).encode()
        _write_atomically(path, page)
    except Exception as error:
        fault = machine_error(error, path)  # a full disk: the earlier report is left whole
        reason = f"{type(error).__name__}: {error}" if fault is None else str(fault.strerror)
        where = "" if fault is None else f" (free space on the disk of {out})"
        reporter.event(
            "warning",
            message=f"{REPORT} was not written: {reason}",
            hint=f"the run is published; the next run writes the report again{where}",
        )
        return None
    seconds = round(time.monotonic() - started, 3)
    reporter.event("report written", path=str(path), bytes=len(page), seconds=seconds)
    return path


def read(out: Path, clock: ir.Clock) -> Published:
    """The current snapshot's sizes and runs, and its timeline activity of the last days."""
    last_day = clock.as_of.astimezone(zoneinfo.ZoneInfo(clock.timezone)).date()
    first_day = last_day - dt.timedelta(days=DAYS - 1)
    sizes = read_published_frame(out, SIZES.name)
    runs = read_published_frame(out, RUNS.name)
    parts = published_parts(out, DAILY.name)
    activity = pl.DataFrame(schema={"day": pl.Date, "kind": pl.String, "events": pl.Int64})
    if parts:  # three columns read, the window summed (lazily, in parallel)
        activity = (
            pl.scan_parquet(parts, glob=False)
            .filter(pl.col("day").is_between(first_day, last_day))
            .group_by("day", "kind")
            .agg(pl.col("events").sum())
            .collect()
        )
    return Published(
        sizes if sizes is not None else pl.DataFrame(SIZES.schema.empty_table()),
        runs if runs is not None else pl.DataFrame(RUNS.schema.empty_table()),
        activity,
        first_day,
        last_day,
    )


def render(data: Published, segments: Sequence[ir.Segment], clock: ir.Clock) -> str:
    """The whole page; every text from definitions or data is escaped."""
    counts = pl.col("members", "entered", "exited").sum()
    totals = data.sizes.group_by("segment_id", "run_id", "as_of").agg(counts)
    totals = totals.sort("segment_id", "as_of")
    histories = _histories(totals, "segment_id")
    last = totals.group_by("segment_id").agg(pl.col("as_of").max())
    current = data.sizes.join(last, on=["segment_id", "as_of"])  # each segment's last run
    per_run = totals.group_by("run_id", "as_of").agg(pl.len().alias("segments"), counts)
    per_run = per_run.sort("as_of")
    defined = sorted(segments, key=lambda s: s.id)
    body = [
        _header(per_run, defined, clock),
        _sizes(histories, defined),
        _runs(per_run, data.runs),
        _properties(current),
        _timeline(data),
        _definitions(histories, current, defined, clock),
    ]
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f'<meta http-equiv="Content-Security-Policy" content="{POLICY}">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>Segments report</title><style>{STYLE}</style></head>\n<body>\n"
        + "\n".join(body)
        + "\n</body></html>\n"
    )


# -- sections ---------------------------------------------------------------------------------


def _header(per_run: pl.DataFrame, defined: Sequence[ir.Segment], clock: ir.Clock) -> str:
    run = per_run.row(-1, named=True) if per_run.height else None
    said = f"run <code>{_e(run['run_id'])}</code>, " if run else ""
    return (
        "<header><h1>Segments report</h1>"
        f'<p class="muted">{said}as of {instant(clock.as_of)} (timezone {_e(clock.timezone)}) '
        f"&middot; {len(defined)} segments defined &middot; {per_run.height} runs in history</p>"
        '<nav><a href="#sizes">Sizes</a><a href="#runs">Runs</a>'
        '<a href="#properties">Properties</a><a href="#timeline">Timeline</a>'
        '<a href="#definitions">Definitions</a></nav></header>'
    )


def _sizes(histories: dict[str, History], defined: Sequence[ir.Segment]) -> str:
    names = {s.id: s for s in defined}
    rows = []
    for segment_id in sorted(names.keys() | histories.keys()):
        history = histories.get(segment_id)
        segment = names.get(segment_id)
        link = (
            f'<a href="#{_anchor(segment_id)}">{_e(segment_id)}</a>' if segment else _e(segment_id)
        )
        label = _e(_one_line(segment.name)) if segment else "no longer defined"
        cells = '<td class="num members">&mdash;</td>' + '<td class="num">&mdash;</td>' * 3
        if history:
            now, change = history.last, history.change
            cells = (
                f'<td class="num members">{now.members:,}</td>'
                f'<td class="num entered">{now.entered:,}</td>'
                f'<td class="num exited">{now.exited:,}</td>'
                f'<td class="num change {_trend(change)}">{_signed(change)}</td>'
            )
        entity = _e(segment.entity) if segment else ""
        rows.append(
            f'<tr data-segment="{_e(segment_id)}"><td>{link}<br><small>{label}</small></td>'
            f"<td>{entity}</td>{cells}<td>{sparkline(history)}</td></tr>"
        )
    return (
        '<section id="sizes"><h2>Segment sizes</h2><p class="muted">Members summed over the '
        "properties at each segment's last run; entered, exited and the change since the run "
        "before it. The trend is the size at every run.</p>"
        '<table id="sizes-table"><thead><tr><th>segment</th><th>entity</th>'
        '<th class="num">members</th><th class="num">entered</th><th class="num">exited</th>'
        f'<th class="num">change</th><th>trend</th></tr></thead><tbody>{"".join(rows)}'
        "</tbody></table></section>"
    )


def _runs(per_run: pl.DataFrame, runs: pl.DataFrame) -> str:
    everything = per_run.select(pl.lit("").alias("all"), "as_of", "members", "entered", "exited")
    history = _histories(everything, "all").get("")
    chart = history_chart(history, 960, members=False, label="entered and exited per run")
    rows = "".join(
        f"<tr><td>{instant(r['as_of'])}</td><td><code>{_e(r['run_id'])}</code></td>"
        f'<td class="num">{r["segments"]:,}</td><td class="num">{r["members"]:,}</td>'
        f'<td class="num up">{r["entered"]:,}</td><td class="num down">{r["exited"]:,}</td></tr>'
        for r in per_run.reverse().head(RUN_ROWS).rows(named=True)
    )
    attempts = "".join(
        f"<tr><td>{instant(r['started_at'])}</td><td>{_e(r['status'])}</td>"
        f'<td>{_e(r["engine"])}</td><td class="num">{_seconds(r)}</td>'
        f"<td>{_e(r['error'] or '')}</td></tr>"
        for r in runs.sort("started_at", nulls_last=True)
        .reverse()
        .head(ATTEMPT_ROWS)
        .rows(named=True)
    )
    return (
        '<section id="runs"><h2>Entered and exited per run</h2><p class="muted">Changes in '
        "every segment and property at each run; the first run's bar (every member entered) "
        "is cut at the top of the chart.</p>"
        f"{legend([('entered', ENTERED), ('exited', EXITED)])}{chart}"
        f"<h3>Last {min(RUN_ROWS, per_run.height)} of {per_run.height} runs</h3>"
        '<table id="runs-table"><thead><tr><th>as of</th><th>run</th><th class="num">segments'
        '</th><th class="num">memberships</th><th class="num">entered</th>'
        f'<th class="num">exited</th></tr></thead><tbody>{rows}</tbody></table>'
        f"<h3>Last {min(ATTEMPT_ROWS, runs.height)} of {runs.height} run attempts</h3>"
        "<table><thead><tr><th>started</th><th>status</th><th>engine</th>"
        f'<th class="num">seconds</th><th>error</th></tr></thead><tbody>{attempts}</tbody>'
        "</table></section>"
    )


def _properties(current: pl.DataFrame) -> str:
    table = (
        current.group_by("property_id")
        .agg(
            (pl.col("members") > 0).sum().alias("segments"),
            pl.col("members", "entered", "exited").sum(),
        )
        .sort("members", "property_id", descending=[True, False])
    )
    top = max([int(m) for m in table.get_column("members")] + [1])
    rows = "".join(
        f'<tr data-property="{_e(r["property_id"])}"><td>{_e(r["property_id"])}</td>'
        f'<td class="num">{r["segments"]:,}</td><td class="num members">{r["members"]:,}</td>'
        f'<td class="num up">{r["entered"]:,}</td><td class="num down">{r["exited"]:,}</td>'
        f'<td style="width:320px"><div class="bar" style="width:{100 * r["members"] / top:.1f}%">'
        "</div></td></tr>"
        for r in table.rows(named=True)
    )
    return (
        '<section id="properties"><h2>Per property</h2><p class="muted">Memberships at each '
        "segment's last run, per property; entered and exited at that run.</p>"
        '<table id="properties-table"><thead><tr><th>property</th><th class="num">segments with '
        'members</th><th class="num">memberships</th><th class="num">entered</th>'
        f'<th class="num">exited</th><th></th></tr></thead><tbody>{rows}</tbody></table>'
        "</section>"
    )


def _timeline(data: Published) -> str:
    days = [
        data.first_day + dt.timedelta(days=i)
        for i in range((data.last_day - data.first_day).days + 1)
    ]
    events = {
        (r[0], r[1]): int(r[2]) for r in data.activity.select("day", "kind", "events").iter_rows()
    }
    found = set(data.activity.get_column("kind").to_list())
    kinds = [k for k in KIND_COLORS if k in found] + sorted(found - KIND_COLORS.keys())
    colors = {k: KIND_COLORS.get(k, OTHER_KIND) for k in kinds}
    chart = stacked_chart(days, kinds, colors, events)
    windows = (7, 30, len(days))
    head = "".join(f'<th class="num">last {n} days</th>' for n in windows)
    rows = "".join(
        f'<tr data-kind="{_e(kind)}"><td><span class="swatch" style="background:{colors[kind]}">'
        f"</span>{_e(kind)}</td>"
        + "".join(
            f'<td class="num">{sum(events.get((d, kind), 0) for d in days[-n:]):,}</td>'
            for n in windows
        )
        + "</tr>"
        for kind in kinds
    )
    return (
        '<section id="timeline"><h2>Timeline activity</h2><p class="muted">Events per day and '
        f"kind in every property, {days[0]:%Y-%m-%d} to {days[-1]:%Y-%m-%d} (days of the run's "
        f"timezone).</p>{legend([(k, colors[k]) for k in kinds])}{chart}"
        f'<table id="timeline-table"><thead><tr><th>kind</th>{head}</tr></thead>'
        f"<tbody>{rows}</tbody></table></section>"
    )


def _definitions(
    histories: dict[str, History],
    current: pl.DataFrame,
    defined: Sequence[ir.Segment],
    clock: ir.Clock,
) -> str:
    per_segment = {
        str(key[0]): frame.sort("members", "property_id", descending=[True, False])
        for key, frame in current.partition_by("segment_id", as_dict=True).items()
    }
    articles = []
    for segment in defined:
        about = [_e(segment.entity)]
        if segment.owner:
            about.append(f"owner {_e(segment.owner)}")
        if segment.tags:
            about.append("tags " + ", ".join(_e(t) for t in segment.tags))
        properties = per_segment.get(segment.id, pl.DataFrame())
        rows = "".join(
            f'<tr data-property="{_e(r["property_id"])}"><td>{_e(r["property_id"])}</td>'
            f'<td class="num">{r["members"]:,}</td><td class="num up">{r["entered"]:,}</td>'
            f'<td class="num down">{r["exited"]:,}</td></tr>'
            for r in properties.head(PROPERTY_ROWS).rows(named=True)
        )
        more = properties.height - PROPERTY_ROWS
        if more > 0:
            rows += f'<tr><td colspan="4" class="muted">and {more:,} more properties</td></tr>'
        chart = history_chart(
            histories.get(segment.id), 640, members=True, label=f"{segment.id}: members per run"
        )
        articles.append(
            f'<article class="segment" id="{_anchor(segment.id)}">'
            f"<h3>{_e(_one_line(segment.name))} <code>{_e(segment.id)}</code></h3>"
            f'<p class="muted">{" &middot; ".join(about)} &middot; '
            '<a href="#sizes">back to sizes</a></p>'
            f'{chart}<table><thead><tr><th>property</th><th class="num">members</th>'
            '<th class="num">entered</th><th class="num">exited</th></tr></thead>'
            f"<tbody>{rows}</tbody></table>"
            f'<pre class="words">{_e(explain(segment, clock))}</pre></article>'
        )
    return (
        '<section id="definitions"><h2>Definitions</h2><p class="muted">Each segment in words '
        "(references expanded), its size per run and per property at its last run.</p>"
        f"{legend([('members', MEMBERS), ('entered', ENTERED), ('exited', EXITED)])}"
        + "".join(articles)
        + "</section>"
    )


# -- helpers ----------------------------------------------------------------------------------


def _histories(frame: pl.DataFrame, key: str) -> dict[str, History]:
    """Each ``key``'s history from ``frame`` (``key``, ``as_of``, ``members``, ``entered``,
    ``exited``; sorted by ``key`` and ``as_of``). The runs are grouped into points by Polars,
    so a long history never reaches Python whole."""
    runs = pl.len().over(key)
    step = pl.int_range(pl.len(), dtype=pl.Int64).over(key) // ((runs + POINTS - 1) // POINTS)
    grouped = (
        frame.with_columns(step.alias("step"))
        .group_by(key, "step")
        .agg(pl.col("as_of", "members").last(), pl.col("entered", "exited").sum())
        .sort(key, "step")
    )
    points: dict[str, list[Point]] = {}
    for name, as_of, members, entered, exited in grouped.select(
        key, "as_of", "members", "entered", "exited"
    ).iter_rows():
        points.setdefault(name, []).append(Point(as_of, members, entered, exited))
    ends = frame.group_by(key).agg(
        pl.col("as_of").first().alias("first"),
        pl.col("as_of", "members", "entered", "exited").last(),
        pl.col("members").shift(1).last().fill_null(0).alias("previous"),
        pl.len().alias("runs"),
    )
    return {
        name: History(points[name], Point(as_of, m, e, x), previous, runs, first)
        for name, first, as_of, m, e, x, previous, runs in ends.select(
            key, "first", "as_of", "members", "entered", "exited", "previous", "runs"
        ).iter_rows()
    }


def _anchor(segment_id: str) -> str:
    return f"segment-{segment_id}"


def _e(value: object) -> str:
    return escape(str(value), quote=True)


def _one_line(text: str) -> str:
    return " ".join(text.split())


def _signed(change: int) -> str:
    return f"{change:+,}" if change else "0"


def _trend(change: int) -> str:
    return "up" if change > 0 else "down" if change < 0 else ""


def _seconds(run: dict[str, object]) -> str:
    started, finished = run["started_at"], run["finished_at"]
    if isinstance(started, dt.datetime) and isinstance(finished, dt.datetime):
        return f"{(finished - started).total_seconds():.1f}"
    return ""


def _write_atomically(path: Path, data: bytes) -> None:
    """``data`` as ``path``: a hidden temporary file (a killed run's is cleaned by the next
    run), flushed to disk, renamed over the old one."""
    temp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        with open(temp, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temp, path)
    finally:
        temp.unlink(missing_ok=True)
    folder = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(folder)
    finally:
        os.close(folder)

"""The batch run: definitions -> inputs -> evaluation -> publication, with a record of it.

The same inputs, definitions and ``as_of`` give the same membership tables on every engine
(the ``run_id`` is derived from them, not from the wall clock).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import shutil
import zoneinfo
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from pathlib import Path

import polars as pl
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from pipeline.catalog import Catalog
from pipeline.collector import collector_paused
from pipeline.compile.sql_query import compile_entity
from pipeline.engines import ENGINES, REGISTRY, EngineOptions, make_engine
from pipeline.engines.base import CustomTypes, Flags, Members, WrittenMembers
from pipeline.errors import WRITE_ERRNOS, RunError, did_you_mean, machine_error
from pipeline.inputs import read_custom_attributes, read_inputs
from pipeline.inputs.schema import ENTITY_TABLE
from pipeline.language import ir
from pipeline.language.check import CheckContext
from pipeline.language.segments import load_segments
from pipeline.language.select import select
from pipeline.language.temporal import clock as run_clock
from pipeline.language.temporal import parse_as_of, parse_duration, shift
from pipeline.outputs import (
    CHANGES,
    DAILY,
    HISTORY,
    MEMBERSHIP,
    QUARANTINE,
    ROLLUPS,
    RUNS,
    SEGMENTS,
    SIZES,
)
from pipeline.progress import Reporter
from pipeline.publish.failures import forget_failures, pending_failures, record_failure
from pipeline.publish.faults import checkpoint
from pipeline.publish.history import Diffed, Published, advance, published
from pipeline.publish.lock import output_lock
from pipeline.publish.report import write_report
from pipeline.publish.snapshot import (
    Appended,
    Written,
    clean_leftovers,
    publish,
    published_parts,
    read_published,
    read_published_frame,
)
from pipeline.publish.spark_history import advance_on_spark


@dataclass(frozen=True, slots=True)
class RunConfig:
    data: Path = Path("data")
    segments: Path = Path("segments")
    out: Path = Path("out")
    as_of: str | None = None
    engine: str = "duckdb"
    timezone: str = "UTC"
    keep: int = 5
    wait_seconds: float = 0.0
    rebuild: bool = False
    #: ``--engine spark`` only: the master (None: leave it to spark-submit) and extra settings.
    spark_master: str | None = "local[*]"
    spark_conf: tuple[tuple[str, str], ...] = ()
    #: ``--data URL`` (``--engine spark`` only): Spark copies the inputs under ``data`` first.
    data_url: str | None = None
    #: ``--engine duckdb`` only: the memory DuckDB may use before it spills to disk.
    memory_limit: str | None = None
    #: ``--select``: the segments to evaluate (see ``language/select.py``); all if empty.
    select: tuple[str, ...] = ()
    #: Close the stays of segments no longer defined even when none of them is left.
    allow_removed: bool = False
    #: How far in the future ``as_of`` may be (a duration), unless ``allow_future``.
    future_horizon: str = "1d"
    allow_future: bool = False


@dataclass(frozen=True, slots=True)
class RunResult:
    run_id: str
    as_of: dt.datetime
    segments: int
    members: int
    quarantined_rows: int
    out: Path
    #: Segments with open stays that are no longer defined: their stays were closed.
    removed: tuple[str, ...] = ()
    #: Segments defined but left out by ``--select``: published as they were.
    kept: int = 0
    #: Each evaluated segment's members, entered and exited at this run, in id order.
    sizes: tuple[SegmentSize, ...] = ()


@dataclass(frozen=True, slots=True)
class SegmentSize:
    segment_id: str
    members: int
    entered: int
    exited: int


def resolve_timezone(name: str) -> zoneinfo.ZoneInfo:
    try:
        return zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        hint = (
            did_you_mean(name, zoneinfo.available_timezones())
            or "use an IANA name like Europe/Paris"
        )
        raise RunError(f"unknown timezone {name!r}", hint) from None


def resolve_as_of(text: str | None, tz: dt.tzinfo) -> dt.datetime:
    if text is None:
        return dt.datetime.now(dt.UTC).replace(microsecond=0)
    parsed = parse_as_of(text, tz)
    if isinstance(parsed, str):
        raise RunError(
            f"--as-of: {parsed}",
            "use 2026-11-20T12:00:00Z, 2026-11-20T13:00:00+01:00 or 2026-11-20",
        )
    return parsed


def check_not_future(as_of: dt.datetime, horizon: str, tz: dt.tzinfo) -> None:
    """Refuses an ``as_of`` further in the future than ``horizon``: published, it would make
    every later scheduled run (at the real time) an unasked-for backfill, refused."""
    parsed = parse_duration(horizon)
    if isinstance(parsed, str):
        raise RunError(f"--future-horizon: {parsed}", "write a duration like 1d, 12h or 2w")
    now = dt.datetime.now(dt.UTC)
    if as_of > shift(now, parsed, tz, 1):
        raise RunError(
            f"--as-of {as_of.isoformat()} is more than {parsed} in the future "
            f"(now: {now.replace(microsecond=0).isoformat()})",
            "every later run would be refused until a rebuild; check the date, or pass "
            "--allow-future if you mean it",
        )


def definitions(
    config: RunConfig, as_of: dt.datetime, tz: dt.tzinfo
) -> tuple[Catalog, list[ir.Segment]]:
    """The catalog and the checked segments; raises DefinitionError before any data is read."""
    catalog = Catalog.build(read_custom_attributes(config.data), ir.rollup_columns())
    return catalog, load_segments(config.segments, CheckContext(catalog, as_of, tz))


def custom_types(catalog: Catalog) -> CustomTypes:
    return {key: attr.type for key, attr in catalog.custom.items()}


def compiled_sql(
    segment: ir.Segment, catalog: Catalog, clock: ir.Clock, dialect: str = "duckdb"
) -> str:
    """A self-contained query over the input tables for one segment."""
    query = compile_entity(segment.entity, [segment], custom_types(catalog), clock)
    return query.sql(dialect, pretty=True, consume=True)


def _fingerprint(parts: Sequence[str]) -> str:
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()[:16]


def _run_id(as_of: dt.datetime, timezone: str, input_fp: str, definitions_fp: str) -> str:
    """Derived from everything that decides the output, so an identical rerun has the same
    id (and replaces itself) while any change makes a new run. The timezone counts: it moves
    day boundaries."""
    digest = _fingerprint([input_fp, definitions_fp, timezone])[:8]
    return f"{as_of:%Y%m%dT%H%M%SZ}-{digest}"


def _last_run(out: Path) -> dict[str, object] | None:
    """The record of the newest published run that still counts (not rolled back)."""
    runs = read_published(out, RUNS.name)
    if runs is None:
        return None
    rows = [r for r in runs.to_pylist() if r["status"] == "succeeded"]
    return max(rows, key=lambda r: (r["as_of"], r["finished_at"])) if rows else None


def _check_order(
    last: dict[str, object] | None, run_id: str, as_of: dt.datetime, rebuild: bool
) -> bool:
    """Whether this run rewrites history from ``as_of``; refuses an unasked-for backfill."""
    if last is None:
        return False
    last_as_of = last["as_of"]
    assert isinstance(last_as_of, dt.datetime)
    if last["run_id"] == run_id:
        return True  # the same inputs, definitions and as_of: republish identically
    if as_of > last_as_of:
        return False
    if not rebuild:
        raise RunError(
            f"--as-of {as_of.isoformat()} is not after the last published run "
            f"({last_as_of.isoformat()}, run {last['run_id']})",
            "pass --rebuild to rewrite history from this as_of (later runs are rolled back), "
            "or use a later --as-of",
        )
    return True


def _properties(tables: dict[str, Path]) -> dict[str, list[str]]:
    """The properties that have rows, per entity."""
    present: dict[str, list[str]] = {}
    for entity, (table, _) in ENTITY_TABLE.items():
        column = pq.read_table(tables[table], columns=["property_id"]).column("property_id")
        present[entity] = sorted(str(p) for p in pc.unique(column).to_pylist() if p is not None)
    return present


def _warn_unknown_properties(
    segments: Sequence[ir.Segment], present: dict[str, list[str]], reporter: Reporter
) -> None:
    """A ``properties:`` id with no data is likely a typo (or a tenant not loaded yet)."""
    for segment in segments:
        missing = sorted(set(segment.properties or ()) - set(present[segment.entity]))
        if missing:
            reporter.event(
                "warning",
                segment=segment.id,
                message=f"properties {', '.join(missing)} have no {segment.entity} rows",
                hint=f"known properties: {', '.join(present[segment.entity]) or 'none'}",
            )


def _scopes(segments: Sequence[ir.Segment], present: dict[str, list[str]]) -> list[tuple[str, str]]:
    """Every (segment, property) the run evaluates, for size rows of zero members."""
    return [
        (s.id, p)
        for s in segments
        for p in present[s.entity]
        if s.properties is None or p in s.properties
    ]


def run(config: RunConfig, reporter: Reporter | None = None) -> RunResult:
    """One batch run; raises a SegmentError subclass for anything the user can fix.

    Whatever stops a run once it holds the output folder (bad definitions, bad data, a
    kill signal) is recorded as a failed run, and the published tables stay as they were.
    """
    reporter = reporter or Reporter(quiet=True)
    spec = REGISTRY.get(config.engine)
    if spec is None:
        raise RunError(
            f"unknown engine {config.engine!r}",
            did_you_mean(config.engine, ENGINES) or f"engines: {', '.join(ENGINES)}",
        )
    if config.data_url is not None and not spec.remote_inputs:
        remote = [name for name, s in REGISTRY.items() if s.remote_inputs]
        raise RunError(
            f"--data {config.data_url}: --engine {spec.name} reads local folders only",
            f"add --engine {' or '.join(remote)}, or copy the tables to a local folder",
        )
    if config.memory_limit is not None:
        if not spec.memory_limit:
            limited = [name for name, s in REGISTRY.items() if s.memory_limit]
            raise RunError(
                f"--memory-limit applies to --engine {' and '.join(limited)}, not {spec.name}",
                "for Spark, set its memory with --spark-conf spark.driver.memory=8g",
            )
        from pipeline.engines.duckdb import check_memory_limit

        check_memory_limit(config.memory_limit)
    if config.select and config.rebuild:
        raise RunError(
            "--select cannot be combined with --rebuild",
            "a rebuild rewrites every segment's history: run it without --select",
        )
    started = dt.datetime.now(dt.UTC)
    tz = resolve_timezone(config.timezone)
    as_of = resolve_as_of(config.as_of, tz)
    if not config.allow_future:
        check_not_future(as_of, config.future_horizon, tz)
    reporter.event("run started", as_of=as_of.isoformat(), engine=config.engine)

    def waiting(holder: str) -> None:
        reporter.event("waiting for another run", pid=holder, seconds=config.wait_seconds)

    with output_lock(config.out, config.wait_seconds, waiting):
        clean_leftovers(config.out)
        work = config.out / ".work" / str(os.getpid())
        work.mkdir(parents=True)
        record: dict[str, object] = {
            "run_id": None,
            "as_of": as_of,
            "started_at": started,
            "engine": config.engine,
            "timezone": config.timezone,
        }
        try:
            if config.data_url is not None:
                config = _staged(config, work, reporter)
            with reporter.phase("definitions") as info, collector_paused():
                catalog, segments = definitions(config, as_of, tz)
                chosen = select(segments, config.select)
                info["segments"] = len(chosen)
            record["segments"] = len(chosen)
            record["selected"] = " ".join(config.select) or None
            record["definitions_fingerprint"] = _fingerprint(
                sorted(f"{s.id}:{s.definition_hash}" for s in chosen)
            )
            with ThreadPoolExecutor(max_workers=1, thread_name_prefix="catalog") as background:
                result = _evaluate_and_publish(
                    config, reporter, catalog, segments, chosen, record, work, background
                )
        except BaseException as error:
            shutil.rmtree(work, ignore_errors=True)  # first: on a full disk, room for the record
            fault = _located(error, config.out)
            shown = error if fault is None else fault
            record["status"] = "failed"
            record["error"] = str(shown).split("\n", 1)[0] or type(error).__name__
            # every problem with its location (all the definition or data errors), not
            # only the first line
            record["error_detail"] = str(shown) or type(error).__name__
            try:
                record_failure(config.out, record)
            except OSError as unrecorded:  # the disk is full: the reason still reaches the user
                reporter.event(
                    "warning",
                    message=f"the failed run is not recorded in runs: {unrecorded}",
                    hint="the log and the exit code say why it failed",
                )
            reporter.event("run failed", error=record["error"], detail=record["error_detail"])
            if fault is not None:
                raise fault from error
            raise
        finally:
            shutil.rmtree(work, ignore_errors=True)
    reporter.event("run finished", run_id=result.run_id, members=result.members)
    return result


def _located(error: BaseException, out: Path) -> OSError | None:
    """A fault of the machine that says no path (pyarrow's ``[errno 28]``, in words), as the
    :class:`OSError` the CLI reports, naming ``out``: only a write meets a full disk or a
    read-only file system, and the run writes under ``out`` alone. None for any other error
    (reported as it is)."""
    if not isinstance(error, OSError) or error.filename is not None:
        return None
    fault = machine_error(error, out)
    if fault is None or fault.errno not in WRITE_ERRNOS:
        return None
    return fault


def _staged(config: RunConfig, work: Path, reporter: Reporter) -> RunConfig:
    """The config reading a local copy of the remote inputs that Spark fetched."""
    from pipeline.engines.spark import stage_remote_inputs
    from pipeline.inputs.schema import TABLES

    assert config.data_url is not None
    with reporter.phase("fetch") as info:
        local = stage_remote_inputs(
            config.data_url,
            work / "remote",
            {table: schema.names for table, schema in TABLES.items()},
            master=config.spark_master,
            conf=dict(config.spark_conf),
        )
        info["tables"] = len(list(local.glob("*.parquet")))
    return replace(config, data=local)


def _history(
    config: RunConfig,
    flags: Members,
    defined: list[ir.Segment],
    segments: list[ir.Segment],
    present: dict[str, list[str]],
    run_id: str,
    as_of: dt.datetime,
    rewrite: bool,
    work: Path,
) -> tuple[Written, Diffed, pa.Table | Written | Appended]:
    """The membership, history, changes (as published) and sizes after this run: the members
    merged with the published stays, by the cluster's executors when Spark wrote them."""
    kept = {s.id for s in defined} - {s.id for s in segments}
    scopes = _scopes(segments, present)
    earlier = published_parts(config.out, CHANGES.name)
    on_cluster = isinstance(flags, WrittenMembers)
    # The earlier changes are read only to roll some back: a run otherwise appends its own
    # next to them (21.7M earlier changes: 4.4 s to read, more to write again). Spark reads
    # their files itself.
    previous = _previous(config.out, kept, read_changes=rewrite and not on_cluster)
    if rewrite:
        previous = previous.cut(as_of)
    if isinstance(flags, WrittenMembers):
        # The executors diff what they wrote: no member or stay passes through the driver.
        membership, diffed = advance_on_spark(
            flags.session,
            previous,
            flags,
            run_id,
            as_of,
            scopes,
            work / "spark" / "history",
            kept,
            earlier if rewrite else (),
        )
    else:
        assert isinstance(flags, Flags), flags
        # Each segment's members are merged with its earlier stays and written as they go,
        # never held whole (217M rows at 10M organizations).
        membership, diffed = advance(previous, flags.parts(), run_id, as_of, scopes, work, kept)
    if rewrite:
        return membership, diffed, diffed.changes
    name = f"part-{as_of:%Y%m%dT%H%M%S%f}Z.parquet"
    return membership, diffed, Appended(earlier, diffed.changes, name)


def _previous(out: Path, kept: set[str], read_changes: bool) -> Published:
    """The published state the run advances from (see :func:`published`)."""
    return published(
        published_parts(out, HISTORY.name),
        read_published(out, CHANGES.name) if read_changes else None,
        read_published_frame(out, SIZES.name),
        published_parts(out, MEMBERSHIP.name) if kept else (),
    )


def _evaluate_and_publish(
    config: RunConfig,
    reporter: Reporter,
    catalog: Catalog,
    defined: list[ir.Segment],
    segments: list[ir.Segment],
    record: dict[str, object],
    work: Path,
    background: ThreadPoolExecutor,
) -> RunResult:
    """Evaluates ``segments`` (all ``defined`` ones, or those ``--select`` picked) and
    publishes; the others keep their published membership and history."""
    as_of = record["as_of"]
    assert isinstance(as_of, dt.datetime)
    earlier_sizes = read_published_frame(config.out, SIZES.name)
    removed = () if earlier_sizes is None else _removed(earlier_sizes, defined, config, reporter)
    record["removed"] = list(removed)
    with reporter.phase("inputs") as info:
        inputs = read_inputs(config.data, work)
        info.update(rows=sum(inputs.row_counts.values()), quarantined=inputs.quarantine.num_rows)
    checkpoint("inputs-read")
    quarantined = (i for i in inputs.issues if i.severity == "quarantined")
    for issue in quarantined:  # set aside, not silent: each rule is in the log
        reporter.event(
            "quarantined",
            table=issue.table,
            column=issue.column,
            rule=issue.rule,
            rows=issue.count,
            examples=list(issue.examples),
        )
    run_id = _run_id(
        as_of, config.timezone, inputs.fingerprint, str(record["definitions_fingerprint"])
    )
    record.update(run_id=run_id, input_fingerprint=inputs.fingerprint)
    rewrite = _check_order(_last_run(config.out), run_id, as_of, config.rebuild)
    present = _properties(inputs.tables)
    _warn_unknown_properties(segments, present, reporter)

    clock = run_clock(as_of, resolve_timezone(config.timezone))
    # The catalog's SQL needs no data: it is written while the engine evaluates, on the core
    # the engine leaves idle part of the time (~5 s of CPU at 500 segments; measured at
    # 100k organizations, the run 19.7 -> 17.2 s). Earlier, it would slow the input checks.
    catalog_table = background.submit(_catalog, defined, catalog, clock)
    engine = make_engine(
        config.engine,
        inputs.tables,
        EngineOptions(
            memory_limit=config.memory_limit,
            spill=work / "spill",
            spark_master=config.spark_master,
            spark_conf=dict(config.spark_conf),
            work=work / "spark",
        ),
    )
    try:
        with reporter.phase("timeline") as info:
            daily = Written(work / f"{DAILY.name}.parquet")
            rollups = Written(work / f"{ROLLUPS.name}.parquet")
            engine.timeline(clock, daily.path, rollups.path)
            info.update(organizations=rollups.num_rows, daily_rows=daily.num_rows)
        with reporter.phase("segments") as info:
            flags = engine.flags(segments, custom_types(catalog), clock)
            members = flags.num_rows
            info["members"] = members
        checkpoint("evaluated")

        with reporter.phase("history") as info:
            membership, diffed, changes = _history(
                config, flags, defined, segments, present, run_id, as_of, rewrite, work
            )
            del flags
            info.update(entered=diffed.entered, exited=diffed.exited)
    finally:
        engine.close()

    with reporter.phase("publish"):
        tables = {
            MEMBERSHIP.name: membership,
            HISTORY.name: diffed.history,
            CHANGES.name: changes,
            SIZES.name: diffed.sizes,
            ROLLUPS.name: rollups,
            DAILY.name: daily,
            SEGMENTS.name: catalog_table.result(),
            QUARANTINE.name: _quarantine(inputs.quarantine, run_id),
            # The validated inputs as the run read them, moved into the snapshot (no copy):
            # the warehouse's contact dimensions are views over them.
            **{table: Written(path) for table, path in inputs.tables.items()},
        }
        record.update(
            status="succeeded",
            finished_at=dt.datetime.now(dt.UTC),
            members=members,
            entered=diffed.entered,
            exited=diffed.exited,
            quarantined_rows=inputs.quarantine.num_rows,
            input_rows=json.dumps(inputs.row_counts, sort_keys=True),
            output_rows=json.dumps({k: v.num_rows for k, v in tables.items()}, sort_keys=True),
            phase_seconds=json.dumps(reporter.timings, sort_keys=True),
        )
        tables[RUNS.name] = _runs(config.out, record, rolled_back_from=as_of if rewrite else None)
        started = record["started_at"]
        assert isinstance(started, dt.datetime)
        publish(
            config.out,
            f"{run_id}.{started:%Y%m%dT%H%M%S%f}",
            tables,
            keep=config.keep,
            warn=lambda message, hint: reporter.event("warning", message=message, hint=hint),
        )
        forget_failures(config.out)
    write_report(config.out, defined, clock, reporter)  # a failure is a warning: published
    return RunResult(
        run_id,
        as_of,
        len(segments),
        members,
        inputs.quarantine.num_rows,
        config.out,
        removed,
        len(defined) - len(segments),
        _sizes_now(diffed.sizes, as_of),
    )


def _sizes_now(sizes: pa.Table, as_of: dt.datetime) -> tuple[SegmentSize, ...]:
    """Each segment's size rows of this run, summed over its properties."""
    now = pl.from_arrow(sizes)
    assert isinstance(now, pl.DataFrame)
    summed = (
        now.filter(pl.col("as_of") == as_of)
        .group_by("segment_id")
        .agg(pl.col("members", "entered", "exited").sum())
        .sort("segment_id")
    )
    return tuple(SegmentSize(*row) for row in summed.iter_rows())


def _segments(count: int) -> str:
    return f"{count} segment is" if count == 1 else f"{count} segments are"


def _removed(
    sizes: pl.DataFrame, defined: Sequence[ir.Segment], config: RunConfig, reporter: Reporter
) -> tuple[str, ...]:
    """The segments with members at the last run that are no longer defined (their stays
    close now), said in the log; refused when none of them is defined any more (another
    project's --segments, or a folder emptied by mistake) unless ``--allow-removed``."""
    last = sizes.sort("as_of").group_by(["segment_id", "property_id"]).last()
    open_ids = set(last.filter(pl.col("members") > 0).get_column("segment_id").to_list())
    ids = {s.id for s in defined}
    removed = tuple(sorted(open_ids - ids))
    if not removed:
        return removed
    if not open_ids & ids and not config.allow_removed:
        shown = ", ".join(removed[:5]) + (
            f" and {len(removed) - 5} more" if len(removed) > 5 else ""
        )
        raise RunError(
            f"none of the {len(removed)} segments with members in {config.out} is defined in "
            f"{config.segments} ({shown})",
            "check --segments and --out; to close all their stays, pass --allow-removed",
        )
    reporter.event(
        "warning",
        message=f"{_segments(len(removed))} no longer defined: their members exit now",
        segments=list(removed),
        hint="restore their files to keep them, or leave them out on purpose",
    )
    return removed


def _catalog(segments: Sequence[ir.Segment], catalog: Catalog, clock: ir.Clock) -> pa.Table:
    with collector_paused():
        rows = [
            {
                "segment_id": s.id,
                "name": s.name,
                "description": s.description,
                "entity": s.entity,
                "definition_hash": s.definition_hash,
                "compiled_sql": compiled_sql(s, catalog, clock),
                "owner": s.owner,
                "tags": list(s.tags),
                "meta": s.meta,
                "depends_on": ir.references(s.where),
            }
            for s in sorted(segments, key=lambda s: s.id)
        ]
    return pa.Table.from_pylist(rows, schema=SEGMENTS.schema)


def _quarantine(rows: pa.Table, run_id: str) -> pa.Table:
    table = rows.append_column("run_id", pa.repeat(pa.scalar(run_id), rows.num_rows))
    return table.select(QUARANTINE.names).cast(QUARANTINE.schema)


def _runs(out: Path, record: dict[str, object], rolled_back_from: dt.datetime | None) -> pa.Table:
    """Every earlier run's record, failed runs since the last publish, and this one.

    A rebuild marks the runs it undoes (``as_of`` at or after its own) ``rolled_back``; an
    identical rerun replaces its own record.
    """
    rows = [] if (previous := read_published(out, RUNS.name)) is None else previous.to_pylist()
    # A failure record may already be published if a run was killed after its switch.
    seen = {(r["started_at"], r["status"]) for r in rows}
    rows += [f for f in pending_failures(out) if (f["started_at"], f["status"]) not in seen]
    kept = []
    for row in rows:
        if row["run_id"] == record["run_id"] and row["status"] == "succeeded":
            continue
        as_of = row["as_of"]
        if rolled_back_from is not None and row["status"] == "succeeded":
            assert isinstance(as_of, dt.datetime)
            if as_of >= rolled_back_from:
                row = {**row, "status": "rolled_back"}
        kept.append(row)
    kept.append(record)
    return pa.Table.from_pylist(
        [{c: r.get(c) for c in RUNS.names} for r in kept], schema=RUNS.schema
    )

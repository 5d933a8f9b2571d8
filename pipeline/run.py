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
from dataclasses import dataclass
from pathlib import Path
from typing import Final

import pyarrow as pa

from pipeline.catalog import Catalog
from pipeline.compile.sql import compile_entity
from pipeline.engines import ENGINES, make_engine
from pipeline.engines.base import custom_types_for
from pipeline.errors import RunError, did_you_mean
from pipeline.inputs import read_custom_attributes, read_inputs
from pipeline.language import ir
from pipeline.language.check import CheckContext, load_segments
from pipeline.language.temporal import parse_as_of
from pipeline.progress import Reporter
from pipeline.publish.lock import output_lock
from pipeline.publish.snapshot import publish, read_published

UTC_TS: Final = pa.timestamp("us", tz="UTC")

MEMBERSHIP: Final = pa.schema(
    [
        ("property_id", pa.string()),
        ("segment_id", pa.string()),
        ("entity", pa.string()),
        ("entity_id", pa.string()),
        ("run_id", pa.string()),
        ("as_of", UTC_TS),
    ]
)
SEGMENTS: Final = pa.schema(
    [
        ("segment_id", pa.string()),
        ("name", pa.string()),
        ("description", pa.string()),
        ("entity", pa.string()),
        ("definition_hash", pa.string()),
        ("compiled_sql", pa.string()),
    ]
)
RUNS: Final = pa.schema(
    [
        ("run_id", pa.string()),
        ("as_of", UTC_TS),
        ("started_at", UTC_TS),
        ("finished_at", UTC_TS),
        ("status", pa.string()),
        ("engine", pa.string()),
        ("timezone", pa.string()),
        ("input_fingerprint", pa.string()),
        ("definitions_fingerprint", pa.string()),
        ("segments", pa.int64()),
        ("members", pa.int64()),
        ("quarantined_rows", pa.int64()),
        ("input_rows", pa.string()),
        ("output_rows", pa.string()),
        ("phase_seconds", pa.string()),
    ]
)
QUARANTINE: Final = pa.schema(
    [
        ("run_id", pa.string()),
        ("table", pa.string()),
        ("rule", pa.string()),
        ("column", pa.string()),
        ("row", pa.string()),
    ]
)


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


@dataclass(frozen=True, slots=True)
class RunResult:
    run_id: str
    as_of: dt.datetime
    segments: int
    members: int
    quarantined_rows: int
    out: Path


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


def definitions(
    config: RunConfig, as_of: dt.datetime, tz: dt.tzinfo
) -> tuple[Catalog, list[ir.Segment]]:
    """The catalog and the checked segments; raises DefinitionError before any data is read."""
    catalog = Catalog.build(read_custom_attributes(config.data))
    return catalog, load_segments(config.segments, CheckContext(catalog, as_of, tz))


def custom_types(catalog: Catalog) -> dict[tuple[str, str], str]:
    return {key: attr.type for key, attr in catalog.custom.items()}


def compiled_sql(segment: ir.Segment, catalog: Catalog, dialect: str = "duckdb") -> str:
    types = custom_types_for(segment.entity, custom_types(catalog))
    return compile_entity(segment.entity, [segment], types).sql(dialect, pretty=True)


def _fingerprint(parts: Sequence[str]) -> str:
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()[:16]


def _run_id(as_of: dt.datetime, input_fp: str, definitions_fp: str) -> str:
    return f"{as_of:%Y%m%dT%H%M%SZ}-{_fingerprint([input_fp, definitions_fp])[:8]}"


def run(config: RunConfig, reporter: Reporter | None = None) -> RunResult:
    """One batch run; raises a SegmentError subclass for anything the user can fix."""
    reporter = reporter or Reporter(quiet=True)
    if config.engine not in ENGINES:
        raise RunError(
            f"unknown engine {config.engine!r}",
            did_you_mean(config.engine, ENGINES) or f"engines: {', '.join(ENGINES)}",
        )
    started = dt.datetime.now(dt.UTC)
    tz = resolve_timezone(config.timezone)
    as_of = resolve_as_of(config.as_of, tz)
    reporter.event("run started", as_of=as_of.isoformat(), engine=config.engine)

    with reporter.phase("definitions") as info:
        catalog, segments = definitions(config, as_of, tz)
        info["segments"] = len(segments)
    definitions_fp = _fingerprint(sorted(f"{s.id}:{s.definition_hash}" for s in segments))

    with output_lock(config.out, config.wait_seconds):
        work = config.out / ".work" / str(os.getpid())
        shutil.rmtree(work, ignore_errors=True)
        work.mkdir(parents=True)
        try:
            with reporter.phase("inputs") as info:
                inputs = read_inputs(config.data, work)
                info.update(
                    rows=sum(inputs.row_counts.values()), quarantined=inputs.quarantine.num_rows
                )
            run_id = _run_id(as_of, inputs.fingerprint, definitions_fp)

            with reporter.phase("segments") as info:
                engine = make_engine(config.engine, inputs.tables)
                try:
                    members = engine.membership(segments, custom_types(catalog))
                finally:
                    engine.close()
                info["members"] = members.num_rows

            with reporter.phase("publish"):
                tables = {
                    "segment_membership": _membership(members, run_id, as_of),
                    "segments": _catalog(segments, catalog),
                    "quarantine": _quarantine(inputs.quarantine, run_id),
                }
                finished = dt.datetime.now(dt.UTC)
                record = {
                    "run_id": run_id,
                    "as_of": as_of,
                    "started_at": started,
                    "finished_at": finished,
                    "status": "succeeded",
                    "engine": config.engine,
                    "timezone": config.timezone,
                    "input_fingerprint": inputs.fingerprint,
                    "definitions_fingerprint": definitions_fp,
                    "segments": len(segments),
                    "members": members.num_rows,
                    "quarantined_rows": inputs.quarantine.num_rows,
                    "input_rows": json.dumps(inputs.row_counts, sort_keys=True),
                    "output_rows": json.dumps(
                        {k: v.num_rows for k, v in tables.items()}, sort_keys=True
                    ),
                    "phase_seconds": json.dumps(reporter.timings, sort_keys=True),
                }
                tables["runs"] = _runs(config.out, record)
                snapshot = f"{run_id}.{started:%Y%m%dT%H%M%S%f}"
                publish(config.out, snapshot, tables, keep=config.keep)
        finally:
            shutil.rmtree(work, ignore_errors=True)
    reporter.event("run finished", run_id=run_id, members=members.num_rows)
    return RunResult(
        run_id, as_of, len(segments), members.num_rows, inputs.quarantine.num_rows, config.out
    )


def _membership(members: pa.Table, run_id: str, as_of: dt.datetime) -> pa.Table:
    rows = members.num_rows
    return (
        members.append_column("run_id", pa.repeat(pa.scalar(run_id), rows))
        .append_column("as_of", pa.repeat(pa.scalar(as_of, UTC_TS), rows))
        .cast(MEMBERSHIP)
    )


def _catalog(segments: Sequence[ir.Segment], catalog: Catalog) -> pa.Table:
    rows = [
        {
            "segment_id": s.id,
            "name": s.name,
            "description": s.description,
            "entity": s.entity,
            "definition_hash": s.definition_hash,
            "compiled_sql": compiled_sql(s, catalog),
        }
        for s in sorted(segments, key=lambda s: s.id)
    ]
    return pa.Table.from_pylist(rows, schema=SEGMENTS)


def _quarantine(rows: pa.Table, run_id: str) -> pa.Table:
    table = rows.append_column("run_id", pa.repeat(pa.scalar(run_id), rows.num_rows))
    return table.select(QUARANTINE.names).cast(QUARANTINE)


def _runs(out: Path, record: dict[str, object]) -> pa.Table:
    """Every earlier run's record plus this one (a rerun replaces its own record)."""
    previous = read_published(out, "runs")
    current = pa.Table.from_pylist([record], schema=RUNS)
    if previous is None:
        return current
    previous = previous.filter(pa.compute.not_equal(previous["run_id"], record["run_id"]))
    return pa.concat_tables([previous.cast(RUNS), current])

"""The two baselines a full run is compared with, on the same data and segments.

Run as a script (the harness measures it as a subprocess, like a real run)::

    python benchmarks/baselines.py naive --data D --segments S --as-of T
    python benchmarks/baselines.py floor --data D --segments S --as-of T --rows N --work DIR

- ``naive``: each segment's own SQL (``pipeline.run.compiled_sql``, what
  ``segments compile`` prints) run separately, one query per segment, in one DuckDB
  connection over views of the input Parquet files; every result is fetched to Arrow.
- ``floor``: one DuckDB scan of exactly the columns the segment set reads (of
  organizations, people, attribute_values for the custom keys used, organization_people and
  timeline when needed), plus writing a membership table of ``rows`` rows in the published
  schema (sorted by segment) to Parquet. No engine can do the work faster than this.

Both print one JSON object on stdout.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Iterable
from pathlib import Path

import duckdb

from pipeline.inputs.schema import ENTITY_TABLE, TABLES, VALUE_COLUMN
from pipeline.language import ir
from pipeline.language.temporal import clock as run_clock
from pipeline.run import (
    RunConfig,
    compiled_sql,
    custom_types,
    definitions,
    resolve_as_of,
    resolve_timezone,
)

UTC = resolve_timezone("UTC")
TIMELINE_COLUMNS = ("property_id", "org_id", "person_id", "kind", "occurred_at")
LINK_COLUMNS = ("property_id", "org_id", "person_id")


def _connect(data: Path, threads: int | None = None) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    con.execute("SET enable_progress_bar = false")
    if threads:
        con.execute(f"SET threads = {int(threads)}")
    for table in TABLES:
        single = data / f"{table}.parquet"
        path = str(single) if single.exists() else str(data / table / "**" / "*.parquet")
        con.read_parquet(path).to_view(table)
    return con


def naive(data: Path, segments: Path, as_of: str) -> dict[str, object]:
    started = time.perf_counter()
    as_of_dt = resolve_as_of(as_of, UTC)
    catalog, checked = definitions(RunConfig(data, segments), as_of_dt, UTC)
    clock = run_clock(as_of_dt, UTC)
    sqls = [compiled_sql(s, catalog, clock) for s in checked]
    compiled = time.perf_counter()
    con = _connect(data)
    rows = 0
    per_query = []
    for sql in sqls:
        t0 = time.perf_counter()
        rows += con.sql(sql).to_arrow_table().num_rows
        per_query.append(time.perf_counter() - t0)
    done = time.perf_counter()
    per_query.sort()
    return {
        "baseline": "naive",
        "segments": len(sqls),
        "rows": rows,
        "definitions_and_compile_seconds": round(compiled - started, 3),
        "query_seconds": round(done - compiled, 3),
        "seconds_per_query_median": round(per_query[len(per_query) // 2], 4),
        "seconds_per_query_max": round(per_query[-1], 4),
    }


def _walk(
    condition: ir.Condition, entity: str, reads: dict[str, set[tuple[str, str]]], flags: set[str]
) -> None:
    """Collect (source, name) of what ``condition`` reads, per entity; timeline/link flags."""
    for predicate in ir.predicates(condition):
        match predicate:
            case ir.Activity():
                flags.add("timeline")
                if entity == "organization":
                    flags.add("links")
            case ir.Related(where=where):
                flags.add("links")
                if where is not None:
                    _walk(where, predicate.other, reads, flags)
            case ir.PropertyIn():
                continue
            case _:
                attr = predicate.attr
                reads.setdefault(entity, set()).add((attr.source, attr.name))
                if attr.source == "rollup":
                    flags.update(("timeline", "links"))


def columns_read(checked: Iterable[ir.Segment]) -> tuple[dict[str, set[tuple[str, str]]], set[str]]:
    reads: dict[str, set[tuple[str, str]]] = {}
    flags: set[str] = set()
    for segment in checked:
        reads.setdefault(segment.entity, set())
        _walk(ir.scoped(segment), segment.entity, reads, flags)
    return reads, flags


def _scan(con: duckdb.DuckDBPyConnection, table: str, columns: list[str], where: str = "") -> str:
    # hash() over every column forces each value to be read and decoded, nothing else is done.
    cols = ", ".join(f'"{c}"' for c in columns)
    return f"SELECT count(*) AS n, min(hash({cols})) AS h FROM {table} {where}"


def floor(
    data: Path, segments: Path, as_of: str, rows: int, work: Path, threads: int | None = None
) -> dict[str, object]:
    started = time.perf_counter()
    as_of_dt = resolve_as_of(as_of, UTC)
    catalog, checked = definitions(RunConfig(data, segments), as_of_dt, UTC)
    reads, flags = columns_read(checked)
    types = custom_types(catalog)
    con = _connect(data, threads)
    prepared = time.perf_counter()
    scanned: dict[str, list[str]] = {}
    queries = []
    custom: list[tuple[str, str]] = []
    for entity, attrs in sorted(reads.items()):
        table, id_column = ENTITY_TABLE[entity]
        builtin = sorted(name for source, name in attrs if source == "builtin")
        cols = ["property_id", id_column, *builtin]
        scanned[table] = cols
        queries.append(_scan(con, table, cols))
        custom += [(entity, name) for source, name in attrs if source == "custom"]
    if custom:
        value_columns = sorted({VALUE_COLUMN[types[key]] for key in custom})
        cols = ["property_id", "entity", "entity_id", "key", *value_columns]
        keys = ", ".join(f"('{e}', '{k}')" for e, k in sorted(set(custom)))
        scanned["attribute_values"] = cols
        queries.append(_scan(con, "attribute_values", cols, f"WHERE (entity, key) IN ({keys})"))
    if "timeline" in flags:
        scanned["timeline"] = list(TIMELINE_COLUMNS)
        queries.append(_scan(con, "timeline", list(TIMELINE_COLUMNS)))
    if "links" in flags:
        scanned["organization_people"] = list(LINK_COLUMNS)
        queries.append(_scan(con, "organization_people", list(LINK_COLUMNS)))
    union = " UNION ALL ".join(f"({q})" for q in queries)
    scanned_rows = sum(r[0] for r in con.sql(union).fetchall())
    scan_done = time.perf_counter()

    n_segments = max(len(checked), 1)
    per_segment = max(rows // n_segments, 1)
    out = work / "floor_membership.parquet"
    out.parent.mkdir(parents=True, exist_ok=True)
    con.execute(
        f"""
        COPY (
            SELECT
                'site-' || (i % 3)::VARCHAR AS property_id,
                'bench-segment-' || lpad((i // {per_segment})::VARCHAR, 4, '0') AS segment_id,
                'organization' AS entity,
                'o' || i::VARCHAR AS entity_id,
                '20261120T120000Z-00000000' AS run_id,
                TIMESTAMPTZ '{as_of_dt.isoformat()}' AS as_of
            FROM range({rows}) t(i)
            ORDER BY segment_id, property_id, entity_id
        ) TO '{out}' (FORMAT parquet, COMPRESSION zstd)
        """
    )
    written = time.perf_counter()
    out.unlink(missing_ok=True)
    return {
        "baseline": "floor",
        "segments": len(checked),
        "columns": scanned,
        "scanned_rows": scanned_rows,
        "membership_rows": rows,
        "definitions_seconds": round(prepared - started, 3),
        "scan_seconds": round(scan_done - prepared, 3),
        "write_seconds": round(written - scan_done, 3),
        "floor_seconds": round(written - prepared, 3),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("baseline", choices=["naive", "floor"])
    parser.add_argument("--data", type=Path, required=True)
    parser.add_argument("--segments", type=Path, required=True)
    parser.add_argument("--as-of", required=True)
    parser.add_argument("--rows", type=int, default=0, help="floor: membership rows to write")
    parser.add_argument("--work", type=Path, default=Path("/tmp/segments-bench-floor"))
    args = parser.parse_args(argv)
    if args.baseline == "naive":
        result = naive(args.data, args.segments, args.as_of)
    else:
        result = floor(args.data, args.segments, args.as_of, args.rows, args.work)
    json.dump(result, sys.stdout)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())

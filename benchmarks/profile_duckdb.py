"""Where the time of the evaluation goes: compile time and DuckDB operator timings.

    python benchmarks/profile_duckdb.py --data D --segments S [--threads 1] [--out DIR]

Builds the run's DuckDB membership query per entity exactly as the engine does (rollups
registered as a table first), times the compilation (sqlglot) separately from execution, and
writes DuckDB's JSON profile (``EXPLAIN ANALYZE``) per entity into ``--out``, with a summary of
the most expensive operators on stdout. Run it on a quiet machine: it competes for the cores.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

from sqlglot import exp

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from pipeline.compile.sql_query import compile_flags  # noqa: E402
from pipeline.compile.steps import Shared, steps  # noqa: E402
from pipeline.engines.duckdb import ROLLUPS_TABLE, SHARED_TABLE, DuckDBEngine  # noqa: E402
from pipeline.inputs.discover import find_tables  # noqa: E402
from pipeline.language.temporal import clock as run_clock  # noqa: E402
from pipeline.run import (  # noqa: E402
    RunConfig,
    custom_types,
    definitions,
    resolve_as_of,
    resolve_timezone,
)


def _walk(node: dict[str, Any], totals: Counter[str], depth: int = 0) -> None:
    name = node.get("name") or node.get("operator_name") or node.get("type") or "?"
    timing = float(node.get("timing", node.get("operator_timing", 0.0)) or 0.0)
    extra = node.get("extra_info", {}) or {}
    label = name.strip()
    if isinstance(extra, dict):
        for key in ("Table", "Function", "Aggregates", "Join Type", "Expression", "Projections"):
            if key in extra:
                label += f" [{key}: {str(extra[key])[:70]}]"
                break
    totals[label] += timing
    totals[f"(all {name.strip()})"] += timing
    for child in node.get("children", []):
        _walk(child, totals, depth + 1)


def _time_ctes(con: Any, query: exp.Query) -> None:
    """Materialize each CTE of ``query`` as a temporary table, in order, then the final
    select: wall seconds per step (each reads the tables of the steps before it)."""
    key = "with_" if query.args.get("with_") is not None else "with"
    ctes = list(query.args[key].expressions)
    for cte in ctes:
        start = time.perf_counter()
        con.execute(f'CREATE OR REPLACE TEMP TABLE "{cte.alias}" AS {cte.this.sql("duckdb")}')
        rows = con.sql(f'SELECT count(*) FROM "{cte.alias}"').fetchall()[0][0]
        print(f"    CTE {cte.alias:<14} {time.perf_counter() - start:7.2f} s  {rows:>12,} rows")
    final = query.copy()
    final.set(key, None)
    start = time.perf_counter()
    con.execute(f"CREATE OR REPLACE TEMP TABLE flags_final AS {final.sql('duckdb')}")
    print(f"    final select       {time.perf_counter() - start:7.2f} s")
    for cte in ctes:
        con.execute(f'DROP TABLE "{cte.alias}"')
    con.execute("DROP TABLE flags_final")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, required=True)
    parser.add_argument("--segments", type=Path, required=True)
    parser.add_argument("--as-of", default="2026-11-20T12:00:00Z")
    parser.add_argument("--threads", type=int, default=None)
    parser.add_argument("--out", type=Path, default=Path("/tmp/segments-bench/profile"))
    parser.add_argument("--top", type=int, default=15)
    parser.add_argument(
        "--by-cte",
        action="store_true",
        help="also time each CTE of the flags query on its own, materialized in order "
        "(wall seconds: where a query's time goes when the operators run interleaved)",
    )
    args = parser.parse_args(argv)

    tz = resolve_timezone("UTC")
    as_of = resolve_as_of(args.as_of, tz)
    t0 = time.perf_counter()
    catalog, segments = definitions(RunConfig(args.data, args.segments), as_of, tz)
    t1 = time.perf_counter()
    print(f"definitions: {t1 - t0:.2f} s ({len(segments)} segments)")
    clock = run_clock(as_of, tz)
    paths = {table: files[0] for table, files in find_tables(args.data).items()}
    engine = DuckDBEngine(paths, threads=args.threads)
    args.out.mkdir(parents=True, exist_ok=True)
    t2 = time.perf_counter()
    engine.timeline(
        clock, args.out / "timeline_daily.parquet", args.out / "timeline_rollups.parquet"
    )
    t3 = time.perf_counter()
    print(f"timeline (rollups + daily written, incl. canonical sort): {t3 - t2:.2f} s")
    con = engine.con
    shared: Shared[str] | None = None
    for step in steps(segments):
        entity, group = step.entity, step.segments
        c0 = time.perf_counter()
        query = compile_flags(
            entity,
            group,
            custom_types(catalog),
            clock,
            rollups_table=ROLLUPS_TABLE,
            shares=step.shares,
            shared=shared if step.reads else None,
        )
        c1 = time.perf_counter()
        sql = query.sql("duckdb")
        c2 = time.perf_counter()
        print(
            f"{entity}: {len(group)} segments, compile_flags {c1 - c0:.2f} s, "
            f"render SQL {c2 - c1:.2f} s, {len(sql):,} chars, "
            f"{sql.count(' JOIN ')} joins, {sql.count(' AS (')} CTEs"
        )
        (args.out / f"{entity}.sql").write_text(sql)
        profile_path = args.out / f"{entity}.json"
        con.execute("PRAGMA enable_profiling = 'json'")
        con.execute(f"PRAGMA profiling_output = '{profile_path}'")
        e0 = time.perf_counter()
        flags = con.sql(sql).to_arrow_table()
        if args.by_cte:
            con.execute("PRAGMA disable_profiling")
            _time_ctes(con, query.tree)
        rows = flags.num_rows
        e1 = time.perf_counter()
        con.execute("PRAGMA disable_profiling")
        if step.shares:  # as the engine: the next step reads this step's shared filters
            con.register(SHARED_TABLE, flags)
            shared = Shared(entity, step.shares, SHARED_TABLE)
        print(f"  execute: {e1 - e0:.2f} s, {rows:,} entities (flag rows)")
        tree = json.loads(profile_path.read_text())
        totals: Counter[str] = Counter()
        for child in tree.get("operator", tree.get("children", [])):
            _walk(child, totals)
        cpu = float(tree.get("query", {}).get("cpu_time", 0.0)) or 1.0
        planner = tree.get("planner", {}).get("total_time", 0.0)
        optimizer = sum(v for v in tree.get("optimizer", {}).values() if isinstance(v, float))
        print(
            f"  query cpu_time {cpu:.2f} s, planner {planner:.2f} s, optimizer {optimizer:.2f} s, "
            f"peak buffer {tree.get('system', {}).get('peak_buffer_memory', 0) / 2**20:.0f} MiB"
        )
        by_kind = [(k, v) for k, v in totals.most_common() if k.startswith("(all ")]
        for label, seconds in by_kind[: args.top]:
            print(f"    {seconds:8.2f} s {100 * seconds / cpu:5.1f}%  {label}")
        ops = [(k, v) for k, v in totals.most_common() if not k.startswith("(all ")]
        for label, seconds in ops[: args.top]:
            print(f"    {seconds:8.2f} s {100 * seconds / cpu:5.1f}%  {label}")
    engine.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

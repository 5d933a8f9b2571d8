"""Where a Spark run's evaluation spends its time: planning, code generation and execution.

    python benchmarks/profile_spark.py --data D --segments S [--master 'local[2]']
        [--conf KEY=VALUE ...] [--by-cte]

Builds each step's flags query exactly as the Spark engine does (the timeline first, its
rollups cached as the engine caches them; a step's shared filters cached for the next), then
times, per step: Spark's analysis, optimization and physical planning; the query run to
Spark's ``noop`` sink (every column computed, nothing written) twice, the second with a warm
JIT; and the classes Spark's code generator compiled. ``--by-cte`` also times each CTE of the
query with everything it reads, as ``SELECT count(*), sum(hash(*))`` (so that no column is
pruned away). Run it on a quiet machine: it competes for the cores.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from sqlglot import exp

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from pipeline.compile.sql_query import compile_flags  # noqa: E402
from pipeline.compile.steps import Shared, steps  # noqa: E402
from pipeline.engines.spark import ROLLUPS_TABLE, SHARED_TABLE, SparkEngine  # noqa: E402
from pipeline.inputs.discover import find_tables  # noqa: E402
from pipeline.language.temporal import clock as run_clock  # noqa: E402
from pipeline.run import (  # noqa: E402
    RunConfig,
    custom_types,
    definitions,
    resolve_as_of,
    resolve_timezone,
)


def _noop(frame: Any) -> float:
    start = time.perf_counter()
    frame.write.format("noop").mode("overwrite").save()
    return time.perf_counter() - start


def _compiled(spark: Any) -> tuple[int, float]:
    """How many classes Spark's code generator compiled so far, and their seconds."""
    histogram = spark._jvm.org.apache.spark.metrics.source.CodegenMetrics.METRIC_COMPILATION_TIME()
    count = int(histogram.getCount())
    return count, histogram.getSnapshot().getMean() * count / 1000


def _time_ctes(spark: Any, query: exp.Query) -> None:
    """Each CTE of ``query`` with the CTEs it reads, every column hashed: seconds per CTE
    (each includes what it reads, so subtract its inputs' to see its own)."""
    key = "with_" if query.args.get("with_") is not None else "with"
    ctes = list(query.args[key].expressions)
    for position, cte in enumerate(ctes, 1):
        prefix = ", ".join(c.sql("spark") for c in ctes[:position])
        sql = f"WITH {prefix} SELECT count(*), sum(hash(*)) FROM `{cte.alias}`"
        start = time.perf_counter()
        spark.sql(sql).collect()
        print(f"    CTE {cte.alias:<14} {time.perf_counter() - start:7.2f} s")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, required=True)
    parser.add_argument("--segments", type=Path, required=True)
    parser.add_argument("--as-of", default="2026-11-20T12:00:00Z")
    parser.add_argument("--master", default="local[2]")
    parser.add_argument("--conf", action="append", default=[], metavar="KEY=VALUE")
    parser.add_argument("--by-cte", action="store_true", help="also time every CTE")
    args = parser.parse_args(argv)

    tz = resolve_timezone("UTC")
    as_of = resolve_as_of(args.as_of, tz)
    catalog, segments = definitions(RunConfig(args.data, args.segments), as_of, tz)
    clock = run_clock(as_of, tz)
    paths = {table: files[0] for table, files in find_tables(args.data).items()}
    conf = dict(item.split("=", 1) for item in args.conf)
    engine = SparkEngine(paths, master=args.master, conf=conf)
    spark = engine.spark
    with tempfile.TemporaryDirectory(prefix="profile-spark-") as scratch:
        start = time.perf_counter()
        engine.timeline(clock, Path(scratch) / "daily", Path(scratch) / "rollups")
        print(
            f"timeline (rollups cached and written, daily written): "
            f"{time.perf_counter() - start:.1f} s"
        )
        shared: Shared[str] | None = None
        for step in steps(segments):
            query = compile_flags(
                step.entity,
                step.segments,
                custom_types(catalog),
                clock,
                rollups_table=ROLLUPS_TABLE,
                shares=step.shares,
                shared=shared if step.reads else None,
            )
            sql = query.sql("spark")
            compiled = _compiled(spark)
            t0 = time.perf_counter()
            frame = spark.sql(sql)
            t1 = time.perf_counter()
            frame._jdf.queryExecution().optimizedPlan()
            t2 = time.perf_counter()
            frame._jdf.queryExecution().executedPlan()
            t3 = time.perf_counter()
            cold = _noop(frame)
            classes, seconds = (a - b for a, b in zip(_compiled(spark), compiled, strict=True))
            warm = _noop(frame)
            print(
                f"{step.entity}: {len(step.segments)} segments, {len(sql):,} chars; "
                f"analysis {t1 - t0:.1f} s, optimization {t2 - t1:.1f} s, "
                f"planning {t3 - t2:.1f} s; run {cold:.1f} s (code generation: {classes:.0f} "
                f"classes, {seconds:.1f} s), again {warm:.1f} s"
            )
            if args.by_cte:
                _time_ctes(spark, query.tree)
            if step.shares:  # as the engine: the next step reads this step's filters, cached
                frame = frame.cache()
                engine.cached.append(frame)
                frame.createOrReplaceTempView(SHARED_TABLE)
                shared = Shared(step.entity, step.shares, SHARED_TABLE)
    engine.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""The DuckDB engine: runs the compiled SQL over the validated Parquet inputs."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import duckdb
import pyarrow as pa

from pipeline.compile.dialects import render
from pipeline.compile.sql_query import compile_entity
from pipeline.compile.sql_timeline import daily_query, events_query, rollups_query
from pipeline.engines.base import (
    DAILY_ORDER,
    DAILY_SCHEMA,
    MEMBERSHIP_ORDER,
    MEMBERSHIP_SCHEMA,
    ROLLUPS_ORDER,
    ROLLUPS_SCHEMA,
    CustomTypes,
    InputPaths,
    by_entity,
    published,
)
from pipeline.language import ir

ROLLUPS_TABLE = "timeline_rollups"
EVENTS_TABLE = "timeline_events"


class DuckDBEngine:
    """One in-process DuckDB connection with a view per input table."""

    name = "duckdb"

    def __init__(
        self,
        inputs: InputPaths,
        *,
        threads: int | None = None,
        memory_limit: str | None = None,
        temp_directory: Path | None = None,
    ) -> None:
        self.con = duckdb.connect()
        # Timestamps are compared as UTC instants; casts to DATE take the UTC calendar day.
        self.con.execute("SET TimeZone = 'UTC'")
        # The run reports its own progress (and JSON logs off a terminal).
        self.con.execute("SET enable_progress_bar = false")
        if threads:
            self.con.execute(f"SET threads = {int(threads)}")
        if memory_limit:
            self.con.execute("SET memory_limit = ?", [memory_limit])
        if temp_directory:
            self.con.execute("SET temp_directory = ?", [str(temp_directory)])
        for table, path in inputs.items():
            self.con.read_parquet(str(path)).to_view(table)
        self.rollups_ready = False

    def _ordered(self, sql: str, order: Sequence[str]) -> pa.Table:
        """The query's rows sorted by DuckDB (in parallel; Arrow sorts on one core)."""
        keys = ", ".join(f'"{column}"' for column in order)
        return self.con.sql(f"SELECT * FROM ({sql}) ORDER BY {keys}").to_arrow_table()

    def timeline(self, clock: ir.Clock) -> tuple[pa.Table, pa.Table]:
        # Both tables read the same events (direct, and through the people links): once.
        events = render(events_query("organization", clock), "duckdb")
        self.con.execute(f"CREATE OR REPLACE TEMP TABLE {EVENTS_TABLE} AS {events}")
        rollups = self._ordered(rollups_query(clock, EVENTS_TABLE).sql("duckdb"), ROLLUPS_ORDER)
        # Segments reading rollup columns join this table instead of aggregating again.
        self.con.register(ROLLUPS_TABLE, rollups)
        self.rollups_ready = True
        daily = self._ordered(daily_query(clock, EVENTS_TABLE).sql("duckdb"), DAILY_ORDER)
        self.con.execute(f"DROP TABLE {EVENTS_TABLE}")
        return published(rollups, ROLLUPS_SCHEMA), published(daily, DAILY_SCHEMA)

    def membership(
        self, segments: Sequence[ir.Segment], custom_types: CustomTypes, clock: ir.Clock
    ) -> pa.Table:
        queries = [
            compile_entity(
                entity,
                group,
                custom_types,
                clock,
                rollups_table=ROLLUPS_TABLE if self.rollups_ready else None,
            ).sql("duckdb", consume=True)
            for entity, group in by_entity(segments).items()
        ]
        if not queries:
            return MEMBERSHIP_SCHEMA.empty_table()
        columns = ", ".join(f'"{c}"' for c in MEMBERSHIP_SCHEMA.names)
        union = " UNION ALL ".join(f"SELECT {columns} FROM ({q})" for q in queries)
        return published(self._ordered(union, MEMBERSHIP_ORDER), MEMBERSHIP_SCHEMA)

    def close(self) -> None:
        self.con.close()

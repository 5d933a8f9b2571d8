"""The DuckDB engine: runs the compiled SQL over the validated Parquet inputs."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import duckdb
import pyarrow as pa

from pipeline.compile.sql_query import compile_entity, daily_query, rollups_query
from pipeline.engines.base import (
    DAILY_SCHEMA,
    MEMBERSHIP_SCHEMA,
    ROLLUPS_SCHEMA,
    CustomTypes,
    InputPaths,
    by_entity,
    canonical,
    sort_membership,
)
from pipeline.language import ir

ROLLUPS_TABLE = "timeline_rollups"


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

    def timeline(self, clock: ir.Clock) -> tuple[pa.Table, pa.Table]:
        rollups = self.con.sql(rollups_query(clock).sql("duckdb")).to_arrow_table()
        # Segments reading rollup columns join this table instead of aggregating again.
        self.con.register(ROLLUPS_TABLE, rollups)
        self.rollups_ready = True
        daily = self.con.sql(daily_query(clock).sql("duckdb")).to_arrow_table()
        return (
            canonical(rollups, ROLLUPS_SCHEMA, ["property_id", "org_id"]),
            canonical(daily, DAILY_SCHEMA, ["property_id", "org_id", "day", "kind"]),
        )

    def membership(
        self, segments: Sequence[ir.Segment], custom_types: CustomTypes, clock: ir.Clock
    ) -> pa.Table:
        tables = []
        for entity, group in by_entity(segments).items():
            query = compile_entity(
                entity,
                group,
                custom_types,
                clock,
                rollups_table=ROLLUPS_TABLE if self.rollups_ready else None,
            )
            tables.append(self.con.sql(query.sql("duckdb")).to_arrow_table())
        if not tables:
            return MEMBERSHIP_SCHEMA.empty_table()
        return sort_membership(
            pa.concat_tables([t.select(MEMBERSHIP_SCHEMA.names) for t in tables])
        )

    def close(self) -> None:
        self.con.close()

"""The DuckDB engine: runs the compiled SQL over the validated Parquet inputs."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

import duckdb
import pyarrow as pa

from pipeline.compile.sql import compile_entity
from pipeline.engines.base import (
    MEMBERSHIP_SCHEMA,
    InputPaths,
    by_entity,
    custom_types_for,
    sort_membership,
)
from pipeline.language import ir


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
        if threads:
            self.con.execute(f"SET threads = {int(threads)}")
        if memory_limit:
            self.con.execute("SET memory_limit = ?", [memory_limit])
        if temp_directory:
            self.con.execute("SET temp_directory = ?", [str(temp_directory)])
        for table, path in inputs.items():
            self.con.read_parquet(str(path)).to_view(table)

    def plan(
        self, segments: Sequence[ir.Segment], custom_types: Mapping[tuple[str, str], str]
    ) -> str:
        parts = []
        for entity, group in by_entity(segments).items():
            query = compile_entity(entity, group, custom_types_for(entity, custom_types))
            parts.append(query.sql("duckdb", pretty=True) + ";")
        return "\n\n".join(parts)

    def membership(
        self, segments: Sequence[ir.Segment], custom_types: Mapping[tuple[str, str], str]
    ) -> pa.Table:
        tables = []
        for entity, group in by_entity(segments).items():
            query = compile_entity(entity, group, custom_types_for(entity, custom_types))
            tables.append(self.con.sql(query.sql("duckdb")).to_arrow_table())
        if not tables:
            return MEMBERSHIP_SCHEMA.empty_table()
        return sort_membership(
            pa.concat_tables([t.select(MEMBERSHIP_SCHEMA.names) for t in tables])
        )

    def close(self) -> None:
        self.con.close()

"""The Polars engine: runs the compiled lazy plans over the validated Parquet inputs."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import polars as pl

from pipeline.collector import collector_paused
from pipeline.compile.polars_query import compile_flags, daily_frame, rollups_frame
from pipeline.engines.base import (
    DAILY_ORDER,
    ROLLUPS_ORDER,
    CustomTypes,
    Flags,
    InputPaths,
    by_entity,
    write_timeline,
)
from pipeline.language import ir


class PolarsEngine:
    """Lazy scans of each input table; one ``collect`` per query."""

    name = "polars"

    def __init__(self, inputs: InputPaths) -> None:
        self.frames = {table: pl.scan_parquet(path) for table, path in inputs.items()}
        self.rollups: pl.LazyFrame | None = None

    def timeline(self, clock: ir.Clock, daily_path: Path, rollups_path: Path) -> None:
        rollups, daily = pl.collect_all(
            [
                rollups_frame(self.frames, clock).sort(ROLLUPS_ORDER),
                daily_frame(self.frames, clock).sort(DAILY_ORDER),
            ]
        )
        write_timeline(daily.to_arrow(), daily_path, rollups.to_arrow(), rollups_path)
        del daily, rollups
        # Segments reading rollup columns scan the written file instead of aggregating again.
        self.rollups = pl.scan_parquet(rollups_path)

    def flags(
        self, segments: Sequence[ir.Segment], custom_types: CustomTypes, clock: ir.Clock
    ) -> Flags:
        groups = by_entity(segments)
        with collector_paused():
            queries = [
                compile_flags(entity, group, custom_types, self.frames, clock, rollups=self.rollups)
                for entity, group in groups.items()
            ]
        tables = pl.collect_all(queries) if queries else []
        return Flags(
            {
                entity: ([s.id for s in group], table.to_arrow())
                for (entity, group), table in zip(groups.items(), tables, strict=True)
            }
        )

    def close(self) -> None:
        self.frames.clear()

"""The Polars engine: runs the compiled lazy plans over the validated Parquet inputs."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import polars as pl
import pyarrow as pa

from pipeline.compile.polars import compile_entity
from pipeline.engines.base import (
    MEMBERSHIP_SCHEMA,
    InputPaths,
    by_entity,
    custom_types_for,
    sort_membership,
)
from pipeline.language import ir


class PolarsEngine:
    """Lazy scans of each input table; one ``collect`` per entity."""

    name = "polars"

    def __init__(self, inputs: InputPaths) -> None:
        self.frames = {table: pl.scan_parquet(path) for table, path in inputs.items()}

    def _queries(
        self, segments: Sequence[ir.Segment], custom_types: Mapping[tuple[str, str], str]
    ) -> list[pl.LazyFrame]:
        return [
            compile_entity(entity, group, custom_types_for(entity, custom_types), self.frames)
            for entity, group in by_entity(segments).items()
        ]

    def plan(
        self, segments: Sequence[ir.Segment], custom_types: Mapping[tuple[str, str], str]
    ) -> str:
        return "\n\n".join(query.explain() for query in self._queries(segments, custom_types))

    def membership(
        self, segments: Sequence[ir.Segment], custom_types: Mapping[tuple[str, str], str]
    ) -> pa.Table:
        queries = self._queries(segments, custom_types)
        if not queries:
            return MEMBERSHIP_SCHEMA.empty_table()
        frames = pl.collect_all(queries)
        return sort_membership(pa.concat_tables([frame.to_arrow() for frame in frames]))

    def close(self) -> None:
        self.frames.clear()

"""The Polars plan of one segment over empty frames of the canonical schemas (no data read)."""

from __future__ import annotations

import polars as pl

from pipeline.catalog import Catalog
from pipeline.compile.polars import compile_entity
from pipeline.inputs.schema import TABLES
from pipeline.language import ir


def explain(segment: ir.Segment, catalog: Catalog) -> str:
    frames = {
        name: pl.LazyFrame(pl.from_arrow(schema.empty_table())) for name, schema in TABLES.items()
    }
    types = {key: a.type for (entity, key), a in catalog.custom.items() if entity == segment.entity}
    return compile_entity(segment.entity, [segment], types, frames).explain()

"""The Polars plan of one segment over empty frames of the canonical schemas (no data read)."""

from __future__ import annotations

import polars as pl

from pipeline.catalog import Catalog
from pipeline.compile.polars_query import compile_entity
from pipeline.inputs.schema import TABLES
from pipeline.language import ir


def explain(segment: ir.Segment, catalog: Catalog, clock: ir.Clock) -> str:
    frames = {name: pl.DataFrame(schema.empty_table()).lazy() for name, schema in TABLES.items()}
    types = {key: a.type for key, a in catalog.custom.items()}
    plan = compile_entity(segment.entity, [segment], types, frames, clock)
    return str(plan.explain())

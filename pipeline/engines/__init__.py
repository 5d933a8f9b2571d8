"""Engines that execute compiled segments; picked by name with ``--engine``."""

from __future__ import annotations

from typing import Final

from pipeline.engines.base import Engine, InputPaths

ENGINES: Final = ("duckdb", "polars")


def make_engine(name: str, inputs: InputPaths) -> Engine:
    """The engine called ``name`` over the validated input files."""
    if name == "duckdb":
        from pipeline.engines.duckdb import DuckDBEngine

        return DuckDBEngine(inputs)
    if name == "polars":
        from pipeline.engines.polars import PolarsEngine

        return PolarsEngine(inputs)
    raise ValueError(f"unknown engine {name!r}")

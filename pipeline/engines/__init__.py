"""Engines that execute compiled segments; picked by name with ``--engine``."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Final

from pipeline.engines.base import Engine, InputPaths

ENGINES: Final = ("duckdb", "polars", "spark")


def make_engine(
    name: str,
    inputs: InputPaths,
    *,
    spark_master: str | None = "local[*]",
    spark_conf: Mapping[str, str] | None = None,
    memory_limit: str | None = None,
    spill: Path | None = None,
) -> Engine:
    """The engine called ``name`` over the validated input files.

    DuckDB only: ``memory_limit`` (DuckDB's default is 80% of the machine's memory) and the
    folder ``spill`` where it writes what does not fit in it.
    """
    if name == "duckdb":
        from pipeline.engines.duckdb import DuckDBEngine

        return DuckDBEngine(inputs, memory_limit=memory_limit, temp_directory=spill)
    if name == "polars":
        from pipeline.engines.polars import PolarsEngine

        return PolarsEngine(inputs)
    if name == "spark":
        from pipeline.engines.spark import SparkEngine

        return SparkEngine(inputs, master=spark_master, conf=spark_conf)
    raise ValueError(f"unknown engine {name!r}")

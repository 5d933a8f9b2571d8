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

    ``memory_limit`` (a size such as ``6GB``): for DuckDB, its memory limit (DuckDB's default
    is 80% of the machine's memory); for Polars, the memory its passes plan for (default:
    half the machine's). DuckDB only: the folder ``spill`` where it writes what does not fit.
    """
    if name == "duckdb":
        from pipeline.engines.duckdb import DuckDBEngine

        return DuckDBEngine(inputs, memory_limit=memory_limit, temp_directory=spill)
    if name == "polars":
        from pipeline.engines.polars import PolarsEngine

        memory = None
        if memory_limit:
            from pipeline.engines.duckdb import check_memory_limit, size_in_bytes

            memory = size_in_bytes(check_memory_limit(memory_limit))
        return PolarsEngine(inputs, memory_bytes=memory)
    if name == "spark":
        from pipeline.engines.spark import SparkEngine

        return SparkEngine(inputs, master=spark_master, conf=spark_conf)
    raise ValueError(f"unknown engine {name!r}")

"""Engines that execute compiled segments, each declared once in :data:`REGISTRY`.

Everything that offers or checks an engine reads the registry: ``make_engine``, the run's
checks of its options, the CLI's ``--engine`` help, the marketer's commands (which engines
answer interactively) and the tests' engine matrix (a new engine needs no test edits).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

if TYPE_CHECKING:  # the CLI reads the registry at start: no engine, no Arrow imported
    from pipeline.engines.base import Engine, InputPaths


@dataclass(frozen=True, slots=True)
class EngineOptions:
    """What a run may tell an engine; each engine reads the options it has (see
    :class:`EngineSpec`)."""

    #: ``memory_limit`` (a size such as ``6GB``): for DuckDB, its memory limit (DuckDB's
    #: default is 80% of the machine's); for Polars, the memory its passes plan for
    #: (default: half the machine's).
    memory_limit: str | None = None
    #: DuckDB only: the folder where it writes what does not fit in memory.
    spill: Path | None = None
    #: Spark only: the master (``None`` leaves it to ``spark-submit``), settings, and a
    #: session to reuse (tests, notebooks), which the engine then leaves running.
    spark_master: str | None = "local[*]"
    spark_conf: Mapping[str, str] = field(default_factory=dict)
    spark_session: Any = None
    #: Spark only: a folder the driver and every executor see at that path, where the
    #: executors write the membership (default: a temporary folder, for local mode).
    work: Path | None = None


def _duckdb(inputs: InputPaths, options: EngineOptions) -> Engine:
    from pipeline.engines.duckdb import DuckDBEngine

    return DuckDBEngine(inputs, memory_limit=options.memory_limit, temp_directory=options.spill)


def _polars(inputs: InputPaths, options: EngineOptions) -> Engine:
    from pipeline.engines.polars import PolarsEngine

    memory = None
    if options.memory_limit:
        from pipeline.engines.duckdb import check_memory_limit, size_in_bytes

        memory = size_in_bytes(check_memory_limit(options.memory_limit))
    return PolarsEngine(inputs, memory_bytes=memory)


def _spark(inputs: InputPaths, options: EngineOptions) -> Engine:
    from pipeline.engines.spark import SparkEngine

    return SparkEngine(
        inputs,
        session=options.spark_session,
        master=options.spark_master,
        conf=options.spark_conf,
        work=options.work,
    )


@dataclass(frozen=True, slots=True)
class EngineSpec:
    """One engine: its name, what it offers, and how it is built."""

    name: str
    #: What ``--help`` says of it.
    summary: str
    #: The SQL dialect its queries are rendered in; ``None``: Polars expressions.
    dialect: str | None
    build: Callable[[InputPaths, EngineOptions], Engine]
    #: Whether ``--data`` may be a URL (``s3a://...``) it reads itself.
    remote_inputs: bool = False
    #: Whether it takes ``--memory-limit`` (and computes the flags in passes over ranges of
    #: keys when they would not fit, see ``engines.base.rows_per_pass``).
    memory_limit: bool = False
    #: Whether it answers the marketer's commands (``preview``, ``why``, ``export``) in
    #: seconds: an engine in this process, not a cluster's job.
    interactive: bool = False
    #: The pytest marker that its tests carry (run where the marker is turned on: CI).
    test_marker: str | None = None


REGISTRY: Final[Mapping[str, EngineSpec]] = {
    spec.name: spec
    for spec in (
        EngineSpec(
            "duckdb",
            "DuckDB SQL in this process (the default)",
            "duckdb",
            _duckdb,
            memory_limit=True,
            interactive=True,
        ),
        EngineSpec(
            "polars",
            "Polars lazy queries in this process",
            None,
            _polars,
            memory_limit=True,
            interactive=True,
        ),
        EngineSpec(
            "spark",
            "Spark SQL on a Spark cluster (or local[*])",
            "spark",
            _spark,
            remote_inputs=True,
            test_marker="spark",
        ),
    )
}

#: Every engine's name, the default first.
ENGINES: Final = tuple(REGISTRY)

#: The engines that answer ``preview``, ``why`` and ``export``.
INTERACTIVE: Final = tuple(name for name, spec in REGISTRY.items() if spec.interactive)


def make_engine(name: str, inputs: InputPaths, options: EngineOptions | None = None) -> Engine:
    """The engine called ``name`` over the validated input files."""
    spec = REGISTRY.get(name)
    if spec is None:
        raise ValueError(f"unknown engine {name!r}")
    return spec.build(inputs, options or EngineOptions())

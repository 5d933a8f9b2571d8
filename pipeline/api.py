"""The Python API, for notebooks and orchestrators (Airflow, Dagster, Prefect call Python).

Everything the ``segments`` command does, as methods of one :class:`Project`, with results as
objects and Polars data frames; errors are the command's exceptions (``DefinitionError``,
``InputDataError``, ``RunError``, all ``SegmentError``), each with its message and hint.

>>> from pipeline import Project
>>> project = Project.load()                         # doctest: +SKIP
>>> project.preview("churn-risk-customers").members  # doctest: +SKIP
388
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

import polars as pl

from pipeline.explore.export import Exported
from pipeline.explore.preview import Preview
from pipeline.explore.session import Definitions, load_definitions
from pipeline.explore.why import Why
from pipeline.language import ir
from pipeline.outputs import MEMBERSHIP, SIZES
from pipeline.project import find_project
from pipeline.run import RunConfig, RunResult


@dataclass(frozen=True, slots=True)
class Project:
    """A data folder, a segments folder and an output folder, and how to evaluate them.

    The defaults are the command's: ``data/``, ``segments/``, ``out/``, UTC, DuckDB, now.
    """

    data: Path = Path("data")
    segments: Path = Path("segments")
    out: Path = Path("out")
    timezone: str = "UTC"
    engine: str = "duckdb"
    #: The instant to evaluate at (ISO 8601, or a date); None: now.
    as_of: str | None = None
    memory_limit: str | None = None
    keep: int = 5
    select: tuple[str, ...] = field(default=())

    @classmethod
    def load(cls, folder: Path | str = ".") -> Project:
        """The project of ``folder``'s ``segments.toml`` (or ``[tool.segments]``); paths
        in it are relative to that folder. Defaults where there is no file."""
        found = find_project(Path(folder)).values

        def text(key: str, default: str | None) -> str | None:
            return str(found[key]) if key in found else default

        select = found.get("select")
        return cls(
            data=Path(text("data", "data") or "data"),
            segments=Path(text("segments", "segments") or "segments"),
            out=Path(text("out", "out") or "out"),
            timezone=text("timezone", "UTC") or "UTC",
            engine=text("engine", "duckdb") or "duckdb",
            as_of=text("as_of", None),
            memory_limit=text("memory_limit", None),
            keep=int(text("keep", "5") or 5),
            select=tuple(str(s) for s in select) if isinstance(select, list) else (),
        )

    def at(self, as_of: str) -> Project:
        """The same project evaluated at another instant."""
        return replace(self, as_of=as_of)

    # -- definitions ---------------------------------------------------------------------

    def validate(self) -> list[ir.Segment]:
        """Every segment, checked; raises ``DefinitionError`` with all the problems."""
        return list(self._definitions().segments)

    def explain(self, segment_id: str) -> str:
        """The segment's definition in plain words (``segments explain``)."""
        from pipeline.language.words import explain

        definitions = self._definitions()
        return explain(definitions.segment(segment_id, self.segments), definitions.clock)

    def compile(self, segment_id: str, dialect: str = "duckdb") -> str:
        """The self-contained SQL of one segment (``segments compile``)."""
        from pipeline.run import compiled_sql

        definitions = self._definitions()
        segment = definitions.segment(segment_id, self.segments)
        return compiled_sql(segment, definitions.catalog, definitions.clock, dialect)

    # -- evaluation, publishing nothing --------------------------------------------------

    def preview(self, segment_id: str, property_id: str | None = None, limit: int = 10) -> Preview:
        """Sizes per property and the first members (``segments preview``); ``.sizes``,
        ``.members``, and :func:`sample_frame` for a data frame."""
        from pipeline.explore.preview import preview
        from pipeline.explore.session import check_engine, validated_inputs
        from pipeline.explore.values import reader

        check_engine(self.engine)
        definitions = self._definitions()
        segment = definitions.segment(segment_id, self.segments)
        with validated_inputs(self.data, self.out) as inputs, reader(inputs.tables) as read:
            return preview(
                definitions, inputs, read, self.engine, segment, property_id, limit,
                self.memory_limit,
            )  # fmt: skip

    def why(self, segment_id: str, entity_id: str, property_id: str | None = None) -> Why:
        """Every condition's verdict for one contact (``segments why``): ``.member``."""
        from pipeline.explore.session import check_engine, validated_inputs
        from pipeline.explore.values import reader
        from pipeline.explore.why import locate, probe, why

        check_engine(self.engine)
        definitions = self._definitions()
        segment = definitions.segment(segment_id, self.segments)
        with validated_inputs(self.data, self.out) as inputs, reader(inputs.tables) as read:
            locate(read, segment.entity, entity_id, property_id)
            probed = probe(definitions, inputs, self.engine, segment, self.memory_limit)
            return why(probed, read, entity_id, property_id)

    # -- the batch run and what it published ---------------------------------------------

    def run(self, *, rebuild: bool = False, allow_future: bool = False) -> RunResult:
        """One batch run (``segments run``) into ``out``: ``.sizes``, ``.run_id``, ..."""
        from pipeline.run import run

        config = RunConfig(
            self.data,
            self.segments,
            self.out,
            self.as_of,
            self.engine,
            self.timezone,
            self.keep,
            rebuild=rebuild,
            memory_limit=self.memory_limit,
            select=self.select,
            allow_future=allow_future,
        )
        return run(config)

    def membership(self, segment_id: str | None = None) -> pl.DataFrame:
        """The published members (of one segment, or all), as a data frame."""
        frame = self._published(MEMBERSHIP.name)
        return frame if segment_id is None else frame.filter(pl.col("segment_id") == segment_id)

    def sizes(self) -> pl.DataFrame:
        """``segment_sizes``: each segment's size per property at every run."""
        return self._published(SIZES.name)

    def export(
        self,
        segment_id: str,
        output: Path | str | None = None,
        output_format: str = "parquet",
        columns: Sequence[str] | None = None,
        property_id: str | None = None,
    ) -> Exported:
        """The published members with their contact attributes, as a file (``export``;
        ``output`` by default ``<segment_id>.<format>`` in the current folder)."""
        from pipeline.catalog import Catalog
        from pipeline.explore.export import export
        from pipeline.explore.session import validated_inputs
        from pipeline.explore.values import reader
        from pipeline.inputs import read_custom_attributes

        catalog = Catalog.build(read_custom_attributes(self.data), ir.rollup_columns())
        with validated_inputs(self.data, self.out) as inputs, reader(inputs.tables) as read:
            return export(
                read, self.out, catalog, segment_id, output_format,
                None if output is None else Path(output),
                property_id, columns,
            )  # fmt: skip

    # -- helpers -------------------------------------------------------------------------

    def _definitions(self) -> Definitions:
        return load_definitions(self.data, self.segments, self.as_of, self.timezone)

    def _published(self, table: str) -> pl.DataFrame:
        from pipeline.errors import RunError
        from pipeline.publish.snapshot import read_published_frame

        frame = read_published_frame(self.out, table)
        if frame is None:
            raise RunError(f"no published run in {self.out}", "call Project.run() first")
        return frame


def sample_frame(preview: Preview) -> pl.DataFrame:
    """A preview's sample as a data frame: property, id, and each attribute as compared."""
    rows = [
        {
            "property_id": m.property_id,
            "entity_id": m.entity_id,
            **{name: m.values[name].compared for name in preview.attributes if name in m.values},
        }
        for m in preview.sample
    ]
    return pl.DataFrame(rows) if rows else pl.DataFrame()

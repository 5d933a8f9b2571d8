"""The Polars engine: runs the compiled lazy plans over the validated Parquet inputs."""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from pathlib import Path

import polars as pl
import pyarrow as pa

from pipeline.collector import collector_paused
from pipeline.compile.polars_query import compile_flags, daily_frame, rollups_frame
from pipeline.compile.steps import Shared, steps
from pipeline.engines.base import (
    CustomTypes,
    Flags,
    InputPaths,
    KeyPasses,
    expect_every_entity_once,
    own_flags,
    write_timeline,
)
from pipeline.errors import writing
from pipeline.inputs.schema import ENTITY_TABLE
from pipeline.language import ir
from pipeline.outputs import DAILY, ROLLUPS


def machine_memory() -> int:
    """The memory this process may use: the machine's, or its container's limit (cgroup v2
    ``memory.max``, v1 ``memory.limit_in_bytes``) if that is lower; 8 GiB where the system
    does not say (not POSIX)."""
    try:
        memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (AttributeError, ValueError, OSError):
        memory = 8 << 30
    for limit in ("/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory/memory.limit_in_bytes"):
        try:
            text = Path(limit).read_text().strip()
        except OSError:
            continue
        if text.isdigit():
            memory = min(memory, int(text))
    return memory


class PolarsEngine(KeyPasses):
    """Lazy scans of each input table; one ``collect`` per query (per pass, see
    :meth:`flags`)."""

    name = "polars"

    def __init__(self, inputs: InputPaths, *, memory_bytes: int | None = None) -> None:
        self.frames = {table: pl.scan_parquet(path, glob=False) for table, path in inputs.items()}
        self.rollups: pl.LazyFrame | None = None
        #: The memory the passes of :meth:`flags` plan for: half the machine's by default.
        self.memory_bytes = memory_bytes or machine_memory() // 2
        self.max_rows_per_pass: int | None = None

    def timeline(self, clock: ir.Clock, daily_path: Path, rollups_path: Path) -> None:
        # pyarrow writes the files; a full disk it meets says no path: the folder's.
        with writing(daily_path.parent):
            self._timeline(clock, daily_path, rollups_path)

    def _timeline(self, clock: ir.Clock, daily_path: Path, rollups_path: Path) -> None:
        rollups, daily = pl.collect_all(
            [
                rollups_frame(self.frames, clock).sort(ROLLUPS.order),
                daily_frame(self.frames, clock).sort(DAILY.order),
            ]
        )
        write_timeline(daily.to_arrow(), daily_path, rollups.to_arrow(), rollups_path)
        del daily, rollups
        # Segments reading rollup columns scan the written file instead of aggregating again.
        self.rollups = pl.scan_parquet(rollups_path, glob=False)

    def _count(self, table: str) -> int:
        return int(self.frames[table].select(pl.len()).collect().item())

    def _per_property(self, table: str) -> dict[str, int]:
        counts = self.frames[table].group_by("property_id").len().collect()
        return dict(counts.iter_rows())

    def _every_nth(
        self, table: str, id_column: str, split: Mapping[str, int]
    ) -> list[tuple[str, str]]:
        position = pl.int_range(pl.len()).over("property_id")
        every = pl.col("property_id").replace_strict(split, return_dtype=pl.Int64)
        rows = (
            self.frames[table]
            .select("property_id", id_column)
            .filter(pl.col("property_id").is_in(list(split)))
            .sort("property_id", id_column)
            .filter((position > 0) & (position % every == 0))
            .collect()
        )
        return [(str(p), str(i)) for p, i in rows.iter_rows()]

    def flags(
        self, segments: Sequence[ir.Segment], custom_types: CustomTypes, clock: ir.Clock
    ) -> Flags:
        """Each step's flags (``compile.steps``) by one lazy query, or, when it would not
        fit in memory (estimated, see :meth:`rows_per_pass`), by passes over ranges of its
        keys, one after the other, whose flags follow one another in the published order
        (as DuckDB's, see ``DuckDBEngine._flags``). A step's shared filters are read by the
        next from the frame the first collected."""
        entities: dict[str, tuple[Sequence[str], pa.Table]] = {}
        shared: Shared[pl.LazyFrame] | None = None
        for step in steps(segments):
            entity = step.entity
            with collector_paused():
                queries = [
                    compile_flags(
                        entity,
                        step.segments,
                        custom_types,
                        self.frames,
                        clock,
                        rollups=self.rollups,
                        within=within,
                        shares=step.shares,
                        shared=shared if step.reads else None,
                    )
                    for within in self._ranges(entity, self.rows_per_pass(entity, step.segments))
                ]
            parts = [q.collect() for q in queries]
            arrow = [t.to_arrow() for t in parts]
            expect_every_entity_once(arrow, self._count(ENTITY_TABLE[entity][0]), entity)
            if step.shares:
                shared = Shared(entity, step.shares, pl.concat(parts).lazy())
            if step.segments:
                entities[entity] = own_flags(step, pa.concat_tables(arrow))
        return Flags(entities)

    def close(self) -> None:
        self.frames.clear()

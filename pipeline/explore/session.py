"""What the marketer's commands share: the checked definitions, the validated inputs in a
temporary folder, and an engine over them."""

from __future__ import annotations

import datetime as dt
import shutil
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from pipeline.catalog import Catalog
from pipeline.engines import INTERACTIVE, EngineOptions, make_engine
from pipeline.engines.base import Engine, Flags
from pipeline.errors import RunError, did_you_mean
from pipeline.inputs import read_inputs
from pipeline.inputs.discover import fingerprint, locate_tables
from pipeline.inputs.findings import QUARANTINE_SCHEMA
from pipeline.inputs.schema import ENTITY_TABLE, TABLES
from pipeline.inputs.validate import ValidatedInputs
from pipeline.language import ir
from pipeline.language.temporal import clock as run_clock
from pipeline.outputs import RUNS
from pipeline.publish.snapshot import current_snapshot, read_published
from pipeline.run import RunConfig, definitions, resolve_as_of, resolve_timezone


@dataclass(frozen=True, slots=True)
class Definitions:
    """The checked segments of a folder at one instant, and the catalog they were checked
    against."""

    catalog: Catalog
    segments: Sequence[ir.Segment]
    as_of: dt.datetime
    timezone: str

    @property
    def clock(self) -> ir.Clock:
        return run_clock(self.as_of, resolve_timezone(self.timezone))

    def segment(self, segment_id: str, folder: Path) -> ir.Segment:
        """The segment ``segment_id``; a RunError naming the close ids if there is none."""
        by_id = {s.id: s for s in self.segments}
        if segment_id not in by_id:
            raise RunError(
                f"no segment {segment_id!r} in {folder}",
                did_you_mean(segment_id, by_id) or f"segments: {', '.join(sorted(by_id))}",
            )
        return by_id[segment_id]

    @property
    def custom_types(self) -> dict[tuple[str, str], str]:
        return {key: attr.type for key, attr in self.catalog.custom.items()}


def load_definitions(data: Path, segments: Path, as_of: str | None, timezone: str) -> Definitions:
    """The definitions as a run would check them (``--as-of`` default: now)."""
    tz = resolve_timezone(timezone)
    instant = resolve_as_of(as_of, tz)
    catalog, checked = definitions(RunConfig(data, segments), instant, tz)
    return Definitions(catalog, checked, instant, timezone)


@contextmanager
def validated_inputs(data: Path, out: Path | None = None) -> Iterator[ValidatedInputs]:
    """The inputs validated and cleaned as a run does (quarantined rows left out).

    When the run published in ``out`` read these very inputs (the same fingerprint: every
    file's path, size and footer), its copies of them are the inputs validated: they are
    used as they are, and nothing is validated again (at 1M organizations, ~9 s saved).
    Otherwise they are validated into a temporary folder removed afterwards."""
    published = None if out is None else published_inputs(data, out)
    if published is not None:
        yield published
        return
    work = Path(tempfile.mkdtemp(prefix="segments-"))
    try:
        yield read_inputs(data, work)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def published_inputs(data: Path, out: Path) -> ValidatedInputs | None:
    """The copies of the inputs the current run of ``out`` published, if that run read the
    inputs now in ``data`` (else None)."""
    snapshot = current_snapshot(out)
    runs = read_published(out, RUNS.name)
    if snapshot is None or runs is None:
        return None
    run_id = snapshot.name.split(".", 1)[0]
    read = [r for r in runs.to_pylist() if r["run_id"] == run_id and r["status"] == "succeeded"]
    files, missing = locate_tables(data, TABLES)
    if not read or missing:
        return None
    now = fingerprint(data, files)
    if now != read[-1]["input_fingerprint"]:
        return None
    tables = {}
    for table in TABLES:
        parts = sorted((snapshot / table).glob("*.parquet"))
        if len(parts) != 1:
            return None
        tables[table] = parts[0]
    quarantine = pa.Table.from_pylist([], schema=QUARANTINE_SCHEMA)
    return ValidatedInputs(tables, (), quarantine, {}, now)


def check_engine(name: str) -> None:
    if name not in INTERACTIVE:
        raise RunError(
            f"unknown engine {name!r} for this command",
            did_you_mean(name, INTERACTIVE) or f"use {' or '.join(INTERACTIVE)}",
        )


def evaluate(
    engine_name: str,
    inputs: ValidatedInputs,
    segments: Sequence[ir.Segment],
    definitions: Definitions,
    memory_limit: str | None = None,
) -> Flags:
    """The flags of ``segments`` as the engine computes them in a run."""
    check_engine(engine_name)
    engine: Engine = make_engine(
        engine_name, inputs.tables, EngineOptions(memory_limit=memory_limit)
    )
    try:
        flags = engine.flags(segments, definitions.custom_types, definitions.clock)
    finally:
        engine.close()
    # The interactive engines (``check_engine``) answer in this process, with every flag.
    assert isinstance(flags, Flags)
    return flags


def properties(inputs: ValidatedInputs, entity: str) -> list[str]:
    """The properties that have rows of ``entity``, sorted."""
    table, _ = ENTITY_TABLE[entity]
    column = pq.read_table(inputs.tables[table], columns=["property_id"]).column("property_id")
    return sorted(str(p) for p in pc.unique(column).to_pylist() if p is not None)


def check_property(property_id: str | None, known: Sequence[str]) -> None:
    if property_id is not None and property_id not in known:
        raise RunError(
            f"--property {property_id!r} has no rows",
            did_you_mean(property_id, known) or f"properties: {', '.join(known) or 'none'}",
        )

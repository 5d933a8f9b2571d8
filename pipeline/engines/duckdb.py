"""The DuckDB engine: runs the compiled SQL over the validated Parquet inputs."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Final

import duckdb
import numpy as np
import pyarrow as pa
from sqlglot import exp

from pipeline.collector import collector_paused
from pipeline.compile.dialects import render
from pipeline.compile.sql_query import compile_flags
from pipeline.compile.sql_timeline import (
    daily_query,
    events_query,
    ordered,
    ordered_by_rank,
    rollups_query,
)
from pipeline.engines.base import (
    DAILY_ORDER,
    DAILY_SCHEMA,
    ROLLUPS_ORDER,
    ROLLUPS_SCHEMA,
    CustomTypes,
    Flags,
    InputPaths,
    by_entity,
    published,
)
from pipeline.errors import RunError
from pipeline.inputs.schema import ENTITY_TABLE
from pipeline.language import ir
from pipeline.parquet import ROW_GROUP

ROLLUPS_TABLE = "timeline_rollups"
EVENTS_TABLE = "timeline_events"
ORG_RANKS_TABLE = "timeline_org_ranks"


def _setting(con: duckdb.DuckDBPyConnection, name: str) -> str:
    rows = con.execute("SELECT current_setting(?)", [name]).fetchall()
    return str(rows[0][0])


def check_memory_limit(limit: str) -> str:
    """``limit`` as DuckDB reads it (``6GB`` -> ``5.5 GiB``); RunError if it is not a size."""
    con = duckdb.connect()
    try:
        con.execute("SET memory_limit = ?", [limit])
        return _setting(con, "memory_limit")
    except duckdb.Error as error:
        raise RunError(
            f"--memory-limit {limit!r}: {str(error).splitlines()[0]}",
            "give a size such as 6GB or 500MB, or a share of the machine's memory such as 50%",
        ) from None
    finally:
        con.close()


#: What the flags query of an entity holds per entity row, estimated: its keys and the
#: hash tables of the joins (``ENTITY_BYTES``), and each count aggregated per entity, a
#: timeline condition or a relationship condition, in the aggregate and in the join that
#: brings it back (``COUNT_BYTES``).
ENTITY_BYTES: Final = 96
COUNT_BYTES: Final = 32
_UNITS: Final = {"bytes": 1, "KiB": 1 << 10, "MiB": 1 << 20, "GiB": 1 << 30, "TiB": 1 << 40}


def _bytes(size: str) -> int:
    """A DuckDB size setting (``3.7 GiB``) in bytes; no limit if it is not one."""
    number, _, unit = size.partition(" ")
    try:
        return int(float(number) * _UNITS[unit])
    except (ValueError, KeyError):
        return 1 << 62


def _counts(segment: ir.Segment) -> frozenset[ir.Predicate]:
    """The counts a segment's query aggregates per entity: its distinct timeline and
    relationship conditions, those of the segments it references included."""
    return frozenset(
        p for p in ir.predicates(ir.scoped(segment)) if isinstance(p, ir.Activity | ir.Related)
    )


def groups(segments: Sequence[ir.Segment], rows: int, memory: int) -> list[list[ir.Segment]]:
    """``segments`` packed into groups, each evaluated by one query whose per-entity state
    for ``rows`` entities fits in half of ``memory`` bytes (estimated with ``ENTITY_BYTES``
    and ``COUNT_BYTES``); one group when they all fit.

    One query reads every column once for all segments, but its hash tables grow with the
    distinct counts (at 1M organizations, measured: ~25 B per count per entity; 55 timeline
    counts of 10M organizations spilled for minutes and then ran out of memory at a 4 GB
    limit). Segments share counts (a reference brings the referenced segment's), so each
    segment goes to the group it adds the fewest new counts to, among those it fits in
    (best fit); a segment that adds none always fits, and a group holds at least one
    segment, whatever its counts. Groups keep the order of their first segments, and each
    group the order of its segments.
    """
    budget = memory // 2
    packed: list[tuple[list[ir.Segment], set[ir.Predicate]]] = []
    for segment in segments:
        more = _counts(segment)
        best: tuple[int, list[ir.Segment], set[ir.Predicate]] | None = None
        for group, counts in packed:
            added = len(more - counts)
            fits = rows * (ENTITY_BYTES + COUNT_BYTES * (len(counts) + added)) <= budget
            if (added == 0 or fits) and (best is None or added < best[0]):
                best = (added, group, counts)
        if best is None:
            packed.append(([segment], set(more)))
        else:
            best[1].append(segment)
            best[2].update(more)
    return [group for group, _ in packed]


class _SideBySide:
    """The flags of one entity from several queries: the keys of the first query once, then
    every query's flags in order. Each query orders the same entities by the same unique
    keys (checked); only the flag columns of the later queries are kept, so that the keys
    (~0.6 GB for 23.5M people) are held once, not once per query."""

    def __init__(self) -> None:
        self.keys: pa.Table | None = None
        self.flags: list[pa.ChunkedArray] = []

    def add(self, table: pa.Table) -> None:
        keys = table.select(["property_id", "entity_id"])
        if self.keys is None:
            self.keys = keys
        elif not keys.equals(self.keys):
            raise AssertionError("the flag queries of one entity returned different keys")
        self.flags.extend(table.columns[2:])

    def table(self) -> pa.Table:
        assert self.keys is not None
        return pa.Table.from_arrays(
            [*self.keys.columns, *self.flags],
            names=[*self.keys.column_names, *(f"s{i}" for i in range(1, len(self.flags) + 1))],
        )


def _copy_to(query: exp.Query, path: Path) -> exp.Copy:
    """``COPY`` of the rows of ``query`` to the Parquet file ``path``, written like every
    published file. DuckDB writes a column its statistics say holds no null as required; the
    other engines' files have every column optional, and so does this one (a ``CASE`` on
    each column hides what DuckDB knows)."""
    names = [c.alias_or_name for c in query.selects]
    optional = exp.select(
        *(
            exp.alias_(
                exp.If(
                    this=exp.Is(this=exp.column(c), expression=exp.Null()),
                    true=exp.Null(),
                    false=exp.column(c),
                ),
                c,
            )
            for c in names
        ),
        copy=False,
    ).from_(query.subquery("written", copy=False), copy=False)
    options = {
        "FORMAT": exp.var("parquet"),
        "COMPRESSION": exp.var("zstd"),
        "ROW_GROUP_SIZE": exp.Literal.number(ROW_GROUP),
    }
    return exp.Copy(
        this=optional.subquery(copy=False),
        kind=False,  # TO
        files=[exp.Literal.string(str(path))],
        params=[exp.CopyParameter(this=exp.var(k), expression=v) for k, v in options.items()],
    )


class DuckDBEngine:
    """One in-process DuckDB connection with a view per input table."""

    name = "duckdb"

    def __init__(
        self,
        inputs: InputPaths,
        *,
        threads: int | None = None,
        memory_limit: str | None = None,
        temp_directory: Path | None = None,
    ) -> None:
        self.con = duckdb.connect()
        # Timestamps are compared as UTC instants; casts to DATE take the UTC calendar day.
        self.con.execute("SET TimeZone = 'UTC'")
        # The run reports its own progress (and JSON logs off a terminal).
        self.con.execute("SET enable_progress_bar = false")
        if threads:
            self.con.execute(f"SET threads = {int(threads)}")
        if memory_limit:
            self.con.execute("SET memory_limit = ?", [memory_limit])
        self.memory_limit = _setting(self.con, "memory_limit")
        self.memory_bytes = _bytes(self.memory_limit)
        # Spilled blocks go to the run's own folder (removed with it), not to ./.tmp.
        if temp_directory:
            self.con.execute("SET temp_directory = ?", [str(temp_directory)])
        for table, path in inputs.items():
            self.con.read_parquet(str(path)).to_view(table)
        self.rollups_ready = False

    def _fetch(self, query: exp.Query) -> pa.Table:
        return self.con.sql(render(query, "duckdb", consume=True)).to_arrow_table()

    @contextmanager
    def _memory(self) -> Iterator[None]:
        """DuckDB running out of memory is a limit of the machine, not a bug: say so."""
        try:
            yield
        except duckdb.OutOfMemoryException as error:
            raise RunError(
                f"DuckDB ran out of memory (limit {self.memory_limit}): "
                + str(error).splitlines()[0],
                "raise --memory-limit if the machine has more memory, run fewer segments at "
                "once, or use --engine spark for data that outgrows one machine",
            ) from None

    def timeline(self, clock: ir.Clock, daily_path: Path) -> pa.Table:
        with self._memory():
            return self._timeline(clock, daily_path)

    def _timeline(self, clock: ir.Clock, daily_path: Path) -> pa.Table:
        # Both tables read the same events (direct, and through the people links): once.
        events = render(events_query("organization", clock), "duckdb", consume=True)
        self.con.execute(f"CREATE OR REPLACE TEMP TABLE {EVENTS_TABLE} AS {events}")
        rollups = self._fetch(
            ordered(rollups_query(clock, EVENTS_TABLE), ROLLUPS_SCHEMA.names, ROLLUPS_ORDER)
        )
        # Segments reading rollup columns join this table instead of aggregating again.
        self.con.register(ROLLUPS_TABLE, rollups)
        self.rollups_ready = True
        # The rollups hold every organization, in order: the daily rows sort on its rank.
        ranks = rollups.select(["property_id", "org_id"]).append_column(
            "rank", pa.array(np.arange(rollups.num_rows, dtype=np.int64))
        )
        self.con.register(ORG_RANKS_TABLE, ranks)
        daily = ordered_by_rank(
            daily_query(clock, EVENTS_TABLE),
            DAILY_SCHEMA.names,
            ORG_RANKS_TABLE,
            ["property_id", "org_id"],
            DAILY_ORDER[2:],
        )
        # Written by DuckDB as it sorts (and spills), never held whole in Python.
        self.con.execute(render(_copy_to(daily, daily_path), "duckdb", consume=True))
        self.con.unregister(ORG_RANKS_TABLE)
        # The inner join above would drop the events of an organization without a rank.
        counts = self.con.execute(
            f"SELECT (SELECT count(*) FROM {EVENTS_TABLE}), "
            "(SELECT coalesce(sum(events), 0) FROM read_parquet(?))",
            [str(daily_path)],
        ).fetchall()
        events_seen, counted = counts[0]
        if counted != events_seen:
            raise AssertionError(f"timeline_daily counts {counted} of {events_seen} events")
        self.con.execute(f"DROP TABLE {EVENTS_TABLE}")
        return published(rollups, ROLLUPS_SCHEMA)

    def flags(
        self, segments: Sequence[ir.Segment], custom_types: CustomTypes, clock: ir.Clock
    ) -> Flags:
        with self._memory():
            return Flags(
                {
                    entity: self._flags(entity, group, custom_types, clock)
                    for entity, group in by_entity(segments).items()
                }
            )

    def _flags(
        self,
        entity: str,
        segments: Sequence[ir.Segment],
        custom_types: CustomTypes,
        clock: ir.Clock,
    ) -> tuple[list[str], pa.Table]:
        """One entity's segment ids and flags (a column per id, in that order), computed by
        as many queries as it takes for the counts that each query aggregates per entity to
        fit in DuckDB's memory (see :func:`groups`)."""
        table, _ = ENTITY_TABLE[entity]
        rows = self.con.execute(f"SELECT count(*) FROM {table}").fetchall()[0][0]
        packed = groups(segments, rows, self.memory_bytes)
        flags = _SideBySide()
        for group in packed:
            with collector_paused():
                query = compile_flags(
                    entity,
                    group,
                    custom_types,
                    clock,
                    rollups_table=ROLLUPS_TABLE if self.rollups_ready else None,
                )
                sql = query.sql("duckdb", consume=True)
            flags.add(self.con.sql(sql).to_arrow_table())
        return [s.id for group in packed for s in group], flags.table()

    def close(self) -> None:
        self.con.close()

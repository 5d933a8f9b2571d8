"""The DuckDB engine: runs the compiled SQL over the validated Parquet inputs."""

from __future__ import annotations

import weakref
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Final

import duckdb
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
from pipeline.compile.steps import Shared, Step, steps
from pipeline.engines.base import (
    CustomTypes,
    Flags,
    InputPaths,
    KeyPasses,
    expect_every_entity_once,
    own_flags,
)
from pipeline.errors import RunError, machine_error
from pipeline.inputs.schema import ENTITY_TABLE
from pipeline.language import ir
from pipeline.outputs import DAILY, ROLLUPS
from pipeline.parquet import ROW_GROUP, glob_literal

ROLLUPS_TABLE = ROLLUPS.name
EVENTS_TABLE = "timeline_events"
ORG_RANKS_TABLE = "timeline_org_ranks"
#: The Arrow table of a step's flags while a later step reads its shared filters.
SHARED_TABLE = "shared_filters"


def _setting(con: duckdb.DuckDBPyConnection, name: str) -> str:
    rows = con.execute("SELECT current_setting(?)", [name]).fetchall()
    return str(rows[0][0])


def check_memory_limit(limit: str) -> str:
    """``limit`` as DuckDB reads it (``6GB`` -> ``5.5 GiB``); RunError if it is not a size."""
    if limit.strip().startswith("-"):
        # DuckDB reads a negative size as no limit at all.
        raise RunError(
            f"--memory-limit {limit!r}: a size cannot be negative",
            "give a size such as 6GB or 500MB, or a share of the machine's memory such as 50%",
        )
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


_UNITS: Final = {"bytes": 1, "KiB": 1 << 10, "MiB": 1 << 20, "GiB": 1 << 30, "TiB": 1 << 40}


def size_in_bytes(size: str) -> int:
    """A DuckDB size setting (``3.7 GiB``) in bytes; no limit if it is not one."""
    number, _, unit = size.partition(" ")
    try:
        return int(float(number) * _UNITS[unit])
    except (ValueError, KeyError):
        return 1 << 62


_SQL_TYPES: Final = {
    pa.string(): "VARCHAR",
    pa.int64(): "BIGINT",
    pa.date32(): "DATE",
    pa.timestamp("us", tz="UTC"): "TIMESTAMPTZ",
}


def _copy_to(query: exp.Query, path: Path, schema: pa.Schema) -> exp.Copy:
    """``COPY`` of the rows of ``query`` to the Parquet file ``path``, written like every
    published file: in ``schema``'s names and types. DuckDB writes a column its statistics
    say holds no null as required; the other engines' files have every column optional, and
    so does this one (a ``CASE`` on each column hides what DuckDB knows)."""
    optional = exp.select(
        *(
            exp.alias_(
                exp.cast(
                    exp.If(
                        this=exp.Is(this=exp.column(f.name), expression=exp.Null()),
                        true=exp.Null(),
                        false=exp.column(f.name),
                    ),
                    _SQL_TYPES[f.type],
                    dialect="duckdb",
                ),
                f.name,
            )
            for f in schema
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


#: The engines with an open connection, for :func:`interrupt_all`.
_OPEN: Final[weakref.WeakSet[DuckDBEngine]] = weakref.WeakSet()


def interrupt_all() -> None:
    """Interrupts the query each open engine runs (a SIGTERM): it raises
    ``duckdb.InterruptException``, which the run treats as Ctrl-C."""
    for engine in list(_OPEN):
        engine.con.interrupt()


class DuckDBEngine(KeyPasses):
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
        _OPEN.add(self)
        # Timestamps are compared as UTC instants; casts to DATE take the UTC calendar day.
        self.con.execute("SET TimeZone = 'UTC'")
        # The run reports its own progress (and JSON logs off a terminal).
        self.con.execute("SET enable_progress_bar = false")
        if threads:
            self.con.execute(f"SET threads = {int(threads)}")
        if memory_limit:
            self.con.execute("SET memory_limit = ?", [memory_limit])
        self.memory_limit = _setting(self.con, "memory_limit")
        self.memory_bytes = size_in_bytes(self.memory_limit)
        # Spilled blocks go to the run's own folder (removed with it), not to ./.tmp.
        if temp_directory:
            self.con.execute("SET temp_directory = ?", [str(temp_directory)])
        for table, path in inputs.items():
            self.con.read_parquet(glob_literal(str(path))).to_view(table)
        self.rollups_ready = False
        #: Whether the timeline phase's events (``EVENTS_TABLE``) are still held.
        self.events_ready = False
        self.max_rows_per_pass: int | None = None

    def _fetch(self, query: exp.Query) -> pa.Table:
        return self.con.sql(render(query, "duckdb", consume=True)).to_arrow_table()

    @contextmanager
    def _memory(self) -> Iterator[None]:
        """DuckDB running out of memory is a limit of the machine, not a bug: say so. A query
        Ctrl-C interrupted is an interruption (exit 130), as anywhere else in the run. A full
        disk or a read-only folder met while DuckDB writes (the timeline files, what it
        spills) is the machine's too: the :class:`OSError` the CLI reports, naming the file
        DuckDB names."""
        try:
            yield
        except duckdb.InterruptException:
            raise KeyboardInterrupt from None
        except duckdb.IOException as error:
            fault = machine_error(error)
            if fault is None:
                raise
            raise fault from None
        except RuntimeError as error:  # a signal seen while DuckDB fetched a result
            if "Query interrupted" not in str(error):
                raise
            raise KeyboardInterrupt from None
        except duckdb.OutOfMemoryException as error:
            reason = str(error).splitlines()[0]
            if "max_temp_directory_size" in str(error):
                # What DuckDB may spill is capped by the free space of the disk it spills to.
                spill = _setting(self.con, "temp_directory")
                raise RunError(
                    f"DuckDB ran out of memory and of disk space to spill to ({spill}): " + reason,
                    f"free space on the disk of {spill} (or use --out on a larger one), or "
                    "raise --memory-limit if the machine has more memory",
                ) from None
            raise RunError(
                f"DuckDB ran out of memory (limit {self.memory_limit}): {reason}",
                "raise --memory-limit if the machine has more memory, run fewer segments at "
                "once, or use --engine spark for data that outgrows one machine",
            ) from None

    def timeline(self, clock: ir.Clock, daily_path: Path, rollups_path: Path) -> None:
        with self._memory():
            self._timeline(clock, daily_path, rollups_path)

    def _timeline(self, clock: ir.Clock, daily_path: Path, rollups_path: Path) -> None:
        # Both tables read the same events (direct, and through the people links): once.
        events = render(events_query("organization", clock), "duckdb", consume=True)
        self.con.execute(f"CREATE OR REPLACE TEMP TABLE {EVENTS_TABLE} AS {events}")
        rollups = ordered(rollups_query(clock, EVENTS_TABLE), ROLLUPS.schema.names, ROLLUPS.order)
        # Written by DuckDB, never held in Python (~2 GB at 10M organizations).
        self.con.execute(
            render(_copy_to(rollups, rollups_path, ROLLUPS.schema), "duckdb", consume=True)
        )
        # Segments reading rollup columns join this file instead of aggregating again.
        self.con.read_parquet(glob_literal(str(rollups_path))).to_view(ROLLUPS_TABLE)
        self.rollups_ready = True
        # The rollups hold every organization, in order: the daily rows sort on its rank.
        self.con.execute(
            f"CREATE OR REPLACE TEMP TABLE {ORG_RANKS_TABLE} AS "
            "SELECT property_id, org_id, file_row_number AS rank "
            "FROM read_parquet(?, file_row_number = true)",
            [glob_literal(str(rollups_path))],
        )
        daily = ordered_by_rank(
            daily_query(clock, EVENTS_TABLE),
            DAILY.schema.names,
            ORG_RANKS_TABLE,
            ["property_id", "org_id"],
            DAILY.order[2:],
        )
        # Written by DuckDB as it sorts (and spills), never held whole in Python.
        self.con.execute(render(_copy_to(daily, daily_path, DAILY.schema), "duckdb", consume=True))
        self.con.execute(f"DROP TABLE {ORG_RANKS_TABLE}")
        # The inner join above would drop the events of an organization without a rank.
        counts = self.con.execute(
            f"SELECT (SELECT count(*) FROM {EVENTS_TABLE}), "
            "(SELECT coalesce(sum(events), 0) FROM read_parquet(?))",
            [glob_literal(str(daily_path))],
        ).fetchall()
        events_seen, counted = counts[0]
        if counted != events_seen:
            raise AssertionError(f"timeline_daily counts {counted} of {events_seen} events")
        # Kept for the organizations' flags query (see :meth:`_flags`).
        self.events_ready = True

    def _drop_events(self) -> None:
        if self.events_ready:
            self.con.execute(f"DROP TABLE {EVENTS_TABLE}")
            self.events_ready = False

    def flags(
        self, segments: Sequence[ir.Segment], custom_types: CustomTypes, clock: ir.Clock
    ) -> Flags:
        """Each step's flags (``compile.steps``); a step's shared filters are read by the
        next from the Arrow table the first returned (registered, not copied)."""
        entities: dict[str, tuple[Sequence[str], pa.Table]] = {}
        shared: Shared[str] | None = None
        try:
            with self._memory():
                for step in steps(segments):
                    table = self._flags(step, custom_types, clock, shared)
                    if step.shares:
                        self.con.register(SHARED_TABLE, table)
                        shared = Shared(step.entity, step.shares, SHARED_TABLE)
                    if step.segments:
                        entities[step.entity] = own_flags(step, table)
        finally:
            if shared is not None:
                self.con.unregister(SHARED_TABLE)
            self._drop_events()
        return Flags(entities)

    def _count(self, table: str) -> int:
        return int(self.con.execute(f"SELECT count(*) FROM {table}").fetchall()[0][0])

    def _per_property(self, table: str) -> dict[str, int]:
        return dict(
            self.con.execute(f"SELECT property_id, count(*) FROM {table} GROUP BY ALL").fetchall()
        )

    def _every_nth(
        self, table: str, id_column: str, split: Mapping[str, int]
    ) -> list[tuple[str, str]]:
        rows = self.con.execute(
            f"SELECT property_id, {id_column} FROM ("
            f"  SELECT e.property_id, e.{id_column}, s.step, row_number() OVER ("
            f"    PARTITION BY e.property_id ORDER BY e.{id_column}) AS n"
            f"  FROM {table} AS e JOIN ("
            "    SELECT unnest(?::VARCHAR[]) AS property_id, unnest(?::BIGINT[]) AS step"
            "  ) AS s ON e.property_id = s.property_id"
            ") WHERE n > 1 AND (n - 1) % step = 0 ORDER BY property_id, n",
            [list(split), list(split.values())],
        ).fetchall()
        return [(str(p), str(i)) for p, i in rows]

    def _flags(
        self, step: Step, custom_types: CustomTypes, clock: ir.Clock, shared: Shared[str] | None
    ) -> pa.Table:
        """One step's flags: a column per segment, in order, then its shared filters.

        All segments are computed by one query, which reads every column once and evaluates
        each distinct condition once. Its hash tables grow with the entities and with the
        distinct counts (at 10M organizations and 200 segments the single query ran out of
        memory); when they would not fit in DuckDB's memory, the query runs once per range of
        entity keys (see :meth:`rows_per_pass`), each pass reading only the rows of its
        entities and of the entities linked to them. The ranges follow the published order,
        so their flags are put one after the other, in order.
        """
        entity = step.entity
        parts = []
        ranges = self._ranges(entity, self.rows_per_pass(entity, step.segments))
        if len(ranges) > 1:
            # Passes attribute only their own events; the table of all would hold memory.
            self._drop_events()
        for within in ranges:
            with collector_paused():
                query = compile_flags(
                    entity,
                    step.segments,
                    custom_types,
                    clock,
                    rollups_table=ROLLUPS_TABLE if self.rollups_ready else None,
                    within=within,
                    shares=step.shares,
                    shared=shared if step.reads else None,
                    events_table=EVENTS_TABLE if self.events_ready else None,
                )
                sql = query.sql("duckdb", consume=True)
            parts.append(self.con.sql(sql).to_arrow_table())
        expect_every_entity_once(parts, self._count(ENTITY_TABLE[entity][0]), entity)
        return pa.concat_tables(parts)

    def close(self) -> None:
        _OPEN.discard(self)
        self.con.close()

"""Reading what a segment reads, for display: an entity's attributes as stored and as
compared, the events a timeline condition counts, the entities linked to it.

Always read with DuckDB over the validated inputs, whichever engine gave the verdicts: the
compared values are the same in every engine (the differential tests hold them to it).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
from sqlglot import exp

from pipeline.compile.dialects import render
from pipeline.compile.sql_values import (
    STORED,
    activity_count_query,
    activity_query,
    values_query,
)
from pipeline.compile.within import LINKS, KeyRange
from pipeline.inputs.schema import ENTITY_TABLE
from pipeline.language import ir
from pipeline.parquet import glob_literal


@dataclass(frozen=True, slots=True)
class Shown:
    """One attribute of one entity: as stored in the inputs and as the segment compares it."""

    stored: object
    compared: object


def one(property_id: str, entity_id: str) -> KeyRange:
    """The key range holding exactly this entity (ids sort by code point; ``\\x01`` is the
    first character after every id's end but NUL)."""
    return KeyRange((property_id,), entity_id, entity_id + "\x01")


def span(property_id: str, first: str, last: str) -> KeyRange:
    return KeyRange((property_id,), first, last + "\x01")


class Reader:
    """A DuckDB connection with a view per validated input table."""

    def __init__(self, tables: Mapping[str, Path]) -> None:
        self.con = duckdb.connect()
        self.con.execute("SET TimeZone = 'UTC'")
        self.con.execute("SET enable_progress_bar = false")
        for table, path in tables.items():
            self.con.read_parquet(glob_literal(str(path))).to_view(table)

    def close(self) -> None:
        self.con.close()

    def rows(self, query: exp.Expr | str, params: Sequence[object] = ()) -> list[dict[str, Any]]:
        sql = query if isinstance(query, str) else render(query, "duckdb")
        cursor = self.con.execute(sql, list(params))
        names = [d[0] for d in cursor.description or ()]
        return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]

    def properties_of(self, entity: str, entity_id: str) -> list[str]:
        """The properties that hold an entity with this id."""
        table, id_column = ENTITY_TABLE[entity]
        found = self.rows(
            f"SELECT DISTINCT property_id FROM {table} WHERE {id_column} = ? ORDER BY 1",
            [entity_id],
        )
        return [str(r["property_id"]) for r in found]

    def attributes(
        self,
        entity: str,
        attrs: Sequence[ir.Attr],
        custom_types: Mapping[tuple[str, str], str],
        clock: ir.Clock,
        within: KeyRange,
    ) -> dict[tuple[str, str], dict[str, Shown]]:
        """Each entity ``within`` holds: each attribute, stored and compared."""
        query = values_query(entity, attrs, custom_types, clock, within)
        found: dict[tuple[str, str], dict[str, Shown]] = {}
        for row in self.rows(query):
            key = (str(row["property_id"]), str(row["entity_id"]))
            found[key] = {
                a.dsl_name: Shown(row[STORED + a.dsl_name], row[a.dsl_name]) for a in attrs
            }
        return found

    def events(
        self, entity: str, activity: ir.Activity, clock: ir.Clock, within: KeyRange, limit: int
    ) -> tuple[int, list[tuple[str, dt.datetime]]]:
        """How many events the condition counts for the entity, and the newest of them."""
        counted = self.rows(activity_count_query(entity, activity, clock, within))
        listed = self.rows(activity_query(entity, activity, clock, within, limit))
        total = int(counted[0]["n"]) if counted else 0
        return total, [(str(r["kind"]), r["occurred_at"]) for r in listed]

    def linked(self, entity: str, property_id: str, entity_id: str) -> list[str]:
        """The ids of the entities of the other kind linked to this one, sorted."""
        own, other = (
            ("org_id", "person_id") if entity == "organization" else ("person_id", "org_id")
        )
        found = self.rows(
            f"SELECT DISTINCT {other} AS id FROM {LINKS} "
            f"WHERE property_id = ? AND {own} = ? ORDER BY 1",
            [property_id, entity_id],
        )
        return [str(r["id"]) for r in found]


@contextmanager
def reader(tables: Mapping[str, Path]) -> Iterator[Reader]:
    opened = Reader(tables)
    try:
        yield opened
    finally:
        opened.close()

"""Membership over time: SCD-2 history, entered/exited changes and sizes, by diffing runs.

Every derived table is a function of the sequence of published runs, and the history table
alone encodes that sequence: the members at instant ``t`` are the stays with
``valid_from <= t`` and (``valid_to`` null or ``valid_to > t``). That is what makes a rebuild
from an earlier ``as_of`` exact: cut the history at that instant, then diff as usual.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Final

import polars as pl
import pyarrow as pa

KEY: Final = ["property_id", "segment_id", "entity", "entity_id"]
#: The published order of the history: membership's (segment, property, entity id).
HISTORY_ORDER: Final = ["segment_id", "property_id", "entity", "entity_id", "valid_from"]
UTC: Final = pl.Datetime("us", "UTC")

HISTORY: Final = pa.schema(
    [
        ("property_id", pa.string()),
        ("segment_id", pa.string()),
        ("entity", pa.string()),
        ("entity_id", pa.string()),
        ("valid_from", pa.timestamp("us", tz="UTC")),
        ("valid_to", pa.timestamp("us", tz="UTC")),
    ]
)
CHANGES: Final = pa.schema(
    [
        ("run_id", pa.string()),
        ("as_of", pa.timestamp("us", tz="UTC")),
        ("property_id", pa.string()),
        ("segment_id", pa.string()),
        ("entity", pa.string()),
        ("entity_id", pa.string()),
        ("change", pa.string()),
    ]
)
SIZES: Final = pa.schema(
    [
        ("run_id", pa.string()),
        ("as_of", pa.timestamp("us", tz="UTC")),
        ("property_id", pa.string()),
        ("segment_id", pa.string()),
        ("members", pa.int64()),
        ("entered", pa.int64()),
        ("exited", pa.int64()),
    ]
)


@dataclass(frozen=True, slots=True)
class Published:
    """The history-bearing tables of the current snapshot (empty on a first run)."""

    history: pl.DataFrame
    changes: pl.DataFrame
    sizes: pl.DataFrame

    @classmethod
    def empty(cls) -> Published:
        return cls(
            pl.from_arrow(HISTORY.empty_table()),  # type: ignore[arg-type]
            pl.from_arrow(CHANGES.empty_table()),  # type: ignore[arg-type]
            pl.from_arrow(SIZES.empty_table()),  # type: ignore[arg-type]
        )

    def cut(self, as_of: dt.datetime) -> Published:
        """The state just before ``as_of``: every run at or after it is undone."""
        at = pl.lit(as_of, dtype=UTC)
        history = self.history.filter(pl.col("valid_from") < at).with_columns(
            pl.when(pl.col("valid_to") >= at)
            .then(pl.lit(None, dtype=UTC))
            .otherwise(pl.col("valid_to"))
            .alias("valid_to")
        )
        return Published(
            history,
            self.changes.filter(pl.col("as_of") < at),
            self.sizes.filter(pl.col("as_of") < at),
        )


@dataclass(frozen=True, slots=True)
class Diffed:
    history: pa.Table
    changes: pa.Table
    sizes: pa.Table
    entered: int
    exited: int


def diff(
    previous: Published,
    members: pa.Table,
    run_id: str,
    as_of: dt.datetime,
    scopes: Iterable[tuple[str, str]],
) -> Diffed:
    """New history, changes and sizes after a run whose current members are ``members``.

    ``members`` comes in membership's published order (segment, property, entity id), the
    order the history and the changes are published in too. ``scopes`` lists every
    (segment_id, property_id) the run evaluated, so that a segment with no members still gets
    a size row of 0. Segments that disappeared close their open stays.
    """
    current = _frame(members.select(KEY))
    open_stays = previous.history.filter(pl.col("valid_to").is_null()).select(KEY)
    if open_stays.height:
        # Joins keep the left side's order: every part below stays in membership order.
        entered = current.join(open_stays, on=KEY, how="anti", maintain_order="left")
        exited = open_stays.join(current, on=KEY, how="anti", maintain_order="left")
    else:  # a first run (or everything had exited): no join over the whole membership
        entered, exited = current, open_stays
    sizes = _sizes(previous.sizes, current, entered, exited, run_id, as_of, scopes)

    if previous.history.height == 0 and previous.changes.height == 0:
        # A first run: the history and the changes are the membership with stamps, in its
        # order already; they are built from the engine's table, with no conversion.
        history, changes = _first(members, run_id, as_of)
    else:
        history = _arrow(_history(previous.history, entered, exited, as_of), HISTORY)
        changes = _arrow(_changes(previous.changes, entered, exited, run_id, as_of), CHANGES)
    return Diffed(history, changes, _arrow(sizes, SIZES), entered.height, exited.height)


def _history(
    history: pl.DataFrame, entered: pl.DataFrame, exited: pl.DataFrame, as_of: dt.datetime
) -> pl.DataFrame:
    """The stays of ``exited`` closed at ``as_of``, and a new open stay per ``entered`` row."""
    at = pl.lit(as_of, dtype=UTC)
    if exited.height:
        history = history.join(
            exited.with_columns(pl.lit(True).alias("__exit")),
            on=KEY,
            how="left",
            maintain_order="left",
        ).with_columns(
            pl.when(pl.col("__exit") & pl.col("valid_to").is_null())
            .then(at)
            .otherwise(pl.col("valid_to"))
            .alias("valid_to")
        )
    opened = entered.with_columns(at.alias("valid_from"), pl.lit(None, dtype=UTC).alias("valid_to"))
    return pl.concat([history.select(HISTORY.names), opened.select(HISTORY.names)]).sort(
        HISTORY_ORDER
    )


def _changes(
    changes: pl.DataFrame,
    entered: pl.DataFrame,
    exited: pl.DataFrame,
    run_id: str,
    as_of: dt.datetime,
) -> pl.DataFrame:
    """The earlier changes, then this run's entries and exits."""
    now = pl.concat(
        [
            entered.with_columns(pl.lit("entered").alias("change")),
            exited.with_columns(pl.lit("exited").alias("change")),
        ]
    ).with_columns(pl.lit(run_id).alias("run_id"), pl.lit(as_of, dtype=UTC).alias("as_of"))
    if entered.height and exited.height:  # each part is in order, their concatenation is not
        now = now.sort("segment_id", "property_id", "entity_id")
    # Every earlier change is older than this run (a rebuild cut the later ones) and was
    # published in order, so this run's changes go after them.
    return pl.concat([changes, now.select(CHANGES.names)])


def _first(members: pa.Table, run_id: str, as_of: dt.datetime) -> tuple[pa.Table, pa.Table]:
    """History and changes of a first run: every member entered at ``as_of``."""
    rows = members.num_rows
    stamp = pa.repeat(pa.scalar(as_of, HISTORY.field("valid_from").type), rows)
    keys = members.select(KEY)
    history = keys.append_column("valid_from", stamp).append_column(
        "valid_to", pa.nulls(rows, stamp.type)
    )
    changes = (
        keys.append_column("run_id", pa.repeat(pa.scalar(run_id, pa.string()), rows))
        .append_column("as_of", stamp)
        .append_column("change", pa.repeat(pa.scalar("entered", pa.string()), rows))
    )
    return (
        history.select(HISTORY.names).cast(HISTORY),
        changes.select(CHANGES.names).cast(CHANGES),
    )


def _sizes(
    sizes: pl.DataFrame,
    current: pl.DataFrame,
    entered: pl.DataFrame,
    exited: pl.DataFrame,
    run_id: str,
    as_of: dt.datetime,
    scopes: Iterable[tuple[str, str]],
) -> pl.DataFrame:
    """The earlier sizes, and a row per evaluated or emptied (segment, property) of this run."""

    def count(frame: pl.DataFrame, name: str) -> pl.DataFrame:
        return frame.group_by("segment_id", "property_id").agg(pl.len().cast(pl.Int64).alias(name))

    scope_rows = list(scopes)
    evaluated = pl.DataFrame(
        {"segment_id": [s for s, _ in scope_rows], "property_id": [p for _, p in scope_rows]},
        schema={"segment_id": pl.String, "property_id": pl.String},
    )
    touched = pl.concat([evaluated, exited.select("segment_id", "property_id")]).unique()
    members = count(current, "members")
    # On a first run every member entered: count once.
    entries = (
        members.rename({"members": "entered"}) if entered is current else count(entered, "entered")
    )
    keys = ["segment_id", "property_id"]
    now = (
        touched.join(members, on=keys, how="left")
        .join(entries, on=keys, how="left")
        .join(count(exited, "exited"), on=keys, how="left")
        .with_columns(
            pl.col("members", "entered", "exited").fill_null(0),
            pl.lit(run_id).alias("run_id"),
            pl.lit(as_of, dtype=UTC).alias("as_of"),
        )
    )
    return pl.concat([sizes, now.select(SIZES.names)]).sort("as_of", "segment_id", "property_id")


def _frame(table: pa.Table) -> pl.DataFrame:
    frame = pl.from_arrow(table)
    assert isinstance(frame, pl.DataFrame)
    return frame


def _arrow(frame: pl.DataFrame, schema: pa.Schema) -> pa.Table:
    """``frame`` in the published schema (Polars hands over large strings; we publish strings)."""
    return frame.to_arrow().cast(schema)


def published(
    history: pa.Table | None, changes: pa.Table | None, sizes: pa.Table | None
) -> Published:
    """Published tables from the current snapshot (None where a table does not exist yet)."""
    empty = Published.empty()

    def frame(table: pa.Table | None, schema: pa.Schema, default: pl.DataFrame) -> pl.DataFrame:
        return default if table is None else _frame(table.select(schema.names).cast(schema))

    return Published(
        frame(history, HISTORY, empty.history),
        frame(changes, CHANGES, empty.changes),
        frame(sizes, SIZES, empty.sizes),
    )

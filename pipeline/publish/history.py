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

    ``scopes`` lists every (segment_id, property_id) the run evaluated, so that a segment with
    no members still gets a size row of 0. Segments that disappeared close their open stays.
    """
    at = pl.lit(as_of, dtype=UTC)
    current = pl.from_arrow(members.select(KEY))
    assert isinstance(current, pl.DataFrame)
    open_stays = previous.history.filter(pl.col("valid_to").is_null()).select(KEY)
    if open_stays.height:
        entered = current.join(open_stays, on=KEY, how="anti")
        exited = open_stays.join(current, on=KEY, how="anti")
    else:  # a first run (or everything had exited): no join over the whole membership
        entered, exited = current, open_stays

    closing = previous.history
    if exited.height:
        closing = closing.join(
            exited.with_columns(pl.lit(True).alias("__exit")), on=KEY, how="left"
        ).with_columns(
            pl.when(pl.col("__exit") & pl.col("valid_to").is_null())
            .then(at)
            .otherwise(pl.col("valid_to"))
            .alias("valid_to")
        )
    history = pl.concat(
        [
            closing.select(HISTORY.names),
            entered.with_columns(at.alias("valid_from"), pl.lit(None, dtype=UTC).alias("valid_to")),
        ]
    ).sort(HISTORY_ORDER)  # cheap: both parts come sorted (membership's order)

    stamp = [pl.lit(run_id).alias("run_id"), at.alias("as_of")]
    changes_now = pl.concat(
        [
            entered.with_columns(pl.lit("entered").alias("change")),
            exited.with_columns(pl.lit("exited").alias("change")),
        ]
    ).with_columns(stamp)
    changes = pl.concat([previous.changes, changes_now.select(CHANGES.names)])

    def count(frame: pl.DataFrame, name: str) -> pl.DataFrame:
        return frame.group_by("segment_id", "property_id").agg(pl.len().cast(pl.Int64).alias(name))

    scope_rows = list(scopes)
    evaluated = pl.DataFrame(
        {"segment_id": [s for s, _ in scope_rows], "property_id": [p for _, p in scope_rows]},
        schema={"segment_id": pl.String, "property_id": pl.String},
    )
    touched = pl.concat([evaluated, exited.select("segment_id", "property_id")]).unique()
    sizes_now = (
        touched.join(count(current, "members"), on=["segment_id", "property_id"], how="left")
        .join(count(entered, "entered"), on=["segment_id", "property_id"], how="left")
        .join(count(exited, "exited"), on=["segment_id", "property_id"], how="left")
        .with_columns(pl.col("members", "entered", "exited").fill_null(0), *stamp)
    )
    sizes = pl.concat([previous.sizes, sizes_now.select(SIZES.names)]).sort(
        "as_of", "segment_id", "property_id"
    )
    return Diffed(
        history.to_arrow().cast(HISTORY),
        changes.sort("as_of", "segment_id", "property_id", "entity_id").to_arrow().cast(CHANGES),
        sizes.to_arrow().cast(SIZES),
        entered.height,
        exited.height,
    )


def published(
    history: pa.Table | None, changes: pa.Table | None, sizes: pa.Table | None
) -> Published:
    """Published tables from the current snapshot (None where a table does not exist yet)."""
    empty = Published.empty()

    def frame(table: pa.Table | None, schema: pa.Schema, default: pl.DataFrame) -> pl.DataFrame:
        if table is None:
            return default
        result = pl.from_arrow(table.select(schema.names).cast(schema))
        assert isinstance(result, pl.DataFrame)
        return result

    return Published(
        frame(history, HISTORY, empty.history),
        frame(changes, CHANGES, empty.changes),
        frame(sizes, SIZES, empty.sizes),
    )

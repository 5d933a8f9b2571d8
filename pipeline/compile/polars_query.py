"""Assembling lazy Polars queries of the same shape as ``sql_query.py``.

events -> activity / related / rollups -> base (normalized once) -> preds (each distinct
predicate once, ``fill_null(False)``) -> wide (one boolean per segment) -> unpivot to long
membership. Each entity is one lazy query, collected once.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Final, assert_never

import polars as pl

from pipeline.compile.polars import UTC_DATETIME, leaf_expr, lit, normalized, range_expr
from pipeline.compile.sql import column_name
from pipeline.compile.steps import Shared
from pipeline.compile.within import KeyRange, LinkedTo, Within, linked
from pipeline.inputs.schema import ENTITY_TABLE, VALUE_COLUMN
from pipeline.language import ir

LINKS: Final = "organization_people"
KEY: Final = ["property_id", "entity_id"]


@dataclass(frozen=True, slots=True)
class _Context:
    frames: Mapping[str, pl.LazyFrame]
    custom_types: Mapping[tuple[str, str], str]
    clock: ir.Clock | None
    rollups: pl.LazyFrame | None
    #: The nested filters an earlier query computed (see ``compile.steps``).
    shared: Shared[pl.LazyFrame] | None = None

    def require_clock(self) -> ir.Clock:
        if self.clock is None:
            raise ValueError("timeline conditions need the run's clock")
        return self.clock


def restricted(
    frames: Mapping[str, pl.LazyFrame], frame: pl.LazyFrame, within: Within | None, id_column: str
) -> pl.LazyFrame:
    """The rows of ``frame`` whose ``property_id`` and ``id_column`` are the keys of an
    entity ``within`` holds (as ``sql_timeline.holds``)."""
    match within:
        case None:
            return frame
        case KeyRange(properties=properties, low=low, high=high):
            keep = pl.col("property_id").is_in(list(properties))
            if low is not None:
                keep &= pl.col(id_column) >= low
            if high is not None:
                keep &= pl.col(id_column) < high
            return frame.filter(keep)
        case LinkedTo(parent=parent, own=own, other=other):
            links = restricted(frames, frames[LINKS], parent, own)
            keys = links.select("property_id", pl.col(other).alias(id_column)).unique()
            return frame.join(keys, on=["property_id", id_column], how="semi")
        case _:
            assert_never(within)


def events_frame(
    entity: str,
    frames: Mapping[str, pl.LazyFrame],
    clock: ir.Clock,
    within: Within | None = None,
) -> pl.LazyFrame:
    """Events attributed to each entity (``entity_id``), none after ``as_of``; only to the
    entities ``within`` holds, if given (see SQL)."""
    timeline = frames["timeline"].filter(pl.col("occurred_at") <= lit(clock.as_of))
    columns = ["property_id", "entity_id", "kind", "occurred_at"]
    if entity == "person":
        return restricted(
            frames, timeline.filter(pl.col("person_id").is_not_null()), within, "person_id"
        ).select("property_id", pl.col("person_id").alias("entity_id"), "kind", "occurred_at")
    direct = restricted(
        frames, timeline.filter(pl.col("org_id").is_not_null()), within, "org_id"
    ).select("property_id", pl.col("org_id").alias("entity_id"), "kind", "occurred_at")
    links = restricted(frames, frames[LINKS], within, "org_id")
    via_people = (
        timeline.filter(pl.col("org_id").is_null())
        .join(
            links.select("property_id", "person_id", pl.col("org_id").alias("entity_id")),
            on=["property_id", "person_id"],
            how="inner",
        )
        .select(columns)
    )
    return pl.concat([direct, via_people], how="vertical")


def _window_count(
    kinds: Sequence[str] | None, since: dt.datetime | None, until: tuple[dt.datetime, bool] | None
) -> pl.Expr:
    parts: list[pl.Expr] = []
    if kinds is not None:
        parts.append(pl.col("kind").is_in(list(kinds)))
    if since is not None:
        parts.append(pl.col("occurred_at") >= lit(since))
    if until is not None:
        high, inclusive = until
        occurred = pl.col("occurred_at")
        parts.append(occurred <= lit(high) if inclusive else occurred < lit(high))
    return pl.all_horizontal(parts).sum().cast(pl.Int64)


def rollup_aggregate(events: pl.LazyFrame, clock: ir.Clock) -> pl.LazyFrame:
    columns: list[pl.Expr] = []
    for kind in ir.ROLLUP_KINDS:
        for label, start in clock.windows:
            columns.append(_window_count([kind], start, None).alias(f"{kind}s_{label}"))
        columns.append(_window_count([kind], None, None).alias(f"{kind}s_total"))
    columns.append(pl.col("occurred_at").min().alias("first_interaction_at"))
    columns.append(pl.col("occurred_at").max().alias("last_interaction_at"))
    return events.group_by(KEY).agg(columns)


def _counts() -> list[str]:
    return [c for c in ir.rollup_columns() if c.endswith(("_7d", "_30d", "_90d", "_total"))]


def rollups_frame(frames: Mapping[str, pl.LazyFrame], clock: ir.Clock) -> pl.LazyFrame:
    """``timeline_rollups``: one row per organization, zero counts where it has no events."""
    agg = rollup_aggregate(events_frame("organization", frames, clock), clock)
    return (
        frames["organizations"]
        .select("property_id", "org_id")
        .join(agg.rename({"entity_id": "org_id"}), on=["property_id", "org_id"], how="left")
        .with_columns(pl.col(_counts()).fill_null(0))
        .select("property_id", "org_id", *_counts(), "first_interaction_at", "last_interaction_at")
    )


def daily_frame(frames: Mapping[str, pl.LazyFrame], clock: ir.Clock) -> pl.LazyFrame:
    """``timeline_daily``: events per organization, local day (run timezone) and kind."""
    day = pl.col("occurred_at").dt.convert_time_zone(clock.timezone).dt.date()
    return (
        events_frame("organization", frames, clock)
        .group_by("property_id", pl.col("entity_id").alias("org_id"), day.alias("day"), "kind")
        .agg(pl.len().cast(pl.Int64).alias("events"))
    )


def _custom_frame(
    ctx: _Context, entity: str, attrs: Sequence[ir.Attr], within: Within | None
) -> pl.LazyFrame:
    key = pl.col("key")
    values = ctx.frames["attribute_values"].filter(
        (pl.col("entity") == entity) & key.is_in([a.name for a in attrs])
    )
    return (
        restricted(ctx.frames, values, within, "entity_id")
        .group_by(KEY)
        .agg(
            pl.col(VALUE_COLUMN[ctx.custom_types[(entity, a.name)]])
            .filter(key == a.name)
            .first()
            .alias(a.dsl_name)
            for a in attrs
        )
    )


def _related_frame(
    ctx: _Context, entity: str, relations: Sequence[ir.Related], within: Within | None
) -> tuple[pl.LazyFrame, dict[ir.Related, str]]:
    """Per entity, ``nK`` counts the distinct linked entities matching the K-th nested filter;
    the filters are the columns of one frame over the other entity (see ``sql_query``)."""
    own, other = ("org_id", "person_id") if entity == "organization" else ("person_id", "org_id")
    wanted: Mapping[ir.Condition, str]
    if ctx.shared is not None and ctx.shared.covers(relations[0].other, relations):
        # An earlier query computed the filters for every entity (``compile.steps``).
        flags, wanted = ctx.shared.source, ctx.shared.columns
    else:
        # ``relations`` are distinct; conditions with the same nested filter share its column.
        wheres = dict.fromkeys(r.where for r in relations if r.where is not None)
        wanted = {where: f"m{i}" for i, where in enumerate(wheres, 1)}
        nested = {m: where for where, m in wanted.items()}
        flags = _flags(ctx, relations[0].other, nested, linked(within, own, other))
    links = (
        restricted(ctx.frames, ctx.frames[LINKS], within, own)
        .select("property_id", pl.col(own).alias("entity_id"), pl.col(other).alias("other"))
        .unique()
    )
    counts = {r: f"n{i}" for i, r in enumerate(relations, 1)}
    sums = [
        (pl.len() if r.where is None else pl.col(wanted[r.where]).sum()).cast(pl.Int64).alias(n)
        for r, n in counts.items()
    ]
    frame = (
        links.join(flags.rename({"entity_id": "other"}), on=["property_id", "other"], how="inner")
        .group_by(KEY)
        .agg(sums)
    )
    return frame, counts


def _predicate_expr(
    predicate: ir.Predicate, aggregate_column: Mapping[ir.Predicate, str]
) -> pl.Expr:
    match predicate:
        case ir.PropertyIn(properties=properties):
            return pl.col("property_id").is_in(list(properties))
        case ir.Activity(count=count) | ir.Related(count=count):
            return range_expr(
                pl.col(aggregate_column[predicate]),
                None if count.low is None else pl.lit(count.low, pl.Int64),
                None if count.high is None else pl.lit(count.high, pl.Int64),
                count.low_inclusive,
                count.high_inclusive,
            )
        case (
            ir.HasValue()
            | ir.TextMatch()
            | ir.ListMatch()
            | ir.NumberRange()
            | ir.BoolIs()
            | ir.TimeRange()
            | ir.DateRange()
        ):
            return leaf_expr(predicate)
        case _:
            assert_never(predicate)


def condition_expr(
    condition: ir.Condition, predicate_column: Mapping[ir.Predicate, str]
) -> pl.Expr:
    match condition:
        case ir.All(items=items):
            return pl.all_horizontal([condition_expr(i, predicate_column) for i in items])
        case ir.AnyOf(items=items):
            return pl.any_horizontal([condition_expr(i, predicate_column) for i in items])
        case ir.Not(item=item):
            return ~condition_expr(item, predicate_column)
        case ir.InSegment(condition=inner):
            return condition_expr(inner, predicate_column)
        case _:
            return pl.col(predicate_column[condition])


def _flags(
    ctx: _Context, entity: str, named: Mapping[str, ir.Condition], within: Within | None = None
) -> pl.LazyFrame:
    """A frame with ``property_id``, ``entity_id`` and a boolean per name: for every entity,
    or only those ``within`` holds (everything they read is restricted too)."""
    table, id_column = ENTITY_TABLE[entity]
    conditions = list(named.values())
    attrs = list(dict.fromkeys(a for c in conditions for a in ir.attributes(c)))
    predicates = list(dict.fromkeys(p for c in conditions for p in ir.predicates(c)))
    builtin = [a for a in attrs if a.source == "builtin"]
    custom = [a for a in attrs if a.source == "custom"]
    rollups = [a for a in attrs if a.source == "rollup"]
    activities = [p for p in predicates if isinstance(p, ir.Activity)]
    relations = [p for p in predicates if isinstance(p, ir.Related)]

    base = restricted(ctx.frames, ctx.frames[table], within, id_column).select(
        "property_id", pl.col(id_column).alias("entity_id"), *(pl.col(a.name) for a in builtin)
    )
    aggregate_column: dict[ir.Predicate, str] = {}
    counts: list[str] = []
    if custom:
        base = base.join(_custom_frame(ctx, entity, custom, within), on=KEY, how="left")
    if activities:
        events = events_frame(entity, ctx.frames, ctx.require_clock(), within)
        windows = {w: f"a{i}" for i, w in enumerate(dict.fromkeys(a.window for a in activities), 1)}
        sums = [
            _window_count(kinds, low, (high, inclusive)).alias(name)
            for (kinds, low, high, inclusive), name in windows.items()
        ]
        base = base.join(events.group_by(KEY).agg(sums), on=KEY, how="left")
        counts.extend(windows.values())
        for a in activities:
            aggregate_column[a] = windows[a.window]
    if relations:
        related, names = _related_frame(ctx, entity, relations, within)
        base = base.join(related, on=KEY, how="left")
        for predicate, name in names.items():
            aggregate_column[predicate] = name
            counts.append(name)
    if rollups:
        clock = ctx.require_clock()
        source = (
            restricted(ctx.frames, ctx.rollups, within, "org_id").rename({"org_id": "entity_id"})
            if ctx.rollups is not None
            else rollup_aggregate(events_frame(entity, ctx.frames, clock, within), clock)
        )
        wanted = [a.name for a in rollups]
        base = base.join(
            source.select(*KEY, *(pl.col(n).alias(f"rollup.{n}") for n in wanted)),
            on=KEY,
            how="left",
        )

    def raw(attr: ir.Attr) -> pl.Expr:
        column = pl.col(attr.name if attr.source == "builtin" else attr.dsl_name)
        if attr.source == "rollup" and attr.name.endswith(("_7d", "_30d", "_90d", "_total")):
            return column.fill_null(0)
        return column

    base = base.select(
        *KEY,
        *(pl.col(c).fill_null(0) for c in counts),
        *(normalized(a, raw(a)).alias(column_name(a)) for a in attrs),
    )
    predicate_column = {p: f"p{i}" for i, p in enumerate(predicates, 1)}
    preds = base.select(
        *KEY,
        *(
            _predicate_expr(p, aggregate_column).fill_null(False).alias(name)
            for p, name in predicate_column.items()
        ),
    )
    return preds.select(
        *KEY, *(condition_expr(c, predicate_column).alias(n) for n, c in named.items())
    )


def _wide(
    entity: str,
    segments: Sequence[ir.Segment],
    custom_types: Mapping[tuple[str, str], str],
    frames: Mapping[str, pl.LazyFrame],
    clock: ir.Clock | None,
    rollups: pl.LazyFrame | None,
    within: Within | None = None,
    shares: Mapping[ir.Condition, str] | None = None,
    shared: Shared[pl.LazyFrame] | None = None,
) -> pl.LazyFrame:
    """One row per entity, a flag column per segment (``s1``, ``s2``, ... in order), then
    one per filter of ``shares`` (named there)."""
    ctx = _Context(frames, custom_types, clock, rollups, shared)
    # Internal column names, so that no segment id can collide with ours ("property_id").
    named = {f"s{i}": ir.scoped(s) for i, s in enumerate(segments, 1)}
    named |= {name: where for where, name in (shares or {}).items()}
    return _flags(ctx, entity, named, within)


def compile_flags(
    entity: str,
    segments: Sequence[ir.Segment],
    custom_types: Mapping[tuple[str, str], str],
    frames: Mapping[str, pl.LazyFrame],
    clock: ir.Clock | None = None,
    *,
    rollups: pl.LazyFrame | None = None,
    within: Within | None = None,
    shares: Mapping[ir.Condition, str] | None = None,
    shared: Shared[pl.LazyFrame] | None = None,
) -> pl.LazyFrame:
    """Every entity once, sorted by ``property_id`` and ``entity_id``, with a true/false
    column per segment in the order of ``segments`` (as ``sql_query.compile_flags``, and as
    it only the entities ``within`` holds, if given; ``shares`` and ``shared`` as there)."""
    wide = _wide(entity, segments, custom_types, frames, clock, rollups, within, shares, shared)
    return wide.sort(KEY)


def compile_entity(
    entity: str,
    segments: Sequence[ir.Segment],
    custom_types: Mapping[tuple[str, str], str],
    frames: Mapping[str, pl.LazyFrame],
    clock: ir.Clock | None = None,
    *,
    rollups: pl.LazyFrame | None = None,
) -> pl.LazyFrame:
    """The one lazy membership query for all ``segments`` of ``entity``."""
    columns = {f"s{i}": s.id for i, s in enumerate(segments, 1)}
    wide = _wide(entity, segments, custom_types, frames, clock, rollups)
    return (
        wide.unpivot(
            on=list(columns),
            index=KEY,
            variable_name="segment_id",
            value_name="member",
        )
        .filter(pl.col("member"))
        .select(
            "property_id",
            pl.col("segment_id").replace_strict(columns, return_dtype=pl.String),
            pl.lit(entity).alias("entity"),
            "entity_id",
        )
    )


__all__ = [
    "UTC_DATETIME",
    "compile_entity",
    "compile_flags",
    "daily_frame",
    "events_frame",
    "rollups_frame",
]

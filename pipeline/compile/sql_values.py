"""Queries that show an entity's values as a segment reads them (``segments why`` and
``segments preview``): each attribute as stored and as compared, and the timeline events a
condition counts. Built from the same pieces as the membership query (``sql_query``), so
the compared values are the ones the engines compare.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from sqlglot import exp

from pipeline.compile.sql import col, lit, normalized
from pipeline.compile.sql_query import custom_cte, stored_column
from pipeline.compile.sql_timeline import (
    alias,
    events_query,
    in_window,
    on_keys,
    restricted,
    rollup_aggregate,
    window_sum,
)
from pipeline.compile.within import KeyRange
from pipeline.inputs.schema import ENTITY_TABLE, VALUE_COLUMN
from pipeline.language import ir

#: The prefix of an attribute's stored value in :func:`values_query`'s columns.
STORED = "stored:"


def values_query(
    entity: str,
    attrs: Sequence[ir.Attr],
    custom_types: Mapping[tuple[str, str], str],
    clock: ir.Clock,
    within: KeyRange,
) -> exp.Query:
    """Per entity ``within`` holds: ``property_id``, ``entity_id``, and per attribute its
    stored value (``stored:<name>``) and its compared value (``<name>``), in key order."""
    table, id_column = ENTITY_TABLE[entity]
    ctes: list[tuple[str, exp.Query]] = []
    joins: list[tuple[str, str, list[tuple[str, str]]]] = []
    key = [("property_id", "property_id"), (id_column, "entity_id")]
    custom = [a for a in attrs if a.source == "custom"]
    if custom:
        ctes.append(("c", custom_cte(entity, custom, custom_types, within)))
        joins.append(("c", "c", key))
    if any(a.source == "rollup" for a in attrs):
        ctes.append(("events", events_query(entity, clock, within)))
        ctes.append(("ro", rollup_aggregate("events", clock)))
        joins.append(("ro", "ro", key))
    columns: list[exp.Expr] = [
        alias(col("property_id", "e"), "property_id"),
        alias(col(id_column, "e"), "entity_id"),
    ]
    for attr in attrs:
        raw = stored_column(attr)
        columns.append(alias(raw.copy(), STORED + attr.dsl_name))
        columns.append(alias(normalized(attr, raw), attr.dsl_name))
    select = exp.select(*columns, copy=False).from_(
        exp.alias_(exp.to_table(table), "e", table=True, copy=False), copy=False
    )
    select = restricted(select, within, "e", id_column)
    for name, table_alias, pairs in joins:
        select = select.join(
            exp.alias_(exp.to_table(name), table_alias, table=True, copy=False),
            on=on_keys("e", table_alias, pairs),
            join_type="left",
            copy=False,
        )
    select = select.order_by(col("property_id", "e"), col(id_column, "e"), copy=False)
    for name, query in ctes:
        select = select.with_(name, as_=query, copy=False)
    return select


def activity_query(
    entity: str, activity: ir.Activity, clock: ir.Clock, within: KeyRange, limit: int
) -> exp.Query:
    """The entity's events a timeline condition counts, newest first, at most ``limit``."""
    window = in_window(activity.kinds, activity.low, (activity.high, activity.high_inclusive))
    return (
        exp.select(col("entity_id"), col("kind"), col("occurred_at"), copy=False)
        .from_(events_query(entity, clock, within).subquery("events", copy=False), copy=False)
        .where(window, copy=False)
        .order_by(exp.Ordered(this=col("occurred_at"), desc=True), col("kind"), copy=False)
        .limit(limit, copy=False)
    )


def activity_count_query(
    entity: str, activity: ir.Activity, clock: ir.Clock, within: KeyRange
) -> exp.Query:
    """How many of the entity's events a timeline condition counts (a row only if any)."""
    count = window_sum(activity.kinds, activity.low, (activity.high, activity.high_inclusive))
    return (
        exp.select(col("entity_id"), alias(count, "n"), copy=False)
        .from_(events_query(entity, clock, within).subquery("events", copy=False), copy=False)
        .group_by(col("entity_id"), copy=False)
    )


def distinct_values_query(
    entity: str,
    attr: ir.Attr,
    custom_types: Mapping[tuple[str, str], str],
    limit: int,
    head: int | None = None,
) -> exp.Query:
    """At most ``limit`` distinct compared values of a text or list attribute (a list's
    elements one by one), with how many entities hold each, most held first.

    The stored values are counted first and each distinct one normalized once (the compared
    value is a function of the stored one), so an attribute of few values costs a scan, not
    a normalization per entity. A custom attribute is read from its rows of
    ``attribute_values`` without the pivot: the inputs hold one row per entity and key.

    With ``head``, only of the first ``head`` rows of the table the attribute is stored in:
    a subset, read without scanning the whole table, whose distinct values are some of the
    whole's."""
    table, _ = ENTITY_TABLE[entity]
    if attr.source == "custom":
        stored = (
            exp.select(alias(col(VALUE_COLUMN[custom_types[(entity, attr.name)]]), "raw"))
            .from_("attribute_values")
            .where(
                exp.and_(
                    exp.EQ(this=col("entity"), expression=lit(entity)),
                    exp.EQ(this=col("key"), expression=lit(attr.name)),
                ),
                copy=False,
            )
        )
    else:
        stored = exp.select(alias(col(attr.name), "raw")).from_(table)
    if head is not None:
        stored = stored.limit(head, copy=False)
    held = alias(exp.Count(this=exp.Star()), "held")
    counted = (
        exp.select(col("raw"), held, copy=False)
        .from_(stored.subquery("stored", copy=False), copy=False)
        .group_by(col("raw"), copy=False)
    )
    value: exp.Expr = normalized(attr, col("raw"))
    if attr.type.is_list:
        value = exp.Unnest(expressions=[value])
    values = exp.select(alias(value, "value"), col("held"), copy=False).from_(
        counted.subquery("counted", copy=False), copy=False
    )
    entities = alias(
        exp.Cast(this=exp.Sum(this=col("held")), to=exp.DataType.build("bigint")), "entities"
    )
    return (
        exp.select(col("value"), entities, copy=False)
        .from_(values.subquery("v", copy=False), copy=False)
        .where(exp.Not(this=exp.Is(this=col("value"), expression=exp.Null())), copy=False)
        .group_by(col("value"), copy=False)
        .order_by(exp.Ordered(this=col("entities"), desc=True), col("value"), copy=False)
        .limit(limit, copy=False)
    )

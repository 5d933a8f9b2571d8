"""Assembling the membership SQL of a run: one query per entity for all of its segments.

A membership query is a chain of CTEs over one scan of the entity's table:

    custom    the custom attributes read, pivoted from attribute_values
    events    timeline events attributed to the entity, never after as_of
    activity  one count per distinct timeline condition
    related   per relationship condition, the distinct linked entities matching its filter
    rollups   the timeline rollup columns read (``rollup.chats_30d``)
    base      one row per entity: every attribute normalized once, every count
    preds     each distinct predicate once, two-valued
    wide      one boolean per segment (references expand to the referenced definition)
    SELECT property_id, segment_id, entity, entity_id FROM wide UNPIVOT (...) WHERE member

The nested filters of all the relationship conditions of one level are columns of one chain
over the other entity (the same chain again, its CTE names prefixed), joined to the links
once, so filters nest to any depth and the cost does not grow with the number of conditions.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import assert_never

from sqlglot import exp

from pipeline.compile.dialects import render
from pipeline.compile.sql import (
    and_all,
    col,
    column_name,
    leaf_sql,
    lit,
    normalized,
    or_any,
    range_sql,
    two_valued,
)
from pipeline.compile.sql_timeline import (
    Builder,
    alias,
    count_where,
    events_query,
    on_keys,
    restricted,
    rollup_aggregate,
    window_sum,
    with_ctes,
)
from pipeline.compile.steps import Shared
from pipeline.compile.within import LINKS, Within, linked
from pipeline.inputs.schema import ENTITY_TABLE, VALUE_COLUMN
from pipeline.language import ir


@dataclass(frozen=True, slots=True)
class EntityQuery:
    """The compiled membership query for every segment of one entity."""

    entity: str
    segment_ids: tuple[str, ...]
    tree: exp.Query

    def sql(self, dialect: str = "duckdb", *, pretty: bool = False, consume: bool = False) -> str:
        """The query in ``dialect``; ``consume`` renders without a copy, after which the tree
        must not be rendered again."""
        what = f"segment {self.segment_ids[0]!r}" if len(self.segment_ids) == 1 else "query"
        return render(self.tree, dialect, pretty=pretty, what=what, consume=consume)


def _count_sql(column: exp.Expr, count: ir.Count) -> exp.Expr:
    return range_sql(
        column,
        # Whole numbers, as the counts: no cast of the count column per comparison.
        None if count.low is None else exp.Literal.number(count.low),
        None if count.high is None else exp.Literal.number(count.high),
        count.low_inclusive,
        count.high_inclusive,
    )


def stored_column(attr: ir.Attr) -> exp.Expr:
    """An attribute's value as stored, in the joins of an entity's query: the entity's own
    column (``e``), its custom value (``c``) or its rollup (``ro``; an organization without
    events counts 0 of each kind, and has no first or last interaction)."""
    table_alias = {"builtin": "e", "custom": "c", "rollup": "ro"}[attr.source]
    raw: exp.Expr = col(attr.dsl_name if attr.source == "custom" else attr.name, table_alias)
    if attr.source == "rollup" and attr.name.endswith(("_7d", "_30d", "_90d", "_total")):
        raw = exp.Coalesce(this=raw, expressions=[exp.Literal.number(0)])
    return raw


def custom_cte(
    entity: str,
    attrs: Sequence[ir.Attr],
    types: Mapping[tuple[str, str], str],
    within: Within | None,
) -> exp.Select:
    pivots = []
    for attr in attrs:
        value = col(VALUE_COLUMN[types[(entity, attr.name)]])
        picked = exp.If(this=exp.EQ(this=col("key"), expression=lit(attr.name)), true=value)
        pivots.append(alias(exp.Max(this=exp.Case(ifs=[picked])), attr.dsl_name))
    keys = exp.In(this=col("key"), expressions=[lit(a.name) for a in attrs])
    values = (
        exp.select(col("property_id"), col("entity_id"), *pivots, copy=False)
        .from_(exp.to_table("attribute_values"), copy=False)
        .where(exp.and_(exp.EQ(this=col("entity"), expression=lit(entity)), keys), copy=False)
        .group_by(col("property_id"), col("entity_id"), copy=False)
    )
    return restricted(values, within, "attribute_values", "entity_id")


def _related_cte(
    builder: Builder,
    entity: str,
    relations: Sequence[ir.Related],
    prefix: str,
    within: Within | None,
) -> tuple[str, dict[ir.Related, str]]:
    """One CTE for every relationship condition of a level: per entity, ``nK`` counts the
    distinct linked entities matching the K-th nested filter.

    The nested filters are evaluated together, as the columns of one chain over the other
    entity (each attribute normalized once however many conditions read it), and the links
    are read once: the cost no longer grows with the number of ``people:`` conditions.
    Restricted by ``within``, the other entity's chain computes only the entities linked to
    those it holds.
    """
    own, other = ("org_id", "person_id") if entity == "organization" else ("person_id", "org_id")
    shared = builder.shared
    wanted: Mapping[ir.Condition, str]
    if shared is not None and shared.covers(relations[0].other, relations):
        # An earlier query computed the filters for every entity (``compile.steps``).
        flags, wanted = shared.source, shared.columns
    else:
        # ``relations`` are distinct; conditions with the same nested filter share its column.
        wheres = dict.fromkeys(r.where for r in relations if r.where is not None)
        wanted = {where: f"m{i}" for i, where in enumerate(wheres, 1)}
        flags = _flags(
            builder,
            relations[0].other,
            {m: where for where, m in wanted.items()},
            prefix,
            linked(within, own, other),
        )
    links = builder.add(
        f"{prefix}links",
        restricted(
            exp.select(col("property_id"), col("org_id"), col("person_id"), copy=False)
            .distinct(copy=False)
            .from_(LINKS, copy=False),
            within,
            LINKS,
            own,
        ),
    )
    counts = {r: f"n{i}" for i, r in enumerate(relations, 1)}
    sums = [
        # without a filter: every linked entity that exists (the inner join below)
        alias(
            exp.Count(this=exp.Star())
            if r.where is None
            else count_where(col(wanted[r.where], "f")),
            n,
        )
        for r, n in counts.items()
    ]
    select = (
        exp.select(
            alias(col("property_id", "l"), "property_id"),
            alias(col(own, "l"), "entity_id"),
            *sums,
            copy=False,
        )
        .from_(exp.alias_(exp.to_table(links), "l", table=True, copy=False), copy=False)
        .join(
            exp.alias_(exp.to_table(flags), "f", table=True, copy=False),
            on=on_keys("l", "f", [("property_id", "property_id"), (other, "entity_id")]),
            copy=False,
        )
        .group_by(
            col("property_id", "l"),
            col(own, "l"),
            copy=False,
        )
    )
    return builder.add(f"{prefix}related", select), counts


def _predicate_sql(
    predicate: ir.Predicate, aggregate_column: Mapping[ir.Predicate, str]
) -> exp.Expr:
    match predicate:
        case ir.PropertyIn(properties=properties):
            return exp.In(this=col("property_id"), expressions=[lit(p) for p in properties])
        case ir.Activity(count=count) | ir.Related(count=count):
            return _count_sql(col(aggregate_column[predicate]), count)
        case (
            ir.HasValue()
            | ir.TextMatch()
            | ir.ListMatch()
            | ir.NumberRange()
            | ir.BoolIs()
            | ir.TimeRange()
            | ir.DateRange()
        ):
            return leaf_sql(predicate)
        case _:
            assert_never(predicate)


def condition_sql(
    condition: ir.Condition, predicate_column: Mapping[ir.Predicate, str]
) -> exp.Expr:
    """A condition over the ``preds`` columns; every predicate is already two-valued there."""
    match condition:
        case ir.All(items=items):
            return exp.paren(
                and_all([condition_sql(i, predicate_column) for i in items]), copy=False
            )
        case ir.AnyOf(items=items):
            return exp.paren(
                or_any([condition_sql(i, predicate_column) for i in items]), copy=False
            )
        case ir.Not(item=item):
            return exp.Not(this=condition_sql(item, predicate_column))
        case ir.InSegment(condition=inner):
            return exp.paren(condition_sql(inner, predicate_column), copy=False)
        case _:
            return col(predicate_column[condition])


def _flags(
    builder: Builder,
    entity: str,
    named: Mapping[str, ir.Condition],
    prefix: str,
    within: Within | None = None,
) -> str:
    """CTEs ending in one with ``property_id``, ``entity_id`` and a boolean per name: for
    every entity, or only those ``within`` holds (everything they read is restricted too)."""
    table, id_column = ENTITY_TABLE[entity]
    conditions = list(named.values())
    attrs = list(dict.fromkeys(a for c in conditions for a in ir.attributes(c)))
    predicates = list(dict.fromkeys(p for c in conditions for p in ir.predicates(c)))
    custom = [a for a in attrs if a.source == "custom"]
    rollups = [a for a in attrs if a.source == "rollup"]
    activities = [p for p in predicates if isinstance(p, ir.Activity)]
    relations = [p for p in predicates if isinstance(p, ir.Related)]

    joins: list[tuple[str, str, list[tuple[str, str]]]] = []
    aggregate_column: dict[ir.Predicate, str] = {}
    columns: list[exp.Expr] = [
        alias(col("property_id", "e"), "property_id"),
        alias(col(id_column, "e"), "entity_id"),
    ]
    key = [("property_id", "property_id"), (id_column, "entity_id")]
    if custom:
        joins.append(
            (
                builder.add(
                    f"{prefix}custom", custom_cte(entity, custom, builder.custom_types, within)
                ),
                "c",
                key,
            )
        )
    if activities or rollups:
        clock = builder.require_clock()
        if entity == "organization" and within is None and builder.events_table is not None:
            events = builder.events_table
        else:
            events = builder.add(f"{prefix}events", events_query(entity, clock, within))
    if activities:
        # conditions that differ only in their count share one aggregate (``ir.Activity.window``)
        windows = {w: f"a{i}" for i, w in enumerate(dict.fromkeys(a.window for a in activities), 1)}
        sums = [
            alias(window_sum(kinds, low, (high, inclusive)), name)
            for (kinds, low, high, inclusive), name in windows.items()
        ]
        activity = exp.select(col("property_id"), col("entity_id"), *sums, copy=False).from_(
            events, copy=False
        )
        activity = activity.group_by(col("property_id"), col("entity_id"), copy=False)
        joins.append((builder.add(f"{prefix}activity", activity), "a", key))
        for name in windows.values():
            count = exp.Coalesce(this=col(name, "a"), expressions=[exp.Literal.number(0)])
            columns.append(alias(count, name))
        for a in activities:
            aggregate_column[a] = windows[a.window]
    if relations:
        related, counts = _related_cte(builder, entity, relations, builder.prefix(), within)
        joins.append((related, "rel", key))
        for predicate, name in counts.items():
            aggregate_column[predicate] = name
            count = exp.Coalesce(
                this=col(name, "rel"),
                expressions=[exp.Literal.number(0)],
            )
            columns.append(alias(count, name))
    if rollups:
        clock = builder.require_clock()
        if builder.rollups_table is None:
            source = builder.add(f"{prefix}rollups", rollup_aggregate(events, clock))
        elif within is None:
            source = builder.rollups_table
        else:
            computed = builder.rollups_table
            everyone = exp.select(exp.Star(), copy=False).from_(computed, copy=False)
            source = builder.add(
                f"{prefix}rollups", restricted(everyone, within, computed, "org_id")
            )
        rollup_key = [
            ("property_id", "property_id"),
            (id_column, "org_id" if builder.rollups_table else "entity_id"),
        ]
        joins.append((source, "ro", rollup_key))

    for attr in attrs:
        columns.append(alias(normalized(attr, stored_column(attr)), column_name(attr)))

    base = exp.select(*columns, copy=False).from_(
        exp.alias_(exp.to_table(table), "e", table=True, copy=False), copy=False
    )
    base = restricted(base, within, "e", id_column)
    for source, table_alias, pairs in joins:
        base = base.join(
            exp.alias_(exp.to_table(source), table_alias, table=True, copy=False),
            on=on_keys("e", table_alias, pairs),
            join_type="left",
            copy=False,
        )
    builder.add(f"{prefix}base", base)

    predicate_column = {p: f"p{i}" for i, p in enumerate(predicates, 1)}
    preds = exp.select(
        col("property_id"),
        col("entity_id"),
        *(
            alias(two_valued(_predicate_sql(p, aggregate_column)), name)
            for p, name in predicate_column.items()
        ),
        copy=False,
    ).from_(exp.to_table(f"{prefix}base"), copy=False)
    builder.add(f"{prefix}preds", preds)
    wide = exp.select(
        col("property_id"),
        col("entity_id"),
        *(alias(condition_sql(c, predicate_column), n) for n, c in named.items()),
        copy=False,
    ).from_(exp.to_table(f"{prefix}preds"), copy=False)
    return builder.add(f"{prefix}wide", wide)


def _wide(
    entity: str,
    segments: Sequence[ir.Segment],
    custom_types: Mapping[tuple[str, str], str],
    clock: ir.Clock | None,
    rollups_table: str | None,
    within: Within | None = None,
    shares: Mapping[ir.Condition, str] | None = None,
    shared: Shared[str] | None = None,
    events_table: str | None = None,
) -> tuple[Builder, dict[str, ir.Segment], str]:
    """The CTEs up to ``wide``: one row per entity, a flag column per segment, then one per
    filter of ``shares`` (named there)."""
    builder = Builder(custom_types, clock, rollups_table, shared, events_table)
    # Internal column names, so that no segment id can collide with ours ("property_id").
    columns = {f"s{i}": s for i, s in enumerate(segments, 1)}
    named = {name: ir.scoped(s) for name, s in columns.items()}
    named |= {name: where for where, name in (shares or {}).items()}
    wide = _flags(builder, entity, named, "", within)
    return builder, columns, wide


def compile_flags(
    entity: str,
    segments: Sequence[ir.Segment],
    custom_types: Mapping[tuple[str, str], str],
    clock: ir.Clock | None = None,
    *,
    rollups_table: str | None = None,
    within: Within | None = None,
    shares: Mapping[ir.Condition, str] | None = None,
    shared: Shared[str] | None = None,
    events_table: str | None = None,
) -> EntityQuery:
    """Every entity once, ordered by ``property_id`` and ``entity_id``, with a true/false
    column per segment (in the order of ``segments``): membership before it is unpivoted.

    Arguments as :func:`compile_entity`; with ``within`` (a :class:`KeyRange`), only the
    entities it holds, reading only their rows and those of the entities linked to them.
    Engines build the long membership from it in the published order (see
    :class:`pipeline.engines.base.Flags`), which spares sorting every membership row.
    ``shares`` (a step's, see ``compile.steps``) adds a column per nested filter after the
    segments' flags; ``shared`` names the table of an earlier query's. ``events_table`` names
    a table of the organizations' events (``events_query``) to read instead of attributing
    them again, where every organization's are needed (no ``within``).
    """
    builder, columns, wide = _wide(
        entity, segments, custom_types, clock, rollups_table, within, shares, shared, events_table
    )
    extra = list((shares or {}).values())
    select = (
        exp.select(col("property_id"), col("entity_id"), *map(col, [*columns, *extra]), copy=False)
        .from_(exp.to_table(wide), copy=False)
        .order_by(col("property_id"), col("entity_id"), copy=False)
    )
    return EntityQuery(entity, tuple(s.id for s in segments), with_ctes(builder, select))


def compile_entity(
    entity: str,
    segments: Sequence[ir.Segment],
    custom_types: Mapping[tuple[str, str], str],
    clock: ir.Clock | None = None,
    *,
    rollups_table: str | None = None,
) -> EntityQuery:
    """The one membership query for all ``segments`` (all of ``entity``).

    ``custom_types`` maps (entity, key) of custom attributes to their type in the
    ``attributes`` table. ``rollups_table`` names an already computed ``timeline_rollups``
    table to join; without it the query computes the rollups it reads itself.
    """
    builder, columns, wide = _wide(entity, segments, custom_types, clock, rollups_table)
    if len(segments) == 1:
        # One segment (``segments compile``): a plain filter, which every dialect can express,
        # where UNPIVOT is missing from Trino and PostgreSQL.
        (name,) = columns
        single = (
            exp.select(
                col("property_id"),
                alias(lit(segments[0].id), "segment_id"),
                alias(lit(entity), "entity"),
                col("entity_id"),
                copy=False,
            )
            .from_(exp.to_table(wide), copy=False)
            .where(col(name), copy=False)
        )
        return EntityQuery(entity, (segments[0].id,), with_ctes(builder, single))
    unpivot = exp.Pivot(
        unpivot=True,
        expressions=[exp.to_identifier("member")],
        fields=[
            exp.In(
                this=exp.to_identifier("segment_id"),
                expressions=[
                    exp.PivotAlias(this=col(name), alias=lit(s.id)) for name, s in columns.items()
                ],
            )
        ],
    )
    source = exp.to_table(wide)
    source.set("pivots", [unpivot])
    select = (
        exp.select(
            col("property_id"),
            col("segment_id"),
            alias(lit(entity), "entity"),
            col("entity_id"),
            copy=False,
        )
        .from_(source, copy=False)
        .where(col("member"), copy=False)
    )
    return EntityQuery(entity, tuple(s.id for s in segments), with_ctes(builder, select))

"""Assembling the SQL of a run: one membership query per entity, and the timeline rollups.

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

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Final, assert_never

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
from pipeline.inputs.schema import ENTITY_TABLE, VALUE_COLUMN
from pipeline.language import ir

LINKS: Final = "organization_people"


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


@dataclass(slots=True)
class _Builder:
    """Collects the CTEs of one query under unique names."""

    custom_types: Mapping[tuple[str, str], str]
    clock: ir.Clock | None
    rollups_table: str | None
    ctes: list[tuple[str, exp.Query]] = field(default_factory=list)
    names: set[str] = field(default_factory=set)
    counter: int = 0

    def add(self, name: str, query: exp.Query) -> str:
        if name in self.names:
            raise AssertionError(f"duplicate CTE {name}")
        self.names.add(name)
        self.ctes.append((name, query))
        return name

    def prefix(self) -> str:
        self.counter += 1
        return f"r{self.counter}_"

    def require_clock(self) -> ir.Clock:
        if self.clock is None:
            raise ValueError("timeline conditions need the run's clock")
        return self.clock


def _on(left: str, right: str, pairs: Sequence[tuple[str, str]]) -> exp.Expr:
    return and_all(
        [
            exp.EQ(
                this=exp.column(a, table=left, quoted=True),
                expression=exp.column(b, table=right, quoted=True),
            )
            for a, b in pairs
        ]
    )


def _count_sql(column: exp.Expr, count: ir.Count) -> exp.Expr:
    return range_sql(
        column,
        None if count.low is None else lit(count.low),
        None if count.high is None else lit(count.high),
        count.low_inclusive,
        count.high_inclusive,
    )


def events_query(entity: str, clock: ir.Clock) -> exp.Query:
    """Events attributed to each entity (``entity_id``), none after ``as_of``.

    An event with an ``org_id`` belongs to that organization; one with only a ``person_id``
    belongs to every organization linked to that person, within the same property. For
    people, an event belongs to its ``person_id``.
    """
    not_after = exp.LTE(this=col("occurred_at"), expression=lit(clock.as_of))
    if entity == "person":
        return (
            exp.select(
                col("property_id"),
                exp.alias_(col("person_id"), "entity_id", quoted=True, copy=False),
                col("kind"),
                col("occurred_at"),
                copy=False,
            )
            .from_("timeline", copy=False)
            .where(
                exp.and_(
                    exp.Not(this=exp.Is(this=col("person_id"), expression=exp.Null())), not_after
                ),
                copy=False,
            )
        )
    direct = (
        exp.select(
            col("property_id"),
            exp.alias_(col("org_id"), "entity_id", quoted=True, copy=False),
            col("kind"),
            col("occurred_at"),
            copy=False,
        )
        .from_("timeline", copy=False)
        .where(
            exp.and_(exp.Not(this=exp.Is(this=col("org_id"), expression=exp.Null())), not_after),
            copy=False,
        )
    )
    t, link = "t", "l"
    via_people = (
        exp.select(
            exp.column("property_id", table=t, quoted=True),
            exp.alias_(
                exp.column("org_id", table=link, quoted=True), "entity_id", quoted=True, copy=False
            ),
            exp.column("kind", table=t, quoted=True),
            exp.column("occurred_at", table=t, quoted=True),
            copy=False,
        )
        .from_(exp.alias_(exp.to_table("timeline"), t, table=True, copy=False), copy=False)
        .join(
            exp.alias_(exp.to_table(LINKS), link, table=True, copy=False),
            on=_on(t, link, [("property_id", "property_id"), ("person_id", "person_id")]),
            copy=False,
        )
        .where(
            exp.and_(
                exp.Is(this=exp.column("org_id", table=t, quoted=True), expression=exp.Null()),
                exp.LTE(
                    this=exp.column("occurred_at", table=t, quoted=True),
                    expression=lit(clock.as_of),
                ),
            ),
            copy=False,
        )
    )
    return exp.union(direct, via_people, distinct=False, copy=False)


def _window_sum(
    kinds: Sequence[str] | None, since: dt.datetime | None, until: tuple[dt.datetime, bool] | None
) -> exp.Expr:
    parts: list[exp.Expr] = []
    if kinds is not None:
        parts.append(
            exp.EQ(this=col("kind"), expression=lit(kinds[0]))
            if len(kinds) == 1
            else exp.In(this=col("kind"), expressions=[lit(k) for k in kinds])
        )
    if since is not None:
        parts.append(exp.GTE(this=col("occurred_at"), expression=lit(since)))
    if until is not None:
        high, inclusive = until
        parts.append(
            (exp.LTE if inclusive else exp.LT)(this=col("occurred_at"), expression=lit(high))
        )
    hit = exp.If(this=and_all(parts), true=exp.Literal.number(1))
    return exp.Sum(this=exp.Case(ifs=[hit], default=exp.Literal.number(0)))


def rollup_aggregate(events: str, clock: ir.Clock) -> exp.Select:
    """Per organization with events: every rollup column (SPEC section 5)."""
    columns: list[exp.Expr] = [col("property_id"), col("entity_id")]
    for kind in ir.ROLLUP_KINDS:
        for label, start in clock.windows:
            columns.append(
                exp.alias_(
                    _window_sum([kind], start, None), f"{kind}s_{label}", quoted=True, copy=False
                )
            )
        columns.append(
            exp.alias_(_window_sum([kind], None, None), f"{kind}s_total", quoted=True, copy=False)
        )
    columns.append(
        exp.alias_(
            exp.Min(this=col("occurred_at")), "first_interaction_at", quoted=True, copy=False
        )
    )
    columns.append(
        exp.alias_(exp.Max(this=col("occurred_at")), "last_interaction_at", quoted=True, copy=False)
    )
    return (
        exp.select(*columns, copy=False)
        .from_(events, copy=False)
        .group_by(col("property_id"), col("entity_id"), copy=False)
    )


def _events(builder: _Builder, clock: ir.Clock, events_table: str | None) -> str:
    if events_table is not None:
        return events_table
    return builder.add("events", events_query("organization", clock))


def rollups_query(clock: ir.Clock, events_table: str | None = None) -> exp.Query:
    """``timeline_rollups``: one row per organization, zero counts where it has no events.

    ``events_table`` names a table already holding ``events_query("organization", clock)``.
    """
    builder = _Builder({}, clock, None)
    events = _events(builder, clock, events_table)
    agg = builder.add("rollup_agg", rollup_aggregate(events, clock))
    counts = [c for c in ir.rollup_columns() if c.endswith(("_7d", "_30d", "_90d", "_total"))]
    select = (
        exp.select(
            exp.alias_(
                exp.column("property_id", table="o", quoted=True),
                "property_id",
                quoted=True,
                copy=False,
            ),
            exp.alias_(
                exp.column("org_id", table="o", quoted=True), "org_id", quoted=True, copy=False
            ),
            *(
                exp.alias_(
                    exp.Coalesce(
                        this=exp.column(c, table="a", quoted=True),
                        expressions=[exp.Literal.number(0)],
                    ),
                    c,
                    quoted=True,
                    copy=False,
                )
                for c in counts
            ),
            exp.alias_(
                exp.column("first_interaction_at", table="a", quoted=True),
                "first_interaction_at",
                quoted=True,
                copy=False,
            ),
            exp.alias_(
                exp.column("last_interaction_at", table="a", quoted=True),
                "last_interaction_at",
                quoted=True,
                copy=False,
            ),
            copy=False,
        )
        .from_(exp.alias_(exp.to_table("organizations"), "o", table=True, copy=False), copy=False)
        .join(
            exp.alias_(exp.to_table(agg), "a", table=True, copy=False),
            on=_on("o", "a", [("property_id", "property_id"), ("org_id", "entity_id")]),
            join_type="left",
            copy=False,
        )
    )
    return _with(builder, select)


def daily_query(clock: ir.Clock, events_table: str | None = None) -> exp.Query:
    """``timeline_daily``: events per organization, local day (run timezone) and kind."""
    builder = _Builder({}, clock, None)
    events = _events(builder, clock, events_table)
    day = exp.cast(
        exp.AtTimeZone(this=col("occurred_at"), zone=lit(clock.timezone)),
        exp.DataType.build("date"),
    )
    select = (
        exp.select(
            col("property_id"),
            exp.alias_(col("entity_id"), "org_id", quoted=True, copy=False),
            exp.alias_(day, "day", quoted=True, copy=False),
            col("kind"),
            exp.alias_(exp.Count(this=exp.Star()), "events", quoted=True, copy=False),
            copy=False,
        )
        .from_(events, copy=False)
        .group_by(
            exp.Literal.number(1),
            exp.Literal.number(2),
            exp.Literal.number(3),
            exp.Literal.number(4),
            copy=False,
        )
    )
    return _with(builder, select)


def _with(builder: _Builder, select: exp.Select) -> exp.Query:
    for name, query in builder.ctes:
        select = select.with_(name, as_=query, copy=False)
    return select


def _custom_cte(
    entity: str, attrs: Sequence[ir.Attr], types: Mapping[tuple[str, str], str]
) -> exp.Select:
    pivots = []
    for attr in attrs:
        value = col(VALUE_COLUMN[types[(entity, attr.name)]])
        picked = exp.If(this=exp.EQ(this=col("key"), expression=lit(attr.name)), true=value)
        pivots.append(
            exp.alias_(exp.Max(this=exp.Case(ifs=[picked])), attr.dsl_name, quoted=True, copy=False)
        )
    keys = exp.In(this=col("key"), expressions=[lit(a.name) for a in attrs])
    return (
        exp.select(col("property_id"), col("entity_id"), *pivots, copy=False)
        .from_("attribute_values", copy=False)
        .where(exp.and_(exp.EQ(this=col("entity"), expression=lit(entity)), keys), copy=False)
        .group_by(col("property_id"), col("entity_id"), copy=False)
    )


def _related_cte(
    builder: _Builder, entity: str, relations: Sequence[ir.Related], prefix: str
) -> tuple[str, dict[ir.Related, str]]:
    """One CTE for every relationship condition of a level: per entity, ``nK`` counts the
    distinct linked entities matching the K-th nested filter.

    The nested filters are evaluated together, as the columns of one chain over the other
    entity (each attribute normalized once however many conditions read it), and the links
    are read once: the cost no longer grows with the number of ``people:`` conditions.
    """
    own, other = ("org_id", "person_id") if entity == "organization" else ("person_id", "org_id")
    wanted = {r.where: f"m{i}" for i, r in enumerate(dict.fromkeys(relations), 1) if r.where}
    flags = _flags(builder, relations[0].other, {m: where for where, m in wanted.items()}, prefix)
    links = builder.add(
        f"{prefix}links",
        exp.select(col("property_id"), col("org_id"), col("person_id"), copy=False)
        .distinct(copy=False)
        .from_(LINKS, copy=False),
    )
    counts: dict[ir.Related, str] = {}
    sums: list[exp.Expr] = []
    for i, related in enumerate(dict.fromkeys(relations), 1):
        counts[related] = f"n{i}"
        if related.where is None:  # every linked entity that exists (the inner join below)
            total: exp.Expr = exp.Count(this=exp.Star())
        else:
            hit = exp.If(
                this=exp.column(wanted[related.where], table="f", quoted=True),
                true=exp.Literal.number(1),
            )
            total = exp.Sum(this=exp.Case(ifs=[hit], default=exp.Literal.number(0)))
        sums.append(exp.alias_(total, f"n{i}", quoted=True, copy=False))
    select = (
        exp.select(
            exp.alias_(
                exp.column("property_id", table="l", quoted=True),
                "property_id",
                quoted=True,
                copy=False,
            ),
            exp.alias_(
                exp.column(own, table="l", quoted=True), "entity_id", quoted=True, copy=False
            ),
            *sums,
            copy=False,
        )
        .from_(exp.alias_(exp.to_table(links), "l", table=True, copy=False), copy=False)
        .join(
            exp.alias_(exp.to_table(flags), "f", table=True, copy=False),
            on=_on("l", "f", [("property_id", "property_id"), (other, "entity_id")]),
            copy=False,
        )
        .group_by(
            exp.column("property_id", table="l", quoted=True),
            exp.column(own, table="l", quoted=True),
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


def _flags(builder: _Builder, entity: str, named: Mapping[str, ir.Condition], prefix: str) -> str:
    """CTEs ending in one with ``property_id``, ``entity_id`` and a boolean per name."""
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
        exp.alias_(
            exp.column("property_id", table="e", quoted=True),
            "property_id",
            quoted=True,
            copy=False,
        ),
        exp.alias_(
            exp.column(id_column, table="e", quoted=True), "entity_id", quoted=True, copy=False
        ),
    ]
    key = [("property_id", "property_id"), (id_column, "entity_id")]
    if custom:
        joins.append(
            (
                builder.add(f"{prefix}custom", _custom_cte(entity, custom, builder.custom_types)),
                "c",
                key,
            )
        )
    if activities or rollups:
        clock = builder.require_clock()
        events = f"{prefix}events"
        builder.add(events, events_query(entity, clock))
    if activities:
        sums = [
            exp.alias_(
                _window_sum(a.kinds, a.low, (a.high, a.high_inclusive)),
                f"a{i}",
                quoted=True,
                copy=False,
            )
            for i, a in enumerate(activities, 1)
        ]
        activity = exp.select(col("property_id"), col("entity_id"), *sums, copy=False).from_(
            events, copy=False
        )
        activity = activity.group_by(col("property_id"), col("entity_id"), copy=False)
        joins.append((builder.add(f"{prefix}activity", activity), "a", key))
        for i, a in enumerate(activities, 1):
            aggregate_column[a] = f"a{i}"
            count = exp.Coalesce(
                this=exp.column(f"a{i}", table="a", quoted=True),
                expressions=[exp.Literal.number(0)],
            )
            columns.append(exp.alias_(count, f"a{i}", quoted=True, copy=False))
    if relations:
        related, counts = _related_cte(builder, entity, relations, builder.prefix())
        joins.append((related, "rel", key))
        for predicate, name in counts.items():
            aggregate_column[predicate] = name
            count = exp.Coalesce(
                this=exp.column(name, table="rel", quoted=True),
                expressions=[exp.Literal.number(0)],
            )
            columns.append(exp.alias_(count, name, quoted=True, copy=False))
    if rollups:
        clock = builder.require_clock()
        source = builder.rollups_table or builder.add(
            f"{prefix}rollups", rollup_aggregate(events, clock)
        )
        rollup_key = [
            ("property_id", "property_id"),
            (id_column, "org_id" if builder.rollups_table else "entity_id"),
        ]
        joins.append((source, "ro", rollup_key))

    for attr in attrs:
        table_alias = {"builtin": "e", "custom": "c", "rollup": "ro"}[attr.source]
        raw: exp.Expr = exp.column(
            attr.dsl_name if attr.source == "custom" else attr.name, table=table_alias, quoted=True
        )
        if attr.source == "rollup" and attr.name.endswith(("_7d", "_30d", "_90d", "_total")):
            raw = exp.Coalesce(this=raw, expressions=[exp.Literal.number(0)])
        columns.append(
            exp.alias_(normalized(attr, raw), column_name(attr), quoted=True, copy=False)
        )

    base = exp.select(*columns, copy=False).from_(
        exp.alias_(exp.to_table(table), "e", table=True, copy=False), copy=False
    )
    for source, alias, pairs in joins:
        base = base.join(
            exp.alias_(exp.to_table(source), alias, table=True, copy=False),
            on=_on("e", alias, pairs),
            join_type="left",
            copy=False,
        )
    builder.add(f"{prefix}base", base)

    predicate_column = {p: f"p{i}" for i, p in enumerate(predicates, 1)}
    preds = exp.select(
        col("property_id"),
        col("entity_id"),
        *(
            exp.alias_(
                two_valued(_predicate_sql(p, aggregate_column)), name, quoted=True, copy=False
            )
            for p, name in predicate_column.items()
        ),
        copy=False,
    ).from_(f"{prefix}base", copy=False)
    builder.add(f"{prefix}preds", preds)
    wide = exp.select(
        col("property_id"),
        col("entity_id"),
        *(
            exp.alias_(condition_sql(c, predicate_column), n, quoted=True, copy=False)
            for n, c in named.items()
        ),
        copy=False,
    ).from_(f"{prefix}preds", copy=False)
    return builder.add(f"{prefix}wide", wide)


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
    builder = _Builder(custom_types, clock, rollups_table)
    # Internal column names, so that no segment id can collide with ours ("property_id").
    columns = {f"s{i}": s for i, s in enumerate(segments, 1)}
    wide = _flags(builder, entity, {name: ir.scoped(s) for name, s in columns.items()}, "")
    if len(segments) == 1:
        # One segment (``segments compile``): a plain filter, which every dialect can express,
        # where UNPIVOT is missing from Trino and PostgreSQL.
        (name,) = columns
        single = (
            exp.select(
                col("property_id"),
                exp.alias_(lit(segments[0].id), "segment_id", quoted=True, copy=False),
                exp.alias_(lit(entity), "entity", quoted=True, copy=False),
                col("entity_id"),
                copy=False,
            )
            .from_(wide, copy=False)
            .where(col(name), copy=False)
        )
        return EntityQuery(entity, (segments[0].id,), _with(builder, single))
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
            exp.alias_(lit(entity), "entity", quoted=True, copy=False),
            col("entity_id"),
            copy=False,
        )
        .from_(source, copy=False)
        .where(col("member"), copy=False)
    )
    return EntityQuery(entity, tuple(s.id for s in segments), _with(builder, select))

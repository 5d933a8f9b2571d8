"""IR -> SQL, built as a sqlglot tree and rendered per dialect.

All segments of one entity compile into one query over one scan of the entity's table:

    custom  -- the custom attributes the segments read, pivoted from attribute_values
    base    -- one row per entity: each attribute the segments read, normalized once
    preds   -- each distinct leaf predicate once, made two-valued (coalesce(..., false))
    wide    -- one boolean column per segment, combining predicate columns
    SELECT property_id, segment_id, entity, entity_id FROM wide UNPIVOT (...) WHERE member

No user value is pasted into SQL text: values become sqlglot literals, which the dialect's
generator quotes and escapes. Functions are sqlglot's own expression classes, so that every
dialect renders its own spelling (``list_contains`` in DuckDB, ``array_contains`` in Spark).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final, assert_never

from sqlglot import exp

from pipeline.catalog import AttrType
from pipeline.compile.normalize import CASE_FIXES, PHONE_STRIP_PATTERN, WHITESPACE
from pipeline.inputs.schema import ENTITY_TABLE, VALUE_COLUMN
from pipeline.language import ir

MEMBER_COLUMNS: Final = ("property_id", "segment_id", "entity", "entity_id")


@dataclass(frozen=True, slots=True)
class EntityQuery:
    """The compiled membership query for every segment of one entity."""

    entity: str
    segment_ids: tuple[str, ...]
    tree: exp.Query

    def sql(self, dialect: str = "duckdb", *, pretty: bool = False) -> str:
        return self.tree.sql(dialect=dialect, pretty=pretty)


# -- literals and small helpers -------------------------------------------------------------


def _lit(value: str | float | bool | dt.datetime | dt.date) -> exp.Expr:
    if isinstance(value, bool):
        return exp.Boolean(this=value)
    if isinstance(value, dt.datetime):
        text = value.astimezone(dt.UTC).isoformat(sep=" ")
        return exp.cast(exp.Literal.string(text), exp.DataType.build("timestamptz"))
    if isinstance(value, dt.date):
        return exp.cast(exp.Literal.string(value.isoformat()), exp.DataType.build("date"))
    if isinstance(value, float | int):
        return exp.Literal.number(repr(float(value)))
    return exp.Literal.string(value)


def _col(name: str) -> exp.Column:
    return exp.column(name, quoted=True)


def _lambda(body: exp.Expr, var: str = "x") -> exp.Lambda:
    return exp.Lambda(this=body, expressions=[exp.to_identifier(var)])


def _and(items: Sequence[exp.Expr]) -> exp.Expr:
    return exp.and_(*items) if items else exp.true()


def _or(items: Sequence[exp.Expr]) -> exp.Expr:
    return exp.or_(*items) if items else exp.false()


def column_name(attr: ir.Attr) -> str:
    """The name of an attribute's normalized column in ``base`` (also used by Polars)."""
    return attr.dsl_name


# -- normalization: the rules of compile/normalize.py, on columns ----------------------------


def normalized_text(value: exp.Expr) -> exp.Expr:
    text: exp.Expr = exp.Lower(this=exp.Trim(this=value, expression=_lit(WHITESPACE)))
    for old, new in CASE_FIXES:
        text = exp.func("replace", text, _lit(old), _lit(new))
    return exp.Nullif(this=text, expression=_lit(""))


def normalized_phone(value: exp.Expr) -> exp.Expr:
    digits = exp.RegexpReplace(
        this=value,
        expression=_lit(PHONE_STRIP_PATTERN),
        replacement=_lit(""),
        modifiers=_lit("g"),
    )
    return exp.Nullif(this=digits, expression=_lit(""))


def normalized(attr: ir.Attr, raw: exp.Expr) -> exp.Expr:
    """The normalized form of an attribute's raw column."""
    match attr.type:
        case AttrType.TEXT:
            return normalized_text(raw)
        case AttrType.PHONE:
            return normalized_phone(raw)
        case AttrType.TEXT_LIST | AttrType.PHONE_LIST:
            element = normalized_phone if attr.type.is_phone else normalized_text
            var = exp.to_identifier("x")
            mapped = exp.Transform(this=raw, expression=_lambda(element(var)))
            kept = exp.Not(this=exp.Is(this=var.copy(), expression=exp.Null()))
            # Empty lists stay empty (not NULL): every list leaf is false on them anyway.
            return exp.ArrayFilter(this=mapped, expression=_lambda(kept))
        case AttrType.NUMBER:
            nan = exp.cast(_lit("NaN"), exp.DataType.build("double"))
            return exp.Nullif(this=exp.cast(raw, exp.DataType.build("double")), expression=nan)
        case AttrType.BOOLEAN | AttrType.DATETIME:
            return raw
        case AttrType.DATE:
            return exp.cast(raw, exp.DataType.build("date"))
        case _:
            assert_never(attr.type)


# -- leaves: one function per node ----------------------------------------------------------


def _range(
    column: exp.Expr,
    low: exp.Expr | None,
    high: exp.Expr | None,
    low_inclusive: bool,
    high_inclusive: bool,
) -> exp.Expr:
    if low is not None and high is not None and low == high and low_inclusive and high_inclusive:
        return exp.EQ(this=column, expression=low)
    parts: list[exp.Expr] = []
    if low is not None:
        parts.append((exp.GTE if low_inclusive else exp.GT)(this=column.copy(), expression=low))
    if high is not None:
        parts.append((exp.LTE if high_inclusive else exp.LT)(this=column.copy(), expression=high))
    return _and(parts)


def _text_match(column: exp.Expr, op: ir.TextOp, value: str) -> exp.Expr:
    match op:
        case "is" | "in":
            return exp.EQ(this=column, expression=_lit(value))
        case "contains":
            return exp.Contains(this=column, expression=_lit(value))
        case "starts_with":
            return exp.StartsWith(this=column, expression=_lit(value))
        case "ends_with":
            return exp.EndsWith(this=column, expression=_lit(value))
        case _:
            assert_never(op)


def leaf_sql(leaf: ir.Leaf) -> exp.Expr:
    """One leaf as a (possibly three-valued) SQL predicate over the normalized column."""
    column = _col(column_name(leaf.attr))
    match leaf:
        case ir.HasValue(attr=attr):
            if attr.type.is_list:
                return exp.GT(this=exp.ArraySize(this=column), expression=exp.Literal.number(0))
            return exp.Not(this=exp.Is(this=column, expression=exp.Null()))
        case ir.TextMatch(op="in", values=values):
            return exp.In(this=column, expressions=[_lit(v) for v in values])
        case ir.TextMatch(op=op, values=values):
            return _or([_text_match(column.copy(), op, v) for v in values])
        case ir.ListMatch(op="is" | "in", values=values) if len(values) <= 4:
            return _or([exp.ArrayContains(this=column.copy(), expression=_lit(v)) for v in values])
        case ir.ListMatch(op=op, values=values):
            var = exp.to_identifier("x")
            if op == "contains":
                hit = _or([_text_match(var.copy(), "contains", v) for v in values])
            else:
                hit = exp.In(this=var, expressions=[_lit(v) for v in values])
            matches = exp.ArrayFilter(this=column, expression=_lambda(hit))
            return exp.GT(this=exp.ArraySize(this=matches), expression=exp.Literal.number(0))
        case ir.NumberRange(low=low, high=high):
            return _range(
                column,
                None if low is None else _lit(low),
                None if high is None else _lit(high),
                leaf.low_inclusive,
                leaf.high_inclusive,
            )
        case ir.BoolIs(value=value):
            return exp.EQ(this=column, expression=_lit(value))
        case ir.TimeRange(low=low, high=high):
            return _range(
                column,
                None if low is None else _lit(low),
                None if high is None else _lit(high),
                leaf.low_inclusive,
                leaf.high_inclusive,
            )
        case ir.DateRange(low=low, high=high):
            return _range(
                column,
                None if low is None else _lit(low),
                None if high is None else _lit(high),
                True,
                True,
            )
        case _:
            assert_never(leaf)


def two_valued(predicate: exp.Expr) -> exp.Expr:
    """SPEC: a leaf on an unknown value is false, never NULL."""
    return exp.Coalesce(this=predicate, expressions=[exp.false()])


# -- groups and segments --------------------------------------------------------------------


def condition_sql(condition: ir.Condition, predicate_column: dict[ir.Leaf, str]) -> exp.Expr:
    """A condition over the ``preds`` columns; every leaf is already two-valued there."""
    match condition:
        case ir.All(items=items):
            return exp.paren(_and([condition_sql(i, predicate_column) for i in items]), copy=False)
        case ir.AnyOf(items=items):
            return exp.paren(_or([condition_sql(i, predicate_column) for i in items]), copy=False)
        case ir.Not(item=item):
            return exp.Not(this=condition_sql(item, predicate_column))
        case _:
            return _col(predicate_column[condition])


def segment_sql(segment: ir.Segment, predicate_column: dict[ir.Leaf, str]) -> exp.Expr:
    """A segment's membership as a boolean over ``preds`` (property scope included)."""
    member = condition_sql(segment.where, predicate_column)
    if segment.properties is not None:
        scope = exp.In(this=_col("property_id"), expressions=[_lit(p) for p in segment.properties])
        member = exp.and_(scope, member)
    return member


def _custom_cte(entity: str, attrs: Sequence[ir.Attr], custom_types: dict[str, str]) -> exp.Select:
    pivots = []
    for attr in attrs:
        value = _col(VALUE_COLUMN[custom_types[attr.name]])
        picked = exp.If(this=exp.EQ(this=_col("key"), expression=_lit(attr.name)), true=value)
        pivots.append(exp.alias_(exp.Max(this=exp.Case(ifs=[picked])), attr.dsl_name, quoted=True))
    keys = exp.In(this=_col("key"), expressions=[_lit(a.name) for a in attrs])
    return (
        exp.select(_col("property_id"), _col("entity_id"), *pivots)
        .from_("attribute_values")
        .where(exp.and_(exp.EQ(this=_col("entity"), expression=_lit(entity)), keys))
        .group_by(_col("property_id"), _col("entity_id"))
    )


def compile_entity(
    entity: str, segments: Sequence[ir.Segment], custom_types: dict[str, str]
) -> EntityQuery:
    """The one membership query for all ``segments`` (all of ``entity``).

    ``custom_types`` maps each custom key the segments read to its type in the
    ``attributes`` table (it picks the value column).
    """
    table, id_column = ENTITY_TABLE[entity]
    attrs = list(dict.fromkeys(a for s in segments for a in ir.attributes(s.where)))
    custom = [a for a in attrs if a.source == "custom"]

    base_columns: list[exp.Expr] = [
        exp.alias_(exp.column("property_id", table="e", quoted=True), "property_id", quoted=True),
        exp.alias_(exp.column(id_column, table="e", quoted=True), "entity_id", quoted=True),
    ]
    for attr in attrs:
        source_table = "e" if attr.source == "builtin" else "c"
        raw = exp.column(
            attr.name if attr.source == "builtin" else attr.dsl_name, table=source_table
        )
        raw.this.set("quoted", True)
        base_columns.append(exp.alias_(normalized(attr, raw), column_name(attr), quoted=True))
    base = exp.select(*base_columns).from_(exp.alias_(exp.to_table(table), "e", table=True))
    if custom:
        on = exp.and_(
            exp.EQ(
                this=exp.column("property_id", table="c"),
                expression=exp.column("property_id", table="e"),
            ),
            exp.EQ(
                this=exp.column("entity_id", table="c"),
                expression=exp.column(id_column, table="e"),
            ),
        )
        base = base.join(
            exp.alias_(exp.to_table("custom"), "c", table=True), on=on, join_type="left"
        )

    predicate_column: dict[ir.Leaf, str] = {}
    for segment in segments:
        for leaf in ir.leaves(segment.where):
            predicate_column.setdefault(leaf, f"p{len(predicate_column) + 1}")
    preds = exp.select(
        _col("property_id"),
        _col("entity_id"),
        *(
            exp.alias_(two_valued(leaf_sql(leaf)), name, quoted=True)
            for leaf, name in predicate_column.items()
        ),
    ).from_("base")
    wide = exp.select(
        _col("property_id"),
        _col("entity_id"),
        *(exp.alias_(segment_sql(s, predicate_column), s.id, quoted=True) for s in segments),
    ).from_("preds")

    unpivot = exp.Pivot(
        unpivot=True,
        expressions=[exp.to_identifier("member")],
        fields=[
            exp.In(
                this=exp.to_identifier("segment_id"),
                expressions=[exp.to_identifier(s.id, quoted=True) for s in segments],
            )
        ],
    )
    source = exp.to_table("wide")
    source.set("pivots", [unpivot])
    query = (
        exp.select(
            _col("property_id"),
            _col("segment_id"),
            exp.alias_(_lit(entity), "entity", quoted=True),
            _col("entity_id"),
        )
        .from_(source)
        .where(_col("member"))
    )
    if custom:
        query = query.with_("custom", as_=_custom_cte(entity, custom, custom_types))
    query = query.with_("base", as_=base).with_("preds", as_=preds).with_("wide", as_=wide)
    return EntityQuery(entity, tuple(s.id for s in segments), query)

"""IR -> Polars expressions over lazy frames; the same plan shape as ``compile/sql.py``.

custom (pivoted attribute values) -> base (normalized once) -> preds (each distinct leaf once,
``fill_null(False)``) -> wide (one boolean per segment) -> unpivot to long membership. The
whole thing is one lazy query: the engine calls ``collect`` once per entity.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import assert_never

import polars as pl

from pipeline.catalog import AttrType
from pipeline.compile.normalize import CASE_FIXES, PHONE_STRIP_PATTERN, WHITESPACE
from pipeline.compile.sql import column_name
from pipeline.inputs.schema import ENTITY_TABLE, VALUE_COLUMN
from pipeline.language import ir

UTC_DATETIME = pl.Datetime("us", "UTC")

# -- normalization: the rules of compile/normalize.py, on columns ----------------------------


def _blank_to_null(text: pl.Expr) -> pl.Expr:
    return pl.when(text == "").then(None).otherwise(text)


def normalized_text(value: pl.Expr) -> pl.Expr:
    text = value.str.strip_chars(WHITESPACE).str.to_lowercase()
    for old, new in CASE_FIXES:
        text = text.str.replace_all(old, new, literal=True)
    return _blank_to_null(text)


def normalized_phone(value: pl.Expr) -> pl.Expr:
    return _blank_to_null(value.str.replace_all(PHONE_STRIP_PATTERN, ""))


def normalized(attr: ir.Attr, raw: pl.Expr) -> pl.Expr:
    match attr.type:
        case AttrType.TEXT:
            return normalized_text(raw)
        case AttrType.PHONE:
            return normalized_phone(raw)
        case AttrType.TEXT_LIST | AttrType.PHONE_LIST:
            element = normalized_phone if attr.type.is_phone else normalized_text
            return raw.list.eval(element(pl.element()).drop_nulls())
        case AttrType.NUMBER:
            return raw.cast(pl.Float64).fill_nan(None)
        case AttrType.BOOLEAN:
            return raw
        case AttrType.DATETIME:
            return raw.cast(UTC_DATETIME)
        case AttrType.DATE:
            return raw.cast(UTC_DATETIME).dt.date()
        case _:
            assert_never(attr.type)


# -- leaves: one function per node ----------------------------------------------------------


def _lit(value: str | float | bool | dt.datetime | dt.date) -> pl.Expr:
    if isinstance(value, dt.datetime):
        return pl.lit(value.astimezone(dt.UTC), dtype=UTC_DATETIME)
    if isinstance(value, dt.date):
        return pl.lit(value, dtype=pl.Date)
    return pl.lit(value)


def _range(
    column: pl.Expr,
    low: pl.Expr | None,
    high: pl.Expr | None,
    low_inclusive: bool,
    high_inclusive: bool,
) -> pl.Expr:
    parts: list[pl.Expr] = []
    if low is not None:
        parts.append(column >= low if low_inclusive else column > low)
    if high is not None:
        parts.append(column <= high if high_inclusive else column < high)
    return pl.all_horizontal(parts) if parts else pl.lit(True)


def _text_match(column: pl.Expr, op: ir.TextOp, value: str) -> pl.Expr:
    match op:
        case "is" | "in":
            return column == value
        case "contains":
            return column.str.contains(value, literal=True)
        case "starts_with":
            return column.str.starts_with(value)
        case "ends_with":
            return column.str.ends_with(value)
        case _:
            assert_never(op)


def leaf_expr(leaf: ir.Leaf) -> pl.Expr:
    """One leaf over the normalized column (may be null; the caller makes it two-valued)."""
    column = pl.col(column_name(leaf.attr))
    match leaf:
        case ir.HasValue(attr=attr):
            return column.list.len() > 0 if attr.type.is_list else column.is_not_null()
        case ir.TextMatch(op="in", values=values):
            return column.is_in(pl.lit(list(values), dtype=pl.List(pl.String)).first())
        case ir.TextMatch(op=op, values=values):
            return pl.any_horizontal([_text_match(column, op, v) for v in values])
        case ir.ListMatch(op="is" | "in", values=values) if len(values) <= 4:
            return pl.any_horizontal([column.list.contains(pl.lit(v)) for v in values])
        case ir.ListMatch(op=op, values=values):
            element = pl.element()
            if op == "contains":
                hit = pl.any_horizontal([_text_match(element, "contains", v) for v in values])
            else:
                hit = element.is_in(pl.lit(list(values), dtype=pl.List(pl.String)).first())
            return column.list.eval(hit).list.any()
        case ir.NumberRange(low=low, high=high):
            return _range(
                column,
                None if low is None else _lit(low),
                None if high is None else _lit(high),
                leaf.low_inclusive,
                leaf.high_inclusive,
            )
        case ir.BoolIs(value=value):
            return column == value
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


# -- groups and segments --------------------------------------------------------------------


def condition_expr(condition: ir.Condition, predicate_column: Mapping[ir.Leaf, str]) -> pl.Expr:
    match condition:
        case ir.All(items=items):
            return pl.all_horizontal([condition_expr(i, predicate_column) for i in items])
        case ir.AnyOf(items=items):
            return pl.any_horizontal([condition_expr(i, predicate_column) for i in items])
        case ir.Not(item=item):
            return ~condition_expr(item, predicate_column)
        case _:
            return pl.col(predicate_column[condition])


def segment_expr(segment: ir.Segment, predicate_column: Mapping[ir.Leaf, str]) -> pl.Expr:
    member = condition_expr(segment.where, predicate_column)
    if segment.properties is not None:
        member = pl.col("property_id").is_in(list(segment.properties)) & member
    return member


def _custom_frame(
    values: pl.LazyFrame, entity: str, attrs: Sequence[ir.Attr], custom_types: Mapping[str, str]
) -> pl.LazyFrame:
    key = pl.col("key")
    return (
        values.filter((pl.col("entity") == entity) & key.is_in([a.name for a in attrs]))
        .group_by("property_id", "entity_id")
        .agg(
            pl.col(VALUE_COLUMN[custom_types[a.name]])
            .filter(key == a.name)
            .first()
            .alias(a.dsl_name)
            for a in attrs
        )
    )


def compile_entity(
    entity: str,
    segments: Sequence[ir.Segment],
    custom_types: Mapping[str, str],
    frames: Mapping[str, pl.LazyFrame],
) -> pl.LazyFrame:
    """The one lazy membership query for all ``segments`` of ``entity``."""
    table, id_column = ENTITY_TABLE[entity]
    attrs = list(dict.fromkeys(a for s in segments for a in ir.attributes(s.where)))
    builtin = [a for a in attrs if a.source == "builtin"]
    custom = [a for a in attrs if a.source == "custom"]

    base = frames[table].select(
        pl.col("property_id"),
        pl.col(id_column).alias("entity_id"),
        *(pl.col(a.name) for a in builtin),
    )
    if custom:
        pivot = _custom_frame(frames["attribute_values"], entity, custom, custom_types)
        base = base.join(pivot, on=["property_id", "entity_id"], how="left")
    base = base.select(
        "property_id",
        "entity_id",
        *(
            normalized(a, pl.col(a.name if a.source == "builtin" else a.dsl_name)).alias(
                column_name(a)
            )
            for a in attrs
        ),
    )

    predicate_column: dict[ir.Leaf, str] = {}
    for segment in segments:
        for leaf in ir.leaves(segment.where):
            predicate_column.setdefault(leaf, f"p{len(predicate_column) + 1}")
    preds = base.select(
        "property_id",
        "entity_id",
        *(leaf_expr(leaf).fill_null(False).alias(name) for leaf, name in predicate_column.items()),
    )
    ids = [s.id for s in segments]
    wide = preds.select(
        "property_id",
        "entity_id",
        *(segment_expr(s, predicate_column).alias(s.id) for s in segments),
    )
    return (
        wide.unpivot(
            on=ids,
            index=["property_id", "entity_id"],
            variable_name="segment_id",
            value_name="member",
        )
        .filter(pl.col("member"))
        .select(
            "property_id",
            pl.col("segment_id").cast(pl.String),
            pl.lit(entity).alias("entity"),
            "entity_id",
        )
    )

"""IR -> Polars expressions: normalization and one function per leaf, as in ``sql.py``.

``polars_query.py`` assembles them into lazy queries of the same shape as the SQL ones.
"""

from __future__ import annotations

import datetime as dt
from typing import assert_never

import polars as pl

from pipeline.catalog import AttrType
from pipeline.compile.normalize import (
    CASE_FIXES,
    NEWER_LOWER_FROM,
    NEWER_LOWER_TO,
    PHONE_STRIP_PATTERN,
    WHITESPACE,
)
from pipeline.compile.sql import column_name
from pipeline.language import ir

UTC_DATETIME = pl.Datetime("us", "UTC")

# -- normalization: the rules of compile/normalize.py, on columns ----------------------------


def _blank_to_null(text: pl.Expr) -> pl.Expr:
    return pl.when(text == "").then(None).otherwise(text)


def normalized_text(value: pl.Expr) -> pl.Expr:
    trimmed = value.str.strip_chars(WHITESPACE)
    newer = trimmed.str.replace_many(list(NEWER_LOWER_FROM), list(NEWER_LOWER_TO))
    text = newer.str.to_lowercase()
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


def lit(value: str | float | bool | dt.datetime | dt.date) -> pl.Expr:
    if isinstance(value, dt.datetime):
        return pl.lit(value.astimezone(dt.UTC), dtype=UTC_DATETIME)
    if isinstance(value, dt.date):
        return pl.lit(value, dtype=pl.Date)
    return pl.lit(value)


def range_expr(
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
        case ir.NumberRange(low=low, high=high) | ir.TimeRange(low=low, high=high):
            return range_expr(
                column,
                None if low is None else lit(low),
                None if high is None else lit(high),
                leaf.low_inclusive,
                leaf.high_inclusive,
            )
        case ir.BoolIs(value=value):
            return column == value
        case ir.DateRange(low=low, high=high):
            return range_expr(
                column,
                None if low is None else lit(low),
                None if high is None else lit(high),
                True,
                True,
            )
        case _:
            assert_never(leaf)

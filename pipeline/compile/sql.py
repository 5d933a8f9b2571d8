"""IR -> SQL expressions, built as sqlglot trees and rendered per dialect.

This module holds the semantics of single predicates: normalization of attribute columns and
one function per leaf node. ``sql_query.py`` assembles them into queries.

No user value is pasted into SQL text: values become sqlglot literals, which the dialect's
generator quotes and escapes. Functions are sqlglot's own expression classes, so that every
dialect renders its own spelling (``list_contains`` in DuckDB, ``array_contains`` in Spark).
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Callable, Sequence
from typing import assert_never

from sqlglot import exp

from pipeline.catalog import AttrType
from pipeline.compile.normalize import (
    CASE_FIXES,
    LIST_NEEDS_MORE_PATTERN,
    LIST_SEPARATOR,
    NEWER_LOWER_FROM,
    NEWER_LOWER_TO,
    PHONE_LIST_GUARD_PATTERN,
    PHONE_LIST_STRIP_PATTERN,
    PHONE_STRIP_PATTERN,
    TEXT_NEEDS_LETTERS_PATTERN,
    TEXT_NEEDS_MORE_PATTERN,
    WHITESPACE,
)
from pipeline.language import ir

# -- literals and small helpers -------------------------------------------------------------


@functools.cache
def _parsed_type(name: str) -> exp.DataType:
    return exp.DataType.build(name)


def sql_type(name: str) -> exp.DataType:
    """The data type ``name``, parsed once (sqlglot parses the text on every ``build``)."""
    return _parsed_type(name).copy()


def lit(value: str | float | bool | dt.datetime | dt.date) -> exp.Expr:
    if isinstance(value, bool):
        return exp.Boolean(this=value)
    if isinstance(value, dt.datetime):
        text = value.astimezone(dt.UTC).isoformat(sep=" ")
        return exp.cast(exp.Literal.string(text), sql_type("timestamptz"))
    if isinstance(value, dt.date):
        return exp.cast(exp.Literal.string(value.isoformat()), sql_type("date"))
    if isinstance(value, float | int):
        return exp.Literal.number(repr(float(value)))
    return exp.Literal.string(value)


def col(name: str, table: str | None = None) -> exp.Column:
    """A quoted column, qualified by ``table`` if given."""
    return exp.column(name, table=table, quoted=True)


def _lambda(body: exp.Expr, var: str = "x") -> exp.Lambda:
    return exp.Lambda(this=body, expressions=[exp.to_identifier(var)])


def and_all(items: Sequence[exp.Expr]) -> exp.Expr:
    return exp.and_(*items) if items else exp.true()


def or_any(items: Sequence[exp.Expr]) -> exp.Expr:
    return exp.or_(*items) if items else exp.false()


def column_name(attr: ir.Attr) -> str:
    """The name of an attribute's normalized column in ``base`` (also used by Polars)."""
    return attr.dsl_name


# -- normalization: the rules of compile/normalize.py, on columns ----------------------------


def _characters(chars: str) -> exp.Expr:
    """A string constant with every non-printable character spelled ``CHR(n)``, so that
    printed SQL (golden files, ``segments compile``) holds no raw control or unassigned
    characters."""
    parts: list[exp.Expr] = []
    run = ""
    for char in chars:
        if char.isprintable():
            run += char
            continue
        if run:
            parts.append(lit(run))
            run = ""
        parts.append(exp.func("chr", exp.Literal.number(ord(char)), copy=False))
    if run:
        parts.append(lit(run))
    combined = parts[0]
    for part in parts[1:]:
        combined = exp.DPipe(this=combined, expression=part, safe=True)
    return combined


TRIMMED_CHARACTERS = _characters(WHITESPACE)
NEWER_LOWER_SQL = (_characters(NEWER_LOWER_FROM), _characters(NEWER_LOWER_TO))


def guarded_change(node: exp.Expr) -> exp.Expr | None:
    """The changed value of the guard ``normalized_text`` writes, if ``node`` is one (for
    dialects whose regular expressions read the pattern differently)."""
    if not isinstance(node, exp.Case) or len(node.args.get("ifs") or []) != 1:
        return None
    test = node.args["ifs"][0].this
    guards = (
        TEXT_NEEDS_MORE_PATTERN,
        TEXT_NEEDS_LETTERS_PATTERN,
        LIST_NEEDS_MORE_PATTERN,
        PHONE_LIST_GUARD_PATTERN,
    )
    if isinstance(test, exp.RegexpLike) and test.expression.name in guards:
        changed: exp.Expr = node.args["ifs"][0].args["true"]
        return changed
    return None


def normalized_text(value: exp.Expr) -> exp.Expr:
    trimmed = exp.Trim(this=value.copy(), expression=TRIMMED_CHARACTERS.copy())
    text: exp.Expr = exp.Lower(
        this=exp.func(
            "translate", trimmed, NEWER_LOWER_SQL[0].copy(), NEWER_LOWER_SQL[1].copy(), copy=False
        )
    )
    for old, new in CASE_FIXES:
        text = exp.func("replace", text, _characters(old), _characters(new), copy=False)
    # Trim with a character set and translate cost 10x more in DuckDB than the regular
    # expression that tells whether a text needs more than lower-casing (white space at an
    # edge: 17% of the social links of the benchmark data), and translate 3x more than trim
    # (on 2.35M texts 2.2 s against 0.7 s): only the texts with a letter it maps are
    # translated, the others with white space at an edge are only trimmed.
    letters = exp.RegexpLike(this=value.copy(), expression=lit(TEXT_NEEDS_LETTERS_PATTERN))
    trimmed_only = exp.Lower(this=exp.Trim(this=value.copy(), expression=TRIMMED_CHARACTERS.copy()))
    more = exp.Case(ifs=[exp.If(this=letters, true=text)], default=trimmed_only)
    test = exp.RegexpLike(this=value.copy(), expression=lit(TEXT_NEEDS_MORE_PATTERN))
    changed = exp.Case(ifs=[exp.If(this=test, true=more)], default=exp.Lower(this=value.copy()))
    return exp.Nullif(this=changed, expression=lit(""))


def normalized_phone(value: exp.Expr) -> exp.Expr:
    # sqlglot's RegexpReplace replaces every match: DuckDB and PostgreSQL get their 'g' flag
    # from the generator, dialects that replace all by default get none (a literal 'g' would
    # be a position argument in Snowflake and an error in Trino).
    digits = exp.RegexpReplace(this=value, expression=lit(PHONE_STRIP_PATTERN), replacement=lit(""))
    return exp.Nullif(this=digits, expression=lit(""))


def _normalized_list(raw: exp.Expr, element: Callable[[exp.Expr], exp.Expr]) -> exp.Expr:
    """Each element of a list normalized, the unknown ones (null) dropped."""
    var = exp.to_identifier("x")
    mapped = exp.Transform(this=raw, expression=_lambda(element(var)))
    kept = exp.Not(this=exp.Is(this=var.copy(), expression=exp.Null()))
    # Empty lists stay empty (not NULL): every list leaf is false on them anyway.
    return exp.ArrayFilter(this=mapped, expression=_lambda(kept))


def _normalized_phones(raw: exp.Expr) -> exp.Expr:
    """A list of phones normalized: its elements joined by ``LIST_SEPARATOR``, every other
    character stripped by one regular expression, cut again and the empty ones dropped (the
    phones of 2.35M people 1.76 -> 0.86 s in DuckDB, against one expression per phone). A
    list with the separator inside a phone is normalized phone by phone."""
    var = exp.to_identifier("x")
    separator = _characters(LIST_SEPARATOR)
    # An empty list, or one of unknown phones only, joins to null: to nothing, here.
    joined = exp.Coalesce(
        this=exp.ArrayToString(this=raw.copy(), expression=separator.copy()),
        expressions=[lit("")],
    )
    digits = exp.RegexpReplace(
        this=joined, expression=lit(PHONE_LIST_STRIP_PATTERN), replacement=lit("")
    )
    cut = exp.ArrayFilter(
        this=exp.Split(this=digits, expression=separator),
        expression=_lambda(exp.NEQ(this=var, expression=lit(""))),
    )
    known = exp.Case(
        ifs=[exp.If(this=exp.Is(this=raw.copy(), expression=exp.Null()), true=exp.Null())],
        default=cut,
    )
    whole = exp.ArrayToString(this=raw.copy(), expression=lit(""))
    test = exp.RegexpLike(this=whole, expression=lit(PHONE_LIST_GUARD_PATTERN))
    exact = _normalized_list(raw, normalized_phone)
    return exp.Case(ifs=[exp.If(this=test, true=exact)], default=known)


def normalized(attr: ir.Attr, raw: exp.Expr) -> exp.Expr:
    """The normalized form of an attribute's raw column."""
    match attr.type:
        case AttrType.TEXT:
            return normalized_text(raw)
        case AttrType.PHONE:
            return normalized_phone(raw)
        case AttrType.PHONE_LIST:
            return _normalized_phones(raw)
        case AttrType.TEXT_LIST:
            # Most lists need their elements lower-cased and nothing else: one regular
            # expression over the joined elements tells, where the guard of each element
            # inside the lambda cost DuckDB ~0.7 us an element (the tags of 2.35M people:
            # 2.0 s -> 0.5 s).
            var = exp.to_identifier("x")
            lowered = exp.ArrayFilter(
                this=exp.Transform(this=raw.copy(), expression=_lambda(exp.Lower(this=var))),
                expression=_lambda(exp.NEQ(this=var.copy(), expression=lit(""))),
            )
            joined = exp.ArrayToString(this=raw.copy(), expression=_characters(LIST_SEPARATOR))
            test = exp.RegexpLike(this=joined, expression=lit(LIST_NEEDS_MORE_PATTERN))
            exact = _normalized_list(raw, normalized_text)
            return exp.Case(ifs=[exp.If(this=test, true=exact)], default=lowered)
        case AttrType.NUMBER:
            nan = exp.cast(lit("NaN"), sql_type("double"))
            return exp.Nullif(this=exp.cast(raw, sql_type("double")), expression=nan)
        case AttrType.BOOLEAN | AttrType.DATETIME:
            return raw
        case AttrType.DATE:
            return exp.cast(raw, sql_type("date"))
        case _:
            assert_never(attr.type)


# -- leaves: one function per node ----------------------------------------------------------


def range_sql(
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
    return and_all(parts)


def _text_match(column: exp.Expr, op: ir.TextOp, value: str) -> exp.Expr:
    match op:
        case "is" | "in":
            return exp.EQ(this=column, expression=lit(value))
        case "contains":
            return exp.Contains(this=column, expression=lit(value))
        case "starts_with":
            return exp.StartsWith(this=column, expression=lit(value))
        case "ends_with":
            return exp.EndsWith(this=column, expression=lit(value))
        case _:
            assert_never(op)


def leaf_sql(leaf: ir.Leaf) -> exp.Expr:
    """One leaf as a (possibly three-valued) SQL predicate over the normalized column."""
    column = col(column_name(leaf.attr))
    match leaf:
        case ir.HasValue(attr=attr):
            if attr.type.is_list:
                return exp.GT(this=exp.ArraySize(this=column), expression=exp.Literal.number(0))
            return exp.Not(this=exp.Is(this=column, expression=exp.Null()))
        case ir.TextMatch(op="in", values=values):
            return exp.In(this=column, expressions=[lit(v) for v in values])
        case ir.TextMatch(op=op, values=values):
            return or_any([_text_match(column.copy(), op, v) for v in values])
        case ir.ListMatch(op="is" | "in", values=values) if len(values) <= 4:
            return or_any(
                [exp.ArrayContains(this=column.copy(), expression=lit(v)) for v in values]
            )
        case ir.ListMatch(op=op, values=values):
            var = exp.to_identifier("x")
            if op == "contains":
                hit = or_any([_text_match(var.copy(), "contains", v) for v in values])
            else:
                hit = exp.In(this=var, expressions=[lit(v) for v in values])
            matches = exp.ArrayFilter(this=column, expression=_lambda(hit))
            return exp.GT(this=exp.ArraySize(this=matches), expression=exp.Literal.number(0))
        case ir.NumberRange(low=low, high=high) | ir.TimeRange(low=low, high=high):
            return range_sql(
                column,
                None if low is None else lit(low),
                None if high is None else lit(high),
                leaf.low_inclusive,
                leaf.high_inclusive,
            )
        case ir.BoolIs(value=value):
            return exp.EQ(this=column, expression=lit(value))
        case ir.DateRange(low=low, high=high):
            return range_sql(
                column,
                None if low is None else lit(low),
                None if high is None else lit(high),
                True,
                True,
            )
        case _:
            assert_never(leaf)


def two_valued(predicate: exp.Expr) -> exp.Expr:
    """SPEC: a leaf on an unknown value is false, never NULL."""
    return exp.Coalesce(this=predicate, expressions=[exp.false()])

"""Text normalization: every engine gives the normalized form of ``compile/normalize.py``.

The SQL compiler skips trim and translate where a regular expression says a text needs neither
(a guard for speed); these tests show the guard loses nothing, over every code point alone, at
the start, the end and inside a text, and over white space combinations.
"""

from __future__ import annotations

import sys
from collections.abc import Callable

import duckdb
import polars as pl
import pytest
from sqlglot import exp

from pipeline.catalog import AttrType
from pipeline.compile import polars as polars_compile
from pipeline.compile import sql as sql_compile
from pipeline.compile.dialects import DIALECTS, render
from pipeline.compile.normalize import (
    LIST_NEEDS_MORE_PATTERN,
    NEWER_LOWER_FROM,
    NEWER_LOWER_TO,
    TEXT_NEEDS_MORE_PATTERN,
    WHITESPACE,
    normalize_phone,
    normalize_text,
)
from pipeline.language import ir

Normalizer = Callable[[list[str | None]], list[str | None]]


def _texts() -> list[str | None]:
    """Every code point (surrogates excepted) alone, leading, trailing and inside a word; white
    space around rare letters; blanks and nulls."""
    points = [chr(c) for c in range(sys.maxunicode + 1) if not 0xD800 <= c <= 0xDFFF]
    texts: list[str | None] = []
    for char in points:
        texts += [char, f"{char}Ab", f"aB{char}", f"a{char}B"]
    for space in WHITESPACE:
        for letter in NEWER_LOWER_FROM[:3] + NEWER_LOWER_FROM[-3:] + "İΣ":
            texts += [f"{space}{letter}", f"{letter}{space}", f"{space}x{letter}x{space}"]
        texts += [space * 3, f"{space} {space}Mixed Case{space}\n"]
    return [*texts, "", None, "ΟΔΟΣ", "İstanbul"]


def _duckdb(texts: list[str | None]) -> list[str | None]:
    select = exp.select(exp.alias_(sql_compile.normalized_text(exp.column("t")), "n")).from_("x")
    connection = duckdb.connect()
    connection.register("x", pl.DataFrame({"t": texts}, schema={"t": pl.String}).to_arrow())
    rows = connection.execute(render(select, "duckdb")).fetchall()
    return [row[0] for row in rows]


def _polars(texts: list[str | None]) -> list[str | None]:
    frame = pl.DataFrame({"t": texts}, schema={"t": pl.String})
    return frame.select(polars_compile.normalized_text(pl.col("t"))).to_series().to_list()


@pytest.fixture(scope="module")
def texts() -> list[str | None]:
    return _texts()


@pytest.mark.parametrize("engine", [_duckdb, _polars], ids=["duckdb", "polars"])
def test_every_code_point_normalizes_as_specified(engine: Normalizer, texts: list[str]) -> None:
    expected = [None if t is None else normalize_text(t) for t in texts]
    got = engine(texts)
    wrong = [(t, e, g) for t, e, g in zip(texts, expected, got, strict=True) if e != g]
    assert wrong == [], f"{len(wrong)} texts differ, first: {wrong[:5]!r}"


def test_the_guard_matches_every_text_that_trim_or_translate_would_change(
    texts: list[str | None],
) -> None:
    connection = duckdb.connect()
    connection.register("x", pl.DataFrame({"t": texts}, schema={"t": pl.String}).to_arrow())
    missed = connection.execute(
        "SELECT t FROM x WHERE NOT regexp_matches(t, ?) AND t <> translate(trim(t, ?), ?, ?)",
        [TEXT_NEEDS_MORE_PATTERN, WHITESPACE, NEWER_LOWER_FROM, NEWER_LOWER_TO],
    ).fetchall()
    assert missed == []
    ordinary = connection.execute(
        "SELECT count(*) FROM x WHERE regexp_matches(t, ?) AND t = trim(t, ?)"
        " AND NOT regexp_matches(t, ?)",
        [TEXT_NEEDS_MORE_PATTERN, WHITESPACE, f"[{NEWER_LOWER_FROM}\u0130\u0307\u03a3\u03c2]"],
    ).fetchone()
    assert ordinary == (0,), "the guard fires only where there is work to do"


@pytest.mark.parametrize("dialect", [d for d in DIALECTS if d not in ("duckdb", "spark")])
def test_dialects_that_read_patterns_differently_get_the_unguarded_form(dialect: str) -> None:
    select = exp.select(sql_compile.normalized_text(exp.column("t"))).from_("x")
    text = render(select, dialect)
    assert "TRANSLATE(" in text.upper()
    assert "x{20}" not in text
    guarded = render(select, "spark")
    assert "x{20}" in guarded and " RLIKE " in guarded.upper()


# --- lists: one guard over the joined elements ----------------------------------------------

ListNormalizer = Callable[[list[list[str | None] | None]], list[list[str] | None]]


def _lists() -> list[list[str | None] | None]:
    """Every code point (surrogates excepted) in an element at the start and at the end of a
    list, next to an ordinary element; white space around rare letters; blank and null
    elements; and the edge cases of lists themselves."""
    points = [chr(c) for c in range(sys.maxunicode + 1) if not 0xD800 <= c <= 0xDFFF]
    lists: list[list[str | None] | None] = []
    for char in points:
        lists += [[f"{char}Ab", "Vip"], ["Vip", f"aB{char}"]]
    for space in WHITESPACE:
        for letter in NEWER_LOWER_FROM[:3] + "İΣς":
            lists += [["x", f"{space}{letter}"], [f"{letter}{space}", "x"], [f"{space}", None]]
    return [*lists, [], None, [None], [""], [" "], ["A", None, "b"], ["\x1f", " x"], ["x\x1f "]]


def _duckdb_lists(lists: list[list[str | None] | None]) -> list[list[str] | None]:
    attr = ir.Attr("builtin", "tags", AttrType.TEXT_LIST)
    select = exp.select(exp.alias_(sql_compile.normalized(attr, exp.column("t")), "n")).from_("x")
    frame = pl.DataFrame({"t": lists}, schema={"t": pl.List(pl.String)})
    connection = duckdb.connect()
    connection.register("x", frame.to_arrow())
    return [row[0] for row in connection.execute(render(select, "duckdb")).fetchall()]


def _polars_lists(lists: list[list[str | None] | None]) -> list[list[str] | None]:
    attr = ir.Attr("builtin", "tags", AttrType.TEXT_LIST)
    frame = pl.DataFrame({"t": lists}, schema={"t": pl.List(pl.String)})
    return frame.select(polars_compile.normalized(attr, pl.col("t"))).to_series().to_list()


@pytest.mark.parametrize("engine", [_duckdb_lists, _polars_lists], ids=["duckdb", "polars"])
def test_every_code_point_in_a_list_normalizes_as_specified(engine: ListNormalizer) -> None:
    """DuckDB lower-cases a list without normalizing each element when one regular expression
    over the joined elements says none needs more: no element it skips is left unnormalized."""
    lists = _lists()
    expected = [
        None
        if elements is None
        else [n for e in elements if e is not None and (n := normalize_text(e)) is not None]
        for elements in lists
    ]
    got = engine(lists)
    wrong = [(t, e, g) for t, e, g in zip(lists, expected, got, strict=True) if e != g]
    assert wrong == [], f"{len(wrong)} lists differ, first: {wrong[:5]!r}"


def test_the_list_guard_fires_only_where_an_element_needs_more_than_lower_casing() -> None:
    lists = [
        ["Vip", "Beta"],
        ["ÉCOLE", "x y"],
        [None, "Vip"],
        ["vip ", "b"],
        ["a", "\u2003b"],
        ["İstanbul"],
        ["ΟΔΟΣ"],
        ["a\x1fb"],
    ]
    frame = pl.DataFrame({"t": lists}, schema={"t": pl.List(pl.String)})
    connection = duckdb.connect()
    connection.register("x", frame.to_arrow())
    fired = connection.execute(
        "SELECT regexp_matches(array_to_string(t, chr(31)), ?) FROM x", [LIST_NEEDS_MORE_PATTERN]
    ).fetchall()
    assert [f for (f,) in fired] == [False, False, False, True, True, True, True, False]


# --- phone lists: one regular expression over the joined phones -----------------------------


def _phone_lists() -> list[list[str | None] | None]:
    """Every code point (surrogates excepted) inside a phone next to digits, at the start and
    at the end of a list; the separator inside a phone; and the edge cases of lists."""
    points = [chr(c) for c in range(sys.maxunicode + 1) if not 0xD800 <= c <= 0xDFFF]
    lists: list[list[str | None] | None] = []
    for char in points:
        lists += [[f"+3{char}3 1", "(0)12"], ["4-5", f"{char}"]]
    separated = ["1\x1f2", "3"]
    return [*lists, separated, [], None, [None], [None, None], [""], ["abc"], ["1", None, "2"]]


def _duckdb_phone_lists(lists: list[list[str | None] | None]) -> list[list[str] | None]:
    attr = ir.Attr("builtin", "phones", AttrType.PHONE_LIST)
    select = exp.select(exp.alias_(sql_compile.normalized(attr, exp.column("t")), "n")).from_("x")
    frame = pl.DataFrame({"t": lists}, schema={"t": pl.List(pl.String)})
    connection = duckdb.connect()
    connection.register("x", frame.to_arrow())
    return [row[0] for row in connection.execute(render(select, "duckdb")).fetchall()]


def _polars_phone_lists(lists: list[list[str | None] | None]) -> list[list[str] | None]:
    attr = ir.Attr("builtin", "phones", AttrType.PHONE_LIST)
    frame = pl.DataFrame({"t": lists}, schema={"t": pl.List(pl.String)})
    return frame.select(polars_compile.normalized(attr, pl.col("t"))).to_series().to_list()


@pytest.mark.parametrize(
    "engine", [_duckdb_phone_lists, _polars_phone_lists], ids=["duckdb", "polars"]
)
def test_every_code_point_in_a_phone_list_normalizes_as_specified(
    engine: ListNormalizer,
) -> None:
    """DuckDB strips a list's phones with one regular expression over them joined by a
    separator, and cuts at the separators: a phone holding the separator is not cut in two,
    a list of unknown phones is empty, an unknown list stays unknown."""
    lists = _phone_lists()
    expected = [
        None
        if phones is None
        else [n for p in phones if p is not None and (n := normalize_phone(p)) is not None]
        for phones in lists
    ]
    got = engine(lists)
    wrong = [(t, e, g) for t, e, g in zip(lists, expected, got, strict=True) if e != g]
    assert wrong == [], f"{len(wrong)} lists differ, first: {wrong[:5]!r}"
    assert got[-8] == ["12", "3"]

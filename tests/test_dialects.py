"""Warehouse SQL: every example segment in every dialect parses back, or is refused clearly.

``segments compile SEGMENT --dialect D`` prints one self-contained query over the input tables.
Where a dialect cannot express a construct faithfully, rendering refuses (exit 4 in the CLI)
with ``cannot be written faithfully in D`` and a hint, instead of printing wrong SQL. Today every
example segment prints in every dialect; what is refused is several segments in one query
(UNPIVOT) in Trino and PostgreSQL.
"""

from __future__ import annotations

import datetime as dt
import re
import zoneinfo
from pathlib import Path

import duckdb
import pytest
import sqlglot
from sqlglot import exp

from pipeline.catalog import AttrType, Catalog
from pipeline.cli import main
from pipeline.compile.dialects import DIALECTS, DialectError, render
from pipeline.compile.sql import normalized, normalized_text
from pipeline.compile.sql_query import compile_entity
from pipeline.inputs import read_custom_attributes
from pipeline.language import ir
from pipeline.language.check import CheckContext
from pipeline.language.segments import load_segments
from pipeline.language.temporal import clock
from pipeline.run import compiled_sql

ROOT = Path(__file__).resolve().parents[1]
AS_OF = dt.datetime(2026, 11, 20, 12, tzinfo=dt.UTC)
TZ = zoneinfo.ZoneInfo("Europe/Paris")
CATALOG = Catalog.build(read_custom_attributes(ROOT / "data"), ir.rollup_columns())
SEGMENTS = load_segments(ROOT / "segments", CheckContext(CATALOG, AS_OF, TZ))
SEGMENTS_BY_ENTITY = [s for s in SEGMENTS if s.entity == "organization"]
CUSTOM_TYPES = {key: attr.type for key, attr in CATALOG.custom.items()}
#: Dialects without lambda functions: list normalization becomes ARRAY(SELECT ... UNNEST).
NO_LAMBDAS = ("bigquery", "postgres")


@pytest.mark.parametrize("dialect", DIALECTS)
@pytest.mark.parametrize("segment", SEGMENTS, ids=lambda s: s.id)
def test_every_example_segment_parses_back(segment: ir.Segment, dialect: str) -> None:
    sql = compiled_sql(segment, CATALOG, clock(AS_OF, TZ), dialect)
    tree = sqlglot.parse_one(sql, read=dialect)
    assert isinstance(tree, exp.Query)
    assert segment.id in sql
    if dialect in NO_LAMBDAS:
        assert "->" not in sql and " : " not in sql, "a lambda reached a dialect without them"


def test_list_normalization_without_lambdas_runs_in_duckdb() -> None:
    """The lambda-free form (filter over a mapped UNNEST), run where it can be: DuckDB."""
    attr = ir.Attr("builtin", "tags", AttrType.TEXT_LIST)
    sql = render(normalized(attr, exp.column("tags")), "postgres")
    con = duckdb.connect()
    source = "(SELECT [' A\u00a0', '', NULL, 'b ', '  '] AS tags)"
    got = con.execute(f"SELECT {sql} FROM {source}").fetchall()
    assert got == [(["a", "b"],)]


@pytest.mark.parametrize("dialect", ["trino", "postgres"])
def test_several_segments_in_one_query_are_refused_without_unpivot(dialect: str) -> None:
    query = compile_entity("organization", SEGMENTS_BY_ENTITY, CUSTOM_TYPES, clock(AS_OF, TZ))
    with pytest.raises(DialectError, match=f"cannot be written faithfully in {dialect}") as info:
        query.sql(dialect)
    assert "has no UNPIVOT" in str(info.value)
    assert "Hint: use one of the dialects that can" in str(info.value)


def test_spark_never_uses_chr_above_ascii() -> None:
    """Spark's chr(n) is the byte n % 256: chr(8232) would be '(' and trim parentheses."""
    attr = ir.Attr("builtin", "name", AttrType.TEXT)
    sql = render(normalized_text(exp.column(attr.name)), "spark")
    codes = [int(n) for n in re.findall(r"CHR\((\d+)\)", sql)]
    assert codes and all(n < 128 for n in codes)
    assert "\u2028" in sql and "\u3000" in sql


def test_substring_tests_avoid_contains_where_it_means_something_else() -> None:
    tree = exp.Contains(this=exp.column("name"), expression=exp.Literal.string("ac"))
    assert render(tree, "trino") == "STRPOS(name, 'ac') > 0"
    assert render(tree, "postgres") == "POSITION('ac' IN name) > 0"
    assert render(tree, "bigquery") == "INSTR(name, 'ac') > 0"
    suffix = exp.EndsWith(this=exp.column("name"), expression=exp.Literal.string("sas"))
    assert render(suffix, "postgres") == "RIGHT(name, 3) = 'sas'"


def test_cli_prints_spark_sql(capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["compile", "went-quiet", "--data", str(ROOT / "data")]
    argv += ["--segments", str(ROOT / "segments"), "--as-of", "2026-11-20T12:00:00Z"]
    assert main([*argv, "--dialect", "spark"]) == 0
    sql = capsys.readouterr().out
    assert "`property_id`" in sql
    sqlglot.parse_one(sql.rstrip().rstrip(";"), read="spark")


def test_cli_unknown_dialect(capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["compile", "went-quiet", "--data", str(ROOT / "data")]
    argv += ["--segments", str(ROOT / "segments"), "--dialect", "sparks"]
    assert main(argv) == 4
    err = capsys.readouterr().err
    assert "unknown dialect 'sparks'" in err and "spark" in err


def test_collector_paused_restores_the_collectors_state() -> None:
    import gc

    from pipeline.collector import collector_paused

    assert gc.isenabled()
    with pytest.raises(ZeroDivisionError), collector_paused():
        assert not gc.isenabled()
        _ = 1 / 0
    assert gc.isenabled()
    gc.disable()
    try:
        with collector_paused():
            assert not gc.isenabled()
        assert not gc.isenabled()  # it was off before: it stays off
    finally:
        gc.enable()


def test_collector_paused_in_two_threads_at_once_restores_it_once_both_end() -> None:
    import gc
    import threading

    from pipeline.collector import collector_paused

    inside, leave = threading.Event(), threading.Event()

    def first_block() -> None:
        with collector_paused():
            inside.set()
            leave.wait(10)

    other = threading.Thread(target=first_block)
    other.start()
    assert inside.wait(10)
    with collector_paused():
        leave.set()
        other.join(10)  # the first block has ended; this one is still open
        assert not gc.isenabled()
    assert gc.isenabled()

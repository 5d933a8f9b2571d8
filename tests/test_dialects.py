"""Warehouse SQL: every example segment in every dialect parses back, or is refused clearly.

``segments compile SEGMENT --dialect D`` prints one self-contained query over the input tables.
Where a dialect cannot express a construct faithfully, the command refuses (exit 4) with
``cannot be written faithfully in D`` and a hint, instead of printing wrong SQL.
"""

from __future__ import annotations

import datetime as dt
import re
import zoneinfo
from pathlib import Path

import pytest
import sqlglot
from sqlglot import exp

from pipeline.catalog import AttrType, Catalog
from pipeline.cli import main
from pipeline.compile.dialects import DIALECTS, DialectError, render
from pipeline.compile.sql import normalized_text
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
#: Dialects without lambda functions refuse segments that read list attributes.
NO_LAMBDAS = ("bigquery", "postgres")


def _reads_a_list(segment: ir.Segment) -> bool:
    def walk(condition: ir.Condition) -> bool:
        if any(a.type.is_list for a in ir.attributes(condition)):
            return True
        return any(
            isinstance(p, ir.Related) and p.where is not None and walk(p.where)
            for p in ir.predicates(condition)
        )

    return walk(ir.scoped(segment))


@pytest.mark.parametrize("dialect", DIALECTS)
@pytest.mark.parametrize("segment", SEGMENTS, ids=lambda s: s.id)
def test_every_example_segment_parses_back_or_is_refused(segment: ir.Segment, dialect: str) -> None:
    refused = dialect in NO_LAMBDAS and _reads_a_list(segment)
    if refused:
        with pytest.raises(DialectError, match=f"cannot be written faithfully in {dialect}"):
            compiled_sql(segment, CATALOG, clock(AS_OF, TZ), dialect)
        return
    sql = compiled_sql(segment, CATALOG, clock(AS_OF, TZ), dialect)
    tree = sqlglot.parse_one(sql, read=dialect)
    assert isinstance(tree, exp.Query)
    assert segment.id in sql


def test_most_example_segments_print_in_every_dialect() -> None:
    for dialect in NO_LAMBDAS:
        printed = [s for s in SEGMENTS if not _reads_a_list(s)]
        assert len(printed) >= len(SEGMENTS) // 2, dialect


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


def test_cli_refuses_what_a_dialect_cannot_express(capsys: pytest.CaptureFixture[str]) -> None:
    lister = next(s for s in SEGMENTS if _reads_a_list(s))
    argv = ["compile", lister.id, "--data", str(ROOT / "data")]
    argv += ["--segments", str(ROOT / "segments"), "--as-of", "2026-11-20T12:00:00Z"]
    assert main([*argv, "--dialect", "postgres"]) == 4
    captured = capsys.readouterr()
    assert captured.out == ""
    first, hint = captured.err.splitlines()[:2]
    assert first == (
        f"segments: error: segment {lister.id!r} cannot be written faithfully in postgres: "
        "PostgreSQL has no lambda functions, which list attributes (tags, emails, phones, "
        "custom lists) need"
    )
    assert hint.strip().startswith("Hint: use one of the dialects that can: duckdb, spark")


def test_cli_unknown_dialect(capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["compile", "went-quiet", "--data", str(ROOT / "data")]
    argv += ["--segments", str(ROOT / "segments"), "--dialect", "sparks"]
    assert main(argv) == 4
    err = capsys.readouterr().err
    assert "unknown dialect 'sparks'" in err and "spark" in err

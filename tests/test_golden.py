"""Golden SQL: the compiled query of every example segment, so SQL changes show in review.

After an intended change to the generated SQL, refresh the files with
``UPDATE_GOLDEN=1 pytest tests/test_golden.py`` and review the diff like code.
"""

from __future__ import annotations

import datetime as dt
import os
import zoneinfo
from pathlib import Path

import duckdb
import pytest

from pipeline.catalog import Catalog
from pipeline.inputs import read_custom_attributes
from pipeline.inputs.schema import TABLES
from pipeline.language import ir
from pipeline.language.check import CheckContext
from pipeline.language.segments import load_segments
from pipeline.language.temporal import clock
from pipeline.run import compiled_sql

ROOT = Path(__file__).resolve().parents[1]
GOLDEN = Path(__file__).parent / "golden"
AS_OF = dt.datetime(2026, 11, 20, 12, tzinfo=dt.UTC)
TZ = zoneinfo.ZoneInfo("Europe/Paris")


def _segments() -> tuple[Catalog, list[ir.Segment]]:
    catalog = Catalog.build(read_custom_attributes(ROOT / "data"), ir.rollup_columns())
    return catalog, load_segments(ROOT / "segments", CheckContext(catalog, AS_OF, TZ))


CATALOG, SEGMENTS = _segments()


@pytest.mark.parametrize("segment", SEGMENTS, ids=lambda s: s.id)
def test_compiled_sql_matches_golden_file(segment: ir.Segment) -> None:
    sql = compiled_sql(segment, CATALOG, clock(AS_OF, TZ)) + ";\n"
    path = GOLDEN / f"{segment.id}.sql"
    if os.environ.get("UPDATE_GOLDEN") == "1":
        GOLDEN.mkdir(exist_ok=True)
        path.write_text(sql)
    assert path.exists(), f"no golden file for {segment.id}; run with UPDATE_GOLDEN=1"
    assert sql == path.read_text(), f"{segment.id}: SQL changed; review, then UPDATE_GOLDEN=1"


def test_every_golden_file_has_a_segment() -> None:
    stale = {p.stem for p in GOLDEN.glob("*.sql")} - {s.id for s in SEGMENTS}
    assert not stale, f"golden files without a segment: {sorted(stale)}"


@pytest.mark.parametrize("segment", SEGMENTS, ids=lambda s: s.id)
def test_golden_sql_runs_on_the_sample(segment: ir.Segment) -> None:
    """The printed SQL is self-contained: it runs over the raw input tables as they are."""
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    for table in TABLES:
        con.read_parquet(str(ROOT / "data" / f"{table}.parquet")).to_view(table)
    rows = con.sql((GOLDEN / f"{segment.id}.sql").read_text().rstrip().rstrip(";")).fetchall()
    assert {r[1] for r in rows} <= {segment.id}
    assert all(r[2] == segment.entity for r in rows)

"""Any legal folder name works for the inputs and the output: glob characters (``*``, ``?``,
``[``) in a path are never read as patterns, by the engines or by the warehouse's views."""

from __future__ import annotations

import shutil
from pathlib import Path

import duckdb
import pyarrow.parquet as pq
import pytest
from engine_helpers import ENGINES, engine_options

from pipeline.parquet import glob_literal
from pipeline.run import RunConfig, run

ROOT = Path(__file__).resolve().parent.parent
#: A folder name every character of which a glob would read as a pattern.
NASTY = "o[1]?*'x"


def test_glob_literal_matches_only_the_path_itself(tmp_path: Path) -> None:
    for name in (NASTY, "o1?'x", "o1x'x"):
        (tmp_path / name).mkdir()
        (tmp_path / name / "t.parquet").write_bytes(b"")
    pattern = glob_literal(str(tmp_path / NASTY)) + "/*.parquet"
    found = duckdb.sql("SELECT file FROM glob(?)", params=[pattern]).fetchall()
    assert found == [(str(tmp_path / NASTY / "t.parquet"),)]


@pytest.mark.parametrize("engine", ENGINES)
def test_runs_read_and_publish_under_a_path_full_of_glob_characters(
    engine: str, tmp_path: Path
) -> None:
    engine_options(engine)  # the tests' one Spark session, reused by the run
    data = tmp_path / f"data{NASTY}"
    shutil.copytree(ROOT / "data", data)
    out = tmp_path / NASTY
    # A sibling the unescaped patterns would match: its rows must never be read.
    decoy = tmp_path / "o1?'x"
    for as_of in ("2026-11-20T12:00:00Z", "2026-11-20T13:00:00Z"):
        run(RunConfig(data=data, segments=ROOT / "segments", out=out, as_of=as_of, engine=engine))
        if not decoy.exists():
            shutil.copytree(out / "segment_sizes", decoy / "segment_sizes")
    # The warehouse's views read the output folder's own files (a copy of the database: its
    # own path, holding ``?``, is one DuckDB cannot open).
    copy = tmp_path / "warehouse.duckdb"
    shutil.copyfile(out / "warehouse.duckdb", copy)
    con = duckdb.connect(str(copy), read_only=True)
    try:
        for table in ("segment_sizes", "segment_membership", "runs"):
            ((count,),) = con.sql(f"SELECT count(*) FROM {table}").fetchall()
            assert count == pq.read_table(out / table).num_rows, table
    finally:
        con.close()
    runs = pq.read_table(out / "runs").to_pylist()
    assert [r["status"] for r in runs] == ["succeeded", "succeeded"]

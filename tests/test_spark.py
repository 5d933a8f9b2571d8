"""Spark parity: ``--engine spark`` gives exactly the DuckDB tables and memberships.

The behaviour suites (operators, complement, limits, timeline, history) run on Spark as on every
engine of the registry; this module adds what only Spark has: whole runs against DuckDB's
tables, remote inputs. One SparkSession (local mode) for the test run; the engines and
``segments run`` reuse it. CI installs the
``spark`` extra and Java: there a missing PySpark fails the module (``pytest.importorskip``
would hide it); elsewhere, without PySpark, the module is skipped with a visible reason.
"""

from __future__ import annotations

import datetime as dt
import random
import zoneinfo
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest
from engine_helpers import (
    COMPUTED_TABLES,
    Dataset,
    check_segments,
    engine_options,
    require_pyspark,
    run_engine,
    segment_yaml,
)

from pipeline.catalog import Catalog
from pipeline.cli import main
from pipeline.engines.duckdb import DuckDBEngine
from pipeline.engines.spark import SparkEngine, is_remote, stage_remote_inputs
from pipeline.generate import generate
from pipeline.inputs import read_custom_attributes
from pipeline.inputs.schema import TABLES as TABLES_SCHEMA
from pipeline.language import ir
from pipeline.language.temporal import clock as run_clock

require_pyspark()

#: Spark's tests run where its marker is on (``--all-engines``, CI; see conftest).
pytestmark = pytest.mark.spark

ROOT = Path(__file__).resolve().parents[1]
TABLES_IN = tuple(TABLES_SCHEMA)
COLUMNS = {table: schema.names for table, schema in TABLES_SCHEMA.items()}
#: Columns that order every input table's rows (ids; ``key`` for attribute values).
KEYS = ("property_id", "org_id", "person_id", "event_id", "entity", "entity_id", "key")
AS_OF = "2026-11-20T12:00:00Z"


@pytest.fixture(scope="module")
def spark() -> Any:
    """The tests' one Spark session (see ``engine_helpers.engine_options``), left running
    for the behaviour suites, which run on Spark too."""
    return engine_options("spark").spark_session


def spark_members(spark: Any, data: Dataset, texts: list[str], as_of: dt.datetime, tz: str) -> set:
    segments = check_segments(texts, data.catalog, as_of, tz)
    engine = SparkEngine(data.paths, session=spark)
    try:
        table = engine.flags(
            segments, data.custom_types, run_clock(as_of, zoneinfo.ZoneInfo(tz))
        ).table()
    finally:
        engine.close()
    rows = table.select(["segment_id", "property_id", "entity_id"]).to_pylist()
    return {(r["segment_id"], r["property_id"], r["entity_id"]) for r in rows}


def test_sample_run_gives_the_duckdb_tables(
    spark: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    outs = {}
    for engine in ("duckdb", "spark"):
        out = tmp_path / engine
        argv = ["run", "--data", str(ROOT / "data"), "--segments", str(ROOT / "segments")]
        argv += ["--out", str(out), "--as-of", AS_OF, "--engine", engine, "--quiet"]
        assert main(argv) == 0, capsys.readouterr().err
        outs[engine] = out
    for table in COMPUTED_TABLES:
        want = pq.read_table(outs["duckdb"] / table)
        got = pq.read_table(outs["spark"] / table)
        assert got.schema == want.schema, table
        assert got.num_rows == want.num_rows, table
        assert got.equals(want), f"{table}: spark differs from duckdb"
    runs = pq.read_table(outs["spark"] / "runs").to_pylist()
    assert [r["engine"] for r in runs] == ["spark"]


def test_timeline_in_a_local_timezone_matches(spark: Any, tmp_path: Path) -> None:
    """Local days (``from_utc_timestamp``) across the Paris DST change."""
    inputs = {t: ROOT / "data" / f"{t}.parquet" for t in ("timeline", "organizations")}
    inputs["organization_people"] = ROOT / "data" / "organization_people.parquet"
    clock = run_clock(
        dt.datetime(2026, 3, 29, 12, tzinfo=dt.UTC), zoneinfo.ZoneInfo("Europe/Paris")
    )
    duck = DuckDBEngine(inputs)
    sparky = SparkEngine(inputs, session=spark)
    try:
        for engine, name in ((sparky, "spark"), (duck, "duckdb")):
            engine.timeline(clock, tmp_path / f"{name}.parquet", tmp_path / f"{name}-r.parquet")
        for suffix in (".parquet", "-r.parquet"):  # daily, then rollups
            assert pq.read_table(tmp_path / f"spark{suffix}") == pq.read_table(
                tmp_path / f"duckdb{suffix}"
            )
    finally:
        duck.close()
        sparky.close()


def _generated_wheres(rng: random.Random) -> Iterator[object]:
    """Random conditions over the generator's attributes (see pipeline/generate)."""
    leaves: list[object] = [
        {"name": {"contains": "tech"}},
        {"name": {"starts_with": "ac"}},
        {"name": {"ends_with": "sas"}},
        {"primary_email": {"ends_with": ".fr"}},
        {"primary_email": {"is_unknown": True}},
        {"primary_phone": {"starts_with": "33"}},
        {"phones": {"contains": "0"}},
        {"tags": {"contains": "enterprise"}},
        {"tags": {"in": ["reseller", "cold-lead", "nps-detractor", "beta-workflows", "vip"]}},
        {"tags": {"not_in": ["enterprise", "churned"]}},
        {"twitter": {"has_any_value": True}},
        {"linkedin_url": {"is_unknown": True}},
        {"job_title": {"is_not": "cto"}},
        {"created_at": {"within_last": "180d"}},
        {"updated_at": {"before": "2026-06-01"}},
        {"custom.plan": {"in": ["premium", "business"]}},
        {"custom.industry": {"is_unknown": True}},
        {"custom.arr": {"gte": 50000}},
        {"custom.employees": {"between": [10, 500]}},
        {"custom.is_customer": {"is": True}},
        {"custom.last_seen_at": {"more_than_ago": "30d"}},
        {"custom.renewal_date": {"within_next": "60d"}},
        {"custom.regions": {"contains": "eu"}},
        {"rollup.chats_30d": {"gte": 1}},
        {"rollup.tickets_90d": {"gte": 2}},
        {"timeline": {"kind": "call", "within_last": "90d"}},
        {"timeline": {"kind": ["note", "chat"], "count": {"gte": 3}}},
        {"timeline": {"count": {"is": 0}}},
        {"people": {"count": {"gte": 2}}},
        {"people": {"where": {"custom.seniority": {"in": ["c-level", "vp"]}}}},
        {"people": {"where": {"custom.languages": {"contains": "fr"}}}},
    ]
    while True:
        picked = rng.sample(leaves, rng.randint(1, 4))
        yield {rng.choice(["all", "any", "none"]): picked} if len(picked) > 1 else picked[0]


def test_generated_segments_match_duckdb(spark: Any, tmp_path: Path) -> None:
    generate(300, tmp_path, seed=7)
    tables = {p.stem: p for p in tmp_path.glob("*.parquet")}
    catalog = Catalog.build(read_custom_attributes(tmp_path), ir.rollup_columns())
    custom = {key: attr.type for key, attr in catalog.custom.items()}
    as_of = dt.datetime(2026, 11, 20, 12, tzinfo=dt.UTC)
    wheres = _generated_wheres(random.Random(20261120))
    texts = [segment_yaml(f"g{i:03d}", next(wheres)) for i in range(100)]
    segments = check_segments(texts, catalog, as_of)
    clock = run_clock(as_of, zoneinfo.ZoneInfo("UTC"))
    want = run_engine("duckdb", tables, segments, custom, clock)
    engine = SparkEngine(tables, session=spark)
    try:
        table = engine.flags(segments, custom, clock).table()
    finally:
        engine.close()
    got = {
        (r["segment_id"], r["property_id"], r["entity_id"])
        for r in table.select(["segment_id", "property_id", "entity_id"]).to_pylist()
    }
    assert len({m[0] for m in want}) > 50, "too few segments with members to compare"
    assert got == want


def test_remote_inputs_are_fetched_through_spark(spark: Any, tmp_path: Path) -> None:
    """``--data URL``: Spark reads each table (here ``file://``; ``s3a://`` etc. alike)."""
    # a limit of rows per file set for the cluster does not cut the copies
    spark.conf.set("spark.sql.files.maxRecordsPerFile", "10")
    try:
        staged = stage_remote_inputs(f"file://{ROOT / 'data'}", tmp_path / "staged", COLUMNS)
    finally:
        spark.conf.unset("spark.sql.files.maxRecordsPerFile")
    # one file per table, nothing else: the input validation scans a file in batches
    assert sorted(p.name for p in staged.iterdir()) == sorted(f"{t}.parquet" for t in TABLES_IN)
    for table in TABLES_IN:
        want = pq.read_table(ROOT / "data" / f"{table}.parquet")
        got = pq.read_table(staged / f"{table}.parquet")
        assert got.schema.equals(want.schema, check_metadata=False), table
        keys = [(name, "ascending") for name in want.schema.names if name in KEYS]
        assert got.cast(want.schema).sort_by(keys).equals(want.sort_by(keys)), table
    assert is_remote("s3a://bucket/crm") and is_remote("file:///x") and not is_remote("data")


def test_a_partitioned_remote_table_is_copied_in_the_canonical_columns_and_types(
    spark: Any, tmp_path: Path
) -> None:
    """A hive-partitioned table (``timeline/property_id=007/part-0.parquet``, the property
    as the folder only) comes back with ``property_id`` first and as text ("007", not 7):
    the canonical file that the validation scans in batches."""
    timeline = pq.read_table(ROOT / "data" / "timeline.parquet")
    names = sorted(set(timeline.column("property_id").to_pylist()))
    renamed = {name: f"{i:03d}" for i, name in enumerate(names, 7)}
    for name, number in renamed.items():
        rows = timeline.filter(pc.equal(timeline["property_id"], name))
        folder = tmp_path / "remote" / "timeline" / f"property_id={number}"
        folder.mkdir(parents=True)
        pq.write_table(rows.drop_columns(["property_id"]), folder / "part-0.parquet")
    staged = stage_remote_inputs(
        (tmp_path / "remote").as_uri(), tmp_path / "staged", {"timeline": COLUMNS["timeline"]}
    )
    got = pq.read_table(staged / "timeline.parquet")
    assert got.schema.equals(TABLES_SCHEMA["timeline"], check_metadata=False)
    want = timeline.set_column(
        1,
        "property_id",
        pa.array([renamed[p] for p in timeline.column("property_id").to_pylist()], pa.string()),
    )
    order = [("property_id", "ascending"), ("event_id", "ascending")]
    assert got.sort_by(order).equals(want.sort_by(order))


def test_remote_data_needs_the_spark_engine(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["run", "--data", "s3a://bucket/crm", "--out", "/nonexistent/out"]) == 4
    err = capsys.readouterr().err
    assert "--engine duckdb reads local folders only" in err
    assert "add --engine spark" in err

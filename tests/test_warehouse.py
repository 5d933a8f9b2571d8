"""``warehouse.duckdb`` as a BI model (issue 20, item 1): after a run of the bundled sample on
each engine, every table and view is read back read-only and held to the inputs: the contact
dimensions pivot the custom attributes, their compared columns are what segments compare (the
normalization's Python form, independent of the SQL), ``segment_members`` joins each member
to its contact, every object and column carries its comment from ``pipeline.outputs``, the
segments' ``compiled_sql`` returns their published members, and the queries of
``docs/outputs.md`` run. Objects a user creates survive runs that change the runs' objects."""

from __future__ import annotations

import datetime as dt
import io
import os
import re
import shutil
import signal
import subprocess
import sys
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any, Final

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import pipeline.run
from pipeline.catalog import BUILTIN, CUSTOM_TYPE, AttrType
from pipeline.compile.normalize import normalize_phone, normalize_text
from pipeline.inputs import read_custom_attributes
from pipeline.inputs.schema import ENTITY_TABLE, TABLES, VALUE_COLUMN
from pipeline.outputs import (
    COMPARED_SUFFIX,
    CUSTOM_PREFIX,
    DAILY,
    DIM_ORGANIZATIONS,
    DIM_PEOPLE,
    MEMBERSHIP,
    OUTPUTS,
    SEGMENT_MEMBERS,
    WAREHOUSE_OBJECTS,
    WAREHOUSE_ONLY,
    Output,
)
from pipeline.progress import Reporter
from pipeline.publish.warehouse import WAREHOUSE
from pipeline.run import RunConfig, run

ROOT: Final = Path(__file__).resolve().parent.parent
AS_OF: Final = "2026-11-20T12:00:00Z"
#: Later runs (a run refuses an ``as_of`` far in the future of the wall clock).
LATER: Final = ("2026-11-21T12:00:00Z", "2026-11-22T12:00:00Z", "2026-11-23T12:00:00Z")
ATTRIBUTES: Final = read_custom_attributes(ROOT / "data")
DIMENSIONS: Final = {"organization": DIM_ORGANIZATIONS, "person": DIM_PEOPLE}
#: DuckDB's name of each declared type.
SQL_TYPES: Final = {
    pa.string(): "VARCHAR",
    pa.list_(pa.string()): "VARCHAR[]",
    pa.int64(): "BIGINT",
    pa.float64(): "DOUBLE",
    pa.bool_(): "BOOLEAN",
    pa.date32(): "DATE",
    pa.timestamp("us", tz="UTC"): "TIMESTAMP WITH TIME ZONE",
}


def _run(out: Path, as_of: str, engine: str = "duckdb", data: Path = ROOT / "data") -> Reporter:
    """A run; its reporter holds the warnings it logged."""
    reporter = Reporter(io.StringIO(), log_format="json")
    config = RunConfig(data=data, segments=ROOT / "segments", out=out, as_of=as_of, engine=engine)
    run(config, reporter)
    return reporter


@pytest.fixture(scope="module", params=["duckdb", "polars"])
def engine(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture(scope="module")
def published(engine: str, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp(f"warehouse-{engine}") / "out"
    _run(out, AS_OF, engine)
    return out


def _connect(path: Path, read_only: bool = True) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect(str(path), read_only=read_only)
    con.execute("SET TimeZone = 'UTC'")
    return con


@pytest.fixture
def warehouse(published: Path) -> Iterator[duckdb.DuckDBPyConnection]:
    con = _connect(published / WAREHOUSE)
    yield con
    con.close()


def _rows(con: duckdb.DuckDBPyConnection, sql: str, *params: object) -> list[dict[str, Any]]:
    result = con.execute(sql, list(params))
    names = [d[0] for d in result.description]
    return [dict(zip(names, row, strict=True)) for row in result.fetchall()]


def _quoted(names: list[str]) -> str:
    return ", ".join(f'"{n}"' for n in names)


def _comment(text: str) -> str:
    return text.replace("`", "")


def _objects(con: duckdb.DuckDBPyConnection) -> dict[str, str]:
    """schema.name -> kind of every view and table of the database."""
    rows = con.sql(
        "SELECT schema_name || '.' || view_name, 'view' FROM duckdb_views() WHERE NOT internal "
        "UNION ALL SELECT schema_name || '.' || table_name, 'table' FROM duckdb_tables()"
    ).fetchall()
    return {str(name): str(kind) for name, kind in rows}


# --- the objects and their comments ------------------------------------------------------


def test_every_published_table_has_its_view_and_nothing_else_is_there(
    published: Path, warehouse: duckdb.DuckDBPyConnection
) -> None:
    tables = {p.name for p in published.iterdir() if p.is_symlink() and p.name != "current"}
    assert tables == {o.name for o in OUTPUTS}
    expected = {f"main.{t}": "view" for t in tables} | {
        f"main.{o.name}": "table" if o is WAREHOUSE_OBJECTS else "view" for o in WAREHOUSE_ONLY
    }
    assert _objects(warehouse) == expected
    listed = {(r["name"], r["kind"]) for r in _rows(warehouse, "SELECT * FROM warehouse_objects")}
    assert listed == {(name.removeprefix("main."), kind) for name, kind in expected.items()}


@pytest.mark.parametrize("output", [*OUTPUTS, *WAREHOUSE_ONLY], ids=lambda o: o.name)
def test_every_object_and_column_has_its_declared_name_type_and_comment(
    warehouse: duckdb.DuckDBPyConnection, output: Output
) -> None:
    kind = "table" if output is WAREHOUSE_OBJECTS else "view"
    ((comment,),) = warehouse.execute(
        f"SELECT comment FROM duckdb_{kind}s() WHERE {kind}_name = ?", [output.name]
    ).fetchall()
    assert comment == _comment(output.summary)
    found = _rows(
        warehouse,
        "SELECT column_name, data_type, comment FROM duckdb_columns() "
        "WHERE table_name = ? ORDER BY column_index",
        output.name,
    )
    declared = output.view_columns_for(ATTRIBUTES)
    assert [c["column_name"] for c in found] == [c.name for c in declared]
    for column, row in zip(declared, found, strict=True):
        assert row["data_type"] == SQL_TYPES[column.type], column.name
        assert row["comment"] == _comment(column.meaning), column.name
    # The custom columns' comments name the attribute's label (from the dimension's footer).
    if output.custom is not None:
        comments = {c["column_name"]: c["comment"] for c in found}
        for attribute in ATTRIBUTES:
            if attribute.entity in output.custom.entities:
                assert f"({attribute.label}, " in comments[CUSTOM_PREFIX + attribute.key]


# --- the inputs, and the segments' own SQL -----------------------------------------------


@pytest.mark.parametrize("table", sorted(TABLES))
def test_each_input_table_is_a_view_of_its_name_and_schema_holding_the_input(
    warehouse: duckdb.DuckDBPyConnection, table: str
) -> None:
    """The sample sets nothing aside: the views hold the inputs, row for row."""
    found = warehouse.sql(f"SELECT * FROM {table}")
    assert found.columns == TABLES[table].names
    assert found.types == [SQL_TYPES[f.type] for f in TABLES[table]]
    expected = pq.read_table(ROOT / "data" / f"{table}.parquet").to_pylist()
    assert sorted(found.fetchall(), key=repr) == sorted(
        (tuple(r.values()) for r in expected), key=repr
    )


def test_each_segments_compiled_sql_runs_in_the_warehouse_and_finds_its_members(
    warehouse: duckdb.DuckDBPyConnection,
) -> None:
    segments = _rows(warehouse, "SELECT segment_id, compiled_sql FROM segments")
    assert len(segments) == len(list((ROOT / "segments").glob("*.yaml")))
    nonempty = 0
    for segment in segments:
        found = warehouse.sql(segment["compiled_sql"]).fetchall()
        published = warehouse.execute(
            "SELECT property_id, segment_id, entity, entity_id FROM segment_membership "
            "WHERE segment_id = ?",
            [segment["segment_id"]],
        ).fetchall()
        assert sorted(found) == sorted(published), segment["segment_id"]
        nonempty += bool(published)
    assert nonempty > len(segments) // 2


# --- the contact dimensions --------------------------------------------------------------


def _expected_contacts(entity: str) -> dict[tuple[str, str], dict[str, Any]]:
    """Each contact's stored columns, the custom attributes pivoted here in Python."""
    table, id_column = ENTITY_TABLE[entity]
    own = [a for a in ATTRIBUTES if a.entity == entity]
    contacts = {}
    for row in pq.read_table(ROOT / "data" / f"{table}.parquet").to_pylist():
        row.update({CUSTOM_PREFIX + a.key: None for a in own})
        contacts[(row["property_id"], row[id_column])] = row
    types = {a.key: a.type for a in own}
    for value in pq.read_table(ROOT / "data" / "attribute_values.parquet").to_pylist():
        if value["entity"] == entity:
            column = VALUE_COLUMN[types[value["key"]]]
            contact = contacts[(value["property_id"], value["entity_id"])]
            contact[CUSTOM_PREFIX + value["key"]] = value[column]
    return contacts


def _kinds(entity: str) -> dict[str, AttrType]:
    kinds = dict(BUILTIN)
    for a in ATTRIBUTES:
        if a.entity == entity:
            kinds[CUSTOM_PREFIX + a.key] = CUSTOM_TYPE[a.type]
    return kinds


def _compared(value: Any, kind: AttrType) -> Any:
    """SPEC section 3 in Python: what a segment compares (``compile/normalize.py``)."""
    if value is None:
        return None
    match kind:
        case AttrType.TEXT:
            return normalize_text(value)
        case AttrType.PHONE:
            return normalize_phone(value)
        case AttrType.TEXT_LIST | AttrType.PHONE_LIST:
            element = normalize_phone if kind is AttrType.PHONE_LIST else normalize_text
            normalized = (element(x) for x in value if x is not None)
            return [x for x in normalized if x is not None]
        case AttrType.DATE:
            return value.astimezone(dt.UTC).date()
    raise AssertionError(kind)


@pytest.mark.parametrize("entity", sorted(DIMENSIONS))
def test_each_dimension_holds_every_contact_with_its_custom_attributes_pivoted(
    published: Path, warehouse: duckdb.DuckDBPyConnection, entity: str
) -> None:
    output = DIMENSIONS[entity]
    expected = _expected_contacts(entity)
    stored = [c.name for c in output.columns_for(ATTRIBUTES)]
    view = _rows(warehouse, f"SELECT {_quoted(stored)} FROM {output.name}")
    assert len(view) == len(expected)
    keys = ["property_id", ENTITY_TABLE[entity][1]]
    for row in view:
        assert row == {n: expected[(row[keys[0]], row[keys[1]])][n] for n in stored}
    # A view over the copies of the inputs: no file of its own, nothing for a run to write.
    assert not (published / output.name).exists()


@pytest.mark.parametrize("entity", sorted(DIMENSIONS))
def test_each_compared_column_is_what_segments_compare(
    warehouse: duckdb.DuckDBPyConnection, entity: str
) -> None:
    output = DIMENSIONS[entity]
    kinds = _kinds(entity)
    compared = [c.name for c in output.view_columns_for(ATTRIBUTES) if c.name.endswith(".compared")]
    # Every text, phone, list and date attribute has one; no other does.
    assert {n.removesuffix(COMPARED_SUFFIX) for n in compared} == {
        n
        for n, k in kinds.items()
        if k.is_list or k in (AttrType.TEXT, AttrType.PHONE, AttrType.DATE)
    }
    stored = [n.removesuffix(COMPARED_SUFFIX) for n in compared]
    columns = _quoted([*stored, *compared])
    # A date's day is the UTC one whatever the session's time zone.
    warehouse.execute("SET TimeZone = 'Pacific/Kiritimati'")
    rows = _rows(warehouse, f"SELECT {columns} FROM {output.name}")
    changed = 0
    for row in rows:
        for name in stored:
            want = _compared(row[name], kinds[name])
            assert row[name + COMPARED_SUFFIX] == want, (name, row[name])
            changed += want != row[name]
    assert changed > 0  # the sample has values a segment sees otherwise


def test_segment_members_joins_each_member_to_its_contact(
    warehouse: duckdb.DuckDBPyConnection,
) -> None:
    contacts: dict[tuple[str, str, str], dict[str, Any]] = {}
    for entity, output in DIMENSIONS.items():
        _, id_column = ENTITY_TABLE[entity]
        for row in _rows(warehouse, f"SELECT * FROM {output.name}"):
            contacts[(entity, row.pop("property_id"), row.pop(id_column))] = row
    members = _rows(warehouse, "SELECT * FROM segment_members")
    membership = _rows(warehouse, "SELECT * FROM segment_membership")
    assert len(members) == len(membership)
    assert {r["entity"] for r in members} == {"organization", "person"}
    columns = [c.name for c in SEGMENT_MEMBERS.view_columns_for(ATTRIBUTES)]
    for member in members:
        contact = contacts[(member["entity"], member["property_id"], member["entity_id"])]
        for name in columns:
            if name not in MEMBERSHIP.names:
                assert member[name] == contact.get(name), name
    keyed = {tuple(r[c] for c in MEMBERSHIP.names) for r in membership}
    assert {tuple(r[c] for c in MEMBERSHIP.names) for r in members} == keyed


# --- the queries of docs/outputs.md ------------------------------------------------------


def _documented_sql(heading: str) -> str:
    text = (ROOT / "docs" / "outputs.md").read_text()
    found = re.search(rf"^### {re.escape(heading)}\n.*?```sql\n(.*?)```", text, re.M | re.S)
    assert found, f"docs/outputs.md has no query under {heading!r}"
    return found.group(1)


def test_the_documented_members_query_needs_no_path_and_no_pivot(
    warehouse: duckdb.DuckDBPyConnection,
) -> None:
    sql = _documented_sql("Members of a segment with their name, plan and ARR")
    assert "read_parquet" not in sql and "attribute_values" not in sql
    found = warehouse.sql(sql).fetchall()
    segment = re.search(r"segment_id = '([^']+)'", sql)
    assert segment
    contacts = _expected_contacts("organization")
    members = warehouse.execute(
        "SELECT property_id, entity_id FROM segment_membership WHERE segment_id = ?",
        [segment.group(1)],
    ).fetchall()
    columns = ("name", "custom.plan", "custom.arr")
    expected = [(p, o, *(contacts[(p, o)][c] for c in columns)) for p, o in members]
    assert sorted(found, key=repr) == sorted(expected, key=repr)
    arr = [row[4] for row in found if row[4] is not None]
    assert arr == sorted(arr, reverse=True) and len(found) > 10


def test_the_documented_size_over_time_query_sums_the_properties_per_run(
    published: Path, warehouse: duckdb.DuckDBPyConnection
) -> None:
    sql = _documented_sql("A segment's size over time")
    segment = re.search(r"segment_id = '([^']+)'", sql)
    assert segment
    sizes = [
        r
        for r in pq.read_table(published / "segment_sizes").to_pylist()
        if r["segment_id"] == segment.group(1)
    ]
    expected = [
        (
            dt.date(2026, 11, 20),
            sum(r["members"] for r in sizes),
            sum(r["entered"] for r in sizes),
            sum(r["exited"] for r in sizes),
        )
    ]
    assert warehouse.sql(sql).fetchall() == expected
    assert expected[0][1] > 0


def test_the_documented_compared_query_groups_as_the_segment_compares(
    warehouse: duckdb.DuckDBPyConnection,
) -> None:
    found = warehouse.sql(_documented_sql("Counting by the value a segment compares")).fetchall()
    # premium-plans-france: `custom.plan: {in: [premium, business]}`, however it is written.
    assert {row[0] for row in found} == {"premium", "business"}
    assert any(len(row[2]) > 1 for row in found)


# --- objects of the users ----------------------------------------------------------------


def _create_user_objects(path: Path) -> None:
    """What an analyst adds: the docs' view in a schema of their own, a table, a macro."""
    con = _connect(path, read_only=False)
    try:
        text = (ROOT / "docs" / "outputs.md").read_text()
        block = re.search(r"^### Your own objects\n.*?```sql\n(.*?)```", text, re.M | re.S)
        assert block
        con.execute(block.group(1))
        con.execute("CREATE TABLE main.campaign_notes AS SELECT 'spring' AS campaign, 3 AS n")
        con.execute("CREATE MACRO main.twice(x) AS x * 2")
    finally:
        con.close()


def _user_objects_hold(path: Path) -> None:
    con = _connect(path)
    try:
        premium = con.sql("SELECT count(*) FROM marketing.premium_fr").fetchall()
        members = con.sql(
            "SELECT count(*) FROM segment_membership WHERE segment_id = 'premium-plans-france'"
        ).fetchall()
        assert premium == members and premium[0][0] > 0
        assert con.sql("SELECT * FROM main.campaign_notes").fetchall() == [("spring", 3)]
        assert con.sql("SELECT main.twice(21)").fetchall() == [(42,)]
    finally:
        con.close()


def _views(path: Path) -> set[str]:
    con = _connect(path)
    try:
        return {n.removeprefix("main.") for n, k in _objects(con).items() if k == "view"}
    finally:
        con.close()


def _without(table: str) -> Callable[..., Path]:
    """``publish`` as a version of the pipeline that does not publish ``table``."""
    publish = pipeline.run.publish

    def without(out: Path, name: str, tables: Mapping[str, Any], **options: Any) -> Path:
        return publish(out, name, {t: v for t, v in tables.items() if t != table}, **options)

    return without


def _with_attribute(copy: Path) -> Path:
    """A copy of the sample data with one more organization attribute, `tier`, set on o1."""
    shutil.copytree(ROOT / "data", copy)
    attributes = pq.read_table(copy / "attributes.parquet")
    added = [
        {"property_id": p, "entity": "organization", "key": "tier", "label": "Tier", "type": "text"}
        for p in sorted(set(attributes.column("property_id").to_pylist()))
    ]
    table = pa.concat_tables([attributes, pa.Table.from_pylist(added, schema=attributes.schema)])
    pq.write_table(table, copy / "attributes.parquet")
    values = pq.read_table(copy / "attribute_values.parquet")
    value = {"property_id": added[0]["property_id"], "entity": "organization", "entity_id": "o1"}
    value |= {"key": "tier", "value_text": " Gold "}
    row = pa.Table.from_pylist([value], schema=values.schema)
    pq.write_table(pa.concat_tables([values, row]), copy / "attribute_values.parquet")
    return copy


def test_user_objects_survive_runs_that_change_the_runs_objects(
    engine: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "out"
    path = out / WAREHOUSE
    _run(out, AS_OF, engine)
    _create_user_objects(path)
    _user_objects_hold(path)

    # A version that publishes one table fewer: the runs' view of it goes, the user's stay.
    before = path.stat().st_ino
    with monkeypatch.context() as patched:
        patched.setattr(pipeline.run, "publish", _without(DAILY.name))
        _run(out, LATER[0], engine)
    assert path.stat().st_ino != before  # rewritten
    assert DAILY.name not in _views(path)
    _user_objects_hold(path)

    # The table back, and a new custom attribute: a column more in the dimensions.
    before = path.stat().st_ino
    data = _with_attribute(tmp_path / "data")
    _run(out, LATER[1], engine, data=data)
    assert path.stat().st_ino != before
    assert DAILY.name in _views(path)
    _user_objects_hold(path)
    con = _connect(path)
    try:
        tier = con.sql(
            'SELECT "custom.tier", "custom.tier.compared" FROM dim_organizations '
            "WHERE org_id = 'o1' AND property_id = 'site-de'"
        ).fetchall()
        assert tier == [(" Gold ", "gold")]
        comment = con.sql(
            "SELECT comment FROM duckdb_columns() "
            "WHERE table_name = 'segment_members' AND column_name = 'custom.tier'"
        ).fetchall()
        assert comment and "(Tier, text)" in comment[0][0]
    finally:
        con.close()

    # Nothing of the runs' changes: the file is not touched.
    before_stat = path.stat()
    _run(out, LATER[2], engine, data=data)
    after = path.stat()
    assert (after.st_ino, after.st_mtime_ns) == (before_stat.st_ino, before_stat.st_mtime_ns)
    _user_objects_hold(path)


HOLD_OPEN: Final = """
import sys, duckdb
con = duckdb.connect(sys.argv[1])
print("open", flush=True)
sys.stdin.read()
con.close()
"""


def test_a_read_write_session_defers_the_update_to_the_next_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A user's read-write session blocks copying the database: the run publishes, leaves it
    as it is with a warning, and the run after the session catches up (objects kept)."""
    out = tmp_path / "out"
    path = out / WAREHOUSE
    _run(out, AS_OF)
    _create_user_objects(path)
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD_OPEN, str(path)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline() == "open\n"
        before = path.stat().st_ino
        with monkeypatch.context() as patched:
            patched.setattr(pipeline.run, "publish", _without(DAILY.name))
            reporter = _run(out, LATER[0])
        assert path.stat().st_ino == before
        (warning,) = reporter.warnings  # in the run's log, with its hint
        assert "it is open for writing" in warning["message"]
        assert "open it read-only" in warning["hint"]
    finally:
        holder.communicate("", timeout=60)
    assert DAILY.name in _views(path)  # the earlier objects: nothing half-done
    with monkeypatch.context() as patched:
        patched.setattr(pipeline.run, "publish", _without(DAILY.name))
        _run(out, LATER[1])
    assert DAILY.name not in _views(path)
    _user_objects_hold(path)


def test_a_moved_output_folder_gets_its_views_pointed_at_it_and_keeps_user_objects(
    tmp_path: Path,
) -> None:
    old = tmp_path / "old"
    _run(old, AS_OF)
    _create_user_objects(old / WAREHOUSE)
    new = tmp_path / "new"
    shutil.copytree(old, new, symlinks=True)
    shutil.rmtree(old)
    _run(new, LATER[0])
    con = _connect(new / WAREHOUSE)
    try:
        sql = con.sql("SELECT sql FROM duckdb_views() WHERE view_name = 'runs'").fetchall()
        assert str(new.absolute()) in sql[0][0]
        assert con.sql("SELECT count(*) FROM runs").fetchall() == [(2,)]
    finally:
        con.close()
    _user_objects_hold(new / WAREHOUSE)


KILLED_IN_UPDATE: Final = """
import os, signal, sys
import pipeline.publish.warehouse as warehouse
import pipeline.run as run

real_update, real_publish = warehouse.update, run.publish


def update(path, wanted):
    real_update(path, wanted)  # the copy is complete: killed before it replaces the file
    os.kill(os.getpid(), signal.SIGKILL)


def publish(out, name, tables, **options):  # one table fewer: the warehouse must change
    return real_publish(out, name, {t: v for t, v in tables.items() if t != sys.argv[2]}, **options)


warehouse.update, run.publish = update, publish
run.run(run.RunConfig(data=run.Path(sys.argv[3]), segments=run.Path(sys.argv[4]),
                      out=run.Path(sys.argv[1]), as_of=sys.argv[5]))
"""


def test_a_run_killed_while_updating_the_warehouse_leaves_it_whole(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Killed between updating its copy and renaming it: the database is the one before,
    with the user's objects, and the next run updates it (nothing half-written left)."""
    out = tmp_path / "out"
    path = out / WAREHOUSE
    _run(out, AS_OF)
    _create_user_objects(path)
    before = path.read_bytes()
    args = [str(out), DAILY.name, str(ROOT / "data"), str(ROOT / "segments"), LATER[0]]
    killed = subprocess.run(
        [sys.executable, "-c", KILLED_IN_UPDATE, *args],
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    assert path.read_bytes() == before
    assert DAILY.name in _views(path)
    _user_objects_hold(path)
    monkeypatch.setattr(pipeline.run, "publish", _without(DAILY.name))
    _run(out, LATER[1])
    assert [p.name for p in out.glob(".*.tmp")] == []
    assert DAILY.name not in _views(path)
    _user_objects_hold(path)

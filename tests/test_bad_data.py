"""A catalog of broken input data (issue 21, item 3), each case a copy of the bundled sample
broken in one way, run through the `segments run` command.

A case that stops the run exits 3 with a located reason (``table``, ``table.column`` or a
file), the rule's words and a hint; never a traceback, a panic or exit 70; and the tables that
an earlier run published in the same ``--out`` folder are left byte for byte. A case whose
rows are set aside exits 0, with the rows in the quarantine table under their rule. Each case
runs on both engines where an engine reads the data; the input checks are shared, so the
cases they stop run on one engine only. docs/data.md ("What a broken input does") lists the
catalog for readers.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import math
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

import duckdb
import polars as pl
import psutil  # type: ignore[import-untyped]
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest
from test_bad_text import corrupt

from pipeline.cli import main
from pipeline.inputs.schema import TABLES

ROOT: Final = Path(__file__).resolve().parent.parent
ENGINES: Final = ("duckdb", "polars")
#: The sample's day (pyproject pins it), then a later run that would publish if it went on.
FIRST: Final = "2026-11-20T12:00:00Z"
LATER: Final = "2026-11-21T12:00:00Z"
#: Run bookkeeping in OUT that a failed run writes by design (lock, work area, its record).
BOOKKEEPING: Final = frozenset({".lock", ".work", ".failed"})

Break = Callable[[Path], None]


# --- running ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Result:
    code: int
    out: str
    err: str

    @property
    def output(self) -> str:
        return self.out + self.err


def run(
    data: Path,
    out: Path,
    engine: str,
    capfd: pytest.CaptureFixture[str],
    *,
    as_of: str = LATER,
    segments: Path = ROOT / "segments",
) -> Result:
    """`segments run` in this process; ``capfd`` also catches what Rust or C++ print."""
    capfd.readouterr()
    argv = ["run", "--data", str(data), "--segments", str(segments), "--out", str(out)]
    code = main([*argv, "--as-of", as_of, "--engine", engine, "--quiet"])
    printed = capfd.readouterr()
    return Result(code, printed.out, printed.err)


def fingerprint(out: Path) -> dict[str, str]:
    """Every file under OUT by its SHA-256 and every link by its target, bookkeeping aside."""
    found: dict[str, str] = {}
    for folder, dirs, files in os.walk(out):
        here = Path(folder)
        if here == out:
            dirs[:] = [d for d in dirs if d not in BOOKKEEPING]
            files = [f for f in files if f not in BOOKKEEPING]
        for name in [*dirs, *files]:
            path = here / name
            key = path.relative_to(out).as_posix()
            if path.is_symlink():
                found[key] = f"-> {os.readlink(path)}"
            elif path.is_file():
                found[key] = hashlib.sha256(path.read_bytes()).hexdigest()
    return found


@pytest.fixture(scope="module")
def published(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An OUT folder where the intact sample was published (as_of FIRST); each case runs on
    a copy. The folder is the same whichever engine wrote it."""
    out = tmp_path_factory.mktemp("published") / "out"
    argv = ["run", "--data", str(ROOT / "data"), "--segments", str(ROOT / "segments")]
    assert main([*argv, "--out", str(out), "--as-of", FIRST, "--quiet"]) == 0
    return out


@pytest.fixture
def data(tmp_path: Path) -> Path:
    """A copy of the bundled sample, for a case to break."""
    copy = tmp_path / "data"
    shutil.copytree(ROOT / "data", copy)
    return copy


def assert_clean(result: Result) -> None:
    """No traceback, no panic, no internal error (exit 70)."""
    assert result.code != 70, result.err
    for sign in ("Traceback", "panicked", "internal error", "RUST_BACKTRACE"):
        assert sign not in result.output, result.output


def assert_located(err: str, reason: str) -> None:
    """``reason`` (``where: rule``) is in a line of the report, and its problem has a hint."""
    lines = err.splitlines()
    starts = [i for i, line in enumerate(lines) if reason in line and line[:1] != " "]
    assert starts, f"no line with {reason!r} in:\n{err}"
    problem = []
    for line in lines[starts[0] + 1 :]:
        if not line.startswith("    "):
            break
        problem.append(line)
    hints = [line for line in problem if line.startswith("    Hint: ")]
    assert hints and len(hints[0]) > len("    Hint: ") + 5, f"no hint for {reason!r} in:\n{err}"


def built_in_segments(tmp_path: Path) -> Path:
    """A folder of two segments on built-in attributes only (quicker than the sample's)."""
    segments = tmp_path / "segments"
    segments.mkdir()
    (segments / "named.yaml").write_text("where: {name: {has_any_value: true}}\n")
    (segments / "nameless.yaml").write_text("entity: person\nwhere: {name: {is_unknown: true}}\n")
    return segments


def copy_published(published: Path, tmp_path: Path) -> Path:
    out = tmp_path / "out"
    shutil.copytree(published, out, symlinks=True)
    return out


# --- breaking a table -------------------------------------------------------------------------


def _path(data: Path, table: str) -> Path:
    return data / f"{table}.parquet"


def rewrite(data: Path, table: str, change: Callable[[pa.Table], pa.Table]) -> None:
    path = _path(data, table)
    pq.write_table(change(pq.read_table(path)), path)


def column_set(arrow: pa.Table, name: str, values: pa.Array | pa.ChunkedArray) -> pa.Table:
    return arrow.set_column(arrow.column_names.index(name), name, values)


def set_value(data: Path, table: str, column: str, row: int, value: Any) -> None:
    """Set one cell (any value of the column's type, None included)."""

    def change(arrow: pa.Table) -> pa.Table:
        values = arrow.column(column).to_pylist()
        values[row] = value
        return column_set(arrow, column, pa.array(values, arrow.schema.field(column).type))

    rewrite(data, table, change)


def append(data: Path, table: str, *rows: dict[str, Any], like: int = 0) -> None:
    """Append rows: copies of row ``like`` with the given values changed."""

    def change(arrow: pa.Table) -> pa.Table:
        base = arrow.slice(like, 1).to_pylist()[0]
        extra = pa.Table.from_pylist([{**base, **row} for row in rows], schema=arrow.schema)
        return pa.concat_tables([arrow, extra])

    rewrite(data, table, change)


def add(data: Path, table: str, *rows: dict[str, Any]) -> None:
    """Append rows given column by column (the columns left out are null)."""

    def change(arrow: pa.Table) -> pa.Table:
        return pa.concat_tables([arrow, pa.Table.from_pylist(list(rows), schema=arrow.schema)])

    rewrite(data, table, change)


def first_index(data: Path, table: str, mask: Callable[[pa.Table], pa.ChunkedArray]) -> int:
    """The position of the first row of ``table`` where ``mask`` holds."""
    arrow = pq.read_table(_path(data, table))
    return int(pc.indices_nonzero(pc.fill_null(mask(arrow), False))[0].as_py())


def set_micros(data: Path, table: str, column: str, row: int, value: int) -> None:
    """Set one timestamp by its microseconds since 1970 (any int64, beyond Python's years)."""

    def change(arrow: pa.Table) -> pa.Table:
        values = arrow.column(column).cast(pa.int64()).to_pylist()
        values[row] = value
        utc = pa.timestamp("us", tz="UTC")
        return column_set(arrow, column, pa.array(values, pa.int64()).cast(utc))

    rewrite(data, table, change)


# --- cases that stop the run (exit 3) ---------------------------------------------------------


def _cut_in_half(data: Path) -> None:
    path = _path(data, "people")
    raw = path.read_bytes()
    path.write_bytes(raw[: len(raw) // 2])


def _broken_page(table: str, column: str) -> Break:
    """A readable footer over a page of ``column`` that cannot be decoded: the table written
    plain (no compression, no dictionary) and string lengths written over its middle."""

    def make(data: Path) -> None:
        path = _path(data, table)
        arrow = pq.read_table(path)
        pq.write_table(arrow, path, compression="none", use_dictionary=False)
        chunk = (
            pq.ParquetFile(path).metadata.row_group(0).column(arrow.schema.get_field_index(column))
        )
        with path.open("r+b") as raw:
            raw.seek(chunk.data_page_offset + chunk.total_compressed_size // 2)
            raw.write(b"\xff\xff\xff\x7f" * 8)

    return make


def _random_bytes(data: Path) -> None:
    _path(data, "timeline").write_bytes(os.urandom(64 * 1024))


def _zero_bytes(data: Path) -> None:
    _path(data, "organizations").write_bytes(b"")


def _another_tables_file(data: Path) -> None:
    shutil.copyfile(_path(data, "timeline"), _path(data, "people"))


def _missing_table(data: Path) -> None:
    _path(data, "organization_people").unlink()


def _given_twice(data: Path) -> None:
    (data / "people").mkdir()
    shutil.copyfile(_path(data, "people"), data / "people" / "part-0.parquet")


def _folder_without_parquet(data: Path) -> None:
    _path(data, "timeline").unlink()
    (data / "timeline").mkdir()
    (data / "timeline" / "_SUCCESS").write_bytes(b"")


def _drop(table: str, column: str) -> Break:
    return lambda data: rewrite(data, table, lambda arrow: arrow.drop_columns([column]))


def _twice_kind(data: Path) -> None:
    def change(arrow: pa.Table) -> pa.Table:
        return pa.Table.from_arrays(
            [*arrow.columns, arrow.column("kind")], names=[*arrow.column_names, "kind"]
        )

    rewrite(data, "timeline", change)


def _retyped(table: str, column: str, make: Callable[[pa.Table], pa.Array]) -> Break:
    return lambda data: rewrite(data, table, lambda a: column_set(a, column, make(a)))


def _numbers(arrow: pa.Table) -> pa.Array:
    return pa.array(range(arrow.num_rows))


def _yes_no(arrow: pa.Table) -> pa.Array:
    return pc.if_else(pc.is_null(arrow.column("value_boolean")), None, "yes")


def _dates(arrow: pa.Table) -> pa.Array:
    return arrow.column("value_datetime").cast(pa.date32())


def _naive(arrow: pa.Table) -> pa.Array:
    return arrow.column("occurred_at").cast(pa.timestamp("us"))


def _list_view(arrow: pa.Table) -> pa.Array:
    return pa.array(arrow.column("tags").to_pylist(), pa.list_view(pa.string()))


def _milliseconds_one_wrapping(arrow: pa.Table) -> pa.Array:
    """Timestamps in milliseconds, one of them (nanoseconds written as milliseconds) beyond
    what microseconds hold: a cast would wrap it around to another date."""
    millis = pc.divide(arrow.column("occurred_at").cast(pa.int64()), 1_000).to_pylist()
    millis[0] = 1_732_223_832_000_000_000
    return pa.array(millis, pa.int64()).cast(pa.timestamp("ms", tz="UTC"))


def _null_person_id(data: Path) -> None:
    set_value(data, "people", "person_id", 3, None)


def _hive_default_partition(data: Path) -> None:
    """The timeline as hive folders, one of them ``__HIVE_DEFAULT_PARTITION__`` (null)."""
    arrow = pq.read_table(_path(data, "timeline"))
    _path(data, "timeline").unlink()
    for folder, prop in [("site-fr", "site-fr"), ("__HIVE_DEFAULT_PARTITION__", "site-de")]:
        part = arrow.filter(pc.equal(arrow.column("property_id"), prop))
        target = data / "timeline" / f"property_id={folder}"
        target.mkdir(parents=True)
        pq.write_table(part.drop_columns(["property_id"]), target / "part-0.parquet")


def _copy_row(table: str, row: int, **changes: Any) -> Break:
    return lambda data: append(data, table, dict(changes), like=row)


def _attribute(**changes: Any) -> Break:
    return _copy_row("attributes", 0, **changes)


def _plan_is_a_number_in_site_de(data: Path) -> None:
    def change(arrow: pa.Table) -> pa.Table:
        switch = pc.and_(
            pc.equal(arrow.column("property_id"), "site-de"), pc.equal(arrow.column("key"), "plan")
        )
        return column_set(arrow, "type", pc.if_else(switch, "number", arrow.column("type")))

    rewrite(data, "attributes", change)


def _not_utf8(table: str, column: str, row: int = 3) -> Break:
    return lambda data: corrupt(_path(data, table), column, [row])


def _not_utf8_kind_in_a_folder(data: Path) -> None:
    """The timeline as two files of a folder, the second with a kind that is not UTF-8."""
    arrow = pq.read_table(_path(data, "timeline"))
    _path(data, "timeline").unlink()
    (data / "timeline").mkdir()
    half = arrow.num_rows // 2
    for name, part in [("part-0", arrow.slice(0, half)), ("part-1", arrow.slice(half))]:
        pq.write_table(part, data / "timeline" / f"{name}.parquet")
    corrupt(data / "timeline" / "part-1.parquet", "kind", [7])


def _set_aside_event_with_bad_author(data: Path) -> None:
    """An event of an unknown kind (set aside as JSON) whose author is not UTF-8."""
    set_value(data, "timeline", "kind", 5, "fax")
    corrupt(_path(data, "timeline"), "author", [5])


@dataclass(frozen=True)
class Stop:
    """A case that stops the run: how to break the sample, the reason printed, and on which
    engines (where the engine is the one to meet the problem)."""

    id: str
    make: Break
    reason: str
    engines: tuple[str, ...] = ("duckdb",)


STOPS: Final = [
    # files and tables
    Stop("truncated file", _cut_in_half, "people: file is not readable Parquet", ENGINES),
    Stop("random bytes", _random_bytes, "timeline: file is not readable Parquet", ENGINES),
    Stop("zero bytes", _zero_bytes, "organizations: file is not readable Parquet", ENGINES),
    # pages no rule and no segment of the sample reads, and pages a rule reads
    Stop(
        "broken page, unread column",
        _broken_page("timeline", "author"),
        "timeline: file is not readable Parquet",
        ENGINES,
    ),
    Stop(
        "broken page, checked column",
        _broken_page("timeline", "kind"),
        "timeline: file is not readable Parquet",
        ENGINES,
    ),
    Stop("another table's file", _another_tables_file, "people.name: column is missing"),
    Stop("missing table", _missing_table, "organization_people: table is missing", ENGINES),
    Stop("table given twice", _given_twice, "people: table is given twice"),
    Stop("folder without parquet", _folder_without_parquet, "timeline: table is missing"),
    # columns and types
    Stop("required column missing", _drop("timeline", "kind"), "timeline.kind: column is missing"),
    Stop(
        "optional column missing",
        _drop("people", "job_title"),
        "people.job_title: column is missing",
    ),
    Stop("column twice", _twice_kind, "timeline.kind: column appears more than once in a file"),
    Stop(
        "integer name",
        _retyped("organizations", "name", _numbers),
        "organizations.name: wrong type: found int64, expected text",
    ),
    Stop(
        "text boolean",
        _retyped("attribute_values", "value_boolean", _yes_no),
        "attribute_values.value_boolean: wrong type: found string, expected boolean",
    ),
    Stop(
        "date32 datetime",
        _retyped("attribute_values", "value_datetime", _dates),
        "attribute_values.value_datetime: wrong type: found date32[day], expected timestamp",
    ),
    Stop(
        "list_view tags",
        _retyped("organizations", "tags", _list_view),
        "organizations.tags: wrong type: found list_view<element: string>, expected list of text",
    ),
    Stop(
        "naive timestamp",
        _retyped("timeline", "occurred_at", _naive),
        "timeline.occurred_at: timestamp without a time zone (timestamp[us])",
    ),
    Stop(
        "timestamp beyond microseconds",
        _retyped("timeline", "occurred_at", _milliseconds_one_wrapping),
        "timeline.occurred_at: timestamp out of range (1 row)",
    ),
    # rules within a table
    Stop("null id", _null_person_id, "people.person_id: null in a required column (1 row)"),
    Stop(
        "null hive partition",
        _hive_default_partition,
        "timeline.property_id: null in a required column (6540 rows)",
    ),
    Stop(
        "duplicate org_id",
        _copy_row("organizations", 4),
        "organizations.org_id: duplicate org_id within a property (2 rows)",
    ),
    Stop(
        "duplicate person_id",
        _copy_row("people", 4),
        "people.person_id: duplicate person_id within a property (2 rows)",
    ),
    Stop(
        "duplicate event_id",
        _copy_row("timeline", 4, kind="note"),
        "timeline.event_id: duplicate event_id within a property (2 rows)",
    ),
    Stop(
        "duplicate attribute",
        _attribute(label="Plan again"),
        "attributes.key: duplicate attribute definition (entity, key) within a property",
    ),
    Stop(
        "unknown entity",
        _attribute(entity="company", key="size"),
        "attributes.entity: unknown entity (1 row)",
    ),
    Stop(
        "key pattern",
        _attribute(key="Renewal Date"),
        "attributes.key: key does not match [a-z][a-z0-9_]* (1 row)",
    ),
    Stop(
        "unknown type",
        _attribute(key="renewal", type="money"),
        "attributes.type: unknown type (1 row)",
    ),
    Stop(
        "type differs by property",
        _plan_is_a_number_in_site_de,
        "attributes.type: custom attribute has different types in different properties",
    ),
    Stop(
        "duplicate value",
        _copy_row("attribute_values", 10),
        "attribute_values.key: duplicate value for one (entity, entity_id, key) within",
    ),
    # text that is not UTF-8, in the tables tests/test_bad_text.py leaves out: where a rule
    # shows the value (a failing kind or key, an example row, a set-aside row), and where
    # an engine reads it (value_text)
    Stop(
        "not UTF-8 kind",
        _not_utf8("timeline", "kind"),
        "timeline.kind: text that is not UTF-8 (1 row)",
    ),
    Stop(
        "not UTF-8 kind in a folder",
        _not_utf8_kind_in_a_folder,
        "timeline.kind: text that is not UTF-8 (1 row)",
    ),
    Stop(
        "not UTF-8 attribute key",
        _not_utf8("attributes", "key"),
        "attributes.key: text that is not UTF-8 (1 row)",
    ),
    Stop(
        "not UTF-8 value key",
        _not_utf8("attribute_values", "key"),
        "attribute_values.key: text that is not UTF-8 (1 row)",
    ),
    Stop(
        "not UTF-8 link",
        _not_utf8("organization_people", "org_id"),
        "organization_people.org_id: text that is not UTF-8 (1 row)",
    ),
    Stop(
        "not UTF-8 in a set-aside row",
        _set_aside_event_with_bad_author,
        "timeline.author: text that is not UTF-8 (1 row)",
    ),
    Stop(
        "not UTF-8 value_text",
        _not_utf8("attribute_values", "value_text"),
        "attribute_values.value_text: text that is not UTF-8 (1 row)",
        ENGINES,
    ),
]


@pytest.mark.parametrize(
    ("case", "engine"),
    [
        pytest.param(case, engine, id=f"{case.id}-{engine}")
        for case in STOPS
        for engine in case.engines
    ],
)
def test_broken_input_stops_the_run_and_leaves_the_published_tables(
    case: Stop,
    engine: str,
    data: Path,
    published: Path,
    tmp_path: Path,
    capfd: pytest.CaptureFixture[str],
) -> None:
    out = copy_published(published, tmp_path)
    before = fingerprint(out)
    case.make(data)
    result = run(data, out, engine, capfd)
    assert_clean(result)
    assert result.code == 3, result.output
    assert result.err.startswith("segments: error: "), result.err
    assert " in the input data:\n" in result.err.splitlines(keepends=True)[0]
    assert_located(result.err, case.reason)
    assert fingerprint(out) == before


# --- rows set aside (exit 0, quarantined) ------------------------------------------------------

T0: Final = dt.datetime(2026, 11, 1, 9, 30, tzinfo=dt.UTC)


def _one_row_per_quarantine_rule(data: Path) -> None:
    """Rows that each break exactly one of the rules that set rows aside, and one event that
    breaks none (its org exists, its person does not: kept, for its organization)."""
    event = {"property_id": "site-fr", "occurred_at": T0, "author": "Ann"}
    add(
        data,
        "timeline",
        {**event, "event_id": "q1", "org_id": "o2", "kind": "fax"},
        {**event, "event_id": "q2", "kind": "chat"},
        {**event, "event_id": "q3", "org_id": "o99999", "kind": "chat"},
        {**event, "event_id": "q4", "person_id": "p99999", "kind": "note"},
        {**event, "event_id": "kept", "org_id": "o2", "person_id": "p99999", "kind": "call"},
    )
    link = {"property_id": "site-fr", "org_id": "o2", "person_id": "p1"}
    add(
        data,
        "organization_people",
        {**link, "org_id": "o99999"},
        {**link, "person_id": "p99999"},
        link,  # a second copy of the sample's first link
    )
    value = {"property_id": "site-fr", "entity": "organization", "entity_id": "o1"}
    add(
        data,
        "attribute_values",
        {**value, "key": "colour", "value_text": "red"},
        {**value, "entity": "company", "key": "plan", "value_text": "free"},
        {**value, "entity_id": "o99999", "key": "plan", "value_text": "free"},
        {**value, "entity": "person", "entity_id": "p99999", "key": "nps", "value_number": 9.0},
    )
    number = first_index(
        data, "attribute_values", lambda arrow: pc.is_valid(arrow.column("value_number"))
    )
    # a number attribute with value_text set too: two value columns
    set_value(data, "attribute_values", "value_text", number, "50000")


QUARANTINED: Final = {
    ("timeline", "unknown kind", "kind"): 1,
    ("timeline", "event has neither org_id nor person_id", None): 1,
    ("timeline", "org_id not found in organizations of the same property", "org_id"): 1,
    (
        "timeline",
        "person_id not found in people of the same property (and no org_id)",
        "person_id",
    ): 1,
    ("organization_people", "org_id not found in organizations of the same property", "org_id"): 1,
    ("organization_people", "person_id not found in people of the same property", "person_id"): 1,
    ("organization_people", "duplicate link (one copy kept)", None): 1,
    ("attribute_values", "attribute not defined for this entity in the same property", "key"): 2,
    (
        "attribute_values",
        "entity_id not found in organizations of the same property",
        "entity_id",
    ): 1,
    ("attribute_values", "entity_id not found in people of the same property", "entity_id"): 1,
    (
        "attribute_values",
        "value does not match the attribute's type 'number': exactly value_number must be set",
        "value_number",
    ): 1,
}


@pytest.mark.parametrize("engine", ENGINES)
def test_rows_breaking_a_quarantine_rule_are_set_aside_under_it(
    engine: str, data: Path, tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    _one_row_per_quarantine_rule(data)
    out = tmp_path / "out"
    result = run(data, out, engine, capfd)
    assert_clean(result)
    assert result.code == 0, result.output
    total = sum(QUARANTINED.values())
    assert f", {total} quarantined rows -> " in result.out
    rows = pq.read_table(out / "quarantine").to_pylist()
    found: dict[tuple[str, str, str | None], int] = {}
    for row in rows:
        key = (row["table"], row["rule"], row["column"])
        found[key] = found.get(key, 0) + 1
    assert found == QUARANTINED
    con = duckdb.connect(str(out / "warehouse.duckdb"), read_only=True)
    try:
        assert con.sql("select quarantined_rows from runs").fetchall() == [(total,)]
        events = {r[0] for r in con.sql("select event_id from timeline").fetchall()}
    finally:
        con.close()
    assert "kept" in events and not events & {"q1", "q2", "q3", "q4"}


# --- odd but valid data (exit 0) ---------------------------------------------------------------


def _empty(data: Path, *tables: str) -> None:
    for table in tables:
        rewrite(data, table, lambda arrow: arrow.slice(0, 0))


def _read(out: Path, table: str) -> pl.DataFrame:
    return pl.read_parquet(out / table / "*.parquet")


@pytest.mark.parametrize("engine", ENGINES)
def test_empty_tables_give_a_run_with_empty_outputs(
    engine: str, data: Path, tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    """Every table with the right columns and no row: a successful run with empty outputs
    (for segments on built-in attributes: a custom one would be undefined, see below)."""
    _empty(data, *TABLES)
    out = tmp_path / "out"
    result = run(data, out, engine, capfd, segments=built_in_segments(tmp_path))
    assert_clean(result)
    assert result.code == 0, result.output
    assert ": 2 segments, 0 memberships, 0 quarantined rows -> " in result.out
    for table in ("segment_membership", "segment_changes", "timeline_rollups", "quarantine"):
        assert _read(out, table).height == 0, table
    assert _read(out, "runs").get_column("status").to_list() == ["succeeded"]


@pytest.mark.parametrize("engine", ENGINES)
def test_an_empty_timeline_gives_organizations_without_interactions(
    engine: str, data: Path, tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    _empty(data, "timeline")
    out = tmp_path / "out"
    result = run(data, out, engine, capfd)
    assert_clean(result)
    assert result.code == 0, result.output
    assert _read(out, "timeline_daily").height == 0
    rollups = _read(out, "timeline_rollups")
    assert rollups.height == pq.read_metadata(data / "organizations.parquet").num_rows
    assert rollups.select(pl.sum_horizontal(pl.col("^.*_total$")).sum()).item() == 0
    assert rollups.get_column("last_interaction_at").null_count() == rollups.height


def test_an_empty_attributes_table_is_a_definition_error_where_segments_use_one(
    data: Path, published: Path, tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    """The sample's segments use custom attributes: with none defined, each use is a located
    definition error (exit 1), reported before any other table is read."""
    out = copy_published(published, tmp_path)
    before = fingerprint(out)
    _empty(data, "attributes")
    result = run(data, out, "duckdb", capfd)
    assert_clean(result)
    assert result.code == 1, result.output
    reason = "churn-risk-customers.yaml:7:7: unknown custom organization attribute"
    assert_located(result.err, f"{reason} 'custom.is_customer'")
    assert fingerprint(out) == before


def _moved(rows: int, prop: str) -> Callable[[pa.Table], pa.Table]:
    """The table with copies of its first ``rows`` rows in property ``prop``."""

    def change(arrow: pa.Table) -> pa.Table:
        extra = column_set(arrow.slice(0, rows), "property_id", pa.array([prop] * rows))
        return pa.concat_tables([arrow, extra])

    return change


@pytest.mark.parametrize("engine", ENGINES)
def test_a_property_present_in_one_table_only_is_evaluated_on_its_own(
    engine: str, data: Path, tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    """People of a property that has no organization (and no link, no event), and
    organizations of a property that has no people: nothing to set aside, each evaluated."""
    rewrite(data, "people", _moved(20, "site-people-only"))
    rewrite(data, "organizations", _moved(20, "site-orgs-only"))
    out = tmp_path / "out"
    result = run(data, out, engine, capfd)
    assert_clean(result)
    assert result.code == 0, result.output
    assert _read(out, "quarantine").height == 0
    seen = set(_read(out, "segment_membership").select("property_id", "entity").unique().rows())
    assert {("site-people-only", "person"), ("site-orgs-only", "organization")} <= seen
    rollups = _read(out, "timeline_rollups").filter(pl.col("property_id") == "site-orgs-only")
    assert rollups.height == 20


#: About the year 287,000 (and -283,000 when negative): Parquet, DuckDB and Polars hold it.
FAR: Final = 9_000_000_000_000_000_000
#: About the year 12,000: after Python's last year, 9999.
YEAR_12000: Final = 316_592_755_200_000_000


@pytest.mark.parametrize("engine", ENGINES)
def test_instants_python_cannot_hold_are_kept_and_shown(
    engine: str, data: Path, tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    """Timestamps far before the year 1 or after 9999 are valid Parquet: a kept row keeps its
    instant, and a set-aside row shows it in its JSON (microseconds since 1970 where no
    calendar date can be written), rather than the run failing while it shows them."""
    set_micros(data, "organizations", "created_at", 0, -FAR)
    event = {"property_id": "site-fr", "org_id": "o2", "occurred_at": T0}
    add(
        data,
        "timeline",
        {**event, "event_id": "far-past", "kind": "note"},  # kept: o2's first interaction
        {**event, "event_id": "far-future", "kind": "fax"},  # set aside: an unknown kind
    )
    last = pq.read_metadata(_path(data, "timeline")).num_rows - 1
    set_micros(data, "timeline", "occurred_at", last - 1, -FAR)
    set_micros(data, "timeline", "occurred_at", last, FAR)
    number = first_index(
        data, "attribute_values", lambda arrow: pc.is_valid(arrow.column("value_number"))
    )
    set_value(data, "attribute_values", "value_number", number, None)
    set_micros(data, "attribute_values", "value_datetime", number, YEAR_12000)
    out = tmp_path / "out"
    result = run(data, out, engine, capfd)
    assert_clean(result)
    assert result.code == 0, result.output
    rows = {r["table"]: r["row"] for r in pq.read_table(out / "quarantine").to_pylist()}
    assert f'"occurred_at":"{FAR} microseconds since 1970-01-01 UTC"' in rows["timeline"]
    shown = f'"value_datetime":"{YEAR_12000} microseconds since 1970-01-01 UTC"'
    assert shown in rows["attribute_values"]
    created = pq.read_table(out / "organizations").column("created_at").cast(pa.int64())
    assert created[0].as_py() == -FAR
    first = (
        _read(out, "timeline_rollups")
        .filter(pl.col("property_id") == "site-fr", pl.col("org_id") == "o2")
        .select(pl.col("first_interaction_at").dt.epoch("us"))
    )
    assert first.item() == -FAR


def _five_megabytes_and_a_long_list(data: Path) -> None:
    """A 5 MB name, and a list of 100,000 tags (one organization each)."""
    set_value(data, "organizations", "name", 0, "x" * 5_000_000)
    set_value(data, "organizations", "tags", 1, [f"tag-{i}" for i in range(100_000)])


@pytest.mark.parametrize("engine", ENGINES)
def test_huge_values_run_in_bounded_time_and_memory(
    engine: str, data: Path, tmp_path: Path
) -> None:
    """In a process of its own, so that its peak memory and its time are its own."""
    _five_megabytes_and_a_long_list(data)
    command = [sys.executable, "-m", "pipeline", "run", "--data", str(data), "--segments",
               str(ROOT / "segments"), "--out", str(tmp_path / "out"), "--as-of", FIRST,
               "--engine", engine, "--quiet"]  # fmt: skip
    printed = {name: tmp_path / name for name in ("stdout", "stderr")}
    started = time.monotonic()
    peak = 0
    with printed["stdout"].open("w") as out, printed["stderr"].open("w") as err:
        process = subprocess.Popen(command, stdout=out, stderr=err, cwd=tmp_path)
    try:
        watched = psutil.Process(process.pid)
        while process.poll() is None and time.monotonic() - started < 60:
            with contextlib.suppress(psutil.NoSuchProcess):
                peak = max(peak, watched.memory_info().rss)
            time.sleep(0.02)
    finally:
        if process.poll() is None:
            process.kill()
    code = process.wait()
    assert time.monotonic() - started < 60, "the run took over a minute"
    result = Result(code, printed["stdout"].read_text(), printed["stderr"].read_text())
    assert_clean(result)
    assert result.code == 0, result.output
    assert peak < 2**30, f"peak memory {peak / 2**20:.0f} MiB"
    names = pq.read_table(tmp_path / "out" / "organizations", columns=["name", "tags"])
    assert len(names.column("name")[0].as_py()) == 5_000_000
    assert len(names.column("tags")[1].as_py()) == 100_000


NUMBER_SEGMENTS: Final = {
    "big.yaml": "where: {custom.arr: {gte: 100000}}",
    "negative.yaml": "where: {custom.arr: {lt: 0}}",
    "middle.yaml": "where: {custom.employees: {between: [200, 5000]}}",
    "not-zero.yaml": "where: {custom.employees: {is_not: 0}}",
    "no-arr.yaml": "where: {custom.arr: {is_unknown: true}}",
    "some-arr.yaml": "where: {custom.arr: {has_any_value: true}}",
    "passive.yaml": "entity: person\nwhere: {custom.nps: {is: 7}}",
    "detractor.yaml": "entity: person\nwhere: {custom.nps: {between: [0, 6]}}",
    "no-nps.yaml": "entity: person\nwhere: {none: [{custom.nps: {gte: 0}}]}",
}


def test_nan_and_infinite_numbers_are_kept_and_both_engines_agree(
    data: Path, tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    """NaN, +inf and -inf in value_number are numbers to Parquet: kept, and compared alike
    by both engines, by every number operator. NaN is unknown (docs/architecture.md)."""

    def odd(arrow: pa.Table) -> pa.Table:
        numbers = arrow.column("value_number").to_pylist()
        present = [i for i, v in enumerate(numbers) if v is not None][::40]
        for n, i in enumerate(present):
            numbers[i] = (math.nan, math.inf, -math.inf)[n % 3]
        return column_set(arrow, "value_number", pa.array(numbers, pa.float64()))

    rewrite(data, "attribute_values", odd)
    values = pl.read_parquet(_path(data, "attribute_values"))
    nan_arr = values.filter(pl.col("key") == "arr", pl.col("value_number").is_nan())
    segments = tmp_path / "segments"
    segments.mkdir()
    for name, text in NUMBER_SEGMENTS.items():
        (segments / name).write_text(text + "\n")
    members = {}
    for engine in ENGINES:
        out = tmp_path / f"out-{engine}"
        result = run(data, out, engine, capfd, segments=segments)
        assert_clean(result)
        assert result.code == 0, result.output
        assert _read(out, "quarantine").height == 0
        members[engine] = _read(out, "segment_membership").drop("run_id").sort(pl.all())
    assert members["duckdb"].equals(members["polars"])
    in_segments = (
        members["duckdb"]
        .join(nan_arr, on=["property_id", "entity_id"], how="semi")
        .group_by("segment_id")
        .len()
    )
    assert dict(in_segments.iter_rows()).get("no-arr") == nan_arr.height > 0
    assert "some-arr" not in in_segments.get_column("segment_id").to_list()


# --- text that no check and no engine reads ----------------------------------------------


def test_text_that_no_engine_reads_is_still_a_data_error(
    data: Path, published: Path, tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    out = copy_published(published, tmp_path)
    before = fingerprint(out)
    corrupt(_path(data, "timeline"), "author", [3])
    result = run(data, out, "duckdb", capfd)
    assert_clean(result)
    assert result.code == 3, result.output
    assert_located(result.err, "timeline.author: text that is not UTF-8 (1 row)")
    assert fingerprint(out) == before

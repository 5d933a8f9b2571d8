"""The input layer (SPEC section 2): discovery, casting, per-table and cross-table rules.

Each test writes the valid minimal dataset of ``inputs_fixtures`` to ``tmp_path``, breaks one
thing, and checks the report: table, column, rule, count, an example and the severity.
"""

from __future__ import annotations

import datetime as dt
import json
import shutil
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from inputs_fixtures import T0, Rows, canonical, replace_column, valid_rows, write_dataset

from pipeline.catalog import CustomAttribute
from pipeline.errors import DataIssue, InputDataError
from pipeline.inputs import (
    QUARANTINE_SCHEMA,
    ValidatedInputs,
    find_tables,
    read_custom_attributes,
    read_inputs,
    table_rules,
    validate,
)
from pipeline.inputs.discover import fingerprint, locate_tables
from pipeline.inputs.link_rules import VALUE_TYPE
from pipeline.inputs.schema import TABLES, VALUE_COLUMNS
from pipeline.inputs.table_rules import duplicated_rows


@pytest.fixture
def rows() -> Rows:
    return valid_rows()


@pytest.fixture(autouse=True, params=["one batch", "batches of 2 rows"])
def batches(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> None:
    """Every test also runs with the table rules reading two rows at a time, so that findings
    in later batches must land on their rows of the whole table."""
    if request.param != "one batch":
        monkeypatch.setattr(table_rules, "BATCH_ROWS", 2)


def run(tmp_path: Path, rows: Rows | None = None, **raw: pa.Table) -> ValidatedInputs:
    data = write_dataset(tmp_path / "data", rows, raw)
    return read_inputs(data, tmp_path / "work")


def fail(tmp_path: Path, rows: Rows | None = None, **raw: pa.Table) -> list[DataIssue]:
    with pytest.raises(InputDataError) as info:
        run(tmp_path, rows, **raw)
    return info.value.issues


def issue(
    source: ValidatedInputs | Sequence[DataIssue], table: str, column: str | None, rule: str
) -> DataIssue:
    """The one issue of ``table.column`` whose rule contains ``rule``."""
    issues = source.issues if isinstance(source, ValidatedInputs) else source
    found = [i for i in issues if i.table == table and i.column == column and rule in i.rule]
    assert len(found) == 1, f"expected one {table}.{column} '{rule}' issue in {issues}"
    return found[0]


def output(inputs: ValidatedInputs, table: str) -> pl.DataFrame:
    return pl.read_parquet(inputs.tables[table])


def raw_table(rows: Rows, table: str) -> pa.Table:
    return canonical(table, rows[table])


# --- a valid dataset ------------------------------------------------------------------------


def test_valid_dataset_is_written_in_canonical_form(tmp_path: Path) -> None:
    inputs = run(tmp_path)
    assert inputs.issues == ()
    assert inputs.row_counts == {
        "organizations": 3,
        "people": 2,
        "organization_people": 2,
        "attributes": 4,
        "attribute_values": 4,
        "timeline": 3,
    }
    for table, path in inputs.tables.items():
        assert path == tmp_path / "work" / f"{table}.parquet"
        assert pq.read_schema(path).remove_metadata() == TABLES[table]
    assert inputs.quarantine.schema == QUARANTINE_SCHEMA
    assert inputs.quarantine.num_rows == 0
    assert len(inputs.fingerprint) == 64


def test_a_canonical_file_with_nothing_set_aside_is_copied_byte_for_byte(
    tmp_path: Path, rows: Rows
) -> None:
    rows["timeline"][1]["kind"] = "meeting"  # quarantined: the timeline is rewritten
    raw = raw_table(rows, "organizations")
    millis = raw.column("created_at").cast(pa.timestamp("ms", tz="UTC"))
    raw = replace_column(raw, "created_at", millis)  # cast to microseconds: rewritten
    inputs = run(tmp_path, rows, organizations=raw)
    data = tmp_path / "data"
    for table in ("people", "organization_people", "attributes", "attribute_values"):
        copied = inputs.tables[table].read_bytes()
        assert copied == (data / f"{table}.parquet").read_bytes(), table
    for table in ("timeline", "organizations"):
        assert inputs.tables[table].read_bytes() != (data / f"{table}.parquet").read_bytes()
        assert pq.read_schema(inputs.tables[table]).remove_metadata() == TABLES[table]
    assert output(inputs, "timeline").height == 2 == inputs.row_counts["timeline"]
    assert "meeting" not in output(inputs, "timeline").get_column("kind").to_list()
    assert output(inputs, "organizations").equals(pl.from_arrow(raw_table(rows, "organizations")))


def test_a_file_that_changes_while_it_is_copied_is_written_from_what_was_validated(
    tmp_path: Path, rows: Rows, monkeypatch: pytest.MonkeyPatch
) -> None:
    data = write_dataset(tmp_path / "data", rows)
    real_copy = shutil.copyfile

    def copy_then_change(source: Path, target: Path) -> None:
        real_copy(source, target)
        if source.name == "people.parquet":  # a writer replaces the file meanwhile
            pq.write_table(raw_table(rows, "people").slice(0, 1), source)

    monkeypatch.setattr(validate.shutil, "copyfile", copy_then_change)
    inputs = read_inputs(data, tmp_path / "work")
    # The torn copy is dropped; the file is read as it is now, and that is what is written.
    assert output(inputs, "people").height == 1 == inputs.row_counts["people"]
    assert not list((tmp_path / "work").glob("*.partial"))


def test_a_file_that_cannot_be_copied_is_read_from_where_it_is(
    tmp_path: Path, rows: Rows, monkeypatch: pytest.MonkeyPatch
) -> None:
    data = write_dataset(tmp_path / "data", rows)
    real_copy = shutil.copyfile

    def copy_or_fail(source: Path, target: Path) -> None:
        if source.name == "people.parquet":
            raise PermissionError(f"cannot read {source}")
        real_copy(source, target)

    monkeypatch.setattr(validate.shutil, "copyfile", copy_or_fail)
    inputs = read_inputs(data, tmp_path / "work")
    assert output(inputs, "people").height == 2 == inputs.row_counts["people"]
    assert not list((tmp_path / "work").glob("*.partial"))


def _rewrite_people_once_copied(
    monkeypatch: pytest.MonkeyPatch, rows: Rows, data: Path, keep: int
) -> None:
    """A writer replaces people.parquet with its first ``keep`` rows once the run copied it."""
    real_scan = validate.scan_copy

    def change_then_scan(copy: Path) -> Any:
        if copy.name == "people.parquet":
            pq.write_table(raw_table(rows, "people").slice(0, keep), data / "people.parquet")
        return real_scan(copy)

    monkeypatch.setattr(validate, "scan_copy", change_then_scan)


def test_a_file_that_changes_after_it_is_copied_is_validated_and_written_as_copied(
    tmp_path: Path, rows: Rows, monkeypatch: pytest.MonkeyPatch
) -> None:
    rows["people"].append({"property_id": "site-a", "person_id": None})  # an error: null id
    data = write_dataset(tmp_path / "data", rows)
    _rewrite_people_once_copied(monkeypatch, rows, data, keep=2)  # the writer fixes it
    with pytest.raises(InputDataError) as raised:
        read_inputs(data, tmp_path / "work")
    assert "people.person_id: null in a required column (1 row)" in str(raised.value)


def test_the_fingerprint_is_of_what_was_read(
    tmp_path: Path, rows: Rows, monkeypatch: pytest.MonkeyPatch
) -> None:
    data = write_dataset(tmp_path / "data", rows)
    files, _ = locate_tables(data, TABLES)
    before = fingerprint(data, files)
    _rewrite_people_once_copied(monkeypatch, rows, data, keep=1)
    inputs = read_inputs(data, tmp_path / "work")
    assert inputs.row_counts["people"] == 2
    assert inputs.fingerprint == before != fingerprint(data, files)


def test_same_ids_in_two_properties_are_not_duplicates(tmp_path: Path, rows: Rows) -> None:
    rows["organizations"].append({"property_id": "site-b", "org_id": "o1"})
    inputs = run(tmp_path, rows)  # timeline already has e1 in both properties
    assert inputs.issues == ()
    assert inputs.row_counts["organizations"] == 4


# --- discovery ------------------------------------------------------------------------------


def test_missing_table_is_an_error_naming_both_layouts(tmp_path: Path) -> None:
    data = write_dataset(tmp_path / "data")
    (data / "timeline.parquet").unlink()
    (data / "people.parquet").unlink()
    with pytest.raises(InputDataError) as info:
        read_inputs(data, tmp_path / "work")
    found = issue(info.value.issues, "timeline", None, "table is missing")
    assert found.severity == "error"
    assert found.hint == f"expected {data}/timeline.parquet or {data}/timeline/"
    issue(info.value.issues, "people", None, "table is missing")
    with pytest.raises(InputDataError, match="timeline: table is missing"):
        find_tables(data)


def test_table_given_as_file_and_directory_is_an_error(tmp_path: Path) -> None:
    data = write_dataset(tmp_path / "data")
    (data / "people").mkdir()
    pq.write_table(raw_table(valid_rows(), "people"), data / "people" / "part-0.parquet")
    with pytest.raises(InputDataError) as info:
        find_tables(data)
    assert "keep only one of" in str(issue(info.value.issues, "people", None, "twice").hint)


def test_directory_per_table_with_hive_partitions(tmp_path: Path, rows: Rows) -> None:
    data = write_dataset(tmp_path / "data", rows)
    (data / "timeline.parquet").unlink()
    events = raw_table(rows, "timeline")
    for site in ("site-a", "site-b"):
        folder = data / "timeline" / f"property_id={site}"
        folder.mkdir(parents=True)
        part = events.filter(pa.compute.equal(events["property_id"], site))
        pq.write_table(part.drop_columns(["property_id"]), folder / "part-0.parquet")
    (data / "timeline" / "_SUCCESS").touch()
    assert [p.relative_to(data).as_posix() for p in find_tables(data)["timeline"]] == [
        "timeline/property_id=site-a/part-0.parquet",
        "timeline/property_id=site-b/part-0.parquet",
    ]
    inputs = read_inputs(data, tmp_path / "work")
    assert inputs.issues == ()
    timeline = output(inputs, "timeline").sort("property_id", "event_id")
    assert timeline.select("property_id", "event_id", "org_id").rows() == [
        ("site-a", "e1", "o1"),
        ("site-a", "e2", None),
        ("site-b", "e1", "o9"),
    ]


def test_files_of_one_table_may_differ_in_physical_types(tmp_path: Path, rows: Rows) -> None:
    data = write_dataset(tmp_path / "data", rows)
    (data / "people.parquet").unlink()
    people = raw_table(rows, "people")
    (data / "people" / "2026").mkdir(parents=True)
    pq.write_table(people.slice(0, 1), data / "people" / "2026" / "a.parquet")
    wide = people.slice(1).cast(
        pa.schema(
            [
                f.with_type(pa.large_string()) if f.type == pa.string() else f
                for f in TABLES["people"]
            ]
        )
    )
    pq.write_table(wide, data / "people" / "2026" / "b.parquet")
    inputs = read_inputs(data, tmp_path / "work")
    assert output(inputs, "people").get_column("person_id").to_list() == ["p1", "p9"]


def test_column_problems_name_the_files_at_fault(tmp_path: Path, rows: Rows) -> None:
    data = write_dataset(tmp_path / "data", rows)
    (data / "people.parquet").unlink()
    people = raw_table(rows, "people")
    (data / "people").mkdir()
    pq.write_table(people.slice(0, 1), data / "people" / "a.parquet")
    pq.write_table(people.slice(1).drop_columns(["job_title"]), data / "people" / "b.parquet")
    with pytest.raises(InputDataError) as info:
        read_inputs(data, tmp_path / "work")
    found = issue(info.value.issues, "people", "job_title", "column is missing")
    assert (found.count, found.examples) == (1, ("file people/b.parquet",))
    assert found.hint == "write it as all null where the value is unknown"


def test_dates_are_not_timestamps(tmp_path: Path, rows: Rows) -> None:
    values = raw_table(rows, "attribute_values")
    values = replace_column(values, "value_datetime", pa.nulls(4, pa.date32()))
    found = issue(fail(tmp_path, attribute_values=values), "attribute_values", "value_datetime", "")
    assert found.rule == "wrong type: found date32[day], expected timestamp with a time zone"
    assert found.hint == "write dates as timestamps with a time zone, e.g. midnight UTC"


def test_fingerprint_follows_the_data(tmp_path: Path, rows: Rows) -> None:
    first = run(tmp_path).fingerprint
    assert run(tmp_path).fingerprint == first
    rows["people"][0]["name"] = "Anne"
    assert run(tmp_path, rows).fingerprint != first


def test_unreadable_file_is_an_error(tmp_path: Path) -> None:
    data = write_dataset(tmp_path / "data")
    (data / "people.parquet").write_bytes(b"not parquet at all")
    with pytest.raises(InputDataError) as info:
        read_inputs(data, tmp_path / "work")
    found = issue(info.value.issues, "people", None, "not readable Parquet")
    assert found.examples == ("file people.parquet",)


def _break_pages(path: Path) -> None:
    """Overwrite the data pages of ``path`` with garbage, keeping its footer readable."""
    table = pq.read_table(path)
    pq.write_table(table, path, compression="none")
    broken = bytearray(path.read_bytes())
    footer = pq.ParquetFile(path).metadata.serialized_size + 8
    broken[4 : len(broken) - footer] = b"\xff" * (len(broken) - footer - 4)
    path.write_bytes(bytes(broken))


def _break_column(path: Path, column: str) -> None:
    """Overwrite the pages of one column of ``path`` with garbage; the others still read."""
    pq.write_table(pq.read_table(path), path, compression="none")
    chunk = (
        pq.ParquetFile(path).metadata.row_group(0).column(pq.read_schema(path).names.index(column))
    )
    start = chunk.dictionary_page_offset or chunk.data_page_offset
    broken = bytearray(path.read_bytes())
    broken[start : start + chunk.total_compressed_size] = b"\xff" * chunk.total_compressed_size
    path.write_bytes(bytes(broken))
    others = [c for c in pq.read_schema(path).names if c != column]
    assert pl.read_parquet(path, columns=others).height


@pytest.mark.parametrize(
    ("table", "column", "copy_row"),
    [
        ("timeline", "org_id", None),  # a column only the rules across tables read
        ("timeline", "org_id", 0),  # ... and a duplicate id in columns that do read
        ("organizations", "name", 0),  # a column no rule reads, in a table with a finding
    ],
    ids=["rules across tables", "rules across tables and a finding", "no rule, a finding"],
)
def test_broken_pages_of_a_column_are_an_error_naming_the_file(
    tmp_path: Path, rows: Rows, table: str, column: str, copy_row: int | None
) -> None:
    if copy_row is not None:  # a finding in the readable columns, which the broken file voids
        rows[table].append(dict(rows[table][copy_row]))
    data = write_dataset(tmp_path / "data", rows)
    _break_column(data / f"{table}.parquet", column)
    with pytest.raises(InputDataError) as info:
        read_inputs(data, tmp_path / "work")
    found = issue(info.value.issues, table, None, "not readable Parquet")
    assert found.examples == (f"file {table}.parquet",)
    assert [i.rule for i in info.value.issues] == [found.rule]


@pytest.mark.parametrize("layout", ["file", "folder"])
def test_file_with_broken_pages_is_an_error_naming_it(tmp_path: Path, layout: str) -> None:
    data = write_dataset(tmp_path / "data")
    if layout == "folder":  # read through the casting reader, not as a canonical copy
        (data / "people").mkdir()
        (data / "people.parquet").rename(data / "people" / "part-0.parquet")
    target = data / "people" / "part-0.parquet" if layout == "folder" else data / "people.parquet"
    _break_pages(target)
    assert pq.read_schema(target).names  # the footer still reads
    with pytest.raises(InputDataError) as info:
        read_inputs(data, tmp_path / "work")
    found = issue(info.value.issues, "people", None, "not readable Parquet")
    label = "people/part-0.parquet" if layout == "folder" else "people.parquet"
    assert found.examples == (f"file {label}",)
    assert found.count == 2 and found.hint


# --- columns and types ----------------------------------------------------------------------


def test_missing_column_is_an_error_with_a_suggestion(tmp_path: Path, rows: Rows) -> None:
    events = raw_table(rows, "timeline").rename_columns(
        {"occurred_at": "occured_at", "kind": "type"}
    )
    issues = fail(tmp_path, timeline=events)
    found = issue(issues, "timeline", "occurred_at", "column is missing")
    assert (found.count, found.severity) == (3, "error")
    assert found.examples == ("file timeline.parquet",)
    assert found.hint == "did you mean 'occured_at'?"
    issue(issues, "timeline", "kind", "column is missing")


def test_incompatible_type_names_found_and_expected(tmp_path: Path, rows: Rows) -> None:
    orgs = replace_column(raw_table(rows, "organizations"), "name", pa.array([1, 2, 3]))
    values = raw_table(rows, "attribute_values")
    values = replace_column(values, "value_boolean", pa.array(["yes", None, None, None]))
    issues = fail(tmp_path, organizations=orgs, attribute_values=values)
    found = issue(issues, "organizations", "name", "wrong type")
    assert found.rule == "wrong type: found int64, expected text"
    assert (found.count, found.severity) == (3, "error")
    found = issue(issues, "attribute_values", "value_boolean", "wrong type")
    assert found.rule == "wrong type: found string, expected boolean"


def test_naive_timestamp_is_an_error(tmp_path: Path, rows: Rows) -> None:
    naive = pa.array([dt.datetime(2026, 1, 5, 9, 30)] * 3, pa.timestamp("us"))
    events = replace_column(raw_table(rows, "timeline"), "occurred_at", naive)
    found = issue(fail(tmp_path, timeline=events), "timeline", "occurred_at", "time zone")
    assert found.rule == "timestamp without a time zone (timestamp[us])"
    assert found.hint == "write timestamps with a time zone, e.g. UTC"
    assert (found.count, found.severity) == (3, "error")


def test_large_strings_and_other_timestamp_units_are_accepted(tmp_path: Path, rows: Rows) -> None:
    events = raw_table(rows, "timeline")
    for name in ("event_id", "property_id", "kind"):
        events = replace_column(events, name, events[name].cast(pa.large_string()))
    nanos = pa.array([1_767_605_400_123_456_789] * 3, pa.timestamp("ns", tz="UTC"))
    events = replace_column(events, "occurred_at", nanos)
    orgs = raw_table(rows, "organizations")
    created = orgs["created_at"].cast(pa.timestamp("ms", tz="UTC"))
    orgs = replace_column(orgs, "created_at", created)
    orgs = replace_column(orgs, "tags", orgs["tags"].cast(pa.large_list(pa.large_string())))
    inputs = run(tmp_path, rows, timeline=events, organizations=orgs)
    assert inputs.issues == ()
    occurred = output(inputs, "timeline").get_column("occurred_at")
    assert occurred.to_list()[0] == dt.datetime(2026, 1, 5, 9, 30, 0, 123456, tzinfo=dt.UTC)
    assert output(inputs, "organizations").get_column("created_at").to_list()[1] == T0
    assert output(inputs, "organizations").get_column("tags").to_list()[0] == ["enterprise"]


def test_integer_ids_become_text(tmp_path: Path, rows: Rows) -> None:
    orgs = replace_column(raw_table(rows, "organizations"), "org_id", pa.array([1, 2, 9]))
    links = raw_table(rows, "organization_people")
    links = replace_column(links, "org_id", pa.array([1, 9], pa.int32()))
    renamed: dict[str | None, str] = {"o1": "1", "o9": "9"}
    for event in rows["timeline"]:
        event["org_id"] = renamed.get(event.get("org_id"), event.get("org_id"))
    for value in rows["attribute_values"]:
        value["entity_id"] = renamed.get(value["entity_id"], value["entity_id"])
    inputs = run(tmp_path, rows, organizations=orgs, organization_people=links)
    assert inputs.issues == ()
    assert output(inputs, "organizations").get_column("org_id").to_list() == ["1", "2", "9"]
    assert output(inputs, "organization_people").get_column("org_id").to_list() == ["1", "9"]


def test_other_time_zones_are_converted_to_utc(tmp_path: Path, rows: Rows) -> None:
    events = raw_table(rows, "timeline")
    paris = events["occurred_at"].cast(pa.timestamp("us", tz="Europe/Paris"))
    inputs = run(tmp_path, rows, timeline=replace_column(events, "occurred_at", paris))
    assert pq.read_schema(inputs.tables["timeline"]).field("occurred_at").type.tz == "UTC"
    assert output(inputs, "timeline").get_column("occurred_at").to_list() == [T0] * 3


def test_extra_columns_are_ignored(tmp_path: Path, rows: Rows) -> None:
    people = raw_table(rows, "people").append_column("favourite_colour", pa.array([1, None]))
    inputs = run(tmp_path, rows, people=people)
    assert inputs.issues == ()
    assert output(inputs, "people").columns == TABLES["people"].names


def test_all_null_and_dictionary_columns_are_accepted(tmp_path: Path, rows: Rows) -> None:
    events = raw_table(rows, "timeline")
    events = replace_column(events, "author", pa.nulls(3))
    events = replace_column(events, "kind", events["kind"].dictionary_encode())
    inputs = run(tmp_path, rows, timeline=events)
    assert inputs.issues == ()
    assert output(inputs, "timeline").get_column("kind").to_list() == ["chat", "note", "call"]


# --- rules within a table -------------------------------------------------------------------


REQUIRED = [
    ("organizations", "property_id"),
    ("organizations", "org_id"),
    ("people", "person_id"),
    ("organization_people", "org_id"),
    ("organization_people", "person_id"),
    ("attributes", "entity"),
    ("attributes", "key"),
    ("attributes", "type"),
    ("attribute_values", "entity_id"),
    ("attribute_values", "key"),
    ("timeline", "event_id"),
    ("timeline", "kind"),
    ("timeline", "occurred_at"),
]


@pytest.mark.parametrize(("table", "column"), REQUIRED)
def test_null_in_required_column_is_an_error(
    tmp_path: Path, rows: Rows, table: str, column: str
) -> None:
    rows[table][0][column] = None
    found = issue(fail(tmp_path, rows), table, column, "null in a required column")
    assert (found.count, found.severity) == (1, "error")
    assert f"{column}: null" in found.examples[0]


DUPLICATES = [
    ("organizations", "org_id", "duplicate org_id within a property"),
    ("people", "person_id", "duplicate person_id within a property"),
    ("timeline", "event_id", "duplicate event_id within a property"),
    ("attributes", "key", "duplicate attribute definition (entity, key) within a property"),
    ("attribute_values", "key", "duplicate value for one (entity, entity_id, key)"),
]


@pytest.mark.parametrize(("table", "column", "rule"), DUPLICATES)
def test_duplicate_ids_are_an_error(
    tmp_path: Path, rows: Rows, table: str, column: str, rule: str
) -> None:
    rows[table].append(dict(rows[table][0]))
    found = issue(fail(tmp_path, rows), table, column, rule)
    assert (found.count, found.severity) == (2, "error")
    assert len(found.examples) == 1  # both copies render alike
    assert "property_id: 'site-a'" in found.examples[0]


def test_duplicate_org_example(tmp_path: Path, rows: Rows) -> None:
    rows["organizations"].append({"property_id": "site-a", "org_id": "o2", "name": "Other"})
    found = issue(fail(tmp_path, rows), "organizations", "org_id", "duplicate")
    assert found.examples == ("{property_id: 'site-a', org_id: 'o2'}",)
    assert "organizations.org_id: duplicate org_id within a property (2 rows)" in str(found)


@pytest.mark.parametrize(
    ("column", "bad", "rule"),
    [
        ("entity", "company", "unknown entity"),
        ("key", "Plan Tier", "key does not match [a-z][a-z0-9_]*"),
        ("key", "2fa", "key does not match [a-z][a-z0-9_]*"),
        ("type", "money", "unknown type"),
    ],
)
def test_attribute_definition_values(
    tmp_path: Path, rows: Rows, column: str, bad: str, rule: str
) -> None:
    rows["attributes"].append(
        {"property_id": "site-a", "entity": "organization", "key": "extra", column: bad}
    )
    found = issue(fail(tmp_path, rows), "attributes", column, rule)
    assert found.rule == rule
    assert (found.count, found.severity) == (1, "error")
    assert repr(bad) in found.examples[0]


def test_every_issue_is_reported_in_one_pass(tmp_path: Path, rows: Rows) -> None:
    rows["organizations"].append(dict(rows["organizations"][0]))
    rows["people"][1]["person_id"] = None
    rows["attributes"][0]["type"] = "money"
    rows["timeline"][0]["kind"] = "meeting"  # quarantined: reported too
    people = replace_column(raw_table(rows, "people"), "created_at", pa.array(["x", "y"]))
    with pytest.raises(InputDataError) as info:
        run(tmp_path, rows, people=people)
    reported = {(i.table, i.column, i.severity) for i in info.value.issues}
    assert reported >= {
        ("organizations", "org_id", "error"),
        ("people", "person_id", "error"),
        ("people", "created_at", "error"),
        ("attributes", "type", "error"),
        ("timeline", "kind", "quarantined"),
    }
    assert str(info.value).startswith("4 problems in the input data:")


# --- quarantined rows -----------------------------------------------------------------------


def quarantined(inputs: ValidatedInputs, table: str, column: str | None, rule: str) -> DataIssue:
    found = issue(inputs, table, column, rule)
    assert found.severity == "quarantined"
    return found


def test_unknown_kind_is_quarantined(tmp_path: Path, rows: Rows) -> None:
    rows["timeline"][1]["kind"] = "meeting"
    inputs = run(tmp_path, rows)
    found = quarantined(inputs, "timeline", "kind", "unknown kind")
    assert found.count == 1
    assert found.examples == ("{property_id: 'site-a', event_id: 'e2', kind: 'meeting'}",)
    assert inputs.row_counts["timeline"] == 2


def test_event_without_org_or_person_is_quarantined(tmp_path: Path, rows: Rows) -> None:
    rows["timeline"][0]["org_id"] = None
    found = quarantined(run(tmp_path, rows), "timeline", None, "neither org_id nor person_id")
    assert found.count == 1
    assert "event_id: 'e1'" in found.examples[0]


def test_event_with_unknown_org_is_quarantined(tmp_path: Path, rows: Rows) -> None:
    rows["timeline"][0]["org_id"] = "o404"
    inputs = run(tmp_path, rows)
    found = quarantined(inputs, "timeline", "org_id", "not found in organizations")
    assert found.rule == "org_id not found in organizations of the same property"
    assert "org_id: 'o404'" in found.examples[0]


def test_event_with_only_an_unknown_person_is_quarantined(tmp_path: Path, rows: Rows) -> None:
    rows["timeline"][1]["person_id"] = "p404"
    rows["timeline"][2]["person_id"] = "p404"  # has an org: it stays
    inputs = run(tmp_path, rows)
    found = quarantined(inputs, "timeline", "person_id", "not found in people")
    assert found.count == 1
    assert "person_id: 'p404'" in found.examples[0]
    assert inputs.row_counts["timeline"] == 2


def test_ids_never_match_across_properties(tmp_path: Path, rows: Rows) -> None:
    # o1 and p1 exist in site-a only; the same ids in site-b point nowhere.
    rows["timeline"].append({"event_id": "e7", "property_id": "site-b", "org_id": "o1"})
    rows["timeline"].append({"event_id": "e8", "property_id": "site-b", "person_id": "p1"})
    for event in rows["timeline"][-2:]:
        event.update(kind="chat", occurred_at=T0)
    rows["organization_people"].append({"property_id": "site-b", "org_id": "o1", "person_id": "p9"})
    rows["attribute_values"].append(
        {"property_id": "site-b", "entity": "organization", "entity_id": "o1", "key": "plan"}
        | {"value_text": "x"}
    )
    rows["attribute_values"].append(
        {"property_id": "site-b", "entity": "organization", "entity_id": "o9", "key": "arr"}
        | {"value_number": 1.0}  # arr is defined in site-a only
    )
    inputs = run(tmp_path, rows)
    quarantined(inputs, "timeline", "org_id", "not found")
    quarantined(inputs, "timeline", "person_id", "not found")
    quarantined(inputs, "organization_people", "org_id", "not found")
    quarantined(inputs, "attribute_values", "entity_id", "not found in organizations")
    undefined = quarantined(inputs, "attribute_values", "key", "not defined")
    assert "property_id: 'site-b'" in undefined.examples[0]
    assert inputs.row_counts == valid_counts()


def valid_counts() -> dict[str, int]:
    return {table: len(table_rows) for table, table_rows in valid_rows().items()}


def test_links_pointing_nowhere_are_quarantined(tmp_path: Path, rows: Rows) -> None:
    rows["organization_people"].append({"property_id": "site-a", "org_id": "o404"})
    rows["organization_people"].append({"property_id": "site-a", "person_id": "p404"})
    for link in rows["organization_people"][-2:]:
        link.setdefault("org_id", "o1")
        link.setdefault("person_id", "p1")
    inputs = run(tmp_path, rows)
    org = quarantined(inputs, "organization_people", "org_id", "not found in organizations")
    assert org.examples == ("{property_id: 'site-a', org_id: 'o404', person_id: 'p1'}",)
    person = quarantined(inputs, "organization_people", "person_id", "not found in people")
    assert person.examples == ("{property_id: 'site-a', org_id: 'o1', person_id: 'p404'}",)
    assert inputs.row_counts["organization_people"] == 2


def test_duplicate_links_keep_one_copy(tmp_path: Path, rows: Rows) -> None:
    rows["organization_people"] += [dict(rows["organization_people"][0]) for _ in range(2)]
    inputs = run(tmp_path, rows)
    found = quarantined(inputs, "organization_people", None, "duplicate link")
    assert found.count == 2
    assert inputs.row_counts["organization_people"] == 2
    links = output(inputs, "organization_people")
    assert links.select("property_id", "org_id", "person_id").rows() == [
        ("site-a", "o1", "p1"),
        ("site-b", "o9", "p9"),
    ]


def test_value_without_definition_is_quarantined(tmp_path: Path, rows: Rows) -> None:
    rows["attribute_values"][3]["entity"] = "organization"  # vip is defined for people
    rows["attribute_values"][3]["entity_id"] = "o1"
    found = quarantined(run(tmp_path, rows), "attribute_values", "key", "not defined")
    assert found.rule == "attribute not defined for this entity in the same property"
    assert "key: 'vip'" in found.examples[0]


def test_value_of_unknown_entity_is_quarantined(tmp_path: Path, rows: Rows) -> None:
    rows["attribute_values"][3]["entity_id"] = "p404"
    found = quarantined(run(tmp_path, rows), "attribute_values", "entity_id", "not found")
    assert found.rule == "entity_id not found in people of the same property"
    assert "entity_id: 'p404'" in found.examples[0]


def test_values_are_looked_up_among_their_own_entity_and_property(
    tmp_path: Path, rows: Rows
) -> None:
    values = rows["attribute_values"]
    values += [
        dict(values[0], entity_id="p1"),  # a person's id, given as an organization
        dict(values[2], entity_id="o1"),  # o1 exists in site-a only
        dict(values[3], entity_id="o1"),  # an organization's id, given as a person
        dict(values[1], entity_id="o404", value_text="5"),  # unknown and the wrong type
        dict(values[1], entity_id="o2", value_text="5"),  # the wrong type only
    ]
    inputs = run(tmp_path, rows)
    issues = [(i.column, i.rule, i.count) for i in inputs.issues if i.table == "attribute_values"]
    assert issues == [
        ("entity_id", "entity_id not found in organizations of the same property", 3),
        ("entity_id", "entity_id not found in people of the same property", 1),
        ("value_number", VALUE_TYPE["number"].text, 1),
    ]
    kept = output(inputs, "attribute_values").select("property_id", "entity", "entity_id", "key")
    assert kept.rows() == [tuple(v[c] for c in kept.columns) for v in values[:4]]


@pytest.mark.parametrize(
    "values",
    [
        {"value_text": "50000"},  # the wrong column
        {"value_number": 5.0, "value_text": "5"},  # two columns
        {"value_number": 5.0, "value_list": ["5"]},  # the right one, and another after it
        {},  # none
    ],
)
def test_value_not_matching_its_type_is_quarantined(
    tmp_path: Path, rows: Rows, values: dict[str, Any]
) -> None:
    arr = rows["attribute_values"][1]
    arr.update(dict.fromkeys(VALUE_COLUMNS), **values)
    inputs = run(tmp_path, rows)
    found = quarantined(inputs, "attribute_values", "value_number", "type 'number'")
    assert (
        found.rule
        == "value does not match the attribute's type 'number': exactly value_number must be set"
    )
    assert found.count == 1
    example = found.examples[0]
    assert example.startswith("{property_id: 'site-a', entity: 'organization', entity_id: 'o1'")
    for column in VALUE_COLUMNS:  # the value columns set, and the one expected
        assert (column in example) == (column in values or column == "value_number")
    assert inputs.row_counts["attribute_values"] == 3


def test_quarantine_table_holds_each_row_once(tmp_path: Path, rows: Rows) -> None:
    # e9 breaks two rules (unknown kind, no owner): it is set aside under the first only.
    rows["timeline"].append(
        {"event_id": "e9", "property_id": "site-a", "kind": "fax", "occurred_at": T0}
    )
    rows["organization_people"].append(dict(rows["organization_people"][1]))
    inputs = run(tmp_path, rows)
    quarantine = inputs.quarantine.to_pylist()
    assert [(q["table"], q["rule"], q["column"]) for q in quarantine] == [
        ("organization_people", "duplicate link (one copy kept)", None),
        ("timeline", "unknown kind", "kind"),
    ]
    assert json.loads(quarantine[1]["row"]) == {
        "event_id": "e9",
        "property_id": "site-a",
        "org_id": None,
        "person_id": None,
        "kind": "fax",
        "occurred_at": "2026-01-05T09:30:00+00:00",
        "author": None,
    }
    assert "," in quarantine[0]["row"] and ", " not in quarantine[0]["row"]  # compact
    assert inputs.quarantined_rows == 2
    assert inputs.row_counts == valid_counts()
    assert sum(i.count for i in inputs.issues) == 2


# --- custom attributes ----------------------------------------------------------------------


def test_custom_attributes_merge_over_properties(tmp_path: Path) -> None:
    data = write_dataset(tmp_path / "data")
    assert read_custom_attributes(data) == [
        CustomAttribute("organization", "arr", "number", "ARR", frozenset({"site-a"})),
        CustomAttribute("organization", "plan", "text", "Plan", frozenset({"site-a", "site-b"})),
        CustomAttribute("person", "vip", "boolean", "VIP", frozenset({"site-a"})),
    ]


def test_custom_attributes_read_only_the_attributes_table(tmp_path: Path) -> None:
    data = write_dataset(tmp_path / "data")
    (data / "timeline.parquet").unlink()
    assert len(read_custom_attributes(data)) == 3


def test_custom_attribute_with_conflicting_types_is_an_error(tmp_path: Path, rows: Rows) -> None:
    rows["attributes"][2]["type"] = "number"  # plan: text in site-a, number in site-b
    data = write_dataset(tmp_path / "data", rows)
    with pytest.raises(InputDataError) as info:
        read_custom_attributes(data)
    found = issue(info.value.issues, "attributes", "type", "different types")
    assert found.count == 2
    assert found.examples == (
        "{property_id: 'site-b', entity: 'organization', key: 'plan', type: 'number'}",
        "{property_id: 'site-a', entity: 'organization', key: 'plan', type: 'text'}",
    )
    assert found.hint is not None and "organization 'plan' is number or text" in found.hint


def test_custom_attributes_are_validated(tmp_path: Path, rows: Rows) -> None:
    rows["attributes"][0]["entity"] = "company"
    data = write_dataset(tmp_path / "data", rows)
    with pytest.raises(InputDataError) as info:
        read_custom_attributes(data)
    issue(info.value.issues, "attributes", "entity", "unknown entity")


@pytest.mark.parametrize(
    "row_hash",
    [None, pl.col("org_id").str.len_bytes().cast(pl.UInt64)],
    ids=["hash", "all-collide"],
)
def test_duplicates_are_found_by_exact_keys_not_by_hash(row_hash: pl.Expr | None) -> None:
    frame = pl.DataFrame(
        {
            "property_id": ["p", "p", "q", "p", "p", None, None, "p"],
            "org_id": ["a", "b", "a", "a", "B", "a", "a", "b"],
        }
    )
    # Rows 0 and 3 repeat (p, a), rows 1 and 7 (p, b); (q, a) and (p, B) are distinct, and
    # rows with a null key are left to the null rule.
    found = duplicated_rows(frame.lazy(), ["property_id", "org_id"], row_hash)
    assert sorted(found.to_list()) == [0, 1, 3, 7]

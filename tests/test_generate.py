"""The synthetic CRM generator: canonical schemas, determinism, referential integrity, messiness."""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from datetime import UTC, datetime
from itertools import pairwise
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from pipeline.generate import generate
from pipeline.inputs.schema import (
    CONTACT_COLUMNS,
    CUSTOM_TYPES,
    ENTITIES,
    EVENT_KINDS,
    TABLES,
    TEXT_LIST,
    VALUE_COLUMN,
    VALUE_COLUMNS,
)
from pipeline.inputs.validate import read_inputs

ANCHOR = datetime(2026, 11, 20, tzinfo=UTC)
TEXT_COLUMNS = [name for name, kind in CONTACT_COLUMNS.items() if kind == pa.string()]
LIST_COLUMNS = [name for name, kind in CONTACT_COLUMNS.items() if kind == TEXT_LIST]

Rows = list[dict[str, Any]]


def read(directory: Path, table: str) -> pa.Table:
    return pq.read_table(directory / f"{table}.parquet")


def rows(directory: Path, table: str) -> Rows:
    return list(read(directory, table).to_pylist())


def is_blank(value: str | None) -> bool:
    return value is None or not value.strip()


@pytest.fixture(scope="module", params=[1, 4], ids=["one-block", "four-blocks"])
def blocks(request: pytest.FixtureRequest) -> int:
    """Every dataset test runs on one block and on a dataset built in four blocks."""
    return int(request.param)


@pytest.fixture(scope="module")
def data(tmp_path_factory: pytest.TempPathFactory, blocks: int) -> Path:
    out = tmp_path_factory.mktemp("crm")
    generate(500, out, seed=7, block=-(-500 // blocks))
    return out


def test_writes_every_table_in_its_canonical_schema(data: Path) -> None:
    assert sorted(p.name for p in data.iterdir()) == sorted(f"{t}.parquet" for t in TABLES)
    for table, schema in TABLES.items():
        assert read(data, table).schema.equals(schema), table


def test_returns_the_row_count_of_every_table(tmp_path: Path) -> None:
    counts = generate(200, tmp_path, seed=1)
    assert counts == {table: read(tmp_path, table).num_rows for table in TABLES}
    assert counts["organizations"] == 200
    assert 400 <= counts["people"] <= 600  # about 2-3 per organization
    assert 1_400 <= counts["timeline"] <= 2_800  # about 10 per organization


def test_same_seed_gives_the_same_tables_and_another_seed_does_not(tmp_path: Path) -> None:
    generate(200, tmp_path / "a", seed=3)
    generate(200, tmp_path / "b", seed=3)
    generate(200, tmp_path / "c", seed=4)
    for table in TABLES:
        first = read(tmp_path / "a", table)
        assert first.equals(read(tmp_path / "b", table)), table
        same_bytes = (tmp_path / "a" / f"{table}.parquet").read_bytes()
        assert same_bytes == (tmp_path / "b" / f"{table}.parquet").read_bytes(), table
        if table != "attributes":
            assert not first.equals(read(tmp_path / "c", table)), table


#: What ``generate(200, seed=1)`` writes, per table (a digest of its rows): a change to the
#: generator that changes the data must say so here, and benchmark data is regenerated.
CONTENT = {
    "organizations": "76d972a8f9f05e09",
    "people": "bd985e25de632bd4",
    "organization_people": "ac4f59845a05eec7",
    "attributes": "2b4f6a13d40544b1",
    "attribute_values": "8bc166b18b7dbe52",
    "timeline": "7c616327c67e8616",
}


def test_a_one_block_dataset_is_what_it_has_always_been(tmp_path: Path) -> None:
    generate(200, tmp_path, seed=1)
    found = {
        table: hashlib.sha256(json.dumps(rows(tmp_path, table), default=str).encode()).hexdigest()
        for table in TABLES
    }
    assert {table: digest[:16] for table, digest in found.items()} == CONTENT


def test_ids_are_unique_within_a_property_and_collide_across_properties(data: Path) -> None:
    for table, column in (
        ("organizations", "org_id"),
        ("people", "person_id"),
        ("timeline", "event_id"),
    ):
        keys = [(r["property_id"], r[column]) for r in rows(data, table)]
        assert len(keys) == len(set(keys)), table
        by_property: dict[str, set[str]] = {}
        for property_id, key in keys:
            by_property.setdefault(property_id, set()).add(key)
        assert sorted(by_property) == ["site-de", "site-fr", "site-us"]
        assert set.intersection(*by_property.values()), f"{table}: no id shared by properties"
    orgs = Counter(r["property_id"] for r in rows(data, "organizations"))
    assert len(set(orgs.values())) == len(orgs), "organizations should split unevenly"


def test_ids_of_each_property_run_from_one_without_gaps(data: Path) -> None:
    for table, column in (
        ("organizations", "org_id"),
        ("people", "person_id"),
        ("timeline", "event_id"),
    ):
        numbers: dict[str, list[int]] = {}
        for r in rows(data, table):
            numbers.setdefault(r["property_id"], []).append(int(r[column][1:]))
        for property_id, found in numbers.items():
            assert sorted(found) == list(range(1, len(found) + 1)), (table, property_id)


def test_properties_argument_sets_the_number_of_tenants(tmp_path: Path) -> None:
    generate(300, tmp_path, seed=2, properties=5)
    names = set(read(tmp_path, "organizations").column("property_id").to_pylist())
    assert names == {"site-fr", "site-us", "site-de", "site-uk", "site-es"}
    attributes = read(tmp_path, "attributes")
    assert set(attributes.column("property_id").to_pylist()) == names


def test_links_and_events_point_at_rows_of_the_same_property(data: Path) -> None:
    orgs = {(r["property_id"], r["org_id"]) for r in rows(data, "organizations")}
    people = {(r["property_id"], r["person_id"]) for r in rows(data, "people")}
    links = rows(data, "organization_people")
    assert len(links) == len({tuple(link.values()) for link in links}), "duplicate link"
    linked_people = set()
    for link in links:
        assert (link["property_id"], link["org_id"]) in orgs
        assert (link["property_id"], link["person_id"]) in people
        linked_people.add((link["property_id"], link["person_id"]))
    for event in rows(data, "timeline"):
        org, person = event["org_id"], event["person_id"]
        assert org is not None or person is not None
        if org is not None:
            assert (event["property_id"], org) in orgs
        if person is not None:
            assert (event["property_id"], person) in people
        if org is None:
            assert (event["property_id"], person) in linked_people


def test_people_link_to_zero_one_or_several_organizations(data: Path) -> None:
    links = rows(data, "organization_people")
    per_person = Counter((r["property_id"], r["person_id"]) for r in links)
    per_org = Counter((r["property_id"], r["org_id"]) for r in links)
    people, orgs = rows(data, "people"), rows(data, "organizations")
    assert len(per_person) < len(people), "some people belong to no organization"
    assert len(per_org) < len(orgs), "some organizations have no people"
    spread = Counter(per_person.values())
    assert spread[1] > 0.8 * len(per_person)
    assert spread[2] > 0 and spread[3] > 0
    assert 2 <= len(people) / len(orgs) <= 3


def test_timeline_has_every_kind_sorted_by_property_then_time(data: Path, blocks: int) -> None:
    events = rows(data, "timeline")
    kinds = Counter(e["kind"] for e in events)
    assert set(kinds) == set(EVENT_KINDS)
    assert min(kinds.values()) > 0.1 * len(events)
    keys = [(e["property_id"], e["occurred_at"]) for e in events]
    restarts = sum(later < earlier for earlier, later in pairwise(keys))
    assert restarts == blocks - 1, "sorted within each block, each block restarting once"
    with_org = sum(e["org_id"] is not None for e in events) / len(events)
    assert 0.6 < with_org < 0.85
    assert any(e["author"] is None for e in events)
    assert all(e["occurred_at"].tzinfo is not None for e in events)


def test_timeline_spans_two_years_and_a_few_events_follow_the_anchor(tmp_path: Path) -> None:
    generate(300, tmp_path, seed=5, anchor=datetime(2025, 6, 1, 12, tzinfo=UTC))
    anchor = datetime(2025, 6, 1, 12, tzinfo=UTC)
    times = read(tmp_path, "timeline").column("occurred_at").to_pylist()
    after = [t for t in times if t > anchor]
    assert 0 < len(after) < 0.01 * len(times)
    assert (anchor - min(times)).days >= 600
    assert (max(times) - anchor).days <= 5
    created = read(tmp_path, "organizations").column("created_at").to_pylist()
    assert all(t <= anchor for t in created)
    assert (anchor - min(created)).days > 900


def test_events_per_organization_are_long_tailed(data: Path) -> None:
    events = Counter((e["property_id"], e["org_id"]) for e in rows(data, "timeline"))
    orgs = rows(data, "organizations")
    quiet = len(orgs) - len([key for key in events if key[1] is not None])
    assert quiet > 0, "some organizations have no event of their own"
    counts = sorted(events.values())
    assert counts[-1] > 4 * counts[len(counts) // 2]


@pytest.mark.parametrize("table", ["organizations", "people"])
def test_text_columns_mix_nulls_and_blank_strings(data: Path, table: str) -> None:
    records = rows(data, table)
    for column in TEXT_COLUMNS:
        values = [r[column] for r in records]
        assert None in values, column
        assert "" in values, column
        assert any(v is not None and v and not v.strip() for v in values), column
        unknown = sum(is_blank(v) for v in values) / len(values)
        assert 0.04 <= unknown <= (0.95 if column == "job_title" else 0.85), column


@pytest.mark.parametrize("table", ["organizations", "people"])
def test_list_columns_mix_null_empty_and_blank_only_lists(data: Path, table: str) -> None:
    records = rows(data, table)
    for column in LIST_COLUMNS:
        lists = [r[column] for r in records]
        assert None in lists, column
        assert [] in lists, column
        assert any(v and all(is_blank(x) for x in v) for v in lists), column
        mixed = [v for v in lists if v and any(is_blank(x) for x in v)]
        assert any(not all(is_blank(x) for x in v) for v in mixed), f"{column}: no mixed list"


def test_contacts_look_like_a_real_crm(data: Path) -> None:
    orgs, people = rows(data, "organizations"), rows(data, "people")
    names = [r["name"] for r in orgs if not is_blank(r["name"])]
    assert any(not name.isascii() for name in names), "accented company names"
    assert any(name.endswith((" GmbH", " SAS", " Inc.")) for name in names)
    emails = [r["primary_email"] for r in orgs + people if not is_blank(r["primary_email"])]
    assert all("@" in email for email in emails)
    assert any(email.isupper() for email in emails)
    assert any(email != email.strip() for email in emails)
    phones = [r["primary_phone"] for r in orgs + people if not is_blank(r["primary_phone"])]
    assert any(phone.startswith("+") and " " in phone for phone in phones)
    assert any(phone.startswith("(") for phone in phones)
    assert any("-" in phone for phone in phones)
    titles = Counter(r["job_title"].strip().lower() for r in people if r["job_title"])
    assert {"ceo", "cto", "vp sales", "head of marketing", "engineer"} <= set(titles)
    tags = Counter(t for r in orgs + people for t in r["tags"] or [] if not is_blank(t))
    assert len(tags) > 100
    (_, top), *_ = tags.most_common(1)
    assert top > 20 * sorted(tags.values())[len(tags) // 2], "tags should be long-tailed"
    assert any(r["linkedin_url"] and "linkedin.com" in r["linkedin_url"] for r in orgs)


def test_custom_attributes_are_defined_for_every_property_and_type(data: Path) -> None:
    definitions = rows(data, "attributes")
    properties = {r["property_id"] for r in rows(data, "organizations")}
    keys = {(d["entity"], d["key"]) for d in definitions}
    for property_id in properties:
        mine = [d for d in definitions if d["property_id"] == property_id]
        assert {(d["entity"], d["key"]) for d in mine} == keys
    for entity in ENTITIES:
        types = {d["type"] for d in definitions if d["entity"] == entity}
        assert types == set(CUSTOM_TYPES), entity
    assert {
        "plan",
        "industry",
        "arr",
        "employees",
        "is_customer",
        "renewal_date",
        "last_seen_at",
        "regions",
        "seniority",
        "nps",
        "is_vip",
        "birthday",
        "last_login_at",
        "languages",
    } == {key for _, key in keys}


def test_attribute_values_set_exactly_the_column_of_their_type(data: Path) -> None:
    types = {(d["property_id"], d["entity"], d["key"]): d["type"] for d in rows(data, "attributes")}
    ids = {
        "organization": {(r["property_id"], r["org_id"]) for r in rows(data, "organizations")},
        "person": {(r["property_id"], r["person_id"]) for r in rows(data, "people")},
    }
    values = rows(data, "attribute_values")
    seen = set()
    for value in values:
        type_ = types[(value["property_id"], value["entity"], value["key"])]
        assert [c for c in VALUE_COLUMNS if value[c] is not None] == [VALUE_COLUMN[type_]]
        assert (value["property_id"], value["entity_id"]) in ids[value["entity"]]
        key = (value["property_id"], value["entity"], value["entity_id"], value["key"])
        assert key not in seen
        seen.add(key)
        if type_ == "date":
            assert value["value_datetime"].time() == datetime.min.time()
    per_key = Counter(v["key"] for v in values)
    for (entity, key), count in Counter((v["entity"], v["key"]) for v in values).items():
        share = count / len(ids[entity])
        assert 0.7 <= share <= 0.95, f"{key}: every entity should not have every key"
    assert len(per_key) == len({k for (_, _, k) in types})


def test_attribute_values_are_plausible_and_include_unknowns(data: Path) -> None:
    values = rows(data, "attribute_values")

    def of(key: str, column: str) -> list[Any]:
        return [v[column] for v in values if v["key"] == key]

    plans = Counter(p.strip().lower() for p in of("plan", "value_text") if p.strip())
    assert set(plans) == {"free", "starter", "premium", "business", "enterprise"}
    assert plans["free"] > plans["enterprise"]
    assert any(not p.strip() for p in of("plan", "value_text")), "blank plans"
    assert [] in of("regions", "value_list")
    assert all(0 <= n <= 10 for n in of("nps", "value_number"))
    assert {True, False} == set(of("is_customer", "value_boolean"))
    renewals = of("renewal_date", "value_datetime")
    assert min(renewals) < ANCHOR < max(renewals)
    assert all(t <= ANCHOR for t in of("last_seen_at", "value_datetime"))


def test_passes_the_input_rules(data: Path, tmp_path: Path) -> None:
    inputs = read_inputs(data, tmp_path)
    assert inputs.issues == ()
    assert inputs.quarantined_rows == 0
    assert inputs.row_counts == {table: read(data, table).num_rows for table in TABLES}


def test_rejects_impossible_arguments(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="organization"):
        generate(0, tmp_path)
    with pytest.raises(ValueError, match="per block"):
        generate(10, tmp_path, block=0)
    with pytest.raises(ValueError, match="timezone-aware"):
        generate(10, tmp_path, anchor=datetime(2026, 1, 1))
    assert not list(tmp_path.iterdir())


def test_leaves_no_partial_files_behind(data: Path) -> None:
    assert not [p for p in data.iterdir() if p.name.startswith(".")]

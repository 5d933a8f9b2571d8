"""Timeline rollups, activity and relationship conditions, references and person segments."""

from __future__ import annotations

import datetime as dt
import zoneinfo
from pathlib import Path
from typing import Final

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from engine_helpers import ENGINES, build_engine, engine_params

from pipeline.catalog import Catalog, CustomAttribute
from pipeline.compile.sql_query import compile_flags
from pipeline.engines.base import Engine
from pipeline.engines.duckdb import DuckDBEngine
from pipeline.engines.polars import PolarsEngine
from pipeline.errors import DefinitionError
from pipeline.inputs.schema import TABLES
from pipeline.language import ir
from pipeline.language.check import CheckContext
from pipeline.language.segments import load_segments
from pipeline.language.temporal import clock
from pipeline.outputs import DAILY, ROLLUPS

UTC = dt.UTC
AS_OF = dt.datetime(2026, 11, 20, 12, tzinfo=UTC)


def at(days: float = 0, **delta: float) -> dt.datetime:
    return AS_OF - dt.timedelta(days=days, **delta)


def event(
    eid: str,
    prop: str,
    kind: str,
    when: dt.datetime,
    *,
    org: str | None = None,
    person: str | None = None,
) -> dict[str, object]:
    return {
        "event_id": eid,
        "property_id": prop,
        "org_id": org,
        "person_id": person,
        "kind": kind,
        "occurred_at": when,
    }


# Two properties share every id with different data; nothing may leak between them.
DATA: dict[str, list[dict[str, object]]] = {
    "organizations": [
        {"property_id": "a", "org_id": "o1", "name": "Acme", "tags": ["enterprise"]},
        {"property_id": "a", "org_id": "o2", "name": "Globex", "tags": ["smb"]},
        {"property_id": "a", "org_id": "o3", "name": "Quiet Co", "tags": ["enterprise"]},
        {"property_id": "b", "org_id": "o1", "name": "Initech", "tags": ["smb"]},
    ],
    "people": [
        {"property_id": "a", "person_id": "p1", "name": "Ada", "job_title": "CTO"},
        {"property_id": "a", "person_id": "p2", "name": "Bob", "job_title": "Sales rep"},
        {"property_id": "a", "person_id": "p3", "name": "Cy", "job_title": " cto "},
        {"property_id": "b", "person_id": "p1", "name": "Dee", "job_title": "Intern"},
    ],
    "organization_people": [
        {"property_id": "a", "org_id": "o1", "person_id": "p1"},
        {"property_id": "a", "org_id": "o2", "person_id": "p1"},  # p1 works for o1 and o2
        {"property_id": "a", "org_id": "o1", "person_id": "p2"},
        {"property_id": "a", "org_id": "o2", "person_id": "p3"},
        {"property_id": "b", "org_id": "o1", "person_id": "p1"},
    ],
    "attributes": [
        {
            "property_id": "a",
            "entity": "person",
            "key": "is_vip",
            "label": "VIP",
            "type": "boolean",
        },
        {
            "property_id": "b",
            "entity": "person",
            "key": "is_vip",
            "label": "VIP",
            "type": "boolean",
        },
    ],
    "attribute_values": [
        {
            "property_id": "a",
            "entity": "person",
            "entity_id": "p1",
            "key": "is_vip",
            "value_boolean": True,
        },
        {
            "property_id": "b",
            "entity": "person",
            "entity_id": "p1",
            "key": "is_vip",
            "value_boolean": False,
        },
    ],
    "timeline": [
        # o1 (a): chats exactly on the 7/30/90-day edges, one 1µs before the 7d edge, one
        # after as_of (never counts), one exactly at as_of.
        event("e1", "a", "chat", at(7), org="o1"),
        event("e2", "a", "chat", at(30), org="o1"),
        event("e3", "a", "chat", at(90), org="o1"),
        event("e4", "a", "chat", at(7, microseconds=1), org="o1"),
        event("e5", "a", "chat", at(-1), org="o1"),
        event("e6", "a", "note", AS_OF, org="o1"),
        # an event of p1 only: belongs to both o1 and o2 (p1's organizations), in property a
        event("e7", "a", "call", at(3), person="p1"),
        # an event with org_id and person_id belongs to the org only
        event("e8", "a", "ticket", at(2), org="o2", person="p2"),
        # property b reuses ids: its events must stay in b
        event("e1", "b", "chat", at(1), org="o1"),
        event("e2", "b", "chat", at(1), person="p1"),
    ],
}


@pytest.fixture
def data(tmp_path: Path) -> dict[str, Path]:
    paths = {}
    for table, schema in TABLES.items():
        rows = DATA[table]
        path = tmp_path / f"{table}.parquet"
        pq.write_table(
            pa.Table.from_pylist(
                [{c: r.get(c) for c in schema.names} for r in rows], schema=schema
            ),
            path,
        )
        paths[table] = path
    return paths


#: An engine computing one organization or person per pass (as if no more fitted in memory).
IN_PASSES = "-in-passes"


@pytest.fixture(params=[*ENGINES, *(e + IN_PASSES for e in engine_params(passes=True))])
def engine_name(request: pytest.FixtureRequest) -> str:
    """Every engine, and each that has passes computing one entity per pass."""
    return str(request.param)


@pytest.fixture(params=ENGINES)
def timeline_engine(request: pytest.FixtureRequest) -> str:
    """The timeline phase computes no flags: no passes."""
    return str(request.param)


def in_passes(name: str, data: dict[str, Path], rows_per_pass: int) -> DuckDBEngine | PolarsEngine:
    engine = build_engine(name, data)
    assert isinstance(engine, DuckDBEngine | PolarsEngine)
    engine.max_rows_per_pass = rows_per_pass
    return engine


def make(engine_name: str, data: dict[str, Path]) -> Engine:
    if engine_name.endswith(IN_PASSES):
        return in_passes(engine_name.removesuffix(IN_PASSES), data, 1)
    return build_engine(engine_name, data)


CATALOG = Catalog.build(
    [CustomAttribute("person", "is_vip", "boolean", "VIP", frozenset({"a", "b"}))],
    ir.rollup_columns(),
)
CLOCK = clock(AS_OF, zoneinfo.ZoneInfo("UTC"))
TYPES = {("person", "is_vip"): "boolean"}


def segments(tmp_path: Path, files: dict[str, str]) -> list[ir.Segment]:
    folder = tmp_path / "segments"
    folder.mkdir(exist_ok=True)
    for name, text in files.items():
        (folder / f"{name}.yaml").write_text(text)
    return load_segments(folder, CheckContext(CATALOG, AS_OF, zoneinfo.ZoneInfo("UTC")))


def members(
    engine_name: str, data: dict[str, Path], segs: list[ir.Segment], with_timeline: bool = True
) -> set[tuple[str, str, str]]:
    engine = make(engine_name, data)
    try:
        if with_timeline:
            written = data["timeline"].with_name("daily.parquet")
            engine.timeline(CLOCK, written, written.with_name("rollups.parquet"))
        table = engine.flags(segs, TYPES, CLOCK).table()
    finally:
        engine.close()
    return {(r["segment_id"], r["property_id"], r["entity_id"]) for r in table.to_pylist()}


def test_rollups_window_edges_attribution_and_properties(
    timeline_engine: str, data: dict[str, Path]
) -> None:
    engine = build_engine(timeline_engine, data)
    written = data["timeline"].with_name("daily.parquet")
    try:
        engine.timeline(CLOCK, written, written.with_name("rollups.parquet"))
    finally:
        engine.close()
    rollups = pq.read_table(written.with_name("rollups.parquet"))
    assert rollups.schema.equals(ROLLUPS.schema)
    daily = pq.read_table(written)
    assert daily.schema.equals(DAILY.schema)  # the file as published, from every engine
    rows = {(r["property_id"], r["org_id"]): r for r in rollups.to_pylist()}
    assert set(rows) == {("a", "o1"), ("a", "o2"), ("a", "o3"), ("b", "o1")}
    o1 = rows[("a", "o1")]
    # chats at exactly 7d (in), 7d+1µs (out of 7d), 30d, 90d; the future one never counts
    assert (o1["chats_7d"], o1["chats_30d"], o1["chats_90d"], o1["chats_total"]) == (1, 3, 4, 4)
    assert (o1["notes_7d"], o1["calls_7d"], o1["tickets_total"]) == (1, 1, 0)
    assert o1["first_interaction_at"] == at(90)
    assert o1["last_interaction_at"] == AS_OF
    o2 = rows[("a", "o2")]  # the call through p1 and its own ticket; not p2's organization
    assert (o2["calls_total"], o2["tickets_7d"], o2["chats_total"]) == (1, 1, 0)
    o3 = rows[("a", "o3")]  # no events: zero counts, unknown first/last
    assert all(o3[c] == 0 for c in o3 if c.endswith(("_7d", "_30d", "_90d", "_total")))
    assert o3["first_interaction_at"] is None
    b1 = rows[("b", "o1")]  # property b: its own chat plus the one through its own p1
    assert (b1["chats_total"], b1["calls_total"]) == (2, 0)

    per_day = {
        (r["property_id"], r["org_id"], r["day"], r["kind"]): r["events"] for r in daily.to_pylist()
    }
    assert per_day[("a", "o1", dt.date(2026, 11, 13), "chat")] == 2  # e1 and e4, 1µs apart
    assert ("a", "o1", dt.date(2026, 11, 21), "chat") not in per_day  # after as_of
    assert per_day[("b", "o1", dt.date(2026, 11, 19), "chat")] == 2


def test_daily_days_are_in_the_run_timezone(timeline_engine: str, data: dict[str, Path]) -> None:
    chatham = clock(AS_OF, zoneinfo.ZoneInfo("Pacific/Chatham"))  # UTC+13:45
    engine = build_engine(timeline_engine, data)
    written = data["timeline"].with_name("daily.parquet")
    try:
        engine.timeline(chatham, written, written.with_name("rollups.parquet"))
    finally:
        engine.close()
    daily = pq.read_table(written)
    days = {
        (r["org_id"], r["day"], r["kind"]) for r in daily.to_pylist() if r["property_id"] == "a"
    }
    # e6 at 12:00 UTC on the 20th is 01:45 on the 21st in Chatham
    assert ("o1", dt.date(2026, 11, 21), "note") in days


def test_activity_conditions(engine_name: str, data: dict[str, Path], tmp_path: Path) -> None:
    segs = segments(
        tmp_path,
        {
            "chatty": "where: {timeline: {kind: chat, count: {gte: 3}, within_last: 30d}}",
            "chat-or-call-7d": "where: {timeline: {kind: [chat, call], within_last: 7d}}",
            "silent-90d": "where: {timeline: {count: {is: 0}, within_last: 90d}}",
            "not-two": "where: {timeline: {kind: chat, count: {is_not: 2}}}",
            "between": "where: {timeline: {kind: chat, between: [2026-08-22, 2026-10-21]}}",
            "any-ever": "where: {timeline: {}}",
        },
    )
    # With the timeline phase first (DuckDB reads the events it attributed) and without.
    for with_timeline in (True, False):
        got = members(engine_name, data, segs, with_timeline)
        assert got == ACTIVITY_MEMBERS, f"with_timeline={with_timeline}"


def test_conditions_differing_only_in_count_share_one_aggregate(
    engine_name: str, data: dict[str, Path], tmp_path: Path
) -> None:
    window = "kind: chat, within_last: 30d"
    segs = segments(
        tmp_path,
        {
            "chatty": f"where: {{timeline: {{{window}, count: {{gte: 3}}}}}}",
            "chat-once": f"where: {{timeline: {{{window}, count: {{gte: 1}}}}}}",
            "chat-few": f"where: {{timeline: {{{window}, count: {{lte: 2}}}}}}",
        },
    )
    sql = compile_flags("organization", segs, TYPES, CLOCK).sql()
    assert sql.count("COUNT_IF") == 1  # one count, three comparisons of it
    together = members(engine_name, data, segs)
    alone = set().union(*(members(engine_name, data, [s]) for s in segs))
    assert together == alone
    by = {
        n: {(p, e) for s, p, e in together if s == n} for n in ("chatty", "chat-once", "chat-few")
    }
    assert ("a", "o1") in by["chatty"] and by["chatty"] <= by["chat-once"]
    assert not by["chatty"] & by["chat-few"]
    assert by["chatty"] | by["chat-few"] == {("a", "o1"), ("a", "o2"), ("a", "o3"), ("b", "o1")}


def test_duckdb_drops_the_timeline_events_once_flags_are_computed(
    data: dict[str, Path], tmp_path: Path
) -> None:
    segs = segments(tmp_path, {"chatty": "where: {timeline: {kind: chat, count: {gte: 3}}}"})
    engine = DuckDBEngine(data)

    def held() -> int:
        query = "SELECT count(*) FROM duckdb_tables() WHERE table_name = 'timeline_events'"
        return int(engine.con.execute(query).fetchall()[0][0])

    try:
        engine.timeline(CLOCK, tmp_path / "daily.parquet", tmp_path / "rollups.parquet")
        assert held() == 1
        assert engine.flags(segs, TYPES, CLOCK).num_rows == 1
        assert held() == 0
    finally:
        engine.close()


ACTIVITY_MEMBERS: Final = {
    ("chatty", "a", "o1"),
    ("chat-or-call-7d", "a", "o1"),
    ("chat-or-call-7d", "a", "o2"),
    ("chat-or-call-7d", "b", "o1"),
    ("silent-90d", "a", "o3"),
    ("not-two", "a", "o1"),
    ("not-two", "a", "o2"),
    ("not-two", "a", "o3"),
    ("between", "a", "o1"),
    ("any-ever", "a", "o1"),
    ("any-ever", "a", "o2"),
    ("any-ever", "b", "o1"),
}


def test_rollup_attributes_with_and_without_materialized_rollups(
    engine_name: str, data: dict[str, Path], tmp_path: Path
) -> None:
    segs = segments(
        tmp_path,
        {
            "r": "where: {rollup.chats_30d: {gte: 3}}",
            "first": "where: {rollup.first_interaction_at: {more_than_ago: 60d}}",
            "none": "where: {rollup.calls_total: {is: 0}}",
        },
    )
    # o1's only call came through p1, and it counts for o1
    expected = {("r", "a", "o1"), ("first", "a", "o1"), ("none", "a", "o3"), ("none", "b", "o1")}
    assert members(engine_name, data, segs) == expected
    assert members(engine_name, data, segs, with_timeline=False) == expected


def test_relationship_conditions(engine_name: str, data: dict[str, Path], tmp_path: Path) -> None:
    segs = segments(
        tmp_path,
        {
            "with-cto": "where: {people: {where: {job_title: {contains: cto}}}}",
            "two-people": "where: {people: {count: {gte: 2}}}",
            "no-people": "where: {people: {count: {is: 0}}}",
            "vip-cto": "where: {people: {where: {all: [{custom.is_vip: {is: true}},"
            " {job_title: {is: cto}}]}}}",
            "vip-at-enterprise": "entity: person\nwhere:\n  all:\n    - custom.is_vip: {is: true}\n"
            "    - organizations: {where: {tags: {contains: enterprise}}}\n",
            "multi-org": "entity: person\nwhere: {organizations: {count: {gte: 2}}}",
            "nested": "where: {people: {where: {organizations: {count: {gte: 2},"
            " where: {tags: {has_any_value: true}}}}}}",
        },
    )
    assert members(engine_name, data, segs) == {
        ("with-cto", "a", "o1"),
        ("with-cto", "a", "o2"),
        ("two-people", "a", "o1"),
        ("two-people", "a", "o2"),
        ("no-people", "a", "o3"),
        ("vip-cto", "a", "o1"),
        ("vip-cto", "a", "o2"),
        ("vip-at-enterprise", "a", "p1"),
        ("multi-org", "a", "p1"),
        ("nested", "a", "o1"),
        ("nested", "a", "o2"),
    }


def test_person_segments_with_activity(
    engine_name: str, data: dict[str, Path], tmp_path: Path
) -> None:
    segs = segments(
        tmp_path,
        {
            "callers": "entity: person\nwhere: {timeline: {kind: call}}",
            "people-b": "entity: person\nproperties: [b]\nwhere: {name: {has_any_value: true}}",
        },
    )
    assert members(engine_name, data, segs) == {
        ("callers", "a", "p1"),
        ("people-b", "b", "p1"),
    }


def test_segment_references_in_dependency_order(
    engine_name: str, data: dict[str, Path], tmp_path: Path
) -> None:
    segs = segments(
        tmp_path,
        {
            # files sort before what they reference: order must come from the references
            "a-top": "where: {all: [{in_segment: b-enterprise}, {not_in_segment: c-chatty}]}",
            "b-enterprise": "where: {tags: {contains: enterprise}}",
            "c-chatty": "properties: [a]\nwhere: {timeline: {kind: chat, count: {gte: 3}}}",
            "d-not-scoped": "where: {not_in_segment: c-chatty}",
        },
    )
    assert members(engine_name, data, segs) == {
        ("a-top", "a", "o3"),
        ("b-enterprise", "a", "o1"),
        ("b-enterprise", "a", "o3"),
        ("c-chatty", "a", "o1"),
        # c-chatty is scoped to property a, so b's o1 is not in it
        ("d-not-scoped", "a", "o2"),
        ("d-not-scoped", "a", "o3"),
        ("d-not-scoped", "b", "o1"),
    }


def test_reference_cycle_is_reported_with_its_path(tmp_path: Path) -> None:
    with pytest.raises(DefinitionError) as error:
        segments(
            tmp_path,
            {
                "x": "where: {in_segment: y}",
                "y": "where: {any: [{in_segment: z}, {tags: {contains: a}}]}",
                "z": "where: {not_in_segment: x}",
                "ok": "where: {in_segment: x}",
            },
        )
    text = str(error.value)
    assert "segments refer to each other in a cycle: x -> y -> z -> x" in text
    assert "x.yaml:1:21" in text
    assert text.startswith("1 error in segment definitions")


def test_self_reference_is_a_cycle(tmp_path: Path) -> None:
    with pytest.raises(DefinitionError, match="cycle: me -> me"):
        segments(tmp_path, {"me": "where: {in_segment: me}"})


@pytest.mark.parametrize(
    ("files", "message", "hint"),
    [
        (
            {"x": "where: {in_segment: enterprse}", "enterprise": "where: {name: {is: a}}"},
            "x.yaml:1:21: unknown segment 'enterprse'",
            "did you mean 'enterprise'?",
        ),
        (
            {
                "x": "where: {in_segment: vips}",
                "vips": "entity: person\nwhere: {name: {is: a}}",
                "vip": "where: {name: {is: b}}",
            },
            "segment 'vips' is a person segment; this filter is about organizations",
            "did you mean 'vip'?",
        ),
        (
            {"x": "entity: person\nwhere: {people: {count: {gte: 1}}}"},
            "`people` conditions apply to organization segments",
            "use `organizations:` here",
        ),
        (
            {"x": "where: {timeline: {kind: chats}}"},
            "unknown event kind 'chats'",
            "did you mean 'chat'?",
        ),
        (
            {"x": "where: {timeline: {kind: chat, count: {gte: 1.5}}}"},
            "a count must be a whole number (0 or more), got 1.5",
            "count: {gte: 3}",
        ),
        (
            {"x": "where: {timeline: {within_last: 7d, between: [2026-01-01, 2026-02-01]}}"},
            "a timeline condition takes one window",
            "either `within_last` or `between`",
        ),
        (
            {"x": "where: {timeline: {window: 7d}}"},
            "unknown `timeline` option 'window'",
            "options: kind, count, within_last, between",
        ),
        (
            {"x": "where: {rollup.chat_30d: {gte: 1}}"},
            "unknown rollup column 'rollup.chat_30d'",
            "did you mean 'rollup.chats_30d'?",
        ),
        (
            {"x": "entity: person\nwhere: {rollup.chats_30d: {gte: 1}}"},
            "rollup columns exist on organizations only",
            "timeline",
        ),
        (
            {"x": "where: {people: {where: {tags: {contain: a}}}}"},
            "unknown operator 'contain'",
            "did you mean 'contains'?",
        ),
    ],
)
def test_definition_errors(tmp_path: Path, files: dict[str, str], message: str, hint: str) -> None:
    with pytest.raises(DefinitionError) as error:
        segments(tmp_path, files)
    text = str(error.value)
    assert message in text
    assert hint in text


# Segments of every kind of count: timeline, people with and without a nested filter (a
# custom attribute, a nested relationship back to organizations), a rollup, a reference.
PASSES = {
    "a-chatty": "where: {timeline: {kind: chat, count: {gte: 3}, within_last: 30d}}",
    "b-cto": "where: {people: {where: {job_title: {contains: cto}}}}",
    "c-named": "where: {name: {has_any_value: true}}",
    "d-calls": "where: {timeline: {kind: call}}",
    "e-chatty-named": "where: {all: [{in_segment: a-chatty}, {name: {has_any_value: true}}]}",
    "f-two-people": "where: {people: {count: {gte: 2}}}",
    "g-vip": "where: {people: {where: {custom.is_vip: {is: true}}}}",
    "h-colleague-at-smb": "where: {people: {where: {organizations: {where: {tags: {is: smb}}}}}}",
    "i-recent": "where: {rollup.chats_30d: {gte: 1}}",
    "j-vip-caller": "entity: person\nwhere: {all: [{custom.is_vip: {is: true}},"
    " {timeline: {kind: call}}, {organizations: {where: {timeline: {kind: chat}}}}]}",
}


def test_estimated_bytes_per_entity_count_nested_filters(tmp_path: Path) -> None:
    from pipeline.engines.base import COUNT_BYTES, ENTITY_BYTES, entity_bytes

    segs = {s.id: ir.scoped(s) for s in segments(tmp_path, PASSES)}
    fanout = {"organization": 3.0, "person": 0.5}
    assert entity_bytes("organization", [segs["c-named"]], fanout) == ENTITY_BYTES
    # a-chatty's count is counted once, however many segments read it
    chatty = [segs["a-chatty"], segs["e-chatty-named"]]
    assert entity_bytes("organization", chatty, fanout) == ENTITY_BYTES + COUNT_BYTES
    # a nested filter is computed for each linked person: 3 per organization
    assert entity_bytes("organization", [segs["b-cto"]], fanout) == (
        ENTITY_BYTES + COUNT_BYTES + 3 * ENTITY_BYTES
    )
    # ... and its own counts for each of their organizations: 0.5 per person
    assert entity_bytes("organization", [segs["h-colleague-at-smb"]], fanout) == (
        ENTITY_BYTES + COUNT_BYTES + 3 * (ENTITY_BYTES + COUNT_BYTES + 0.5 * ENTITY_BYTES)
    )


@pytest.mark.parametrize("name", ["duckdb", "polars"])
def test_engines_cut_the_entities_into_key_ranges_in_published_order(
    data: dict[str, Path], name: str
) -> None:
    from pipeline.compile.sql_timeline import KeyRange

    engine = in_passes(name, data, 1)
    try:
        assert engine._ranges("organization", 4) == [None]  # all fit in one pass
        assert engine._ranges("organization", 1) == [
            KeyRange(("a",), None, "o2"),
            KeyRange(("a",), "o2", "o3"),
            KeyRange(("a",), "o3", None),
            KeyRange(("b",)),
        ]
        # bounds only within a property; a property's ranges are of even sizes
        assert engine._ranges("organization", 2) == [
            KeyRange(("a",), None, "o3"),
            KeyRange(("a",), "o3", None),
            KeyRange(("b",)),
        ]
        assert engine._ranges("organization", 3) == [KeyRange(("a",)), KeyRange(("b",))]
        # no more than the memory allows: a smaller limit makes more, smaller passes
        engine.max_rows_per_pass = None
        fitting = engine.rows_per_pass("organization", [])
        engine.memory_bytes //= 4
        assert engine.rows_per_pass("organization", []) < fitting
        engine.memory_bytes = 1
        assert engine.rows_per_pass("organization", []) == 1  # at least one entity a pass
    finally:
        engine.close()


def test_small_properties_share_a_pass_and_large_ones_are_cut() -> None:
    from pipeline.compile.within import KeyRange
    from pipeline.engines.base import key_ranges, split_properties

    per_property = {"p1": 2, "p2": 3, "p3": 10, "p4": 1, "p5": 4, "p6": 1}
    assert split_properties(per_property, 4) == {"p3": 4}  # 10 rows: 3 passes of <= 4
    starts = {"p3": ["e", "i"]}  # its 5th and 9th ids
    assert key_ranges(per_property, 4, starts) == [
        KeyRange(("p1",)),  # p1 and p2 together would be 5
        KeyRange(("p2",)),
        KeyRange(("p3",), None, "e"),
        KeyRange(("p3",), "e", "i"),
        KeyRange(("p3",), "i", None),
        KeyRange(("p4",)),  # p4 and p5 would be 5
        KeyRange(("p5",)),
        KeyRange(("p6",)),
    ]
    assert key_ranges(per_property, 5, {"p3": ["f"]}) == [
        KeyRange(("p1", "p2")),
        KeyRange(("p3",), None, "f"),
        KeyRange(("p3",), "f", None),
        KeyRange(("p4", "p5")),
        KeyRange(("p6",)),
    ]
    assert key_ranges(per_property, 21, {}) == [None]
    with pytest.raises(ValueError, match="within one property"):
        KeyRange(("p1", "p2"), "a", None)


@pytest.mark.parametrize("rows_per_pass", [1, 2, 3])
@pytest.mark.parametrize("name", ["duckdb", "polars"])
def test_passes_find_what_one_query_finds(
    data: dict[str, Path], tmp_path: Path, rows_per_pass: int, name: str
) -> None:
    segs = segments(tmp_path, PASSES)
    engine = in_passes(name, data, rows_per_pass)
    try:
        engine.timeline(CLOCK, tmp_path / "daily.parquet", tmp_path / "rollups.parquet")
        flags = engine.flags(segs, TYPES, CLOCK)
    finally:
        engine.close()
    for entity, (ids, table) in flags.entities.items():
        assert list(ids) == [s.id for s in segs if s.entity == entity]
        keys = table.select(["property_id", "entity_id"])
        order = [("property_id", "ascending"), ("entity_id", "ascending")]
        assert keys.equals(keys.sort_by(order))  # the passes follow one another in order
        assert table.num_rows == {"organization": 4, "person": 4}[entity]  # each entity once
    table = flags.table()
    found = {(r["segment_id"], r["property_id"], r["entity_id"]) for r in table.to_pylist()}

    named = {("a", "o1"), ("a", "o2"), ("a", "o3"), ("b", "o1")}  # every org has a name
    expected = {
        ("a-chatty", "a", "o1"),
        ("b-cto", "a", "o1"),
        ("b-cto", "a", "o2"),
        ("d-calls", "a", "o1"),  # p1's call belongs to each of p1's organizations
        ("d-calls", "a", "o2"),
        ("e-chatty-named", "a", "o1"),
        ("f-two-people", "a", "o1"),
        ("f-two-people", "a", "o2"),
        ("g-vip", "a", "o1"),  # p1 is a VIP in property a only
        ("g-vip", "a", "o2"),
        # a person of theirs also works at an smb organization (o2 in a, o1 in b)
        ("h-colleague-at-smb", "a", "o1"),
        ("h-colleague-at-smb", "a", "o2"),
        ("h-colleague-at-smb", "b", "o1"),
        ("i-recent", "a", "o1"),
        ("i-recent", "b", "o1"),
        ("j-vip-caller", "a", "p1"),  # VIP, called, works at o1 which chatted
    } | {("c-named", p, o) for p, o in named}
    assert found == expected
    assert members("duckdb", data, segs) == expected
    assert members("polars", data, segs) == expected

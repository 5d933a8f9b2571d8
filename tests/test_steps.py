"""The flags queries of a run in steps: the nested filters of relationship conditions are
computed by the other entity's own query, once, and read from there (``compile.steps``)."""

from __future__ import annotations

from pathlib import Path

import pytest
from engine_helpers import ENGINES, Dataset, check_segments, expect, segment_yaml

from pipeline.catalog import Catalog
from pipeline.compile.sql_query import compile_flags
from pipeline.compile.steps import Shared, Step, steps
from pipeline.language import ir

CEO = {"job_title": {"is": "ceo"}}
ENGINEER = {"job_title": {"contains": "engineer"}}
HAS_CEO = {"people": {"where": CEO}}
TWO_ENGINEERS = {"people": {"count": {"gte": 2}, "where": ENGINEER}}
NO_CEO = {"people": {"count": {"is": 0}, "where": CEO}}
AT_VIP_ORG = {"organizations": {"where": {"tags": {"is": "vip"}}}}


def _segments(*specs: tuple[str, object, str]) -> list[ir.Segment]:
    texts = [segment_yaml(sid, where, entity=entity) for sid, where, entity in specs]
    return check_segments(texts, Catalog.build([]))


def test_organizations_read_the_filters_of_their_people_conditions_from_the_people_query() -> None:
    segments = _segments(
        ("o-ceo", HAS_CEO, "organization"),
        ("o-eng", TWO_ENGINEERS, "organization"),
        ("o-none", NO_CEO, "organization"),
        ("p-ceo", CEO, "person"),
    )
    person, organization = steps(segments)
    assert (person.entity, [s.id for s in person.segments]) == ("person", ["p-ceo"])
    # One column per distinct filter: ``HAS_CEO`` and ``NO_CEO`` share theirs.
    assert list(person.shares.values()) == ["w1", "w2"]
    assert not person.reads
    assert (organization.entity, organization.reads, dict(organization.shares)) == (
        "organization",
        True,
        {},
    )
    assert [s.id for s in organization.segments] == ["o-ceo", "o-eng", "o-none"]


def test_a_query_without_segments_runs_only_for_the_filters_it_shares() -> None:
    (person, organization) = steps(_segments(("o-ceo", HAS_CEO, "organization")))
    assert (person.entity, person.segments, len(person.shares)) == ("person", (), 1)
    assert organization.reads


def test_people_read_the_filters_of_organizations_only_when_organizations_read_none() -> None:
    people_only = steps(_segments(("p-vip", AT_VIP_ORG, "person")))
    assert [(s.entity, len(s.shares), s.reads) for s in people_only] == [
        ("organization", 1, False),
        ("person", 0, True),
    ]
    both = steps(_segments(("p-vip", AT_VIP_ORG, "person"), ("o-ceo", HAS_CEO, "organization")))
    assert [(s.entity, len(s.shares), s.reads) for s in both] == [
        ("person", 1, False),
        ("organization", 0, True),
    ]


def test_without_nested_filters_each_entity_is_one_independent_step() -> None:
    plain = steps(
        _segments(
            ("o-any", {"people": {"count": {"gte": 1}}}, "organization"),
            ("p-ceo", CEO, "person"),
        )
    )
    assert plain == [
        Step("organization", plain[0].segments),
        Step("person", plain[1].segments),
    ]


def test_a_query_reading_shared_filters_builds_no_chain_of_its_own() -> None:
    (segment,) = _segments(("o-ceo", HAS_CEO, "organization"))
    (where,) = [p.where for p in ir.predicates(segment.where) if isinstance(p, ir.Related)]
    assert where is not None
    alone = compile_flags("organization", [segment], {}).sql()
    shared = Shared("person", {where: "w1"}, "shared_filters")
    reading = compile_flags("organization", [segment], {}, shared=shared).sql()
    assert "r1_base" in alone and "shared_filters" not in alone
    assert "r1_base" not in reading and "shared_filters" in reading
    # A filter the shared table does not hold is computed by the chain, as alone.
    other = Shared("person", {ir.Not(where): "w1"}, "shared_filters")
    assert "r1_base" in compile_flags("organization", [segment], {}, shared=other).sql()


PEOPLE = [
    {"property_id": "p", "person_id": "a", "job_title": "CEO"},
    {"property_id": "p", "person_id": "b", "job_title": "Senior Engineer"},
    {"property_id": "p", "person_id": "c", "job_title": " ceo "},
    {"property_id": "p", "person_id": "d", "job_title": "engineer"},
    {"property_id": "p", "person_id": "e"},
    # Same ids in another property: links never cross properties.
    {"property_id": "q", "person_id": "a", "job_title": "engineer"},
    {"property_id": "q", "person_id": "b", "job_title": "engineer"},
]
ORGANIZATIONS = [
    {"property_id": "p", "org_id": "o1", "tags": ["vip"]},
    {"property_id": "p", "org_id": "o2"},
    {"property_id": "p", "org_id": "o3", "tags": ["VIP "]},
    {"property_id": "p", "org_id": "o4"},
    {"property_id": "q", "org_id": "o1"},
]
LINKS = [
    {"property_id": "p", "org_id": "o1", "person_id": "a"},
    {"property_id": "p", "org_id": "o1", "person_id": "b"},
    {"property_id": "p", "org_id": "o2", "person_id": "b"},
    {"property_id": "p", "org_id": "o2", "person_id": "d"},
    {"property_id": "p", "org_id": "o3", "person_id": "c"},
    {"property_id": "p", "org_id": "o3", "person_id": "e"},
    {"property_id": "q", "org_id": "o1", "person_id": "a"},
    {"property_id": "q", "org_id": "o1", "person_id": "b"},
]


@pytest.fixture(scope="module")
def linked(tmp_path_factory: pytest.TempPathFactory) -> Dataset:
    tables = {"organizations": ORGANIZATIONS, "people": PEOPLE, "organization_people": LINKS}
    return Dataset.write(Path(tmp_path_factory.mktemp("linked")), tables)


@pytest.mark.parametrize("engine", ENGINES)
def test_shared_filters_give_each_entity_its_own_members(engine: str, linked: Dataset) -> None:
    """Organizations' ``people:`` conditions, people's ``organizations:`` conditions and a
    person segment with the same filter, in one run and each alone: the same members."""
    specs = {
        "o-ceo": (HAS_CEO, "organization"),
        "o-eng": (TWO_ENGINEERS, "organization"),
        "o-none": (NO_CEO, "organization"),
        "p-ceo": (CEO, "person"),
        "p-vip": (AT_VIP_ORG, "person"),
    }
    texts = {sid: segment_yaml(sid, where, entity=e) for sid, (where, e) in specs.items()}
    together = linked.run_texts(engine, list(texts.values()))
    want = (
        expect("o-ceo", "p", ["o1", "o3"])
        | expect("o-eng", "p", ["o2"])
        | expect("o-eng", "q", ["o1"])
        | expect("o-none", "p", ["o2", "o4"])
        | expect("o-none", "q", ["o1"])
        | expect("p-ceo", "p", ["a", "c"])
        | expect("p-vip", "p", ["a", "b", "c", "e"])
    )
    assert together == want
    for sid, text in texts.items():
        assert linked.run_texts(engine, [text]) == {m for m in want if m[0] == sid}

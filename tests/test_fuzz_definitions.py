"""Fuzzing the definitions: any text given as a segment file ends in segments or in located
definition errors, never in another exception (which the command line reports as a bug); and
any structure of conditions (Hypothesis builds them, mostly well-formed) ends in located
errors or in segments that DuckDB and Polars evaluate over the sample to the same members."""

from __future__ import annotations

import datetime as dt
import json
import tempfile
import zoneinfo
from pathlib import Path
from typing import Final

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pipeline.catalog import Catalog, CustomAttribute
from pipeline.compile.sql_query import compile_entity
from pipeline.engines import EngineOptions, make_engine
from pipeline.errors import DefinitionError, Location, Problem
from pipeline.inputs.schema import TABLES
from pipeline.language.check import CheckContext
from pipeline.language.ir import rollup_columns
from pipeline.language.segments import load_segments
from pipeline.language.source import parse_text
from pipeline.language.spec import read_segment_file
from pipeline.language.temporal import clock as run_clock

ROOT = Path(__file__).resolve().parents[1]

#: Pieces of segment files, valid and not: keys, operators, values of every type, YAML syntax.
WORDS = [
    "where",
    "id",
    "name",
    "entity",
    "properties",
    "description",
    "all",
    "any",
    "none",
    "not",
    "is",
    "is_not",
    "in",
    "not_in",
    "contains",
    "does_not_contain",
    "starts_with",
    "ends_with",
    "is_unknown",
    "has_any_value",
    "gt",
    "gte",
    "lt",
    "lte",
    "between",
    "before",
    "after",
    "within_last",
    "more_than_ago",
    "within_next",
    "timeline",
    "kind",
    "count",
    "people",
    "organizations",
    "in_segment",
    "not_in_segment",
    "tags",
    "job_title",
    "primary_phone",
    "created_at",
    "custom.plan",
    "custom.employees",
    "custom.is_vip",
    "rollup.chats_30d",
    "organization",
    "person",
    "chat",
    "call",
    "true",
    "false",
    "null",
    "~",
    "30d",
    "2w",
    "12h",
    "2026-01-01",
    "2026-02-30",
    "2026-11-20T12:00:00Z",
    "0",
    "-1",
    "3",
    "2.5",
    "1e999",
    ".nan",
    "0x1F",
    "0612345678",
    "vip",
    "''",
    '""',
    "\\u00e9",
    "é",
    "İ",
    "ς",
    " ",
]
SYNTAX = [
    ": ",
    "\n",
    "\n  ",
    "\n    ",
    "- ",
    "{",
    "}",
    "[",
    "]",
    ", ",
    "&a ",
    "*a",
    "!!str ",
    "#",
    "'",
    '"',
    "<<: ",
    "? ",
    "|",
    ">",
    "---\n",
    "%YAML 1.2\n",
    "\t",
]

texts = st.lists(st.sampled_from(WORDS + SYNTAX), max_size=40).map("".join)
CATALOG = Catalog.build(
    [
        CustomAttribute("organization", "plan", "text", "Plan", frozenset({"p"})),
        CustomAttribute("organization", "employees", "number", "Employees", frozenset({"p"})),
        CustomAttribute("person", "is_vip", "boolean", "VIP", frozenset({"p"})),
    ],
    rollup_columns(),
)


CONTEXT = CheckContext(
    CATALOG, dt.datetime(2026, 11, 20, 12, tzinfo=dt.UTC), zoneinfo.ZoneInfo("UTC")
)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(text=texts)
def test_any_text_parses_to_nodes_or_a_located_problem(text: str) -> None:
    result = parse_text(text, "fuzz.yaml")
    if isinstance(result, Problem):
        assert result.location.file == "fuzz.yaml" and result.message
    else:
        _, problems = read_segment_file(result)  # never raises
        assert all(p.location.file == "fuzz.yaml" for p in problems)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(bodies=st.lists(texts, min_size=1, max_size=3), whole=st.booleans())
def test_any_folder_of_texts_gives_segments_or_definition_errors(
    bodies: list[str], whole: bool
) -> None:
    """Each file is the text itself (``whole``) or the text as the body of ``where:``."""
    with tempfile.TemporaryDirectory() as folder:
        for number, body in enumerate(bodies):
            text = body if whole else f"where:\n  {body}\n"
            (Path(folder) / f"s{number}.yaml").write_text(text)
        try:
            load_segments(Path(folder), CONTEXT)
        except DefinitionError as error:
            assert all(p.location.file.endswith(".yaml") for p in error.problems)


@pytest.mark.parametrize(
    ("text", "line"), [("? : : \n", 1), ("where: {tags: {is: x}}\n? {a: {b: 1}}\n: 1\n", 2)]
)
def test_a_mapping_used_as_a_key_is_a_located_error(text: str, line: int) -> None:
    found = parse_text(text, "complex.yaml")
    assert isinstance(found, Problem)
    assert found.location == Location("complex.yaml", line, 1)
    assert found.message == "a mapping is used as a key (a `?` complex key)"


# -- the parsed structure ------------------------------------------------------------------

TEXTS = st.sampled_from(["vip", "acme", "chief", "É", "İ", " x ", "", "a'b", "%_"])
NUMBERS = st.one_of(
    st.integers(min_value=-5, max_value=10**6),
    st.floats(min_value=-1e6, max_value=1e6, allow_nan=False),
)
INSTANTS = st.sampled_from(["2024-01-01", "2026-11-20T12:00:00Z", "2026-02-30", "soon"])
DURATIONS = st.sampled_from(["30d", "2w", "48h", "0d", "-1d"])


def _operator(names: list[str], value: st.SearchStrategy[object]) -> st.SearchStrategy[object]:
    return st.builds(lambda op, v: {op: v}, st.sampled_from(names), value)


def _pair(value: st.SearchStrategy[object]) -> st.SearchStrategy[object]:
    return st.lists(value, min_size=2, max_size=2)


_PRESENCE = _operator(["is_unknown", "has_any_value"], st.sampled_from([True, False, "yes"]))
_TEXTUAL = st.one_of(
    _operator(["is", "is_not", "contains", "does_not_contain", "starts_with", "ends_with"], TEXTS),
    _operator(["in", "not_in"], st.lists(TEXTS, max_size=3)),
    _PRESENCE,
)
#: The operators each kind of attribute takes, with values of the right type mostly.
_BY_KIND = {
    "text": _TEXTUAL,
    "phone": st.one_of(
        _operator(
            ["is", "contains", "starts_with", "ends_with"], st.sampled_from(["33", "+1 555", "x"])
        ),
        _PRESENCE,
    ),
    "number": st.one_of(
        _operator(["is", "is_not", "gt", "gte", "lt", "lte"], NUMBERS),
        _operator(["between"], _pair(NUMBERS)),
        _PRESENCE,
    ),
    "boolean": st.one_of(_operator(["is", "is_not"], st.sampled_from([True, False, 1])), _PRESENCE),
    "date": st.one_of(
        _operator(["before", "after"], INSTANTS),
        _operator(["within_last", "more_than_ago", "within_next"], DURATIONS),
        _operator(["between"], _pair(INSTANTS)),
        _PRESENCE,
    ),
}
#: Each entity's attributes by kind (a few of the other entity's, to be refused).
_ATTRIBUTES = {
    "organization": {
        "text": ["name", "tags", "emails", "custom.plan", "custom.is_vip"],
        "phone": ["primary_phone", "phones"],
        "number": ["custom.employees", "rollup.chats_30d"],
        "boolean": ["custom.is_vip"],
        "date": ["created_at", "rollup.last_interaction_at"],
    },
    "person": {
        "text": ["name", "job_title", "tags", "custom.plan"],
        "phone": ["primary_phone"],
        "number": ["custom.employees"],
        "boolean": ["custom.is_vip"],
        "date": ["updated_at"],
    },
}


def _leaves(entity: str) -> st.SearchStrategy[object]:
    return st.one_of(
        *(
            st.builds(lambda a, op: {a: op}, st.sampled_from(names), _BY_KIND[kind])
            for kind, names in _ATTRIBUTES[entity].items()
        )
    )


def _conditions(entity: str, depth: int = 2) -> st.SearchStrategy[object]:
    """Conditions about ``entity``: attribute filters; groups, negations, timeline and
    relationship filters (about the other entity) and references, ``depth`` levels deep."""
    leaves = _leaves(entity)
    if depth == 0:
        return leaves
    inner = _conditions(entity, depth - 1)
    other = "person" if entity == "organization" else "organization"
    relation = "people" if entity == "organization" else "organizations"
    count = _operator(["is", "gte", "lte", "gt"], st.integers(min_value=-1, max_value=3))
    timeline = st.builds(
        lambda kind, count, window: {"timeline": {"kind": kind, "count": count, **window}},
        st.one_of(st.sampled_from(["chat", "call", "fax"]),
                  st.lists(st.sampled_from(["note", "chat", "ticket", "call"]), max_size=2)),
        count,
        st.one_of(st.builds(lambda d: {"within_last": d}, DURATIONS), st.just({})),
    )  # fmt: skip
    return st.one_of(
        leaves,
        leaves,
        st.builds(lambda k, items: {k: items}, st.sampled_from(["all", "any", "none"]),
                  st.lists(inner, min_size=1, max_size=3)),
        timeline,
        st.builds(lambda where, count: {relation: {"where": where, "count": count}},
                  _conditions(other, depth - 1), count),
        st.builds(lambda key, target: {key: target},
                  st.sampled_from(["in_segment", "not_in_segment"]),
                  st.sampled_from(["s0", "s1", "nowhere"])),
    )  # fmt: skip


documents = st.sampled_from(["organization", "person"]).flatmap(
    lambda entity: st.fixed_dictionaries(
        {"entity": st.just(entity), "where": _conditions(entity)},
        optional={"properties": st.lists(st.sampled_from(["p", "q"]), min_size=1, max_size=2)},
    )
)


#: The sample's tables (canonical files), whose custom attributes ``CATALOG`` types alike.
SAMPLE: Final = {table: ROOT / "data" / f"{table}.parquet" for table in TABLES}


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(docs=st.lists(documents, min_size=1, max_size=2))
def test_any_structure_is_checked_then_evaluated_alike_by_the_engines(
    docs: list[dict[str, object]],
) -> None:
    """Definitions built as structures (the right shape mostly, with wrong attributes,
    operators, values and references mixed in) give located errors, or segments that DuckDB
    and Polars evaluate over the sample to the same members (and whose Spark SQL renders)."""
    with tempfile.TemporaryDirectory() as folder:
        for number, doc in enumerate(docs):
            (Path(folder) / f"s{number}.yaml").write_text(json.dumps(doc))
        try:
            segments = load_segments(Path(folder), CONTEXT)
        except DefinitionError as error:
            assert all(p.location.file.endswith(".yaml") for p in error.problems)
            return
    types = {key: attr.type for key, attr in CATALOG.custom.items()}
    clock = run_clock(CONTEXT.as_of, CONTEXT.tz)
    for segment in segments:
        assert compile_entity(segment.entity, [segment], types, clock).sql("spark")
    members = {}
    for engine in ("duckdb", "polars"):
        evaluated = make_engine(engine, SAMPLE, EngineOptions())
        try:
            members[engine] = evaluated.flags(segments, types, clock).table()
        finally:
            evaluated.close()
    assert members["duckdb"].equals(members["polars"])

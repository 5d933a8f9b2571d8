"""Fuzzing the definitions: any text given as a segment file ends in segments or in located
definition errors, never in another exception (which the command line reports as a bug)."""

from __future__ import annotations

import datetime as dt
import tempfile
import zoneinfo
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pipeline.catalog import Catalog, CustomAttribute
from pipeline.errors import DefinitionError, Location, Problem
from pipeline.language.check import CheckContext
from pipeline.language.segments import load_segments
from pipeline.language.source import parse_text
from pipeline.language.spec import read_segment_file

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
    ]
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

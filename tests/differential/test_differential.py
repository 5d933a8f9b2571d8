"""DuckDB == Polars == the reference evaluator, on random adversarial data and segments.

Each example writes its six input tables as Parquet (the canonical ``TABLES`` schemas), checks
a batch of segment texts, evaluates the whole batch in one call per engine, and compares the
membership sets with ``tests/reference.py``. A failure names the first segment whose members
differ, the engine(s) that differ from the reference, and the rows of the entities involved.
"""

from __future__ import annotations

import os
import re
import tempfile
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import given, settings

from pipeline.catalog import Catalog, CustomAttribute
from pipeline.engines import REGISTRY
from pipeline.engines.base import Engine
from pipeline.engines.duckdb import DuckDBEngine
from pipeline.engines.polars import PolarsEngine
from pipeline.errors import Problem, ProblemCollector
from pipeline.inputs.schema import TABLES
from pipeline.language import ir
from pipeline.language.check import CheckContext
from pipeline.language.segments import check_folder_documents
from pipeline.language.source import parse_text
from pipeline.language.temporal import clock as run_clock

from . import PROFILE
from .strategies import CUSTOM, PROPERTIES, Scenario, relational_scenarios, scenarios

try:  # the repository root is on sys.path (python -m pytest, or tests/ became a package)
    from tests import reference
    from tests.engine_helpers import build_engine
except ModuleNotFoundError:  # pytest put tests/ itself on sys.path
    import reference  # type: ignore[no-redef]
    from engine_helpers import build_engine  # type: ignore[no-redef]

Member = tuple[str, str, str]
PROFILE_NAME = os.environ.get("HYPOTHESIS_PROFILE", "ci")

#: The engines every example runs on: those without a test marker (in this process). The
#: others (Spark) run fewer examples of their own (see the end of the module).
LOCAL = tuple(name for name, spec in REGISTRY.items() if spec.test_marker is None)


def write_tables(tables: dict[str, list[dict[str, Any]]], directory: Path) -> dict[str, Path]:
    paths = {}
    for name, schema in TABLES.items():
        path = directory / f"{name}.parquet"
        pq.write_table(pa.Table.from_pylist(tables.get(name, []), schema=schema), path)
        paths[name] = path
    return paths


def _members(table: pa.Table) -> set[Member]:
    """The membership rows, checked to be in the published order, each once (passes
    concatenated out of order or overlapping would break either)."""
    rows = [(row["segment_id"], row["property_id"], row["entity_id"]) for row in table.to_pylist()]
    assert rows == sorted(set(rows)), "membership rows out of order or repeated"
    return set(rows)


def check_batch(scenario: Scenario, ctx: CheckContext) -> list[Any]:
    """Check the batch as one folder (so that ``in_segment`` references resolve)."""
    problems = ProblemCollector()
    parsed = []
    for number, text in enumerate(scenario.segments):
        root = parse_text(text, f"segment-{number}.yaml")
        assert not isinstance(root, Problem), f"{root}\n{text}"
        parsed.append((root, f"segment-{number}"))
    texts = "\n".join(scenario.segments)
    try:
        segments = check_folder_documents(parsed, ctx, problems)
    except Exception as error:  # a crash, not a located definition error
        raise AssertionError(f"checking valid definitions raised {error!r}:\n{texts}") from error
    assert not problems.problems, "a valid definition was rejected:\n" + "\n".join(
        [*(str(p) for p in problems.problems), texts]
    )
    assert len(segments) == len(scenario.segments)
    return segments


def engine_membership(
    scenario: Scenario,
    rollups: dict[str, pa.Table] | None = None,
    engines: tuple[str, ...] = LOCAL,
) -> dict[str, set[Member]]:
    """Members per engine, every segment of the scenario evaluated in one call.

    With ``rollups`` (a dict to fill), each engine builds ``timeline_rollups`` first (as a run
    does) and its table is stored there under the engine's name; then both engines also run
    in passes over ranges of two entities (the restrictions matter most for events, links and
    nested filters; the attribute-only scenarios would only pay the passes' time).
    ``engines``: the registry's engines to evaluate (see :data:`LOCAL`).
    """
    catalog = Catalog.build(
        [
            CustomAttribute(entity, key, kind, key.title(), frozenset(PROPERTIES))
            for (entity, key), kind in CUSTOM.items()
        ],
        ir.rollup_columns(),
    )
    ctx = CheckContext(catalog, scenario.as_of, ZoneInfo(scenario.timezone))
    clock = run_clock(scenario.as_of, ZoneInfo(scenario.timezone))
    segments = check_batch(scenario, ctx)
    ids = ", ".join(s.id for s in segments)
    found = {}
    with tempfile.TemporaryDirectory() as directory:
        paths = write_tables(scenario.tables, Path(directory))
        builds: list[tuple[str, Callable[[], Engine]]] = [
            (name, partial(build_engine, name, paths)) for name in engines
        ]
        if rollups is not None:
            builds += [
                (f"{name}, in passes", partial(_in_passes, name, paths))
                for name in engines
                if REGISTRY[name].memory_limit
            ]
        for name, make in builds:
            engine = make()
            try:
                if rollups is not None:
                    daily = Path(directory) / f"daily-{name}.parquet"
                    written = Path(directory) / f"rollups-{name}.parquet"
                    engine.timeline(clock, daily, written)
                    rollups[name] = pq.read_table(written)
                found[name] = _members(engine.flags(segments, CUSTOM, clock).table())
            except Exception as error:
                raise AssertionError(f"{name} failed on segments {ids}: {error}") from error
            finally:
                engine.close()
    return found


def _in_passes(name: str, paths: dict[str, Path]) -> Engine:
    """An engine as if no more than two entities fitted in its memory: the flags query runs
    once per range of two entities."""
    engine = build_engine(name, paths)
    assert isinstance(engine, DuckDBEngine | PolarsEngine)
    engine.max_rows_per_pass = 2
    return engine


def _rows_of(scenario: Scenario, text: str, entity: str, keys: set[tuple[str, str]]) -> list[str]:
    """The rows of the entities ``keys``: the columns and custom values ``text`` reads."""
    table, id_column = reference.ENTITY_TABLE[entity]
    names = set(re.findall(r"^\s*(?:- )?([a-z_.]+):", text, re.MULTILINE))
    lines = []
    for row in scenario.tables[table]:
        if (row["property_id"], row[id_column]) in keys:
            shown = {k: v for k, v in row.items() if k in names or k in ("property_id", id_column)}
            lines.append(f"  {table}: {shown!r}")
    for row in scenario.tables["attribute_values"]:
        read = f"custom.{row['key']}" in names
        if read and row["entity"] == entity and (row["property_id"], row["entity_id"]) in keys:
            shown = {k: v for k, v in row.items() if v is not None}
            lines.append(f"  attribute_values: {shown!r}")
    return lines


def assert_rollups_agree(scenario: Scenario, tables: dict[str, pa.Table]) -> None:
    want = reference.rollups(scenario.tables, scenario.as_of, scenario.timezone)
    for engine, table in tables.items():
        got = {(r.pop("property_id"), r.pop("org_id")): r for r in table.to_pylist()}
        assert set(got) == set(want), f"{engine}: timeline_rollups rows differ"
        for key, row in want.items():
            if got[key] != row:
                columns = sorted(c for c in row if got[key].get(c) != row[c])
                events = [
                    e
                    for e in scenario.tables["timeline"]
                    if e["property_id"] == key[0] and (e["org_id"] == key[1] or e["org_id"] is None)
                ]
                raise AssertionError(
                    f"{engine} timeline_rollups differ for {key} ({scenario.timezone}, as_of "
                    f"{scenario.as_of.isoformat()}) in {columns}: engine "
                    f"{ {c: got[key].get(c) for c in columns} }, reference "
                    f"{ {c: row[c] for c in columns} }; events {events}"
                )


def assert_agreement(
    scenario: Scenario, with_timeline: bool = False, engines: tuple[str, ...] = LOCAL
) -> None:
    expected = reference.membership(
        scenario.tables, scenario.segments, scenario.as_of, scenario.timezone
    )
    rollups: dict[str, pa.Table] | None = {} if with_timeline else None
    found = engine_membership(scenario, rollups, engines)
    if rollups is not None:
        assert_rollups_agree(scenario, rollups)
    for text in scenario.segments:
        doc = reference.load_yaml(text)
        segment_id = doc["id"].text
        entity = doc["entity"].value if "entity" in doc else "organization"
        want = {m for m in expected if m[0] == segment_id}
        got = {
            engine: {m for m in members if m[0] == segment_id} for engine, members in found.items()
        }
        if all(members == want for members in got.values()):
            continue
        report = [
            f"segment {segment_id!r} ({scenario.timezone}, as_of {scenario.as_of.isoformat()}):",
            text,
        ]
        differing = set()
        for engine, members in got.items():
            if members != want:
                extra, missing = sorted(members - want), sorted(want - members)
                report.append(
                    f"{engine} differs from the reference: extra {extra}, missing {missing}"
                )
                differing |= {(m[1], m[2]) for m in members ^ want}
        report.append("rows of the entities involved:")
        report.extend(_rows_of(scenario, text, entity, differing))
        if with_timeline:  # links and events decide timeline and relationship conditions
            props = {prop for prop, _ in differing}
            for table in ("organization_people", "timeline"):
                report.extend(
                    f"  {table}: {row!r}"
                    for row in scenario.tables[table]
                    if row["property_id"] in props
                )
            report.append("the batch (for in_segment / not_in_segment):")
            report.extend(scenario.segments)
        raise AssertionError("\n".join(report))


@settings(PROFILE)
@given(scenarios(families=("text",), adversarial_ids=False))
def test_text_and_phone_attributes(scenario: Scenario) -> None:
    assert_agreement(scenario)


@settings(PROFILE)
@given(scenarios(families=("list",), adversarial_ids=False))
def test_list_attributes(scenario: Scenario) -> None:
    assert_agreement(scenario)


@settings(PROFILE)
@given(scenarios(families=("number", "boolean"), adversarial_ids=False))
def test_number_and_boolean_attributes(scenario: Scenario) -> None:
    assert_agreement(scenario)


@settings(PROFILE)
@given(scenarios(families=("temporal",), adversarial_ids=False))
def test_date_and_datetime_attributes(scenario: Scenario) -> None:
    assert_agreement(scenario)


@settings(PROFILE)
@given(scenarios())
def test_every_attribute_type_together(scenario: Scenario) -> None:
    """Also draws segment ids that name the query's own columns (``entity_id``, ``member``)."""
    assert_agreement(scenario)


#: Each example here checks a whole batch with events and links; ``ci`` runs fewer of them so
#: that the module stays within its few minutes.
RELATIONAL = settings(PROFILE, max_examples=60) if PROFILE_NAME == "ci" else PROFILE


@settings(RELATIONAL)
@given(relational_scenarios())
def test_timeline_relationships_references_and_rollups(scenario: Scenario) -> None:
    """Timeline, people/organizations, in_segment/not_in_segment, rollup attributes and the
    ``timeline_rollups`` table itself, over events on window edges and many-to-many links."""
    assert_agreement(scenario, with_timeline=True)


#: The examples an engine with a test marker (Spark: a job per query) runs, per test.
MARKED = settings(PROFILE, max_examples=5) if PROFILE_NAME == "ci" else PROFILE
MARKED_ENGINES = [
    pytest.param(name, marks=getattr(pytest.mark, spec.test_marker), id=name)
    for name, spec in REGISTRY.items()
    if spec.test_marker
]


@pytest.mark.parametrize("engine", MARKED_ENGINES)
@settings(MARKED)
@given(scenario=scenarios())
def test_every_attribute_type_on_the_other_engines(engine: str, scenario: Scenario) -> None:
    """Every attribute type over two properties holding the same ids, and segment ids named
    as the query's columns: no membership leaks from one property to the other on Spark."""
    assert_agreement(scenario, engines=(engine,))


@pytest.mark.parametrize("engine", MARKED_ENGINES)
@settings(MARKED)
@given(scenario=relational_scenarios())
def test_timeline_relationships_on_the_other_engines(engine: str, scenario: Scenario) -> None:
    assert_agreement(scenario, with_timeline=True, engines=(engine,))

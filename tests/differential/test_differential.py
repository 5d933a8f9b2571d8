"""DuckDB == Polars == the reference evaluator, on random adversarial data and segments.

Each example writes its six input tables as Parquet (the canonical ``TABLES`` schemas), checks
a batch of segment texts, evaluates the whole batch in one call per engine, and compares the
membership sets with ``tests/reference.py``. A failure names the first segment whose members
differ, the engine(s) that differ from the reference, and the rows of the entities involved.
"""

from __future__ import annotations

import re
import tempfile
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pyarrow as pa
import pyarrow.parquet as pq
from hypothesis import given, settings

from pipeline.catalog import Catalog, CustomAttribute
from pipeline.engines.duckdb import DuckDBEngine
from pipeline.engines.polars import PolarsEngine
from pipeline.errors import Problem, ProblemCollector
from pipeline.inputs.schema import TABLES
from pipeline.language.check import CheckContext
from pipeline.language.segments import check_document
from pipeline.language.source import parse_text
from pipeline.language.temporal import clock as run_clock

from . import PROFILE
from .strategies import CUSTOM, PROPERTIES, Scenario, scenarios

try:  # the repository root is on sys.path (python -m pytest, or tests/ became a package)
    from tests import reference
except ModuleNotFoundError:  # pytest put tests/ itself on sys.path
    import reference  # type: ignore[no-redef]

Member = tuple[str, str, str]


def write_tables(tables: dict[str, list[dict[str, Any]]], directory: Path) -> dict[str, Path]:
    paths = {}
    for name, schema in TABLES.items():
        path = directory / f"{name}.parquet"
        pq.write_table(pa.Table.from_pylist(tables.get(name, []), schema=schema), path)
        paths[name] = path
    return paths


def _members(table: pa.Table) -> set[Member]:
    return {(row["segment_id"], row["property_id"], row["entity_id"]) for row in table.to_pylist()}


def engine_membership(scenario: Scenario) -> dict[str, set[Member]]:
    """Members per engine, every segment of the scenario evaluated in one call."""
    catalog = Catalog.build(
        CustomAttribute(entity, key, kind, key.title(), frozenset(PROPERTIES))
        for (entity, key), kind in CUSTOM.items()
    )
    ctx = CheckContext(catalog, scenario.as_of, ZoneInfo(scenario.timezone))
    clock = run_clock(scenario.as_of, ZoneInfo(scenario.timezone))
    problems = ProblemCollector()
    segments = []
    for number, text in enumerate(scenario.segments):
        root = parse_text(text, f"segment-{number}.yaml")
        assert not isinstance(root, Problem), f"{root}\n{text}"
        try:
            segment = check_document(root, f"segment-{number}", ctx, problems)
        except Exception as error:  # a crash, not a located definition error
            raise AssertionError(
                f"checking a valid definition raised {error!r}:\n{text}"
            ) from error
        assert not problems.problems, "a valid definition was rejected:\n" + "\n".join(
            [*(str(p) for p in problems.problems), text]
        )
        assert segment is not None
        segments.append(segment)
    ids = ", ".join(s.id for s in segments)
    with tempfile.TemporaryDirectory() as directory:
        paths = write_tables(scenario.tables, Path(directory))
        duck = DuckDBEngine(paths, threads=1)
        try:
            by_duckdb = _members(duck.membership(segments, CUSTOM, clock))
        except Exception as error:
            raise AssertionError(f"DuckDB failed on segments {ids}: {error}") from error
        finally:
            duck.close()
        try:
            by_polars = _members(PolarsEngine(paths).membership(segments, CUSTOM, clock))
        except Exception as error:
            raise AssertionError(f"Polars failed on segments {ids}: {error}") from error
    return {"duckdb": by_duckdb, "polars": by_polars}


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


def assert_agreement(scenario: Scenario) -> None:
    expected = reference.membership(
        scenario.tables, scenario.segments, scenario.as_of, scenario.timezone
    )
    found = engine_membership(scenario)
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

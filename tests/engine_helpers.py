"""Run segments end to end on a tiny dataset: rows -> Parquet -> catalog -> checked IR -> engine.

Behaviour tests describe data as rows (dicts; a missing column is null) and segments as YAML,
and compare an engine's membership, as a set of ``(segment_id, property_id, entity_id)``, with
the set SPEC section 3 says. Every behaviour test runs on each engine in :data:`ENGINES`.

    data = Dataset.write(tmp_path, {"organizations": [{"property_id": "p1", "org_id": "o1"}]})
    data.run("duckdb", {"s": {"name": {"is_unknown": True}}})  # {("s", "p1", "o1")}
"""

from __future__ import annotations

import datetime as dt
import json
import os
import textwrap
import zoneinfo
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from pipeline.catalog import Catalog, CustomAttribute
from pipeline.engines import REGISTRY, EngineOptions, make_engine
from pipeline.engines.base import Engine
from pipeline.errors import Problem, ProblemCollector
from pipeline.inputs.schema import TABLES
from pipeline.language import ir
from pipeline.language.check import CheckContext
from pipeline.language.segments import check_document
from pipeline.language.source import parse_text
from pipeline.language.temporal import clock as run_clock


def engine_params(*, passes: bool = False) -> tuple[Any, ...]:
    """The registry's engines as pytest parameters, each with its marker (see conftest);
    ``passes``: only those that compute the flags in passes over ranges of keys."""
    return tuple(
        pytest.param(name, marks=getattr(pytest.mark, spec.test_marker), id=name)
        if spec.test_marker
        else name
        for name, spec in REGISTRY.items()
        if spec.memory_limit or not passes
    )


#: Every engine of the registry (parameters of the behaviour tests).
ENGINES: Final = engine_params()


#: The tables a run publishes from what its engine computed: two engines given the same
#: inputs, definitions and ``--as-of`` must publish them equal.
COMPUTED_TABLES: Final = (
    "segment_membership",
    "segment_membership_history",
    "segment_changes",
    "segment_sizes",
    "segments",
    "timeline_rollups",
    "timeline_daily",
)


def require_pyspark() -> None:
    """Skip the calling module (at its top level) when PySpark is not installed, with a visible
    reason; where CI requires Spark (``CI_REQUIRE_SPARK=1``) the import error fails it instead
    (a skip would hide it)."""
    try:
        import pyspark  # noqa: F401
    except ImportError:
        if os.environ.get("CI_REQUIRE_SPARK") == "1":
            raise
        pytest.skip("PySpark is not installed (pip install -e '.[spark]')", allow_module_level=True)


def engine_options(engine: str) -> EngineOptions:
    """How the tests build ``engine``: Spark in one local session for the whole test run
    (two cores, two shuffle partitions), which the engines leave running."""
    if engine != "spark":
        return EngineOptions()
    from pipeline.engines.spark import spark_session

    session, _ = spark_session("local[2]", {"spark.sql.shuffle.partitions": "2"})
    return EngineOptions(spark_session=session)


def build_engine(engine: str, paths: Mapping[str, Path]) -> Engine:
    """The engine called ``engine`` of the registry over ``paths``, as the tests build it."""
    return make_engine(engine, paths, engine_options(engine))


#: The default run clock of the tests: a Sunday noon, UTC.
AS_OF: Final = dt.datetime(2026, 3, 15, 12, 0, tzinfo=dt.UTC)

Member = tuple[str, str, str]
Rows = Sequence[Mapping[str, Any]]


def utc(text: str) -> dt.datetime:
    """An aware UTC instant from ISO text (``Z`` allowed)."""
    value = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.UTC)
    return value.astimezone(dt.UTC)


def midnight_utc(day: str) -> dt.datetime:
    """How a custom ``date`` value is stored: midnight UTC of the day, in ``value_datetime``."""
    return dt.datetime.combine(dt.date.fromisoformat(day), dt.time(0), tzinfo=dt.UTC)


def table_from_rows(name: str, rows: Rows) -> pa.Table:
    """``rows`` in the exact ``TABLES[name]`` schema; columns a row leaves out are null."""
    schema = TABLES[name]
    for row in rows:
        unknown = set(row) - set(schema.names)
        assert not unknown, f"{name}: no column(s) {sorted(unknown)} in {schema.names}"
    columns = {f.name: pa.array([row.get(f.name) for row in rows], f.type) for f in schema}
    return pa.table(columns, schema=schema)


def write_tables(directory: Path, tables: Mapping[str, Rows]) -> dict[str, Path]:
    """One Parquet file per input table (all six, empty when not given) under ``directory``."""
    unknown = set(tables) - set(TABLES)
    assert not unknown, f"no input table(s) {sorted(unknown)}"
    directory.mkdir(parents=True, exist_ok=True)
    paths = {}
    for name in TABLES:
        path = directory / f"{name}.parquet"
        pq.write_table(table_from_rows(name, tables.get(name, ())), path)
        paths[name] = path
    return paths


def catalog_from(attribute_rows: Rows) -> Catalog:
    """The catalog the run would build from ``attributes`` rows (merged over properties)."""
    merged: dict[tuple[str, str], dict[str, Any]] = {}
    for row in attribute_rows:
        entry = merged.setdefault(
            (row["entity"], row["key"]),
            {"type": row["type"], "label": row.get("label") or row["key"], "properties": set()},
        )
        assert entry["type"] == row["type"], f"conflicting types for {row['key']}"
        entry["properties"].add(row["property_id"])
    return Catalog.build(
        CustomAttribute(entity, key, e["type"], e["label"], frozenset(e["properties"]))
        for (entity, key), e in merged.items()
    )


def custom_types_from(attribute_rows: Rows) -> dict[tuple[str, str], str]:
    return {(row["entity"], row["key"]): row["type"] for row in attribute_rows}


def segment_yaml(
    segment_id: str,
    where: object,
    *,
    entity: str | None = None,
    properties: Sequence[str] | None = None,
) -> str:
    """A segment file. ``where`` as ``str`` is raw YAML; anything else is written as JSON.

    JSON is YAML, and its escapes (``\\t``, ``\\u00a0``, quotes) keep every odd value exact.
    """
    lines = [f"id: {json.dumps(segment_id)}"]
    if entity is not None:
        lines.append(f"entity: {entity}")
    if properties is not None:
        lines.append(f"properties: {json.dumps(list(properties))}")
    if isinstance(where, str):
        lines.append("where:\n" + textwrap.indent(textwrap.dedent(where).strip("\n"), "  "))
    else:
        lines.append(f"where: {json.dumps(where, ensure_ascii=True, default=str)}")
    return "\n".join(lines) + "\n"


def check_segments(
    texts: Iterable[str], catalog: Catalog, as_of: dt.datetime = AS_OF, tz: str = "UTC"
) -> list[ir.Segment]:
    """Checked segments; any definition problem fails the test with every message."""
    ctx = CheckContext(catalog, as_of, zoneinfo.ZoneInfo(tz))
    problems = ProblemCollector()
    segments = []
    for index, text in enumerate(texts):
        root = parse_text(text, f"s{index}.yaml")
        if isinstance(root, Problem):
            problems.problems.append(root)
            continue
        segment = check_document(root, f"s{index}", ctx, problems)
        if segment is not None:
            segments.append(segment)
    assert not problems.problems, "definition problems:\n" + "\n".join(map(str, problems.problems))
    return segments


def definition_problems(
    text: str, catalog: Catalog, as_of: dt.datetime = AS_OF, tz: str = "UTC"
) -> list[Problem]:
    """The problems checking one segment text reports (empty when it is valid)."""
    root = parse_text(text, "x.yaml")
    if isinstance(root, Problem):
        return [root]
    problems = ProblemCollector()
    check_document(root, "x", CheckContext(catalog, as_of, zoneinfo.ZoneInfo(tz)), problems)
    return list(problems.problems)


def run_engine(
    engine: str,
    paths: Mapping[str, Path],
    segments: Sequence[ir.Segment],
    custom_types: Mapping[tuple[str, str], str],
    clock: ir.Clock | None = None,
) -> set[Member]:
    """Membership from one engine as ``{(segment_id, property_id, entity_id)}``."""
    runner = build_engine(engine, paths)
    try:
        table = runner.flags(
            segments, custom_types, clock or run_clock(AS_OF, zoneinfo.ZoneInfo("UTC"))
        ).table()
    finally:
        runner.close()
    rows = table.select(["segment_id", "property_id", "entity_id"]).to_pylist()
    members = [(r["segment_id"], r["property_id"], r["entity_id"]) for r in rows]
    assert len(members) == len(set(members)), f"{engine}: duplicate membership rows"
    assert all(r["entity"] in ("organization", "person") for r in table.to_pylist())
    return set(members)


@dataclass
class Dataset:
    """Input tables written once, evaluated by any engine with any segments and clock."""

    paths: dict[str, Path]
    tables: Mapping[str, Rows]
    catalog: Catalog = field(init=False)
    custom_types: dict[tuple[str, str], str] = field(init=False)
    _cache: dict[tuple[object, ...], set[Member] | Exception] = field(
        init=False, default_factory=dict
    )

    def __post_init__(self) -> None:
        attributes = self.tables.get("attributes", ())
        self.catalog = catalog_from(attributes)
        self.custom_types = custom_types_from(attributes)

    @classmethod
    def write(cls, directory: Path, tables: Mapping[str, Rows]) -> Dataset:
        return cls(write_tables(directory, tables), tables)

    def ids(self, entity: str = "organization", prop: str | None = None) -> set[str]:
        """Every entity id (of property ``prop``, or of all properties)."""
        table, column = (
            ("organizations", "org_id")
            if entity == "organization"
            else (
                "people",
                "person_id",
            )
        )
        return {
            row[column]
            for row in self.tables.get(table, ())
            if prop is None or row["property_id"] == prop
        }

    def keys(self, entity: str = "organization") -> set[tuple[str, str]]:
        """Every ``(property_id, entity_id)`` of an entity."""
        table, column = (
            ("organizations", "org_id")
            if entity == "organization"
            else (
                "people",
                "person_id",
            )
        )
        return {(row["property_id"], row[column]) for row in self.tables.get(table, ())}

    def run_texts(
        self, engine: str, texts: Sequence[str], as_of: dt.datetime = AS_OF, tz: str = "UTC"
    ) -> set[Member]:
        segments = check_segments(texts, self.catalog, as_of, tz)
        return run_engine(engine, self.paths, segments, self.custom_types)

    def run(
        self,
        engine: str,
        wheres: Mapping[str, object],
        *,
        entity: str | None = None,
        properties: Sequence[str] | None = None,
        as_of: dt.datetime = AS_OF,
        tz: str = "UTC",
    ) -> set[Member]:
        """Evaluate one segment per ``wheres`` item (id -> condition) in one engine pass."""
        texts = [
            segment_yaml(sid, where, entity=entity, properties=properties)
            for sid, where in wheres.items()
        ]
        return self.run_texts(engine, texts, as_of, tz)

    def batch_members(
        self,
        engine: str,
        batch: str,
        wheres: Mapping[str, object],
        segment_id: str,
        *,
        entity: str | None = None,
        as_of: dt.datetime = AS_OF,
        tz: str = "UTC",
    ) -> set[Member]:
        """Members of ``segment_id``, evaluated with all of ``wheres`` in one cached pass.

        If the whole batch fails (one bad case must not hide the others), the segment is
        run alone, so that the failure it reports is its own.
        """
        key = (engine, batch, entity, as_of, tz, json.dumps(wheres, sort_keys=True, default=str))
        if key not in self._cache:
            try:
                self._cache[key] = self.run(engine, wheres, entity=entity, as_of=as_of, tz=tz)
            except Exception:  # re-raised per case below, by running the case alone
                self._cache[key] = RuntimeError("batch failed")
        cached = self._cache[key]
        if isinstance(cached, Exception):
            alone = self.run(
                engine, {segment_id: wheres[segment_id]}, entity=entity, as_of=as_of, tz=tz
            )
            return {m for m in alone if m[0] == segment_id}
        return {m for m in cached if m[0] == segment_id}


def members_of(result: set[Member], segment_id: str) -> set[tuple[str, str]]:
    """``{(property_id, entity_id)}`` of one segment in a membership set."""
    return {(prop, eid) for sid, prop, eid in result if sid == segment_id}


def expect(segment_id: str, prop: str, ids: Iterable[str]) -> set[Member]:
    """The membership set of one segment whose members are ``ids`` of property ``prop``."""
    return {(segment_id, prop, eid) for eid in ids}

"""Disagreements found by the differential tests, reduced to explicit cases.

Each test gives its data, its segment and the membership SPEC section 3 calls for (the
reasoning is in the docstring), and runs on both engines. Self-contained on purpose: the
differential tests (``tests/differential``) find new cases, this file keeps them found.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from engine_helpers import ENGINES, Dataset, build_engine, midnight_utc

from pipeline.catalog import Catalog
from pipeline.engines import REGISTRY
from pipeline.errors import Problem, ProblemCollector
from pipeline.inputs.schema import TABLES
from pipeline.language.check import CheckContext
from pipeline.language.segments import check_document
from pipeline.language.source import parse_text
from pipeline.language.temporal import clock as run_clock

AS_OF = dt.datetime(2026, 3, 15, 12, 0, tzinfo=dt.UTC)
Member = tuple[str, str, str]


def members(
    engine: str,
    tmp_path: Path,
    organizations: Sequence[Mapping[str, Any]],
    segments: Sequence[str],
    *,
    timezone: str = "UTC",
) -> set[Member]:
    """(segment_id, property_id, org_id) members of ``segments`` over ``organizations``."""
    ctx = CheckContext(Catalog.build([]), AS_OF, ZoneInfo(timezone))
    problems = ProblemCollector()
    checked = []
    for number, text in enumerate(segments):
        root = parse_text(text, f"s{number}.yaml")
        assert not isinstance(root, Problem), str(root)
        segment = check_document(root, f"s{number}", ctx, problems)
        assert segment is not None, "\n".join(str(p) for p in problems.problems)
        checked.append(segment)
    tmp_path.mkdir(parents=True, exist_ok=True)
    paths = {}
    for name, schema in TABLES.items():
        rows = organizations if name == "organizations" else []
        columns = {f.name: pa.array([r.get(f.name) for r in rows], f.type) for f in schema}
        paths[name] = tmp_path / f"{name}.parquet"
        pq.write_table(pa.table(columns, schema=schema), paths[name])
    runner = build_engine(engine, paths)
    try:
        table = runner.flags(checked, {}, run_clock(AS_OF, ZoneInfo(timezone))).table()
    finally:
        runner.close()
    return {(r["segment_id"], r["property_id"], r["entity_id"]) for r in table.to_pylist()}


def org(org_id: str, **attributes: Any) -> dict[str, Any]:
    return {"property_id": "p", "org_id": org_id, **attributes}


# -- a number written for a text or phone attribute is taken as its text ---------------------


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize(
    ("column", "written", "matching", "other"),
    [
        ("name", "01000", "01000", "1000"),  # a French postcode
        ("name", "1.50", "1.50", "1.5"),  # a version
        ("primary_phone", "0612345678", "06 12 34 56 78", "612345678"),
    ],
)
def test_a_number_written_for_text_keeps_the_text_written(
    engine: str, tmp_path: Path, column: str, written: str, matching: str, other: str
) -> None:
    """SPEC 3: "A number given for a text or phone attribute, as YAML reads `75001`, is
    taken as its text." The text of ``01000`` as written is ``01000``: YAML reads an int
    (1000) and the checker re-prints it, so the zip code 01000 never matches and 1000 does;
    ``1.50`` becomes ``1.5``; the phone ``0612345678`` loses its leading zero (digits
    ``612345678``), so ``06 12 34 56 78`` does not match. Found by the differential tests.
    """
    data = [org("1", **{column: matching}), org("2", **{column: other})]
    segment = f"id: s\nwhere: {{{column}: {{is: {written}}}}}\n"
    assert members(engine, tmp_path, data, [segment]) == {("s", "p", "1")}


# -- segment ids are any [a-z0-9][a-z0-9_-]*, including the engines' own column names --------


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("segment_id", ["entity_id", "property_id", "segment_id", "member"])
def test_segment_ids_that_name_internal_columns(
    engine: str, tmp_path: Path, segment_id: str
) -> None:
    """SPEC 3: an id is any ``[a-z0-9][a-z0-9_-]*``. The compiled query has one column per
    segment next to ``property_id`` and ``entity_id`` and unpivots into ``segment_id`` and
    ``member``. DuckDB fails on ``entity_id`` and ``property_id`` (binder error "Referenced
    column not found", or "Cannot unpivot columns of types BOOLEAN and VARCHAR" when more
    segments are in the batch); Polars fails on all four ("duplicate column name")."""
    data = [org("1", name="x"), org("2", name="y")]
    segments = [
        f"id: {segment_id}\nwhere: {{name: {{is: x}}}}\n",
        "id: other\nwhere: {name: {is: y}}\n",
    ]
    assert members(engine, tmp_path, data, segments) == {
        (segment_id, "p", "1"),
        ("other", "p", "2"),
    }


# -- letters that only newer Unicode case tables know -----------------------------------------


@pytest.mark.parametrize(
    ("stored", "written"),
    [("\ua7cb", "\u0264"), ("\U00010d50", "\U00010d70")],
)
def test_engines_lower_case_the_same_letters(tmp_path: Path, stored: str, written: str) -> None:
    """SPEC 1: "both engines give identical results". Polars lower-cases with Unicode 16
    tables (U+A7CB LATIN CAPITAL LETTER RAMS HORN -> U+0264; Garay U+10D50 -> U+10D70), DuckDB
    and Python 3.11 (which normalizes the definition's values) do not: 55 code points in all.
    Under "ignore case" these are one letter; whichever way is chosen, the engines must agree.
    """
    data = [org("1", name=stored)]
    segment = f'id: s\nwhere: {{name: {{is: "{written}"}}}}\n'
    local = [name for name, spec in REGISTRY.items() if spec.test_marker is None]
    by_engine = {engine: members(engine, tmp_path / engine, data, [segment]) for engine in local}
    assert len(set(map(frozenset, by_engine.values()))) == 1, by_engine


# -- durations and dates at the ends of the calendar are valid definitions --------------------


@pytest.mark.parametrize("engine", ENGINES)
def test_a_duration_longer_than_the_calendar(engine: str, tmp_path: Path) -> None:
    """SPEC 3: a duration is ``<n>d``; only zero or negative ones are definition errors.
    ``as_of - 5000000d`` lies before year 1, so ``within_last`` holds for every instant up to
    ``as_of``, ``more_than_ago`` for none, and ``within_next`` for every instant from
    ``as_of``. The checker raises OverflowError (a traceback, no location) instead."""
    data = [
        org("past", created_at=dt.datetime(1970, 1, 1, tzinfo=dt.UTC)),
        org("future", created_at=dt.datetime(2030, 1, 1, tzinfo=dt.UTC)),
    ]
    segments = [
        "id: last\nwhere: {created_at: {within_last: 5000000d}}\n",
        "id: ago\nwhere: {created_at: {more_than_ago: 5000000d}}\n",
        "id: next\nwhere: {created_at: {within_next: 5000000d}}\n",
    ]
    assert members(engine, tmp_path, data, segments) == {
        ("last", "p", "past"),
        ("next", "p", "future"),
    }


@pytest.mark.parametrize("engine", ENGINES)
def test_dates_at_the_ends_of_the_calendar(engine: str, tmp_path: Path) -> None:
    """SPEC 3: ``after: D`` is ``t >=`` the start of the day after ``D``; after 9999-12-31
    no instant qualifies, ``before: 9999-12-31`` every earlier one. In Europe/Paris,
    0001-01-01 starts before the first representable UTC instant, so ``before`` holds for
    none and ``is`` for an instant on that day. The checker raises OverflowError instead."""
    data = [
        org("first", created_at=dt.datetime(1, 1, 1, tzinfo=dt.UTC)),
        org("now", created_at=AS_OF),
    ]
    segments = [
        "id: after-last\nwhere: {created_at: {after: 9999-12-31}}\n",
        "id: before-last\nwhere: {created_at: {before: 9999-12-31}}\n",
        "id: before-first\nwhere: {created_at: {before: 0001-01-01}}\n",
        "id: on-first\nwhere: {created_at: {is: 0001-01-01}}\n",
    ]
    assert members(engine, tmp_path, data, segments, timezone="Europe/Paris") == {
        ("before-last", "p", "first"),
        ("before-last", "p", "now"),
        ("on-first", "p", "first"),
    }


@pytest.mark.parametrize("engine", ENGINES)
def test_a_duration_longer_than_the_calendar_on_a_date_west_of_utc(
    engine: str, tmp_path: Path
) -> None:
    """Found by the long differential run. SPEC 3: a date's instant is its midnight in the
    run's timezone. ``as_of - 5000000d`` clamps to the first instant of year 1, which in
    America/New_York is still year 0: no day starts before it (``more_than_ago`` holds for
    none), every day up to ``as_of`` starts after it (``within_last``). The checker raised
    OverflowError converting that instant to a local day."""
    days = {"o1": "0001-01-01", "o2": "1969-12-31", "o3": "2026-03-14", "o4": "2027-01-01"}
    data = Dataset.write(
        tmp_path,
        {
            "organizations": [{"property_id": "p", "org_id": eid} for eid in days],
            "attributes": [
                {"property_id": "p", "entity": "organization", "key": "day", "type": "date"}
            ],
            "attribute_values": [
                {"property_id": "p", "entity": "organization", "entity_id": eid, "key": "day",
                 "value_datetime": midnight_utc(day)}
                for eid, day in days.items()
            ],
        },
    )  # fmt: skip
    got = data.run(
        engine,
        {
            "ago": {"custom.day": {"more_than_ago": "5000000d"}},
            "last": {"custom.day": {"within_last": "5000000d"}},
            "next": {"custom.day": {"within_next": "5000000d"}},
        },
        tz="America/New_York",
    )
    assert got == {
        ("last", "p", "o1"),
        ("last", "p", "o2"),
        ("last", "p", "o3"),
        ("next", "p", "o4"),
    }

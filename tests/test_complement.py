"""The complement rule of SPEC section 3, on both engines.

For every entity, exactly one of ``X: {is: v}`` and ``X: {is_not: v}`` holds, and likewise for
``contains``/``not_contains``, ``in``/``not_in``, ``is_unknown``/``has_any_value`` and the
groups ``any``/``none``: the two segments of a pair partition the entities exactly (disjoint,
and together every entity). This is checked on a generated dataset full of unknowns and odd
values, under two clocks (UTC, and Paris on a daylight-saving day), and on the sample dataset
in ``data/`` with operands read from it.
"""

from __future__ import annotations

import datetime as dt
import functools
import math
import random
from collections import Counter
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.dataset as ds
import pyarrow.parquet as pq
import pytest
from engine_helpers import AS_OF, ENGINES, Dataset, Member, midnight_utc, segment_yaml, utc

from pipeline.compile.normalize import normalize_phone, normalize_text
from pipeline.inputs.schema import TABLES


@pytest.fixture(params=ENGINES, scope="module")
def engine(request: pytest.FixtureRequest) -> str:
    """Every behaviour test runs once per engine."""
    return str(request.param)


SQL_OR = "x' OR '1'='1"
SQL_DROP = "'; DROP TABLE organizations; --"
PROPERTIES = ("p1", "p2", "p'3")
IDS = [f"e{i:03d}" for i in range(90)]

# -- a varied dataset --------------------------------------------------------------------------

TEXTS: list[str | None] = [
    None, "", "   ", "\t\n", "\u00a0", "\u2003 \r\n",
    "Acme", "acme", " ACME ", "Acme Corp", "École", "ecole", "ÉCOLE normale",
    "100%", "100 pure", "a_b", "axb", "a.b*c", SQL_OR, SQL_DROP, 'say "hi"', "O'Reilly",
    "75001", "Paris 75001", "none", "null", "back\\slash",
]  # fmt: skip
PHONES: list[str | None] = [
    None, "", "  ", "abc", "+()", "+33 (0)1 23 45 67 89", "01 23 45 67 89", "0123456789",
    "+1-555-0100", "555 0100 ext. 7", "75001", SQL_OR,
]  # fmt: skip
NUMBERS: list[float | None] = [
    None, math.nan, 0.0, -0.0, 1.0, 10.0, 10.5, -3.0, 100.0, math.inf, -math.inf, 1e12,
]  # fmt: skip
BOOLEANS: list[bool | None] = [None, True, False]
INSTANTS: list[dt.datetime | None] = [
    None,
    AS_OF,
    AS_OF - dt.timedelta(days=30),
    AS_OF - dt.timedelta(days=30, microseconds=1),
    AS_OF + dt.timedelta(microseconds=1),
    AS_OF + dt.timedelta(days=30),
    utc("2026-03-10T00:00:00Z"),
    utc("2026-03-10T23:59:59.999999Z"),
    utc("2026-03-09T23:00:00Z"),  # 03-10 in Paris
    utc("2026-03-28T23:00:00Z"),  # the short day in Paris
    utc("2026-03-29T12:00:00Z"),
    utc("2026-03-29T21:59:59.999999Z"),
    utc("2025-12-15T12:00:00Z"),
    utc("2027-01-01T00:00:00Z"),
]
DAYS: list[str | None] = [
    None, "2026-03-10", "2026-03-15", "2026-02-13", "2026-02-14", "2026-04-14", "2026-03-29",
    "2026-03-28", "2025-12-15", "2026-03-08",
]  # fmt: skip
CUSTOM_TYPES = {
    "ctext": "text",
    "cnum": "number",
    "cbool": "boolean",
    "cdate": "date",
    "cdt": "datetime",
    "clist": "list",
}
VALUE_COLUMN = {
    "text": "value_text",
    "number": "value_number",
    "boolean": "value_boolean",
    "date": "value_datetime",
    "datetime": "value_datetime",
    "list": "value_list",
}


def _list(rng: random.Random, pool: Sequence[str | None]) -> list[str | None] | None:
    roll = rng.random()
    if roll < 0.1:
        return None
    if roll < 0.2:
        return []
    return [rng.choice(pool) for _ in range(rng.randint(1, 4))]


def _contact(rng: random.Random) -> dict[str, Any]:
    return {
        "name": rng.choice(TEXTS),
        "primary_email": rng.choice(TEXTS),
        "job_title": rng.choice(TEXTS),
        "primary_phone": rng.choice(PHONES),
        "tags": _list(rng, TEXTS),
        "emails": _list(rng, TEXTS),
        "phones": _list(rng, PHONES),
        "created_at": rng.choice(INSTANTS),
        "updated_at": rng.choice(INSTANTS),
    }


def _custom_value(rng: random.Random, kind: str) -> Any:
    match kind:
        case "text":
            return rng.choice(TEXTS)
        case "number":
            return rng.choice(NUMBERS)
        case "boolean":
            return rng.choice(BOOLEANS)
        case "date":
            day = rng.choice(DAYS)
            return None if day is None else midnight_utc(day)
        case "datetime":
            return rng.choice(INSTANTS)
        case _:
            return _list(rng, TEXTS)


def varied_tables(seed: int = 20260315) -> dict[str, list[dict[str, Any]]]:
    """Equal ids in every property and in both entities; about a third of values unknown."""
    rng = random.Random(seed)
    tables: dict[str, list[dict[str, Any]]] = {
        "organizations": [],
        "people": [],
        "attributes": [],
        "attribute_values": [],
    }
    for prop in PROPERTIES:
        for eid in IDS:
            tables["organizations"].append({"property_id": prop, "org_id": eid, **_contact(rng)})
            tables["people"].append({"property_id": prop, "person_id": eid, **_contact(rng)})
        for entity in ("organization", "person"):
            for key, kind in CUSTOM_TYPES.items():
                tables["attributes"].append(
                    {"property_id": prop, "entity": entity, "key": key, "label": key, "type": kind}
                )
                for eid in IDS:
                    if rng.random() < 0.15:
                        continue  # no row at all
                    value = _custom_value(rng, kind)
                    tables["attribute_values"].append(
                        {
                            "property_id": prop,
                            "entity": entity,
                            "entity_id": eid,
                            "key": key,
                            VALUE_COLUMN[kind]: value,
                        }
                    )
    return tables


# -- pairs -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Pair:
    """Two conditions whose segments must partition the entities."""

    name: str
    entity: str
    positive: object
    negative: object
    properties: tuple[str, ...] | None = None


def leaf_pairs(attr: str, op: str, value: object) -> tuple[object, object]:
    negative = {"is": "is_not", "contains": "not_contains", "in": "not_in"}[op]
    return {attr: {op: value}}, {attr: {negative: value}}


TEXT_OPERANDS: dict[str, list[object]] = {
    "is": ["acme", " ÉCOLE ", "ecole", "100%", "a_b", SQL_OR, SQL_DROP, 75001, "null", '"hi"'],
    "contains": ["acme", "É", "e", "%", "_", ".", "*", "'", SQL_OR, 75001, "non", "\\"],
    "in": [["acme", "ecole"], [SQL_OR, SQL_DROP, "100%", "x", "y"], [75001], ["a_b", "%"]],
}
PHONE_OPERANDS: dict[str, list[object]] = {
    "is": ["0123456789", "+33 (0)1 23 45 67 89", 15550100, SQL_OR],
    "contains": ["0123", "+33 (0)1 23", "(0)1", 75001, "555-0100"],
    "in": [["0123456789", "+1 555 0100"], ["11", "75001", "1", "2", "3"]],
}


def presence_pairs(entity: str, attr: str) -> list[Pair]:
    return [
        Pair(f"{attr}:unknown/known", entity, {attr: {"is_unknown": True}},
             {attr: {"has_any_value": True}}),
        Pair(f"{attr}:unknown/not-unknown", entity, {attr: {"is_unknown": True}},
             {attr: {"is_unknown": False}}),
        Pair(f"{attr}:not-known/known", entity, {attr: {"has_any_value": False}},
             {attr: {"has_any_value": True}}),
    ]  # fmt: skip


def operand_pairs(entity: str, attr: str, operands: Mapping[str, Sequence[object]]) -> list[Pair]:
    pairs = []
    for op, values in operands.items():
        for index, value in enumerate(values):
            positive, negative = leaf_pairs(attr, op, value)
            pairs.append(Pair(f"{attr}:{op}[{index}]", entity, positive, negative))
    return pairs


def group_pairs(entity: str, attr: str, items: Sequence[Sequence[object]]) -> list[Pair]:
    return [
        Pair(f"{attr}:any/none[{index}]", entity, {"any": list(group)}, {"none": list(group)})
        for index, group in enumerate(items)
    ]


def text_like_pairs(entity: str, attr: str, operands: Mapping[str, Sequence[object]]) -> list[Pair]:
    first = operands["is"][0]
    second = operands["contains"][0]
    groups: list[list[object]] = [
        [{attr: {"is": first}}, {attr: {"contains": second}}],
        [{attr: {"starts_with": second}}, {attr: {"ends_with": second}}],
        [{attr: {"is_not": first}}, {attr: {"is_unknown": True}}],
        [{"none": [{attr: {"contains": second}}]}, {"all": [{attr: {"in": operands["in"][0]}}]}],
    ]
    return [
        *operand_pairs(entity, attr, operands),
        *presence_pairs(entity, attr),
        *group_pairs(entity, attr, groups),
    ]


def list_pairs(entity: str, attr: str, operands: Mapping[str, Sequence[object]]) -> list[Pair]:
    first = operands["is"][0]
    second = operands["contains"][0]
    groups: list[list[object]] = [
        [{attr: {"is": first}}, {attr: {"contains": second}}],
        [{attr: {"not_in": operands["in"][0]}}, {attr: {"has_any_value": False}}],
    ]
    return [
        *operand_pairs(entity, attr, operands),
        *presence_pairs(entity, attr),
        *group_pairs(entity, attr, groups),
    ]


def number_pairs(entity: str, attr: str) -> list[Pair]:
    pairs = [
        Pair(f"{attr}:is[{v}]", entity, {attr: {"is": v}}, {attr: {"is_not": v}})
        for v in (10, 0, -0.0, -3, 1e12, 7)
    ]
    groups: list[list[object]] = [
        [{attr: {"gt": 10}}, {attr: {"lt": 0}}],
        [{attr: {"between": [0, 10.5]}}],
        [{attr: {"gte": 100}}, {attr: {"lte": -3}}, {attr: {"is_unknown": True}}],
    ]
    return [*pairs, *presence_pairs(entity, attr), *group_pairs(entity, attr, groups)]


def boolean_pairs(entity: str, attr: str) -> list[Pair]:
    pairs = [
        Pair(f"{attr}:is[{v}]", entity, {attr: {"is": v}}, {attr: {"is_not": v}})
        for v in (True, False)
    ]
    groups: list[list[object]] = [[{attr: {"is": True}}, {attr: {"is": False}}]]
    return [*pairs, *presence_pairs(entity, attr), *group_pairs(entity, attr, groups)]


def temporal_pairs(entity: str, attr: str) -> list[Pair]:
    days = ("2026-03-10", "2026-03-15", "2026-03-29", "2026-02-13", "2026-03-28")
    pairs = [
        Pair(f"{attr}:is[{d}]", entity, {attr: {"is": d}}, {attr: {"is_not": d}}) for d in days
    ]
    groups: list[list[object]] = [
        [{attr: {"before": "2026-03-10"}}, {attr: {"after": "2026-03-15"}}],
        [{attr: {"within_last": "30d"}}],
        [{attr: {"more_than_ago": "30d"}}, {attr: {"within_next": "30d"}}],
        [{attr: {"between": ["2026-03-10", "2026-03-29"]}}, {attr: {"within_last": "12h"}}],
        [
            {attr: {"before": "2026-03-10T12:00:00Z"}},
            {attr: {"after": "2026-03-29T00:00:00+01:00"}},
        ],
    ]
    return [*pairs, *presence_pairs(entity, attr), *group_pairs(entity, attr, groups)]


def mixed_pairs(entity: str) -> list[Pair]:
    """Groups across types, nested, and scoped to some properties."""
    a = {"name" if entity == "organization" else "job_title": {"contains": "acme"}}
    b = {"custom.cnum": {"gte": 10}}
    c = {"tags" if entity == "organization" else "emails": {"in": ["acme", "ecole", SQL_OR]}}
    d = {"custom.cdate": {"within_last": "30d"}}
    e = {"custom.cbool": {"is_not": True}}
    nested = [{"all": [a, {"none": [b, c]}]}, {"any": [d, {"all": [e, b]}]}]
    return [
        Pair("mixed:any/none", entity, {"any": [a, b, c, d, e]}, {"none": [a, b, c, d, e]}),
        Pair("mixed:nested", entity, {"any": nested}, {"none": nested}),
        Pair("mixed:all/not-all", entity, {"all": [a, b]}, {"none": [{"all": [a, b]}]}),
        Pair("mixed:scoped-is", entity, {"custom.ctext": {"is": "acme"}},
             {"custom.ctext": {"is_not": "acme"}}, ("p2",)),
        Pair("mixed:scoped-any", entity, {"any": [a, d]}, {"none": [a, d]}, ("p1", "p'3")),
    ]  # fmt: skip


def all_pairs() -> list[Pair]:
    pairs: list[Pair] = []
    for entity, text_attrs, list_attrs in (
        ("organization", ("name", "primary_email", "custom.ctext"), ("tags", "custom.clist")),
        ("person", ("job_title", "custom.ctext"), ("emails", "custom.clist")),
    ):
        for attr in text_attrs:
            pairs += text_like_pairs(entity, attr, TEXT_OPERANDS)
        pairs += text_like_pairs(entity, "primary_phone", PHONE_OPERANDS)
        for attr in list_attrs:
            pairs += list_pairs(entity, attr, TEXT_OPERANDS)
        pairs += list_pairs(entity, "phones", PHONE_OPERANDS)
        pairs += number_pairs(entity, "custom.cnum")
        pairs += boolean_pairs(entity, "custom.cbool")
        for attr in ("created_at", "updated_at", "custom.cdt", "custom.cdate"):
            pairs += temporal_pairs(entity, attr)
        pairs += mixed_pairs(entity)
    return pairs


PAIRS = all_pairs()
PAIR_INDEX = {id(pair): index for index, pair in enumerate(PAIRS)}
CLOCKS = {
    "utc": (AS_OF, "UTC"),
    "paris-dst": (utc("2026-03-29T12:00:00Z"), "Europe/Paris"),
}


def pair_segments(pairs: Sequence[Pair]) -> Iterator[tuple[str, Pair, str]]:
    """``(segment id, pair, "+" or "-")`` for every segment of ``pairs``."""
    for index, pair in enumerate(pairs):
        yield f"s{index:04d}-pos", pair, "+"
        yield f"s{index:04d}-neg", pair, "-"


def segment_texts(pairs: Sequence[Pair], entity: str) -> list[str]:
    return [
        segment_yaml(
            sid,
            pair.positive if sign == "+" else pair.negative,
            entity=entity,
            properties=pair.properties,
        )
        for sid, pair, sign in pair_segments(pairs)
        if pair.entity == entity
    ]


def by_segment(got: set[Member]) -> dict[str, set[tuple[str, str]]]:
    grouped: dict[str, set[tuple[str, str]]] = {}
    for sid, prop, eid in got:
        grouped.setdefault(sid, set()).add((prop, eid))
    return grouped


def assert_partition(
    got: Mapping[str, set[tuple[str, str]]],
    pairs: Sequence[Pair],
    index: int,
    keys: set[tuple[str, str]],
    describe: Callable[[], Callable[[tuple[str, str]], object]],
    what: str,
) -> None:
    """The two segments of ``pairs[index]`` split ``keys`` (in its scope) exactly."""
    pair = pairs[index]
    inside = got.get(f"s{index:04d}-pos", set())
    outside = got.get(f"s{index:04d}-neg", set())
    scope = {k for k in keys if pair.properties is None or k[0] in pair.properties}
    both = sorted(inside & outside)
    neither = sorted(scope - inside - outside)
    stray = sorted((inside | outside) - scope)
    if both or neither or stray:
        show = describe()
        pytest.fail(
            f"{what}: {pair.positive} / {pair.negative} (properties {pair.properties})\n"
            f"  in both ({len(both)}): {[(k, show(k)) for k in both[:8]]}\n"
            f"  in neither ({len(neither)}): {[(k, show(k)) for k in neither[:8]]}\n"
            f"  outside the scope ({len(stray)}): {stray[:8]}",
            pytrace=False,
        )


@pytest.fixture(scope="module")
def varied(tmp_path_factory: pytest.TempPathFactory) -> Dataset:
    return Dataset.write(tmp_path_factory.mktemp("varied"), varied_tables())


_RESULTS: dict[tuple[str, str, str, int], dict[str, set[tuple[str, str]]]] = {}
_KEYS: dict[tuple[str, int], set[tuple[str, str]]] = {}


def _varied_members(
    data: Dataset, engine: str, entity: str, clock: str
) -> dict[str, set[tuple[str, str]]]:
    key = (engine, entity, clock, id(data))
    if key not in _RESULTS:
        as_of, tz = CLOCKS[clock]
        got = data.run_texts(engine, segment_texts(PAIRS, entity), as_of, tz)
        _RESULTS[key] = by_segment(got)
    return _RESULTS[key]


def _varied_keys(data: Dataset, entity: str) -> set[tuple[str, str]]:
    return _KEYS.setdefault((entity, id(data)), data.keys(entity))


def describe_values(
    tables: Mapping[str, Sequence[Mapping[str, Any]]], pair: Pair, custom_types: Mapping[str, str]
) -> Callable[[tuple[str, str]], object]:
    """The raw values a pair reads, for an entity key (to make a failure readable)."""
    table = "organizations" if pair.entity == "organization" else "people"
    column = "org_id" if pair.entity == "organization" else "person_id"
    rows = {(r["property_id"], r[column]): r for r in tables[table]}
    custom = {
        (r["property_id"], r["entity_id"], r["key"]): r
        for r in tables["attribute_values"]
        if r["entity"] == pair.entity
    }
    text = repr((pair.positive, pair.negative))
    builtins = [c for c in TABLES[table].names if f"'{c}'" in text]
    keys = [k for k in custom_types if f"'custom.{k}'" in text]

    def describe(key: tuple[str, str]) -> dict[str, object]:
        found: dict[str, object] = {c: rows.get(key, {}).get(c) for c in builtins}
        for k in keys:
            row = custom.get((*key, k))
            found[f"custom.{k}"] = (
                "<no row>" if row is None else row.get(VALUE_COLUMN[custom_types[k]])
            )
        return found

    return describe


def _describe_varied(data: Dataset, pair: Pair) -> Callable[[tuple[str, str]], object]:
    return describe_values(data.tables, pair, CUSTOM_TYPES)


def _describe_sample(sample: Sample, pair: Pair) -> Callable[[tuple[str, str]], object]:
    names = ("organizations", "people", "attribute_values")
    tables = {name: sample.tables[name].to_pylist() for name in names}
    attributes = sample.tables["attributes"].to_pylist()
    kinds = {r["key"]: r["type"] for r in attributes if r["entity"] == pair.entity}
    return describe_values(tables, pair, kinds)


@pytest.mark.parametrize("clock", list(CLOCKS))
@pytest.mark.parametrize("pair", PAIRS, ids=lambda p: f"{p.entity}-{p.name}")
def test_pair_partitions_varied_data(engine: str, varied: Dataset, clock: str, pair: Pair) -> None:
    assert_partition(
        _varied_members(varied, engine, pair.entity, clock),
        PAIRS,
        PAIR_INDEX[id(pair)],
        _varied_keys(varied, pair.entity),
        lambda: _describe_varied(varied, pair),
        f"[{engine}, {clock}] {pair.entity} {pair.name}",
    )


def test_varied_data_is_varied(varied: Dataset) -> None:
    """Guard: the dataset holds unknowns and knowns of every kind (else partitions are trivial)."""
    organizations = varied.tables["organizations"]
    assert sum(r["name"] is None or not str(r["name"]).strip() for r in organizations) > 20
    assert sum(r["tags"] in (None, []) for r in organizations) > 10
    assert len(varied.keys("organization")) == len(PROPERTIES) * len(IDS)


# -- the sample dataset in data/ ---------------------------------------------------------------

DATA_DIR = Path(__file__).resolve().parents[1] / "data"


def _read_table(name: str) -> pa.Table:
    """One input table from ``data/`` (a file, or a folder, hive-partitioned or not)."""
    single, folder = DATA_DIR / f"{name}.parquet", DATA_DIR / name
    if single.is_file():
        source: ds.Dataset = ds.dataset(single, format="parquet")
    else:
        source = ds.dataset(folder, format="parquet", partitioning="hive")
    table = source.to_table()
    schema = TABLES[name]
    columns = []
    for field in schema:
        column = table.column(field.name)
        if pa.types.is_dictionary(column.type):
            column = column.cast(column.type.value_type)
        columns.append(column.cast(field.type))
    return pa.table(columns, schema=schema)


@dataclass
class Sample:
    data: Dataset
    tables: dict[str, pa.Table]
    as_of: dt.datetime


def load_sample(directory: Path) -> Sample | str:
    """The sample data copied to ``directory`` in canonical form, or why it cannot be used."""
    missing = [
        t
        for t in TABLES
        if not (DATA_DIR / f"{t}.parquet").is_file() and not (DATA_DIR / t).is_dir()
    ]
    if missing:
        return (
            f"the sample dataset is missing from {DATA_DIR}: no {', '.join(missing)} "
            f"(expected <table>.parquet or <table>/ for each of {', '.join(TABLES)}); "
            "generate it (pipeline/generate.py) before running the tests"
        )
    tables = {name: _read_table(name) for name in TABLES}
    directory.mkdir(parents=True, exist_ok=True)
    paths = {}
    for name, table in tables.items():
        path = directory / f"{name}.parquet"
        pq.write_table(table, path)
        paths[name] = path
    data = Dataset(paths, {"attributes": tables["attributes"].to_pylist()})
    created = pc.max(tables["organizations"]["created_at"]).as_py()
    return Sample(data, tables, created or AS_OF)


def _top(values: pa.Array | pa.ChunkedArray, n: int, normalize: Any = normalize_text) -> list[str]:
    """The ``n`` most frequent raw values whose normalized form is not unknown."""
    counts: Counter[str] = Counter(v for v in values.to_pylist() if isinstance(v, str))
    picked, seen = [], set()
    for value, _ in counts.most_common():
        norm = normalize(value)
        if norm is not None and norm not in seen:
            picked.append(value)
            seen.add(norm)
        if len(picked) == n:
            break
    return picked


def _elements(column: pa.ChunkedArray) -> pa.Array:
    return pc.list_flatten(column.combine_chunks())


def _text_operands(
    values: Sequence[str], normalize: Any = normalize_text
) -> dict[str, list[object]]:
    operands: dict[str, list[object]] = {"is": list(values[:3]), "contains": [], "in": []}
    for value in values[:3]:
        norm = normalize(value) or ""
        piece = norm[1:4] if len(norm) > 4 else norm
        if normalize(piece):
            operands["contains"].append(piece)
    operands["in"].append(list(values[:2]))
    operands["in"].append([*values[:5], "no-such-value-x1"])
    return operands


def sample_pairs(sample: Sample) -> list[Pair]:
    """Pairs over the sample data's attributes, with operands read from the data."""
    orgs, people = sample.tables["organizations"], sample.tables["people"]
    pairs: list[Pair] = []
    for entity, table, text_attrs, list_attrs in (
        ("organization", orgs, ("name", "primary_email", "organization"), ("tags", "emails")),
        ("person", people, ("job_title", "primary_email"), ("tags", "emails")),
    ):
        for attr in text_attrs:
            values = _top(table[attr], 5)
            if values:
                pairs += text_like_pairs(entity, attr, _text_operands(values))
        phones = _top(table["primary_phone"], 5, normalize_phone)
        if phones:
            pairs += text_like_pairs(
                entity, "primary_phone", _text_operands(phones, normalize_phone)
            )
        for attr in list_attrs:
            values = _top(_elements(table[attr]), 5)
            if values:
                pairs += list_pairs(entity, attr, _text_operands(values))
        list_phones = _top(_elements(table["phones"]), 5, normalize_phone)
        if list_phones:
            pairs += list_pairs(entity, "phones", _text_operands(list_phones, normalize_phone))
        for attr in ("created_at", "updated_at"):
            pairs += sample_temporal_pairs(entity, attr, table[attr])
        pairs += presence_pairs(entity, "name" if entity == "organization" else "job_title")
    values = sample.tables["attribute_values"]
    for row in sample.tables["attributes"].to_pylist():
        entity, key, kind = row["entity"], row["key"], row["type"]
        if any(p.name.startswith(f"custom.{key}:") and p.entity == entity for p in pairs):
            continue  # defined in several properties: one set of pairs is enough
        mask = pc.and_(pc.equal(values["entity"], entity), pc.equal(values["key"], key))
        column = values.filter(mask)[VALUE_COLUMN[kind]]
        attr = f"custom.{key}"
        if kind == "text":
            found = _top(column, 5)
            if found:
                pairs += text_like_pairs(entity, attr, _text_operands(found))
        elif kind == "list":
            found = _top(_elements(column), 5)
            if found:
                pairs += list_pairs(entity, attr, _text_operands(found))
        elif kind == "number":
            numbers = sorted(v for v in column.to_pylist() if v is not None and math.isfinite(v))
            if numbers:
                middle = numbers[len(numbers) // 2]
                pairs += [
                    Pair(f"{attr}:is[{v}]", entity, {attr: {"is": v}}, {attr: {"is_not": v}})
                    for v in {numbers[0], middle, numbers[-1]}
                ]
                groups: list[list[object]] = [
                    [{attr: {"gt": middle}}, {attr: {"lt": numbers[0] + 1}}]
                ]
                pairs += group_pairs(entity, attr, groups) + presence_pairs(entity, attr)
        elif kind == "boolean":
            pairs += boolean_pairs(entity, attr)
        else:
            pairs += sample_temporal_pairs(entity, attr, column)
    return pairs


def sample_temporal_pairs(entity: str, attr: str, column: pa.ChunkedArray) -> list[Pair]:
    instants = sorted(v for v in column.to_pylist() if v is not None)
    if not instants:
        return presence_pairs(entity, attr)
    days = sorted({instants[len(instants) // 2].date(), instants[0].date(), instants[-1].date()})
    pairs = [
        Pair(f"{attr}:is[{d}]", entity, {attr: {"is": d.isoformat()}},
             {attr: {"is_not": d.isoformat()}})
        for d in days
    ]  # fmt: skip
    groups: list[list[object]] = [
        [{attr: {"before": days[0].isoformat()}}, {attr: {"after": days[-1].isoformat()}}],
        [{attr: {"within_last": "30d"}}, {attr: {"more_than_ago": "365d"}}],
        [{attr: {"between": [days[0].isoformat(), days[-1].isoformat()]}}],
    ]
    return [*pairs, *presence_pairs(entity, attr), *group_pairs(entity, attr, groups)]


@pytest.fixture(scope="module")
def sample(tmp_path_factory: pytest.TempPathFactory) -> Sample | str:
    return load_sample(tmp_path_factory.mktemp("sample"))


def _sample_keys(sample: Sample, entity: str) -> set[tuple[str, str]]:
    table = sample.tables["organizations" if entity == "organization" else "people"]
    column = "org_id" if entity == "organization" else "person_id"
    return set(zip(table["property_id"].to_pylist(), table[column].to_pylist(), strict=True))


@pytest.mark.parametrize("tz", ["UTC", "Europe/Paris"])
@pytest.mark.parametrize("entity", ["organization", "person"])
def test_pairs_partition_sample_data(
    engine: str, sample: Sample | str, entity: str, tz: str
) -> None:
    """Every pair over attributes and values of ``data/`` partitions its entities."""
    if isinstance(sample, str):
        pytest.fail(sample)
    pairs = sample_pairs(sample)
    mine = [p for p in pairs if p.entity == entity]
    assert len(mine) >= 40, f"too few pairs built from the sample data: {[p.name for p in mine]}"
    got = by_segment(sample.data.run_texts(engine, segment_texts(pairs, entity), sample.as_of, tz))
    keys = _sample_keys(sample, entity)
    assert keys, f"no {entity} in the sample data"
    failures = []
    for index, pair in enumerate(pairs):
        if pair.entity != entity:
            continue
        try:
            assert_partition(
                got,
                pairs,
                index,
                keys,
                functools.partial(_describe_sample, sample, pair),
                f"[{engine}, {tz}] {pair.name}",
            )
        except pytest.fail.Exception as error:
            failures.append(str(error))
    assert not failures, f"{len(failures)} of {len(mine)} pairs do not partition:\n" + "\n".join(
        failures[:10]
    )
    # The operands come from the data: most `is` segments must find someone.
    hits = [
        p.name
        for i, p in enumerate(pairs)
        if p.entity == entity and ":is[" in p.name and got.get(f"s{i:04d}-pos")
    ]
    assert hits, f"no `is` operand read from the sample data matched any {entity}"

"""Rules within one table (nulls, uniqueness, allowed values, patterns), checked by pandera.

Each table gets a ``pandera.polars`` schema built from the rules below and is validated with
``lazy=True``, so every failure of every rule is collected in one pass. The ``error`` text of
each check is the rule's words; it is how the failure cases map back to :class:`Rule` objects.
Columns that could not be read (see :mod:`pipeline.inputs.reading`) are left out of the schema.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Final

import pandera.polars as pa
import polars as pl

from pipeline.inputs.findings import Finding, Rule
from pipeline.inputs.schema import CUSTOM_TYPES, ENTITIES, EVENT_KINDS

KEY_PATTERN: Final = r"^[a-z][a-z0-9_]*$"

#: Columns that may never be null.
REQUIRED: Final[dict[str, tuple[str, ...]]] = {
    "organizations": ("property_id", "org_id"),
    "people": ("property_id", "person_id"),
    "organization_people": ("property_id", "org_id", "person_id"),
    "attributes": ("property_id", "entity", "key", "type"),
    "attribute_values": ("property_id", "entity", "entity_id", "key"),
    "timeline": ("event_id", "property_id", "kind", "occurred_at"),
}


@dataclass(frozen=True, slots=True)
class _Unique:
    columns: tuple[str, ...]
    rule: Rule


_UNIQUE_HINT: Final = "ids are unique within a property; merge or drop the duplicate rows"

UNIQUE: Final[dict[str, _Unique]] = {
    "organizations": _Unique(
        ("property_id", "org_id"),
        Rule("organizations", "org_id", "duplicate org_id within a property", hint=_UNIQUE_HINT),
    ),
    "people": _Unique(
        ("property_id", "person_id"),
        Rule("people", "person_id", "duplicate person_id within a property", hint=_UNIQUE_HINT),
    ),
    "timeline": _Unique(
        ("property_id", "event_id"),
        Rule("timeline", "event_id", "duplicate event_id within a property", hint=_UNIQUE_HINT),
    ),
    "attributes": _Unique(
        ("property_id", "entity", "key"),
        Rule(
            "attributes",
            "key",
            "duplicate attribute definition (entity, key) within a property",
            hint="define each custom attribute once per property and entity",
            shows=("type",),
        ),
    ),
    "attribute_values": _Unique(
        ("property_id", "entity", "entity_id", "key"),
        Rule(
            "attribute_values",
            "key",
            "duplicate value for one (entity, entity_id, key) within a property",
            hint="keep one row per entity and key; a list attribute holds its items in value_list",
        ),
    ),
}


@dataclass(frozen=True, slots=True)
class _ValueCheck:
    column: str
    make: Callable[[str], pa.Check]  # builds the check given its error text
    rule: Rule


def _one_of(values: Sequence[str]) -> str:
    return "use one of " + ", ".join(values)


VALUE_CHECKS: Final[dict[str, tuple[_ValueCheck, ...]]] = {
    "attributes": (
        _ValueCheck(
            "entity",
            lambda text: pa.Check.isin(list(ENTITIES), error=text),
            Rule("attributes", "entity", "unknown entity", hint=_one_of(ENTITIES)),
        ),
        _ValueCheck(
            "key",
            lambda text: pa.Check.str_matches(KEY_PATTERN, error=text),
            Rule(
                "attributes",
                "key",
                "key does not match [a-z][a-z0-9_]*",
                hint="use lower-case letters, digits and _, starting with a letter: 'plan_tier'",
            ),
        ),
        _ValueCheck(
            "type",
            lambda text: pa.Check.isin(list(CUSTOM_TYPES), error=text),
            Rule("attributes", "type", "unknown type", hint=_one_of(CUSTOM_TYPES)),
        ),
    ),
    "timeline": (
        _ValueCheck(
            "kind",
            lambda text: pa.Check.isin(list(EVENT_KINDS), error=text),
            Rule("timeline", "kind", "unknown kind", "quarantined", hint=_one_of(EVENT_KINDS)),
        ),
    ),
}

_NOT_NULLABLE: Final = "not_nullable"
_ROW: Final = "__row"


def columns_read(table: str) -> set[str]:
    """The columns of ``table`` that its own rules read."""
    unique = UNIQUE.get(table)
    return {
        *REQUIRED[table],
        *(unique.columns if unique else ()),
        *(v.column for v in VALUE_CHECKS.get(table, ())),
    }


def null_rule(table: str, column: str) -> Rule:
    return Rule(
        table, column, "null in a required column", hint=f"every row needs a value in {column}"
    )


def check_table(table: str, frame: pl.DataFrame) -> list[Finding]:
    """Every breach of the table's own rules, in rule order (nulls, uniqueness, values)."""
    schema, rules = _schema(table, frame.columns)
    try:
        schema.validate(frame, lazy=True)
    except pa.errors.SchemaErrors as exc:
        return _findings(table, exc.failure_cases, rules)
    return []


def _schema(
    table: str, present: Sequence[str]
) -> tuple[pa.DataFrameSchema, dict[tuple[str | None, str], Rule]]:
    required = [c for c in REQUIRED[table] if c in present]
    values = [v for v in VALUE_CHECKS.get(table, ()) if v.column in present]
    rules: dict[tuple[str | None, str], Rule] = {
        (c, _NOT_NULLABLE): null_rule(table, c) for c in required
    }
    columns: dict[str, pa.Column] = {}
    for column in {*required, *(v.column for v in values)}:
        checks = [v.make(v.rule.text) for v in values if v.column == column]
        columns[column] = pa.Column(None, checks, nullable=column not in required)
    for value in values:
        rules[(value.column, value.rule.text)] = value.rule
    frame_checks: list[pa.Check] = []
    unique = UNIQUE.get(table)
    if unique is not None and all(c in present for c in unique.columns):
        frame_checks.append(pa.Check(_distinct(unique.columns), error=unique.rule.text))
        rules[(None, unique.rule.text)] = unique.rule
    return pa.DataFrameSchema(columns, checks=frame_checks), rules


def _distinct(keys: tuple[str, ...]) -> Callable[[pa.PolarsData], pl.LazyFrame]:
    """A frame-wide check: the keys are unique, among the rows where none of them is null.

    Rows with a null key are reported by the null rule and are not also called duplicates.
    """

    def check(data: pa.PolarsData) -> pl.LazyFrame:
        keyed = data.lazyframe.select(*keys).collect()
        duplicated = duplicated_rows(keyed, keys).cast(pl.Int64).implode()
        return data.lazyframe.select(~pl.int_range(pl.len(), dtype=pl.Int64).is_in(duplicated))

    return check


def duplicated_rows(
    frame: pl.DataFrame, keys: Sequence[str], row_hash: pl.Expr | None = None
) -> pl.Series:
    """The positions of the rows whose keys (none null) equal another row's.

    Grouping by the key texts costs seconds and gigabytes over millions of rows
    (attribute_values has four keys): a 64-bit hash per row, sorted, finds the few candidate
    rows first, and only those are compared exactly, so a hash collision is no duplicate.
    Rows with a null key get no hash rather than being copied out first (18M values: 1.2 GB
    less). ``row_hash`` replaces the hash (tests force collisions with it).
    """
    complete = pl.all_horizontal(pl.col(k).is_not_null() for k in keys)
    hashed = pl.struct(keys).hash() if row_hash is None else row_hash
    hashes = frame.select(pl.when(complete).then(hashed)).to_series()
    ordered = hashes.drop_nulls().sort()
    repeated = ordered.filter(ordered == ordered.shift(1))
    candidates = frame.select(*keys).with_row_index(_ROW).filter(hashes.is_in(repeated.implode()))
    return candidates.filter(pl.struct(keys).is_duplicated()).get_column(_ROW)


def _findings(
    table: str, cases: pl.DataFrame, rules: dict[tuple[str | None, str], Rule]
) -> list[Finding]:
    parts = cases.filter(pl.col("index").is_not_null()).partition_by(
        "column", "check", as_dict=True, maintain_order=True
    )
    found: dict[Rule, pl.Series] = {}
    for (column, check), part in parts.items():
        rule = rules.get((column, str(check))) or Rule(table, column, f"failed check {check}")
        found[rule] = part.get_column("index").cast(pl.Int64).unique().sort().rename("row")
    order = list(rules.values())
    ranked = sorted(found, key=lambda r: order.index(r) if r in order else len(order))
    return [Finding(rule, found[rule]) for rule in ranked]

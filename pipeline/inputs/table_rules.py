"""Rules within one table: nulls, allowed values and patterns checked by pandera; uniqueness.

Each table gets a ``pandera.polars`` schema built from the row-by-row rules below (nulls,
allowed values, patterns) and is validated with ``lazy=True``, so every failure of every rule
is collected in one pass. The ``error`` text of each check is the rule's words; it is how the
failure cases map back to :class:`Rule` objects. Columns that could not be read (see
:mod:`pipeline.inputs.reading`) are left out of the schema.

A table arrives as a lazy frame (a scan of its canonical copy, or a frame read in memory) and
is validated in batches of :data:`BATCH_ROWS`, so memory stays bounded whatever its size. The
one rule across rows, uniqueness, keeps a 64-bit hash per row instead of the key columns
(:func:`duplicated_rows`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Final

import numpy as np
import pandera.polars as pa
import polars as pl

from pipeline.inputs.findings import Finding, Rule
from pipeline.inputs.schema import CUSTOM_TYPES, ENTITIES, EVENT_KINDS
from pipeline.inputs.text import require_utf8

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

#: Rows per batch of the row-by-row rules: a few hundred MB of key columns at most.
BATCH_ROWS: Final = 4_000_000


def null_rule(table: str, column: str) -> Rule:
    return Rule(
        table, column, "null in a required column", hint=f"every row needs a value in {column}"
    )


def check_table(table: str, source: pl.LazyFrame) -> list[Finding]:
    """Every breach of the table's own rules, in rule order (nulls, values, uniqueness)."""
    present = source.collect_schema().names()
    schema, rules = _schema(table, present)
    # pandera shows the values failing a check as Python text (nulls need no showing)
    shown = [v.column for v in VALUE_CHECKS.get(table, ()) if v.column in present]
    found: dict[Rule, list[pl.Series]] = {}
    if schema.columns:
        height = source.select(pl.len()).collect().item()
        for start in range(0, height, BATCH_ROWS):
            batch = source.select(*schema.columns).slice(start, BATCH_ROWS).collect()
            require_utf8(batch.select(shown))
            try:
                schema.validate(batch, lazy=True)
            except pa.errors.SchemaErrors as exc:
                for rule, rows in _findings(table, exc.failure_cases, rules):
                    found.setdefault(rule, []).append(rows + start)
    unique = UNIQUE.get(table)
    if unique is not None and all(c in present for c in unique.columns):
        rules[(None, unique.rule.text)] = unique.rule
        duplicated = duplicated_rows(source, unique.columns)
        if duplicated.len():
            found[unique.rule] = [duplicated.sort().rename("row")]
    order = list(rules.values())
    ranked = sorted(found, key=lambda r: order.index(r) if r in order else len(order))
    return [Finding(rule, pl.concat(found[rule])) for rule in ranked]


def _schema(
    table: str, present: Sequence[str]
) -> tuple[pa.DataFrameSchema, dict[tuple[str | None, str], Rule]]:
    """The pandera schema of the row-by-row rules, and the rules keyed by (column, check) in
    rule order; the uniqueness rule comes last, added by the caller."""
    required = [c for c in REQUIRED[table] if c in present]
    values = [v for v in VALUE_CHECKS.get(table, ()) if v.column in present]
    rules: dict[tuple[str | None, str], Rule] = {
        (c, _NOT_NULLABLE): null_rule(table, c) for c in required
    }
    columns: dict[str, pa.Column] = {}
    for column in [c for c in present if c in {*required, *(v.column for v in values)}]:
        checks = [v.make(v.rule.text) for v in values if v.column == column]
        columns[column] = pa.Column(None, checks, nullable=column not in required)
    for value in values:
        rules[(value.column, value.rule.text)] = value.rule
    return pa.DataFrameSchema(columns), rules


def duplicated_rows(
    source: pl.LazyFrame, keys: Sequence[str], row_hash: pl.Expr | None = None
) -> pl.Series:
    """The positions of the rows whose keys (none null) equal another row's.

    Grouping by the key texts costs seconds and gigabytes over millions of rows
    (attribute_values has four keys): a 64-bit hash per row (8 bytes; 1.5 GB for 187M values)
    is streamed out of the source and sorted, the rows whose hash repeats are read again, and
    only those are compared exactly, so a hash collision is no duplicate. Rows with a null key
    are left to the null rule. ``row_hash`` replaces the hash (tests force collisions with it).
    """
    complete = pl.all_horizontal(pl.col(k).is_not_null() for k in keys)
    hashed = pl.struct(keys).hash() if row_hash is None else row_hash
    hashes = source.filter(complete).select(hashed).collect(engine="streaming").to_series()
    ordered = hashes.sort(in_place=True).to_numpy()
    repeated = np.unique(ordered[1:][ordered[1:] == ordered[:-1]])
    del hashes, ordered
    if not repeated.size:
        return pl.Series(_ROW, [], pl.Int64)
    candidates = (
        source.select(*keys)
        .with_row_index(_ROW)
        .filter(complete & hashed.is_in(pl.Series(repeated).implode()))
        .collect(engine="streaming")
    )
    return candidates.filter(pl.struct(keys).is_duplicated()).get_column(_ROW).cast(pl.Int64)


def _findings(
    table: str, cases: pl.DataFrame, rules: dict[tuple[str | None, str], Rule]
) -> list[tuple[Rule, pl.Series]]:
    """The rows of a batch breaking each rule, from pandera's failure cases."""
    parts = cases.filter(pl.col("index").is_not_null()).partition_by(
        "column", "check", as_dict=True, maintain_order=True
    )
    found: dict[Rule, pl.Series] = {}
    for (column, check), part in parts.items():
        rule = rules.get((column, str(check))) or Rule(table, column, f"failed check {check}")
        found[rule] = part.get_column("index").cast(pl.Int64).unique().sort().rename("row")
    return list(found.items())

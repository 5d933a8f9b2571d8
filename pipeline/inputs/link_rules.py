"""Rules across tables: rows pointing nowhere are set aside (quarantined), never dropped silently.

Every lookup joins on ``property_id`` as well as the id, so that rows of one property are never
matched with another's, even when their ids are equal. Each rule is a lazy Polars plan giving
the numbers of its rows (an anti-join of only the rows to look up, where it looks ids up),
collected one after the other by the streaming engine, so only the ids looked up are held
whole, not the tables that refer to them (not together by ``collect_all``, which can hang
when one of its queries fails: see docs/architecture.md). Rows with a null
key are left to the null rule of :mod:`pipeline.inputs.table_rules`, which stops the run.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Final

import polars as pl

from pipeline.inputs.findings import Finding, Rule
from pipeline.inputs.schema import CUSTOM_TYPES, ENTITIES, ENTITY_TABLE, VALUE_COLUMN, VALUE_COLUMNS

_ROW: Final = "__row"
_DEFINED_TYPE: Final = "__defined_type"
_SHAPE: Final = "__shape"
_EXPECTED: Final = "__expected_shape"
#: The position in VALUE_COLUMNS of the column each custom type sets.
_EXPECTED_SHAPE: Final = [VALUE_COLUMNS.index(VALUE_COLUMN[kind]) for kind in CUSTOM_TYPES]
_ID_COLUMN: Final = {table: id_column for table, id_column in ENTITY_TABLE.values()}


def _missing(table: str, column: str, target: str) -> Rule:
    return Rule(
        table,
        column,
        f"{column} not found in {target} of the same property",
        "quarantined",
        hint=f"ids are looked up in {target} with the same property_id only",
    )


NO_OWNER: Final = Rule(
    "timeline",
    None,
    "event has neither org_id nor person_id",
    "quarantined",
    hint="an event belongs to its org_id, or else to the organizations of its person_id",
    shows=("kind",),
)
EVENT_ORG: Final = _missing("timeline", "org_id", "organizations")
EVENT_PERSON: Final = Rule(
    "timeline",
    "person_id",
    "person_id not found in people of the same property (and no org_id)",
    "quarantined",
)
LINK_ORG: Final = _missing("organization_people", "org_id", "organizations")
LINK_PERSON: Final = _missing("organization_people", "person_id", "people")
LINK_DUPLICATE: Final = Rule(
    "organization_people", None, "duplicate link (one copy kept)", "quarantined"
)
VALUE_UNDEFINED: Final = Rule(
    "attribute_values",
    "key",
    "attribute not defined for this entity in the same property",
    "quarantined",
    hint="define it in the attributes table of that property, or drop its values",
)
VALUE_ENTITY: Final = {
    entity: _missing("attribute_values", "entity_id", ENTITY_TABLE[entity][0])
    for entity in ENTITIES
}
VALUE_TYPE: Final = {
    kind: Rule(
        "attribute_values",
        VALUE_COLUMN[kind],
        f"value does not match the attribute's type {kind!r}: "
        f"exactly {VALUE_COLUMN[kind]} must be set",
        "quarantined",
        hint="set exactly one value column per row, the one of the attribute's type",
        shows=VALUE_COLUMNS,
    )
    for kind in CUSTOM_TYPES
}


def link_findings(frames: Mapping[str, pl.LazyFrame]) -> list[Finding]:
    """The quarantined rows of every table that refers to another, in rule order per table.

    ``frames`` are the tables as lazy frames: scans of their copies, or frames read whole.
    """
    found: list[Finding] = []
    for needs, check in _CHECKS:
        if all(table in frames and _has(frames[table], cols) for table, cols in needs.items()):
            found.extend(check(frames))
    return found


def _has(frame: pl.LazyFrame, columns: Sequence[str]) -> bool:
    present = frame.collect_schema().names()
    return all(c in present for c in columns)


def _ids(frames: Mapping[str, pl.LazyFrame], table: str) -> pl.LazyFrame:
    """The ``property_id`` and id of every row of ``organizations`` or ``people``."""
    id_column = _ID_COLUMN[table]
    return frames[table].select("property_id", id_column).drop_nulls()


def _unmatched(
    rows: pl.LazyFrame, column: str, frames: Mapping[str, pl.LazyFrame], table: str
) -> pl.LazyFrame:
    """The rows of ``rows`` whose ``column`` is no id of ``table`` in their property.

    ``rows`` must have no null key (nulls match nothing). An anti-join of only the rows to
    look up, on two keys: 18M attribute values cost 1.1 s instead of 2.0 s for a left join
    of all rows with a found flag.
    """
    return rows.join(
        _ids(frames, table),
        left_on=["property_id", column],
        right_on=["property_id", _ID_COLUMN[table]],
        how="anti",
    )


def _collected(checks: Sequence[tuple[Rule, pl.LazyFrame]]) -> list[Finding]:
    """Collect the row numbers of every rule's rows, a rule at a time (not ``collect_all``:
    see its note in docs/architecture.md); a finding per rule with rows."""
    results = [rows.select(_ROW).collect(engine="streaming") for _, rows in checks]
    return [
        Finding(rule, result.get_column(_ROW).cast(pl.Int64).sort().rename("row"))
        for (rule, _), result in zip(checks, results, strict=True)
        if result.height
    ]


def _numbered(frames: Mapping[str, pl.LazyFrame], table: str) -> pl.LazyFrame:
    return frames[table].with_row_index(_ROW)


def _timeline(frames: Mapping[str, pl.LazyFrame]) -> list[Finding]:
    events = _numbered(frames, "timeline")
    keyed = pl.col("property_id").is_not_null()
    org, person = pl.col("org_id"), pl.col("person_id")
    return _collected(
        [
            (NO_OWNER, events.filter(keyed & org.is_null() & person.is_null())),
            (
                EVENT_ORG,
                _unmatched(
                    events.filter(keyed & org.is_not_null()), "org_id", frames, "organizations"
                ),
            ),
            (
                EVENT_PERSON,
                _unmatched(
                    events.filter(keyed & org.is_null() & person.is_not_null()),
                    "person_id",
                    frames,
                    "people",
                ),
            ),
        ]
    )


def _links(frames: Mapping[str, pl.LazyFrame]) -> list[Finding]:
    columns = ["property_id", "org_id", "person_id"]
    links = _numbered(frames, "organization_people").filter(
        pl.all_horizontal(*(pl.col(c).is_not_null() for c in columns))
    )
    return _collected(
        [
            (LINK_ORG, _unmatched(links, "org_id", frames, "organizations")),
            (LINK_PERSON, _unmatched(links, "person_id", frames, "people")),
            # in input order: the first copy is kept
            (LINK_DUPLICATE, links.filter(~pl.struct(columns).is_first_distinct())),
        ]
    )


def _values(frames: Mapping[str, pl.LazyFrame]) -> list[Finding]:
    """The value rules, reading narrow columns: each row's (property, entity, key) gets the
    code of its defined type and is compared with the code of the one value column it sets;
    only the rows where they disagree (or nothing is defined) are kept, for seven rules."""
    combo = ["property_id", "entity", "key"]
    definitions = (
        frames["attributes"]
        .select(*combo, "type")
        .drop_nulls()
        .unique(subset=combo, keep="first")
        .select(
            *combo,
            # unknown types get -1: defined (not "undefined"), but no type rule applies
            pl.col("type")
            .replace_strict(CUSTOM_TYPES, range(len(CUSTOM_TYPES)), default=-1)
            .cast(pl.Int8)
            .alias(_DEFINED_TYPE),
            # the value column the type sets (null for an unknown type)
            pl.col("type")
            .replace_strict(CUSTOM_TYPES, _EXPECTED_SHAPE, default=None, return_dtype=pl.Int8)
            .alias(_EXPECTED),
        )
    )
    keys = ["property_id", "entity", "entity_id", "key"]
    values = _numbered(frames, "attribute_values").filter(
        pl.all_horizontal(*(pl.col(c).is_not_null() for c in keys))
    )
    # Which value column a row sets, if exactly one (-1 otherwise).
    is_set = [pl.col(c).is_not_null() for c in VALUE_COLUMNS]
    one = pl.sum_horizontal(*(s.cast(pl.Int8) for s in is_set)) == 1
    which = pl.coalesce(*(pl.when(s).then(pl.lit(i, pl.Int8)) for i, s in enumerate(is_set)))
    typed = (
        values.select(_ROW, *combo, pl.when(one).then(which).otherwise(-1).alias(_SHAPE))
        .join(definitions, combo, "left")
        .filter(pl.col(_DEFINED_TYPE).is_null() | (pl.col(_SHAPE) != pl.col(_EXPECTED)))
        .select(_ROW, _DEFINED_TYPE, _SHAPE)
        .collect(engine="streaming")  # the few rows breaking a rule; read by seven rules
        .lazy()
    )
    defined = definitions.select(combo)
    return _collected(
        [
            (VALUE_UNDEFINED, typed.filter(pl.col(_DEFINED_TYPE).is_null())),
            *(
                (
                    VALUE_ENTITY[entity],
                    # the few rows pointing nowhere, then those of them that are defined
                    _unmatched(
                        values.filter(pl.col("entity") == entity), "entity_id", frames, table
                    ).join(defined, combo, "semi"),
                )
                for entity, (table, _) in ENTITY_TABLE.items()
            ),
            *(
                (
                    rule,
                    typed.filter(
                        (pl.col(_DEFINED_TYPE) == CUSTOM_TYPES.index(kind))
                        & (pl.col(_SHAPE) != VALUE_COLUMNS.index(VALUE_COLUMN[kind]))
                    ),
                )
                for kind, rule in VALUE_TYPE.items()
            ),
        ]
    )


_Check = Callable[[Mapping[str, pl.LazyFrame]], list[Finding]]
_ID = ("property_id", "org_id")
_PERSON = ("property_id", "person_id")

#: Each check with the tables and columns it needs; a check whose inputs are broken is skipped
#: (the broken input is an error already).
_CHECKS: Final[tuple[tuple[dict[str, tuple[str, ...]], _Check], ...]] = (
    (
        {
            "timeline": ("property_id", "org_id", "person_id"),
            "organizations": _ID,
            "people": _PERSON,
        },
        _timeline,
    ),
    (
        {
            "organization_people": ("property_id", "org_id", "person_id"),
            "organizations": _ID,
            "people": _PERSON,
        },
        _links,
    ),
    (
        {
            "attribute_values": ("property_id", "entity", "entity_id", "key", *VALUE_COLUMNS),
            "attributes": ("property_id", "entity", "key", "type"),
            "organizations": _ID,
            "people": _PERSON,
        },
        _values,
    ),
)

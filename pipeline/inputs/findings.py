"""Rules, the rows that break them, and how both are shown to people.

Every check of the input layer yields :class:`Finding` objects: a :class:`Rule` (table,
column, words, severity, hint) and the positions of the breaking rows in the table's frame.
Turning findings into :class:`DataIssue` reports or quarantine rows happens here, once, so
that every rule reads the same: a count, and up to three example rows such as
``{property_id: 'site-fr', org_id: 'o17'}``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Final, Literal

import polars as pl
import pyarrow as pa

from pipeline.errors import DataIssue
from pipeline.inputs.text import require_utf8

Severity = Literal["error", "quarantined"]

#: The columns that identify a row of each table; every example shows them.
KEY_COLUMNS: Final[dict[str, tuple[str, ...]]] = {
    "organizations": ("property_id", "org_id"),
    "people": ("property_id", "person_id"),
    "organization_people": ("property_id", "org_id", "person_id"),
    "attributes": ("property_id", "entity", "key"),
    "attribute_values": ("property_id", "entity", "entity_id", "key"),
    "timeline": ("property_id", "event_id"),
}

QUARANTINE_SCHEMA: Final = pa.schema(
    [
        pa.field("table", pa.string(), nullable=False),
        pa.field("rule", pa.string(), nullable=False),
        pa.field("column", pa.string()),
        pa.field("row", pa.string(), nullable=False),
    ]
)

MAX_EXAMPLES: Final = 3
_MAX_TEXT: Final = 60

#: The instants Python can hold, in microseconds since 1970: the years 1 to 9999. Parquet,
#: DuckDB and Polars hold far more (about 290,000 years either way).
_PYTHON_MICROS: Final = (-62_135_596_800_000_000, 253_402_300_799_999_999)


@dataclass(frozen=True, slots=True)
class Rule:
    """One input rule. ``shows`` names more columns for the examples, shown when not null."""

    table: str
    column: str | None
    text: str
    severity: Severity = "error"
    hint: str | None = None
    shows: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Finding:
    """The rows of one table that break one rule, as ascending positions in its frame."""

    rule: Rule
    rows: pl.Series


def to_issue(finding: Finding, frame: pl.DataFrame) -> DataIssue:
    """The report of a finding, with the first rows (distinct once rendered) as examples."""
    rule = finding.rule
    return DataIssue(
        table=rule.table,
        column=rule.column,
        rule=rule.text,
        count=finding.rows.len(),
        examples=examples(
            frame,
            finding.rows,
            _example_columns(rule),
            optional=[c for c in rule.shows if c != rule.column],
        ),
        severity=rule.severity,
        hint=rule.hint,
    )


def examples(
    frame: pl.DataFrame, rows: pl.Series, columns: Sequence[str], *, optional: Sequence[str] = ()
) -> tuple[str, ...]:
    """Up to three distinct renderings of the given rows; ``optional`` columns skip nulls."""
    present = [c for c in columns if c in frame.columns]
    # Duplicates render alike, so look a little further than three rows for distinct ones.
    sample = frame.select(present)[rows.head(MAX_EXAMPLES * 4)]
    require_utf8(sample)
    rendered: list[str] = []
    for row in _showable(sample).to_dicts():
        text = render_row({k: v for k, v in row.items() if v is not None or k not in optional})
        if text not in rendered:
            rendered.append(text)
    return tuple(rendered[:MAX_EXAMPLES])


def render_row(row: Mapping[str, object]) -> str:
    """A compact rendering of a row.

    >>> render_row({"property_id": "site-fr", "org_id": "o17", "author": None})
    "{property_id: 'site-fr', org_id: 'o17', author: null}"
    """
    return "{" + ", ".join(f"{k}: {render_value(v)}" for k, v in row.items()) + "}"


def render_value(value: object) -> str:
    """One value as people read it in an example (long text is shortened)."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dt.datetime | dt.date):
        return repr(value.isoformat())
    if isinstance(value, str):
        short = value if len(value) <= _MAX_TEXT else value[: _MAX_TEXT - 1] + "…"
        return repr(short)
    if isinstance(value, list):
        return "[" + ", ".join(render_value(v) for v in value) + "]"
    return repr(value)


def quarantine_rows(finding: Finding, frame: pl.DataFrame) -> pl.DataFrame:
    """The quarantine table rows of a finding: the whole row as compact JSON."""
    rule = finding.rule
    rows = frame[finding.rows]
    require_utf8(rows)
    return _showable(rows).select(
        pl.lit(rule.table, pl.String).alias("table"),
        pl.lit(rule.text, pl.String).alias("rule"),
        pl.lit(rule.column, pl.String).alias("column"),
        pl.struct(frame.columns).struct.json_encode().alias("row"),
    )


def _showable(frame: pl.DataFrame) -> pl.DataFrame:
    """``frame`` with each timestamp column that holds an instant beyond the years 1 to 9999
    as text: Python cannot hold such an instant, and Polars panics on one beyond the year
    262142. The other instants of the column read as the JSON writes them (ISO 8601), those
    beyond as ``-9000000000000000000 microseconds since 1970-01-01 UTC``.
    """
    texts = []
    for name, dtype in frame.schema.items():
        if not isinstance(dtype, pl.Datetime):
            continue
        micros = pl.col(name).dt.epoch("us")
        inside = micros.is_between(*_PYTHON_MICROS)
        if frame.select(inside.not_().any()).item():
            iso = pl.when(inside).then(pl.col(name)).dt.to_string("%+")
            beyond = pl.format("{} microseconds since 1970-01-01 UTC", micros)
            texts.append(pl.coalesce(iso, beyond).alias(name))
    return frame.with_columns(texts) if texts else frame


def _example_columns(rule: Rule) -> list[str]:
    columns = list(KEY_COLUMNS[rule.table])
    for extra in (rule.column, *rule.shows):
        if extra is not None and extra not in columns:
            columns.append(extra)
    return columns

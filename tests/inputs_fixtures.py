"""A valid minimal input dataset that each input test breaks in one place.

Two properties, ``site-a`` and ``site-b``, that share some ids (``e1``) on purpose: rows of one
property must never be validated against the other's.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from pipeline.inputs.schema import TABLES

Rows = dict[str, list[dict[str, Any]]]

T0 = dt.datetime(2026, 1, 5, 9, 30, tzinfo=dt.UTC)


def valid_rows() -> Rows:
    """Rows of every table; columns left out are null."""
    return {
        "organizations": [
            {"property_id": "site-a", "org_id": "o1", "name": "Acme", "tags": ["enterprise"]},
            {"property_id": "site-a", "org_id": "o2", "name": "Globex", "created_at": T0},
            {"property_id": "site-b", "org_id": "o9", "name": "Initech"},
        ],
        "people": [
            {"property_id": "site-a", "person_id": "p1", "name": "Ann", "job_title": "CTO"},
            {"property_id": "site-b", "person_id": "p9", "name": "Bob"},
        ],
        "organization_people": [
            {"property_id": "site-a", "org_id": "o1", "person_id": "p1"},
            {"property_id": "site-b", "org_id": "o9", "person_id": "p9"},
        ],
        "attributes": [
            {"property_id": "site-a", "entity": "organization", "key": "plan", "label": "Plan"},
            {"property_id": "site-a", "entity": "organization", "key": "arr", "label": "ARR"},
            {"property_id": "site-b", "entity": "organization", "key": "plan", "label": "Tier"},
            {"property_id": "site-a", "entity": "person", "key": "vip", "label": "VIP"},
        ],
        "attribute_values": [
            _value("site-a", "organization", "o1", "plan", value_text="premium"),
            _value("site-a", "organization", "o1", "arr", value_number=50000.0),
            _value("site-b", "organization", "o9", "plan", value_text="basic"),
            _value("site-a", "person", "p1", "vip", value_boolean=True),
        ],
        "timeline": [
            _event("e1", "site-a", org_id="o1", kind="chat", author="ann"),
            _event("e2", "site-a", person_id="p1", kind="note"),
            _event("e1", "site-b", org_id="o9", person_id="p9", kind="call"),
        ],
    }


_TYPES = {"plan": "text", "arr": "number", "vip": "boolean"}


def _value(property_id: str, entity: str, entity_id: str, key: str, **value: Any) -> dict[str, Any]:
    return {
        "property_id": property_id,
        "entity": entity,
        "entity_id": entity_id,
        "key": key,
        **value,
    }


def _event(event_id: str, property_id: str, **fields: Any) -> dict[str, Any]:
    return {"event_id": event_id, "property_id": property_id, "occurred_at": T0, **fields}


def canonical(table: str, rows: list[dict[str, Any]]) -> pa.Table:
    """Rows as a table of the canonical schema; attribute types default from the key."""
    if table == "attributes":
        rows = [{"type": _TYPES.get(str(r.get("key")), "text"), **r} for r in rows]
    return pa.Table.from_pylist(rows, schema=TABLES[table])


def write_dataset(
    data_dir: Path, rows: Rows | None = None, raw: Mapping[str, pa.Table] | None = None
) -> Path:
    """Write every table as ``DATA/<table>.parquet``; ``raw`` tables are written as they are."""
    rows = valid_rows() if rows is None else rows
    raw = raw or {}
    data_dir.mkdir(parents=True, exist_ok=True)
    for table in TABLES:
        arrow = raw[table] if table in raw else canonical(table, rows[table])
        pq.write_table(arrow, data_dir / f"{table}.parquet")
    return data_dir


def replace_column(arrow: pa.Table, name: str, values: pa.Array) -> pa.Table:
    """``arrow`` with column ``name`` replaced (any type), or appended when absent."""
    if name in arrow.column_names:
        return arrow.set_column(arrow.column_names.index(name), name, values)
    return arrow.append_column(name, values)

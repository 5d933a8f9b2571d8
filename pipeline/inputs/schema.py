"""The input tables of SPEC section 2 and their canonical Arrow schemas.

Whatever physical types a customer's Parquet carries (string or large_string, timestamps in
any unit, integer ids), the run reads every table in this canonical form; both engines (and
Spark) therefore see the same types.
"""

from __future__ import annotations

from typing import Final

import pyarrow as pa

UTC_TS: Final = pa.timestamp("us", tz="UTC")
TEXT_LIST: Final = pa.list_(pa.string())

#: Built-in contact attributes shared by organizations and people (SPEC section 2).
CONTACT_COLUMNS: Final[dict[str, pa.DataType]] = {
    "name": pa.string(),
    "primary_email": pa.string(),
    "emails": TEXT_LIST,
    "primary_phone": pa.string(),
    "phones": TEXT_LIST,
    "organization": pa.string(),
    "job_title": pa.string(),
    "tags": TEXT_LIST,
    "facebook_url": pa.string(),
    "linkedin_url": pa.string(),
    "twitter": pa.string(),
    "instagram": pa.string(),
    "created_at": UTC_TS,
    "updated_at": UTC_TS,
}

ENTITIES: Final = ("organization", "person")
EVENT_KINDS: Final = ("note", "chat", "ticket", "call")
CUSTOM_TYPES: Final = ("text", "number", "boolean", "date", "datetime", "list")

#: The value column that holds each custom attribute type.
VALUE_COLUMN: Final[dict[str, str]] = {
    "text": "value_text",
    "number": "value_number",
    "boolean": "value_boolean",
    "date": "value_datetime",
    "datetime": "value_datetime",
    "list": "value_list",
}
VALUE_COLUMNS: Final = (
    "value_text",
    "value_number",
    "value_boolean",
    "value_datetime",
    "value_list",
)

TABLES: Final[dict[str, pa.Schema]] = {
    "organizations": pa.schema(
        [("property_id", pa.string()), ("org_id", pa.string()), *CONTACT_COLUMNS.items()]
    ),
    "people": pa.schema(
        [("property_id", pa.string()), ("person_id", pa.string()), *CONTACT_COLUMNS.items()]
    ),
    "organization_people": pa.schema(
        [("property_id", pa.string()), ("org_id", pa.string()), ("person_id", pa.string())]
    ),
    "attributes": pa.schema(
        [
            ("property_id", pa.string()),
            ("entity", pa.string()),
            ("key", pa.string()),
            ("label", pa.string()),
            ("type", pa.string()),
        ]
    ),
    "attribute_values": pa.schema(
        [
            ("property_id", pa.string()),
            ("entity", pa.string()),
            ("entity_id", pa.string()),
            ("key", pa.string()),
            ("value_text", pa.string()),
            ("value_number", pa.float64()),
            ("value_boolean", pa.bool_()),
            ("value_datetime", UTC_TS),
            ("value_list", TEXT_LIST),
        ]
    ),
    "timeline": pa.schema(
        [
            ("event_id", pa.string()),
            ("property_id", pa.string()),
            ("org_id", pa.string()),
            ("person_id", pa.string()),
            ("kind", pa.string()),
            ("occurred_at", UTC_TS),
            ("author", pa.string()),
        ]
    ),
}

#: The id column of each entity's table.
ENTITY_TABLE: Final = {
    "organization": ("organizations", "org_id"),
    "person": ("people", "person_id"),
}

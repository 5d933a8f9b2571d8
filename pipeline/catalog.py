"""The attribute catalog: what a segment may filter on, and the type of each attribute.

Built-in contact attributes are fixed (SPEC section 2); custom attributes come from the
``attributes`` input table; rollup columns (``rollup.chats_30d``) are derived from the
timeline. The type decides which operators apply and how values are normalized.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import Enum
from typing import Final


class AttrType(Enum):
    """Attribute types as the language sees them (lists know their element kind)."""

    TEXT = "text"
    PHONE = "phone"
    TEXT_LIST = "list"
    PHONE_LIST = "list of phone"
    NUMBER = "number"
    BOOLEAN = "boolean"
    DATE = "date"
    DATETIME = "datetime"

    @property
    def is_list(self) -> bool:
        return self in (AttrType.TEXT_LIST, AttrType.PHONE_LIST)

    @property
    def is_temporal(self) -> bool:
        return self in (AttrType.DATE, AttrType.DATETIME)

    @property
    def is_phone(self) -> bool:
        return self in (AttrType.PHONE, AttrType.PHONE_LIST)


BUILTIN: Final[dict[str, AttrType]] = {
    "name": AttrType.TEXT,
    "primary_email": AttrType.TEXT,
    "emails": AttrType.TEXT_LIST,
    "primary_phone": AttrType.PHONE,
    "phones": AttrType.PHONE_LIST,
    "organization": AttrType.TEXT,
    "job_title": AttrType.TEXT,
    "tags": AttrType.TEXT_LIST,
    "facebook_url": AttrType.TEXT,
    "linkedin_url": AttrType.TEXT,
    "twitter": AttrType.TEXT,
    "instagram": AttrType.TEXT,
    "created_at": AttrType.DATETIME,
    "updated_at": AttrType.DATETIME,
}

#: Custom attribute types of the ``attributes`` table, as language types.
CUSTOM_TYPE: Final[dict[str, AttrType]] = {
    "text": AttrType.TEXT,
    "number": AttrType.NUMBER,
    "boolean": AttrType.BOOLEAN,
    "date": AttrType.DATE,
    "datetime": AttrType.DATETIME,
    "list": AttrType.TEXT_LIST,
}


@dataclass(frozen=True, slots=True)
class CustomAttribute:
    """A custom attribute definition, merged over the properties that define it."""

    entity: str
    key: str
    type: str
    label: str
    properties: frozenset[str]


@dataclass(frozen=True, slots=True)
class Catalog:
    """Every attribute a segment of each entity may use, with its type."""

    custom: Mapping[tuple[str, str], CustomAttribute]
    rollups: Mapping[str, AttrType]

    @classmethod
    def build(
        cls, custom: Iterable[CustomAttribute], rollups: Mapping[str, AttrType] | None = None
    ) -> Catalog:
        return cls({(c.entity, c.key): c for c in custom}, dict(rollups or {}))

    def custom_keys(self, entity: str) -> list[str]:
        return sorted(key for (ent, key) in self.custom if ent == entity)

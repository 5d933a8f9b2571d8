"""Which entities one pass of a flags query computes: restrictions on the entities' keys.

A query restricted by a ``Within`` computes the flags of those entities only, and reads only
their rows and those of the entities linked to them (``sql_query``, ``polars_query``); the
engines run one such pass per range of keys when one query for all would not fit in memory.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

LINKS: Final = "organization_people"


@dataclass(frozen=True, slots=True)
class KeyRange:
    """The entities of ``properties`` (sorted) whose id sorts at or after ``low`` and before
    ``high`` (``None``: no bound; bounds only within one property): consecutive in the order
    the flags are published in.

    Rendered as a plain conjunction (``property_id IN (...) AND id >= low AND id < high``),
    which DuckDB evaluates in the scans of the inputs before reading their other columns.
    """

    properties: tuple[str, ...]
    low: str | None = None
    high: str | None = None

    def __post_init__(self) -> None:
        bounded = self.low is not None or self.high is not None
        if not self.properties or (bounded and len(self.properties) != 1):
            raise ValueError(f"a key range has bounds within one property only: {self!r}")


@dataclass(frozen=True, slots=True)
class LinkedTo:
    """The entities linked (``organization_people``) to an entity that ``parent`` holds:
    ``own`` is the parent's id column in the links, ``other`` this entity's; ``depth``
    numbers the nested levels (1 under a ``KeyRange``)."""

    parent: Within
    own: str
    other: str
    depth: int = 1


Within = KeyRange | LinkedTo


def linked(within: Within | None, own: str, other: str) -> Within | None:
    """The restriction of the entities linked to those ``within`` holds (none without one)."""
    if within is None:
        return None
    depth = within.depth + 1 if isinstance(within, LinkedTo) else 1
    return LinkedTo(within, own, other, depth)

"""What every engine offers the run: evaluate all segments, entity by entity, in one pass each."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Final, Protocol

import pyarrow as pa

from pipeline.language import ir

#: The long-form membership an engine returns (the run adds run_id and as_of).
MEMBERSHIP_SCHEMA: Final = pa.schema(
    [
        ("property_id", pa.string()),
        ("segment_id", pa.string()),
        ("entity", pa.string()),
        ("entity_id", pa.string()),
    ]
)


class Engine(Protocol):
    """Evaluates checked segments over the validated input tables."""

    name: str

    def membership(
        self, segments: Sequence[ir.Segment], custom_types: Mapping[tuple[str, str], str]
    ) -> pa.Table:
        """Members of every segment, sorted by segment, property and entity id."""
        ...

    def plan(
        self, segments: Sequence[ir.Segment], custom_types: Mapping[tuple[str, str], str]
    ) -> str:
        """What the engine would run for ``segments`` (SQL text, or a Polars plan)."""
        ...

    def close(self) -> None: ...


def by_entity(segments: Sequence[ir.Segment]) -> dict[str, list[ir.Segment]]:
    grouped: dict[str, list[ir.Segment]] = {}
    for segment in segments:
        grouped.setdefault(segment.entity, []).append(segment)
    return grouped


def custom_types_for(entity: str, custom_types: Mapping[tuple[str, str], str]) -> dict[str, str]:
    return {key: kind for (ent, key), kind in custom_types.items() if ent == entity}


def sort_membership(table: pa.Table) -> pa.Table:
    """Membership in the canonical order BI reads it: segment, property, entity id."""
    order = [("segment_id", "ascending"), ("property_id", "ascending"), ("entity_id", "ascending")]
    return table.select(MEMBERSHIP_SCHEMA.names).cast(MEMBERSHIP_SCHEMA).sort_by(order)


InputPaths = Mapping[str, Path]

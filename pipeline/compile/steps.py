"""The order in which the entities' flags queries run, and what one hands the next.

A relationship condition (``people: {where: ...}``) counts each organization's linked people
that match its nested filter. Compiled alone, a query computes those filters with a chain of
its own over the other entity (``sql_query._related_cte``): the people are read, normalized,
counted and tested a second time, after the people's own query did the same (at 1M
organizations, ~15 CPU s of the organizations' query). In a run, the other entity's query
computes the nested filters as extra columns next to its segments' flags and runs first; the
later query joins the links to that table instead of building the chain.

When the segments of both entities have nested filters, organizations read the people's
(people outnumber organizations, so theirs is the chain that costs most); the people's
filters over organizations keep their chain.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Final, Generic, TypeVar

from pipeline.language import ir

Source = TypeVar("Source")

#: The prefix of the extra columns: ``w1``, ``w2`` ... (segments are ``s1`` ...).
SHARED_PREFIX: Final = "w"


@dataclass(frozen=True, slots=True)
class Step:
    """One entity's flags query: its segments' flags, then a column per shared filter."""

    entity: ir.Entity
    segments: tuple[ir.Segment, ...]
    #: The nested filters (over this entity) of a later step's relationship conditions, each
    #: computed here too, as the column named here (after the segments' flags).
    shares: Mapping[ir.Condition, str] = field(default_factory=dict)
    #: Whether this query reads the columns an earlier step shares.
    reads: bool = False


@dataclass(frozen=True, slots=True)
class Shared(Generic[Source]):
    """The nested filters an earlier query computed: for every ``entity`` (all of them, one
    row each, keyed ``property_id``, ``entity_id``), ``columns[filter]`` in ``source`` (a
    table name for SQL, a frame for Polars)."""

    entity: ir.Entity
    columns: Mapping[ir.Condition, str]
    source: Source

    def covers(self, other: str, relations: Sequence[ir.Related]) -> bool:
        """Whether the nested filters of ``relations`` (over ``other``) are all here."""
        return other == self.entity and all(
            r.where is None or r.where in self.columns for r in relations
        )


def nested_filters(segments: Sequence[ir.Segment]) -> list[ir.Condition]:
    """The distinct nested filters of the segments' relationship conditions (first level),
    in first-use order."""
    return list(
        dict.fromkeys(
            p.where
            for s in segments
            for p in ir.predicates(ir.scoped(s))
            if isinstance(p, ir.Related) and p.where is not None
        )
    )


def steps(segments: Sequence[ir.Segment]) -> list[Step]:
    """The flags queries of a run, in the order they run: every entity with segments, and an
    entity without any whose query only computes another's nested filters."""
    groups: dict[ir.Entity, list[ir.Segment]] = {}
    for segment in segments:
        groups.setdefault(segment.entity, []).append(segment)
    reader: ir.Entity | None = None
    for entity in ("organization", "person"):
        if nested_filters(groups.get(entity, [])):
            reader = entity
            break
    if reader is None:
        return [Step(entity, tuple(group)) for entity, group in groups.items()]
    sharer: ir.Entity = "person" if reader == "organization" else "organization"
    shares = {f: f"{SHARED_PREFIX}{i}" for i, f in enumerate(nested_filters(groups[reader]), 1)}
    return [
        Step(sharer, tuple(groups.get(sharer, [])), shares),
        Step(reader, tuple(groups[reader]), reads=True),
    ]

"""The checked intermediate representation of segments: a small closed set of frozen nodes.

The checker (``language/check.py``) produces it; the SQL and Polars compilers consume it. By
the time a node exists, every value is already normalized the way the data will be (trimmed,
lower-cased text; digits of phones) and every relative date is resolved to a constant instant
from the run's ``as_of`` and timezone. Compilers therefore never do calendar arithmetic.

Semantics every compiler must honour (SPEC section 3):

- Every leaf is *two-valued*: it is false when the attribute is unknown. Compile each leaf to
  ``coalesce(<predicate>, false)`` (SQL) or ``.fill_null(False)`` (Polars).
- Negative operators are ``Not`` of the positive leaf, so ``is``/``is_not`` partition the
  entities exactly; ``none:`` is ``Not(AnyOf(...))``.
- Attributes are read in their normalized form (see ``compile/normalize.py``): text is trimmed
  and lower-cased (``NULL`` if blank), phones keep digits only (``NULL`` if none), lists keep
  normalized non-blank elements (``NULL`` if none remain), NaN numbers are ``NULL``, a ``date``
  attribute is the UTC calendar date of its stored value.

Nodes compare by structure but not by source position, so equal predicates in different
segments collapse to one column and are evaluated once.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Final, Literal

from pipeline.catalog import AttrType
from pipeline.errors import Location

AttrSource = Literal["builtin", "custom", "rollup"]
TextOp = Literal["is", "in", "contains", "starts_with", "ends_with"]
ListOp = Literal["is", "in", "contains"]
Entity = Literal["organization", "person"]

_NOWHERE = Location("<generated>")


@dataclass(frozen=True, slots=True)
class Attr:
    """An attribute of the segment's entity, as the catalog typed it."""

    source: AttrSource
    name: str
    type: AttrType

    @property
    def dsl_name(self) -> str:
        return self.name if self.source == "builtin" else f"{self.source}.{self.name}"


@dataclass(frozen=True, slots=True)
class PropertyIn:
    """The entity belongs to one of these properties (a segment's ``properties:``)."""

    properties: tuple[str, ...]
    span: Location = field(default=_NOWHERE, compare=False)


@dataclass(frozen=True, slots=True)
class HasValue:
    """``has_any_value``; ``is_unknown`` is ``Not(HasValue)``."""

    attr: Attr
    span: Location = field(default=_NOWHERE, compare=False)


@dataclass(frozen=True, slots=True)
class TextMatch:
    """A text or phone attribute against normalized values (``is`` has one, ``in`` several)."""

    attr: Attr
    op: TextOp
    values: tuple[str, ...]
    span: Location = field(default=_NOWHERE, compare=False)


@dataclass(frozen=True, slots=True)
class ListMatch:
    """Some (non-blank, normalized) element of a list attribute matches ``op`` a value."""

    attr: Attr
    op: ListOp
    values: tuple[str, ...]
    span: Location = field(default=_NOWHERE, compare=False)


@dataclass(frozen=True, slots=True)
class NumberRange:
    """``low <(=) x <(=) high``; ``None`` leaves that side open. ``is: v`` is ``[v, v]``."""

    attr: Attr
    low: float | None
    high: float | None
    low_inclusive: bool = True
    high_inclusive: bool = True
    span: Location = field(default=_NOWHERE, compare=False)


@dataclass(frozen=True, slots=True)
class BoolIs:
    attr: Attr
    value: bool
    span: Location = field(default=_NOWHERE, compare=False)


@dataclass(frozen=True, slots=True)
class TimeRange:
    """A datetime attribute between two UTC instants (resolved from dates and durations)."""

    attr: Attr
    low: dt.datetime | None
    high: dt.datetime | None
    low_inclusive: bool = True
    high_inclusive: bool = True
    span: Location = field(default=_NOWHERE, compare=False)


@dataclass(frozen=True, slots=True)
class DateRange:
    """A date attribute between two calendar days, both inclusive; ``None`` is open."""

    attr: Attr
    low: dt.date | None
    high: dt.date | None
    span: Location = field(default=_NOWHERE, compare=False)


@dataclass(frozen=True, slots=True)
class Count:
    """A condition on a count: ``low <(=) n <(=) high``; ``None`` leaves that side open."""

    low: int | None
    high: int | None
    low_inclusive: bool = True
    high_inclusive: bool = True


AT_LEAST_ONE = Count(1, None)


@dataclass(frozen=True, slots=True)
class Activity:
    """How many timeline events of ``kinds`` the entity has in a window (never after as_of).

    ``low`` is inclusive; ``high`` is at most the run's ``as_of``. An entity without such
    events counts 0, so ``count: {is: 0}`` finds the quiet ones.
    """

    kinds: tuple[str, ...]
    low: dt.datetime | None
    high: dt.datetime
    high_inclusive: bool
    count: Count
    span: Location = field(default=_NOWHERE, compare=False)

    @property
    def window(self) -> tuple[tuple[str, ...], dt.datetime | None, dt.datetime, bool]:
        """What is counted: the kinds and the period. Conditions that differ only in their
        count (``gte: 1`` and ``gte: 3`` on chats in 30 days) share one aggregate."""
        return (self.kinds, self.low, self.high, self.high_inclusive)


@dataclass(frozen=True, slots=True)
class Related:
    """How many distinct linked entities of the other kind match ``where`` (all if None)."""

    relation: Literal["people", "organizations"]
    where: Condition | None
    count: Count
    span: Location = field(default=_NOWHERE, compare=False)

    @property
    def other(self) -> Entity:
        return "person" if self.relation == "people" else "organization"


@dataclass(frozen=True, slots=True)
class InSegment:
    """Membership of another segment of the same entity; ``condition`` is its definition
    (property scope included), resolved by the checker in dependency order."""

    segment_id: str
    condition: Condition
    span: Location = field(default=_NOWHERE, compare=False)


@dataclass(frozen=True, slots=True)
class All:
    items: tuple[Condition, ...]
    span: Location = field(default=_NOWHERE, compare=False)


@dataclass(frozen=True, slots=True)
class AnyOf:
    items: tuple[Condition, ...]
    span: Location = field(default=_NOWHERE, compare=False)


@dataclass(frozen=True, slots=True)
class Not:
    item: Condition
    span: Location = field(default=_NOWHERE, compare=False)


Leaf = HasValue | TextMatch | ListMatch | NumberRange | BoolIs | TimeRange | DateRange
Aggregate = Activity | Related
Predicate = Leaf | Aggregate | PropertyIn
Condition = Predicate | All | AnyOf | Not | InSegment


@dataclass(frozen=True, slots=True)
class Clock:
    """The run's instant and timezone, with the rollup windows resolved from them."""

    as_of: dt.datetime
    timezone: str
    #: ("7d", start), ("30d", start), ("90d", start): ``start <= t <= as_of`` is the window.
    windows: tuple[tuple[str, dt.datetime], ...]


ROLLUP_KINDS: Final = ("note", "chat", "ticket", "call")


def rollup_columns() -> dict[str, AttrType]:
    """The rollup columns (``rollup.<name>``) and their types."""
    columns: dict[str, AttrType] = {}
    for kind in ROLLUP_KINDS:
        for window in ("7d", "30d", "90d", "total"):
            columns[f"{kind}s_{window}"] = AttrType.NUMBER
    columns["first_interaction_at"] = AttrType.DATETIME
    columns["last_interaction_at"] = AttrType.DATETIME
    return columns


@dataclass(frozen=True, slots=True)
class Segment:
    """One checked segment definition."""

    id: str
    name: str
    description: str
    entity: Entity
    properties: tuple[str, ...] | None
    where: Condition
    definition_hash: str
    source: Location
    owner: str | None = None
    tags: tuple[str, ...] = ()
    #: ``meta:`` of the file as JSON text (keys sorted); None when there is none.
    meta: str | None = None


def predicates(condition: Condition) -> list[Predicate]:
    """Every predicate under ``condition`` (references expanded), in order, duplicates kept.

    A ``Related`` predicate is opaque here: its nested filter is about the other entity.
    """
    match condition:
        case All(items) | AnyOf(items):
            return [p for item in items for p in predicates(item)]
        case Not(item):
            return predicates(item)
        case InSegment(condition=inner):
            return predicates(inner)
        case _:
            return [condition]


def references(condition: Condition) -> list[str]:
    """The segments ``condition`` names itself (``in_segment``, ``not_in_segment``, in
    relationship filters too), each once, in order; not those they name in turn."""
    match condition:
        case All(items) | AnyOf(items):
            found = [r for item in items for r in references(item)]
        case Not(item):
            found = references(item)
        case InSegment(segment_id=named):
            found = [named]
        case Related(where=where) if where is not None:
            found = references(where)
        case _:
            found = []
    return list(dict.fromkeys(found))


def leaves(condition: Condition) -> list[Leaf]:
    """The attribute predicates under ``condition``."""
    return [p for p in predicates(condition) if not isinstance(p, Activity | Related | PropertyIn)]


def depth(condition: Condition) -> int:
    """How deeply ``condition`` nests: 1 for a predicate, plus one for each group, negation,
    reference and relationship filter around it."""
    match condition:
        case All(items) | AnyOf(items):
            return 1 + max((depth(item) for item in items), default=0)
        case Not(item):
            return 1 + depth(item)
        case InSegment(condition=inner):
            return 1 + depth(inner)
        case Related(where=where):
            return 1 + (0 if where is None else depth(where))
        case _:
            return 1


def attributes(condition: Condition) -> list[Attr]:
    """The attributes a condition reads, each once, in first-use order."""
    return list(dict.fromkeys(leaf.attr for leaf in leaves(condition)))


def scoped(segment: Segment) -> Condition:
    """A segment's membership as one condition: its property scope and its ``where``."""
    if segment.properties is None:
        return segment.where
    return All((PropertyIn(segment.properties), segment.where))

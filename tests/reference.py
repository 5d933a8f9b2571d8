"""A reference evaluator: SPEC section 3 stated a third time, row by row, in plain Python.

It is written from SPEC.md, not from the compilers, and shares nothing with ``pipeline/``
except the two normalization constants (which characters count as white space, and the two
spots where lower-casing differs between engines). It parses the YAML itself and evaluates each
condition on each entity directly; it is slow on purpose: it must be easy to read against the
SPEC, because the differential tests hold both engines to it.

    >>> tables = {"organizations": [{"property_id": "p", "org_id": "1", "name": " ACME "}]}
    >>> membership(tables, ["id: a\\nwhere: {name: {is: acme}}"], AS_OF, "UTC")
    {('a', 'p', '1')}

Readings of the SPEC where it is silent (kept here so that they are easy to find and change):

- A number written for a text or phone attribute "is taken as its text": the text as written
  in the file (``01000`` is ``"01000"``, ``1.50`` is ``"1.50"``), not the number re-printed.
- A timestamp without an offset is wall-clock time in the run's timezone (like a bare date).
- ``is`` / ``is_not`` with a full timestamp compare with that instant (SPEC: "a full timestamp
  instead of a date compares as that instant").
- When stepping whole days lands on a wall-clock time that a DST change skips or repeats, the
  offset in force before the change is used (Python's ``fold=0``).
- Phone digits are the ASCII digits ``0-9``.
- A timeline ``between`` reads its bounds as the datetime ``between`` operator does (a date is
  its whole day, a timestamp that instant, both ends included), and never reaches past as_of.
- An event counts once for an organization, even when its person is linked to it and it also
  names that organization; rollups count exactly the events a ``timeline:`` condition counts.
- ``in_segment`` inside ``people:`` / ``organizations:`` names a segment of the other entity
  (docs/segments.md), with its ``properties:`` scope.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from ruamel.yaml import YAML
from ruamel.yaml.nodes import MappingNode, ScalarNode, SequenceNode

from pipeline.compile.normalize import CASE_FIXES, NEWER_LOWER_FROM, NEWER_LOWER_TO, WHITESPACE

#: One member: (segment_id, property_id, entity_id).
Member = tuple[str, str, str]

AS_OF = dt.datetime(2026, 11, 20, 12, tzinfo=dt.UTC)  # for the doctest

#: SPEC section 2: the built-in contact attributes and their types.
BUILTIN_TYPES: dict[str, str] = {
    "name": "text",
    "primary_email": "text",
    "emails": "list",
    "primary_phone": "phone",
    "phones": "phone list",
    "organization": "text",
    "job_title": "text",
    "tags": "list",
    "facebook_url": "text",
    "linkedin_url": "text",
    "twitter": "text",
    "instagram": "text",
    "created_at": "datetime",
    "updated_at": "datetime",
}

#: SPEC section 2: which column of ``attribute_values`` holds a value of each custom type.
VALUE_COLUMN = {
    "text": "value_text",
    "number": "value_number",
    "boolean": "value_boolean",
    "date": "value_datetime",
    "datetime": "value_datetime",
    "list": "value_list",
}

ENTITY_TABLE = {"organization": ("organizations", "org_id"), "person": ("people", "person_id")}
NEGATIVE = {"is_not": "is", "not_contains": "contains", "not_in": "in"}
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_DURATION = re.compile(r"(\d+)([dwh])")


# -- YAML: plain Python values, but scalars keep the text they were written as --------------


@dataclass(frozen=True)
class Scalar:
    """A YAML scalar: its resolved type (``str``, ``int``, ``timestamp``...), text and value."""

    kind: str
    text: str
    value: Any


_NEWER_LOWER = str.maketrans(NEWER_LOWER_FROM, NEWER_LOWER_TO)


def load_yaml(text: str) -> Any:
    """Mappings become dicts, sequences lists, scalars ``Scalar``."""
    yaml = YAML(typ="safe", pure=True)
    return _plain(yaml.compose(text), yaml)


def _plain(node: Any, yaml: YAML) -> Any:
    if isinstance(node, MappingNode):
        return {str(_plain(k, yaml).value): _plain(v, yaml) for k, v in node.value}
    if isinstance(node, SequenceNode):
        return [_plain(item, yaml) for item in node.value]
    assert isinstance(node, ScalarNode)
    kind = node.tag.rsplit(":", 1)[-1]
    value = node.value if kind == "timestamp" else yaml.constructor.construct_object(node)
    return Scalar(kind, node.value, value)


# -- values, as SPEC section 3 normalizes them (None means unknown) --------------------------


def text_value(raw: str | None) -> str | None:
    """Trimmed of white space, case ignored; blank is unknown."""
    if raw is None:
        return None
    # Lower case as the newest Unicode tables define it (Python 3.11's are older), the
    # product's one definition of "ignore case" (pipeline/compile/normalize.py).
    text = raw.strip(WHITESPACE).translate(_NEWER_LOWER).lower()
    for old, new in CASE_FIXES:
        text = text.replace(old, new)
    return text or None


def phone_value(raw: str | None) -> str | None:
    """The digits of a phone; a phone with no digit is unknown."""
    if raw is None:
        return None
    return "".join(ch for ch in raw if ch in "0123456789") or None


def list_value(raw: Sequence[str | None] | None, element: Any) -> list[str] | None:
    """The known elements; a list with none (null, empty, only null or blank) is unknown."""
    elements = [element(item) for item in raw or ()]
    known = [item for item in elements if item is not None]
    return known or None


@dataclass(frozen=True)
class Clock:
    """The run's ``as_of`` and timezone: day starts, durations and timestamps as instants."""

    as_of: dt.datetime
    tz: dt.tzinfo

    def day_start(self, day: dt.date) -> dt.datetime:
        """Midnight starting ``day`` in the run's timezone."""
        return dt.datetime.combine(day, dt.time(0), tzinfo=self.tz).astimezone(dt.UTC)

    def step(self, duration: str, sign: int) -> dt.datetime:
        """``as_of`` moved by a duration: days keep the wall-clock time, hours are exact.

        A duration that leaves the calendar (``5000000d``) is valid: it reaches past every
        instant, so the earliest or latest instant stands for it.
        """
        match = _DURATION.fullmatch(duration)
        assert match, duration
        amount, unit = int(match.group(1)), match.group(2)
        try:
            if unit == "h":
                return self.as_of + sign * dt.timedelta(hours=amount)
            days = amount * (7 if unit == "w" else 1)
            wall = self.as_of.astimezone(self.tz).replace(tzinfo=None)
            wall += sign * dt.timedelta(days=days)
            return wall.replace(tzinfo=self.tz).astimezone(dt.UTC)
        except OverflowError:
            return (dt.datetime.min if sign < 0 else dt.datetime.max).replace(tzinfo=dt.UTC)

    def when(self, scalar: Scalar) -> dt.date | dt.datetime:
        """A definition's date (a ``date``) or timestamp (an aware UTC ``datetime``)."""
        text = scalar.text.strip()
        if _DATE.fullmatch(text):
            return dt.date.fromisoformat(text)
        if text.endswith(("Z", "z")):
            text = text[:-1] + "+00:00"
        instant = dt.datetime.fromisoformat(text)
        if instant.tzinfo is None:
            instant = instant.replace(tzinfo=self.tz)
        return instant.astimezone(dt.UTC)

    def start(self, value: dt.date | dt.datetime) -> dt.datetime:
        """The first instant a date or timestamp stands for."""
        if isinstance(value, dt.datetime):
            return value
        return self.day_start(value)


def known_value(kind: str, raw: Any, clock: Clock) -> Any:
    """The normalized value of an attribute of type ``kind``, or None when it is unknown."""
    if kind == "text":
        return text_value(raw)
    if kind == "phone":
        return phone_value(raw)
    if kind == "list":
        return list_value(raw, text_value)
    if kind == "phone list":
        return list_value(raw, phone_value)
    if kind == "number":
        return None if raw is None or math.isnan(raw) else float(raw)
    if kind == "boolean":
        return raw
    if raw is None:
        return None
    instant = raw.astimezone(dt.UTC)
    if kind == "date":
        # A date attribute is the UTC calendar day of its stored value, standing for the
        # instant its midnight starts in the run's timezone.
        return clock.day_start(instant.date())
    assert kind == "datetime", kind
    return instant


# -- operators -------------------------------------------------------------------------------


def compare(kind: str, raw: Any, op: str, arg: Any, clock: Clock) -> bool:
    """One ``attribute: {op: arg}`` condition on one entity's raw attribute value."""
    if op in NEGATIVE:
        return not compare(kind, raw, NEGATIVE[op], arg, clock)
    value = known_value(kind, raw, clock)
    if op == "is_unknown":
        return (value is None) is arg.value
    if op == "has_any_value":
        return (value is not None) is arg.value
    if value is None:
        return False
    if kind in ("text", "phone"):
        return _text(op, value, arg, phone_value if kind == "phone" else text_value)
    if kind in ("list", "phone list"):
        return _list(op, value, arg, phone_value if kind == "phone list" else text_value)
    if kind == "number":
        return _number(op, value, arg)
    if kind == "boolean":
        assert op == "is", op
        return bool(value is arg.value)
    return _temporal(op, value, arg, clock)


def _as_text(arg: Scalar, normalize: Any) -> str:
    # A number (or date) written for a text attribute is taken as the text written.
    value = normalize(arg.value if arg.kind == "str" else arg.text)
    assert value is not None, f"invalid definition value {arg!r}"
    return str(value)


def _text(op: str, value: str, arg: Any, normalize: Any) -> bool:
    if op == "in":
        return value in {_as_text(a, normalize) for a in arg}
    wanted = _as_text(arg, normalize)
    return {
        "is": value == wanted,
        "contains": wanted in value,
        "starts_with": value.startswith(wanted),
        "ends_with": value.endswith(wanted),
    }[op]


def _list(op: str, elements: list[str], arg: Any, normalize: Any) -> bool:
    """Some element ... (null and blank elements are already gone)."""
    if op == "in":
        wanted = {_as_text(a, normalize) for a in arg}
        return any(element in wanted for element in elements)
    one = _as_text(arg, normalize)
    if op == "is":
        return any(element == one for element in elements)
    assert op == "contains", op
    return any(one in element for element in elements)


def _number(op: str, value: float, arg: Any) -> bool:
    if op == "between":
        low, high = (float(a.value) for a in arg)
        return low <= value <= high
    wanted = float(arg.value)
    return {
        "is": value == wanted,
        "gt": value > wanted,
        "gte": value >= wanted,
        "lt": value < wanted,
        "lte": value <= wanted,
    }[op]


def _temporal(op: str, t: dt.datetime, arg: Any, clock: Clock) -> bool:
    """SPEC's exact bounds, with ``t`` the value's instant and ``D`` a date."""
    as_of = clock.as_of
    if op == "within_last":
        return clock.step(arg.value, -1) <= t <= as_of
    if op == "more_than_ago":
        return t < clock.step(arg.value, -1)
    if op == "within_next":
        return as_of <= t <= clock.step(arg.value, +1)
    if op == "between":
        low, high = (clock.when(a) for a in arg)
        return clock.start(low) <= t and _not_after(t, high, clock)
    when = clock.when(arg)
    if op == "is":
        return clock.start(when) <= t and _not_after(t, when, clock)
    if op == "before":
        return t < clock.start(when)
    assert op == "after", op
    if isinstance(when, dt.datetime):
        return t > when
    return t >= clock.day_start(when + dt.timedelta(days=1))


def _not_after(t: dt.datetime, when: dt.date | dt.datetime, clock: Clock) -> bool:
    """``t`` is not after a date (the whole day) or a timestamp (that instant)."""
    if isinstance(when, dt.datetime):
        return t <= when
    return t < clock.day_start(when + dt.timedelta(days=1))


# -- segments --------------------------------------------------------------------------------


KINDS = ("note", "chat", "ticket", "call")
#: SPEC section 5: the rollup columns, (kind, duration or None for all time up to as_of).
ROLLUP_COUNTS = {
    f"{kind}s_{period}": (kind, None if period == "total" else period)
    for kind in KINDS
    for period in ("7d", "30d", "90d", "total")
}


@dataclass
class World:
    """The input tables indexed for reading one entity at a time, and the segments by id."""

    tables: Mapping[str, Any]
    clock: Clock
    documents: Mapping[str, Any]
    custom_types: dict[tuple[str, str, str], str]
    custom_values: dict[tuple[str, str, str, str], Mapping[str, Any]]
    rows: dict[tuple[str, str, str], Mapping[str, Any]]
    links: dict[tuple[str, str, str], set[str]]
    events: list[Mapping[str, Any]]
    cache: dict[str, set[tuple[str, str]]]

    @classmethod
    def build(cls, tables: Mapping[str, Any], clock: Clock, documents: Mapping[str, Any]) -> World:
        world = cls(tables, clock, documents, {}, {}, {}, {}, [], {})
        for row in _rows(tables.get("attributes", [])):
            world.custom_types[(row["property_id"], row["entity"], row["key"])] = row["type"]
        for row in _rows(tables.get("attribute_values", [])):
            key = (row["property_id"], row["entity"], row["entity_id"], row["key"])
            world.custom_values[key] = row
        for kind, (table, id_column) in ENTITY_TABLE.items():
            for row in _rows(tables.get(table, [])):
                world.rows[(kind, row["property_id"], row[id_column])] = row
        for row in _rows(tables.get("organization_people", [])):
            prop, org, person = row["property_id"], row["org_id"], row["person_id"]
            world.links.setdefault(("organization", prop, org), set()).add(person)
            world.links.setdefault(("person", prop, person), set()).add(org)
        # SPEC 3: events after as_of never count, for conditions and rollups alike.
        world.events = [
            row
            for row in _rows(tables.get("timeline", []))
            if row["occurred_at"].astimezone(dt.UTC) <= clock.as_of
        ]
        return world

    def entity(self, kind: str, property_id: str, entity_id: str) -> Entity:
        return Entity(kind, property_id, entity_id, self.rows[(kind, property_id, entity_id)], self)

    def linked(self, entity: Entity) -> list[Entity]:
        """The distinct linked entities of the other kind, in the same property."""
        other = "person" if entity.kind == "organization" else "organization"
        ids = self.links.get((entity.kind, entity.property_id, entity.entity_id), set())
        return [self.entity(other, entity.property_id, i) for i in sorted(ids)]

    def events_of(self, entity: Entity) -> list[tuple[str, dt.datetime]]:
        """(kind, instant) of the entity's events up to as_of (SPEC 2 attribution)."""
        prop, eid = entity.property_id, entity.entity_id
        out = []
        for row in self.events:
            if row["property_id"] != prop:
                continue
            if entity.kind == "person":
                mine = row["person_id"] == eid
            elif row["org_id"] is not None:
                mine = row["org_id"] == eid
            else:
                mine = row["person_id"] in self.links.get(("organization", prop, eid), set())
            if mine:
                out.append((row["kind"], row["occurred_at"].astimezone(dt.UTC)))
        return out

    def rollup(self, entity: Entity, column: str) -> Any:
        events = self.events_of(entity)
        if column in ROLLUP_COUNTS:
            kind, period = ROLLUP_COUNTS[column]
            low = None if period is None else self.clock.step(period, -1)
            return sum(1 for k, t in events if k == kind and (low is None or low <= t))
        instants = [t for _, t in events]
        if not instants:
            return None
        return min(instants) if column == "first_interaction_at" else max(instants)

    def members(self, segment_id: str) -> set[tuple[str, str]]:
        """(property_id, entity_id) members of a segment of the batch, evaluated once."""
        if segment_id not in self.cache:
            doc = self.documents[segment_id]
            kind = doc["entity"].value if "entity" in doc else "organization"
            scope = None if "properties" not in doc else {p.text for p in doc["properties"]}
            found = set()
            for (row_kind, prop, eid), _ in self.rows.items():
                if row_kind != kind or (scope is not None and prop not in scope):
                    continue
                if holds(doc["where"], self.entity(kind, prop, eid), self.clock):
                    found.add((prop, eid))
            self.cache[segment_id] = found
        return self.cache[segment_id]


@dataclass(frozen=True)
class Entity:
    """One organization or person, with what it takes to read any attribute of it."""

    kind: str
    property_id: str
    entity_id: str
    row: Mapping[str, Any]
    world: World

    def attribute(self, name: str) -> tuple[str, Any]:
        """The type and raw value of a built-in, custom (``custom.key``) or rollup attribute."""
        if name.startswith("custom."):
            key = name.removeprefix("custom.")
            kind = self.world.custom_types[(self.property_id, self.kind, key)]
            values = self.world.custom_values.get(
                (self.property_id, self.kind, self.entity_id, key)
            )
            raw = None if values is None else values.get(VALUE_COLUMN[kind])
            return kind, raw
        if name.startswith("rollup."):
            column = name.removeprefix("rollup.")
            kind = "number" if column in ROLLUP_COUNTS else "datetime"
            return kind, self.world.rollup(self, column)
        return BUILTIN_TYPES[name], self.row.get(name)


def _count_holds(count: Any, number: int, clock: Clock) -> bool:
    """A ``count: {op: n}`` (default ``{gte: 1}``) on a whole number, never unknown."""
    ((op, arg),) = count.items() if count is not None else [("gte", Scalar("int", "1", 1))]
    return compare("number", number, op, arg, clock)


def _in_window(t: dt.datetime, body: Mapping[str, Any], clock: Clock) -> bool:
    """SPEC 3: ``within_last`` bounds, ``between`` as the datetime operator; never after as_of."""
    if t > clock.as_of:
        return False
    if "within_last" in body:
        return clock.step(body["within_last"].value, -1) <= t
    if "between" in body:
        low, high = (clock.when(a) for a in body["between"])
        return clock.start(low) <= t and _not_after(t, high, clock)
    return True


def timeline_holds(body: Mapping[str, Any], entity: Entity, clock: Clock) -> bool:
    kinds = body.get("kind")
    if kinds is None:
        wanted = set(KINDS)
    elif isinstance(kinds, list):
        wanted = {k.value for k in kinds}
    else:
        wanted = set(KINDS) if kinds.value == "any" else {kinds.value}
    number = sum(
        1
        for kind, t in entity.world.events_of(entity)
        if kind in wanted and _in_window(t, body, clock)
    )
    return _count_holds(body.get("count"), number, clock)


def holds(condition: Mapping[str, Any], entity: Entity, clock: Clock) -> bool:
    """Whether one condition (a group or an attribute comparison) holds for ``entity``."""
    ((key, body),) = condition.items()
    if key in ("all", "any", "none"):
        results = [holds(item, entity, clock) for item in body]
        return {"all": all(results), "any": any(results), "none": not any(results)}[key]
    if key in ("in_segment", "not_in_segment"):
        member = (entity.property_id, entity.entity_id) in entity.world.members(body.text)
        return member is (key == "in_segment")
    if key == "timeline":
        return timeline_holds(body or {}, entity, clock)
    if key in ("people", "organizations"):
        body = body or {}
        where = body.get("where")
        matching = [
            other
            for other in entity.world.linked(entity)
            if where is None or holds(where, other, clock)
        ]
        return _count_holds(body.get("count"), len(matching), clock)
    ((op, arg),) = body.items()
    kind, raw = entity.attribute(key)
    return compare(kind, raw, op, arg, clock)


def _rows(table: Any) -> list[Mapping[str, Any]]:
    return list(table.to_pylist() if hasattr(table, "to_pylist") else table)


def membership(
    tables: Mapping[str, Any],
    segments: Sequence[str],
    as_of: dt.datetime,
    timezone: str = "UTC",
) -> set[Member]:
    """Every (segment_id, property_id, entity_id) member of the YAML ``segments``.

    ``tables`` maps input table names to lists of row dicts or pyarrow tables; tables that
    are absent are empty. Each segment text must set its ``id``; ``in_segment`` and
    ``not_in_segment`` name segments of the same batch.
    """
    clock = Clock(as_of.astimezone(dt.UTC), ZoneInfo(timezone))
    documents = {}
    for text in segments:
        doc = load_yaml(text)
        documents[doc["id"].text] = doc
    world = World.build(tables, clock, documents)
    return {
        (segment_id, prop, eid)
        for segment_id in documents
        for prop, eid in world.members(segment_id)
    }


def rollups(
    tables: Mapping[str, Any], as_of: dt.datetime, timezone: str = "UTC"
) -> dict[tuple[str, str], dict[str, Any]]:
    """SPEC 5 ``timeline_rollups``: one row per organization, keyed by (property_id, org_id)."""
    clock = Clock(as_of.astimezone(dt.UTC), ZoneInfo(timezone))
    world = World.build(tables, clock, {})
    out = {}
    for kind, prop, eid in world.rows:
        if kind != "organization":
            continue
        entity = world.entity(kind, prop, eid)
        columns = [*ROLLUP_COUNTS, "first_interaction_at", "last_interaction_at"]
        out[(prop, eid)] = {column: world.rollup(entity, column) for column in columns}
    return out

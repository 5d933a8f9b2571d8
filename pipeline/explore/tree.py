"""A segment's condition as a tree of nodes, each one evaluated by the engine on its own.

``why`` shows every node with its verdict. The verdicts are the engine's: each node becomes
a probe segment (``node-<n>``) evaluated in one ``Engine.flags`` call, so they are the
verdicts of the run (the engines agree with each other and with the reference evaluator).
A relationship condition's filter is a tree of its own, about the other entity.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass, replace
from typing import Final, assert_never

from pipeline.language import ir


@dataclass(frozen=True, slots=True)
class Node:
    """One condition of the tree: its words, the entity it is about, its children (for a
    relationship condition, ``nested`` is the tree of its filter, about the other entity)."""

    number: int
    label: str
    entity: str
    condition: ir.Condition
    children: tuple[Node, ...] = ()
    nested: Node | None = None

    def walk(self) -> Iterator[Node]:
        yield self
        for child in self.children:
            yield from child.walk()
        if self.nested is not None:
            yield from self.nested.walk()


def tree(segment: ir.Segment) -> Node:
    """The nodes of ``segment``'s membership (its property scope included), numbered in
    the order they are shown."""
    counter = iter(range(1, 1 << 30))
    return _node(ir.scoped(segment), segment.entity, counter)


def _node(condition: ir.Condition, entity: str, counter: Iterator[int]) -> Node:
    number = next(counter)
    label = describe(condition)
    match condition:
        case ir.All(items) | ir.AnyOf(items):
            children = tuple(_node(item, entity, counter) for item in items)
            return Node(number, label, entity, condition, children)
        case ir.Not(ir.AnyOf(items)):  # ``none:``: its items are shown under it
            children = tuple(_node(item, entity, counter) for item in items)
            return Node(number, label, entity, condition, children)
        case ir.Not(item) if isinstance(item, ir.All | ir.InSegment | ir.Not):
            return Node(number, label, entity, condition, (_node(item, entity, counter),))
        case ir.InSegment(condition=inner):
            return Node(number, label, entity, condition, (_node(inner, entity, counter),))
        case ir.Related(where=where) if where is not None:
            nested = _node(where, condition.other, counter)
            return Node(number, label, entity, condition, nested=nested)
        case ir.Not(ir.Related(where=where) as related) if where is not None:
            nested = _node(where, related.other, counter)
            return Node(number, label, entity, condition, nested=nested)
        case _:
            return Node(number, label, entity, condition)


def probes(root: Node, template: ir.Segment) -> list[ir.Segment]:
    """A probe segment per node (``node-<n>``), of the node's entity, every property."""
    return [
        replace(
            template,
            id=f"node-{node.number}",
            name=node.label,
            entity="person" if node.entity == "person" else "organization",
            properties=None,
            where=node.condition,
        )
        for node in root.walk()
    ]


#: How a list condition reads: some element of the list matches.
_LIST_WORDS: Final[dict[str, str]] = {
    "is": "include",
    "in": "include one of",
    "contains": "have an element containing",
}


def _values(values: tuple[str, ...]) -> str:
    shown = [repr(v) for v in values[:5]]
    if len(values) > 5:
        shown.append(f"... ({len(values)} values)")
    return ", ".join(shown)


def _bound(value: object) -> str:
    if isinstance(value, dt.datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S UTC")
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _range(
    low: object, high: object, low_inclusive: bool = True, high_inclusive: bool = True
) -> str:
    parts = []
    if low is not None:
        parts.append(f"{'>=' if low_inclusive else '>'} {_bound(low)}")
    if high is not None:
        parts.append(f"{'<=' if high_inclusive else '<'} {_bound(high)}")
    return " and ".join(parts) or "any"


def _count(count: ir.Count) -> str:
    if count.low is not None and count.low == count.high:
        return f"= {count.low}"
    return _range(count.low, count.high, count.low_inclusive, count.high_inclusive)


def describe(condition: ir.Condition) -> str:
    """A short label of one node, in the segment language's words."""
    match condition:
        case ir.All():
            return "all of"
        case ir.AnyOf():
            return "any of"
        case ir.Not(ir.AnyOf()):
            return "none of"
        case ir.Not(item):
            return f"not: {describe(item)}"
        case ir.InSegment(segment_id=named):
            return f"in_segment {named}"
        case ir.PropertyIn(properties=properties):
            return f"property in {', '.join(properties)}"
        case ir.HasValue(attr=attr):
            return f"{attr.dsl_name} has a value"
        case ir.TextMatch(attr=attr, op=op, values=values):
            return f"{attr.dsl_name} {op} {_values(values)}"
        case ir.ListMatch(attr=attr, op=op, values=values):
            return f"{attr.dsl_name} {_LIST_WORDS[op]} {_values(values)}"
        case ir.NumberRange(attr=attr, low=low, high=high) if low is not None and low == high:
            return f"{attr.dsl_name} = {_bound(low)}"
        case ir.NumberRange(attr, low, high, low_inclusive, high_inclusive):
            return f"{attr.dsl_name} {_range(low, high, low_inclusive, high_inclusive)}"
        case ir.BoolIs(attr=attr, value=value):
            return f"{attr.dsl_name} is {str(value).lower()}"
        case ir.TimeRange(attr, low, high, low_inclusive, high_inclusive):
            return f"{attr.dsl_name} {_range(low, high, low_inclusive, high_inclusive)}"
        case ir.DateRange(attr=attr, low=low, high=high):
            return f"{attr.dsl_name} {_range(low, high)}"
        case ir.Activity(kinds=kinds, low=low, high=high, high_inclusive=inclusive, count=count):
            window = _range(low, high, True, inclusive)
            return f"timeline {' or '.join(kinds)} events ({window}): count {_count(count)}"
        case ir.Related(relation=relation, where=where, count=count):
            which = "matching the filter below" if where is not None else "any"
            return f"{relation} ({which}): count {_count(count)}"
        case _:
            assert_never(condition)

"""``segments why``: why one organization or person is, or is not, in a segment.

Every node of the segment's condition is shown with the engine's verdict for the entity
(``tree.probes``), the values it compared (as stored and as compared), the events a timeline
condition counted and the linked entities a relationship condition counted.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field

import pyarrow as pa
import pyarrow.compute as pc

from pipeline.compile.within import KeyRange
from pipeline.engines.base import Flags
from pipeline.errors import RunError
from pipeline.explore.session import Definitions, evaluate
from pipeline.explore.tree import Node, probes, tree
from pipeline.explore.values import Reader, Shown, one
from pipeline.inputs.validate import ValidatedInputs
from pipeline.language import ir

#: How many counted events and linked entities are listed under a node.
LISTED = 10


@dataclass(frozen=True, slots=True)
class Linked:
    """An entity of the other kind linked to the one asked about, and whether it matches
    the relationship condition's filter."""

    entity_id: str
    matches: bool


@dataclass(frozen=True, slots=True)
class Detail:
    """What one node of the tree found for the entity."""

    verdict: bool
    values: Mapping[str, Shown] = field(default_factory=dict)
    count: int | None = None
    events: tuple[tuple[str, dt.datetime], ...] = ()
    linked: tuple[Linked, ...] = ()


@dataclass(frozen=True, slots=True)
class Why:
    segment: ir.Segment
    property_id: str
    entity_id: str
    engine: str
    as_of: dt.datetime
    root: Node
    details: Mapping[int, Detail]

    @property
    def member(self) -> bool:
        return self.details[self.root.number].verdict


def locate(reader: Reader, entity: str, entity_id: str, property_id: str | None) -> str:
    """The property of the entity asked about; a RunError when it is not one entity."""
    found = reader.properties_of(entity, entity_id)
    noun = "organization" if entity == "organization" else "person"
    if property_id is not None:
        if property_id not in found:
            where = f" (it is in {', '.join(found)})" if found else ""
            raise RunError(
                f"no {noun} {entity_id!r} in property {property_id!r}{where}",
                "check the id and --property; ids are matched exactly, case included",
            )
        return property_id
    if not found:
        raise RunError(
            f"no {noun} {entity_id!r} in the inputs",
            "ids are matched exactly, case included; this segment is about "
            f"{'organizations' if entity == 'organization' else 'people'}",
        )
    if len(found) > 1:
        raise RunError(
            f"{noun} id {entity_id!r} is in {len(found)} properties: {', '.join(found)}",
            f"choose one with --property {found[0]}",
        )
    return found[0]


def _verdicts(flags: Flags, property_id: str, ids: set[str]) -> dict[tuple[str, str], bool]:
    """(node id, entity id) -> verdict, for the entities ``ids`` of the property."""
    found: dict[tuple[str, str], bool] = {}
    for segment_ids, table in flags.entities.values():
        keep = pc.and_(
            pc.equal(table.column("property_id"), pa.scalar(property_id)),
            pc.is_in(table.column("entity_id"), pa.array(sorted(ids), pa.string())),
        )
        rows = table.filter(keep).to_pylist()
        for row in rows:
            for position, node_id in enumerate(segment_ids):
                found[(node_id, str(row["entity_id"]))] = bool(
                    row[table.column_names[2 + position]]
                )
    return found


@dataclass(frozen=True, slots=True)
class Probed:
    """A segment's tree with every node evaluated by the engine, for every entity."""

    segment: ir.Segment
    engine: str
    definitions: Definitions
    root: Node
    flags: Flags


def probe(
    definitions: Definitions,
    inputs: ValidatedInputs,
    engine: str,
    segment: ir.Segment,
    memory_limit: str | None = None,
) -> Probed:
    """Every node of ``segment`` evaluated by ``engine`` in one ``flags`` call."""
    root = tree(segment)
    flags = evaluate(engine, inputs, probes(root, segment), definitions, memory_limit)
    return Probed(segment, engine, definitions, root, flags)


def why(probed: Probed, reader: Reader, entity_id: str, property_id: str | None) -> Why:
    """The verdict of every node for one entity, with what it read."""
    segment, definitions = probed.segment, probed.definitions
    property_id = locate(reader, segment.entity, entity_id, property_id)
    nodes = list(probed.root.walk())
    linked: dict[int, list[str]] = {}
    for node in nodes:
        if node.entity == segment.entity and _related(node.condition) is not None:
            linked[node.number] = reader.linked(node.entity, property_id, entity_id)
    others = {i for ids in linked.values() for i in ids}
    verdicts = _verdicts(probed.flags, property_id, {entity_id, *others})
    clock = definitions.clock
    focus = one(property_id, entity_id)
    attrs = ir.attributes(ir.scoped(segment))
    shown = reader.attributes(segment.entity, attrs, definitions.custom_types, clock, focus)
    values = shown.get((property_id, entity_id), {})
    details: dict[int, Detail] = {}
    for node in nodes:
        if node.entity != segment.entity:
            continue  # a relationship filter's nodes: shown per linked entity, below
        verdict = verdicts[(f"node-{node.number}", entity_id)]
        found = linked.get(node.number, [])
        details[node.number] = _detail(node, verdict, values, reader, clock, focus, verdicts, found)
    return Why(
        segment, property_id, entity_id, probed.engine, definitions.as_of, probed.root, details
    )


def _related(condition: ir.Condition) -> ir.Related | None:
    inner = condition.item if isinstance(condition, ir.Not) else condition
    return inner if isinstance(inner, ir.Related) else None


def _detail(
    node: Node,
    verdict: bool,
    values: Mapping[str, Shown],
    reader: Reader,
    clock: ir.Clock,
    focus: KeyRange,
    verdicts: Mapping[tuple[str, str], bool],
    linked: list[str],
) -> Detail:
    predicate = node.condition.item if isinstance(node.condition, ir.Not) else node.condition
    if node.children or isinstance(predicate, ir.All | ir.AnyOf | ir.InSegment):
        return Detail(verdict)
    if isinstance(predicate, ir.Activity):
        count, events = reader.events(node.entity, predicate, clock, focus, LISTED)
        return Detail(verdict, count=count, events=tuple(events))
    if isinstance(predicate, ir.Related):
        if node.nested is None:
            return Detail(verdict, count=len(linked), linked=tuple(Linked(i, True) for i in linked))
        matched = [
            Linked(i, verdicts.get((f"node-{node.nested.number}", i), False)) for i in linked
        ]
        count = sum(1 for m in matched if m.matches)
        return Detail(verdict, count=count, linked=tuple(matched))
    if isinstance(predicate, ir.PropertyIn):
        return Detail(verdict)
    names = {a.dsl_name for a in ir.attributes(predicate)}
    return Detail(verdict, values={n: values[n] for n in sorted(names) if n in values})

"""``segments preview``: a segment's size per property and a sample of its members, as a run
would find them now, publishing nothing."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from itertools import groupby

import pyarrow as pa
import pyarrow.compute as pc

from pipeline.explore.session import Definitions, check_property, evaluate, properties
from pipeline.explore.values import Reader, Shown, span
from pipeline.inputs.validate import ValidatedInputs
from pipeline.language import ir


@dataclass(frozen=True, slots=True)
class Member:
    property_id: str
    entity_id: str
    #: Each attribute the segment reads, as stored and as compared.
    values: Mapping[str, Shown]


@dataclass(frozen=True, slots=True)
class Preview:
    segment: ir.Segment
    engine: str
    as_of: dt.datetime
    #: Members per property the segment covers (zero included), sorted by property.
    sizes: Mapping[str, int]
    sample: Sequence[Member]
    attributes: Sequence[str]

    @property
    def members(self) -> int:
        return sum(self.sizes.values())


def preview(
    definitions: Definitions,
    inputs: ValidatedInputs,
    reader: Reader,
    engine: str,
    segment: ir.Segment,
    property_id: str | None,
    limit: int,
    memory_limit: str | None = None,
) -> Preview:
    """The segment evaluated by ``engine`` as a run would, its first ``limit`` members (in
    the published order: property, then id) with the attributes it reads."""
    known = properties(inputs, segment.entity)
    check_property(property_id, known)
    covered = [
        p
        for p in known
        if (segment.properties is None or p in segment.properties)
        and (property_id is None or p == property_id)
    ]
    flags = evaluate(engine, inputs, [segment], definitions, memory_limit)
    _, table = flags.entities[segment.entity]
    members = table.filter(table.column(2)).select(["property_id", "entity_id"])
    counted = _counts(members)
    sizes = {p: counted.get(p, 0) for p in covered}
    if property_id is not None:
        members = members.filter(pc.equal(members.column("property_id"), pa.scalar(property_id)))
    sample_keys = [
        (str(r["property_id"]), str(r["entity_id"])) for r in members.slice(0, limit).to_pylist()
    ]
    attrs = ir.attributes(ir.scoped(segment))
    sample = _sample(reader, definitions, segment.entity, attrs, sample_keys)
    return Preview(segment, engine, definitions.as_of, sizes, sample, [a.dsl_name for a in attrs])


def _counts(members: pa.Table) -> dict[str, int]:
    """Members per property."""
    counted = members.group_by("property_id").aggregate([("entity_id", "count")])
    return {str(r["property_id"]): int(r["entity_id_count"]) for r in counted.to_pylist()}


def _sample(
    reader: Reader,
    definitions: Definitions,
    entity: str,
    attrs: Sequence[ir.Attr],
    keys: Sequence[tuple[str, str]],
) -> list[Member]:
    found: dict[tuple[str, str], Mapping[str, Shown]] = {}
    for property_id, group in groupby(keys, key=lambda k: k[0]):
        ids = [entity_id for _, entity_id in group]
        within = span(property_id, ids[0], ids[-1])
        found |= reader.attributes(
            entity, attrs, definitions.custom_types, definitions.clock, within
        )
    return [Member(p, i, found.get((p, i), {})) for p, i in keys]

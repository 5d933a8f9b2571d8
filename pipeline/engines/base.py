"""What every engine offers the run: timeline rollups once, then all segments in one pass."""

from __future__ import annotations

import itertools
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Final, Protocol

import pyarrow as pa
import pyarrow.compute as pc

from pipeline.compile.sql_timeline import KeyRange
from pipeline.language import ir
from pipeline.parquet import write_parquet

#: The long-form membership an engine returns (the run adds run_id and as_of).
MEMBERSHIP_SCHEMA: Final = pa.schema(
    [
        ("property_id", pa.string()),
        ("segment_id", pa.string()),
        ("entity", pa.string()),
        ("entity_id", pa.string()),
    ]
)
_COUNTS = [c for c in ir.rollup_columns() if c.endswith(("_7d", "_30d", "_90d", "_total"))]
ROLLUPS_SCHEMA: Final = pa.schema(
    [
        ("property_id", pa.string()),
        ("org_id", pa.string()),
        *((c, pa.int64()) for c in _COUNTS),
        ("first_interaction_at", pa.timestamp("us", tz="UTC")),
        ("last_interaction_at", pa.timestamp("us", tz="UTC")),
    ]
)
DAILY_SCHEMA: Final = pa.schema(
    [
        ("property_id", pa.string()),
        ("org_id", pa.string()),
        ("day", pa.date32()),
        ("kind", pa.string()),
        ("events", pa.int64()),
    ]
)

CustomTypes = Mapping[tuple[str, str], str]
InputPaths = Mapping[str, Path]


class Engine(Protocol):
    """Evaluates checked segments over the validated input tables."""

    name: str

    def timeline(self, clock: ir.Clock, daily: Path, rollups: Path) -> None:
        """``timeline_daily`` and ``timeline_rollups`` written to the Parquet files ``daily``
        and ``rollups``, in their published schemas and orders (written, not returned: 105.7M
        daily rows and ~2 GB of rollups at 10M organizations). Later segments read the
        rollups."""
        ...

    def flags(
        self, segments: Sequence[ir.Segment], custom_types: CustomTypes, clock: ir.Clock
    ) -> Flags:
        """Members of every segment (``Flags.table()``: sorted by segment, property and
        entity id)."""
        ...

    def close(self) -> None: ...


def by_entity(segments: Sequence[ir.Segment]) -> dict[str, list[ir.Segment]]:
    grouped: dict[str, list[ir.Segment]] = {}
    for segment in segments:
        grouped.setdefault(segment.entity, []).append(segment)
    return grouped


#: The published row orders (every key set is unique, so the order is total). Strings sort
#: by their UTF-8 bytes, that is by code point, in DuckDB, Polars and Spark alike; each engine
#: sorts its own results (in parallel) before handing them over.
MEMBERSHIP_ORDER: Final = ("segment_id", "property_id", "entity_id")
ROLLUPS_ORDER: Final = ("property_id", "org_id")
DAILY_ORDER: Final = ("property_id", "org_id", "day", "kind")


_FLAG_KEYS: Final = pa.schema([("property_id", pa.string()), ("entity_id", pa.string())])


@dataclass(frozen=True, slots=True)
class Flags:
    """Every segment's members, as each entity's engine result: the long membership before it
    is cut, ~1.6 GB at 10M organizations and 200 segments where the long table is ~14 GB.

    ``entities`` maps an entity to its segment ids and a table of ``property_id``,
    ``entity_id`` and then one true/false column per segment id, in that order, sorted by
    ``property_id`` and ``entity_id``. Each segment's members are then already in order, and
    the segments are taken in id order: no sort of the membership rows (21.7M rows at 1M
    organizations and 200 segments, ~12 s in DuckDB) and no unpivot.
    """

    entities: Mapping[str, tuple[Sequence[str], pa.Table]]

    @property
    def num_rows(self) -> int:
        """The rows of the long membership."""
        return sum(
            int(pc.sum(table.column(2 + position)).as_py() or 0)
            for segment_ids, table in self.entities.values()
            for position in range(len(segment_ids))
        )

    def parts(self) -> Iterator[pa.Table]:
        """The long membership a segment at a time, in ``MEMBERSHIP_ORDER`` and the published
        schema (a segment with no member is an empty table)."""
        order = sorted(
            (segment_id, entity, position)
            for entity, (segment_ids, _) in self.entities.items()
            for position, segment_id in enumerate(segment_ids)
        )
        # The keys in published types once per entity, not once per membership row.
        keys = {
            entity: table.select(list(_FLAG_KEYS.names)).cast(_FLAG_KEYS)
            for entity, (_, table) in self.entities.items()
        }
        for segment_id, entity, position in order:
            members = keys[entity].filter(self.entities[entity][1].column(2 + position))
            rows = members.num_rows
            yield pa.table(
                [
                    members.column("property_id"),
                    pa.repeat(pa.scalar(segment_id, pa.string()), rows),
                    pa.repeat(pa.scalar(entity, pa.string()), rows),
                    members.column("entity_id"),
                ],
                schema=MEMBERSHIP_SCHEMA,
            )

    def table(self) -> pa.Table:
        """The long membership, in ``MEMBERSHIP_ORDER``."""
        return pa.concat_tables([MEMBERSHIP_SCHEMA.empty_table(), *self.parts()])


#: What the flags query of an entity holds per entity row, estimated: its keys, normalized
#: attributes and the hash tables of its joins (``ENTITY_BYTES``), and each count aggregated
#: per entity, a timeline or a relationship condition, in the aggregate and in the join that
#: brings it back (``COUNT_BYTES``). Measured with DuckDB: at 1M organizations ~590 B per
#: organization and ~26 B per count; at 10M, ~400 B per organization with one count.
ENTITY_BYTES: Final = 600
COUNT_BYTES: Final = 32


def entity_bytes(
    entity: str, conditions: Sequence[ir.Condition], fanout: Mapping[str, float]
) -> float:
    """The estimated bytes that computing ``conditions`` costs per ``entity``: its own row
    and counts, and the rows of the linked entities (``fanout[entity]`` links each) that its
    relationship conditions' nested filters are computed for, with their counts."""
    predicates = dict.fromkeys(p for c in conditions for p in ir.predicates(c))
    counts = [p for p in predicates if isinstance(p, ir.Activity | ir.Related)]
    own = ENTITY_BYTES + COUNT_BYTES * len(counts)
    nested = list(dict.fromkeys(p.where for p in counts if isinstance(p, ir.Related) and p.where))
    if not nested:
        return own
    other = next(p.other for p in counts if isinstance(p, ir.Related) and p.where)
    return own + fanout[entity] * entity_bytes(other, nested, fanout)


def rows_per_pass(
    entity: str,
    segments: Sequence[ir.Segment],
    budget: float,
    rows: Mapping[str, int],
    cap: int | None = None,
) -> int:
    """How many entities one flags query may compute at once for ``budget`` bytes, estimated
    with :func:`entity_bytes` (``rows``: the rows of each entity table and of the links);
    at most ``cap`` (tests), at least one."""
    links = rows["organization_people"]
    fanout = {e: links / max(rows[e], 1) for e in ("organization", "person")}
    per_entity = entity_bytes(entity, [ir.scoped(s) for s in segments], fanout)
    fitting = int(budget / per_entity)
    if cap is not None:
        fitting = min(fitting, cap)
    return max(fitting, 1)


def key_ranges(starts: Mapping[str, Sequence[str]]) -> list[KeyRange | None]:
    """The ranges of entities, in the published order, that begin at each property's
    ``starts`` (sorted ids, the first one of each property left out); ``[None]``, no range,
    for a single property without a start."""
    if len(starts) == 1 and not next(iter(starts.values())):
        return [None]
    ranges: list[KeyRange | None] = []
    for property_id in sorted(starts):
        edges: list[str | None] = [None, *starts[property_id], None]
        ranges.extend(KeyRange(property_id, low, high) for low, high in itertools.pairwise(edges))
    return ranges


def step(rows: int, rows_per_pass: int) -> int:
    """The size of each of the even passes over ``rows`` entities of one property."""
    return -(-rows // -(-rows // rows_per_pass))


def published(table: pa.Table, schema: pa.Schema) -> pa.Table:
    """A table the engine has already put in its published order, in the published schema."""
    return table.select(schema.names).cast(schema)


def write_timeline(
    daily: pa.Table, daily_path: Path, rollups: pa.Table, rollups_path: Path
) -> None:
    """``timeline_daily`` and ``timeline_rollups``, already in their published orders, as the
    Parquet files ``daily_path`` and ``rollups_path``."""
    write_parquet(daily_path, [published(daily, DAILY_SCHEMA)])
    write_parquet(rollups_path, [published(rollups, ROLLUPS_SCHEMA)])

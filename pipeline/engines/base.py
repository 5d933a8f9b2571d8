"""What every engine offers the run: timeline rollups once, then all segments in one pass."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from itertools import pairwise
from pathlib import Path
from typing import Any, Final, Protocol

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from pipeline.compile.steps import Step
from pipeline.compile.within import LINKS, KeyRange
from pipeline.inputs.schema import ENTITY_TABLE
from pipeline.language import ir
from pipeline.outputs import DAILY, MEMBERSHIP, ROLLUPS
from pipeline.parquet import footer_rows, write_parquet

#: The long-form membership an engine returns (the run adds run_id and as_of).
MEMBERSHIP_SCHEMA: Final = pa.schema(
    [f for f in MEMBERSHIP.schema if f.name not in ("run_id", "as_of")]
)

CustomTypes = Mapping[tuple[str, str], str]
InputPaths = Mapping[str, Path]


class Members(Protocol):
    """Every segment's members, as an engine hands them to the run: :class:`Flags` in this
    process, or :class:`WrittenMembers` that a cluster's executors wrote."""

    @property
    def num_rows(self) -> int:
        """The rows of the long membership."""
        ...

    def table(self) -> pa.Table:
        """The long membership, in ``MEMBERSHIP.order``."""
        ...


class Engine(Protocol):
    """Evaluates checked segments over the validated input tables."""

    name: str

    def timeline(self, clock: ir.Clock, daily: Path, rollups: Path) -> None:
        """``timeline_daily`` and ``timeline_rollups`` written at ``daily`` and ``rollups``
        (one Parquet file each, or a folder of parts in name order: see ``Written``), in their
        published schemas and orders (written, not returned: 105.7M daily rows and ~2 GB of
        rollups at 10M organizations). Later segments read the rollups."""
        ...

    def flags(
        self, segments: Sequence[ir.Segment], custom_types: CustomTypes, clock: ir.Clock
    ) -> Members:
        """Members of every segment (``table()``: sorted by segment, property and entity
        id): :class:`Flags` in this process, or :class:`WrittenMembers` that a cluster's
        executors wrote."""
        ...

    def close(self) -> None: ...


def own_flags(step: Step, table: pa.Table) -> tuple[list[str], pa.Table]:
    """A step's segment ids and its flags (``table`` without the shared filters' columns),
    as :class:`Flags` holds them."""
    ids = [s.id for s in step.segments]
    return ids, table.select(list(range(2 + len(ids))))


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

    def parts(self) -> Iterator[tuple[str, pa.Table]]:
        """The long membership a segment at a time, in ``MEMBERSHIP.order``: each segment id
        and its members in the published schema (a segment with no member, an empty table)."""
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
            yield (
                segment_id,
                pa.table(
                    [
                        members.column("property_id"),
                        pa.repeat(pa.scalar(segment_id, pa.string()), rows),
                        pa.repeat(pa.scalar(entity, pa.string()), rows),
                        members.column("entity_id"),
                    ],
                    schema=MEMBERSHIP_SCHEMA,
                ),
            )

    def table(self) -> pa.Table:
        """The long membership, in ``MEMBERSHIP.order``."""
        return pa.concat_tables([MEMBERSHIP_SCHEMA.empty_table(), *(t for _, t in self.parts())])


@dataclass(frozen=True, slots=True)
class WrittenMembers:
    """Every segment's members as a cluster's executors wrote them: the long membership
    (``MEMBERSHIP_SCHEMA``) in ``MEMBERSHIP.order``, as the Parquet parts of ``folder`` in
    name order. The run's history is computed from them on the cluster that wrote them
    (``publish.spark_history``): no member comes back to the driver.
    """

    folder: Path
    #: A temporary folder to remove with this object (when ``folder`` is inside it).
    owned: object = None
    #: The Spark session whose executors wrote the files, and which reads them.
    session: Any = None

    @property
    def files(self) -> list[Path]:
        """The Parquet parts, in name order (which is the rows' order)."""
        return sorted(self.folder.glob("part-*.parquet"))

    @property
    def num_rows(self) -> int:
        """The rows of the long membership, from the parts' footers."""
        return footer_rows(self.files)

    def table(self) -> pa.Table:
        """The whole long membership, read into this process (tests, small data)."""
        parts = [pq.read_table(p, columns=MEMBERSHIP_SCHEMA.names) for p in self.files]
        return pa.concat_tables(
            [MEMBERSHIP_SCHEMA.empty_table(), *(t.cast(MEMBERSHIP_SCHEMA) for t in parts)]
        )


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


def split_properties(per_property: Mapping[str, int], rows_per_pass: int) -> dict[str, int]:
    """The properties with more than ``rows_per_pass`` entities, each with the size of the
    even passes it is cut into."""
    return {
        p: -(-n // -(-n // rows_per_pass)) for p, n in per_property.items() if n > rows_per_pass
    }


def key_ranges(
    per_property: Mapping[str, int], rows_per_pass: int, starts: Mapping[str, Sequence[str]]
) -> list[KeyRange | None]:
    """Ranges of at most ``rows_per_pass`` entities, consecutive in the published order:
    neighbouring properties whole, as many as fit together, and each property of
    :func:`split_properties` cut at its ``starts`` (every step-th id, the first left out).
    ``[None]``, no range, when all fit in one pass. Every entity is in exactly one range.
    """
    if sum(per_property.values()) <= rows_per_pass:
        return [None]
    ranges: list[KeyRange | None] = []
    whole: list[str] = []
    size = 0
    for property_id in sorted(per_property):
        rows = per_property[property_id]
        if whole and (property_id in starts or size + rows > rows_per_pass):
            ranges.append(KeyRange(tuple(whole)))
            whole, size = [], 0
        if property_id in starts:
            edges: list[str | None] = [None, *starts[property_id], None]
            ranges.extend(KeyRange((property_id,), low, high) for low, high in pairwise(edges))
        else:
            whole.append(property_id)
            size += rows
    if whole:
        ranges.append(KeyRange(tuple(whole)))
    return ranges


class KeyPasses(ABC):
    """How a local engine cuts a flags step into passes over ranges of keys when the step
    would not fit in memory: the planning, declared once; an engine supplies three reads of
    its inputs (in its own language) and the memory it plans for."""

    #: The memory the passes plan for (bytes).
    memory_bytes: int
    #: A cap on the entities of a pass (tests); None: as many as fit.
    max_rows_per_pass: int | None

    @abstractmethod
    def _count(self, table: str) -> int:
        """The rows of an input table."""

    @abstractmethod
    def _per_property(self, table: str) -> dict[str, int]:
        """The rows of an input table per ``property_id``."""

    @abstractmethod
    def _every_nth(
        self, table: str, id_column: str, split: Mapping[str, int]
    ) -> list[tuple[str, str]]:
        """For each property of ``split`` (property -> n), every n-th id of ``table`` in id
        order but the first (positions n, 2n, ... counted from 0), as (property, id) pairs
        in (property, id) order."""

    def rows_per_pass(self, entity: str, segments: Sequence[ir.Segment]) -> int:
        """How many entities one flags query computes at once: as many as fit in three
        quarters of :attr:`memory_bytes` (measured with DuckDB at 10M organizations and 200
        segments: a pass of 372k organizations peaked at 1.26 GB of its buffers, half the
        estimate); at most :attr:`max_rows_per_pass`."""
        tables = {e: ENTITY_TABLE[e][0] for e in ("organization", "person")}
        rows = {e: self._count(t) for e, t in tables.items()} | {LINKS: self._count(LINKS)}
        budget = self.memory_bytes * 3 / 4
        return rows_per_pass(entity, segments, budget, rows, self.max_rows_per_pass)

    def _ranges(self, entity: str, rows_per_pass: int) -> list[KeyRange | None]:
        """The entities cut into consecutive ranges of keys of at most ``rows_per_pass``
        entities each, in the published order (see :func:`key_ranges`); ``[None]`` when one
        pass holds them all."""
        table, id_column = ENTITY_TABLE[entity]
        per_property = self._per_property(table)
        split = split_properties(per_property, rows_per_pass)
        starts: dict[str, list[str]] = {p: [] for p in split}
        if split and sum(per_property.values()) > rows_per_pass:
            # Every step-th id of each property cut in passes: each starts a range.
            for property_id, start in self._every_nth(table, id_column, split):
                starts[property_id].append(start)
        return key_ranges(per_property, rows_per_pass, starts)


def expect_every_entity_once(parts: Sequence[pa.Table], entities: int, entity: str) -> None:
    """Checks that the flags of the passes (each sorted by its query, keys unique) hold each
    of the ``entities`` once, the passes one after the other in the published order: a bug,
    not a user's error, if not. Costs a comparison per pass, not a sort."""

    def key(table: pa.Table, row: int) -> tuple[str, str]:
        return table.column("property_id")[row].as_py(), table.column("entity_id")[row].as_py()

    bounds = [(key(p, 0), key(p, p.num_rows - 1)) for p in parts if p.num_rows]
    in_order = all(last < first for (_, last), (first, _) in pairwise(bounds))
    if sum(p.num_rows for p in parts) != entities or not in_order:
        raise AssertionError(f"the passes over {entity} keys are not each {entity} once, in order")


def published(table: pa.Table, schema: pa.Schema) -> pa.Table:
    """A table the engine has already put in its published order, in the published schema."""
    return table.select(schema.names).cast(schema)


def write_timeline(
    daily: pa.Table, daily_path: Path, rollups: pa.Table, rollups_path: Path
) -> None:
    """``timeline_daily`` and ``timeline_rollups``, already in their published orders, as the
    Parquet files ``daily_path`` and ``rollups_path``."""
    write_parquet(daily_path, [published(daily, DAILY.schema)])
    write_parquet(rollups_path, [published(rollups, ROLLUPS.schema)])

"""``segments list``: every segment with what it is about, who owns it, what it depends on,
and its size in the last published run."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import pyarrow.compute as pc

from pipeline.language import ir
from pipeline.outputs import SIZES
from pipeline.publish.snapshot import read_published


@dataclass(frozen=True, slots=True)
class Listed:
    segment_id: str
    name: str
    entity: str
    file: str
    owner: str | None
    tags: tuple[str, ...]
    depends_on: tuple[str, ...]
    #: Members in the last published run; None if that run did not evaluate it.
    members: int | None


@dataclass(frozen=True, slots=True)
class Listing:
    segments: Sequence[Listed]
    #: ``as_of`` of the last published run, None when ``--out`` holds none.
    published_as_of: dt.datetime | None


def last_sizes(out: Path) -> tuple[dt.datetime | None, dict[str, int]]:
    """Each segment's members at the last published run (summed over properties)."""
    sizes = read_published(out, SIZES.name)
    if sizes is None or sizes.num_rows == 0:
        return None, {}
    latest = pc.max(sizes.column("as_of"))
    rows = sizes.filter(pc.equal(sizes.column("as_of"), latest))
    summed = rows.group_by("segment_id").aggregate([("members", "sum")]).to_pylist()
    return latest.as_py(), {str(r["segment_id"]): int(r["members_sum"]) for r in summed}


def listing(segments: Sequence[ir.Segment], out: Path) -> Listing:
    as_of, sizes = last_sizes(out)
    return Listing(
        [
            Listed(
                s.id,
                s.name,
                s.entity,
                s.source.file,
                s.owner,
                s.tags,
                tuple(ir.references(s.where)),
                sizes.get(s.id),
            )
            for s in sorted(segments, key=lambda s: s.id)
        ],
        as_of,
    )

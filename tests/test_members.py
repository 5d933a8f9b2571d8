"""``WrittenMembers``: the long membership a cluster wrote as Parquet parts, read back a batch
at a time and handed to the history a segment at a time, every evaluated segment in order."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from pipeline.engines.base import MEMBERSHIP_SCHEMA, WrittenMembers


def _rows(segment_id: str, count: int, entity: str = "organization") -> list[dict[str, str]]:
    return [
        {"property_id": "p", "segment_id": segment_id, "entity": entity, "entity_id": f"{i:04d}"}
        for i in range(count)
    ]


def _write(folder: Path, parts: list[list[dict[str, str]]], row_group: int) -> None:
    folder.mkdir()
    for number, rows in enumerate(parts):
        table = pa.Table.from_pylist(rows, schema=MEMBERSHIP_SCHEMA)
        pq.write_table(table, folder / f"part-{number:05d}.parquet", row_group_size=row_group)


def test_segments_across_batches_and_parts_come_whole_and_in_order(tmp_path: Path) -> None:
    # "b" spans two row groups and two files; "a0" and "d" have no member.
    rows = _rows("a", 3) + _rows("b", 7) + _rows("c", 2, "person")
    folder = tmp_path / "members"
    _write(folder, [rows[:6], rows[6:]], row_group=4)
    members = WrittenMembers(folder, ["d", "c", "b", "a0", "a"], len(rows))
    parts = list(members.parts())
    assert [segment_id for segment_id, _ in parts] == ["a", "a0", "b", "c", "d"]
    sizes = {segment_id: table.num_rows for segment_id, table in parts}
    assert sizes == {"a": 3, "a0": 0, "b": 7, "c": 2, "d": 0}
    for segment_id, table in parts:
        assert table.schema == MEMBERSHIP_SCHEMA
        assert set(table.column("segment_id").to_pylist()) <= {segment_id}
    b = dict(parts)["b"]
    assert b.column("entity_id").to_pylist() == [f"{i:04d}" for i in range(7)]
    assert members.table().equals(pa.Table.from_pylist(rows, schema=MEMBERSHIP_SCHEMA))


def test_no_member_at_all(tmp_path: Path) -> None:
    folder = tmp_path / "members"
    _write(folder, [[]], row_group=4)
    members = WrittenMembers(folder, ["x", "y"], 0)
    assert [(s, t.num_rows) for s, t in members.parts()] == [("x", 0), ("y", 0)]


def test_members_of_a_segment_not_evaluated_are_refused(tmp_path: Path) -> None:
    folder = tmp_path / "members"
    _write(folder, [_rows("a", 1) + _rows("z", 1)], row_group=4)
    with pytest.raises(ValueError, match="'z', which is not an evaluated segment"):
        list(WrittenMembers(folder, ["a"], 2).parts())

"""``WrittenMembers``: the long membership a cluster wrote as Parquet parts (its history is
diffed on the cluster, see ``test_history``), read back whole only by tests and small runs."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

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


def test_the_parts_in_name_order_are_the_rows_in_order(tmp_path: Path) -> None:
    # "b" spans two row groups and two files.
    rows = _rows("a", 3) + _rows("b", 7) + _rows("c", 2, "person")
    folder = tmp_path / "members"
    _write(folder, [rows[:6], rows[6:]], row_group=4)
    (folder / "_SUCCESS").write_text("")  # what Spark writes beside its parts
    members = WrittenMembers(folder)
    assert [p.name for p in members.files] == ["part-00000.parquet", "part-00001.parquet"]
    assert members.table().equals(pa.Table.from_pylist(rows, schema=MEMBERSHIP_SCHEMA))


def test_no_member_at_all(tmp_path: Path) -> None:
    folder = tmp_path / "members"
    _write(folder, [[]], row_group=4)
    table = WrittenMembers(folder).table()
    assert table.num_rows == 0 and table.schema == MEMBERSHIP_SCHEMA

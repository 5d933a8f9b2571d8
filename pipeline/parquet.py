"""Parquet files as every published table is written: zstd, dictionary-encoded, row groups of
:data:`ROW_GROUP` rows (each with its statistics), fsynced."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Final

import pyarrow as pa
import pyarrow.parquet as pq

ROW_GROUP: Final = 1 << 20


def write_parquet(path: Path, pieces: Sequence[pa.Table | Path]) -> None:
    """``pieces`` (tables, or Parquet files read a row group's worth at a time) in one file,
    fsynced."""
    first = pieces[0]
    schema = first.schema if isinstance(first, pa.Table) else pq.read_schema(first)
    with pq.ParquetWriter(path, schema, compression="zstd", use_dictionary=True) as writer:
        for piece in pieces:
            if isinstance(piece, pa.Table):
                writer.write_table(piece, row_group_size=ROW_GROUP)
                continue
            for batch in pq.ParquetFile(piece).iter_batches(batch_size=ROW_GROUP):
                writer.write_table(pa.Table.from_batches([batch], schema=schema))
    fsync(path)


def fsync(path: Path) -> None:
    with open(path, "rb+") as handle:
        os.fsync(handle.fileno())

"""Parquet files as every published table is written: zstd, dictionary-encoded, row groups of
:data:`ROW_GROUP` rows (each with its statistics), fsynced."""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Sequence
from contextlib import suppress
from pathlib import Path
from types import TracebackType
from typing import Final

import pyarrow as pa
import pyarrow.parquet as pq

ROW_GROUP: Final = 1 << 20


def footer_rows(paths: Iterable[Path]) -> int:
    """The rows of Parquet files, from their footers (one seek per file, no page read)."""
    return sum(int(pq.read_metadata(path).num_rows) for path in paths)


class ParquetSink:
    """One Parquet file written a table at a time, however small or large the tables: every
    row group but the last holds :data:`ROW_GROUP` rows. The file is fsynced when the sink
    closes without an error."""

    def __init__(self, path: Path, schema: pa.Schema) -> None:
        self.path = path
        self.schema = schema
        self._writer = pq.ParquetWriter(path, schema, compression="zstd", use_dictionary=True)
        self._pending: list[pa.Table] = []
        self._rows = 0

    def write(self, table: pa.Table) -> None:
        self._pending.append(table)
        self._rows += table.num_rows
        if self._rows >= ROW_GROUP:
            # Whole row groups now; the rest waits for the next table.
            pending = pa.concat_tables(self._pending)
            whole = self._rows // ROW_GROUP * ROW_GROUP
            self._writer.write_table(pending.slice(0, whole), row_group_size=ROW_GROUP)
            rest = pending.slice(whole)
            self._pending, self._rows = [rest], rest.num_rows

    def _flush(self) -> None:
        if self._rows:
            self._writer.write_table(pa.concat_tables(self._pending), row_group_size=ROW_GROUP)
        self._pending, self._rows = [], 0

    def __enter__(self) -> ParquetSink:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        if kind is not None:
            # The file is abandoned; an error closing it must not hide the one in flight.
            with suppress(Exception):
                self._writer.close()
            return
        try:
            self._flush()
        finally:
            self._writer.close()
        fsync(self.path)


def write_parquet(path: Path, pieces: Sequence[pa.Table | Path]) -> None:
    """``pieces`` (tables, or Parquet files read a row group's worth at a time) in one file,
    fsynced."""
    first = pieces[0]
    schema = first.schema if isinstance(first, pa.Table) else pq.read_schema(first)
    with ParquetSink(path, schema) as sink:
        for piece in pieces:
            if isinstance(piece, pa.Table):
                sink.write(piece)
                continue
            for batch in pq.ParquetFile(piece).iter_batches(batch_size=ROW_GROUP):
                sink.write(pa.Table.from_batches([batch], schema=schema))


def fsync(path: Path) -> None:
    with open(path, "rb+") as handle:
        os.fsync(handle.fileno())


def glob_literal(path: str) -> str:
    """``path`` as a DuckDB glob that matches only itself: ``*``, ``?`` and ``[`` each in a
    character class of its own (an output folder named ``o[1]`` must not read ``o1``).

    >>> glob_literal("/out/o[1]*?")
    '/out/o[[]1][*][?]'
    """
    return re.sub(r"([*?\[])", r"[\1]", path)

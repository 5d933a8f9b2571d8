"""Parquet output: files encoded on a background thread and published atomically."""

from __future__ import annotations

import os
from collections import deque
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Final

import pyarrow as pa
import pyarrow.parquet as pq

from pipeline.inputs.schema import TABLES

#: Rows per Parquet row group; the timeline is also generated in chunks of this size.
ROW_GROUP: Final = 1_000_000


class ParquetSink:
    """Parquet files written on one background thread while the next table is generated.

    Parquet encoding releases the GIL, so the two overlap. Each file is written under a
    temporary name and renamed when complete: a reader never sees half a file.
    """

    def __init__(self, out: Path) -> None:
        self._out = out
        self._pool = ThreadPoolExecutor(max_workers=1)
        self._pending: deque[Future[None]] = deque()
        self._writers: dict[str, pq.ParquetWriter] = {}
        self.rows: dict[str, int] = {}

    def write(self, name: str, table: pa.Table) -> None:
        self.rows[name] = self.rows.get(name, 0) + table.num_rows
        while len(self._pending) > 1:  # at most two tables wait, which bounds memory
            self._pending.popleft().result()
        self._pending.append(self._pool.submit(self._append, name, table))

    def _partial(self, name: str) -> Path:
        return self._out / f".{name}.parquet.partial"

    def _append(self, name: str, table: pa.Table) -> None:
        if name not in self._writers:
            self._writers[name] = pq.ParquetWriter(
                self._partial(name), TABLES[name], compression="zstd"
            )
        self._writers[name].write_table(table, row_group_size=ROW_GROUP)

    def close(self, *, publish: bool) -> None:
        """Finish the files and rename them into place, or (on failure) delete them."""
        try:
            while self._pending:
                self._pending.popleft().result()
        finally:
            self._pool.shutdown(cancel_futures=True)
            for writer in self._writers.values():
                writer.close()
        for name in self._writers:
            if publish:
                os.replace(self._partial(name), self._out / f"{name}.parquet")
            else:
                self._partial(name).unlink(missing_ok=True)

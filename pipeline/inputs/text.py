"""Text that is not UTF-8: found where an engine stops on it, and reported as a data error.

Parquet strings must be UTF-8; pyarrow writes whatever bytes it is given, so a careless export
can hold invalid text. Checking every text column of every run would read all of them (seconds
at 1M organizations), so the run does not: the engines refuse such text when they meet it
(DuckDB, Polars), and only then :func:`invalid_text` reads the run's copies of the inputs, a
text column and a row group at a time, to say which table, column and rows.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Final

import pyarrow as pa
import pyarrow.parquet as pq

from pipeline.errors import DataIssue, InputDataError, RunError

#: Example rows shown per column.
EXAMPLES: Final = 3


def _is_text(kind: pa.DataType) -> bool:
    if pa.types.is_list(kind) or pa.types.is_large_list(kind):
        return _is_text(kind.value_type)
    return bool(pa.types.is_string(kind) or pa.types.is_large_string(kind))


def _invalid_rows(column: pa.ChunkedArray) -> list[int]:
    """The positions of the values (or lists) holding bytes that are not UTF-8. Chunks are
    validated in C++ first; only a chunk that fails is decoded value by value."""
    rows: list[int] = []
    base = 0
    for chunk in column.chunks:
        try:
            chunk.validate(full=True)
        except pa.ArrowInvalid:
            values = chunk.cast(_binary_like(chunk.type)).to_pylist()
            rows.extend(base + i for i, value in enumerate(values) if not _utf8(value))
        base += len(chunk)
    return rows


def _utf8(value: object) -> bool:
    """Whether a value (bytes, a list of them, or null) is UTF-8 throughout."""
    if isinstance(value, list):
        return all(_utf8(item) for item in value)
    if not isinstance(value, bytes):
        return True
    try:
        value.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def invalid_text(inputs: Mapping[str, Path]) -> InputDataError | None:
    """A data error naming every text column of ``inputs`` (table -> Parquet file) with
    values that are not UTF-8: how many rows, and the first few (row number and bytes)."""
    issues = []
    for table, path in inputs.items():
        parquet = pq.ParquetFile(path)
        names = [f.name for f in parquet.schema_arrow if _is_text(f.type)]
        for name in names:
            rows: list[int] = []
            examples: list[str] = []
            start = 0
            for group in range(parquet.num_row_groups):
                column = parquet.read_row_group(group, columns=[name]).column(0)
                for row in _invalid_rows(column):
                    rows.append(start + row)
                    if len(examples) < EXAMPLES:
                        raw = column.cast(_binary_like(column.type))[row].as_py()
                        examples.append(f"row {start + row + 1}: {raw!r}")
                start += column.length()
            if rows:
                issues.append(
                    DataIssue(
                        table,
                        name,
                        "text that is not UTF-8",
                        len(rows),
                        tuple(examples),
                        hint="export the table again with its text encoded as UTF-8",
                    )
                )
    return InputDataError(issues) if issues else None


def not_utf8(inputs: Mapping[str, Path], error: Exception) -> InputDataError | RunError:
    """What to raise when an engine refused text that is not UTF-8 (``InvalidText``): the
    columns and rows at fault, or, if none is found, the engine's own words."""
    return invalid_text(inputs) or RunError(
        f"an input holds text that is not UTF-8: {error}",
        "export the tables again with their text encoded as UTF-8",
    )


def _binary_like(kind: pa.DataType) -> pa.DataType:
    if pa.types.is_list(kind) or pa.types.is_large_list(kind):
        return pa.list_(_binary_like(kind.value_type))
    return pa.binary()

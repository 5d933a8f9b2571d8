"""Text that is not UTF-8: looked for in every text column of the run's inputs, and reported
as a data error naming the table, the column, how many rows and the first few.

Parquet strings must be UTF-8; pyarrow writes whatever bytes it is given, so a careless export
can hold invalid text, and a published table holding it fails every reader (DuckDB: "Invalid
string encoding"). Polars refuses such text as it decodes a column, so the input checks,
which scan the run's copies with Polars, meet it in the columns they read (ids, keys, kinds);
:func:`require_utf8_files` then decodes every other text column of the run's inputs once
(0.7 s at 1M organizations, the two cores busy), so that no engine and no published table
ever meets it. Only when one is found does :func:`invalid_input_text` read the input files,
a text column and a row group at a time, to say which table, column and rows.

The input checks also turn a few values into Python objects (a failing value that pandera
shows, an example row, a quarantined row as JSON), where Polars would panic on such text or
write it into the JSON as it is: :func:`require_utf8` checks those few values first.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from pathlib import Path
from typing import Final

import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq

from pipeline.errors import DataIssue, InputDataError, InvalidText, RunError
from pipeline.inputs.schema import TABLES

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


#: The text columns that the input checks read whole with Polars wherever a table has them:
#: in a copy of a canonical file that they scanned, these are UTF-8 already.
READ_BY_CHECKS: Final = frozenset(
    {"property_id", "org_id", "person_id", "entity_id", "event_id", "entity", "key", "kind", "type"}
)


def require_utf8_files(files: Mapping[str, Path], scanned: Collection[str]) -> None:
    """Raise :class:`InvalidText` if a text column (or an element of a list of text) of the
    canonical ``files`` (table -> Parquet file) holds bytes that are not UTF-8.

    Polars decodes every such column once, a table at a time; the columns of
    :data:`READ_BY_CHECKS` are left out for the tables in ``scanned`` (copies the input
    checks read with Polars, which refuses such text as it decodes it).
    """
    scans = []
    for table, path in files.items():
        columns = [
            field.name
            for field in TABLES[table]
            if _is_text(field.type) and not (table in scanned and field.name in READ_BY_CHECKS)
        ]
        if columns:
            scan = pl.scan_parquet(path, glob=False)
            scans.append(scan.select(pl.col(name).null_count() for name in columns))
    try:
        for scan in scans:  # one at a time: see the note on collect_all in docs/architecture.md
            scan.collect()
    except pl.exceptions.ComputeError as error:
        if "utf-8" not in str(error).lower():
            raise
        raise InvalidText(str(error).splitlines()[0]) from None


def invalid_input_text(
    data_dir: Path, files: Mapping[str, Sequence[Path]]
) -> InputDataError | None:
    """A data error naming every text column of the input files as given (table -> its
    files) with values that are not UTF-8: how many rows, and the first few (row number and
    bytes; with the file of each row for a table of several files)."""
    issues = []
    for table, paths in files.items():
        several = len(paths) > 1
        labels = {p: f"{p.relative_to(data_dir).as_posix()} " if several else "" for p in paths}
        issues.extend(_issues(table, labels))
    return InputDataError(issues) if issues else None


def _issues(table: str, files: Mapping[Path, str]) -> list[DataIssue]:
    """One issue per canonical text column of ``table`` holding values that are not UTF-8
    in any of ``files`` (each mapped to the prefix of its examples)."""
    counts: dict[str, int] = {}
    examples: dict[str, list[str]] = {}
    for path, label in files.items():
        parquet = pq.ParquetFile(path)
        names = [
            f.name
            for f in parquet.schema_arrow
            if _is_text(f.type) and f.name in TABLES[table].names
        ]
        for name in names:
            shown = examples.setdefault(name, [])
            start = 0
            for group in range(parquet.num_row_groups):
                column = parquet.read_row_group(group, columns=[name]).column(0)
                rows = _invalid_rows(column)
                for row in rows[: max(0, EXAMPLES - len(shown))]:
                    raw = column.cast(_binary_like(column.type))[row].as_py()
                    shown.append(f"{label}row {start + row + 1}: {raw!r}")
                counts[name] = counts.get(name, 0) + len(rows)
                start += column.length()
    return [
        DataIssue(
            table,
            name,
            "text that is not UTF-8",
            count,
            tuple(examples[name]),
            hint="export the table again with its text encoded as UTF-8",
        )
        for name, count in counts.items()
        if count
    ]


def require_utf8(frame: pl.DataFrame) -> None:
    """Raise :class:`InvalidText` if a text column of ``frame`` holds bytes that are not
    UTF-8 (Polars reads them as they are, and panics when it makes Python text of them).

    Only the columns and rows about to be shown are checked: a few values, or the column of
    a rule (``timeline.kind``: 0.7 s per 100M rows).
    """
    try:
        frame.to_arrow(compat_level=pl.CompatLevel.newest()).validate(full=True)
    except pa.ArrowInvalid as error:
        raise InvalidText(str(error).splitlines()[0]) from None


def input_not_utf8(
    data_dir: Path, files: Mapping[str, Sequence[Path]], error: Exception
) -> InputDataError | RunError:
    """What to raise when the input checks met text that is not UTF-8 (``InvalidText``): the
    columns and rows at fault, or, if none is found, Polars' own words."""
    return invalid_input_text(data_dir, files) or RunError(
        f"an input holds text that is not UTF-8: {error}",
        "export the tables again with their text encoded as UTF-8",
    )


def _binary_like(kind: pa.DataType) -> pa.DataType:
    if pa.types.is_list(kind) or pa.types.is_large_list(kind):
        return pa.list_(_binary_like(kind.value_type))
    return pa.binary()

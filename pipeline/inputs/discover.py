"""Where each input table lives in a data directory, and a cheap fingerprint of the inputs.

A table ``T`` is either one file ``DATA/T.parquet`` or a directory ``DATA/T/`` of Parquet
files, searched recursively (hive partitions such as ``property_id=site-fr/part-0.parquet``
are fine; ``discover`` only finds the files, :mod:`pipeline.inputs.reading` reads them).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

from pipeline.errors import DataIssue, InputDataError
from pipeline.inputs.schema import TABLES

#: Bytes at the end of a Parquet file: a 4-byte little-endian footer length and the magic.
_TAIL = 8
_MAGIC = b"PAR1"


def find_tables(data_dir: Path) -> dict[str, list[Path]]:
    """The Parquet files of every input table, in a stable order.

    Raises :class:`InputDataError` naming every table that is missing, not just the first.

    >>> find_tables(Path("data"))["timeline"]  # doctest: +SKIP
    [PosixPath('data/timeline/property_id=site-fr/part-0.parquet'), ...]
    """
    found, issues = locate_tables(data_dir, TABLES)
    if issues:
        raise InputDataError(issues)
    return found


def locate_tables(
    data_dir: Path, tables: Iterable[str]
) -> tuple[dict[str, list[Path]], list[DataIssue]]:
    """Like :func:`find_tables` for some tables, returning the problems instead of raising."""
    found: dict[str, list[Path]] = {}
    issues: list[DataIssue] = []
    for table in tables:
        files, issue = _locate(data_dir, table)
        if issue is None:
            found[table] = files
        else:
            issues.append(issue)
    return found, issues


def _locate(data_dir: Path, table: str) -> tuple[list[Path], DataIssue | None]:
    single = data_dir / f"{table}.parquet"
    folder = data_dir / table
    expected = f"expected {single} or {folder}/"
    if single.is_file() and folder.is_dir():
        return [], DataIssue(
            table, None, "table is given twice", 0, hint=f"keep only one of {single} or {folder}/"
        )
    if single.is_file():
        return [single], None
    if folder.is_dir():
        files = sorted(p for p in folder.rglob("*.parquet") if _is_data_file(p, folder))
        if files:
            return files, None
        return [], DataIssue(
            table, None, "table is missing", 0, hint=f"{folder}/ holds no .parquet file; {expected}"
        )
    if not data_dir.is_dir():
        expected += f" (the data directory {data_dir} does not exist)"
    return [], DataIssue(table, None, "table is missing", 0, hint=expected)


def _is_data_file(path: Path, folder: Path) -> bool:
    # Spark and Hadoop leave _SUCCESS, _committed_* and .crc files next to the data.
    parts = path.relative_to(folder).parts
    return path.is_file() and not any(p.startswith(("_", ".")) for p in parts)


def fingerprint(
    data_dir: Path, tables: Mapping[str, Sequence[Path]], copies: Mapping[Path, Path] | None = None
) -> str:
    """A sha256 hex digest over every input file's relative path, size and Parquet footer.

    The footer holds the schema, row counts and column statistics of every row group, so any
    rewrite of the data changes it; reading it costs one seek per file whatever the size.
    ``copies`` maps an input file to the byte-for-byte copy the run read instead: the copy's
    size and footer count, so that the fingerprint describes what the run read.
    """
    digest = hashlib.sha256()
    paths = sorted((p for files in tables.values() for p in files), key=lambda p: _rel(p, data_dir))
    for path in paths:
        read = (copies or {}).get(path, path)
        size = read.stat().st_size
        for part in (_rel(path, data_dir).encode(), str(size).encode(), _footer(read, size)):
            digest.update(len(part).to_bytes(8, "little"))
            digest.update(part)
    return digest.hexdigest()


def _rel(path: Path, data_dir: Path) -> str:
    return path.relative_to(data_dir).as_posix()


def _footer(path: Path, size: int) -> bytes:
    with path.open("rb") as fh:
        if size < 2 * _TAIL:
            return fh.read()
        fh.seek(size - _TAIL)
        tail = fh.read(_TAIL)
        length = int.from_bytes(tail[:4], "little")
        if tail[4:] != _MAGIC or length + _TAIL > size:
            # Not Parquet: reading reports it; the tail still tells versions apart.
            return tail
        fh.seek(size - _TAIL - length)
        return fh.read(length + _TAIL)

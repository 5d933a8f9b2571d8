"""Validate the input tables in one pass and write them, cleaned, in canonical form.

The steps, each collecting every problem instead of stopping at the first:

1. :mod:`~pipeline.inputs.discover` finds each table's files;
2. :mod:`~pipeline.inputs.reading` checks their columns and types and casts them;
3. :mod:`~pipeline.inputs.table_rules` checks each table's own rules with pandera;
4. :mod:`~pipeline.inputs.link_rules` checks the rows that refer to other tables.

Issues of severity ``"error"`` stop the run (:class:`InputDataError` lists all of them). Rows
breaking a ``"quarantined"`` rule are set aside: each lands in the quarantine table once, under
the first rule it breaks, so the issue counts add up to the quarantined rows.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Final

import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq

from pipeline.catalog import CustomAttribute
from pipeline.errors import DataIssue, InputDataError, InvalidText
from pipeline.inputs.discover import fingerprint, locate_tables
from pipeline.inputs.findings import (
    MAX_EXAMPLES,
    QUARANTINE_SCHEMA,
    Finding,
    examples,
    quarantine_rows,
    to_issue,
)
from pipeline.inputs.link_rules import link_findings
from pipeline.inputs.reading import load_copy, load_table, scan_copy, unreadable
from pipeline.inputs.schema import TABLES
from pipeline.inputs.table_rules import check_table
from pipeline.inputs.text import input_not_utf8, require_utf8, require_utf8_files

#: What reading a canonical copy raises when Polars cannot decode its pages.
_UNREADABLE: Final = (pl.exceptions.PolarsError, OSError)

#: Rows per Arrow batch when writing: keeps every string buffer far below 2 GiB.
_BATCH_ROWS: Final = 64 * 1024


@dataclass(frozen=True, slots=True)
class ValidatedInputs:
    """The validated inputs: one canonical Parquet file per table, and what was set aside."""

    tables: dict[str, Path]
    issues: tuple[DataIssue, ...]
    quarantine: pa.Table
    row_counts: dict[str, int]
    fingerprint: str

    @property
    def quarantined_rows(self) -> int:
        return int(self.quarantine.num_rows)


def read_inputs(data_dir: Path, work_dir: Path) -> ValidatedInputs:
    """Validate every table of ``data_dir``; write the cleaned tables to ``work_dir``.

    Raises :class:`InputDataError` with every issue when any is an error.

    >>> inputs = read_inputs(Path("data"), Path("work"))  # doctest: +SKIP
    >>> inputs.tables["timeline"], inputs.row_counts["timeline"]  # doctest: +SKIP
    (PosixPath('work/timeline.parquet'), 1200)
    """
    files, missing = locate_tables(data_dir, TABLES)
    try:
        return _read_inputs(data_dir, work_dir, files, missing)
    except InvalidText as error:  # met where a rule shows a value: say where all such text is
        raise input_not_utf8(data_dir, files, error) from None


def _read_inputs(
    data_dir: Path, work_dir: Path, files: dict[str, list[Path]], missing: list[DataIssue]
) -> ValidatedInputs:
    issues: dict[str, list[DataIssue]] = {table: [] for table in TABLES}
    for issue in missing:
        issues[issue.table].append(issue)

    work_dir.mkdir(parents=True, exist_ok=True)
    # Tables read whole: those that are not canonical copies, and those with findings (their
    # examples and set-aside rows show whole rows). The rules scan the copies in batches.
    frames: dict[str, pl.DataFrame] = {}
    findings: dict[str, list[Finding]] = {table: [] for table in TABLES}
    copies: dict[str, Path] = {}

    def checked_whole(table: str) -> list[Finding]:
        """The table's own findings, read through the casting reader, which says what is
        wrong with the files (a copy Polars cannot read is dropped for them)."""
        copies.pop(table, None)
        loaded = load_table(table, files[table], data_dir)
        issues[table].extend(loaded.issues)
        frames[table] = loaded.frame
        return check_table(table, loaded.frame.lazy())

    for table, paths in files.items():
        copy = None
        if len(paths) == 1:
            copy = _copy(paths[0], TABLES[table], work_dir / f"{table}.parquet")
        found = None
        if copy is not None:
            copies[table] = copy
            try:
                found = check_table(table, scan_copy(copy))
            except _UNREADABLE:  # a readable footer over pages Polars cannot read
                found = None
        findings[table].extend(checked_whole(table) if found is None else found)

    def sources() -> dict[str, pl.LazyFrame]:
        return {
            table: scan_copy(copies[table]) if table in copies else frames[table].lazy()
            for table in files
        }

    try:
        linked = link_findings(sources())
    except _UNREADABLE:  # pages of a copy that only the rules across tables read
        for table in [t for t, copy in copies.items() if load_copy(copy) is None]:
            findings[table] = checked_whole(table)
        linked = link_findings(sources())
    for finding in linked:
        findings[finding.rule.table].append(finding)
    for table, found in list(findings.items()):
        if found and table in copies:
            whole = load_copy(copies[table])
            if whole is None:  # pages of a column no rule reads: the reader names the file
                findings[table] = checked_whole(table)
            else:
                frames[table] = whole

    set_aside: dict[str, list[Finding]] = {}
    masks: dict[str, pl.Series] = {}
    for table, found in findings.items():
        errors = [f for f in found if f.rule.severity == "error"]
        quarantined = [f for f in found if f.rule.severity == "quarantined"]
        height = frames[table].height if table in frames else _rows(copies.get(table))
        set_aside[table], masks[table] = _claim(quarantined, height)
        issues[table].extend(to_issue(f, frames[table]) for f in [*errors, *set_aside[table]])

    every_issue = tuple(issue for table in TABLES for issue in issues[table])
    if any(issue.severity == "error" for issue in every_issue):
        raise InputDataError(every_issue)

    outputs: dict[str, Path] = {}
    counts: dict[str, int] = {}
    scanned: set[str] = set()  # copies published as the input checks scanned them
    for table in files:
        if table in copies and not masks[table].any():
            outputs[table], counts[table] = copies[table], masks[table].len()
            scanned.add(table)
            continue
        kept = frames[table].filter(~masks[table])
        outputs[table] = _write(kept, TABLES[table], work_dir / f"{table}.parquet")
        counts[table] = kept.height
    _require_readable_text(data_dir, files, outputs, scanned)

    quarantine = [quarantine_rows(f, frames[t]) for t in TABLES for f in set_aside[t]]
    return ValidatedInputs(
        tables=outputs,
        issues=every_issue,
        quarantine=_quarantine_table(quarantine),
        row_counts=counts,
        fingerprint=fingerprint(data_dir, files, {files[t][0]: copy for t, copy in copies.items()}),
    )


def _require_readable_text(
    data_dir: Path, files: Mapping[str, list[Path]], outputs: Mapping[str, Path], scanned: set[str]
) -> None:
    """Every text column of ``outputs`` is decoded once (``require_utf8_files``), so that no
    engine and no published table meets text that is not UTF-8. Pages that cannot be decoded
    at all, in a column no check read before, are a data error naming the table's files."""
    try:
        require_utf8_files(outputs, scanned)
    except _UNREADABLE:
        issues: list[DataIssue] = []
        for table, path in outputs.items():
            try:
                require_utf8_files({table: path}, scanned)
            except _UNREADABLE as error:
                found = load_table(table, files[table], data_dir).issues
                label = files[table][0].relative_to(data_dir).as_posix()
                issues.extend(found or [unreadable(table, label, str(error))])
        raise InputDataError(issues) from None


def _claim(findings: Sequence[Finding], height: int) -> tuple[list[Finding], pl.Series]:
    """Give each row to the first finding that holds it; drop findings left with no row.

    Returns the findings and the mask of the rows they set aside.
    """
    claimed = pl.repeat(False, height, dtype=pl.Boolean, eager=True)
    kept: list[Finding] = []
    for finding in findings:
        rows = finding.rows.filter(~claimed.gather(finding.rows))
        if rows.len():
            kept.append(Finding(finding.rule, rows))
            claimed.scatter(rows, True)
    return kept, claimed


def _rows(copy: Path | None) -> int:
    return 0 if copy is None else pq.read_metadata(copy).num_rows


def _stat(path: Path) -> os.stat_result | None:
    try:
        return path.stat()
    except OSError:
        return None  # load_table reports it


def _same(now: os.stat_result, seen: os.stat_result) -> bool:
    """Whether a file is unchanged since ``seen`` (same inode, size and modification time)."""
    return (now.st_size, now.st_mtime_ns, now.st_ino) == (
        seen.st_size,
        seen.st_mtime_ns,
        seen.st_ino,
    )


def _is_canonical(path: Path, schema: pa.Schema) -> bool:
    """Whether the file holds exactly the canonical columns and types (nothing to cast)."""
    try:
        found = pq.read_schema(path)
    except (pa.ArrowException, OSError):
        return False  # load_table reports it
    return bool(found.equals(schema, check_metadata=False))


def _copy(source: Path, schema: pa.Schema, target: Path) -> Path | None:
    """A byte-for-byte copy of ``source`` at ``target`` if it is a canonical file (exactly the
    canonical columns and types); None otherwise, or if it changed while it was copied.

    The run then reads the copy, which nothing else writes: what is validated is what is
    published. Copying is far cheaper than decoding and encoding the file again.
    """
    seen = _stat(source)
    if seen is None or not _is_canonical(source, schema):
        return None
    partial = target.with_name(target.name + ".partial")
    try:
        shutil.copyfile(source, partial)
    except OSError:
        partial.unlink(missing_ok=True)
        return None  # reading the source reports it
    now = _stat(source)
    if now is None or not _same(now, seen):
        partial.unlink()
        return None  # read from the source like any other file
    return partial.replace(target)


def _write(frame: pl.DataFrame, schema: pa.Schema, path: Path) -> Path:
    """Write ``frame`` with exactly ``schema`` (Polars writes large_string; we want string)."""
    arrow = frame.select(schema.names).to_arrow()
    batches = [batch.cast(schema) for batch in arrow.to_batches(max_chunksize=_BATCH_ROWS)]
    partial = path.with_name(path.name + ".partial")
    pq.write_table(pa.Table.from_batches(batches, schema=schema), partial)
    return partial.replace(path)


def _quarantine_table(parts: Sequence[pl.DataFrame]) -> pa.Table:
    if not parts:
        return QUARANTINE_SCHEMA.empty_table()
    arrow = pl.concat(parts).to_arrow()
    return pa.Table.from_arrays(
        [arrow.column(f.name).cast(f.type) for f in QUARANTINE_SCHEMA], schema=QUARANTINE_SCHEMA
    )


def read_custom_attributes(data_dir: Path) -> list[CustomAttribute]:
    """The custom attribute definitions, one per (entity, key), merged over the properties.

    Reads and validates only the ``attributes`` table. Raises :class:`InputDataError` when it
    breaks a rule, or when one (entity, key) has different types in different properties.

    >>> read_custom_attributes(Path("data"))  # doctest: +SKIP
    [CustomAttribute(entity='organization', key='plan', type='text', label='Plan',
                     properties=frozenset({'site-fr', 'site-de'}))]
    """
    files, issues = locate_tables(data_dir, ["attributes"])
    if issues:
        raise InputDataError(issues)
    try:
        return _custom_attributes(data_dir, files["attributes"])
    except InvalidText as error:
        raise input_not_utf8(data_dir, files, error) from None


def _custom_attributes(data_dir: Path, files: list[Path]) -> list[CustomAttribute]:
    loaded = load_table("attributes", files, data_dir)
    frame = loaded.frame
    found = check_table("attributes", frame.lazy())
    issues = [*loaded.issues, *(to_issue(f, frame) for f in found)]
    if any(issue.severity == "error" for issue in issues):
        raise InputDataError(issues)

    merged = (
        frame.group_by("entity", "key")
        .agg(
            pl.col("type").unique().sort().alias("types"),
            pl.col("label").sort_by("property_id").drop_nulls().first().alias("label"),
            pl.col("property_id").unique().sort().alias("properties"),
        )
        .sort("entity", "key")
    )
    conflicts = merged.filter(pl.col("types").list.len() > 1)
    if conflicts.height:
        raise InputDataError([_type_conflict(frame, conflicts)])
    require_utf8(merged)  # the labels become Python text
    return [
        CustomAttribute(entity, key, types[0], label or key, frozenset(properties))
        for entity, key, types, label, properties in merged.iter_rows()
    ]


def _type_conflict(frame: pl.DataFrame, conflicts: pl.DataFrame) -> DataIssue:
    rows = (
        frame.with_row_index("__row")
        .join(conflicts.select("entity", "key"), on=["entity", "key"], how="semi")
        .sort("entity", "key", "type", "property_id")
    )
    # One example per (entity, key, type), so that the examples show the disagreement.
    shown = rows.unique(["entity", "key", "type"], keep="first", maintain_order=True)
    described = [
        f"{entity} {key!r} is " + " or ".join(types)
        for entity, key, types in conflicts.select("entity", "key", "types").iter_rows()
    ]
    return DataIssue(
        "attributes",
        "type",
        "custom attribute has different types in different properties",
        count=rows.height,
        examples=examples(
            frame, shown.get_column("__row"), ["property_id", "entity", "key", "type"]
        ),
        hint="; ".join(described[:MAX_EXAMPLES])
        + ". Segments filter an attribute across properties, so give it one type everywhere,"
        " or use another key where the meaning differs",
    )

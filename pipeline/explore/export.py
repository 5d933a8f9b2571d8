"""``segments export``: a segment's published members with their contact attributes, one
row per member, as a CRM import expects: the built-in attributes and every custom attribute
of the entity as columns, stored values (not normalized).

DuckDB streams the rows from the published membership and the validated inputs to the file
(``COPY``): no member is held in Python.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Final

import pyarrow as pa
import pyarrow.compute as pc
from sqlglot import exp

from pipeline.catalog import Catalog
from pipeline.compile.sql import col, lit
from pipeline.compile.sql_timeline import alias, on_keys
from pipeline.errors import RunError, did_you_mean
from pipeline.explore.values import Reader
from pipeline.inputs.schema import ENTITY_TABLE, TABLES, VALUE_COLUMN
from pipeline.outputs import MEMBERSHIP, SEGMENTS
from pipeline.parquet import glob_literal
from pipeline.publish.snapshot import published_parts, read_published

#: ``--format`` -> DuckDB's COPY format and the file's extension.
EXPORT_FORMATS: Final = {
    "csv": ("csv", "csv"),
    "parquet": ("parquet", "parquet"),
    "jsonl": ("json", "jsonl"),
}


@dataclass(frozen=True, slots=True)
class Exported:
    segment_id: str
    rows: int
    path: Path
    columns: Sequence[str]


def published_segment(out: Path, segment_id: str) -> str:
    """The entity of a segment of the last published run; RunError if it has none."""
    catalog = read_published(out, SEGMENTS.name)
    if catalog is None:
        raise RunError(
            f"no published run in {out}",
            "export reads the members a run published: run `segments run` first, or give --out",
        )
    ids = [str(i) for i in catalog.column("segment_id").to_pylist()]
    if segment_id not in ids:
        raise RunError(
            f"segment {segment_id!r} is not in the run published in {out}",
            did_you_mean(segment_id, ids) or "run `segments run` after adding it",
        )
    row = catalog.filter(pc.equal(catalog.column("segment_id"), segment_id)).to_pylist()[0]
    return str(row["entity"])


def contact_columns(entity: str, catalog: Catalog) -> dict[str, exp.Expr]:
    """Every column of an export: name -> expression over the entity (``e``) and the
    pivoted custom attributes (``c``). A custom key that is also a built-in name is
    ``custom.<key>``."""
    table, _ = ENTITY_TABLE[entity]
    columns: dict[str, exp.Expr] = {"property_id": col("property_id", "e")}
    for name in TABLES[table].names:
        if name != "property_id":
            columns[name] = col(name, "e")
    for key in catalog.custom_keys(entity):
        name = key if key not in columns else f"custom.{key}"
        value: exp.Expr = col(f"custom.{key}", "c")
        if catalog.custom[(entity, key)].type == "date":
            value = exp.cast(value, exp.DataType.Type.DATE)
        columns[name] = value
    return columns


def _is_list(name: str, entity: str, catalog: Catalog) -> bool:
    table, _ = ENTITY_TABLE[entity]
    schema = TABLES[table]
    if name in schema.names:
        return bool(pa.types.is_list(schema.field(name).type))
    key = name.removeprefix("custom.")
    return (entity, key) in catalog.custom and catalog.custom[(entity, key)].type == "list"


def _custom_pivot(entity: str, catalog: Catalog) -> exp.Select:
    pivots = []
    for key in catalog.custom_keys(entity):
        value = col(VALUE_COLUMN[catalog.custom[(entity, key)].type])
        picked = exp.If(this=exp.EQ(this=col("key"), expression=lit(key)), true=value)
        pivots.append(alias(exp.Max(this=exp.Case(ifs=[picked])), f"custom.{key}"))
    return (
        exp.select(col("property_id"), col("entity_id"), *pivots, copy=False)
        .from_("attribute_values", copy=False)
        .where(exp.EQ(this=col("entity"), expression=lit(entity)), copy=False)
        .group_by(col("property_id"), col("entity_id"), copy=False)
    )


def pick_columns(available: Sequence[str], wanted: Sequence[str] | None) -> list[str]:
    """The columns of ``wanted`` that exist (all by default), after the keys (property and
    id), which every export has."""
    if not wanted:
        return list(available)
    unknown = [c for c in wanted if c not in available]
    if unknown:
        raise RunError(
            f"--columns: no column {unknown[0]!r} for this segment's entity",
            did_you_mean(unknown[0], available) or f"columns: {', '.join(available)}",
        )
    return list(dict.fromkeys([*available[:2], *wanted]))


def export(
    reader: Reader,
    out: Path,
    catalog: Catalog,
    segment_id: str,
    output_format: str,
    output: Path | None,
    property_id: str | None,
    columns: Sequence[str] | None,
) -> Exported:
    """Writes the members of ``segment_id`` in the run published in ``out`` to ``output``
    (default ``<segment_id>.<ext>`` here), replacing it whole or not at all."""
    if output_format not in EXPORT_FORMATS:
        raise RunError(
            f"unknown --format {output_format!r}",
            did_you_mean(output_format, EXPORT_FORMATS) or f"use {', '.join(EXPORT_FORMATS)}",
        )
    entity = published_segment(out, segment_id)
    copy_format, extension = EXPORT_FORMATS[output_format]
    target = output or Path(f"{segment_id}.{extension}")
    if target.is_dir():
        raise RunError(
            f"--output {target} is a folder", f"give a file, e.g. {target / target.name}"
        )
    if not target.parent.is_dir():
        raise RunError(
            f"--output {target}: the folder {target.parent} does not exist", "create it first"
        )
    available = contact_columns(entity, catalog)
    chosen = pick_columns(list(available), columns)
    if copy_format == "csv":  # one text per cell: a list's elements joined with "; "
        available = {
            name: exp.func("array_to_string", value, lit("; "))
            if _is_list(name, entity, catalog)
            else value
            for name, value in available.items()
        }
    table, id_column = ENTITY_TABLE[entity]
    members = exp.Anonymous(
        this="read_parquet",
        expressions=[
            exp.Array(
                expressions=[
                    lit(glob_literal(str(p))) for p in published_parts(out, MEMBERSHIP.name)
                ]
            )
        ],
    )
    keep = [exp.EQ(this=col("segment_id", "m"), expression=lit(segment_id))]
    if property_id is not None:
        keep.append(exp.EQ(this=col("property_id", "m"), expression=lit(property_id)))
    query = (
        exp.select(*(alias(available[c], c) for c in chosen), copy=False)
        .from_(exp.select(exp.Star()).from_(members).subquery("m"), copy=False)
        .join(
            exp.alias_(exp.to_table(table), "e", table=True),
            on=on_keys("m", "e", [("property_id", "property_id"), ("entity_id", id_column)]),
            copy=False,
        )
        .join(
            exp.alias_(_custom_pivot(entity, catalog).subquery(), "c", table=True),
            on=on_keys("e", "c", [("property_id", "property_id"), (id_column, "entity_id")]),
            join_type="left",
            copy=False,
        )
        .where(exp.and_(*keep), copy=False)
        .order_by(col("property_id", "m"), col("entity_id", "m"), copy=False)
    )
    partial = target.with_name(f".{target.name}.partial-{os.getpid()}")
    params = [exp.CopyParameter(this=exp.var("FORMAT"), expression=exp.var(copy_format))]
    if copy_format == "csv":
        params.append(exp.CopyParameter(this=exp.var("HEADER"), expression=exp.true()))
    statement = exp.Copy(
        this=query.subquery(), kind=False, files=[lit(str(partial))], params=params
    )
    try:
        written = reader.rows(statement)
        os.replace(partial, target)
    finally:
        partial.unlink(missing_ok=True)
    rows = int(next(iter(written[0].values()))) if written else 0
    return Exported(segment_id, rows, target, chosen)

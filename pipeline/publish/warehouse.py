"""What ``OUT/warehouse.duckdb`` holds: the objects the runs maintain in it, and how a run
brings them up to date without touching anything else a user created there.

The runs maintain (:func:`managed`):

- a view per published table, ``SELECT * FROM read_parquet('<OUT>/<table>/*.parquet')``;
  the copies of the inputs are views with the input tables' names and schemas, so the
  ``compiled_sql`` of ``segments`` runs in the warehouse as it is;
- ``segment_members``: the membership joined to each member's contact dimension;
- ``warehouse_objects``: a table listing these objects with a fingerprint of each
  definition (its statements, the absolute paths included).

Every object and column carries a ``COMMENT ON`` from ``pipeline.outputs``: the summaries and
meanings of the data dictionary, backticks dropped. A run compares the fingerprints with the
ones it would write (:func:`up_to_date`) and changes the database only when they differ: a
new table, a column that custom attributes add or drop, a moved output folder, a new version.
It then replaces its own objects only (:func:`update`), in a copy of the database that
``publish/snapshot.py`` swaps in by rename: the views and tables a user added, in any schema,
are kept.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Final, Literal

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
from sqlglot import exp

from pipeline.catalog import CUSTOM_TYPE, AttrType, CustomAttribute
from pipeline.compile.sql import col, normalized
from pipeline.compile.sql_query import custom_cte
from pipeline.compile.sql_timeline import alias, on_keys
from pipeline.inputs.schema import ENTITY_TABLE
from pipeline.inputs.validate import read_custom_attributes
from pipeline.language import ir
from pipeline.outputs import (
    ATTRIBUTES,
    COMPARED_SUFFIX,
    CUSTOM_PREFIX,
    DIM_ORGANIZATIONS,
    DIM_PEOPLE,
    MEMBERSHIP,
    OUTPUTS,
    SEGMENT_MEMBERS,
    WAREHOUSE_OBJECTS,
    WAREHOUSE_ONLY,
    Column,
    Output,
)
from pipeline.parquet import glob_literal

WAREHOUSE: Final = "warehouse.duckdb"
_log: Final = logging.getLogger(__name__)
_DECLARED: Final[Mapping[str, Output]] = {o.name: o for o in (*OUTPUTS, *WAREHOUSE_ONLY)}
_DIMENSIONS: Final[Mapping[str, Output]] = {"organization": DIM_ORGANIZATIONS, "person": DIM_PEOPLE}
#: The dimension joined to each entity's members in ``segment_members``, and its alias.
_MEMBER_DIMENSIONS: Final = (
    ("organization", DIM_ORGANIZATIONS, "org_id", "o"),
    ("person", DIM_PEOPLE, "person_id", "p"),
)

Kind = Literal["view", "table"]


@dataclass(frozen=True, slots=True)
class Managed:
    """An object the runs maintain: the statements (DuckDB SQL) that create it, comments
    included, in order, and their fingerprint."""

    name: str
    kind: Kind
    summary: str
    statements: tuple[str, ...]
    fingerprint: str


def _managed(name: str, kind: Kind, summary: str, statements: Sequence[str]) -> Managed:
    fingerprint = hashlib.sha256("\n".join(statements).encode()).hexdigest()[:16]
    return Managed(name, kind, summary, tuple(statements), fingerprint)


def _comment(text: str) -> exp.Literal:
    """A meaning as a comment: the data dictionary's backticks are for Markdown."""
    return exp.Literal.string(text.replace("`", ""))


def _commented(name: str, kind: Kind, summary: str, columns: Sequence[Column]) -> list[str]:
    table = exp.to_table(name)
    statements = [exp.Comment(this=table, kind=kind.upper(), expression=_comment(summary))]
    for column in columns:
        statements.append(
            exp.Comment(
                this=exp.column(column.name, table=name, quoted=True),
                kind="COLUMN",
                expression=_comment(column.meaning),
            )
        )
    return [s.sql("duckdb") for s in statements]


def _view(name: str, select: exp.Query) -> str:
    create = exp.Create(this=exp.to_table(name), kind="VIEW", expression=select, replace=True)
    return create.sql("duckdb")


def _first_file(out: Path, table: str) -> Path | None:
    files = sorted((out / table).glob("*.parquet"))
    return files[0] if files else None


def _table_view(out: Path, name: str, schema: pa.Schema) -> tuple[Managed, list[Column]]:
    """The view of a published table, and its columns (those declared, with their meaning).

    A table whose view adds compared forms lists its columns: each file column, followed
    by its compared form, ``normalized`` by the compiler as the segments' queries do."""
    files = glob_literal(str((out / name).absolute())) + "/*.parquet"
    scan = exp.func("read_parquet", exp.Literal.string(files))
    output = _DECLARED.get(name)
    if output is None:  # not declared (a table of another version): no comments
        return _managed(name, "view", "", [_view(name, exp.select(exp.Star()).from_(scan))]), []
    # A file an older version wrote may lack a declared column: only those it has.
    columns = [c for c in output.columns if c.name in schema.names]
    select = exp.select(exp.Star()).from_(scan)
    statements = [_view(name, select), *_commented(name, "view", output.summary, columns)]
    return _managed(name, "view", output.summary, statements), columns


def dimension_query(entity: str, attributes: Sequence[CustomAttribute]) -> exp.Select:
    """Every contact of ``entity`` with the columns of its dimension: the built-in ones of
    the input table's view, then each custom attribute pivoted by the membership query's
    own ``custom`` step (``custom.<key>``)."""
    output = _DIMENSIONS[entity]
    table, id_column = ENTITY_TABLE[entity]
    builtin = {c.name for c in output.columns}
    columns = [
        alias(col(c.name, "e" if c.name in builtin else "c"), c.name)
        for c in output.columns_for(attributes)
    ]
    select = exp.select(*columns, copy=False).from_(
        exp.alias_(exp.to_table(table), "e", table=True, copy=False), copy=False
    )
    if not attributes:
        return select
    attrs = [ir.Attr("custom", a.key, CUSTOM_TYPE[a.type]) for a in attributes]
    types = {(entity, a.key): a.type for a in attributes}
    pivot = custom_cte(entity, attrs, types, None).subquery("c", copy=False)
    keys = [("property_id", "property_id"), (id_column, "entity_id")]
    return select.join(pivot, on=on_keys("e", "c", keys), join_type="left", copy=False)


def _dimension_view(
    entity: str, attributes: Sequence[CustomAttribute]
) -> tuple[Managed, list[Column]]:
    """The contacts of ``entity`` as a view over the input copies: no file of its own, so
    it costs a run nothing, and DuckDB computes only the columns a query reads. Each
    attribute whose compared form differs is followed by it (``<name>.compared``)."""
    output = _DIMENSIONS[entity]
    own = [a for a in attributes if a.entity == entity]
    columns = list(output.view_columns_for(own))
    kinds = output.attribute_types(own)
    inner = dimension_query(entity, own).subquery("contacts", copy=False)
    select = exp.select(*(_value(c.name, kinds) for c in columns)).from_(inner)
    name = output.name
    statements = [_view(name, select), *_commented(name, "view", output.summary, columns)]
    return _managed(name, "view", output.summary, statements), columns


def _quoted(name: str) -> exp.Column:
    return exp.column(name, quoted=True)


def _value(name: str, kinds: Mapping[str, AttrType]) -> exp.Expr:
    """A column of a view with compared forms: as stored, or as segments compare it."""
    stored = name.removesuffix(COMPARED_SUFFIX)
    if stored == name:
        return _quoted(name)
    kind = kinds[stored]
    raw: exp.Expr = _quoted(stored)
    if kind is AttrType.DATE:
        # The UTC day whatever the reader's session time zone (the engines run in UTC).
        raw = exp.func("timezone", exp.Literal.string("UTC"), raw)
    if stored.startswith(CUSTOM_PREFIX):
        attr = ir.Attr("custom", stored.removeprefix(CUSTOM_PREFIX), kind)
    else:
        attr = ir.Attr("builtin", stored, kind)
    return exp.alias_(normalized(attr, raw), name, quoted=True)


def _members_view(
    viewed: Mapping[str, Sequence[Column]], attributes: Sequence[CustomAttribute]
) -> Managed:
    """``segment_members``: each member's row of ``segment_membership`` with its contact,
    from the view of its entity's dimension (the other one's columns are null on that row)."""
    membership = {c.name for c in viewed[MEMBERSHIP.name]}
    selected: list[exp.Expr] = []
    columns = []
    for column in SEGMENT_MEMBERS.view_columns_for(attributes):
        if column.name in MEMBERSHIP.names:
            if column.name in membership:
                selected.append(exp.column(column.name, table="m", quoted=True))
                columns.append(column)
            continue
        values: list[exp.Expr] = []
        for _, dimension, _, side in _MEMBER_DIMENSIONS:
            kinds = {c.name: c.type for c in viewed[dimension.name]}
            if column.name in kinds:
                value: exp.Expr = exp.column(column.name, table=side, quoted=True)
                if not kinds[column.name].equals(column.type):
                    value = exp.cast(value, exp.DataType.Type.VARCHAR)  # declared as text
                values.append(value)
        if values:
            # At most one side has the member: the other side's columns are all null.
            merged = values[0] if len(values) == 1 else exp.func("coalesce", *values)
            selected.append(exp.alias_(merged, column.name, quoted=True))
            columns.append(column)
    select = exp.select(*selected).from_(exp.alias_(exp.to_table(MEMBERSHIP.name), "m"))
    for entity, dimension, id_column, side in _MEMBER_DIMENSIONS:
        on = exp.and_(
            exp.column("entity", table="m").eq(exp.Literal.string(entity)),
            exp.column("property_id", table=side).eq(exp.column("property_id", table="m")),
            exp.column(id_column, table=side).eq(exp.column("entity_id", table="m")),
        )
        select = select.join(
            exp.alias_(exp.to_table(dimension.name), side), on=on, join_type="left"
        )
    name, summary = SEGMENT_MEMBERS.name, SEGMENT_MEMBERS.summary
    statements = [_view(name, select), *_commented(name, "view", summary, columns)]
    return _managed(name, "view", summary, statements)


def _objects_table(listed: Sequence[Managed]) -> Managed:
    """``warehouse_objects``: the objects above and itself, with their fingerprints."""
    name, summary = WAREHOUSE_OBJECTS.name, WAREHOUSE_OBJECTS.summary
    comments = _commented(name, "table", summary, WAREHOUSE_OBJECTS.columns)
    itself = _managed(name, "table", summary, comments)
    rows = [
        exp.Tuple(
            expressions=[exp.Literal.string(v) for v in (m.name, m.kind, m.summary, m.fingerprint)]
        )
        for m in [*listed, itself]
    ]
    values = exp.Values(
        expressions=rows,
        alias=exp.TableAlias(
            this=exp.to_identifier("objects"),
            columns=[exp.to_identifier(n) for n in WAREHOUSE_OBJECTS.names],
        ),
    )
    select = exp.select(*WAREHOUSE_OBJECTS.names).from_(values)
    create = exp.Create(this=exp.to_table(name), kind="TABLE", expression=select, replace=True)
    # Its fingerprint is of its comments: its rows change with the others'.
    return Managed(name, "table", summary, (create.sql("duckdb"), *comments), itself.fingerprint)


def managed(out: Path, tables: Sequence[str]) -> list[Managed]:
    """The objects the runs maintain for ``tables`` published in ``out``, in the order they
    are created (``segment_members`` reads the views before it)."""
    schemas = {}
    for table in sorted(tables):
        first = _first_file(out, table)
        if first is not None:  # a published table always has a file; a view needs one
            schemas[table] = pq.read_schema(first)
    objects = []
    viewed = {}
    for name, schema in schemas.items():
        view, viewed[name] = _table_view(out, name, schema)
        objects.append(view)
    inputs = {table for table, _ in ENTITY_TABLE.values()} | {"attribute_values", ATTRIBUTES.name}
    if inputs <= schemas.keys():  # the contacts, over the copies of the inputs
        attributes = read_custom_attributes(out)
        for entity in _DIMENSIONS:
            view, viewed[_DIMENSIONS[entity].name] = _dimension_view(entity, attributes)
            objects.append(view)
        if MEMBERSHIP.name in schemas:
            objects.append(_members_view(viewed, attributes))
    return [*objects, _objects_table(objects)]


@dataclass(frozen=True, slots=True)
class State:
    """The objects a database says the runs maintain, and the objects it has."""

    #: name -> (kind, fingerprint); a database an older version wrote has no list: its views
    #: of declared tables are the runs', with no fingerprint.
    listed: Mapping[str, tuple[str, str | None]]
    present: Mapping[str, str]

    def matches(self, wanted: Sequence[Managed]) -> bool:
        expected = {m.name: (m.kind, m.fingerprint) for m in wanted}
        return dict(self.listed) == expected and all(
            self.present.get(m.name) == m.kind for m in wanted
        )


def state(con: duckdb.DuckDBPyConnection) -> State:
    rows = con.sql(
        "SELECT view_name, 'view' FROM duckdb_views() "
        "WHERE NOT internal AND database_name = current_database() AND schema_name = 'main' "
        "UNION ALL SELECT table_name, 'table' FROM duckdb_tables() "
        "WHERE database_name = current_database() AND schema_name = 'main'"
    ).fetchall()
    present = {str(name): str(kind) for name, kind in rows}
    if present.get(WAREHOUSE_OBJECTS.name) != "table":
        listed = {n: ("view", None) for n, k in present.items() if k == "view" and n in _DECLARED}
        return State(listed, present)
    found = con.sql(f"SELECT name, kind, fingerprint FROM {WAREHOUSE_OBJECTS.name}").fetchall()
    return State({str(n): (str(k), None if f is None else str(f)) for n, k, f in found}, present)


def up_to_date(path: Path, wanted: Sequence[Managed]) -> bool:
    """Whether the database at ``path`` holds ``wanted`` as they are (False when it cannot
    be read: missing, open for writing elsewhere, or at a path DuckDB cannot open)."""
    if not path.exists():
        return False
    try:
        con = duckdb.connect(str(path), read_only=True)
    except duckdb.Error:
        return False
    try:
        return state(con).matches(wanted)
    except duckdb.Error:
        return False
    finally:
        con.close()


def update(path: Path, wanted: Sequence[Managed]) -> bool:
    """Bring the runs' objects in the database at ``path`` (a private copy) to ``wanted``,
    in one transaction, leaving every other object as it is; False if there was nothing to
    do. A database DuckDB cannot open is started again empty."""
    try:
        con = duckdb.connect(str(path))
    except duckdb.Error as error:
        _log.warning("%s could not be opened (%s): it is built again", WAREHOUSE, error)
        path.unlink(missing_ok=True)
        path.with_name(path.name + ".wal").unlink(missing_ok=True)
        con = duckdb.connect(str(path))
    try:
        found = state(con)
        if found.matches(wanted):
            return False
        con.execute("BEGIN TRANSACTION")
        for name, (kind, _) in found.listed.items():
            if name not in {m.name for m in wanted} and found.present.get(name) == kind:
                drop = exp.Drop(tables=[exp.to_table(name)], kind=kind.upper(), exists=True)
                con.execute(drop.sql("duckdb"))
        for managed_object in wanted:
            for statement in managed_object.statements:
                con.execute(statement)
        con.execute("COMMIT")
        con.execute("CHECKPOINT")
        return True
    finally:
        con.close()

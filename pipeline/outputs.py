"""Every table a run publishes, declared once: its columns (name, type, meaning), its row
order and the phase that produces it; and the objects only ``warehouse.duckdb`` holds.

The engines, the history merge and the run write these schemas and orders; the warehouse
takes its comments (``COMMENT ON``) from the summaries and meanings; the published files are
checked against them in the tests, and so is ``docs/outputs.md``, the data dictionary (each
column documented, with its type, in its table's section).

Some columns depend on the data: the contact dimensions get, after their fixed columns, the
columns of the entity's custom attributes (:class:`CustomColumns`); and their views in the
warehouse add each attribute's compared form (:data:`COMPARED`), computed when read.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Final, Literal

import pyarrow as pa

from pipeline.catalog import BUILTIN, CUSTOM_TYPE, AttrType, CustomAttribute
from pipeline.inputs.schema import CONTACT_COLUMNS, ENTITY_TABLE, TABLES, VALUE_COLUMN
from pipeline.language import ir

Phase = Literal["definitions", "inputs", "timeline", "history", "publish"]

TEXT: Final = pa.string()
TEXTS: Final = pa.list_(pa.string())
COUNT: Final = pa.int64()
INSTANT: Final = pa.timestamp("us", tz="UTC")
DAY: Final = pa.date32()
NUMBER: Final = pa.float64()
FLAG: Final = pa.bool_()


@dataclass(frozen=True, slots=True)
class Column:
    name: str
    type: pa.DataType
    meaning: str


#: What a column of an attribute's compared form adds to the attribute's name (``name`` ->
#: ``name.compared``, ``custom.plan`` -> ``custom.plan.compared``). Neither a built-in name nor
#: a custom key holds a dot, so it never names another attribute.
COMPARED_SUFFIX: Final = ".compared"

#: The attribute types whose value segments compare in another form than it is stored, with
#: that form's type and what it is (``compile/sql.normalized`` computes it).
COMPARED: Final[dict[AttrType, tuple[pa.DataType, str]]] = {
    AttrType.TEXT: (
        TEXT,
        "as segments compare it: white space trimmed, lower case; null when blank",
    ),
    AttrType.PHONE: (TEXT, "as segments compare it: its digits only; null when it has none"),
    AttrType.TEXT_LIST: (
        TEXTS,
        "as segments compare it: each element trimmed and lower case, blank ones dropped",
    ),
    AttrType.PHONE_LIST: (
        TEXTS,
        "as segments compare it: each element's digits, elements without one dropped",
    ),
    AttrType.DATE: (DAY, "as segments compare it: the calendar day (UTC) of the value"),
}

#: The prefix of a custom attribute's column, as segments name the attribute.
CUSTOM_PREFIX: Final = "custom."


def compared(name: str) -> str:
    """The column holding attribute ``name`` as segments compare it.

    >>> compared("custom.plan")
    'custom.plan.compared'
    """
    return name + COMPARED_SUFFIX


#: The rows ``docs/outputs.md`` documents for the custom columns, ``<key>`` for any key.
CUSTOM_DOCUMENTED: Final = (CUSTOM_PREFIX + "<key>", compared(CUSTOM_PREFIX + "<key>"))


@dataclass(frozen=True, slots=True)
class CustomColumns:
    """The columns custom attributes add to a table, after its fixed ones: per attribute,
    in key order, ``custom.<key>``, the value as stored, typed as the ``attribute_values``
    column of its type.

    ``entities`` are the entities whose attributes count; with two, a key both define is one
    column holding each row's own entity's value (as text when the two types differ).
    """

    entities: tuple[str, ...]

    def columns(self, attributes: Iterable[CustomAttribute]) -> tuple[Column, ...]:
        merged: dict[str, list[Column]] = {}
        for attribute in sorted(attributes, key=lambda a: (a.key, a.entity)):
            if attribute.entity in self.entities:
                column = _custom_column(attribute)
                merged.setdefault(column.name, []).append(column)
        return tuple(_merged(name, found) for name, found in merged.items())

    def types(self, attributes: Iterable[CustomAttribute]) -> dict[str, AttrType]:
        """Each custom column's attribute type (none for a key whose entities disagree)."""
        found: dict[str, set[AttrType]] = {}
        for attribute in attributes:
            if attribute.entity in self.entities:
                name = CUSTOM_PREFIX + attribute.key
                found.setdefault(name, set()).add(CUSTOM_TYPE[attribute.type])
        return {name: kinds.pop() for name, kinds in found.items() if len(kinds) == 1}


def _custom_column(attribute: CustomAttribute) -> Column:
    name = CUSTOM_PREFIX + attribute.key
    value = VALUE_COLUMN[attribute.type]
    return Column(
        name,
        TABLES["attribute_values"].field(value).type,
        f"{attribute.entity} attribute `{name}` ({attribute.label}, {attribute.type}) as "
        f"stored (`attribute_values.{value}`); null when it has none",
    )


def _merged(name: str, found: Sequence[Column]) -> Column:
    """One column for a key both entities define: each row holds its own entity's value."""
    meaning = "; ".join(c.meaning for c in found)
    if all(c.type == found[0].type for c in found):
        return Column(name, found[0].type, meaning)
    return Column(name, TEXT, meaning + " (as text: the entities' types differ)")


def compared_column(name: str, kind: AttrType) -> Column | None:
    """The column of attribute ``name``'s compared form, if it has one."""
    form = COMPARED.get(kind)
    return None if form is None else Column(compared(name), form[0], f"`{name}` {form[1]}")


@dataclass(frozen=True, slots=True)
class Output:
    """One published table: ``OUT/<name>/`` (or an object only the warehouse holds)."""

    name: str
    summary: str
    columns: tuple[Column, ...]
    #: The order its rows are written in (every key is unique, so the order is total); empty
    #: for the tables kept in the order their rows happened (``runs``, ``quarantine``) or
    #: came (the copies of the inputs), and for views.
    #: Strings sort by their UTF-8 bytes, that is by code point, in DuckDB, Polars and Spark
    #: alike; each engine sorts its own results (in parallel) before handing them over.
    order: tuple[str, ...]
    #: The phase of the run that computes it.
    producer: Phase
    #: The columns the custom attributes add after ``columns``, if any.
    custom: CustomColumns | None = None
    #: Whether its view in the warehouse adds, after each attribute column whose compared
    #: form differs from the stored value, that form (``<name>.compared``), computed when
    #: read by the compiler's own normalization: what a segment compares, at no cost to the
    #: run (writing them for every contact would cost more than the rest of the table).
    compared: bool = False

    @property
    def schema(self) -> pa.Schema:
        """The schema of the fixed columns (every column, for a table without custom ones)."""
        return pa.schema([(c.name, c.type) for c in self.columns])

    @property
    def names(self) -> list[str]:
        return [c.name for c in self.columns]

    def columns_for(self, attributes: Iterable[CustomAttribute]) -> tuple[Column, ...]:
        """Every column, given the custom attributes the data defines."""
        extra = () if self.custom is None else self.custom.columns(attributes)
        return self.columns + extra

    def schema_for(self, attributes: Iterable[CustomAttribute]) -> pa.Schema:
        return pa.schema([(c.name, c.type) for c in self.columns_for(attributes)])

    def view_columns_for(self, attributes: Iterable[CustomAttribute]) -> tuple[Column, ...]:
        """Every column of its view in the warehouse: :meth:`columns_for`, each attribute
        followed by its compared form when :attr:`compared`."""
        attributes = list(attributes)
        columns = self.columns_for(attributes)
        if not self.compared:
            return columns
        kinds = self.attribute_types(attributes)
        viewed = []
        for column in columns:
            viewed.append(column)
            form = (
                compared_column(column.name, kinds[column.name]) if column.name in kinds else None
            )
            if form is not None:
                viewed.append(form)
        return tuple(viewed)

    def attribute_types(self, attributes: Iterable[CustomAttribute]) -> dict[str, AttrType]:
        """The type of each of its columns that holds an attribute (built-in or custom)."""
        kinds = {n: k for n, k in BUILTIN.items() if n in self.names}
        if self.custom is not None:
            kinds.update(self.custom.types(attributes))
        return kinds

    @property
    def documented(self) -> list[str]:
        """The column names of its section in ``docs/outputs.md`` (custom ones as
        :data:`CUSTOM_DOCUMENTED`)."""
        names = [c.name for c in self.view_columns_for(())]
        if self.custom is not None:
            names += CUSTOM_DOCUMENTED[: 2 if self.compared else 1]
        return names


def _columns(*rows: tuple[str, pa.DataType, str]) -> tuple[Column, ...]:
    return tuple(Column(*row) for row in rows)


_MEMBER: Final = (
    ("property_id", TEXT, "the property (site) the member belongs to"),
    ("segment_id", TEXT, "the segment (`segments.segment_id`)"),
    ("entity", TEXT, "`organization` or `person`"),
    ("entity_id", TEXT, "`org_id` or `person_id` of the member"),
)
_RUN: Final = (
    ("run_id", TEXT, "the run"),
    ("as_of", INSTANT, "that run's `as_of`"),
)
_KINDS: Final = {"note": "notes", "chat": "chats", "ticket": "tickets", "call": "calls"}


def _rollup_counts() -> list[tuple[str, pa.DataType, str]]:
    counts = [c for c in ir.rollup_columns() if c.endswith(("_7d", "_30d", "_90d", "_total"))]
    rows = []
    for name in counts:
        kinds, _, window = name.partition("_")
        if window == "total":
            meaning = f"{kinds} up to `as_of`"
        else:
            meaning = f"{kinds} in the {window.removesuffix('d')} days up to `as_of`; 0 when none"
        rows.append((name, COUNT, meaning))
    return rows


MEMBERSHIP: Final = Output(
    "segment_membership",
    "who is in each segment now",
    _columns(
        *_MEMBER,
        ("run_id", TEXT, "the run that computed it (the current one, but for `--select`)"),
        ("as_of", INSTANT, "that run's `as_of`"),
    ),
    ("segment_id", "property_id", "entity_id"),
    "history",
)
HISTORY: Final = Output(
    "segment_membership_history",
    "every stay in a segment (SCD type 2)",
    _columns(
        *_MEMBER,
        ("valid_from", INSTANT, "`as_of` of the first run that found the entity in the segment"),
        ("valid_to", INSTANT, "`as_of` of the first run that no longer found it there"),
    ),
    ("segment_id", "property_id", "entity", "entity_id", "valid_from"),
    "history",
)
CHANGES: Final = Output(
    "segment_changes",
    "who entered and who left, per run",
    _columns(*_RUN, *_MEMBER, ("change", TEXT, "`entered` or `exited`")),
    ("as_of", "segment_id", "property_id", "entity_id"),
    "history",
)
SIZES: Final = Output(
    "segment_sizes",
    "size of each segment at each run",
    _columns(
        *_RUN,
        ("property_id", TEXT, "the property"),
        ("segment_id", TEXT, "the segment"),
        ("members", COUNT, "members at that run"),
        ("entered", COUNT, "members that were not in at the previous run"),
        ("exited", COUNT, "members of the previous run that are no longer in"),
    ),
    ("as_of", "segment_id", "property_id"),
    "history",
)
ROLLUPS: Final = Output(
    "timeline_rollups",
    "interaction counts per organization",
    _columns(
        ("property_id", TEXT, "the organization's property"),
        ("org_id", TEXT, "the organization"),
        *_rollup_counts(),
        ("first_interaction_at", INSTANT, "the first event up to `as_of`; null if none"),
        ("last_interaction_at", INSTANT, "the last event up to `as_of`; null if none"),
    ),
    ("property_id", "org_id"),
    "timeline",
)
DAILY: Final = Output(
    "timeline_daily",
    "events per organization, day and kind",
    _columns(
        ("property_id", TEXT, "the organization's property"),
        ("org_id", TEXT, "the organization"),
        ("day", DAY, "the calendar day of the event in the run's `--timezone`"),
        ("kind", TEXT, "`note`, `chat`, `ticket` or `call`"),
        ("events", COUNT, "events of that kind on that day, up to `as_of`"),
    ),
    ("property_id", "org_id", "day", "kind"),
    "timeline",
)
SEGMENTS: Final = Output(
    "segments",
    "the catalog of current definitions",
    _columns(
        ("segment_id", TEXT, "the file name without `.yaml`, or its `id:`"),
        ("name", TEXT, "`name:` of the file; the `segment_id` when there is none"),
        ("description", TEXT, "`description:` of the file; empty when there is none"),
        ("entity", TEXT, "`organization` or `person`"),
        ("definition_hash", TEXT, "16 hex digits of the definition's content"),
        ("compiled_sql", TEXT, "the DuckDB SQL of this segment alone (`segments compile`)"),
        ("owner", TEXT, "`owner:` of the file; null when there is none"),
        ("tags", TEXTS, "`tags:` of the file; empty when there are none"),
        ("meta", TEXT, "`meta:` of the file as JSON (keys sorted); null when there is none"),
        ("depends_on", TEXTS, "the segments its `in_segment`/`not_in_segment` name"),
    ),
    ("segment_id",),
    "definitions",
)
RUNS: Final = Output(
    "runs",
    "one row per run attempt",
    _columns(
        ("run_id", TEXT, "the run; null for a run that failed before reading its inputs"),
        ("as_of", INSTANT, "the run's `as_of`"),
        ("started_at", INSTANT, "when the run started"),
        ("finished_at", INSTANT, "when its tables were complete, or when it failed"),
        ("status", TEXT, "`succeeded`, `failed` or `rolled_back`"),
        ("engine", TEXT, "`duckdb`, `polars` or `spark`"),
        ("timezone", TEXT, "`--timezone` of the run"),
        ("input_fingerprint", TEXT, "sha256 over every input file's path, size and footer"),
        ("definitions_fingerprint", TEXT, "over every segment's id and `definition_hash`"),
        ("segments", COUNT, "number of segments evaluated"),
        ("members", COUNT, "memberships the run evaluated; null for failed runs"),
        ("entered", COUNT, "members that entered a segment; null for failed runs"),
        ("exited", COUNT, "members that left a segment; null for failed runs"),
        ("quarantined_rows", COUNT, "input rows set aside; null for failed runs"),
        ("input_rows", TEXT, "JSON: rows kept per input table"),
        ("output_rows", TEXT, "JSON: rows written per output table (except `runs`)"),
        ("phase_seconds", TEXT, "JSON: seconds per phase"),
        ("error", TEXT, "failed runs: the one-line reason"),
        ("error_detail", TEXT, "failed runs: the whole error, every problem with its place"),
        ("selected", TEXT, "`--select` of the run; null when every segment was evaluated"),
        ("removed", TEXTS, "segments with members that were no longer defined: closed"),
    ),
    (),
    "publish",
)
QUARANTINE: Final = Output(
    "quarantine",
    "input rows set aside by the current run",
    _columns(
        ("run_id", TEXT, "the run (always the current one)"),
        ("table", TEXT, "the input table"),
        ("rule", TEXT, "the rule it broke"),
        ("column", TEXT, "the column the rule is about (null for rules about a whole row)"),
        ("row", TEXT, "JSON: the whole input row"),
    ),
    (),
    "inputs",
)

#: What each built-in contact attribute is (SPEC section 2); the types are the inputs'.
_CONTACT: Final = {
    "name": "the contact's name",
    "primary_email": "the main e-mail address",
    "emails": "every e-mail address",
    "primary_phone": "the main phone number, as written",
    "phones": "every phone number, as written",
    "organization": "the organization's name as the contact gives it",
    "job_title": "the job title",
    "tags": "the CRM's tags",
    "facebook_url": "the Facebook page",
    "linkedin_url": "the LinkedIn page",
    "twitter": "the Twitter/X handle",
    "instagram": "the Instagram handle",
    "created_at": "when the contact was created in the CRM",
    "updated_at": "when the contact was last changed in the CRM",
}
_ID: Final = {
    "organization": "the organization, unique within its property",
    "person": "the person, unique within their property",
}


def _input_copy(name: str, summary: str, meanings: dict[str, str]) -> Output:
    """A validated input table as the run read it (``inputs/schema.py`` holds its types)."""
    columns = tuple(Column(f.name, f.type, meanings[f.name]) for f in TABLES[name])
    return Output(name, summary, columns, (), "inputs")


def _contact_columns() -> list[tuple[str, pa.DataType, str]]:
    return [(name, kind, _CONTACT[name]) for name, kind in CONTACT_COLUMNS.items()]


def _input_contacts(entity: str, summary: str) -> Output:
    table, id_column = ENTITY_TABLE[entity]
    meanings = {"property_id": "the property", id_column: _ID[entity]}
    meanings.update((name, meaning) for name, _, meaning in _contact_columns())
    return _input_copy(table, summary, meanings)


def _dimension(entity: str, summary: str) -> Output:
    table, id_column = ENTITY_TABLE[entity]
    return Output(
        f"dim_{table}",
        summary,
        _columns(
            ("property_id", TEXT, "the property"),
            (id_column, TEXT, _ID[entity]),
            *_contact_columns(),
        ),
        (),
        "publish",
        CustomColumns((entity,)),
        compared=True,
    )


ORGANIZATIONS: Final = _input_contacts("organization", "the organizations the run read")
PEOPLE: Final = _input_contacts("person", "the people the run read")
ORGANIZATION_PEOPLE: Final = _input_copy(
    "organization_people",
    "which people are linked to which organizations",
    {
        "property_id": "the property of both",
        "org_id": "the organization (`organizations.org_id`)",
        "person_id": "the person (`people.person_id`)",
    },
)
ATTRIBUTES: Final = _input_copy(
    "attributes",
    "the custom attribute definitions the run read",
    {
        "property_id": "the property that defines it",
        "entity": "`organization` or `person`",
        "key": "the attribute's key: segments and the contact dimensions say `custom.<key>`",
        "label": "its name for people",
        "type": "`text`, `number`, `boolean`, `date`, `datetime` or `list`",
    },
)
ATTRIBUTE_VALUES: Final = _input_copy(
    "attribute_values",
    "the custom attribute values the run read, one row per entity and key",
    {
        "property_id": "the property",
        "entity": "`organization` or `person`",
        "entity_id": "`org_id` or `person_id`",
        "key": "the attribute (`attributes.key`)",
        "value_text": "the value of a `text` attribute",
        "value_number": "the value of a `number` attribute",
        "value_boolean": "the value of a `boolean` attribute",
        "value_datetime": "the value of a `date` or `datetime` attribute",
        "value_list": "the value of a `list` attribute",
    },
)
TIMELINE: Final = _input_copy(
    "timeline",
    "the interaction events the run read",
    {
        "event_id": "the event, unique within its property",
        "property_id": "the property",
        "org_id": "the organization it belongs to; null if it belongs to a person only",
        "person_id": "the person it belongs to; null if it belongs to an organization only",
        "kind": "`note`, `chat`, `ticket` or `call`",
        "occurred_at": "when it happened",
        "author": "who wrote or handled it; null when unknown",
    },
)
DIM_ORGANIZATIONS: Final = _dimension(
    "organization", "one row per organization: its built-in and custom attributes"
)
DIM_PEOPLE: Final = _dimension("person", "one row per person: their built-in and custom attributes")

#: Every published table, in the order the data dictionary lists them.
OUTPUTS: Final[Sequence[Output]] = (
    MEMBERSHIP,
    HISTORY,
    CHANGES,
    SIZES,
    SEGMENTS,
    RUNS,
    ROLLUPS,
    DAILY,
    QUARANTINE,
    ORGANIZATIONS,
    PEOPLE,
    ORGANIZATION_PEOPLE,
    ATTRIBUTES,
    ATTRIBUTE_VALUES,
    TIMELINE,
)

SEGMENT_MEMBERS: Final = Output(
    "segment_members",
    "each current member with its contact's attributes",
    _columns(*((c.name, c.type, c.meaning) for c in MEMBERSHIP.columns), *_contact_columns()),
    (),
    "publish",
    CustomColumns(("organization", "person")),
    compared=True,
)
WAREHOUSE_OBJECTS: Final = Output(
    "warehouse_objects",
    "the views and tables the runs maintain in this database; everything else is yours",
    _columns(
        ("name", TEXT, "the view or table"),
        ("kind", TEXT, "`view` or `table`"),
        ("summary", TEXT, "what it holds"),
        ("fingerprint", TEXT, "of its definition: a run replaces it when this changes"),
    ),
    (),
    "publish",
)
#: The objects only ``warehouse.duckdb`` holds (no folder in the output), in the order the
#: data dictionary lists them.
WAREHOUSE_ONLY: Final[Sequence[Output]] = (
    DIM_ORGANIZATIONS,
    DIM_PEOPLE,
    SEGMENT_MEMBERS,
    WAREHOUSE_OBJECTS,
)

"""Every table a run publishes, declared once: its columns (name, type, meaning), its row
order and the phase that produces it.

The engines, the history merge and the run write these schemas and orders; the published
files are checked against them in the tests, and so is ``docs/outputs.md``, the data
dictionary (each column documented, with its type, in its table's section).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final, Literal

import pyarrow as pa

from pipeline.language import ir

Phase = Literal["definitions", "inputs", "timeline", "history", "publish"]

TEXT: Final = pa.string()
TEXTS: Final = pa.list_(pa.string())
COUNT: Final = pa.int64()
INSTANT: Final = pa.timestamp("us", tz="UTC")
DAY: Final = pa.date32()


@dataclass(frozen=True, slots=True)
class Column:
    name: str
    type: pa.DataType
    meaning: str


@dataclass(frozen=True, slots=True)
class Output:
    """One published table: ``OUT/<name>/``."""

    name: str
    summary: str
    columns: tuple[Column, ...]
    #: The order its rows are written in (every key is unique, so the order is total); empty
    #: for the two tables kept in the order their rows happened (``runs``, ``quarantine``).
    #: Strings sort by their UTF-8 bytes, that is by code point, in DuckDB, Polars and Spark
    #: alike; each engine sorts its own results (in parallel) before handing them over.
    order: tuple[str, ...]
    #: The phase of the run that computes it.
    producer: Phase

    @property
    def schema(self) -> pa.Schema:
        return pa.schema([(c.name, c.type) for c in self.columns])

    @property
    def names(self) -> list[str]:
        return [c.name for c in self.columns]


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
)

"""The hand-written baseline: the work of ``segments run`` done "by hand" in plain Polars.

    python benchmarks/handwritten.py --data D --segments-count N --as-of T --out DIR

What a data engineer would write for this one job, without the engine (nothing is imported
from ``pipeline.compile``, ``pipeline.engines``, ``pipeline.run`` or ``pipeline.publish``):
it evaluates the first ``N`` generated benchmark segments (``segment_sets.segments(N)``, the
definitions the harness writes to ``benchmarks/segments/<N>/``, as Python dicts; no YAML,
no validation, no history) over the six input tables and writes ``segment_membership``,
``timeline_rollups`` and ``timeline_daily`` as Parquet under ``DIR/<table>/part-0.parquet``.
Only the condition families ``segment_sets.py`` produces are handled, with SPEC section 3's
semantics (normalization, unknowns, exact complements, exact date bounds); the run's
timezone is UTC.

The speed tricks:

- every entity is one row of a key-sorted frame (``property_id``, id): its row number is a
  dense integer key; links, events and custom values are joined to those row numbers once,
  and everything after that is integer arrays (``numpy``);
- each distinct predicate is evaluated once (cached by its canonical form), as one boolean
  array per entity; groups, negations, segment references and property scopes are array
  operations on those;
- text is normalized once per column; a column (or a list's elements, exploded once into
  (row, element) pairs) with few distinct values is dictionary-coded first, so that only
  its distinct values are normalized and tested, and a predicate is a lookup by code;
- predicate results are cached as packed bits (the set has hundreds of them);
- timeline windows are slices of the events sorted by time, counted with ``bincount``;
- membership is one ``flatnonzero`` per segment over the key-sorted flags, taken in segment
  id order, so the long table is never sorted; it is written in batches, its
  low-cardinality columns (segment, property, entity, run) as dictionary-encoded Enums.

It prints one JSON object (row counts, per-step seconds and peak RSS) on stdout.
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import json
import re
import resource
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import reduce
from pathlib import Path
from typing import Any, Final, TypeVar, cast

import numpy as np
import numpy.typing as npt
import polars as pl
import pyarrow.parquet as pq

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent))

from segment_sets import segments as generated_segments  # noqa: E402

Bools = npt.NDArray[np.bool_]
Rows = npt.NDArray[np.uint32]
Cond = dict[str, Any]
T = TypeVar("T")

US_PER_DAY: Final = 86_400 * 1_000_000
#: First/last interaction of an organization without events.
NO_EVENT: Final = np.iinfo(np.int64).min
#: Membership rows per written batch (and about per Parquet row group).
BATCH_ROWS: Final = 1 << 20
#: Event kinds in code point order: the order of ``timeline_daily`` rows within a day.
KINDS: Final = ("call", "chat", "note", "ticket")
#: The order of the rollup columns (``notes_7d`` ... ``calls_total``).
ROLLUP_KINDS: Final = ("note", "chat", "ticket", "call")
ROLLUP_WINDOWS: Final = (7, 30, 90)

BUILTIN: Final = {
    "name": "text",
    "primary_email": "text",
    "emails": "list",
    "primary_phone": "phone",
    "phones": "phone_list",
    "organization": "text",
    "job_title": "text",
    "tags": "list",
    "facebook_url": "text",
    "linkedin_url": "text",
    "twitter": "text",
    "instagram": "text",
    "created_at": "datetime",
    "updated_at": "datetime",
}
VALUE_COLUMN: Final = {
    "text": "value_text",
    "number": "value_number",
    "boolean": "value_boolean",
    "date": "value_datetime",
    "datetime": "value_datetime",
    "list": "value_list",
}
ENTITY: Final = {"organization": ("organizations", "org_id"), "person": ("people", "person_id")}

#: Unicode White_Space: what "trim surrounding white space" removes (not only spaces).
WHITESPACE: Final = (
    "\t\n\x0b\x0c\r \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006"
    "\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000"
)
#: Folded after lower-casing so that every engine agrees: ``İ`` lower-cases to ``i`` + a
#: combining dot in Polars (full case mapping), and a final sigma is folded to ``σ``.
CASE_FIXES: Final = (("i\u0307", "i"), ("ς", "σ"))
NEGATIVE: Final = {"is_not": "is", "not_contains": "contains", "not_in": "in"}


# ---- values as a user writes them ---------------------------------------------------------


def normalize_text(value: Any) -> str:
    text = str(value).strip(WHITESPACE).lower()
    for old, new in CASE_FIXES:
        text = text.replace(old, new)
    return text


def normalize_phone(value: Any) -> str:
    return "".join(ch for ch in str(value) if "0" <= ch <= "9")


def micros(instant: dt.datetime) -> int:
    delta = instant - dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


def parse_as_of(text: str) -> dt.datetime:
    text = text.strip().replace("Z", "+00:00").replace("z", "+00:00")
    if len(text) == 10:
        return dt.datetime.combine(dt.date.fromisoformat(text), dt.time(0), dt.UTC)
    value = dt.datetime.fromisoformat(text)
    if value.tzinfo is None:
        raise SystemExit(f"--as-of {text!r} has no time zone")
    return value.astimezone(dt.UTC)


def duration_us(text: str) -> int:
    """``<n>d``, ``<n>w`` or ``<n>h``; in UTC a calendar day is exactly 24 hours."""
    match = re.fullmatch(r"\s*(\d+)\s*([dwh])\s*", text)
    if not match or int(match.group(1)) <= 0:
        raise ValueError(f"not a duration: {text!r}")
    amount, unit = int(match.group(1)), match.group(2)
    return amount * {"h": 3_600_000_000, "d": US_PER_DAY, "w": 7 * US_PER_DAY}[unit]


def _temporal(value: Any) -> dt.date | dt.datetime:
    if isinstance(value, dt.date):
        return value
    text = str(value).strip().replace("Z", "+00:00")
    return dt.date.fromisoformat(text) if len(text) == 10 else dt.datetime.fromisoformat(text)


def start_us(value: Any) -> int:
    """A date is the midnight (UTC) starting it; a timestamp is its instant."""
    when = _temporal(value)
    if isinstance(when, dt.datetime):
        return micros(when if when.tzinfo else when.replace(tzinfo=dt.UTC))
    return micros(dt.datetime.combine(when, dt.time(0), dt.UTC))


def end_us(value: Any) -> tuple[int, bool]:
    """The upper bound of "on this day" (the next midnight, exclusive) or of an instant."""
    when = _temporal(value)
    if isinstance(when, dt.datetime):
        return start_us(when), True
    return start_us(when) + US_PER_DAY, False


@dataclass(frozen=True, slots=True)
class Window:
    """``low <= t`` (if low) and ``t <= high`` / ``t < high``, in microseconds."""

    low: int | None
    high: int | None
    high_inclusive: bool = True
    low_inclusive: bool = True


def temporal_window(op: str, arg: Any, as_of: int) -> Window:
    """SPEC's exact bounds of a date operator, relative ones counted from ``as_of``."""
    match op:
        case "within_last":
            return Window(as_of - duration_us(arg), as_of)
        case "within_next":
            return Window(as_of, as_of + duration_us(arg))
        case "more_than_ago":
            return Window(None, as_of - duration_us(arg), high_inclusive=False)
        case "between":
            high, inclusive = end_us(arg[1])
            return Window(start_us(arg[0]), high, high_inclusive=inclusive)
        case "is":
            high, inclusive = end_us(arg)
            return Window(start_us(arg), high, high_inclusive=inclusive)
        case "before":
            return Window(None, start_us(arg), high_inclusive=False)
        case "after":
            low, inclusive = end_us(arg)
            return Window(low, None, low_inclusive=not inclusive)
    raise ValueError(f"unknown date operator {op!r}")


def in_window(values: npt.NDArray[np.int64], known: Bools, window: Window) -> Bools:
    hit = known.copy()
    if window.low is not None:
        hit &= values >= window.low if window.low_inclusive else values > window.low
    if window.high is not None:
        hit &= values <= window.high if window.high_inclusive else values < window.high
    return hit


def count_matches(counts: npt.NDArray[Any], spec: Cond) -> Bools:
    """A number condition on a count or number column (NaN, i.e. unknown, matches nothing)."""
    ((op, arg),) = spec.items()
    match op:
        case "is":
            return np.asarray(counts == arg, dtype=np.bool_)
        case "gt":
            return np.asarray(counts > arg, dtype=np.bool_)
        case "gte":
            return np.asarray(counts >= arg, dtype=np.bool_)
        case "lt":
            return np.asarray(counts < arg, dtype=np.bool_)
        case "lte":
            return np.asarray(counts <= arg, dtype=np.bool_)
        case "between":
            return np.asarray((counts >= arg[0]) & (counts <= arg[1]), dtype=np.bool_)
    raise ValueError(f"unknown number operator {op!r}")


def canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True, default=str)


# ---- the data: entities on dense row numbers ----------------------------------------------


def scan(data: Path, table: str) -> pl.LazyFrame:
    single = data / f"{table}.parquet"
    if single.exists():
        return pl.scan_parquet(single)
    return pl.scan_parquet(data / table / "**" / "*.parquet", hive_partitioning=True)


@dataclass
class Needs:
    """What the segment set reads, per entity: read only those columns and tables."""

    builtin: dict[str, set[str]] = field(default_factory=lambda: {e: set() for e in ENTITY})
    custom: dict[str, set[str]] = field(default_factory=lambda: {e: set() for e in ENTITY})
    events: set[str] = field(default_factory=set)
    links: bool = False

    def walk(self, entity: str, cond: Cond) -> None:
        ((key, value),) = cond.items()
        if key in ("all", "any", "none"):
            for item in value:
                self.walk(entity, item)
        elif key == "timeline":
            self.events.add(entity)
        elif key in ("people", "organizations"):
            self.links = True
            if "where" in value:
                self.walk("person" if key == "people" else "organization", value["where"])
        elif key.startswith("custom."):
            self.custom[entity].add(key.removeprefix("custom."))
        elif key in BUILTIN:  # (``rollup.`` columns come from the rollups, always computed)
            self.builtin[entity].add(key)


@dataclass
class Events:
    """Events attributed to an entity's rows, none after ``as_of``, sorted by time."""

    row: Rows
    kind: npt.NDArray[np.uint8]  # index into KINDS
    at: npt.NDArray[np.int64]  # microseconds since the epoch, UTC

    def between(self, low: int | None, high: int, high_inclusive: bool) -> slice:
        """The events with ``low <= at`` and ``at <= high`` (``<`` if exclusive): a slice."""
        first = 0 if low is None else int(np.searchsorted(self.at, low, side="left"))
        last = int(np.searchsorted(self.at, high, side="right" if high_inclusive else "left"))
        return slice(first, last)


@dataclass(frozen=True, slots=True)
class Sparse:
    """A custom attribute: its values for the rows that have one (at most one per row)."""

    rows: Rows
    values: pl.Series


@dataclass
class Table:
    """One entity: its rows in (property_id, id) order, which is the output order too."""

    entity: str
    keys: pl.DataFrame  # property_id, id: the row number is the dense key
    properties: list[str]  # sorted property ids; ``prop`` indexes into them
    prop: npt.NDArray[np.uint8]
    columns: pl.DataFrame  # the built-in columns the segments read, in row order
    custom: dict[str, Sparse] = field(default_factory=dict)
    events: Events | None = None

    @property
    def n(self) -> int:
        return self.keys.height


def key_frame(table: Table) -> pl.LazyFrame:
    """``property_id``, the id and the row number: what every input is joined to once."""
    return table.keys.lazy().with_row_index("row")


def normalized(raw: pl.Series, kind: str) -> pl.Series:
    """SPEC's normalized form of text (trimmed, lower-cased) or a phone (its digits), null
    when blank."""
    if kind.startswith("phone"):
        value = raw.str.replace_all("[^0-9]+", "")
    else:
        value = raw.str.strip_chars(WHITESPACE).str.to_lowercase()
        for old, new in CASE_FIXES:
            if value.str.contains(old, literal=True).any():  # rare: skip the rewrite otherwise
                value = value.str.replace_all(old, new, literal=True)
    return value.replace("", None)


@dataclass(frozen=True, slots=True)
class Coded:
    """A low-cardinality text column: codes into a dictionary of the distinct normalized
    values (its last entry is null: unknown). Predicates run on the dictionary only."""

    codes: Rows
    dictionary: pl.Series

    def known(self) -> Bools:
        return self.dictionary.is_not_null().to_numpy()[self.codes]


Text = pl.Series | Coded


def encoded(raw: pl.Series, kind: str) -> Text:
    """``raw`` normalized, dictionary-coded when a sample shows few distinct values (tags,
    job titles, plans): then only the distinct values are normalized and tested."""
    sample = raw.sample(min(len(raw), 10_000), seed=0)
    if sample.n_unique() > len(sample) // 20:
        return normalized(raw, kind)
    distinct = raw.drop_nulls().unique()
    codes = raw.cast(pl.Enum(distinct)).to_physical().fill_null(len(distinct))
    dictionary = normalized(distinct, kind).extend_constant(None, 1)
    return Coded(codes.to_numpy().astype(np.uint32), dictionary)


def load_tables(data: Path, needs: Needs) -> dict[str, Table]:
    """Each entity's key-sorted rows with the built-in columns the segments read (both
    entities collected together, in parallel)."""
    plans = []
    for entity, (name, id_column) in ENTITY.items():
        builtin = sorted(needs.builtin[entity])
        plans.append(
            scan(data, name)
            .select("property_id", id_column, *builtin)
            .sort("property_id", id_column)
        )
    frames = pl.collect_all(plans)
    properties = sorted(set().union(*(f["property_id"].unique() for f in frames)))
    tables = {}
    for (entity, (_, id_column)), frame in zip(ENTITY.items(), frames, strict=True):
        prop = frame["property_id"].cast(pl.Enum(properties)).to_physical().to_numpy()
        tables[entity] = Table(
            entity,
            frame.select("property_id", id_column),
            properties,
            prop.astype(np.uint8),
            frame.drop("property_id", id_column),
        )
    return tables


def custom_values(
    data: Path, table: Table, keys: list[str], types: dict[tuple[str, str], str]
) -> pl.LazyFrame:
    """The entity's values of the custom ``keys``, as (row, key, value columns)."""
    id_column = ENTITY[table.entity][1]
    value_columns = sorted({VALUE_COLUMN[types[(table.entity, k)]] for k in keys})
    return (
        scan(data, "attribute_values")
        .filter((pl.col("entity") == table.entity) & pl.col("key").is_in(keys))
        .select("property_id", pl.col("entity_id").alias(id_column), "key", *value_columns)
        .join(key_frame(table), on=["property_id", id_column], how="inner")
        .select("row", "key", *value_columns)
    )


def store_custom(
    table: Table, values: pl.DataFrame, keys: list[str], types: dict[tuple[str, str], str]
) -> None:
    """Each custom attribute as (row, value) pairs: predicates run on those values only,
    and their results are spread to every row (false where the entity has no value)."""
    for key in keys:
        column = VALUE_COLUMN[types[(table.entity, key)]]
        part = values.filter(pl.col("key") == key).select("row", column)
        if part["row"].is_duplicated().any():  # valid input has one value per (entity, key)
            part = part.unique("row", keep="first", maintain_order=True)
        table.custom[key] = Sparse(part["row"].to_numpy().astype(np.uint32), part[column])


def links_frame(data: Path, orgs: Table, people: Table) -> pl.LazyFrame:
    """Distinct (organization row, person row) pairs of ``organization_people``."""
    return (
        scan(data, "organization_people")
        .select("property_id", "org_id", "person_id")
        .join(key_frame(orgs).rename({"row": "org_row"}), on=["property_id", "org_id"])
        .join(key_frame(people).rename({"row": "person_row"}), on=["property_id", "person_id"])
        .select("org_row", "person_row")
        .unique()
    )


def load_events(
    data: Path, as_of: int, orgs: Table, people: Table, wanted: set[str]
) -> tuple[pl.DataFrame | None, pl.DataFrame | None]:
    """Events up to ``as_of`` as (row, kind, at) per entity, sorted by time.

    An event belongs to its ``org_id``; without one, to every organization linked to its
    ``person_id``. Person segments count the events carrying their ``person_id``.
    """
    timeline = (
        scan(data, "timeline")
        .select(
            "property_id",
            "org_id",
            "person_id",
            pl.col("kind").cast(pl.Enum(KINDS)).to_physical().alias("kind"),
            pl.col("occurred_at").dt.epoch("us").alias("at"),
        )
        .filter(pl.col("at") <= as_of)
    )
    plans: dict[str, pl.LazyFrame] = {}
    if "organization" in wanted:
        direct = timeline.filter(pl.col("org_id").is_not_null()).join(
            key_frame(orgs), on=["property_id", "org_id"]
        )
        links = (
            scan(data, "organization_people")
            .join(key_frame(orgs), on=["property_id", "org_id"])
            .select("property_id", "person_id", "row")
        )
        via_people = timeline.filter(pl.col("org_id").is_null()).join(
            links, on=["property_id", "person_id"]
        )
        plans["organization"] = pl.concat(
            [direct.select("row", "kind", "at"), via_people.select("row", "kind", "at")]
        ).sort("at")
    if "person" in wanted:
        plans["person"] = (
            timeline.filter(pl.col("person_id").is_not_null())
            .join(key_frame(people), on=["property_id", "person_id"])
            .select("row", "kind", "at")
            .sort("at")
        )
    # Collected together, so that the timeline is scanned once for both.
    frames = dict(zip(plans, pl.collect_all(list(plans.values())), strict=True))
    return frames.get("organization"), frames.get("person")


def as_events(frame: pl.DataFrame) -> Events:
    return Events(
        frame["row"].to_numpy().astype(np.uint32),
        frame["kind"].to_numpy().astype(np.uint8),
        frame["at"].to_numpy(),
    )


# ---- rollups and daily counts ---------------------------------------------------------------


def rollup_columns(table: Table, as_of: int) -> dict[str, npt.NDArray[Any]]:
    """``timeline_rollups``' columns in row order: the counts, then the first and last
    event as microseconds (``NO_EVENT`` when the organization has none)."""
    events = table.events
    assert events is not None
    n = table.n
    columns: dict[str, npt.NDArray[Any]] = {}
    # One bincount per window over row * 4 + kind: all four kinds at once.
    code = events.row.astype(np.int64) * len(KINDS) + events.kind
    windows = [(f"{d}d", as_of - d * US_PER_DAY) for d in ROLLUP_WINDOWS] + [("total", None)]
    for label, low in windows:
        part = code[events.between(low, as_of, True)]
        counts = np.bincount(part, minlength=n * len(KINDS)).reshape(n, len(KINDS))
        for kind in ROLLUP_KINDS:
            columns[f"{kind}s_{label}"] = counts[:, KINDS.index(kind)].astype(np.int64)
    # Unbuffered per-row min / max (numpy's ufunc.at is fast since 1.25): no group-by.
    first = np.full(n, np.iinfo(np.int64).max, dtype=np.int64)
    np.minimum.at(first, events.row, events.at)
    first[first == np.iinfo(np.int64).max] = NO_EVENT
    last = np.full(n, NO_EVENT, dtype=np.int64)
    np.maximum.at(last, events.row, events.at)
    columns["first_interaction_at"] = first
    columns["last_interaction_at"] = last
    return columns


def write_rollups(table: Table, columns: dict[str, npt.NDArray[Any]], out: Path) -> int:
    keys = _key_columns(table, "org_id")
    frame = pl.DataFrame(
        [
            *keys,
            *(
                pl.Series(name, values)
                for name, values in columns.items()
                if "interaction" not in name
            ),
            *(
                pl.Series(name, columns[name])
                .cast(pl.Datetime("us", "UTC"))
                .scatter(np.flatnonzero(columns[name] == NO_EVENT), None)
                for name in ("first_interaction_at", "last_interaction_at")
            ),
        ]
    )
    _write(frame, out / "timeline_rollups")
    return frame.height


def write_daily(table: Table, out: Path) -> int:
    """``timeline_daily``: events per organization, UTC day and kind, in key order.

    (row, day, kind) packed into one integer whose order is the table's: one sort and a
    run-length encoding instead of a group-by and a sort of the groups."""
    events = table.events
    assert events is not None
    day = events.at // US_PER_DAY
    first_day = int(day.min()) if len(day) else 0
    packed = (
        (events.row.astype(np.int64) << 24) | ((day - first_day) << 2) | events.kind
    )  # 22 bits of days (11,000 years), 2 of kind (codes in code point order of the names)
    runs = pl.Series(packed).sort().rle().struct.unnest()
    value = runs["value"].to_numpy()
    rows = value >> 24
    frame = pl.DataFrame(
        [
            pl.Series("property_id", table.prop[rows].astype(np.uint32)).cat.to(
                pl.Enum(table.properties)
            ),
            table.keys["org_id"].gather(rows),
            pl.Series("day", ((value >> 2) & ((1 << 22) - 1)) + first_day).cast(pl.Date),
            pl.Series("kind", (value & 3).astype(np.uint32)).cat.to(pl.Enum(KINDS)),
            runs["len"].cast(pl.Int64).alias("events"),
        ]
    )
    _write(frame, out / "timeline_daily")
    return frame.height


def _key_columns(table: Table, id_name: str) -> list[pl.Series]:
    return [
        pl.Series("property_id", table.prop.astype(np.uint32)).cat.to(pl.Enum(table.properties)),
        table.keys[ENTITY[table.entity][1]].alias(id_name),
    ]


def _write(frame: pl.DataFrame, directory: Path) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    frame.write_parquet(directory / "part-0.parquet", compression="zstd")


# ---- predicates, each evaluated once --------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PackedBits:
    bits: npt.NDArray[np.uint8]
    n: int


@dataclass
class Evaluator:
    tables: dict[str, Table]
    types: dict[tuple[str, str], str]  # (entity, custom key) -> attribute type
    as_of: int
    links: tuple[Rows, Rows] | None
    rollups: dict[str, npt.NDArray[Any]] | None
    flags: dict[str, Bools] = field(default_factory=dict)  # segment id -> members
    cache: dict[tuple[str, ...], Any] = field(default_factory=dict)
    evaluated: int = 0

    def cached(self, key: tuple[str, ...], compute: Callable[[], T]) -> T:
        """``compute()``, once per key. Boolean arrays are kept as bits (8x less memory: the
        cache holds every distinct predicate of the set) and unpacked on each use."""
        if key not in self.cache:
            computed: Any = compute()
            if isinstance(computed, np.ndarray) and computed.dtype == np.bool_:
                computed = PackedBits(np.packbits(computed), len(computed))
            self.cache[key] = computed
            self.evaluated += 1
        stored = self.cache[key]
        if isinstance(stored, PackedBits):
            return cast(T, np.unpackbits(stored.bits, count=stored.n).view(np.bool_))
        return cast(T, stored)

    def segment(self, definition: Cond) -> Bools:
        """The segment's members (its ``where`` within its ``properties``), kept for the
        later segments that reference it and for the output."""
        entity = definition.get("entity", "organization")
        table = self.tables[entity]
        member = self.condition(entity, definition["where"])
        if "properties" in definition:
            codes = [table.properties.index(p) for p in definition["properties"]]
            member = member & np.isin(table.prop, codes)
        self.flags[definition["id"]] = member
        return member

    def condition(self, entity: str, cond: Cond) -> Bools:
        """A condition as one boolean per row of ``entity``: groups are array operations,
        leaves and aggregates come from the cache. Never unknown: two-valued throughout."""
        ((key, value),) = cond.items()
        n = self.tables[entity].n
        match key:
            case "all":
                return reduce(
                    np.logical_and, (self.condition(entity, c) for c in value), np.ones(n, bool)
                )
            case "any":
                return reduce(
                    np.logical_or, (self.condition(entity, c) for c in value), np.zeros(n, bool)
                )
            case "none":
                return ~self.condition(entity, {"any": value})
            case "in_segment":
                return self.flags[value]
            case "not_in_segment":
                return ~self.flags[value]
            case "timeline":
                return self.activity(entity, value)
            case "people" | "organizations":
                return self.related(entity, key, value)
        ((op, arg),) = value.items()
        if op in ("has_any_value", "is_unknown"):
            known = self.cached((entity, key, "known"), lambda: self.known(entity, key))
            return known if bool(arg) == (op == "has_any_value") else np.logical_not(known)
        positive = NEGATIVE.get(op, op)
        # Negative operators are the exact complements of the positive ones, so unknown
        # values (false for every positive operator) match them.
        hit = self.cached(
            (entity, key, positive, canonical(arg)), lambda: self.leaf(entity, key, positive, arg)
        )
        return np.logical_not(hit) if op in NEGATIVE else hit

    # -- attributes ---------------------------------------------------------------------

    def attr_type(self, entity: str, key: str) -> str:
        if key.startswith("custom."):
            return self.types[(entity, key.removeprefix("custom."))]
        if key.startswith("rollup."):
            return "datetime" if key.endswith("_interaction_at") else "number"
        return BUILTIN[key]

    def raw(self, entity: str, key: str) -> tuple[Rows | None, pl.Series]:
        """The stored values and the rows they belong to (None: every row, in order)."""
        table = self.tables[entity]
        if key.startswith("custom."):
            sparse = table.custom[key.removeprefix("custom.")]
            return sparse.rows, sparse.values
        return None, table.columns[key]

    def spread(self, entity: str, rows: Rows | None, values: npt.NDArray[Any], fill: Any) -> Any:
        """``values`` of ``rows`` as one value per row of the entity, ``fill`` elsewhere."""
        if rows is None:
            return values
        dense = np.full(self.tables[entity].n, fill, dtype=values.dtype)
        dense[rows] = values
        return dense

    def text(self, entity: str, key: str) -> Text:
        """Normalized text (phones: their digits), null when unknown."""

        def compute() -> Text:
            rows, raw = self.raw(entity, key)
            text = encoded(raw, self.attr_type(entity, key))
            self.drop_raw(entity, key)  # the normalized form is all that is read from now on
            if rows is None:
                return text
            if isinstance(text, Coded):  # the dictionary's last entry is the unknown value
                codes = self.spread(entity, rows, text.codes, len(text.dictionary) - 1)
                return Coded(codes, text.dictionary)
            every = pl.DataFrame({"row": np.arange(self.tables[entity].n, dtype=np.uint32)})
            given = pl.DataFrame({"row": rows, "text": text})
            return every.join(given, on="row", how="left", maintain_order="left")["text"]

        return self.cached((entity, key, "text"), compute)

    def drop_raw(self, entity: str, key: str) -> None:
        table = self.tables[entity]
        if key.startswith("custom."):
            del table.custom[key.removeprefix("custom.")]
        else:
            table.columns = table.columns.drop(key)

    def elements(self, entity: str, key: str) -> tuple[Rows, Text]:
        """A list attribute exploded once: (row, normalized element), blank elements dropped."""

        def compute() -> tuple[Rows, Text]:
            kind = "phone" if self.attr_type(entity, key) == "phone_list" else "text"
            owners, raw = self.raw(entity, key)
            exploded = pl.DataFrame({"element": raw}).with_row_index("row").explode("element")
            self.drop_raw(entity, key)  # the exploded form is all that is read from now on
            rows = exploded["row"].to_numpy().astype(np.uint32)
            if owners is not None:
                rows = owners[rows]
            text = encoded(exploded["element"], kind)
            if isinstance(text, Coded):
                known = text.known()
                return rows[known], Coded(text.codes[known], text.dictionary)
            present = text.is_not_null()
            return rows[present.to_numpy()], text.filter(present)

        return self.cached((entity, key, "elements"), compute)

    def numbers(self, entity: str, key: str) -> npt.NDArray[np.float64]:
        """Floats, NaN where unknown (NaN compares false to everything)."""

        def compute() -> npt.NDArray[np.float64]:
            if key.startswith("rollup."):
                assert self.rollups is not None
                return self.rollups[key.removeprefix("rollup.")].astype(np.float64)
            rows, raw = self.raw(entity, key)
            values = raw.cast(pl.Float64).fill_nan(None).fill_null(np.nan).to_numpy()
            return cast(npt.NDArray[np.float64], self.spread(entity, rows, values, np.nan))

        return self.cached((entity, key, "numbers"), compute)

    def instants(self, entity: str, key: str) -> tuple[npt.NDArray[np.int64], Bools]:
        """Microseconds and a known mask; a ``date`` attribute is the midnight of its day."""

        def compute() -> tuple[npt.NDArray[np.int64], Bools]:
            if key.startswith("rollup."):
                assert self.rollups is not None
                values = self.rollups[key.removeprefix("rollup.")]
                return values, values != NO_EVENT
            rows, raw = self.raw(entity, key)
            series = raw.dt.epoch("us")
            values = series.fill_null(0).to_numpy()
            if self.attr_type(entity, key) == "date":
                values = values // US_PER_DAY * US_PER_DAY
            known = series.is_not_null().to_numpy()
            return self.spread(entity, rows, values, 0), self.spread(entity, rows, known, False)

        return self.cached((entity, key, "instants"), compute)

    def known(self, entity: str, key: str) -> Bools:
        kind = self.attr_type(entity, key)
        if kind in ("text", "phone"):
            text = self.text(entity, key)
            return text.known() if isinstance(text, Coded) else text.is_not_null().to_numpy()
        if kind in ("list", "phone_list"):
            rows, _ = self.elements(entity, key)
            hit = np.zeros(self.tables[entity].n, bool)
            hit[rows] = True
            return hit
        if kind == "number":
            return ~np.isnan(self.numbers(entity, key))
        if kind in ("date", "datetime"):
            return self.instants(entity, key)[1]
        owners, raw = self.raw(entity, key)  # a boolean
        return cast(Bools, self.spread(entity, owners, raw.is_not_null().to_numpy(), False))

    def leaf(self, entity: str, key: str, op: str, arg: Any) -> Bools:
        """A positive operator; false wherever the value is unknown."""
        kind = self.attr_type(entity, key)
        if kind in ("text", "phone", "list", "phone_list"):
            norm = normalize_phone if kind.startswith("phone") else normalize_text
            wanted = [norm(v) for v in (arg if op == "in" else [arg])]
            if kind in ("text", "phone"):
                return text_hit(self.text(entity, key), op, wanted)
            rows, elements = self.elements(entity, key)
            hit = np.zeros(self.tables[entity].n, bool)
            hit[rows[text_hit(elements, op, wanted)]] = True
            return hit
        if kind == "number":
            return count_matches(self.numbers(entity, key), {op: arg})
        if kind == "boolean":
            owners, raw = self.raw(entity, key)
            hit = (raw == bool(arg)).fill_null(False).to_numpy()
            return cast(Bools, self.spread(entity, owners, hit, False))
        values, known = self.instants(entity, key)
        return in_window(values, known, temporal_window(op, arg, self.as_of))

    # -- aggregates -------------------------------------------------------------------

    def activity(self, entity: str, spec: Cond) -> Bools:
        """Whether the count of events of ``kind`` in the window (0 when none) matches."""
        kind = spec.get("kind", "any")
        kinds = list(KINDS) if kind == "any" else [kind] if isinstance(kind, str) else kind
        low: int | None = None
        high, inclusive = self.as_of, True
        if "within_last" in spec:
            low = self.as_of - duration_us(spec["within_last"])
        elif "between" in spec:
            low = start_us(spec["between"][0])
            end, end_inclusive = end_us(spec["between"][1])
            if end < self.as_of or (end == self.as_of and not end_inclusive):
                high, inclusive = end, end_inclusive  # the window ends before as_of

        count = spec.get("count", {"gte": 1})

        def compute() -> Bools:
            events = self.tables[entity].events
            assert events is not None
            window = events.between(low, high, inclusive)
            rows = events.row[window]
            if len(kinds) < len(KINDS):
                wanted = np.zeros(len(KINDS), bool)
                wanted[[KINDS.index(k) for k in kinds]] = True
                rows = rows[wanted[events.kind[window]]]
            return count_matches(np.bincount(rows, minlength=self.tables[entity].n), count)

        window = (",".join(sorted(kinds)), str(low), str(high), str(inclusive))
        return self.cached((entity, "timeline", *window, canonical(count)), compute)

    def related(self, entity: str, relation: str, spec: Cond) -> Bools:
        """Whether the count of distinct linked entities of the other kind matching the
        nested filter matches."""
        other = "person" if relation == "people" else "organization"
        count = spec.get("count", {"gte": 1})

        def compute() -> Bools:
            assert self.links is not None
            org_rows, person_rows = self.links
            own, theirs = (
                (org_rows, person_rows) if entity == "organization" else (person_rows, org_rows)
            )
            if "where" in spec:
                own = own[self.condition(other, spec["where"])[theirs]]
            return count_matches(np.bincount(own, minlength=self.tables[entity].n), count)

        key = (entity, relation, canonical(spec.get("where")), canonical(count))
        return self.cached(key, compute)


def text_hit(column: Text, op: str, values: list[str]) -> Bools:
    """A text operator on every value (false where unknown); on a coded column, on its
    dictionary, then looked up by code."""
    if isinstance(column, Coded):
        return _text_hit(column.dictionary, op, values).to_numpy()[column.codes]
    return _text_hit(column, op, values).to_numpy()


def _text_hit(column: pl.Series, op: str, values: list[str]) -> pl.Series:
    match op:
        case "is" | "in":
            hit = column.is_in(values)
        case "contains":
            hit = reduce(lambda a, b: a | b, (column.str.contains(v, literal=True) for v in values))
        case "starts_with":
            hit = reduce(lambda a, b: a | b, (column.str.starts_with(v) for v in values))
        case "ends_with":
            hit = reduce(lambda a, b: a | b, (column.str.ends_with(v) for v in values))
        case _:
            raise ValueError(f"unknown text operator {op!r}")
    return hit.fill_null(False)


# ---- membership ---------------------------------------------------------------------------


def write_membership(
    definitions: list[Cond], evaluator: Evaluator, run_id: str, as_of: dt.datetime, out: Path
) -> int:
    """One ``flatnonzero`` per segment, in segment id order: the rows come out sorted by
    (segment_id, property_id, entity_id) without sorting the long table. Written in batches
    of about ``BATCH_ROWS`` rows, so the long table is never whole in memory."""
    orgs, people = evaluator.tables["organization"], evaluator.tables["person"]
    # Both entities' rows on one axis: people after organizations.
    offset = {"organization": 0, "person": orgs.n}
    ids = pl.concat([orgs.keys["org_id"], people.keys["person_id"]]).alias("entity_id")
    prop = np.concatenate([orgs.prop, people.prop]).astype(np.uint32)
    ordered = sorted(definitions, key=lambda d: d["id"])
    segment_ids = pl.Enum([d["id"] for d in ordered])
    entities = pl.Enum(list(ENTITY))
    properties, run = pl.Enum(orgs.properties), pl.Enum([run_id])

    def batch(parts: list[tuple[int, int, Rows]]) -> pl.DataFrame:
        rows = np.concatenate([r for _, _, r in parts])
        sizes = [len(r) for _, _, r in parts]

        def enum(name: str, codes: npt.NDArray[Any], dtype: pl.Enum) -> pl.Series:
            return pl.Series(name, codes.astype(np.uint32)).cat.to(dtype)

        return pl.DataFrame(
            [
                enum("property_id", prop[rows], properties),
                enum("segment_id", np.repeat([s for s, _, _ in parts], sizes), segment_ids),
                enum("entity", np.repeat([e for _, e, _ in parts], sizes), entities),
                ids.gather(rows),
                enum("run_id", np.zeros(len(rows)), run),
                pl.repeat(as_of, len(rows), dtype=pl.Datetime("us", "UTC"), eager=True).alias(
                    "as_of"
                ),
            ]
        )

    directory = out / "segment_membership"
    directory.mkdir(parents=True, exist_ok=True)
    count = 0
    writer: pq.ParquetWriter | None = None
    pending: list[tuple[int, int, Rows]] = []
    pending_rows = 0
    for code, definition in enumerate(ordered):
        entity = definition.get("entity", "organization")
        rows = np.flatnonzero(evaluator.flags[definition["id"]]).astype(np.uint32)
        pending.append((code, list(ENTITY).index(entity), rows + offset[entity]))
        pending_rows += len(rows)
        if pending_rows >= BATCH_ROWS or code == len(ordered) - 1:
            table = batch(pending).to_arrow()
            if writer is None:
                writer = pq.ParquetWriter(
                    directory / "part-0.parquet", table.schema, compression="zstd"
                )
            writer.write_table(table)
            count += pending_rows
            pending, pending_rows = [], 0
    if writer is None:  # no segment at all: an empty table with the published columns
        batch([(0, 0, np.zeros(0, np.uint32))]).write_parquet(directory / "part-0.parquet")
    else:
        writer.close()
    return count


def run_id_of(data: Path, definitions: list[Cond], as_of: dt.datetime) -> str:
    """``<as_of>-<8 hex>``: a fingerprint of the input files and the definitions."""
    digest = hashlib.sha256(canonical(definitions).encode())
    for path in sorted(data.rglob("*.parquet")):
        stat = path.stat()
        digest.update(f"{path.relative_to(data)}:{stat.st_size}:{stat.st_mtime_ns}".encode())
    return f"{as_of:%Y%m%dT%H%M%SZ}-{digest.hexdigest()[:8]}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, required=True)
    parser.add_argument("--segments-count", type=int, required=True)
    parser.add_argument("--as-of", required=True)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args(argv)

    seconds: dict[str, float] = {}
    peaks: dict[str, int] = {}
    clock = time.perf_counter()

    def lap(name: str) -> None:
        nonlocal clock
        now = time.perf_counter()
        seconds[name] = round(now - clock, 3)
        peaks[name] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024  # KiB -> MiB
        clock = now

    as_of = parse_as_of(args.as_of)
    as_of_us = micros(as_of)
    definitions = generated_segments(args.segments_count)
    needs = Needs()
    for definition in definitions:
        needs.walk(definition.get("entity", "organization"), definition["where"])

    attributes = scan(args.data, "attributes").select("entity", "key", "type").unique().collect()
    types = {(e, k): t for e, k, t in attributes.iter_rows()}
    tables = load_tables(args.data, needs)
    for entity, table in tables.items():
        if needs.custom[entity]:
            keys = sorted(needs.custom[entity])
            values = custom_values(args.data, table, keys, types).collect()
            store_custom(table, values, keys, types)
            del values
    links = None
    if needs.links:
        pairs = links_frame(args.data, tables["organization"], tables["person"]).collect()
        links = (
            pairs["org_row"].to_numpy().astype(np.uint32),
            pairs["person_row"].to_numpy().astype(np.uint32),
        )
    lap("read")

    # The rollups and daily table are written on every run, as ``segments run`` does.
    org_events, person_events = load_events(
        args.data,
        as_of_us,
        tables["organization"],
        tables["person"],
        needs.events | {"organization"},
    )
    assert org_events is not None
    tables["organization"].events = as_events(org_events)
    if person_events is not None:
        tables["person"].events = as_events(person_events)
    del org_events, person_events
    lap("events")
    rollups = rollup_columns(tables["organization"], as_of_us)
    rollup_rows = write_rollups(tables["organization"], rollups, args.out)
    lap("rollups")
    daily_rows = write_daily(tables["organization"], args.out)
    lap("daily")

    evaluator = Evaluator(tables, types, as_of_us, links, rollups)
    for definition in definitions:  # in generation order: references point backwards
        evaluator.segment(definition)
    lap("segments")

    evaluator.cache.clear()  # only the segments' flags are read from now on
    for table in tables.values():
        table.columns, table.custom, table.events = pl.DataFrame(), {}, None
    run_id = run_id_of(args.data, definitions, as_of)
    members = write_membership(definitions, evaluator, run_id, as_of, args.out)
    lap("write")

    result = {
        "baseline": "handwritten",
        "segments": len(definitions),
        "segment_membership_rows": members,
        "timeline_rollups_rows": rollup_rows,
        "timeline_daily_rows": daily_rows,
        "distinct_predicates": evaluator.evaluated,
        "run_id": run_id,
        **{f"{name}_seconds": value for name, value in seconds.items()},
        "peak_rss_mib_after": peaks,  # the process's peak so far, at the end of each step
    }
    json.dump(result, sys.stdout)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())

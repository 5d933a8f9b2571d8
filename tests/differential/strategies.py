"""Hypothesis strategies: adversarial CRM tables and random, valid segment YAML over them.

One ``Scenario`` is one run: a timezone, an ``as_of`` (often near a DST change), the six input
tables (organizations and people over two properties with the same ids, custom attributes of
every type) and a batch of segment texts. Values come from shared pools drawn per scenario,
so that definitions hit the data: texts that differ only by case, accents or white space,
numbers and their neighbouring floats, instants exactly on window and day edges.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from hypothesis import strategies as st

from pipeline.compile.normalize import WHITESPACE

UTC = dt.UTC
TABLE_NAMES = (
    "organizations",
    "people",
    "organization_people",
    "attributes",
    "attribute_values",
    "timeline",
)
ENTITY_TABLE = {"organization": ("organizations", "org_id"), "person": ("people", "person_id")}
PROPERTIES = ("site-fr", "Site'FR")
EVENT_KINDS = ("note", "chat", "ticket", "call")
TIMEZONES = ("UTC", "Europe/Paris", "America/New_York", "Pacific/Chatham")

#: (entity, key) -> type. Keys repeat across entities (same or other type) and shadow a
#: built-in name, so that a value read for the wrong entity or column shows.
CUSTOM: dict[tuple[str, str], str] = {
    ("organization", "plan"): "text",
    ("organization", "arr"): "number",
    ("organization", "active"): "boolean",
    ("organization", "renewal"): "date",
    ("organization", "signed_at"): "datetime",
    ("organization", "labels"): "list",
    ("organization", "name"): "number",
    ("person", "plan"): "list",
    ("person", "arr"): "number",
    ("person", "active"): "boolean",
    ("person", "renewal"): "date",
    ("person", "seen_at"): "datetime",
    ("person", "name"): "text",
}
VALUE_COLUMN = {
    "text": "value_text",
    "number": "value_number",
    "boolean": "value_boolean",
    "date": "value_datetime",
    "datetime": "value_datetime",
    "list": "value_list",
}
BUILTIN = {
    "name": "text",
    "primary_email": "text",
    "emails": "list",
    "primary_phone": "phone",
    "phones": "phone list",
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
OPERATORS = {
    "text": (
        "is",
        "is_not",
        "contains",
        "not_contains",
        "starts_with",
        "ends_with",
        "in",
        "not_in",
    ),
    "list": ("is", "is_not", "contains", "not_contains", "in", "not_in"),
    "number": ("is", "is_not", "gt", "gte", "lt", "lte", "between"),
    "boolean": ("is", "is_not"),
    "temporal": (
        "is",
        "is_not",
        "before",
        "after",
        "between",
        "within_last",
        "more_than_ago",
        "within_next",
    ),
}
PRESENCE = ("is_unknown", "has_any_value")

#: Texts in groups of near-twins (equal, or not, once trimmed and case-folded), so that a
#: scenario drawing a group puts both sides of each trap into its data and definitions.
TEXT_GROUPS = (
    ("", " ", "   ", "\t x \n", "x", "X", " X "),
    ("acme", "ACME", "Acme Corp", " acme corp ", "\u00a0acme\u3000", "\x85acme", "\u2028acme"),
    ("acme", "\u200bacme", "\x1facme\x1c", "a\nb", "tab\there"),  # not white space
    ("École", "école", "ecole", "ÉCOLE", "e\u0301cole"),  # no Unicode normalization in SPEC
    ("İstanbul", "istanbul", "ISTANBUL", "ıstanbul", "i\u0307stanbul", "İ", "i"),
    ("ΟΔΟΣ", "οδος", "οδοσ", "Σ", "ς", "σ", "ΣΑΣ"),
    ("Straße", "STRASSE", "ẞ", "ß", "ﬁ", "FI"),
    ("\u212a", "k", "K", "\u2126", "ω", "Ω", "ǅ", "ǆ", "Ǆ", "Ꭰ", "ꭰ", "🙂"),
    ("\ua7cb", "\u0264", "\U00010d50", "\U00010d70"),  # Unicode 16 case pairs
    ("%", "_", ".", "*", "a%b", "a_b", "a.b", "a*b", "axb", "100%", "\\", "\\%"),
    ("'", '"', "''", "it's", "'; DROP TABLE x; --", '"; DROP TABLE x; --', "$1", "?"),
    ("NULL", "null", "None", "nan", "true", "[]"),  # text, not null
    ("01000", "1000", "1.50", "1.5", "75001", "2026-01-31", "007"),  # YAML reads numbers
    ("cto", "CTO", "Director", "chief technology officer"),
)
TEXT_ALPHABET = "aAeéÉiIİıΣσςßẞ %_'\\\t\u00a0.-0"
PHONE_GROUPS = (
    ("", "   ", "ext.", "n/a", "---", "٠١٢٣", "１２３", "%", "_"),  # no ASCII digit
    ("+33 (0)1-23", "33 0 123", "330123", "+33123", "33123", "0033123"),
    ("0612345678", "06 12 34 56 78", "+33 6 12 34 56 78", "0033612345678", "612345678"),
    ("+1 (555) 010-9999", "15550109999", "tel: 0", "0", "00", "2026-01-31", "1.50", "150"),
)
PHONE_ALPHABET = "0123456789 +-()./x١"
NUMBERS = (
    *(0.0, -0.0, 1.0, -1.0, 0.1, 0.2, 0.1 + 0.2, 1 / 3, 2.5, -2.5, 1e-7, 1e20, -1e20, 1e300),
    *(5e-324, 123456789.123, 50000.0, 2.0**53 + 2, 1e16, 0.1 + 0.7, 0.00012345678901234567),
)
DURATIONS = ("1d", "2d", "7d", "30d", "90d", "365d", "1w", "2w", "52w", "1h", "23h", "24h")
DURATIONS += ("25h", "48h", "720h", "007d", "520w", "5000000d")
#: DST changes of 2025-2027 (UTC), so that ``as_of`` and its windows often straddle one.
TRANSITIONS = {
    "Europe/Paris": ("2025-03-30T01", "2025-10-26T01", "2026-03-29T01", "2026-10-25T01"),
    "America/New_York": ("2025-03-09T07", "2025-11-02T06", "2026-03-08T07", "2026-11-01T06"),
    "Pacific/Chatham": ("2025-04-05T14", "2025-09-27T14", "2026-04-04T14", "2026-09-26T14"),
}
FIXED_DATES = (dt.date(1900, 1, 1), dt.date(2000, 2, 29), dt.date(2999, 12, 31))
SEGMENT_IDS = ("entity_id", "property_id", "segment_id", "member", "entity", "p1", "name", "0")
RESERVED_PLAIN = re.compile(r"(?i)(true|false|null|yes|no|on|off|y|n|nan|inf)")
SAFE_PLAIN = re.compile(r"[A-Za-z][A-Za-z0-9 ._-]*[A-Za-z0-9]")
NUMERIC_PLAIN = re.compile(r"\+?[0-9]+(\.[0-9]+)?")


@dataclass(frozen=True)
class Scenario:
    """One run: the clock, the input tables (rows as dicts) and the segment YAML texts."""

    timezone: str
    as_of: dt.datetime
    tables: dict[str, list[dict[str, Any]]]
    segments: tuple[str, ...]

    def __repr__(self) -> str:
        # Hypothesis prints every example's repr; a failure message shows the rows that matter.
        rows = ", ".join(f"{name}={len(rows)}" for name, rows in self.tables.items() if rows)
        return (
            f"Scenario({self.timezone}, as_of={self.as_of.isoformat()}, {rows}, "
            f"segments={len(self.segments)})"
        )

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:
        printer.text(repr(self))


@dataclass(frozen=True)
class Pools:
    """Values shared by the data and the definitions of one scenario."""

    tz: ZoneInfo
    as_of: dt.datetime
    texts: tuple[str, ...]
    phones: tuple[str, ...]
    numbers: tuple[float, ...]
    dates: tuple[dt.date, ...]
    edges: tuple[dt.datetime, ...]
    instants: tuple[dt.datetime, ...]
    durations: tuple[str, ...]


# -- the clock -----------------------------------------------------------------------------


def day_start(day: dt.date, tz: dt.tzinfo) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(0), tzinfo=tz).astimezone(UTC)


def calendar_step(as_of: dt.datetime, days: int, tz: dt.tzinfo) -> dt.datetime:
    """``as_of`` moved by whole days in ``tz``, keeping the wall-clock time (SPEC 3)."""
    wall = as_of.astimezone(tz).replace(tzinfo=None) + dt.timedelta(days=days)
    return wall.replace(tzinfo=tz).astimezone(UTC)


def duration_steps(duration: str) -> tuple[int, int]:
    """(calendar days, exact hours) of a duration."""
    amount, unit = int(duration[:-1]), duration[-1]
    return {"d": (amount, 0), "w": (7 * amount, 0), "h": (0, amount)}[unit]


@st.composite
def clocks(draw: st.DrawFn) -> tuple[str, dt.datetime]:
    name = draw(st.sampled_from(TIMEZONES))
    if name in TRANSITIONS and draw(st.booleans()):
        change = dt.datetime.fromisoformat(draw(st.sampled_from(TRANSITIONS[name])) + ":00+00:00")
        offset = dt.timedelta(minutes=draw(st.integers(-5 * 24 * 60, 40 * 24 * 60)))
        as_of = change + offset
    else:
        low, high = dt.datetime(2025, 1, 1), dt.datetime(2027, 12, 31)
        as_of = draw(st.datetimes(low, high, timezones=st.just(UTC)))
    if draw(st.booleans()):
        as_of = as_of.replace(microsecond=draw(st.sampled_from((0, 1, 999_999))))
    return name, as_of.astimezone(UTC)


# -- pools ---------------------------------------------------------------------------------


def _start_and_next(day: dt.date, tz: dt.tzinfo) -> list[dt.datetime]:
    next_day = day + dt.timedelta(days=1)
    return [day_start(day, tz), day_start(next_day, tz)]


@st.composite
def pools(draw: st.DrawFn, timezone: str, as_of: dt.datetime) -> Pools:
    tz = ZoneInfo(timezone)
    groups = draw(st.lists(st.sampled_from(TEXT_GROUPS), min_size=1, max_size=3, unique=True))
    texts = {text for group in groups for text in group}
    texts |= set(draw(st.lists(st.text(TEXT_ALPHABET, max_size=5), max_size=3)))
    groups = draw(st.lists(st.sampled_from(PHONE_GROUPS), min_size=1, max_size=2, unique=True))
    phones = {phone for group in groups for phone in group}
    phones |= set(draw(st.lists(st.text(PHONE_ALPHABET, max_size=8), max_size=2)))
    number = st.one_of(
        st.sampled_from(NUMBERS),
        st.floats(allow_nan=False, allow_infinity=False),
        st.integers(-1000, 1000).map(float),
        st.decimals(-1000, 1000, places=3).map(float),
    )
    numbers = draw(st.lists(number, min_size=1, max_size=6))

    # Few durations and dates, so that the data often sits exactly on their bounds.
    durations = draw(st.lists(st.sampled_from(DURATIONS), min_size=1, max_size=3, unique=True))
    steps = [as_of]
    for duration in durations:
        days, hours = duration_steps(duration)
        for sign in (-1, 1):
            with contextlib.suppress(OverflowError):  # 5000000d leaves the calendar
                moved = calendar_step(as_of, sign * days, tz) + sign * dt.timedelta(hours=hours)
                steps.append(moved)
    local = as_of.astimezone(tz).date()
    candidates = {local + dt.timedelta(days=n) for n in (-1, 0, 1)} | {as_of.date()}
    candidates |= {step.astimezone(tz).date() for step in steps}
    candidates |= {
        local + dt.timedelta(days=n) for n in draw(st.lists(st.integers(-120, 120), max_size=2))
    }
    candidates |= set(draw(st.lists(st.sampled_from(FIXED_DATES), max_size=1)))
    dates = draw(st.lists(st.sampled_from(sorted(candidates)), min_size=1, max_size=4, unique=True))

    # Exact bounds: as_of, as_of -/+ each duration, where each date starts and ends in the
    # run's timezone, and UTC midnights (what a date attribute's stored value is read by).
    edges = set(steps)
    for day in dates:
        edges |= {*_start_and_next(day, tz), *_start_and_next(day, UTC)}
    microsecond = dt.timedelta(microseconds=1)
    near = {edge + sign * microsecond for edge in edges for sign in (-1, 1)}
    others = set()
    for duration in durations:  # windows measured in 24-hour days, for contrast
        days, hours = duration_steps(duration)
        for sign in (-1, 1):
            with contextlib.suppress(OverflowError):
                others.add(as_of + sign * dt.timedelta(days=days, hours=hours))
    spread = st.integers(-200 * 86400, 200 * 86400).map(lambda s: as_of + dt.timedelta(seconds=s))
    others |= set(draw(st.lists(spread, max_size=3)))
    return Pools(
        tz=tz,
        as_of=as_of,
        texts=tuple(sorted(texts)),
        phones=tuple(sorted(phones)),
        numbers=tuple(numbers),
        dates=tuple(dates),
        edges=tuple(sorted(edges)),
        instants=tuple(sorted(edges | near | others)),
        durations=tuple(durations),
    )


def instant_values(p: Pools) -> st.SearchStrategy[dt.datetime]:
    """Instants exactly on a bound over half of the time, else a microsecond off or elsewhere."""
    return st.one_of(st.sampled_from(p.edges), st.sampled_from(p.instants))


# -- data ----------------------------------------------------------------------------------


def _maybe(values: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return st.one_of(st.none(), values)


def list_values(elements: st.SearchStrategy[str]) -> st.SearchStrategy[list[str | None] | None]:
    return st.one_of(
        st.none(),
        st.sampled_from(([], [None], [""], ["", " "], [None, " \t"])),
        st.lists(_maybe(elements), max_size=4),
    )


def number_values(p: Pools) -> st.SearchStrategy[float]:
    neighbours = [math.nextafter(n, side) for n in p.numbers for side in (-math.inf, math.inf)]
    return st.one_of(
        st.sampled_from(p.numbers),
        st.sampled_from(neighbours),
        st.sampled_from((math.nan, math.inf, -math.inf)),
    )


def column_strategies(p: Pools) -> dict[str, st.SearchStrategy[Any]]:
    """One strategy per value kind, built once per scenario (building them is the slow part)."""
    texts, phones = st.sampled_from(p.texts), st.sampled_from(p.phones)
    instants = instant_values(p)
    return {
        "text": _maybe(texts),
        "phone": _maybe(phones),
        "list": list_values(texts),
        "phone list": list_values(phones),
        "datetime": _maybe(instants),
        "custom text": texts,
        "custom number": number_values(p),
        "custom boolean": st.booleans(),
        "custom date": instants,
        "custom datetime": instants,
        # exactly one value column is set per row: a null list is not a value
        "custom list": list_values(texts).map(lambda v: [] if v is None else v),
    }


@st.composite
def tables(
    draw: st.DrawFn, p: Pools, relations: bool = False, max_size: int = 12
) -> dict[str, list[dict[str, Any]]]:
    size = draw(st.integers(1, max_size))
    ids = [str(n) for n in range(1, size + 1)]
    strategies = column_strategies(p)
    present = st.integers(0, 3)
    out: dict[str, list[dict[str, Any]]] = {name: [] for name in TABLE_NAMES}
    for entity, (table, id_column) in ENTITY_TABLE.items():
        for prop in PROPERTIES:
            for entity_id in ids:
                row = {"property_id": prop, id_column: entity_id}
                row |= {name: draw(strategies[kind]) for name, kind in BUILTIN.items()}
                out[table].append(row)
                for (kind_entity, key), kind in CUSTOM.items():
                    if kind_entity != entity or not draw(present):
                        continue
                    value_row = dict.fromkeys(VALUE_COLUMN.values())
                    value_row[VALUE_COLUMN[kind]] = draw(strategies[f"custom {kind}"])
                    key_row = {"property_id": prop, "entity": entity, "entity_id": entity_id}
                    out["attribute_values"].append({**key_row, "key": key, **value_row})
    out["attributes"] = [
        {"property_id": prop, "entity": entity, "key": key, "label": key.title(), "type": kind}
        for prop in PROPERTIES
        for (entity, key), kind in CUSTOM.items()
    ]
    if relations:
        out["organization_people"] = draw(links(ids))
        out["timeline"] = draw(events(p, ids))
    return out


@st.composite
def links(draw: st.DrawFn, ids: list[str]) -> list[dict[str, Any]]:
    """Links drawn per property: equal ids link differently; some people link to several
    organizations, some organizations to nobody."""
    pairs = st.tuples(st.sampled_from(ids), st.sampled_from(ids))
    rows = []
    for prop in PROPERTIES:
        for org, person in draw(st.lists(pairs, max_size=2 * len(ids), unique=True)):
            rows.append({"property_id": prop, "org_id": org, "person_id": person})
    return rows


def rollup_edges(p: Pools) -> tuple[dt.datetime, ...]:
    """as_of, 1µs after it, and the 7d/30d/90d window starts (and 1µs either side)."""
    micro = dt.timedelta(microseconds=1)
    out = {p.as_of, p.as_of + micro, p.as_of - micro}
    for days in (7, 30, 90):
        start = calendar_step(p.as_of, -days, p.tz)
        out |= {start, start - micro, start + micro}
    return tuple(sorted(out))


@st.composite
def events(draw: st.DrawFn, p: Pools, ids: list[str]) -> list[dict[str, Any]]:
    """Events of every kind naming an organization, a person or both; on window edges, after
    as_of, anywhere."""
    when = st.one_of(st.sampled_from(rollup_edges(p)), instant_values(p))
    rows = []
    for prop in PROPERTIES:
        for _ in range(draw(st.integers(0, 3 * len(ids)))):
            names = draw(st.sampled_from(("org", "person", "both")))
            rows.append(
                {
                    "event_id": f"e{len(rows)}",
                    "property_id": prop,
                    "org_id": draw(st.sampled_from(ids)) if names != "person" else None,
                    "person_id": draw(st.sampled_from(ids)) if names != "org" else None,
                    "kind": draw(st.sampled_from(EVENT_KINDS)),
                    "occurred_at": draw(when),
                    "author": None,
                }
            )
    return rows


# -- definition values as YAML text ----------------------------------------------------------


def _blank(text: str) -> bool:
    return not text.strip(WHITESPACE)


def quoted(text: str) -> str:
    """A YAML double-quoted scalar: printable ASCII as is, everything else escaped."""
    out = []
    for ch in text:
        if ch in '"\\':
            out.append("\\" + ch)
        elif " " <= ch <= "~":
            out.append(ch)
        elif ord(ch) < 0x10000:
            out.append(f"\\u{ord(ch):04x}")
        else:
            out.append(f"\\U{ord(ch):08x}")
    return '"' + "".join(out) + '"'


@st.composite
def text_token(draw: st.DrawFn, text: str) -> str:
    """``text`` as YAML: quoted, single-quoted, or plain where YAML would read it as text,
    a number or a date (SPEC: a number given for a text attribute is taken as its text)."""
    styles = ["double"]
    if all(" " <= ch <= "~" for ch in text):
        styles.append("single")
    if SAFE_PLAIN.fullmatch(text) and not RESERVED_PLAIN.fullmatch(text):
        styles.append("plain")
    if NUMERIC_PLAIN.fullmatch(text) or re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
        styles.append("plain")
    style = draw(st.sampled_from(styles))
    if style == "plain":
        return text
    if style == "single":
        return "'" + text.replace("'", "''") + "'"
    return quoted(text)


@st.composite
def text_value(draw: st.DrawFn, p: Pools, phone: bool, op: str) -> str:
    """A valid value for a text or phone comparison: not blank; a phone has a digit."""
    pool = [t for t in (p.phones if phone else p.texts) if t]
    text = draw(st.sampled_from(pool)) if pool else "x"
    if op in ("contains", "starts_with", "ends_with") and len(text) > 1:
        start = draw(st.integers(0, len(text) - 1))
        text = text[start : draw(st.integers(start + 1, len(text)))]
    text = draw(st.sampled_from((text, text.upper(), text.lower(), text.swapcase())))
    if draw(st.integers(0, 4)) == 0:
        text = draw(st.sampled_from((" ", "\t", "\u00a0"))) + text + " "
    if phone and not any(ch in "0123456789" for ch in text):
        text += draw(st.sampled_from("0123456789"))
    if _blank(text):
        text = "x" + text
    return draw(text_token(text))


def number_token(value: float) -> str:
    if value.is_integer() and abs(value) < 1e15:
        return str(int(value)) if value or math.copysign(1, value) > 0 else "-0.0"
    return repr(value)


@st.composite
def date_token(draw: st.DrawFn, day: dt.date) -> str:
    text = day.isoformat()
    return text if draw(st.booleans()) else quoted(text)


@st.composite
def instant_token(draw: st.DrawFn, p: Pools, instant: dt.datetime) -> str:
    """An instant written with ``Z``, an offset, or as wall-clock time in the run's zone."""
    style = draw(st.sampled_from(("z", "zone", "offset", "naive")))
    if style == "z":
        text = instant.astimezone(UTC).replace(tzinfo=None).isoformat() + "Z"
    elif style == "zone":
        text = instant.astimezone(p.tz).isoformat()
    elif style == "offset":
        minutes = draw(st.sampled_from((-300, -210, 0, 60, 345, 840)))
        text = instant.astimezone(dt.timezone(dt.timedelta(minutes=minutes))).isoformat()
    else:
        wall = instant.astimezone(p.tz).replace(tzinfo=None)
        text = wall.isoformat(sep=draw(st.sampled_from("T ")))
    return text if draw(st.booleans()) else quoted(text)


@st.composite
def temporal_point(draw: st.DrawFn, p: Pools) -> tuple[dt.datetime, str]:
    """(first instant it stands for, YAML token) for a date or a timestamp."""
    if draw(st.booleans()):
        day = draw(st.sampled_from(p.dates))
        return day_start(day, p.tz), draw(date_token(day))
    instant = draw(instant_values(p))
    return instant, draw(instant_token(p, instant))


@st.composite
def operand(draw: st.DrawFn, p: Pools, family: str, phone: bool, op: str) -> str:
    """The YAML text of a valid operand of ``op``."""
    if op in PRESENCE:
        return draw(st.sampled_from(("true", "false")))
    if family in ("text", "list"):
        if op in ("in", "not_in"):
            values = draw(st.lists(text_value(p, phone, "is"), min_size=1, max_size=6))
            return "[" + ", ".join(values) + "]"
        return draw(text_value(p, phone, op.removeprefix("not_")))
    if family == "number":
        if op == "between":
            low, high = sorted(draw(st.lists(st.sampled_from(p.numbers), min_size=2, max_size=2)))
            return f"[{number_token(low)}, {number_token(high)}]"
        return number_token(draw(st.sampled_from(p.numbers)))
    if family == "boolean":
        return draw(st.sampled_from(("true", "false")))
    if op in ("within_last", "more_than_ago", "within_next"):
        return draw(st.sampled_from(p.durations))
    if op == "between":
        points = sorted(draw(st.lists(temporal_point(p), min_size=2, max_size=2)))
        return f"[{points[0][1]}, {points[1][1]}]"
    return draw(temporal_point(p))[1]


def family_of(kind: str) -> str:
    if kind in ("text", "phone"):
        return "text"
    if kind in ("list", "phone list"):
        return "list"
    if kind in ("date", "datetime"):
        return "temporal"
    return kind


# -- segments ------------------------------------------------------------------------------


def attributes_of(entity: str, families: Sequence[str]) -> list[tuple[str, str]]:
    custom = [(f"custom.{key}", kind) for (ent, key), kind in CUSTOM.items() if ent == entity]
    return [
        (name, kind) for name, kind in [*BUILTIN.items(), *custom] if family_of(kind) in families
    ]


@st.composite
def leaf(draw: st.DrawFn, p: Pools, entity: str, families: Sequence[str]) -> list[str]:
    attributes = attributes_of(entity, families)
    # Type first, then a name: phones, phone lists and dates are few but have their own rules.
    kind = draw(st.sampled_from(sorted({kind for _, kind in attributes})))
    name = draw(st.sampled_from([name for name, other in attributes if other == kind]))
    family = family_of(kind)
    op = draw(st.sampled_from((*OPERATORS[family], *PRESENCE)))
    value = draw(operand(p, family, "phone" in kind, op))
    return [f"{name}: {{{op}: {value}}}"]


@st.composite
def condition(
    draw: st.DrawFn, p: Pools, entity: str, families: Sequence[str], depth: int = 0
) -> list[str]:
    """The YAML lines of a random condition: groups nest at most three deep."""
    if depth >= 3 or not draw(st.booleans()):
        return draw(leaf(p, entity, families))
    key = draw(st.sampled_from(("all", "any", "none")))
    lines = [f"{key}:"]
    for _ in range(draw(st.integers(1, 3))):
        child = draw(condition(p, entity, families, depth + 1))
        lines.append("  - " + child[0])
        lines.extend("    " + line for line in child[1:])
    return lines


@st.composite
def segment_text(draw: st.DrawFn, p: Pools, segment_id: str, families: Sequence[str]) -> str:
    entity = draw(st.sampled_from(("organization", "person")))
    lines = [f"id: {quoted(segment_id)}", f"name: Segment {segment_id}"]
    if entity == "person" or draw(st.booleans()):
        lines.append(f"entity: {entity}")
    scope = draw(st.sampled_from((None, None, None, [0], [1], [1, 0], [0, 0])))
    if scope is not None:
        lines.append("properties: [" + ", ".join(quoted(PROPERTIES[i]) for i in scope) + "]")
    where = draw(condition(p, entity, families))
    if len(where) == 1 and draw(st.booleans()):
        lines.append(f"where: {{{where[0]}}}")
    else:
        lines.append("where:")
        lines.extend("  " + line for line in where)
    return "\n".join(lines) + "\n"


@st.composite
def segment_ids(draw: st.DrawFn, count: int) -> list[str]:
    adversarial = draw(st.lists(st.sampled_from(SEGMENT_IDS), max_size=2, unique=True))
    plain = [f"s{n}" for n in range(count - len(adversarial))]
    return draw(st.permutations(plain + adversarial))


FAMILIES = ("text", "list", "number", "boolean", "temporal")


@st.composite
def scenarios(
    draw: st.DrawFn,
    families: Sequence[str] = FAMILIES,
    segments: tuple[int, int] = (10, 20),
    adversarial_ids: bool = True,
) -> Scenario:
    """A run over random adversarial data with a batch of segments on ``families``."""
    timezone, as_of = draw(clocks())
    p = draw(pools(timezone, as_of))
    data = draw(tables(p))
    count = draw(st.integers(*segments))
    ids = draw(segment_ids(count)) if adversarial_ids else [f"s{n}" for n in range(count)]
    texts = tuple(draw(segment_text(p, segment_id, families)) for segment_id in ids)
    return Scenario(timezone, as_of, data, texts)


# -- timeline, relationship, rollup and reference conditions ---------------------------------

ROLLUP_NUMBERS = tuple(f"{k}s_{w}" for k in EVENT_KINDS for w in ("7d", "30d", "90d", "total"))
OTHER = {"organization": "person", "person": "organization"}
RELATION = {"organization": "people", "person": "organizations"}


@st.composite
def count_condition(draw: st.DrawFn) -> str:
    op = draw(st.sampled_from(("is", "is_not", "gt", "gte", "lt", "lte", "between")))
    if op == "between":
        low, high = sorted(draw(st.lists(st.integers(0, 4), min_size=2, max_size=2)))
        return f"{{{op}: [{low}, {high}]}}"
    return f"{{{op}: {draw(st.integers(0, 4))}}}"


@st.composite
def timeline_leaf(draw: st.DrawFn, p: Pools) -> list[str]:
    parts = []
    kind = draw(st.sampled_from(("default", "any", "one", "list")))
    if kind == "any":
        parts.append("kind: any")
    elif kind == "one":
        parts.append(f"kind: {draw(st.sampled_from(EVENT_KINDS))}")
    elif kind == "list":
        kinds = draw(st.lists(st.sampled_from(EVENT_KINDS), min_size=1, max_size=4, unique=True))
        parts.append(f"kind: [{', '.join(kinds)}]")
    if draw(st.booleans()):
        parts.append(f"count: {draw(count_condition())}")
    window = draw(st.sampled_from(("all", "within_last", "between")))
    if window == "within_last":
        duration = draw(st.sampled_from((*p.durations, "7d", "30d", "90d")))
        parts.append(f"within_last: {duration}")
    elif window == "between":
        points = sorted(draw(st.lists(temporal_point(p), min_size=2, max_size=2)))
        parts.append(f"between: [{points[0][1]}, {points[1][1]}]")
    parts = draw(st.permutations(parts))
    return ["timeline: {" + ", ".join(parts) + "}"]


@st.composite
def rollup_leaf(draw: st.DrawFn, p: Pools) -> list[str]:
    if draw(st.integers(0, 3)):
        column = draw(st.sampled_from(ROLLUP_NUMBERS))
        op = draw(st.sampled_from((*OPERATORS["number"], *PRESENCE)))
        if op == "between":
            low, high = sorted(draw(st.lists(st.integers(0, 4), min_size=2, max_size=2)))
            value = f"[{low}, {high}]"
        elif op in PRESENCE:
            value = draw(st.sampled_from(("true", "false")))
        else:
            value = str(draw(st.integers(0, 4))) if draw(st.integers(0, 3)) else "0.5"
        return [f"rollup.{column}: {{{op}: {value}}}"]
    column = draw(st.sampled_from(("first_interaction_at", "last_interaction_at")))
    op = draw(st.sampled_from((*OPERATORS["temporal"], *PRESENCE)))
    return [f"rollup.{column}: {{{op}: {draw(operand(p, 'temporal', False, op))}}}"]


@st.composite
def relationship_leaf(
    draw: st.DrawFn, p: Pools, entity: str, earlier: dict[str, list[str]], depth: int, nest: int
) -> list[str]:
    key = RELATION[entity]
    count = draw(count_condition()) if draw(st.booleans()) else None
    if not draw(st.integers(0, 3)):
        return [f"{key}: {{count: {count}}}" if count else f"{key}: {{}}"]
    lines = [f"{key}:"]
    if count:
        lines.append(f"  count: {count}")
    where = draw(relational_condition(p, OTHER[entity], earlier, depth + 1, nest + 1))
    lines.append("  where:")
    lines.extend("    " + line for line in where)
    return lines


@st.composite
def relational_leaf(
    draw: st.DrawFn, p: Pools, entity: str, earlier: dict[str, list[str]], depth: int, nest: int
) -> list[str]:
    choices = ["attribute", "timeline", "timeline"]
    if nest < 2:
        choices += ["relationship", "relationship"]
    if entity == "organization":
        choices.append("rollup")
    if earlier[entity]:
        choices.append("reference")
    choice = draw(st.sampled_from(choices))
    if choice == "attribute":
        return draw(leaf(p, entity, FAMILIES))
    if choice == "timeline":
        return draw(timeline_leaf(p))
    if choice == "rollup":
        return draw(rollup_leaf(p))
    if choice == "reference":
        key = draw(st.sampled_from(("in_segment", "not_in_segment")))
        return [f"{key}: {quoted(draw(st.sampled_from(earlier[entity])))}"]
    return draw(relationship_leaf(p, entity, earlier, depth, nest))


@st.composite
def relational_condition(
    draw: st.DrawFn,
    p: Pools,
    entity: str,
    earlier: dict[str, list[str]],
    depth: int = 0,
    nest: int = 0,
) -> list[str]:
    """Like ``condition``, with timeline, rollup, people/organizations (nested at most two
    deep) and references to the ``earlier`` segments of each entity."""
    if depth >= 3 or not draw(st.booleans()):
        return draw(relational_leaf(p, entity, earlier, depth, nest))
    key = draw(st.sampled_from(("all", "any", "none")))
    lines = [f"{key}:"]
    for _ in range(draw(st.integers(1, 3))):
        child = draw(relational_condition(p, entity, earlier, depth + 1, nest))
        lines.append("  - " + child[0])
        lines.extend("    " + line for line in child[1:])
    return lines


@st.composite
def relational_scenarios(draw: st.DrawFn, segments: tuple[int, int] = (4, 8)) -> Scenario:
    """Timeline events and links over small tables, and a batch of segments in which each
    may reference the earlier ones (so the batch has no cycle)."""
    timezone, as_of = draw(clocks())
    p = draw(pools(timezone, as_of))
    data = draw(tables(p, relations=True, max_size=6))
    ids = draw(segment_ids(draw(st.integers(*segments))))
    earlier: dict[str, list[str]] = {"organization": [], "person": []}
    texts = []
    for segment_id in ids:
        entity = draw(st.sampled_from(("organization", "organization", "person")))
        lines = [f"id: {quoted(segment_id)}", f"name: Segment {segment_id}"]
        if entity == "person" or draw(st.booleans()):
            lines.append(f"entity: {entity}")
        scope = draw(st.sampled_from((None, None, None, [0], [1], [1, 0])))
        if scope is not None:
            lines.append("properties: [" + ", ".join(quoted(PROPERTIES[i]) for i in scope) + "]")
        where = draw(relational_condition(p, entity, earlier))
        lines.append("where:")
        lines.extend("  " + line for line in where)
        texts.append("\n".join(lines) + "\n")
        earlier = {**earlier, entity: [*earlier[entity], segment_id]}
    return Scenario(timezone, as_of, data, tuple(texts))

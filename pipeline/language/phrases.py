"""One attribute condition, count, value or period in plain English (for ``words.py``).

Each leaf of the checked IR becomes one sentence without a subject ("plan (custom
attribute) is 'free'", "has a primary phone"), in its positive or its negative form. A
negative form says who it lets in through an unknown value, since SPEC section 3 makes every
leaf false on an unknown value and ``is_not`` the exact complement of ``is``.

    >>> leaf(ir.TextMatch(ir.Attr("custom", "plan", AttrType.TEXT), "is", ("free",)),
    ...      Wording("organizations", None), negated=True)
    "plan (custom attribute) is not 'free' (organizations with no plan are included)"
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Final, assert_never

from pipeline.catalog import AttrType
from pipeline.language import ir

BUILTIN_NOUNS: Final[dict[str, str]] = {
    "name": "name",
    "primary_email": "primary email",
    "emails": "emails",
    "primary_phone": "primary phone",
    "phones": "phones",
    "organization": "organization",
    "job_title": "job title",
    "tags": "tags",
    "facebook_url": "Facebook URL",
    "linkedin_url": "LinkedIn URL",
    "twitter": "Twitter handle",
    "instagram": "Instagram handle",
    "created_at": "creation time",
    "updated_at": "last update time",
}

ROLLUP_PERIODS: Final[dict[str, str]] = {
    "7d": "in the last 7 days",
    "30d": "in the last 30 days",
    "90d": "in the last 90 days",
    "total": "in total",
}

ORIGIN: Final[dict[ir.AttrSource, str | None]] = {
    "builtin": None,
    "custom": "custom attribute",
    "rollup": "timeline rollup",
}

#: Past this, a span is not worth saying in days ("the 3652500 days before the run").
LONGEST_SPAN: Final = dt.timedelta(days=36_600)


@dataclass(frozen=True, slots=True)
class Wording:
    """What a sentence depends on besides its node: whom it is about (``organizations``,
    ``people``) and the run's clock, when known, to say periods relative to the run."""

    members: str
    clock: ir.Clock | None


def leaf(node: ir.Leaf, wording: Wording, negated: bool) -> str:
    """An attribute condition (or its negation) as a sentence."""
    match node:
        case ir.HasValue():
            return presence(node.attr, negated)
        case ir.TextMatch():
            return _text(node, wording, negated)
        case ir.ListMatch():
            return _list(node, wording, negated)
        case ir.NumberRange():
            return _number(node, wording, negated)
        case ir.BoolIs():
            return _boolean(node, negated)
        case ir.TimeRange():
            return _time(node, wording, negated)
        case ir.DateRange():
            return _date(node, wording, negated)
        case _:
            assert_never(node)


def unknowable(node: ir.Leaf) -> bool:
    """Whether an unknown value makes ``node`` false where its sentence does not say so
    (``has_any_value`` says it; interaction counts are 0, never unknown)."""
    if isinstance(node, ir.HasValue):
        return False
    return not (isinstance(node, ir.NumberRange) and node.attr.source == "rollup")


def unknown_included(attr: ir.Attr, wording: Wording) -> str:
    """``organizations with no plan are included``: what a negation does to unknowns."""
    return f"{wording.members} with no {noun(attr)} are included"


# -- attributes -------------------------------------------------------------------------------


def noun(attr: ir.Attr) -> str:
    """The attribute's plain name: ``plan``, ``job title``, ``number of chats in total``."""
    match attr.source:
        case "builtin":
            return BUILTIN_NOUNS.get(attr.name, attr.name.replace("_", " "))
        case "custom":
            return attr.name.replace("_", " ")
        case "rollup":
            if attr.name.endswith("_interaction_at"):
                return f"{attr.name.split('_')[0]} interaction"
            kind, _, period = attr.name.rpartition("_")
            return f"number of {kind} {ROLLUP_PERIODS.get(period, period)}"
        case _:
            assert_never(attr.source)


def label(attr: ir.Attr, note: str | None = None) -> str:
    """The noun, with where the attribute comes from and ``note`` in one parenthesis:
    ``plan (custom attribute)``, ``job title``, ``plan (custom attribute; unknown)``."""
    return parens(noun(attr), [ORIGIN[attr.source], note])


def _unknown_means(attr: ir.Attr) -> str:
    if attr.source == "rollup":
        return "no interaction up to the run"
    if attr.type == AttrType.PHONE:
        return "unknown, or no digit in it"
    if attr.type == AttrType.TEXT:
        return "unknown or blank"
    return "unknown"


def presence(attr: ir.Attr, negated: bool) -> str:
    """``has_any_value`` (or, negated, ``is_unknown``) on ``attr``."""
    if attr.type == AttrType.BOOLEAN:
        if negated:
            return f"{label(attr)} is unknown (neither true nor false)"
        return f"{label(attr)} is true or false (known)"
    if attr.type.is_list:
        if negated:
            return f"has no {label(attr, 'missing, empty or only blank elements')}"
        return f"has some {label(attr)}"
    name = noun(attr)
    if name.endswith(("s", " at")):  # not "has an employees", "has a last seen at"
        some, none = "a value for", "no value for"
    else:
        some, none = ("an" if name[:1].lower() in "aeio" else "a"), "no"
    if negated:
        return f"has {none} {label(attr, _unknown_means(attr))}"
    return f"has {some} {label(attr)}"


# -- one sentence per leaf --------------------------------------------------------------------

_TEXT_WORDS: Final[dict[str, tuple[str, str]]] = {
    "is": ("is", "is not"),
    "in": ("is one of", "is none of"),
    "contains": ("contains", "does not contain"),
    "starts_with": ("starts with", "does not start with"),
    "ends_with": ("ends with", "does not end with"),
}

_LIST_WORDS: Final[dict[str, tuple[str, str]]] = {
    "is": ("include", "do not include"),
    "in": ("include one of", "include none of"),
    "contains": ("include an element that contains", "include no element that contains"),
}


def _unknown_note(node: ir.Leaf, wording: Wording, negated: bool) -> str | None:
    """Who a negation lets in through an unknown value (SPEC section 3), where it does."""
    return unknown_included(node.attr, wording) if negated and unknowable(node) else None


def _text(node: ir.TextMatch, wording: Wording, negated: bool) -> str:
    words = f"{_TEXT_WORDS[node.op][negated]} {quoted(node.values)}"
    return parens(f"{label(node.attr)} {words}", [_unknown_note(node, wording, negated)])


def _list(node: ir.ListMatch, wording: Wording, negated: bool) -> str:
    words = f"{_LIST_WORDS[node.op][negated]} {quoted(node.values)}"
    return parens(f"{label(node.attr)} {words}", [_unknown_note(node, wording, negated)])


def _number(node: ir.NumberRange, wording: Wording, negated: bool) -> str:
    low, high = node.low, node.high
    if low is None and high is None:
        return presence(node.attr, negated)
    notes = [_unknown_note(node, wording, negated)]
    if low is not None and low == high:
        words = f"{'not ' if negated else ''}{number(low)}"
    elif negated:  # the complement: outside the range
        below = bound(low, not node.low_inclusive, ("at most", "less than"))
        above = bound(high, not node.high_inclusive, ("at least", "more than"))
        words = either(below, above)
    elif low is not None and high is not None and node.low_inclusive and node.high_inclusive:
        words = f"between {number(low)} and {number(high)}"
        notes.insert(0, "inclusive")
    else:
        lower = bound(low, node.low_inclusive, ("at least", "more than"))
        upper = bound(high, node.high_inclusive, ("at most", "less than"))
        words = " and ".join(w for w in (lower, upper) if w)
    return parens(f"{label(node.attr)} is {words}", notes)


def _boolean(node: ir.BoolIs, negated: bool) -> str:
    value = "true" if node.value else "false"
    if not negated:
        return f"{label(node.attr)} is {value}"
    other = "false" if node.value else "true"
    return f"{label(node.attr)} is not {value} (so {other} or unknown)"


def _time(node: ir.TimeRange, wording: Wording, negated: bool) -> str:
    low, high = node.low, node.high
    if low is None and high is None:
        return presence(node.attr, negated)
    day = whole_days(low, node.low_inclusive, high, node.high_inclusive, wording.clock)
    if negated:  # the complement: outside the span
        before = bound(low, node.low_inclusive, ("before", "at or before"))
        after = bound(high, node.high_inclusive, ("after", "at or after"))
        notes = [day and f"not on {day}", _unknown_note(node, wording, negated)]
        return parens(f"{label(node.attr)} is {either(before, after)}", notes)
    words, notes = instants(low, node.low_inclusive, high, node.high_inclusive)
    notes += [day and f"on {day}", relative(low, high, node.high_inclusive, wording.clock)]
    return parens(f"{label(node.attr)} is {words}", notes)


def _date(node: ir.DateRange, wording: Wording, negated: bool) -> str:
    low, high = node.low, node.high
    notes = [_unknown_note(node, wording, negated)]
    if low is None and high is None:
        return presence(node.attr, negated)
    if low is not None and high is not None and low > high:  # before the first day, say
        return f"{label(node.attr)} is {'any day' if negated else 'on no day'}"
    if low is not None and low == high:
        words = f"{'not ' if negated else ''}on {low.isoformat()}"
    elif negated:  # the complement: outside the days
        before = f"before {low.isoformat()}" if low is not None else None
        after = f"after {high.isoformat()}" if high is not None else None
        words = either(before, after)
    elif low is not None and high is not None:
        words = f"between {low.isoformat()} and {high.isoformat()}"
        notes.insert(0, "inclusive")
    else:
        words = f"on or after {low}" if low is not None else f"on or before {high}"
    return parens(f"{label(node.attr)} is {words}", notes)


# -- values, counts and periods ---------------------------------------------------------------


def parens(words: str, notes: Iterable[str | None]) -> str:
    """``words (note; note)``, leaving out the notes that are None or empty."""
    shown = [note for note in notes if note]
    return f"{words} ({'; '.join(shown)})" if shown else words


def either(*alternatives: str | None) -> str:
    """The alternatives that are there, joined with "or"."""
    return " or ".join(a for a in alternatives if a)


def quoted(values: tuple[str, ...]) -> str:
    """``'premium', 'business'``: each value in quotes that it does not contain."""
    return ", ".join(
        repr(v) if not v.isprintable() else f'"{v}"' if "'" in v else f"'{v}'" for v in values
    )


def number(value: float) -> str:
    """``50000`` rather than ``50000.0``; other floats as Python writes them."""
    if isinstance(value, int):  # a count
        return str(value)
    if value.is_integer() and abs(value) < 1e16:
        return str(int(value))
    return repr(value)


def bound(value: float | dt.datetime | None, inclusive: bool, words: tuple[str, str]) -> str | None:
    """``words[0] value`` if ``inclusive`` else ``words[1] value``; None without a value."""
    if value is None:
        return None
    shown = instant(value) if isinstance(value, dt.datetime) else number(value)
    return f"{words[0] if inclusive else words[1]} {shown}"


def kinds(names: tuple[str, ...]) -> tuple[str, str]:
    """The events counted, singular and plural: ``chat or call``, ``chats or calls``."""
    if set(names) == set(ir.ROLLUP_KINDS):
        return "interaction of any kind", "interactions of any kind"
    return " or ".join(names), " or ".join(f"{name}s" for name in names)


def counted(count: ir.Count, one: str, many: str, negated: bool) -> str | None:
    """``at least 3 chats``, ``no chats (exactly 0)``, ``between 2 and 5 chats (inclusive)``;
    None for a negation without words of its own (the checker only negates exact counts)."""
    low, high = count.low, count.high
    if low is not None and low == high:
        if negated:
            return f"at least 1 {one}" if low == 0 else f"any number of {many} other than {low}"
        if low == 0:
            return f"no {many} (exactly 0)"
        return f"exactly {low} {one if low == 1 else many}"
    if negated:
        return None
    if low is None and high is None:
        return f"any number of {many}"
    lower = bound(low, count.low_inclusive, ("at least", "more than"))
    upper = bound(high, count.high_inclusive, ("at most", "fewer than"))
    if low is None:
        singular = high == 1 and count.high_inclusive
        return f"{upper} {one if singular else many} (zero included)"
    if high is None:
        return f"{lower} {one if low == 1 and count.low_inclusive else many}"
    if count.low_inclusive and count.high_inclusive:
        return f"between {low} and {high} {many} (inclusive)"
    return f"{lower} and {upper} {many}"


def instant(when: dt.datetime) -> str:
    """``YYYY-MM-DD HH:MM UTC`` (seconds when there are some); years below 1000 padded."""
    if when.utcoffset():
        when = when.astimezone(dt.UTC)
    shown = f"{when.year:04d}-{when.month:02d}-{when.day:02d} {when.hour:02d}:{when.minute:02d}"
    if when.second or when.microsecond:
        shown += f":{when.second:02d}" + (f".{when.microsecond:06d}" if when.microsecond else "")
    return f"{shown} UTC"


def instants(
    low: dt.datetime | None, low_inclusive: bool, high: dt.datetime | None, high_inclusive: bool
) -> tuple[str, list[str | None]]:
    """A span of instants and its notes: ``between A and B`` (inclusive), ``at or after A
    and before B``, ``before B``."""
    if low is not None and high is not None and low_inclusive and high_inclusive:
        return f"between {instant(low)} and {instant(high)}", ["inclusive"]
    after = bound(low, low_inclusive, ("at or after", "after"))
    before = bound(high, high_inclusive, ("at or before", "before"))
    return " and ".join(w for w in (after, before) if w), []


def window(node: ir.Activity, clock: ir.Clock | None) -> tuple[str, list[str | None]]:
    """The period a timeline condition counts in, and its notes."""
    if node.low is None:
        if clock is not None and node.high == clock.as_of:
            return f"at any time up to the run ({instant(node.high)})", []
        return (
            f"at any time {'up to' if node.high_inclusive else 'before'} {instant(node.high)}",
            [],
        )
    words, notes = instants(node.low, True, node.high, node.high_inclusive)
    return words, [*notes, relative(node.low, node.high, node.high_inclusive, clock)]


def whole_days(
    low: dt.datetime | None,
    low_inclusive: bool,
    high: dt.datetime | None,
    high_inclusive: bool,
    clock: ir.Clock | None,
) -> str | None:
    """``the day 2026-03-15`` or ``the days 2026-03-01 to 2026-04-15`` when a span runs from
    a midnight (included) to a midnight (excluded) in the run's timezone (UTC without a
    clock), as ``is`` and ``between`` with dates make it."""
    if low is None or high is None or not low_inclusive or high_inclusive:
        return None
    name = "UTC" if clock is None else clock.timezone
    try:
        first, end = low.astimezone(_zone(name)), high.astimezone(_zone(name))
    except OverflowError:
        return None
    if first.time() != dt.time(0) or end.time() != dt.time(0) or end.date() <= first.date():
        return None
    last = end.date() - dt.timedelta(days=1)
    where = "" if name == "UTC" else f" in {name}"
    if last == first.date():
        return f"the day {last.isoformat()}{where}"
    return f"the days {first.date().isoformat()} to {last.isoformat()}{where}"


def relative(
    low: dt.datetime | None, high: dt.datetime | None, high_inclusive: bool, clock: ir.Clock | None
) -> str | None:
    """How a span sits against the run (``the 30 days before the run``), when it starts or
    ends at the run's ``as_of`` and lasts whole days (in the run's timezone) or hours."""
    if clock is None:
        return None
    as_of, tz = clock.as_of, _zone(clock.timezone)
    if low is not None and high == as_of and high_inclusive:
        span = _span(low, as_of, tz)
        return span and f"the {span} before the run"
    if low == as_of and high is not None:
        span = _span(as_of, high, tz)
        return span and f"the {span} after the run"
    if low is None and high is not None and high < as_of and not high_inclusive:
        span = _span(high, as_of, tz)
        return span and f"more than {span} before the run"
    return None


def _zone(name: str) -> dt.tzinfo:
    try:
        return zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return dt.UTC


def _span(start: dt.datetime, end: dt.datetime, tz: dt.tzinfo) -> str | None:
    """``30 days`` when the wall clock in ``tz`` shows the same time at both ends (as
    durations in days step), else ``36 hours`` under a week; None for anything else."""
    if not dt.timedelta(0) < end - start <= LONGEST_SPAN:
        return None
    try:
        first, last = start.astimezone(tz), end.astimezone(tz)
    except OverflowError:
        return None
    if first.time() == last.time():
        days = (last.date() - first.date()).days
        return f"{days} day{'s' if days != 1 else ''}"
    hours, rest = divmod(end - start, dt.timedelta(hours=1))
    if rest or hours >= 24 * 7:
        return None
    return f"{hours} hour{'s' if hours != 1 else ''}"

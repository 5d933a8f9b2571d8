"""Calendar rules of SPEC section 3: durations, day starts and ``as_of``, in the run's timezone.

Everything here turns user dates and durations into UTC instants (or calendar days) once, at
check time, so the engines only ever compare columns with constants.
"""

from __future__ import annotations

import datetime as dt
import re
import zoneinfo
from dataclasses import dataclass
from typing import Final, Literal

from pipeline.language import ir

_DURATION = re.compile(r"^\s*(\d+)\s*([dwh])\s*$")


@dataclass(frozen=True, slots=True)
class Duration:
    """``<n>d``, ``<n>w`` (calendar days in the run's timezone) or ``<n>h`` (exact hours)."""

    amount: int
    unit: Literal["d", "w", "h"]

    def __str__(self) -> str:
        return f"{self.amount}{self.unit}"


def parse_duration(text: str) -> Duration | str:
    """A Duration, or the reason why ``text`` is not one."""
    if re.match(r"^\s*-\s*\d", text):
        return f"a duration must be positive, got {text!r}"
    match = _DURATION.match(text)
    if not match:
        return f"{text!r} is not a duration"
    amount = int(match.group(1))
    if amount <= 0:
        return f"a duration must be positive, got {text!r}"
    unit: Literal["d", "w", "h"] = {"d": "d", "w": "w", "h": "h"}[match.group(2)]  # type: ignore[assignment]
    return Duration(amount, unit)


def timezone(name: str) -> zoneinfo.ZoneInfo:
    """The zone for ``name``; raises ``zoneinfo.ZoneInfoNotFoundError`` (a KeyError)."""
    return zoneinfo.ZoneInfo(name)


def _clamped(local: dt.datetime) -> dt.datetime:
    """``local`` in UTC; beyond the representable range, the first or last UTC instant."""
    try:
        return local.astimezone(dt.UTC)
    except OverflowError:
        edge = dt.datetime.min if local.year == dt.MINYEAR else dt.datetime.max
        return edge.replace(tzinfo=dt.UTC)


def day_start(day: dt.date, tz: dt.tzinfo) -> dt.datetime:
    """The UTC instant of midnight starting ``day`` in ``tz``."""
    return _clamped(dt.datetime.combine(day, dt.time(0), tzinfo=tz))


def local_date(instant: dt.datetime, tz: dt.tzinfo) -> dt.date:
    """The calendar day of ``instant`` in ``tz``; the first or last representable day where the
    local day lies beyond them (the first instant of year 1 is still year 0 west of UTC)."""
    try:
        return instant.astimezone(tz).date()
    except OverflowError:
        return dt.date.min if instant.year == dt.MINYEAR else dt.date.max


def shift(instant: dt.datetime, duration: Duration, tz: dt.tzinfo, sign: int) -> dt.datetime:
    """``instant`` moved by ``sign * duration``; days keep the wall-clock time in ``tz``."""
    try:
        if duration.unit == "h":
            return instant + sign * dt.timedelta(hours=duration.amount)
        days = duration.amount * (7 if duration.unit == "w" else 1)
        wall = instant.astimezone(tz).replace(tzinfo=None) + sign * dt.timedelta(days=days)
        return _clamped(wall.replace(tzinfo=tz))
    except OverflowError:  # beyond year 1 or 9999: as far as time goes
        return (dt.datetime.max if sign > 0 else dt.datetime.min).replace(tzinfo=dt.UTC)


def as_instant(value: dt.date | dt.datetime, tz: dt.tzinfo) -> dt.datetime:
    """A date is midnight starting it in ``tz``; a naive timestamp is wall time in ``tz``."""
    if isinstance(value, dt.datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=tz)
        return _clamped(value)
    return day_start(value, tz)


#: Hours, minutes and seconds (the later ones optional), then optionally a fraction of the
#: last one given.
_CLOCK = r"\d{2}(?::?\d{2}(?::?\d{2})?)?(?:[.,]\d+)?"
#: What :func:`parse_temporal` reads (then Python's ``fromisoformat``, which alone would let
#: characters through after some forms: ``202601310X``): a date (``2026-01-31``,
#: ``20260131``, ``2026-W05-6``), then optionally any one separator and a time, and an offset
#: or ``Z``. Written so that Python's ``re`` and ECMA-262 (editors, for the JSON Schema of
#: ``language/schema.py``) read it alike.
TEMPORAL_PATTERN: Final = (
    r"^\s*\d{4}(?:-\d{2}-\d{2}|\d{4}|-?W\d{2}(?:-?\d)?)"
    rf"(?:[\s\S]{_CLOCK})?(?:\s*(?:[zZ]|[+-]{_CLOCK}))?\s*$"
)


def parse_temporal(value: object) -> dt.date | dt.datetime | None:
    """A date or timestamp from YAML (already typed, or ISO 8601 text); None if neither."""
    if isinstance(value, dt.date):
        return value
    if not isinstance(value, str) or not re.match(TEMPORAL_PATTERN, value):
        return None
    text = value.strip()
    if text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"
    try:
        if len(text) == 10:
            return dt.date.fromisoformat(text)
        return dt.datetime.fromisoformat(text)
    except ValueError:
        return None


def parse_as_of(text: str, tz: dt.tzinfo) -> dt.datetime | str:
    """``--as-of``: an ISO instant with ``Z`` or an offset, or a date; else the reason."""
    value = parse_temporal(text)
    if value is None:
        return f"{text!r} is neither an ISO 8601 instant nor a date"
    if isinstance(value, dt.datetime) and value.tzinfo is None:
        return f"{text!r} has no time zone"
    return as_instant(value, tz)


#: A day range that holds no day (low after high): what "before the first day" means.
EMPTY_DAYS: Final = (dt.date.max, dt.date.min)


def date_bounds(
    low: dt.datetime | None,
    high: dt.datetime | None,
    low_inclusive: bool,
    high_inclusive: bool,
    tz: dt.tzinfo,
) -> tuple[dt.date | None, dt.date | None]:
    """Instant bounds on ``start(day)`` as inclusive bounds on ``day`` (for date attributes).

    A date attribute's value is a calendar day whose instant is its midnight in ``tz``, so
    ``start(day) >= B`` holds exactly for days from the first one starting at or after ``B``.
    """
    first: dt.date | None = None
    last: dt.date | None = None
    one = dt.timedelta(days=1)
    if low is not None and low.year == dt.MINYEAR and low.month == 1 and low.day <= 2:
        low = None
    if low is not None:
        day = local_date(low, tz)
        starts_after = day_start(day, tz) > low or (low_inclusive and day_start(day, tz) == low)
        if not starts_after and day == dt.date.max:
            return EMPTY_DAYS
        first = day if starts_after else day + one
    if high is not None and high.year == dt.MAXYEAR and high.month == 12 and high.day >= 30:
        high = None  # the end of representable time: no upper bound on days
    if high is not None:
        day = local_date(high, tz)
        starts_before = day_start(day, tz) < high or (high_inclusive and day_start(day, tz) == high)
        if not starts_before and day == dt.date.min:
            return EMPTY_DAYS
        last = day if starts_before else day - one
    return first, last


ROLLUP_WINDOWS: Final = (7, 30, 90)


def clock(as_of: dt.datetime, tz: zoneinfo.ZoneInfo) -> ir.Clock:
    """The run's clock: rollup windows use the ``within_last`` bounds of SPEC section 3."""
    windows = tuple(
        (f"{days}d", shift(as_of, Duration(days, "d"), tz, -1)) for days in ROLLUP_WINDOWS
    )
    return ir.Clock(as_of=as_of, timezone=tz.key, windows=windows)

"""Reading the values written in segment files, each with a located error when it is wrong.

YAML gives scalars their own types (``75001`` is a number, ``2026-01-31`` a date); these
readers decide what each operator accepts, and say how to write it when it does not fit.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable
from typing import Final, TypeVar

from pipeline.errors import ProblemCollector
from pipeline.language import ir
from pipeline.language.hints import duration_hint
from pipeline.language.source import Node
from pipeline.language.temporal import Duration, as_instant, parse_duration, parse_temporal

T = TypeVar("T")

#: The longest text value a condition may compare: CRM fields are far shorter, and Polars
#: refuses a substring test whose pattern compiles past 10 MB (~400,000 characters).
MAX_TEXT: Final = 1_000

#: The largest count a condition may name: the largest whole number every engine (and JSON)
#: holds exactly. No entity has more interactions or contacts.
MAX_COUNT: Final = 2**53 - 1


def _digits(number: int) -> int:
    """The decimal digits of a positive ``number``, without printing it (Python refuses to
    print one of more than 4,300 digits)."""
    guess = int(number.bit_length() * math.log10(2))
    return guess + int(number >= 10**guess)


class ValueReader:
    """Value readers shared by every condition; problems go to the collector."""

    def __init__(self, problems: ProblemCollector) -> None:
        self.problems = problems

    def text(self, node: Node, normalize: Callable[[str], str | None], attr: ir.Attr) -> str | None:
        raw = node.value
        if node.is_list:
            self.problems.add(
                node.loc,
                f"expected one text value for {attr.dsl_name!r}, got a list",
                "to match any of several values use `in: [a, b]`",
            )
            return None
        if node.is_map or raw is None or isinstance(raw, bool):
            hint = (
                {
                    True: "to find missing values use `is_unknown: true`",
                    False: "quote it to mean the word: 'true'",
                }[raw is None]
                if not node.is_map
                else "write a single value, e.g. `is: acme`"
            )
            shown = "a mapping" if node.is_map else node.show()
            self.problems.add(node.loc, f"expected text for {attr.dsl_name!r}, got {shown}", hint)
            return None
        # A number written for a text or phone attribute is taken as written (0612345678).
        text = node.text if node.text is not None else str(raw)
        if len(text) > MAX_TEXT:
            self.problems.add(
                node.loc,
                f"a value of {len(text):,} characters (at most {MAX_TEXT:,})",
                "compare a shorter part of it, e.g. with `contains` or `starts_with`",
            )
            return None
        normalized = normalize(text)
        if normalized is None:
            if attr.type.is_phone:
                self.problems.add(
                    node.loc,
                    f"the phone value {text!r} has no digit",
                    "phones are compared on their digits only",
                )
            else:
                self.problems.add(
                    node.loc, "the value is blank", "to find missing values use `is_unknown: true`"
                )
        return normalized

    def number(self, node: Node) -> float | None:
        raw = node.value
        if isinstance(raw, int | float) and not isinstance(raw, bool) and math.isfinite(raw):
            return float(raw)
        hint = "numbers are written like 50000 or 2.5"
        if isinstance(raw, str):
            try:
                float(raw)
                hint = f"write {raw.strip()} without quotes"
            except ValueError:
                pass
        elif raw is None:
            hint = "to find missing values use `is_unknown: true`"
        elif isinstance(raw, float):
            hint = "a number must be finite"
        self.problems.add(node.loc, f"expected a number, got {node.show()}", hint)
        return None

    def whole_number(self, node: Node) -> int | None:
        """A count: a whole number, zero or more, at most :data:`MAX_COUNT`."""
        raw = node.value
        if isinstance(raw, int) and not isinstance(raw, bool) and 0 <= raw <= MAX_COUNT:
            return raw
        if isinstance(raw, int) and not isinstance(raw, bool) and raw > MAX_COUNT:
            self.problems.add(
                node.loc,
                f"a count must be at most {MAX_COUNT:,}, got a number of {_digits(raw):,} digits",
                "no organization or person has that many interactions or contacts",
            )
            return None
        self.problems.add(
            node.loc,
            f"a count must be a whole number (0 or more), got {node.show()}",
            "e.g. `count: {gte: 3}`",
        )
        return None

    def boolean(self, node: Node) -> bool | None:
        if isinstance(node.value, bool):
            return node.value
        hint = "write true or false"
        if isinstance(node.value, str) and node.value.strip().lower() in ("true", "false"):
            hint = f"remove the quotes: {node.value.strip().lower()}"
        elif isinstance(node.value, str) and node.value.strip().lower() in (
            "yes",
            "no",
            "on",
            "off",
        ):
            hint = "write true or false (yes/no are text here)"
        self.problems.add(node.loc, f"expected true or false, got {node.show()}", hint)
        return None

    def temporal(self, node: Node) -> dt.date | dt.datetime | None:
        value = parse_temporal(node.value) if node.is_scalar else None
        if value is None:
            self.problems.add(
                node.loc,
                f"expected a date or timestamp, got {node.show()}",
                "write a real date like 2026-01-31 or a timestamp like 2026-01-31T09:00:00Z",
            )
        return value

    def duration(self, node: Node) -> Duration | None:
        parsed = parse_duration(str(node.value)) if isinstance(node.value, str) else None
        if isinstance(parsed, Duration):
            return parsed
        if isinstance(node.value, int | float) and not isinstance(node.value, bool):
            reason = f"a duration needs a unit, got {node.show()}"
        else:
            reason = parsed or f"expected a duration, got {node.show()}"
        # a duration in words (``60 days``) gets its exact replacement
        in_words = duration_hint(node.value) if isinstance(parsed, str) else None
        hint = in_words or "write a positive duration like 30d, 2w or 12h"
        self.problems.add(node.loc, reason, hint)
        return None

    def values(self, node: Node, read: Callable[[Node], T | None]) -> list[T] | None:
        if not node.is_list or not node.elements():
            hint = "write values as [a, b]; for one value use `is`"
            if node.is_scalar and node.value is not None:
                hint = f"write [{node.show().strip(chr(39))}], or use `is` for one value"
            self.problems.add(node.loc, "expected a non-empty list of values", hint)
            return None
        values = [read(item) for item in node.elements()]
        if any(v is None for v in values):
            return None
        return [v for v in values if v is not None]

    def pair(
        self,
        node: Node,
        read: Callable[[Node], T | None],
        compare: Callable[[T, T], bool] | None = None,
    ) -> tuple[T, T] | None:
        if not node.is_list or len(node.elements()) != 2:
            self.problems.add(
                node.loc,
                "`between` takes two values: [low, high]",
                "e.g. `between: [10, 20]` or `between: [2026-01-01, 2026-03-31]`",
            )
            return None
        first, second = node.elements()
        low, high = read(first), read(second)
        if low is None or high is None:
            return None
        in_order = compare(low, high) if compare else low <= high  # type: ignore[operator]
        if not in_order:
            shown = (first.show().strip("'"), second.show().strip("'"))
            self.problems.add(
                node.loc,
                f"`between` bounds are reversed: {shown[0]} is after {shown[1]}",
                f"write [{shown[1]}, {shown[0]}]",
            )
            return None
        return low, high


def _start(value: dt.date | dt.datetime, tz: dt.tzinfo) -> dt.datetime:
    return as_instant(value, tz)


def _end(value: dt.date | dt.datetime, tz: dt.tzinfo) -> tuple[dt.datetime, bool]:
    """The upper bound of "on this day" (exclusive) or "at this instant" (inclusive)."""
    if isinstance(value, dt.datetime):
        return as_instant(value, tz), True
    if value == dt.date.max:  # no next day to start: the last representable instant
        return dt.datetime.max.replace(tzinfo=dt.UTC), True
    return as_instant(value + dt.timedelta(days=1), tz), False

"""Reading the values written in segment files, each with a located error when it is wrong.

YAML gives scalars their own types (``75001`` is a number, ``2026-01-31`` a date); these
readers decide what each operator accepts, and say how to write it when it does not fit.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable
from typing import TypeVar

from pipeline.errors import ProblemCollector
from pipeline.language import ir
from pipeline.language.source import Node
from pipeline.language.temporal import Duration, as_instant, parse_duration, parse_temporal

T = TypeVar("T")


class ValueReader:
    """Value readers shared by every condition; problems go to the collector."""

    def __init__(self, problems: ProblemCollector) -> None:
        self.problems = problems

    def text(self, node: Node, normalize: Callable[[str], str | None], attr: ir.Attr) -> str | None:
        raw = node.value
        if isinstance(raw, bool) or not isinstance(raw, str | int | float | dt.date):
            kind = "a list" if node.is_list else "a mapping" if node.is_map else repr(node.plain())
            self.problems.add(
                node.loc,
                f"expected text for {attr.dsl_name!r}, got {kind}",
                "quote the value, e.g. 'true'" if isinstance(raw, bool) else None,
            )
            return None
        text = raw.isoformat() if isinstance(raw, dt.date) else str(raw)
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
        hint = None
        if isinstance(raw, str):
            try:
                float(raw)
                hint = f"write {raw.strip()} without quotes"
            except ValueError:
                hint = "numbers are written like 50000 or 2.5"
        self.problems.add(node.loc, f"expected a number, got {node.plain()!r}", hint)
        return None

    def whole_number(self, node: Node) -> float | None:
        """A count: a whole number, zero or more."""
        raw = node.value
        if isinstance(raw, int) and not isinstance(raw, bool) and raw >= 0:
            return float(raw)
        self.problems.add(
            node.loc,
            f"a count must be a whole number (0 or more), got {node.plain()!r}",
            "e.g. `count: {gte: 3}`",
        )
        return None

    def boolean(self, node: Node) -> bool | None:
        if isinstance(node.value, bool):
            return node.value
        self.problems.add(node.loc, f"expected true or false, got {node.plain()!r}")
        return None

    def temporal(self, node: Node) -> dt.date | dt.datetime | None:
        value = parse_temporal(node.value) if node.is_scalar else None
        if value is None:
            self.problems.add(
                node.loc,
                f"expected a date or timestamp, got {node.plain()!r}",
                "write a date like 2026-01-31 or a timestamp like 2026-01-31T09:00:00Z",
            )
        return value

    def duration(self, node: Node) -> Duration | None:
        parsed = parse_duration(str(node.value)) if isinstance(node.value, str) else None
        if isinstance(parsed, Duration):
            return parsed
        reason = parsed or f"expected a duration, got {node.plain()!r}"
        self.problems.add(node.loc, reason, "write a positive duration like 30d, 2w or 12h")
        return None

    def values(self, node: Node, read: Callable[[Node], T | None]) -> list[T] | None:
        if not node.is_list or not node.elements():
            self.problems.add(
                node.loc,
                "expected a non-empty list of values",
                "write values as [a, b]; for one value use `is`",
            )
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
            self.problems.add(node.loc, "`between` takes two values: [low, high]")
            return None
        low, high = (read(item) for item in node.elements())
        if low is None or high is None:
            return None
        in_order = compare(low, high) if compare else low <= high  # type: ignore[operator]
        if not in_order:
            self.problems.add(
                node.loc,
                f"`between` bounds are reversed: {low} is after {high}",
                f"write [{high}, {low}]",
            )
            return None
        return low, high


def _start(value: dt.date | dt.datetime, tz: dt.tzinfo) -> dt.datetime:
    return as_instant(value, tz)


def _end(value: dt.date | dt.datetime, tz: dt.tzinfo) -> tuple[dt.datetime, bool]:
    """The upper bound of "on this day" (exclusive) or "at this instant" (inclusive)."""
    if isinstance(value, dt.datetime):
        return as_instant(value, tz), True
    return as_instant(value + dt.timedelta(days=1), tz), False

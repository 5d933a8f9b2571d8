"""Hints for the words people type instead of the language's own.

``and:`` for ``all:``, ``>=`` or ``equals`` for an operator, ``60 days`` for ``60d``, a bare
``count: 3``: each is still an error (a file means one thing), but the hint says exactly what
to write instead, with the user's own attribute and value. The checker (``check.py``) asks
here once it knows a word is wrong; nothing here decides what is valid.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import re
from collections.abc import Sequence
from typing import Final

from pipeline.language.source import Node
from pipeline.language.temporal import parse_temporal

#: Group words of other tools (SQL, boolean logic) -> the group of this language.
GROUP_SYNONYMS: Final = {"and": "all", "or": "any", "either": "any", "not": "none"}
GROUP_MEANING: Final = {
    "all": "every condition holds",
    "any": "at least one condition holds",
    "none": "no condition holds",
}

#: Operator words and symbols of other tools -> the operator of this language.
OPERATOR_SYNONYMS: Final = {
    **dict.fromkeys(("equals", "equal", "eq", "=", "=="), "is"),
    **dict.fromkeys(("not", "!=", "<>", "ne", "neq", "not_equals", "not_equal"), "is_not"),
    **dict.fromkeys((">", "greater_than"), "gt"),
    **dict.fromkeys((">=", "at_least"), "gte"),
    **dict.fromkeys(("<", "less_than"), "lt"),
    **dict.fromkeys(("<=", "at_most"), "lte"),
    **dict.fromkeys(("includes", "include"), "contains"),
    **dict.fromkeys(("excludes", "exclude"), "not_contains"),
    **dict.fromkeys(("contains_any", "any_of", "one_of"), "in"),
    "none_of": "not_in",
}
#: Dates compare with ``before`` / ``after``, which are strict (SPEC section 3).
DATE_SYNONYMS: Final = {"gt": "after", "gte": "after", "lt": "before", "lte": "before"}

#: Unit words -> the duration unit (``temporal.parse_duration`` reads d, w and h only).
DURATION_UNITS: Final = {
    **dict.fromkeys(("d", "day", "days"), "d"),
    **dict.fromkeys(("w", "wk", "wks", "week", "weeks"), "w"),
    **dict.fromkeys(("h", "hr", "hrs", "hour", "hours"), "h"),
}
#: Units the language does not have, in days (a month is written as 30 days).
DAYS_PER: Final = {
    **dict.fromkeys(("mo", "mos", "month", "months"), 30),
    **dict.fromkeys(("y", "yr", "yrs", "year", "years"), 365),
}
MINUTE_WORDS: Final = ("min", "mins", "minute", "minutes")

_AMOUNT_AND_UNIT = re.compile(r"^\s*(\d+)\s*([a-zA-Z]+)\.?\s*$")
_COUNT_TEXT = re.compile(r"^\s*(>=|<=|==|!=|<>|=|>|<)\s*(\d+)\s*$|^\s*(\d+)\s*\+\s*$")
#: Text that YAML reads back as the same text without quotes (no ``:``, ``#``, brackets ...).
_PLAIN = re.compile(r"^[^\W_][\w.@/+-]*(?: [\w.@/+-]+)*$")
_SPECIAL = re.compile(r"^(?:true|false|null|yes|no|on|off|\.inf|\.nan|0[xo][\da-f_]+)$", re.I)


def _word(text: str) -> str:
    """How a word is looked up: lower case, spaces and dashes as ``_`` (``Contains any``)."""
    return re.sub(r"[\s-]+", "_", text.strip().lower())


def flow(node: Node) -> str:
    """``node`` in YAML flow style, to be pasted into a file: ``[vip, "a, b"]``."""
    if node.is_list:
        return "[" + ", ".join(flow(item) for item in node.elements()) + "]"
    if node.is_map:
        return "{" + ", ".join(f"{k.value}: {flow(v)}" for k, v in node.items()) + "}"
    value = node.value
    if isinstance(value, str):
        plain = _PLAIN.match(value) and not (_SPECIAL.match(value) or _is_number(value))
        return value if plain else json.dumps(value, ensure_ascii=False)
    return node.show()


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


# -- groups ----------------------------------------------------------------------------------


def group_hint(key: str, value: Node) -> str | None:
    """For ``and:`` / ``or:`` / ``either:`` / ``not:``, the group to write; else None."""
    group = GROUP_SYNONYMS.get(_word(key))
    if group is None:
        return None
    hint = f"`{key}:` is written `{group}:` ({GROUP_MEANING[group]})"
    if value.is_map:  # one condition, where a group takes a list of them
        hint += f", with a list: `{group}: [{flow(value)}]`"
    return hint


# -- operators -------------------------------------------------------------------------------


def operator_hint(
    word: str, family: str, allowed: Sequence[str], attr: str, attr_type: str, value: Node
) -> str | None:
    """For an operator of another tool (``>=``, ``equals``, ``contains any``), what to write
    on attribute ``attr`` (of ``family``, whose operators are ``allowed``); else None."""
    canonical = OPERATOR_SYNONYMS.get(_word(word))
    if canonical is None:
        return None
    if _word(word) == "contains_any" and family in ("text", "list"):
        return _contains_any(word, family, attr, value)
    if family == "date" and canonical in DATE_SYNONYMS:
        return _date_comparison(word, canonical, attr, value)
    if canonical not in allowed:
        return (
            f"`{word}` is written `{canonical}`, which does not apply to {attr_type} "
            f"attribute {attr!r}; {family} operators: {', '.join(allowed)}"
        )
    shown = flow(value)
    if canonical in ("in", "not_in") and not value.is_list:
        shown = f"[{shown}]"
    hint = f"`{word}` is written `{canonical}`: `{attr}: {{{canonical}: {shown}}}`"
    if canonical == "contains" and family == "list":
        hint += f" (an element containing it; for an element equal to it, `is: {flow(value)}`)"
    return hint


def _contains_any(word: str, family: str, attr: str, value: Node) -> str:
    """``contains any``: on a list, ``in``; on text, ``any:`` of one ``contains`` per value."""
    items = value.elements() if value.is_list else [value]
    if family == "list":
        listed = flow(value) if value.is_list else f"[{flow(value)}]"
        return f"`{word}` is written `in` on lists: `{attr}: {{in: {listed}}}`"
    if len(items) == 1:
        return f"`{word}` is written `contains`: `{attr}: {{contains: {flow(items[0])}}}`"
    conditions = ", ".join(f"{{{attr}: {{contains: {flow(item)}}}}}" for item in items)
    return (
        f"for text containing any of them write `any: [{conditions}]`; for text equal to "
        f"one of them, `{attr}: {{in: {flow(value)}}}`"
    )


def _date_comparison(word: str, canonical: str, attr: str, value: Node) -> str:
    """``>`` / ``<`` on a date: ``after`` / ``before``, which are strict; for ``>=`` / ``<=``
    on a day, the day before (or after) is the exact bound."""
    operator = DATE_SYNONYMS[canonical]
    shown = flow(value)
    exact = canonical in ("gt", "lt")
    when = parse_temporal(value.value) if value.is_scalar else None
    if not exact and isinstance(when, dt.date) and not isinstance(when, dt.datetime):
        try:
            shown = (when + dt.timedelta(days=-1 if operator == "after" else 1)).isoformat()
            exact = True
        except OverflowError:  # the first or last representable day
            pass
    hint = f"`{word}` is written `{operator}` on dates: `{attr}: {{{operator}: {shown}}}`"
    return hint if exact else hint + f" (`{operator}` is strict)"


# -- counts ----------------------------------------------------------------------------------


def count_hint(node: Node) -> str | None:
    """For a ``count`` that is not an operator mapping (``count: 3``, ``count: ">= 3"``)."""
    value = node.value
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        if value == 0:
            return "write `count: {is: 0}` (none at all)"
        return (
            f"write `count: {{gte: {value}}}` ({value} or more) or "
            f"`count: {{is: {value}}}` (exactly {value})"
        )
    match = _COUNT_TEXT.match(value) if isinstance(value, str) else None
    if match is None:
        return None
    symbol, amount = (match.group(1), match.group(2)) if match.group(1) else (">=", match[3])
    return f"write `count: {{{OPERATOR_SYNONYMS[symbol]}: {int(amount)}}}`"


def count_operator_hint(word: str, value: Node, allowed: Sequence[str]) -> str | None:
    """For ``count: {">=": 3}`` and the like, the count operator to write; else None."""
    canonical = OPERATOR_SYNONYMS.get(_word(word))
    if canonical not in allowed:
        return None
    return f"`{word}` is written `{canonical}`: `count: {{{canonical}: {flow(value)}}}`"


# -- durations -------------------------------------------------------------------------------


def duration_hint(value: object) -> str | None:
    """For a duration in words (``60 days``, ``2 Weeks``, ``3 months``, ``30D``), the
    duration to write; else None.

    >>> duration_hint("60 days")
    '`60 days` is written `60d`'
    """
    match = _AMOUNT_AND_UNIT.match(value) if isinstance(value, str) else None
    if match is None or int(match.group(1)) <= 0:
        return None
    amount, unit = int(match.group(1)), match.group(2).lower()
    if unit in DURATION_UNITS:
        return f"`{match.group(0).strip()}` is written `{amount}{DURATION_UNITS[unit]}`"
    if unit in DAYS_PER:
        per = DAYS_PER[unit]
        if per == 30:
            return f"months are not a unit: write `{amount * per}d` (30 days a month)"
        return (
            f"years are not a unit: write `{amount * per}d` (365 days a year) or `{amount * 52}w`"
        )
    if unit in MINUTE_WORDS:
        hours = math.ceil(amount / 60)
        exact = "" if amount % 60 == 0 else " (the smallest unit is the hour)"
        return f"minutes are not a unit: write `{hours}h`{exact}"
    return None

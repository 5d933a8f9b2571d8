"""``segments validate --data DIR``: definitions that are valid but almost surely wrong,
found against the data: a value no contact has in an attribute of few distinct values (with
the closest ones that exist), a property id with no contacts, a segment with no member.

Warnings, not errors: ``validate`` exits 0 with them, 1 with ``--strict``.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import pyarrow.compute as pc

from pipeline.catalog import AttrType
from pipeline.compile.sql_values import distinct_values_query
from pipeline.engines.base import Flags
from pipeline.errors import Location
from pipeline.explore.session import Definitions
from pipeline.explore.values import Reader
from pipeline.language import ir

#: An attribute with more distinct values than this is not checked for unseen values (ids,
#: names, e-mails: a value no one has yet is normal there).
FEW_VALUES = 200

#: Rows of an attribute's table read first: when they alone hold more than ``FEW_VALUES``
#: distinct values, so does the whole table, and it is not scanned (names and e-mails of ten
#: million people are not grouped to learn that they are many).
PROBE_ROWS = 100_000


@dataclass(frozen=True, slots=True)
class DataWarning:
    location: Location
    message: str
    hint: str

    def __str__(self) -> str:
        return f"{self.location}: {self.message}\n    Hint: {self.hint}"


def _compared(
    condition: ir.Condition, entity: str
) -> Iterator[tuple[str, ir.TextMatch | ir.ListMatch]]:
    """Each ``is``/``in`` condition on a text or list attribute, with its entity (relationship
    filters included; referenced segments are checked as themselves)."""
    match condition:
        case ir.All(items) | ir.AnyOf(items):
            for item in items:
                yield from _compared(item, entity)
        case ir.Not(item):
            yield from _compared(item, entity)
        case ir.Related(where=where) as related if where is not None:
            yield from _compared(where, related.other)
        case ir.TextMatch(op="is" | "in") | ir.ListMatch(op="is" | "in"):
            if condition.attr.type in (AttrType.TEXT, AttrType.TEXT_LIST):
                yield entity, condition
        case _:
            pass


def unseen_values(definitions: Definitions, reader: Reader) -> list[DataWarning]:
    """``is``/``in`` values that no contact has, for attributes of few distinct values."""
    seen: dict[tuple[str, ir.Attr], list[str] | None] = {}
    found: list[DataWarning] = []
    for segment in definitions.segments:
        for entity, leaf in _compared(segment.where, segment.entity):
            key = (entity, leaf.attr)
            if key not in seen:
                seen[key] = _few_values(entity, leaf.attr, definitions, reader)
            known = seen[key]
            if known is None:
                continue
            for value in leaf.values:
                if value not in known:
                    found.append(_unseen(leaf, value, known))
    return found


def _few_values(
    entity: str, attr: ir.Attr, definitions: Definitions, reader: Reader
) -> list[str] | None:
    """The distinct compared values of ``attr``, most held first; None when there are more
    than ``FEW_VALUES``, known from the first ``PROBE_ROWS`` rows where they tell."""
    for head in (PROBE_ROWS, None):
        query = distinct_values_query(
            entity, attr, definitions.custom_types, FEW_VALUES + 1, head=head
        )
        values = [str(r["value"]) for r in reader.rows(query)]
        if len(values) > FEW_VALUES:
            return None
    return values


def _unseen(leaf: ir.TextMatch | ir.ListMatch, value: str, known: Sequence[str]) -> DataWarning:
    close = difflib.get_close_matches(value, known, n=3, cutoff=0.5)
    if close:
        hint = "closest values in the data: " + ", ".join(repr(c) for c in close)
    else:
        hint = "values in the data: " + ", ".join(repr(k) for k in known[:8])
        hint += " ..." if len(known) > 8 else ""
    return DataWarning(
        leaf.span,
        f"no contact has {leaf.attr.dsl_name} {value!r} in the data",
        hint,
    )


def unknown_properties(
    definitions: Definitions, present: dict[str, list[str]]
) -> list[DataWarning]:
    found = []
    for segment in definitions.segments:
        missing = sorted(set(segment.properties or ()) - set(present[segment.entity]))
        if missing:
            known = present[segment.entity]
            close = difflib.get_close_matches(missing[0], known, n=1, cutoff=0.5)
            hint = f"did you mean {close[0]!r}?" if close else f"properties: {', '.join(known)}"
            found.append(
                DataWarning(
                    segment.source,
                    f"`properties` names {', '.join(missing)}: no {segment.entity} in the data",
                    hint,
                )
            )
    return found


def empty_segments(definitions: Definitions, flags: Flags) -> list[DataWarning]:
    """Segments that match no contact at ``--as-of``."""
    sizes = {
        segment_id: int(pc.sum(table.column(2 + position)).as_py() or 0)
        for segment_ids, table in flags.entities.values()
        for position, segment_id in enumerate(segment_ids)
    }
    at = definitions.as_of.strftime("%Y-%m-%d %H:%M:%S UTC")
    return [
        DataWarning(
            s.source,
            f"segment {s.id!r} matches no {s.entity} as of {at}",
            f"look at its conditions with `segments explain {s.id}` and `segments why {s.id} ID`",
        )
        for s in definitions.segments
        if sizes.get(s.id, 0) == 0
    ]

"""Segment files -> checked IR, with every definition error collected in one pass.

Nothing here reads contact data: the catalog (built-in, custom and rollup attributes) is all
it needs. Values are normalized and relative dates resolved against ``as_of`` here, once.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Final, TypeVar

from pipeline.catalog import BUILTIN, CUSTOM_TYPE, AttrType, Catalog
from pipeline.compile.normalize import normalize_phone, normalize_text
from pipeline.errors import DefinitionError, Location, Problem, ProblemCollector, did_you_mean
from pipeline.language import ir
from pipeline.language.source import Node, parse_file
from pipeline.language.spec import SEGMENT_ID, read_segment_file
from pipeline.language.temporal import (
    Duration,
    as_instant,
    date_bounds,
    parse_duration,
    parse_temporal,
    shift,
)

GROUPS: Final = ("all", "any", "none")
#: Condition kinds that later versions add; named so that a user gets a clear message.
NOT_YET: Final = ("timeline", "people", "organizations", "in_segment", "not_in_segment")
PRESENCE: Final = ("is_unknown", "has_any_value")

OPERATORS: Final[dict[str, tuple[str, ...]]] = {
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
    "date": (
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
TEXT_OPS: Final[dict[str, ir.TextOp]] = {
    "is": "is",
    "contains": "contains",
    "starts_with": "starts_with",
    "ends_with": "ends_with",
}
LIST_OPS: Final[dict[str, ir.ListOp]] = {"is": "is", "contains": "contains"}
ALL_OPERATORS: Final = sorted({op for ops in OPERATORS.values() for op in ops} | set(PRESENCE))


def operator_family(attr_type: AttrType) -> str:
    if attr_type.is_list:
        return "list"
    if attr_type.is_temporal:
        return "date"
    if attr_type in (AttrType.TEXT, AttrType.PHONE):
        return "text"
    return str(attr_type.value)


@dataclass(frozen=True, slots=True)
class CheckContext:
    """What checking needs besides the files: the catalog and the run's clock."""

    catalog: Catalog
    as_of: dt.datetime
    tz: dt.tzinfo


T = TypeVar("T")


class _Checker:
    """Checks the conditions of one segment; problems go to the shared collector."""

    def __init__(
        self,
        ctx: CheckContext,
        problems: ProblemCollector,
        entity: str,
        properties: Sequence[str] | None,
    ) -> None:
        self.ctx = ctx
        self.problems = problems
        self.entity = entity
        self.properties = properties

    # -- structure ------------------------------------------------------------------------

    def condition(self, node: Node) -> ir.Condition | None:
        if not node.is_map or len(node.items()) != 1:
            hint = "write one condition per mapping, e.g. `name: {contains: acme}`"
            if node.is_map and len(node.items()) > 1:
                hint = "to require several conditions, list them under `all:`"
            self.problems.add(node.loc, "a condition is a mapping with exactly one key", hint)
            return None
        key_node, value_node = node.items()[0]
        key = str(key_node.value)
        if key in GROUPS:
            return self.group(key, key_node, value_node)
        if key in NOT_YET:
            self.problems.add(
                key_node.loc,
                f"`{key}` conditions are not available in this version",
                "filter on contact, custom (`custom.<key>`) attributes for now",
            )
            return None
        attr = self.attribute(key, key_node.loc)
        if attr is None:
            return None
        return self.comparison(attr, value_node)

    def group(self, key: str, key_node: Node, value_node: Node) -> ir.Condition | None:
        if not value_node.is_list or not value_node.elements():
            self.problems.add(
                value_node.loc,
                f"`{key}:` takes a non-empty list of conditions",
                f"write each condition on its own line under `{key}:`, starting with `- `",
            )
            return None
        items = [self.condition(item) for item in value_node.elements()]
        if any(item is None for item in items):
            return None
        checked = tuple(i for i in items if i is not None)
        if key == "all":
            return ir.All(checked, key_node.loc)
        if key == "any":
            return ir.AnyOf(checked, key_node.loc)
        return ir.Not(ir.AnyOf(checked, key_node.loc), key_node.loc)

    def attribute(self, key: str, loc: Location) -> ir.Attr | None:
        catalog = self.ctx.catalog
        if key in BUILTIN:
            return ir.Attr("builtin", key, BUILTIN[key])
        prefix, _, name = key.partition(".")
        if prefix == "custom" and name:
            definition = catalog.custom.get((self.entity, name))
            if definition is None:
                known = catalog.custom_keys(self.entity)
                hint = did_you_mean(name, known)
                hint = (
                    f"did you mean 'custom.{hint.split(chr(39))[1]}'?"
                    if hint
                    else (
                        f"custom {self.entity} attributes are: "
                        + (", ".join(f"custom.{k}" for k in known) or "none defined")
                    )
                )
                self.problems.add(loc, f"unknown custom {self.entity} attribute {key!r}", hint)
                return None
            missing = sorted(set(self.properties or ()) - definition.properties)
            if missing:
                self.problems.add(
                    loc,
                    f"{key!r} is not defined in propert"
                    f"{'y' if len(missing) == 1 else 'ies'} {', '.join(missing)}",
                    "define it in the attributes table or narrow `properties:`",
                )
                return None
            return ir.Attr("custom", name, CUSTOM_TYPE[definition.type])
        if prefix == "rollup" and name:
            if name in catalog.rollups and self.entity == "organization":
                return ir.Attr("rollup", name, catalog.rollups[name])
            self.problems.add(
                loc,
                f"unknown rollup column {key!r}",
                did_you_mean(name, catalog.rollups) or "rollups exist on organizations",
            )
            return None
        names = [
            *BUILTIN,
            *(f"custom.{k}" for k in catalog.custom_keys(self.entity)),
            *(f"rollup.{k}" for k in catalog.rollups),
            *GROUPS,
        ]
        self.problems.add(
            loc,
            f"unknown attribute {key!r}",
            did_you_mean(key, names) or "see docs/segments.md for the attribute list",
        )
        return None

    # -- one attribute, one operator ------------------------------------------------------

    def comparison(self, attr: ir.Attr, node: Node) -> ir.Condition | None:
        family = operator_family(attr.type)
        allowed = (*OPERATORS[family], *PRESENCE)
        if not node.is_map or len(node.items()) != 1:
            self.problems.add(
                node.loc,
                f"`{attr.dsl_name}` takes one operator, like `{{{allowed[0]}: ...}}`",
                f"{family} operators: {', '.join(allowed)}",
            )
            return None
        op_node, value = node.items()[0]
        op = str(op_node.value)
        if op not in allowed:
            if op in ALL_OPERATORS:
                self.problems.add(
                    op_node.loc,
                    f"operator {op!r} does not apply to {attr.type.value} "
                    f"attribute {attr.dsl_name!r}",
                    f"{family} operators: {', '.join(allowed)}",
                )
            else:
                self.problems.add(
                    op_node.loc,
                    f"unknown operator {op!r}",
                    did_you_mean(op, allowed) or f"{family} operators: {', '.join(allowed)}",
                )
            return None
        span = op_node.loc
        if op in PRESENCE:
            flag = self.boolean(value)
            if flag is None:
                return None
            wants_value = flag == (op == "has_any_value")
            known = ir.HasValue(attr, span)
            return known if wants_value else ir.Not(known, span)
        negated = op in ("is_not", "not_contains", "not_in")
        positive = {"is_not": "is", "not_contains": "contains", "not_in": "in"}.get(op, op)
        leaf = self.leaf(attr, family, positive, value, span)
        if leaf is None:
            return None
        return ir.Not(leaf, span) if negated else leaf

    def leaf(
        self, attr: ir.Attr, family: str, op: str, value: Node, span: Location
    ) -> ir.Condition | None:
        if family in ("text", "list"):
            normalize = normalize_phone if attr.type.is_phone else normalize_text
            if op == "in":
                values = self.values(value, lambda n: self.text(n, normalize, attr))
                if values is None:
                    return None
                unique = tuple(dict.fromkeys(values))
                if family == "text":
                    return ir.TextMatch(attr, "in", unique, span)
                return ir.ListMatch(attr, "in", unique, span)
            text = self.text(value, normalize, attr)
            if text is None:
                return None
            if family == "list":
                return ir.ListMatch(attr, LIST_OPS[op], (text,), span)
            return ir.TextMatch(attr, TEXT_OPS[op], (text,), span)
        if family == "number":
            return self.number_leaf(attr, op, value, span)
        if family == "boolean":
            flag = self.boolean(value)
            return None if flag is None else ir.BoolIs(attr, flag, span)
        return self.temporal_leaf(attr, op, value, span)

    def number_leaf(
        self, attr: ir.Attr, op: str, value: Node, span: Location
    ) -> ir.Condition | None:
        if op == "between":
            pair = self.pair(value, self.number)
            if pair is None:
                return None
            return ir.NumberRange(attr, pair[0], pair[1], span=span)
        number = self.number(value)
        if number is None:
            return None
        bounds = {
            "is": (number, number, True, True),
            "gt": (number, None, False, True),
            "gte": (number, None, True, True),
            "lt": (None, number, True, False),
            "lte": (None, number, True, True),
        }[op]
        return ir.NumberRange(attr, bounds[0], bounds[1], bounds[2], bounds[3], span)

    def temporal_leaf(
        self, attr: ir.Attr, op: str, value: Node, span: Location
    ) -> ir.Condition | None:
        tz, as_of = self.ctx.tz, self.ctx.as_of
        low: dt.datetime | None = None
        high: dt.datetime | None = None
        low_inc = high_inc = True
        if op in ("within_last", "more_than_ago", "within_next"):
            duration = self.duration(value)
            if duration is None:
                return None
            if op == "within_last":
                low, high = shift(as_of, duration, tz, -1), as_of
            elif op == "within_next":
                low, high = as_of, shift(as_of, duration, tz, +1)
            else:
                high, high_inc = shift(as_of, duration, tz, -1), False
        elif op == "between":
            pair = self.pair(
                value, self.temporal, compare=lambda a, b: _start(a, tz) <= _start(b, tz)
            )
            if pair is None:
                return None
            low = _start(pair[0], tz)
            high, high_inc = _end(pair[1], tz)
        else:
            when = self.temporal(value)
            if when is None:
                return None
            if op == "is":
                low = _start(when, tz)
                high, high_inc = _end(when, tz)
            elif op == "before":
                high, high_inc = _start(when, tz), False
            else:  # after
                end, end_inc = _end(when, tz)
                low, low_inc = end, not end_inc
        if attr.type == AttrType.DATE:
            first, last = date_bounds(low, high, low_inc, high_inc, tz)
            return ir.DateRange(attr, first, last, span)
        return ir.TimeRange(attr, low, high, low_inc, high_inc, span)

    # -- values ---------------------------------------------------------------------------

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


def definition_hash(root: Node) -> str:
    canonical = json.dumps(root.plain(), sort_keys=True, default=str, ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()[:16]


def check_document(
    root: Node, stem: str, ctx: CheckContext, problems: ProblemCollector
) -> ir.Segment | None:
    """One parsed file -> a Segment, or None with its problems added."""
    model, found = read_segment_file(root)
    problems.problems.extend(found)
    if model is None:
        return None
    segment_id = model.id or stem
    if model.id is None and not SEGMENT_ID.match(segment_id):
        problems.add(
            root.loc,
            f"the file name {stem!r} is not a valid segment id",
            "rename the file or set `id:` ([a-z0-9][a-z0-9_-]*)",
        )
        return None
    where = root.get("where")
    assert where is not None
    checker = _Checker(ctx, problems, model.entity, model.properties)
    condition = checker.condition(where)
    if condition is None:
        return None
    return ir.Segment(
        id=segment_id,
        name=model.name or segment_id,
        description=model.description,
        entity=model.entity,
        properties=tuple(dict.fromkeys(model.properties)) if model.properties else None,
        where=condition,
        definition_hash=definition_hash(root),
        source=root.loc,
    )


def segment_files(directory: Path) -> list[Path]:
    return sorted(p for p in directory.rglob("*") if p.suffix in (".yaml", ".yml") and p.is_file())


def _display(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def load_segments(directory: Path, ctx: CheckContext) -> list[ir.Segment]:
    """Every segment under ``directory``, checked; raises DefinitionError with all problems."""
    problems = ProblemCollector()
    if not directory.is_dir():
        problems.add(
            Location(str(directory)),
            "the segments directory does not exist",
            "pass --segments DIR, a folder of .yaml files",
        )
        problems.raise_if_any()
    files = segment_files(directory)
    if not files:
        problems.add(
            Location(str(directory)),
            "no segment files (*.yaml) found",
            "write one segment per .yaml file",
        )
    segments: list[ir.Segment] = []
    for path in files:
        parsed = parse_file(path, _display(path))
        if isinstance(parsed, Problem):
            problems.problems.append(parsed)
            continue
        segment = check_document(parsed, path.stem, ctx, problems)
        if segment is not None:
            segments.append(segment)
    seen: dict[str, ir.Segment] = {}
    for segment in segments:
        first = seen.setdefault(segment.id, segment)
        if first is not segment:
            problems.add(
                segment.source,
                f"duplicate segment id {segment.id!r}",
                f"also defined in {first.source.file}; ids must be unique",
            )
    problems.raise_if_any()
    return segments


__all__ = ["CheckContext", "DefinitionError", "load_segments"]

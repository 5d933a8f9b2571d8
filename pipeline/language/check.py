"""Segment files -> checked IR, with every definition error collected in one pass.

Nothing here reads contact data: the catalog (built-in, custom and rollup attributes) is all
it needs. Values are normalized and relative dates resolved against ``as_of`` here, once.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Final, Literal

from pipeline.catalog import BUILTIN, CUSTOM_TYPE, AttrType, Catalog
from pipeline.compile.normalize import normalize_phone, normalize_text
from pipeline.errors import Location, ProblemCollector, did_you_mean
from pipeline.language import ir
from pipeline.language.hints import (
    count_hint,
    count_operator_hint,
    group_hint,
    operator_hint,
)
from pipeline.language.source import Node
from pipeline.language.temporal import date_bounds, shift
from pipeline.language.values import ValueReader, _end, _start

GROUPS: Final = ("all", "any", "none")
REFERENCES: Final = ("in_segment", "not_in_segment")
RELATIONS: Final[dict[str, str]] = {"people": "organization", "organizations": "person"}
SPECIAL: Final = ("timeline", *RELATIONS, *REFERENCES)
KINDS: Final = ("note", "chat", "ticket", "call")
ENTITY_PLURAL: Final = {"organization": "organizations", "person": "people"}
COUNT_OPERATORS: Final = ("is", "is_not", "gt", "gte", "lt", "lte", "between")
PRESENCE: Final = ("is_unknown", "has_any_value")
TIMELINE_OPTIONS: Final = ("kind", "count", "within_last", "between")
#: A timeline condition takes at most one of these windows.
TIMELINE_WINDOWS: Final = ("within_last", "between")
RELATION_OPTIONS: Final = ("count", "where")
#: Operators whose value is not one value of the attribute's type: a non-empty list of them,
#: a ``[low, high]`` pair, or a duration. The JSON Schema (``schema.py``) reads these too.
LIST_VALUED: Final = ("in", "not_in")
RANGE: Final = ("between",)
RELATIVE: Final = ("within_last", "more_than_ago", "within_next")
#: The negative operators and the positive one each is the exact complement of.
NEGATIONS: Final[dict[str, str]] = {"is_not": "is", "not_contains": "contains", "not_in": "in"}

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
class SegmentInfo:
    """What a reference needs to know of another segment before it is checked. A segment
    whose file could not be read or parsed has no entity, only the file that says why."""

    id: str
    entity: str | None
    broken_file: str | None = None


@dataclass(frozen=True, slots=True)
class CheckContext:
    """What checking needs besides the files: the catalog and the run's clock."""

    catalog: Catalog
    as_of: dt.datetime
    tz: dt.tzinfo


class _Checker(ValueReader):
    """Checks the conditions of one segment; problems go to the shared collector."""

    def __init__(
        self,
        ctx: CheckContext,
        problems: ProblemCollector,
        entity: str,
        properties: Sequence[str] | None,
        segments: Mapping[str, SegmentInfo],
        checked: Mapping[str, ir.Segment],
    ) -> None:
        super().__init__(problems)
        self.ctx = ctx
        self.entity = entity
        self.properties = properties
        self.segments = segments
        self.checked = checked

    def nested(self, entity: str) -> _Checker:
        """A checker for a filter over the other entity (no property scope of its own)."""
        return _Checker(self.ctx, self.problems, entity, None, self.segments, self.checked)

    # -- structure ------------------------------------------------------------------------

    def condition(self, node: Node) -> ir.Condition | None:
        if node.value is None or (node.is_map and not node.items()):
            self.problems.add(
                node.loc,
                "the condition is empty",
                "write a condition, e.g. `name: {contains: acme}`",
            )
            return None
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
        if key == "timeline":
            return self.activity(key_node, value_node)
        if key in RELATIONS:
            return self.related(key, key_node, value_node)
        if key in REFERENCES:
            return self.reference(key, key_node, value_node)
        group_synonym = group_hint(key, value_node)
        if group_synonym is not None:
            self.problems.add(key_node.loc, f"unknown group {key!r}", group_synonym)
            self._check_items(value_node)
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

    def _check_items(self, node: Node) -> None:
        """Check what a misnamed group holds (results unused), so that every error shows in
        one pass."""
        if node.is_list:
            for item in node.elements():
                self.condition(item)
        elif node.is_map:
            self.condition(node)

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
            if self.entity != "organization":
                self.problems.add(
                    loc,
                    f"{key!r}: rollup columns exist on organizations only",
                    "on person segments use a `timeline:` condition",
                )
                return None
            if name in catalog.rollups:
                return ir.Attr("rollup", name, catalog.rollups[name])
            suggestion = did_you_mean(name, catalog.rollups)
            self.problems.add(
                loc,
                f"unknown rollup column {key!r}",
                suggestion.replace("'", "'rollup.", 1)
                if suggestion
                else "rollup columns are <kind>s_7d, _30d, _90d, _total (kinds: note, chat, "
                "ticket, call), first_interaction_at and last_interaction_at",
            )
            return None
        if key in ("custom", "rollup"):
            known = catalog.custom_keys(self.entity) if key == "custom" else list(catalog.rollups)
            self.problems.add(
                loc,
                f"`{key}` needs a column name: `{key}.<name>`",
                f"e.g. {', '.join(f'{key}.{k}' for k in known[:4]) or key + '.plan'}",
            )
            return None
        if ":" in key:
            self.problems.add(
                loc,
                f"unknown attribute {key!r}",
                "put a space after each colon: `name: {is: acme}`",
            )
            return None
        names = [
            *SPECIAL,
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

    # -- timeline, relationships, references ---------------------------------------------

    def _mapping(self, key: str, node: Node, allowed: Sequence[str]) -> dict[str, Node] | None:
        if not node.is_map:
            self.problems.add(
                node.loc,
                f"`{key}` takes a mapping of {', '.join(allowed)}",
                f"e.g. `{key}: {{{allowed[0]}: ...}}`",
            )
            return None
        fields: dict[str, Node] = {}
        unknown = False
        for field_key, value in node.items():
            name = str(field_key.value)
            if name not in allowed:
                self.problems.add(
                    field_key.loc,
                    f"unknown `{key}` option {name!r}",
                    did_you_mean(name, allowed) or f"options: {', '.join(allowed)}",
                )
                unknown = True
                continue
            fields[name] = value
        if unknown:  # still check the known options, so every error shows in one pass
            self._check_fields(key, fields)
            return None
        return fields

    def _check_fields(self, key: str, fields: Mapping[str, Node]) -> None:
        """Check the valid options of a condition that has an invalid one (results unused)."""
        if "count" in fields:
            self.count(fields["count"])
        if key == "timeline":
            self.kinds(fields.get("kind"))
            if "within_last" in fields:
                self.duration(fields["within_last"])
        elif "where" in fields:
            self.nested("person" if key == "people" else "organization").condition(fields["where"])

    def count(self, node: Node | None) -> tuple[ir.Count, bool] | None:
        """A count condition (default ``gte: 1``) and whether it is negated (``is_not``)."""
        if node is None:
            return ir.AT_LEAST_ONE, False
        if not node.is_map or len(node.items()) != 1:
            self.problems.add(
                node.loc,
                "`count` takes one operator, like `{gte: 3}`",
                count_hint(node) or f"count operators: {', '.join(COUNT_OPERATORS)}",
            )
            return None
        op_node, value = node.items()[0]
        op = str(op_node.value)
        if op not in COUNT_OPERATORS:
            self.problems.add(
                op_node.loc,
                f"unknown count operator {op!r}",
                count_operator_hint(op, value, COUNT_OPERATORS)
                or did_you_mean(op, COUNT_OPERATORS)
                or f"count operators: {', '.join(COUNT_OPERATORS)}",
            )
            return None
        if op in RANGE:
            pair = self.pair(value, self.whole_number)
            return None if pair is None else (ir.Count(pair[0], pair[1]), False)
        number = self.whole_number(value)
        if number is None:
            return None
        low, high, low_inc, high_inc = {
            "is": (number, number, True, True),
            "is_not": (number, number, True, True),
            "gt": (number, None, False, True),
            "gte": (number, None, True, True),
            "lt": (None, number, True, False),
            "lte": (None, number, True, True),
        }[op]
        return ir.Count(low, high, low_inc, high_inc), op == "is_not"

    def activity(self, key_node: Node, node: Node) -> ir.Condition | None:
        fields = self._mapping("timeline", node, TIMELINE_OPTIONS)
        if fields is None:
            return None
        if all(window in fields for window in TIMELINE_WINDOWS):
            between_key = next(k for k, _ in node.items() if k.value == "between")
            self.problems.add(
                between_key.loc,
                "a timeline condition takes one window",
                "use either `within_last` or `between`",
            )
            return None
        kinds = self.kinds(fields.get("kind"))
        counted = self.count(fields.get("count"))
        clock = self.ctx.as_of
        low: dt.datetime | None = None
        high, high_inc = clock, True
        if "within_last" in fields:
            duration = self.duration(fields["within_last"])
            if duration is None:
                return None
            low = shift(clock, duration, self.ctx.tz, -1)
        elif "between" in fields:
            tz = self.ctx.tz
            pair = self.pair(
                fields["between"],
                self.temporal,
                compare=lambda a, b: _non_empty(a, b, tz),
            )
            if pair is None:
                return None
            low = _start(pair[0], tz)
            end, end_inc = _end(pair[1], tz)
            if end < clock or (end == clock and not end_inc):
                high, high_inc = end, end_inc  # the window ends before as_of
        if kinds is None or counted is None:
            return None
        count, negated = counted
        leaf = ir.Activity(kinds, low, high, high_inc, count, key_node.loc)
        return ir.Not(leaf, key_node.loc) if negated else leaf

    def kinds(self, node: Node | None) -> tuple[str, ...] | None:
        if node is None or node.value == "any":
            return KINDS
        items = node.elements() if node.is_list else [node]
        if not items:
            self.problems.add(
                node.loc,
                "`kind` takes a kind or a non-empty list of kinds",
                f"kinds: {', '.join(KINDS)} (or `any`)",
            )
            return None
        kinds: list[str] = []
        for item in items:
            value = str(item.value).strip().lower() if item.is_scalar else ""
            if value not in KINDS:
                self.problems.add(
                    item.loc,
                    f"unknown event kind {item.plain()!r}",
                    did_you_mean(value.rstrip("s"), KINDS)
                    or f"kinds: {', '.join(KINDS)} (or `any`)",
                )
                return None
            kinds.append(value)
        return tuple(k for k in KINDS if k in kinds)

    def related(self, key: str, key_node: Node, node: Node) -> ir.Condition | None:
        if RELATIONS[key] != self.entity:
            other = next(k for k, e in RELATIONS.items() if e == self.entity)
            self.problems.add(
                key_node.loc,
                f"`{key}` conditions apply to {RELATIONS[key]} "
                f"segments, and this filter is about {ENTITY_PLURAL[self.entity]}",
                f"use `{other}:` here",
            )
            return None
        fields = self._mapping(key, node, RELATION_OPTIONS)
        if fields is None:
            return None
        counted = self.count(fields.get("count"))
        other_entity = "person" if key == "people" else "organization"
        where = None
        if "where" in fields:
            where = self.nested(other_entity).condition(fields["where"])
            if where is None:
                return None
        if counted is None:
            return None
        count, negated = counted
        relation: Literal["people", "organizations"] = (
            "people" if key == "people" else "organizations"
        )
        leaf = ir.Related(relation, where, count, key_node.loc)
        return ir.Not(leaf, key_node.loc) if negated else leaf

    def reference(self, key: str, key_node: Node, node: Node) -> ir.Condition | None:
        if not (node.is_scalar and isinstance(node.value, str)):
            self.problems.add(node.loc, f"`{key}` takes a segment id", f"e.g. `{key}: churn-risk`")
            return None
        target = node.value
        info = self.segments.get(target)
        if info is None:
            self.problems.add(
                node.loc,
                f"unknown segment {target!r}",
                did_you_mean(target, self.segments) or "name a segment of this folder",
            )
            return None
        if info.entity is None:
            self.problems.add(
                node.loc,
                f"segment {target!r} cannot be used: its file {info.broken_file} has errors",
                "fix that file first (its errors are listed with the others)",
            )
            return None
        if info.entity != self.entity:
            same = [s.id for s in self.segments.values() if s.entity == self.entity]
            self.problems.add(
                node.loc,
                f"segment {target!r} is a {info.entity} segment; this "
                f"filter is about {ENTITY_PLURAL[self.entity]}",
                did_you_mean(target, same) or "reference a segment of the same entity",
            )
            return None
        segment = self.checked.get(target)
        if segment is None:  # it has errors of its own (reported there) or is on a cycle
            return None
        reference = ir.InSegment(target, ir.scoped(segment), node.loc)
        return ir.Not(reference, key_node.loc) if key == "not_in_segment" else reference

    # -- one attribute, one operator ------------------------------------------------------

    def comparison(self, attr: ir.Attr, node: Node) -> ir.Condition | None:
        family = operator_family(attr.type)
        allowed = (*OPERATORS[family], *PRESENCE)
        if not node.is_map:
            example = node.show().strip("'") if node.is_scalar and node.value is not None else "..."
            self.problems.add(
                node.loc,
                f"`{attr.dsl_name}` needs an operator",
                f"write `{attr.dsl_name}: {{is: {example}}}`; {family} operators: "
                f"{', '.join(allowed)}",
            )
            return None
        if len(node.items()) != 1:
            ops = [str(k.value) for k, _ in node.items()]
            hint = f"{family} operators: {', '.join(allowed)}"
            if len(ops) > 1:
                hint = "to combine conditions list them under `all:`"
                if "between" in allowed:
                    hint = "for a range use `between: [low, high]`; " + hint
                if any(op.isdigit() for op in ops):
                    hint = "write numbers without thousands separators (50000, not 50,000)"
            self.problems.add(
                node.loc,
                f"`{attr.dsl_name}` takes exactly one operator, found "
                f"{len(ops)}" + (f" ({', '.join(ops)})" if ops else ""),
                hint,
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
                kind = attr.type.value
                self.problems.add(
                    op_node.loc,
                    f"unknown operator {op!r}",
                    operator_hint(op, family, allowed, attr.dsl_name, kind, value)
                    or did_you_mean(op, allowed)
                    or f"{family} operators: {', '.join(allowed)}",
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
        negated = op in NEGATIONS
        positive = NEGATIONS.get(op, op)
        leaf = self.leaf(attr, family, positive, value, span)
        if leaf is None:
            return None
        return ir.Not(leaf, span) if negated else leaf

    def leaf(
        self, attr: ir.Attr, family: str, op: str, value: Node, span: Location
    ) -> ir.Condition | None:
        if family in ("text", "list"):
            normalize = normalize_phone if attr.type.is_phone else normalize_text
            if op in LIST_VALUED:
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
        if op in RANGE:
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
        if op in RELATIVE:
            duration = self.duration(value)
            if duration is None:
                return None
            if op == "within_last":
                low, high = shift(as_of, duration, tz, -1), as_of
            elif op == "within_next":
                low, high = as_of, shift(as_of, duration, tz, +1)
            else:
                high, high_inc = shift(as_of, duration, tz, -1), False
        elif op in RANGE:
            pair = self.pair(value, self.temporal, compare=lambda a, b: _non_empty(a, b, tz))
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


def _non_empty(low: dt.date | dt.datetime, high: dt.date | dt.datetime, tz: dt.tzinfo) -> bool:
    """Whether ``between: [low, high]`` holds any instant (a date as upper bound is its day)."""
    end, inclusive = _end(high, tz)
    return _start(low, tz) <= end if inclusive else _start(low, tz) < end


def check_condition(
    node: Node,
    ctx: CheckContext,
    problems: ProblemCollector,
    entity: str,
    properties: Sequence[str] | None,
    segments: Mapping[str, SegmentInfo],
    checked: Mapping[str, ir.Segment],
) -> ir.Condition | None:
    """A segment's ``where`` -> IR; ``checked`` holds the segments it may reference."""
    return _Checker(ctx, problems, entity, properties, segments, checked).condition(node)

"""A checked segment in plain English, for a marketer (``segments explain ID``).

The words follow the checked IR, not the YAML: values are shown normalized (trimmed and
lower-cased text, phones as digits), relative dates as the UTC instants the checker resolved
them to, and ``in_segment`` references expanded into the conditions of the segment they name.
Groups become nested bullets; each attribute condition is one sentence (``phrases.py``), whose
negative form says who it lets in through an unknown value (SPEC section 3).

    >>> print(explain(churn_risk_customers))  # doctest: +SKIP
    Churn-risk customers (id churn-risk-customers): a segment of organizations
    <BLANKLINE>
    Members: organizations of every property for which all of these are true:
    - is customer (custom attribute) is true
    - has a primary phone
    ...
    - none of these is true (organizations with no plan are included):
      - plan (custom attribute) is 'free'
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Final, assert_never

from pipeline.language import ir
from pipeline.language.phrases import (
    Wording,
    counted,
    instant,
    kinds,
    label,
    leaf,
    parens,
    unknowable,
    unknown_included,
    window,
)

PLURAL: Final[dict[ir.Entity, str]] = {"organization": "organizations", "person": "people"}
LINKED: Final[dict[ir.Entity, tuple[str, str]]] = {
    "organization": ("linked organization", "linked organizations"),
    "person": ("linked person", "linked people"),
}

UNKNOWN_RULE: Final = (
    "A condition on an unknown value (missing, blank or empty) is never true. So the negative "
    "forms (is not, does not contain, is none of, none of these) include the contacts whose "
    "value is unknown."
)
TEXT_RULE: Final = (
    "Text is compared ignoring case and surrounding spaces (values are shown trimmed and "
    "lower-cased)."
)
PHONE_RULE: Final = "Phone numbers are compared on their digits only (values are shown as digits)."


@dataclass(frozen=True, slots=True)
class _Item:
    """One bullet: its words and the bullets nested under it."""

    text: str
    children: tuple[_Item, ...] = ()


@dataclass(frozen=True, slots=True)
class _Scope:
    """Whom a condition is about (a relationship filter is about the other entity), and the
    run's clock when known."""

    entity: ir.Entity
    clock: ir.Clock | None

    @property
    def wording(self) -> Wording:
        return Wording(PLURAL[self.entity], self.clock)

    def about(self, entity: ir.Entity) -> _Scope:
        return _Scope(entity, self.clock)


def explain(segment: ir.Segment, clock: ir.Clock | None = None) -> str:
    """``segment`` in words: a title line, its description, its definition as a bullet tree
    and short notes on how values are compared. With the run's ``clock``, periods that start
    or end at the run are also said relative to it ("the 30 days before the run").

    >>> print(explain(vip))  # doctest: +SKIP
    vip: a segment of people
    <BLANKLINE>
    Members: people of every property for which:
    - tags include 'vip'
    <BLANKLINE>
    Notes:
    - Text is compared ignoring case and surrounding spaces (values are shown trimmed ...).
    """
    scope = _Scope(segment.entity, clock)
    root = _introduce(f"Members: {_population(segment)} for which", segment.where, scope)
    lines = [_title(segment)]
    if segment.description.strip():
        lines.append(_one_line(segment.description))
    lines += ["", root.text, *(line for child in root.children for line in _bullets(child, 0))]
    notes = _notes(ir.scoped(segment), clock)
    if notes:
        lines += ["", "Notes:", *(f"- {note}" for note in notes)]
    return "\n".join(lines)


def attribute_words(attr: ir.Attr) -> str:
    """How ``explain`` names an attribute: ``plan (custom attribute)``, ``job title``,
    ``number of chats in the last 30 days (timeline rollup)``."""
    return label(attr)


# -- the frame: title, population, bullets, notes ---------------------------------------------


def _one_line(text: str) -> str:
    return " ".join(text.split())


def _title(segment: ir.Segment) -> str:
    kind = f"a segment of {PLURAL[segment.entity]}"
    name = _one_line(segment.name)
    return f"{segment.id}: {kind}" if name == segment.id else f"{name} (id {segment.id}): {kind}"


def _population(segment: ir.Segment) -> str:
    members = PLURAL[segment.entity]
    if segment.properties is None:
        return f"{members} of every property"
    if len(segment.properties) == 1:
        return f"{members} of property {segment.properties[0]}"
    return f"{members} of the properties {', '.join(segment.properties)}"


def _bullets(item: _Item, depth: int) -> Iterator[str]:
    yield f"{'  ' * depth}- {item.text}"
    for child in item.children:
        yield from _bullets(child, depth + 1)


def _notes(condition: ir.Condition, clock: ir.Clock | None) -> list[str]:
    """The comparison rules the bullets rely on, each said once and only where it applies."""
    nodes = list(_walk(condition))
    matched = [n.attr for n in nodes if isinstance(n, ir.TextMatch | ir.ListMatch)]
    notes = []
    if any(isinstance(n, ir.Not) and _exposed(n.item) for n in nodes):
        notes.append(UNKNOWN_RULE)
    if any(not attr.type.is_phone for attr in matched):
        notes.append(TEXT_RULE)
    if any(attr.type.is_phone for attr in matched):
        notes.append(PHONE_RULE)
    if any(isinstance(n, ir.TimeRange | ir.DateRange | ir.Activity) for n in nodes):
        notes.append(
            "Times are UTC; dates are calendar days."
            if clock is None
            else f"Times are UTC; dates and periods were worked out for a run at "
            f"{instant(clock.as_of)} (calendar days in {clock.timezone})."
        )
    return notes


def _walk(condition: ir.Condition) -> Iterator[ir.Condition]:
    """Every node under ``condition``, into references and relationship filters too."""
    yield condition
    match condition:
        case ir.All(items) | ir.AnyOf(items):
            for item in items:
                yield from _walk(item)
        case ir.Not(item) | ir.InSegment(condition=item):
            yield from _walk(item)
        case ir.Related(where=where) if where is not None:
            yield from _walk(where)
        case _:
            pass


def _exposed(condition: ir.Condition) -> list[ir.Leaf]:
    """The leaves through which an unknown value makes ``condition`` false, so that its
    negation holds: through groups and references, not through a further negation (which
    turns it round) nor into a relationship filter (about linked entities, counted)."""
    match condition:
        case ir.All(items) | ir.AnyOf(items):
            return [found for item in items for found in _exposed(item)]
        case ir.InSegment(condition=inner):
            return _exposed(inner)
        case (
            ir.HasValue()
            | ir.TextMatch()
            | ir.ListMatch()
            | ir.NumberRange()
            | ir.BoolIs()
            | ir.TimeRange()
            | ir.DateRange()
        ):
            return [condition] if unknowable(condition) else []
        case _:
            return []


# -- one function per node ----------------------------------------------------------------------


def _condition(condition: ir.Condition, scope: _Scope) -> _Item:
    """One node (and what it holds) as a bullet."""
    match condition:
        case ir.All(items):
            return _Item("all of these are true:", _members(items, ir.All, scope))
        case ir.AnyOf(items):
            return _Item("at least one of these is true:", _members(items, ir.AnyOf, scope))
        case ir.Not(item):
            return _negation(item, scope)
        case ir.InSegment():
            return _reference(condition, scope, negated=False)
        case ir.Related():
            return _related(condition, scope, negated=False)
        case ir.Activity():
            return _activity(condition, scope, negated=False)
        case ir.PropertyIn(properties):
            return _Item(f"is in {_properties(properties)}")
        case (
            ir.HasValue()
            | ir.TextMatch()
            | ir.ListMatch()
            | ir.NumberRange()
            | ir.BoolIs()
            | ir.TimeRange()
            | ir.DateRange()
        ):
            return _Item(leaf(condition, scope.wording, negated=False))
        case _:
            assert_never(condition)


def _negation(item: ir.Condition, scope: _Scope) -> _Item:
    """``Not(item)`` in the negative words of ``item`` where it has them, else ``not:``."""
    match item:
        case ir.AnyOf(items):
            return _Item(_none_header(items, scope), _members(items, ir.AnyOf, scope))
        case ir.InSegment():
            return _reference(item, scope, negated=True)
        case ir.Related():
            return _related(item, scope, negated=True)
        case ir.Activity():
            return _activity(item, scope, negated=True)
        case ir.PropertyIn(properties):
            return _Item(f"is not in {_properties(properties)}")
        case (
            ir.HasValue()
            | ir.TextMatch()
            | ir.ListMatch()
            | ir.NumberRange()
            | ir.BoolIs()
            | ir.TimeRange()
            | ir.DateRange()
        ):
            return _Item(leaf(item, scope.wording, negated=True))
        case ir.All() | ir.Not():
            return _Item("not:", (_condition(item, scope),))
        case _:
            assert_never(item)


def _introduce(prefix: str, condition: ir.Condition, scope: _Scope) -> _Item:
    """``prefix`` and ``condition``: a group's header joins the prefix ("... for which all
    of these are true:"); anything else becomes the one bullet under "prefix:"."""
    item = _condition(condition, scope)
    is_group = isinstance(condition, ir.All | ir.AnyOf) or (
        isinstance(condition, ir.Not) and isinstance(condition.item, ir.AnyOf)
    )
    if is_group:
        return _Item(f"{prefix} {item.text}", item.children)
    return _Item(f"{prefix}:", (item,))


def _members(items: Iterable[ir.Condition], kind: type, scope: _Scope) -> tuple[_Item, ...]:
    """A group's bullets; a group of the same kind inside it says the same as its items."""
    flat: list[_Item] = []
    for item in items:
        if isinstance(item, ir.All | ir.AnyOf) and type(item) is kind:
            flat.extend(_members(item.items, kind, scope))
        else:
            flat.append(_condition(item, scope))
    return tuple(flat)


def _none_header(items: tuple[ir.Condition, ...], scope: _Scope) -> str:
    """``none of these is true:``, with what unknown values do when they decide it."""
    exposed = [found for item in items for found in _exposed(item)]
    if len(items) == 1 and exposed == [items[0]]:
        return f"none of these is true ({unknown_included(exposed[0].attr, scope.wording)}):"
    if exposed:
        return "none of these is true (a condition on an unknown value counts as not true):"
    return "none of these is true:"


def _reference(node: ir.InSegment, scope: _Scope, negated: bool) -> _Item:
    """A reference, expanded into the definition (property scope included) it names."""
    named = f"segment '{node.segment_id}'"
    if negated:
        prefix = f"is not a member of {named}, whose members are those for which"
    else:
        prefix = f"is a member of {named}, which means"
    return _introduce(prefix, node.condition, scope)


def _related(node: ir.Related, scope: _Scope, negated: bool) -> _Item:
    one, many = LINKED[node.other]
    phrase = counted(node.count, one, many, negated)
    if phrase is None:
        return _Item("not:", (_related(node, scope, negated=False),))
    if node.where is None:
        return _Item(f"has {phrase}")
    which = "for whom" if node.other == "person" else "for which"
    return _introduce(f"has {phrase} {which}", node.where, scope.about(node.other))


def _activity(node: ir.Activity, scope: _Scope, negated: bool) -> _Item:
    one, many = kinds(node.kinds)
    phrase = counted(node.count, one, many, negated)
    if phrase is None:
        return _Item("not:", (_activity(node, scope, negated=False),))
    period, notes = window(node, scope.clock)
    return _Item(parens(f"has {phrase} {period}", notes))


def _properties(properties: tuple[str, ...]) -> str:
    if len(properties) == 1:
        return f"property {properties[0]}"
    return f"one of the properties {', '.join(properties)}"

"""The JSON Schema (draft 2020-12) of one segment file, for editors and other tools.

Derived, not restated: the top level comes from :class:`SegmentFile`
(``model_json_schema()``), so a key added there appears here; the condition language comes
from the checker's tables (``check.py``: groups, operators per type family, the operators
whose value is a list, a pair or a duration, timeline and relationship options) and from the
catalog's attributes and their types. What a schema cannot say (a reversed ``between``, an
impossible date such as 2026-02-30, whether ``in_segment`` names an existing segment, a
custom attribute missing in one of the ``properties:``) is left to ``segments validate``.

A YAML file names the schema in a first-line comment, for the YAML language server::

    # yaml-language-server: $schema=../segment.schema.json

and ``python -m pipeline.language.schema [DATA_DIR] > segment.schema.json`` writes it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any, Final, get_args

from pipeline.catalog import BUILTIN, CUSTOM_TYPE, AttrType, Catalog
from pipeline.compile.normalize import WHITESPACE
from pipeline.language.check import (
    COUNT_OPERATORS,
    GROUPS,
    KINDS,
    LIST_VALUED,
    OPERATORS,
    PRESENCE,
    RANGE,
    REFERENCES,
    RELATION_OPTIONS,
    RELATIONS,
    RELATIVE,
    TIMELINE_OPTIONS,
    TIMELINE_WINDOWS,
    operator_family,
)
from pipeline.language.ir import rollup_columns
from pipeline.language.spec import SEGMENT_ID, SegmentFile
from pipeline.language.temporal import TEMPORAL_PATTERN
from pipeline.language.values import MAX_COUNT, MAX_TEXT

Schema = dict[str, object]

DIALECT: Final = "https://json-schema.org/draft/2020-12/schema"
#: ``organization`` and ``person``, as ``SegmentFile.entity`` reads them.
ENTITIES: Final = get_args(SegmentFile.model_fields["entity"].annotation)

# -- value patterns --------------------------------------------------------------------------
# Written as regular expressions that Python's ``re`` and ECMA-262 (what editors run) read
# alike; each accepts at least what the checker's reader accepts (tests/test_schema.py
# compares them on many strings).

#: ``temporal.parse_duration``: a positive whole number and a unit; ``[^\D0]`` is a digit
#: other than 0, so that ``0d`` and ``00h`` fail.
DURATION_PATTERN: Final = r"^\s*\d*[^\D0]\d*\s*[dwh]\s*$"

#: The only character outside ASCII whose lower case is an ASCII letter (the Kelvin sign);
#: ``kind`` is compared lower-cased, as Python lower-cases.
_LOWERS_TO_ASCII: Final = {"k": "\u212a"}


def _class_of(chars: Iterable[str]) -> str:
    r"""A character class of ``chars``: letters and digits of ASCII as they are, any other
    character as ``\uXXXX`` (which Python and ECMA read alike)."""
    spelled = (c if c.isascii() and c.isalnum() else f"\\u{ord(c):04x}" for c in sorted(set(chars)))
    return "[" + "".join(spelled) + "]"


#: Text with something besides white space (``normalize_text`` trims ``WHITESPACE``).
NON_BLANK_PATTERN: Final = "[^" + _class_of(WHITESPACE)[1:]
#: A phone with a digit (``normalize_phone`` keeps ASCII digits only).
PHONE_PATTERN: Final = "[0-9]"


def _any_case(word: str) -> str:
    """A pattern for ``word`` in any case: what ``value.strip().lower() == word`` accepts."""
    out = ""
    for char in word:
        variants = {char, char.upper(), _LOWERS_TO_ASCII.get(char, char)}
        out += _class_of(variants) if len(variants) > 1 else re.escape(char)
    return out


def _ecma(pattern: re.Pattern[str]) -> str:
    r"""A Python pattern anchored with ``\Z`` as the ECMA-262 ``$``."""
    return pattern.pattern.replace(r"\Z", "$")


# -- small schemas ---------------------------------------------------------------------------


def _ref(name: str) -> Schema:
    return {"$ref": f"#/$defs/{name}"}


def _pair(item: Schema) -> Schema:
    return {"type": "array", "prefixItems": [item, item], "minItems": 2, "maxItems": 2}


def _one_of_keys(options: Mapping[str, object], description: str) -> Schema:
    """A mapping holding exactly one of ``options`` (an operator or a condition)."""
    return {
        "type": "object",
        "description": description,
        "properties": dict(options),
        "additionalProperties": False,
        "minProperties": 1,
        "maxProperties": 1,
    }


def _scalar(attr_type: AttrType) -> Schema:
    """One value of an attribute of ``attr_type``, as ``values.ValueReader`` reads it."""
    family = operator_family(attr_type)
    if family in ("text", "list"):
        text: Schema = {
            "type": "string",
            "maxLength": MAX_TEXT,
            "pattern": PHONE_PATTERN if attr_type.is_phone else NON_BLANK_PATTERN,
        }
        # A number written for text is taken as written (75001, 0612345678).
        return {"anyOf": [text, {"type": "number"}]}
    if family == "date":
        return _ref("temporal")
    return {"type": family}


def _operand(op: str, attr_type: AttrType) -> Schema:
    """What ``op`` takes on an attribute of ``attr_type``."""
    if op in PRESENCE:
        return {"type": "boolean"}
    if op in LIST_VALUED:
        return {"type": "array", "minItems": 1, "items": _scalar(attr_type)}
    if op in RANGE:
        return _pair(_scalar(attr_type))
    if op in RELATIVE:
        return _ref("duration")
    return _scalar(attr_type)


def _operators(attr_types: Iterable[AttrType]) -> Schema:
    """One operator of the types' families (a custom attribute of unknown type: of any)."""
    options: dict[str, list[Schema]] = {}
    names: list[str] = []
    for attr_type in attr_types:
        family = operator_family(attr_type)
        names.append(attr_type.value)
        for op in (*OPERATORS[family], *PRESENCE):
            operand = _operand(op, attr_type)
            if operand not in options.setdefault(op, []):
                options[op].append(operand)
    merged = {op: s[0] if len(s) == 1 else {"anyOf": s} for op, s in options.items()}
    return _one_of_keys(merged, f"one operator of a {' or '.join(names)} attribute")


def _type_name(attr_type: AttrType) -> str:
    return f"operators.{attr_type.name.lower()}"


# -- conditions ------------------------------------------------------------------------------


def _attributes(entity: str, catalog: Catalog | None) -> tuple[Schema, Schema]:
    """The attribute keys of ``entity``'s conditions and the patterns of the other keys."""
    keys: Schema = {name: _ref(_type_name(t)) for name, t in BUILTIN.items()}
    patterns: Schema = {}
    if catalog is None:
        patterns[r"^custom\.[\s\S]"] = _ref("operators.custom")
    else:
        for key in catalog.custom_keys(entity):
            definition = catalog.custom[(entity, key)]
            keys[f"custom.{key}"] = {
                **_ref(_type_name(CUSTOM_TYPE[definition.type])),
                "description": f"{definition.label} (custom {definition.type})",
            }
    if entity == "organization":
        rollups = rollup_columns() if catalog is None else catalog.rollups
        keys.update({f"rollup.{name}": _ref(_type_name(t)) for name, t in rollups.items()})
    return keys, patterns


def _condition(entity: str, catalog: Catalog | None) -> Schema:
    """One condition of an ``entity`` filter: a one-key mapping."""
    keys: Schema = {group: _ref(f"{entity}.group") for group in GROUPS}
    keys["timeline"] = _ref("timeline")
    keys.update({rel: _ref(rel) for rel, on in RELATIONS.items() if on == entity})
    keys.update({ref: _ref("segment_id") for ref in REFERENCES})
    attributes, patterns = _attributes(entity, catalog)
    keys.update(attributes)
    schema = _one_of_keys(keys, f"a condition on {entity} segments: a group or one key")
    if patterns:
        schema["patternProperties"] = patterns
    return schema


def _relation(key: str, nested_entity: str) -> Schema:
    options = {"count": _ref("count"), "where": _ref(f"{nested_entity}.condition")}
    assert set(options) == set(RELATION_OPTIONS), "an option of check.py without a schema"
    return {
        "type": "object",
        "description": f"how many linked {key} match a filter",
        "properties": options,
        "additionalProperties": False,
    }


def _timeline() -> Schema:
    kind = {"type": "string", "pattern": rf"^\s*(?:{'|'.join(map(_any_case, KINDS))})\s*$"}
    options: dict[str, Schema] = {
        "kind": {
            "anyOf": [
                {"const": "any"},
                kind,
                {"type": "array", "minItems": 1, "items": kind},
            ]
        },
        "count": _ref("count"),
        "within_last": _ref("duration"),
        "between": _pair(_ref("temporal")),
    }
    assert set(options) == set(TIMELINE_OPTIONS), "an option of check.py without a schema"
    return {
        "type": "object",
        "description": "how many interactions of some kinds, in a window",
        "properties": options,
        "additionalProperties": False,
        "not": {"required": list(TIMELINE_WINDOWS)},
    }


def _count() -> Schema:
    whole: Schema = {"type": "integer", "minimum": 0, "maximum": MAX_COUNT}
    options = {op: _pair(whole) if op in RANGE else whole for op in COUNT_OPERATORS}
    return _one_of_keys(options, "one count operator, like {gte: 3}")


def _definitions(catalog: Catalog | None) -> Schema:
    defs: Schema = {}
    for entity in ENTITIES:
        defs[f"{entity}.condition"] = _condition(entity, catalog)
        defs[f"{entity}.group"] = {
            "type": "array",
            "minItems": 1,
            "items": _ref(f"{entity}.condition"),
        }
    for rel, on in RELATIONS.items():
        defs[rel] = _relation(rel, next(e for e in ENTITIES if e != on))
    for attr_type in AttrType:
        defs[_type_name(attr_type)] = _operators([attr_type])
    defs["operators.custom"] = _operators(dict.fromkeys(CUSTOM_TYPE.values()))
    defs["timeline"] = _timeline()
    defs["count"] = _count()
    defs["duration"] = {
        "type": "string",
        "pattern": DURATION_PATTERN,
        "description": "a positive duration: 30d (days), 2w (weeks), 12h (hours)",
    }
    defs["temporal"] = {
        "type": "string",
        "pattern": TEMPORAL_PATTERN,
        "description": "a date (2026-01-31) or a timestamp (2026-01-31T09:00:00Z)",
    }
    defs["segment_id"] = {"type": "string", "pattern": _ecma(SEGMENT_ID)}
    return defs


# -- the file --------------------------------------------------------------------------------


def _where_by_entity() -> Schema:
    """``where`` holds a condition on the segment's entity (organization by default)."""
    person = {"properties": {"entity": {"const": "person"}}, "required": ["entity"]}
    return {
        "if": person,
        "then": {"properties": {"where": _ref("person.condition")}},
        "else": {"properties": {"where": _ref("organization.condition")}},
    }


def segment_schema(catalog: Catalog | None = None) -> dict[str, object]:
    """The JSON Schema of one segment file; with a catalog, its custom attributes by name.

    Without a catalog any ``custom.<key>`` is accepted, with the operators of every type.

    >>> schema = segment_schema()
    >>> schema["$defs"]["organization.condition"]["properties"]["tags"]
    {'$ref': '#/$defs/operators.text_list'}
    """
    top: dict[str, Any] = SegmentFile.model_json_schema()
    properties = top["properties"]
    # The condition depends on ``entity`` (see ``allOf``); here only what every one is.
    properties["where"] = {
        "description": "the filter: one condition, or a group (all, any, none) of them",
        "type": "object",
    }
    for branch in properties["id"]["anyOf"]:  # the field validator, which pydantic cannot see
        if branch.get("type") == "string":
            branch["pattern"] = _ecma(SEGMENT_ID)
    defs = top.pop("$defs", {})
    assert isinstance(defs, dict)
    return {
        "$schema": DIALECT,
        **top,
        "title": "Segment file",
        "allOf": [_where_by_entity()],
        "$defs": {**defs, **_definitions(catalog)},
    }

"""The segment file format as pydantic models (top level only; conditions stay as nodes).

Conditions are one-key mappings whose key is data (an attribute name), which a schema
describes poorly; ``check.py`` walks them node by node so that each error keeps its position.
"""

from __future__ import annotations

import re
from typing import Final, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from pipeline.errors import Location, Problem, did_you_mean
from pipeline.language.source import Node

SEGMENT_ID: Final = re.compile(r"^[a-z0-9][a-z0-9_-]*$")


class SegmentFile(BaseModel):
    """What one segment file may hold at its top level."""

    model_config = ConfigDict(frozen=True, extra="forbid", strict=True)

    id: str | None = None
    name: str | None = None
    description: str = ""
    entity: Literal["organization", "person"] = "organization"
    properties: list[str] | None = Field(default=None, min_length=1)
    where: object

    @field_validator("id")
    @classmethod
    def _id_pattern(cls, value: str | None) -> str | None:
        if value is not None and not SEGMENT_ID.match(value):
            raise ValueError("must match [a-z0-9][a-z0-9_-]* (lower-case letters, digits, - and _)")
        return value

    @field_validator("properties")
    @classmethod
    def _properties(cls, value: list[str] | None) -> list[str] | None:
        if value is not None and any(not p.strip() for p in value):
            raise ValueError("a property id may not be blank")
        return value


_FIELDS: Final = tuple(SegmentFile.model_fields)


def read_segment_file(root: Node) -> tuple[SegmentFile | None, list[Problem]]:
    """Validate the top level of a parsed file; every problem comes back located."""
    if not root.is_map:
        return None, [
            Problem(root.loc, "a segment file must be a mapping (`where:`, `name:`, ...)")
        ]
    problems: list[Problem] = []
    raw: dict[str, object] = {}
    for key_node, value_node in root.items():
        key = str(key_node.value)
        if key not in _FIELDS:
            hint = did_you_mean(key, _FIELDS) or f"the keys are: {', '.join(_FIELDS)}"
            problems.append(Problem(key_node.loc, f"unknown key {key!r}", hint))
            continue
        raw[key] = value_node if key == "where" else value_node.plain()
    if "where" not in raw:
        problems.append(
            Problem(
                root.loc,
                "the segment has no `where:`",
                "add `where:` with a condition, e.g. `where: {tags: {contains: vip}}`",
            )
        )
        return None, problems
    try:
        model = SegmentFile.model_validate(raw)
    except ValidationError as error:
        for item in error.errors():
            name = str(item["loc"][0]) if item["loc"] else "where"
            node = root.get(name) or root
            message = str(item["msg"]).removeprefix("Value error, ")
            field_hint: str | None = (
                "entity is `organization` or `person`" if name == "entity" else None
            )
            problems.append(Problem(_loc(node), f"`{name}` {message.lower()}", field_hint))
        return None, problems
    return (model if not problems else None), problems


def _loc(node: Node) -> Location:
    return node.loc

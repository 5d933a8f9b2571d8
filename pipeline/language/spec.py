"""The segment file format as pydantic models (top level only; conditions stay as nodes).

Conditions are one-key mappings whose key is data (an attribute name), which a schema
describes poorly; ``check.py`` walks them node by node so that each error keeps its position.
"""

from __future__ import annotations

import re
from typing import Final, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from pipeline.errors import Problem, did_you_mean
from pipeline.language.source import Node

#: ``\Z``, not ``$``: ``$`` also matches before a final newline (``id: "abc\n"``).
SEGMENT_ID: Final = re.compile(r"^[a-z0-9][a-z0-9_-]*\Z")


class SegmentFile(BaseModel):
    """What one segment file may hold at its top level."""

    model_config = ConfigDict(frozen=True, extra="forbid", strict=True)

    id: str | None = None
    name: str | None = None
    description: str = ""
    entity: Literal["organization", "person"] = "organization"
    properties: list[str] | None = Field(default=None, min_length=1)
    where: object
    #: Metadata, published in the ``segments`` table and listed by ``segments list``.
    owner: str | None = None
    tags: list[str] = Field(default_factory=list)
    meta: dict[str, object] | None = None
    #: ``false`` parks a segment: checked at its top level only, not evaluated or published.
    enabled: bool = True

    @field_validator("id")
    @classmethod
    def _id_pattern(cls, value: str | None) -> str | None:
        if value is not None and not SEGMENT_ID.match(value):
            raise ValueError("must match [a-z0-9][a-z0-9_-]* (lower-case letters, digits, - and _)")
        return value

    @field_validator("tags")
    @classmethod
    def _tags(cls, value: list[str]) -> list[str]:
        if any(not t.strip() for t in value):
            raise ValueError("a tag may not be blank")
        return list(dict.fromkeys(t.strip() for t in value))

    @field_validator("properties")
    @classmethod
    def _properties(cls, value: list[str] | None) -> list[str] | None:
        if value is not None and any(not p.strip() for p in value):
            raise ValueError("a property id may not be blank")
        return value


_FIELDS: Final = tuple(SegmentFile.model_fields)


def _field_problem(name: str, kind: str, value: object) -> tuple[str, str | None]:
    """A pydantic error on a top-level field, said in the words of the file format."""
    if name == "id":
        slug = re.sub(r"[^a-z0-9_-]+", "-", str(value).lower()).strip("-_") or "my-segment"
        return (f"`id` {value!r} is not a valid segment id", f"ids use a-z, 0-9, - and _: {slug}")
    if name == "entity":
        return (
            f"`entity` must be organization or person, got {value!r}",
            did_you_mean(str(value), ("organization", "person")) or "the default is organization",
        )
    if name == "properties":
        if kind == "too_short":
            return (
                "`properties` needs at least one property id",
                "leave `properties:` out to include every property",
            )
        if kind == "value_error":
            return ("`properties` holds a blank property id", "write ids like [site-fr, site-de]")
        return ("`properties` takes a list of property ids", "e.g. `properties: [site-fr]`")
    if name == "tags":
        if kind == "value_error":
            return ("`tags` holds a blank tag", "write tags like [weekly, lifecycle]")
        return ("`tags` takes a list of words", "e.g. `tags: [weekly, lifecycle]`")
    if name == "meta":
        return (
            "`meta` takes a mapping of your own keys",
            "e.g. `meta: {jira: MKT-12, channel: email}`",
        )
    if name == "enabled":
        return (
            f"`enabled` must be true or false, got {value!r}",
            "`enabled: false` parks the segment: it is not evaluated",
        )
    if name == "owner":
        return ("`owner` must be text", "e.g. `owner: lifecycle-team@example.com`")
    return (f"`{name}` must be text", "quote it, e.g. 'Enterprise accounts'")


def _as_written(node: Node) -> object:
    """A number where text is expected (``id: 2024``) is taken as written."""
    if node.text is not None:
        return node.text
    return node.plain()


def _plain(key: str, node: Node) -> object:
    if key in ("id", "name", "description", "owner"):
        return _as_written(node)
    if key in ("properties", "tags") and node.is_list:
        return [_as_written(item) for item in node.elements()]
    return node.plain()


def read_segment_file(root: Node) -> tuple[SegmentFile | None, list[Problem]]:
    """Validate the top level of a parsed file; every problem comes back located.

    When only the top level is wrong, the returned model is a stand-in (with defaults for the
    broken fields) so that ``where`` is still checked in the same pass; the problems list says
    the segment itself is unusable.
    """
    if not root.is_map:
        return None, [
            Problem(
                root.loc,
                "a segment file must be a mapping (`where:`, `name:`, ...)",
                "start with `where:` followed by a condition",
            )
        ]
    problems: list[Problem] = []
    raw: dict[str, object] = {}
    misspelled_where = False
    for key_node, value_node in root.items():
        key = str(key_node.value)
        if key not in _FIELDS:
            suggestion = did_you_mean(key, _FIELDS)
            misspelled_where = misspelled_where or suggestion == "did you mean 'where'?"
            hint = suggestion or f"the keys are: {', '.join(_FIELDS)}"
            problems.append(Problem(key_node.loc, f"unknown key {key!r}", hint))
            continue
        raw[key] = value_node if key == "where" else _plain(key, value_node)
    if "where" not in raw:
        if not misspelled_where:
            problems.append(
                Problem(
                    root.loc,
                    "the segment has no `where:`",
                    "add `where:` with a condition, e.g. `where: {tags: {contains: vip}}`",
                )
            )
        return None, problems
    try:
        return (SegmentFile.model_validate(raw), problems)
    except ValidationError as error:
        broken: set[str] = set()
        for item in error.errors():
            name = str(item["loc"][0]) if item["loc"] else "where"
            broken.add(name)
            node = root.get(name) or root
            message, field_hint = _field_problem(name, str(item["type"]), raw.get(name))
            problems.append(Problem(node.loc, message, field_hint))
        fallback = {k: v for k, v in raw.items() if k not in broken}
        return SegmentFile.model_validate(fallback), problems

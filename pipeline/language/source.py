"""YAML text -> nodes that remember where they were written.

Only this module touches the YAML library. Everything after it works on ``Node``s, whose
``loc`` points at ``file:line:column`` (1-based) for error messages.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.constructor import DuplicateKeyError
from ruamel.yaml.error import MarkedYAMLError

from pipeline.errors import Location, Problem

Scalar = str | int | float | bool | dt.date | dt.datetime | None


@dataclass(frozen=True, slots=True)
class Node:
    """A YAML value with its position: a scalar, a list of nodes, or key nodes -> nodes."""

    value: Scalar | list[Node] | dict[str, tuple[Node, Node]]
    loc: Location
    extras: tuple[str, ...] = field(default=(), compare=False)

    @property
    def is_map(self) -> bool:
        return isinstance(self.value, dict)

    @property
    def is_list(self) -> bool:
        return isinstance(self.value, list)

    @property
    def is_scalar(self) -> bool:
        return not (self.is_map or self.is_list)

    def items(self) -> list[tuple[Node, Node]]:
        assert isinstance(self.value, dict)
        return list(self.value.values())

    def elements(self) -> list[Node]:
        assert isinstance(self.value, list)
        return self.value

    def get(self, key: str) -> Node | None:
        assert isinstance(self.value, dict)
        pair = self.value.get(key)
        return None if pair is None else pair[1]

    def plain(self) -> Any:
        """The value without positions (for hashing and display)."""
        if isinstance(self.value, dict):
            return {k: v.plain() for k, (_, v) in self.value.items()}
        if isinstance(self.value, list):
            return [v.plain() for v in self.value]
        if isinstance(self.value, dt.date | dt.datetime):
            return self.value.isoformat()
        return self.value


def _scalar(value: Any) -> Scalar:
    if value is None or isinstance(value, bool | str | int | float | dt.date):
        if isinstance(value, dt.datetime):
            return dt.datetime.fromisoformat(value.isoformat())  # drop ruamel's subclass
        if isinstance(value, str):
            return str(value)
        if isinstance(value, float):
            return float(value)
        if isinstance(value, int) and not isinstance(value, bool):
            return int(value)
        return value
    return str(value)


def _convert(value: Any, loc: Location) -> Node:
    file = loc.file
    if isinstance(value, CommentedMap):
        entries: dict[str, tuple[Node, Node]] = {}
        for key, item in value.items():
            kline, kcol = value.lc.key(key)
            vline, vcol = value.lc.value(key)
            key_node = Node(_scalar(key), Location(file, kline + 1, kcol + 1))
            entries[str(key)] = (key_node, _convert(item, Location(file, vline + 1, vcol + 1)))
        return Node(entries, loc)
    if isinstance(value, CommentedSeq):
        items = []
        for index, item in enumerate(value):
            line, col = value.lc.item(index)
            items.append(_convert(item, Location(file, line + 1, col + 1)))
        return Node(items, loc)
    return Node(_scalar(value), loc)


def _yaml() -> YAML:
    yaml = YAML(typ="rt")
    yaml.allow_duplicate_keys = False
    return yaml


def parse_text(text: str, file: str) -> Node | Problem:
    """Parse one YAML document; a syntax error comes back as a located Problem."""
    try:
        data = _yaml().load(text)
    except DuplicateKeyError as error:
        mark = error.problem_mark
        key = str(error.problem).split('"')[1] if '"' in str(error.problem) else "a key"
        return Problem(
            Location(file, mark.line + 1, mark.column + 1),
            f"duplicate key {key!r} in one mapping",
            "a mapping holds each key once; to combine several conditions use `all:`",
        )
    except MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        line, col = (mark.line + 1, mark.column + 1) if mark else (0, 0)
        reason = (error.problem or error.context or "invalid YAML").strip()
        return Problem(
            Location(file, line, col),
            f"YAML syntax error: {reason}",
            "check indentation and that every `key: value` has a space after the colon",
        )
    if data is None:
        return Problem(
            Location(file, 1, 1), "the file is empty", "a segment needs at least `where:`"
        )
    root = _convert(data, Location(file, 1, 1))
    return root


def parse_file(path: Path, display: str | None = None) -> Node | Problem:
    """Read and parse one definition file."""
    name = display or str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        return Problem(Location(name), "the file is not UTF-8 text", "save it as UTF-8")
    return parse_text(text, name)

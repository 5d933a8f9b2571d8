"""YAML text -> nodes that remember where they were written.

Only this module touches the YAML library. Everything after it works on ``Node``s, whose
``loc`` points at ``file:line:column`` (1-based) for error messages.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.constructor import DuplicateKeyError, RoundTripConstructor
from ruamel.yaml.error import MarkedYAMLError
from ruamel.yaml.reader import ReaderError

from pipeline.errors import Location, Problem

Scalar = str | int | float | bool | dt.date | dt.datetime | None


class _RawInt(int):
    """An int that remembers how it was written (``0612345678``, ``0x1F``)."""

    raw: str


class _RawFloat(float):
    raw: str


#: The longest whole number a file may write: any longer one is no count, number or id a
#: segment compares (Python itself refuses to read one of more than 4,300 digits).
MAX_DIGITS: Final = 300


class _Refused(Exception):
    """A YAML feature or value segment files do not take, where the parser met it."""

    def __init__(self, mark: Any, message: str, hint: str) -> None:
        self.mark, self.message, self.hint = mark, message, hint


class _Constructor(RoundTripConstructor):
    """Round-trip YAML, except that dates stay text (we parse them, with positions, and an
    impossible date like 2026-02-30 becomes a located error), numbers keep their text, and
    tags beyond plain values (``!!python/...``, ``!!binary``, ``!!omap``, ``!foo``) are
    refused, never constructed."""

    def _timestamp_as_text(self, node: Any, values: Any = None) -> str:
        return str(self.construct_scalar(node))

    def _int_with_text(self, node: Any) -> _RawInt:
        digits = sum(c.isdigit() for c in str(node.value))
        if digits > MAX_DIGITS:
            raise _Refused(
                node.start_mark,
                f"a number of {digits:,} digits (at most {MAX_DIGITS})",
                "no value a segment compares is that long; check the number",
            )
        value = _RawInt(super().construct_yaml_int(node))
        value.raw = str(node.value)
        return value

    def _refuse_tag(self, node: Any) -> None:
        raise _Refused(
            node.start_mark,
            f"the YAML tag {str(node.tag).replace('tag:yaml.org,2002:', '!!')} is not supported",
            "segment files hold plain values, lists and mappings: remove the tag",
        )

    def _float_with_text(self, node: Any) -> _RawFloat:
        value = _RawFloat(super().construct_yaml_float(node))
        value.raw = str(node.value)
        return value


_Constructor.add_constructor("tag:yaml.org,2002:timestamp", _Constructor._timestamp_as_text)
_Constructor.add_constructor("tag:yaml.org,2002:int", _Constructor._int_with_text)
_Constructor.add_constructor("tag:yaml.org,2002:float", _Constructor._float_with_text)
for _tag in ("omap", "pairs", "set", "binary"):
    _Constructor.add_constructor(f"tag:yaml.org,2002:{_tag}", _Constructor._refuse_tag)
_Constructor.add_constructor(None, _Constructor._refuse_tag)  # any other tag


@dataclass(frozen=True, slots=True)
class Node:
    """A YAML value with its position: a scalar, a list of nodes, or key nodes -> nodes.

    ``text`` is how a number was written, for when it is meant as text (``0612345678``).
    """

    value: Scalar | list[Node] | dict[str, tuple[Node, Node]]
    loc: Location
    text: str | None = field(default=None, compare=False)

    def show(self) -> str:
        """The value as the user wrote it, for messages."""
        if self.text is not None:
            return self.text
        value = self.value
        if value is None:
            return "null"
        if isinstance(value, bool):
            return "true" if value else "false"
        if isinstance(value, dt.date | dt.datetime):
            return value.isoformat()
        if isinstance(value, str):
            return repr(value)
        return str(self.plain())

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


#: The deepest a file may nest (mappings and lists): 30 groups inside one another, and more.
MAX_DEPTH: Final = 64
#: The most values (keys, items, scalars) a file may hold once its aliases are expanded.
MAX_VALUES: Final = 100_000
#: The largest segment file read, in bytes (the biggest example is ~1.5 KB).
MAX_FILE_BYTES: Final = 1 << 20


class _Unreadable(Exception):
    def __init__(self, problem: Problem) -> None:
        self.problem = problem


@dataclass(slots=True)
class _Budget:
    """What is left of :data:`MAX_VALUES` while a file is converted."""

    values: int = MAX_VALUES

    def spend(self, loc: Location) -> None:
        self.values -= 1
        if self.values < 0:
            raise _Unreadable(
                Problem(
                    loc,
                    f"the file holds more than {MAX_VALUES:,} values once its YAML aliases "
                    "(`*name`) are expanded",
                    "write the values out, or split the definition into several segments "
                    "(`in_segment:`)",
                )
            )


def _convert(value: Any, loc: Location, budget: _Budget, depth: int = 0) -> Node:
    file = loc.file
    budget.spend(loc)
    if isinstance(value, CommentedMap | CommentedSeq) and depth >= MAX_DEPTH:
        raise _Unreadable(
            Problem(
                loc,
                f"the file nests deeper than {MAX_DEPTH} levels",
                "flatten the groups: `all:` inside `all:` is one `all:`, and a part used "
                "in several places can be a segment of its own (`in_segment:`)",
            )
        )
    if isinstance(value, CommentedMap) and value.merge:
        raise _Unreadable(
            Problem(
                loc,
                "YAML merge keys (`<<: *name`) are not supported",
                "write the keys out; to reuse a condition, make it a segment (`in_segment:`)",
            )
        )
    if isinstance(value, CommentedMap):
        entries: dict[str, tuple[Node, Node]] = {}
        for key, item in value.items():
            kline, kcol = value.lc.key(key)
            vline, vcol = value.lc.value(key)
            key_node = Node(_scalar(key), Location(file, kline + 1, kcol + 1))
            item_loc = Location(file, vline + 1, vcol + 1)
            entries[str(key)] = (key_node, _convert(item, item_loc, budget, depth + 1))
        return Node(entries, loc)
    if isinstance(value, CommentedSeq):
        items = []
        for index, item in enumerate(value):
            line, col = value.lc.item(index)
            items.append(_convert(item, Location(file, line + 1, col + 1), budget, depth + 1))
        return Node(items, loc)
    if isinstance(value, str) and not _encodable(value):
        raise _Unreadable(
            Problem(
                loc,
                "the text holds half of a surrogate pair (an escape like \\ud800), which is "
                "not a character",
                "write the character itself, or its \\U0001xxxx escape",
            )
        )
    text = value.raw if isinstance(value, _RawInt | _RawFloat) else None
    return Node(_scalar(value), loc, text)


def _encodable(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _yaml() -> YAML:
    yaml = YAML(typ="rt")
    yaml.Constructor = _Constructor
    yaml.allow_duplicate_keys = False
    return yaml


_VERSION: Final = re.compile(r"^%YAML[ \t]+(\S+)", re.MULTILINE)


def parse_text(text: str, file: str) -> Node | Problem:
    """Parse one YAML document; a syntax error comes back as a located Problem."""
    version = _VERSION.search(text)
    if version and version.group(1) != "1.2":
        line = text.count("\n", 0, version.start()) + 1
        return Problem(
            Location(file, line, 1),
            f"YAML {version.group(1)} is not supported: it reads yes, no, on and off as true "
            "and false",
            "remove the %YAML line: segment files are YAML 1.2",
        )
    try:
        data = _yaml().load(text)
    except _Refused as error:
        line, col = error.mark.line + 1, error.mark.column + 1
        return Problem(Location(file, line, col), error.message, error.hint)
    except ReaderError as error:
        line = text.count("\n", 0, error.position) + 1
        col = error.position - (text.rfind("\n", 0, error.position) + 1) + 1
        return Problem(
            Location(file, line, col),
            f"the file holds the control character U+{error.character:04X}, which YAML "
            "does not allow",
            "remove it; inside double quotes it can be written as an escape "
            + (f"(\\x{error.character:02x})" if error.character < 256 else "(\\uXXXX)"),
        )
    except TypeError as error:  # ruamel cannot hash a mapping used as a key (``? {a: 1}``)
        if "unhashable" not in str(error):
            raise
        complex_key = re.search(r"^[ \t-]*\?", text, re.MULTILINE)
        line = 1 if complex_key is None else text.count("\n", 0, complex_key.start()) + 1
        return Problem(
            Location(file, line, 1),
            "a mapping is used as a key (a `?` complex key)",
            "keys are plain names such as `where:` or `tags:`",
        )
    except RecursionError:
        return Problem(
            Location(file, 1, 1),
            f"the file nests too deeply to be read (a definition nests at most {MAX_DEPTH} levels)",
            "flatten the groups, or split the definition into several segments (`in_segment:`)",
        )
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
        hint = "check indentation and that every `key: value` has a space after the colon"
        opened = error.context_mark
        context = error.context or ""
        # Only brackets and quotes are closed by hand; a block ends by indentation.
        closable = "flow" in context or "quoted" in context
        if closable and opened is not None and opened != error.problem_mark:
            what = (error.context or "the structure").removeprefix("while parsing ")
            hint = (
                f"{what} opened at line {opened.line + 1}, column {opened.column + 1} is not closed"
            )
        return Problem(Location(file, line, col), f"YAML syntax error: {reason}", hint)
    if data is None:
        return Problem(
            Location(file, 1, 1), "the file is empty", "a segment needs at least `where:`"
        )
    try:
        return _convert(data, Location(file, 1, 1), _Budget())
    except _Unreadable as error:
        return error.problem


def parse_file(path: Path, display: str | None = None) -> Node | Problem:
    """Read and parse one definition file."""
    name = display or str(path)
    if path.is_symlink() and not path.exists():
        return Problem(
            Location(name),
            f"the file is a symbolic link to {path.readlink()}, which does not exist",
            "restore the file it points to, or delete the link",
        )
    try:
        size = path.stat().st_size
        if size > MAX_FILE_BYTES:  # read nothing of it: a segment is a few hundred bytes
            return Problem(
                Location(name),
                f"the file is {size:,} bytes; a segment file holds at most {MAX_FILE_BYTES:,}",
                "split it into several segments (`in_segment:`), or move what is not a "
                "segment out of the segments folder",
            )
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        return Problem(Location(name), "the file is not UTF-8 text", "save it as UTF-8")
    except OSError as error:
        return Problem(
            Location(name),
            f"the file cannot be read: {error.strerror}",
            "let the user who runs segments read it, or move it out of the segments folder",
        )
    return parse_text(text, name)

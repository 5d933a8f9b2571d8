"""The project file: the defaults of every command, so that a cron line is `segments run`.

``segments.toml`` in the folder a command runs from, or else ``[tool.segments]`` in its
``pyproject.toml``; then environment variables ``SEGMENTS_<KEY>``; then the flags. Each
overrides the one before. A key the file does not know is an error with a hint, and so is a
value of the wrong type; paths in the file are relative to the file's folder.

.. code-block:: toml

    data = "exports/crm"
    segments = "segments"
    out = "/srv/segments/out"
    timezone = "Europe/Paris"
    engine = "duckdb"
    memory_limit = "6GB"
    keep = 10
    select = ["tag:daily"]
    future_horizon = "1d"
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final

from pipeline.errors import RunError, did_you_mean

PROJECT_FILE: Final = "segments.toml"


@dataclass(frozen=True, slots=True)
class Key:
    """A key of the project file: the type of its value, and the option it sets."""

    kind: type
    help: str
    #: A path, read relative to the file's folder.
    path: bool = False


#: Every key, named as the commands' options (``--memory-limit`` is ``memory_limit``).
KEYS: Final[dict[str, Key]] = {
    "data": Key(str, "folder of input tables", path=True),
    "segments": Key(str, "folder of segment files", path=True),
    "out": Key(str, "output folder", path=True),
    "timezone": Key(str, "IANA timezone for dates and days"),
    "as_of": Key(str, "the instant runs are evaluated at (pin it for a fixed sample)"),
    "engine": Key(str, "duckdb, polars or spark"),
    "memory_limit": Key(str, "memory the engine may use, e.g. 6GB"),
    "keep": Key(int, "snapshots to keep"),
    "select": Key(list, "the segments `run` evaluates (selectors)"),
    "future_horizon": Key(str, "how far in the future --as-of may be, e.g. 1d"),
}

#: The environment variable of each key.
ENVIRONMENT: Final = {key: f"SEGMENTS_{key.upper()}" for key in KEYS}


@dataclass(frozen=True, slots=True)
class Project:
    """The defaults a project file gives, and where they come from (None: no file)."""

    values: Mapping[str, object] = field(default_factory=dict)
    source: Path | None = None


def find_project(folder: Path) -> Project:
    """The project file of ``folder``: ``segments.toml``, else ``[tool.segments]`` of
    ``pyproject.toml``, else none."""
    own = folder / PROJECT_FILE
    if own.is_file():
        return Project(_checked(_read(own), own, ""), own)
    pyproject = folder / "pyproject.toml"
    if pyproject.is_file():
        tool = _read(pyproject).get("tool")
        table = tool.get("segments") if isinstance(tool, dict) else None
        if table is not None:
            if not isinstance(table, dict):
                raise RunError(
                    f"{pyproject}: [tool.segments] must be a table",
                    'write it as a section: [tool.segments] then data = "data"',
                )
            return Project(_checked(table, pyproject, "tool.segments."), pyproject)
    return Project()


def _read(path: Path) -> dict[str, object]:
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as error:
        raise RunError(
            f"{path}: not valid TOML: {error}",
            'write key = value lines, text in quotes: engine = "duckdb"',
        ) from None
    except UnicodeDecodeError:
        raise RunError(f"{path}: not UTF-8 text", "save the file as UTF-8") from None


def _checked(table: Mapping[str, object], path: Path, prefix: str) -> dict[str, object]:
    values: dict[str, object] = {}
    for name, value in table.items():
        key = KEYS.get(name)
        if key is None:
            hint = did_you_mean(name, KEYS) or f"the keys are: {', '.join(KEYS)}"
            raise RunError(f"{path}: unknown key {prefix}{name!r}", hint)
        if not isinstance(value, key.kind) or isinstance(value, bool):
            kind = {str: "text in quotes", int: "a whole number", list: "a list"}[key.kind]
            raise RunError(
                f"{path}: {prefix}{name} must be {kind}, got {value!r}", f"{name}: {key.help}"
            )
        if isinstance(value, list) and not all(isinstance(item, str) for item in value):
            raise RunError(f"{path}: {prefix}{name} must be a list of text", f"{name}: {key.help}")
        if key.path:
            value = str(path.parent / str(value))  # an absolute value stays as it is
        values[name] = value
    return values


#: Commands that take no default from the project: `generate` and `init` write somewhere
#: new. Keys read by one command only: the engine (`preview`, `why` and `validate` take
#: duckdb or polars; a project may run on spark).
UNCONFIGURED: Final = frozenset({"generate", "init"})
ONLY: Final = {"engine": "run"}


def applies(key: str, command: str) -> bool:
    return command not in UNCONFIGURED and ONLY.get(key, command) == command


def default_map(project: Project, options: Mapping[str, set[str]]) -> dict[str, dict[str, object]]:
    """The defaults of each command (``options``: each command's option names)."""
    return {
        command: {k: v for k, v in project.values.items() if k in names and applies(k, command)}
        for command, names in options.items()
    }

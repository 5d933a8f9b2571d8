"""One exception family for everything a user can cause, and the helpers that make messages.

Every message says what is wrong, where (``file:line:col`` or table/column) and, when we can
guess, a ``Hint:``. The CLI prints ``str(error)`` and exits non-zero; it never shows a traceback
for these.
"""

from __future__ import annotations

import difflib
import errno
import os
import re
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final


@dataclass(frozen=True, slots=True, order=True)
class Location:
    """A position in a definition file; lines and columns count from 1."""

    file: str
    line: int = 0
    col: int = 0

    def __str__(self) -> str:
        if self.line <= 0:
            return self.file
        return f"{self.file}:{self.line}:{self.col}"


def did_you_mean(word: str, choices: Iterable[str], *, n: int = 1) -> str | None:
    """The nearest valid names as a hint sentence, or None when nothing is close.

    >>> did_you_mean("job_titel", ["job_title", "name"])
    "did you mean 'job_title'?"
    """
    pool = sorted(set(choices))
    # 0.7 keeps one-letter slips and swaps ("contians", "job_titel") and drops look-alikes
    # that only share letters ("owner" -> "where", "window" -> "kind").
    close = difflib.get_close_matches(word, pool, n=n, cutoff=0.7)
    if not close:
        lowered = {c.lower(): c for c in pool}
        close = [
            lowered[w] for w in difflib.get_close_matches(word.lower(), lowered, n=n, cutoff=0.7)
        ]
    if not close and len(word) >= 3:  # a shortened name: "churn-risk" -> "churn-risk-customers"
        close = [c for c in pool if c.startswith(word)][:n]
    if not close:
        return None
    return "did you mean " + " or ".join(repr(c) for c in close) + "?"


class SegmentError(Exception):
    """Base of every error a user can cause; ``str()`` is the message shown to them."""


@dataclass(frozen=True, slots=True)
class Problem:
    """One definition problem: where, what, and an optional hint."""

    location: Location
    message: str
    hint: str | None = None

    def __str__(self) -> str:
        text = f"{self.location}: {self.message}"
        if self.hint:
            text += f"\n    Hint: {self.hint}"
        return text


class DefinitionError(SegmentError):
    """One or more problems in segment definitions, all found in one pass."""

    def __init__(self, problems: Sequence[Problem]) -> None:
        self.problems = sorted(problems, key=lambda p: (p.location, p.message))
        super().__init__(self._render())

    def _render(self) -> str:
        count = len(self.problems)
        head = f"{count} error{'s' if count != 1 else ''} in segment definitions:"
        return "\n".join([head, *(str(p) for p in self.problems)])


@dataclass(frozen=True, slots=True)
class DataIssue:
    """One broken input rule: table, column, rule, how many rows, a few example rows.

    ``severity`` is ``"error"`` (the run stops) or ``"quarantined"`` (the rows are set aside
    in the quarantine table and the run goes on).
    """

    table: str
    column: str | None
    rule: str
    count: int
    examples: tuple[str, ...] = ()
    severity: str = "error"
    hint: str | None = None

    def __str__(self) -> str:
        where = self.table if self.column is None else f"{self.table}.{self.column}"
        rows = "row" if self.count == 1 else "rows"
        text = f"{where}: {self.rule}"
        if self.count:  # a table-level problem (a missing table) has no rows to count
            text += f" ({self.count} {rows}"
            text += ", set aside in quarantine)" if self.severity == "quarantined" else ")"
        for example in self.examples:
            text += f"\n    e.g. {example}"
        if self.hint:
            text += f"\n    Hint: {self.hint}"
        return text


class InputDataError(SegmentError):
    """The input tables break rules that the run cannot work around."""

    def __init__(self, issues: Sequence[DataIssue]) -> None:
        self.issues = list(issues)
        errors = [i for i in self.issues if i.severity == "error"]
        head = f"{len(errors)} problem{'s' if len(errors) != 1 else ''} in the input data:"
        super().__init__("\n".join([head, *(str(i) for i in errors)]))


class InvalidText(SegmentError):
    """The input checks met text that is not UTF-8; they then find where
    (``inputs.text.invalid_input_text``) and report it as a data error."""


class RunError(SegmentError):
    """The run could not go on for a reason that is not in the definitions or the data."""

    def __init__(self, message: str, hint: str | None = None) -> None:
        self.hint = hint
        super().__init__(message + (f"\n    Hint: {hint}" if hint else ""))


@dataclass(slots=True)
class ProblemCollector:
    """Collects definition problems so that every one is reported, not just the first."""

    problems: list[Problem] = field(default_factory=list)

    def add(self, location: Location, message: str, hint: str | None = None) -> None:
        self.problems.append(Problem(location, message, hint))

    def raise_if_any(self) -> None:
        if self.problems:
            raise DefinitionError(self.problems)


#: The faults of the machine that a library may report in words only (DuckDB, and pyarrow
#: without the path): recognised by their errno, or by the system's own words for it.
MACHINE_ERRNOS: Final = (
    errno.ENOSPC,
    errno.EDQUOT,
    errno.EFBIG,
    errno.EROFS,
    errno.EACCES,
    errno.EPERM,
)
#: Faults that only a write can meet: the run writes only under its output folder.
WRITE_ERRNOS: Final = (errno.ENOSPC, errno.EDQUOT, errno.EFBIG, errno.EROFS)
_ERRNO_IN_TEXT: Final = re.compile(r"errno\W{0,4}(\d+)", re.IGNORECASE)
# DuckDB: Could not write file "PATH": ..., inside a JSON text (the quotes escaped).
_PATH_IN_TEXT: Final = re.compile(r'(?:file|directory) \\?"(.+?)\\?"')


def machine_error(error: BaseException, path: Path | str | None = None) -> OSError | None:
    """``error`` as the :class:`OSError` the CLI reports (exit 4, the system's words for its
    errno, the path, a hint) when it is a fault of the machine: a full disk, a read-only or
    forbidden folder. None for anything else.

    DuckDB says these in words (``IOException``, with the file in the text) and pyarrow
    without the path; ``path`` names the file or folder being written when the error does
    not.

    >>> machine_error(OSError(28, "Error writing bytes to file. Detail: [errno 28] ..."), "out")
    OSError(28, 'No space left on device')
    """
    text = str(error)
    number = error.errno if isinstance(error, OSError) else None
    if number is None:
        found = _ERRNO_IN_TEXT.search(text)
        number = int(found.group(1)) if found else None
    if number is None:
        number = next((n for n in MACHINE_ERRNOS if os.strerror(n) in text), None)
    if number not in MACHINE_ERRNOS:
        return None
    named = None
    if isinstance(error, OSError):
        # A copy (shutil) names its source first: a write fault is the destination's.
        copied = number in WRITE_ERRNOS and error.filename2 is not None
        named = error.filename2 if copied else error.filename
    if named is None:
        quoted = _PATH_IN_TEXT.search(text)
        named = quoted.group(1) if quoted else path
    return OSError(number, os.strerror(number), None if named is None else str(named))


@contextmanager
def writing(path: Path | str) -> Iterator[None]:
    """Faults of the machine met inside, that do not say where (pyarrow's), name ``path``:
    the file or folder the block writes."""
    try:
        yield
    except OSError as error:
        located = machine_error(error, path)
        if located is None:
            raise
        raise located from error

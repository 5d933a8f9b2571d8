"""One exception family for everything a user can cause, and the helpers that make messages.

Every message says what is wrong, where (``file:line:col`` or table/column) and, when we can
guess, a ``Hint:``. The CLI prints ``str(error)`` and exits non-zero; it never shows a traceback
for these.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field


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
    """An engine met input text that is not UTF-8; the run then finds where
    (``inputs.text.invalid_text``) and reports it as a data error."""


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

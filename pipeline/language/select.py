"""``segments run --select``: which segments a run evaluates, as dbt selects its models.

A selector is a segment id, a glob over ids (``renewals-*``), or ``tag:<tag>`` (the
``tags:`` of the files); ``+`` before it adds the segments the selected ones depend on
(``in_segment``, ``not_in_segment``), transitively. Several selectors add up.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Sequence

from pipeline.errors import RunError, did_you_mean
from pipeline.language import ir


def _matching(selector: str, segments: Sequence[ir.Segment]) -> list[str]:
    if selector.startswith("tag:"):
        tag = selector.removeprefix("tag:").strip()
        return [s.id for s in segments if tag in s.tags]
    if any(c in selector for c in "*?["):
        return [s.id for s in segments if fnmatch.fnmatchcase(s.id, selector)]
    return [s.id for s in segments if s.id == selector]


def _unmatched(selector: str, segments: Sequence[ir.Segment]) -> RunError:
    if selector.startswith("tag:"):
        tags = sorted({t for s in segments for t in s.tags})
        wanted = selector.removeprefix("tag:")
        hint = did_you_mean(wanted, tags) or (
            f"tags in use: {', '.join(tags)}" if tags else "no segment has `tags:` yet"
        )
        return RunError(f"--select {selector}: no segment has this tag", hint)
    ids = [s.id for s in segments]
    return RunError(
        f"--select {selector}: no segment matches",
        did_you_mean(selector, ids)
        or "give a segment id, a glob such as 'renewals-*', or tag:NAME",
    )


def select(segments: Sequence[ir.Segment], selectors: Sequence[str]) -> list[ir.Segment]:
    """The segments ``selectors`` pick (all without any), in the order of ``segments``; a
    RunError for a selector that picks none."""
    if not selectors:
        return list(segments)
    by_id = {s.id: s for s in segments}
    chosen: set[str] = set()
    for raw in selectors:
        selector = raw.strip()
        parents = selector.startswith("+")
        selector = selector.removeprefix("+").strip()
        found = _matching(selector, segments)
        if not found:
            raise _unmatched(selector, segments)
        chosen.update(found)
        if parents:
            chosen.update(_dependencies(found, by_id))
    return [s for s in segments if s.id in chosen]


def _dependencies(ids: Sequence[str], by_id: dict[str, ir.Segment]) -> set[str]:
    """Every segment the ``ids`` depend on, directly or not."""
    seen: set[str] = set()
    pending = list(ids)
    while pending:
        for named in ir.references(by_id[pending.pop()].where):
            if named not in seen and named in by_id:
                seen.add(named)
                pending.append(named)
    return seen

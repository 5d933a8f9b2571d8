"""A folder of segment files -> checked segments, in dependency order.

Files are read and their top level validated first, so that every segment id and entity is
known; then references (``in_segment``) are ordered so that each segment is checked after the
ones it names, and a cycle is reported with its whole path.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from pipeline.errors import Location, Problem, ProblemCollector
from pipeline.language import ir
from pipeline.language.check import REFERENCES, CheckContext, SegmentInfo, check_condition
from pipeline.language.source import Node, parse_file
from pipeline.language.spec import SEGMENT_ID, SegmentFile, read_segment_file


@dataclass(frozen=True, slots=True)
class _Document:
    id: str
    root: Node
    model: SegmentFile
    id_loc: Location
    usable: bool  # False: the top level has errors; ``where`` is still checked for its own


#: Top-level keys about a segment rather than its definition: editing them keeps its hash.
METADATA: Final = ("owner", "tags", "meta", "enabled")


def definition_hash(root: Node) -> str:
    """A hash of what the file says (not of its layout, comments or metadata)."""
    said = root.plain()
    if isinstance(said, dict):
        said = {k: v for k, v in said.items() if k not in METADATA}
    canonical = json.dumps(said, sort_keys=True, default=str, ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()[:16]


def _read(root: Node, stem: str, problems: ProblemCollector) -> _Document | None:
    model, found = read_segment_file(root)
    problems.problems.extend(found)
    if model is None:
        return None
    id_node = root.get("id")
    usable = not found
    if model.id is None and not SEGMENT_ID.match(stem) and root.get("id") is None:
        problems.add(
            root.loc,
            f"the file name {stem!r} is not a valid segment id",
            "rename the file or set `id:` ([a-z0-9][a-z0-9_-]*)",
        )
        usable = False
    return _Document(model.id or stem, root, model, id_node.loc if id_node else root.loc, usable)


#: How deep a checked condition may nest (groups, negations, relationship filters and the
#: conditions of the segments it refers to, each a level), and so how long a chain of
#: references may be: every later phase walks conditions recursively.
MAX_DEPTH: Final = 64


def _references(node: Node) -> list[tuple[str, Location]]:
    """Every segment id a definition names, wherever it is nested."""
    found: list[tuple[str, Location]] = []
    if node.is_map:
        for key, value in node.items():
            if key.value in REFERENCES and value.is_scalar and isinstance(value.value, str):
                found.append((value.value, value.loc))
            else:
                found.extend(_references(value))
    elif node.is_list:
        for item in node.elements():
            found.extend(_references(item))
    return found


def _order(documents: Mapping[str, _Document], problems: ProblemCollector) -> list[str]:
    """Ids in dependency order; a cycle is reported by its path and its segments left out
    (with those that depend on them)."""
    edges = {
        sid: [(ref, loc) for ref, loc in _references(doc.root) if ref in documents]
        for sid, doc in documents.items()
    }
    order: list[str] = []
    ok: dict[str, bool] = {}
    stack: list[str] = []
    leaving: dict[str, Location] = {}  # where stack[i] names stack[i + 1]
    reported: set[frozenset[str]] = set()
    too_long: list[str] = []

    def visit(sid: str) -> bool:
        if sid in ok:
            return ok[sid]
        if sid in stack:
            cycle = [*stack[stack.index(sid) :], sid]
            if frozenset(cycle) not in reported:
                reported.add(frozenset(cycle))
                problems.add(
                    leaving[sid],
                    "segments refer to each other in a cycle: " + " -> ".join(cycle),
                    "a segment cannot depend on itself; remove one of these references",
                )
            return False
        if len(stack) >= MAX_DEPTH:
            if not too_long:  # once: the other segments of the chain are left out with it
                too_long.append(sid)
                chain = " -> ".join([*stack[:3], "...", *stack[-2:], sid])
                problems.add(
                    leaving[stack[-1]],
                    f"more than {MAX_DEPTH} segments refer one to the next: {chain}",
                    "refer to the segments the chain ends with directly",
                )
            return False
        stack.append(sid)
        good = True
        for ref, loc in edges[sid]:
            leaving[sid] = loc
            good = visit(ref) and good
        stack.pop()
        ok[sid] = good
        if good:
            order.append(sid)
        return good

    for sid in documents:
        visit(sid)
    return order


def _refuse_parked(
    doc: _Document, parked: Mapping[str, _Document], problems: ProblemCollector
) -> None:
    """A reference to a segment with ``enabled: false`` is an error where it is written."""
    for ref, loc in _references(doc.root):
        if ref in parked:
            problems.add(
                loc,
                f"segment {ref!r} is disabled (`enabled: false` in {parked[ref].root.loc.file})",
                "enable it again, or remove this reference",
            )


def _meta(meta: Mapping[str, object] | None) -> str | None:
    if meta is None:
        return None
    return json.dumps(meta, sort_keys=True, ensure_ascii=False, default=str)


def check_folder_documents(
    parsed: list[tuple[Node, str]],
    ctx: CheckContext,
    problems: ProblemCollector,
    broken: Mapping[str, str] | None = None,
) -> list[ir.Segment]:
    """Check parsed files (root node, file stem) together; problems go to ``problems``.

    ``broken`` maps the stems of files that could not be read or parsed to their names: a
    reference to such a segment is reported as such, not as an unknown segment.
    """
    documents: dict[str, _Document] = {}
    unusable = dict(broken or {})
    for root, stem in parsed:
        doc = _read(root, stem, problems)
        if doc is None:
            said = root.get("id") if root.is_map else None
            sid = said.value if said is not None and isinstance(said.value, str) else stem
            unusable.setdefault(sid, root.loc.file)
            continue
        first = documents.get(doc.id)
        if first is not None:
            problems.add(
                doc.id_loc,
                f"duplicate segment id {doc.id!r}",
                f"also defined in {first.root.loc.file}; ids must be unique",
            )
            continue
        documents[doc.id] = doc

    infos = {sid: SegmentInfo(sid, None, file) for sid, file in unusable.items()}
    infos.update({sid: SegmentInfo(sid, doc.model.entity) for sid, doc in documents.items()})
    parked = {sid: doc for sid, doc in documents.items() if not doc.model.enabled}
    for doc in documents.values():
        if doc.model.enabled:
            _refuse_parked(doc, parked, problems)
    documents = {sid: doc for sid, doc in documents.items() if sid not in parked}
    checked: dict[str, ir.Segment] = {}
    order = _order(documents, problems)
    for sid in documents.keys() - set(order):  # on or behind a cycle: still report the rest
        doc = documents[sid]
        where = doc.root.get("where")
        assert where is not None
        check_condition(where, ctx, problems, doc.model.entity, doc.model.properties, infos, {})
    for sid in order:
        doc = documents[sid]
        where = doc.root.get("where")
        assert where is not None
        condition = check_condition(
            where, ctx, problems, doc.model.entity, doc.model.properties, infos, checked
        )
        if condition is None or not doc.usable:
            continue
        if (levels := ir.depth(condition)) > MAX_DEPTH:
            problems.add(
                where.loc,
                f"the condition nests {levels} levels deep, counting the segments it refers "
                f"to (at most {MAX_DEPTH})",
                "flatten the groups, or refer to fewer segments that refer to others",
            )
            continue
        checked[sid] = ir.Segment(
            id=sid,
            name=doc.model.name or sid,
            description=doc.model.description,
            entity=doc.model.entity,
            properties=tuple(dict.fromkeys(doc.model.properties)) if doc.model.properties else None,
            where=condition,
            definition_hash=definition_hash(doc.root),
            source=doc.root.loc,
            owner=doc.model.owner,
            tags=tuple(doc.model.tags),
            meta=_meta(doc.model.meta),
        )
    return [checked[sid] for sid in documents if sid in checked]


def check_document(
    root: Node, stem: str, ctx: CheckContext, problems: ProblemCollector
) -> ir.Segment | None:
    """One parsed file on its own (references can only name itself, which is a cycle)."""
    segments = check_folder_documents([(root, stem)], ctx, problems)
    return segments[0] if segments else None


def segment_files(directory: Path) -> list[Path]:
    """The ``.yaml`` / ``.yml`` files under ``directory``, in sub-folders too, except hidden
    ones (a name starting with ``.``, or inside such a folder: ``.github/workflows/*.yml``
    is no segment). A broken symbolic link is listed, to be reported, not skipped."""

    def hidden(path: Path) -> bool:
        return any(part.startswith(".") for part in path.relative_to(directory).parts)

    return sorted(
        p
        for p in directory.rglob("*")
        if p.suffix in (".yaml", ".yml")
        and not hidden(p)
        and (p.is_file() or (p.is_symlink() and not p.exists()))
    )


def _display(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def load_segments(directory: Path, ctx: CheckContext) -> list[ir.Segment]:
    """Every segment under ``directory``, checked; raises DefinitionError with all problems."""
    problems = ProblemCollector()
    if not directory.is_dir():
        problems.add(
            Location(str(directory)),
            "the segments directory does not exist",
            "pass --segments DIR, a folder of .yaml files",
        )
        problems.raise_if_any()
    files = segment_files(directory)
    if not files:
        problems.add(
            Location(str(directory)),
            "no segment files (*.yaml) found",
            "write one segment per .yaml file",
        )
    parsed: list[tuple[Node, str]] = []
    broken: dict[str, str] = {}
    for path in files:
        result = parse_file(path, _display(path))
        if isinstance(result, Problem):
            problems.problems.append(result)
            broken[path.stem] = _display(path)
        else:
            parsed.append((result, path.stem))
    segments = check_folder_documents(parsed, ctx, problems, broken)
    problems.raise_if_any()
    return segments

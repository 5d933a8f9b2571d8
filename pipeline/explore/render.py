"""How the marketer's commands print: aligned text for people, JSON for programs."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from pipeline.explore.listing import Listing
from pipeline.explore.preview import Preview
from pipeline.explore.tree import Node
from pipeline.explore.why import Detail, Why
from pipeline.progress import table

FORMATS = ("table", "json")


def value(shown: object) -> str:
    """A value as a person reads it: text quoted, lists in brackets, unknown said so."""
    if shown is None:
        return "unknown"
    if isinstance(shown, dt.datetime):
        return shown.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
    if isinstance(shown, dt.date):
        return shown.isoformat()
    if isinstance(shown, bool):
        return str(shown).lower()
    if isinstance(shown, float) and shown.is_integer():
        return str(int(shown))
    if isinstance(shown, list | tuple):
        return "[" + ", ".join(value(v) for v in shown) + "]"
    if isinstance(shown, str):
        return repr(shown)
    return str(shown)


def jsonable(item: object) -> Any:
    if isinstance(item, dt.datetime):
        return item.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")
    if isinstance(item, dt.date):
        return item.isoformat()
    if isinstance(item, dict):
        return {str(k): jsonable(v) for k, v in item.items()}
    if isinstance(item, list | tuple):
        return [jsonable(v) for v in item]
    return item


def dumps(item: object) -> str:
    return json.dumps(jsonable(item), indent=2, ensure_ascii=False)


_NOUN = {"organization": "organization", "person": "person"}
_PLURAL = {"organization": "organizations", "person": "people"}


def why_text(result: Why) -> str:
    segment = result.segment
    verdict = "IS a member" if result.member else "is NOT a member"
    lines = [
        f"{_NOUN[segment.entity]} {result.entity_id!r} (property {result.property_id}) "
        f"{verdict} of {segment.id}",
        f"as of {value(result.as_of)}, engine {result.engine}; "
        "a condition on an unknown value is false, and `not` of it true",
        "",
    ]
    _why_node(result, result.root, 0, lines)
    return "\n".join(lines)


def _mark(verdict: bool) -> str:
    return "[yes]" if verdict else "[no] "


def _why_node(result: Why, node: Node, depth: int, lines: list[str]) -> None:
    detail = result.details[node.number]
    pad = "  " * depth
    lines.append(f"{pad}{_mark(detail.verdict)} {node.label}")
    more = pad + "      "
    for name, shown in detail.values.items():
        lines.append(
            f"{more}{name}: stored {value(shown.stored)}, compared {value(shown.compared)}"
        )
    if detail.events or (detail.count is not None and node.nested is None and not detail.linked):
        lines.append(f"{more}{detail.count} events counted")
        lines += [f"{more}  {kind} at {value(at)}" for kind, at in detail.events]
        if detail.count is not None and detail.count > len(detail.events):
            lines.append(f"{more}  ... the newest {len(detail.events)} shown")
    if detail.linked or node.nested is not None:
        _linked(result, node, detail, more, lines)
    for child in node.children:
        _why_node(result, child, depth + 1, lines)


def _linked(result: Why, node: Node, detail: Detail, more: str, lines: list[str]) -> None:
    other = "person" if result.segment.entity == "organization" else "organization"
    noun = _PLURAL[other]
    lines.append(f"{more}{detail.count} of {len(detail.linked)} linked {noun} counted")
    for item in detail.linked[:10]:
        lines.append(f"{more}  {_mark(item.matches)} {item.entity_id}")
    if len(detail.linked) > 10:
        lines.append(f"{more}  ... {len(detail.linked) - 10} more")
    if node.nested is not None:
        lines.append(f"{more}the filter each linked {_NOUN[other]} is tested with:")
        _filter(node.nested, len(more) // 2 + 1, lines)


def _filter(node: Node, depth: int, lines: list[str]) -> None:
    lines.append(f"{'  ' * depth}- {node.label}")
    for child in node.children:
        _filter(child, depth + 1, lines)
    if node.nested is not None:
        _filter(node.nested, depth + 2, lines)


def why_json(result: Why) -> str:
    def node(n: Node) -> dict[str, object]:
        out: dict[str, object] = {"node": n.number, "condition": n.label}
        detail = result.details.get(n.number)
        if detail is not None:
            out["verdict"] = detail.verdict
            if detail.values:
                out["values"] = {
                    k: {"stored": v.stored, "compared": v.compared}
                    for k, v in detail.values.items()
                }
            if detail.count is not None:
                out["count"] = detail.count
            if detail.events:
                out["events"] = [{"kind": k, "occurred_at": t} for k, t in detail.events]
            if detail.linked:
                out["linked"] = [{"id": i.entity_id, "matches": i.matches} for i in detail.linked]
        if n.children:
            out["items"] = [node(c) for c in n.children]
        if n.nested is not None:
            out["filter"] = node(n.nested)
        return out

    return dumps(
        {
            "segment_id": result.segment.id,
            "entity": result.segment.entity,
            "property_id": result.property_id,
            "entity_id": result.entity_id,
            "member": result.member,
            "as_of": result.as_of,
            "engine": result.engine,
            "condition": node(result.root),
        }
    )


def preview_text(result: Preview) -> str:
    segment = result.segment
    noun = _PLURAL[segment.entity]
    lines = [
        f"{segment.id}: {result.members:,} {noun} "
        f"(as of {value(result.as_of)}, engine {result.engine}; nothing published)",
        "",
        table(
            ["property", "members"],
            [[p, f"{n:,}"] for p, n in result.sizes.items()] + [["total", f"{result.members:,}"]],
        ),
    ]
    if result.sample:
        lines += [
            "",
            f"the first {len(result.sample)} members, values as the segment compares them:",
        ]
        headers = ["property", "id", *result.attributes]
        rows = [
            [m.property_id, m.entity_id]
            + [_cell(m.values[a].compared) if a in m.values else "" for a in result.attributes]
            for m in result.sample
        ]
        lines.append(table(headers, rows))
    return "\n".join(lines)


def _cell(shown: object, width: int = 40) -> str:
    text = value(shown)
    return text if len(text) <= width else text[: width - 3] + "..."


def preview_json(result: Preview) -> str:
    return dumps(
        {
            "segment_id": result.segment.id,
            "entity": result.segment.entity,
            "as_of": result.as_of,
            "engine": result.engine,
            "members": result.members,
            "sizes": [{"property_id": p, "members": n} for p, n in result.sizes.items()],
            "sample": [
                {
                    "property_id": m.property_id,
                    "entity_id": m.entity_id,
                    "values": {
                        k: {"stored": v.stored, "compared": v.compared} for k, v in m.values.items()
                    },
                }
                for m in result.sample
            ],
        }
    )


def listing_text(result: Listing) -> str:
    rows = [
        [
            s.segment_id,
            s.entity,
            "-" if s.members is None else f"{s.members:,}",
            s.owner or "",
            ", ".join(s.tags),
            ", ".join(s.depends_on),
            s.file,
        ]
        for s in result.segments
    ]
    when = (
        f"members at the last published run ({value(result.published_as_of)})"
        if result.published_as_of is not None
        else "no published run in --out: members unknown"
    )
    headers = ["segment", "entity", "members", "owner", "tags", "depends on", "file"]
    return f"{len(rows)} segments; {when}\n\n{table(headers, rows)}"


def listing_json(result: Listing) -> str:
    return dumps(
        {
            "published_as_of": result.published_as_of,
            "segments": [
                {
                    "segment_id": s.segment_id,
                    "name": s.name,
                    "entity": s.entity,
                    "file": s.file,
                    "owner": s.owner,
                    "tags": list(s.tags),
                    "depends_on": list(s.depends_on),
                    "members": s.members,
                }
                for s in result.segments
            ],
        }
    )

"""Realistic benchmark segment sets, written from templates.

``write_set(n, directory)`` writes the first ``n`` segments of one fixed, seeded sequence, so
the 50-segment set is a prefix of the 200-segment set, itself a prefix of the 500-segment set.
About one segment in five is a person segment. Each segment is an ``all:`` of two to four
conditions drawn from different families, often with an ``any:`` or ``none:`` group, so that
every condition kind of the language is used with varied values:

- text (``is``, ``contains``, ``starts_with``, ``ends_with``, ``in``, ``not_contains``, ...),
- lists (``tags``, ``emails``, list custom attributes), phones (``primary_phone``, ``phones``),
- numbers, booleans, absolute and relative dates (``within_last``, ``more_than_ago``,
  ``within_next``) on built-in and custom attributes of every type,
- ``timeline:`` counts, ``people:`` / ``organizations:`` relationship filters,
- ``rollup.`` columns, ``in_segment`` / ``not_in_segment`` references to earlier segments.

Values are drawn from the generator's own vocabularies (tags, brands, job titles, plans, ...),
so conditions match realistic fractions of the data and repeat only as often as real
segment folders repeat them.
"""

from __future__ import annotations

import datetime as dt
import json
import random
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

from pipeline.generate.vocabulary import (
    BRANDS,
    FIRST,
    FREE_MAIL,
    INDUSTRIES,
    JOBS,
    LANGUAGES,
    PLANS,
    REGIONS,
    SENIORITIES,
    TAGS,
)

SEED = 20261120
PERSON_EVERY = 5  # one segment in five is a person segment
KINDS = ("note", "chat", "ticket", "call")
DURATIONS = ("7d", "14d", "30d", "45d", "60d", "90d", "120d", "180d", "2w", "4w", "48h", "365d")
PHONE_PREFIXES = ("+33", "0033", "+49", "+1", "+44", "+34", "+39", "+31", "+81", "+55")
MAILBOXES = ("contact@", "info@", "hello@", "sales@", "support@", "team@")
Cond = dict[str, Any]
BLOCK_KEYS = ("all", "any", "none", "where", "people", "organizations")
Family = Callable[[random.Random], Cond]


def _dur(r: random.Random) -> str:
    return r.choice(DURATIONS)


def _day(r: random.Random, start: str = "2024-01-01", span: int = 1000) -> dt.date:
    return dt.date.fromisoformat(start) + dt.timedelta(days=r.randrange(span))


def _tags(r: random.Random, k: int) -> list[str]:
    # Popular tags first, with a long tail, like real segment folders.
    return r.sample(TAGS[: 40 + r.randrange(len(TAGS) - 40)], k)


def _job(r: random.Random) -> str:
    return r.choice(JOBS)[0].lower()


# ---- condition families shared by both entities -------------------------------------------


def text_cond(r: random.Random) -> Cond:
    return r.choice(
        [
            lambda: {"name": {"contains": r.choice(BRANDS).lower()}},
            lambda: {"name": {"starts_with": r.choice(BRANDS)}},
            lambda: {"name": {"not_contains": r.choice(["test", "demo", "old", "copy"])}},
            lambda: {"primary_email": {"ends_with": "@" + r.choice(FREE_MAIL)}},
            lambda: {"primary_email": {"starts_with": r.choice(MAILBOXES)}},
            lambda: {"primary_email": {"is_unknown": True}},
            lambda: {"linkedin_url": {"starts_with": "https://www.linkedin.com/company/"}},
            lambda: {"twitter": {"is_unknown": True}},
            lambda: {"instagram": {"has_any_value": True}},
            lambda: {"facebook_url": {"contains": r.choice(BRANDS).lower()}},
            lambda: {"name": {"in": [b.lower() for b in r.sample(BRANDS, 3)]}},
            lambda: {"name": {"is_not": r.choice(BRANDS)}},
        ]
    )()


def list_cond(r: random.Random) -> Cond:
    return r.choice(
        [
            lambda: {"tags": {"is": _tags(r, 1)[0]}},
            lambda: {"tags": {"in": _tags(r, r.randint(2, 4))}},
            lambda: {"tags": {"is_not": _tags(r, 1)[0]}},
            lambda: {"tags": {"not_in": _tags(r, 2)}},
            lambda: {"tags": {"contains": r.choice(["campaign-", "cohort-", "integration-"])}},
            lambda: {"tags": {"not_contains": r.choice(["churn", "competitor", "bounced"])}},
            lambda: {"tags": {"is_unknown": True}},
            lambda: {"emails": {"contains": "@" + r.choice(FREE_MAIL).split(".")[0] + "."}},
            lambda: {"emails": {"has_any_value": True}},
        ]
    )()


def phone_cond(r: random.Random) -> Cond:
    return r.choice(
        [
            lambda: {"primary_phone": {"starts_with": r.choice(PHONE_PREFIXES)}},
            lambda: {"primary_phone": {"contains": str(r.randrange(100, 999))}},
            lambda: {"primary_phone": {"ends_with": f"{r.randrange(100):02d}"}},
            lambda: {"primary_phone": {"is_not": "+33 1 84 88 00 00"}},
            lambda: {"primary_phone": {"not_in": ["+33 6 12 34 56 78", "+1 555 0100"]}},
            lambda: {"primary_phone": {"has_any_value": True}},
            lambda: {"phones": {"contains": str(r.randrange(10, 99))}},
            lambda: {"phones": {"is_unknown": True}},
        ]
    )()


def builtin_date_cond(r: random.Random) -> Cond:
    attr = r.choice(["created_at", "updated_at"])
    return r.choice(
        [
            lambda: {attr: {"within_last": _dur(r)}},
            lambda: {attr: {"more_than_ago": _dur(r)}},
            lambda: {attr: {"before": _day(r)}},
            lambda: {attr: {"after": _day(r)}},
            lambda: {attr: {"between": sorted([_day(r), _day(r)])}},
            lambda: {attr: {"within_next": "520w"}},
            lambda: {attr: {"is_unknown": True}},
        ]
    )()


def _count(r: random.Random, hi: int = 6) -> Cond:
    return r.choice(
        [
            {"gte": r.randint(1, hi)},
            {"is": 0},
            {"lte": r.randint(0, hi)},
            {"between": sorted([r.randint(0, hi), r.randint(0, hi)])},
            {"gt": r.randint(0, hi)},
        ]
    )


def timeline_cond(r: random.Random) -> Cond:
    spec: Cond = {}
    kind = r.choice([*KINDS, "any", "pair"])
    if kind == "pair":
        spec["kind"] = sorted(r.sample(KINDS, 2))
    elif kind != "any":
        spec["kind"] = kind
    if r.random() < 0.85:
        spec["count"] = _count(r)
    if r.random() < 0.8:
        spec["within_last"] = _dur(r)
    elif r.random() < 0.5:
        spec["between"] = sorted([_day(r, "2025-01-01", 680), _day(r, "2025-01-01", 680)])
    return {"timeline": spec}


# ---- organization families -----------------------------------------------------------------


def org_custom_cond(r: random.Random) -> Cond:
    return r.choice(
        [
            lambda: {"custom.plan": {"is": r.choice(PLANS)}},
            lambda: {"custom.plan": {"in": r.sample(PLANS, 2)}},
            lambda: {"custom.plan": {"not_in": r.sample(PLANS, 2)}},
            lambda: {"custom.industry": {"is": r.choice(INDUSTRIES)}},
            lambda: {"custom.industry": {"in": r.sample(INDUSTRIES, 3)}},
            lambda: {"custom.industry": {"is_unknown": True}},
            lambda: {"custom.is_customer": {"is": r.random() < 0.7}},
            lambda: {"custom.is_customer": {"is_not": True}},
            lambda: {"custom.regions": {"in": r.sample(REGIONS, 2)}},
            lambda: {"custom.regions": {"not_in": r.sample(REGIONS, 2)}},
            lambda: {"custom.regions": {"is": r.choice(REGIONS)}},
        ]
    )()


def org_number_cond(r: random.Random) -> Cond:
    return r.choice(
        [
            lambda: {"custom.arr": {"gte": r.choice([1, 5, 10, 50, 100, 250]) * 1000}},
            lambda: {"custom.arr": {"lt": r.choice([1, 5, 10, 50]) * 1000}},
            lambda: {
                "custom.arr": {"between": sorted(r.sample([0, 2000, 10000, 40000, 150000], 2))}
            },
            lambda: {"custom.employees": {"gt": r.choice([5, 10, 20, 50, 200])}},
            lambda: {"custom.employees": {"lte": r.choice([10, 50, 500, 1000])}},
            lambda: {"custom.employees": {"between": sorted(r.sample([1, 20, 100, 500, 5000], 2))}},
            lambda: {"custom.arr": {"is_unknown": True}},
        ]
    )()


def org_custom_date_cond(r: random.Random) -> Cond:
    return r.choice(
        [
            lambda: {"custom.renewal_date": {"within_next": _dur(r)}},
            lambda: {"custom.renewal_date": {"within_last": _dur(r)}},
            lambda: {
                "custom.renewal_date": {
                    "between": sorted([_day(r, "2026-06-01", 400), _day(r, "2026-06-01", 400)])
                }
            },
            lambda: {"custom.renewal_date": {"after": _day(r, "2026-01-01", 500)}},
            lambda: {"custom.last_seen_at": {"within_last": _dur(r)}},
            lambda: {"custom.last_seen_at": {"more_than_ago": _dur(r)}},
            lambda: {"custom.last_seen_at": {"is_unknown": True}},
        ]
    )()


def rollup_cond(r: random.Random) -> Cond:
    if r.random() < 0.25:
        column = r.choice(["last_interaction_at", "first_interaction_at"])
        op = r.choice(["within_last", "more_than_ago"])
        return {f"rollup.{column}": {op: _dur(r)}}
    column = f"{r.choice(KINDS)}s_{r.choice(['7d', '30d', '90d', 'total'])}"
    return {f"rollup.{column}": r.choice([{"gte": r.randint(1, 5)}, {"is": 0}, {"lt": 3}])}


def people_cond(r: random.Random) -> Cond:
    inner = r.choice(
        [
            lambda: {"job_title": {"in": sorted({_job(r) for _ in range(3)})}},
            lambda: {"job_title": {"contains": r.choice(["engineer", "sales", "chief", "head"])}},
            lambda: {"custom.seniority": {"in": r.sample(SENIORITIES, 2)}},
            lambda: {"custom.nps": {"gte": r.randint(6, 10)}},
            lambda: {"custom.is_vip": {"is": True}},
            lambda: {"custom.last_login_at": {"within_last": _dur(r)}},
            lambda: {"timeline": {"kind": r.choice(KINDS), "within_last": _dur(r)}},
            lambda: None,
        ]
    )()
    spec: Cond = {}
    if r.random() < 0.7:
        spec["count"] = _count(r, 3)
    if inner is not None:
        spec["where"] = inner
    return {"people": spec}


# ---- person families -----------------------------------------------------------------------


def person_text_cond(r: random.Random) -> Cond:
    return r.choice(
        [
            lambda: {"name": {"starts_with": r.choice(FIRST)}},
            lambda: {"job_title": {"is": _job(r)}},
            lambda: {"job_title": {"contains": r.choice(["manager", "engineer", "sales", "vp"])}},
            lambda: {"job_title": {"in": sorted({_job(r) for _ in range(4)})}},
            lambda: {"primary_email": {"ends_with": "@" + r.choice(FREE_MAIL)}},
            lambda: {"organization": {"contains": r.choice(BRANDS).lower()}},
        ]
    )()


def person_custom_cond(r: random.Random) -> Cond:
    return r.choice(
        [
            lambda: {"custom.seniority": {"is": r.choice(SENIORITIES)}},
            lambda: {"custom.seniority": {"not_in": r.sample(SENIORITIES, 2)}},
            lambda: {"custom.nps": {"between": sorted(r.sample(range(11), 2))}},
            lambda: {"custom.nps": {"gte": r.randint(5, 10)}},
            lambda: {"custom.is_vip": {"is": True}},
            lambda: {"custom.is_vip": {"is_not": True}},
            lambda: {"custom.birthday": {"before": _day(r, "1960-01-01", 15000)}},
            lambda: {"custom.last_login_at": {"within_last": _dur(r)}},
            lambda: {"custom.last_login_at": {"more_than_ago": _dur(r)}},
            lambda: {"custom.languages": {"in": r.sample(LANGUAGES, 2)}},
            lambda: {"custom.languages": {"is_unknown": True}},
        ]
    )()


def organizations_cond(r: random.Random) -> Cond:
    inner = r.choice(
        [
            lambda: {"tags": {"is": _tags(r, 1)[0]}},
            lambda: {"custom.plan": {"in": r.sample(PLANS, 2)}},
            lambda: {"custom.arr": {"gte": r.choice([10, 50, 100]) * 1000}},
            lambda: {"custom.is_customer": {"is": True}},
            lambda: None,
        ]
    )()
    spec: Cond = {"count": _count(r, 2)}
    if inner is not None:
        spec["where"] = inner
    return {"organizations": spec}


ORG_FAMILIES: tuple[Family, ...] = (
    text_cond,
    list_cond,
    phone_cond,
    builtin_date_cond,
    org_custom_cond,
    org_number_cond,
    org_custom_date_cond,
    timeline_cond,
    people_cond,
    rollup_cond,
)
PERSON_FAMILIES: tuple[Family, ...] = (
    person_text_cond,
    list_cond,
    phone_cond,
    builtin_date_cond,
    person_custom_cond,
    timeline_cond,
    organizations_cond,
)


def segment(r: random.Random, index: int, earlier: dict[str, list[str]]) -> dict[str, Any]:
    """The ``index``-th segment; ``earlier`` holds the ids of earlier segments per entity."""
    entity = "person" if index % PERSON_EVERY == PERSON_EVERY - 1 else "organization"
    families = PERSON_FAMILIES if entity == "person" else ORG_FAMILIES
    # Each family leads in turn; two to four others are drawn at random.
    lead = families[(index // PERSON_EVERY if entity == "person" else index) % len(families)]
    others = r.sample([f for f in families if f is not lead], r.randint(1, 3))
    items: list[Cond] = [lead(r), *(f(r) for f in others[1:])]
    group = r.random()
    extra = others[0]
    if group < 0.35:
        items.append({"any": [extra(r), extra(r), r.choice(families)(r)]})
    elif group < 0.55:
        items.append({"none": [extra(r)]})
    else:
        items.append(extra(r))
    refs = earlier[entity]
    if refs and r.random() < 0.2:
        op = r.choice(["in_segment", "not_in_segment"])
        items.append({op: r.choice(refs[-20:])})
    seg_id = f"bench-{index:03d}-{entity[:3]}-{lead.__name__.removesuffix('_cond')}"
    out: dict[str, Any] = {
        "id": seg_id,
        "name": f"Benchmark {index}: {lead.__name__.removesuffix('_cond')} ({entity})",
    }
    if entity == "person":
        out["entity"] = "person"
    if r.random() < 0.1:
        out["properties"] = r.sample(["site-fr", "site-us", "site-de"], r.randint(1, 2))
    out["where"] = {"all": items}
    earlier[entity].append(seg_id)
    return out


def segments(n: int) -> list[dict[str, Any]]:
    r = random.Random(SEED)
    earlier: dict[str, list[str]] = {"organization": [], "person": []}
    return [segment(r, i, earlier) for i in range(n)]


def _scalar(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    if isinstance(value, dt.date):
        return value.isoformat()  # unquoted: YAML reads it as a date
    if isinstance(value, list):
        return "[" + ", ".join(_scalar(v) for v in value) + "]"
    if isinstance(value, dict):
        return (
            "{ " + ", ".join(f"{k}: {_scalar(v)}" for k, v in value.items()) + " }"
            if value
            else "{}"
        )
    return json.dumps(value, ensure_ascii=False)  # a double-quoted YAML string


def _block(value: Any, indent: int) -> list[str]:
    pad = " " * indent
    lines: list[str] = []
    if isinstance(value, dict):
        for key, item in value.items():
            nested = (isinstance(item, list) and key in ("all", "any", "none")) or (
                isinstance(item, dict) and item and key in BLOCK_KEYS
            )
            if nested:
                lines += [f"{pad}{key}:", *_block(item, indent + 2)]
            else:
                lines.append(f"{pad}{key}: {_scalar(item)}")
    elif isinstance(value, list):
        for item in value:
            sub = _block(item, indent + 2)
            lines.append(f"{pad}- {sub[0].lstrip()}")
            lines += sub[1:]
    return lines


def to_yaml(definition: dict[str, Any]) -> str:
    return "# Generated by benchmarks/segment_sets.py; do not edit.\n" + "\n".join(
        _block(definition, 0)
    )


def write_set(n: int, directory: Path) -> Path:
    """Write the first ``n`` segments to ``directory`` (replacing its .yaml files)."""
    if directory.exists():
        shutil.rmtree(directory)
    directory.mkdir(parents=True)
    for definition in segments(n):
        (directory / f"{definition['id']}.yaml").write_text(to_yaml(definition) + "\n")
    return directory


def kinds_used(n: int) -> dict[str, int]:
    """How many conditions of each top-level family the first ``n`` segments hold."""
    counts: dict[str, int] = {}

    def walk(cond: Any) -> None:
        if isinstance(cond, dict):
            for key, value in cond.items():
                if key in ("all", "any", "none"):
                    for item in value:
                        walk(item)
                else:
                    family = key.split(".")[0] if "." in key else key
                    counts[family] = counts.get(family, 0) + 1

    for definition in segments(n):
        walk(definition["where"])
    return dict(sorted(counts.items()))

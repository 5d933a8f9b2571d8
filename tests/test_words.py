"""``explain``: a checked segment in plain English, for a marketer.

Segments are written in YAML and go through the real checker, so the words are those of the
IR a run evaluates: values normalized, relative dates resolved against the run's clock,
references expanded. Each node kind has its wording checked, the unknown rule under
negation (SPEC section 3), nested relationship filters and references, and every example
segment of the repository explains and names every attribute it reads.
"""

from __future__ import annotations

import datetime as dt
import functools
import zoneinfo
from collections.abc import Iterator
from pathlib import Path

import pytest

from pipeline.catalog import AttrType, Catalog, CustomAttribute
from pipeline.errors import Location, Problem, ProblemCollector
from pipeline.language import ir
from pipeline.language.check import CheckContext
from pipeline.language.segments import check_folder_documents
from pipeline.language.source import parse_text
from pipeline.language.temporal import clock as run_clock
from pipeline.language.words import (
    PHONE_RULE,
    TEXT_RULE,
    UNKNOWN_RULE,
    attribute_words,
    explain,
)
from pipeline.run import RunConfig, definitions

ROOT = Path(__file__).resolve().parent.parent
AS_OF = dt.datetime(2026, 11, 20, 12, 0, tzinfo=dt.UTC)
UTC = zoneinfo.ZoneInfo("UTC")
CLOCK = run_clock(AS_OF, UTC)

CUSTOM = {
    ("organization", "plan"): "text",
    ("organization", "arr"): "number",
    ("organization", "is_customer"): "boolean",
    ("organization", "renewal_date"): "date",
    ("organization", "last_seen_at"): "datetime",
    ("organization", "regions"): "list",
    ("person", "seniority"): "text",
    ("person", "nps"): "number",
    ("person", "is_vip"): "boolean",
}
CATALOG = Catalog.build(
    [
        CustomAttribute(entity, key, kind, key, frozenset({"p1", "p2"}))
        for (entity, key), kind in CUSTOM.items()
    ],
    ir.rollup_columns(),
)


def check(
    files: dict[str, str], as_of: dt.datetime = AS_OF, tz: str = "UTC"
) -> dict[str, ir.Segment]:
    """The checked segments of ``files`` (id -> YAML text), checked together."""
    ctx = CheckContext(CATALOG, as_of, zoneinfo.ZoneInfo(tz))
    parsed = []
    for stem, text in files.items():
        root = parse_text(text, f"{stem}.yaml")
        assert not isinstance(root, Problem), str(root)
        parsed.append((root, stem))
    problems = ProblemCollector()
    segments = check_folder_documents(parsed, ctx, problems)
    assert not problems.problems, "\n".join(map(str, problems.problems))
    return {segment.id: segment for segment in segments}


def said(
    where: str,
    *,
    entity: str = "organization",
    others: dict[str, str] | None = None,
    tz: str = "UTC",
    with_clock: bool = True,
) -> str:
    """The words for segment ``s`` with this ``where:`` (flow or block YAML)."""
    text = f"entity: {entity}\nwhere:\n" + "".join(f"  {line}\n" for line in where.splitlines())
    segment = check({"s": text, **(others or {})}, tz=tz)["s"]
    return explain(segment, run_clock(AS_OF, zoneinfo.ZoneInfo(tz)) if with_clock else None)


def tree(text: str) -> list[str]:
    """The definition's lines: from the ``Members:`` line to the notes."""
    lines = text.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("Members: "))
    end = lines.index("", start) if "" in lines[start:] else len(lines)
    return lines[start:end]


def bullet(
    where: str, *, entity: str = "organization", tz: str = "UTC", with_clock: bool = True
) -> str:
    """The one bullet of a single-condition ``where``."""
    members, *rest = tree(said(where, entity=entity, tz=tz, with_clock=with_clock))
    assert members.endswith("for which:"), members
    assert len(rest) == 1, rest
    return rest[0].removeprefix("- ")


def notes(text: str) -> list[str]:
    lines = text.splitlines()
    if "Notes:" not in lines:
        return []
    return [line.removeprefix("- ") for line in lines[lines.index("Notes:") + 1 :]]


# -- the frame -------------------------------------------------------------------------------------


def test_title_description_and_population() -> None:
    segments = check(
        {
            "premium-fr": "name: Premium\ndescription: |\n  Paying\n  accounts.\n"
            "properties: [p1, p2]\nwhere: {custom.plan: {is: Premium}}\n",
            "vips": "entity: person\nproperties: [p1]\nwhere: {tags: {is: vip}}\n",
        }
    )
    premium = explain(segments["premium-fr"], CLOCK).splitlines()
    assert premium[:4] == [
        "Premium (id premium-fr): a segment of organizations",
        "Paying accounts.",
        "",
        "Members: organizations of the properties p1, p2 for which:",
    ]
    assert premium[4] == "- plan (custom attribute) is 'premium'"
    vips = explain(segments["vips"]).splitlines()
    assert vips[:3] == [
        "vips: a segment of people",
        "",
        "Members: people of property p1 for which:",
    ]


def test_a_root_group_joins_the_members_line() -> None:
    text = said("all: [{tags: {is: vip}}, {name: {contains: acme}}]")
    assert tree(text) == [
        "Members: organizations of every property for which all of these are true:",
        "- tags include 'vip'",
        "- name contains 'acme'",
    ]


def test_groups_nest_as_indented_bullets() -> None:
    text = said(
        "all:\n"
        "  - any:\n"
        "      - tags: {is: a}\n"
        "      - all: [{tags: {is: b}}, {tags: {is: c}}]\n"
        "  - all: [{name: {is: d}}]\n"  # all inside all says the same as its items
        "  - none: [{tags: {is: e}}, {timeline: {kind: chat}}]\n"
    )
    assert tree(text)[1:] == [
        "- at least one of these is true:",
        "  - tags include 'a'",
        "  - all of these are true:",
        "    - tags include 'b'",
        "    - tags include 'c'",
        "- name is 'd'",
        "- none of these is true (a condition on an unknown value counts as not true):",
        "  - tags include 'e'",
        "  - has at least 1 chat at any time up to the run (2026-11-20 12:00 UTC)",
    ]


def test_not_of_anything_else_is_said_as_not() -> None:
    name = ir.Attr("builtin", "name", AttrType.TEXT)
    where = ir.Not(ir.All((ir.TextMatch(name, "is", ("a",)), ir.Not(ir.HasValue(name)))))
    segment = ir.Segment("odd", "odd", "", "organization", None, where, "", Location("odd.yaml"))
    assert tree(explain(segment))[1:] == [
        "- not:",
        "  - all of these are true:",
        "    - name is 'a'",
        "    - has no name (unknown or blank)",
    ]


# -- attribute conditions --------------------------------------------------------------------------

LEAVES = [
    # text: values are shown normalized
    ("custom.plan: {is: ' Free '}", "plan (custom attribute) is 'free'"),
    (
        "custom.plan: {in: [premium, Business]}",
        "plan (custom attribute) is one of 'premium', 'business'",
    ),
    ("job_title: {contains: CTO}", "job title contains 'cto'"),
    ("linkedin_url: {starts_with: 'https://x'}", "LinkedIn URL starts with 'https://x'"),
    ("primary_email: {ends_with: '@gmail.com'}", "primary email ends with '@gmail.com'"),
    ('name: {is: "o\'neil"}', 'name is "o\'neil"'),
    # phones: digits only
    ("primary_phone: {starts_with: '+33 (0)1'}", "primary phone starts with '3301'"),
    ("phones: {in: ['+1 555 0100']}", "phones include one of '15550100'"),
    # lists: some element
    ("tags: {is: VIP}", "tags include 'vip'"),
    ("tags: {in: [partner, reseller]}", "tags include one of 'partner', 'reseller'"),
    ("emails: {contains: '@gmail.'}", "emails include an element that contains '@gmail.'"),
    ("custom.regions: {is: emea}", "regions (custom attribute) include 'emea'"),
    # numbers: bounds in words
    ("custom.arr: {is: 7}", "arr (custom attribute) is 7"),
    ("custom.arr: {gte: 50000}", "arr (custom attribute) is at least 50000"),
    ("custom.arr: {gt: 20}", "arr (custom attribute) is more than 20"),
    ("custom.arr: {lt: 2.5}", "arr (custom attribute) is less than 2.5"),
    ("custom.arr: {lte: 500}", "arr (custom attribute) is at most 500"),
    ("custom.arr: {between: [0, 6]}", "arr (custom attribute) is between 0 and 6 (inclusive)"),
    # booleans
    ("custom.is_customer: {is: true}", "is customer (custom attribute) is true"),
    ("custom.is_customer: {is: false}", "is customer (custom attribute) is false"),
    # rollups
    (
        "rollup.chats_30d: {gte: 3}",
        "number of chats in the last 30 days (timeline rollup) is at least 3",
    ),
    ("rollup.tickets_total: {is: 0}", "number of tickets in total (timeline rollup) is 0"),
    (
        "rollup.notes_7d: {lt: 2}",
        "number of notes in the last 7 days (timeline rollup) is less than 2",
    ),
    # presence
    ("custom.plan: {has_any_value: true}", "has a plan (custom attribute)"),
    ("custom.plan: {is_unknown: true}", "has no plan (custom attribute; unknown or blank)"),
    ("job_title: {has_any_value: false}", "has no job title (unknown or blank)"),
    ("primary_phone: {is_unknown: true}", "has no primary phone (unknown, or no digit in it)"),
    ("custom.arr: {has_any_value: true}", "has an arr (custom attribute)"),
    ("custom.arr: {is_unknown: true}", "has no arr (custom attribute; unknown)"),
    ("tags: {has_any_value: true}", "has some tags"),
    (
        "custom.regions: {is_unknown: true}",
        "has no regions (custom attribute; missing, empty or only blank elements)",
    ),
    (
        "custom.is_customer: {has_any_value: true}",
        "is customer (custom attribute) is true or false (known)",
    ),
    (
        "custom.is_customer: {is_unknown: true}",
        "is customer (custom attribute) is unknown (neither true nor false)",
    ),
    (
        "custom.last_seen_at: {has_any_value: true}",
        "has a value for last seen at (custom attribute)",
    ),
    (
        "rollup.last_interaction_at: {is_unknown: true}",
        "has no last interaction (timeline rollup; no interaction up to the run)",
    ),
]


@pytest.mark.parametrize(("where", "words"), LEAVES, ids=[w for w, _ in LEAVES])
def test_attribute_conditions(where: str, words: str) -> None:
    assert bullet(where) == words


NEGATIONS = [
    (
        "custom.plan: {is_not: free}",
        "plan (custom attribute) is not 'free' (organizations with no plan are included)",
    ),
    (
        "custom.plan: {not_in: [free, starter]}",
        "plan (custom attribute) is none of 'free', 'starter' "
        "(organizations with no plan are included)",
    ),
    (
        "name: {not_contains: test}",
        "name does not contain 'test' (organizations with no name are included)",
    ),
    (
        "primary_phone: {is_not: '+33 1 84'}",
        "primary phone is not '33184' (organizations with no primary phone are included)",
    ),
    (
        "tags: {is_not: partner}",
        "tags do not include 'partner' (organizations with no tags are included)",
    ),
    (
        "tags: {not_in: [a, b]}",
        "tags include none of 'a', 'b' (organizations with no tags are included)",
    ),
    (
        "tags: {not_contains: churn}",
        "tags include no element that contains 'churn' (organizations with no tags are included)",
    ),
    (
        "custom.arr: {is_not: 0}",
        "arr (custom attribute) is not 0 (organizations with no arr are included)",
    ),
    (
        "custom.is_customer: {is_not: true}",
        "is customer (custom attribute) is not true (so false or unknown)",
    ),
    (
        "custom.is_customer: {is_not: false}",
        "is customer (custom attribute) is not false (so true or unknown)",
    ),
    (
        "custom.renewal_date: {is_not: 2027-01-01}",
        "renewal date (custom attribute) is not on 2027-01-01 "
        "(organizations with no renewal date are included)",
    ),
    (
        "created_at: {is_not: 2026-03-15}",
        "creation time is before 2026-03-15 00:00 UTC or at or after 2026-03-16 00:00 UTC "
        "(not on the day 2026-03-15; organizations with no creation time are included)",
    ),
    # interaction counts are never unknown: nothing to add
    (
        "rollup.chats_30d: {is_not: 0}",
        "number of chats in the last 30 days (timeline rollup) is not 0",
    ),
]


@pytest.mark.parametrize(("where", "words"), NEGATIONS, ids=[w for w, _ in NEGATIONS])
def test_negations_say_that_unknown_values_are_included(where: str, words: str) -> None:
    assert bullet(where) == words


def test_the_unknown_rule_is_noted_once_where_a_negation_meets_unknown_values() -> None:
    negative = said("all: [{name: {is_not: a}}, {tags: {not_in: [b]}}]")
    assert notes(negative).count(UNKNOWN_RULE) == 1
    for positive in (
        "all: [{name: {is: a}}, {name: {is_unknown: true}}]",  # is_unknown says it itself
        "rollup.chats_30d: {is_not: 3}",  # counts are never unknown
        "timeline: {count: {is_not: 2}}",
        "none: [{timeline: {kind: call}}]",
    ):
        assert UNKNOWN_RULE not in notes(said(positive)), positive


def test_a_negation_of_a_negation_lets_no_unknown_value_in() -> None:
    text = said("none: [{name: {is_not: a}}]")
    assert tree(text) == [
        "Members: organizations of every property for which none of these is true:",
        "- name is not 'a' (organizations with no name are included)",
    ]


def test_a_person_filter_says_people_are_included() -> None:
    text = said("people: {where: {job_title: {is_not: cto}}}")
    assert tree(text)[1:] == [
        "- has at least 1 linked person for whom:",
        "  - job title is not 'cto' (people with no job title are included)",
    ]


def test_none_of_one_condition_says_who_it_lets_in() -> None:
    text = said("none: [{custom.plan: {is: free}}]")
    assert tree(text) == [
        "Members: organizations of every property for which none of these is true "
        "(organizations with no plan are included):",
        "- plan (custom attribute) is 'free'",
    ]
    assert UNKNOWN_RULE in notes(text)
    several = tree(said("none: [{custom.plan: {is: free}}, {custom.arr: {lt: 10}}]"))[0]
    assert several.endswith(
        "none of these is true (a condition on an unknown value counts as not true):"
    )
    counts = tree(said("none: [{rollup.chats_7d: {gte: 1}}, {timeline: {kind: call}}]"))[0]
    assert counts.endswith("none of these is true:")


def test_text_and_phone_rules_are_noted_only_when_they_apply() -> None:
    assert notes(said("custom.arr: {gte: 1}")) == []
    assert notes(said("name: {is: a}")) == [TEXT_RULE]
    assert notes(said("tags: {is: a}")) == [TEXT_RULE]
    assert notes(said("primary_phone: {is: '1'}")) == [PHONE_RULE]
    assert notes(said("phones: {contains: '1'}")) == [PHONE_RULE]
    assert notes(said("any: [{name: {is: a}}, {primary_phone: {is: '1'}}]")) == [
        TEXT_RULE,
        PHONE_RULE,
    ]
    assert notes(said("primary_phone: {has_any_value: true}")) == []


def test_attribute_words_name_each_source() -> None:
    assert attribute_words(ir.Attr("builtin", "job_title", AttrType.TEXT)) == "job title"
    assert attribute_words(ir.Attr("custom", "plan", AttrType.TEXT)) == "plan (custom attribute)"
    assert (
        attribute_words(ir.Attr("rollup", "chats_30d", AttrType.NUMBER))
        == "number of chats in the last 30 days (timeline rollup)"
    )
    assert (
        attribute_words(ir.Attr("rollup", "first_interaction_at", AttrType.DATETIME))
        == "first interaction (timeline rollup)"
    )


# -- times and dates -------------------------------------------------------------------------------

TIMES = [
    (
        "custom.last_seen_at: {within_last: 30d}",
        "last seen at (custom attribute) is between 2026-10-21 12:00 UTC and 2026-11-20 12:00 UTC "
        "(inclusive; the 30 days before the run)",
    ),
    (
        "custom.last_seen_at: {within_last: 36h}",
        "last seen at (custom attribute) is between 2026-11-19 00:00 UTC and 2026-11-20 12:00 UTC "
        "(inclusive; the 36 hours before the run)",
    ),
    (
        "custom.last_seen_at: {more_than_ago: 60d}",
        "last seen at (custom attribute) is before 2026-09-21 12:00 UTC "
        "(more than 60 days before the run)",
    ),
    (
        "created_at: {within_next: 2w}",
        "creation time is between 2026-11-20 12:00 UTC and 2026-12-04 12:00 UTC "
        "(inclusive; the 14 days after the run)",
    ),
    ("created_at: {before: 2024-01-01}", "creation time is before 2024-01-01 00:00 UTC"),
    ("created_at: {after: 2024-12-31}", "creation time is at or after 2025-01-01 00:00 UTC"),
    (
        "created_at: {after: '2026-04-02T16:00:30Z'}",
        "creation time is after 2026-04-02 16:00:30 UTC",
    ),
    (
        "created_at: {is: 1970-01-01}",
        "creation time is at or after 1970-01-01 00:00 UTC and before 1970-01-02 00:00 UTC "
        "(on the day 1970-01-01)",
    ),
    (
        "created_at: {between: [2026-03-01, 2026-04-15]}",
        "creation time is at or after 2026-03-01 00:00 UTC and before 2026-04-16 00:00 UTC "
        "(on the days 2026-03-01 to 2026-04-15)",
    ),
    (
        "created_at: {between: ['2026-04-02T08:00:00Z', '2026-04-02T18:00:00Z']}",
        "creation time is between 2026-04-02 08:00 UTC and 2026-04-02 18:00 UTC (inclusive)",
    ),
    ("custom.renewal_date: {is: 2027-01-01}", "renewal date (custom attribute) is on 2027-01-01"),
    (
        "custom.renewal_date: {between: [2027-01-01, 2027-03-31]}",
        "renewal date (custom attribute) is between 2027-01-01 and 2027-03-31 (inclusive)",
    ),
    (
        "custom.renewal_date: {before: 2000-01-01}",
        "renewal date (custom attribute) is on or before 1999-12-31",
    ),
    (
        "custom.renewal_date: {after: 2024-12-31}",
        "renewal date (custom attribute) is on or after 2025-01-01",
    ),
    (
        "custom.renewal_date: {within_next: 30d}",
        "renewal date (custom attribute) is between 2026-11-21 and 2026-12-20 (inclusive)",
    ),
]


@pytest.mark.parametrize(("where", "words"), TIMES, ids=[w for w, _ in TIMES])
def test_times_are_utc_instants_and_dates_days(where: str, words: str) -> None:
    assert bullet(where) == words


def test_periods_follow_the_runs_timezone_across_daylight_saving() -> None:
    # 60 calendar days before 2026-11-20 13:00 in Paris is 2026-09-21 13:00 in Paris (UTC+2)
    assert bullet("updated_at: {more_than_ago: 60d}", tz="Europe/Paris") == (
        "last update time is before 2026-09-21 11:00 UTC (more than 60 days before the run)"
    )
    assert bullet("updated_at: {is: 2026-03-15}", tz="Europe/Paris") == (
        "last update time is at or after 2026-03-14 23:00 UTC and before 2026-03-15 23:00 UTC "
        "(on the day 2026-03-15 in Europe/Paris)"
    )
    text = said("updated_at: {within_last: 1d}", tz="Europe/Paris")
    assert notes(text) == [
        "Times are UTC; dates and periods were worked out for a run at 2026-11-20 12:00 UTC "
        "(calendar days in Europe/Paris)."
    ]


def test_without_the_clock_periods_are_instants_only() -> None:
    text = said("custom.last_seen_at: {within_last: 30d}", with_clock=False)
    assert tree(text)[1] == (
        "- last seen at (custom attribute) is between 2026-10-21 12:00 UTC and "
        "2026-11-20 12:00 UTC (inclusive)"
    )
    assert notes(text) == ["Times are UTC; dates are calendar days."]


# -- timeline --------------------------------------------------------------------------------------

ACTIVITY = [
    (
        "timeline: {}",
        "has at least 1 interaction of any kind at any time up to the run (2026-11-20 12:00 UTC)",
    ),
    (
        "timeline: {kind: chat, count: {gte: 3}, within_last: 30d}",
        "has at least 3 chats between 2026-10-21 12:00 UTC and 2026-11-20 12:00 UTC "
        "(inclusive; the 30 days before the run)",
    ),
    (
        "timeline: {kind: [chat, call], count: {lte: 1}, within_last: 7d}",
        "has at most 1 chat or call (zero included) between 2026-11-13 12:00 UTC and "
        "2026-11-20 12:00 UTC (inclusive; the 7 days before the run)",
    ),
    (
        "timeline: {kind: note, count: {is: 0}, within_last: 90d}",
        "has no notes (exactly 0) between 2026-08-22 12:00 UTC and 2026-11-20 12:00 UTC "
        "(inclusive; the 90 days before the run)",
    ),
    (
        "timeline: {kind: note, count: {between: [2, 5]}, between: [2026-01-01, 2026-03-31]}",
        "has between 2 and 5 notes (inclusive) at or after 2026-01-01 00:00 UTC and before "
        "2026-04-01 00:00 UTC",
    ),
    (
        "timeline: {kind: ticket, count: {is: 1}, between: [2026-11-01, 2026-12-31]}",
        "has exactly 1 ticket between 2026-11-01 00:00 UTC and 2026-11-20 12:00 UTC (inclusive)",
    ),
    (
        "timeline: {kind: call, count: {gt: 2}}",
        "has more than 2 calls at any time up to the run (2026-11-20 12:00 UTC)",
    ),
    (
        "timeline: {kind: call, count: {lt: 4}}",
        "has fewer than 4 calls (zero included) at any time up to the run (2026-11-20 12:00 UTC)",
    ),
    (
        "timeline: {kind: call, count: {is_not: 0}}",
        "has at least 1 call at any time up to the run (2026-11-20 12:00 UTC)",
    ),
    (
        "timeline: {kind: call, count: {is_not: 2}}",
        "has any number of calls other than 2 at any time up to the run (2026-11-20 12:00 UTC)",
    ),
]


@pytest.mark.parametrize(("where", "words"), ACTIVITY, ids=[w for w, _ in ACTIVITY])
def test_timeline_conditions(where: str, words: str) -> None:
    assert bullet(where) == words


def test_a_timeline_window_without_the_clock_ends_at_its_instant() -> None:
    assert bullet("timeline: {kind: chat}", with_clock=False) == (
        "has at least 1 chat at any time up to 2026-11-20 12:00 UTC"
    )


# -- linked entities and references ----------------------------------------------------------------


def test_a_relationship_filter_is_nested_and_about_the_other_entity() -> None:
    text = said(
        "all:\n"
        "  - tags: {is: enterprise}\n"
        "  - people:\n"
        "      count: {is: 0}\n"
        "      where:\n"
        "        any:\n"
        "          - job_title: {in: [cto, vp engineering]}\n"
        "          - custom.seniority: {is_not: junior}\n"
        "          - organizations: {count: {gte: 2}, where: {custom.plan: {is_not: free}}}\n"
    )
    assert tree(text)[1:] == [
        "- tags include 'enterprise'",
        "- has no linked people (exactly 0) for whom at least one of these is true:",
        "  - job title is one of 'cto', 'vp engineering'",
        "  - seniority (custom attribute) is not 'junior' (people with no seniority are included)",
        "  - has at least 2 linked organizations for which:",
        "    - plan (custom attribute) is not 'free' (organizations with no plan are included)",
    ]


def test_relationship_counts() -> None:
    assert (
        bullet("organizations: {count: {gte: 2}}", entity="person")
        == "has at least 2 linked organizations"
    )
    assert bullet("people: {}") == "has at least 1 linked person"
    assert bullet("people: {count: {is_not: 1}}") == "has any number of linked people other than 1"
    assert (
        bullet("people: {count: {between: [2, 3]}}")
        == "has between 2 and 3 linked people (inclusive)"
    )
    assert tree(said("people: {count: {lte: 1}, where: {custom.nps: {gte: 9}}}"))[1:] == [
        "- has at most 1 linked person (zero included) for whom:",
        "  - nps (custom attribute) is at least 9",
    ]


def test_references_are_expanded_with_their_property_scope() -> None:
    others = {
        "engaged": "properties: [p1]\n"
        "where: {any: [{rollup.chats_30d: {gte: 1}}, {tags: {is: x}}]}\n",
        "paying": "where: {custom.is_customer: {is: true}}\n",
        "vips": "entity: person\nwhere: {custom.is_vip: {is: true}}\n",
    }
    text = said(
        "all:\n"
        "  - in_segment: paying\n"
        "  - not_in_segment: engaged\n"
        "  - people: {where: {in_segment: vips}}\n",
        others=others,
    )
    assert tree(text)[1:] == [
        "- is a member of segment 'paying', which means:",
        "  - is customer (custom attribute) is true",
        "- is not a member of segment 'engaged', whose members are those for which "
        "all of these are true:",
        "  - is in property p1",
        "  - at least one of these is true:",
        "    - number of chats in the last 30 days (timeline rollup) is at least 1",
        "    - tags include 'x'",
        "- has at least 1 linked person for whom:",
        "  - is a member of segment 'vips', which means:",
        "    - is vip (custom attribute) is true",
    ]
    # not being in 'engaged' holds when the tags are unknown
    assert UNKNOWN_RULE in notes(text)


def test_references_to_references_expand_all_the_way() -> None:
    others = {
        "a": "properties: [p1, p2]\nwhere: {in_segment: b}\n",
        "b": "where: {name: {is: x}}\n",
    }
    assert tree(said("in_segment: a", others=others))[1:] == [
        "- is a member of segment 'a', which means all of these are true:",
        "  - is in one of the properties p1, p2",
        "  - is a member of segment 'b', which means:",
        "    - name is 'x'",
    ]


# -- the repository's segments ---------------------------------------------------------------------


def _read(condition: ir.Condition) -> Iterator[ir.Condition]:
    """Every node a condition holds, into references and relationship filters."""
    yield condition
    match condition:
        case ir.All(items) | ir.AnyOf(items):
            for item in items:
                yield from _read(item)
        case ir.Not(item) | ir.InSegment(condition=item):
            yield from _read(item)
        case ir.Related(where=where) if where is not None:
            yield from _read(where)
        case _:
            pass


@functools.cache
def _examples(timezone: str) -> tuple[ir.Clock, tuple[ir.Segment, ...]]:
    """The segments of ``segments/``, checked against the catalog of ``data/``."""
    tz = zoneinfo.ZoneInfo(timezone)
    config = RunConfig(data=ROOT / "data", segments=ROOT / "segments")
    _, segments = definitions(config, AS_OF, tz)
    return run_clock(AS_OF, tz), tuple(segments)


@pytest.fixture(params=["UTC", "Europe/Paris"])
def examples(request: pytest.FixtureRequest) -> tuple[ir.Clock, tuple[ir.Segment, ...]]:
    return _examples(str(request.param))


def example(segment_id: str) -> str:
    """The words for one example segment, for a run at ``AS_OF`` in UTC."""
    clock, segments = _examples("UTC")
    (segment,) = [s for s in segments if s.id == segment_id]
    return explain(segment, clock)


def test_every_example_segment_names_what_it_reads(
    examples: tuple[ir.Clock, tuple[ir.Segment, ...]],
) -> None:
    clock, segments = examples
    assert len(segments) >= 25
    for segment in segments:
        for text in (explain(segment, clock), explain(segment)):
            assert text.startswith(f"{segment.name} (id {segment.id}): a segment of ")
            for node in _read(segment.where):
                match node:
                    case ir.InSegment(segment_id=named):
                        assert f"segment '{named}'" in text, (segment.id, named)
                    case ir.Activity(kinds=kinds):
                        assert all(kind in text for kind in kinds) or "of any kind" in text
                    case ir.Related(relation=relation):
                        linked = (
                            "linked organization" if relation == "organizations" else "linked pe"
                        )
                        assert linked in text, segment.id
                    case ir.PropertyIn(properties):
                        assert all(p in text for p in properties), segment.id
                    case (
                        ir.HasValue(attr=attr)
                        | ir.TextMatch(attr=attr)
                        | ir.ListMatch(attr=attr)
                        | ir.NumberRange(attr=attr)
                        | ir.BoolIs(attr=attr)
                        | ir.TimeRange(attr=attr)
                        | ir.DateRange(attr=attr)
                    ):
                        # "plan (custom attribute)", or "(custom attribute; unknown)"
                        named = attribute_words(attr).removesuffix(")")
                        assert named in text, (segment.id, attr)
                    case _:
                        pass


def test_churn_risk_customers_in_words() -> None:
    assert example("churn-risk-customers").splitlines() == [
        "Churn-risk customers (id churn-risk-customers): a segment of organizations",
        "Customers with a phone, tagged churn-risk or inactive for 60 days, not on the free plan.",
        "",
        "Members: organizations of every property for which all of these are true:",
        "- is customer (custom attribute) is true",
        "- has a primary phone",
        "- at least one of these is true:",
        "  - tags include 'churn-risk'",
        "  - last seen at (custom attribute) is before 2026-09-21 12:00 UTC "
        "(more than 60 days before the run)",
        "  - has no value for last seen at (custom attribute; unknown)",
        "- none of these is true (organizations with no plan are included):",
        "  - plan (custom attribute) is 'free'",
        "",
        "Notes:",
        f"- {UNKNOWN_RULE}",
        f"- {TEXT_RULE}",
        "- Times are UTC; dates and periods were worked out for a run at 2026-11-20 12:00 UTC "
        "(calendar days in UTC).",
    ]


def test_vip_people_at_enterprise_in_words() -> None:
    assert example("vip-people-at-enterprise").splitlines() == [
        "VIP people at enterprise accounts (id vip-people-at-enterprise): a segment of people",
        "",
        "Members: people of every property for which all of these are true:",
        "- is vip (custom attribute) is true",
        "- has at least 1 linked organization for which:",
        "  - tags include 'enterprise'",
        "",
        "Notes:",
        f"- {TEXT_RULE}",
    ]


# -- limits ----------------------------------------------------------------------------------------


def test_the_deepest_condition_the_checker_allows_explains() -> None:
    name = ir.Attr("builtin", "name", AttrType.TEXT)
    condition: ir.Condition = ir.TextMatch(name, "is", ("x",))
    for level in range(63):  # alternating groups, so that none flattens into its parent
        other = ir.TextMatch(name, "is", (f"v{level}",))
        condition = (ir.All if level % 2 else ir.AnyOf)((condition, other))
    segment = ir.Segment("deep", "deep", "", "organization", None, condition, "", Location("d"))
    assert ir.depth(condition) == 64
    lines = tree(explain(segment))
    assert f"{'  ' * 62}- name is 'x'" in lines
    assert len(lines) == 1 + 62 + 64  # the outermost group is said on the first line


def test_values_that_need_it_are_quoted_unambiguously() -> None:
    assert bullet('name: {is: "it\'s"}') == 'name is "it\'s"'
    assert bullet('name: {contains: "a\\tb"}') == "name contains 'a\\tb'"

"""Error messages of segment definitions: the text, the exact ``file:line:column`` and the hint.

Positions count from 1. Every case is a small YAML text checked against the sample data's
catalog (the custom attributes every property of the bundled data defines, and the rollup
columns), without data. References between segments are checked on a folder of files.
"""

from __future__ import annotations

import datetime as dt
import textwrap
import zoneinfo
from pathlib import Path

import pytest

from pipeline.catalog import Catalog, CustomAttribute
from pipeline.errors import DefinitionError, Location, Problem, ProblemCollector
from pipeline.language import ir
from pipeline.language.check import CheckContext
from pipeline.language.segments import check_document, load_segments
from pipeline.language.source import parse_text

FILE = "segments/example.yaml"
PROPERTIES = frozenset({"site-fr", "site-us", "site-de"})
SAMPLE_ATTRIBUTES = [
    ("organization", "plan", "text"),
    ("organization", "industry", "text"),
    ("organization", "arr", "number"),
    ("organization", "employees", "number"),
    ("organization", "is_customer", "boolean"),
    ("organization", "renewal_date", "date"),
    ("organization", "last_seen_at", "datetime"),
    ("organization", "regions", "list"),
    ("person", "seniority", "text"),
    ("person", "nps", "number"),
    ("person", "is_vip", "boolean"),
    ("person", "birthday", "date"),
    ("person", "last_login_at", "datetime"),
    ("person", "languages", "list"),
]
CTX = CheckContext(
    Catalog.build(
        (
            CustomAttribute(entity, key, kind, key.replace("_", " "), PROPERTIES)
            for entity, key, kind in SAMPLE_ATTRIBUTES
        ),
        ir.rollup_columns(),
    ),
    dt.datetime(2026, 11, 20, 12, 0, tzinfo=dt.UTC),
    zoneinfo.ZoneInfo("UTC"),
)

TEXT_OPERATORS = (
    "text operators: is, is_not, contains, not_contains, starts_with, ends_with, in, not_in, "
    "is_unknown, has_any_value"
)
DURATION_HINT = "write a positive duration like 30d, 2w or 12h"
DATE_HINT = "write a real date like 2026-01-31 or a timestamp like 2026-01-31T09:00:00Z"
YAML_HINT = "check indentation and that every `key: value` has a space after the colon"
COUNT_HINT = "e.g. `count: {gte: 3}`"
CYCLE_HINT = "a segment cannot depend on itself; remove one of these references"


def problems_of(text: str, stem: str = "example", file: str = FILE) -> list[Problem]:
    """Every problem found in one YAML text (a syntax error is the only one then)."""
    root = parse_text(textwrap.dedent(text), file)
    if isinstance(root, Problem):
        return [root]
    collector = ProblemCollector()
    check_document(root, stem, CTX, collector)
    return collector.problems


def only_problem(text: str, stem: str = "example") -> Problem:
    found = problems_of(text, stem)
    assert len(found) == 1, "\n".join(map(str, found))
    return found[0]


def expect(
    text: str, line: int, col: int, message: str, hint: str | None, stem: str = "example"
) -> None:
    problem = only_problem(text, stem)
    assert problem.location == Location(FILE, line, col), str(problem)
    assert problem.message == message
    assert problem.hint == hint


def write(folder: Path, name: str, text: str) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_text(textwrap.dedent(text), encoding="utf-8")


def folder_errors(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, files: dict[str, str]) -> str:
    """The report of ``load_segments`` on a folder of files (``name -> YAML text``)."""
    monkeypatch.chdir(tmp_path)
    for name, text in files.items():
        write(tmp_path / "segments", name, text)
    with pytest.raises(DefinitionError) as raised:
        load_segments(Path("segments"), CTX)
    return str(raised.value)


# -- the sample segments ------------------------------------------------------------------


def test_bundled_segments_check_cleanly() -> None:
    segments = load_segments(Path(__file__).parent.parent / "segments", CTX)
    assert len(segments) >= 12
    assert {s.entity for s in segments} == {"organization", "person"}


# -- YAML itself ---------------------------------------------------------------------------


def test_yaml_syntax_error_points_at_the_break() -> None:
    expect(
        """\
        name: Acme
        where:
          name: { is: acme
        """,
        4,
        1,
        "YAML syntax error: expected ',' or '}', but got '<stream end>'",
        "a flow mapping opened at line 3, column 9 is not closed",
    )


def test_yaml_tab_indentation() -> None:
    problem = only_problem("where:\n\tname: {is: acme}\n")
    assert str(problem) == (
        f"{FILE}:2:1: YAML syntax error: found character '\\t' that cannot start any token\n"
        f"    Hint: {YAML_HINT}"
    )


def test_yaml_bad_list_indentation() -> None:
    expect(
        """\
        where:
          all:
            - name: { is: a }
           - name: { is: b }
        """,
        4,
        4,
        "YAML syntax error: expected <block end>, but found '<block sequence start>'",
        YAML_HINT,
    )


def test_duplicate_key_points_at_the_second_one() -> None:
    expect(
        """\
        where:
          name: { is: acme }
          name: { is: globex }
        """,
        3,
        3,
        "duplicate key 'name' in one mapping",
        "a mapping holds each key once; to combine several conditions use `all:`",
    )


def test_duplicate_top_level_key() -> None:
    expect(
        """\
        name: One
        name: Two
        where: { name: { is: acme } }
        """,
        2,
        1,
        "duplicate key 'name' in one mapping",
        "a mapping holds each key once; to combine several conditions use `all:`",
    )


def test_empty_file() -> None:
    expect("", 1, 1, "the file is empty", "a segment needs at least `where:`")


def test_file_that_is_a_list() -> None:
    expect(
        "- name: { is: acme }\n",
        1,
        1,
        "a segment file must be a mapping (`where:`, `name:`, ...)",
        "start with `where:` followed by a condition",
    )


# -- top level -----------------------------------------------------------------------------


def test_unknown_top_level_key_with_suggestion() -> None:
    expect(
        """\
        name: French partners
        propertes: [site-fr]
        where: { tags: { is: partner } }
        """,
        2,
        1,
        "unknown key 'propertes'",
        "did you mean 'properties'?",
    )


def test_unknown_top_level_key_without_close_match() -> None:
    expect(
        """\
        team: marketing
        where: { tags: { is: partner } }
        """,
        1,
        1,
        "unknown key 'team'",
        "the keys are: id, name, description, entity, properties, where, owner, tags, meta, "
        "enabled",
    )


def test_misspelled_where_is_reported_once() -> None:
    expect(
        "wher: { name: { is: acme } }\n",
        1,
        1,
        "unknown key 'wher'",
        "did you mean 'where'?",
    )


def test_missing_where() -> None:
    expect(
        "name: Acme\n",
        1,
        1,
        "the segment has no `where:`",
        "add `where:` with a condition, e.g. `where: {tags: {contains: vip}}`",
    )


def test_unknown_entity() -> None:
    expect(
        """\
        entity: company
        where: { name: { is: acme } }
        """,
        1,
        9,
        "`entity` must be organization or person, got 'company'",
        "the default is organization",
    )


def test_misspelled_entity_with_suggestion() -> None:
    expect(
        """\
        entity: persn
        where: { name: { is: acme } }
        """,
        1,
        9,
        "`entity` must be organization or person, got 'persn'",
        "did you mean 'person'?",
    )


def test_properties_must_be_a_list() -> None:
    expect(
        """\
        properties: site-fr
        where: { name: { is: acme } }
        """,
        1,
        13,
        "`properties` takes a list of property ids",
        "e.g. `properties: [site-fr]`",
    )


def test_bad_segment_id() -> None:
    expect(
        """\
        id: Premium_France
        where: { name: { is: acme } }
        """,
        1,
        5,
        "`id` 'Premium_France' is not a valid segment id",
        "ids use a-z, 0-9, - and _: premium_france",
    )


def test_bad_file_stem_without_id() -> None:
    expect(
        "where: { name: { is: acme } }\n",
        1,
        1,
        "the file name 'Premium France' is not a valid segment id",
        "rename the file or set `id:` ([a-z0-9][a-z0-9_-]*)",
        stem="Premium France",
    )


def test_bad_file_stem_is_fine_with_an_id() -> None:
    assert (
        problems_of("id: premium-france\nwhere: { name: { is: acme } }\n", "Premium France") == []
    )


# -- attributes and operators --------------------------------------------------------------


def test_misspelled_builtin_attribute() -> None:
    expect(
        """\
        where:
          all:
            - tags: { is: enterprise }
            - job_titel: { contains: cto }
        """,
        4,
        7,
        "unknown attribute 'job_titel'",
        "did you mean 'job_title'?",
    )


def test_misspelled_custom_attribute() -> None:
    expect(
        """\
        where:
          custom.plna: { is: premium }
        """,
        2,
        3,
        "unknown custom organization attribute 'custom.plna'",
        "did you mean 'custom.plan'?",
    )


def test_custom_attribute_of_the_other_entity_lists_the_valid_ones() -> None:
    expect(
        """\
        entity: person
        where:
          custom.plan: { is: premium }
        """,
        3,
        3,
        "unknown custom person attribute 'custom.plan'",
        "custom person attributes are: custom.birthday, custom.is_vip, custom.languages, "
        "custom.last_login_at, custom.nps, custom.seniority",
    )


def test_custom_attribute_missing_in_a_listed_property() -> None:
    expect(
        """\
        properties: [site-fr, site-xx]
        where:
          custom.arr: { gte: 1000 }
        """,
        3,
        3,
        "'custom.arr' is not defined in property site-xx",
        "define it in the attributes table or narrow `properties:`",
    )


def test_unknown_operator_with_suggestion() -> None:
    expect(
        """\
        where:
          name: { contians: acme }
        """,
        2,
        11,
        "unknown operator 'contians'",
        "did you mean 'contains'?",
    )


def test_unknown_operator_without_close_match_lists_the_operators() -> None:
    expect(
        "where: { custom.arr: { approx: 5 } }\n",
        1,
        24,
        "unknown operator 'approx'",
        "number operators: is, is_not, gt, gte, lt, lte, between, is_unknown, has_any_value",
    )


def test_operator_that_does_not_fit_the_type() -> None:
    expect(
        """\
        where:
          name: { gt: 3 }
        """,
        2,
        11,
        "operator 'gt' does not apply to text attribute 'name'",
        TEXT_OPERATORS,
    )


@pytest.mark.parametrize(
    ("condition", "col", "message", "hint"),
    [
        (
            "tags: { starts_with: vip }",
            11,
            "operator 'starts_with' does not apply to list attribute 'tags'",
            "list operators: is, is_not, contains, not_contains, in, not_in, is_unknown, "
            "has_any_value",
        ),
        (
            "custom.is_customer: { contains: yes }",
            25,
            "operator 'contains' does not apply to boolean attribute 'custom.is_customer'",
            "boolean operators: is, is_not, is_unknown, has_any_value",
        ),
        (
            "created_at: { gte: 2026-01-01 }",
            17,
            "operator 'gte' does not apply to datetime attribute 'created_at'",
            "date operators: is, is_not, before, after, between, within_last, more_than_ago, "
            "within_next, is_unknown, has_any_value",
        ),
    ],
)
def test_operator_not_fitting_other_types(
    condition: str, col: int, message: str, hint: str
) -> None:
    expect(f"where:\n  {condition}\n", 2, col, message, hint)


def test_two_operators_in_one_condition() -> None:
    expect(
        """\
        where:
          name: { is: acme, is_not: globex }
        """,
        2,
        9,
        "`name` takes exactly one operator, found 2 (is, is_not)",
        "to combine conditions list them under `all:`",
    )


def test_two_operators_on_a_number_suggest_between() -> None:
    expect(
        """\
        where:
          custom.arr: { gte: 1, lte: 5 }
        """,
        2,
        15,
        "`custom.arr` takes exactly one operator, found 2 (gte, lte)",
        "for a range use `between: [low, high]`; to combine conditions list them under `all:`",
    )


def test_bare_value_instead_of_an_operator() -> None:
    expect(
        "where:\n  name: acme\n",
        2,
        9,
        "`name` needs an operator",
        f"write `name: {{is: acme}}`; {TEXT_OPERATORS}",
    )


# -- values --------------------------------------------------------------------------------


def test_text_where_a_number_is_expected() -> None:
    expect(
        """\
        where:
          custom.arr: { gte: lots }
        """,
        2,
        22,
        "expected a number, got 'lots'",
        "numbers are written like 50000 or 2.5",
    )


def test_number_in_quotes() -> None:
    expect(
        """\
        where:
          custom.arr: { gte: "50000" }
        """,
        2,
        22,
        "expected a number, got '50000'",
        "write 50000 without quotes",
    )


def test_number_with_thousands_separator_in_quotes() -> None:
    expect(
        "where: { custom.arr: { gte: '50,000' } }\n",
        1,
        29,
        "expected a number, got '50,000'",
        "numbers are written like 50000 or 2.5",
    )


def test_non_boolean_for_boolean() -> None:
    expect(
        """\
        where:
          custom.is_customer: { is: yes }
        """,
        2,
        29,
        "expected true or false, got 'yes'",
        "write true or false (yes/no are text here)",
    )


def test_boolean_in_quotes() -> None:
    expect(
        "where: { custom.is_customer: { is: 'true' } }\n",
        1,
        36,
        "expected true or false, got 'true'",
        "remove the quotes: true",
    )


def test_presence_operator_needs_true_or_false() -> None:
    expect(
        "where: { custom.industry: { is_unknown: 1 } }\n",
        1,
        41,
        "expected true or false, got 1",
        "write true or false",
    )


def test_boolean_for_text_suggests_quotes() -> None:
    expect(
        "where: { custom.plan: { is: true } }\n",
        1,
        29,
        "expected text for 'custom.plan', got true",
        "quote it to mean the word: 'true'",
    )


def test_list_for_a_single_text_value() -> None:
    expect(
        "where: { tags: { is: [vip, partner] } }\n",
        1,
        22,
        "expected one text value for 'tags', got a list",
        "to match any of several values use `in: [a, b]`",
    )


def test_bad_date_in_quotes() -> None:
    expect(
        """\
        where:
          custom.renewal_date: { before: "2026-13-01" }
        """,
        2,
        34,
        "expected a date or timestamp, got '2026-13-01'",
        DATE_HINT,
    )


def test_words_instead_of_a_date() -> None:
    expect(
        "where: { created_at: { after: last monday } }\n",
        1,
        31,
        "expected a date or timestamp, got 'last monday'",
        DATE_HINT,
    )


def test_impossible_unquoted_date_is_a_located_problem() -> None:
    expect(
        "where: { custom.renewal_date: { before: 2026-02-30 } }\n",
        1,
        41,
        "expected a date or timestamp, got '2026-02-30'",
        DATE_HINT,
    )


def test_blank_value() -> None:
    expect(
        """\
        where:
          custom.industry: { is: "  " }
        """,
        2,
        26,
        "the value is blank",
        "to find missing values use `is_unknown: true`",
    )


def test_blank_value_inside_an_in_list() -> None:
    expect(
        "where: { tags: { in: [vip, ''] } }\n",
        1,
        28,
        "the value is blank",
        "to find missing values use `is_unknown: true`",
    )


def test_null_value() -> None:
    expect(
        "where: { name: { is: null } }\n",
        1,
        22,
        "expected text for 'name', got null",
        "to find missing values use `is_unknown: true`",
    )


def test_phone_value_without_digits() -> None:
    expect(
        """\
        where:
          primary_phone: { starts_with: "+" }
        """,
        2,
        33,
        "the phone value '+' has no digit",
        "phones are compared on their digits only",
    )


def test_phone_list_value_without_digits() -> None:
    expect(
        "where: { phones: { in: ['+33 1 23', n/a] } }\n",
        1,
        37,
        "the phone value 'n/a' has no digit",
        "phones are compared on their digits only",
    )


def test_empty_in_list() -> None:
    expect(
        """\
        where:
          custom.plan: { in: [] }
        """,
        2,
        22,
        "expected a non-empty list of values",
        "write values as [a, b]; for one value use `is`",
    )


def test_empty_not_in_list() -> None:
    expect(
        "where: { tags: { not_in: [] } }\n",
        1,
        26,
        "expected a non-empty list of values",
        "write values as [a, b]; for one value use `is`",
    )


def test_in_with_a_single_value_instead_of_a_list() -> None:
    expect(
        "where: { custom.plan: { in: premium } }\n",
        1,
        29,
        "expected a non-empty list of values",
        "write [premium], or use `is` for one value",
    )


def test_reversed_number_between() -> None:
    expect(
        """\
        where:
          custom.arr: { between: [100000, 5000] }
        """,
        2,
        26,
        "`between` bounds are reversed: 100000 is after 5000",
        "write [5000, 100000]",
    )


def test_reversed_date_between() -> None:
    expect(
        """\
        where:
          custom.renewal_date: { between: [2027-03-31, 2027-01-01] }
        """,
        2,
        35,
        "`between` bounds are reversed: 2027-03-31 is after 2027-01-01",
        "write [2027-01-01, 2027-03-31]",
    )


def test_equal_between_bounds_are_fine() -> None:
    assert problems_of("where: { created_at: { between: [2026-01-01, 2026-01-01] } }\n") == []
    assert problems_of("where: { custom.arr: { between: [5, 5] } }\n") == []


def test_timestamp_then_same_day_between_is_not_reversed() -> None:
    # A date as upper bound means the end of that day: 10:00 to the end of the same day holds.
    text = "where: { created_at: { between: [2026-01-01T10:00:00Z, 2026-01-01] } }\n"
    assert problems_of(text) == []


def test_timestamp_then_previous_day_between_is_reversed() -> None:
    expect(
        "where: { created_at: { between: [2026-01-01T10:00:00Z, 2025-12-31] } }\n",
        1,
        33,
        "`between` bounds are reversed: 2026-01-01T10:00:00Z is after 2025-12-31",
        "write [2025-12-31, 2026-01-01T10:00:00Z]",
    )


def test_between_with_one_value() -> None:
    expect(
        "where: { custom.employees: { between: [10] } }\n",
        1,
        39,
        "`between` takes two values: [low, high]",
        "e.g. `between: [10, 20]` or `between: [2026-01-01, 2026-03-31]`",
    )


def test_between_with_words_reports_both_bounds() -> None:
    found = problems_of("where: { custom.arr: { between: [low, high] } }\n")
    assert [(p.location.col, p.message) for p in found] == [
        (34, "expected a number, got 'low'"),
        (39, "expected a number, got 'high'"),
    ]


@pytest.mark.parametrize(
    ("duration", "message"),
    [
        ("0d", "a duration must be positive, got '0d'"),
        ("0h", "a duration must be positive, got '0h'"),
        ("-3d", "a duration must be positive, got '-3d'"),
        ("30 dias", "'30 dias' is not a duration"),  # in English words: tests/test_hints.py
        ("3m", "'3m' is not a duration"),
        ("1.5d", "'1.5d' is not a duration"),
        ("30", "a duration needs a unit, got 30"),
    ],
)
def test_bad_durations(duration: str, message: str) -> None:
    expect(
        f"""\
        where:
          updated_at: {{ more_than_ago: {duration} }}
        """,
        2,
        32,
        message,
        DURATION_HINT,
    )


@pytest.mark.parametrize("operator", ["within_last", "more_than_ago", "within_next"])
def test_zero_duration_on_every_relative_operator(operator: str) -> None:
    problem = only_problem(f"where: {{ custom.renewal_date: {{ {operator}: 0w }} }}\n")
    assert problem.message == "a duration must be positive, got '0w'"
    assert problem.location == Location(FILE, 1, 35 + len(operator))


# -- groups and condition shape ------------------------------------------------------------


def test_group_with_an_empty_list() -> None:
    expect(
        """\
        where:
          all:
            - tags: { is: vip }
            - any: []
        """,
        4,
        12,
        "`any:` takes a non-empty list of conditions",
        "write each condition on its own line under `any:`, starting with `- `",
    )


def test_group_with_nothing_under_it() -> None:
    expect(
        "where:\n  none:\n",
        3,
        1,
        "`none:` takes a non-empty list of conditions",
        "write each condition on its own line under `none:`, starting with `- `",
    )


def test_group_with_a_mapping_instead_of_a_list() -> None:
    expect(
        "where:\n  all: { name: { is: acme } }\n",
        2,
        8,
        "`all:` takes a non-empty list of conditions",
        "write each condition on its own line under `all:`, starting with `- `",
    )


def test_mapping_with_two_conditions() -> None:
    expect(
        """\
        where:
          tags: { is: enterprise }
          custom.plan: { is: premium }
        """,
        2,
        3,
        "a condition is a mapping with exactly one key",
        "to require several conditions, list them under `all:`",
    )


def test_empty_list_item_in_a_group() -> None:
    expect(
        """\
        where:
          any:
            - tags: { is: vip }
            -
        """,
        4,
        6,
        "the condition is empty",
        "write a condition, e.g. `name: {contains: acme}`",
    )


# -- timeline, linked contacts, rollup columns ---------------------------------------------


def test_unknown_event_kind_with_suggestion() -> None:
    expect(
        """\
        where:
          all:
            - tags: { is: enterprise }
            - timeline: { kind: chats, count: { gte: 3 }, within_last: 30d }
        """,
        4,
        25,
        "unknown event kind 'chats'",
        "did you mean 'chat'?",
    )


def test_unknown_event_kind_in_a_list_lists_the_kinds() -> None:
    expect(
        "where:\n  timeline: { kind: [chat, emails] }\n",
        2,
        28,
        "unknown event kind 'emails'",
        "kinds: note, chat, ticket, call (or `any`)",
    )


@pytest.mark.parametrize(("count", "shown"), [("1.5", "1.5"), ("-1", "-1"), ("'3'", "'3'")])
def test_count_must_be_a_whole_number(count: str, shown: str) -> None:
    expect(
        f"where:\n  timeline: {{ kind: chat, count: {{ gte: {count} }} }}\n",
        2,
        41,
        f"a count must be a whole number (0 or more), got {shown}",
        COUNT_HINT,
    )


@pytest.mark.parametrize(("count", "digits"), [("9007199254740992", "16"), ("9" * 300, "300")])
def test_count_must_fit_every_engine(count: str, digits: str) -> None:
    expect(
        f"where:\n  people: {{ count: {{ lt: {count} }} }}\n",
        2,
        26,
        f"a count must be at most 9,007,199,254,740,991, got a number of {digits} digits",
        "no organization or person has that many interactions or contacts",
    )


def test_two_windows_in_one_timeline_condition() -> None:
    expect(
        """\
        where:
          timeline: { kind: chat, within_last: 30d, between: [2026-01-01, 2026-02-01] }
        """,
        2,
        45,
        "a timeline condition takes one window",
        "use either `within_last` or `between`",
    )


@pytest.mark.parametrize(
    ("option", "hint"),
    [
        ("within", "did you mean 'within_last'?"),
        ("window", "options: kind, count, within_last, between"),
    ],
)
def test_unknown_timeline_option(option: str, hint: str) -> None:
    expect(
        f"where:\n  timeline: {{ kind: chat, {option}: 30d }}\n",
        2,
        27,
        f"unknown `timeline` option {option!r}",
        hint,
    )


def test_timeline_errors_in_one_pass() -> None:
    found = problems_of(
        "where:\n  timeline: { kind: chats, count: { gte: 1.5 }, within_last: 0d }\n"
    )
    assert [(p.location.line, p.location.col, p.message) for p in found] == [
        (2, 21, "unknown event kind 'chats'"),
        (2, 42, "a count must be a whole number (0 or more), got 1.5"),
        (2, 62, "a duration must be positive, got '0d'"),
    ]


def test_people_condition_on_a_person_segment() -> None:
    expect(
        """\
        entity: person
        where:
          people: { count: { gte: 1 } }
        """,
        3,
        3,
        "`people` conditions apply to organization segments, and this filter is about people",
        "use `organizations:` here",
    )


def test_organizations_condition_on_an_organization_segment() -> None:
    expect(
        "where:\n  organizations: { count: { gte: 1 } }\n",
        2,
        3,
        "`organizations` conditions apply to person segments, and this filter is about "
        "organizations",
        "use `people:` here",
    )


def test_nested_people_filter_uses_person_attributes() -> None:
    expect(
        "where:\n  people: { where: { custom.plan: { is: premium } } }\n",
        2,
        22,
        "unknown custom person attribute 'custom.plan'",
        "custom person attributes are: custom.birthday, custom.is_vip, custom.languages, "
        "custom.last_login_at, custom.nps, custom.seniority",
    )


def test_misspelled_rollup_column_with_suggestion() -> None:
    expect(
        "where:\n  rollup.chat_30d: { gte: 3 }\n",
        2,
        3,
        "unknown rollup column 'rollup.chat_30d'",
        "did you mean 'rollup.chats_30d'?",
    )


def test_unknown_rollup_column_lists_the_columns() -> None:
    expect(
        "where:\n  rollup.visits: { gte: 3 }\n",
        2,
        3,
        "unknown rollup column 'rollup.visits'",
        "rollup columns are <kind>s_7d, _30d, _90d, _total (kinds: note, chat, ticket, call), "
        "first_interaction_at and last_interaction_at",
    )


def test_rollup_column_on_a_person_segment() -> None:
    expect(
        """\
        entity: person
        where:
          rollup.chats_30d: { gte: 3 }
        """,
        3,
        3,
        "'rollup.chats_30d': rollup columns exist on organizations only",
        "on person segments use a `timeline:` condition",
    )


# -- one pass ------------------------------------------------------------------------------


def test_every_error_of_a_file_in_one_pass() -> None:
    text = """\
        name: Many mistakes
        where:
          all:
            - job_titel: { contains: cto }
            - name: { gt: 3 }
            - any:
                - custom.arr: { between: [10, 1] }
                - tags: { in: [] }
            - none:
                - created_at: { within_last: 0d }
                - custom.is_customer: { is: maybe }
            - custom.plna: { is: premium }
        """
    found = problems_of(text)
    assert [(p.location.line, p.location.col, p.message) for p in found] == [
        (4, 7, "unknown attribute 'job_titel'"),
        (5, 15, "operator 'gt' does not apply to text attribute 'name'"),
        (7, 34, "`between` bounds are reversed: 10 is after 1"),
        (8, 23, "expected a non-empty list of values"),
        (10, 38, "a duration must be positive, got '0d'"),
        (11, 37, "expected true or false, got 'maybe'"),
        (12, 7, "unknown custom organization attribute 'custom.plna'"),
    ]


def test_every_error_of_a_folder_in_one_pass(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    write(tmp_path / "segments", "broken-yaml.yaml", "where: { name: { is: acme }\n")
    write(tmp_path / "segments", "bad-operator.yaml", "where:\n  name: { contians: acme }\n")
    write(tmp_path / "segments", "good.yaml", "where:\n  tags: { is: vip }\n")
    with pytest.raises(DefinitionError) as raised:
        load_segments(Path("segments"), CTX)
    assert str(raised.value) == (
        "2 errors in segment definitions:\n"
        "segments/bad-operator.yaml:2:11: unknown operator 'contians'\n"
        "    Hint: did you mean 'contains'?\n"
        "segments/broken-yaml.yaml:2:1: YAML syntax error: expected ',' or '}', "
        "but got '<stream end>'\n"
        "    Hint: a flow mapping opened at line 1, column 8 is not closed"
    )


def test_top_level_and_condition_errors_in_one_pass() -> None:
    found = problems_of("descripton: x\nwhere: { name: { contians: acme } }\n")
    assert [(p.location.line, p.location.col, p.message, p.hint) for p in found] == [
        (1, 1, "unknown key 'descripton'", "did you mean 'description'?"),
        (2, 18, "unknown operator 'contians'", "did you mean 'contains'?"),
    ]


# -- across files --------------------------------------------------------------------------


def test_duplicate_segment_ids_across_files(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    write(tmp_path / "segments", "vip.yaml", "where: { tags: { is: vip } }\n")
    write(
        tmp_path / "segments",
        "vip-copy.yaml",
        """\
        id: vip
        name: VIP (copy)
        where: { custom.is_customer: { is: true } }
        """,
    )
    with pytest.raises(DefinitionError) as raised:
        load_segments(Path("segments"), CTX)
    [problem] = raised.value.problems
    assert problem.location == Location("segments/vip.yaml", 1, 1)
    assert problem.message == "duplicate segment id 'vip'"
    assert problem.hint == "also defined in segments/vip-copy.yaml; ids must be unique"
    assert str(raised.value).startswith("1 error in segment definitions:\n")


def test_bad_file_name_through_load_segments(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    write(tmp_path / "segments", "VIP people.yaml", "where: { tags: { is: vip } }\n")
    with pytest.raises(DefinitionError) as raised:
        load_segments(Path("segments"), CTX)
    assert str(raised.value) == (
        "1 error in segment definitions:\n"
        "segments/VIP people.yaml:1:1: the file name 'VIP people' is not a valid segment id\n"
        "    Hint: rename the file or set `id:` ([a-z0-9][a-z0-9_-]*)"
    )


def test_empty_segments_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "segments").mkdir()
    with pytest.raises(DefinitionError) as raised:
        load_segments(Path("segments"), CTX)
    assert str(raised.value) == (
        "1 error in segment definitions:\n"
        "segments: no segment files (*.yaml) found\n"
        "    Hint: write one segment per .yaml file"
    )


# -- references between segments -----------------------------------------------------------


def test_in_segment_naming_a_missing_segment_with_suggestion(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    report = folder_errors(
        tmp_path,
        monkeypatch,
        {
            "churn-risk.yaml": "where: { tags: { is: churn-risk } }\n",
            "at-risk-enterprise.yaml": """\
                where:
                  all:
                    - tags: { is: enterprise }
                    - in_segment: churn-rsik
                """,
        },
    )
    assert report == (
        "1 error in segment definitions:\n"
        "segments/at-risk-enterprise.yaml:4:19: unknown segment 'churn-rsik'\n"
        "    Hint: did you mean 'churn-risk'?"
    )


@pytest.mark.parametrize(
    ("broken", "its_error"),
    [
        ("where: [unclosed\n", "churn-risk.yaml:2:1: YAML syntax error"),
        ("- a list, not a segment\n", "churn-risk.yaml:1:1: "),
        ("id: churn-risk\nwhere: [unclosed\n", "churn-risk.yaml:3:1: YAML syntax error"),
    ],
    ids=["not-yaml", "not-a-mapping", "named-by-its-id"],
)
def test_in_segment_naming_a_segment_whose_file_is_broken(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, broken: str, its_error: str
) -> None:
    """The reference says the segment's file has errors, not that the segment is unknown
    (which sent users looking for a typo): one cause, reported where it is."""
    report = folder_errors(
        tmp_path,
        monkeypatch,
        {"churn-risk.yaml": broken, "at-risk.yaml": "where: { in_segment: churn-risk }\n"},
    )
    assert report.startswith("2 errors in segment definitions:\n"), report
    assert (
        "segments/at-risk.yaml:1:22: segment 'churn-risk' cannot be used: its file "
        "segments/churn-risk.yaml has errors\n"
        "    Hint: fix that file first (its errors are listed with the others)"
    ) in report
    assert f"\nsegments/{its_error}" in report
    assert "unknown segment" not in report


def test_in_segment_naming_a_missing_segment_without_close_match() -> None:
    expect(
        "where:\n  not_in_segment: competitors\n",
        2,
        19,
        "unknown segment 'competitors'",
        "name a segment of this folder",
    )


def test_reference_to_a_segment_of_the_other_entity(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    report = folder_errors(
        tmp_path,
        monkeypatch,
        {
            "vip-people.yaml": "entity: person\nwhere: { tags: { is: vip } }\n",
            "vip-accounts.yaml": "where:\n  not_in_segment: vip-people\n",
        },
    )
    assert report == (
        "1 error in segment definitions:\n"
        "segments/vip-accounts.yaml:2:19: segment 'vip-people' is a person segment; "
        "this filter is about organizations\n"
        "    Hint: reference a segment of the same entity"
    )


def test_reference_cycle_across_three_files_is_reported_once_with_its_path(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    report = folder_errors(
        tmp_path,
        monkeypatch,
        {
            "a.yaml": "where:\n  in_segment: b\n",
            "b.yaml": "where:\n  all:\n    - tags: { is: vip }\n    - in_segment: c\n",
            "c.yaml": "where:\n  not_in_segment: a\n",
        },
    )
    assert report == (
        "1 error in segment definitions:\n"
        "segments/a.yaml:2:15: segments refer to each other in a cycle: a -> b -> c -> a\n"
        f"    Hint: {CYCLE_HINT}"
    )


def test_segment_that_names_itself() -> None:
    expect(
        "where:\n  any:\n    - tags: { is: vip }\n    - in_segment: example\n",
        4,
        19,
        "segments refer to each other in a cycle: example -> example",
        CYCLE_HINT,
    )


def test_cycle_and_other_errors_in_one_pass(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    report = folder_errors(
        tmp_path,
        monkeypatch,
        {
            "a.yaml": "where:\n  all:\n    - name: { contians: x }\n    - in_segment: b\n",
            "b.yaml": "where:\n  in_segment: a\n",
            "c.yaml": "where:\n  all:\n    - in_segment: a\n    - job_titel: { is: cto }\n",
        },
    )
    assert report == (
        "3 errors in segment definitions:\n"
        "segments/a.yaml:3:15: unknown operator 'contians'\n"
        "    Hint: did you mean 'contains'?\n"
        "segments/a.yaml:4:19: segments refer to each other in a cycle: a -> b -> a\n"
        f"    Hint: {CYCLE_HINT}\n"
        "segments/c.yaml:4:7: unknown attribute 'job_titel'\n"
        "    Hint: did you mean 'job_title'?"
    )


def test_numbers_in_id_name_and_properties_are_taken_as_written(tmp_path: Path) -> None:
    """YAML reads `2024` as a number; where text is expected it is the text as written."""
    root = parse_text("id: 2024\nname: 007\nproperties: [2024]\nwhere: {name: {is: a}}\n", "x.yaml")
    assert not isinstance(root, Problem)
    collector = ProblemCollector()
    segment = check_document(root, "x", CTX, collector)
    assert collector.problems == []
    assert segment is not None
    assert (segment.id, segment.name, segment.properties) == ("2024", "007", ("2024",))


# --- Spark: what the cluster or its memory refuses is a run error, not a bug -----------------


@pytest.mark.parametrize(
    ("raised", "reason"),
    [
        (
            "An error occurred while calling o226.parquet.\n: java.io.IOException: "
            "org.apache.spark.SparkException: Could not allocate memory to grow "
            "BytesToBytesMap.\n\tat org.apache.spark.sql.execution.joins...\nCaused by: ...",
            "Could not allocate memory to grow BytesToBytesMap.",
        ),
        (
            "An error occurred while calling o90.collectToPython.\n: org.apache.spark."
            "SparkException: Job aborted due to stage failure: Total size of serialized "
            "results of 2 tasks (4.2 MiB) is bigger than spark.driver.maxResultSize (4.0 MiB)\n",
            "Total size of serialized results of 2 tasks (4.2 MiB) is bigger than "
            "spark.driver.maxResultSize (4.0 MiB)",
        ),
        (
            "An error occurred while calling o5.sql.\n"
            ": java.lang.OutOfMemoryError: Java heap space",
            "java.lang.OutOfMemoryError: Java heap space",
        ),
    ],
    ids=["hash-table-on-the-driver", "result-too-large", "heap"],
)
def test_a_spark_failure_of_memory_or_of_the_cluster_is_a_run_error(
    raised: str, reason: str
) -> None:
    """Measured at 1M organizations with a 1 GB driver: a broadcast join's hash table did not
    fit (``BytesToBytesMap``) and the run ended in "internal error"; now exit 4, Spark's
    reason and a hint naming the settings."""
    from pipeline.engines.spark import cluster_failures
    from pipeline.errors import RunError

    with pytest.raises(RunError) as caught, cluster_failures():
        raise RuntimeError(raised)
    assert str(caught.value).splitlines()[0] == f"the Spark job failed: {reason}"
    assert "spark.driver.memory" in (caught.value.hint or "")


def test_any_other_spark_error_is_left_alone() -> None:
    from pipeline.engines.spark import cluster_failures

    with pytest.raises(RuntimeError, match="not a memory problem"), cluster_failures():
        raise RuntimeError("AnalysisException: not a memory problem")

"""Hints for the words people type instead of the language's own (``pipeline/language/hints.py``).

Each case is still an error; the hint gives the exact replacement, with the user's attribute
and value. Every test checks the message, the hint and the position (``file:line:col``),
with the helpers and the sample catalog of test_errors.py.
"""

from __future__ import annotations

import pytest
from test_errors import TEXT_OPERATORS, expect, problems_of

from pipeline.language.hints import duration_hint, flow
from pipeline.language.source import parse_text

# -- groups --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("word", "hint"),
    [
        ("and", "`and:` is written `all:` (every condition holds)"),
        ("or", "`or:` is written `any:` (at least one condition holds)"),
        ("either", "`either:` is written `any:` (at least one condition holds)"),
        ("not", "`not:` is written `none:` (no condition holds)"),
    ],
)
def test_group_words_of_other_tools(word: str, hint: str) -> None:
    expect(
        f"""\
        where:
          all:
            - custom.is_customer: {{ is: true }}
            - {word}:
                - tags: {{ is: vip }}
                - tags: {{ is: partner }}
        """,
        4,
        7,
        f"unknown group {word!r}",
        hint,
    )


def test_not_with_one_condition_shows_the_list_to_write() -> None:
    expect(
        "where:\n  not: { custom.plan: { is: free } }\n",
        2,
        3,
        "unknown group 'not'",
        "`not:` is written `none:` (no condition holds), with a list: "
        "`none: [{custom.plan: {is: free}}]`",
    )


def test_conditions_under_a_misnamed_group_are_checked_too() -> None:
    found = problems_of("where:\n  or:\n    - job_titel: { is: cto }\n    - tags: { is: vip }\n")
    assert [(p.location.line, p.location.col, p.message) for p in found] == [
        (2, 3, "unknown group 'or'"),
        (3, 7, "unknown attribute 'job_titel'"),
    ]


def test_misspelled_group_still_gets_did_you_mean() -> None:
    expect(
        "where:\n  al:\n    - tags: { is: vip }\n",
        2,
        3,
        "unknown attribute 'al'",
        "did you mean 'all'?",
    )


# -- operators -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("word", "written", "col"),
    [
        ("equals", "equals", 25),
        ("eq", "eq", 25),
        ("=", "=", 25),
        ("==", "==", 25),
        ("Equals", "Equals", 25),
        ("'='", "=", 25),
    ],
)
def test_equality_words_are_is(word: str, written: str, col: int) -> None:
    expect(
        f"where: {{ custom.plan: {{ {word}: premium }} }}\n",
        1,
        col,
        f"unknown operator {written!r}",
        f"`{written}` is written `is`: `custom.plan: {{is: premium}}`",
    )


@pytest.mark.parametrize("word", ["'!='", "not_equals"])
def test_inequality_words_are_is_not(word: str) -> None:
    written = word.strip("'")
    expect(
        f"where:\n  custom.industry:\n    {word}: education\n",
        3,
        5,
        f"unknown operator {written!r}",
        f"`{written}` is written `is_not`: `custom.industry: {{is_not: education}}`",
    )


@pytest.mark.parametrize(
    ("symbol", "operator"), [(">", "gt"), (">=", "gte"), ("<", "lt"), ("<=", "lte")]
)
def test_comparison_symbols_on_numbers(symbol: str, operator: str) -> None:
    expect(
        f"where: {{ custom.arr: {{ '{symbol}': 50000 }} }}\n",
        1,
        24,
        f"unknown operator {symbol!r}",
        f"`{symbol}` is written `{operator}`: `custom.arr: {{{operator}: 50000}}`",
    )


def test_comparison_symbol_on_text_says_the_operator_does_not_apply() -> None:
    expect(
        "where: { name: { '>': m } }\n",
        1,
        18,
        "unknown operator '>'",
        f"`>` is written `gt`, which does not apply to text attribute 'name'; {TEXT_OPERATORS}",
    )


def test_comparison_symbol_on_a_date_is_after() -> None:
    expect(
        "where: { created_at: { '>': 2026-01-01 } }\n",
        1,
        24,
        "unknown operator '>'",
        "`>` is written `after` on dates: `created_at: {after: 2026-01-01}`",
    )


def test_inclusive_comparison_on_a_day_gives_the_exact_bound() -> None:
    expect(
        "where: { custom.renewal_date: { '>=': 2027-01-01 } }\n",
        1,
        33,
        "unknown operator '>='",
        "`>=` is written `after` on dates: `custom.renewal_date: {after: 2026-12-31}`",
    )
    expect(
        "where: { custom.renewal_date: { '<=': 2027-03-31 } }\n",
        1,
        33,
        "unknown operator '<='",
        "`<=` is written `before` on dates: `custom.renewal_date: {before: 2027-04-01}`",
    )


def test_inclusive_comparison_on_an_instant_says_after_is_strict() -> None:
    expect(
        "where: { created_at: { '>=': 2026-01-01T09:00:00Z } }\n",
        1,
        24,
        "unknown operator '>='",
        '`>=` is written `after` on dates: `created_at: {after: "2026-01-01T09:00:00Z"}` '
        "(`after` is strict)",
    )


def test_includes_on_text_is_contains() -> None:
    expect(
        "where: { job_title: { includes: chief } }\n",
        1,
        23,
        "unknown operator 'includes'",
        "`includes` is written `contains`: `job_title: {contains: chief}`",
    )


def test_includes_on_a_list_is_contains_and_mentions_is() -> None:
    expect(
        "where: { tags: { includes: vip } }\n",
        1,
        18,
        "unknown operator 'includes'",
        "`includes` is written `contains`: `tags: {contains: vip}` (an element containing it; "
        "for an element equal to it, `is: vip`)",
    )


@pytest.mark.parametrize("word", ["contains any", "contains_any", "Contains-Any"])
def test_contains_any_on_a_list_is_in(word: str) -> None:
    expect(
        f"where: {{ tags: {{ {word}: [vip, partner] }} }}\n",
        1,
        18,
        f"unknown operator {word!r}",
        f"`{word}` is written `in` on lists: `tags: {{in: [vip, partner]}}`",
    )


def test_contains_any_with_one_value_on_a_list() -> None:
    expect(
        "where: { custom.regions: { contains_any: emea } }\n",
        1,
        28,
        "unknown operator 'contains_any'",
        "`contains_any` is written `in` on lists: `custom.regions: {in: [emea]}`",
    )


def test_contains_any_on_text_is_any_of_contains() -> None:
    expect(
        "where: { job_title: { contains_any: [cto, 'chief technology'] } }\n",
        1,
        23,
        "unknown operator 'contains_any'",
        "for text containing any of them write `any: [{job_title: {contains: cto}}, "
        "{job_title: {contains: chief technology}}]`; for text equal to one of them, "
        "`job_title: {in: [cto, chief technology]}`",
    )


def test_contains_any_with_one_value_on_text_is_contains() -> None:
    expect(
        "where: { name: { contains any: acme } }\n",
        1,
        18,
        "unknown operator 'contains any'",
        "`contains any` is written `contains`: `name: {contains: acme}`",
    )


@pytest.mark.parametrize(("word", "operator"), [("one_of", "in"), ("none_of", "not_in")])
def test_one_of_words_are_in(word: str, operator: str) -> None:
    expect(
        f"where: {{ custom.plan: {{ {word}: premium }} }}\n",
        1,
        25,
        f"unknown operator {word!r}",
        f"`{word}` is written `{operator}`: `custom.plan: {{{operator}: [premium]}}`",
    )


def test_operator_synonym_keeps_the_value_as_written() -> None:
    expect(
        'where: { primary_phone: { equals: "+33 1 84 88 00 00" } }\n',
        1,
        27,
        "unknown operator 'equals'",
        '`equals` is written `is`: `primary_phone: {is: "+33 1 84 88 00 00"}`',
    )


# -- counts --------------------------------------------------------------------------------


def test_bare_count_on_the_timeline() -> None:
    expect(
        "where:\n  timeline: { kind: chat, count: 3, within_last: 30d }\n",
        2,
        34,
        "`count` takes one operator, like `{gte: 3}`",
        "write `count: {gte: 3}` (3 or more) or `count: {is: 3}` (exactly 3)",
    )


def test_bare_count_of_zero() -> None:
    expect(
        "where:\n  timeline: { kind: chat, count: 0 }\n",
        2,
        34,
        "`count` takes one operator, like `{gte: 3}`",
        "write `count: {is: 0}` (none at all)",
    )


def test_bare_count_on_linked_people() -> None:
    expect(
        """\
        where:
          people:
            count: 2
            where: { job_title: { is: cto } }
        """,
        3,
        12,
        "`count` takes one operator, like `{gte: 3}`",
        "write `count: {gte: 2}` (2 or more) or `count: {is: 2}` (exactly 2)",
    )


@pytest.mark.parametrize(
    ("text", "operator"), [("'>= 3'", "gte"), ("'3+'", "gte"), ("'< 3'", "lt")]
)
def test_count_written_as_a_comparison(text: str, operator: str) -> None:
    expect(
        f"where: {{ timeline: {{ count: {text} }} }}\n",
        1,
        29,
        "`count` takes one operator, like `{gte: 3}`",
        f"write `count: {{{operator}: 3}}`",
    )


@pytest.mark.parametrize(
    ("word", "operator"), [("'>='", "gte"), ("at_least", "gte"), ("'<'", "lt")]
)
def test_count_operator_words(word: str, operator: str) -> None:
    written = word.strip("'")
    expect(
        f"entity: person\nwhere: {{ organizations: {{ count: {{ {word}: 2 }} }} }}\n",
        2,
        36,
        f"unknown count operator {written!r}",
        f"`{written}` is written `{operator}`: `count: {{{operator}: 2}}`",
    )


# -- durations -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("written", "hint"),
    [
        ("60 days", "`60 days` is written `60d`"),
        ("1 day", "`1 day` is written `1d`"),
        ("2 weeks", "`2 weeks` is written `2w`"),
        ("2 Weeks", "`2 Weeks` is written `2w`"),
        ("48 hours", "`48 hours` is written `48h`"),
        ("30D", "`30D` is written `30d`"),
        ("3 months", "months are not a unit: write `90d` (30 days a month)"),
        ("1 year", "years are not a unit: write `365d` (365 days a year) or `52w`"),
        ("120 minutes", "minutes are not a unit: write `2h`"),
        ("90 min", "minutes are not a unit: write `2h` (the smallest unit is the hour)"),
    ],
)
def test_durations_in_words(written: str, hint: str) -> None:
    expect(
        f"where:\n  custom.last_seen_at: {{ more_than_ago: {written} }}\n",
        2,
        41,
        f"{written!r} is not a duration",
        hint,
    )


def test_duration_in_words_on_the_timeline() -> None:
    expect(
        "where:\n  timeline: { kind: chat, count: { is: 0 }, within_last: 60 days }\n",
        2,
        58,
        "'60 days' is not a duration",
        "`60 days` is written `60d`",
    )


def test_duration_in_words_next_to_an_unknown_timeline_option() -> None:
    found = problems_of("where:\n  timeline: { kinds: chat, within_last: 2 weeks }\n")
    assert [(p.location.col, p.message, p.hint) for p in found] == [
        (15, "unknown `timeline` option 'kinds'", "did you mean 'kind'?"),
        (41, "'2 weeks' is not a duration", "`2 weeks` is written `2w`"),
    ]


@pytest.mark.parametrize("text", ["0 days", "1.5 days", "3m", "soon", "30"])
def test_no_word_hint_where_there_is_no_exact_replacement(text: str) -> None:
    assert duration_hint(text) is None


# -- the rendering of values ---------------------------------------------------------------


def test_values_are_shown_as_they_can_be_pasted() -> None:
    root = parse_text(
        'x: [acme, "a: b", "50000", 2026-01-01, "yes", "#tag", a b, 0612345678, "[x]"]\n', "f"
    )
    assert not isinstance(root, Exception)
    value = root.get("x")
    assert value is not None
    assert flow(value) == (
        '[acme, "a: b", "50000", 2026-01-01, "yes", "#tag", a b, 0612345678, "[x]"]'
    )

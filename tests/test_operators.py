"""Every operator of SPEC section 3 on every attribute type, on both engines.

Each family of attributes (text, phone, list, list of phones, number, boolean, datetime, date)
has its own small dataset: entity ids mapped to one raw value, written both to a built-in
column (organizations and people) and to a custom attribute (``attribute_values``), so that
every case runs on built-in and custom attributes, for organizations and for people. Every
case states the exact ids SPEC says match; the negative forms (``is_not``, ``not_contains``,
``not_in``) are checked against the exact complement, and ``is_unknown`` / ``has_any_value``
against the family's unknown ids.

The data and the values are full of traps: null, "", blanks of tabs, newlines and non-breaking
spaces, case, accents (É matches é, e does not), the LIKE wildcards ``%`` and ``_``, regex
metacharacters, both quotes, backslashes and SQL fragments, which must all match literally.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from engine_helpers import (
    AS_OF,
    ENGINES,
    Dataset,
    Member,
    expect,
    midnight_utc,
    segment_yaml,
    utc,
)


@pytest.fixture(params=ENGINES, scope="module")
def engine(request: pytest.FixtureRequest) -> str:
    """Every behaviour test runs once per engine."""
    return str(request.param)


P1 = "p1"
SQL_OR = "x' OR '1'='1"
SQL_DROP = "'; DROP TABLE organizations; --"


# -- cases -------------------------------------------------------------------------------------

NEGATION = {"is": "is_not", "contains": "not_contains", "in": "not_in"}


@dataclass(frozen=True)
class Case:
    """One ``{op: value}`` and the ids SPEC says it matches (for one clock and timezone)."""

    name: str
    op: str
    value: object
    expected: frozenset[str]
    as_of: dt.datetime = AS_OF
    tz: str = "UTC"


def build_cases(
    positives: Sequence[tuple[str, str, object, set[str]]],
    every: Iterable[str],
    unknown: Iterable[str],
    *,
    as_of: dt.datetime = AS_OF,
    tz: str = "UTC",
    presence: bool = True,
) -> list[Case]:
    """The positive cases, their negations (the exact complement) and the presence operators."""
    every, unknown = frozenset(every), frozenset(unknown)
    assert unknown <= every
    cases = []
    for name, op, value, ids in positives:
        assert ids <= every - unknown, f"{name}: a positive operator matched an unknown id"
        cases.append(Case(name, op, value, frozenset(ids), as_of, tz))
        if op in NEGATION:
            cases.append(Case(f"{name}-NOT", NEGATION[op], value, every - ids, as_of, tz))
    if presence:
        cases += [
            Case("is_unknown-true", "is_unknown", True, unknown, as_of, tz),
            Case("is_unknown-false", "is_unknown", False, every - unknown, as_of, tz),
            Case("has_any_value-true", "has_any_value", True, every - unknown, as_of, tz),
            Case("has_any_value-false", "has_any_value", False, unknown, as_of, tz),
        ]
    names = [c.name for c in cases]
    assert len(names) == len(set(names)), "duplicate case names"
    return cases


def assert_members(got: set[Member], expected: set[Member], what: str) -> None:
    missing, extra = sorted(expected - got), sorted(got - expected)
    assert got == expected, f"{what}\n  missing: {missing}\n  unexpected: {extra}"


def check_case(
    engine: str,
    data: Dataset,
    family: str,
    target: tuple[str, str],
    cases: Sequence[Case],
    case: Case,
) -> None:
    """Evaluate all ``cases`` of one clock as one batch (cached) and check ``case`` in it."""
    entity, attribute = target
    batch = {
        f"c{index:03d}": c
        for index, c in enumerate(cases)
        if (c.as_of, c.tz) == (case.as_of, case.tz)
    }
    wheres = {sid: {attribute: {c.op: c.value}} for sid, c in batch.items()}
    (segment_id,) = (sid for sid, c in batch.items() if c is case)
    got = data.batch_members(
        engine,
        f"{family}:{attribute}",
        wheres,
        segment_id,
        entity=entity,
        as_of=case.as_of,
        tz=case.tz,
    )
    what = (
        f"[{engine}] {entity} {attribute}: {{{case.op}: {case.value!r}}} "
        f"(as_of {case.as_of.isoformat()}, {case.tz})"
    )
    assert_members(got, expect(segment_id, P1, case.expected), what)


# -- datasets ----------------------------------------------------------------------------------

VALUE_COLUMN = {
    "text": "value_text",
    "list": "value_list",
    "number": "value_number",
    "boolean": "value_boolean",
    "datetime": "value_datetime",
    "date": "value_datetime",
}


def family_tables(
    values: Mapping[str, Any],
    *,
    builtin: Sequence[str] = (),
    custom: Mapping[str, str] | None = None,
    no_row: Iterable[str] = (),
) -> dict[str, list[dict[str, Any]]]:
    """Organizations and people with the ids of ``values``, each holding its value.

    ``builtin`` columns hold the raw value on both tables; each ``custom`` key (-> its type)
    is defined for both entities in property ``p1`` and holds the value in
    ``attribute_values`` (``date`` values, given as ISO days, stored as midnight UTC), except
    for the ids in ``no_row``, which have no row at all (the others with ``None`` have an
    explicit null row).
    """
    skipped = set(no_row)
    organizations, people, attributes, attribute_values = [], [], [], []
    for eid, value in values.items():
        organizations.append({"property_id": P1, "org_id": eid, **dict.fromkeys(builtin, value)})
        people.append({"property_id": P1, "person_id": eid, **dict.fromkeys(builtin, value)})
    for key, kind in (custom or {}).items():
        for entity in ("organization", "person"):
            attributes.append(
                {"property_id": P1, "entity": entity, "key": key, "label": key, "type": kind}
            )
            for eid, value in values.items():
                if eid in skipped:
                    continue
                stored = midnight_utc(value) if kind == "date" and value is not None else value
                attribute_values.append(
                    {
                        "property_id": P1,
                        "entity": entity,
                        "entity_id": eid,
                        "key": key,
                        VALUE_COLUMN[kind]: stored,
                    }
                )
    return {
        "organizations": organizations,
        "people": people,
        "attributes": attributes,
        "attribute_values": attribute_values,
    }


def ids_of(values: Mapping[str, Any]) -> set[str]:
    return set(values)


# -- text --------------------------------------------------------------------------------------

TEXT_VALUES: dict[str, str | None] = {
    "t01": None,
    "t02": "",
    "t03": "   ",
    "t04": "\t\n\u00a0 \r",
    "t05": "Acme",
    "t06": "  ACME\t",
    "t07": "\u00a0acme corp\n",
    "t08": "École",
    "t09": "ecole",
    "t10": "ÉCOLE Normale",
    "t11": "100% pure",
    "t12": "1000 pure",
    "t13": "a_b.c*d",
    "t14": "a_bxd",
    "t15": "O'Reilly",
    "t16": 'say "hi"',
    "t17": SQL_OR,
    "t18": SQL_DROP,
    "t19": "75001",
    "t20": "Paris 75001",
    "t21": "none",
    "t22": "back\\slash",
    "t23": "a+b (c) [d] ^$|?",
    "t24": None,
    "t25": "axbyc",
    "t26": "ΟΔΟΣ",
    "t27": "οδος",
}
TEXT_UNKNOWN = {"t01", "t02", "t03", "t04", "t24"}

TEXT_POSITIVE: list[tuple[str, str, object, set[str]]] = [
    ("is-acme", "is", "acme", {"t05", "t06"}),
    ("is-padded-upper", "is", "  ACME \t", {"t05", "t06"}),
    ("is-nbsp-padded", "is", "\u00a0Acme\u00a0", {"t05", "t06"}),
    ("is-inner-space", "is", "acme corp", {"t07"}),
    ("is-double-inner-space", "is", "acme  corp", set()),
    ("is-accent-upper", "is", "ÉCOLE", {"t08"}),
    ("is-accent-lower", "is", "école", {"t08"}),
    ("is-plain-e", "is", "ecole", {"t09"}),
    ("is-sql-or", "is", SQL_OR, {"t17"}),
    ("is-sql-drop", "is", SQL_DROP, {"t18"}),
    ("is-single-quote", "is", "o'reilly", {"t15"}),
    ("is-double-quote", "is", 'SAY "HI"', {"t16"}),
    ("is-number", "is", 75001, {"t19"}),
    ("is-percent", "is", "%", set()),
    ("is-underscore-like", "is", "a_b_c*d", set()),
    ("is-null-word", "is", "null", set()),
    ("is-none-word", "is", "none", {"t21"}),
    ("is-backslash", "is", "BACK\\SLASH", {"t22"}),
    ("is-greek-upper", "is", "ΟΔΟΣ", {"t26", "t27"}),
    ("is-greek-final-sigma", "is", "οδος", {"t26", "t27"}),
    ("contains-acme", "contains", "acme", {"t05", "t06", "t07"}),
    ("contains-greek", "contains", "ΔΟΣ", {"t26", "t27"}),
    ("contains-accent-upper", "contains", "É", {"t08", "t10"}),
    ("contains-plain-e-word", "contains", "ecole", {"t09"}),
    ("contains-percent", "contains", "%", {"t11"}),
    ("contains-100-percent", "contains", "100%", {"t11"}),
    ("contains-underscore", "contains", "_", {"t13", "t14"}),
    ("contains-a_b", "contains", "a_b", {"t13", "t14"}),
    ("contains-regex-like", "contains", "a_b.c*d", {"t13"}),
    ("contains-dot", "contains", ".", {"t13"}),
    ("contains-star", "contains", "*", {"t13"}),
    ("contains-single-quote", "contains", "'", {"t15", "t17", "t18"}),
    ("contains-double-quote", "contains", '"', {"t16"}),
    ("contains-sql-or", "contains", SQL_OR, {"t17"}),
    ("contains-sql-drop", "contains", "DROP TABLE organizations;", {"t18"}),
    ("contains-backslash", "contains", "\\", {"t22"}),
    ("contains-regex-meta", "contains", "(c) [d] ^$|?", {"t23"}),
    ("contains-number", "contains", 75001, {"t19", "t20"}),
    ("contains-padded", "contains", "  corp\n", {"t07"}),
    ("contains-non", "contains", "non", {"t21"}),
    ("contains-nul", "contains", "nul", set()),
    ("starts_with-acme", "starts_with", "ACME", {"t05", "t06", "t07"}),
    ("starts_with-percent", "starts_with", "%", set()),
    ("starts_with-100-percent", "starts_with", "100%", {"t11"}),
    ("starts_with-underscore", "starts_with", "_", set()),
    ("starts_with-a_b", "starts_with", "a_b", {"t13", "t14"}),
    ("starts_with-quote", "starts_with", "'", {"t18"}),
    ("starts_with-accent", "starts_with", "é", {"t08", "t10"}),
    ("starts_with-plain-e", "starts_with", "e", {"t09"}),
    ("starts_with-sql", "starts_with", "x'", {"t17"}),
    ("starts_with-regex-meta", "starts_with", "a+b (", {"t23"}),
    ("starts_with-number", "starts_with", 75001, {"t19"}),
    ("ends_with-corp", "ends_with", "Corp", {"t07"}),
    ("ends_with-ole", "ends_with", "OLE", {"t08", "t09"}),
    ("ends_with-dashes", "ends_with", "--", {"t18"}),
    ("ends_with-quote-1", "ends_with", "'1", {"t17"}),
    ("ends_with-star-d", "ends_with", "*d", {"t13"}),
    ("ends_with-regex-meta", "ends_with", "^$|?", {"t23"}),
    ("ends_with-double-quote", "ends_with", 'hi"', {"t16"}),
    ("ends_with-number", "ends_with", 75001, {"t19", "t20"}),
    ("ends_with-percent", "ends_with", "%", set()),
    ("ends_with-sigma", "ends_with", "Σ", {"t26", "t27"}),
    ("ends_with-final-sigma", "ends_with", "ς", {"t26", "t27"}),
    ("in-mixed", "in", ["acme", "ÉCOLE", SQL_OR], {"t05", "t06", "t08", "t17"}),
    ("in-wildcards", "in", ["%", "_", "a_b%", ".*"], set()),
    ("in-numbers", "in", [75001, 12], {"t19"}),
    (
        "in-many",
        "in",
        ["o'reilly", 'say "hi"', SQL_DROP, "none", "back\\slash", "nothing"],
        {"t15", "t16", "t18", "t21", "t22"},
    ),
    ("in-padded", "in", ["  acme corp ", "\tnone\n"], {"t07", "t21"}),
]
TEXT_CASES = build_cases(TEXT_POSITIVE, TEXT_VALUES, TEXT_UNKNOWN)
TEXT_TARGETS = [
    ("organization", "name"),
    ("organization", "custom.ctext"),
    ("person", "job_title"),
    ("person", "custom.ctext"),
]


@pytest.fixture(scope="module")
def text_data(tmp_path_factory: pytest.TempPathFactory) -> Dataset:
    tables = family_tables(
        TEXT_VALUES, builtin=["name", "job_title"], custom={"ctext": "text"}, no_row=["t01"]
    )
    return Dataset.write(tmp_path_factory.mktemp("text"), tables)


@pytest.mark.parametrize("target", TEXT_TARGETS, ids="/".join)
@pytest.mark.parametrize("case", TEXT_CASES, ids=lambda c: c.name)
def test_text(engine: str, text_data: Dataset, target: tuple[str, str], case: Case) -> None:
    check_case(engine, text_data, "text", target, TEXT_CASES, case)


# -- phone -------------------------------------------------------------------------------------

PHONE_VALUES: dict[str, str | None] = {
    "h01": None,
    "h02": "",
    "h03": "  \t",
    "h04": "+-() .",
    "h05": "abc",
    "h06": "+33 (0)1 23 45 67 89",
    "h07": "01.23.45.67.89",
    "h08": "0123456789",
    "h09": "+1-555-0100",
    "h10": " 555 0100 ext. 7",
    "h11": SQL_OR,
    "h12": "tel: 75001",
}
PHONE_UNKNOWN = {"h01", "h02", "h03", "h04", "h05"}
PHONE_POSITIVE: list[tuple[str, str, object, set[str]]] = [
    ("is-digits", "is", "0123456789", {"h07", "h08"}),
    ("is-spaced", "is", "01 23 45 67 89", {"h07", "h08"}),
    ("is-without-trunk-zero", "is", "+33 1 23 45 67 89", set()),
    ("is-formatted", "is", "+33 (0)1 23 45 67 89", {"h06"}),
    ("is-number", "is", 15550100, {"h09"}),
    ("is-sql", "is", SQL_OR, {"h11"}),
    ("contains-0123", "contains", "0123", {"h06", "h07", "h08"}),
    ("contains-formatted", "contains", "+33 (0)1 23", {"h06"}),
    ("contains-(0)1", "contains", "(0)1", {"h06", "h07", "h08", "h09", "h10", "h12"}),
    ("contains-number", "contains", 75001, {"h12"}),
    ("contains-5550100", "contains", "555-0100", {"h09", "h10"}),
    ("starts_with-+33", "starts_with", "+33", {"h06"}),
    ("starts_with-0", "starts_with", "0", {"h07", "h08"}),
    ("starts_with-+1", "starts_with", "+1", {"h09", "h11"}),
    ("ends_with-0100", "ends_with", "0100", {"h09"}),
    ("ends_with--89", "ends_with", "-89", {"h06", "h07", "h08"}),
    ("ends_with-7", "ends_with", "7", {"h10"}),
    ("in-two", "in", ["0123456789", "+1 555 0100"], {"h07", "h08", "h09"}),
    ("in-many", "in", ["11", 75001, "999", "1", "2", "3"], {"h11", "h12"}),
]
PHONE_CASES = build_cases(PHONE_POSITIVE, PHONE_VALUES, PHONE_UNKNOWN)
PHONE_TARGETS = [("organization", "primary_phone"), ("person", "primary_phone")]


@pytest.fixture(scope="module")
def phone_data(tmp_path_factory: pytest.TempPathFactory) -> Dataset:
    tables = family_tables(PHONE_VALUES, builtin=["primary_phone"])
    return Dataset.write(tmp_path_factory.mktemp("phone"), tables)


@pytest.mark.parametrize("target", PHONE_TARGETS, ids="/".join)
@pytest.mark.parametrize("case", PHONE_CASES, ids=lambda c: c.name)
def test_phone(engine: str, phone_data: Dataset, target: tuple[str, str], case: Case) -> None:
    check_case(engine, phone_data, "phone", target, PHONE_CASES, case)


# -- list of text ------------------------------------------------------------------------------

LIST_VALUES: dict[str, list[str | None] | None] = {
    "l01": None,
    "l02": [],
    "l03": [None],
    "l04": ["", "  ", None, "\t\u00a0\n"],
    "l05": ["VIP", "Enterprise"],
    "l06": [" vip ", None, ""],
    "l07": ["École", SQL_OR],
    "l08": ["ecole", "100%"],
    "l09": ["a_b", SQL_DROP],
    "l10": ["Enterprise Plus"],
    "l11": ["vip", "VIP"],
    "l12": ["none"],
    "l13": ["75001", "a.b*c"],
    "l14": None,
    "l15": ['say "hi"', "O'Reilly"],
    "l16": ["axb"],
}
LIST_UNKNOWN = {"l01", "l02", "l03", "l04", "l14"}
LIST_POSITIVE: list[tuple[str, str, object, set[str]]] = [
    ("is-vip", "is", "vip", {"l05", "l06", "l11"}),
    ("is-padded-upper", "is", " VIP\t", {"l05", "l06", "l11"}),
    ("is-enterprise", "is", "enterprise", {"l05"}),
    ("is-accent-lower", "is", "école", {"l07"}),
    ("is-accent-upper", "is", "ÉCOLE", {"l07"}),
    ("is-plain-e", "is", "ecole", {"l08"}),
    ("is-sql-or", "is", SQL_OR, {"l07"}),
    ("is-sql-drop", "is", SQL_DROP, {"l09"}),
    ("is-none-word", "is", "none", {"l12"}),
    ("is-null-word", "is", "null", set()),
    ("is-number", "is", 75001, {"l13"}),
    ("is-percent", "is", "%", set()),
    ("is-quotes", "is", 'SAY "hi"', {"l15"}),
    ("contains-enterprise", "contains", "enterprise", {"l05", "l10"}),
    ("contains-vi", "contains", "vi", {"l05", "l06", "l11"}),
    ("contains-percent", "contains", "%", {"l08"}),
    ("contains-underscore", "contains", "_", {"l09"}),
    ("contains-a_b", "contains", "a_b", {"l09"}),
    ("contains-dot", "contains", ".", {"l13"}),
    ("contains-star", "contains", "*", {"l13"}),
    ("contains-single-quote", "contains", "'", {"l07", "l09", "l15"}),
    ("contains-double-quote", "contains", '"', {"l15"}),
    ("contains-accent-upper", "contains", "É", {"l07"}),
    ("contains-plain-e-word", "contains", "ecole", {"l08"}),
    ("contains-sql-drop", "contains", "DROP TABLE", {"l09"}),
    ("contains-nul", "contains", "nul", set()),
    ("contains-number", "contains", 750, {"l13"}),
    ("in-two", "in", ["vip", "ecole"], {"l05", "l06", "l08", "l11"}),
    ("in-sql", "in", [SQL_OR, SQL_DROP], {"l07", "l09"}),
    ("in-five", "in", ["a", "b", "c", "d", "enterprise plus"], {"l10"}),
    ("in-wildcards", "in", ["%", "_", "a%", ".*", "null", "none"], {"l12"}),
    (
        "in-mixed-many",
        "in",
        ["ÉCOLE", "100%", "o'reilly", "nothing", "x", "y"],
        {"l07", "l08", "l15"},
    ),
]
LIST_CASES = build_cases(LIST_POSITIVE, LIST_VALUES, LIST_UNKNOWN)
LIST_TARGETS = [
    ("organization", "tags"),
    ("organization", "custom.clist"),
    ("person", "emails"),
    ("person", "custom.clist"),
]


@pytest.fixture(scope="module")
def list_data(tmp_path_factory: pytest.TempPathFactory) -> Dataset:
    tables = family_tables(
        LIST_VALUES, builtin=["tags", "emails"], custom={"clist": "list"}, no_row=["l01"]
    )
    return Dataset.write(tmp_path_factory.mktemp("list"), tables)


@pytest.mark.parametrize("target", LIST_TARGETS, ids="/".join)
@pytest.mark.parametrize("case", LIST_CASES, ids=lambda c: c.name)
def test_list(engine: str, list_data: Dataset, target: tuple[str, str], case: Case) -> None:
    check_case(engine, list_data, "list", target, LIST_CASES, case)


# -- list of phones ----------------------------------------------------------------------------

PHONES_VALUES: dict[str, list[str | None] | None] = {
    "f01": None,
    "f02": [],
    "f03": ["abc", "  ", None, "+()"],
    "f04": ["+33 (0)1 23 45", "---"],
    "f05": ["0123", "555-0100"],
    "f06": [SQL_OR],
}
PHONES_UNKNOWN = {"f01", "f02", "f03"}
PHONES_POSITIVE: list[tuple[str, str, object, set[str]]] = [
    ("is-digits", "is", "0123", {"f05"}),
    ("is-formatted", "is", "+33 (0)1 23 45", {"f04"}),
    ("is-spaced", "is", "33 01 23 45", {"f04"}),
    ("is-number", "is", 5550100, {"f05"}),
    ("contains-0123", "contains", "0123", {"f04", "f05"}),
    ("contains-(0)1", "contains", "(0)1", {"f04", "f05"}),
    ("in-two", "in", ["555.01.00", "999"], {"f05"}),
    ("in-five", "in", ["11", "1", "2", "3", "4"], {"f06"}),
]
PHONES_CASES = build_cases(PHONES_POSITIVE, PHONES_VALUES, PHONES_UNKNOWN)
PHONES_TARGETS = [("organization", "phones"), ("person", "phones")]


@pytest.fixture(scope="module")
def phones_data(tmp_path_factory: pytest.TempPathFactory) -> Dataset:
    return Dataset.write(
        tmp_path_factory.mktemp("phones"), family_tables(PHONES_VALUES, builtin=["phones"])
    )


@pytest.mark.parametrize("target", PHONES_TARGETS, ids="/".join)
@pytest.mark.parametrize("case", PHONES_CASES, ids=lambda c: c.name)
def test_phone_list(engine: str, phones_data: Dataset, target: tuple[str, str], case: Case) -> None:
    check_case(engine, phones_data, "phones", target, PHONES_CASES, case)


# -- number ------------------------------------------------------------------------------------

NUMBER_VALUES: dict[str, float | None] = {
    "n01": None,  # no row at all
    "n02": None,  # an explicit null row
    "n03": math.nan,
    "n04": 0.0,
    "n05": -1.5,
    "n06": 10.0,
    "n07": 10.5,
    "n08": 100.0,
    "n09": 30.0,
    "n10": 1e12,
    "n11": -0.0,
    "n12": math.inf,
    "n13": 9.999999,
}
NUMBER_UNKNOWN = {"n01", "n02", "n03"}
NUMBER_POSITIVE: list[tuple[str, str, object, set[str]]] = [
    ("is-10", "is", 10, {"n06"}),
    ("is-10.0", "is", 10.0, {"n06"}),
    ("is-0", "is", 0, {"n04", "n11"}),
    ("is-negative", "is", -1.5, {"n05"}),
    ("is-large", "is", 1000000000000, {"n10"}),
    ("gt-10", "gt", 10, {"n07", "n08", "n09", "n10", "n12"}),
    ("gte-10", "gte", 10, {"n06", "n07", "n08", "n09", "n10", "n12"}),
    ("lt-10", "lt", 10, {"n04", "n05", "n11", "n13"}),
    ("lte-10", "lte", 10, {"n04", "n05", "n06", "n11", "n13"}),
    ("gt-30-not-as-text", "gt", 30, {"n08", "n10", "n12"}),
    ("lt-100-not-as-text", "lt", 100, {"n04", "n05", "n06", "n07", "n09", "n11", "n13"}),
    ("gte-100", "gte", 100, {"n08", "n10", "n12"}),
    ("lt-0", "lt", 0, {"n05"}),
    ("gt-negative", "gt", -1.5, {"n04", "n06", "n07", "n08", "n09", "n10", "n11", "n12", "n13"}),
    ("between-10-100", "between", [10, 100], {"n06", "n07", "n08", "n09"}),
    ("between-10-10", "between", [10, 10], {"n06"}),
    ("between-negative-0", "between", [-1.5, 0], {"n04", "n05", "n11"}),
    ("between-close", "between", [9.9999, 10], {"n06", "n13"}),
]
NUMBER_CASES = build_cases(NUMBER_POSITIVE, NUMBER_VALUES, NUMBER_UNKNOWN)
NUMBER_TARGETS = [("organization", "custom.cnum"), ("person", "custom.cnum")]


@pytest.fixture(scope="module")
def number_data(tmp_path_factory: pytest.TempPathFactory) -> Dataset:
    tables = family_tables(NUMBER_VALUES, custom={"cnum": "number"}, no_row=["n01"])
    return Dataset.write(tmp_path_factory.mktemp("number"), tables)


@pytest.mark.parametrize("target", NUMBER_TARGETS, ids="/".join)
@pytest.mark.parametrize("case", NUMBER_CASES, ids=lambda c: c.name)
def test_number(engine: str, number_data: Dataset, target: tuple[str, str], case: Case) -> None:
    check_case(engine, number_data, "number", target, NUMBER_CASES, case)


# -- boolean -----------------------------------------------------------------------------------

BOOLEAN_VALUES: dict[str, bool | None] = {
    "b01": None,  # no row
    "b02": None,  # null row
    "b03": True,
    "b04": False,
    "b05": True,
}
BOOLEAN_UNKNOWN = {"b01", "b02"}
BOOLEAN_POSITIVE: list[tuple[str, str, object, set[str]]] = [
    ("is-true", "is", True, {"b03", "b05"}),
    ("is-false", "is", False, {"b04"}),
]
BOOLEAN_CASES = build_cases(BOOLEAN_POSITIVE, BOOLEAN_VALUES, BOOLEAN_UNKNOWN)
BOOLEAN_TARGETS = [("organization", "custom.cbool"), ("person", "custom.cbool")]


@pytest.fixture(scope="module")
def boolean_data(tmp_path_factory: pytest.TempPathFactory) -> Dataset:
    tables = family_tables(BOOLEAN_VALUES, custom={"cbool": "boolean"}, no_row=["b01"])
    return Dataset.write(tmp_path_factory.mktemp("boolean"), tables)


@pytest.mark.parametrize("target", BOOLEAN_TARGETS, ids="/".join)
@pytest.mark.parametrize("case", BOOLEAN_CASES, ids=lambda c: c.name)
def test_boolean(engine: str, boolean_data: Dataset, target: tuple[str, str], case: Case) -> None:
    check_case(engine, boolean_data, "boolean", target, BOOLEAN_CASES, case)


# -- datetime, UTC -----------------------------------------------------------------------------
# AS_OF is 2026-03-15T12:00Z: as_of - 30d = 2026-02-13T12:00Z, + 30d = 2026-04-14T12:00Z,
# - 90d = 2025-12-15T12:00Z, - 12h = 2026-03-15T00:00Z.

DATETIME_VALUES: dict[str, dt.datetime | None] = {
    "d01": None,
    "d02": utc("2026-02-13T12:00:00Z"),  # exactly as_of - 30d
    "d03": utc("2026-02-13T11:59:59.999999Z"),  # 1 µs before it
    "d04": utc("2026-03-15T12:00:00Z"),  # exactly as_of
    "d05": utc("2026-03-15T12:00:00.000001Z"),  # 1 µs after as_of
    "d06": utc("2026-03-10T00:00:00Z"),
    "d07": utc("2026-03-10T23:59:59.999999Z"),
    "d08": utc("2026-03-11T00:00:00Z"),
    "d09": utc("2026-03-09T23:59:59.999999Z"),
    "d10": utc("2026-04-14T12:00:00Z"),  # exactly as_of + 30d
    "d11": utc("2026-04-14T12:00:00.000001Z"),
    "d12": utc("2025-12-15T12:00:00Z"),  # exactly as_of - 90d
    "d13": utc("2025-12-15T11:59:59.999999Z"),
    "d14": utc("2026-03-15T00:00:00Z"),  # exactly as_of - 12h
    "d15": utc("2026-03-14T23:59:59.999999Z"),
    "d16": None,
}
DATETIME_UNKNOWN = {"d01", "d16"}
BEFORE_AS_OF = {"d02", "d03", "d06", "d07", "d08", "d09", "d12", "d13", "d14", "d15"}
DATETIME_POSITIVE: list[tuple[str, str, object, set[str]]] = [
    ("is-day", "is", "2026-03-10", {"d06", "d07"}),
    ("is-as_of-day", "is", "2026-03-15", {"d04", "d05", "d14"}),
    ("is-day-before", "is", "2026-03-14", {"d15"}),
    ("before-day", "before", "2026-03-10", {"d02", "d03", "d09", "d12", "d13"}),
    ("after-day", "after", "2026-03-10", {"d04", "d05", "d08", "d10", "d11", "d14", "d15"}),
    ("between-two-days", "between", ["2026-03-10", "2026-03-11"], {"d06", "d07", "d08"}),
    ("between-one-day", "between", ["2026-03-10", "2026-03-10"], {"d06", "d07"}),
    ("between-edge-days", "between", ["2026-02-13", "2026-03-09"], {"d02", "d03", "d09"}),
    (
        "within_last-30d",
        "within_last",
        "30d",
        {"d02", "d04", "d06", "d07", "d08", "d09", "d14", "d15"},
    ),
    (
        "within_last-720h",
        "within_last",
        "720h",
        {"d02", "d04", "d06", "d07", "d08", "d09", "d14", "d15"},
    ),
    ("within_last-4w", "within_last", "4w", {"d04", "d06", "d07", "d08", "d09", "d14", "d15"}),
    ("within_last-12h", "within_last", "12h", {"d04", "d14"}),
    ("within_last-90d", "within_last", "90d", BEFORE_AS_OF - {"d13"} | {"d04"}),
    ("more_than_ago-30d", "more_than_ago", "30d", {"d03", "d12", "d13"}),
    ("more_than_ago-90d", "more_than_ago", "90d", {"d13"}),
    ("more_than_ago-12h", "more_than_ago", "12h", BEFORE_AS_OF - {"d14"}),
    ("within_next-30d", "within_next", "30d", {"d04", "d05", "d10"}),
    ("within_next-1h", "within_next", "1h", {"d04", "d05"}),
    ("before-instant", "before", "2026-03-10T00:00:00Z", {"d02", "d03", "d09", "d12", "d13"}),
    (
        "before-instant-offset",
        "before",
        "2026-03-10T01:00:00+01:00",
        {"d02", "d03", "d09", "d12", "d13"},
    ),
    ("before-as_of-instant", "before", "2026-03-15T12:00:00Z", BEFORE_AS_OF),
    ("after-as_of-instant", "after", "2026-03-15T12:00:00Z", {"d05", "d10", "d11"}),
    (
        "after-instant-strict",
        "after",
        "2026-03-10T23:59:59.999999Z",
        {"d04", "d05", "d08", "d10", "d11", "d14", "d15"},
    ),
]
DATETIME_CASES = build_cases(DATETIME_POSITIVE, DATETIME_VALUES, DATETIME_UNKNOWN)
DATETIME_TARGETS = [
    ("organization", "created_at"),
    ("organization", "custom.cdt"),
    ("person", "updated_at"),
    ("person", "custom.cdt"),
]


@pytest.fixture(scope="module")
def datetime_data(tmp_path_factory: pytest.TempPathFactory) -> Dataset:
    tables = family_tables(
        DATETIME_VALUES,
        builtin=["created_at", "updated_at"],
        custom={"cdt": "datetime"},
        no_row=["d01"],
    )
    return Dataset.write(tmp_path_factory.mktemp("datetime"), tables)


@pytest.mark.parametrize("target", DATETIME_TARGETS, ids="/".join)
@pytest.mark.parametrize("case", DATETIME_CASES, ids=lambda c: c.name)
def test_datetime(engine: str, datetime_data: Dataset, target: tuple[str, str], case: Case) -> None:
    check_case(engine, datetime_data, "datetime", target, DATETIME_CASES, case)


# -- datetime in Europe/Paris, across both daylight-saving changes of 2026 ----------------------
# Spring: 2026-03-29 is 23 hours long in Paris, [2026-03-28T23:00Z, 2026-03-29T22:00Z).
# as_of 2026-03-29T12:00Z is 14:00 CEST; "1d" back keeps the wall clock: 2026-03-28 14:00 CET
# = 2026-03-28T13:00Z (23 hours before), and forward: 2026-03-30 14:00 CEST = 2026-03-30T12:00Z.
# Autumn: 2026-10-25 is 25 hours long, [2026-10-24T22:00Z, 2026-10-25T23:00Z). as_of
# 2026-10-25T12:00Z is 13:00 CET; "1d" back is 2026-10-24 13:00 CEST = 2026-10-24T11:00Z.

PARIS = "Europe/Paris"
SPRING = utc("2026-03-29T12:00:00Z")
AUTUMN = utc("2026-10-25T12:00:00Z")
DST_VALUES: dict[str, dt.datetime | None] = {
    "q01": None,
    "q02": utc("2026-03-28T12:30:00Z"),
    "q03": utc("2026-03-28T12:59:59.999999Z"),
    "q04": utc("2026-03-28T13:00:00Z"),  # exactly as_of - 1d
    "q05": utc("2026-03-28T22:59:59.999999Z"),  # last µs of 03-28 in Paris
    "q06": utc("2026-03-28T23:00:00Z"),  # first µs of 03-29 in Paris
    "q07": utc("2026-03-29T12:00:00Z"),  # exactly as_of
    "q08": utc("2026-03-29T21:59:59.999999Z"),  # last µs of 03-29 in Paris
    "q09": utc("2026-03-29T22:00:00Z"),  # first µs of 03-30 in Paris
    "q10": utc("2026-03-29T23:30:00Z"),  # 03-30 in Paris, 03-29 in UTC
    "q11": utc("2026-03-30T12:00:00Z"),  # exactly as_of + 1d
    "q12": utc("2026-03-30T12:00:00.000001Z"),
    "q13": utc("2026-03-28T00:30:00Z"),
    "q14": utc("2026-03-27T23:30:00Z"),  # 03-28 in Paris, 03-27 in UTC
    "r01": utc("2026-10-24T10:59:59.999999Z"),
    "r02": utc("2026-10-24T11:00:00Z"),  # exactly as_of - 1d
    "r03": utc("2026-10-24T11:30:00Z"),  # outside a 24-hour window
    "r04": utc("2026-10-24T21:59:59.999999Z"),  # last µs of 10-24 in Paris
    "r05": utc("2026-10-24T22:00:00Z"),  # first µs of 10-25 in Paris
    "r06": utc("2026-10-25T22:59:59.999999Z"),  # last µs of 10-25 in Paris
    "r07": utc("2026-10-25T23:00:00Z"),  # first µs of 10-26 in Paris
    "r08": utc("2026-10-25T12:00:00Z"),  # exactly as_of
    "r09": utc("2026-10-26T12:00:00Z"),  # exactly as_of + 1d
    "r10": None,
}
DST_UNKNOWN = {"q01", "r10"}
SPRING_EVENTS = {f"q{i:02d}" for i in range(2, 15)}
AUTUMN_EVENTS = {f"r{i:02d}" for i in range(1, 10)}
SPRING_POSITIVE: list[tuple[str, str, object, set[str]]] = [
    ("spring-is-short-day", "is", "2026-03-29", {"q06", "q07", "q08"}),
    ("spring-is-day-before", "is", "2026-03-28", {"q02", "q03", "q04", "q05", "q13", "q14"}),
    ("spring-is-day-after", "is", "2026-03-30", {"q09", "q10", "q11", "q12"}),
    ("spring-before", "before", "2026-03-29", {"q02", "q03", "q04", "q05", "q13", "q14"}),
    ("spring-after", "after", "2026-03-29", {"q09", "q10", "q11", "q12"} | AUTUMN_EVENTS),
    (
        "spring-after-day-before",
        "after",
        "2026-03-28",
        {"q06", "q07", "q08", "q09", "q10", "q11", "q12"} | AUTUMN_EVENTS,
    ),
    ("spring-between-one-day", "between", ["2026-03-29", "2026-03-29"], {"q06", "q07", "q08"}),
    (
        "spring-between-two-days",
        "between",
        ["2026-03-28", "2026-03-29"],
        {"q02", "q03", "q04", "q05", "q06", "q07", "q08", "q13", "q14"},
    ),
    ("spring-within_last-1d", "within_last", "1d", {"q04", "q05", "q06", "q07"}),
    ("spring-within_last-23h", "within_last", "23h", {"q04", "q05", "q06", "q07"}),
    (
        "spring-within_last-24h",
        "within_last",
        "24h",
        {"q02", "q03", "q04", "q05", "q06", "q07"},
    ),
    (
        "spring-within_last-1w",
        "within_last",
        "1w",
        {"q02", "q03", "q04", "q05", "q06", "q07", "q13", "q14"},
    ),
    ("spring-more_than_ago-1d", "more_than_ago", "1d", {"q02", "q03", "q13", "q14"}),
    ("spring-within_next-1d", "within_next", "1d", {"q07", "q08", "q09", "q10", "q11"}),
    (
        "spring-before-instant-offset",
        "before",
        "2026-03-29T00:00:00+01:00",
        {"q02", "q03", "q04", "q05", "q13", "q14"},
    ),
]
AUTUMN_POSITIVE: list[tuple[str, str, object, set[str]]] = [
    ("autumn-is-long-day", "is", "2026-10-25", {"r05", "r06", "r08"}),
    ("autumn-is-day-before", "is", "2026-10-24", {"r01", "r02", "r03", "r04"}),
    ("autumn-before", "before", "2026-10-25", {"r01", "r02", "r03", "r04"} | SPRING_EVENTS),
    ("autumn-after", "after", "2026-10-25", {"r07", "r09"}),
    ("autumn-within_last-1d", "within_last", "1d", {"r02", "r03", "r04", "r05", "r08"}),
    ("autumn-within_last-24h", "within_last", "24h", {"r04", "r05", "r08"}),
    ("autumn-more_than_ago-1d", "more_than_ago", "1d", {"r01"} | SPRING_EVENTS),
    ("autumn-within_next-1d", "within_next", "1d", {"r06", "r07", "r08", "r09"}),
]
DST_CASES = [
    *build_cases(SPRING_POSITIVE, DST_VALUES, DST_UNKNOWN, as_of=SPRING, tz=PARIS),
    *build_cases(AUTUMN_POSITIVE, DST_VALUES, DST_UNKNOWN, as_of=AUTUMN, tz=PARIS, presence=False),
]
DST_TARGETS = [
    ("organization", "created_at"),
    ("organization", "custom.cdt"),
    ("person", "custom.cdt"),
]


@pytest.fixture(scope="module")
def dst_data(tmp_path_factory: pytest.TempPathFactory) -> Dataset:
    tables = family_tables(
        DST_VALUES, builtin=["created_at"], custom={"cdt": "datetime"}, no_row=["q01"]
    )
    return Dataset.write(tmp_path_factory.mktemp("dst"), tables)


@pytest.mark.parametrize("target", DST_TARGETS, ids="/".join)
@pytest.mark.parametrize("case", DST_CASES, ids=lambda c: c.name)
def test_datetime_paris_dst(
    engine: str, dst_data: Dataset, target: tuple[str, str], case: Case
) -> None:
    check_case(engine, dst_data, "dst", target, DST_CASES, case)


# -- date (custom only; stored as midnight UTC, meaning that calendar day in any timezone) -----
# The cases run at midnight starting 2026-03-15 in the run's timezone, in UTC, in New York
# (UTC-4 then; midnight UTC is the evening before there, and its DST began on 2026-03-08), in
# Paris and in Auckland (UTC+13): a stored day is the same day in all of them.

DATE_VALUES: dict[str, str | None] = {
    "c01": None,  # no row
    "c02": None,  # null row
    "c03": "2026-03-10",
    "c04": "2026-03-09",
    "c05": "2026-03-11",
    "c06": "2026-02-13",  # as_of day - 30 days
    "c07": "2026-02-14",
    "c08": "2026-03-15",  # as_of day
    "c09": "2026-03-16",
    "c10": "2026-04-14",  # as_of day + 30 days
    "c11": "2026-04-15",
    "c12": "2026-02-12",
    "c13": "2025-12-15",  # as_of day - 90 days
    "c14": "2025-12-14",
    "c15": "2026-03-08",  # the day the US changed to summer time
    "c16": "2026-03-29",  # the day Europe changed to summer time
}
DATE_UNKNOWN = {"c01", "c02"}
DATE_POSITIVE: list[tuple[str, str, object, set[str]]] = [
    ("is-day", "is", "2026-03-10", {"c03"}),
    ("is-us-dst-day", "is", "2026-03-08", {"c15"}),
    ("is-eu-dst-day", "is", "2026-03-29", {"c16"}),
    ("is-as_of-day", "is", "2026-03-15", {"c08"}),
    ("before", "before", "2026-03-10", {"c04", "c06", "c07", "c12", "c13", "c14", "c15"}),
    ("after", "after", "2026-03-10", {"c05", "c08", "c09", "c10", "c11", "c16"}),
    ("between", "between", ["2026-03-09", "2026-03-11"], {"c03", "c04", "c05"}),
    ("between-one-day", "between", ["2026-03-08", "2026-03-08"], {"c15"}),
    ("within_last-30d", "within_last", "30d", {"c03", "c04", "c05", "c06", "c07", "c08", "c15"}),
    ("within_last-1w", "within_last", "1w", {"c03", "c04", "c05", "c08", "c15"}),
    ("within_last-36h", "within_last", "36h", {"c08"}),
    (
        "within_last-90d",
        "within_last",
        "90d",
        {"c03", "c04", "c05", "c06", "c07", "c08", "c12", "c13", "c15"},
    ),
    ("more_than_ago-30d", "more_than_ago", "30d", {"c12", "c13", "c14"}),
    ("more_than_ago-90d", "more_than_ago", "90d", {"c14"}),
    ("within_next-30d", "within_next", "30d", {"c08", "c09", "c10", "c16"}),
    ("within_next-14d", "within_next", "14d", {"c08", "c09", "c16"}),
]
DATE_CLOCKS = {
    "UTC": utc("2026-03-15T00:00:00Z"),
    "America/New_York": utc("2026-03-15T04:00:00Z"),
    "Europe/Paris": utc("2026-03-14T23:00:00Z"),
    "Pacific/Auckland": utc("2026-03-14T11:00:00Z"),
}
DATE_CASES = [
    case
    for tz, as_of in DATE_CLOCKS.items()
    for case in build_cases(DATE_POSITIVE, DATE_VALUES, DATE_UNKNOWN, as_of=as_of, tz=tz)
]
# At noon, relative windows compare the instant a day starts (SPEC: "a bare date means midnight
# starting that day"): as_of - 30d = 2026-02-13T12:00Z, after the start of 2026-02-13.
DATE_NOON_POSITIVE: list[tuple[str, str, object, set[str]]] = [
    ("noon-within_last-30d", "within_last", "30d", {"c03", "c04", "c05", "c07", "c08", "c15"}),
    ("noon-more_than_ago-30d", "more_than_ago", "30d", {"c06", "c12", "c13", "c14"}),
    ("noon-within_next-30d", "within_next", "30d", {"c09", "c10", "c16"}),
    ("noon-is-day", "is", "2026-03-15", {"c08"}),
]
DATE_CASES += build_cases(DATE_NOON_POSITIVE, DATE_VALUES, DATE_UNKNOWN, presence=False)
DATE_TARGETS = [("organization", "custom.cdate"), ("person", "custom.cdate")]


def _date_case_id(case: Case) -> str:
    return f"{case.tz}-{case.name}"


@pytest.fixture(scope="module")
def date_data(tmp_path_factory: pytest.TempPathFactory) -> Dataset:
    tables = family_tables(DATE_VALUES, custom={"cdate": "date"}, no_row=["c01"])
    return Dataset.write(tmp_path_factory.mktemp("date"), tables)


@pytest.mark.parametrize("target", DATE_TARGETS, ids="/".join)
@pytest.mark.parametrize("case", DATE_CASES, ids=_date_case_id)
def test_date(engine: str, date_data: Dataset, target: tuple[str, str], case: Case) -> None:
    check_case(engine, date_data, "date", target, DATE_CASES, case)


# -- YAML as people write it -------------------------------------------------------------------


def test_raw_yaml_text_values(engine: str, text_data: Dataset) -> None:
    """Unquoted numbers are text for a text attribute; quotes and escapes are literal."""
    texts = [
        "id: num\nwhere: {name: {is: 75001}}\n",
        "id: num-in\nwhere:\n  name:\n    in: [75001, acme]\n",
        "id: num-contains\nwhere: {name: {contains: 75001}}\n",
        "id: sql-or\nwhere: {name: {is: \"x' OR '1'='1\"}}\n",
        "id: sql-drop\nwhere: {name: {is: '''; DROP TABLE organizations; --'}}\n",
        'id: escaped\nwhere: {name: {is: "\\u00c9cole"}}\n',
        "id: block\nwhere:\n  all:\n    - name:\n        starts_with: >-\n          ACME\n",
        "id: unknown\nwhere:\n  name: {is_unknown: true}\n",
    ]
    got = text_data.run_texts(engine, texts)
    expected = (
        expect("num", P1, {"t19"})
        | expect("num-in", P1, {"t19", "t05", "t06"})
        | expect("num-contains", P1, {"t19", "t20"})
        | expect("sql-or", P1, {"t17"})
        | expect("sql-drop", P1, {"t18"})
        | expect("escaped", P1, {"t08"})
        | expect("block", P1, {"t05", "t06", "t07"})
        | expect("unknown", P1, TEXT_UNKNOWN)
    )
    assert_members(got, expected, f"[{engine}] raw YAML text values")


def test_raw_yaml_dates(engine: str, datetime_data: Dataset) -> None:
    """YAML's own date and timestamp scalars mean what the quoted ISO text means."""
    texts = [
        "id: day\nwhere: {created_at: {is: 2026-03-10}}\n",
        "id: days\nwhere: {created_at: {between: [2026-03-10, 2026-03-11]}}\n",
        "id: stamp\nwhere: {created_at: {before: 2026-03-10T00:00:00Z}}\n",
        "id: offset\nwhere: {created_at: {after: 2026-03-15T13:00:00+01:00}}\n",
        "id: not-day\nwhere: {created_at: {is_not: 2026-03-10}}\n",
    ]
    got = datetime_data.run_texts(engine, texts)
    expected = (
        expect("day", P1, {"d06", "d07"})
        | expect("days", P1, {"d06", "d07", "d08"})
        | expect("stamp", P1, {"d02", "d03", "d09", "d12", "d13"})
        | expect("offset", P1, {"d05", "d10", "d11"})
        | expect("not-day", P1, set(DATETIME_VALUES) - {"d06", "d07"})
    )
    assert_members(got, expected, f"[{engine}] raw YAML dates")


def test_yaml_timestamp_in_paris_keeps_its_offset(engine: str, dst_data: Dataset) -> None:
    """An unquoted ``...Z`` timestamp is that UTC instant, also when the run is in Paris."""
    texts = ["id: stamp\nwhere: {created_at: {before: 2026-03-28T23:00:00Z}}\n"]
    got = dst_data.run_texts(engine, texts, as_of=SPRING, tz=PARIS)
    expected = expect("stamp", P1, {"q02", "q03", "q04", "q05", "q13", "q14"})
    assert_members(got, expected, f"[{engine}] unquoted UTC timestamp in Paris")


# -- groups ------------------------------------------------------------------------------------

GROUP_ORGS: list[dict[str, Any]] = [
    {"org_id": "g01", "name": "Acme", "tags": ["vip"]},
    {"org_id": "g02", "name": "Acme", "tags": None},
    {"org_id": "g03", "name": None, "tags": ["vip"]},
    {"org_id": "g04", "name": "Other", "tags": ["basic"]},
    {"org_id": "g05", "name": "  ", "tags": [None]},
    {"org_id": "g06", "name": "acme corp", "tags": []},
]
GROUP_NUMBERS = {"g01": 10.0, "g03": 50.0, "g04": 5.0, "g05": math.nan, "g06": 100.0}
A = {"name": {"is": "acme"}}  # g01 g02
B = {"tags": {"contains": "vip"}}  # g01 g03
C = {"custom.score": {"gte": 10}}  # g01 g03 g06
D = {"name": {"is_unknown": True}}  # g03 g05
GROUP_ALL = {f"g0{i}" for i in range(1, 7)}


@pytest.fixture(scope="module")
def group_data(tmp_path_factory: pytest.TempPathFactory) -> Dataset:
    tables = {
        "organizations": [{"property_id": P1, **row} for row in GROUP_ORGS],
        "attributes": [
            {"property_id": P1, "entity": "organization", "key": "score", "type": "number"}
        ],
        "attribute_values": [
            {
                "property_id": P1,
                "entity": "organization",
                "entity_id": eid,
                "key": "score",
                "value_number": number,
            }
            for eid, number in GROUP_NUMBERS.items()
        ],
    }
    return Dataset.write(tmp_path_factory.mktemp("groups"), tables)


GROUP_CASES: list[tuple[str, object, set[str]]] = [
    ("leaf-a", A, {"g01", "g02"}),
    ("leaf-b", B, {"g01", "g03"}),
    ("leaf-c", C, {"g01", "g03", "g06"}),
    ("leaf-d", D, {"g03", "g05"}),
    ("any-ab", {"any": [A, B]}, {"g01", "g02", "g03"}),
    ("none-ab", {"none": [A, B]}, {"g04", "g05", "g06"}),
    ("all-ab", {"all": [A, B]}, {"g01"}),
    ("none-all-ab", {"none": [{"all": [A, B]}]}, GROUP_ALL - {"g01"}),
    ("all-any-none", {"all": [{"any": [A, D]}, {"none": [C]}]}, {"g02", "g05"}),
    (
        "any-all-none",
        {"any": [{"all": [B, C]}, {"none": [A, B, C]}]},
        {"g01", "g03", "g04", "g05"},
    ),
    ("none-none", {"none": [{"none": [A]}]}, {"g01", "g02"}),
    (
        "all-negatives",
        {"all": [{"name": {"is_not": "acme"}}, {"tags": {"not_contains": "vip"}}]},
        {"g04", "g05", "g06"},
    ),
    (
        "deep",
        {"all": [{"any": [{"all": [{"none": [D]}, C]}, {"none": [C]}]}]},
        {"g01", "g02", "g04", "g05", "g06"},
    ),
    ("any-single", {"any": [C]}, {"g01", "g03", "g06"}),
    ("none-single", {"none": [C]}, {"g02", "g04", "g05"}),
    ("all-single", {"all": [{"none": [D]}]}, {"g01", "g02", "g04", "g06"}),
    (
        "none-is-not-any-with-unknowns",
        {"none": [{"custom.score": {"lt": 10}}, {"name": {"contains": "corp"}}]},
        {"g01", "g02", "g03", "g05"},
    ),
]


@pytest.mark.parametrize(
    ("name", "where", "expected"), GROUP_CASES, ids=[c[0] for c in GROUP_CASES]
)
def test_groups(
    engine: str, group_data: Dataset, name: str, where: object, expected: set[str]
) -> None:
    """all/any/none nest freely; ``none`` is exactly the complement of ``any``."""
    wheres = {f"g{index:02d}": case[1] for index, case in enumerate(GROUP_CASES)}
    (segment_id,) = (sid for sid, w in wheres.items() if w is where)
    got = group_data.batch_members(engine, "groups", wheres, segment_id)
    assert_members(got, expect(segment_id, P1, expected), f"[{engine}] {name}: {where}")


def test_none_equals_not_any(engine: str, group_data: Dataset) -> None:
    pairs = [[A, B], [C, D], [A, D, {"tags": {"in": ["basic", "vip"]}}]]
    wheres: dict[str, object] = {}
    for index, items in enumerate(pairs):
        wheres[f"any{index}"] = {"any": items}
        wheres[f"none{index}"] = {"none": items}
    got = group_data.run(engine, wheres)
    for index in range(len(pairs)):
        anyone = {eid for sid, _, eid in got if sid == f"any{index}"}
        noone = {eid for sid, _, eid in got if sid == f"none{index}"}
        assert anyone.isdisjoint(noone), f"[{engine}] {pairs[index]}"
        assert anyone | noone == GROUP_ALL, f"[{engine}] {pairs[index]}"


# -- properties: tenants never mix -------------------------------------------------------------


@pytest.fixture(scope="module")
def tenant_data(tmp_path_factory: pytest.TempPathFactory) -> Dataset:
    def attr(prop: str, entity: str, key: str, kind: str) -> dict[str, Any]:
        return {"property_id": prop, "entity": entity, "key": key, "type": kind}

    def value(prop: str, entity: str, eid: str, key: str, **typed: Any) -> dict[str, Any]:
        return {"property_id": prop, "entity": entity, "entity_id": eid, "key": key, **typed}

    tables: dict[str, list[dict[str, Any]]] = {
        "organizations": [
            {"property_id": "p1", "org_id": "o1", "name": "Acme", "tags": ["vip"]},
            {"property_id": "p1", "org_id": "o2", "name": None},
            {"property_id": "p2", "org_id": "o1", "name": "Other"},
            {"property_id": "p2", "org_id": "o2", "name": "Acme"},
            {"property_id": "p3", "org_id": "o1", "name": "Acme"},
        ],
        "people": [
            {"property_id": "p1", "person_id": "o1", "job_title": "CTO"},
            {"property_id": "p2", "person_id": "o1", "job_title": "CEO"},
            {"property_id": "p1", "person_id": "u2", "job_title": None},
        ],
        "organization_people": [
            {"property_id": "p1", "org_id": "o1", "person_id": "o1"},
        ],
        "attributes": [
            attr("p1", "organization", "plan", "text"),
            attr("p2", "organization", "plan", "text"),
            attr("p1", "person", "plan", "text"),
            attr("p1", "organization", "score", "number"),
            attr("p1", "person", "score", "text"),
        ],
        "attribute_values": [
            value("p1", "organization", "o1", "plan", value_text="premium"),
            value("p2", "organization", "o1", "plan", value_text="basic"),
            value("p2", "organization", "o2", "plan", value_text="premium"),
            value("p1", "person", "o1", "plan", value_text="person-plan"),
            value("p1", "person", "o2", "plan", value_text="ghost"),
            value("p1", "organization", "o1", "score", value_number=5.0),
            value("p1", "person", "o1", "score", value_text="5"),
        ],
    }
    return Dataset.write(tmp_path_factory.mktemp("tenants"), tables)


def test_same_ids_in_two_properties_do_not_leak(engine: str, tenant_data: Dataset) -> None:
    got = tenant_data.run(
        engine,
        {
            "acme": {"name": {"is": "acme"}},
            "premium": {"custom.plan": {"is": "premium"}},
            "basic": {"custom.plan": {"is": "basic"}},
            "other-premium": {
                "all": [{"name": {"is": "other"}}, {"custom.plan": {"is": "premium"}}]
            },
            "acme-basic": {"all": [{"name": {"is": "acme"}}, {"custom.plan": {"is": "basic"}}]},
            "plan-unknown": {"custom.plan": {"is_unknown": True}},
            "not-premium": {"custom.plan": {"is_not": "premium"}},
            "vip": {"tags": {"contains": "vip"}},
        },
    )
    expected = {
        ("acme", "p1", "o1"),
        ("acme", "p2", "o2"),
        ("acme", "p3", "o1"),
        ("premium", "p1", "o1"),
        ("premium", "p2", "o2"),
        ("basic", "p2", "o1"),
        ("plan-unknown", "p1", "o2"),
        ("plan-unknown", "p3", "o1"),
        ("not-premium", "p1", "o2"),
        ("not-premium", "p2", "o1"),
        ("not-premium", "p3", "o1"),
        ("vip", "p1", "o1"),
    }
    assert_members(got, expected, f"[{engine}] two properties with equal ids")


def test_person_segments_keep_properties_apart(engine: str, tenant_data: Dataset) -> None:
    got = tenant_data.run(
        engine,
        {
            "cto": {"job_title": {"contains": "cto"}},
            "not-cto": {"job_title": {"is_not": "cto"}},
        },
        entity="person",
    )
    expected = {
        ("cto", "p1", "o1"),
        ("not-cto", "p2", "o1"),
        ("not-cto", "p1", "u2"),
    }
    assert_members(got, expected, f"[{engine}] person segments over two properties")


def test_custom_values_of_one_entity_never_reach_the_other(
    engine: str, tenant_data: Dataset
) -> None:
    """Same property, same id, same key: organization and person values stay apart."""
    organizations = tenant_data.run(
        engine,
        {
            "org-person-plan": {"custom.plan": {"is": "person-plan"}},
            "org-ghost": {"custom.plan": {"is": "ghost"}},
            "org-score": {"custom.score": {"gte": 5}},
        },
    )
    people = tenant_data.run(
        engine,
        {
            "person-plan": {"custom.plan": {"is": "person-plan"}},
            "person-premium": {"custom.plan": {"is": "premium"}},
            "person-score": {"custom.score": {"is": 5}},
            "person-plan-unknown": {"custom.plan": {"is_unknown": True}},
        },
        entity="person",
    )
    assert_members(organizations, {("org-score", "p1", "o1")}, f"[{engine}] organizations")
    expected_people = {
        ("person-plan", "p1", "o1"),
        ("person-score", "p1", "o1"),
        ("person-plan-unknown", "p1", "u2"),
        ("person-plan-unknown", "p2", "o1"),
    }
    assert_members(people, expected_people, f"[{engine}] people")


def test_properties_scope_a_segment(engine: str, tenant_data: Dataset) -> None:
    texts = [
        "id: p2-not-acme\nproperties: [p2]\nwhere: {name: {is_not: acme}}\n",
        "id: p1-p3-acme\nproperties: [p1, p3]\nwhere: {name: {is: acme}}\n",
        "id: p2-plan\nproperties: [p2]\nwhere: {custom.plan: {has_any_value: true}}\n",
        "id: p2-none\nproperties: [p2]\nwhere: {none: [{custom.plan: {is: premium}}]}\n",
        "id: nowhere\nproperties: [p9]\nwhere: {name: {is_unknown: true}}\n",
        "id: p1-unknown\nproperties: [p1]\nwhere: {name: {is_unknown: true}}\n",
        "id: people-p2\nentity: person\nproperties: [p2]\nwhere: {job_title: {is_not: cto}}\n",
    ]
    got = tenant_data.run_texts(engine, texts)
    expected = {
        ("p2-not-acme", "p2", "o1"),
        ("p1-p3-acme", "p1", "o1"),
        ("p1-p3-acme", "p3", "o1"),
        ("p2-plan", "p2", "o1"),
        ("p2-plan", "p2", "o2"),
        ("p2-none", "p2", "o1"),
        ("p1-unknown", "p1", "o2"),
        ("people-p2", "p2", "o1"),
    }
    assert_members(got, expected, f"[{engine}] properties scoping")


def test_every_entity_is_member_or_not_never_null(engine: str, group_data: Dataset) -> None:
    """A segment over unknowns only still returns exactly one answer per entity."""
    got = group_data.run(
        engine,
        {
            "x": {"custom.score": {"between": [0, 1000]}},
            "not-x": {"none": [{"custom.score": {"between": [0, 1000]}}]},
        },
    )
    inside = {eid for sid, _, eid in got if sid == "x"}
    outside = {eid for sid, _, eid in got if sid == "not-x"}
    assert inside == {"g01", "g03", "g04", "g06"}
    assert outside == {"g02", "g05"}


# -- scale and names ---------------------------------------------------------------------------

MANY = [f"v{i:04d}" for i in range(3000)]


def test_long_in_lists(engine: str, text_data: Dataset, list_data: Dataset) -> None:
    """`in` with thousands of values works and stays exact (no OR-depth limit, no truncation)."""
    text = text_data.run(
        engine,
        {
            "in": {"name": {"in": [*MANY, "acme", SQL_OR]}},
            "not-in": {"name": {"not_in": [*MANY, "acme", SQL_OR]}},
        },
    )
    expected = expect("in", P1, {"t05", "t06", "t17"}) | expect(
        "not-in", P1, set(TEXT_VALUES) - {"t05", "t06", "t17"}
    )
    assert_members(text, expected, f"[{engine}] text in 3002 values")
    lists = list_data.run(
        engine,
        {
            "in": {"tags": {"in": [*MANY, "vip"]}},
            "not-in": {"custom.clist": {"not_in": [*MANY, "vip"]}},
        },
    )
    vip = {"l05", "l06", "l11"}
    expected = expect("in", P1, vip) | expect("not-in", P1, set(LIST_VALUES) - vip)
    assert_members(lists, expected, f"[{engine}] list in 3001 values")


# Valid segment ids ([a-z0-9][a-z0-9_-]*) that are also names an engine may use inside.
AWKWARD_IDS = [
    "property_id", "entity_id", "segment_id", "member", "entity", "p1", "p2", "x", "base",
    "preds", "wide", "custom", "name", "tags", "select", "0", "a-b", "order", "null", "true",
]  # fmt: skip


@pytest.mark.parametrize("segment_id", AWKWARD_IDS)
def test_segment_ids_that_look_like_internal_names(
    engine: str, group_data: Dataset, segment_id: str
) -> None:
    """Any id SPEC allows works, next to another segment, whatever the engine names inside."""
    companion = "zz-companion" if segment_id != "zz-companion" else "zz-other"
    got = group_data.run(engine, {segment_id: A, companion: {"none": [A]}})
    expected = expect(segment_id, P1, {"g01", "g02"}) | expect(
        companion, P1, GROUP_ALL - {"g01", "g02"}
    )
    assert_members(got, expected, f"[{engine}] segment id {segment_id!r}")


def test_custom_keys_named_like_builtins(engine: str, tmp_path: Path) -> None:
    """``custom.name`` and ``name`` are two attributes; neither shadows the other."""
    data = Dataset.write(
        tmp_path,
        {
            "organizations": [
                {"property_id": P1, "org_id": "o1", "name": "Acme", "tags": ["basic"]},
                {"property_id": P1, "org_id": "o2", "name": "Other", "tags": None},
            ],
            "attributes": [
                {"property_id": P1, "entity": "organization", "key": "name", "type": "text"},
                {"property_id": P1, "entity": "organization", "key": "tags", "type": "text"},
            ],
            "attribute_values": [
                {"property_id": P1, "entity": "organization", "entity_id": "o1", "key": "name",
                 "value_text": "Other"},
                {"property_id": P1, "entity": "organization", "entity_id": "o2", "key": "tags",
                 "value_text": "vip"},
            ],
        },
    )  # fmt: skip
    got = data.run(
        engine,
        {
            "name": {"name": {"is": "acme"}},
            "custom-name": {"custom.name": {"is": "other"}},
            "custom-name-acme": {"custom.name": {"is": "acme"}},
            "tags": {"tags": {"contains": "vip"}},
            "custom-tags": {"custom.tags": {"is": "vip"}},
            "both": {"all": [{"name": {"is": "acme"}}, {"custom.name": {"is": "other"}}]},
            "custom-name-unknown": {"custom.name": {"is_unknown": True}},
        },
    )
    expected = {
        ("name", P1, "o1"),
        ("custom-name", P1, "o1"),
        ("custom-tags", P1, "o2"),
        ("both", P1, "o1"),
        ("custom-name-unknown", P1, "o2"),
    }
    assert_members(got, expected, f"[{engine}] custom keys named like built-ins")


def test_property_ids_with_quotes(engine: str, tmp_path: Path) -> None:
    """Property ids are data: quotes and SQL in them are matched literally by `properties:`."""
    odd = [SQL_OR, SQL_DROP, "p%", "p_"]
    data = Dataset.write(
        tmp_path,
        {
            "organizations": [
                *({"property_id": prop, "org_id": "o1", "name": "Acme"} for prop in odd),
                {"property_id": "p1", "org_id": "o1", "name": "Acme"},
                {"property_id": "px", "org_id": "o1", "name": None},
            ],
        },
    )
    texts = [
        segment_yaml("sql", {"name": {"is": "acme"}}, properties=[SQL_OR, SQL_DROP]),
        segment_yaml("like", {"name": {"is_not": "zzz"}}, properties=["p%", "p_"]),
        segment_yaml("all", {"name": {"has_any_value": True}}),
    ]
    got = data.run_texts(engine, texts)
    expected = {
        ("sql", SQL_OR, "o1"),
        ("sql", SQL_DROP, "o1"),
        ("like", "p%", "o1"),
        ("like", "p_", "o1"),
        *(("all", prop, "o1") for prop in [*odd, "p1"]),
    }
    assert_members(got, expected, f"[{engine}] property ids with quotes")


def far_dates(directory: Path) -> Dataset:
    instants = {
        "o1": utc("1900-01-01T00:00:00Z"),
        "o2": utc("1969-12-31T23:59:59.999999Z"),
        "o3": utc("9999-12-31T23:59:59.999999Z"),
        "o4": None,
    }
    days = {"o1": "1900-01-01", "o2": "1969-12-31", "o3": "9999-12-31"}
    return Dataset.write(
        directory,
        {
            "organizations": [
                {"property_id": P1, "org_id": eid, "created_at": when}
                for eid, when in instants.items()
            ],
            "attributes": [
                {"property_id": P1, "entity": "organization", "key": "day", "type": "date"}
            ],
            "attribute_values": [
                {"property_id": P1, "entity": "organization", "entity_id": eid, "key": "day",
                 "value_datetime": midnight_utc(day)}
                for eid, day in days.items()
            ],
        },
    )  # fmt: skip


def test_far_past_and_future_instants(engine: str, tmp_path: Path) -> None:
    """Instants before 1970 and near year 9999 compare like any other."""
    got = far_dates(tmp_path).run(
        engine,
        {
            "before-1970": {"created_at": {"before": "1970-01-01"}},
            "is-1969": {"created_at": {"is": "1969-12-31"}},
            "after-2100": {"created_at": {"after": "2100-01-01"}},
            "old": {"created_at": {"more_than_ago": "30d"}},
            "soon": {"created_at": {"within_next": "30d"}},
            "not-1900": {"created_at": {"is_not": "1900-01-01"}},
            "day-before-1970": {"custom.day": {"before": "1970-01-01"}},
            "day-old": {"custom.day": {"more_than_ago": "30d"}},
        },
    )
    expected = {
        ("before-1970", P1, "o1"),
        ("before-1970", P1, "o2"),
        ("is-1969", P1, "o2"),
        ("after-2100", P1, "o3"),
        ("old", P1, "o1"),
        ("old", P1, "o2"),
        ("not-1900", P1, "o2"),
        ("not-1900", P1, "o3"),
        ("not-1900", P1, "o4"),
        ("day-before-1970", P1, "o1"),
        ("day-before-1970", P1, "o2"),
        ("day-old", P1, "o1"),
        ("day-old", P1, "o2"),
    }
    assert_members(got, expected, f"[{engine}] far past and future")


def test_the_last_representable_day(engine: str, tmp_path: Path) -> None:
    """``is: 9999-12-31`` is the last day; its end is past ``datetime.max`` but it still works."""
    got = far_dates(tmp_path).run(
        engine,
        {
            "is": {"created_at": {"is": "9999-12-31"}},
            "day-is": {"custom.day": {"is": "9999-12-31"}},
            "between": {"created_at": {"between": ["2000-01-01", "9999-12-31"]}},
        },
    )
    expected = {("is", P1, "o3"), ("day-is", P1, "o3"), ("between", P1, "o3")}
    assert_members(got, expected, f"[{engine}] the last day")


def test_unquoted_numbers_keep_their_written_text(engine: str, tmp_path: Path) -> None:
    """SPEC: a number given for a text or phone attribute "is taken as its text".

    The SPEC's example, 75001, is a French postcode; postcodes such as 01000 and phone numbers
    such as 0123456789 are numbers to YAML too, and their text is what was written, leading
    zero included (the number 123456789 is not the phone number 0123456789).
    """
    data = Dataset.write(
        tmp_path,
        {
            "organizations": [
                {"property_id": P1, "org_id": "o1", "name": "01000", "primary_phone": "0123456789"},
                {"property_id": P1, "org_id": "o2", "name": "1000", "primary_phone": "123456789"},
                {"property_id": P1, "org_id": "o3", "name": "75001", "primary_phone": "+1 23"},
            ]
        },
    )
    texts = [
        "id: zip\nwhere: {name: {is: 01000}}\n",
        "id: zip-in\nwhere: {name: {in: [01000, 75001]}}\n",
        "id: phone\nwhere: {primary_phone: {is: 0123456789}}\n",
        "id: phone-prefix\nwhere: {primary_phone: {starts_with: 01}}\n",
        "id: plain\nwhere: {name: {is: 75001}}\n",
    ]
    got = data.run_texts(engine, texts)
    expected = {
        ("zip", P1, "o1"),
        ("zip-in", P1, "o1"),
        ("zip-in", P1, "o3"),
        ("phone", P1, "o1"),
        ("phone-prefix", P1, "o1"),
        ("plain", P1, "o3"),
    }
    assert_members(got, expected, f"[{engine}] unquoted numbers as written")

"""The JSON Schema of segment files (``pipeline/language/schema.py``) against the checker.

What the checker accepts, the schema accepts: the example segments, the segments of
docs/segments.md, the operator cases of test_operators.py and random definitions. What the
schema rejects, the checker rejects: typical mistakes, and random definitions drawn from values
that avoid what a schema cannot say (reversed ``between`` bounds, impossible dates, references
to other segments).
"""

from __future__ import annotations

import datetime as dt
import json
import re
import textwrap
import zoneinfo
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from jsonschema import Draft202012Validator
from test_fuzz_definitions import CATALOG as FUZZ_CATALOG
from test_fuzz_definitions import texts as fuzz_texts
from test_operators import (
    BOOLEAN_CASES,
    BOOLEAN_TARGETS,
    DATE_CASES,
    DATE_TARGETS,
    DATETIME_CASES,
    DATETIME_TARGETS,
    GROUP_CASES,
    LIST_CASES,
    LIST_TARGETS,
    NUMBER_CASES,
    NUMBER_TARGETS,
    PHONE_CASES,
    PHONE_TARGETS,
    PHONES_CASES,
    PHONES_TARGETS,
    TEXT_CASES,
    TEXT_TARGETS,
    Case,
)

from pipeline.catalog import BUILTIN, CUSTOM_TYPE, Catalog, CustomAttribute
from pipeline.cli import main as cli_main
from pipeline.errors import Problem, ProblemCollector
from pipeline.inputs.validate import read_custom_attributes
from pipeline.language import ir
from pipeline.language.check import (
    ALL_OPERATORS,
    GROUPS,
    KINDS,
    LIST_VALUED,
    PRESENCE,
    RANGE,
    RELATIVE,
    CheckContext,
    operator_family,
)
from pipeline.language.check import OPERATORS as OPERATORS_BY_FAMILY
from pipeline.language.schema import DURATION_PATTERN, segment_schema
from pipeline.language.segments import check_folder_documents, segment_files
from pipeline.language.source import Node, parse_file, parse_text
from pipeline.language.spec import SegmentFile
from pipeline.language.temporal import (
    TEMPORAL_PATTERN,
    Duration,
    as_instant,
    parse_duration,
    parse_temporal,
)

ROOT = Path(__file__).parent.parent
AS_OF = dt.datetime(2026, 11, 20, 12, tzinfo=dt.UTC)
DATA_CATALOG = Catalog.build(read_custom_attributes(ROOT / "data"), ir.rollup_columns())
#: The custom attributes of test_operators.py, on both entities.
CASE_CATALOG = Catalog.build(
    (
        CustomAttribute(entity, key, kind, key, frozenset({"p1"}))
        for entity in ("organization", "person")
        for key, kind in [
            ("ctext", "text"),
            ("clist", "list"),
            ("cnum", "number"),
            ("cbool", "boolean"),
            ("cdt", "datetime"),
            ("cdate", "date"),
            ("score", "number"),
        ]
    ),
    ir.rollup_columns(),
)


def validator(catalog: Catalog | None) -> Draft202012Validator:
    schema = segment_schema(catalog)
    Draft202012Validator.check_schema(schema)
    return Draft202012Validator(schema)


NO_CATALOG = validator(None)
WITH_DATA = validator(DATA_CATALOG)
WITH_CASES = validator(CASE_CATALOG)
WITH_FUZZ = validator(FUZZ_CATALOG)


def schema_errors(schema: Draft202012Validator, root: Node) -> list[str]:
    """What the schema says of a parsed file (the text as a YAML language server reads it)."""
    return [
        f"{'/'.join(map(str, e.absolute_path))}: {e.message}"
        for e in schema.iter_errors(root.plain())
    ]


def checker_problems(
    root: Node, stem: str, catalog: Catalog, others: list[tuple[Node, str]] | None = None
) -> list[Problem]:
    """The checker's problems with ``root`` (checked with ``others``, for its references)."""
    ctx = CheckContext(catalog, AS_OF, zoneinfo.ZoneInfo("UTC"))
    collector = ProblemCollector()
    check_folder_documents([*(others or []), (root, stem)], ctx, collector)
    return [p for p in collector.problems if p.location.file == root.loc.file]


def parsed(text: str, file: str = "test.yaml") -> Node:
    root = parse_text(textwrap.dedent(text), file)
    assert not isinstance(root, Problem), str(root)
    return root


def example_segments() -> list[tuple[Node, str]]:
    roots = []
    for path in segment_files(ROOT / "segments"):
        root = parse_file(path, f"segments/{path.name}")
        assert not isinstance(root, Problem), str(root)
        roots.append((root, path.stem))
    return roots


EXAMPLES = example_segments()


# -- the schema itself ---------------------------------------------------------------------


def test_schema_is_valid_draft_2020_12_and_json() -> None:
    for catalog in (None, DATA_CATALOG):
        schema = segment_schema(catalog)
        assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
        Draft202012Validator.check_schema(schema)
        assert json.loads(json.dumps(schema)) == schema


def test_top_level_follows_the_pydantic_model() -> None:
    """A key added to SegmentFile appears in the schema; nothing else is allowed."""
    schema = segment_schema()
    properties = schema["properties"]
    assert isinstance(properties, dict)
    assert set(properties) == set(SegmentFile.model_fields)
    assert schema["additionalProperties"] is False
    assert schema["required"] == ["where"]


def test_custom_attributes_come_from_the_catalog() -> None:
    defs = segment_schema(DATA_CATALOG)["$defs"]
    assert isinstance(defs, dict)
    org = defs["organization.condition"]["properties"]
    person = defs["person.condition"]["properties"]
    assert org["custom.arr"]["$ref"] == "#/$defs/operators.number"
    assert person["custom.languages"]["$ref"] == "#/$defs/operators.text_list"
    assert "custom.arr" not in person
    assert "patternProperties" not in defs["organization.condition"]
    assert "people" in org and "organizations" not in org
    assert not any(key.startswith("rollup.") for key in person)


def test_the_schema_command(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    assert cli_main(["schema", "--data", str(ROOT / "data")]) == 0
    printed = json.loads(capsys.readouterr().out)
    assert "custom.plan" in printed["$defs"]["organization.condition"]["properties"]
    assert cli_main(["schema"]) == 0  # without --data: any custom.* key
    generic = json.loads(capsys.readouterr().out)
    assert "custom.plan" not in generic["$defs"]["organization.condition"]["properties"]
    target = tmp_path / "segment.schema.json"
    assert cli_main(["schema", "--data", str(ROOT / "data"), "--output", str(target)]) == 0
    assert json.loads(target.read_text()) == printed
    assert str(target) in capsys.readouterr().out


# -- what the checker accepts, the schema accepts -------------------------------------------


@pytest.mark.parametrize(("root", "stem"), EXAMPLES, ids=[stem for _, stem in EXAMPLES])
def test_example_segments_validate(root: Node, stem: str) -> None:
    others = [(r, s) for r, s in EXAMPLES if s != stem]
    assert checker_problems(root, stem, DATA_CATALOG, others) == []
    assert schema_errors(NO_CATALOG, root) == []
    assert schema_errors(WITH_DATA, root) == []


def _doc_pieces() -> Iterator[tuple[str, str]]:
    """The YAML of docs/segments.md: its ```yaml blocks, and the conditions in its tables
    (`` `custom.nps: { is: 7 }` ``). A block that is not one YAML mapping (the phone examples
    repeat one key) is taken line by line."""
    text = (ROOT / "docs" / "segments.md").read_text(encoding="utf-8")
    for number, block in enumerate(re.findall(r"```yaml\n(.*?)```", text, re.S)):
        pieces = [block]
        if isinstance(parse_text(block, "block.yaml"), Problem):
            pieces = [line for line in block.splitlines() if line.strip()[:1] not in ("", "#")]
        for index, piece in enumerate(pieces):
            yield f"docs/segments.md#block{number}.{index}", piece
    for number, inline in enumerate(re.findall(r"`([\w.]+: \{[^`\n]*\})`", text)):
        yield f"docs/segments.md#inline{number}", inline


def _as_segments(name: str, piece: str) -> Iterator[tuple[str, str]]:
    """A piece of the docs as a segment file: itself when it has ``where:``; else a condition
    (a list item: of an ``all:``), tried on organizations and on people."""
    root = parse_text(piece, name)
    if not isinstance(root, Problem) and root.is_map and root.get("where") is not None:
        yield name, piece
        return
    item = piece.lstrip().startswith("-")
    where = "where:\n  all:\n" if item else "where:\n"
    body = textwrap.indent(piece, "    " if item else "  ")
    yield name, where + body
    yield name, "entity: person\n" + where + body


DOC_PIECES = list(_doc_pieces())


def test_doc_segments_that_the_checker_accepts_validate() -> None:
    accepted = set()
    for name, piece in DOC_PIECES:
        for file, text in _as_segments(name, piece):
            root = parse_text(text, file)
            if isinstance(root, Problem):
                continue
            own_id = root.plain().get("id")
            others = [(r, s) for r, s in EXAMPLES if s != own_id]
            if checker_problems(root, "doc-example", DATA_CATALOG, others):
                continue
            accepted.add(name)
            assert schema_errors(NO_CATALOG, root) == [], f"{name}:\n{text}"
            assert schema_errors(WITH_DATA, root) == [], f"{name}:\n{text}"
    assert len(accepted) >= 80, sorted(set(n for n, _ in DOC_PIECES) - accepted)


def _operator_cases() -> list[tuple[str, str, str, Case]]:
    groups = [
        (TEXT_CASES, TEXT_TARGETS),
        (PHONE_CASES, PHONE_TARGETS),
        (LIST_CASES, LIST_TARGETS),
        (PHONES_CASES, PHONES_TARGETS),
        (NUMBER_CASES, NUMBER_TARGETS),
        (BOOLEAN_CASES, BOOLEAN_TARGETS),
        (DATETIME_CASES, DATETIME_TARGETS),
        (DATE_CASES, DATE_TARGETS),
    ]
    return [
        (f"{entity}/{attribute}/{case.name}", entity, attribute, case)
        for cases, targets in groups
        for entity, attribute in targets
        for case in cases
    ]


def _as_file(entity: str, where: object) -> str:
    """A segment file in JSON, which is YAML too (and keeps every character as it is)."""
    return json.dumps({"entity": entity, "where": where}, ensure_ascii=False)


def test_operator_cases_validate() -> None:
    """Every case of test_operators.py (each operator of each type on built-in and custom
    attributes of both entities, with values full of traps) and its group cases."""
    files = [
        (name, _as_file(entity, {attribute: {case.op: case.value}}))
        for name, entity, attribute, case in _operator_cases()
    ]
    files += [(name, _as_file("organization", where)) for name, where, _ in GROUP_CASES]
    assert len(files) > 1000
    for name, text in files:
        root = parsed(text, f"{name}.yaml")
        assert checker_problems(root, "case", CASE_CATALOG) == [], name
        assert schema_errors(WITH_CASES, root) == [], name
        assert schema_errors(NO_CATALOG, root) == [], name


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(body=fuzz_texts, whole=st.booleans())
def test_fuzz_definitions_the_checker_accepts_validate(body: str, whole: bool) -> None:
    """The fuzz texts of test_fuzz_definitions.py: whenever the checker takes one, so does
    the schema. (Few of them are whole definitions: the random definitions below are built
    to be valid more often.)"""
    root = parse_text(body if whole else f"where:\n  {body}\n", "fuzz.yaml")
    if isinstance(root, Problem) or checker_problems(root, "fuzz", FUZZ_CATALOG):
        return
    assert schema_errors(WITH_FUZZ, root) == []
    assert schema_errors(NO_CATALOG, root) == []


# -- random definitions: the schema and the checker agree -----------------------------------

ORG_KEYS = [
    *BUILTIN,
    "custom.plan",
    "custom.arr",
    "custom.is_customer",
    "custom.renewal_date",
    "custom.regions",
    "custom.nps",  # a person attribute
    "rollup.chats_30d",
    "rollup.last_interaction_at",
    "and",
    "job_titel",
    "custom",
]
PERSON_KEYS = ["custom.nps", "custom.languages", "custom.birthday", "custom.plan", "name"]
SCALARS = st.sampled_from(
    [
        "acme",
        "  ",
        "",
        "+33 1 84",
        "n/a",
        "50000",
        75001,
        0,
        3,
        -1,
        2.5,
        True,
        False,
        None,
        "2026-01-01",
        "2026-03-15T09:30:00Z",
        "20260101",
        "last monday",
        "30d",
        "2w",
        "12h",
        "0d",
        "60 days",
        "chat",
        " Call ",
        "chats",
        "any",
    ]
)
NUMBERS = st.sampled_from([0, 3, 10, 2.5, -1.5])
DATES = st.sampled_from(["2026-01-01", "2026-01-01T10:00:00Z", "2026-02-14", "2027-12-31"])


def _in_order(values: list[object]) -> list[object]:
    """Numbers and dates in ascending order: a reversed ``between`` is the checker's to find.
    (Values of different kinds stay as they are: one of them is wrong for any attribute.)"""

    def rank(value: object) -> tuple[int, object]:
        when = parse_temporal(value)
        if isinstance(value, int | float) and not isinstance(value, bool):
            return (0, value)
        if isinstance(value, str) and when is not None:
            return (1, as_instant(when, dt.UTC))
        return (2, repr(value))

    try:
        return sorted(values, key=rank)
    except TypeError:
        return values


LISTS = st.lists(SCALARS, max_size=3).map(_in_order)
PAIRS = st.one_of(
    st.lists(NUMBERS, min_size=2, max_size=2), st.lists(DATES, min_size=2, max_size=2)
).map(_in_order)
VALUES: st.SearchStrategy[object] = st.one_of(
    SCALARS, PAIRS, LISTS, st.dictionaries(st.sampled_from(["is", "gte"]), SCALARS, max_size=2)
)
OPERATORS = st.sampled_from([*ALL_OPERATORS, "contians", ">=", "equals"])


def _count() -> st.SearchStrategy[object]:
    counts = st.sampled_from([0, 1, 3, -1, 2.5, "3"])
    pair = st.lists(st.sampled_from([0, 1, 3]), min_size=2, max_size=2).map(sorted)
    operator = st.sampled_from(["is", "is_not", "gt", "gte", "lt", "lte", "between", "atleast"])
    return st.one_of(
        st.builds(lambda op, n, p: {op: p if op == "between" else n}, operator, counts, pair),
        counts,
    )


#: Values that fit each type family, with a few that do not.
FAMILY_VALUES = {
    "text": ["acme", " Acme Corp ", 75001, "+33 1 84", "n/a", "  ", 2.5, True],
    "list": ["vip", 75001, "+33 6", "", None],
    "number": [3, 2.5, -1, 0, "50000", None],
    "boolean": [True, False, "true", 0],
    "date": ["2026-01-01", "2026-03-15T09:30:00Z", "20260101", "last monday", 3],
}
DURATIONS = st.sampled_from(["30d", "2w", "12h", " 7 d ", "0d", "60 days", "30D", 30])


def _typed_leaf(key: str, entity: str) -> st.SearchStrategy[object]:
    """``{key: {op: value}}`` with an operator of the key's type and a value mostly of it."""
    custom = DATA_CATALOG.custom.get((entity, key.removeprefix("custom.")))
    attr_type = BUILTIN.get(key) or DATA_CATALOG.rollups.get(key.removeprefix("rollup."))
    attr_type = CUSTOM_TYPE[custom.type] if custom else attr_type
    if attr_type is None:
        return st.builds(lambda op, v: {key: {op: v}}, OPERATORS, VALUES)
    family = operator_family(attr_type)
    scalars = st.sampled_from(FAMILY_VALUES[family])

    def operand(op: str) -> st.SearchStrategy[object]:
        if op in PRESENCE:
            return st.sampled_from([True, False, "yes"])
        if op in LIST_VALUED:
            return st.lists(scalars, max_size=3).map(_in_order)
        if op in RANGE:
            return st.lists(scalars, min_size=1, max_size=3).map(_in_order)
        return DURATIONS if op in RELATIVE else scalars

    ops = st.sampled_from([*OPERATORS_BY_FAMILY[family], *PRESENCE])
    return ops.flatmap(lambda op: operand(op).map(lambda v: {key: {op: v}}))


def _conditions(entity: str, depth: int) -> st.SearchStrategy[object]:
    """Conditions of ``entity`` nested up to ``depth``: groups (and ``or:``), attributes with
    operators and values of their type or not, timeline and relationship conditions."""
    keys = ORG_KEYS if entity == "organization" else PERSON_KEYS
    other = "person" if entity == "organization" else "organization"
    relation, wrong = ("people", "organizations")[:: 1 if entity == "organization" else -1]
    leaf = st.builds(lambda k, op, v: {k: {op: v}}, st.sampled_from(keys), OPERATORS, VALUES)
    typed = st.sampled_from(keys).flatmap(lambda key: _typed_leaf(key, entity))
    bare = st.builds(lambda k, v: {k: v}, st.sampled_from(keys), SCALARS)
    timeline = st.fixed_dictionaries(
        {},
        optional={
            "kind": st.one_of(SCALARS, LISTS),
            "count": _count(),
            "within_last": SCALARS,
            "between": st.one_of(PAIRS, LISTS),
            "window": SCALARS,
        },
    ).map(lambda t: {"timeline": t})
    options: list[st.SearchStrategy[object]] = [leaf, typed, typed, bare, timeline]
    if depth > 0:
        inner = _conditions(entity, depth - 1)
        nested = _conditions(other, depth - 1)
        options.append(
            st.builds(
                lambda g, items: {g: items},
                st.sampled_from([*GROUPS, "or"]),
                st.lists(inner, max_size=3),
            )
        )
        options.append(
            st.fixed_dictionaries({}, optional={"count": _count(), "where": nested}).map(
                lambda r: {relation: r}
            )
        )
        options.append(st.just({wrong: {}}))
    return st.one_of(options)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data(), entity=st.sampled_from(["organization", "person"]))
def test_random_definitions_schema_and_checker_agree(data: st.DataObject, entity: str) -> None:
    """Both accept or both reject (about one definition in six is valid)."""
    where = data.draw(_conditions(entity, 2))
    root = parsed(_as_file(entity, where))
    checker = [str(p) for p in checker_problems(root, "random", DATA_CATALOG)]
    schema = schema_errors(WITH_DATA, root)
    assert bool(checker) == bool(schema), f"checker: {checker}\nschema: {schema}"
    if not checker:
        assert schema_errors(NO_CATALOG, root) == []


# -- what the schema rejects ----------------------------------------------------------------

MISTAKES = {
    "unknown operator": "where: { name: { contians: acme } }",
    "operator of another type": "where: { name: { gt: 3 } }",
    "misspelled group": "where:\n  al:\n    - tags: { is: vip }",
    "group word of another tool": "where:\n  and:\n    - tags: { is: vip }",
    "group holding a mapping": "where:\n  all: { tags: { is: vip } }",
    "empty group": "where: { any: [] }",
    "list for a scalar": "where: { tags: { is: [vip, partner] } }",
    "scalar for a list": "where: { custom.plan: { in: premium } }",
    "empty in list": "where: { tags: { in: [] } }",
    "blank text": "where: { name: { is: '  ' } }",
    "phone without a digit": "where: { primary_phone: { starts_with: '+' } }",
    "unknown built-in attribute": "where: { job_titel: { contains: cto } }",
    "bare value": "where: { name: acme }",
    "two operators": "where: { custom.arr: { gte: 1, lte: 5 } }",
    "two conditions side by side": "where: { name: { is: a }, tags: { is: b } }",
    "bad duration": "where: { created_at: { within_last: 60 days } }",
    "zero duration": "where: { created_at: { within_last: 0d } }",
    "duration without unit": "where: { created_at: { within_last: 30 } }",
    "words for a date": "where: { created_at: { after: last monday } }",
    "between with one value": "where: { custom.arr: { between: [10] } }",
    "number in quotes": "where: { custom.arr: { gte: '50000' } }",
    "unknown top-level key": "team: marketing\nwhere: { tags: { is: vip } }",
    "bad entity": "entity: company\nwhere: { tags: { is: vip } }",
    "bad id": "id: Premium_France\nwhere: { tags: { is: vip } }",
    "no where": "name: Acme",
    "unknown event kind": "where: { timeline: { kind: chats } }",
    "kind any in a list": "where: { timeline: { kind: [any] } }",
    "two windows": "where: { timeline: { within_last: 30d, between: [2026-01-01, 2026-02-01] } }",
    "bare count": "where: { timeline: { kind: chat, count: 3 } }",
    "negative count": "where: { people: { count: { gte: -1 } } }",
    "unknown timeline option": "where: { timeline: { within: 30d } }",
    "people on a person segment": "entity: person\nwhere: { people: { count: { gte: 1 } } }",
    "rollup on a person segment": "entity: person\nwhere: { rollup.chats_30d: { gte: 3 } }",
    "organizations on an organization segment": "where: { organizations: {} }",
    "reference to a list": "where: { in_segment: [a, b] }",
    "custom without a key": "where: { custom: { is: a } }",
}
#: Mistakes only a catalog shows.
CATALOG_MISTAKES = {
    "unknown custom attribute": "where: { custom.plna: { is: premium } }",
    "custom attribute of the other entity": "entity: person\nwhere: { custom.plan: { is: a } }",
    "boolean in quotes": "where: { custom.is_customer: { is: 'true' } }",
    "custom operator of another type": "where: { custom.arr: { contains: 5 } }",
}


@pytest.mark.parametrize("text", MISTAKES.values(), ids=MISTAKES.keys())
def test_mistakes_do_not_validate(text: str) -> None:
    root = parsed(text)
    assert checker_problems(root, "mistake", DATA_CATALOG)
    assert schema_errors(NO_CATALOG, root)
    assert schema_errors(WITH_DATA, root)


@pytest.mark.parametrize("text", CATALOG_MISTAKES.values(), ids=CATALOG_MISTAKES.keys())
def test_catalog_mistakes_do_not_validate_with_the_catalog(text: str) -> None:
    root = parsed(text)
    assert checker_problems(root, "mistake", DATA_CATALOG)
    assert schema_errors(WITH_DATA, root)


def test_an_error_points_at_the_mistake() -> None:
    errors = schema_errors(WITH_DATA, parsed("where:\n  all:\n    - name: { contians: acme }\n"))
    assert any(e.startswith("where/all/0/name:") and "contians" in e for e in errors), errors


# -- the value patterns, against the readers they stand for ---------------------------------


def _matches(pattern: str, text: str) -> bool:
    return re.search(pattern, text) is not None  # as jsonschema applies ``pattern``


@settings(max_examples=500, deadline=None)
@given(st.text(st.sampled_from("0123456789dwhDWH -+.x\t٣٠"), max_size=8))
def test_duration_pattern_accepts_every_duration(text: str) -> None:
    if isinstance(parse_duration(text), Duration):
        assert _matches(DURATION_PATTERN, text)
    elif text.isascii():  # an Arabic-Indic zero is a digit, but not "0"
        assert not _matches(DURATION_PATTERN, text), text


_DATE = st.sampled_from(
    ["2026-01-31", "20260131", "2026-W05", "2026-W05-6", "2026W056", "2026-1-31", "2026"]
)
_TIME = st.sampled_from(
    ["", "T09", "T09:30", "T0930", " 09:30:15", "T09,5", "T0930,5", "T09:30:15.123", "x09:30:15,5"]
)
_OFFSET = st.sampled_from(
    ["", "Z", "z", " Z", "+01", "+01:00", "-0530", " +01:00", "+01:00:30.5", "+1", "+01:3"]
)


def _python_quirk(text: str) -> bool:
    """Python 3.11 reads the first 8 characters of a 10-character basic date and ignores
    the rest (``date.fromisoformat("202601310X")``); the schema does not copy that."""
    stripped = text.strip()
    return len(stripped) == 10 and not re.fullmatch(r"\d{4}-\d{2}-\d{2}|\d{4}-W\d{2}-\d", stripped)


@settings(max_examples=500, deadline=None)
@given(_DATE, _TIME, _OFFSET, st.sampled_from(["", " ", "\t"]))
def test_temporal_pattern_accepts_every_date_and_timestamp(
    date: str, time: str, offset: str, space: str
) -> None:
    text = f"{space}{date}{time}{offset}{space}"
    if parse_temporal(text) is not None and not _python_quirk(text):
        assert _matches(TEMPORAL_PATTERN, text), text


def test_checker_refuses_characters_after_a_basic_date() -> None:
    root = parsed("where: { created_at: { before: '202601310X' } }")
    assert checker_problems(root, "quirk", DATA_CATALOG)


@settings(max_examples=200, deadline=None)
@given(st.datetimes(timezones=st.none() | st.timezones()), st.sampled_from(["T", " "]))
def test_temporal_pattern_accepts_iso_timestamps(when: dt.datetime, sep: str) -> None:
    for spec in ("hours", "minutes", "seconds", "milliseconds", "microseconds"):
        assert _matches(TEMPORAL_PATTERN, when.isoformat(sep, spec))
    assert _matches(TEMPORAL_PATTERN, when.date().isoformat())


@pytest.mark.parametrize("text", ["last monday", "2026", "31/01/2026", "2026-01-31 and later", ""])
def test_temporal_pattern_rejects_words(text: str) -> None:
    assert not _matches(TEMPORAL_PATTERN, text)


@settings(max_examples=200, deadline=None)
@given(
    st.sampled_from(KINDS),
    st.lists(st.booleans(), min_size=6, max_size=6),
    st.sampled_from(["", " ", "\n"]),
)
def test_kind_pattern_is_case_insensitive(kind: str, upper: list[bool], space: str) -> None:
    pattern = segment_schema()["$defs"]["timeline"]["properties"]["kind"]["anyOf"][1]["pattern"]
    written = (
        space + "".join(c.upper() if u else c for c, u in zip(kind, upper, strict=False)) + space
    )
    assert _matches(pattern, written)
    assert _matches(pattern, written.replace("K", "\u212a"))  # the Kelvin sign lower-cases to k

"""The marketer's loop: list, preview, why and export, end to end on the bundled sample.

Every command is held to the batch run: preview's sizes are the published sizes, why's
verdict is the published membership, an export's rows are the published members with the
values of the inputs. Both engines.
"""

from __future__ import annotations

import csv
import json
import random
import shutil
from collections.abc import Iterator
from pathlib import Path

import polars as pl
import pyarrow.parquet as pq
import pytest

from pipeline.cli import main
from pipeline.engines import INTERACTIVE
from pipeline.explore.preview import preview
from pipeline.explore.session import load_definitions, validated_inputs
from pipeline.explore.tree import Node
from pipeline.explore.values import Reader, reader
from pipeline.explore.why import Why, probe, why
from pipeline.inputs.validate import ValidatedInputs
from pipeline.language import ir
from pipeline.run import RunConfig, run

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "data"
SEGMENTS = ROOT / "segments"
AS_OF = "2026-11-20T12:00:00Z"
#: The engines that answer the marketer's commands (``EngineSpec.interactive``).
ENGINES = INTERACTIVE


@pytest.fixture(scope="module")
def published(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The sample run by each engine into its own folder."""
    outs = {}
    for engine in ENGINES:
        out = tmp_path_factory.mktemp(f"out-{engine}")
        run(RunConfig(DATA, SEGMENTS, out, AS_OF, engine))
        outs[engine] = out
    return outs


@pytest.fixture(scope="module")
def inputs() -> Iterator[ValidatedInputs]:
    with validated_inputs(DATA) as validated:
        yield validated


@pytest.fixture(scope="module")
def values(inputs: ValidatedInputs) -> Iterator[Reader]:
    with reader(inputs.tables) as opened:
        yield opened


def _current(out: Path, table: str) -> pl.DataFrame:
    return pl.read_parquet(sorted((out / "current" / table).glob("*.parquet")))


def _members(out: Path) -> set[tuple[str, str, str]]:
    frame = _current(out, "segment_membership")
    return set(frame.select("segment_id", "property_id", "entity_id").iter_rows())


# -- preview -----------------------------------------------------------------------------------


@pytest.mark.parametrize("engine", ENGINES)
def test_preview_sizes_are_the_published_sizes(
    engine: str, published: dict[str, Path], inputs: ValidatedInputs, values: Reader
) -> None:
    definitions = load_definitions(DATA, SEGMENTS, AS_OF, "UTC")
    sizes = _current(published[engine], "segment_sizes")
    for segment in definitions.segments:
        shown = preview(definitions, inputs, values, engine, segment, None, 3)
        expected = {
            p: n
            for _, p, n in sizes.filter(pl.col("segment_id") == segment.id)
            .select("segment_id", "property_id", "members")
            .iter_rows()
        }
        assert dict(shown.sizes) == expected, segment.id
        members = _members(published[engine])
        for member in shown.sample:  # the sample: members, with the attributes read
            assert (segment.id, member.property_id, member.entity_id) in members
            assert set(member.values) == {a.dsl_name for a in ir.attributes(ir.scoped(segment))}


def test_preview_one_property_in_order(inputs: ValidatedInputs, values: Reader) -> None:
    definitions = load_definitions(DATA, SEGMENTS, AS_OF, "UTC")
    segment = definitions.segment("churn-risk-customers", SEGMENTS)
    shown = preview(definitions, inputs, values, "duckdb", segment, "site-fr", 5)
    assert list(shown.sizes) == ["site-fr"]
    keys = [(m.property_id, m.entity_id) for m in shown.sample]
    assert keys == sorted(keys) and {p for p, _ in keys} == {"site-fr"} and len(keys) == 5
    for member in shown.sample:  # compared values are the normalized stored ones
        phone = member.values["primary_phone"]
        assert isinstance(phone.stored, str)
        assert phone.compared == "".join(c for c in phone.stored if c.isdigit())


# -- why ---------------------------------------------------------------------------------------


def _consistent(result: Why, node: Node) -> None:
    """Each group's verdict is what its items' verdicts make it."""
    details = result.details
    verdict = details[node.number].verdict
    items = [details[c.number].verdict for c in node.children]
    match node.condition:
        case ir.All():
            assert verdict == all(items)
        case ir.AnyOf():
            assert verdict == any(items)
        case ir.Not(ir.AnyOf()):
            assert verdict == (not any(items))
        case ir.Not(ir.All() | ir.Not() | ir.InSegment()) | ir.InSegment():
            assert verdict == (
                items[0] if isinstance(node.condition, ir.InSegment) else not items[0]
            )
        case ir.Related(count=count) | ir.Not(ir.Related(count=count)):
            detail = details[node.number]
            if node.nested is not None:
                assert detail.count == sum(1 for item in detail.linked if item.matches)
            assert detail.count is not None
            n = detail.count
            low_ok = count.low is None or n > count.low or (count.low_inclusive and n == count.low)
            high_ok = (
                count.high is None or n < count.high or (count.high_inclusive and n == count.high)
            )
            within = low_ok and high_ok
            assert verdict == (within if isinstance(node.condition, ir.Related) else not within)
        case _:
            pass
    for child in node.children:
        _consistent(result, child)


@pytest.mark.parametrize("engine", ENGINES)
def test_why_agrees_with_the_published_membership(
    engine: str, published: dict[str, Path], inputs: ValidatedInputs, values: Reader
) -> None:
    definitions = load_definitions(DATA, SEGMENTS, AS_OF, "UTC")
    members = _members(published[engine])
    keys = {
        "organization": pl.read_parquet(DATA / "organizations.parquet")
        .select("property_id", "org_id")
        .rows(),
        "person": pl.read_parquet(DATA / "people.parquet")
        .select("property_id", "person_id")
        .rows(),
    }
    chooser = random.Random(7)
    checked = 0
    for segment in definitions.segments:
        probed = probe(definitions, inputs, engine, segment)
        inside = sorted((p, i) for s, p, i in members if s == segment.id)
        picked = chooser.sample(keys[segment.entity], 12) + chooser.sample(
            inside, min(4, len(inside))
        )
        for property_id, entity_id in picked:
            result = why(probed, values, entity_id, property_id)
            assert result.member == ((segment.id, property_id, entity_id) in members), (
                segment.id,
                property_id,
                entity_id,
            )
            _consistent(result, result.root)
            checked += 1
    assert checked >= 16 * len(definitions.segments) - 40


def test_why_shows_stored_and_compared_values_events_and_links(
    inputs: ValidatedInputs, values: Reader
) -> None:
    definitions = load_definitions(DATA, SEGMENTS, AS_OF, "UTC")
    churn = probe(
        definitions, inputs, "duckdb", definitions.segment("churn-risk-customers", SEGMENTS)
    )
    result = why(churn, values, "o1", "site-fr")
    phone = next(d for d in result.details.values() if "primary_phone" in d.values)
    shown = phone.values["primary_phone"]
    assert shown.stored == "06 69 92 75 02" and shown.compared == "0669927502"
    tags = next(d for d in result.details.values() if "tags" in d.values).values["tags"]
    assert tags.stored == ["customer", "churn-risk", ""] and tags.compared == [
        "customer",
        "churn-risk",
    ]

    people = pl.read_parquet(DATA / "organization_people.parquet")
    linked = people.group_by("property_id", "org_id").len().sort("len", descending=True).row(0)
    cto = probe(
        definitions, inputs, "duckdb", definitions.segment("enterprise-without-cto", SEGMENTS)
    )
    result = why(cto, values, linked[1], linked[0])
    related = next(d for d in result.details.values() if d.linked)
    expected = (
        people.filter((pl.col("property_id") == linked[0]) & (pl.col("org_id") == linked[1]))
        .get_column("person_id")
        .unique()
        .sort()
        .to_list()
    )
    assert [item.entity_id for item in related.linked] == expected

    timeline = next(
        s
        for s in definitions.segments
        if s.entity == "organization"
        and any(isinstance(p, ir.Activity) for p in ir.predicates(s.where))
    )
    probed = probe(definitions, inputs, "duckdb", timeline)
    events = pl.read_parquet(DATA / "timeline.parquet").filter(pl.col("org_id").is_not_null())
    busiest = events.group_by("property_id", "org_id").len().sort("len", descending=True).row(0)
    result = why(probed, values, busiest[1], busiest[0])
    counted = [d for d in result.details.values() if d.count is not None and not d.linked]
    assert counted and all(len(d.events) == min(d.count or 0, 10) for d in counted)


def test_why_cli(published: dict[str, Path], capsys: pytest.CaptureFixture[str]) -> None:
    args = ["--data", str(DATA), "--segments", str(SEGMENTS), "--as-of", AS_OF]
    assert main(["why", "churn-risk-customers", "o1", "--property", "site-fr", *args]) == 0
    text = capsys.readouterr().out
    assert "is NOT a member of churn-risk-customers" in text
    assert "primary_phone: stored '06 69 92 75 02', compared '0669927502'" in text
    assert (
        main(
            [
                "why",
                "churn-risk-customers",
                "o1",
                "--format",
                "json",
                "--property",
                "site-fr",
                "--engine",
                "polars",
                *args,
            ]
        )
        == 0
    )
    answer = json.loads(capsys.readouterr().out)
    assert answer["member"] is False and answer["condition"]["condition"] == "all of"


@pytest.mark.parametrize(
    ("argv", "message", "hint"),
    [
        (["why", "churn-risk-customers", "o1"], "'o1' is in 3 properties", "--property site-de"),
        (["why", "churn-risk-customers", "nobody"], "no organization 'nobody'", "exactly"),
        (
            ["why", "churn-risk-customers", "o1", "--property", "site-xx"],
            "in property 'site-xx'",
            "--property",
        ),
        (
            ["why", "churn-risk-customer", "o1"],
            "no segment 'churn-risk-customer'",
            "did you mean 'churn-risk-customers'",
        ),
        (
            ["why", "churn-risk-customers", "o1", "--engine", "polar"],
            "unknown engine 'polar'",
            "did you mean 'polars'",
        ),
        (
            ["preview", "churn-risk-customers", "--property", "site-frr"],
            "--property 'site-frr'",
            "did you mean 'site-fr'",
        ),
        (
            ["preview", "churn-risk-customers", "--format", "yaml"],
            "unknown --format 'yaml'",
            "table or json",
        ),
    ],
)
def test_loop_errors_are_located(
    argv: list[str], message: str, hint: str, capsys: pytest.CaptureFixture[str]
) -> None:
    args = ["--data", str(DATA), "--segments", str(SEGMENTS), "--as-of", AS_OF]
    assert main([*argv, *args]) == 4
    err = capsys.readouterr().err
    assert message in err.splitlines()[0] and hint in err


def test_preview_cli(capsys: pytest.CaptureFixture[str], published: dict[str, Path]) -> None:
    args = ["--data", str(DATA), "--segments", str(SEGMENTS), "--as-of", AS_OF]
    assert (
        main(["preview", "vip-people-at-enterprise", "--format", "json", "--limit", "2", *args])
        == 0
    )
    answer = json.loads(capsys.readouterr().out)
    sizes = _current(published["duckdb"], "segment_sizes").filter(
        pl.col("segment_id") == "vip-people-at-enterprise"
    )
    assert answer["members"] == sizes.get_column("members").sum()
    assert len(answer["sample"]) == 2
    assert main(["preview", "vip-people-at-enterprise", "--limit", "0", *args]) == 0
    text = capsys.readouterr().out
    assert text.startswith(f"vip-people-at-enterprise: {answer['members']:,} people")
    assert "nothing published" in text and "the first" not in text


# -- export ------------------------------------------------------------------------------------


def _inputs_of(segment_id: str, out: Path) -> pl.DataFrame:
    """The segment's members with the organizations' stored columns and custom values."""
    members = _current(out, "segment_membership").filter(pl.col("segment_id") == segment_id)
    orgs = pl.read_parquet(DATA / "organizations.parquet")
    joined = members.select("property_id", pl.col("entity_id").alias("org_id")).join(
        orgs, on=["property_id", "org_id"], how="left"
    )
    return joined.sort("property_id", "org_id")


@pytest.mark.parametrize("fmt", ["csv", "parquet", "jsonl"])
def test_export_round_trips(
    fmt: str, published: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    target = tmp_path / f"churn.{fmt}"
    argv = [
        "export",
        "churn-risk-customers",
        "--out",
        str(published["duckdb"]),
        "--data",
        str(DATA),
        "--format",
        fmt,
        "--output",
        str(target),
    ]
    assert main(argv) == 0
    expected = _inputs_of("churn-risk-customers", published["duckdb"])
    assert capsys.readouterr().out.startswith(
        f"{expected.height:,} members of churn-risk-customers"
    )
    if fmt == "parquet":
        got = pl.read_parquet(target)
    elif fmt == "jsonl":
        got = pl.read_ndjson(target)
    else:
        with target.open(newline="", encoding="utf-8") as handle:
            rows = list(csv.DictReader(handle))
        assert [(r["property_id"], r["org_id"]) for r in rows] == expected.select(
            "property_id", "org_id"
        ).rows()
        # csv has no null: a null is an empty cell, as an empty text is (quoted: "")
        assert [r["name"] for r in rows] == [v or "" for v in expected.get_column("name")]
        tags = [
            "; ".join(e for e in t if e is not None) if t is not None else ""
            for t in expected.get_column("tags").to_list()
        ]
        assert [r["tags"] for r in rows] == tags
        return
    assert (
        got.select("property_id", "org_id").rows()
        == expected.select("property_id", "org_id").rows()
    )
    for column in ("name", "primary_phone", "tags", "emails"):
        assert got.get_column(column).to_list() == expected.get_column(column).to_list(), column
    # custom attributes are columns: plan equals attribute_values' text of that key
    values = pl.read_parquet(DATA / "attribute_values.parquet").filter(
        (pl.col("entity") == "organization") & (pl.col("key") == "plan")
    )
    plan = dict(
        ((p, e), v)
        for p, e, v in values.select("property_id", "entity_id", "value_text").iter_rows()
    )
    assert got.get_column("plan").to_list() == [
        plan.get((p, o)) for p, o in expected.select("property_id", "org_id").iter_rows()
    ]


def test_export_choices_and_errors(
    published: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = str(published["polars"])
    target = tmp_path / "vip.jsonl"
    argv = [
        "export",
        "vip-people-at-enterprise",
        "--out",
        out,
        "--data",
        str(DATA),
        "--format",
        "jsonl",
        "--columns",
        "name,is_vip",
        "--property",
        "site-fr",
        "--output",
        str(target),
    ]
    assert main(argv) == 0
    rows = [json.loads(line) for line in target.read_text().splitlines()]
    assert rows and set(rows[0]) == {"property_id", "person_id", "name", "is_vip"}
    assert {r["property_id"] for r in rows} == {"site-fr"} and all(r["is_vip"] for r in rows)
    capsys.readouterr()
    empty = tmp_path / "empty-out"
    empty.mkdir()
    cases = [
        (["--out", str(empty)], "no published run in"),
        (["--out", out, "--columns", "nme"], "no column 'nme'"),
        (["--out", out, "--format", "xlsx"], "unknown --format 'xlsx'"),
        (["--out", out, "--output", str(tmp_path / "missing" / "x.csv")], "does not exist"),
    ]
    for extra, message in cases:
        assert main(["export", "vip-people-at-enterprise", "--data", str(DATA), *extra]) == 4
        assert message in capsys.readouterr().err
    assert not list(tmp_path.glob(".*partial*"))


# -- list and metadata -------------------------------------------------------------------------


def test_list_shows_sizes_of_the_last_run(
    published: dict[str, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    argv = [
        "list",
        "--data",
        str(DATA),
        "--segments",
        str(SEGMENTS),
        "--out",
        str(published["duckdb"]),
        "--format",
        "json",
    ]
    assert main(argv) == 0
    listed = json.loads(capsys.readouterr().out)
    sizes = (
        _current(published["duckdb"], "segment_sizes")
        .group_by("segment_id")
        .agg(pl.col("members").sum())
    )
    assert {s["segment_id"]: s["members"] for s in listed["segments"]} == dict(sizes.iter_rows())
    disengaged = next(s for s in listed["segments"] if s["segment_id"] == "disengaged-customers")
    assert disengaged["depends_on"] == ["engaged-accounts", "churn-risk-customers"]
    assert listed["published_as_of"] == "2026-11-20T12:00:00Z"


METADATA = """\
owner: lifecycle@example.com
tags: [weekly, " crm "]
meta: {jira: MKT-12, channel: email}
where:
  tags: {contains: vip}
"""


def test_metadata_is_published_and_disabled_segments_are_not_run(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = tmp_path / "segments"
    folder.mkdir()
    (folder / "vip.yaml").write_text(METADATA)
    (folder / "parked.yaml").write_text("enabled: false\nwhere: {no_such: {is: 1}}\n")
    (folder / "plain.yaml").write_text("where:\n  tags: {contains: vip}\n")
    out = tmp_path / "out"
    run(RunConfig(DATA, folder, out, AS_OF))
    catalog = pq.read_table(sorted((out / "current" / "segments").glob("*.parquet"))).to_pylist()
    by_id = {row["segment_id"]: row for row in catalog}
    assert set(by_id) == {"vip", "plain"}
    assert by_id["vip"]["owner"] == "lifecycle@example.com"
    assert by_id["vip"]["tags"] == ["weekly", "crm"]
    assert json.loads(by_id["vip"]["meta"]) == {"channel": "email", "jira": "MKT-12"}
    assert by_id["plain"]["owner"] is None and by_id["plain"]["tags"] == []
    # metadata is not the definition: the same condition, the same hash
    assert by_id["vip"]["definition_hash"] == by_id["plain"]["definition_hash"]

    (folder / "uses.yaml").write_text("where:\n  in_segment: parked\n")
    assert main(["validate", "--data", str(DATA), "--segments", str(folder)]) == 1
    err = capsys.readouterr().err
    assert "uses.yaml:2:15: segment 'parked' is disabled" in err
    assert "enable it again, or remove this reference" in err


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("tags: weekly\n", "`tags` takes a list of words"),
        ("tags: [' ']\n", "`tags` holds a blank tag"),
        ("enabled: nope\n", "`enabled` must be true or false, got 'nope'"),
        ("meta: [1, 2]\n", "`meta` takes a mapping of your own keys"),
    ],
)
def test_bad_metadata_is_located(
    text: str, message: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = tmp_path / "segments"
    folder.mkdir()
    (folder / "bad.yaml").write_text(text + "where: {tags: {contains: vip}}\n")
    assert main(["validate", "--data", str(DATA), "--segments", str(folder)]) == 1
    err = capsys.readouterr().err
    assert "bad.yaml:1:" in err and message in err


def test_explore_leaves_no_files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Preview and why publish nothing and remove their temporary inputs."""
    monkeypatch.setenv("TMPDIR", str(tmp_path))
    import tempfile

    monkeypatch.setattr(tempfile, "tempdir", None)
    args = ["--data", str(DATA), "--segments", str(SEGMENTS), "--as-of", AS_OF]
    assert main(["preview", "churn-risk-customers", "--limit", "1", *args]) == 0
    assert main(["why", "churn-risk-customers", "o1", "--property", "site-fr", *args]) == 0
    assert list(tmp_path.iterdir()) == []


# -- explain -----------------------------------------------------------------------------------


def test_explain_cli(capsys: pytest.CaptureFixture[str]) -> None:
    args = ["--data", str(DATA), "--segments", str(SEGMENTS), "--as-of", AS_OF]
    assert main(["explain", "disengaged-customers", *args]) == 0
    text = capsys.readouterr().out
    assert text.startswith("Disengaged customers (id disengaged-customers)")
    # references expanded by name, the unknown rule spelled out, no SQL unless asked
    assert "is not a member of segment 'engaged-accounts', whose members are" in text
    assert "organizations with no plan are included" in text
    assert "SELECT" not in text
    assert main(["explain", "engaged-accounts", "--sql", *args]) == 0
    text = capsys.readouterr().out
    assert "number of chats in the last 30 days (timeline rollup) is at least 1" in text
    assert "SQL (DuckDB)" in text and text.rstrip().endswith(";") and "SELECT" in text
    assert main(["explain", "engaged-account", *args]) == 4
    assert "did you mean 'engaged-accounts'" in capsys.readouterr().err


# -- validate --data ---------------------------------------------------------------------------

SUSPECT = {
    "plans.yaml": "where:\n  custom.plan: {in: [pro, business]}\n",
    "site.yaml": "properties: [site-frr]\nwhere:\n  tags: {contains: vip}\n",
    "nobody.yaml": "where:\n  custom.arr: {gt: 1000000000}\n",
}


@pytest.mark.parametrize("engine", ENGINES)
def test_validate_against_the_data_warns(
    engine: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    for name, text in SUSPECT.items():
        (tmp_path / name).write_text(text)
    argv = ["validate", "--segments", str(tmp_path), "--as-of", AS_OF, "--engine", engine]
    assert main(argv) == 0  # without --data: the definitions alone
    assert capsys.readouterr().out.strip() == "3 segments OK"
    assert main([*argv, "--data", str(DATA)]) == 0
    captured = capsys.readouterr()
    assert captured.out.strip() == f"3 segments OK, 4 warnings against {DATA}"
    warning = f"segments: warning: {tmp_path}/plans.yaml:2:17: no contact has custom.plan 'pro'"
    assert warning in captured.err.splitlines()[0] or warning in captured.err
    assert "no contact has custom.plan 'business'" not in captured.err
    assert "values in the data: " in captured.err and "'business'" in captured.err
    assert "`properties` names site-frr: no organization in the data" in captured.err
    assert "did you mean 'site-fr'?" in captured.err
    # the segment whose properties match nothing, and the one no organization meets
    assert captured.err.count("matches no organization as of 2026-11-20 12:00:00 UTC") == 2
    assert main([*argv, "--data", str(DATA), "--strict"]) == 1


def test_unseen_values_scan_a_whole_table_only_for_an_attribute_of_few_values(
    tmp_path: Path, values: Reader, monkeypatch: pytest.MonkeyPatch
) -> None:
    from pipeline.explore import lint

    (tmp_path / "checked.yaml").write_text(
        "where:\n  all:\n"
        "    - name: {is: No Such Org}\n"  # 2,580 distinct names
        "    - custom.plan: {in: [pro, business]}\n"  # 16 distinct plans
        "    - custom.industry: {is: nope}\n"  # 28 distinct industries
        "    - tags: {is: no-such-tag}\n"  # over 200 distinct tags
        "    - people: {where: {custom.seniority: {is: nope}}}\n"  # 9 distinct seniorities
    )
    definitions = load_definitions(DATA, tmp_path, AS_OF, "UTC")
    monkeypatch.setattr(lint, "FEW_VALUES", 20)
    read: list[tuple[str, int | None]] = []
    query = lint.distinct_values_query

    def recorded(entity: str, attr: ir.Attr, types: object, limit: int, head: int | None):
        read.append((attr.dsl_name, head))
        return query(entity, attr, types, limit, head)  # type: ignore[arg-type]

    monkeypatch.setattr(lint, "distinct_values_query", recorded)
    found: dict[int, list[str]] = {}
    for rows in (50, 100, 10**9):
        monkeypatch.setattr(lint, "PROBE_ROWS", rows)
        read.clear()
        found[rows] = [str(w) for w in lint.unseen_values(definitions, values)]
        # names: the first rows alone hold more than 20, the table is not grouped whole
        assert [h for name, h in read if name == "name"] == [rows]
        # plans: few in the first rows and few in all, so the table is read whole
        assert [h for name, h in read if name == "custom.plan"] == [rows, None]
    # industries: 28 in all but at most 10 in the first 10 rows: read whole, then not checked
    monkeypatch.setattr(lint, "PROBE_ROWS", 10)
    read.clear()
    found[10] = [str(w) for w in lint.unseen_values(definitions, values)]
    assert [h for name, h in read if name == "custom.industry"] == [10, None]
    # the same warnings whatever the probe: 'pro' (no such plan) and the seniority, only
    assert found[10] == found[50] == found[100] == found[10**9]
    assert len(found[10]) == 2
    assert "no contact has custom.plan 'pro'" in found[10][0]
    assert "no contact has custom.seniority 'nope'" in found[10][1]


def test_the_inputs_a_run_published_are_not_validated_again(
    published: dict[str, Path], tmp_path: Path, values: Reader
) -> None:
    from pipeline.explore.session import published_inputs

    out = published["duckdb"]
    reused = published_inputs(DATA, out)
    assert reused is not None
    assert all(path.is_relative_to((out / "current").resolve()) for path in reused.tables.values())
    definitions = load_definitions(DATA, SEGMENTS, AS_OF, "UTC")
    segment = definitions.segment("churn-risk-customers", SEGMENTS)
    with reader(reused.tables) as read:
        fast = preview(definitions, reused, read, "duckdb", segment, None, 5)
    with validated_inputs(DATA) as fresh:
        slow = preview(definitions, fresh, values, "duckdb", segment, None, 5)
    assert dict(fast.sizes) == dict(slow.sizes) and fast.sample == slow.sample
    # other inputs than the run read (one file rewritten): validated again
    changed = tmp_path / "data"
    shutil.copytree(DATA, changed)
    table = pl.read_parquet(changed / "organizations.parquet")
    table.head(table.height - 1).write_parquet(changed / "organizations.parquet")
    assert published_inputs(changed, out) is None
    assert published_inputs(DATA, tmp_path / "no-run") is None

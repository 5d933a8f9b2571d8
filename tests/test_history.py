"""Membership over time: a sequence of runs with exact history, changes and sizes."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from engine_helpers import ENGINES, engine_options

from pipeline.errors import RunError
from pipeline.inputs.schema import TABLES
from pipeline.outputs import CHANGES, HISTORY, MEMBERSHIP
from pipeline.publish import snapshot
from pipeline.run import RunConfig, run

UTC = dt.UTC
T1 = dt.datetime(2026, 11, 1, 12, tzinfo=UTC)
T2 = dt.datetime(2026, 11, 2, 12, tzinfo=UTC)
T3 = dt.datetime(2026, 11, 3, 12, tzinfo=UTC)

SEGMENTS = {
    "vip": "where:\n  tags: {contains: vip}\n",
    "acme": "where:\n  name: {contains: acme}\n",
}


def _orgs(
    tags: dict[str, list[str]], names: dict[str, str] | None = None
) -> list[dict[str, object]]:
    names = names or {}
    return [
        {"property_id": "p", "org_id": org, "tags": org_tags, "name": names.get(org, org)}
        for org, org_tags in tags.items()
    ]


def _write_data(root: Path, orgs: list[dict[str, object]]) -> Path:
    data = root / "data"
    data.mkdir(exist_ok=True)
    tables: dict[str, list[dict[str, object]]] = {t: [] for t in TABLES}
    tables["organizations"] = orgs
    for table, rows in tables.items():
        schema = TABLES[table]
        pa_table = pa.Table.from_pylist(
            [{c: r.get(c) for c in schema.names} for r in rows], schema=schema
        )
        pq.write_table(pa_table, data / f"{table}.parquet")
    return data


@pytest.fixture(params=ENGINES)
def engine(request: pytest.FixtureRequest) -> str:
    name = str(request.param)
    engine_options(name)  # the tests' one Spark session, started before a run reuses it
    return name


class Project:
    def __init__(self, root: Path, engine: str) -> None:
        self.root = root
        self.engine = engine
        self.segments = root / "segments"
        self.segments.mkdir()
        for name, text in SEGMENTS.items():
            (self.segments / f"{name}.yaml").write_text(text)
        self.out = root / "out"

    def run(self, orgs: list[dict[str, object]], as_of: dt.datetime, **flags: object) -> str:
        data = _write_data(self.root, orgs)
        config = RunConfig(
            data=data,
            segments=self.segments,
            out=self.out,
            as_of=as_of.isoformat(),
            engine=self.engine,
            **flags,  # type: ignore[arg-type]
        )
        return run(config).run_id

    def rows(self, table: str) -> list[dict[str, object]]:
        return pq.read_table(self.out / table).to_pylist()

    def history(self) -> set[tuple[object, ...]]:
        return {
            (r["segment_id"], r["entity_id"], r["valid_from"], r["valid_to"])
            for r in self.rows("segment_membership_history")
        }

    def changes(self) -> set[tuple[object, ...]]:
        return {
            (r["as_of"], r["segment_id"], r["entity_id"], r["change"])
            for r in self.rows("segment_changes")
        }

    def sizes(self) -> set[tuple[object, ...]]:
        return {
            (r["as_of"], r["segment_id"], r["members"], r["entered"], r["exited"])
            for r in self.rows("segment_sizes")
        }


@pytest.fixture
def project(tmp_path: Path, engine: str) -> Project:
    return Project(tmp_path, engine)


def test_sequence_of_runs_gives_exact_history_changes_and_sizes(project: Project) -> None:
    # Run 1: o1 and o2 are vip; nobody is acme.
    project.run(_orgs({"o1": ["vip"], "o2": ["vip"], "o3": []}), T1)
    assert project.history() == {("vip", "o1", T1, None), ("vip", "o2", T1, None)}
    assert project.changes() == {(T1, "vip", "o1", "entered"), (T1, "vip", "o2", "entered")}
    assert project.sizes() == {(T1, "vip", 2, 2, 0), (T1, "acme", 0, 0, 0)}

    # Run 2: o2 leaves vip, o3 joins; o1 becomes acme.
    project.run(_orgs({"o1": ["vip"], "o2": [], "o3": ["VIP"]}, {"o1": "Acme"}), T2)
    assert project.history() == {
        ("vip", "o1", T1, None),
        ("vip", "o2", T1, T2),
        ("vip", "o3", T2, None),
        ("acme", "o1", T2, None),
    }
    assert project.changes() - {(T1, "vip", "o1", "entered"), (T1, "vip", "o2", "entered")} == {
        (T2, "vip", "o2", "exited"),
        (T2, "vip", "o3", "entered"),
        (T2, "acme", "o1", "entered"),
    }
    assert {s for s in project.sizes() if s[0] == T2} == {
        (T2, "vip", 2, 1, 1),
        (T2, "acme", 1, 1, 0),
    }

    # Run 3: o2 comes back to vip (a second stay); the acme segment is deleted.
    (project.segments / "acme.yaml").unlink()
    project.run(_orgs({"o1": ["vip"], "o2": ["vip"], "o3": ["vip"]}, {"o1": "Acme"}), T3)
    assert project.history() == {
        ("vip", "o1", T1, None),
        ("vip", "o2", T1, T2),
        ("vip", "o2", T3, None),
        ("vip", "o3", T2, None),
        ("acme", "o1", T2, T3),  # a deleted segment closes its open stays
    }
    assert {c for c in project.changes() if c[0] == T3} == {
        (T3, "vip", "o2", "entered"),
        (T3, "acme", "o1", "exited"),
    }
    assert {s for s in project.sizes() if s[0] == T3} == {
        (T3, "vip", 3, 1, 0),
        (T3, "acme", 0, 0, 1),
    }
    current = {(r["segment_id"], r["entity_id"]) for r in project.rows("segment_membership")}
    assert current == {("vip", "o1"), ("vip", "o2"), ("vip", "o3")}
    runs = project.rows("runs")
    assert [r["as_of"] for r in runs] == [T1, T2, T3]
    assert [(r["entered"], r["exited"]) for r in runs] == [(2, 0), (2, 1), (1, 1)]


def test_a_segment_emptied_then_refilled_keeps_its_closed_stays(project: Project) -> None:
    project.run(_orgs({"o1": ["vip"], "o2": ["vip"]}), T1)
    project.run(_orgs({"o1": [], "o2": []}), T2)  # no open stay is left anywhere
    project.run(_orgs({"o1": ["vip"], "o2": []}), T3)
    assert project.history() == {
        ("vip", "o1", T1, T2),
        ("vip", "o2", T1, T2),
        ("vip", "o1", T3, None),
    }
    assert {c for c in project.changes() if c[0] == T3} == {(T3, "vip", "o1", "entered")}
    assert {s for s in project.sizes() if s[0] == T3} == {
        (T3, "vip", 1, 1, 0),
        (T3, "acme", 0, 0, 0),
    }


def test_identical_rerun_changes_nothing(project: Project) -> None:
    orgs = _orgs({"o1": ["vip"], "o2": []})
    project.run(orgs, T1)
    first = {
        t: project.rows(t)
        for t in (
            "segment_membership_history",
            "segment_changes",
            "segment_sizes",
            "segment_membership",
        )
    }
    run_id = project.run(orgs, T1)
    again = {t: project.rows(t) for t in first}
    assert again == first
    runs = project.rows("runs")
    assert [r["run_id"] for r in runs] == [run_id]


def test_backfill_is_refused_without_rebuild(project: Project) -> None:
    project.run(_orgs({"o1": ["vip"]}), T2)
    before = project.rows("segment_membership_history")
    with pytest.raises(RunError, match="is not after the last published run") as error:
        project.run(_orgs({"o1": []}), T1)
    assert "--rebuild" in str(error.value)
    # Also the same as_of with different inputs.
    with pytest.raises(RunError, match="is not after the last published run"):
        project.run(_orgs({"o1": []}), T2)
    assert project.rows("segment_membership_history") == before


def test_rebuild_rewrites_history_from_as_of(project: Project) -> None:
    project.run(_orgs({"o1": ["vip"], "o2": []}), T1)
    project.run(_orgs({"o1": [], "o2": ["vip"]}), T2)
    project.run(_orgs({"o1": [], "o2": []}), T3)

    # Data for T2 was wrong: rebuild from T2 with the corrected data.
    project.run(_orgs({"o1": ["vip"], "o2": ["vip"]}), T2, rebuild=True)
    assert project.history() == {("vip", "o1", T1, None), ("vip", "o2", T2, None)}
    assert project.changes() == {(T1, "vip", "o1", "entered"), (T2, "vip", "o2", "entered")}
    assert {s for s in project.sizes() if s[1] == "vip"} == {
        (T1, "vip", 1, 1, 0),
        (T2, "vip", 2, 1, 0),
    }
    statuses = [(r["as_of"], r["status"]) for r in project.rows("runs")]
    assert statuses == [
        (T1, "succeeded"),
        (T2, "rolled_back"),
        (T3, "rolled_back"),
        (T2, "succeeded"),
    ]
    # Runs continue normally afterwards.
    project.run(_orgs({"o1": [], "o2": ["vip"]}), T3)
    assert ("vip", "o1", T1, T3) in project.history()


def test_segment_sizes_cover_every_property_in_scope(tmp_path: Path, engine: str) -> None:
    project = Project(tmp_path, engine)
    (project.segments / "scoped.yaml").write_text(
        "properties: [q]\nwhere:\n  tags: {contains: x}\n"
    )
    orgs = [
        {"property_id": "p", "org_id": "o1", "tags": ["x"]},
        {"property_id": "q", "org_id": "o1", "tags": ["y"]},
    ]
    project.run(orgs, T1)
    sizes = {
        (r["segment_id"], r["property_id"], r["members"]) for r in project.rows("segment_sizes")
    }
    assert sizes == {
        ("vip", "p", 0),
        ("vip", "q", 0),
        ("acme", "p", 0),
        ("acme", "q", 0),
        ("scoped", "q", 0),
    }


def test_published_tables_are_in_code_point_order(project: Project) -> None:
    # Ids and segment ids whose order differs between code points, case-insensitive and
    # locale collations; both entity kinds' segments interleave.
    ids = ["o10", "o2", "O3", "é1", "e2", "Z", "z", "ä", "10", "9", "o-1", "o_1", "😀", "ａ"]
    segments = {
        "a_b": "where:\n  tags: {contains: vip}\n",
        "a-b": "where:\n  name: {has_any_value: true}\n",
        "a10": "entity: person\nwhere:\n  name: {is_unknown: true}\n",
        "a2": "where:\n  tags: {contains: vip}\n",
    }
    for name, text in segments.items():
        (project.segments / f"{name}.yaml").write_text(text)
    data = _write_data(project.root, _orgs({i: ["vip"] for i in ids}))
    for table in ("people", "timeline"):
        rows = (
            [{"property_id": "p", "person_id": i} for i in ids]
            if table == "people"
            else [
                {
                    "property_id": "p",
                    "event_id": f"e{n}",
                    "org_id": org,
                    "kind": kind,
                    "occurred_at": T1 - dt.timedelta(days=day),
                }
                for n, (org, kind, day) in enumerate(
                    (o, k, d) for o in ids for k in ("note", "chat") for d in (1, 2)
                )
            ]
        )
        pq.write_table(pa.Table.from_pylist(rows, schema=TABLES[table]), data / f"{table}.parquet")
    run(
        RunConfig(
            data=data,
            segments=project.segments,
            out=project.out,
            as_of=T1.isoformat(),
            engine=project.engine,
        )
    )

    def keys(table: str, columns: tuple[str, ...]) -> list[tuple[object, ...]]:
        return [tuple(r[c] for c in columns) for r in project.rows(table)]

    membership = keys("segment_membership", ("segment_id", "property_id", "entity_id"))
    assert len(membership) > 3 * len(ids)
    assert membership == sorted(membership)
    rollups = keys("timeline_rollups", ("property_id", "org_id"))
    assert len(rollups) == len(ids) and rollups == sorted(rollups)
    daily = keys("timeline_daily", ("property_id", "org_id", "day", "kind"))
    assert len(daily) == 4 * len(ids) and daily == sorted(daily)
    history = keys("segment_membership_history", ("segment_id", "property_id", "entity_id"))
    assert history == membership


def test_later_runs_keep_history_and_changes_in_order(project: Project) -> None:
    # Entries and exits interleave in code point order, within and across the two segments,
    # so that neither this run's nor the earlier rows can simply be appended.
    ids = ["o10", "o2", "O3", "é1", "e2", "Z", "z", "10", "9", "o-1"]
    first = {i: ["vip"] for i in ids[::2]} | {i: [] for i in ids[1::2]}
    project.run(_orgs(first, {i: "acme" for i in ids[::3]}), T1)
    second = {i: ["vip"] for i in ids[1::2]} | {i: ["vip"] for i in ids[:4:2]}
    second |= {i: [] for i in ids if i not in second}
    project.run(_orgs(second, {i: "acme" for i in ids[1::3]}), T2)

    history = [
        (r["segment_id"], r["property_id"], r["entity"], r["entity_id"], r["valid_from"])
        for r in project.rows("segment_membership_history")
    ]
    changes = [
        (r["as_of"], r["segment_id"], r["property_id"], r["entity_id"], r["change"])
        for r in project.rows("segment_changes")
    ]
    kinds = {c[-1] for c in changes if c[0] == T2}
    assert kinds == {"entered", "exited"}
    assert len(history) == len(set(history)) > len(ids)
    assert history == sorted(history)
    assert [c[:4] for c in changes] == sorted(c[:4] for c in changes)
    # The closed stays are still there, closed at T2.
    closed = {
        (r["segment_id"], r["entity_id"])
        for r in project.rows("segment_membership_history")
        if r["valid_to"] == T2
    }
    assert ("vip", "e2") in closed and ("vip", "o10") not in closed


def test_runs_append_their_changes_and_compact_them_now_and_then(
    project: Project, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A run writes only its own changes; the earlier files are linked, never rewritten (also
    once the snapshot that wrote them is pruned), and every MAX_PARTS files become one."""
    monkeypatch.setattr(snapshot, "MAX_PARTS", 3)
    days = [dt.datetime(2026, 11, day, 12, tzinfo=UTC) for day in range(1, 7)]
    tags = [["vip"], []]
    seen: dict[str, tuple[int, bytes]] = {}  # file name -> (inode, bytes) when first written
    expected: set[tuple[object, ...]] = set()
    for number, day in enumerate(days):
        orgs = _orgs({f"o{i}": tags[(i + number) % 2] for i in range(4)})
        project.run(orgs, day, keep=1)
        folder = (project.out / "segment_changes").resolve()
        files = sorted(p.name for p in folder.glob("*.parquet"))
        this_run = {
            (day, f"o{i}", "entered" if (i + number) % 2 == 0 else "exited")
            for i in range(4)
            if number > 0 or (i + number) % 2 == 0
        }
        expected |= this_run
        changes = [
            (r["as_of"], r["entity_id"], r["change"]) for r in project.rows("segment_changes")
        ]
        assert set(changes) == expected and len(changes) == len(expected)
        assert [c[0] for c in changes] == sorted(c[0] for c in changes), "runs in order"
        runs = project.rows("runs")
        assert json.loads(str(runs[-1]["output_rows"]))["segment_changes"] == len(expected)
        # Runs 1-3 add a file each; run 4 would be the fourth: all are compacted into one.
        assert len(files) == [1, 2, 3, 1, 2, 3][number], files
        for name in files:
            inode, content = (folder / name).stat().st_ino, (folder / name).read_bytes()
            if name in seen and name != "part-0.parquet":
                assert seen[name] == (inode, content), f"{name} was written again"
            seen[name] = (inode, content)


def test_history_left_as_it_was_outlives_the_run_that_wrote_it(project: Project) -> None:
    """With one snapshot kept, a segment whose members never change keeps its stays run after
    run, also once the snapshot that wrote them is pruned, beside a segment whose members
    change every run; the warehouse's view reads the same stays."""
    import duckdb

    days = [dt.datetime(2026, 11, day, 12, tzinfo=UTC) for day in range(1, 6)]
    expected: set[tuple[object, ...]] = {("acme", "o3", days[0], None)}
    for number, day in enumerate(days):
        vip = {"o1": ["vip"] if number % 2 == 0 else [], "o2": ["vip"], "o3": []}
        project.run(_orgs(vip, {"o3": "Acme"}), day, keep=1)
        if number == 0:
            expected |= {("vip", "o1", day, None), ("vip", "o2", day, None)}
        elif number % 2:  # o1 leaves vip
            expected = (expected - {("vip", "o1", days[number - 1], None)}) | {
                ("vip", "o1", days[number - 1], day)
            }
        else:  # o1 comes back
            expected |= {("vip", "o1", day, None)}
        assert project.history() == expected
        assert len(list((project.out / ".snapshots").iterdir())) == 1
        with duckdb.connect(str(project.out / "warehouse.duckdb"), read_only=True) as con:
            rows = con.sql(
                "SELECT segment_id, entity_id, valid_from, valid_to FROM segment_membership_history"
            ).fetchall()
        assert set(rows) == expected and len(rows) == len(expected)


def test_rebuild_after_appended_and_compacted_changes_rolls_them_back(
    project: Project, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(snapshot, "MAX_PARTS", 2)
    days = [dt.datetime(2026, 11, day, 12, tzinfo=UTC) for day in range(1, 5)]
    for number, day in enumerate(days):  # o1 flips in and out of vip; files: 1, 2, 1, 2
        project.run(_orgs({"o1": [["vip"], []][number % 2], "o2": ["vip"]}), day)
    # Rebuild from the third day with o2 gone from vip: days 3 and 4 are rolled back.
    project.run(_orgs({"o1": ["vip"], "o2": []}), days[2], rebuild=True)
    assert project.changes() == {
        (days[0], "vip", "o1", "entered"),
        (days[0], "vip", "o2", "entered"),
        (days[1], "vip", "o1", "exited"),
        (days[2], "vip", "o1", "entered"),
        (days[2], "vip", "o2", "exited"),
    }
    # And the next run appends to the rebuilt table again.
    project.run(_orgs({"o1": ["vip"], "o2": ["vip"]}), days[3])
    assert (days[3], "vip", "o2", "entered") in project.changes()
    assert len(project.changes()) == 6


def test_a_run_without_changes_adds_no_file(project: Project) -> None:
    orgs = _orgs({"o1": ["vip"], "o2": []})
    project.run(orgs, T1)
    project.run(orgs, T2)  # nothing entered or exited
    folder = (project.out / "segment_changes").resolve()
    assert [p.name for p in folder.glob("*.parquet")] == ["part-20261101T120000000000Z.parquet"]
    assert project.changes() == {(T1, "vip", "o1", "entered")}


def test_appending_never_overwrites_a_file_it_links(tmp_path: Path) -> None:
    earlier = tmp_path / "before" / "part-x.parquet"
    earlier.parent.mkdir()
    rows = pa.table({"a": [1, 2]})
    pq.write_table(rows, earlier)
    appended = snapshot.Appended([earlier], pa.table({"a": [3]}), "part-x.parquet")
    with pytest.raises(ValueError, match="already exists"):
        snapshot.write_table(tmp_path / "after", appended)
    assert pq.read_table(earlier).equals(rows)


def test_a_file_an_engine_wrote_is_moved_into_the_snapshot_not_rewritten(tmp_path: Path) -> None:
    written = tmp_path / "work" / "daily.parquet"
    written.parent.mkdir()
    rows = pa.table({"a": [1, 2, 3]})
    pq.write_table(rows, written)
    inode = written.stat().st_ino
    table = snapshot.Written(written)
    assert table.num_rows == 3
    snapshot.write_table(tmp_path / "snap" / "timeline_daily", table)
    published = tmp_path / "snap" / "timeline_daily" / "part-0.parquet"
    assert published.stat().st_ino == inode and not written.exists()
    assert pq.read_table(published).equals(rows)


def test_change_files_sort_in_run_order_whatever_the_as_of_offset(project: Project) -> None:
    """The second run is an hour later, but its wall time (UTC) reads earlier than the
    first's (+05:00): the files are named in UTC, so reading them keeps run order."""
    first = dt.datetime(2026, 11, 2, 3, tzinfo=dt.timezone(dt.timedelta(hours=5)))
    second = dt.datetime(2026, 11, 1, 23, tzinfo=UTC)
    project.run(_orgs({"o1": ["vip"], "o2": []}), first)
    project.run(_orgs({"o1": [], "o2": ["vip"]}), second)
    folder = (project.out / "segment_changes").resolve()
    assert sorted(p.name for p in folder.glob("*.parquet")) == [
        "part-20261101T220000000000Z.parquet",
        "part-20261101T230000000000Z.parquet",
    ]
    changes = [(r["as_of"], r["entity_id"], r["change"]) for r in project.rows("segment_changes")]
    assert changes == [
        (first, "o1", "entered"),
        (second, "o1", "exited"),  # within a run: segment, property, entity id
        (second, "o2", "entered"),
    ]


# --- the diff itself, against a plain reference ----------------------------------------------


def _reference_runs(
    runs: list[tuple[dt.datetime, set[tuple[str, str, str, str]]]],
) -> tuple[list[tuple[object, ...]], list[tuple[object, ...]]]:
    """History and changes after ``runs``, computed the plain way: sets, then sorted()."""
    stays: list[list[object]] = []  # [property, segment, entity, entity_id, from, to]
    changes: list[tuple[object, ...]] = []
    members: set[tuple[str, str, str, str]] = set()
    for as_of, now in runs:
        entered, exited = sorted(now - members), sorted(members - now)
        for stay in stays:
            if stay[5] is None and tuple(stay[:4]) in exited:
                stay[5] = as_of
        stays += [[*key, as_of, None] for key in entered]
        this_run = [(as_of, *key, "entered") for key in entered]
        this_run += [(as_of, *key, "exited") for key in exited]
        changes += sorted(this_run, key=lambda c: (c[2], c[1], c[4]))  # segment, property, id
        members = now
    history = sorted((tuple(s) for s in stays), key=lambda s: (s[1], s[0], s[2], s[3], s[4]))
    return history, changes


def _members_table(keys: list[tuple[str, str, str, str]]) -> pa.Table:
    from pipeline.publish import history as h

    ordered = sorted(keys, key=lambda k: (k[1], k[0], k[3]))  # membership order
    return pa.table(
        {c: [k[i] for k in ordered] for i, c in enumerate(h.KEY)},
        schema=pa.schema([(c, pa.string()) for c in h.KEY]),
    )


Run = tuple[dt.datetime, set[tuple[str, str, str, str]], list[str]]


def _random_runs(
    seed: int, ids: list[str], segments: list[str], count: int
) -> tuple[list[tuple[str, str, str, str]], list[Run]]:
    """Every (property, segment, entity, id) key of two properties, and ``count`` hourly runs
    from T1 with random members; then ``s10`` no longer evaluated (its members exit) and a
    run where everyone exits. Each run: its ``as_of``, its members, the segments evaluated."""
    import random

    rng = random.Random(seed)
    universe = [
        (prop, seg, "person" if seg == "s-p" else "organization", i)
        for seg in segments
        for prop in ["site-b", "site-a"]
        for i in ids
    ]
    runs: list[Run] = [
        (T1 + dt.timedelta(hours=n), {k for k in universe if rng.random() < 0.5}, segments)
        for n in range(count)
    ]
    others = [s for s in segments if s != "s10"]
    runs.append((T1 + dt.timedelta(hours=count), {k for k in universe if k[1] != "s10"}, others))
    runs.append((T1 + dt.timedelta(hours=count + 1), set(), segments))
    return universe, runs


@pytest.mark.parametrize("collide", [False, True], ids=["hashes", "every-hash-collides"])
@pytest.mark.parametrize("row_group", [3, 1 << 20], ids=["small-row-groups", "one-row-group"])
def test_advance_matches_a_plain_reference_over_many_runs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, row_group: int, collide: bool
) -> None:
    """Runs merged a segment at a time with the earlier history read back from its file
    (segments spanning row groups when they are small) give the plain reference's history,
    changes and sizes; a segment no longer evaluated closes its stays."""

    import polars as pl

    import pipeline.parquet
    from pipeline.publish import history as h

    monkeypatch.setattr(pipeline.parquet, "ROW_GROUP", row_group)
    monkeypatch.setattr(h, "ROW_GROUP", row_group)
    if collide:  # every key hashes alike: the exact fallback must decide
        monkeypatch.setattr(
            h, "_hashes", lambda keys: pl.Series([0] * keys.height, dtype=pl.UInt64)
        )
    ids = ["o1", "o10", "o2", "O3", "é1", "e2", "Z", "z", "10", "9"]
    universe, runs = _random_runs(7, ids, ["s-a", "s_b", "s-p", "s10"], 6)
    runs.append((T1 + dt.timedelta(hours=8), set(universe), runs[0][2]))  # everyone back
    previous = h.Published.empty()
    changes: list[dict[str, object]] = []
    for n, (as_of, now, evaluated) in enumerate(runs):
        folder = tmp_path / f"run{n}"
        folder.mkdir()
        members = _members_table(list(now))
        parts = [
            (seg, members.filter(pa.compute.equal(members["segment_id"], seg)))
            for seg in sorted(evaluated)
        ]
        scopes = {(seg, prop) for prop, seg, _, _ in universe if seg in evaluated}
        membership, diffed = h.advance(previous, parts, f"r{n}", as_of, scopes, folder)
        assert pq.read_table(membership.path).select(h.KEY).equals(members)
        assert set(pq.read_table(membership.path).column("run_id").to_pylist()) <= {f"r{n}"}
        changes += pq.read_table(diffed.changes.path).to_pylist()
        previous = h.published(
            diffed.history.files,
            None,
            pl.from_arrow(diffed.sizes),  # type: ignore[arg-type]
        )

    history, expected_changes = _reference_runs([(as_of, now) for as_of, now, _ in runs])
    stays = pq.read_table(diffed.history.files)
    assert [tuple(r.values()) for r in stays.to_pylist()] == history
    assert [
        (r["as_of"], r["property_id"], r["segment_id"], r["entity"], r["entity_id"], r["change"])
        for r in changes
    ] == expected_changes
    last = {(r["segment_id"], r["property_id"]): r for r in diffed.sizes.to_pylist()}
    assert {k: (r["members"], r["entered"], r["exited"]) for k, r in last.items()} == {
        (seg, prop): (len(ids), len(ids), 0) for prop, seg, _, _ in universe
    }
    s10 = [r for r in diffed.sizes.to_pylist() if r["segment_id"] == "s10"]
    emptied = [(r["as_of"], r["property_id"]) for r in s10 if r["members"] == 0 and r["exited"]]
    assert emptied == [(T1 + dt.timedelta(hours=6), p) for p in ["site-a", "site-b"]]
    assert (diffed.entered, diffed.exited) == (len(universe), 0)


@pytest.mark.spark
def test_the_spark_diff_matches_the_plain_reference_over_many_runs(tmp_path: Path) -> None:
    """The diff a Spark run's executors compute (``advance_on_spark``) over the membership
    files they wrote gives the plain reference's history, changes and sizes, run after run:
    members leaving and coming back, a segment no longer evaluated (its stays close), every
    member leaving at once, then a rebuild from the state before an earlier run, which
    rewrites the changes it keeps. Only counts reach the driver (the sizes)."""

    import polars as pl

    from pipeline.engines.base import WrittenMembers
    from pipeline.publish import history as h
    from pipeline.publish.spark_history import advance_on_spark

    spark = engine_options("spark").spark_session
    ids = ["o1", "o10", "o2", "O3", "é1", "Z", "z", "9"]
    segments = ["s-a", "s-p", "s10"]
    universe, runs = _random_runs(11, ids, segments, 3)
    previous = h.Published.empty()
    changes: list[Path] = []
    for n, (as_of, now, evaluated) in enumerate(runs):
        members = tmp_path / f"members{n}"
        members.mkdir()
        pq.write_table(_members_table(list(now)), members / "part-0.parquet")
        scopes = {(seg, prop) for prop, seg, _, _ in universe if seg in evaluated}
        written = WrittenMembers(members)
        membership, diffed = advance_on_spark(
            spark, previous, written, f"r{n}", as_of, scopes, tmp_path / f"run{n}"
        )
        table = pq.read_table(membership.files)
        assert table.select(h.KEY).equals(_members_table(list(now)))
        assert set(table.column("run_id").to_pylist()) <= {f"r{n}"}
        changes += diffed.changes.files
        previous = h.published(diffed.history.files, None, pl.from_arrow(diffed.sizes))  # type: ignore[arg-type]

    history, expected_changes = _reference_runs([(as_of, now) for as_of, now, _ in runs])
    stays = pq.read_table(diffed.history.files)
    assert [tuple(r.values()) for r in stays.to_pylist()] == history
    got = pq.read_table(changes).to_pylist()
    assert [
        (r["as_of"], r["property_id"], r["segment_id"], r["entity"], r["entity_id"], r["change"])
        for r in got
    ] == expected_changes
    s10 = [r for r in diffed.sizes.to_pylist() if r["segment_id"] == "s10"]
    emptied = [(r["as_of"], r["property_id"]) for r in s10 if r["members"] == 0 and r["exited"]]
    assert emptied == [(T1 + dt.timedelta(hours=3), p) for p in ["site-a", "site-b"]]
    assert diffed.entered == 0 and diffed.exited == len([k for k in universe if k[1] != "s10"])

    # A rebuild of the second run, with everyone in, from the state just before it.
    redo = T1 + dt.timedelta(hours=1)
    members = tmp_path / "members-redo"
    members.mkdir()
    pq.write_table(_members_table(universe), members / "part-0.parquet")
    rebuilt = previous.cut(redo)
    scopes = {(seg, prop) for prop, seg, _, _ in universe}
    _, redone = advance_on_spark(
        spark,
        rebuilt,
        WrittenMembers(members),
        "r1b",
        redo,
        scopes,
        tmp_path / "redo",
        earlier_changes=changes,
    )
    history, expected_changes = _reference_runs([(runs[0][0], runs[0][1]), (redo, set(universe))])
    assert [tuple(r.values()) for r in pq.read_table(redone.history.files).to_pylist()] == history
    assert [
        (r["as_of"], r["property_id"], r["segment_id"], r["entity"], r["entity_id"], r["change"])
        for r in pq.read_table(redone.changes.files).to_pylist()
    ] == expected_changes
    assert sorted({r["as_of"] for r in redone.sizes.to_pylist()}) == [runs[0][0], redo]


def test_a_rebuild_merges_with_the_history_cut_before_its_as_of(tmp_path: Path) -> None:
    """A rebuild reads the earlier history cut at its ``as_of`` (later stays dropped, stays
    closed at or after it open again) and rewrites the earlier changes it keeps."""
    import polars as pl

    from pipeline.publish import history as h

    a, b = ("p", "s", "organization", "o1"), ("p", "s", "organization", "o2")
    runs = [(T1, {a}), (T2, {b}), (T2 + dt.timedelta(hours=1), {a, b})]
    previous = h.Published.empty()
    changes: list[pa.Table] = []
    for n, (as_of, now) in enumerate(runs):
        folder = tmp_path / f"run{n}"
        folder.mkdir()
        _, diffed = h.advance(
            previous, [("s", _members_table(list(now)))], f"r{n}", as_of, {("s", "p")}, folder
        )
        changes.append(pq.read_table(diffed.changes.path))
        previous = h.published(diffed.history.files, None, pl.from_arrow(diffed.sizes))  # type: ignore[arg-type]
    # Redo the second run with other members, from the state just before it.
    rebuilt = h.published(
        diffed.history.files,
        pa.concat_tables(changes),
        pl.from_arrow(diffed.sizes),  # type: ignore[arg-type]
    ).cut(T2)
    folder = tmp_path / "rebuild"
    folder.mkdir()
    _, redone = h.advance(rebuilt, [("s", _members_table([a]))], "r1b", T2, {("s", "p")}, folder)
    history, expected = _reference_runs([(T1, {a}), (T2, {a})])
    assert [tuple(r.values()) for r in pq.read_table(redone.history.files).to_pylist()] == history
    assert [
        (r["as_of"], r["property_id"], r["segment_id"], r["entity"], r["entity_id"], r["change"])
        for r in pq.read_table(redone.changes.path).to_pylist()
    ] == expected
    assert [r["as_of"] for r in redone.sizes.to_pylist()] == [T1, T2]


@pytest.mark.parametrize("row_group", [3, 1 << 20], ids=["small-row-groups", "one-row-group"])
@pytest.mark.parametrize("earlier_sizes", [False, True], ids=["first-run", "after-empty-runs"])
def test_a_first_run_is_its_members_stamped_written_segment_by_segment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, row_group: int, earlier_sizes: bool
) -> None:
    """A run with no earlier stay writes its membership, history and changes a segment at a
    time: each is every member stamped as having entered at the run's ``as_of``."""
    import random

    import polars as pl

    import pipeline.parquet
    from pipeline.publish import history as h

    monkeypatch.setattr(pipeline.parquet, "ROW_GROUP", row_group)
    monkeypatch.setattr(h, "ROW_GROUP", row_group)  # each segment stamped in slices too
    rng = random.Random(3)
    segments = ["s-a", "s-empty", "s-p", "s_b"]
    universe = [
        (prop, seg, "person" if seg == "s-p" else "organization", f"e{i}")
        for seg in segments
        for prop in ["site-a", "site-b"]
        for i in range(9)
        if seg != "s-empty" and rng.random() < 0.6
    ]
    members = _members_table(universe)
    scopes = [(s, p) for s in segments for p in ["site-a", "site-b"]]
    previous = h.Published.empty()
    if earlier_sizes:  # earlier runs found nobody: sizes of 0, no stay
        (tmp_path / "r0").mkdir()
        _, earlier = h.advance(
            previous,
            [(s, members.slice(0, 0)) for s in segments],
            "r0",
            T1,
            scopes,
            tmp_path / "r0",
        )
        assert pq.read_table(earlier.history.files).num_rows == 0
        previous = h.published(
            earlier.history.files,
            None,
            pl.from_arrow(earlier.sizes),  # type: ignore[arg-type]
        )
        assert previous.sizes.height == len(scopes)
    # Each segment's members, as an engine's flags give them (an empty segment included).
    parts = [(s, members.filter(pa.compute.equal(members["segment_id"], s))) for s in segments]
    membership, written = h.advance(previous, parts, "r1", T2, scopes, tmp_path)

    rows = members.num_rows
    stamp = pa.array([T2] * rows, pa.timestamp("us", tz="UTC"))
    run = pa.array(["r1"] * rows, pa.string())
    expected = {
        membership.path: members.append_column("run_id", run).append_column("as_of", stamp),
        written.history.path: members.append_column("valid_from", stamp).append_column(
            "valid_to", pa.nulls(rows, pa.timestamp("us", tz="UTC"))
        ),
        written.changes.path: pa.table(
            {"run_id": run, "as_of": stamp}
            | {c: members.column(c) for c in h.KEY}
            | {"change": pa.array(["entered"] * rows)}
        ),
    }
    schemas = {membership.path: MEMBERSHIP.schema, written.history.path: HISTORY.schema}
    files = {w.path: w.files for w in (membership, written.history, written.changes)}
    for path, table in expected.items():
        schema = schemas.get(path, CHANGES.schema)
        assert pq.read_table(files[path]).equals(table.select(schema.names).cast(schema))
    sizes = {
        (r["as_of"], r["segment_id"], r["property_id"]): (r["members"], r["entered"], r["exited"])
        for r in written.sizes.to_pylist()
    }
    for segment_id, property_id in scopes:
        n = sum(1 for k in universe if (k[1], k[0]) == (segment_id, property_id))
        assert sizes[(T2, segment_id, property_id)] == (n, n, 0)
    assert len(sizes) == len(scopes) * (2 if earlier_sizes else 1)
    assert (written.entered, written.exited) == (members.num_rows, 0)
    groups = pq.ParquetFile(membership.path).metadata.num_row_groups
    assert groups == (-(-members.num_rows // row_group) if row_group < members.num_rows else 1)


def test_a_sink_abandoned_by_an_error_closes_its_file_and_keeps_the_error(tmp_path: Path) -> None:
    from pipeline.parquet import ParquetSink

    schema = pa.schema([("x", pa.int64())])
    sink = ParquetSink(tmp_path / "t.parquet", schema)
    with pytest.raises(ValueError, match="in flight"), sink:
        sink.write(pa.table({"x": [1, 2]}, schema=schema))
        raise ValueError("in flight")
    assert not sink._writer.is_open


def test_a_segment_left_as_it_was_keeps_its_earlier_history_file(tmp_path: Path) -> None:
    """A later run writes each segment's stays as a file of their own. Where a segment is left
    as it was (no one came or went; left out by ``--select``; no longer evaluated with every
    stay closed) the earlier file is linked, the same file, never written again; a segment
    where someone came or went gets a new file. A rebuild writes every file anew (its cut
    changes the stays). Each run's history is the plain reference's."""
    import polars as pl

    from pipeline.publish import history as h

    key = ("p", "", "organization", "")

    def members(**segments: list[str]) -> set[tuple[str, str, str, str]]:
        return {(key[0], s, key[2], o) for s, orgs in segments.items() for o in orgs}

    runs = [
        (T1, members(a=["o1", "o2"], b=["o1"], c=["o3"])),
        (T2, members(a=["o1", "o2"], b=["o2"])),  # c no longer evaluated: o3 exits
        (T3, members(a=["o1", "o2"], b=["o2"])),  # nothing changes
    ]
    previous, files = h.Published.empty(), []
    for n, (as_of, now) in enumerate(runs):
        table = _members_table(list(now))
        evaluated = sorted({k[1] for k in now})
        parts = [(s, table.filter(pa.compute.equal(table["segment_id"], s))) for s in evaluated]
        folder = tmp_path / f"run{n}"
        folder.mkdir()
        membership, diffed = h.advance(
            previous, parts, f"r{n}", as_of, {(s, "p") for s in evaluated}, folder
        )
        history, _ = _reference_runs(runs[: n + 1])
        assert [tuple(r.values()) for r in pq.read_table(diffed.history.files).to_pylist()] == (
            history
        )
        files.append(_files_by_segment(diffed.history.files))
        previous = h.published(diffed.history.files, None, pl.from_arrow(diffed.sizes))  # type: ignore[arg-type]

    first, second, third = files
    assert sorted(first) == sorted(second) == sorted(third) == ["a", "b", "c"]
    assert second["a"] == first["a"], "no one came or went: the same file"
    assert second["b"] != first["b"] and second["c"] != first["c"], "o1 left b, o3 left c"
    assert third == second, "every segment as it was (c: no longer evaluated, no open stay)"

    # --select leaves b out: its stays and file stay; a's members change, a gets a new file.
    kept = tmp_path / "kept"
    kept.mkdir()
    selected = h.published(previous.history, None, previous.sizes, membership=membership.files)
    later = T3 + dt.timedelta(hours=1)
    only_a = _members_table([(key[0], "a", key[2], "o1")])
    _, diffed = h.advance(selected, [("a", only_a)], "r3", later, {("a", "p")}, kept, kept={"b"})
    fourth = _files_by_segment(diffed.history.files)
    assert fourth["b"] == third["b"] and fourth["c"] == third["c"]
    assert fourth["a"] != third["a"]
    stays = pq.read_table(diffed.history.files).to_pylist()
    assert [
        (r["segment_id"], r["entity_id"], r["valid_to"]) for r in stays if r["segment_id"] == "a"
    ] == [
        ("a", "o1", None),
        ("a", "o2", later),
    ]

    # A rebuild from before the third run: every file is written again.
    redo = tmp_path / "redo"
    redo.mkdir()
    rebuilt = previous.cut(T3)
    table = _members_table(list(runs[2][1]))
    parts = [(s, table.filter(pa.compute.equal(table["segment_id"], s))) for s in ["a", "b"]]
    _, redone = h.advance(rebuilt, parts, "r2b", T3, {("a", "p"), ("b", "p")}, redo)
    rewritten = _files_by_segment(redone.history.files)
    assert not set(rewritten.values()) & set(third.values())
    history, _ = _reference_runs(runs)
    assert [tuple(r.values()) for r in pq.read_table(redone.history.files).to_pylist()] == history


def _files_by_segment(paths: list[Path]) -> dict[str, tuple[int, int]]:
    """Each history file's one segment, with the file's (device, inode): a linked file keeps
    them, a file written again does not."""
    found: dict[str, tuple[int, int]] = {}
    for path in paths:
        segment_ids = set(pq.read_table(path, columns=["segment_id"]).column(0).to_pylist())
        assert len(segment_ids) == 1, f"{path.name} holds {segment_ids}"
        stat = path.stat()
        found[segment_ids.pop()] = (stat.st_dev, stat.st_ino)
    return found

"""Crash safety of publishing: a run killed at any point leaves the previous run or the new one.

The tests publish a first run (as_of A), change the input data, then start a second run
(as_of B) in a subprocess and kill it with SIGKILL, either at each named fault point
(``SEGMENTS_FAULT``, :data:`pipeline.publish.faults.POINTS`) or after seeded random delays.
Whatever the moment, a reader must find either the first run's tables, byte for byte, or the
second run's complete tables, never a mix, and a following run (as_of C) must succeed and leave
nothing half-written behind. Runs that fail (a user error, an interruption) must leave the
tables byte for byte and be recorded in ``runs``.

Only the second run needs its own process (to be killed); the first and third run in this
process, and the fault-point runs of one engine are started all at once, to keep the module
fast. The helpers here are shared with ``test_concurrency.py``.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

import duckdb
import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from pipeline.cli import main
from pipeline.inputs.schema import TABLES
from pipeline.publish.faults import POINTS
from pipeline.publish.snapshot import _warehouse as build_warehouse
from pipeline.publish.snapshot import publish

REPO: Final = Path(__file__).resolve().parents[1]
ENGINES: Final = ("duckdb", "polars")
AS_OF_A: Final = "2026-11-20T12:00:00Z"
AS_OF_B: Final = "2026-11-27T12:00:00Z"
AS_OF_C: Final = "2026-12-04T12:00:00Z"
SWITCH: Final = POINTS.index("pointer-switched")
SEED: Final = 20261120

#: The tables SPEC section 5 (and the quarantine) promises; a run may publish more.
CORE_TABLES: Final = frozenset(
    {
        "segment_membership",
        "segment_membership_history",
        "segment_changes",
        "segment_sizes",
        "segments",
        "runs",
        "quarantine",
    }
)
#: Columns that differ between two runs of the same inputs: wall-clock times.
VOLATILE: Final = {"runs": ("started_at", "finished_at", "phase_seconds")}

UTC = dt.UTC


def _ts(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text).astimezone(UTC)


ORGS_A: Final = [
    {"property_id": "site-a", "org_id": "o1", "name": "Acme Robotics", "tags": ["Enterprise"],
     "created_at": _ts("2026-11-01T09:00:00+00:00")},
    {"property_id": "site-a", "org_id": "o2", "name": "Globex", "tags": [],
     "created_at": _ts("2024-01-01T00:00:00+00:00")},
    {"property_id": "site-a", "org_id": "o3", "name": "Initech", "tags": None,
     "created_at": None},
    {"property_id": "site-b", "org_id": "o1", "name": "Umbrella", "tags": ["smb"],
     "created_at": _ts("2026-11-19T00:00:00+00:00")},
]  # fmt: skip
#: The second run's organizations: o2 becomes enterprise, a new one appears, o1 loses its tag.
ORGS_B: Final = [
    {**ORGS_A[0], "tags": ["smb"]},
    {**ORGS_A[1], "tags": ["enterprise"]},
    ORGS_A[2],
    ORGS_A[3],
    {"property_id": "site-b", "org_id": "o2", "name": "Hooli", "tags": ["enterprise"],
     "created_at": _ts("2026-11-25T00:00:00+00:00")},
]  # fmt: skip
ATTRIBUTES: Final = [
    {"property_id": p, "entity": "organization", "key": k, "label": k, "type": t}
    for p in ("site-a", "site-b")
    for k, t in (("plan", "text"), ("arr", "number"))
]
VALUES: Final = [
    {"property_id": "site-a", "entity": "organization", "entity_id": "o1", "key": "plan",
     "value_text": "Premium"},
    {"property_id": "site-a", "entity": "organization", "entity_id": "o1", "key": "arr",
     "value_number": 120000.0},
    # a value whose key has no definition: quarantined, so the quarantine table has a row
    {"property_id": "site-b", "entity": "organization", "entity_id": "o1", "key": "colour",
     "value_text": "red"},
]  # fmt: skip
PEOPLE: Final = [{"property_id": "site-a", "person_id": "p1", "name": "Ada", "job_title": "CTO"}]
LINKS: Final = [{"property_id": "site-a", "org_id": "o1", "person_id": "p1"}]
EVENTS: Final = [
    {"event_id": "e1", "property_id": "site-a", "org_id": "o1", "kind": "chat",
     "occurred_at": _ts("2026-11-10T10:00:00+00:00"), "author": "sam"},
]  # fmt: skip
SEGMENTS: Final = {
    "enterprise.yaml": "name: Enterprise\nwhere:\n  tags: {contains: enterprise}\n",
    "big-premium.yaml": (
        "name: Big premium\nwhere:\n  all:\n    - custom.plan: {in: [premium]}\n"
        "    - custom.arr: {gte: 100000}\n"
    ),
    "new.yaml": "where:\n  created_at: {within_last: 30d}\n",
    "tagged.yaml": "where:\n  tags: {has_any_value: true}\n",
}


def write_table(folder: Path, table: str, rows: list[dict[str, Any]]) -> None:
    schema = TABLES[table]
    data = pa.Table.from_pylist([{c: r.get(c) for c in schema.names} for r in rows], schema=schema)
    pq.write_table(data, folder / f"{table}.parquet")


def make_project(root: Path) -> Path:
    """A small project in ``root``: data/ (first run's inputs), segments/, and out/ to come."""
    data = root / "data"
    data.mkdir(parents=True)
    for table, rows in {
        "organizations": ORGS_A,
        "people": PEOPLE,
        "organization_people": LINKS,
        "attributes": ATTRIBUTES,
        "attribute_values": VALUES,
        "timeline": EVENTS,
    }.items():
        write_table(data, table, rows)
    segments = root / "segments"
    segments.mkdir()
    for name, text in SEGMENTS.items():
        (segments / name).write_text(text)
    return root


def change_data(project: Path) -> None:
    """The inputs of the second run: different membership than the first."""
    write_table(project / "data", "organizations", ORGS_B)


def run_args(project: Path, as_of: str, engine: str, *extra: str) -> list[str]:
    return [
        "run",
        "--data", str(project / "data"),
        "--segments", str(project / "segments"),
        "--out", str(project / "out"),
        "--as-of", as_of,
        "--engine", engine,
        *extra,
    ]  # fmt: skip


def run_here(project: Path, as_of: str, engine: str, *extra: str) -> int:
    """A run in this process (fast: no interpreter start-up)."""
    return main(run_args(project, as_of, engine, "--quiet", *extra))


def command(project: Path, as_of: str, engine: str, *extra: str) -> list[str]:
    return [sys.executable, "-m", "pipeline", *run_args(project, as_of, engine, *extra)]


def child_env(fault: str | None = None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "SEGMENTS_FAULT"}
    env["PYTHONPATH"] = str(REPO)
    if fault is not None:
        env["SEGMENTS_FAULT"] = fault
    return env


def start(project: Path, as_of: str, engine: str, *extra: str, fault: str | None = None) -> Any:
    """A run as a separate process, as a scheduler starts it."""
    return subprocess.Popen(
        command(project, as_of, engine, *extra),
        env=child_env(fault),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


#: A `segments` command that stops at checkpoint $PAUSE_AT (one of the fault points) until the
#: file $PAUSE_DIR/go exists: a deterministically slow run, for overlaps and interruptions.
PAUSING_RUN: Final = """
import os, sys, time
from pathlib import Path

import pipeline.publish.faults as faults
import pipeline.publish.snapshot as snapshot
import pipeline.run as run

point, flags, original = os.environ["PAUSE_AT"], Path(os.environ["PAUSE_DIR"]), faults.checkpoint


def checkpoint(name):
    if name == point:
        (flags / f"paused-{os.getpid()}").touch()
        deadline = time.monotonic() + 600  # a failed test never releases it: do not linger
        while not (flags / "go").exists():
            if time.monotonic() > deadline:
                os._exit(99)
            time.sleep(0.02)
    original(name)


run.checkpoint = snapshot.checkpoint = checkpoint
from pipeline.cli import main

sys.exit(main(sys.argv[1:]))
"""
TIMEOUT: Final = 60.0


def pause_folder(tmp_path: Path) -> Path:
    folder = tmp_path / "flags"
    folder.mkdir()
    (folder / "pausing_run.py").write_text(PAUSING_RUN)
    return folder


STARTED: dict[Path, list[subprocess.Popen[str]]] = {}


def start_paused(
    project: Path, flags: Path, at: str, as_of: str, *extra: str
) -> subprocess.Popen[str]:
    """A real run that stops at checkpoint ``at`` (holding the lock) until ``release``."""
    env = {**child_env(), "PAUSE_AT": at, "PAUSE_DIR": str(flags)}
    process = subprocess.Popen(
        [sys.executable, str(flags / "pausing_run.py"), *run_args(project, as_of, "duckdb"),
         "--quiet", *extra],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    STARTED.setdefault(flags, []).append(process)
    return process


def reap(flags: Path) -> None:
    """Release the runs started on ``flags`` and wait for them (killing any still running), so
    that a test failing half way leaves no process behind for a later test to trip over."""
    release(flags)
    for process in STARTED.pop(flags, []):
        try:
            process.communicate(timeout=TIMEOUT)
        except subprocess.TimeoutExpired:
            process.kill()
            process.communicate()


def paused(flags: Path) -> list[int]:
    return [int(p.name.removeprefix("paused-")) for p in flags.glob("paused-*")]


def release(flags: Path) -> None:
    (flags / "go").touch()


def wait_for(condition: Any, what: str) -> None:
    deadline = time.monotonic() + TIMEOUT
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.05)


# --- what a reader sees ------------------------------------------------------------------


def published_tables(out: Path) -> list[str]:
    """The stable table paths ``OUT/<table>`` (symbolic links into ``OUT/current``)."""
    return sorted(p.name for p in out.iterdir() if p.is_symlink() and p.name != "current")


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _rows(rows: list[tuple[Any, ...]]) -> list[tuple[Any, ...]]:
    return sorted(rows, key=repr)


@dataclass(frozen=True)
class Bytes:
    """Every file reachable under ``OUT/<table>/`` and every view's rows in the warehouse."""

    files: dict[str, str]
    views: dict[str, list[tuple[Any, ...]]]
    visible: frozenset[str]


def warehouse_views(out: Path, exclude: dict[str, tuple[str, ...]] | None = None) -> Any:
    con = duckdb.connect(str(out / "warehouse.duckdb"), read_only=True)
    try:
        names = [
            r[0]
            for r in con.sql(
                "select view_name from duckdb_views() where not internal order by 1"
            ).fetchall()
        ]
        views = {}
        for name in names:
            drop = (exclude or {}).get(name, ())
            columns = f"* exclude ({', '.join(drop)})" if drop else "*"
            views[name] = _rows(con.sql(f'select {columns} from "{name}"').fetchall())
        return views
    finally:
        con.close()


def snapshot_bytes(out: Path) -> Bytes:
    files = {}
    for table in published_tables(out):
        for path in sorted((out / table).rglob("*")):
            if path.is_file():
                files[f"{table}/{path.relative_to(out / table)}"] = _sha256(path)
    visible = frozenset(p.name for p in out.iterdir() if not p.name.startswith("."))
    return Bytes(files, warehouse_views(out), visible)


@dataclass(frozen=True)
class Content:
    """A run's tables as rows, without wall-clock columns: equal for equal runs."""

    tables: dict[str, list[tuple[Any, ...]]]
    views: dict[str, list[tuple[Any, ...]]]


def content(out: Path) -> Content:
    tables = {}
    for table in published_tables(out):
        data = pq.read_table(out / table)
        data = data.drop_columns(list(VOLATILE.get(table, ())))
        tables[table] = _rows([tuple(r.values()) for r in data.to_pylist()])
    return Content(tables, warehouse_views(out, VOLATILE))


def assert_consistent(out: Path) -> str:
    """The tables are one run's: membership, changes and sizes all end at the last run."""
    runs = pq.read_table(out / "runs").to_pylist()
    done = [r for r in runs if r["status"] == "succeeded"]
    last = max(done, key=lambda r: (r["as_of"], r["finished_at"]))
    members = pq.read_table(out / "segment_membership")
    assert set(members.column("run_id").to_pylist()) <= {last["run_id"]}
    assert set(members.column("as_of").to_pylist()) <= {last["as_of"]}
    sizes = pq.read_table(out / "segment_sizes").to_pylist()
    assert max(r["as_of"] for r in sizes) == last["as_of"]
    assert {r["run_id"] for r in sizes if r["as_of"] == last["as_of"]} == {last["run_id"]}
    counts = json.loads(last["output_rows"])
    for table, rows in counts.items():
        assert pq.read_table(out / table).num_rows == rows, table
    assert len({r["run_id"] for r in done}) == len(done)  # no run recorded twice
    return str(last["run_id"])


def assert_readable(out: Path) -> None:
    """Every table opens with pyarrow, Polars, and through the warehouse's views."""
    tables = published_tables(out)
    assert set(tables) >= CORE_TABLES
    con = duckdb.connect(str(out / "warehouse.duckdb"), read_only=True)
    try:
        for table in tables:
            rows = pq.read_table(out / table).num_rows
            assert pl.read_parquet(out / table / "*.parquet").height == rows
            assert con.sql(f'select count(*) from "{table}"').fetchall() == [(rows,)]
    finally:
        con.close()


def assert_no_leftovers(out: Path) -> None:
    leftovers = [p for p in out.rglob("*") if ".tmp" in p.name or p.name.endswith(".partial")]
    assert leftovers == []
    assert not (out / ".work").exists() or list((out / ".work").iterdir()) == []


def statuses(out: Path) -> list[tuple[str, str]]:
    runs = pq.read_table(out / "runs").to_pylist()
    return sorted((r["as_of"].strftime("%Y-%m-%d"), r["status"]) for r in runs)


# --- fixtures ----------------------------------------------------------------------------


@pytest.fixture(scope="module", params=ENGINES)
def engine(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture(scope="module")
def first_run(engine: str, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A project whose first run (as_of A) is published; tests work on copies of it."""
    project = make_project(tmp_path_factory.mktemp(f"first-{engine}"))
    assert run_here(project, AS_OF_A, engine) == 0
    return project


def clone(project: Path, to: Path) -> Path:
    """A copy of a project with its published output, as if the first run had run there.

    The copy keeps the relative symbolic links; only ``warehouse.duckdb`` names its folder
    (the views read ``OUT/<table>`` by absolute path), so it is rebuilt for the copy exactly
    as a run builds it. Cheaper than a run per test.
    """
    shutil.copytree(project, to, symlinks=True)
    out = to / "out"
    (out / "warehouse.duckdb").unlink()
    build_warehouse(out, published_tables(out))
    con = duckdb.connect(str(out / "warehouse.duckdb"), read_only=True)
    try:
        sql = con.sql("select sql from duckdb_views() where view_name = 'runs'").fetchall()
    finally:
        con.close()
    assert str(out.absolute()) in sql[0][0]
    return to


@dataclass(frozen=True)
class Reference:
    """The second run done without a kill: its content, duration and phase instants."""

    content: Content
    seconds: float
    locked_from: float  # seconds after start when the run takes the output lock (about)


@pytest.fixture(scope="module")
def reference(engine: str, first_run: Path, tmp_path_factory: pytest.TempPathFactory) -> Reference:
    project = clone(first_run, tmp_path_factory.mktemp(f"reference-{engine}") / "p")
    change_data(project)
    started = time.time()
    done = subprocess.run(
        command(project, AS_OF_B, engine), env=child_env(), capture_output=True, text=True
    )
    seconds = time.time() - started
    assert done.returncode == 0, done.stderr
    events = {e["event"]: e["ts"] for e in map(json.loads, done.stderr.splitlines())}
    out = project / "out"
    assert assert_consistent(out).startswith("20261127T120000Z-")
    return Reference(content(out), seconds, events["definitions done"] - started)


@dataclass
class Killed:
    project: Path
    before: Bytes
    returncode: int
    stderr: str


@pytest.fixture(scope="module")
def killed_at_points(
    engine: str, first_run: Path, tmp_path_factory: pytest.TempPathFactory
) -> dict[str, Killed]:
    """One project per fault point, its second run killed there (all started at once)."""
    started = {}
    for point in POINTS:
        project = clone(first_run, tmp_path_factory.mktemp(f"{engine}-{point}") / "p")
        before = snapshot_bytes(project / "out")
        change_data(project)
        started[point] = (project, before, start(project, AS_OF_B, engine, fault=point))
    killed = {}
    for point, (project, before, process) in started.items():
        _, err = process.communicate(timeout=120)
        killed[point] = Killed(project, before, process.returncode, err)
    return killed


# --- tests -------------------------------------------------------------------------------


@pytest.mark.parametrize("point", POINTS)
def test_kill_at_fault_point_leaves_previous_or_new_run(
    point: str, engine: str, killed_at_points: dict[str, Killed], reference: Reference
) -> None:
    case = killed_at_points[point]
    out = case.project / "out"
    assert case.returncode == -signal.SIGKILL, case.stderr

    switched = POINTS.index(point) >= SWITCH
    if switched:
        assert content(out) == reference.content
        assert assert_consistent(out).startswith("20261127T120000Z-")
    else:
        assert snapshot_bytes(out) == case.before
    assert_readable(out)
    # Whatever the kill left is hidden: readers listing OUT see the same names as before.
    assert frozenset(p.name for p in out.iterdir() if not p.name.startswith(".")) == (
        case.before.visible
    )

    assert run_here(case.project, AS_OF_C, engine) == 0
    assert_no_leftovers(out)
    assert assert_consistent(out).startswith("20261204T120000Z-")
    assert_readable(out)
    # A killed run leaves no record; a run killed after the switch was published, so it has one.
    expected = [("2026-11-20", "succeeded"), ("2026-12-04", "succeeded")]
    if switched:
        expected.insert(1, ("2026-11-27", "succeeded"))
    assert statuses(out) == expected


def _kill_delays(reference: Reference, rng: random.Random, count: int = 5) -> list[float]:
    """Two spread over the whole run, the rest over the part that holds the lock and publishes
    (the start-up before it cannot touch the output)."""
    early = [reference.seconds * (i + rng.random()) / 2 for i in range(2)]
    locked = reference.seconds - reference.locked_from
    late = [
        reference.locked_from + locked * (i + rng.random()) / (count - 2) for i in range(count - 2)
    ]
    return sorted(early + late)


def test_kill_after_random_delays_leaves_previous_or_new_run(
    engine: str, first_run: Path, reference: Reference, tmp_path: Path
) -> None:
    rng = random.Random(f"{SEED}-{engine}")
    outcomes = []
    for n, delay in enumerate(_kill_delays(reference, rng)):
        project = clone(first_run, tmp_path / f"kill-{n}")
        out = project / "out"
        before = snapshot_bytes(out)
        change_data(project)
        process = start(project, AS_OF_B, engine, "--quiet")
        time.sleep(delay)
        process.kill()
        _, err = process.communicate(timeout=120)
        assert process.returncode in (0, -signal.SIGKILL), err
        assert_readable(out)
        if snapshot_bytes(out) == before:
            outcomes.append("previous")
        else:
            assert content(out) == reference.content, f"killed after {delay:.2f}s"
            assert assert_consistent(out).startswith("20261127T120000Z-")
            outcomes.append("new")
    assert outcomes[0] == "previous", outcomes  # the earliest kill came before the publish


#: kind of user error -> (exit code, start of the one-line reason)
USER_ERRORS: Final = {
    # found before the output is locked or any data is read
    "definition": (1, "segments: error: 1 error in segment definitions"),
    # found while reading the inputs, under the lock
    "input": (3, "segments: error: 1 problem in the input data"),
}


def _break(project: Path, kind: str) -> None:
    if kind == "definition":
        (project / "segments" / "typo.yaml").write_text("where:\n  job_titel: {contains: cto}\n")
    else:  # the same org_id twice in one property
        write_table(project / "data", "organizations", [*ORGS_B, ORGS_B[0]])


def _repair(project: Path, kind: str) -> None:
    if kind == "definition":
        (project / "segments" / "typo.yaml").unlink()
    else:
        change_data(project)


@pytest.mark.parametrize("kind", sorted(USER_ERRORS))
def test_user_error_leaves_tables_untouched_and_is_recorded(
    kind: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Both errors are raised before an engine is made: one engine is enough."""
    engine = "duckdb"
    project = make_project(tmp_path)
    out = project / "out"
    assert run_here(project, AS_OF_A, engine) == 0
    before = snapshot_bytes(out)
    _break(project, kind)

    code, message = USER_ERRORS[kind]
    assert run_here(project, AS_OF_B, engine) == code
    reason = capsys.readouterr().err.splitlines()[0]
    assert reason.startswith(message)
    assert snapshot_bytes(out) == before
    assert_readable(out)

    _repair(project, kind)
    assert run_here(project, AS_OF_C, engine) == 0
    assert_consistent(out)
    assert statuses(out) == [
        ("2026-11-20", "succeeded"),
        ("2026-11-27", "failed"),
        ("2026-12-04", "succeeded"),
    ]
    failed = [r for r in pq.read_table(out / "runs").to_pylist() if r["status"] == "failed"]
    assert failed[0]["engine"] == engine
    assert failed[0]["error"] == reason.removeprefix("segments: error: ")


def test_failed_run_is_recorded_once_when_the_next_run_is_killed_after_the_switch(
    tmp_path: Path,
) -> None:
    """A failure joins ``runs`` at the next publish; a kill before it is forgotten must not
    make the run after that add it a second time."""
    project = make_project(tmp_path)
    out = project / "out"
    assert run_here(project, AS_OF_A, "duckdb") == 0
    _break(project, "input")
    assert run_here(project, "2026-11-24T12:00:00Z", "duckdb") == 3
    _repair(project, "input")
    process = start(project, AS_OF_B, "duckdb", "--quiet", fault="pointer-switched")
    _, err = process.communicate(timeout=120)
    assert process.returncode == -signal.SIGKILL, err
    assert statuses(out).count(("2026-11-24", "failed")) == 1

    assert run_here(project, AS_OF_C, "duckdb") == 0
    assert statuses(out) == [
        ("2026-11-20", "succeeded"),
        ("2026-11-24", "failed"),
        ("2026-11-27", "succeeded"),
        ("2026-12-04", "succeeded"),
    ]


def test_new_table_gets_its_view_when_killed_between_switch_and_warehouse(
    tmp_path: Path,
) -> None:
    """An output written by an older version (one table fewer) gets a view for the new table
    even when the first run of the new version is killed before it rebuilt the warehouse."""
    project = make_project(tmp_path)
    out = project / "out"
    assert run_here(project, AS_OF_A, "duckdb") == 0
    # What an older version that did not write `quarantine` would have published.
    older = {t: pq.read_table(out / t) for t in published_tables(out) if t != "quarantine"}
    publish(out, "older-version", older)
    (out / "quarantine").unlink()
    assert "quarantine" not in warehouse_views(out)

    change_data(project)
    process = start(project, AS_OF_B, "duckdb", "--quiet", fault="pointer-switched")
    _, err = process.communicate(timeout=120)
    assert process.returncode == -signal.SIGKILL, err
    assert run_here(project, AS_OF_C, "duckdb") == 0
    assert_readable(out)  # every table, `quarantine` included, has its view


def test_interrupted_run_exits_non_zero_and_leaves_tables_untouched(tmp_path: Path) -> None:
    """Ctrl-C (SIGINT) in the middle of a run: nothing published, and the exit code says so."""
    project = make_project(tmp_path / "p")
    out = project / "out"
    assert run_here(project, AS_OF_A, "duckdb") == 0
    before = snapshot_bytes(out)
    change_data(project)
    flags = pause_folder(tmp_path)
    process = start_paused(project, flags, "evaluated", AS_OF_B)
    wait_for(lambda: paused(flags) or process.poll() is not None, "the run to pause")
    process.send_signal(signal.SIGINT)
    _, err = process.communicate(timeout=TIMEOUT)
    assert snapshot_bytes(out) == before
    assert process.returncode == 130, f"exit {process.returncode}, stderr {err!r}"

    assert run_here(project, AS_OF_C, "duckdb") == 0
    assert statuses(out) == [
        ("2026-11-20", "succeeded"),
        ("2026-11-27", "failed"),
        ("2026-12-04", "succeeded"),
    ]

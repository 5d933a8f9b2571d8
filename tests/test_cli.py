"""End to end: the `segments` command on a small fixture project, outputs read back."""

from __future__ import annotations

import datetime as dt
import errno
import importlib.metadata
import json
import os
import signal
import subprocess
import sys
import threading
from pathlib import Path

import duckdb
import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import pipeline
from pipeline.cli import main
from pipeline.engines.duckdb import DuckDBEngine
from pipeline.inputs.schema import TABLES
from pipeline.parquet import ParquetSink

AS_OF = "2026-11-20T12:00:00Z"
ROOT = Path(__file__).resolve().parent.parent
UTC = dt.UTC


def _ts(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text).astimezone(UTC)


ORGS = [
    # site-a
    {
        "property_id": "site-a",
        "org_id": "o1",
        "name": "Acme Robotics",
        "tags": ["Enterprise", " vip "],
        "primary_phone": "+33 1 23 45 67 89",
        "created_at": _ts("2026-11-01T09:00:00+00:00"),
    },
    {
        "property_id": "site-a",
        "org_id": "o2",
        "name": "  ",
        "tags": [],
        "primary_phone": "n/a",
        "created_at": _ts("2024-01-01T00:00:00+00:00"),
    },
    {
        "property_id": "site-a",
        "org_id": "o3",
        "name": "Globex",
        "tags": None,
        "primary_phone": "(415) 555-0134",
        "created_at": None,
    },
    # site-b reuses the ids with different data: nothing may leak between properties
    {
        "property_id": "site-b",
        "org_id": "o1",
        "name": "Initech",
        "tags": ["smb"],
        "primary_phone": None,
        "created_at": _ts("2026-11-19T00:00:00+00:00"),
    },
    {
        "property_id": "site-b",
        "org_id": "o2",
        "name": "ACME Foods",
        "tags": ["enterprise"],
        "primary_phone": "+33 6 00 00 00 00",
        "created_at": _ts("2025-06-01T00:00:00+00:00"),
    },
]
ATTRIBUTES = [
    {"property_id": p, "entity": "organization", "key": "plan", "label": "Plan", "type": "text"}
    for p in ("site-a", "site-b")
] + [
    {"property_id": p, "entity": "organization", "key": "arr", "label": "ARR", "type": "number"}
    for p in ("site-a", "site-b")
]
VALUES = [
    {
        "property_id": "site-a",
        "entity": "organization",
        "entity_id": "o1",
        "key": "plan",
        "value_text": "Premium",
    },
    {
        "property_id": "site-a",
        "entity": "organization",
        "entity_id": "o1",
        "key": "arr",
        "value_number": 120000.0,
    },
    {
        "property_id": "site-a",
        "entity": "organization",
        "entity_id": "o3",
        "key": "arr",
        "value_number": 8000.0,
    },
    {
        "property_id": "site-b",
        "entity": "organization",
        "entity_id": "o2",
        "key": "plan",
        "value_text": "business",
    },
    # a value row whose key has no definition: quarantined, not silently dropped
    {
        "property_id": "site-b",
        "entity": "organization",
        "entity_id": "o2",
        "key": "colour",
        "value_text": "red",
    },
]
PEOPLE = [{"property_id": "site-a", "person_id": "p1", "name": "Ada", "job_title": "CTO"}]
LINKS = [{"property_id": "site-a", "org_id": "o1", "person_id": "p1"}]
EVENTS = [
    {
        "event_id": "e1",
        "property_id": "site-a",
        "org_id": "o1",
        "person_id": None,
        "kind": "chat",
        "occurred_at": _ts("2026-11-10T10:00:00+00:00"),
        "author": "sam",
    },
]

SEGMENTS = {
    "enterprise.yaml": "name: Enterprise\nwhere:\n  tags: {contains: enterprise}\n",
    "big-premium.yaml": (
        "name: Big premium\nwhere:\n  all:\n    - custom.plan: {in: [premium, business]}\n"
        "    - custom.arr: {gte: 100000}\n"
    ),
    "no-name.yaml": "where:\n  name: {is_unknown: true}\n",
    "not-acme.yaml": "where:\n  name: {not_contains: acme}\n",
    "french-phones.yaml": "where:\n  primary_phone: {starts_with: '33'}\n",
    "new.yaml": "where:\n  created_at: {within_last: 30d}\n",
    "site-b-only.yaml": "properties: [site-b]\nwhere:\n  tags: {has_any_value: true}\n",
}
EXPECTED = {
    ("enterprise", "site-a", "o1"),
    ("enterprise", "site-b", "o2"),
    ("big-premium", "site-a", "o1"),
    ("no-name", "site-a", "o2"),
    ("not-acme", "site-a", "o2"),
    ("not-acme", "site-a", "o3"),
    ("not-acme", "site-b", "o1"),
    ("french-phones", "site-a", "o1"),
    ("french-phones", "site-b", "o2"),
    ("new", "site-a", "o1"),
    ("new", "site-b", "o1"),
    ("site-b-only", "site-b", "o1"),
    ("site-b-only", "site-b", "o2"),
}


def _write(path: Path, table: str, rows: list[dict[str, object]]) -> None:
    schema = TABLES[table]
    data = pa.Table.from_pylist([{c: r.get(c) for c in schema.names} for r in rows], schema=schema)
    pq.write_table(data, path / f"{table}.parquet")


@pytest.fixture
def project(tmp_path: Path) -> Path:
    data = tmp_path / "data"
    data.mkdir()
    for table, rows in {
        "organizations": ORGS,
        "people": PEOPLE,
        "organization_people": LINKS,
        "attributes": ATTRIBUTES,
        "attribute_values": VALUES,
        "timeline": EVENTS,
    }.items():
        _write(data, table, rows)
    segments = tmp_path / "segments"
    segments.mkdir()
    for name, text in SEGMENTS.items():
        (segments / name).write_text(text)
    return tmp_path


def _run(project: Path, *args: str) -> int:
    return main(
        [
            "run",
            "--data",
            str(project / "data"),
            "--segments",
            str(project / "segments"),
            "--out",
            str(project / "out"),
            "--as-of",
            AS_OF,
            "--quiet",
            *args,
        ]
    )


@pytest.fixture(params=["duckdb", "polars"])
def engine(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def test_run_publishes_membership_readable_by_every_reader(project: Path, engine: str) -> None:
    assert _run(project, "--engine", engine) == 0
    out = project / "out"

    members = pq.read_table(out / "segment_membership")
    got = {(r["segment_id"], r["property_id"], r["entity_id"]) for r in members.to_pylist()}
    assert got == EXPECTED
    assert set(members.column("entity").to_pylist()) == {"organization"}
    assert set(members.column("as_of").to_pylist()) == {_ts(AS_OF)}
    assert len(set(members.column("run_id").to_pylist())) == 1

    # The same table through Polars and through the BI database.
    assert pl.read_parquet(out / "segment_membership" / "*.parquet").height == len(EXPECTED)
    con = duckdb.connect(str(out / "warehouse.duckdb"), read_only=True)
    sizes = dict(
        con.sql("select segment_id, count(*) from segment_membership group by 1").fetchall()
    )
    assert sizes["not-acme"] == 3
    catalog = con.sql("select segment_id, entity, compiled_sql from segments").fetchall()
    assert {row[0] for row in catalog} == {name.removesuffix(".yaml") for name in SEGMENTS}
    assert all("SELECT" in row[2] for row in catalog)

    runs = con.sql("select status, engine, quarantined_rows, input_rows from runs").fetchall()
    assert runs[0][:3] == ("succeeded", engine, 1)
    assert json.loads(runs[0][3])["attribute_values"] == 4
    quarantine = con.sql('select "table", rule, "row" from quarantine').fetchall()
    assert len(quarantine) == 1
    assert quarantine[0][0] == "attribute_values"
    assert "colour" in quarantine[0][2]
    con.close()


def test_both_engines_publish_identical_membership(project: Path) -> None:
    tables = {}
    for engine in ("duckdb", "polars"):
        out = project / f"out-{engine}"
        assert (
            main(
                [
                    "run",
                    "--data",
                    str(project / "data"),
                    "--segments",
                    str(project / "segments"),
                    "--out",
                    str(out),
                    "--as-of",
                    AS_OF,
                    "--engine",
                    engine,
                    "--quiet",
                ]
            )
            == 0
        )
        tables[engine] = pq.read_table(out / "segment_membership")
    assert tables["duckdb"].equals(tables["polars"])


def test_rerun_with_same_inputs_gives_same_run_id_and_rows(project: Path) -> None:
    assert _run(project) == 0
    first = pq.read_table(project / "out" / "segment_membership")
    assert _run(project) == 0
    second = pq.read_table(project / "out" / "segment_membership")
    assert first.equals(second)
    runs = pq.read_table(project / "out" / "runs")
    assert runs.num_rows == 1  # the rerun replaced its own record


def test_definition_error_exits_1_with_location_and_hint(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (project / "segments" / "typo.yaml").write_text("where:\n  job_titel: {contains: cto}\n")
    assert _run(project) == 1
    err = capsys.readouterr().err
    assert err.startswith("segments: error: 1 error in segment definitions")
    assert "typo.yaml:2:3: unknown attribute 'job_titel'" in err
    assert "Hint: did you mean 'job_title'?" in err
    assert not (project / "out" / "segment_membership").exists()


def test_validate_reports_every_error_in_one_pass(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (project / "segments" / "bad1.yaml").write_text("where:\n  name: {contians: x}\n")
    (project / "segments" / "bad2.yaml").write_text("where:\n  custom.arr: {gt: '100'}\n")
    code = main(
        ["validate", "--data", str(project / "data"), "--segments", str(project / "segments")]
    )
    assert code == 1
    err = capsys.readouterr().err
    assert "2 errors in segment definitions" in err
    assert "bad1.yaml:2:10: unknown operator 'contians'" in err
    assert "bad2.yaml:2:20: expected a number, got '100'" in err
    assert "write 100 without quotes" in err


def test_validate_ok(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert (
        main(["validate", "--data", str(project / "data"), "--segments", str(project / "segments")])
        == 0
    )
    assert f"{len(SEGMENTS)} segments OK" in capsys.readouterr().out


def test_compile_prints_sql_that_duckdb_runs(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(
        [
            "compile",
            "enterprise",
            "--data",
            str(project / "data"),
            "--segments",
            str(project / "segments"),
        ]
    )
    assert code == 0
    sql = capsys.readouterr().out
    assert "CONTAINS(x, 'enterprise')" in sql
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    for table in TABLES:
        con.read_parquet(str(project / "data" / f"{table}.parquet")).to_view(table)
    rows = con.sql(sql.rstrip().rstrip(";")).fetchall()
    assert {(r[1], r[0], r[3]) for r in rows} == {m for m in EXPECTED if m[0] == "enterprise"}


def test_compile_polars_plan_and_unknown_segment(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    args = ["--data", str(project / "data"), "--segments", str(project / "segments")]
    assert main(["compile", "enterprise", "--engine", "polars", *args]) == 0
    assert "enterprise" in capsys.readouterr().out
    assert main(["compile", "enterprize", *args]) == 4
    err = capsys.readouterr().err
    assert "no segment 'enterprize'" in err
    assert "did you mean 'enterprise'?" in err


@pytest.mark.parametrize(
    ("flags", "message"),
    [
        (
            ["--as-of", "yesterday"],
            "--as-of: 'yesterday' is neither an ISO 8601 instant nor a date",
        ),
        (["--as-of", "2026-11-20T12:00:00"], "has no time zone"),
        (["--timezone", "Europe/Pariss"], "unknown timezone 'Europe/Pariss'"),
        (["--engine", "duckbd"], "unknown engine 'duckbd'"),
        (["--memory-limit", "lots"], "--memory-limit 'lots': Parser Error"),
        # DuckDB itself reads a negative size as no limit.
        (["--memory-limit", "-5GB"], "--memory-limit '-5GB': a size cannot be negative"),
        (
            ["--memory-limit", "1GB", "--engine", "spark"],
            "applies to --engine duckdb and polars, not spark",
        ),
    ],
)
def test_bad_flags_give_one_line_reason(
    project: Path, capsys: pytest.CaptureFixture[str], flags: list[str], message: str
) -> None:
    code = main(
        [
            "run",
            "--data",
            str(project / "data"),
            "--segments",
            str(project / "segments"),
            "--out",
            str(project / "out"),
            "--quiet",
            *flags,
        ]
    )
    assert code == 4
    err = capsys.readouterr().err
    assert err.startswith("segments: error: ")
    assert message in err
    assert "Traceback" not in err


def test_an_output_folder_that_is_a_file_is_a_clear_error(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    target = project / "out"
    target.write_text("not a folder")
    data, segments = str(project / "data"), str(project / "segments")
    code = main(["run", "--data", data, "--segments", segments, "--out", str(target), "--quiet"])
    assert code == 4
    err = capsys.readouterr().err
    assert err.startswith(f"segments: error: --out {target} is a file, not a folder\n")
    assert target.read_text() == "not a folder"
    assert main(["generate", "--orgs", "5", "--out", str(target)]) == 4
    assert "is a file, not a folder" in capsys.readouterr().err


def test_generate_refuses_a_negative_seed(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["generate", "--orgs", "5", "--seed", "-1", "--out", str(tmp_path / "g")]) == 2
    assert "'--seed': Input should be greater than or equal to 0" in capsys.readouterr().err
    assert not (tmp_path / "g").exists()


def test_version_short_help_and_bare_command(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--version"]) == 0
    assert (
        capsys.readouterr().out == f"segments {importlib.metadata.version('segments-pipeline')}\n"
    )
    assert pipeline.__version__ == importlib.metadata.version("segments-pipeline")
    for argv in (["-h"], ["--help"], []):  # bare ``segments`` shows the help too
        assert main(argv) == 0
        out = capsys.readouterr().out
        assert "Commands:" in out and "-h, --help" in out and "--version" in out
    assert main(["run", "-h"]) == 0
    assert "--memory-limit" in capsys.readouterr().out


def test_a_failed_run_leaves_the_lock_empty(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The lock names its holder only while a run holds it, a failed run included."""
    (project / "segments" / "broken.yaml").write_text("where: {name: {is_not_an_operator: 1}}\n")
    out = project / "out"
    data, segments = str(project / "data"), str(project / "segments")
    assert main(["run", "--data", data, "--segments", segments, "--out", str(out), "--quiet"]) == 1
    assert "broken.yaml" in capsys.readouterr().err
    assert (out / ".lock").read_text() == ""


def test_ctrl_c_during_a_duckdb_query_exits_130(
    project: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """SIGINT stops DuckDB's query with its own exception, which is an interruption too.
    (``con.interrupt()`` is what DuckDB's SIGINT handler calls.)"""

    def endless(engine: DuckDBEngine, *args: object) -> None:
        threading.Timer(0.3, engine.con.interrupt).start()
        engine.con.execute("SELECT count(*) FROM range(1000000000000) WHERE hash(range) = 1")

    monkeypatch.setattr(DuckDBEngine, "_flags", endless)
    out = project / "out"
    data, segments = str(project / "data"), str(project / "segments")
    code = main(["run", "--data", data, "--segments", segments, "--out", str(out), "--quiet"])
    assert code == 130
    err = capsys.readouterr().err
    assert "segments: error: interrupted; the published tables are unchanged" in err
    assert "internal error" not in err
    assert not (out / "segment_membership").exists()


def test_sigterm_during_a_run_ends_it_as_ctrl_c(
    project: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """`systemctl stop` sends SIGTERM: the run stops as if interrupted (exit 130), records
    its failure, empties the lock and leaves the published tables as they were."""
    out = project / "out"
    argv = ["run", "--data", str(project / "data"), "--segments", str(project / "segments")]
    argv += ["--out", str(out), "--quiet", "--as-of", AS_OF]
    assert main(argv) == 0
    published = sorted(p.name for p in (out / "current" / "segment_membership").iterdir())

    def endless(engine: DuckDBEngine, *args: object) -> None:
        # To the thread that waits for it: a signal to the whole pytest process could reach
        # a thread another test left, where it is not blocked (the subprocess test below
        # sends it to the process).
        watcher = next(t for t in threading.enumerate() if t.name == "sigterm")
        assert watcher.ident is not None
        threading.Timer(0.3, signal.pthread_kill, (watcher.ident, signal.SIGTERM)).start()
        engine.con.execute("SELECT count(*) FROM range(1000000000000) WHERE hash(range) = 1")

    monkeypatch.setattr(DuckDBEngine, "_flags", endless)
    argv[-1] = "2026-11-21T12:00:00Z"
    assert main(argv) == 130
    err = capsys.readouterr().err
    assert "segments: error: interrupted; the published tables are unchanged" in err
    assert "internal error" not in err
    assert (out / ".lock").read_text() == ""
    assert sorted(p.name for p in (out / "current" / "segment_membership").iterdir()) == published
    failed = list((out / ".failed").glob("*.json"))
    assert len(failed) == 1 and json.loads(failed[0].read_text())["status"] == "failed"
    # SIGTERM is no longer blocked once the command has ended
    assert signal.SIGTERM not in signal.pthread_sigmask(signal.SIG_BLOCK, set())


def test_sigterm_to_a_running_process(tmp_path: Path) -> None:
    """A real `kill PID` while the run evaluates: exit 130, nothing published, the lock
    emptied, the failure in `runs` after the next run."""
    data = tmp_path / "data"
    assert main(["generate", "--orgs", "30000", "--out", str(data)]) == 0
    out = tmp_path / "out"
    command = [sys.executable, "-m", "pipeline", "run", "--data", str(data), "--segments",
               str(ROOT / "segments"), "--out", str(out), "--as-of", AS_OF, "--log-format",
               "json"]  # fmt: skip
    with subprocess.Popen(command, stderr=subprocess.PIPE, text=True, cwd=tmp_path) as process:
        assert process.stderr is not None
        for line in process.stderr:  # mid-run: the inputs are read, the engine is at work
            if '"inputs done"' in line:
                process.send_signal(signal.SIGTERM)
                break
        rest = process.stderr.read()
        assert process.wait(timeout=60) == 130, rest
    assert "segments: error: interrupted; the published tables are unchanged" in rest
    assert not (out / "current").exists() and (out / ".lock").read_text() == ""
    assert main([*command[3:], "--log-format", "text", "-q"]) == 0
    runs = pq.read_table(sorted((out / "current" / "runs").glob("*.parquet"))).to_pylist()
    assert [r["status"] for r in runs] == ["failed", "succeeded"]


@pytest.mark.parametrize("failing_write", [1, 4, 12])
def test_a_full_disk_is_a_clear_error_and_leaves_the_published_tables(
    project: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    failing_write: int,
) -> None:
    """``ENOSPC`` at one of the writes of a later run: exit 4 naming the file, the tables of
    the earlier run untouched byte for byte, the lock emptied, and the next run succeeds."""
    out = project / "out"
    argv = ["run", "--data", str(project / "data"), "--segments", str(project / "segments")]
    argv += ["--out", str(out), "--quiet"]
    assert main([*argv, "--as-of", "2026-11-20T12:00:00Z"]) == 0
    before = {p: p.read_bytes() for p in out.rglob("*.parquet") if ".snapshots" not in p.parts}
    writes = {"count": 0}
    write = ParquetSink.write

    def full_disk(sink: ParquetSink, table: pa.Table) -> None:
        writes["count"] += 1
        if writes["count"] == failing_write:
            raise OSError(errno.ENOSPC, "No space left on device", str(sink.path))
        write(sink, table)

    monkeypatch.setattr(ParquetSink, "write", full_disk)
    assert main([*argv, "--as-of", "2026-11-20T13:00:00Z"]) == 4
    err = capsys.readouterr().err
    assert err.startswith("segments: error: No space left on device: ")
    assert "the published tables are unchanged" in err
    after = {p: p.read_bytes() for p in out.rglob("*.parquet") if ".snapshots" not in p.parts}
    assert after == before
    assert (out / ".lock").read_text() == ""
    monkeypatch.setattr(ParquetSink, "write", write)
    assert main([*argv, "--as-of", "2026-11-20T13:00:00Z"]) == 0


def test_duckdb_out_of_memory_is_a_clear_error_and_publishes_nothing(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert _run(project, "--memory-limit", "1MB") == 4
    err = capsys.readouterr().err
    assert err.startswith("segments: error: DuckDB ran out of memory (limit 976.5 KiB)")
    assert "Hint: raise --memory-limit" in err
    assert "Traceback" not in err and "internal error" not in err
    assert not (project / "out" / "current").exists()
    # With room to work, the same run succeeds.
    assert _run(project, "--memory-limit", "500MB") == 0


def test_duckdb_spills_into_the_folder_it_is_given(tmp_path: Path, project: Path) -> None:
    """A run gives DuckDB a folder of its own (removed with the run), not ./.tmp."""
    from pipeline.engines import EngineOptions, make_engine

    spill = tmp_path / "spill"
    inputs = {t: project / "data" / f"{t}.parquet" for t in TABLES}
    engine = make_engine("duckdb", inputs, EngineOptions(memory_limit="30MB", spill=spill))
    try:
        assert engine.memory_limit == "28.6 MiB"  # type: ignore[attr-defined]
        # Sorting 3M rows does not fit in 30MB: the rest goes to disk.
        rows = engine.con.execute(  # type: ignore[attr-defined]
            "SELECT count(*) FROM (SELECT i FROM range(3000000) t(i) ORDER BY hash(i)) s"
        ).fetchall()
        assert rows == [(3_000_000,)]
        assert spill.is_dir()
    finally:
        engine.close()


def test_console_script_runs_as_module(project: Path) -> None:
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])}
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "pipeline",
            "run",
            "--data",
            str(project / "data"),
            "--segments",
            str(project / "segments"),
            "--out",
            str(project / "out"),
            "--as-of",
            AS_OF,
        ],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "7 segments, 13 memberships, 1 quarantined rows" in done.stdout
    # Not on a terminal: progress is written as JSON lines.
    records = [json.loads(line) for line in done.stderr.splitlines()]
    events = [r["event"] for r in records]
    assert events[0] == "run started"
    assert "publish done" in events
    quarantined = [r for r in records if r["event"] == "quarantined"]
    assert [(q["table"], q["rows"]) for q in quarantined] == [("attribute_values", 1)]
    assert "colour" in quarantined[0]["examples"][0]


def test_properties_without_data_are_warned_about(project: Path) -> None:
    (project / "segments" / "typo-scope.yaml").write_text(
        "properties: [site-c]\nwhere:\n  name: {has_any_value: true}\n"
    )
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])}
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "pipeline",
            "run",
            "--data",
            str(project / "data"),
            "--segments",
            str(project / "segments"),
            "--out",
            str(project / "out"),
            "--as-of",
            AS_OF,
        ],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    warnings = [json.loads(line) for line in done.stderr.splitlines()]
    warnings = [w for w in warnings if w["event"] == "warning"]
    assert warnings == [
        {
            "ts": warnings[0]["ts"],
            "event": "warning",
            "segment": "typo-scope",
            "message": "properties site-c have no organization rows",
            "hint": "known properties: site-a, site-b",
        }
    ]


def test_timezone_is_part_of_the_run_identity(project: Path) -> None:
    assert _run(project) == 0
    # Another timezone moves day boundaries: it is another run, not an identical rerun.
    assert _run(project, "--timezone", "Pacific/Kiritimati") == 4
    assert _run(project, "--timezone", "Pacific/Kiritimati", "--rebuild") == 0
    runs = pq.read_table(project / "out" / "runs").to_pylist()
    assert [(r["timezone"], r["status"]) for r in runs] == [
        ("UTC", "rolled_back"),
        ("Pacific/Kiritimati", "failed"),
        ("Pacific/Kiritimati", "succeeded"),
    ]
    assert runs[0]["run_id"] != runs[2]["run_id"]

"""Spark on a real standalone cluster: a master and two workers on 127.0.0.1, started from the
PySpark package (``spark-class``), and ``segments run --spark-master spark://...`` against it.

Local mode (``local[*]``, the other Spark tests) runs the executors inside the driver's JVM, so
it cannot show what a cluster changes: tasks serialized to other JVMs, the input files read by
the executors, shuffles between two workers. Here the sample and a generated dataset publish,
through the cluster, exactly DuckDB's tables, with ``spark.driver.maxResultSize`` too small for
any of them: the proof that no table is collected to the driver (the executors write the
timeline and the membership; the driver reads the membership's files a batch at a time).

Each run is a process of its own (a process holds one SparkContext; the other Spark tests hold
theirs, in local mode). Marked ``spark``: CI runs it (``--all-engines``).
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from engine_helpers import COMPUTED_TABLES, require_pyspark

from pipeline.cli import main

require_pyspark()

import pyspark  # noqa: E402  (after the check that PySpark is installed)

pytestmark = pytest.mark.spark

ROOT = Path(__file__).resolve().parents[1]
AS_OF = "2026-11-20T12:00:00Z"
#: The next scheduled run: two weeks on, so that members come and go.
LATER = "2026-12-04T12:00:00Z"
SPARK_HOME = Path(pyspark.__file__).parent
#: What the driver may receive from the executors per job: enough for the tasks' reports
#: (~150 KB a task for the flags query's metrics), far too little for the tables of 50,000
#: organizations (their daily timeline, their people's flags): a run that collected one to
#: the driver fails. The run before the executors wrote everything failed so at 100,000
#: organizations ("Total size of serialized results of 2 tasks (4.2 MiB) is bigger than
#: spark.driver.maxResultSize"). Joins are not broadcast: a broadcast goes through the driver.
NO_COLLECTING = ("spark.driver.maxResultSize=4m", "spark.sql.autoBroadcastJoinThreshold=-1")
#: Seconds to wait for the master and the workers to come up.
START_TIMEOUT = 120


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _start(log: Path, *arguments: str) -> subprocess.Popen[bytes]:
    """A Spark daemon (``spark-class CLASS ARGS``) in its own process group, logging to ``log``."""
    env = {**os.environ, "SPARK_HOME": str(SPARK_HOME), "SPARK_LOCAL_IP": "127.0.0.1"}
    with log.open("wb") as sink:
        return subprocess.Popen(
            [str(SPARK_HOME / "bin" / "spark-class"), *arguments],
            stdout=sink,
            stderr=subprocess.STDOUT,
            env=env,
            start_new_session=True,
        )


def _wait_for(log: Path, text: str, count: int, daemons: list[subprocess.Popen[bytes]]) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if log.read_text(errors="replace").count(text) >= count:
            return
        if any(d.poll() is not None for d in daemons):
            break
        time.sleep(0.5)
    raise AssertionError(f"the Spark cluster did not start ({text!r}):\n{log.read_text()[-3000:]}")


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """``spark://127.0.0.1:PORT``: a standalone master and two workers of one core and 1 GiB
    each, stopped (their process groups killed) when the module's tests are done."""
    logs = tmp_path_factory.mktemp("spark-cluster")
    port = _free_port()
    url = f"spark://127.0.0.1:{port}"
    master_log = logs / "master.log"
    master = ["org.apache.spark.deploy.master.Master", "--host", "127.0.0.1",
              "--port", str(port), "--webui-port", str(_free_port())]  # fmt: skip
    daemons = [_start(master_log, *master)]
    try:
        _wait_for(master_log, "I have been elected leader", 1, daemons)
        for n in (1, 2):
            work = logs / f"worker-{n}"
            work.mkdir()
            worker = ["org.apache.spark.deploy.worker.Worker", url, "--host", "127.0.0.1",
                      "--cores", "1", "--memory", "1g", "--webui-port", str(_free_port()),
                      "--work-dir", str(work)]  # fmt: skip
            daemons.append(_start(logs / f"worker-{n}.log", *worker))
        _wait_for(master_log, "Registering worker", 2, daemons)
        yield url
    finally:
        for daemon in daemons:
            if daemon.poll() is None:
                os.killpg(daemon.pid, signal.SIGKILL)
            daemon.wait()


def _on_cluster(
    url: str,
    data: Path | str,
    segments: Path,
    out: Path,
    settings: tuple[str, ...] = NO_COLLECTING,
    as_of: str = AS_OF,
) -> subprocess.CompletedProcess[str]:
    """``segments run`` through the cluster, in a process of its own."""
    command = [sys.executable, "-m", "pipeline", "run", "--data", str(data), "--segments",
               str(segments), "--out", str(out), "--as-of", as_of, "--engine", "spark",
               "--spark-master", url, "--spark-conf", "spark.executor.memory=512m",
               "--quiet"]  # fmt: skip
    for setting in settings:
        command += ["--spark-conf", setting]
    env = {**os.environ, "SPARK_LOCAL_IP": "127.0.0.1"}  # the driver on the workers' address
    return subprocess.run(command, capture_output=True, text=True, cwd=ROOT, env=env, timeout=900)


def _assert_same_tables(got: Path, want: Path, runs: int = 1) -> None:
    for table in COMPUTED_TABLES:
        theirs, ours = pq.read_table(want / table), pq.read_table(got / table)
        assert ours.schema == theirs.schema, table
        assert ours.num_rows == theirs.num_rows, table
        assert ours.equals(theirs), f"{table}: the cluster's differs from DuckDB's"
    engines = [r["engine"] for r in pq.read_table(got / "runs").to_pylist()]
    assert engines == ["spark"] * runs


def test_the_sample_on_a_standalone_cluster_gives_the_duckdb_tables(
    cluster: str, tmp_path: Path
) -> None:
    data, segments = ROOT / "data", ROOT / "segments"
    argv = ["run", "--data", str(data), "--segments", str(segments), "--as-of", AS_OF]
    assert main([*argv, "--out", str(tmp_path / "duckdb"), "--quiet"]) == 0
    done = _on_cluster(cluster, data, segments, tmp_path / "spark")
    assert done.returncode == 0, done.stderr[-4000:]
    _assert_same_tables(tmp_path / "spark", tmp_path / "duckdb")


def test_generated_data_on_a_standalone_cluster_gives_the_duckdb_tables(
    cluster: str, tmp_path: Path
) -> None:
    """50,000 organizations (about 118,000 people, 500,000 events) and the project's example
    segments (attributes, custom values, timeline windows, rollups, relationship filters and
    references), with nothing collected to the driver (``NO_COLLECTING``); then the next
    scheduled run, two weeks on, whose history the executors diff against the first's."""
    data = tmp_path / "data"
    assert main(["generate", "--orgs", "50000", "--out", str(data), "--seed", "7"]) == 0
    segments = ROOT / "segments"
    for as_of in (AS_OF, LATER):
        argv = ["run", "--data", str(data), "--segments", str(segments), "--as-of", as_of]
        assert main([*argv, "--out", str(tmp_path / "duckdb"), "--quiet"]) == 0
        done = _on_cluster(cluster, data, segments, tmp_path / "spark", as_of=as_of)
        assert done.returncode == 0, done.stderr[-4000:]
    _assert_same_tables(tmp_path / "spark", tmp_path / "duckdb", runs=2)
    changes = pq.read_table(tmp_path / "spark" / "segment_changes").to_pylist()
    assert {r["change"] for r in changes if r["as_of"].isoformat().startswith(LATER[:10])} == {
        "entered",
        "exited",
    }


def test_data_at_a_url_is_copied_by_the_executors(cluster: str, tmp_path: Path) -> None:
    """``--data file://...`` (as ``s3a://`` and the like): the executors copy the tables of
    50,000 organizations into the run's folder, with nothing collected to the driver (the
    timeline alone is ~20 MB, five times ``NO_COLLECTING``'s limit), and the run finds
    DuckDB's members."""
    data = tmp_path / "data"
    assert main(["generate", "--orgs", "50000", "--out", str(data), "--seed", "7"]) == 0
    segments = ROOT / "segments"
    argv = ["run", "--data", str(data), "--segments", str(segments), "--as-of", AS_OF]
    assert main([*argv, "--out", str(tmp_path / "duckdb"), "--quiet"]) == 0
    done = _on_cluster(cluster, data.as_uri(), segments, tmp_path / "spark")
    assert done.returncode == 0, done.stderr[-4000:]
    members = ["segment_id", "property_id", "entity", "entity_id"]
    ours = pq.read_table(tmp_path / "spark" / "segment_membership", columns=members)
    theirs = pq.read_table(tmp_path / "duckdb" / "segment_membership", columns=members)
    assert ours.num_rows > 10_000 and ours.equals(theirs)
    assert not list((tmp_path / "spark" / ".work").glob("*")), "the copies are left behind"


def test_a_job_the_cluster_aborts_is_a_located_run_error(cluster: str, tmp_path: Path) -> None:
    """A result over ``spark.driver.maxResultSize`` (here 1 KiB: the tasks' reports alone)
    aborts Spark's job: exit 4 with Spark's reason and a hint, nothing published."""
    out = tmp_path / "out"
    settings = ("spark.driver.maxResultSize=1k",)
    done = _on_cluster(cluster, ROOT / "data", ROOT / "segments", out, settings)
    assert done.returncode == 4, done.stderr[-4000:]
    assert "segments: error: the Spark job failed: Total size of serialized results" in done.stderr
    assert "spark.driver.maxResultSize" in done.stderr and "    Hint: " in done.stderr
    assert "internal error" not in done.stderr and "Traceback" not in done.stderr
    assert not (out / "segment_membership").exists()

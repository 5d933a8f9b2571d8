"""The benchmark harness: generated data, generated segment sets, full runs and baselines.

    python benchmarks/run.py --sizes 100k,1m --segments 1,50,200,500 \\
        --engines duckdb,polars --repeat 3 \\
        --out benchmarks/results/2c24g.json --markdown docs/performance.md

For each size: ``segments generate --orgs N --seed S`` into ``benchmarks/data/orgs-<size>-seed<S>``
(reused when already complete). For each segment count: the set written from templates into
``benchmarks/segments/<n>/`` and checked with ``segments validate``. Then, ``--repeat`` times,
engines interleaved: the full ``segments run`` as a subprocess into a fresh output folder,
measured (wall time, per-phase seconds from the JSON log, peak RSS of the process tree, output
row counts; ``--engines spark`` runs ``--engine spark --spark-master M`` with each
``--spark-conf``); then the baselines (``benchmarks/baselines.py``, ``benchmarks/handwritten.py``)
on the same data. Results are saved to the JSON file after every measurement, so an
interrupted run keeps what it measured (``--resume`` skips what the file already holds).
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(ROOT))

import psutil  # noqa: E402
import pyarrow.dataset as pads  # noqa: E402
from measure import Limits, Measured, run_measured  # noqa: E402
from segment_sets import kinds_used, write_set  # noqa: E402

AS_OF = "2026-11-20T12:00:00Z"
#: A later run's as_of (``--later``): one hour on.
LATER_AS_OF = "2026-11-20T13:00:00Z"
OUTPUT_TABLES = (
    "segment_membership",
    "segment_membership_history",
    "segment_changes",
    "segment_sizes",
    "timeline_rollups",
    "timeline_daily",
    "segments",
    "runs",
    "quarantine",
)
SIZES = {"10k": 10_000, "100k": 100_000, "1m": 1_000_000, "10m": 10_000_000}
#: The steps ``handwritten.py`` times (``<step>_seconds`` in its JSON line).
HANDWRITTEN_PHASES = ("read", "events", "rollups", "daily", "segments", "write")


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT), *filter(None, [env.get("PYTHONPATH")])])
    env.pop("FORCE_COLOR", None)
    return env


def _cli(*args: str) -> list[str]:
    return [sys.executable, "-m", "pipeline", *args]


def _log(message: str) -> None:
    print(f"[{dt.datetime.now(dt.UTC):%H:%M:%S}] {message}", file=sys.stderr, flush=True)


def machine() -> dict[str, Any]:
    import duckdb
    import polars
    import pyarrow

    cpu = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    commit = subprocess.run(
        ["git", "-C", str(ROOT), "rev-parse", "HEAD"], capture_output=True, text=True
    ).stdout.strip()
    dirty = subprocess.run(
        ["git", "-C", str(ROOT), "status", "--porcelain", "--", "pipeline"],
        capture_output=True,
        text=True,
    ).stdout.strip()
    return {
        "nproc": os.cpu_count(),
        "memory_gib": round(psutil.virtual_memory().total / 2**30, 1),
        "cpu_model": cpu,
        "load_average_at_start": [round(x, 2) for x in os.getloadavg()],
        "os": platform.platform(),
        "python": platform.python_version(),
        "duckdb": duckdb.__version__,
        "polars": polars.__version__,
        "pyarrow": pyarrow.__version__,
        "git_commit": commit,
        "pipeline_dirty": bool(dirty),
    }


def ensure_data(size: str, seed: int) -> tuple[Path, dict[str, Any]]:
    """The generated dataset of ``size`` organizations, generating it if needed."""
    orgs = SIZES.get(size.lower()) or int(size)
    directory = HERE / "data" / f"orgs-{size.lower()}-seed{seed}"
    marker = directory / ".complete.json"
    if marker.exists():
        info = json.loads(marker.read_text())
        if info.get("orgs") == orgs and info.get("seed") == seed:
            return directory, info
    if directory.exists():
        shutil.rmtree(directory)
    _log(f"generating {orgs:,} organizations (seed {seed}) into {directory}")
    measured = run_measured(
        _cli("generate", "--orgs", str(orgs), "--out", str(directory), "--seed", str(seed)),
        env=_env(),
        cwd=ROOT,
    )
    if measured.returncode:
        raise SystemExit("generate failed:\n" + "\n".join(measured.stderr_lines[-20:]))
    info = {
        "orgs": orgs,
        "seed": seed,
        "seconds": measured.seconds,
        "peak_rss_bytes": measured.peak_rss_bytes,
        "counts": measured.stdout.strip(),
    }
    marker.write_text(json.dumps(info))
    return directory, info


def ensure_segments(n: int, data: Path) -> Path:
    directory = write_set(n, HERE / "segments" / str(n))
    checked = subprocess.run(
        _cli("validate", "--data", str(data), "--segments", str(directory)),
        env=_env(),
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    if checked.returncode:
        raise SystemExit(f"segment set {n} does not validate:\n{checked.stderr}")
    return directory


def _count_rows(out: Path) -> dict[str, int]:
    counts = {}
    for table in OUTPUT_TABLES:
        path = out / table
        if path.exists():
            counts[table] = pads.dataset(str(path.resolve()), format="parquet").count_rows()
    return counts


def _membership_digest(out: Path) -> tuple[str, dict[str, int]]:
    """A digest of (segment, property, entity id) of every member, and per-segment sizes."""
    import duckdb

    con = duckdb.connect()
    path = (out / "segment_membership").resolve()
    rows = con.sql(
        f"SELECT segment_id, count(*) FROM read_parquet('{path}/**/*.parquet') GROUP BY 1"
    ).fetchall()
    digest = con.sql(
        "SELECT bit_xor(hash(segment_id, property_id, entity_id)) "
        f"FROM read_parquet('{path}/**/*.parquet')"
    ).fetchall()[0][0]
    con.close()
    return f"{digest or 0:016x}", {str(s): int(c) for s, c in sorted(rows)}


def _run_command(
    data: Path, segments: Path, out: Path, as_of: str, engine: str, options: Sequence[str] = ()
) -> list[str]:
    return _cli(
        "run",
        "--data",
        str(data),
        "--segments",
        str(segments),
        "--out",
        str(out),
        "--as-of",
        as_of,
        "--engine",
        engine,
        *options,
    )


def full_run(
    data: Path,
    segments: Path,
    engine: str,
    work: Path,
    limits: Limits,
    later: bool = False,
    options: Sequence[str] = (),
) -> dict[str, Any]:
    """A first run into a fresh folder; with ``later``, then a run one hour later into the
    same folder (relative dates and the timeline move on: members enter and exit), which
    diffs against the first run's history. ``options`` are more flags of ``segments run``."""
    out = work / f"out-{engine}"
    if out.exists():
        shutil.rmtree(out)
    measured = run_measured(
        _run_command(data, segments, out, AS_OF, engine, options),
        env=_env(),
        cwd=ROOT,
        limits=limits,
    )
    result: dict[str, Any] = _basics(measured)
    result["load_average_after"] = [round(x, 2) for x in os.getloadavg()]
    result["phases"] = measured.phases()
    result["phase_peak_rss_bytes"] = measured.phase_peaks()
    if measured.returncode == 0:
        result["rows"] = _count_rows(out)
        result["membership_digest"], result["segment_sizes"] = _membership_digest(out)
    if later and measured.returncode == 0:
        again = run_measured(
            _run_command(data, segments, out, LATER_AS_OF, engine, options),
            env=_env(),
            cwd=ROOT,
            limits=limits,
        )
        result["later"] = _basics(again)
        result["later"]["phases"] = again.phases()
        result["later"]["changes"] = {
            key: e[key]
            for e in again.events()
            if e.get("event") == "history done"
            for key in ("entered", "exited")
        }
    shutil.rmtree(out, ignore_errors=True)
    return result


def _basics(measured: Measured) -> dict[str, Any]:
    result: dict[str, Any] = {
        "returncode": measured.returncode,
        "seconds": measured.seconds,
        "peak_rss_bytes": measured.peak_rss_bytes,
        "maxrss_bytes": measured.maxrss_bytes,
        "cpu_seconds": measured.cpu_seconds,
    }
    if measured.stopped:
        result["stopped"] = measured.stopped
    if measured.returncode:
        result["error_tail"] = measured.stderr_lines[-8:]
    return result


def baseline(
    kind: str, data: Path, segments: Path, rows: int, work: Path, limits: Limits
) -> dict[str, Any]:
    if kind == "handwritten":
        return handwritten(data, len(list(segments.glob("*.yaml"))), work, limits)
    command = [
        sys.executable,
        str(HERE / "baselines.py"),
        kind,
        "--data",
        str(data),
        "--segments",
        str(segments),
        "--as-of",
        AS_OF,
        "--rows",
        str(rows),
        "--work",
        str(work / "floor"),
    ]
    measured = run_measured(command, env=_env(), cwd=ROOT, limits=limits)
    result = _basics(measured)
    if measured.returncode == 0:
        result.update(json.loads(measured.stdout.strip().splitlines()[-1]))
    return result


def handwritten(data: Path, n: int, work: Path, limits: Limits) -> dict[str, Any]:
    """``handwritten.py`` on the first ``n`` generated segments (the set in
    ``benchmarks/segments/<n>/``), as a subprocess; its membership digest is recorded so the
    report can check it against the runs'."""
    out = work / "handwritten"
    shutil.rmtree(out, ignore_errors=True)
    command = [
        sys.executable,
        str(HERE / "handwritten.py"),
        "--data",
        str(data),
        "--segments-count",
        str(n),
        "--as-of",
        AS_OF,
        "--out",
        str(out),
    ]
    measured = run_measured(command, env=_env(), cwd=ROOT, limits=limits)
    result = _basics(measured)
    result["load_average_after"] = [round(x, 2) for x in os.getloadavg()]
    if measured.returncode == 0:
        result.update(json.loads(measured.stdout.strip().splitlines()[-1]))
        result["rows"] = {
            table: result[f"{table}_rows"]
            for table in ("segment_membership", "timeline_rollups", "timeline_daily")
        }
        result["membership_digest"], _ = _membership_digest(out)
    shutil.rmtree(out, ignore_errors=True)
    return result


def _median(values: list[float]) -> float | None:
    return round(statistics.median(values), 3) if values else None


def summarize(repeats: list[dict[str, Any]]) -> dict[str, Any]:
    ok = [r for r in repeats if r.get("returncode") == 0]
    phases: dict[str, list[float]] = {}
    for r in ok:
        for name, seconds in r.get("phases", {}).items():
            phases.setdefault(name, []).append(seconds)
    summary: dict[str, Any] = {
        "ok": len(ok),
        "failed": len(repeats) - len(ok),
        "seconds_median": _median([r["seconds"] for r in ok]),
        "seconds_all": [r["seconds"] for r in repeats],
        "cpu_seconds_median": _median([r.get("cpu_seconds", 0.0) for r in ok]),
        "peak_rss_bytes_median": _median([r["peak_rss_bytes"] for r in ok]),
        "peak_rss_bytes_max": max((r["peak_rss_bytes"] for r in ok), default=None),
        "maxrss_bytes_max": max((r["maxrss_bytes"] for r in ok), default=None),
        "phases_median": {k: _median(v) for k, v in phases.items()},
    }
    peaks: dict[str, int] = {}
    for r in ok:
        for name, rss in r.get("phase_peak_rss_bytes", {}).items():
            peaks[name] = max(peaks.get(name, 0), rss)
    if peaks:
        summary["phase_peak_rss_bytes_max"] = peaks
    if ok and "rows" in ok[0]:
        summary["rows"] = ok[0]["rows"]
        summary["membership_digest"] = ok[0].get("membership_digest")
        summary["digests_agree_across_repeats"] = len({r.get("membership_digest") for r in ok}) == 1
    later = [r["later"] for r in ok if r.get("later", {}).get("returncode") == 0]
    failed_later = [r["later"] for r in ok if r.get("later", {}).get("returncode", 0) != 0]
    if failed_later:  # a later run stopped at a limit, or failed: reported, not dropped
        summary["later_failed"] = failed_later
    if later:
        later_phases: dict[str, list[float]] = {}
        for r in later:
            for name, seconds in r.get("phases", {}).items():
                later_phases.setdefault(name, []).append(seconds)
        summary["later"] = {
            "ok": len(later),
            "seconds_median": _median([r["seconds"] for r in later]),
            "seconds_all": [r["seconds"] for r in later],
            "peak_rss_bytes_max": max(r["peak_rss_bytes"] for r in later),
            "phases_median": {k: _median(v) for k, v in later_phases.items()},
            "changes": later[0].get("changes", {}),
        }
    timed = ("query", "floor", "scan", "write", *HANDWRITTEN_PHASES)  # of the baselines
    for key in (f"{name}_seconds" for name in dict.fromkeys(timed)):
        values = [r[key] for r in ok if key in r]
        if values:
            summary[f"{key}_median"] = _median(values)
    return summary


def _save(results: dict[str, Any], path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(results, indent=1, sort_keys=False) + "\n")
    tmp.replace(path)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="100k,1m", help="e.g. 100k,1m,10m (or numbers)")
    parser.add_argument("--segments", default="1,50,200,500", help="segment counts")
    parser.add_argument("--engines", default="duckdb,polars")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument(
        "--baselines",
        default="naive,floor,handwritten",
        help="naive,floor,handwritten; empty for none",
    )
    parser.add_argument("--baseline-repeat", type=int, default=None, help="default: --repeat")
    parser.add_argument(
        "--naive-segments",
        default=None,
        help="segment counts for the naive baseline (default: all of --segments)",
    )
    parser.add_argument(
        "--naive-sizes", default=None, help="sizes to run the naive baseline at (default: all)"
    )
    parser.add_argument(
        "--later-segments",
        default="",
        help="segment counts whose runs are followed by a later run into the same folder",
    )
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--timeout", type=float, default=3600.0, help="seconds per run")
    parser.add_argument(
        "--memory-cap-gib",
        type=float,
        default=max(1.0, round(psutil.virtual_memory().total / 2**30 - 4, 1)),
        help="stop a run whose RSS passes this (default: the machine's memory less 4 GiB)",
    )
    parser.add_argument(
        "--duckdb-memory-limit",
        default=None,
        help="pass --memory-limit to the DuckDB runs (e.g. 4GB; default: DuckDB's own, 80%% of"
        " the machine's memory)",
    )
    parser.add_argument(
        "--spark-master", default="local[2]", help="--engine spark runs: the Spark master"
    )
    parser.add_argument(
        "--spark-conf",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="--engine spark runs: a Spark setting (repeat), e.g. spark.driver.memory=1g",
    )
    parser.add_argument("--out", type=Path, default=HERE / "results" / "latest.json")
    parser.add_argument("--markdown", type=Path, default=None, help="write the report here")
    parser.add_argument("--resume", action="store_true", help="keep entries already in --out")
    parser.add_argument("--work", type=Path, default=Path("/tmp/segments-bench"))
    parser.add_argument("--label", default="", help="a free note stored with the results")
    args = parser.parse_args(argv)

    sizes = [s.strip().lower() for s in args.sizes.split(",") if s.strip()]
    counts = [int(n) for n in args.segments.split(",") if n.strip()]
    engines = [e.strip() for e in args.engines.split(",") if e.strip()]
    kinds = [b.strip() for b in args.baselines.split(",") if b.strip()]
    naive_counts = (
        counts
        if args.naive_segments is None
        else [int(n) for n in args.naive_segments.split(",") if n.strip()]
    )
    later_counts = [int(n) for n in args.later_segments.split(",") if n.strip()]
    naive_sizes = sizes if args.naive_sizes is None else args.naive_sizes.lower().split(",")
    brepeat = args.baseline_repeat or args.repeat
    limits = Limits(args.timeout, int(args.memory_cap_gib * 2**30))
    command = "python benchmarks/run.py " + " ".join(
        a if " " not in a else repr(a) for a in (argv if argv is not None else sys.argv[1:])
    )

    results: dict[str, Any] = {}
    if args.resume and args.out.exists():
        results = json.loads(args.out.read_text())
    results.setdefault("machine", machine())
    results.setdefault("runs", {})
    results.setdefault("baselines", {})
    results.setdefault("data", {})
    results.setdefault("segment_sets", {})
    results["command"] = command
    results.setdefault("commands", []).append(command)
    # Each invocation's code: a results file filled by several (--resume) mixes commits.
    here = machine()
    results.setdefault("invocations", {})[command] = {
        "git_commit": here["git_commit"],
        "pipeline_dirty": here["pipeline_dirty"],
        "started_at": dt.datetime.now(dt.UTC).isoformat(),
    }
    results["results_file"] = os.path.relpath(args.out.resolve(), ROOT)
    results["as_of"] = AS_OF
    if args.label:
        results["label"] = args.label
    results["started_at"] = results.get("started_at") or dt.datetime.now(dt.UTC).isoformat()
    args.work.mkdir(parents=True, exist_ok=True)

    for size in sizes:
        data, info = ensure_data(size, args.seed)
        results["data"][size] = info
        for n in counts:
            segments = ensure_segments(n, data)
            results["segment_sets"][str(n)] = {
                "files": n,
                "conditions_by_kind": kinds_used(n),
                "sha256": hashlib.sha256(
                    b"".join(p.read_bytes() for p in sorted(segments.glob("*.yaml")))
                ).hexdigest()[:16],
            }
            for engine in engines:
                key = f"{size}/{n}/{engine}"
                entry = results["runs"].get(key)
                if args.resume and entry and entry["summary"]["ok"] >= args.repeat:
                    continue
                results["runs"][key] = {"size": size, "segments": n, "engine": engine}
                if engine == "duckdb" and args.duckdb_memory_limit:
                    results["runs"][key]["memory_limit"] = args.duckdb_memory_limit
                if engine == "spark":
                    spark = ["--spark-master", args.spark_master]
                    for setting in args.spark_conf:
                        spark += ["--spark-conf", setting]
                    results["runs"][key]["options"] = spark
                results["runs"][key]["repeats"] = []
            for rep in range(args.repeat):
                for engine in engines:
                    key = f"{size}/{n}/{engine}"
                    entry = results["runs"][key]
                    if len(entry["repeats"]) > rep:
                        continue
                    _log(f"run {key} repeat {rep + 1}/{args.repeat}")
                    limit = entry.get("memory_limit")
                    options = ["--memory-limit", limit] if limit else entry.get("options", [])
                    result = full_run(
                        data,
                        segments,
                        engine,
                        args.work,
                        limits,
                        later=n in later_counts,
                        options=options,
                    )
                    entry["repeats"].append(result)
                    entry["summary"] = summarize(entry["repeats"])
                    _log(
                        f"  -> rc={result['returncode']} {result['seconds']:.1f}s "
                        f"peak {result['peak_rss_bytes'] / 2**30:.2f} GiB {result.get('phases')}"
                    )
                    _save(results, args.out)
            members = next(
                (
                    results["runs"][f"{size}/{n}/{e}"]["summary"].get("rows", {})
                    for e in engines
                    if results["runs"][f"{size}/{n}/{e}"]["summary"].get("rows")
                ),
                {},
            ).get("segment_membership", 0)
            for kind in kinds:
                if kind == "naive" and (n not in naive_counts or size not in naive_sizes):
                    continue
                key = f"{size}/{n}/{kind}"
                entry = results["baselines"].get(key)
                if args.resume and entry and entry["summary"]["ok"] >= brepeat:
                    continue
                entry = {"size": size, "segments": n, "baseline": kind, "repeats": []}
                results["baselines"][key] = entry
                for rep in range(brepeat):
                    _log(f"baseline {key} repeat {rep + 1}/{brepeat}")
                    result = baseline(kind, data, segments, members, args.work, limits)
                    entry["repeats"].append(result)
                    entry["summary"] = summarize(entry["repeats"])
                    _log(f"  -> rc={result['returncode']} {result['seconds']:.1f}s")
                    _save(results, args.out)
    results["finished_at"] = dt.datetime.now(dt.UTC).isoformat()
    _save(results, args.out)
    if args.markdown:
        from report import write_markdown

        write_markdown(results, args.markdown)
    _log(f"results in {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

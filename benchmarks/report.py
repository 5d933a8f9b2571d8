"""The markdown report (``docs/performance.md``) from a results JSON of ``benchmarks/run.py``.

    python benchmarks/report.py benchmarks/results/<name>.json docs/performance.md

The hand-written profile notes in ``benchmarks/profile_notes.md`` are appended as they are.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
PHASES = ("definitions", "inputs", "timeline", "segments", "history", "publish")
GIB = 2**30


def _s(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f}" if value >= 10 else f"{value:.2f}"


def _gib(value: float | None) -> str:
    return "-" if value is None else f"{value / GIB:.2f}"


def _cpu_ratio(a: dict[str, Any], b: dict[str, Any]) -> float | None:
    x, y = a.get("cpu_seconds_median"), b.get("cpu_seconds_median")
    return x / y if x and y else None


def _ratio(a: dict[str, Any], b: dict[str, Any]) -> str:
    x, y = a.get("cpu_seconds_median"), b.get("cpu_seconds_median")
    return f"{x / y:.2f}x" if x and y else "-"


def _run(results: dict[str, Any], size: str, n: int, engine: str) -> dict[str, Any] | None:
    entry = results["runs"].get(f"{size}/{n}/{engine}")
    if not entry or "summary" not in entry or not entry["summary"]["ok"]:
        return None
    return entry["summary"]


def _base(results: dict[str, Any], size: str, n: int, kind: str) -> dict[str, Any] | None:
    entry = results["baselines"].get(f"{size}/{n}/{kind}")
    if not entry or "summary" not in entry or not entry["summary"]["ok"]:
        return None
    return entry["summary"]


def _failure(entry: dict[str, Any]) -> str:
    """How the first failed repeat of a run ended: stopped at a limit, or an error."""
    failed = next((r for r in entry.get("repeats", []) if r.get("returncode") != 0), None)
    if failed is None:
        return "failed"
    done = [p for p in PHASES if p in failed.get("phases", {})]
    during = next((p for p in PHASES if p not in done), "the end")
    peak = _gib(failed.get("peak_rss_bytes"))
    if failed.get("stopped") == "memory":
        return f"stopped at {peak} GiB RSS during {during}, after {failed['seconds']:.0f} s"
    if failed.get("stopped") == "timeout":
        return f"stopped at the time limit during {during}, after {failed['seconds']:.0f} s"
    return f"failed during {during} (exit {failed.get('returncode')}, peak {peak} GiB)"


def _keys(results: dict[str, Any]) -> tuple[list[str], list[int], list[str]]:
    order = {"10k": 0, "100k": 1, "1m": 2, "10m": 3}
    sizes = sorted({e["size"] for e in results["runs"].values()}, key=lambda s: order.get(s, 9))
    counts = sorted({e["segments"] for e in results["runs"].values()})
    engines = sorted({e["engine"] for e in results["runs"].values()})
    return sizes, counts, engines


def _entries(results: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    """Each measured run, as its ``| size | segments | engine |`` cells and its entry, in
    report order."""
    sizes, counts, engines = _keys(results)
    for size in sizes:
        for n in counts:
            for engine in engines:
                entry = results["runs"].get(f"{size}/{n}/{engine}")
                if entry:
                    yield f"| {size} | {n} | {_engine(entry)} |", entry


def _engine(entry: dict[str, Any]) -> str:
    """The engine of a run, with the DuckDB memory limit it was given, if any."""
    limit = entry.get("memory_limit")
    return f"{entry['engine']} (`--memory-limit {limit}`)" if limit else str(entry["engine"])


def runs_table(results: dict[str, Any]) -> list[str]:
    head = (
        "| orgs | segments | engine | wall s (median) | repeats s | CPU s | "
        + " | ".join(PHASES)
        + " | other | peak RSS GiB | membership rows | history rows | load after |"
    )
    lines = [head, "|" + "---|" * (head.count("|") - 1)]
    for cells, entry in _entries(results):
        summary = entry.get("summary", {})
        if not summary.get("ok"):
            lines.append(
                f"{cells} {_failure(entry)} | "
                + ", ".join(_s(x) for x in summary.get("seconds_all", []))
                + " |" * (len(PHASES) + 7)
            )
            continue
        phases = summary["phases_median"]
        other = summary["seconds_median"] - sum(phases.get(p, 0.0) for p in PHASES)
        rows = summary.get("rows", {})
        lines.append(
            f"{cells} **{_s(summary['seconds_median'])}** | "
            + ", ".join(_s(x) for x in summary["seconds_all"])
            + f" | {_s(summary.get('cpu_seconds_median'))} | "
            + " | ".join(_s(phases.get(p)) for p in PHASES)
            + f" | {_s(other)} | {_gib(summary['peak_rss_bytes_max'])} | "
            f"{rows.get('segment_membership', 0):,} | "
            f"{rows.get('segment_membership_history', 0):,} | "
            + ", ".join(
                f"{r['load_average_after'][0]:.1f}"
                for r in entry["repeats"]
                if r.get("load_average_after")
            )
            + " |"
        )
    return lines


def later_table(results: dict[str, Any]) -> list[str]:
    """Runs one hour after the first, into the same folder: what a scheduled run costs."""
    head = (
        "| orgs | segments | engine | first run s | later run s (median) | repeats s | "
        + " | ".join(PHASES)
        + " | entered | exited | peak RSS GiB |"
    )
    lines = [head, "|" + "---|" * (head.count("|") - 1)]
    for cells, entry in _entries(results):
        summary = entry.get("summary", {})
        if summary.get("later_failed"):
            failed = {"repeats": summary["later_failed"]}
            lines.append(
                f"{cells} {_s(summary['seconds_median'])} | {_failure(failed)} |"
                + " |" * (len(PHASES) + 4)
            )
        later = summary.get("later")
        if not later:
            continue
        phases = later["phases_median"]
        changes = later.get("changes", {})
        lines.append(
            f"{cells} {_s(summary['seconds_median'])} | "
            f"**{_s(later['seconds_median'])}** | "
            + ", ".join(_s(x) for x in later["seconds_all"])
            + " | "
            + " | ".join(_s(phases.get(p)) for p in PHASES)
            + f" | {changes.get('entered', 0):,} | {changes.get('exited', 0):,} | "
            f"{_gib(later['peak_rss_bytes_max'])} |"
        )
    return lines if len(lines) > 2 else []


def memory_table(results: dict[str, Any]) -> list[str]:
    lines = [
        "| orgs | segments | engine | " + " | ".join(PHASES) + " | whole run |",
        "|---|---|---|" + "---|" * (len(PHASES) + 1),
    ]
    for entry in results["runs"].values():
        summary = entry.get("summary", {})
        peaks = summary.get("phase_peak_rss_bytes_max")
        if not peaks:
            continue
        lines.append(
            f"| {entry['size']} | {entry['segments']} | {_engine(entry)} | "
            + " | ".join(_gib(peaks.get(p)) for p in PHASES)
            + f" | {_gib(summary['peak_rss_bytes_max'])} |"
        )
    return lines if len(lines) > 2 else ["(not recorded for these runs)"]


def baselines_table(results: dict[str, Any]) -> list[str]:
    sizes, counts, _ = _keys(results)
    lines = [
        "| orgs | segments | DuckDB run s | naive: wall s | naive: queries s | "
        "naive queries / DuckDB segments phase | floor: wall s | floor: scan + write s | "
        "DuckDB run / floor wall | Polars run / floor wall |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for size in sizes:
        for n in counts:
            duck = _run(results, size, n, "duckdb")
            polars = _run(results, size, n, "polars")
            naive = _base(results, size, n, "naive")
            floor = _base(results, size, n, "floor")
            if not (naive or floor):
                continue
            seg = duck["phases_median"].get("segments") if duck else None
            lines.append(
                f"| {size} | {n} | {_s(duck and duck['seconds_median'])} | "
                f"{_s(naive and naive['seconds_median'])} | "
                f"{_s(naive and naive.get('query_seconds_median'))} | "
                + (
                    f"{naive['query_seconds_median'] / seg:.2f}x"
                    if naive and seg and naive.get("query_seconds_median")
                    else "-"
                )
                + f" | {_s(floor and floor['seconds_median'])} | "
                f"{_s(floor and floor.get('floor_seconds_median'))} | "
                + (
                    f"{duck['seconds_median'] / floor['seconds_median']:.1f}x"
                    if duck and floor
                    else "-"
                )
                + " | "
                + (
                    f"{polars['seconds_median'] / floor['seconds_median']:.1f}x"
                    if polars and floor
                    else "-"
                )
                + " |"
            )
    return lines


#: The steps ``handwritten.py`` times, as ``run.HANDWRITTEN_PHASES``.
HANDWRITTEN_PHASES = ("read", "events", "rollups", "daily", "segments", "write")


def handwritten_table(results: dict[str, Any]) -> list[str]:
    """The hand-written Polars script next to the runs of the same invocation: its wall time
    and peak RSS, the run's ratio to it, and whether it found the same members."""
    sizes, counts, _ = _keys(results)
    lines = [
        "| orgs | segments | handwritten: wall s | CPU s | "
        + " / ".join(HANDWRITTEN_PHASES)
        + " s | peak RSS GiB | same members as the runs | DuckDB run s | DuckDB / handwritten |"
        " Polars run s | Polars / handwritten |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for size in sizes:
        for n in counts:
            hand = _base(results, size, n, "handwritten")
            if not hand:
                continue
            runs = {e: _run(results, size, n, e) for e in ("duckdb", "polars")}
            digests = {r.get("membership_digest") for r in runs.values() if r} - {None}
            same = (
                "-"
                if not digests or not hand.get("membership_digest")
                else "yes"
                if digests == {hand["membership_digest"]}
                else "**no**"
            )
            cells = []
            for engine in ("duckdb", "polars"):
                run = runs[engine]
                cells.append(_s(run["seconds_median"] if run else None))
                cells.append(
                    f"{run['seconds_median'] / hand['seconds_median']:.1f}x "
                    f"(CPU: {_ratio(run, hand)})"
                    if run
                    else "-"
                )
            lines.append(
                f"| {size} | {n} | **{_s(hand['seconds_median'])}** | "
                f"{_s(hand.get('cpu_seconds_median'))} | "
                + " / ".join(_s(hand.get(f"{p}_seconds_median")) for p in HANDWRITTEN_PHASES)
                + f" | {_gib(hand['peak_rss_bytes_max'])} | {same} | "
                + " | ".join(cells)
                + " |"
            )
    return lines if len(lines) > 2 else []


def targets(results: dict[str, Any]) -> list[str]:
    sizes, counts, engines = _keys(results)
    lines = ["| target | measured | verdict |", "|---|---|---|"]

    def row(target: str, measured: str, ok: bool | None, miss: str = "") -> None:
        verdict = "not measured" if ok is None else "met" if ok else f"**missed** {miss}"
        lines.append(f"| {target} | {measured} | {verdict} |")

    duck = _run(results, "1m", 200, "duckdb")
    if duck:
        t = duck["seconds_median"]
        row(
            "1M orgs / 10M events / 200 segments, DuckDB, full run < 10 s",
            f"{t:.1f} s",
            t < 10,
            f"by {t / 10:.1f}x ({t - 10:.0f} s over)",
        )
    else:
        row("1M orgs / 10M events / 200 segments, DuckDB, full run < 10 s", "-", None)
    for size in sizes:
        for engine in engines:
            one, many = _run(results, size, 1, engine), _run(results, size, 500, engine)
            if one and many:
                ratio = many["seconds_median"] / one["seconds_median"]
                row(
                    f"{size}, {engine}: 500 segments <= 3x the time of 1 segment",
                    f"{many['seconds_median']:.1f} s / {one['seconds_median']:.1f} s = "
                    f"{ratio:.1f}x (CPU: {_ratio(many, one)})",
                    ratio <= 3,
                    f"by {ratio / 3:.1f}x",
                )
                cpu = _cpu_ratio(many, one)
                if ratio <= 3 and cpu is not None and cpu > 3:
                    lines[-1] = lines[-1].replace(
                        "| met |",
                        f"| met on wall time only; on CPU seconds **missed** by "
                        f"{cpu / 3:.1f}x (the runs saw different machine load) |",
                    )
    for size in sizes:
        naive = _base(results, size, 200, "naive")
        for engine in engines:
            run = _run(results, size, 200, engine)
            if naive and run and naive.get("query_seconds_median"):
                q = naive["query_seconds_median"]
                ratio = q / run["seconds_median"]
                seg = run["phases_median"].get("segments") or 0
                row(
                    f"{size}, {engine}, 200 segments: >= 10x faster than one query per segment",
                    f"naive queries {q:.1f} s vs full run {run['seconds_median']:.1f} s = "
                    f"{ratio:.2f}x (vs segments phase {seg:.1f} s: "
                    f"{q / seg if seg else float('nan'):.2f}x)",
                    ratio >= 10,
                    f"by {10 / ratio:.0f}x (need 10x, have {ratio:.2f}x)",
                )
    for size in sizes:
        for n in counts:
            floor = _base(results, size, n, "floor")
            for engine in engines:
                run = _run(results, size, n, engine)
                if floor and run and n in (1, 200, 500):
                    ratio = run["seconds_median"] / floor["seconds_median"]
                    row(
                        f"{size}, {n} segments, {engine}: full run within 2x of the floor",
                        f"{run['seconds_median']:.1f} s vs floor {floor['seconds_median']:.1f} s "
                        f"(process wall; scan + write alone "
                        f"{floor.get('floor_seconds_median', 0):.2f} s) = {ratio:.1f}x",
                        ratio <= 2,
                        f"by {ratio / 2:.1f}x",
                    )
    tried = [(e, results["runs"].get(f"10m/200/{e}")) for e in engines]
    if any(entry for _, entry in tried):
        for engine, entry in tried:
            name = _engine(entry) if entry else engine
            target = f"10M orgs / 100M events / 200 segments, {name}: completes, peak RSS < 8 GiB"
            run = _run(results, "10m", 200, engine)
            if run:
                peak = run["peak_rss_bytes_max"] / GIB
                row(
                    target,
                    f"{run['seconds_median']:.0f} s, peak {peak:.2f} GiB",
                    peak < 8,
                    f"by {peak / 8:.1f}x",
                )
            elif entry:
                row(target, _failure(entry), False, "(did not complete)")
    else:
        at_1m = [r for e in engines for n in counts if (r := _run(results, "1m", n, e))]
        peak = max((r["peak_rss_bytes_max"] for r in at_1m), default=None)
        row(
            "10M orgs / 100M events / 200 segments: completes, peak RSS < 8 GiB",
            "not run" + (f"; 1M runs already peak at {peak / GIB:.1f} GiB" if peak else ""),
            None,
        )
    for size in sizes:
        for n in counts:
            duck, polars = _run(results, size, n, "duckdb"), _run(results, size, n, "polars")
            if duck and polars:
                ratio = polars["seconds_median"] / duck["seconds_median"]
                row(
                    f"{size}, {n} segments: Polars within 1.5x of DuckDB",
                    f"{polars['seconds_median']:.1f} s / {duck['seconds_median']:.1f} s = "
                    f"{ratio:.2f}x (CPU: {_ratio(polars, duck)})",
                    ratio <= 1.5,
                    f"by {ratio / 1.5:.1f}x",
                )
    return lines


def agreement(results: dict[str, Any]) -> list[str]:
    sizes, counts, engines = _keys(results)
    lines = []
    for size in sizes:
        for n in counts:
            digests = {
                e: (_run(results, size, n, e) or {}).get("membership_digest") for e in engines
            }
            known = {d for d in digests.values() if d}
            if len(known) > 1:
                lines.append(f"- {size}/{n}: engines DISAGREE on membership: {digests}")
    if not lines:
        lines.append(
            "- Both engines published identical membership (same digest of every "
            "segment/property/entity row) in every configuration measured with both."
        )
    return lines


def render(results: dict[str, Any]) -> str:
    m = results["machine"]
    data_rows = [
        f"| {size} | {info['counts']} | {_s(info.get('seconds'))} |"
        for size, info in results.get("data", {}).items()
    ]
    sets = [
        f"| {n} | " + ", ".join(f"{k} {v}" for k, v in info["conditions_by_kind"].items()) + " |"
        for n, info in sorted(results.get("segment_sets", {}).items(), key=lambda x: int(x[0]))
    ]
    notes = HERE / "profile_notes.md"
    parts = [
        "# Performance",
        "",
        "Generated by `benchmarks/run.py` (see [benchmarks/README.md](../benchmarks/README.md))"
        " from `" + results.get("results_file", "benchmarks/results/*.json") + "`; the profile"
        " notes at the end are written by hand from profiles of the same data.",
        "",
        "## Machine",
        "",
        f"- {m['nproc']} cores ({m['cpu_model']}), {m['memory_gib']} GiB memory, {m['os']}",
        f"- Python {m['python']}, DuckDB {m['duckdb']}, Polars {m['polars']}, "
        f"pyarrow {m['pyarrow']}; pipeline at commit `{m['git_commit'][:10]}`"
        + (
            " for the first invocation (each command below names its own)"
            if results.get("invocations")
            else ""
        ),
        f"- Shared machine: load average {m['load_average_at_start']} when the run started "
        "(the `load after` column gives it at the end of every run): compare the CPU seconds "
        "and the ratios of runs measured side by side rather than single wall times."
        + (f" Note: {results['label']}." if results.get("label") else ""),
        "",
        "## Command",
        "",
        "```bash",
        *(
            _with_commit(c, results.get("invocations", {}))
            for c in results.get("commands") or [results.get("command", "")]
        ),
        "```",
        "",
        "(Several invocations filling one results file with `--resume`, when one command runs "
        "more than the time available; each invocation is listed.)"
        if len(results.get("commands", [])) > 1
        else "",
        "",
        f"Every run: `python -m pipeline run --data D --segments S --out O --as-of "
        f"{results.get('as_of')} --engine E` as a subprocess into a fresh output folder "
        "(first run: full history), not on a TTY. Wall time is the subprocess's, including "
        "interpreter start and imports (`other` = wall minus the logged phases). Peak RSS: "
        "the sum over the process tree, sampled every 50 ms (max over repeats). CPU s: user + "
        "system seconds of the run process (median). Load after: the machine's 1-minute load "
        "average when each repeat ended (2 cores; other sessions' tests included).",
        "",
        "## Data",
        "",
        "| orgs | rows per table | generation s |",
        "|---|---|---|",
        *data_rows,
        "",
        "## Segment sets (conditions by kind; each set is a prefix of the next)",
        "",
        "| segments | conditions |",
        "|---|---|",
        *sets,
        "",
        "## Full runs",
        "",
        *runs_table(results),
        "",
        *(
            [
                "## Later runs",
                "",
                "A scheduled run finds the previous run's history: after the first run of a "
                "repeat, the same command runs again into the same folder with `--as-of` one "
                "hour later (relative dates and the timeline move on, so members enter and "
                "exit). Its history phase diffs the membership against every open stay.",
                "",
                *later_table(results),
                "",
            ]
            if later_table(results)
            else []
        ),
        "## Peak RSS by phase (GiB; sampled, max over repeats; recorded from the later stages on)",
        "",
        *memory_table(results),
        "",
        "## Baselines",
        "",
        "naive = each segment's own SQL (`segments compile`), one query per segment, in one "
        "DuckDB connection over the input Parquet; floor = one DuckDB scan of exactly the "
        "columns the set reads plus writing a membership table of the run's size. Both are "
        "measured as processes (their wall time includes interpreter start, imports and "
        "reading the definitions, as a run's does).",
        "",
        *baselines_table(results),
        "",
        *(
            [
                "handwritten = `benchmarks/handwritten.py`: what a data engineer would write "
                "by hand for these generated segments in plain Polars and numpy, without the "
                "engine (dense integer keys, each distinct predicate evaluated once, one "
                "filter per segment over key-sorted flags, dictionary-encoded output); it "
                "writes `segment_membership`, `timeline_rollups` and `timeline_daily`, but "
                "no history, changes, sizes, catalog or warehouse, validates nothing and "
                "publishes nothing atomically. Same members: its membership digest against "
                "the runs'.",
                "",
                *handwritten_table(results),
                "",
            ]
            if handwritten_table(results)
            else []
        ),
        "## Engines agree",
        "",
        *agreement(results),
        "",
        "## Targets",
        "",
        *targets(results),
        "",
    ]
    if results.get("not_run"):
        parts += ["## Not run", "", *[f"- {x}" for x in results["not_run"]], ""]
    if notes.exists():
        parts += [notes.read_text().rstrip(), ""]
    return "\n".join(parts)


def _with_commit(command: str, invocations: dict[str, Any]) -> str:
    """The command, preceded by the commit it ran (when the results file recorded it)."""
    seen = invocations.get(command)
    if not seen:
        return command
    dirty = " + uncommitted changes" if seen.get("pipeline_dirty") else ""
    commit = str(seen["git_commit"])
    commit = commit[:10] if len(commit) == 40 else commit  # a full hash, or a note
    return f"# pipeline at {commit}{dirty}\n{command}"


def write_markdown(results: dict[str, Any], path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(render(results))


if __name__ == "__main__":
    source, target = Path(sys.argv[1]), Path(sys.argv[2])
    loaded = json.loads(source.read_text())
    loaded.setdefault("results_file", str(source))
    write_markdown(loaded, target)

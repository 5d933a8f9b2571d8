"""The marketer's loop at scale: how long `preview`, `why`, `explain`, `export` and
`validate --data` take on a generated dataset, as the commands a marketer types (processes,
interpreter start and imports included), medians of --repeat, side by side in one invocation.

```bash
python benchmarks/loop.py --data benchmarks/data/orgs-1m-seed1 \
    --segments benchmarks/segments/200 --out benchmarks/results/loop-1m.json
```

`export` needs a published run: the script runs `segments run --select` of the segments it
measures into a scratch folder first (timed too, reported as `run --select`).
"""

from __future__ import annotations

import argparse
import json
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

import pyarrow.compute as pc
import pyarrow.parquet as pq

sys.path.insert(0, str(Path(__file__).resolve().parent))
from measure import run_measured

AS_OF = "2026-11-20T12:00:00Z"
#: One segment of each kind the loop must handle: an attribute filter, a timeline
#: condition, a relationship filter (the first of each in the benchmark's segment set).
KINDS = ("org-text", "org-timeline", "org-people")


def _candidates(segments: Path) -> dict[str, list[str]]:
    """The first three segments of each kind (one with members is then measured)."""
    files = sorted(p.stem for p in segments.glob("*.yaml"))
    return {kind: [f for f in files if f.endswith(kind)][:3] for kind in KINDS}


def _segment_id(segments: Path, stem: str) -> str:
    text = (segments / f"{stem}.yaml").read_text()
    for line in text.splitlines():
        if line.startswith("id:"):
            return line.split(":", 1)[1].strip().strip("\"'")
    return stem


def _commit() -> str:
    done = subprocess.run(
        ["git", "rev-parse", "--short=10", "HEAD"], capture_output=True, text=True
    )
    return done.stdout.strip() or "unknown"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, required=True)
    parser.add_argument("--segments", type=Path, required=True)
    parser.add_argument("--engines", default="duckdb,polars")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    engines = args.engines.split(",")
    candidates = {
        kind: [_segment_id(args.segments, s) for s in stems]
        for kind, stems in _candidates(args.segments).items()
    }
    scratch = Path(tempfile.mkdtemp(prefix="loop-bench-"))
    pipeline = [sys.executable, "-m", "pipeline"]
    common = ["--data", str(args.data), "--segments", str(args.segments), "--as-of", AS_OF]
    results: dict[str, object] = {
        "commit": _commit(),
        "machine": platform.platform(),
        "data": str(args.data),
        "commands": {},
    }
    commands: dict[str, dict[str, object]] = {}
    try:
        out = scratch / "out"
        every = [i for ids in candidates.values() for i in ids]
        selects = [x for i in every for x in ("--select", i)]
        ran = run_measured([*pipeline, "run", *common, "--out", str(out), "--quiet", *selects])
        if ran.returncode:
            raise SystemExit(f"run failed: {ran.stderr_lines[-3:]}")
        commands[f"run --select ({len(every)} segments, duckdb)"] = {"seconds": [ran.seconds]}
        member = {}
        membership = pq.read_table(
            sorted((out / "current" / "segment_membership").glob("*.parquet"))
        )
        ids = []
        for kind_ids in candidates.values():
            sizes = {
                i: int(pc.sum(pc.equal(membership["segment_id"], i)).as_py() or 0) for i in kind_ids
            }
            segment_id = max(kind_ids, key=lambda i: sizes[i])
            rows = membership.filter(pc.equal(membership["segment_id"], segment_id))
            first = rows.slice(0, 1).to_pylist()[0]
            member[segment_id] = (first["entity_id"], first["property_id"], rows.num_rows)
            ids.append(segment_id)
        results["segments"] = ids
        plan: list[tuple[str, list[str]]] = []
        for segment_id in ids:
            entity_id, property_id, _ = member[segment_id]
            for engine in engines:
                plan.append(
                    (
                        f"preview {segment_id} ({engine})",
                        [*pipeline, "preview", segment_id, *common, "--engine", engine],
                    )
                )
                plan.append(
                    (
                        f"why {segment_id} ({engine})",
                        [
                            *pipeline,
                            "why",
                            segment_id,
                            entity_id,
                            "--property",
                            property_id,
                            *common,
                            "--engine",
                            engine,
                        ],
                    )
                )
            plan.append((f"explain {segment_id}", [*pipeline, "explain", segment_id, *common]))
            plan.append(
                (
                    f"export {segment_id} ({member[segment_id][2]:,} members, parquet)",
                    [
                        *pipeline,
                        "export",
                        segment_id,
                        "--out",
                        str(out),
                        "--data",
                        str(args.data),
                        "--format",
                        "parquet",
                        "--output",
                        str(scratch / f"{segment_id}.parquet"),
                    ],
                )
            )
        for _ in range(args.repeat):  # the commands interleaved, repeat after repeat
            for name, command in plan:
                measured = run_measured(command)
                if measured.returncode:
                    raise SystemExit(f"{name} failed: {measured.stderr_lines[-3:]}")
                entry = commands.setdefault(name, {"seconds": [], "peak_rss_bytes": []})
                entry["seconds"].append(round(measured.seconds, 2))  # type: ignore[union-attr]
                entry["peak_rss_bytes"].append(measured.peak_rss_bytes)  # type: ignore[union-attr]
        for entry in commands.values():
            entry["median_seconds"] = statistics.median(entry["seconds"])  # type: ignore[arg-type]
            if "peak_rss_bytes" in entry:
                entry["peak_rss_gib"] = round(max(entry["peak_rss_bytes"]) / 2**30, 2)  # type: ignore[arg-type]
        results["commands"] = commands
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    args.out.write_text(json.dumps(results, indent=2) + "\n")
    for name, entry in commands.items():
        print(f"{name:60s} {entry['median_seconds']:>7.2f} s  {entry.get('peak_rss_gib', '-')} GiB")
    return 0


if __name__ == "__main__":
    sys.exit(main())

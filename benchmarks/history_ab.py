"""The later run's history merge (`publish.history.advance`) of two checkouts, side by side.

Each checkout merges the same later membership into the history of its own first run (so
each reads the history in the layout it writes), in a process of its own, the two checkouts
taking turns, --repeat times; medians of wall and CPU seconds of `advance` alone.

```bash
# a first run (12:00) into a folder with each checkout, one later run (13:00) with either
python -m pipeline run --data D --segments S --out /tmp/first-old --as-of 2026-11-20T12:00:00Z
python -m pipeline run --data D --segments S --out /tmp/later --as-of 2026-11-20T12:00:00Z
python -m pipeline run --data D --segments S --out /tmp/later --as-of 2026-11-20T13:00:00Z
python benchmarks/history_ab.py --old OLD_CHECKOUT --old-python OLD_PY --old-first /tmp/first-old \
    --new . --new-first /tmp/first-new --later /tmp/later --repeat 5 --out ab.json
```
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
from pathlib import Path

#: Run inside a checkout: times `advance` of the later membership against the first history.
_ONCE = """
import datetime as dt, shutil, sys, tempfile, time
from pathlib import Path
import pyarrow.compute as pc, pyarrow.parquet as pq
from pipeline.publish import history as h
from pipeline.publish.snapshot import published_parts, read_published_frame

first, later = Path(sys.argv[1]), Path(sys.argv[2])
members = pq.read_table(published_parts(later, "segment_membership"), columns=h.KEY)
ids = members.column("segment_id")
parts = [(s, members.filter(pc.equal(ids, s))) for s in sorted(set(ids.unique().to_pylist()))]
sizes = pq.read_table(published_parts(later, "segment_sizes")).to_pylist()
scopes = {(r["segment_id"], r["property_id"]) for r in sizes}
previous = h.published(
    published_parts(first, "segment_membership_history"),
    None,
    read_published_frame(first, "segment_sizes"),
)
work = Path(tempfile.mkdtemp(dir=first))
as_of = dt.datetime(2026, 11, 20, 13, tzinfo=dt.UTC)
wall, cpu = time.perf_counter(), time.process_time()
h.advance(previous, iter(parts), "ab", as_of, scopes, work)
print(f"{time.perf_counter() - wall:.3f} {time.process_time() - cpu:.3f}")
shutil.rmtree(work)
"""


def once(root: Path, python: str, first: Path, later: Path) -> tuple[float, float]:
    env = dict(os.environ, PYTHONPATH=str(root))
    done = subprocess.run(
        [python, "-c", _ONCE, str(first), str(later)],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    wall, cpu = done.stdout.split()
    return float(wall), float(cpu)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--old", type=Path, required=True)
    parser.add_argument("--old-python", default=sys.executable)
    parser.add_argument("--old-first", type=Path, required=True)
    parser.add_argument("--new", type=Path, required=True)
    parser.add_argument("--new-python", default=sys.executable)
    parser.add_argument("--new-first", type=Path, required=True)
    parser.add_argument("--later", type=Path, required=True)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    sides = {
        "old": (args.old, args.old_python, args.old_first),
        "new": (args.new, args.new_python, args.new_first),
    }
    runs: dict[str, list[tuple[float, float]]] = {name: [] for name in sides}
    for repeat in range(args.repeat):
        for name in ("old", "new") if repeat % 2 == 0 else ("new", "old"):
            root, python, first = sides[name]
            runs[name].append(once(root, python, first, args.later))
            print(repeat, name, *runs[name][-1], flush=True)
    result = {
        name: {
            "wall": [w for w, _ in times],
            "cpu": [c for _, c in times],
            "median_wall": statistics.median(w for w, _ in times),
            "median_cpu": statistics.median(c for _, c in times),
        }
        for name, times in runs.items()
    }
    result["ratio_wall"] = result["new"]["median_wall"] / result["old"]["median_wall"]
    result["ratio_cpu"] = result["new"]["median_cpu"] / result["old"]["median_cpu"]
    print(json.dumps({k: v for k, v in result.items() if k.startswith("ratio")}))
    if args.out:
        args.out.write_text(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()

"""Failed runs are recorded beside the published tables, never inside them.

A failed run must not touch what BI reads, so its record goes to ``OUT/.failed/`` and joins
the ``runs`` table when the next run publishes. The JSON log has it at once.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
from pathlib import Path
from typing import Any

FAILED = ".failed"


def record_failure(out: Path, record: dict[str, Any]) -> None:
    folder = out / FAILED
    folder.mkdir(parents=True, exist_ok=True)
    started = record["started_at"]
    path = folder / f"{started:%Y%m%dT%H%M%S%f}-{os.getpid()}.json"
    finished = dt.datetime.now(dt.UTC)
    payload = {**record, "finished_at": finished}
    temp = path.with_suffix(".tmp")
    try:
        temp.write_text(json.dumps(payload, default=_iso))
        os.replace(temp, path)
    finally:  # a full disk: no half-written record left for the next run to read
        temp.unlink(missing_ok=True)


def pending_failures(out: Path) -> list[dict[str, Any]]:
    folder = out / FAILED
    if not folder.is_dir():
        return []
    rows = []
    for path in sorted(folder.glob("*.json")):
        row = json.loads(path.read_text())
        for key in ("as_of", "started_at", "finished_at"):
            if row.get(key):
                row[key] = dt.datetime.fromisoformat(row[key])
        rows.append(row)
    return rows


def forget_failures(out: Path) -> None:
    shutil.rmtree(out / FAILED, ignore_errors=True)


def _iso(value: object) -> str:
    if isinstance(value, dt.datetime):
        return value.isoformat()
    return str(value)

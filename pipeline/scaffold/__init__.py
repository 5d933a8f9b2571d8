"""``segments init DIR``: a new project that ``segments run`` accepts at once.

It holds a project file, a few of the repository's example segments (copies of
``segments/``, kept equal by a test) and a sample dataset generated around the day it is
made, so that the relative dates of the examples (``within_last: 30d``) find members.
"""

from __future__ import annotations

import datetime as dt
import shutil
from importlib import resources
from pathlib import Path
from typing import Final

from pipeline.errors import RunError
from pipeline.project import PROJECT_FILE

#: The project file ``init`` writes.
PROJECT_TEXT: Final = """\
# The defaults of every `segments` command run from this folder (see docs/scheduling.md).
# Environment variables SEGMENTS_<KEY> override them, and flags override both.
data = "data"
segments = "segments"
out = "out"
timezone = "UTC"
engine = "duckdb"
keep = 5
"""


def example_segments() -> list[Path]:
    """The example segment files ``init`` copies."""
    folder = resources.files("pipeline.scaffold").joinpath("segments")
    return sorted(Path(str(p)) for p in folder.iterdir() if p.name.endswith(".yaml"))


def init(folder: Path, organizations: int = 1000, today: dt.date | None = None) -> list[str]:
    """Writes a new project into ``folder`` (absent or empty); returns what it wrote."""
    from pipeline.generate import generate

    if folder.exists() and (not folder.is_dir() or any(folder.iterdir())):
        raise RunError(
            f"{folder} already exists and is not an empty folder",
            "give a new folder: segments init my-project",
        )
    day = today or dt.datetime.now(dt.UTC).date()
    folder.mkdir(parents=True, exist_ok=True)
    (folder / PROJECT_FILE).write_text(PROJECT_TEXT, encoding="utf-8")
    segments = folder / "segments"
    segments.mkdir()
    for example in example_segments():
        shutil.copyfile(example, segments / example.name)
    anchor = dt.datetime.combine(day, dt.time(), tzinfo=dt.UTC)
    counts = generate(organizations, folder / "data", seed=0, anchor=anchor)
    return [
        PROJECT_FILE,
        f"segments/ ({len(example_segments())} example segments)",
        "data/ (" + ", ".join(f"{t}: {n:,}" for t, n in counts.items()) + ")",
    ]

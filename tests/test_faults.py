"""Faults of the machine: a full disk, a read-only output folder, files the user may not read.

The rule (docs/security.md): every failure the machine causes ends in a documented exit code
(4; 1 for a segment file, as for any definition problem), a one-line reason naming the path and
a hint, no traceback; the published outputs stay byte for byte as they were, ``OUT/.lock`` is
emptied, and once the fault is gone the next run succeeds.

The faults are real, not mocked: ``--out`` on a small tmpfs filled up so that the next run meets
``ENOSPC`` in each of its steps, read-only remounts and bind mounts, and a process that file
permissions apply to. Mounting needs root with ``CAP_SYS_ADMIN`` (this container and CI run as
root); without it those tests skip, saying so. Root ignores permissions through two
capabilities, which ``setpriv`` drops (a process of root without them is refused a ``chmod
000`` file, as any other user would be, and still reads the interpreter and the environment,
which may sit in a folder other users cannot enter, as CI's does).

Where each step fails depends on the sizes the run writes: they are measured, by a run of the
same data on the same disk, at the end of each phase and at the publishing checkpoints, and each
fill level leaves free half of what its step writes. The sample data of ``data/`` is used,
copied, with some of the bundled segments.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import os
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

import pytest

from pipeline.cli import main
from pipeline.engines.duckdb import DuckDBEngine
from pipeline.progress import Reporter
from pipeline.publish import snapshot

ROOT: Final = Path(__file__).resolve().parents[1]
ENGINES: Final = ("duckdb", "polars")
FIRST: Final = "2026-11-20T12:00:00Z"
NEXT: Final = "2026-11-21T12:00:00Z"
#: The tmpfs: an earlier run (~3 MB), the next one (~2 MB) and room to spare.
DISK_KB: Final = 24 * 1024
PAGE: Final = 4096
#: What a run writes beside the published outputs: the lock, its failure records.
BESIDE: Final = frozenset({".lock", ".failed"})
#: Bundled segments enough to use every kind of condition (rollups, linked people, custom
#: attributes, references to other segments); a run of all of them takes twice as long.
SEGMENTS: Final = (
    "engaged-accounts.yaml",
    "disengaged-customers.yaml",
    "churn-risk-customers.yaml",
    "accounts-with-decision-maker.yaml",
    "high-value-accounts.yaml",
    "free-mail-contacts.yaml",
)
#: Sorting this many rows under DuckDB's smallest limit here spills (tests/test_cli.py).
SPILLING: Final = "SELECT count(*) FROM (SELECT i FROM range(3000000) t(i) ORDER BY hash(i)) s"


def _segments(*argv: str) -> tuple[int, str]:
    """``segments ARGV`` in this process: the exit code and what it wrote to stderr."""
    err = io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
        code = main(list(argv))
    return code, err.getvalue()


def _run(project: Path, out: Path, as_of: str, engine: str, *flags: str) -> tuple[int, str]:
    return _segments(
        "run",
        "--data",
        str(project / "data"),
        "--segments",
        str(project / "segments"),
        "--out",
        str(out),
        "--as-of",
        as_of,
        "--engine",
        engine,
        "--quiet",
        *flags,
    )


def _outputs(out: Path) -> dict[str, str]:
    """Every path under ``out`` but the lock and the failure records: a file's digest, a
    link's target, or ``dir``."""
    found = {}
    for path in sorted(out.rglob("*")):
        relative = path.relative_to(out)
        if relative.parts[0] in BESIDE:
            continue
        if path.is_symlink():
            found[str(relative)] = "-> " + os.readlink(path)
        elif path.is_file():
            found[str(relative)] = hashlib.sha256(path.read_bytes()).hexdigest()
        else:
            found[str(relative)] = "dir"
    return found


def _machine_failure(err: str, reason: str, path: str) -> str:
    """Checks the end of a failed command's stderr: one line of reason naming ``path``, one
    of hint, no traceback; returns the hint."""
    assert "Traceback" not in err and "internal error" not in err, err
    *_, line, hint = err.rstrip("\n").split("\n")
    assert line.startswith("segments: error: ") and reason in line and path in line, err
    assert hint.startswith("    Hint: "), err
    return hint


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of the sample data and of some of the bundled segments."""
    folder = tmp_path_factory.mktemp("project")
    shutil.copytree(ROOT / "data", folder / "data")
    (folder / "segments").mkdir()
    for name in SEGMENTS:
        shutil.copy(ROOT / "segments" / name, folder / "segments" / name)
    return folder


@dataclass
class Mounts:
    """The mounts a test makes, undone at its end in reverse order, whatever happened."""

    made: list[Path] = field(default_factory=list)

    def _mount(self, *args: str) -> None:
        done = subprocess.run(["mount", *args], capture_output=True, text=True)
        if done.returncode:
            pytest.skip(
                f"mount {' '.join(args)} failed (it needs root with CAP_SYS_ADMIN): "
                + done.stderr.strip()
            )

    def tmpfs(self, where: Path, size_kb: int) -> Path:
        if shutil.which("mount") is None or not sys.platform.startswith("linux"):
            pytest.skip("a full disk is made with a Linux tmpfs")
        where.mkdir(parents=True, exist_ok=True)
        self._mount("-t", "tmpfs", "-o", f"size={size_kb}k,mode=755", "tmpfs", str(where))
        self.made.append(where)
        return where

    def read_only(self, where: Path, *, bind: bool = False) -> None:
        """``where`` read-only: remounted if it is a mount point, else bind-mounted on itself."""
        if bind:
            self._mount("--bind", str(where), str(where))
            self.made.append(where)
            self._mount("-o", "remount,bind,ro", str(where))
        else:
            self._mount("-o", "remount,ro", str(where))

    def read_write(self, where: Path) -> None:
        self._mount("-o", "remount,rw", str(where))

    def unmount(self, where: Path) -> None:
        self.made.remove(where)
        _umount(where)

    def close(self) -> None:
        while self.made:
            _umount(self.made.pop())


def _umount(where: Path) -> None:
    if subprocess.run(["umount", str(where)], capture_output=True).returncode:
        subprocess.run(["umount", "--lazy", str(where)], capture_output=True)


@pytest.fixture
def mounts() -> Iterator[Mounts]:
    made = Mounts()
    try:
        yield made
    finally:
        made.close()


#: A run's marks: the disk space it had used (bytes) at the end of each phase (``inputs``,
#: ``timeline``, ``segments``, ``history``) and at the checkpoints of publishing
#: (``snapshot-written``, ...); and the sizes of the earlier run's ``warehouse.duckdb`` and
#: ``report.html``, as they take room on the disk.
Marks = dict[str, int]


@dataclass
class Disk:
    """A small tmpfs (mounted for the module) holding ``out``, and per engine an earlier
    run's output folder to put back in place before each fault, with the marks of the run
    that follows it."""

    root: Path
    project: Path
    keep: Path
    templates: dict[str, tuple[Path, Marks]] = field(default_factory=dict)

    @property
    def out(self) -> Path:
        return self.root / "out"

    def used(self) -> int:
        stats = os.statvfs(self.root)
        return (stats.f_blocks - stats.f_bfree) * stats.f_frsize

    def clear(self) -> None:
        for path in self.root.iterdir():
            if path.is_dir() and not path.is_symlink():
                shutil.rmtree(path)
            else:
                path.unlink()

    def earlier_run(self, engine: str, out: Path | None = None) -> tuple[Path, Marks]:
        """``out`` (default ``self.out``) holding the earlier run, and the next run's marks.

        The earlier run ran at ``self.out``: at another path the warehouse's views (which
        name their folder) must all be written again, as when an output folder is moved."""
        if engine not in self.templates:
            self.clear()
            code, err = _run(self.project, self.out, FIRST, engine)
            assert code == 0, err
            template = self.keep / engine
            shutil.copytree(self.out, template, symlinks=True)
            marks = self._marks(engine)
            sizes = {name: _pages((template / name).stat().st_size) for name in _SIZED}
            self.templates[engine] = (template, {**marks, **sizes})
        template, marks = self.templates[engine]
        self.clear()
        shutil.copytree(template, out or self.out, symlinks=True)
        return out or self.out, marks

    def _marks(self, engine: str) -> Marks:
        marks: Marks = {}
        start = self.used()

        def mark(name: str) -> None:
            marks.setdefault(name, self.used() - start)

        event, checkpoint = Reporter.event, snapshot.checkpoint

        def phase_done(reporter: Reporter, name: str, **fields: Any) -> None:
            if name.endswith(" done"):
                mark(name.removesuffix(" done"))
            event(reporter, name, **fields)

        def reached(point: str) -> None:
            mark(point)
            checkpoint(point)

        with pytest.MonkeyPatch.context() as patched:
            patched.setattr(Reporter, "event", phase_done)
            patched.setattr(snapshot, "checkpoint", reached)
            code, err = _run(self.project, self.out, NEXT, engine)
        assert code == 0, err
        return marks

    def fill(self, free: int) -> None:
        """Leave ``free`` bytes (whole pages) on the disk."""
        stats = os.statvfs(self.root)
        filler = stats.f_bavail * stats.f_frsize - free // PAGE * PAGE
        if filler > 0:
            with open(self.root / "filler", "wb") as handle:
                os.posix_fallocate(handle.fileno(), 0, filler)

    def free_up(self) -> None:
        (self.root / "filler").unlink(missing_ok=True)


_SIZED: Final = ("warehouse.duckdb", "report.html")


def _pages(size: int) -> int:
    return -(-size // PAGE) * PAGE


@pytest.fixture(scope="module")
def disk(project: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Disk]:
    made = Mounts()
    try:
        root = made.tmpfs(tmp_path_factory.mktemp("disk"), DISK_KB)
        yield Disk(root, project, tmp_path_factory.mktemp("templates"))
    finally:
        made.close()


@dataclass(frozen=True)
class Step:
    """A fill level: the space left free (from the marks) so that ``ENOSPC`` is met in this
    step, and the path (under ``OUT``) the error must name."""

    name: str
    free: Callable[[Marks], int]
    names: str
    #: The earlier run's folder is put elsewhere: the warehouse is written again.
    moved: bool = False


def _between(start: str, end: str) -> Callable[[Marks], int]:
    return lambda marks: (marks[start] + marks[end]) // 2


STEPS: Final = (
    # Not a page left: the lock file cannot even take the pid.
    Step("lock", lambda marks: 0, ".lock"),
    # The validated copies of the inputs (pyarrow; the error names the output folder).
    Step("inputs", lambda marks: marks["inputs"] // 2, ""),
    # DuckDB's COPY of the timeline tables; pyarrow's with --engine polars.
    Step("timeline", _between("inputs", "timeline"), ".work/"),
    # The membership, history and changes, written by pyarrow as they are merged.
    Step("history", _between("segments", "history"), ".work/"),
    Step("snapshot", _between("history", "snapshot-written"), ".snapshots/."),
    # After the switch to the new snapshot: undone, the earlier run stays published.
    Step(
        "warehouse",
        lambda marks: marks["snapshot-written"] + marks["warehouse.duckdb"] // 2,
        ".warehouse.duckdb.",
        moved=True,
    ),
)


@pytest.mark.parametrize("step", STEPS, ids=[s.name for s in STEPS])
@pytest.mark.parametrize("engine", ENGINES)
def test_a_full_disk_at_each_step_fails_clearly_and_publishes_nothing(
    disk: Disk, engine: str, step: Step
) -> None:
    out, marks = disk.earlier_run(engine, disk.root / "moved" if step.moved else None)
    before = _outputs(out)
    disk.fill(step.free(marks))
    try:
        code, err = _run(disk.project, out, NEXT, engine)
    finally:
        disk.free_up()
    assert code == 4, err
    named = f"{out}/{step.names}" if step.names else str(out)
    hint = _machine_failure(err, "No space left on device", named)
    assert "free space on that disk" in hint and "the published tables are unchanged" in hint
    assert _outputs(out) == before
    assert (out / ".lock").read_text() == ""
    code, err = _run(disk.project, out, NEXT, engine)
    assert code == 0, err
    assert (out / "current").readlink() != before["current"].removeprefix("-> ")
    assert (out / ".lock").read_text() == ""


def test_duckdb_spilling_to_a_full_disk_fails_clearly(
    disk: Disk, monkeypatch: pytest.MonkeyPatch
) -> None:
    """DuckDB spills what does not fit in its memory to OUT/.work/PID/spill, up to the free
    space of that disk: a query that needs more fails (a large sort stands in for a large
    evaluation)."""
    out, marks = disk.earlier_run("duckdb")
    before = _outputs(out)
    flags = DuckDBEngine._flags

    def spilling(engine: DuckDBEngine, *args: Any) -> Any:
        engine.con.execute(SPILLING).fetchall()
        return flags(engine, *args)

    monkeypatch.setattr(DuckDBEngine, "_flags", spilling)
    disk.fill(marks["timeline"] + 64 * 1024)
    try:
        code, err = _run(disk.project, out, NEXT, "duckdb", "--memory-limit", "30MB")
    finally:
        disk.free_up()
    assert code == 4, err
    hint = _machine_failure(err, "disk space to spill to", f"{out}/.work/")
    assert "free space on the disk of" in hint
    assert _outputs(out) == before
    assert (out / ".lock").read_text() == ""
    monkeypatch.undo()
    assert _run(disk.project, out, NEXT, "duckdb")[0] == 0


@pytest.mark.parametrize("engine", ENGINES)
def test_a_full_disk_for_the_report_is_a_warning_of_a_published_run(
    disk: Disk, engine: str
) -> None:
    """The report is written once the run is published, and a report that fails is a
    warning (docs/report.md): the run succeeds and the earlier report stays whole."""
    out, marks = disk.earlier_run(engine)
    before = _outputs(out)
    disk.fill(marks["snapshot-written"] + marks["report.html"] // 2)
    try:
        code, err = _run(disk.project, out, NEXT, engine, "--log-format", "text")
    finally:
        disk.free_up()
    assert code == 0, err
    assert "warning: report.html was not written: No space left on device\n" in err
    assert f"again (free space on the disk of {out})\n" in err
    after = _outputs(out)
    assert after["current"] != before["current"]  # published
    assert after["report.html"] == before["report.html"]
    assert not list(out.glob(".*.tmp"))
    assert (out / ".lock").read_text() == ""
    assert _run(disk.project, out, NEXT, engine)[0] == 0
    assert _outputs(out)["report.html"] != before["report.html"]


@pytest.mark.parametrize("engine", ENGINES)
def test_a_read_only_output_folder(disk: Disk, mounts: Mounts, engine: str) -> None:
    out, _ = disk.earlier_run(engine)
    before = _outputs(out)
    mounts.read_only(disk.root)
    try:
        code, err = _run(disk.project, out, NEXT, engine)
    finally:
        mounts.read_write(disk.root)
    assert code == 4, err
    hint = _machine_failure(err, "Read-only file system", str(out))
    assert "read-write" in hint and "the published tables are unchanged" in hint
    assert _outputs(out) == before
    assert (out / ".lock").read_text() == ""
    assert _run(disk.project, out, NEXT, engine)[0] == 0


@pytest.mark.parametrize("engine", ENGINES)
def test_a_read_only_snapshots_folder(disk: Disk, mounts: Mounts, engine: str) -> None:
    """Everything but the snapshots writable: the run gets as far as publishing."""
    out, _ = disk.earlier_run(engine)
    before = _outputs(out)
    mounts.read_only(out / snapshot.SNAPSHOTS, bind=True)
    try:
        code, err = _run(disk.project, out, NEXT, engine)
    finally:
        mounts.unmount(out / snapshot.SNAPSHOTS)
    assert code == 4, err
    hint = _machine_failure(err, "Read-only file system", f"{out}/{snapshot.SNAPSHOTS}/.")
    assert "read-write" in hint
    assert _outputs(out) == before
    assert (out / ".lock").read_text() == ""
    assert len(list((out / ".failed").glob("*.json"))) == 1  # joins `runs` next time
    assert _run(disk.project, out, NEXT, engine)[0] == 0


def test_an_output_folder_under_a_regular_file(project: Path, tmp_path: Path) -> None:
    """``--out FILE/out`` (``--out FILE`` itself: tests/test_cli.py) names the file."""
    file = tmp_path / "results"
    file.write_text("not a folder")
    code, err = _run(project, file / "out", FIRST, "duckdb")
    assert code == 4, err
    hint = _machine_failure(err, "is a file, not a folder", f"({file} is a file)")
    assert "give a folder" in hint
    assert file.read_text() == "not a folder"


def _without_permission_bypass() -> list[str]:
    """The prefix of a command whose process file permissions apply to.

    Root passes them by CAP_DAC_OVERRIDE and CAP_DAC_READ_SEARCH: ``setpriv`` drops both
    (from the bounding set too, or the exec would give them back). Another user needs
    nothing."""
    if os.geteuid() != 0:
        return []
    setpriv = shutil.which("setpriv")
    if setpriv is None:
        pytest.skip("setpriv (util-linux) is needed to run without root's permission bypass")
    caps = "-dac_override,-dac_read_search"
    return [setpriv, f"--inh-caps={caps}", f"--bounding-set={caps}"]


@pytest.fixture
def restricted(tmp_path: Path) -> list[str]:
    """``segments`` in a process a ``chmod 000`` file is refused to (checked first)."""
    prefix = _without_permission_bypass()
    probe = tmp_path / "probe"
    probe.write_text("")
    probe.chmod(0)
    done = subprocess.run(
        [*prefix, sys.executable, "-c", f"open({str(probe)!r})"], capture_output=True
    )
    if done.returncode == 0:
        pytest.skip("this process ignores file permissions even without its capabilities")
    return [*prefix, sys.executable, "-m", "pipeline"]


def _published(project: Path, tmp_path: Path) -> tuple[Path, dict[str, str]]:
    out = tmp_path / "out"
    code, err = _run(project, out, FIRST, "duckdb")
    assert code == 0, err
    return out, _outputs(out)


def _restricted_run(restricted: list[str], data: Path, segments: Path, out: Path) -> str:
    command = [*restricted, "run", "--data", str(data), "--segments", str(segments),
               "--out", str(out), "--as-of", NEXT, "--quiet"]  # fmt: skip
    done = subprocess.run(
        command,
        capture_output=True,
        text=True,
        cwd=out.parent,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    return f"{done.returncode}\n{done.stderr}"


def test_an_unreadable_segment_file(project: Path, tmp_path: Path, restricted: list[str]) -> None:
    """A segment file this user may not read is a problem located at that file (exit 1)."""
    segments = tmp_path / "segments"
    shutil.copytree(project / "segments", segments)
    out, before = _published(project, tmp_path)
    locked = segments / "free-mail-contacts.yaml"  # no other segment names it
    locked.chmod(0)
    try:
        code, err = _restricted_run(restricted, project / "data", segments, out).split("\n", 1)
    finally:
        locked.chmod(0o644)
    assert code == "1", err
    where = locked.relative_to(tmp_path)  # to the folder the command ran in
    assert f"\n{where}: the file cannot be read: Permission denied\n    Hint: " in err
    assert err.startswith("segments: error: 1 error in segment definitions:\n"), err
    assert "Traceback" not in err
    assert _outputs(out) == before
    assert (out / ".lock").read_text() == ""
    assert _segments("run", "--data", str(project / "data"), "--segments", str(segments),
                     "--out", str(out), "--as-of", NEXT, "-q")[0] == 0  # fmt: skip


def test_an_unreadable_data_folder(project: Path, tmp_path: Path, restricted: list[str]) -> None:
    data = tmp_path / "data"
    shutil.copytree(project / "data", data)
    out, before = _published(project, tmp_path)
    data.chmod(0)
    try:
        code, err = _restricted_run(restricted, data, project / "segments", out).split("\n", 1)
    finally:
        data.chmod(0o755)
    assert code == "4", err
    hint = _machine_failure(err, "Permission denied", str(data))
    assert "read the data" in hint and "the published tables are unchanged" in hint
    assert _outputs(out) == before
    assert (out / ".lock").read_text() == ""
    assert _segments("run", "--data", str(data), "--segments", str(project / "segments"),
                     "--out", str(out), "--as-of", NEXT, "-q")[0] == 0  # fmt: skip


def test_an_unreadable_input_file(project: Path, tmp_path: Path, restricted: list[str]) -> None:
    """An input file this user may not read is a fault of the machine (exit 4, the file and a
    hint about permissions), not a broken file of the data (exit 3)."""
    data = tmp_path / "data"
    shutil.copytree(project / "data", data)
    out, before = _published(project, tmp_path)
    locked = data / "timeline.parquet"
    locked.chmod(0)
    try:
        code, err = _restricted_run(restricted, data, project / "segments", out).split("\n", 1)
    finally:
        locked.chmod(0o644)
    assert code == "4", err
    hint = _machine_failure(err, "Permission denied", str(locked))
    assert "read the data" in hint and "the published tables are unchanged" in hint
    assert _outputs(out) == before
    assert (out / ".lock").read_text() == ""

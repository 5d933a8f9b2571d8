"""What a run says: the log (text or JSON, NO_COLOR, quiet, verbose), the summary table at
its end, and the whole error of a failed run in `runs` and in the log."""

from __future__ import annotations

import io
import json
import shutil
from pathlib import Path

import polars as pl
import pytest

from pipeline.cli import main
from pipeline.progress import Reporter

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "data"
SEGMENTS = ROOT / "segments"


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def _run(out: Path, *extra: str) -> list[str]:
    return ["run", "--data", str(DATA), "--segments", str(SEGMENTS), "--out", str(out),
            "--as-of", "2026-11-20T12:00:00Z", *extra]  # fmt: skip


@pytest.mark.parametrize("log_format", ["text", "json"])
def test_log_formats(log_format: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(_run(tmp_path, "--log-format", log_format)) == 0
    lines = capsys.readouterr().err.splitlines()
    assert any("inputs done" in line for line in lines)
    as_json = [line.startswith("{") for line in lines]
    assert all(as_json) if log_format == "json" else not any(as_json)
    if log_format == "json":
        events = [json.loads(line)["event"] for line in lines]
        assert events[0] == "run started" and events[-1] == "run finished"


def test_unknown_log_format(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(_run(tmp_path, "--log-format", "xml")) == 4
    assert "unknown --log-format 'xml'" in capsys.readouterr().err


def test_no_color_means_no_escape_codes(monkeypatch: pytest.MonkeyPatch) -> None:
    def written(no_color: bool) -> str:
        if no_color:
            monkeypatch.setenv("NO_COLOR", "1")
        else:
            monkeypatch.delenv("NO_COLOR", raising=False)
        stream = _Terminal()
        reporter = Reporter(stream)
        reporter.event("inputs done", seconds=1.0)
        reporter.event("warning", message="something odd", hint="look")
        return stream.getvalue()

    assert "\x1b[" in written(no_color=False)  # a terminal gets dim and yellow
    plain = written(no_color=True)
    assert "\x1b" not in plain
    assert "inputs done  seconds=1.0" in plain
    assert "warning: something odd" in plain and "hint: look" in plain


def test_quiet_keeps_warnings_and_verbose_keeps_everything() -> None:
    stream = io.StringIO()
    quiet = Reporter(stream, quiet=True, log_format="text")
    quiet.event("inputs done", seconds=1.0)
    quiet.event("warning", message="careful")
    assert "inputs done" not in stream.getvalue() and "warning: careful" in stream.getvalue()
    long = "x" * 500
    cut, whole = io.StringIO(), io.StringIO()
    Reporter(cut, log_format="text").event("quarantined", examples=long)
    Reporter(whole, log_format="text", verbose=True).event("quarantined", examples=long)
    assert long not in cut.getvalue() and "..." in cut.getvalue()
    assert long in whole.getvalue()


def test_the_summary_table(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    folder = tmp_path / "segments"
    shutil.copytree(SEGMENTS, folder)
    (folder / "nobody.yaml").write_text("where:\n  custom.arr: {gt: 1000000000}\n")
    argv = ["run", "--data", str(DATA), "--segments", str(folder), "--out", str(tmp_path / "o")]
    assert main([*argv, "--as-of", "2026-11-20T12:00:00Z", "--summary", "-q"]) == 0
    out = capsys.readouterr().out
    header = next(line for line in out.splitlines() if line.startswith("segment "))
    assert header.split() == ["segment", "members", "entered", "exited", "change", "note"]
    row = next(line for line in out.splitlines() if line.startswith("churn-risk-customers "))
    assert row.split() == ["churn-risk-customers", "388", "388", "0", "+388"]
    assert next(x for x in out.splitlines() if x.startswith("nobody ")).split()[-1] == "EMPTY"

    (folder / "stale-records.yaml").unlink()
    assert main([*argv, "--as-of", "2026-12-04T12:00:00Z", "--summary", "-q"]) == 0
    out = capsys.readouterr().out
    sizes = pl.read_parquet(sorted((tmp_path / "o/current/segment_sizes").glob("*.parquet")))
    churn = sizes.filter(
        (pl.col("segment_id") == "churn-risk-customers") & (pl.col("as_of").dt.day() == 4)
    ).select(pl.col("members", "entered", "exited").sum())
    members, entered, exited = churn.row(0)
    row = next(line for line in out.splitlines() if line.startswith("churn-risk-customers "))
    change = entered - exited
    assert row.split()[:5] == [
        "churn-risk-customers",
        f"{members:,}",
        f"{entered:,}",
        f"{exited:,}",
        f"{change:+,}" if change else "0",
    ]
    assert "removed: its members exited" in next(
        line for line in out.splitlines() if line.startswith("stale-records ")
    )
    # off a terminal, no table unless asked
    assert main([*argv, "--as-of", "2026-12-05T12:00:00Z", "-q"]) == 0
    assert "entered" not in capsys.readouterr().out


def test_a_failed_run_keeps_every_problem(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "o"
    assert main(_run(out, "-q")) == 0
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "a.yaml").write_text("where: {tags: {contians: x}}\n")
    (bad / "b.yaml").write_text("where: {nme: {is: x}}\n")
    argv = ["run", "--data", str(DATA), "--segments", str(bad), "--out", str(out),
            "--as-of", "2026-11-21T12:00:00Z", "--log-format", "json"]  # fmt: skip
    assert main(argv) == 1
    failed = next(
        json.loads(line)
        for line in capsys.readouterr().err.splitlines()
        if line.startswith("{") and json.loads(line)["event"] == "run failed"
    )
    assert "a.yaml:1:16: unknown operator 'contians'" in failed["detail"]
    assert "b.yaml:1:9: unknown attribute 'nme'" in failed["detail"]
    later = ["run", "--data", str(DATA), "--segments", str(SEGMENTS), "--out", str(out)]
    assert main([*later, "--as-of", "2026-11-22T12:00:00Z", "-q"]) == 0
    runs = pl.read_parquet(sorted((out / "current" / "runs").glob("*.parquet")))
    row = runs.filter(pl.col("status") == "failed").row(0, named=True)
    assert row["error"] == "2 errors in segment definitions:"
    assert "Hint: did you mean 'contains'?" in row["error_detail"]
    assert "b.yaml:1:9: unknown attribute 'nme'" in row["error_detail"]


COMMANDS = ("run", "validate", "compile", "list", "preview", "explain", "why", "export",
            "schema", "init", "generate")  # fmt: skip


@pytest.mark.parametrize("command", COMMANDS)
def test_help_shows_choices_not_types(command: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main([command, "--help"]) == 0
    text = capsys.readouterr().out
    options = [line for line in text.splitlines() if line.lstrip().startswith("--")]
    assert options and not any("<" in line for line in options), options
    if command == "run":
        assert "--engine duckdb|polars|spark" in text and "--log-format auto|text|json" in text
        assert "SEGMENTS_OUT" in text  # the variable of each project key
    if command == "export":
        assert "--format csv|parquet|jsonl" in text

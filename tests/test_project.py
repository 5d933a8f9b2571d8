"""The project file (segments.toml or [tool.segments]), SEGMENTS_* variables, `segments init`,
and the guard on an --as-of in the future."""

from __future__ import annotations

import datetime as dt
import filecmp
from pathlib import Path

import polars as pl
import pytest

from pipeline.cli import main
from pipeline.scaffold import example_segments

ROOT = Path(__file__).resolve().parent.parent


def _err(capsys: pytest.CaptureFixture[str]) -> str:
    return capsys.readouterr().err


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty folder the commands run from, with no SEGMENTS_* variable set."""
    for name in ("DATA", "SEGMENTS", "OUT", "AS_OF", "TIMEZONE", "ENGINE", "SELECT"):
        monkeypatch.delenv(f"SEGMENTS_{name}", raising=False)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_file_then_environment_then_flag(
    project: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    (project / "segments.toml").write_text(f'data = "{ROOT / "data"}"\nsegments = "from-file"\n')
    assert main(["validate"]) == 1
    assert "from-file: the segments directory does not exist" in _err(capsys)
    monkeypatch.setenv("SEGMENTS_SEGMENTS", "from-env")
    assert main(["validate"]) == 1
    assert "from-env: the segments directory does not exist" in _err(capsys)
    assert main(["validate", "--segments", str(ROOT / "segments")]) == 0
    assert capsys.readouterr().out.strip() == "29 segments OK"


def test_a_run_from_the_project_folder_needs_no_flag(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (project / "segments.toml").write_text(
        f'data = "{ROOT / "data"}"\nsegments = "{ROOT / "segments"}"\nout = "published"\n'
        'as_of = "2026-11-20T12:00:00Z"\ntimezone = "Europe/Paris"\nkeep = 2\n'
        'select = ["churn-risk-customers"]\n'
    )
    assert main(["run", "--quiet"]) == 0
    runs = pl.read_parquet(sorted((project / "published" / "current" / "runs").glob("*.parquet")))
    row = runs.row(0, named=True)
    assert row["as_of"] == dt.datetime(2026, 11, 20, 12, tzinfo=dt.UTC)
    assert row["timezone"] == "Europe/Paris" and row["selected"] == "churn-risk-customers"
    assert row["segments"] == 1
    # the other commands read the same defaults
    assert main(["preview", "churn-risk-customers", "--limit", "0"]) == 0
    assert "churn-risk-customers: 388 organizations" in capsys.readouterr().out


def test_pyproject_tool_segments(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (project / "pyproject.toml").write_text(
        f'[project]\nname = "x"\n\n[tool.segments]\nsegments = "{ROOT / "segments"}"\n'
        f'data = "{ROOT / "data"}"\n'
    )
    assert main(["validate"]) == 0
    assert capsys.readouterr().out.strip() == "29 segments OK"
    # segments.toml wins over pyproject.toml (whole: the two are not merged)
    (project / "segments.toml").write_text(f'segments = "nowhere"\ndata = "{ROOT / "data"}"\n')
    assert main(["validate"]) == 1
    assert "nowhere: the segments directory does not exist" in _err(capsys)


@pytest.mark.parametrize(
    ("text", "message", "hint"),
    [
        ('segmens = "s"\n', "unknown key 'segmens'", "did you mean 'segments'?"),
        ('colour = "red"\n', "unknown key 'colour'", "the keys are: data, segments"),
        ('keep = "5"\n', "keep must be a whole number, got '5'", "snapshots to keep"),
        ('select = "tag:daily"\n', "select must be a list", "the segments `run` evaluates"),
        ("engine = \n", "not valid TOML", 'engine = "duckdb"'),
    ],
)
def test_bad_project_files_are_errors_with_a_hint(
    project: Path, text: str, message: str, hint: str, capsys: pytest.CaptureFixture[str]
) -> None:
    (project / "segments.toml").write_text(text)
    assert main(["validate"]) == 4
    err = _err(capsys)
    assert "segments.toml" in err and message in err and hint in err


def test_an_as_of_in_the_future_is_refused(
    project: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    base = ["run", "--data", str(ROOT / "data"), "--segments", str(ROOT / "segments"), "--quiet"]
    assert main([*base, "--as-of", "9999-12-31T23:59:59Z"]) == 4
    err = _err(capsys)
    assert "is more than 1d in the future" in err and "--allow-future" in err
    assert not (project / "out" / "current").exists()
    soon = (dt.datetime.now(dt.UTC) + dt.timedelta(days=3)).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert main([*base, "--as-of", soon]) == 4
    monkeypatch.setenv("SEGMENTS_FUTURE_HORIZON", "1w")
    assert main([*base, "--as-of", soon]) == 0
    assert main([*base, "--as-of", "2030-01-01", "--allow-future"]) == 0
    assert main([*base, "--as-of", soon, "--future-horizon", "2 days"]) == 4
    assert "write a duration like 1d" in _err(capsys)


def test_init_makes_a_project_that_runs(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["init", "new", "--orgs", "300"]) == 0
    assert "next: cd new && segments run" in capsys.readouterr().out
    assert (project / "new" / "segments.toml").is_file()
    assert main(["init", "new"]) == 4
    assert "already exists and is not an empty folder" in _err(capsys)


def test_an_initialized_project_runs_with_members(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["init", str(tmp_path / "p"), "--orgs", "400"]) == 0
    monkeypatch.chdir(tmp_path / "p")
    assert main(["run", "--quiet"]) == 0
    sizes = pl.read_parquet(sorted(Path("out/current/segment_sizes").glob("*.parquet")))
    # the data is generated around today: the examples' relative windows find members
    per_segment = dict(sizes.group_by("segment_id").agg(pl.col("members").sum()).iter_rows())
    assert len(per_segment) == len(example_segments())
    assert per_segment["engaged-accounts"] > 0 and per_segment["went-quiet"] > 0


def test_the_examples_of_init_are_the_repository_examples() -> None:
    for example in example_segments():
        assert filecmp.cmp(example, ROOT / "segments" / example.name, shallow=False)


def test_the_repository_pins_the_sample_as_of(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Run from the repository, the sample gives the documented numbers on any day."""
    monkeypatch.chdir(ROOT)
    monkeypatch.delenv("SEGMENTS_AS_OF", raising=False)
    assert main(["run", "--out", str(tmp_path / "out"), "--quiet"]) == 0
    runs = pl.read_parquet(sorted((tmp_path / "out" / "current" / "runs").glob("*.parquet")))
    assert runs.get_column("as_of").to_list() == [dt.datetime(2026, 11, 20, 12, tzinfo=dt.UTC)]

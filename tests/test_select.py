"""``segments run --select``: only the selected segments are evaluated and advance; every
other segment's membership, history, changes and sizes stay exactly as published. Segments
that disappear from the definitions are said, recorded, and refused when all of them go."""

from __future__ import annotations

import shutil
from pathlib import Path

import polars as pl
import pytest

from pipeline.cli import main
from pipeline.errors import RunError
from pipeline.explore.session import load_definitions
from pipeline.language.select import select
from pipeline.run import RunConfig, run

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "data"
SEGMENTS = ROOT / "segments"
ENGINES = ("duckdb", "polars")
HISTORY_TABLES = (
    "segment_membership",
    "segment_membership_history",
    "segment_changes",
    "segment_sizes",
)


def _ids(selectors: list[str], tagged: Path | None = None) -> list[str]:
    definitions = load_definitions(DATA, tagged or SEGMENTS, "2026-11-20", "UTC")
    return [s.id for s in select(definitions.segments, selectors)]


def test_selectors() -> None:
    assert _ids(["churn-risk-customers"]) == ["churn-risk-customers"]
    assert _ids(["renewals-*"]) == ["renewals-next-30-days", "renewals-q1-2027"]
    # + adds what the selected segments depend on, transitively
    assert sorted(_ids(["+disengaged-customers"])) == [
        "churn-risk-customers",
        "disengaged-customers",
        "engaged-accounts",
    ]
    assert sorted(_ids(["nps-*", "stale-records"])) == [
        "nps-detractors",
        "nps-passives",
        "stale-records",
    ]
    assert len(_ids([])) == len(list(SEGMENTS.glob("*.yaml")))


def test_tag_selector(tmp_path: Path) -> None:
    folder = tmp_path / "segments"
    shutil.copytree(SEGMENTS, folder)
    text = (folder / "stale-records.yaml").read_text()
    (folder / "stale-records.yaml").write_text("tags: [weekly, hygiene]\n" + text)
    assert _ids(["tag:weekly"], folder) == ["stale-records"]
    with pytest.raises(RunError, match="no segment has this tag") as raised:
        _ids(["tag:weeky"], folder)
    assert "did you mean 'weekly'" in raised.value.hint


@pytest.mark.parametrize(
    ("selector", "message", "hint"),
    [
        ("churn-risk-customer", "no segment matches", "did you mean 'churn-risk-customers'"),
        ("zzz-*", "no segment matches", "a glob such as"),
        ("tag:weekly", "no segment has this tag", "no segment has `tags:` yet"),
    ],
)
def test_a_selector_that_picks_nothing_is_an_error(selector: str, message: str, hint: str) -> None:
    with pytest.raises(RunError, match=message) as raised:
        _ids([selector])
    assert hint in raised.value.hint


def _table(out: Path, name: str) -> pl.DataFrame:
    return pl.read_parquet(sorted((out / "current" / name).glob("*.parquet")))


@pytest.mark.parametrize("engine", ENGINES)
def test_select_leaves_every_other_segment_as_published(engine: str, tmp_path: Path) -> None:
    out = tmp_path / "out"
    run(RunConfig(DATA, SEGMENTS, out, "2026-11-20T12:00:00Z", engine))
    before = {name: _table(out, name) for name in HISTORY_TABLES}
    chosen = {"disengaged-customers", "churn-risk-customers", "engaged-accounts"}
    # Two weeks on: the selected segments move (members enter and exit), the others do not.
    selected = ("+disengaged-customers",)
    result = run(RunConfig(DATA, SEGMENTS, out, "2026-12-04T12:00:00Z", engine, select=selected))
    assert result.segments == 3 and result.kept == len(list(SEGMENTS.glob("*.yaml"))) - 3
    for name in HISTORY_TABLES:
        after = _table(out, name)
        others = ~pl.col("segment_id").is_in(sorted(chosen))
        assert after.filter(others).equals(before[name].filter(others)), name
    changes = _table(out, "segment_changes").filter(pl.col("as_of").dt.day() == 4)
    assert set(changes.get_column("segment_id")) <= chosen and changes.height > 0
    sizes = _table(out, "segment_sizes").filter(pl.col("as_of").dt.day() == 4)
    assert set(sizes.get_column("segment_id")) == chosen
    membership = _table(out, "segment_membership")
    assert set(
        membership.filter(pl.col("segment_id").is_in(sorted(chosen))).get_column("run_id")
    ) == {result.run_id}
    runs = _table(out, "runs")
    assert runs.get_column("selected").to_list() == [None, "+disengaged-customers"]
    assert runs.get_column("segments").to_list()[-1] == 3

    # The next full run diffs every segment against its own last state, as if in order.
    run(RunConfig(DATA, SEGMENTS, out, "2026-12-05T12:00:00Z", engine))
    history = _table(out, "segment_membership_history")
    open_stays = history.filter(pl.col("valid_to").is_null()).select(
        "property_id", "segment_id", "entity", "entity_id"
    )
    members = _table(out, "segment_membership").select(
        "property_id", "segment_id", "entity", "entity_id"
    )
    assert open_stays.sort(open_stays.columns).equals(members.sort(members.columns))


def test_select_with_rebuild_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    argv = [
        "run",
        "--data",
        str(DATA),
        "--segments",
        str(SEGMENTS),
        "--out",
        str(tmp_path),
        "--as-of",
        "2026-11-20",
        "--select",
        "stale-records",
        "--rebuild",
    ]
    assert main(argv) == 4
    assert "--select cannot be combined with --rebuild" in capsys.readouterr().err


def test_removed_segments_are_said_and_recorded(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = tmp_path / "segments"
    shutil.copytree(SEGMENTS, folder)
    out = tmp_path / "out"
    run(RunConfig(DATA, folder, out, "2026-11-20T12:00:00Z"))
    (folder / "stale-records.yaml").unlink()
    argv = [
        "run",
        "--data",
        str(DATA),
        "--segments",
        str(folder),
        "--out",
        str(out),
        "--as-of",
        "2026-11-21T12:00:00Z",
    ]
    assert main(argv) == 0
    captured = capsys.readouterr()
    assert "1 segment is no longer defined: their members exit now" in captured.err
    assert "no longer defined, their members exited: stale-records" in captured.out
    runs = _table(out, "runs")
    assert runs.get_column("removed").to_list()[-1] == ["stale-records"]
    history = _table(out, "segment_membership_history").filter(
        pl.col("segment_id") == "stale-records"
    )
    assert history.height > 0 and history.get_column("valid_to").null_count() == 0


def test_a_replaced_set_of_segments_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "out"
    run(RunConfig(DATA, SEGMENTS, out, "2026-11-20T12:00:00Z"))
    published = _table(out, "segment_membership_history")
    other = tmp_path / "other"
    other.mkdir()
    (other / "vip.yaml").write_text("where: {tags: {contains: vip}}\n")
    argv = [
        "run",
        "--data",
        str(DATA),
        "--segments",
        str(other),
        "--out",
        str(out),
        "--as-of",
        "2026-11-21T12:00:00Z",
    ]
    assert main(argv) == 4
    err = capsys.readouterr().err
    assert "none of the" in err and f"is defined in {other}" in err and "--allow-removed" in err
    assert _table(out, "segment_membership_history").equals(published)
    assert main([*argv, "--allow-removed"]) == 0
    closed = _table(out, "segment_membership_history").filter(pl.col("segment_id") != "vip")
    assert closed.get_column("valid_to").null_count() == 0

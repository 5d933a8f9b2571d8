"""docs/api.md's example, run as written, and the API held to the command."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

import pipeline
from pipeline.errors import DefinitionError, RunError

ROOT = Path(__file__).resolve().parent.parent


def _example() -> str:
    text = (ROOT / "docs" / "api.md").read_text()
    blocks = re.findall(r"```python\n(.*?)```", text, flags=re.S)
    assert len(blocks) == 1
    return blocks[0]


def test_the_documented_example_runs(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(ROOT)
    namespace: dict[str, object] = {}
    exec(compile(_example(), "docs/api.md", "exec"), namespace)
    printed = capsys.readouterr().out.splitlines()
    assert printed[0] == "29 segments"
    assert printed[1].startswith("388 {'site-de': 93, 'site-fr': 193, 'site-us': 102}")
    assert "False" in printed
    assert "Churn-risk customers (id churn-risk-customers): a segment of organizations" in printed
    assert any(line.startswith("388 rows -> ") for line in printed)


def test_errors_are_the_commands(tmp_path: Path) -> None:
    project = pipeline.Project(data=ROOT / "data", segments=tmp_path, out=tmp_path / "out")
    (tmp_path / "bad.yaml").write_text("where: {nme: {is: x}}\n")
    with pytest.raises(DefinitionError) as raised:
        project.validate()
    assert "did you mean 'name'?" in str(raised.value)
    with pytest.raises(RunError, match="no published run"):
        project.membership()


def test_load_reads_the_project_file(tmp_path: Path) -> None:
    (tmp_path / "segments.toml").write_text(
        'data = "exports"\nout = "/srv/out"\nengine = "polars"\nkeep = 3\nselect = ["tag:daily"]\n'
    )
    project = pipeline.Project.load(tmp_path)
    assert project.data == tmp_path / "exports" and project.out == Path("/srv/out")
    assert (project.engine, project.keep, project.select) == ("polars", 3, ("tag:daily",))
    assert pipeline.Project.load(tmp_path / "nowhere") == pipeline.Project()

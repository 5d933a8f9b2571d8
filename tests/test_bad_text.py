"""Input text that is not UTF-8 is a data error (exit 3) naming the table, the column, how many
rows and which, on every engine; nothing is published."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from engine_helpers import ENGINES, engine_options

from pipeline.cli import main
from pipeline.engines import INTERACTIVE
from pipeline.inputs.schema import TABLES
from pipeline.inputs.text import invalid_input_text

ROOT = Path(__file__).resolve().parent.parent


def _strings(values: list[bytes | None]) -> pa.Array:
    """A string array holding exactly these bytes (pyarrow does not check them)."""
    offsets = [0]
    for value in values:
        offsets.append(offsets[-1] + len(value or b""))
    validity = pa.array([v is not None for v in values]).buffers()[1]
    data = pa.py_buffer(b"".join(v or b"" for v in values))
    return pa.Array.from_buffers(
        pa.string(), len(values), [validity, pa.array(offsets, pa.int32()).buffers()[1], data]
    )


def corrupt(path: Path, column: str, rows: list[int]) -> None:
    """Append the byte 0xFF (never UTF-8) to ``column`` at ``rows`` (a text or list column)."""
    table = pq.read_table(path)
    values = table.column(column).combine_chunks()
    if pa.types.is_list(values.type):
        flat = [v.encode() if v is not None else None for v in values.flatten().to_pylist()]
        starts = values.offsets.to_pylist()
        for row in rows:
            flat[starts[row]] = (flat[starts[row]] or b"") + b"\xff"
        broken: pa.Array = pa.ListArray.from_arrays(values.offsets, _strings(flat))
    else:
        encoded = [v.encode() if v is not None else None for v in values.to_pylist()]
        for row in rows:
            encoded[row] = (encoded[row] or b"") + b"\xff"
        broken = _strings(encoded)
    index = table.schema.get_field_index(column)
    pq.write_table(table.set_column(index, table.schema.field(index), broken), path)


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize(
    ("table", "column", "rows", "shown"),
    [
        ("organizations", "name", [3, 7], "(2 rows)"),
        ("people", "person_id", [5], "(1 row)"),
    ],
)
def test_text_that_is_not_utf8_is_a_located_data_error(
    engine: str,
    table: str,
    column: str,
    rows: list[int],
    shown: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    engine_options(engine)  # the tests' one Spark session, reused by the run
    data = tmp_path / "data"
    shutil.copytree(ROOT / "data", data)
    corrupt(data / f"{table}.parquet", column, rows)
    out = tmp_path / "out"
    argv = ["run", "--data", str(data), "--segments", str(ROOT / "segments"), "--out", str(out)]
    assert main([*argv, "--engine", engine, "--quiet"]) == 3
    err = capsys.readouterr().err
    assert f"{table}.{column}: text that is not UTF-8 {shown}" in err
    assert f"e.g. row {rows[0] + 1}: b'" in err and "\\xff'" in err
    assert "internal error" not in err
    assert not (out / "segment_membership").exists()


def _text_columns() -> list[tuple[str, str]]:
    return [
        (table, field.name)
        for table, schema in TABLES.items()
        for field in schema
        if pa.types.is_string(field.type)
        or (pa.types.is_list(field.type) and pa.types.is_string(field.type.value_type))
    ]


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize(("table", "column"), _text_columns())
def test_every_text_column_of_every_table_is_looked_at(
    engine: str, table: str, column: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Whether or not a rule, a segment or the timeline reads the column: a published table
    holding such text would fail every reader (here the sample's segments read neither
    ``timeline.author`` nor ``attributes.label``)."""
    engine_options(engine)
    data = tmp_path / "data"
    shutil.copytree(ROOT / "data", data)
    path = data / f"{table}.parquet"
    values = pq.read_table(path, columns=[column]).column(0).to_pylist()
    row = next(i for i, value in enumerate(values) if value)  # a value to break
    corrupt(path, column, [row])
    out = tmp_path / "out"
    argv = ["run", "--data", str(data), "--segments", str(ROOT / "segments"), "--out", str(out)]
    assert main([*argv, "--engine", engine, "--quiet"]) == 3
    err = capsys.readouterr().err
    assert f"{table}.{column}: text that is not UTF-8 (1 row)" in err, err
    assert f"e.g. row {row + 1}: " in err and "\\xff" in err, err
    assert "internal error" not in err and "Traceback" not in err
    assert not (out / "segment_membership").exists()


@pytest.mark.parametrize("engine", INTERACTIVE)
def test_preview_reports_it_as_the_run_does(
    engine: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = tmp_path / "data"
    shutil.copytree(ROOT / "data", data)
    corrupt(data / "organizations.parquet", "name", [2])
    argv = [
        "preview",
        "engaged-accounts",
        "--data",
        str(data),
        "--segments",
        str(ROOT / "segments"),
    ]
    assert main([*argv, "--engine", engine]) == 3
    err = capsys.readouterr().err
    assert "organizations.name: text that is not UTF-8 (1 row)" in err, err
    assert "internal error" not in err and "Traceback" not in err


def test_a_list_column_is_searched_too(tmp_path: Path) -> None:
    path = tmp_path / "people.parquet"
    shutil.copyfile(ROOT / "data" / "people.parquet", path)
    tagged = [i for i, t in enumerate(pq.read_table(path).column("tags").to_pylist()) if t][:2]
    corrupt(path, "tags", tagged)
    error = invalid_input_text(tmp_path, {"people": [path]})
    assert error is not None
    (issue,) = error.issues
    assert (issue.table, issue.column, issue.count) == ("people", "tags", 2)
    assert issue.examples[0].startswith(f"row {tagged[0] + 1}: [b'")


_REPEAT = """
import sys
from pathlib import Path

import pytest

from pipeline.errors import InvalidText
from pipeline.inputs.schema import TABLES
from pipeline.inputs.text import require_utf8_files

data = Path(sys.argv[1])
files = {table: data / f"{table}.parquet" for table in TABLES}
for _ in range(int(sys.argv[2])):
    with pytest.raises(InvalidText):
        require_utf8_files(files, set())
print("refused every time")
"""


def test_the_text_pass_refuses_broken_text_every_time_and_never_hangs(tmp_path: Path) -> None:
    """Polars' collect_all of several scans sometimes hangs when one of them fails (see
    docs/architecture.md); the text pass, repeated a thousand times, must fail cleanly each
    time. A child process, so that a hang ends in the time limit, not in a stuck suite."""
    data = tmp_path / "data"
    shutil.copytree(ROOT / "data", data)
    corrupt(data / "organizations.parquet", "name", [0])
    done = subprocess.run(
        [sys.executable, "-c", _REPEAT, str(data), "1000"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip() == "refused every time"
    assert "panicked" not in done.stderr, done.stderr[-2000:]

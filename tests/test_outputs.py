"""The published tables are declared once (``pipeline.outputs``): every engine writes each in
its declared schema and order, and the data dictionary documents each column (of the tables,
and of the objects only the warehouse holds: tests/test_warehouse.py checks their comments)."""

from __future__ import annotations

import re
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from engine_helpers import ENGINES, engine_options

from pipeline.inputs import read_custom_attributes
from pipeline.outputs import (
    COUNT,
    CUSTOM_DOCUMENTED,
    DAY,
    FLAG,
    INSTANT,
    NUMBER,
    OUTPUTS,
    TEXT,
    TEXTS,
    WAREHOUSE_ONLY,
    Output,
)
from pipeline.run import RunConfig, run

ROOT = Path(__file__).resolve().parent.parent
DOC_TYPES = {
    TEXT: "string",
    TEXTS: "list of strings",
    COUNT: "int64",
    INSTANT: "timestamp (UTC)",
    DAY: "date",
    NUMBER: "double",
    FLAG: "boolean",
}
KINDS = ("notes", "chats", "tickets", "calls")


def _documented(output: Output) -> dict[str, str]:
    """Each column the data dictionary lists in the table's section, with its type cell."""
    text = (ROOT / "docs" / "outputs.md").read_text()
    section = re.search(rf"^### `{output.name}` .*?(?=^### |\Z)", text, re.M | re.S)
    assert section, f"docs/outputs.md has no section for {output.name}"
    columns: dict[str, str] = {}
    for row in re.findall(r"^\| (`[^|]+) \| ([^|]+) \|", section.group(0), re.M):
        names, kind = row
        for name in re.findall(r"`([^`]+)`", names):
            expanded = [name.replace("<kind>s", k) for k in KINDS] if "<kind>" in name else [name]
            columns.update(dict.fromkeys(expanded, kind.strip()))
    return columns


@pytest.mark.parametrize("output", [*OUTPUTS, *WAREHOUSE_ONLY], ids=lambda o: o.name)
def test_the_data_dictionary_documents_every_column_with_its_type(output: Output) -> None:
    documented = _documented(output)
    # (The rollup counts are documented a kind per row, every window on it; the columns of
    # custom attributes by the rows `custom.<key>` and `custom.<key>.compared`.)
    assert sorted(documented) == sorted(output.documented), "columns differ from pipeline.outputs"
    for column in output.view_columns_for(()):
        assert documented[column.name].startswith(DOC_TYPES[column.type]), column.name
    for name in set(CUSTOM_DOCUMENTED) & set(documented):
        assert documented[name], name


def test_every_name_is_declared_once() -> None:
    names = [o.name for o in (*OUTPUTS, *WAREHOUSE_ONLY)]
    assert len(names) == len(set(names))
    for output in (*OUTPUTS, *WAREHOUSE_ONLY):
        columns = [c.name for c in output.view_columns_for(read_custom_attributes(ROOT / "data"))]
        assert len(columns) == len(set(columns)), output.name


@pytest.fixture(scope="module", params=ENGINES)
def published(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Path:
    engine_options(request.param)  # the tests' one Spark session, reused by the run
    out = tmp_path_factory.mktemp(f"out-{request.param}")
    config = RunConfig(
        data=ROOT / "data",
        segments=ROOT / "segments",
        out=out,
        as_of="2026-11-20T12:00:00Z",
        engine=request.param,
    )
    run(config)
    return out


@pytest.mark.parametrize("output", OUTPUTS, ids=lambda o: o.name)
def test_every_engine_publishes_each_table_in_its_schema_and_order(
    published: Path, output: Output
) -> None:
    table = pq.read_table(published / output.name, schema=None)
    # A table with custom columns has those of the custom attributes the data defines.
    expected = output.schema_for(read_custom_attributes(ROOT / "data"))
    assert table.schema.remove_metadata().equals(expected), output.name
    assert table.num_rows > 0 or output.name == "quarantine"
    if output.order:
        keys = [(c, "ascending") for c in output.order]
        in_order = table.sort_by(keys)
        assert pa.Table.equals(table.select(list(output.order)), in_order.select(output.order))

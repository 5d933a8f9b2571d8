"""Definitions are bounded where they are read: values after alias expansion, nesting, chains
of references. Past a limit, a located definition error; at it, every engine evaluates."""

from __future__ import annotations

import zoneinfo
from pathlib import Path

import pytest
from engine_helpers import AS_OF, ENGINES, Dataset, expect, run_engine

from pipeline.catalog import Catalog
from pipeline.errors import DefinitionError, Location, Problem
from pipeline.language.check import CheckContext
from pipeline.language.segments import MAX_DEPTH, load_segments
from pipeline.language.source import MAX_FILE_BYTES, MAX_VALUES, parse_file

LEAF = "{name: {has_any_value: true}}"


def nested(groups: int, leaf: str = LEAF) -> str:
    """``leaf`` inside ``groups`` nested ``all:`` groups, in flow style."""
    return "{all: [" * groups + leaf + "]}" * groups


def chain(length: int, leaf: str = LEAF) -> dict[str, str]:
    """``c000`` refers to ``c001`` ... which refers to the last, whose condition is ``leaf``:
    ``length`` references."""
    files = {f"c{i:03d}": f"where: {{in_segment: c{i + 1:03d}}}\n" for i in range(length)}
    files[f"c{length:03d}"] = f"where: {leaf}\n"
    return files


def folder(tmp_path: Path, files: dict[str, str]) -> Path:
    written = tmp_path / "segments"
    written.mkdir()
    for name, text in files.items():
        (written / f"{name}.yaml").write_text(text)
    return written


CONTEXT = CheckContext(Catalog.build([]), AS_OF, zoneinfo.ZoneInfo("UTC"))


def problems(tmp_path: Path, files: dict[str, str]) -> list[str]:
    """Each reported problem as ``file:line:col: message``."""
    with pytest.raises(DefinitionError) as raised:
        load_segments(folder(tmp_path, files), CONTEXT)
    return [
        f"{p.location.file.rsplit('/', 1)[-1]}:{p.location.line}:{p.location.col}: {p.message}"
        for p in raised.value.problems
    ]


def test_an_alias_bomb_is_refused_once_it_passes_the_value_budget(tmp_path: Path) -> None:
    anchors = ["  a0: &a0 [" + ", ".join([LEAF] * 10) + "]"]
    anchors += [f"  a{i}: &a{i} [*a{i - 1}, *a{i - 1}, *a{i - 1}]" for i in range(1, 30)]
    text = "x-anchors:\n" + "\n".join(anchors) + "\nwhere: {any: *a29}\n"
    (found,) = problems(tmp_path, {"bomb": text})
    assert found.startswith("bomb.yaml:")
    assert f"more than {MAX_VALUES:,} values once its YAML aliases" in found


@pytest.mark.parametrize(
    "where", ["&w {all: [{name: {is: x}}, *w]}", "{any: &l [{name: {is: x}}, *l]}"]
)
def test_an_alias_that_contains_itself_is_a_located_error(tmp_path: Path, where: str) -> None:
    (found,) = problems(tmp_path, {"loop": f"where: {where}\n"})
    assert found.startswith("loop.yaml:1:")


def test_nesting_past_the_limit_is_located(tmp_path: Path) -> None:
    (found,) = problems(tmp_path, {"deep": f"where: {nested(40)}\n"})
    # Level 64 is the list of the 32nd group: 7 characters a group from column 8.
    assert found == f"deep.yaml:1:{8 + 7 * 31 + 6}: the file nests deeper than {MAX_DEPTH} levels"


def test_nesting_too_deep_to_parse_is_a_definition_error(tmp_path: Path) -> None:
    (found,) = problems(tmp_path, {"abyss": f"where: {nested(2000)}\n"})
    assert found.startswith("abyss.yaml:1:1: the file nests too deeply to be read")


def test_a_chain_of_references_past_the_limit_is_reported_once(tmp_path: Path) -> None:
    (found,) = problems(tmp_path, chain(MAX_DEPTH + 10))
    assert found == (
        f"c{MAX_DEPTH - 1:03d}.yaml:1:21: more than {MAX_DEPTH} segments refer one to the next: "
        f"c000 -> c001 -> c002 -> ... -> c{MAX_DEPTH - 2:03d} -> c{MAX_DEPTH - 1:03d} -> "
        f"c{MAX_DEPTH:03d}"
    )


def test_groups_and_references_together_count_towards_the_depth(tmp_path: Path) -> None:
    # 40 references to a condition of 31 levels: each file is shallow, the whole is not.
    # c006 is the first past the limit; those that refer to it are left out with it.
    (found,) = problems(tmp_path, chain(40, nested(30)))
    assert found == (
        "c006.yaml:1:8: the condition nests 65 levels deep, counting the segments it refers "
        f"to (at most {MAX_DEPTH})"
    )


@pytest.mark.parametrize("engine", ENGINES)
def test_every_engine_evaluates_definitions_at_the_limits(engine: str, tmp_path: Path) -> None:
    """The longest chain of references and the deepest file that are accepted."""
    rows = [
        {"property_id": "p", "org_id": "o1", "name": "Acme"},
        {"property_id": "p", "org_id": "o2"},
    ]
    data = Dataset.write(tmp_path, {"organizations": rows})
    files = chain(MAX_DEPTH - 1) | {"deep": f"where: {nested(30)}\n"}
    segments = load_segments(folder(tmp_path, files), CONTEXT)
    found = run_engine(engine, data.paths, segments, {})
    assert found == {m for sid in files for m in expect(sid, "p", ["o1"])}


@pytest.mark.parametrize(
    ("text", "found"),
    [
        # Control characters YAML refuses, where they are.
        ("where: {name: {is: a\x00b}}\n", "1:21: the file holds the control character U+0000"),
        ("where: {name: {is: a\x7fb}}\n", "1:21: the file holds the control character U+007F"),
        ('where: {name: {is: "\\ud800"}}\n', "1:20: the text holds half of a surrogate pair"),
        ("where: {rollup.chats_30d: {gte: " + "9" * 5000 + "}}\n", "1:33: a number of 5,000"),
        ("where: {custom.employees: {gt: " + "9" * 400 + "}}\n", "1:32: a number of 400 digits"),
        # Tags are refused, never constructed (nothing is executed).
        ('where: !!python/object/apply:os.system ["true"]\n', "1:8: the YAML tag !!python/"),
        ("where: !!omap [{name: {is: x}}]\n", "1:8: the YAML tag !!omap is not supported"),
        ("where: {name: {is: !!binary aGVsbG8=}}\n", "1:20: the YAML tag !!binary is not"),
        ("where: {name: {is: !foo bar}}\n", "1:20: the YAML tag !foo is not supported"),
        ("base: &b {name: {is: x}}\nwhere:\n  <<: *b\n", "3:3: YAML merge keys (`<<: *name`)"),
        # YAML 1.1 reads yes as true.
        ("%YAML 1.1\n---\nwhere: {name: {is: yes}}\n", "1:1: YAML 1.1 is not supported"),
        # ``$`` matched before a final newline.
        ('id: "abc\\n"\nwhere: {name: {is: x}}\n', "1:5: `id` 'abc\\n' is not a valid segment"),
    ],
)
def test_yaml_a_segment_file_does_not_take_is_a_located_error(
    tmp_path: Path, text: str, found: str
) -> None:
    (problem,) = problems(tmp_path, {"odd": text})
    assert problem.startswith(f"odd.yaml:{found}")


def test_standard_tags_for_plain_values_still_read(tmp_path: Path) -> None:
    files = {"tagged": "where: {name: {is: !!str 75001}}\n"}
    (segment,) = load_segments(folder(tmp_path, files), CONTEXT)
    assert segment.id == "tagged"


@pytest.mark.parametrize(
    "where",
    [
        "{name: {contains: " + "a" * 1001 + "}}",
        "{tags: {in: [vip, " + "b" * 5000 + "]}}",
        "{primary_phone: {is: '" + "1" * 1001 + "'}}",
    ],
)
def test_a_text_value_longer_than_the_limit_is_a_located_error(tmp_path: Path, where: str) -> None:
    (found,) = problems(tmp_path, {"long": f"where: {where}\n"})
    assert found.startswith("long.yaml:1:")
    assert "characters (at most 1,000)" in found


@pytest.mark.parametrize("engine", ENGINES)
def test_a_text_value_at_the_limit_is_compared_by_every_engine(engine: str, tmp_path: Path) -> None:
    name = "a" * 999 + "z"
    rows = [
        {"property_id": "p", "org_id": "o1", "name": name},
        {"property_id": "p", "org_id": "o2"},
    ]
    data = Dataset.write(tmp_path, {"organizations": rows})
    files = {"long": f"where: {{name: {{contains: {'a' * 999}z}}}}\n"}
    segments = load_segments(folder(tmp_path, files), CONTEXT)
    assert run_engine(engine, data.paths, segments, {}) == expect("long", "p", ["o1"])


def test_hidden_files_and_folders_are_not_segments(tmp_path: Path) -> None:
    written = folder(tmp_path, {"real": f"where: {LEAF}\n"})
    (written / ".github" / "workflows").mkdir(parents=True)
    (written / ".github" / "workflows" / "ci.yml").write_text("on: push\njobs: {}\n")
    (written / ".draft.yaml").write_text("where: {nope: 1}\n")
    assert [s.id for s in load_segments(written, CONTEXT)] == ["real"]


def test_a_broken_link_is_a_located_error_not_a_silent_skip(tmp_path: Path) -> None:
    written = folder(tmp_path, {"real": f"where: {LEAF}\n"})
    (written / "gone.yaml").symlink_to(tmp_path / "moved-away.yaml")
    with pytest.raises(DefinitionError) as raised:
        load_segments(written, CONTEXT)
    (problem,) = raised.value.problems
    assert problem.location.file.endswith("gone.yaml")
    assert problem.message.startswith("the file is a symbolic link to ")
    assert problem.message.endswith("moved-away.yaml, which does not exist")


def test_an_unreadable_file_is_a_located_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    written = folder(tmp_path, {"real": f"where: {LEAF}\n", "locked": f"where: {LEAF}\n"})
    read_text = Path.read_text

    def refuse(path: Path, *args: object, **kwargs: object) -> str:
        if path.name == "locked.yaml":  # as chmod 000 would, for a user other than root
            raise PermissionError(13, "Permission denied", str(path))
        return read_text(path, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(Path, "read_text", refuse)
    with pytest.raises(DefinitionError) as raised:
        load_segments(written, CONTEXT)
    (problem,) = raised.value.problems
    assert problem.location.file.endswith("locked.yaml")
    assert problem.message == "the file cannot be read: Permission denied"


def test_a_file_over_the_size_limit_is_refused_unread(tmp_path: Path) -> None:
    big = tmp_path / "big.yaml"
    big.write_text("where: {tags: {contains: vip}}\n# " + "x" * MAX_FILE_BYTES + "\n")
    found = parse_file(big, "big.yaml")
    assert isinstance(found, Problem)
    assert found.location == Location("big.yaml")
    assert found.message.startswith(f"the file is {big.stat().st_size:,} bytes")
    assert "in_segment" in (found.hint or "")
    fits = tmp_path / "fits.yaml"
    fits.write_text("where: {tags: {contains: vip}}\n# " + "x" * (MAX_FILE_BYTES // 2) + "\n")
    assert not isinstance(parse_file(fits, "fits.yaml"), Problem)

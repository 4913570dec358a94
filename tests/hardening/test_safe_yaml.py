"""Finding 6: YAML is loaded under size, depth and alias-expansion limits, checked before anything
grows, and every failure is a ``YAMLFileError`` naming the file and the place, never its text."""

from __future__ import annotations

import io
import pickle
import tracemalloc
from pathlib import Path

import pytest

from ductwork.datasets import YAMLDataset
from ductwork.exceptions import DatasetError, ProjectConfigError, YAMLFileError
from ductwork.io.safe_yaml import YAMLLimits, load_yaml, load_yaml_file
from tests.cli.conftest import run_cli


def alias_bomb(levels: int = 9, width: int = 10) -> str:
    """A few hundred bytes naming ``width ** levels`` scalars through nested aliases."""
    lines = [f"a0: &a0 [{', '.join(['x'] * width)}]"]
    for level in range(1, levels + 1):
        refs = ", ".join([f"*a{level - 1}"] * width)
        lines.append(f"a{level}: &a{level} [{refs}]")
    return "\n".join(lines) + "\n"


def mapping_bomb(levels: int = 9, width: int = 10) -> str:
    """The same with mappings, as a parameters file would nest them."""
    lines = ["l0: &l0 {" + ", ".join(f"k{i}: x" for i in range(width)) + "}"]
    for level in range(1, levels + 1):
        refs = ", ".join(f"k{i}: *l{level - 1}" for i in range(width))
        lines.append(f"l{level}: &l{level} {{{refs}}}")
    return "\n".join(lines) + "\n"


DEEP = "top:\n  deep: " + "[" * 5000 + "]" * 5000 + "\n"  # 10 KB of nesting


def test_plain_documents_load_as_the_safe_loader_does() -> None:
    text = "a: 1\nb: [1, 2.5, {c: d}]\nwhen: 2024-01-02\nshared: &s {x: 1}\nagain: *s\n"
    loaded = load_yaml(text, source="t.yml")
    assert loaded["b"] == [1, 2.5, {"c": "d"}]
    assert loaded["again"] == {"x": 1}
    assert load_yaml("", source="t.yml") is None
    assert load_yaml(b"\xef\xbb\xbfa: 1", source="t.yml") == {"a": 1}  # a BOM is fine
    assert load_yaml(io.StringIO("- 1"), source="t.yml") == [1]


def test_merge_keys_of_a_block_of_defaults_are_within_the_limits() -> None:
    entries = "\n".join(f"d{i}:\n  <<: *defaults\n  filepath: data/{i}.csv" for i in range(2000))
    text = "_defaults: &defaults {type: CSVDataset, load_args: {sep: ','}}\n" + entries
    loaded = load_yaml(text, source="catalog.yml")
    assert loaded["d1999"] == {
        "type": "CSVDataset",
        "load_args": {"sep": ","},
        "filepath": "data/1999.csv",
    }


@pytest.mark.parametrize("bomb", [alias_bomb, mapping_bomb])
def test_nested_aliases_are_refused_before_memory_grows(bomb: object) -> None:
    text = bomb()  # type: ignore[operator]
    assert len(text) < 1000
    tracemalloc.start()
    try:
        with pytest.raises(YAMLFileError, match="aliases that expand to more than") as caught:
            load_yaml(text, source="conf/params.yml")
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 2_000_000  # a refused document costs what its text costs, not 10**10 nodes
    error = caught.value
    assert error.path == "conf/params.yml"
    assert error.line is not None
    assert error.key is not None
    assert str(error).startswith(f"conf/params.yml, line {error.line}, column")


def test_ten_kilobytes_of_nesting_is_an_error_not_a_recursion_error() -> None:
    with pytest.raises(YAMLFileError, match="nests deeper than the limit of 100 levels") as caught:
        load_yaml(DEEP, source="deep.yml")
    assert caught.value.line == 2
    assert caught.value.key is not None
    assert caught.value.key.startswith("top.deep[0][0]")
    assert len(str(caught.value)) < 300


def test_nesting_through_aliases_counts_too() -> None:
    text = "a: &a [[[[1]]]]\nb: " + "[" * 97 + "*a" + "]" * 97 + "\n"
    with pytest.raises(YAMLFileError, match=r"nests \(through alias \*a\) deeper"):
        load_yaml(text, source="x.yml")
    load_yaml(text, source="x.yml", limits=YAMLLimits(max_depth=110))


def test_a_document_that_contains_itself_is_refused() -> None:
    with pytest.raises(YAMLFileError, match="alias \\*a inside the node it names"):
        load_yaml("a: &a {b: [*a]}\n", source="x.yml")


def test_input_larger_than_the_limit_is_refused_without_reading_it_all(tmp_path: Path) -> None:
    path = tmp_path / "big.yml"
    path.write_text("k: " + "x" * 5000)
    with pytest.raises(YAMLFileError, match="larger than the limit of 1,000 bytes"):
        load_yaml_file(path, limits=YAMLLimits(max_bytes=1000))
    assert load_yaml_file(path)["k"] == "x" * 5000


def test_a_syntax_error_names_the_place_but_never_quotes_the_line(tmp_path: Path) -> None:
    path = tmp_path / "credentials.yml"
    path.write_text("db:\n  user: me\n  password: s3cr3t-pw: oops\n")
    with pytest.raises(YAMLFileError) as caught:
        load_yaml_file(path, what="credentials")
    message = str(caught.value)
    assert "s3cr3t" not in message
    assert "password" not in message
    assert message.startswith(f"The credentials file {path}, line 3, column")
    assert isinstance(caught.value, ProjectConfigError)


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ('key:\n  "\\U00110000": 1\n', "chr"),  # an escape past the last code point
        ("key:\n  when: 2024-13-01\n", "month"),  # a timestamp no calendar has
    ],
)
def test_a_scalar_yaml_cannot_build_is_an_error_naming_file_and_line(
    tmp_path: Path, text: str, reason: str
) -> None:
    path = tmp_path / "catalog.yml"
    path.write_text(text)
    with pytest.raises(YAMLFileError, match=reason) as caught:
        load_yaml_file(path, what="catalog")
    assert str(caught.value).startswith(f"The catalog file {path}, line 2")


def test_unreadable_and_non_utf8_files_are_errors_naming_the_file(tmp_path: Path) -> None:
    with pytest.raises(YAMLFileError, match=r"missing\.yml: cannot be read"):
        load_yaml_file(tmp_path / "missing.yml")
    with pytest.raises(YAMLFileError, match="unacceptable character #x000c at character 4"):
        load_yaml("a: \x0c", source="control.yml")
    (tmp_path / "latin.yml").write_bytes(b"a: \xff\n")
    with pytest.raises(YAMLFileError, match=r"latin\.yml: is not UTF-8 text"):
        load_yaml_file(tmp_path / "latin.yml")


def test_the_error_survives_pickling() -> None:
    error = YAMLFileError("a.yml", "is bad.", line=2, column=3, key="x.y", what="catalog")
    copy = pickle.loads(pickle.dumps(error))
    assert (str(copy), copy.key, copy.what) == (str(error), "x.y", "catalog")


def test_yaml_dataset_loads_through_the_limits(tmp_path: Path) -> None:
    path = tmp_path / "data.yml"
    path.write_text(alias_bomb())
    with pytest.raises(DatasetError, match=r"data\.yml.*aliases that expand"):
        YAMLDataset(filepath=str(path)).load()
    YAMLDataset(filepath=str(path)).save({"a": [1, 2]})
    assert YAMLDataset(filepath=str(path)).load() == {"a": [1, 2]}


@pytest.mark.timeout(120)
@pytest.mark.parametrize(
    ("option", "text", "message"),
    [
        ("--params", mapping_bomb(), "The parameters file bomb.yml, line"),
        ("--catalog", alias_bomb(), "The catalog file bomb.yml, line"),
        ("--params", DEEP, "nests deeper than the limit"),
    ],
)
def test_the_command_refuses_hostile_configuration_with_exit_2(
    project: Path, option: str, text: str, message: str
) -> None:
    (project / "bomb.yml").write_text(text)
    other = ["--catalog", "catalog.yml"] if option == "--params" else ["--params", "params.yml"]
    result = run_cli(project, "run", "proj:pipeline", *other, option, "bomb.yml")
    assert result.returncode == 2, result.stderr
    assert message in result.stderr
    assert "Traceback" not in result.stderr
    assert not (project / "calls.log").exists()

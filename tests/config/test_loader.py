"""The configuration rules: environments, file patterns, interpolation, globals, runtime params."""

from __future__ import annotations

import datetime
from pathlib import Path
from typing import Any

import pytest

import ductwork.config
from ductwork.config import ConfigLoader, parse_runtime_params
from ductwork.exceptions import ProjectConfigError
from tests.config.conftest import Write

# (files, kind, env, runtime params, expected)
RESOLVED: list[tuple[str, dict[str, str], str, str | None, dict[str, Any], dict[str, Any]]] = [
    (
        "base only when the env folder is missing",
        {"base/parameters.yml": "a: 1\n"},
        "parameters",
        "local",
        {},
        {"a": 1},
    ),
    (
        "env overrides base, parameters key by key at every depth",
        {
            "base/parameters.yml": "a: 1\nm: {x: 1, y: 2}\n",
            "local/parameters.yml": "m: {y: 3}\n",
        },
        "parameters",
        "local",
        {},
        {"a": 1, "m": {"x": 1, "y": 3}},
    ),
    (
        "env replaces a whole catalog entry",
        {
            "base/catalog.yml": "d: {type: A, filepath: a.csv, load_args: {sep: ';'}}\n",
            "prod/catalog.yml": "d: {type: B, filepath: b.parquet}\n",
        },
        "catalog",
        "prod",
        {},
        {"d": {"type": "B", "filepath": "b.parquet"}},
    ),
    (
        "the chosen env only: other env folders are not read",
        {"base/parameters.yml": "a: 1\n", "prod/parameters.yml": "a: 2\n"},
        "parameters",
        "local",
        {},
        {"a": 1},
    ),
    (
        "file patterns: parameters*, a parameters/ folder, nothing else",
        {
            "base/parameters.yml": "a: 1\n",
            "base/parameters_model.yaml": "b: 2\n",
            "base/parameters/deep/more.yml": "c: 3\n",
            "base/other.yml": "z: 9\n",
            "base/catalog.yml": "y: {type: A}\n",
            "base/.hidden_parameters.yml": "h: 0\n",
        },
        "parameters",
        None,
        {},
        {"a": 1, "b": 2, "c": 3},
    ),
    (
        "catalog* and catalog/** ",
        {"base/catalog.yml": "a: {type: A}\n", "base/catalog/models.yml": "b: {type: B}\n"},
        "catalog",
        None,
        {},
        {"a": {"type": "A"}, "b": {"type": "B"}},
    ),
    (
        "interpolation within a file",
        {"base/parameters.yml": "min_hp: 3\nfilter: {hp: '${min_hp}'}\n"},
        "parameters",
        None,
        {},
        {"min_hp": 3, "filter": {"hp": 3}},
    ),
    (
        "interpolation across files",
        {
            "base/parameters.yml": "threshold: ${shared.limit}\n",
            "base/parameters_shared.yml": "shared: {limit: 0.5}\n",
        },
        "parameters",
        None,
        {},
        {"threshold": 0.5, "shared": {"limit": 0.5}},
    ),
    (
        "a reference sees the environment that won",
        {
            "base/parameters.yml": "limit: 1\nuse: ${limit}\n",
            "local/parameters.yml": "limit: 7\n",
        },
        "parameters",
        "local",
        {},
        {"limit": 7, "use": 7},
    ),
    (
        "globals, with a default, overridden by env",
        {
            "base/globals.yml": "paths: {out: data/out}\nfmt: csv\n",
            "local/globals.yml": "fmt: parquet\n",
            "base/catalog.yml": (
                "d: {type: A, filepath: '${globals:paths.out}/d.${globals:fmt}', "
                "x: '${globals:nope, 5}'}\n"
            ),
        },
        "catalog",
        "local",
        {},
        {"d": {"type": "A", "filepath": "data/out/d.parquet", "x": 5}},
    ),
    (
        "runtime params override parameters, nested by dotted keys",
        {"base/parameters.yml": "model: {alpha: 1, beta: 2}\nn: 10\n"},
        "parameters",
        None,
        {"model": {"alpha": 0.1}, "extra": True},
        {"model": {"alpha": 0.1, "beta": 2}, "n": 10, "extra": True},
    ),
    (
        "runtime params read anywhere, a default when absent",
        {
            "base/catalog.yml": "d: {type: A, filepath: '${runtime_params:where}/d.csv'}\n",
            "base/parameters.yml": "k: '${runtime_params:k, 4}'\n",
        },
        "catalog",
        None,
        {"where": "s3://b"},
        {"d": {"type": "A", "filepath": "s3://b/d.csv"}},
    ),
    (
        "keys starting with _ are for anchors and are dropped",
        {"base/catalog.yml": "_csv: &csv {type: A}\nd: {<<: *csv, filepath: d.csv}\n"},
        "catalog",
        None,
        {},
        {"d": {"type": "A", "filepath": "d.csv"}},
    ),
    (
        "credentials may read environment variables",
        {"base/credentials.yml": "db: {password: '${oc.env:DUCTWORK_TEST_SECRET}'}\n"},
        "credentials",
        None,
        {},
        {"db": {"password": "hunter2-from-env"}},
    ),
    (
        "an escaped reference stays literal",
        {"base/parameters.yml": "tpl: '\\${name}'\n"},
        "parameters",
        None,
        {},
        {"tpl": "${name}"},
    ),
]


@pytest.mark.parametrize(
    ("files", "kind", "env", "runtime", "expected"),
    [pytest.param(*case[1:], id=case[0]) for case in RESOLVED],
)
def test_resolved_configuration(
    conf: Write,
    monkeypatch: pytest.MonkeyPatch,
    files: dict[str, str],
    kind: str,
    env: str | None,
    runtime: dict[str, Any],
    expected: dict[str, Any],
) -> None:
    monkeypatch.setenv("DUCTWORK_TEST_SECRET", "hunter2-from-env")
    loader = ConfigLoader(conf(files), env=env, runtime_params=runtime)
    assert loader[kind] == expected


# (files, kind, runtime params, the file at fault, what the message must also say)
ERRORS: list[tuple[str, dict[str, str], str, dict[str, Any], str, list[str]]] = [
    (
        "unresolved reference",
        {"base/parameters.yml": "a: ${missing}\n"},
        "parameters",
        {},
        "base/parameters.yml",
        ["key 'a'", "${missing}", "Nothing was run"],
    ),
    (
        "unresolved reference reached through another key names the one to fix",
        {"base/catalog.yml": "a: {type: A, filepath: '${b}'}\n", "base/catalog_b.yml": "b: ${c}\n"},
        "catalog",
        {},
        "base/catalog_b.yml",
        ["key 'b'", "${c}", "needed by key 'a.filepath'"],
    ),
    (
        "a global that does not exist",
        {"base/catalog.yml": "a: {type: A, filepath: '${globals:paths.out}/a'}\n"},
        "catalog",
        {},
        "base/catalog.yml",
        ["key 'a.filepath'", "${globals:paths.out}", "'paths.out' is not in globals"],
    ),
    (
        "a runtime parameter that was not given",
        {"base/parameters.yml": "a: ${runtime_params:run_date}\n"},
        "parameters",
        {},
        "base/parameters.yml",
        ["key 'a'", "${runtime_params:run_date}", "is not in runtime_params"],
    ),
    (
        "an unknown resolver",
        {"base/parameters.yml": "a: ${vault:db}\n"},
        "parameters",
        {},
        "base/parameters.yml",
        ["key 'a'", "no resolver 'vault'"],
    ),
    (
        "environment variables outside credentials",
        {"base/catalog.yml": "a: {type: A, filepath: '${oc.env:HOME}/a'}\n"},
        "catalog",
        {},
        "base/catalog.yml",
        ["key 'a.filepath'", "only credentials files may"],
    ),
    (
        "duplicate top-level key across files of one environment",
        {"base/catalog.yml": "a: {type: A}\n", "base/catalog/more.yml": "a: {type: B}\n"},
        "catalog",
        {},
        "base/catalog/more.yml",
        ["Duplicate key 'a'", "base/catalog.yml"],
    ),
    (
        "a file that is not a mapping",
        {"base/parameters.yml": "- 1\n- 2\n"},
        "parameters",
        {},
        "base/parameters.yml",
        ["must hold a mapping"],
    ),
    (
        "a file that is not YAML",
        {"base/parameters.yml": "a: [1\n"},
        "parameters",
        {},
        "base/parameters.yml",
        ["not valid YAML"],
    ),
]


@pytest.mark.parametrize(
    ("files", "kind", "runtime", "at_fault", "said"),
    [pytest.param(*case[1:], id=case[0]) for case in ERRORS],
)
def test_configuration_errors_name_file_key_and_reference(
    conf: Write,
    files: dict[str, str],
    kind: str,
    runtime: dict[str, Any],
    at_fault: str,
    said: list[str],
) -> None:
    folder = conf(files)
    with pytest.raises(ProjectConfigError) as caught:
        ConfigLoader(folder, runtime_params=runtime)[kind]
    message = str(caught.value)
    assert str(folder / at_fault) in message
    for text in said:
        assert text in message


def test_the_same_key_in_two_environments_is_an_override_not_a_duplicate(conf: Write) -> None:
    folder = conf({"base/catalog.yml": "a: {type: A}\n", "local/catalog.yml": "a: {type: B}\n"})
    assert ConfigLoader(folder)["catalog"] == {"a": {"type": "B"}}


def test_an_unresolved_credential_reference_does_not_show_the_text_around_it(
    conf: Write,
) -> None:
    folder = conf({"base/credentials.yml": "db: {url: 'postgres://u:s3cr3tpw@h/${nope}'}\n"})
    with pytest.raises(ProjectConfigError) as caught:
        ConfigLoader(folder)["credentials"]
    assert "${nope}" in str(caught.value)
    assert "s3cr3tpw" not in str(caught.value)


@pytest.mark.parametrize(
    ("folders", "env", "required", "said"),
    [
        ([], "local", False, "does not exist"),
        (["local"], "local", False, "has no 'base' environment"),
        (["base"], "prod", True, "--env prod"),
    ],
)
def test_missing_folders(
    tmp_path: Path, folders: list[str], env: str, required: bool, said: str
) -> None:
    for name in folders:
        (tmp_path / "conf" / name).mkdir(parents=True)
    with pytest.raises(ProjectConfigError, match=said):
        ConfigLoader(tmp_path / "conf", env=env, env_required=required)


def test_files_named_on_the_command_line_override_in_order(conf: Write, tmp_path: Path) -> None:
    folder = conf({"base/globals.yml": "root: data\n"})
    first, second = tmp_path / "one.yml", tmp_path / "two.yml"
    first.write_text("a: {x: 1, y: 2}\nb: '${globals:root}/b'\n")
    second.write_text("a: {y: 3}\n")
    loader = ConfigLoader(folder, runtime_params={"c": 1})
    assert loader.from_files("parameters", [first, second]) == {
        "a": {"x": 1, "y": 3},
        "b": "data/b",
        "c": 1,
    }


def test_no_configuration_folder_gives_only_runtime_params() -> None:
    loader = ConfigLoader(None, runtime_params={"a": 1})
    assert loader["parameters"] == {"a": 1}
    assert loader["catalog"] == {}
    with pytest.raises(ProjectConfigError, match="no configuration folder"):
        ConfigLoader(None, env="prod", env_required=True)


RUNTIME: list[tuple[list[str], dict[str, Any]]] = [
    (["a=1"], {"a": 1}),
    (["a=1.5", "b=true", "c=text", "d="], {"a": 1.5, "b": True, "c": "text", "d": ""}),
    (["a=1,b=2"], {"a": 1, "b": 2}),
    (["xs=[1,2]"], {"xs": [1, 2]}),
    (["m.alpha=0.1", "m.beta=x"], {"m": {"alpha": 0.1, "beta": "x"}}),
    (["s='3'"], {"s": "3"}),
    (["url=a=b"], {"url": "a=b"}),
]


@pytest.mark.parametrize(("items", "expected"), RUNTIME)
def test_runtime_params_are_typed_yaml_values(items: list[str], expected: dict[str, Any]) -> None:
    assert parse_runtime_params(items) == expected


@pytest.mark.parametrize("item", ["=1", "a..b=1", "novalue"])
def test_bad_runtime_params(item: str) -> None:
    with pytest.raises(ProjectConfigError, match="key=value"):
        parse_runtime_params([item])


def test_runtime_param_below_a_plain_value() -> None:
    with pytest.raises(ProjectConfigError, match="'a' is already set"):
        parse_runtime_params(["a=1", "a.b=2"])


def test_public_surface() -> None:
    assert sorted(ductwork.config.__all__) == [
        "ConfigLoader",
        "ConfigSource",
        "parse_runtime_params",
        "read_config_file",
    ]


def test_values_omegaconf_cannot_hold_survive_interpolation(conf: Write) -> None:
    folder = conf({"base/parameters.yml": "day: 2024-01-02\ncopy: ${day}\nlabel: 'run ${day}'\n"})
    loader = ConfigLoader(folder, runtime_params={"when": datetime.date(2023, 5, 6)})
    assert loader["parameters"] == {
        "day": datetime.date(2024, 1, 2),
        "copy": datetime.date(2024, 1, 2),
        "label": "run 2024-01-02",
        "when": datetime.date(2023, 5, 6),
    }


def test_files_in_subfolders_by_name_as_kedro_finds_them(conf: Write) -> None:
    folder = conf(
        {
            "base/pipelines/science/catalog.yml": "model: {type: A}\n",
            "base/pipelines/science/notes.yml": "ignored: {type: B}\n",
            "base/catalog_shared/x/y.yml": "deep: {type: C}\n",
        }
    )
    assert ConfigLoader(folder)["catalog"] == {
        "deep": {"type": "C"},
        "model": {"type": "A"},
    }

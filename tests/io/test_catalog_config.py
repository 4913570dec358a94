"""Catalogs from configuration: type resolution, refused targets, errors, credentials, versions."""

from __future__ import annotations

import logging
import pathlib
import pickle
import textwrap
from typing import Any

import pytest
import yaml

from ductwork.datasets import JSONDataset, PickleDataset
from ductwork.exceptions import DatasetConfigError, VersionAlreadyExistsError
from ductwork.io import (
    AbstractDataset,
    CachedDataset,
    DataCatalog,
    DatasetError,
    DatasetNotFoundError,
    MemoryDataset,
    Version,
)

SECRET = "correct-horse-battery-staple"
PARSE = "An exception occurred when parsing config for dataset 'cars':\n"


class LeakyDataset(AbstractDataset[Any, Any]):
    """Its constructor fails with a message quoting its credentials, as some clients do."""

    def __init__(self, url: str, credentials: dict[str, str] | None = None) -> None:
        raise ValueError(f"authentication failed for {url} with {credentials}")

    def load(self) -> Any:
        return None

    def save(self, data: Any) -> None:
        pass

    def _describe(self) -> dict[str, Any]:
        return {}


def _create(entry: Any, name: str = "entry", **kwargs: Any) -> Any:
    return DataCatalog.from_config({name: entry}, **kwargs).get(name)


# --- type resolution ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("type_value", "expected"),
    [
        ("pickle.PickleDataset", PickleDataset),
        ("PickleDataset", PickleDataset),
        ("ductwork.datasets.pickle.PickleDataset", PickleDataset),
        ("ductwork.datasets.PickleDataset", PickleDataset),
        ("json.JSONDataset", JSONDataset),
        ("MemoryDataset", MemoryDataset),
        ("ductwork.io.MemoryDataset", MemoryDataset),
        ("ductwork.io.memory_dataset.MemoryDataset", MemoryDataset),
        (PickleDataset, PickleDataset),
        ("kedro.io.MemoryDataset", MemoryDataset),
        ("kedro_datasets.json.JSONDataset", JSONDataset),
    ],
)
def test_type_names(type_value: Any, expected: type) -> None:
    entry: dict[str, Any] = {"type": type_value}
    if expected is not MemoryDataset:
        entry["filepath"] = "x.data"
    assert type(_create(entry)) is expected


def test_duck_typed_dataset_classes_can_be_configured() -> None:
    dataset = _create({"type": "tests.io.conftest.DuckDataset"})
    assert type(dataset).__name__ == "DuckDataset"


def test_pandas_short_names_resolve_to_the_pandas_subpackage() -> None:
    pytest.importorskip("pandas")
    dataset = _create({"type": "pandas.CSVDataset", "filepath": "x.csv"})
    assert type(dataset).__module__ == "ductwork.datasets.pandas.csv_dataset"


@pytest.mark.parametrize(
    ("type_value", "message"),
    [
        ("os.system", "'os.system' is a builtin function"),
        ("builtins.eval", "'builtins.eval' is a builtin function"),
        ("builtins.exec", "'builtins.exec' is a builtin function"),
        ("subprocess.call", "'subprocess.call' is a function"),
        ("subprocess.Popen", "Dataset type 'subprocess.Popen' is invalid"),
        ("ductwork.io.DataCatalog", "Dataset type 'ductwork.io.data_catalog.DataCatalog' is"),
        ("os", "Invalid dataset path: 'os'"),
        ("os.path", "'os.path' is a module"),
        ("ductwork.io.AbstractDataset", "is abstract"),
        ("os.system; rm -rf /", "is not a class name or dotted path"),
        ("__import__('os').system", "is not a class name or dotted path"),
        ("nope.Missing", "No module named 'nope'"),
        (42, "key 'type' must be a class path string"),
    ],
)
def test_non_dataset_targets_are_refused(type_value: Any, message: str) -> None:
    with pytest.raises(DatasetConfigError) as info:
        _create({"type": type_value}, name="evil")
    text = str(info.value)
    assert text.startswith("An exception occurred when parsing config for dataset 'evil':\n")
    assert message in text


def test_refused_callables_are_never_called(monkeypatch: pytest.MonkeyPatch) -> None:
    import os

    calls: list[Any] = []
    monkeypatch.setattr(os, "system", lambda *a: calls.append(a))
    with pytest.raises(DatasetConfigError):
        _create({"type": "os.system", "command": "echo hi"})
    assert calls == []


def test_missing_optional_dependency_is_named(monkeypatch: pytest.MonkeyPatch) -> None:
    def fail(name: str) -> None:
        raise ModuleNotFoundError(f"No module named {name!r}", name="fancylib")

    monkeypatch.setattr("ductwork.io._config.importlib.import_module", fail)
    with pytest.raises(DatasetConfigError, match="needs the module 'fancylib'"):
        _create({"type": "fancy.FancyDataset"})


# --- configuration errors name the dataset and the key ------------------------------------------


@pytest.mark.parametrize(
    ("entry", "expected"),
    [
        (
            {"filepath": "x"},
            PARSE + "'type' is missing from dataset catalog configuration",
        ),
        (
            {"type": "pickle.PickleDataset", "filpath": "x.pkl"},
            "Dataset 'cars' must only contain arguments valid for the constructor of "
            "'ductwork.datasets.pickle.PickleDataset': unexpected key 'filpath'",
        ),
        (
            {"type": "pickle.PickleDataset"},
            "Dataset 'cars' lacks arguments the constructor of "
            "'ductwork.datasets.pickle.PickleDataset' requires: missing required key 'filepath'",
        ),
        (
            {"type": "pickle.PickleDataset", "filepath": "x", "versioned": "yes"},
            PARSE + "key 'versioned' must be true or false",
        ),
        (
            {"type": "MemoryDataset", "versioned": True},
            PARSE + "'versioned': ductwork.io.memory_dataset.MemoryDataset does not support "
            "versioning",
        ),
        (
            {"type": "pickle.PickleDataset", "filepath": "x", "backend": "no_such_pickler"},
            "Failed to instantiate dataset 'cars' of type "
            "'ductwork.datasets.pickle.PickleDataset': ImportError: "
            "PickleDataset backend 'no_such_pickler' cannot be imported",
        ),
        (
            {"type": "CachedDataset", "dataset": {"type": "MemoryDataset", "versioned": True}},
            "Failed to instantiate dataset 'cars' of type "
            "'ductwork.io.cached_dataset.CachedDataset': ValueError: "
            "Cached datasets should specify that they are versioned in the "
            "'CachedDataset', not in the wrapped dataset",
        ),
    ],
)
def test_configuration_errors(entry: dict[str, Any], expected: str) -> None:
    with pytest.raises(DatasetConfigError) as info:
        _create(entry, name="cars")
    assert str(info.value).startswith(expected)


def test_a_version_key_in_an_entry_is_dropped_with_a_warning(
    caplog: pytest.LogCaptureFixture,
) -> None:
    with caplog.at_level(logging.WARNING):
        dataset = _create({"type": "pickle.PickleDataset", "filepath": "x", "version": "1"})
    assert dataset._version is None
    assert "'version' attribute removed from dataset configuration" in caplog.text
    assert "Dataset 'entry'" in caplog.text


def test_unexpected_key_suggests_the_close_one() -> None:
    with pytest.raises(DatasetConfigError, match="Did you mean 'filepath'"):
        _create({"type": "json.JSONDataset", "filepath": "x", "filepaht": "y"})


def test_bad_placeholder_in_a_pattern_names_the_dataset_and_key() -> None:
    catalog = DataCatalog.from_config({"{name}_csv": {"type": "MemoryDataset", "x": "{nmae}"}})
    with pytest.raises(DatasetConfigError, match="Dataset 'cars_csv': key 'x': placeholder"):
        catalog.get("cars_csv")


def test_load_versions_for_unknown_datasets() -> None:
    with pytest.raises(DatasetNotFoundError, match=r"'load_versions' keys \[ghost\]"):
        DataCatalog.from_config({"a": {"type": "MemoryDataset"}}, load_versions={"ghost": "v"})


# --- credentials -------------------------------------------------------------------------------


def _secret_catalog(tmp_path: pathlib.Path) -> DataCatalog:
    return DataCatalog.from_config(
        {
            "remote": {
                "type": "pickle.PickleDataset",
                "filepath": str(tmp_path / "r.pkl"),
                "credentials": "vault",
            },
            "leaky": {"type": f"{__name__}.LeakyDataset", "url": "x", "credentials": "vault"},
        },
        credentials={"vault": {"username": "alice", "password": SECRET}},
    )


def test_credentials_reach_the_dataset(tmp_path: pathlib.Path) -> None:
    dataset = _secret_catalog(tmp_path)["remote"]
    assert dataset._init_args["credentials"] == {"username": "alice", "password": SECRET}


def test_credentials_never_in_reprs_or_logs(
    tmp_path: pathlib.Path, caplog: pytest.LogCaptureFixture
) -> None:
    catalog = _secret_catalog(tmp_path)
    with caplog.at_level(logging.DEBUG):
        catalog.save("remote", {"a": 1})
        catalog.load("remote")
        catalog.exists("remote")
        catalog.release("remote")
    assert SECRET not in repr(catalog)
    assert SECRET not in str(catalog["remote"])
    assert SECRET not in caplog.text
    assert caplog.records  # the DEBUG and INFO lines were there to check


def test_credentials_never_in_construction_errors(tmp_path: pathlib.Path) -> None:
    with pytest.raises(DatasetConfigError) as info:
        _secret_catalog(tmp_path).get("leaky")
    assert "dataset 'leaky'" in str(info.value)
    assert SECRET not in str(info.value)
    assert "<redacted>" in str(info.value)
    assert info.value.__cause__ is None  # the original text held the secret


def test_credentials_never_in_load_errors(tmp_path: pathlib.Path) -> None:
    with pytest.raises(DatasetError) as info:
        _secret_catalog(tmp_path).load("remote")  # nothing saved yet
    assert "remote: Failed while loading data" in str(info.value)
    assert SECRET not in str(info.value)


def test_url_secrets_are_redacted_in_reprs() -> None:
    dataset = _create({"type": "text.TextDataset", "filepath": "memory://user:pw123@host/x.txt"})
    assert "pw123" not in repr(dataset)


# --- versions ----------------------------------------------------------------------------------


def test_versioned_entries_get_the_catalog_versions(tmp_path: pathlib.Path) -> None:
    config = {
        "v": {"type": "json.JSONDataset", "filepath": str(tmp_path / "v.json"), "versioned": True}
    }
    writer = DataCatalog.from_config(config, save_version="2024-01-01T00.00.00.000Z")
    writer.save("v", {"n": 1})
    DataCatalog.from_config(config, save_version="2024-06-01T00.00.00.000Z").save("v", {"n": 2})
    assert DataCatalog.from_config(config).load("v") == {"n": 2}
    pinned = DataCatalog.from_config(config, load_versions={"v": "2024-01-01T00.00.00.000Z"})
    assert pinned.load("v") == {"n": 1}


def test_datasets_must_agree_on_the_save_version(tmp_path: pathlib.Path) -> None:
    def versioned(name: str, save: str) -> PickleDataset:
        return PickleDataset(filepath=str(tmp_path / name), version=Version(None, save))

    catalog = DataCatalog({"a": versioned("a", "s1")})
    with pytest.raises(VersionAlreadyExistsError, match="saving version 's2'"):
        catalog["b"] = versioned("b", "s2")
    with pytest.raises(VersionAlreadyExistsError):
        DataCatalog({"a": versioned("a", "s1")}, save_version="s3")
    with pytest.raises(VersionAlreadyExistsError, match="loading version 'l1'"):
        DataCatalog(
            {"a": PickleDataset(filepath=str(tmp_path / "a"), version=Version("l1", None))},
            load_versions={"a": "l2"},
        )


def test_catalog_refuses_escaping_versions() -> None:
    with pytest.raises(DatasetError, match="is not allowed"):
        DataCatalog(save_version="../../etc")
    with pytest.raises(DatasetError, match="is not allowed"):
        DataCatalog(load_versions={"a": "x/y"})


# --- to_config --------------------------------------------------------------------------------


def test_to_config_round_trip(tmp_path: pathlib.Path) -> None:
    config = {
        "{name}_pkl": {"type": "pickle.PickleDataset", "filepath": str(tmp_path / "{name}.pkl")},
        "remote": {
            "type": "json.JSONDataset",
            "filepath": str(tmp_path / "r.json"),
            "credentials": "vault",
        },
        "lazy": {"type": "text.TextDataset", "filepath": str(tmp_path / "t.txt")},
        "mem": {"type": "MemoryDataset"},
    }
    catalog = DataCatalog.from_config(config, credentials={"vault": {"token": SECRET}})
    catalog.get("remote")  # one created, one lazy
    catalog["raw"] = 3  # memory: not part of the configuration
    catalog["made"] = CachedDataset(MemoryDataset())
    entries, credentials, load_versions, save_version = catalog.to_config()
    assert set(entries) == {"{name}_pkl", "remote", "lazy", "made"}
    assert entries["remote"]["credentials"] == "remote_credentials"
    assert credentials == {"remote_credentials": {"token": SECRET}}
    assert load_versions == {}
    assert save_version == catalog.to_config()[3]  # the catalog's one save version, kept
    del entries["made"]  # holds an object, which configuration cannot express
    rebuilt = DataCatalog.from_config(entries, credentials)
    rebuilt.save("remote", [1])
    assert catalog.load("remote") == [1]
    assert rebuilt.get_type("x_pkl") == "ductwork.datasets.pickle.PickleDataset"


# --- YAML -------------------------------------------------------------------------------------


def test_catalog_from_yaml_text(tmp_path: pathlib.Path) -> None:
    text = textwrap.dedent(
        f"""
        _defaults: &defaults
          type: pickle.PickleDataset
        model:
          <<: *defaults
          filepath: {tmp_path / "model.pkl"}
        "{{name}}_json":
          type: json.JSONDataset
          filepath: {tmp_path}/{{name}}.json
        """
    )
    catalog = DataCatalog.from_config(yaml.safe_load(text))
    catalog.save("model", {"weights": [1]})
    catalog.save("scores_json", {"a": 1})
    assert pickle.loads((tmp_path / "model.pkl").read_bytes()) == {"weights": [1]}
    assert (tmp_path / "scores.json").exists()
    assert catalog.keys() == ["model", "scores_json"]


# --- which class a type name means: ductwork's, kedro-datasets', or an error saying what to install


@pytest.fixture
def fresh_type_cache(monkeypatch: pytest.MonkeyPatch) -> None:
    """Resolved types are cached by name; these tests change what a name resolves to."""
    from ductwork.io import _config

    monkeypatch.setattr(_config, "_RESOLVED_TYPES", {})


@pytest.fixture
def kedro_datasets_installed(
    tmp_path: pathlib.Path, monkeypatch: pytest.MonkeyPatch, fresh_type_cache: None
) -> Any:
    """A stand-in kedro-datasets package with a JSON dataset ductwork also has and a Feather one
    ductwork lacks."""
    import importlib
    import sys

    package = tmp_path / "kedro_datasets"
    body = textwrap.dedent(
        """
        class {name}:
            def __init__(self, filepath=None):
                self.filepath = filepath
            def load(self):
                return None
            def save(self, data):
                pass
            def exists(self):
                return False
            def release(self):
                pass
        """
    )
    for group, name in [("json", "JSONDataset"), ("pandas", "FeatherDataset")]:
        (package / group).mkdir(parents=True)
        (package / group / "__init__.py").write_text(body.format(name=name))
    (package / "__init__.py").write_text("")
    monkeypatch.syspath_prepend(str(tmp_path))
    importlib.invalidate_caches()
    yield package
    for module in [m for m in sys.modules if m.split(".")[0] == "kedro_datasets"]:
        del sys.modules[module]


def test_an_explicit_kedro_datasets_path_gets_kedro_datasets_class(
    kedro_datasets_installed: Any,
) -> None:
    dataset = _create({"type": "kedro_datasets.json.JSONDataset", "filepath": "x.json"})
    assert type(dataset).__module__ == "kedro_datasets.json"


def test_a_short_name_prefers_ductworks_class_over_kedro_datasets(
    kedro_datasets_installed: Any,
) -> None:
    assert type(_create({"type": "json.JSONDataset", "filepath": "x.json"})) is JSONDataset


def test_a_short_name_ductwork_lacks_comes_from_kedro_datasets(
    kedro_datasets_installed: Any,
) -> None:
    dataset = _create({"type": "pandas.FeatherDataset", "filepath": "x.feather"})
    assert type(dataset).__module__ == "kedro_datasets.pandas"


def test_without_kedro_datasets_an_explicit_path_falls_back_to_ductworks_namesake(
    fresh_type_cache: None,
) -> None:
    pytest.importorskip("ductwork.datasets.json")
    if importlib_find("kedro_datasets"):
        pytest.skip("kedro-datasets is installed here")
    assert type(_create({"type": "kedro_datasets.json.JSONDataset", "filepath": "x"})) is (
        JSONDataset
    )


@pytest.mark.parametrize("type_value", ["pandas.NoSuchDataset", "kedro_datasets.plotly.X"])
def test_without_kedro_datasets_the_error_says_what_to_install(
    type_value: str, fresh_type_cache: None
) -> None:
    if importlib_find("kedro_datasets"):
        pytest.skip("kedro-datasets is installed here")
    group, cls = type_value.removeprefix("kedro_datasets.").split(".")
    with pytest.raises(DatasetConfigError) as info:
        _create({"type": type_value}, name="report")
    text = str(info.value)
    assert "dataset 'report'" in text
    assert repr(type_value) in text or type_value.rsplit(".", maxsplit=1)[-1] in text
    assert f"pip install 'kedro-datasets[{group}-{cls.lower()}]'" in text


def importlib_find(name: str) -> bool:
    import importlib.util

    return importlib.util.find_spec(name) is not None

"""Pickle, JSON, text and YAML datasets: round trips, arguments, protocols, versions, secrets."""

from __future__ import annotations

import json
import pathlib
import pickle
from typing import Any

import pytest

from ductwork.datasets import JSONDataset, PickleDataset, TextDataset, YAMLDataset
from ductwork.io import DatasetError, Version, VersionNotFoundError

SAMPLES: list[tuple[type, Any, str]] = [
    (PickleDataset, {"a": (1, 2), "b": {3}}, "x.pkl"),
    (JSONDataset, {"a": [1, 2], "b": None}, "x.json"),
    (TextDataset, "héllo\nwörld\n", "x.txt"),
    (YAMLDataset, {"a": [1, 2], "b": {"c": "d"}}, "x.yml"),
]


@pytest.mark.parametrize(("cls", "data", "name"), SAMPLES)
def test_local_round_trip(cls: type, data: Any, name: str, tmp_path: pathlib.Path) -> None:
    dataset = cls(filepath=str(tmp_path / "sub" / name))
    assert dataset.exists() is False
    dataset.save(data)
    assert dataset.exists() is True
    assert dataset.load() == data


@pytest.mark.parametrize(("cls", "data", "name"), SAMPLES)
def test_other_fsspec_protocols(cls: type, data: Any, name: str, memory_fs: Any) -> None:
    dataset = cls(filepath=f"memory://bucket/{name}")
    dataset.save(data)
    assert memory_fs.exists(f"/bucket/{name}")
    assert cls(filepath=f"memory://bucket/{name}").load() == data


@pytest.mark.parametrize(("cls", "data", "name"), SAMPLES)
def test_versioned_round_trip(cls: type, data: Any, name: str, tmp_path: pathlib.Path) -> None:
    path = str(tmp_path / name)
    with pytest.raises(DatasetError):
        cls(filepath=path, version=Version(None, None)).load()
    cls(filepath=path, version=Version(None, "2024-01-01T00.00.00.000Z")).save(data)
    assert (tmp_path / name / "2024-01-01T00.00.00.000Z" / name).is_file()
    assert cls(filepath=path, version=Version(None, None)).load() == data


@pytest.mark.parametrize(("cls", "data", "name"), SAMPLES)
def test_versioned_on_another_protocol(cls: type, data: Any, name: str, memory_fs: Any) -> None:
    path = f"memory://store/{name}"
    cls(filepath=path, version=Version(None, "v1")).save(data)
    cls(filepath=path, version=Version(None, "v2")).save(data)
    latest = cls(filepath=path, version=Version(None, None))
    assert latest.resolve_load_version() == "v2"
    assert latest.load() == data


def test_missing_version_gives_version_not_found(tmp_path: pathlib.Path) -> None:
    dataset = JSONDataset(filepath=str(tmp_path / "x.json"), version=Version(None, None))
    assert dataset.exists() is False
    with pytest.raises(VersionNotFoundError):
        dataset.load()


def test_json_save_and_load_args(tmp_path: pathlib.Path) -> None:
    path = tmp_path / "x.json"
    JSONDataset(filepath=str(path), save_args={"sort_keys": True, "indent": None}).save(
        {"b": 1, "a": 2}
    )
    assert path.read_text(encoding="utf-8") == '{"a": 2, "b": 1}'
    loaded = JSONDataset(filepath=str(path), load_args={"parse_int": str}).load()
    assert loaded == {"a": "2", "b": "1"}


def test_json_default_indent(tmp_path: pathlib.Path) -> None:
    JSONDataset(filepath=str(tmp_path / "x.json")).save({"a": 1})
    assert (tmp_path / "x.json").read_text(encoding="utf-8") == '{\n  "a": 1\n}'


def test_pickle_args_and_backend(tmp_path: pathlib.Path) -> None:
    path = tmp_path / "x.pkl"
    PickleDataset(filepath=str(path), save_args={"protocol": 2}).save([1])
    assert path.read_bytes()[:2] == b"\x80\x02"
    lambda_dataset = PickleDataset(filepath=str(tmp_path / "f.pkl"), backend="cloudpickle")
    lambda_dataset.save(lambda x: x * 3)
    assert lambda_dataset.load()(2) == 6


def test_pickle_backend_must_have_load_and_dump(tmp_path: pathlib.Path) -> None:
    with pytest.raises(ValueError, match="has no load"):
        PickleDataset(filepath=str(tmp_path / "x"), backend="math")
    with pytest.raises(ImportError, match="cannot be imported"):
        PickleDataset(filepath=str(tmp_path / "x"), backend="no_such_module_here")


def test_text_encoding_through_fs_args(tmp_path: pathlib.Path) -> None:
    path = tmp_path / "x.txt"
    dataset = TextDataset(
        filepath=str(path),
        fs_args={
            "open_args_save": {"encoding": "latin-1"},
            "open_args_load": {"encoding": "latin-1"},
        },
    )
    dataset.save("é")
    assert path.read_bytes() == b"\xe9"
    assert dataset.load() == "é"
    assert TextDataset(filepath=str(path)).exists()


def test_text_refuses_non_strings(tmp_path: pathlib.Path) -> None:
    with pytest.raises(DatasetError, match="TextDataset saves strings, got int"):
        TextDataset(filepath=str(tmp_path / "x.txt")).save(3)  # type: ignore[arg-type]


def test_yaml_never_runs_code_from_a_file(tmp_path: pathlib.Path) -> None:
    marker = tmp_path / "ran"
    path = tmp_path / "evil.yml"
    path.write_text(f"!!python/object/apply:os.system ['touch {marker}']\n", encoding="utf-8")
    with pytest.raises(DatasetError, match="ConstructorError"):
        YAMLDataset(filepath=str(path)).load()
    assert not marker.exists()


def test_yaml_refuses_objects_it_could_not_load_back(tmp_path: pathlib.Path) -> None:
    with pytest.raises(DatasetError, match="RepresenterError"):
        YAMLDataset(filepath=str(tmp_path / "x.yml")).save({"o": object()})
    assert not (tmp_path / "x.yml").exists()


def test_yaml_save_args(tmp_path: pathlib.Path) -> None:
    path = tmp_path / "x.yml"
    YAMLDataset(filepath=str(path), save_args={"default_flow_style": True}).save({"a": [1]})
    assert path.read_text(encoding="utf-8") == "{a: [1]}\n"


def test_repr_and_describe(tmp_path: pathlib.Path) -> None:
    dataset = JSONDataset(filepath="data/x.json", load_args={"parse_float": None})
    assert repr(dataset) == (
        "ductwork.datasets.json.JSONDataset(filepath='data/x.json', protocol='file', "
        "load_args={'parse_float': None}, save_args={'indent': 2})"
    )
    remote = PickleDataset(filepath="memory://b/x.pkl", version=Version(None, "v1"))
    assert repr(remote) == (
        "ductwork.datasets.pickle.PickleDataset(filepath='memory://b/x.pkl', "
        "protocol='memory', version=Version(load=None, save='v1'), backend='pickle')"
    )


def test_credentials_go_to_the_filesystem_and_nowhere_else(memory_fs: Any) -> None:
    secret = "tok-9f8e7d6c5b4a"
    dataset = PickleDataset(filepath="memory://b/x.pkl", credentials={"token": secret})
    assert dataset._fs.storage_options["token"] == secret
    assert secret not in repr(dataset)
    with pytest.raises(DatasetError) as info:
        dataset.load()  # nothing saved: the error text must still not show the token
    assert secret not in str(info.value)


def test_datasets_pickle_for_worker_processes(tmp_path: pathlib.Path) -> None:
    dataset = PickleDataset(filepath=str(tmp_path / "x.pkl"), version=Version(None, "v1"))
    clone = pickle.loads(pickle.dumps(dataset))
    clone.save({"from": "clone"})
    assert dataset.load() == {"from": "clone"}


def test_init_config_recreates_the_dataset(tmp_path: pathlib.Path) -> None:
    dataset = JSONDataset(filepath=str(tmp_path / "x.json"), save_args={"indent": 4})
    assert dataset._init_config() == {
        "type": "ductwork.datasets.json.JSONDataset",
        "filepath": str(tmp_path / "x.json"),
        "save_args": {"indent": 4},
    }


def test_json_file_is_plain_json(tmp_path: pathlib.Path) -> None:
    JSONDataset(filepath=str(tmp_path / "x.json")).save([1, "a"])
    assert json.loads((tmp_path / "x.json").read_text(encoding="utf-8")) == [1, "a"]

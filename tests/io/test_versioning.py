"""Versions: the value type, timestamps, refused strings, and AbstractVersionedDataset."""

from __future__ import annotations

import pathlib
import pickle
import re
from pathlib import PurePosixPath
from typing import Any

import pytest

from ductwork.exceptions import VersionAlreadyExistsError
from ductwork.io import AbstractVersionedDataset, DatasetError, Version, VersionNotFoundError
from ductwork.io.core import generate_timestamp


class TextFile(AbstractVersionedDataset[str, str]):
    """A minimal versioned dataset on the local filesystem."""

    def __init__(self, filepath: str, version: Version | None = None) -> None:
        super().__init__(PurePosixPath(filepath), version)

    def load(self) -> str:
        return pathlib.Path(self._get_load_path()).read_text(encoding="utf-8")

    def save(self, data: str) -> None:
        path = pathlib.Path(self._get_save_path())
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(data, encoding="utf-8")

    def _describe(self) -> dict[str, Any]:
        return {"filepath": str(self._filepath), "version": self._version}


def test_generate_timestamp_shape_and_order() -> None:
    first = generate_timestamp()
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d\.\d\d\.\d\d\.\d{3}Z", first)
    assert generate_timestamp() >= first


@pytest.mark.parametrize("bad", ["", ".", "..", "../x", "a/b", "a\\b", "x\0y"])
def test_version_strings_that_escape_the_folder_are_refused(bad: str, tmp_path: Any) -> None:
    with pytest.raises(DatasetError, match="is not allowed"):
        TextFile(str(tmp_path / "x.txt"), Version(bad, None))
    with pytest.raises(DatasetError, match="is not allowed"):
        TextFile(str(tmp_path / "x.txt"), Version(None, bad))


def test_unversioned_paths_are_the_filepath(tmp_path: pathlib.Path) -> None:
    dataset = TextFile(str(tmp_path / "x.txt"))
    dataset.save("a")
    assert dataset.load() == "a"
    assert dataset.resolve_load_version() is None
    assert dataset.resolve_save_version() is None


def test_versioned_layout_and_newest_load(tmp_path: pathlib.Path) -> None:
    target = tmp_path / "x.txt"
    TextFile(str(target), Version(None, "2024-01-01T00.00.00.000Z")).save("old")
    TextFile(str(target), Version(None, "2024-02-01T00.00.00.000Z")).save("new")
    assert sorted(p.name for p in target.iterdir()) == [
        "2024-01-01T00.00.00.000Z",
        "2024-02-01T00.00.00.000Z",
    ]
    assert (target / "2024-02-01T00.00.00.000Z" / "x.txt").read_text(encoding="utf-8") == "new"
    latest = TextFile(str(target), Version(None, None))
    assert latest.load() == "new"
    assert latest.resolve_load_version() == "2024-02-01T00.00.00.000Z"
    assert TextFile(str(target), Version("2024-01-01T00.00.00.000Z", None)).load() == "old"


def test_generated_save_versions_are_new_each_save(tmp_path: pathlib.Path) -> None:
    dataset = TextFile(str(tmp_path / "x.txt"), Version(None, None))
    dataset.save("one")
    first = dataset.resolve_load_version()
    assert first is not None
    # A version folder that sorts after any timestamp proves the next load follows the newest.
    TextFile(str(tmp_path / "x.txt"), Version(None, "9999")).save("two")
    assert dataset.load() == "two"


def test_no_version_yet(tmp_path: pathlib.Path) -> None:
    dataset = TextFile(str(tmp_path / "x.txt"), Version(None, None))
    assert dataset.exists() is False
    with pytest.raises(VersionNotFoundError, match="Did not find any versions"):
        dataset.resolve_load_version()
    with pytest.raises(VersionNotFoundError):
        dataset.load()


def test_saving_an_existing_version_is_refused(tmp_path: pathlib.Path) -> None:
    dataset = TextFile(str(tmp_path / "x.txt"), Version(None, "v1"))
    dataset.save("first")
    with pytest.raises(VersionAlreadyExistsError, match="must not exist"):
        dataset.save("second")
    assert TextFile(str(tmp_path / "x.txt"), Version("v1", None)).load() == "first"


def test_pinned_load_version_different_from_save_warns(tmp_path: pathlib.Path) -> None:
    TextFile(str(tmp_path / "x.txt"), Version(None, "v1")).save("first")
    dataset = TextFile(str(tmp_path / "x.txt"), Version("v1", "v2"))
    with pytest.warns(UserWarning, match="Save version 'v2' did not match load version 'v1'"):
        dataset.save("second")


def test_plain_file_in_the_way_of_versions_gets_a_clear_error(tmp_path: pathlib.Path) -> None:
    class AtomicText(TextFile):
        def save(self, data: str) -> None:
            path = pathlib.Path(self._get_save_path())
            path.parent.mkdir(parents=True)  # FileExistsError/NotADirectoryError under a file
            path.write_text(data, encoding="utf-8")

    (tmp_path / "x.txt").write_text("saved before versioning", encoding="utf-8")
    with pytest.raises(DatasetError, match="saved before versioning was enabled"):
        AtomicText(str(tmp_path / "x.txt"), Version(None, "v1")).save("new")


def test_versioned_dataset_pickles(tmp_path: pathlib.Path) -> None:
    dataset = TextFile(str(tmp_path / "x.txt"), Version(None, "v1"))
    clone = pickle.loads(pickle.dumps(dataset))
    clone.save("from a clone")
    assert dataset.load() == "from a clone"


def test_version_is_a_named_pair() -> None:
    version = Version("a", "b")
    assert (version.load, version.save) == ("a", "b")
    assert version == ("a", "b")


class StrictTextFile(TextFile):
    """Its ``_exists`` lets ``VersionNotFoundError`` through, as some third-party datasets do."""

    def _exists(self) -> bool:
        return pathlib.Path(self._get_load_path()).exists()


def test_exists_is_false_before_any_version_even_if_exists_raises(
    tmp_path: pathlib.Path,
) -> None:
    dataset = StrictTextFile(str(tmp_path / "x.txt"), Version(None, None))
    assert dataset.exists() is False
    dataset.save("a")
    assert dataset.exists() is True


def test_a_catalog_from_config_saves_every_dataset_under_one_version(
    tmp_path: pathlib.Path,
) -> None:
    from ductwork.io import DataCatalog

    entry = {"type": f"{__name__}.TextFile", "versioned": True}
    catalog = DataCatalog.from_config(
        {
            "a": {**entry, "filepath": str(tmp_path / "a.txt")},
            "b": {**entry, "filepath": str(tmp_path / "b.txt")},
        }
    )
    catalog.save("a", "1")
    catalog.save("b", "2")
    versions = {path.parent.name for path in tmp_path.glob("*.txt/*/*.txt")}
    assert len(versions) == 1  # both outputs of the run are found under one version
    assert versions == {catalog.to_config()[3]}


def test_a_dataset_saving_another_version_cannot_join_the_catalog(
    tmp_path: pathlib.Path,
) -> None:
    from ductwork.io import CachedDataset, DataCatalog

    catalog = DataCatalog.from_config({}, save_version="2024-01-01T00.00.00.000Z")
    other = TextFile(str(tmp_path / "x.txt"), Version(None, "2025-01-01T00.00.00.000Z"))
    with pytest.raises(VersionAlreadyExistsError, match="All datasets of a catalog save one"):
        catalog["x"] = other
    with pytest.raises(VersionAlreadyExistsError):
        catalog["cached"] = CachedDataset(other)  # the wrapped dataset's version counts
    catalog["pinned"] = CachedDataset(TextFile(str(tmp_path / "y.txt"), Version("v1", None)))
    assert catalog._load_versions["pinned"] == "v1"


class AlwaysVersioned(TextFile):
    versioned = True  # versioned without 'versioned: true' in its entry


def test_a_class_that_declares_itself_versioned_is_versioned(tmp_path: pathlib.Path) -> None:
    from ductwork.io import DataCatalog

    catalog = DataCatalog.from_config(
        {"x": {"type": f"{__name__}.AlwaysVersioned", "filepath": str(tmp_path / "x.txt")}},
        save_version="v9",
    )
    catalog.save("x", "data")
    assert (tmp_path / "x.txt" / "v9" / "x.txt").read_text() == "data"


def test_listing_versions_failing_says_it_may_be_permissions(tmp_path: pathlib.Path) -> None:
    def refuse(pattern: str) -> list[str]:
        raise PermissionError("not allowed here")

    dataset = AbstractVersionedDataset.__new__(TextFile)
    AbstractVersionedDataset.__init__(
        dataset, PurePosixPath(tmp_path / "x.txt"), Version(None, None), glob_function=refuse
    )
    with pytest.raises(VersionNotFoundError, match="due to insufficient permission"):
        dataset.resolve_load_version()

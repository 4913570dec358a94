"""CachedDataset: a memory cache in front of another dataset."""

from __future__ import annotations

import logging
import pickle
from pathlib import Path

import pytest

from ductwork.io import CachedDataset, DataCatalog, MemoryDataset
from tests.io.conftest import RecordingDataset


def test_first_load_reads_the_wrapped_dataset_then_the_cache() -> None:
    wrapped = RecordingDataset(data={"a": 1})
    cached = CachedDataset(wrapped)
    assert cached.load() == {"a": 1}
    assert cached.load() == {"a": 1}
    assert wrapped.loads == 1


def test_save_writes_both() -> None:
    wrapped = RecordingDataset()
    cached = CachedDataset(wrapped)
    cached.save([1])
    assert wrapped.saves == 1
    assert cached.load() == [1]
    assert wrapped.loads == 0


def test_release_releases_both() -> None:
    wrapped = RecordingDataset(data=1)
    cached = CachedDataset(wrapped)
    cached.load()
    cached.release()
    assert wrapped.releases == 1
    cached.load()
    assert wrapped.loads == 2


def test_exists_asks_cache_then_wrapped() -> None:
    assert CachedDataset(RecordingDataset()).exists() is False
    assert CachedDataset(RecordingDataset(data=1)).exists() is True
    cached = CachedDataset(MemoryDataset())
    cached.save(1)
    assert cached.exists() is True


def test_flags() -> None:
    cached = CachedDataset(MemoryDataset())
    assert cached._EPHEMERAL is True
    assert cached._SINGLE_PROCESS is True


def test_copy_mode_applies_to_the_cache() -> None:
    data = [1]
    cached = CachedDataset(MemoryDataset(copy_mode="assign"), copy_mode="assign")
    cached.save(data)
    assert cached.load() is data


def test_from_yaml_style_config_with_versioning_on_the_wrapper(tmp_path: Path) -> None:
    catalog = DataCatalog.from_config(
        {
            "scores": {
                "type": "CachedDataset",
                "versioned": True,
                "dataset": {"type": "json.JSONDataset", "filepath": str(tmp_path / "s.json")},
            }
        },
        save_version="2024-01-01T00.00.00.000Z",
    )
    catalog.save("scores", {"x": 1})
    assert (tmp_path / "s.json" / "2024-01-01T00.00.00.000Z" / "s.json").exists()
    assert catalog.load("scores") == {"x": 1}


def test_versioned_inside_the_wrapped_entry_is_refused() -> None:
    with pytest.raises(
        ValueError, match=r"should specify that they are versioned in the .CachedDataset."
    ):
        CachedDataset({"type": "MemoryDataset", "versioned": True})


def test_pickling_leaves_the_cache_behind_but_keeps_it_here(
    caplog: pytest.LogCaptureFixture,
) -> None:
    wrapped = RecordingDataset(data=5)
    cached = CachedDataset(wrapped)
    cached.load()
    with caplog.at_level(logging.DEBUG, logger="ductwork.io.cached_dataset"):
        clone = pickle.loads(pickle.dumps(cached))
    assert "cache is not sent along" in caplog.text
    assert clone._cache.exists() is False
    assert cached._cache.exists() is True
    assert clone.load() == 5


def test_repr_shows_the_wrapped_dataset_and_the_cache() -> None:
    text = repr(CachedDataset(MemoryDataset(data=[1])))
    assert text == (
        "ductwork.io.cached_dataset.CachedDataset("
        "dataset=ductwork.io.memory_dataset.MemoryDataset(data='<list>'), "
        "cache=ductwork.io.memory_dataset.MemoryDataset())"
    )


def test_to_config_nests_the_wrapped_entry_and_declares_versioning_outside(
    tmp_path: Path,
) -> None:
    from ductwork.datasets import JSONDataset
    from ductwork.io import Version

    inner = JSONDataset(filepath=str(tmp_path / "x.json"), version=Version("v1", None))
    catalog = DataCatalog({"cached": CachedDataset(inner, copy_mode="assign")})
    entries, _, load_versions, _ = catalog.to_config()
    entry = entries["cached"]
    assert entry["type"] == "ductwork.io.cached_dataset.CachedDataset"
    assert entry["versioned"] is True
    assert entry["copy_mode"] == "assign"
    assert entry["dataset"]["type"] == "ductwork.datasets.json.JSONDataset"
    assert "versioned" not in entry["dataset"]
    assert load_versions == {"cached": "v1"}
    rebuilt = DataCatalog.from_config(entries, load_versions=load_versions)
    assert rebuilt["cached"]._dataset._version.load == "v1"

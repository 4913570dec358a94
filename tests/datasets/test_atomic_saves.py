"""Every local save is atomic: the old file or the new one, never part of one.

The kill test stops a real process with SIGKILL in the middle of writing a large file. The save
is made to stop at a known point (it reports on stdout and then waits on stdin), so the kill
lands exactly there; no timing is involved.
"""

from __future__ import annotations

import os
import pathlib
import signal
import subprocess
import sys
import textwrap
from typing import Any

import pytest

from ductwork.datasets import PickleDataset, TextDataset
from ductwork.datasets._atomic import atomic_open
from ductwork.io import DatasetError, Version

ALL_DATASETS: list[tuple[str, Any, Any, str]] = [
    ("ductwork.datasets.PickleDataset", {"old": 1}, {"new": 2}, "x.pkl"),
    ("ductwork.datasets.JSONDataset", {"old": 1}, {"new": 2}, "x.json"),
    ("ductwork.datasets.TextDataset", "old", "new", "x.txt"),
    ("ductwork.datasets.YAMLDataset", {"old": 1}, {"new": 2}, "x.yml"),
    ("ductwork.datasets.pandas.CSVDataset", "frame-old", "frame-new", "x.csv"),
    ("ductwork.datasets.pandas.ParquetDataset", "frame-old", "frame-new", "x.parquet"),
    ("ductwork.datasets.pandas.ExcelDataset", "frame-old", "frame-new", "x.xlsx"),
]


def _dataset_class(path: str) -> type:
    module, _, name = path.rpartition(".")
    if "pandas" in module:
        pytest.importorskip("pandas")
        pytest.importorskip("pyarrow")
    imported = __import__(module, fromlist=[name])
    cls: type = getattr(imported, name)
    return cls


def _value(value: Any) -> Any:
    if isinstance(value, str) and value.startswith("frame-"):
        return pytest.importorskip("pandas").DataFrame({"which": [value]})
    return value


def _equal(left: Any, right: Any) -> bool:
    if hasattr(left, "equals"):
        return bool(left.equals(right))
    return bool(left == right)


def _leftovers(folder: pathlib.Path) -> list[str]:
    return sorted(p.name for p in folder.rglob("*.tmp"))


@pytest.mark.parametrize("case", ALL_DATASETS, ids=[case[0] for case in ALL_DATASETS])
def test_failed_save_keeps_the_old_file_and_cleans_up(
    case: tuple[str, Any, Any, str], tmp_path: pathlib.Path, monkeypatch: Any
) -> None:
    class_path, old, new, name = case
    cls = _dataset_class(class_path)
    dataset = cls(filepath=str(tmp_path / name))
    dataset.save(_value(old))
    before = (tmp_path / name).read_bytes()

    def failing_fsync(fd: int) -> None:
        raise OSError("disk went away")  # after all the data was written, before the rename

    monkeypatch.setattr(os, "fsync", failing_fsync)
    with pytest.raises(DatasetError, match="disk went away"):
        dataset.save(_value(new))
    monkeypatch.undo()
    assert (tmp_path / name).read_bytes() == before
    assert _equal(dataset.load(), _value(old))
    assert _leftovers(tmp_path) == []


def test_exception_while_writing_leaves_nothing(tmp_path: pathlib.Path) -> None:
    class Broken:
        def __reduce__(self) -> Any:
            raise TypeError("cannot pickle this")

    dataset = PickleDataset(filepath=str(tmp_path / "x.pkl"))
    with pytest.raises(DatasetError, match="cannot pickle this"):
        dataset.save(Broken())
    assert list(tmp_path.iterdir()) == []


def test_new_file_gets_the_permissions_open_would_give(tmp_path: pathlib.Path) -> None:
    TextDataset(filepath=str(tmp_path / "atomic.txt")).save("x")
    (tmp_path / "plain.txt").write_text("x", encoding="utf-8")
    assert (tmp_path / "atomic.txt").stat().st_mode == (tmp_path / "plain.txt").stat().st_mode


def test_atomic_open_refuses_non_write_modes(tmp_path: pathlib.Path) -> None:
    from fsspec.implementations.local import LocalFileSystem

    with (
        pytest.raises(ValueError, match="mode must be"),
        atomic_open(LocalFileSystem(), str(tmp_path / "x"), "ab"),
    ):
        pass


def test_atomic_open_replaces_only_at_the_end(tmp_path: pathlib.Path) -> None:
    from fsspec.implementations.local import LocalFileSystem

    target = tmp_path / "x.txt"
    target.write_text("old", encoding="utf-8")
    with atomic_open(LocalFileSystem(), str(target), "w", encoding="utf-8") as stream:
        stream.write("new")
        stream.flush()
        assert target.read_text(encoding="utf-8") == "old"  # readers still see the old file
        assert len(_leftovers(tmp_path)) == 1
    assert target.read_text(encoding="utf-8") == "new"
    assert _leftovers(tmp_path) == []


_STALLING_SAVE = textwrap.dedent(
    """
    import sys
    from ductwork.datasets import PickleDataset
    from ductwork.io import Version

    class StallingPickle(PickleDataset):
        def _write(self, stream, data):
            stream.write(b"\\x80" * (8 * 1024 * 1024))  # the first 8 MiB of a large save
            stream.flush()
            print("stalled", flush=True)
            sys.stdin.readline()  # wait here until killed
            super()._write(stream, data)

    version = Version(None, sys.argv[2]) if len(sys.argv) > 2 else None
    StallingPickle(filepath=sys.argv[1], version=version).save(list(range(3_000_000)))
    """
)


def _kill_mid_save(*args: str) -> None:
    """Run a save in a child process and SIGKILL it while it is half way through writing."""
    child = subprocess.Popen(
        [sys.executable, "-c", _STALLING_SAVE, *args],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert child.stdout is not None
        assert child.stdout.readline().strip() == "stalled"
        folder = pathlib.Path(args[0]).parent
        partial = [p for p in folder.rglob("*.tmp") if p.stat().st_size >= 8 * 1024 * 1024]
        assert partial, "the child should be part way through writing"
        os.kill(child.pid, signal.SIGKILL)
        assert child.wait(timeout=30) == -signal.SIGKILL
    finally:
        if child.poll() is None:
            child.kill()
            child.wait(timeout=30)


posix_only = pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs SIGKILL")


@posix_only
@pytest.mark.timeout(120)
def test_killed_save_leaves_the_old_file(tmp_path: pathlib.Path) -> None:
    target = tmp_path / "big.pkl"
    PickleDataset(filepath=str(target)).save({"previous": "run"})
    before = target.read_bytes()
    _kill_mid_save(str(target))
    assert target.read_bytes() == before
    assert PickleDataset(filepath=str(target)).load() == {"previous": "run"}


@posix_only
@pytest.mark.timeout(120)
def test_killed_first_save_leaves_no_file(tmp_path: pathlib.Path) -> None:
    target = tmp_path / "big.pkl"
    _kill_mid_save(str(target))
    assert not target.exists()
    dataset = PickleDataset(filepath=str(target))
    assert dataset.exists() is False
    dataset.save([1])  # the leftover temporary file does not get in the way
    assert dataset.load() == [1]


@posix_only
@pytest.mark.timeout(120)
def test_killed_versioned_save_is_not_taken_for_the_newest_version(tmp_path: pathlib.Path) -> None:
    target = tmp_path / "big.pkl"
    PickleDataset(filepath=str(target), version=Version(None, "2024-01-01T00.00.00.000Z")).save(
        "complete"
    )
    _kill_mid_save(str(target), "2024-02-01T00.00.00.000Z")
    latest = PickleDataset(filepath=str(target), version=Version(None, None))
    assert latest.resolve_load_version() == "2024-01-01T00.00.00.000Z"
    assert latest.load() == "complete"


def test_every_file_dataset_saves_through_atomic_open(
    tmp_path: pathlib.Path, monkeypatch: Any
) -> None:
    used: list[str] = []

    def spy(fs: Any, path: str, mode: str = "wb", **kwargs: Any) -> Any:
        used.append(pathlib.Path(path).name)
        return atomic_open(fs, path, mode, **kwargs)

    monkeypatch.setattr("ductwork.datasets._file.atomic_open", spy)
    for class_path, _, new, name in ALL_DATASETS:
        _dataset_class(class_path)(filepath=str(tmp_path / name)).save(_value(new))
    assert used == [name for *_, name in ALL_DATASETS]

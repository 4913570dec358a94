"""File identities: a stamp first, the content only when the stamp changed."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from ductwork.incremental import files
from ductwork.incremental.files import FileIdentities
from ductwork.incremental.store import Store


def age(path: Path, seconds: float = 60.0) -> None:
    """Set the file's mtime into the past (its ctime is now: stamps become racy-free later)."""
    stamp = time.time() - seconds
    os.utime(path, (stamp, stamp))


@pytest.fixture(autouse=True)
def no_racy_window(monkeypatch: pytest.MonkeyPatch) -> None:
    # The racy-stamp guard is tested on its own; elsewhere ctime "now" must not force re-reads.
    monkeypatch.setattr(files, "RACY_SECONDS", 0.0)
    monkeypatch.setattr(files, "FINE_RACY_SECONDS", 0.0)


def identify(store: Store, path: Path) -> tuple[str | None, int]:
    identities = FileIdentities(store)
    result = identities.identity((None, str(path), "file"))
    identities.flush()
    return result, identities.files_hashed


def test_an_unchanged_file_is_not_read_again(tmp_path: Path) -> None:
    path = tmp_path / "data.bin"
    path.write_bytes(b"x" * 1000)
    with Store(tmp_path / "c.sqlite") as store:
        first, hashed = identify(store, path)
        assert hashed == 1
        assert identify(store, path) == (first, 0)


def test_a_touched_file_is_hashed_once_and_keeps_its_identity(tmp_path: Path) -> None:
    path = tmp_path / "data.bin"
    path.write_bytes(b"x" * 1000)
    with Store(tmp_path / "c.sqlite") as store:
        first, _ = identify(store, path)
        path.touch()
        assert identify(store, path) == (first, 1)
        assert identify(store, path) == (first, 0)


def test_same_size_and_restored_mtime_is_still_seen(tmp_path: Path) -> None:
    path = tmp_path / "data.bin"
    path.write_bytes(b"a" * 1000)
    age(path)
    with Store(tmp_path / "c.sqlite") as store:
        first, _ = identify(store, path)
        info = os.stat(path)
        path.write_bytes(b"b" * 1000)
        os.utime(path, ns=(info.st_atime_ns, info.st_mtime_ns))
        assert os.stat(path).st_mtime_ns == info.st_mtime_ns
        second, hashed = identify(store, path)
        assert hashed == 1
        assert second != first


def test_racy_stamps_are_not_trusted(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(files, "RACY_SECONDS", 3600.0)
    monkeypatch.setattr(files, "FINE_RACY_SECONDS", 3600.0)
    path = tmp_path / "data.bin"
    path.write_bytes(b"a")
    with Store(tmp_path / "c.sqlite") as store:
        identify(store, path)
        assert identify(store, path)[1] == 1  # hashed again: the stamp was too fresh to trust


def test_folders_are_identified_file_by_file(tmp_path: Path) -> None:
    folder = tmp_path / "parts"
    (folder / "sub").mkdir(parents=True)
    (folder / "a.txt").write_text("a")
    (folder / "sub" / "b.txt").write_text("b")
    with Store(tmp_path / "c.sqlite") as store:
        first, _ = identify(store, folder)
        (folder / "sub" / "b.txt").write_text("c")
        assert identify(store, folder)[0] != first
        (folder / "sub" / "b.txt").write_text("b")
        assert identify(store, folder)[0] == first


def test_a_missing_file_has_no_identity(tmp_path: Path) -> None:
    with Store(tmp_path / "c.sqlite") as store:
        assert identify(store, tmp_path / "nothing") == (None, 0)


@pytest.mark.parametrize("extra", [-1, 0, 1, 5 << 20])
def test_a_file_is_hashed_whole_around_the_chunk_size(tmp_path: Path, extra: int) -> None:
    import xxhash

    size = (8 << 20) + extra  # the chunk size, and around it
    content = os.urandom(1 << 16) * (size // (1 << 16)) + os.urandom(size % (1 << 16))
    path = tmp_path / "big.bin"
    path.write_bytes(content)
    with Store(tmp_path / "c.sqlite") as store:
        identities = FileIdentities(store)
        assert identities.identity((None, str(path), "file")) == xxhash.xxh3_128_hexdigest(content)
        assert identities.bytes_hashed == size

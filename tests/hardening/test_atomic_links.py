"""Finding 4: an atomic save keeps the target's mode and owner, writes through a symbolic link to
the file it names, and keeps hard links (every link sees the new data)."""

from __future__ import annotations

import os
import stat
import tempfile
from pathlib import Path

import pytest

from ductwork.datasets import PickleDataset, TextDataset
from ductwork.exceptions import DatasetError

pytestmark = pytest.mark.skipif(os.name != "posix", reason="modes, owners and links are POSIX")
root_only = pytest.mark.skipif(os.geteuid() != 0, reason="giving a file to another user needs root")


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.mark.parametrize("mode", [0o600, 0o640, 0o755, 0o444])
def test_a_save_keeps_the_files_mode(tmp_path: Path, mode: int) -> None:
    path = tmp_path / "secret.txt"
    path.write_text("old")
    path.chmod(mode)
    TextDataset(filepath=str(path)).save("new")
    assert path.read_text() == "new"
    assert _mode(path) == mode


@root_only
def test_a_save_keeps_the_files_owner_and_group(tmp_path: Path) -> None:
    path = tmp_path / "theirs.txt"
    path.write_text("old")
    os.chown(path, 4321, 4322)
    TextDataset(filepath=str(path)).save("new")
    assert (path.stat().st_uid, path.stat().st_gid) == (4321, 4322)
    assert path.read_text() == "new"


@root_only
def test_a_save_that_cannot_keep_the_owner_is_refused_and_leaves_the_file() -> None:
    # A world-writable folder and file owned by root, saved by an unprivileged user: replacing
    # the file would hand it to that user, so the save is refused before anything is written.
    # (Under /tmp itself: pytest's own folders cannot be entered by other users.)
    with tempfile.TemporaryDirectory() as shared:
        _refused_in(Path(shared))


def _refused_in(folder: Path) -> None:
    folder.chmod(0o777)
    path = folder / "roots.txt"
    path.write_text("old")
    path.chmod(0o666)
    read, write = os.pipe()
    child = os.fork()
    if child == 0:  # pragma: no cover - runs in the child
        try:
            os.setgid(65534)
            os.setuid(65534)
            TextDataset(filepath=str(path)).save("new")
            message = b"saved"
        except DatasetError as error:
            message = str(error).encode()
        except BaseException as error:
            message = repr(error).encode()
        os.write(write, message)
        os._exit(0)
    os.close(write)
    with os.fdopen(read, "rb") as reader:
        said = reader.read().decode()
    os.waitpid(child, 0)
    assert "Cannot save" in said
    assert "keep its owner (uid 0" in said
    assert path.read_text() == "old"
    assert path.stat().st_uid == 0
    assert [p.name for p in folder.iterdir()] == ["roots.txt"]


def test_a_save_writes_through_a_symbolic_link(tmp_path: Path) -> None:
    real = tmp_path / "store" / "data.pkl"
    real.parent.mkdir()
    PickleDataset(filepath=str(real)).save({"v": 1})
    real.chmod(0o600)
    link = tmp_path / "data.pkl"
    link.symlink_to(real)
    PickleDataset(filepath=str(link)).save({"v": 2})
    assert link.is_symlink()
    assert link.resolve() == real
    assert PickleDataset(filepath=str(real)).load() == {"v": 2}
    assert _mode(real) == 0o600
    assert sorted(p.name for p in real.parent.iterdir()) == ["data.pkl"]


def test_a_save_through_a_dangling_link_creates_the_file_it_names(tmp_path: Path) -> None:
    link = tmp_path / "out.txt"
    link.symlink_to(tmp_path / "target.txt")
    TextDataset(filepath=str(link)).save("made")
    assert link.is_symlink()
    assert (tmp_path / "target.txt").read_text() == "made"


def test_a_save_keeps_hard_links(tmp_path: Path) -> None:
    path = tmp_path / "a.txt"
    path.write_text("old")
    other = tmp_path / "b.txt"
    os.link(path, other)
    inode = path.stat().st_ino
    TextDataset(filepath=str(path)).save("new and longer")
    assert other.read_text() == "new and longer"
    assert path.stat().st_ino == inode
    assert path.stat().st_nlink == 2
    TextDataset(filepath=str(path)).save("short")
    assert other.read_text() == "short"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.txt", "b.txt"]


class _Unpicklable:
    def __reduce__(self) -> tuple[object, ...]:
        raise RuntimeError("cannot pickle this")


def test_a_failing_save_to_a_hard_linked_file_leaves_the_old_data(tmp_path: Path) -> None:
    path = tmp_path / "a.pkl"
    PickleDataset(filepath=str(path)).save([1, 2, 3])
    os.link(path, tmp_path / "b.pkl")
    with pytest.raises(DatasetError, match="cannot pickle this"):
        PickleDataset(filepath=str(path)).save([4, _Unpicklable()])
    assert PickleDataset(filepath=str(tmp_path / "b.pkl")).load() == [1, 2, 3]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.pkl", "b.pkl"]

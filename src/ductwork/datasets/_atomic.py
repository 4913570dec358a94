"""Write a file so that readers, and a crash, only ever see the old file or the complete new one.

The data goes to a temporary file in the target's folder (same filesystem, so the final rename is
atomic), is flushed and fsynced, and then replaces the target with ``os.replace``. On any failure
the temporary file is removed. A process killed mid-write (``SIGKILL``, power loss) leaves the
target untouched and, at worst, a hidden ``.<name>.<random>.tmp`` file beside it.

A save keeps what the user set on the file it replaces:

- **mode and owner**: the temporary file gets the target's permission bits, owner and group
  before any data is written; if the owner cannot be kept (another user's file, saved without
  the right to give it back), the save is refused with a ``PermissionError`` saying so, and the
  file is not touched;
- **symbolic links**: the save writes through the link to the file it points to (the link
  stays a link, as with ``open``); the temporary file goes beside that file, so the rename stays
  on one filesystem;
- **hard links**: a file with more than one link is updated in place, so that every link sees
  the new data. The new data is still written whole to a temporary file first, so a save that
  fails while writing leaves the old file; only a crash during the final copy into the file can
  leave it partial.

Only the local filesystem gets this treatment; object stores (S3, GCS, ...) already publish an
object only when its upload completes, and other fsspec filesystems are written directly.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import stat
import uuid
from collections.abc import Iterator
from typing import IO, Any

from fsspec import AbstractFileSystem
from fsspec.implementations.local import LocalFileSystem

_WRITE_MODES = ("w", "wt", "wb")
# Arguments of the built-in `open` that make sense for a file we create ourselves; fsspec-only
# arguments (block sizes, caching) have no meaning for it.
_OPEN_ARGS = ("encoding", "errors", "newline", "buffering")


def is_local(fs: AbstractFileSystem) -> bool:
    """Return whether ``fs`` is the local filesystem."""
    return isinstance(fs, LocalFileSystem)


def _fsync_directory(directory: str) -> None:
    """Make the rename itself durable; best effort (not possible on every platform)."""
    if os.name != "posix":
        return
    with contextlib.suppress(OSError):
        fd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


@contextlib.contextmanager
def atomic_open(
    fs: AbstractFileSystem, path: str, mode: str = "wb", **open_args: Any
) -> Iterator[IO[Any]]:
    """Open ``path`` for writing such that it appears whole or not at all.

    Args:
        fs: The filesystem of ``path``; atomic for the local one, a plain ``fs.open`` otherwise.
        path: The file to write (its folder is created if needed).
        mode: ``"wb"`` or ``"w"``.
        **open_args: Arguments for opening the file (``encoding``, ``newline``, ...).

    Yields:
        A writable file object. The target is replaced when the ``with`` block ends normally.

    Raises:
        ValueError: ``mode`` is not a write mode.
    """
    if mode not in _WRITE_MODES:
        raise ValueError(f"atomic_open writes whole files: mode must be 'w' or 'wb', not {mode!r}")
    if not is_local(fs):
        with fs.open(path, mode=mode, **open_args) as stream:
            yield stream
        return
    # Through symbolic links, to the file they name: the link itself stays.
    target = os.path.realpath(os.path.abspath(LocalFileSystem._strip_protocol(path)))
    directory = os.path.dirname(target)
    os.makedirs(directory, exist_ok=True)
    existing = _stat(target)
    temporary = os.path.join(directory, f".{os.path.basename(target)}.{uuid.uuid4().hex}.tmp")
    # 0o666 filtered by the umask: the same permissions a plain open() would give.
    fd = os.open(
        temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), 0o666
    )
    try:
        kwargs = {key: value for key, value in open_args.items() if key in _OPEN_ARGS}
        try:
            if existing is not None:
                _take_over(fd, existing, target)
            stream = os.fdopen(fd, mode, **kwargs)
        except BaseException:
            os.close(fd)
            raise
        with stream:
            yield stream
            stream.flush()
            os.fsync(stream.fileno())
        if existing is not None and existing.st_nlink > 1:
            _copy_in_place(temporary, target)
        else:
            os.replace(temporary, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise
    _fsync_directory(directory)


def _stat(target: str) -> os.stat_result | None:
    try:
        result = os.stat(target)
    except FileNotFoundError:
        return None
    return result if stat.S_ISREG(result.st_mode) else None


def _take_over(fd: int, existing: os.stat_result, target: str) -> None:
    """Give the temporary file the target's permission bits, owner and group."""
    if os.name != "posix":
        return
    if (existing.st_uid, existing.st_gid) != (os.geteuid(), os.getegid()):
        try:
            os.fchown(fd, existing.st_uid, existing.st_gid)
        except PermissionError:
            raise PermissionError(
                f"Cannot save {target} atomically and keep its owner (uid {existing.st_uid}, "
                f"gid {existing.st_gid}): replacing it would make it this user's file. Save it "
                "as its owner, or remove it first."
            ) from None
    os.fchmod(fd, stat.S_IMODE(existing.st_mode))


def _copy_in_place(temporary: str, target: str) -> None:
    """Copy the complete new data into the hard-linked target, so every link sees it."""
    with open(temporary, "rb") as source, open(target, "r+b") as destination:
        destination.truncate(0)
        shutil.copyfileobj(source, destination, 1 << 20)
        destination.flush()
        os.fsync(destination.fileno())
    os.unlink(temporary)

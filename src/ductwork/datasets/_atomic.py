"""Write a file so that readers, and a crash, only ever see the old file or the complete new one.

The data goes to a temporary file in the target's folder (same filesystem, so the final rename is
atomic), is flushed and fsynced, and then replaces the target with ``os.replace``. On any failure
the temporary file is removed. A process killed mid-write (``SIGKILL``, power loss) leaves the
target untouched and, at worst, a hidden ``.<name>.<random>.tmp`` file beside it.

Only the local filesystem gets this treatment; object stores (S3, GCS, ...) already publish an
object only when its upload completes, and other fsspec filesystems are written directly.
"""

from __future__ import annotations

import contextlib
import os
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
    target = os.path.abspath(LocalFileSystem._strip_protocol(path))
    directory = os.path.dirname(target)
    os.makedirs(directory, exist_ok=True)
    temporary = os.path.join(directory, f".{os.path.basename(target)}.{uuid.uuid4().hex}.tmp")
    # 0o666 filtered by the umask: the same permissions a plain open() would give.
    fd = os.open(
        temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), 0o666
    )
    try:
        kwargs = {key: value for key, value in open_args.items() if key in _OPEN_ARGS}
        try:
            stream = os.fdopen(fd, mode, **kwargs)
        except BaseException:
            os.close(fd)
            raise
        with stream:
            yield stream
            stream.flush()
            os.fsync(stream.fileno())
        os.replace(temporary, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise
    _fsync_directory(directory)

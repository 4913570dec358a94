"""Data between processes: pickle protocol 5, with the large buffers in shared memory.

:func:`dump` pickles a value with a ``buffer_callback``, so the memory of numpy arrays, pandas
and arrow columns comes out as separate buffers instead of being copied into the stream. Small
values travel inline, in the message. Otherwise the buffers (and a large stream) are written,
each straight from the object's own memory, into one new POSIX shared-memory segment, and the
value travels as a :class:`Blob`: the segment's name and where each buffer sits in it.

:func:`load` maps the segment copy-on-write (``MAP_PRIVATE``) and unpickles with buffers that
point into the mapping: no copy, yet the consumer gets writable objects of its own, as from a
``MemoryDataset``. The mapping lives as long as an object points into it (closing it under a
numpy array would raise ``BufferError``). The last reader of a segment unlinks it right after
mapping it, so its memory returns as soon as the reader's objects are gone.

Segment names are created with ``O_EXCL`` under a per-run prefix and registered once with
``multiprocessing``'s resource tracker, shared by all the run's processes; whoever unlinks a
segment unregisters it, and if the parent is killed the tracker unlinks what is left.
:func:`sweep` removes leftovers by prefix (Linux's ``/dev/shm``) after a worker was killed
mid-write. Without POSIX shared memory (Windows), everything travels inline.
"""

from __future__ import annotations

import errno
import logging
import mmap
import os
import pickle
import secrets
from collections.abc import Callable, Collection, Iterator, Sequence
from multiprocessing import resource_tracker
from typing import Any, NamedTuple

import cloudpickle

try:
    import _posixshmem  # type: ignore[import-not-found,unused-ignore]  # CPython's, untyped
except ImportError:  # pragma: no cover - Windows
    _posixshmem = None

__all__ = ["SHARED_MEMORY", "Blob", "dump", "dumps", "load", "run_prefix", "sweep", "unlink"]

_logger = logging.getLogger(__name__)

SHARED_MEMORY = _posixshmem is not None
"""Whether this platform has POSIX shared memory (else every value travels inline)."""

INLINE_LIMIT = 64 * 1024
"""Values whose pickle (stream and buffers) is smaller than this travel inline."""

_ALIGN = 64  # buffer offsets in a segment: cache-line (and any dtype) aligned
_DEV_SHM = "/dev/shm"
_TRACKER_TYPE = "shared_memory"


class Blob(NamedTuple):
    """A pickled value in transit: the ``stream`` (``None`` when it is the segment's first span)
    and inline ``buffers``, or the ``segment`` holding the rest, with the ``(offset, length)``
    ``spans`` of each part and the segment's ``size``."""

    stream: bytes | None
    buffers: tuple[bytes, ...] = ()
    segment: str | None = None
    spans: tuple[tuple[int, int], ...] = ()
    size: int = 0


def dumps(value: Any, buffers: list[pickle.PickleBuffer] | None = None) -> bytes:
    """Pickle ``value`` with protocol 5: the standard pickler, else cloudpickle (lambdas,
    closures, ``__main__`` classes; slower per object). Large buffers go to ``buffers`` if given.
    """
    callback = None if buffers is None else buffers.append
    try:
        return pickle.dumps(value, protocol=5, buffer_callback=callback)
    except Exception:
        if buffers is not None:
            buffers.clear()
        stream: bytes = cloudpickle.dumps(value, protocol=5, buffer_callback=callback)
        return stream


def dump(value: Any, new_name: Callable[[], str]) -> Blob:
    """Pickle ``value`` for another process; large parts go to a new segment named ``new_name()``.

    Raises:
        Exception: Whatever pickling ``value`` raised (it cannot travel).
    """
    pickle_buffers: list[pickle.PickleBuffer] = []
    stream = dumps(value, pickle_buffers)
    raws = [buffer.raw() for buffer in pickle_buffers]
    total = len(stream) + sum(raw.nbytes for raw in raws)
    if not SHARED_MEMORY or total < INLINE_LIMIT:
        return Blob(stream, tuple(raw.tobytes() for raw in raws))
    inline_stream = len(stream) < INLINE_LIMIT
    parts: list[Any] = raws if inline_stream else [stream, *raws]
    spans, size = _layout([len(part) if isinstance(part, bytes) else part.nbytes for part in parts])
    name = new_name()
    try:
        _write_segment(name, size, zip(parts, spans, strict=True))
    except OSError as error:
        if error.errno not in (errno.ENOSPC, errno.ENOMEM):
            raise
        _logger.warning(
            "Shared memory is full (%s): %d bytes travel through a pipe instead, which is slower "
            "and copies them. Enlarge /dev/shm (e.g. docker run --shm-size).",
            error.strerror,
            size,
        )
        return Blob(stream, tuple(raw.tobytes() for raw in raws))
    return Blob(stream if inline_stream else None, (), name, tuple(spans), size)


def load(blob: Blob, take: bool = False) -> Any:
    """Unpickle ``blob``, its buffers pointing into a private mapping of its segment (no copy);
    ``take``: this is the segment's last reader, which unlinks it once mapped."""
    if blob.segment is None:
        # Inline buffers come as bytes; a bytearray copy makes the objects writable.
        return pickle.loads(blob.stream or b"", buffers=[bytearray(b) for b in blob.buffers])
    view = _map(blob.segment, blob.size)
    if take:
        unlink(blob.segment)
    parts = [view[offset : offset + length] for offset, length in blob.spans]
    stream = blob.stream if blob.stream is not None else parts.pop(0)
    return pickle.loads(stream, buffers=parts)


def unlink(name: str) -> bool:
    """Unlink segment ``name`` (and unregister it); return False if it was already gone."""
    if _posixshmem is None:  # pragma: no cover - Windows
        return False
    try:
        _posixshmem.shm_unlink("/" + name)
    except FileNotFoundError:
        return False
    resource_tracker.unregister("/" + name, _TRACKER_TYPE)
    return True


def run_prefix() -> str:
    """A new prefix for a run's segment names: short (macOS allows 30 characters), and unique to
    this process and run."""
    return f"dw{os.getpid()}_{secrets.token_hex(3)}_"


def sweep(prefix: str, keep: Collection[str] = ()) -> list[str]:
    """Unlink every segment named ``prefix...`` but ``keep`` (where ``/dev/shm`` lists them;
    elsewhere the resource tracker removes them when the parent exits); return the names."""
    try:
        names = [n for n in os.listdir(_DEV_SHM) if n.startswith(prefix) and n not in keep]
    except OSError:
        return []
    for name in names:
        # A worker killed between creating and registering a segment left it unregistered;
        # registering again is harmless (the tracker keeps a set), so the books balance.
        resource_tracker.register("/" + name, _TRACKER_TYPE)
        unlink(name)
    return names


def _layout(sizes: Sequence[int]) -> tuple[list[tuple[int, int]], int]:
    spans, offset = [], 0
    for size in sizes:
        spans.append((offset, size))
        offset += -(-size // _ALIGN) * _ALIGN
    return spans, max(offset, 1)


def _write_segment(name: str, size: int, parts: Iterator[tuple[Any, tuple[int, int]]]) -> None:
    assert _posixshmem is not None
    fd = _posixshmem.shm_open("/" + name, os.O_CREAT | os.O_EXCL | os.O_RDWR, mode=0o600)
    resource_tracker.register("/" + name, _TRACKER_TYPE)
    try:
        os.ftruncate(fd, size)
        for part, (offset, _length) in parts:
            _write_all(fd, memoryview(part), offset)
    except BaseException:
        unlink(name)
        raise
    finally:
        os.close(fd)


def _write_all(fd: int, data: memoryview, offset: int) -> None:
    while data.nbytes:
        written = os.pwrite(fd, data, offset)
        data = data[written:]
        offset += written


def _map(name: str, size: int) -> memoryview:
    assert _posixshmem is not None
    fd = _posixshmem.shm_open("/" + name, os.O_RDONLY, mode=0o600)
    try:
        # ACCESS_COPY is MAP_PRIVATE: reads share the segment's pages, writes copy a page.
        return memoryview(mmap.mmap(fd, size, access=mmap.ACCESS_COPY))
    finally:
        os.close(fd)

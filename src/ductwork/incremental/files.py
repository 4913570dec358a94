"""Content identities of persisted datasets: a cheap stamp first, a content hash when it changed.

A local file's stamp is its size, mtime, ctime, inode and device (in nanoseconds). ctime changes
on every write and cannot be set back, so restoring an mtime after an edit does not fool it. When
the stamp equals the one saved with the last hash, the saved hash stands and the file is not
read; otherwise the file is hashed (xxh3-128, streamed) and the new stamp saved. A folder
(partitioned data, a parquet directory) is stamped and hashed file by file.

Two guards keep a stamp from lying:

- *racy stamps* (the idea is git's): a stamp taken within a clock tick or so of the file's last
  change (``FINE_RACY_SECONDS`` where the filesystem keeps sub-second times, ``RACY_SECONDS``
  where it keeps whole seconds) may miss a later write in the same tick, so it is saved as racy
  and never trusted: the next check hashes the file again.
- a remote file is identified by what its filesystem gives (ETag, version id, generation, checksum)
  when it gives one, else by its content.

A dataset with no file behind it cannot be identified this way; :func:`dataset_location` returns
None and the caller treats the value as unhashable (the node runs).
"""

from __future__ import annotations

import json
import os
import stat
import time
from typing import Any

import xxhash

from ductwork.incremental.store import Stamp, Store
from ductwork.io._protocols import file_location

__all__ = ["RACY_SECONDS", "FileIdentities", "dataset_location"]

RACY_SECONDS = 2.5  # whole-second filesystems
FINE_RACY_SECONDS = 0.1  # filesystems with sub-second times (many clock ticks)
_CHUNK = 8 << 20
_REMOTE_IDS = ("ETag", "etag", "VersionId", "version_id", "generation", "md5Hash", "crc32c")


def dataset_location(dataset: Any) -> tuple[Any, str, str] | None:
    """``(filesystem, path, protocol)`` of a file-based dataset's current load path, or None
    (a local file: ``(None, absolute path, "file")``)."""
    return file_location(dataset)


class FileIdentities:
    """Identifies files for one run, reading the store's stamps and saving the new ones."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.bytes_hashed = 0
        self.files_hashed = 0
        self._new: dict[str, Stamp] = {}
        self._saved: dict[str, Stamp] | None = None
        self._buffer: bytearray | None = None

    def identity(self, location: tuple[Any, str, str]) -> str | None:
        """The content identity of the file or folder at ``location``; None if it is missing."""
        fs, path, protocol = location
        if fs is None:
            return self._local(path)
        return self._remote(fs, path, protocol)

    def flush(self) -> None:
        """Save the stamps taken since the last flush."""
        self.store.save_stamps(self._new)
        if self._saved is not None:
            self._saved.update(self._new)
        self._new = {}

    def _known(self, key: str) -> Stamp | None:
        """The stamp last saved for ``key`` (the store's stamps are read once, in one query)."""
        if self._saved is None:
            self._saved = self.store.stamps()
        return self._new.get(key) or self._saved.get(key)

    def _local(self, path: str) -> str | None:
        try:
            info = os.stat(path)
        except FileNotFoundError:
            return None
        if stat.S_ISDIR(info.st_mode):
            return self._folder(path)
        stamp, racy = _stamp(info)
        known = self._known(path)
        if known is not None and known.stamp == stamp:
            return known.digest
        digest = self._hash_file(path, info.st_size)
        self._new[path] = Stamp("racy" if racy else stamp, digest, time.time())
        return digest

    def _folder(self, path: str) -> str:
        hasher = xxhash.xxh3_128(b"folder")
        for folder, subfolders, files in os.walk(path):
            subfolders.sort()
            for name in sorted(files):
                full = os.path.join(folder, name)
                digest = self._local(full) or "missing"
                hasher.update(f"{os.path.relpath(full, path)}\x00{digest}\x00".encode())
        return hasher.hexdigest()

    def _hash_file(self, path: str, size_hint: int) -> str:
        hasher = xxhash.xxh3_128()
        self.files_hashed += 1
        with open(path, "rb") as stream:
            if size_hint < _CHUNK:  # most files: one read, no chunk buffer to fill
                data = stream.read(_CHUNK)
                hasher.update(data)
                self.bytes_hashed += len(data)
                if len(data) < _CHUNK:  # the whole file (one that grew is read on below)
                    return hasher.hexdigest()
            if self._buffer is None:
                self._buffer = bytearray(_CHUNK)  # one per run, reused for every large file
            view = memoryview(self._buffer)
            while size := stream.readinto(self._buffer):
                hasher.update(view[:size])
                self.bytes_hashed += size
        return hasher.hexdigest()

    def _remote(self, fs: Any, path: str, protocol: str) -> str | None:
        try:
            info = fs.info(path)
        except FileNotFoundError:
            return None
        ids = {key: str(info[key]) for key in _REMOTE_IDS if info.get(key)}
        if ids:
            return xxhash.xxh3_128_hexdigest(json.dumps(ids, sort_keys=True).encode())
        if info.get("type") == "directory":
            names = sorted(fs.find(path))
            hasher = xxhash.xxh3_128(b"folder")
            for name in names:
                hasher.update(f"{name}\x00{self._remote(fs, name, protocol)}\x00".encode())
            return hasher.hexdigest()
        key = f"{protocol}://{path}"
        stamp = json.dumps(
            {k: str(v) for k, v in info.items() if k in ("size", "mtime", "LastModified")},
            sort_keys=True,
        )
        known = self._known(key)
        trusted = "size" in info and ("mtime" in info or "LastModified" in info)
        if known is not None and known.stamp == stamp and trusted:
            return known.digest
        hasher = xxhash.xxh3_128()
        with fs.open(path, "rb") as stream:
            while chunk := stream.read(_CHUNK):
                hasher.update(chunk)
                self.bytes_hashed += len(chunk)
        self.files_hashed += 1
        digest = hasher.hexdigest()
        self._new[key] = Stamp(stamp, digest, time.time())
        return digest


def _stamp(info: os.stat_result) -> tuple[str, bool]:
    """The stamp text of a file, and whether it is racy (taken too soon after a change).

    A filesystem that keeps sub-second times (ext4, xfs, btrfs, tmpfs, APFS) advances them with
    the kernel's coarse clock, a few milliseconds a tick; one that keeps whole seconds (FAT,
    ext3, some network filesystems) may show two writes a second apart with one time.
    """
    changed_ns = max(info.st_mtime_ns, info.st_ctime_ns)
    fine = changed_ns % 1_000_000_000 != 0
    window = min(RACY_SECONDS, FINE_RACY_SECONDS) if fine else RACY_SECONDS
    racy = time.time() - changed_ns / 1e9 < window
    text = f"{info.st_size}:{info.st_mtime_ns}:{info.st_ctime_ns}:{info.st_ino}:{info.st_dev}"
    return text, racy

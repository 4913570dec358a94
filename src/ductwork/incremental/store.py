"""The incremental-run store: one SQLite database in WAL mode (``.ductwork/cache.sqlite``).

It holds, per node name, the key of the node's last successful run, what that key was made of
(so that a miss can say what changed), and the identity of each output it produced; and, per
file, the last stamp seen and the content hash that went with it (so that an unchanged file is
never read again).

Safety: every write is one transaction, and a node is recorded only after its outputs are saved,
so a run killed at any point leaves records that each describe a finished node (a node killed
mid-run keeps its previous record, whose output check then fails, or no record: it runs again).
WAL mode lets concurrent readers (``--dry-run``, ``cache show``) read while a run writes;
writers wait for each other up to ``timeout`` seconds, and incremental runs sharing a store take
turns (:meth:`Store.run_lock`). A stale record is harmless: a skip also needs every persisted
output to still hold the content that was recorded.
"""

from __future__ import annotations

import json
import os
import sqlite3
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, NamedTuple

from ductwork.exceptions import DuctworkError

__all__ = ["DEFAULT_STORE", "NodeRecord", "Stamp", "Store", "StoreError"]

DEFAULT_STORE = Path(".ductwork") / "cache.sqlite"
_SCHEMA_VERSION = 1
_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS nodes (
    node TEXT PRIMARY KEY,
    key TEXT NOT NULL,
    manifest TEXT NOT NULL,
    outputs TEXT NOT NULL,
    run_id TEXT,
    recorded REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS stamps (
    path TEXT PRIMARY KEY,
    stamp TEXT NOT NULL,
    digest TEXT NOT NULL,
    checked REAL NOT NULL
);
"""


class StoreError(DuctworkError):
    """The incremental-run store cannot be opened or is not one."""


class NodeRecord(NamedTuple):
    """A node's last successful run: its key, what the key was made of, its outputs' identities.

    (Named tuples, not dataclasses, here: a dataclass costs about a millisecond to make at
    import, and every incremental run imports this module.)"""

    node: str
    key: str
    manifest_text: str
    outputs: dict[str, str]
    run_id: str | None
    recorded: float

    @classmethod
    def of(
        cls,
        node: str,
        key: str,
        manifest: dict[str, list[str]],
        outputs: dict[str, str],
        run_id: str | None,
        recorded: float,
    ) -> NodeRecord:
        """A record made from a manifest (``{entry id: [label, digest, shown]}``)."""
        return cls(node, key, json.dumps(manifest), outputs, run_id, recorded)

    @property
    def manifest(self) -> dict[str, list[str]]:
        """What the key was made of. Parsed only when asked: a run reads it only for the
        nodes whose key changed (to say what changed)."""
        parsed: dict[str, list[str]] = json.loads(self.manifest_text)
        return parsed


class Stamp(NamedTuple):
    """A file's stamp when last hashed, and its content hash then."""

    stamp: str
    digest: str
    checked: float


class Store:
    """The SQLite store at ``path`` (created with its folder when missing)."""

    def __init__(self, path: str | Path = DEFAULT_STORE, *, timeout: float = 60.0) -> None:
        """Open (or create) the store.

        Raises:
            StoreError: The file exists but is not a store of this ductwork.
        """
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        try:
            self._db = sqlite3.connect(
                self.path, timeout=timeout, isolation_level=None, check_same_thread=False
            )
            if not self._current():
                # A new store: created without waiting for the disk (a crash now leaves a file
                # that is reported as not a store, never a wrong record).
                self._db.execute("PRAGMA synchronous=OFF")
                self._db.execute("PRAGMA journal_mode=WAL")
                with self._transaction():
                    self._create()
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")
        except sqlite3.DatabaseError as error:
            raise StoreError(
                f"{self.path} is not a ductwork cache ({error}); remove it or give another path."
            ) from error

    def _current(self) -> bool:
        """Whether the store already has this ductwork's schema (then opening it writes nothing)."""
        try:
            row = self._db.execute("SELECT value FROM meta WHERE name = 'schema'").fetchone()
        except sqlite3.OperationalError:  # no such table: a new store
            return False
        return row is not None and int(row[0]) == _SCHEMA_VERSION

    def _create(self) -> None:
        for statement in _SCHEMA.split(";"):
            if statement.strip():
                self._db.execute(statement)
        row = self._db.execute("SELECT value FROM meta WHERE name = 'schema'").fetchone()
        if row is None:
            self._db.execute("INSERT INTO meta VALUES ('schema', ?)", (str(_SCHEMA_VERSION),))
        elif int(row[0]) > _SCHEMA_VERSION:
            raise StoreError(
                f"{self.path} was written by a newer ductwork (cache schema {row[0]}); upgrade "
                "ductwork or give another --cache path."
            )

    @contextmanager
    def _transaction(self) -> Iterator[None]:
        self._db.execute("BEGIN IMMEDIATE")
        try:
            yield
        except BaseException:
            self._db.execute("ROLLBACK")
            raise
        self._db.execute("COMMIT")

    def close(self) -> None:
        """Close the database."""
        self._db.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextmanager
    def run_lock(self) -> Iterator[None]:
        """Hold the store's run lock (``<store>.lock``) for one incremental run.

        Two runs of one project at once could otherwise interleave: one saves an output, the
        other overwrites it, and the first records the second's content under its own key (a
        false hit later). Runs sharing a store therefore take turns; a run killed outright
        releases the lock with its process.
        """
        lock_path = f"{self.path}.lock"
        with open(lock_path, "a+b") as handle:
            try:
                import fcntl  # noqa: PLC0415 - POSIX only
            except ImportError:  # Windows: runs sharing a store are not serialised
                yield
                return
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle.fileno(), fcntl.LOCK_UN)

    # ---- nodes ----------------------------------------------------------------------------

    def records(self, names: Iterable[str] | None = None) -> dict[str, NodeRecord]:
        """The records of ``names`` (every record when None), by node name."""
        rows = self._db.execute("SELECT * FROM nodes").fetchall()
        wanted = None if names is None else set(names)
        return {
            row[0]: NodeRecord(row[0], row[1], row[2], json.loads(row[3]), row[4], row[5])
            for row in rows
            if wanted is None or row[0] in wanted
        }

    def record(self, records: Iterable[NodeRecord]) -> None:
        """Save node records (replacing those of the same nodes), in one transaction."""
        rows = [
            (r.node, r.key, r.manifest_text, json.dumps(r.outputs), r.run_id, r.recorded)
            for r in records
        ]
        if rows:
            with self._transaction():
                self._db.executemany("INSERT OR REPLACE INTO nodes VALUES (?, ?, ?, ?, ?, ?)", rows)

    def forget(self, names: Iterable[str]) -> None:
        """Drop the records of these nodes (they will run next time)."""
        with self._transaction():
            self._db.executemany("DELETE FROM nodes WHERE node = ?", [(n,) for n in names])

    # ---- stamps ---------------------------------------------------------------------------

    def stamps(self, paths: Iterable[str] | None = None) -> dict[str, Stamp]:
        """The saved stamps of these paths (those known; every stamp when None), in one query."""
        rows = self._db.execute("SELECT path, stamp, digest, checked FROM stamps").fetchall()
        wanted = None if paths is None else set(paths)
        return {
            row[0]: Stamp(row[1], row[2], row[3])
            for row in rows
            if wanted is None or row[0] in wanted
        }

    def save_stamps(self, stamps: dict[str, Stamp]) -> None:
        """Save file stamps, in one transaction."""
        if stamps:
            with self._transaction():
                self._db.executemany(
                    "INSERT OR REPLACE INTO stamps VALUES (?, ?, ?, ?)",
                    [(p, s.stamp, s.digest, s.checked) for p, s in stamps.items()],
                )

    # ---- maintenance ----------------------------------------------------------------------

    def summary(self) -> dict[str, Any]:
        """What the store holds: counts, size on disk, oldest and newest records."""
        nodes, oldest, newest = self._db.execute(
            "SELECT COUNT(*), MIN(recorded), MAX(recorded) FROM nodes"
        ).fetchone()
        (files,) = self._db.execute("SELECT COUNT(*) FROM stamps").fetchone()
        size = sum(
            os.path.getsize(f"{self.path}{suffix}")
            for suffix in ("", "-wal", "-shm")
            if os.path.exists(f"{self.path}{suffix}")
        )
        return {"nodes": nodes, "files": files, "bytes": size, "oldest": oldest, "newest": newest}

    def clear(self) -> int:
        """Forget everything; return how many node records there were."""
        with self._transaction():
            (count,) = self._db.execute("SELECT COUNT(*) FROM nodes").fetchone()
            self._db.execute("DELETE FROM nodes")
            self._db.execute("DELETE FROM stamps")
        self._db.execute("VACUUM")
        return int(count)

    def prune(self, older_than: float, keep: Iterable[str] | None = None) -> tuple[int, int]:
        """Drop node records older than ``older_than`` seconds (except ``keep``), and the stamps
        of local files that no longer exist; return (records, stamps) dropped."""
        limit = time.time() - older_than
        kept = set(keep or ())
        old = [
            name
            for name, recorded in self._db.execute("SELECT node, recorded FROM nodes")
            if recorded < limit and name not in kept
        ]
        gone = [
            path
            for (path,) in self._db.execute("SELECT path FROM stamps")
            if path.startswith("/") and not os.path.exists(path)
        ]
        with self._transaction():
            self._db.executemany("DELETE FROM nodes WHERE node = ?", [(n,) for n in old])
            self._db.executemany("DELETE FROM stamps WHERE path = ?", [(p,) for p in gone])
        return len(old), len(gone)

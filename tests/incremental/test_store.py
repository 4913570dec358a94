"""The store: WAL mode, records survive reopening, concurrent writers, a crash mid-write."""

from __future__ import annotations

import multiprocessing
import sqlite3
from pathlib import Path
from typing import Any

import pytest

from ductwork.incremental.store import NodeRecord, Stamp, Store, StoreError


def record(name: str, key: str = "k") -> NodeRecord:
    return NodeRecord.of(name, key, {"a": ["label", "digest", ""]}, {"out": "f:1"}, "run-1", 1.0)


def test_records_survive_reopening(tmp_path: Path) -> None:
    path = tmp_path / "deep" / "cache.sqlite"
    with Store(path) as store:
        store.record([record("a"), record("b", "k2")])
        store.save_stamps({"/x": Stamp("1:2", "d", 3.0)})
    with Store(path) as store:
        assert store.records()["b"].key == "k2"
        assert store.records(["a"])["a"].outputs == {"out": "f:1"}
        assert store.stamps(["/x", "/y"]) == {"/x": Stamp("1:2", "d", 3.0)}
    mode = sqlite3.connect(path).execute("PRAGMA journal_mode").fetchone()[0]
    assert mode == "wal"


def test_clear_and_prune(tmp_path: Path) -> None:
    with Store(tmp_path / "c.sqlite") as store:
        store.record([record("old"), record("kept")])
        existing = tmp_path / "file"
        existing.write_text("x")
        store.save_stamps(
            {str(existing): Stamp("s", "d", 1.0), str(tmp_path / "gone"): Stamp("s", "d", 1.0)}
        )
        assert store.prune(older_than=60, keep=["kept"]) == (1, 1)
        assert set(store.records()) == {"kept"}
        assert store.summary()["files"] == 1
        assert store.clear() == 1
        assert store.summary()["nodes"] == 0


def test_not_a_store_is_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "c.sqlite"
    path.write_bytes(b"this is not a database, it is a text file " * 100)
    with pytest.raises(StoreError, match="not a ductwork cache"):
        Store(path)


def _write_many(path: str, prefix: str) -> None:
    with Store(path) as store:
        for number in range(50):
            store.record([record(f"{prefix}{number}")])


def test_concurrent_writers_lose_nothing(tmp_path: Path) -> None:
    path = str(tmp_path / "c.sqlite")
    Store(path).close()
    context = multiprocessing.get_context("spawn")
    workers = [context.Process(target=_write_many, args=(path, p)) for p in "abc"]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=60)
        assert worker.exitcode == 0
    with Store(path) as store:
        assert len(store.records()) == 150


def _killed_mid_write(path: str) -> None:
    import os

    store = Store(path)
    store._db.execute("BEGIN IMMEDIATE")
    store._db.execute("INSERT OR REPLACE INTO nodes VALUES ('half', 'k', '{}', '{}', 'r', 1.0)")
    os._exit(9)  # killed before the transaction commits


def test_a_run_killed_mid_write_leaves_the_store_consistent(tmp_path: Path) -> None:
    path = str(tmp_path / "c.sqlite")
    with Store(path) as store:
        store.record([record("whole")])
    context = multiprocessing.get_context("spawn")
    worker = context.Process(target=_killed_mid_write, args=(path,))
    worker.start()
    worker.join(timeout=60)
    assert worker.exitcode == 9
    with Store(path) as store:
        assert set(store.records()) == {"whole"}
        assert sqlite3.connect(path).execute("PRAGMA integrity_check").fetchone()[0] == "ok"


def _hold_lock(path: str, held: Any, release: Any) -> None:
    with Store(path) as store, store.run_lock():
        held.set()
        release.wait(30)


def test_runs_sharing_a_store_take_turns(tmp_path: Path) -> None:
    path = str(tmp_path / "c.sqlite")
    Store(path).close()
    context = multiprocessing.get_context("spawn")
    held, release = context.Event(), context.Event()
    worker = context.Process(target=_hold_lock, args=(path, held, release))
    worker.start()
    try:
        assert held.wait(60)
        import fcntl

        with open(f"{path}.lock", "a+b") as handle:
            with pytest.raises(BlockingIOError):
                fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
            release.set()
            worker.join(timeout=60)
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)  # free now
    finally:
        release.set()
        worker.join(timeout=60)

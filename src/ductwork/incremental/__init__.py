"""Incremental runs: skip every node whose code, parameters and inputs have not changed.

``run_incremental(runner, pipeline, catalog)`` runs only what must run, on any runner;
``ductwork run --incremental`` does the same from the command line. A node is skipped when its
key (a Merkle hash of its code, the code it reaches, the packages it uses, its parameters and
its inputs' contents) equals the key of its last successful run and its persisted outputs still
hold what that run wrote. Anything that cannot be hashed soundly makes the node run: a false
miss costs time, a false hit would be silent data corruption.

This package is imported only when an incremental run is asked for (``import ductwork`` does not
import it, nor xxhash or sqlite3).
"""

from __future__ import annotations

from ductwork.incremental.code import Fingerprinter, not_cacheable
from ductwork.incremental.plan import NOT_CACHEABLE_TAG, Decision, Planner
from ductwork.incremental.session import IncrementalResult, into_journal, run_incremental
from ductwork.incremental.store import DEFAULT_STORE, NodeRecord, Store, StoreError
from ductwork.incremental.values import Unhashable, hash_value

__all__ = [
    "DEFAULT_STORE",
    "NOT_CACHEABLE_TAG",
    "Decision",
    "Fingerprinter",
    "IncrementalResult",
    "NodeRecord",
    "Planner",
    "Store",
    "StoreError",
    "Unhashable",
    "hash_value",
    "into_journal",
    "not_cacheable",
    "run_incremental",
]

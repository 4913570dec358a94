"""How one node's run ended: the record every executor hands back to the run loop."""

from __future__ import annotations

import time
from collections.abc import Iterator, Mapping
from typing import Any, NamedTuple

from ductwork.pipeline import Node

__all__ = ["NO_DIGESTS", "NO_METRICS", "NodeOutcome"]


class _Empty(Mapping[str, Any]):
    """An empty, read-only, picklable mapping: the metrics of an outcome that measured nothing,
    the digests of one whose outputs were not hashed."""

    def __getitem__(self, key: str) -> Any:
        raise KeyError(key)

    def __iter__(self) -> Iterator[str]:
        return iter(())

    def __len__(self) -> int:
        return 0

    def __repr__(self) -> str:
        return "{}"


NO_METRICS: Mapping[str, float] = _Empty()
"""The ``metrics`` of an outcome that measured nothing (shared, read-only)."""
NO_DIGESTS: Mapping[str, str] = _Empty()
"""The ``digests`` of an outcome whose outputs were not hashed (shared, read-only)."""


class NodeOutcome(NamedTuple):
    """How one node's run ended, and when and where it ran (times in seconds since the epoch).

    It is built where the node ran (:meth:`ductwork.execution.NodeShell.run`); from a worker
    process or a Dask worker, its fields travel back without the node, and the parent builds the
    outcome again with its own node.

    Attributes:
        node: The node.
        error: Its exception (after the last attempt), or ``None`` if it succeeded.
        started: When its first attempt started.
        finished: When it ended.
        worker: Where it ran: ``"main"``, a thread's name, ``"pid 123"``, a Dask worker address.
        skipped: The node did not run because its outputs were already up to date (the run
            loop's gate said so); ``error`` is then ``None``.
        metrics: Measurements of the run (e.g. ``"rss_peak"``, ``"cpu_seconds"``), by name;
            filled by the shell where the node ran.
        digests: Content hashes of outputs, by name, taken by the shell where the node ran and
            while the data was still there (when the run asks: ``NodeShell.digest``;
            incremental runs, so that early cut-off sees data held by workers).
    """

    node: Node
    error: BaseException | None
    started: float
    finished: float
    worker: str
    skipped: bool = False
    metrics: Mapping[str, float] = NO_METRICS
    digests: Mapping[str, str] = NO_DIGESTS

    @classmethod
    def ended(cls, node: Node, error: BaseException, started: float, worker: str) -> NodeOutcome:
        """The outcome of a node its executor ended now (dead worker, time limit, lost task)."""
        return cls(node, error, started, time.time(), worker)

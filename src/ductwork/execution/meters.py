"""Per-node measurements taken where the node runs: CPU time and the process's peak memory.

:func:`resource_meter` is a :data:`~ductwork.execution.shell.Meter`: the node shell wraps all
of a node's attempts in it, and the dict it fills becomes the outcome's ``metrics``, which
travels back from worker processes and Dask workers with the outcome.

- ``cpu_seconds``: CPU time of the thread that ran the node (``time.thread_time``), so nodes
  running at once on threads of one process are told apart. A node whose function runs on a
  helper thread (a time limit enforced that way) is not counted there.
- ``rss_peak``: the peak resident memory of the process, in bytes, when the node ended
  (``getrusage``). In a worker process that runs one node at a time, a peak that grew during the
  node is that node's; with threads it is shared by every node of the process. Not measured
  where ``resource`` is missing (Windows).

A run measures nothing unless asked (the command line's journal asks): these two calls cost
about two microseconds a node, a fifth of the sequential runner's whole cost per node.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager

from ductwork.pipeline import Node

try:
    import resource
except ImportError:  # pragma: no cover - Windows
    resource = None  # type: ignore[assignment]

__all__ = ["resource_meter"]

# ru_maxrss is in kilobytes on Linux, bytes on macOS.
_RSS_UNIT = 1 if sys.platform == "darwin" else 1024


@contextmanager
def resource_meter(node: Node | None = None) -> Iterator[dict[str, float]]:
    """Measure the wrapped run of ``node``: ``cpu_seconds`` and ``rss_peak`` (see the module)."""
    metrics: dict[str, float] = {}
    cpu = time.thread_time()
    try:
        yield metrics
    finally:
        metrics["cpu_seconds"] = time.thread_time() - cpu
        if resource is not None:
            metrics["rss_peak"] = float(
                resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * _RSS_UNIT
            )

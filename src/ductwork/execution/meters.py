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

from ductwork.pipeline import Node

try:
    import resource
except ImportError:  # pragma: no cover - Windows
    resource = None  # type: ignore[assignment]

__all__ = ["ResourceMeter", "resource_meter"]

# ru_maxrss is in kilobytes on Linux, bytes on macOS.
_RSS_UNIT = 1 if sys.platform == "darwin" else 1024


class ResourceMeter:
    """Measure the wrapped run of a node: ``cpu_seconds`` and ``rss_peak`` (see the module).

    A class rather than a generator-based context manager: it is entered once per node, and
    this way costs one small object and two calls.
    """

    __slots__ = ("_cpu", "metrics")

    def __init__(self, node: Node | None = None) -> None:
        self.metrics: dict[str, float] = {}
        self._cpu = 0.0

    def __enter__(self) -> dict[str, float]:
        self._cpu = time.thread_time()
        return self.metrics

    def __exit__(self, *_exc: object) -> None:
        metrics = self.metrics
        metrics["cpu_seconds"] = time.thread_time() - self._cpu
        if resource is not None:
            metrics["rss_peak"] = float(
                resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * _RSS_UNIT
            )


resource_meter = ResourceMeter
"""The meter of CPU time and peak memory: ``resource_meter(node)`` is a context manager."""

"""Where nodes run: the protocol of the executors the run loop drives.

An executor takes nodes (:meth:`NodeExecutor.submit`) and reports them finished
(:meth:`NodeExecutor.next_outcomes`); the run loop never learns how. ``capacity`` is how many
nodes may be in flight at once: the loop hands out no more, so work never queues inside an
executor, ready nodes start in the scheduler's order, and stopping only has to deal with the
nodes that are actually running. Every executor runs each node through the run's
:class:`~ductwork.execution.NodeShell`, in this process or in a worker.

Each runner module holds its executor (the process and Dask ones in their own packages).
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass
from types import TracebackType
from typing import Protocol

from ductwork.execution import NodeOutcome, NodeShell
from ductwork.io import CatalogProtocol
from ductwork.pipeline import Node, Pipeline

__all__ = ["InProcessExecutor", "NodeExecutor", "NodeOutcome", "RunContext"]


@dataclass(frozen=True)
class RunContext:
    """What one run gives its executor: the pipeline, the caller's catalog, the node shell."""

    pipeline: Pipeline
    catalog: CatalogProtocol
    shell: NodeShell
    ahead: bool = True
    """Whether the executor may start nodes before the loop hands them out: not when the loop
    holds ready nodes back (``max_running``), nor when it asks a gate about each (it may skip
    it)."""


class NodeExecutor(Protocol):
    """What the run loop needs of an executor.

    Used as a context manager: entering starts the workers, leaving stops them. Leaving because
    of an exception (a failure, ``KeyboardInterrupt``) must not wait for work that has not
    started, and must stop workers that can be stopped.
    """

    @property
    def capacity(self) -> int:
        """How many nodes may be in flight at once."""
        ...

    def submit(self, node: Node) -> None:
        """Start running ``node`` (or queue it to start at the next :meth:`next_outcomes`)."""
        ...

    def next_outcomes(self) -> list[NodeOutcome]:
        """Block until at least one submitted node has finished; return all that have.

        A node that exceeds its time limit is reported finished with a ``NodeTimeoutError``.
        """
        ...

    def release(self, names: Iterable[str]) -> None:
        """Free the data of datasets no remaining node will load."""
        ...

    def collect(self, names: Collection[str]) -> None:
        """After the run: put the data of the free outputs ``names`` in the caller's catalog, if
        this executor kept it elsewhere (in worker memory, on a cluster). Names it holds no
        data for (never produced, or saved by the workers themselves) are skipped."""
        ...

    def __enter__(self) -> NodeExecutor: ...

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None: ...


class InProcessExecutor:
    """What the executors whose nodes run in this process (inline, threads) share: the nodes
    load from and save into the caller's catalog, through ``shell``."""

    def __init__(self, context: RunContext, shell: NodeShell) -> None:
        self._catalog = context.catalog
        self._shell = shell

    def release(self, names: Iterable[str]) -> None:
        """Release each dataset in the catalog."""
        release = self._catalog.release
        for name in names:
            release(name)

    def collect(self, names: Collection[str]) -> None:
        """Nothing to do: the nodes saved into the caller's catalog."""

"""What a runner hands its executor for one run: the run's facts and its failure policies."""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import Executor
from dataclasses import dataclass

from ductwork.execution import run_node
from ductwork.execution.attempts import run_with_retries
from ductwork.hooks.manager import HookCaller
from ductwork.io import CatalogProtocol
from ductwork.pipeline import Node, Pipeline, Retry
from ductwork.pipeline.policies import check_timeout

__all__ = ["RunContext", "RunOptions"]


@dataclass(frozen=True)
class RunOptions:
    """How a runner treats failing, slow and numerous nodes.

    Attributes:
        retry: The retry policy of nodes that have none of their own.
        timeout: The time limit, in seconds, of nodes that have none of their own; it covers all
            the attempts of a node together.
        keep_going: After a node fails, go on running every node that does not depend on it,
            then raise one error listing every failure.
        max_running: The most nodes running at once, whatever the number of workers (to bound
            memory).
    """

    retry: Retry | None = None
    timeout: float | None = None
    keep_going: bool = False
    max_running: int | None = None

    def __post_init__(self) -> None:
        if self.retry is not None and not isinstance(self.retry, Retry):
            raise TypeError(f"retry must be a ductwork.pipeline.Retry, got {self.retry!r}.")
        object.__setattr__(self, "timeout", check_timeout(self.timeout, "Runner"))
        running = self.max_running
        if running is not None and (not isinstance(running, int) or running < 1):
            raise ValueError(f"max_running must be a positive int, got {running!r}.")

    def retry_for(self, node: Node) -> Retry | None:
        """The retry policy of ``node``: its own, else the runner's."""
        return node.retry or self.retry

    def timeout_for(self, node: Node) -> float | None:
        """The time limit of ``node``: its own, else the runner's."""
        return node.timeout or self.timeout


@dataclass(frozen=True)
class RunContext:
    """What one run gives its executor."""

    pipeline: Pipeline
    catalog: CatalogProtocol
    hooks: HookCaller
    run_id: str
    is_async: bool
    io_pool: Executor | None
    """The threads for asynchronous loads and saves in this process (None when synchronous)."""
    options: RunOptions = RunOptions()

    def run_node(
        self,
        node: Node,
        checkpoint: Callable[[], None] | None = None,
        stop: threading.Event | None = None,
    ) -> None:
        """Run ``node`` in this process with its retry policy, the run's catalog and hooks.

        Args:
            node: The node.
            checkpoint: Raises to stop the node before it saves (cancelled or timed out).
            stop: Set when no further attempt may start.
        """
        retry = self.options.retry_for(node)
        if retry is None:  # one attempt: skip the retry loop, on the path every node takes
            run_node(
                node,
                self.catalog,
                self.hooks,
                run_id=self.run_id,
                io_pool=self.io_pool,
                checkpoint=checkpoint,
            )
            return
        run_with_retries(
            node,
            self.catalog,
            self.hooks,
            retry=retry,
            run_id=self.run_id,
            io_pool=self.io_pool,
            checkpoint=checkpoint,
            stop=stop,
        )

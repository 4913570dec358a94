"""A run's failure options, and the one function that turns them into a node's policy."""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

from ductwork.exceptions import RunnerOptionError
from ductwork.pipeline import Node, Retry
from ductwork.pipeline.policies import check_timeout

__all__ = ["NodePolicy", "RunOptions", "node_policy"]


@dataclass(frozen=True)
class RunOptions:
    """How a run treats failing, slow and numerous nodes.

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
            raise RunnerOptionError(f"retry must be a ductwork.pipeline.Retry, got {self.retry!r}.")
        object.__setattr__(self, "timeout", check_timeout(self.timeout, "Runner"))
        running = self.max_running
        if running is not None and (not isinstance(running, int) or running < 1):
            raise RunnerOptionError(f"max_running must be a positive int, got {running!r}.")


class NodePolicy(NamedTuple):
    """What one node's run follows: its retry policy and its time limit (seconds)."""

    retry: Retry | None
    timeout: float | None


def node_policy(node: Node, options: RunOptions) -> NodePolicy:
    """The policy of ``node``: its own retry and time limit, else the run's.

    The one place where a node's settings and the runner's are combined; every runner and
    every worker asks here.
    """
    # tuple.__new__ directly: a NamedTuple's own __new__ is a Python call, on every node's path.
    return _new_policy(NodePolicy, (node.retry or options.retry, node.timeout or options.timeout))


_new_policy = tuple.__new__

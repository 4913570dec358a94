"""The outcome events of a Dask run's nodes: what a worker sends, what the client reads.

Each event of :data:`OUTCOMES_TOPIC` is a list of outcomes of one run (see
:mod:`.outcomes` for when a worker sends one, and how the client takes them).
"""

from __future__ import annotations

from typing import Any

from ductwork.execution import NodeOutcome
from ductwork.pipeline import Node

__all__ = ["OUTCOMES_TOPIC", "event_failed", "event_of", "outcome_from_event"]

OUTCOMES_TOPIC = "ductwork-node-outcomes"
"""The event topic of node outcomes: each event is a list of outcomes of one run, each
``[run's plugin, node, started, finished, worker, skipped, metrics, failed, digests]``. One
topic for every run: the scheduler keeps the last events of each topic it has seen, so a topic
per run would leave a little behind on a long-lived cluster after each run."""


def event_of(plugin_name: str, outcome: NodeOutcome) -> list[Any]:
    """The event message of ``outcome``, of the run whose plugin is ``plugin_name``."""
    metrics = {str(name): float(value) for name, value in outcome.metrics.items()}  # msgpack
    times = [outcome.started, outcome.finished, outcome.worker]
    failed, digests = bool(outcome.error), dict(outcome.digests)
    return [plugin_name, outcome.node.name, *times, outcome.skipped, metrics, failed, digests]


def event_failed(message: list[Any]) -> bool:
    """Whether the node of an outcome event (:data:`OUTCOMES_TOPIC`) failed."""
    return bool(message[7])


def outcome_from_event(message: list[Any], node: Node, error: BaseException | None) -> NodeOutcome:
    """The outcome of ``node`` from its event (:data:`OUTCOMES_TOPIC`), with ``error``."""
    _run, _name, started, finished, worker, skipped, metrics, _failed, digests = message
    return NodeOutcome(
        node,
        error,
        float(started),
        float(finished),
        str(worker),
        bool(skipped),
        dict(metrics),
        {str(name): str(digest) for name, digest in digests.items()},
    )

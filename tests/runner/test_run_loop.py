"""The run loop stopping early: what it tells observers of nodes an executor ran ahead of it.

An executor that runs nodes before the loop hands them out (ParallelRunner's look-ahead, Dask's
ahead-of-time graph) says in ``drain()`` which nodes it began and which outcomes it holds; the
loop tells observers, in pipeline order, and its own reason to stop still comes out.
"""

from __future__ import annotations

import logging
from collections.abc import Collection, Iterable
from typing import Any

import pytest

from ductwork.execution import NodeOutcome, RunOptions
from ductwork.pipeline import Node, Pipeline, node
from ductwork.runner import RunObserver
from ductwork.runner.loop import run_loop
from tests.runner.helpers import identity

pytestmark = pytest.mark.timeout(60)

_A, _B, _C = (node(identity, f"d{i}", f"d{i + 1}", name=f"n{i}") for i in range(3))
_PIPELINE = Pipeline([_A, _B, _C])


class StopsAtOnce:
    """An executor that takes ``n0``, then is interrupted waiting for it; its drain says that
    ``n0`` ended and that it ran ``n1`` and ``n2`` ahead (given out of order, as a set and a list
    of arrivals are)."""

    capacity = 1

    def __init__(self) -> None:
        done = NodeOutcome(_A, None, 0.0, 1.0, "w")
        self.untold = ({_C, _B}, [done._replace(node=_C), done])

    def submit(self, node: Node) -> None:
        assert node is _A

    def next_outcomes(self) -> list[NodeOutcome]:
        raise KeyboardInterrupt

    def drain(self) -> tuple[set[Node], list[NodeOutcome]]:
        return self.untold

    def release(self, names: Iterable[str]) -> None: ...

    def collect(self, names: Collection[str]) -> None: ...

    def __enter__(self) -> StopsAtOnce:
        return self

    def __exit__(self, *_exc: Any) -> None: ...


class Heard(RunObserver):
    """Records what it is told; fails (once) when told that ``fail_on`` started."""

    def __init__(self, fail_on: str | None = None) -> None:
        self.heard: list[tuple[str, str]] = []
        self.fail_on = fail_on

    def node_started(self, node: Node) -> None:
        if node.name == self.fail_on:
            self.fail_on = None
            raise OSError("journal disk full")
        self.heard.append(("started", node.name))

    def node_finished(self, outcome: NodeOutcome) -> None:
        self.heard.append(("finished", outcome.node.name))


def test_what_ran_ahead_is_told_in_pipeline_order_a_start_before_its_end() -> None:
    observer = Heard()
    with pytest.raises(KeyboardInterrupt):
        run_loop(_PIPELINE, StopsAtOnce(), logging.getLogger(__name__), observer, RunOptions())
    assert observer.heard == [
        ("started", "n0"),
        ("finished", "n0"),
        ("started", "n1"),
        ("started", "n2"),
        ("finished", "n2"),
    ]


def test_an_observer_failing_on_what_ran_ahead_is_logged_and_the_run_s_own_error_raised(
    caplog: pytest.LogCaptureFixture,
) -> None:
    observer = Heard(fail_on="n1")
    with pytest.raises(KeyboardInterrupt), caplog.at_level(logging.WARNING):
        run_loop(_PIPELINE, StopsAtOnce(), logging.getLogger(__name__), observer, RunOptions())
    # The observer's error is in the log, with its traceback; the other nodes are still told.
    (record,) = [r for r in caplog.records if r.exc_info is not None]
    assert "n1" in record.getMessage()
    assert isinstance(record.exc_info[1], OSError)  # type: ignore[index]
    assert observer.heard == [
        ("started", "n0"),
        ("finished", "n0"),
        ("started", "n2"),
        ("finished", "n2"),
    ]

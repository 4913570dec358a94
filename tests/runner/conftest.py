"""The runners under contract: every test taking ``make_runner`` runs once per runner.

A runner joins the contract suite by adding one entry to ``RUNNERS``: a factory that takes
``is_async`` and the runners' keyword options (``retry``, ``timeout``, ``keep_going``) and
returns a runner.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest

from ductwork.runner import AbstractRunner, ParallelRunner, SequentialRunner, ThreadRunner

MakeRunner = Callable[..., AbstractRunner]

RUNNERS: dict[str, MakeRunner] = {
    "sequential": lambda is_async=False, **options: SequentialRunner(is_async, **options),
    "thread": lambda is_async=False, **options: ThreadRunner(4, is_async, **options),
    # The default start method (forkserver), then the others.
    "parallel": lambda is_async=False, **options: ParallelRunner(2, is_async, **options),
    "parallel-fork": lambda is_async=False, **options: ParallelRunner(
        2, is_async, mp_context="fork", **options
    ),
    "parallel-spawn": lambda is_async=False, **options: ParallelRunner(
        2, is_async, mp_context="spawn", **options
    ),
}


@pytest.fixture(params=list(RUNNERS))
def make_runner(request: pytest.FixtureRequest) -> MakeRunner:
    """A factory for each runner in turn."""
    factory: MakeRunner = RUNNERS[request.param]
    return factory


@pytest.fixture(params=[False, True], ids=["sync", "async"])
def is_async(request: pytest.FixtureRequest) -> bool:
    """Both load/save modes."""
    value: bool = request.param
    return value

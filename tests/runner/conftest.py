"""The runners under contract: every test taking ``make_runner`` runs once per runner.

A runner joins the contract suite by adding one entry to ``RUNNERS``: a factory that takes
``is_async`` and the runners' keyword options (``retry``, ``timeout``, ``keep_going``) and
returns a runner.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from ductwork.runner import (
    AbstractRunner,
    DaskRunner,
    ParallelRunner,
    SequentialRunner,
    ThreadRunner,
)

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


class SessionDaskCluster:
    """One local Dask cluster of worker processes for the whole session, started on first use."""

    def __init__(self) -> None:
        self._opened: list[Any] = []

    def client(self) -> Any:
        """The session's client (starting the cluster the first time)."""
        if not self._opened:
            from distributed import Client, LocalCluster

            cluster = LocalCluster(
                n_workers=2, threads_per_worker=2, host="127.0.0.1", dashboard_address="127.0.0.1:0"
            )
            self._opened = [cluster, Client(cluster, set_as_default=False)]
        return self._opened[1]

    def close(self) -> None:
        """Close the client and the cluster, if they were started."""
        for opened in reversed(self._opened):
            opened.close()
        self._opened.clear()


SESSION_DASK_CLUSTER = SessionDaskCluster()

if importlib.util.find_spec("distributed") is not None:
    RUNNERS["dask"] = lambda is_async=False, **options: DaskRunner(
        client=SESSION_DASK_CLUSTER.client(), is_async=is_async, **options
    )


@pytest.fixture(scope="session", autouse=True)
def session_dask_cluster() -> Iterator[SessionDaskCluster]:
    """Closes the session's Dask cluster at the end, if a test started it."""
    yield SESSION_DASK_CLUSTER
    SESSION_DASK_CLUSTER.close()


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

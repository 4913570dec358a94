"""Where a Dask run gets its client, and what it closes afterwards.

Three cases, decided when the runner is created: a client given by the caller is used and left
open; an address is connected to for the run and the connection closed afterwards (the cluster
stays up); with neither, a ``LocalCluster`` is started for the run, on this machine's loopback
interface, and closed afterwards with its worker processes, however the run ends.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from distributed import Client, LocalCluster

__all__ = ["ClusterSpec"]


@dataclass(frozen=True)
class ClusterSpec:
    """How a run reaches its Dask cluster.

    Attributes:
        client: A client to use and leave open.
        address: A scheduler to connect to (``"tcp://host:8786"``).
        cluster_kwargs: For the embedded ``LocalCluster`` when neither is given.
    """

    client: Client | None = None
    address: str | None = None
    cluster_kwargs: dict[str, Any] = field(default_factory=dict)

    @contextmanager
    def connect(self) -> Iterator[Client]:
        """Yield a client for one run; close what was opened for it on the way out."""
        if self.client is not None:
            yield self.client
            return
        if self.address is not None:
            with Client(self.address, set_as_default=False) as client:
                yield client
            return
        with (
            LocalCluster(**embedded_cluster_kwargs(self.cluster_kwargs)) as cluster,
            Client(cluster, set_as_default=False) as client,
        ):
            yield client


def embedded_cluster_kwargs(overrides: dict[str, Any]) -> dict[str, Any]:
    """``LocalCluster`` arguments: one single-threaded worker process per core, loopback only.

    The scheduler's web server (the dashboard, when ``bokeh`` is installed) listens on a free
    loopback port: ``client.dashboard_link`` gives it.
    """
    defaults: dict[str, Any] = {
        "n_workers": os.cpu_count() or 1,
        "threads_per_worker": 1,
        "processes": True,
        "host": "127.0.0.1",
        "dashboard_address": "127.0.0.1:0",
    }
    return {**defaults, **overrides}

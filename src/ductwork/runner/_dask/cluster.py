"""Where a Dask run gets its client, and what it closes afterwards.

Three cases, decided when the runner is created: a client given by the caller is used and left
open; an address is connected to for the run and the connection closed afterwards (the cluster
stays up); with neither, a ``LocalCluster`` is started for the run, on this machine's loopback
interface, and closed afterwards with its worker processes, however the run ends.

Connecting to an address is bounded in time, whatever the other end does: a malformed address
is refused when the runner is built; a closed port, a host that does not answer, or a server
that accepts the connection and then says nothing all end, within ``connect_timeout`` seconds,
in a :class:`DaskConnectError` naming the address. The client is created on a helper thread
that the run waits for with a deadline (``distributed``'s own timeout does not cover a server
that accepts and stays silent), so Ctrl-C during the wait ends the command at once.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from distributed import Client, LocalCluster
from distributed.comm.addressing import parse_address, parse_host_port

from ductwork.exceptions import RunnerError, RunnerOptionError

__all__ = ["DEFAULT_CONNECT_TIMEOUT", "ClusterSpec", "DaskConnectError", "check_address"]

DEFAULT_CONNECT_TIMEOUT = 10.0


class DaskConnectError(RunnerError):
    """The Dask scheduler at the given address cannot be reached in time."""


def check_address(address: str) -> str:
    """Return ``address`` if it reads as a scheduler address, else raise ``RunnerOptionError``."""
    try:
        scheme, location = parse_address(address, strict=True)
        if scheme in {"tcp", "tls", "ws", "wss"}:
            parse_host_port(location)
            host, _, port = location.rpartition(":")
            if not host or not port.isdigit():
                raise ValueError("expected host:port")
    except (TypeError, ValueError) as error:
        raise RunnerOptionError(
            f"{address!r} is not a Dask scheduler address ({error}): give one like "
            "'tcp://10.0.0.5:8786'."
        ) from None
    return address


@dataclass(frozen=True)
class ClusterSpec:
    """How a run reaches its Dask cluster.

    Attributes:
        client: A client to use and leave open.
        address: A scheduler to connect to (``"tcp://host:8786"``).
        cluster_kwargs: For the embedded ``LocalCluster`` when neither is given.
        connect_timeout: Seconds the connection to ``address`` may take, at most.
    """

    client: Client | None = None
    address: str | None = None
    cluster_kwargs: dict[str, Any] = field(default_factory=dict)
    connect_timeout: float = DEFAULT_CONNECT_TIMEOUT

    @contextmanager
    def connect(self) -> Iterator[Client]:
        """Yield a client for one run; close what was opened for it on the way out."""
        if self.client is not None:
            yield self.client
            return
        if self.address is not None:
            with _connected(self.address, self.connect_timeout) as client:
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


@contextmanager
def _connected(address: str, timeout: float) -> Iterator[Client]:
    made: list[Client] = []
    failed: list[BaseException] = []
    done = threading.Event()

    def connect() -> None:
        try:
            made.append(Client(address, timeout=timeout, set_as_default=False))
        except BaseException as error:  # reported by the waiting thread
            failed.append(error)
        finally:
            done.set()

    threading.Thread(target=connect, name="ductwork-dask-connect", daemon=True).start()
    if not done.wait(timeout + 1.0):
        raise DaskConnectError(
            f"The Dask scheduler at {address} did not answer within {timeout:g} s: check the "
            "address, that the scheduler runs, and that nothing else listens on that port."
        )
    if failed:
        error = failed[0]
        raise DaskConnectError(
            f"Cannot connect to the Dask scheduler at {address}: {type(error).__name__}: "
            f"{str(error).splitlines()[0] if str(error) else ''}"
        ) from error
    with made[0] as client:
        yield client

"""``DaskRunner``: the same pipelines on a Dask cluster, from a laptop to many machines.

Nodes run as Dask tasks on the cluster's workers; data held in memory between nodes stays in the
workers' memory, as Dask futures, and moves only from worker to worker, where Dask's scheduler
decides (it places each node next to its inputs when it can). Persisted datasets are sent to
the workers once per run and loaded and saved there. Only the in-memory free outputs, which the
caller receives, come back to the client. Node and dataset hooks fire on the workers; pipeline
hooks fire where ``run()`` was called, as with every runner. Retries run in the node's task; a
node past its time limit fails and its worker is restarted through its nanny (which stops it);
ductwork's warnings on the workers (retries, failures) reach the caller's logging.

Importing this module does not import Dask: creating a ``DaskRunner`` does, and says which extra
to install when it is missing. The machinery lives in :mod:`ductwork.runner._dask`.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from ductwork.exceptions import RunnerOptionError
from ductwork.pipeline import Retry
from ductwork.runner.executors import NodeExecutor, RunContext
from ductwork.runner.runner import AbstractRunner

if TYPE_CHECKING:
    from distributed import Client

    from ductwork.runner._dask.cluster import ClusterSpec

__all__ = ["DaskRunner"]

_INSTALL_HINT = "DaskRunner needs dask.distributed: pip install 'ductwork[dask]'"


def _require_dask() -> None:
    """Import Dask's distributed scheduler, or say which extra to install.

    Raises:
        ModuleNotFoundError: ``dask.distributed`` cannot be imported (``name`` is
            ``"distributed"``).
    """
    try:
        importlib.import_module("distributed")
    except ImportError as err:
        raise ModuleNotFoundError(f"{_INSTALL_HINT} ({err})", name="distributed") from err


class DaskRunner(AbstractRunner):
    """Runs nodes as tasks on a Dask cluster, keeping in-memory data on the workers.

    With neither ``client`` nor ``address``, each run starts a local cluster of worker processes
    (one single-threaded worker per core, on the loopback interface) and closes it when the run
    ends. With ``address``, each run connects to that scheduler and disconnects afterwards; the
    cluster stays up. With ``client``, runs use it and leave it open.

    Example:
        >>> runner = DaskRunner(address="tcp://scheduler:8786")  # doctest: +SKIP
        >>> runner.run(pipeline, catalog)["model"].load()  # doctest: +SKIP
    """

    def __init__(
        self,
        client: Client | None = None,
        address: str | None = None,
        *,
        is_async: bool = False,
        n_workers: int | None = None,
        threads_per_worker: int | None = None,
        cluster_kwargs: dict[str, Any] | None = None,
        retry: Retry | None = None,
        timeout: float | None = None,
        keep_going: bool = False,
        max_running: int | None = None,
        connect_timeout: float = 10.0,
    ) -> None:
        """Create a Dask runner.

        Args:
            client: A ``distributed.Client`` to run on; it is left open.
            address: The address of a running scheduler, e.g. ``"tcp://10.0.0.5:8786"``.
            is_async: Load each node's inputs and save its outputs concurrently, on threads of
                the worker running it.
            n_workers: Worker processes of the embedded cluster (default: one per core).
            threads_per_worker: Threads of each embedded worker (default: 1).
            cluster_kwargs: Further ``distributed.LocalCluster`` arguments for the embedded
                cluster, e.g. ``{"memory_limit": "4GiB", "dashboard_address": ":0"}``.
            retry, timeout, keep_going, max_running: How failing, slow and numerous nodes
                are treated (see :class:`~ductwork.runner.AbstractRunner`).
            connect_timeout: Seconds connecting to ``address`` may take; past it (or on a
                closed port, or a server that never answers) the run fails at once with
                ``DaskConnectError``, naming the address.

        Raises:
            ModuleNotFoundError: Dask is not installed (``pip install 'ductwork[dask]'``).
            RunnerOptionError: Both ``client`` and ``address`` are given, options for the
                embedded cluster are given with either, ``address`` is malformed, or
                ``connect_timeout`` is not positive (a ``ValueError``).
        """
        super().__init__(
            is_async, retry=retry, timeout=timeout, keep_going=keep_going, max_running=max_running
        )
        _require_dask()
        from ductwork.runner._dask.cluster import (  # noqa: PLC0415  (imports Dask)
            ClusterSpec,
            check_address,
        )

        embedded = _embedded_options(n_workers, threads_per_worker, cluster_kwargs)
        if client is not None and address is not None:
            raise RunnerOptionError("Give DaskRunner a client or an address, not both.")
        if (client is not None or address is not None) and embedded:
            raise RunnerOptionError(
                f"{sorted(embedded)} configure the cluster DaskRunner starts when it is given "
                "no client and no address; with a client or an address, configure that cluster."
            )
        if address is not None:
            check_address(address)
        if not connect_timeout > 0:
            raise RunnerOptionError(f"connect_timeout must be positive, not {connect_timeout!r}.")
        self._cluster: ClusterSpec = ClusterSpec(client, address, embedded, connect_timeout)

    def _create_executor(self, context: RunContext) -> NodeExecutor:
        from ductwork.runner._dask.executor import DaskExecutor  # noqa: PLC0415  (imports Dask)

        return DaskExecutor(context, self._cluster.connect, self._options.keep_going)


def _embedded_options(
    n_workers: int | None, threads_per_worker: int | None, cluster_kwargs: dict[str, Any] | None
) -> dict[str, Any]:
    options = dict(cluster_kwargs or {})
    if n_workers is not None:
        options["n_workers"] = n_workers
    if threads_per_worker is not None:
        options["threads_per_worker"] = threads_per_worker
    return options

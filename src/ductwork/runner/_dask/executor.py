"""``DaskExecutor``: the run loop's executor for a Dask cluster.

Each node becomes a Dask task (:func:`~ductwork.runner._dask.worker.run_node_task`) whose
arguments are the futures of the in-memory data it loads, so Dask's scheduler places it next to
its data. What every task needs besides reaches each worker once per run, in a worker plugin.

Every dataset needs a key of its own, to be freed on its own: a node with one in-memory output
gives it the node's key; a node with several is followed by one small task per output. A node
with in-memory outputs is also followed by a task picking its outcome, which is all the client
fetches; in-memory data reaches the client only in :meth:`DaskExecutor.collect`. Keys read
``("node:<name>", "<run id>#<tag>")``, ``("data:<dataset>", ...)`` and ``("done:<name>", ...)``,
so the dashboard groups tasks by node and dataset.

Before anything is submitted, :func:`prepare_worker_run` sorts the datasets by the rule of
:mod:`ductwork.io.travel`: in-memory data moves between tasks as futures; every other dataset,
and any a node confirms, is shipped to the workers once per run and loaded and saved there.
Everything that must travel is checked before the cluster is asked to do anything.

``capacity`` is the pipeline's size: Dask's scheduler, which knows the cluster, decides where and
when each ready node runs, and an adaptive cluster sees the whole frontier of work.
"""

from __future__ import annotations

import logging
import secrets
import time
from collections.abc import Callable, Collection, Iterable
from contextlib import AbstractContextManager, ExitStack
from types import TracebackType
from typing import Any

from dask.typing import Key
from distributed import CancelledError, Client, Future, KilledWorker, as_completed

from ductwork.exceptions import DatasetError, NodeTimeoutError, RunnerError, WorkerLostError
from ductwork.execution import NodeOutcome
from ductwork.execution.time_limits import on_helper_thread
from ductwork.io.travel import copy_mode_of, is_in_memory
from ductwork.pipeline import Node
from ductwork.runner._dask.worker import (
    NodeResult,
    RunPlugin,
    Unloadable,
    WorkerRun,
    data_of,
    outcome_of,
    output_of,
    run_node_task,
)
from ductwork.runner.executors import RunContext
from ductwork.runner.validation import Offenders, check_travel, data_problems

__all__ = ["DaskExecutor"]

_logger = logging.getLogger(__name__)

FORWARDED_LOGGER = "ductwork"

Connect = Callable[[], AbstractContextManager[Client]]


class DaskExecutor:
    """Runs each node as a Dask task, keeping in-memory data on the workers.

    Entering checks what the run sends, connects (which may start a cluster) and gives the
    workers the run; leaving cancels what still runs, drops every key of the run, and
    disconnects (closing a cluster it started).
    """

    def __init__(self, context: RunContext, connect: Connect) -> None:
        """Prepare to run ``context``'s pipeline on the client ``connect`` gives."""
        self._context = context
        self._connect = connect
        self.capacity = max(1, len(context.pipeline.nodes))
        # Keys unique even if run ids repeat.
        self._tag = f"{context.shell.run_id}#{secrets.token_hex(3)}"
        self._plugin = f"ductwork-run-{self._tag}"
        self._stack = ExitStack()
        self._client: Client | None = None
        self._memory: frozenset[str] = frozenset()
        self._data: dict[str, Future[Any]] = {}
        self._running: dict[Key, tuple[Node, Future[Any], float]] = {}
        self._finished: as_completed | None = None

    # --- entering and leaving ---------------------------------------------------------------------

    def __enter__(self) -> DaskExecutor:
        if not self._context.pipeline.nodes:
            return self  # nothing will run: no need for a cluster
        # Sort the run's datasets and check what must travel, before touching the cluster.
        run, self._memory = prepare_worker_run(self._context)
        with ExitStack() as stack:
            client = self._client = stack.enter_context(self._connect())
            client.register_plugin(RunPlugin(run, self._plugin))
            stack.callback(self._unregister_plugin, client)
            # ductwork's warnings on the workers (retries, failed nodes) reach the caller's
            # logging, as they do from the other runners.
            client.forward_logging(FORWARDED_LOGGER, level=logging.WARNING)
            stack.callback(self._best_effort, client.unforward_logging, FORWARDED_LOGGER)
            stack.callback(self._drop_futures)
            self._finished = as_completed(loop=client.loop, with_results=True, raise_errors=False)
            self._stack = stack.pop_all()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        with self._stack:
            if self._client is not None and self._running:
                # Stop what has not finished, and what depends on it. Dask cannot interrupt a
                # task that is already running; its result is dropped.
                self._best_effort(self._client.cancel, [f for _, f, _ in self._running.values()])

    def _drop_futures(self) -> None:
        # Dropping the last reference to a future lets the scheduler forget its key.
        self._running.clear()
        self._data.clear()
        self._finished = None

    def _unregister_plugin(self, client: Client) -> None:
        self._best_effort(client.unregister_worker_plugin, self._plugin)

    def _best_effort(self, clean_up: Callable[[Any], Any], argument: Any) -> None:
        try:
            clean_up(argument)
        except Exception as error:  # a lost cluster must not hide the run's own error
            _logger.warning("Run %s: could not clean up on the cluster: %s", self._tag, error)

    # --- the NodeExecutor protocol ----------------------------------------------------------------

    def submit(self, node: Node) -> None:
        """Submit ``node``'s task, and the tasks picking its outputs and its outcome."""
        assert self._client is not None
        assert self._finished is not None
        client = self._client
        inputs = tuple(dict.fromkeys(name for name in node.inputs if name in self._data))
        result = client.submit(
            run_node_task,
            self._plugin,
            node,
            inputs,
            *(self._data[name] for name in inputs),
            key=self._key("node", node.name),
            pure=False,
        )
        outputs = [name for name in node.outputs if name in self._memory]
        if len(outputs) == 1:  # the node's result holds just that data: no need to pick it
            self._data[outputs[0]] = result
        else:
            for name in outputs:
                self._data[name] = client.submit(
                    output_of, result, name, key=self._key("data", name), pure=False
                )
        outcome: Future[Any] = result  # holds no data: fetching it costs nothing
        if outputs:
            outcome = client.submit(outcome_of, result, key=self._key("done", node.name))
        self._running[outcome.key] = (node, result, time.time())
        self._finished.add(outcome)

    def _key(self, kind: str, name: str) -> tuple[str, str]:
        return (f"{kind}:{name}", self._tag)

    def next_outcomes(self) -> list[NodeOutcome]:
        """Wait for the next node to finish; return it with any others that finished meanwhile."""
        assert self._finished is not None
        batch = [next(self._finished), *self._finished.next_batch(block=False)]
        return [self._outcome(future, result) for future, result in batch]

    def _outcome(self, future: Future[Any], result: Any) -> NodeOutcome:
        node, node_future, submitted = self._running.pop(future.key)
        if future.status == "finished":
            detached = outcome_of(result) if isinstance(result, NodeResult) else result
            return detached.attached(node, None, detached.worker)
        if isinstance(result, CancelledError) and node_future.status == "error":
            # The outcome task lost its dependency: the node's own task failed (for instance
            # the scheduler could not unpickle it), and says why.
            result = (None, node_future.exception(), node_future.traceback())
        error = _error(node, result)
        address = getattr(error, "worker_address", None)
        if isinstance(error, NodeTimeoutError) and address and self._client is not None:
            # The node's thread cannot be stopped inside the worker: restart the worker.
            self._best_effort(self._client.restart_workers, [address])
        return NodeOutcome(node, error, submitted, time.time(), "dask")

    def release(self, names: Iterable[str]) -> None:
        """Drop the futures of ``names`` (the cluster frees them) and release them locally."""
        for name in names:
            future = self._data.pop(name, None)
            if future is not None:
                future.release()
            self._context.catalog.release(name)

    def collect(self, names: Collection[str]) -> None:
        """Fetch the in-memory free outputs and save them into the caller's catalog."""
        wanted = [name for name in names if name in self._data]
        if not wanted or self._client is None:
            return
        values = self._client.gather([self._data[name] for name in wanted])
        for name, value in zip(wanted, map(data_of, values, wanted), strict=True):
            if not isinstance(value, Unloadable):
                self._context.catalog.save(name, value)


def _error(node: Node, result: Any) -> BaseException:
    """The exception to report for ``node`` from a failed outcome future's ``result``."""
    if isinstance(result, CancelledError):
        return RunnerError(
            f"Node '{node.name}' was cancelled on the Dask cluster ({result}). Check that the "
            "scheduler is still running and reachable, and run again."
        )
    _type, error, traceback = result
    assert isinstance(error, BaseException)
    if isinstance(error, KilledWorker):
        lost = WorkerLostError(
            f"Node '{node.name}': the Dask workers running it died ({error}). It may use more "
            "memory than a worker has, or crash the interpreter; the workers' logs say more."
        )
        lost.__cause__ = error
        return lost
    return error.with_traceback(traceback) if traceback is not None else error


def prepare_worker_run(context: RunContext) -> tuple[WorkerRun, frozenset[str]]:
    """What each worker receives once for this run, and the names of the in-memory datasets.

    Raises:
        NotPicklableError: Something that must travel cannot be pickled (every offender named).
    """
    pipeline, catalog = context.pipeline, context.catalog
    confirmed = {name for node in pipeline.nodes for name in node.confirms}
    datasets = {name: catalog.get(name) for name in sorted(pipeline.datasets() | confirmed)}
    memory = frozenset(
        name for name, ds in datasets.items() if is_in_memory(ds) and name not in confirmed
    )
    shipped = {n: ds for n, ds in datasets.items() if n not in memory and ds is not None}
    loaded = {name for node in pipeline.nodes for name in node.inputs}
    produced = {name for node in pipeline.nodes for name in node.outputs}
    offenders: Offenders = {}
    free_inputs = _load_free_inputs(catalog, sorted((loaded & memory) - produced), offenders)
    shell = context.shell.enforcing(on_helper_thread)
    check_travel(pipeline.nodes, datasets, shipped, shell.plugins, "the Dask workers", offenders)
    copy_modes = {n: mode for n in memory if (mode := copy_mode_of(datasets[n])) is not None}
    return WorkerRun(shell, shipped, free_inputs, copy_modes), memory


def _load_free_inputs(catalog: Any, names: list[str], offenders: Offenders) -> dict[str, Any]:
    """Load each in-memory free input once, on the client, to send it to the workers.

    A dataset that fails to load (an empty memory dataset) gives an :class:`Unloadable`: the node
    that loads it fails on its worker, as it would in any runner, with its hooks fired.
    """
    values: dict[str, Any] = {}
    for name in names:
        try:
            values[name] = catalog.get(name).load()
        except DatasetError as error:
            values[name] = Unloadable(error)
            continue
        if reasons := data_problems(values[name]):
            offenders[f"dataset '{name}'"] = reasons
    return values

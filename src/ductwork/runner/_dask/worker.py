"""What runs on the Dask workers: one node per task, against a catalog made for that task.

A node's task finds the run's :class:`WorkerRun` in a worker plugin (:class:`RunPlugin`, which
the scheduler gives every worker once per run, and workers that join later too) and receives the
in-memory data it loads from other nodes as arguments (Dask resolves the producers' futures to
their values, on this worker). It builds a small catalog holding the shipped datasets the node
uses and one :class:`TaskMemoryDataset` per in-memory input and output, runs the node through
:func:`ductwork.execution.run_node` with the node's retry policy (so the node and dataset hooks
fire here, on the worker), within its time limit, and
returns a :class:`NodeResult`: when and where it ran, and the data of its in-memory outputs,
which stays in this worker's memory until another task needs it.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from distributed import WorkerPlugin, get_worker

from ductwork.exceptions import DatasetError, NodeCancelledError, NodeTimeoutError
from ductwork.execution.attempts import run_with_retries
from ductwork.hooks.manager import HookCaller, plugins_from
from ductwork.io import DataCatalog, MemoryDataset
from ductwork.pipeline import Node, Retry

__all__ = [
    "NodeResult",
    "RunPlugin",
    "TaskMemoryDataset",
    "Unloadable",
    "WorkerRun",
    "data_of",
    "is_node_result",
    "outcome_of",
    "output_of",
    "run_node_task",
]


class Unloadable:
    """Stands for in-memory data that cannot be loaded; loading it raises ``error``.

    Sent in place of a free input whose dataset failed to load on the client (an empty memory
    dataset), or returned for an output the node never saved (a generator that yielded nothing),
    so that the failure happens where it would in any runner: when a node loads the data.
    """

    def __init__(self, error: Exception) -> None:
        self.error = error


def _not_saved() -> Unloadable:
    return Unloadable(DatasetError("Data for MemoryDataset has not been saved yet."))


class TaskMemoryDataset(MemoryDataset):
    """The memory dataset of one task: the data Dask handed the task, copied on each load.

    The data is held by reference, not copied when the task starts: it may be the very object
    another task on this worker also receives, and each load copies it (as every memory dataset
    does), so that no node can change what another node sees.
    """

    @classmethod
    def holding(cls, data: Any, copy_mode: Any = None) -> TaskMemoryDataset:
        """A dataset holding ``data`` as it is (an :class:`Unloadable` raises on load)."""
        dataset = cls(copy_mode=copy_mode)
        dataset._data = data
        return dataset

    def load(self) -> Any:
        """Return a copy of the data; raise the error an :class:`Unloadable` carries."""
        if isinstance(self._data, Unloadable):
            raise self._data.error
        return super().load()

    def content(self) -> Any:
        """The data saved, as it is, or an :class:`Unloadable` if nothing was saved."""
        return self._data if self.exists() else _not_saved()


@dataclass
class WorkerRun:
    """What every task of one run needs, sent to each worker once (not with every task).

    Attributes:
        run_id: The run's id, passed to the node hooks.
        is_async: Load and save each node's data concurrently, on threads of the worker.
        datasets: The datasets loaded and saved on the workers (persisted ones), by name.
        plugins: The hook plugins, as :func:`ductwork.hooks.manager.registered_plugins` lists
            them; each worker rebuilds a hook manager from them on first use.
        free_inputs: The data of the in-memory free inputs (parameters), by name.
        copy_modes: The copy mode of each declared memory dataset that sets one.
        retry: The runner's retry policy, for nodes without one of their own.
        timeout: The runner's time limit in seconds, for nodes without one of their own.
    """

    run_id: str
    is_async: bool
    datasets: dict[str, Any]
    plugins: list[tuple[str | None, object]]
    free_inputs: dict[str, Any] = field(default_factory=dict)
    copy_modes: dict[str, Any] = field(default_factory=dict)
    retry: Retry | None = None
    timeout: float | None = None
    _hooks: HookCaller | None = field(default=None, init=False, repr=False)

    def hooks(self) -> HookCaller:
        """The run's hooks in this worker, built once (a race builds two equal ones: harmless)."""
        if self._hooks is None:
            self._hooks = HookCaller(plugins_from(self.plugins))
        return self._hooks

    def __getstate__(self) -> dict[str, Any]:
        # The hook manager is rebuilt where the run lands, never sent.
        return {**self.__dict__, "_hooks": None}

    def catalog_for(
        self, node: Node, inputs: dict[str, Any]
    ) -> tuple[DataCatalog, dict[str, TaskMemoryDataset]]:
        """A catalog for ``node``: its shipped datasets, in-memory inputs and outputs.

        Args:
            node: The node.
            inputs: The data of its in-memory inputs that other nodes of the run produced
                (the free ones are in ``free_inputs``).

        Returns:
            The catalog, and the datasets that will receive the node's in-memory outputs.
        """
        names = (*node.inputs, *node.outputs, *node.confirms)
        datasets: dict[str, Any] = {n: self.datasets[n] for n in names if n in self.datasets}
        free = {name: self.free_inputs[name] for name in node.inputs if name in self.free_inputs}
        for name, data in {**free, **inputs}.items():
            datasets[name] = TaskMemoryDataset.holding(data, self.copy_modes.get(name))
        outputs = {
            name: TaskMemoryDataset(copy_mode=self.copy_modes.get(name))
            for name in node.outputs
            if name not in datasets
        }
        return DataCatalog({**datasets, **outputs}), outputs


class RunPlugin(WorkerPlugin):
    """Keeps one run's :class:`WorkerRun` on every worker, for the length of the run.

    A plugin rather than a scattered value: the scheduler re-sends it to workers that join or
    restart mid-run, and the tasks do not depend on a key that lives on some workers only (Dask
    would then only place them there).
    """

    def __init__(self, run: WorkerRun, name: str) -> None:
        self.run = run
        self.name = name


@dataclass(frozen=True)
class NodeResult:
    """What a node's task returns; it stays on the worker.

    Only ``outcome`` reaches the client, and the data of the free outputs the caller receives.

    Attributes:
        outcome: ``(started, finished, worker)``: epoch seconds and the worker's address.
        outputs: The data of the node's in-memory outputs, by name.
    """

    outcome: tuple[float, float, str]
    outputs: dict[str, Any]


@contextmanager
def _io_pool(is_async: bool) -> Iterator[ThreadPoolExecutor | None]:
    if not is_async:
        yield None
        return
    with ThreadPoolExecutor(thread_name_prefix="ductwork-io") as pool:
        yield pool


def run_node_task(
    plugin_name: str, node: Node, memory_inputs: tuple[str, ...], *data: Any
) -> NodeResult:
    """Run ``node`` on this worker; ``data`` holds the values of ``memory_inputs``, in order.

    Args:
        plugin_name: The name of the run's :class:`RunPlugin`.
        node: The node.
        memory_inputs: The names of the node's in-memory inputs.
        *data: Their values.

    Returns:
        A :class:`NodeResult`.

    Raises:
        Exception: Whatever the node, a hook or a dataset raised, unchanged (Dask sends it, with
            its traceback, to the client).
    """
    started = time.time()
    worker = get_worker()
    plugin = worker.plugins[plugin_name]
    assert isinstance(plugin, RunPlugin)
    run = plugin.run
    inputs = {name: data_of(value, name) for name, value in zip(memory_inputs, data, strict=True)}
    catalog, outputs = run.catalog_for(node, inputs)
    stop = threading.Event()

    def attempts(io_pool: ThreadPoolExecutor | None) -> None:
        run_with_retries(
            node,
            catalog,
            run.hooks(),
            retry=node.retry or run.retry,
            run_id=run.run_id,
            io_pool=io_pool,
            checkpoint=partial(_check_stop, stop, node),
            stop=stop,
        )

    with _io_pool(run.is_async) as io_pool:
        timeout = node.timeout or run.timeout
        if timeout is None:
            attempts(io_pool)
        else:
            _within(timeout, partial(attempts, io_pool), stop, node, str(worker.address))
    content = {name: dataset.content() for name, dataset in outputs.items()}
    return NodeResult((started, time.time(), str(worker.address)), content)


def _check_stop(stop: threading.Event, node: Node) -> None:
    if stop.is_set():
        raise NodeCancelledError(f"Node '{node.name}' was stopped before saving.")


def _within(
    seconds: float, work: Callable[[], None], stop: threading.Event, node: Node, worker: str
) -> None:
    """Run ``work`` on a thread of its own; past ``seconds``, stop waiting and raise.

    A thread cannot be stopped: past the limit it is told to save nothing (``stop``) and left to
    finish; the client then restarts this worker, which ends it.
    """
    failure: list[BaseException] = []

    def target() -> None:
        try:
            work()
        except BaseException as error:
            failure.append(error)

    thread = threading.Thread(target=target, name=f"ductwork-{node.name}", daemon=True)
    thread.start()
    thread.join(seconds)
    if thread.is_alive():
        stop.set()
        error = NodeTimeoutError(
            f"Node '{node.name}' ran longer than its time limit of {seconds:g} s on the Dask "
            f"worker {worker}, which is restarted to stop it."
        )
        error.worker_address = worker  # type: ignore[attr-defined]  # read by the client
        raise error
    if failure:
        raise failure[0]


def output_of(result: NodeResult, name: str) -> Any:
    """The data of the in-memory output ``name`` (a task of its own, so it has its own key)."""
    return result.outputs[name]


def is_node_result(value: Any) -> bool:
    """Whether ``value`` is a node's whole result rather than the data of one output."""
    return isinstance(value, NodeResult)


def data_of(value: Any, name: str) -> Any:
    """The data of ``name`` in ``value``: a producer's result (one output) or the data itself."""
    return value.outputs[name] if isinstance(value, NodeResult) else value


def outcome_of(result: NodeResult) -> tuple[float, float, str]:
    """When and where the node ran: the only part of a node's result the client fetches."""
    return result.outcome

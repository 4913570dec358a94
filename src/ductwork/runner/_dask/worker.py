"""What runs on the Dask workers: one node per task, against a catalog made for that task.

A task finds the run's :class:`WorkerRun` in a worker plugin (:class:`RunPlugin`) and receives
the in-memory data it loads from other nodes as arguments (Dask resolves the producers' futures
on this worker). It builds a catalog of the shipped datasets the node uses and one
:class:`TaskMemoryDataset` per in-memory input and output, runs the node through the run's
:class:`~ductwork.execution.NodeShell`, and returns a :class:`NodeResult`, which stays in this
worker's memory until another task needs it. The node's outcome (times, worker, metrics) goes to
the client as an event of the worker (:mod:`.events`), in the same message to the scheduler as
the task's end (or, on a worker busy with more of the run's tasks while Dask has the nodes ahead
of the loop, with its next outcomes, in one event): no task of its own, no fetch of the node's
data.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, field
from typing import Any

from distributed import WorkerPlugin, get_worker
from distributed.diagnostics.plugin import ForwardLoggingPlugin

from ductwork.exceptions import DatasetError, RunnerError
from ductwork.execution import NodeOutcome, NodeShell
from ductwork.io import DataCatalog, MemoryDataset
from ductwork.pipeline import Node
from ductwork.runner._dask.events import OUTCOMES_TOPIC, event_of

__all__ = [
    "FORWARDED_LOGGER",
    "LOGS_TOPIC",
    "NodeResult",
    "RunPlugin",
    "Unloadable",
    "WorkerRun",
    "data_of",
    "run_node_task",
    "stop_run",
]

FORWARDED_LOGGER = "ductwork"
LOGS_TOPIC = "ductwork-forwarded-logs"
"""The event topic of ductwork's warnings on the workers (retries, failed nodes), which reach the
caller's logging as they do from the other runners: forwarded by the run's own plugin, as Dask's
``Client.forward_logging`` would, without two more round trips to every worker per run."""

# Per worker: the handler forwarding its records and how many runs use it, so that runs at once
# on one worker do not forward each record twice.
_forwarding: dict[int, tuple[ForwardLoggingPlugin, int]] = {}
_forwarding_lock = threading.Lock()


def _forward_logs(worker: Any, runs: int) -> None:
    with _forwarding_lock:
        plugin, using = _forwarding.get(id(worker), (None, 0))
        if plugin is None:
            plugin = ForwardLoggingPlugin(FORWARDED_LOGGER, logging.WARNING, LOGS_TOPIC)
            plugin.setup(worker)
        if using + runs > 0:
            _forwarding[id(worker)] = (plugin, using + runs)
        else:
            plugin.teardown(worker)
            _forwarding.pop(id(worker), None)


class Unloadable:
    """Stands for in-memory data that cannot be loaded; loading it raises ``error``.

    Sent for a free input that failed to load on the client, or returned for an output the node
    never saved, so that the failure happens where it would in any runner: when a node loads it.
    A task's catalog holds it as the dataset itself, not inside a memory dataset: that would
    wrap a foreign dataset's own error in a ``DatasetError``, which no other runner does.
    """

    _EPHEMERAL = True

    def __init__(self, error: Exception) -> None:
        self.error = error

    def load(self) -> Any:
        """Raise the error."""
        raise self.error

    def save(self, data: Any) -> None:
        """Never called: only loaded (a node's input)."""
        raise RunnerError("An input of a Dask task cannot be saved.")

    def exists(self) -> bool:
        return False

    def release(self) -> None:
        pass


class TaskMemoryDataset(MemoryDataset):
    """The data Dask handed a task, held by reference (it may be shared with another task on
    this worker) and copied on each load, as by every memory dataset."""

    @classmethod
    def holding(cls, data: Any, copy_mode: Any = None) -> Any:
        """A dataset holding ``data`` as it is (an :class:`Unloadable` stands for itself)."""
        if isinstance(data, Unloadable):
            return data
        dataset = cls(copy_mode=copy_mode)
        dataset._data = data
        return dataset

    def content(self) -> Any:
        """The data saved, as it is, or an :class:`Unloadable` if nothing was saved."""
        if self.exists():
            return self._data
        return Unloadable(DatasetError("Data for MemoryDataset has not been saved yet."))


@dataclass
class WorkerRun:
    """What every task of one run needs, sent to each worker once (not with every task).

    Attributes:
        shell: The run's node shell (time limits enforced on a helper thread).
        nodes: The run's nodes, by name: a task names its node (a name is cheaper than a node
            for Dask to hash, pickle and ship with every task).
        datasets: The shipped datasets, loaded and saved on the workers, by name.
        free_inputs: The data of the in-memory free inputs (parameters), by name.
        copy_modes: The copy mode of each declared memory dataset that sets one.
        batch: Seconds a worker busy with more of the run's tasks may hold an outcome, to send
            it with the next ones in one event (0: each at once). Only when Dask has the nodes
            ahead of the loop: the loop then hands it nothing that waits for an outcome.
    """

    shell: NodeShell
    nodes: dict[str, Node]
    datasets: dict[str, Any]
    free_inputs: dict[str, Any] = field(default_factory=dict)
    copy_modes: dict[str, Any] = field(default_factory=dict)
    batch: float = 0.0

    def catalog_for(
        self, node: Node, inputs: dict[str, Any]
    ) -> tuple[DataCatalog, dict[str, TaskMemoryDataset]]:
        """A catalog for ``node`` given the data of its in-memory inputs from other nodes, and
        the datasets that will receive its in-memory outputs."""
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
    """Keeps one run's :class:`WorkerRun` on every worker for the length of the run.

    A plugin, not a scattered value: the scheduler gives it to workers that join or restart
    mid-run, and tasks do not depend on a key that lives on some workers only.
    """

    def __init__(self, run: WorkerRun, name: str) -> None:
        self.run = run
        self.name = name

    def setup(self, worker: Any) -> None:
        """Start the run's I/O threads on this worker (asynchronous mode)."""
        self.started: set[str] = set()  # the nodes that began here
        self.stopped = False  # the client stopped the run: no node may begin
        self._lock = threading.Lock()
        self._worker = worker
        self._outcomes: dict[Any, list[Any]] = {}  # by task key: not sent yet
        self._held: list[list[Any]] = []  # outcomes of ended tasks, to send together
        _forward_logs(worker, +1)
        self.run.shell.__enter__()

    def report(self, key: Any, outcome: NodeOutcome) -> None:
        """Send ``outcome``, of the task ``key``, with the task's end (see :meth:`transition`)."""
        self._outcomes[key] = event_of(self.name, outcome)

    def transition(self, key: Any, start: str, finish: str, **kwargs: Any) -> None:
        """Send the outcome of the task ``key`` as the worker records the task's end.

        Not from the task: the worker would send that event at once, and the task's end, right
        behind it, would wait for the next batch of messages to the scheduler (2 ms later). Here,
        on the worker's event loop as it handles the end, the event is queued first and both
        leave in one batch: on a chain the next node starts that much sooner.
        """
        if self._outcomes:  # called for every task on this worker
            event = self._outcomes.pop(key, None)
            if event is None:
                return
            self._held.append(event)
            if not self.run.batch or not self._busy(key):
                self.send_held()  # nothing to send it with soon: a chain's link, the last
            elif len(self._held) == 1:
                self._worker.loop.call_later(self.run.batch, self.send_held)

    def _busy(self, key: Any) -> bool:
        """Whether this worker has another task ready or running (of any run)."""
        state = getattr(self._worker, "state", None)
        if state is None:
            return False
        return bool(state.ready) or any(task.key != key for task in state.executing)

    def send_held(self) -> list[list[Any]]:
        """Send the outcomes held (in one event); return them. On the worker's event loop."""
        held, self._held = self._held, []
        if held:
            self._worker.log_event(OUTCOMES_TOPIC, held)
        return held

    def begin(self, node_name: str) -> bool:
        """Note that ``node_name`` begins here; False if the run was stopped (it must not)."""
        with self._lock:
            if not self.stopped:
                self.started.add(node_name)
            return not self.stopped

    def stop(self) -> list[str]:
        """Let no more nodes begin here; the nodes that began."""
        with self._lock:
            self.stopped = True
            return sorted(self.started)

    def teardown(self, worker: Any) -> None:
        """Stop them when the run ends."""
        self.run.shell.close()
        _forward_logs(worker, -1)


@dataclass(frozen=True)
class NodeResult:
    """What a node's task returns: the data of its in-memory outputs, by name. It stays on the
    worker; the client fetches only the data of the free outputs, at the end."""

    outputs: dict[str, Any]


def run_node_task(
    plugin_name: str, node_name: str, memory_inputs: tuple[str, ...], *data: Any
) -> NodeResult:
    """Run the node ``node_name`` on this worker; ``data`` holds the values of
    ``memory_inputs``, in order.

    Raises:
        Exception: The node's error, unchanged (Dask sends it, with its traceback, to the
            client).
    """
    worker = get_worker()
    plugin = worker.plugins[plugin_name]
    assert isinstance(plugin, RunPlugin)
    if not plugin.begin(node_name):
        raise RunnerError(f"Node '{node_name}' was not run: the run had been stopped.")
    run = plugin.run
    node = run.nodes[node_name]
    inputs = {name: data_of(value, name) for name, value in zip(memory_inputs, data, strict=True)}
    catalog, outputs = run.catalog_for(node, inputs)
    outcome = run.shell.run(node, catalog, worker=str(worker.address), stop=threading.Event())
    plugin.report(worker.get_current_task(), outcome)
    if outcome.error is not None:
        raise outcome.error
    return NodeResult({name: dataset.content() for name, dataset in outputs.items()})


def stop_run(plugin_name: str, dask_worker: Any) -> tuple[list[str], list[list[Any]]]:
    """On a worker (``Client.run``, on its event loop): no node of the run may begin here any
    more; the nodes that began here, and the outcomes it held (sent too, so the client's drain
    need not wait for them); nothing if the run's plugin is not here."""
    plugin = dask_worker.plugins.get(plugin_name)
    if not isinstance(plugin, RunPlugin):
        return [], []
    return plugin.stop(), plugin.send_held()


def output_of(result: NodeResult, name: str) -> Any:
    """The data of the in-memory output ``name`` (a task of its own, so it has its own key)."""
    return result.outputs[name]


def data_of(value: Any, name: str) -> Any:
    """The data of ``name`` in ``value``: a producer's result (one output) or the data itself."""
    return value.outputs[name] if isinstance(value, NodeResult) else value

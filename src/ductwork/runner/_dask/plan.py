"""The client's side of a Dask run before anything is submitted: what travels, and how.

Datasets are sorted by :func:`~ductwork.runner.validation.sort_datasets`: in-memory data moves
between tasks as Dask futures and stays in the workers' memory; every other dataset, and any a
node confirms, is shipped to the workers once per run and loaded and saved there. Everything
that must travel is checked (:func:`~ductwork.runner.validation.check_travel`) before the
cluster is asked to do anything.
"""

from __future__ import annotations

from typing import Any

from ductwork.execution.time_limits import on_helper_thread
from ductwork.io.travel import copy_mode_of
from ductwork.runner._dask.worker import Unloadable, WorkerRun
from ductwork.runner.executors import RunContext
from ductwork.runner.validation import Offenders, check_travel, data_problems, sort_datasets

__all__ = ["prepare_worker_run"]

# Seconds a busy worker may hold a node's outcome to send it with the next ones, when Dask has
# the nodes ahead of the loop: one event for several, as often as the loop gathers them (see
# the executor's _GATHER); on a fan that is most of the events' cost to a local scheduler.
_BATCH = 0.01


def prepare_worker_run(context: RunContext) -> tuple[WorkerRun, frozenset[str]]:
    """What each worker receives once for this run, and the names of the in-memory datasets.

    Raises:
        NotPicklableError: Something that must travel cannot be pickled (every offender named).
    """
    pipeline, catalog = context.pipeline, context.catalog
    datasets, memory, shipped = sort_datasets(pipeline, catalog)
    loaded = {name for node in pipeline.nodes for name in node.inputs}
    produced = {name for node in pipeline.nodes for name in node.outputs}
    offenders: Offenders = {}
    free_inputs = _load_free_inputs(catalog, sorted((loaded & memory) - produced), offenders)
    shell = context.shell.enforcing(on_helper_thread)
    check_travel(pipeline.nodes, datasets, shipped, shell.plugins, "the Dask workers", offenders)
    copy_modes = {n: mode for n in memory if (mode := copy_mode_of(datasets[n])) is not None}
    nodes = {node.name: node for node in pipeline.nodes}
    batch = _BATCH if context.ahead else 0.0
    return WorkerRun(shell, nodes, shipped, free_inputs, copy_modes, batch), memory


def _load_free_inputs(catalog: Any, names: list[str], offenders: Offenders) -> dict[str, Any]:
    """Load each in-memory free input once, on the client, to send it to the workers.

    A dataset that fails to load (an empty memory dataset, a foreign dataset raising an error
    of its own) gives an :class:`Unloadable`: the node that loads it fails on its worker with
    that error, as it would in any runner, with its hooks fired.
    """
    values: dict[str, Any] = {}
    for name in names:
        try:
            values[name] = catalog.get(name).load()
        except Exception as error:  # raised on the worker, when the node loads it
            values[name] = Unloadable(error)
            continue
        if reasons := data_problems(values[name]):
            offenders[f"dataset '{name}'"] = reasons
    return values

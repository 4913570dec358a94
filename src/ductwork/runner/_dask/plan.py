"""The client's side of a Dask run before anything is submitted: what travels, and how.

Datasets fall in two groups. Memory datasets (:class:`~ductwork.io.MemoryDataset`, including the
runtime ones the run creates for undeclared names) hold data that moves between tasks as Dask
futures and stays in the workers' memory. Every other dataset (files, tables) is *shipped*: sent
to the workers once per run, with the hook plugins, and loaded and saved there.

Everything that must travel is checked before the cluster is asked to do anything, and every
offender is reported at once.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from ductwork.exceptions import DatasetError, NotPicklableError
from ductwork.io import CatalogProtocol, MemoryDataset
from ductwork.io.pickling import find_unpicklable
from ductwork.io.shared_memory_catalog import unpicklable_datasets
from ductwork.pipeline import Pipeline
from ductwork.runner._dask.worker import Unloadable, WorkerRun
from ductwork.runner.executors import RunContext

__all__ = ["RunPlan", "check_transferable", "load_free_memory_inputs", "plan_run"]

_ADVICE = (
    "The Dask runner pickles node functions (lambdas and closures are fine), the datasets it "
    "loads and saves on the workers, the hook plugins and the in-memory free inputs, to send "
    "them to the workers. Make these picklable (for example, create clients on first use and "
    "leave them out in __getstate__), or run with a thread or sequential runner."
)


@dataclass(frozen=True)
class RunPlan:
    """How the data of one run travels.

    Attributes:
        memory: Names whose data is held in memory: it moves between tasks as Dask futures
            (the free ones travel with the run, see ``free_memory_inputs``).
        shipped: The datasets loaded and saved on the workers, by name.
        free_memory_inputs: Memory datasets that nodes load but no node of the run produces
            (parameters, mostly): the client loads each once and sends the data to every
            worker, with the shipped datasets.
    """

    memory: frozenset[str]
    shipped: dict[str, Any]
    free_memory_inputs: tuple[str, ...]

    def worker_run(
        self,
        context: RunContext,
        plugins: list[tuple[str | None, object]],
        free_inputs: dict[str, Any],
    ) -> WorkerRun:
        """What each worker receives once for this run."""
        catalog = context.catalog
        copy_modes = {
            name: mode
            for name in self.memory
            if (mode := getattr(catalog.get(name), "_copy_mode", None)) is not None
        }
        options = context.options
        return WorkerRun(
            context.run_id,
            context.is_async,
            self.shipped,
            plugins,
            free_inputs,
            copy_modes,
            options.retry,
            options.timeout,
        )


def plan_run(pipeline: Pipeline, catalog: CatalogProtocol) -> RunPlan:
    """Sort the datasets of ``pipeline`` (all present in ``catalog`` after the warm-up)."""
    confirmed = {name for node in pipeline.nodes for name in node.confirms}
    datasets = {name: catalog.get(name) for name in sorted(pipeline.datasets() | confirmed)}
    memory = frozenset(
        name
        for name, dataset in datasets.items()
        if isinstance(dataset, MemoryDataset) and name not in confirmed
    )
    loaded = {name for node in pipeline.nodes for name in node.inputs}
    produced = {name for node in pipeline.nodes for name in node.outputs}
    return RunPlan(
        memory=memory,
        shipped={n: d for n, d in datasets.items() if n not in memory and d is not None},
        free_memory_inputs=tuple(sorted((loaded & memory) - produced)),
    )


def check_transferable(
    pipeline: Pipeline,
    plan: RunPlan,
    plugins: Iterable[tuple[str | None, object]],
    free_inputs: Mapping[str, Any],
) -> None:
    """Check that the nodes, datasets, plugins and free input data of a run can be pickled.

    Raises:
        NotPicklableError: Naming every offender and the attribute that failed.
    """
    offenders = {f"dataset '{n}'": why for n, why in unpicklable_datasets(plan.shipped).items()}
    for name, data in free_inputs.items():
        if reasons := find_unpicklable(data):
            offenders[f"dataset '{name}'"] = reasons
    for node in pipeline.nodes:
        if reasons := find_unpicklable(node):
            offenders[f"node '{node.name}'"] = reasons
    for number, (plugin_name, plugin) in enumerate(plugins):
        if reasons := find_unpicklable(plugin):
            offenders[f"plugin '{plugin_name or number}'"] = reasons
    if offenders:
        lines = [f"  {what}: {reason}" for what, why in offenders.items() for reason in why]
        raise NotPicklableError(
            f"Cannot send these to the Dask workers: {', '.join(offenders)}\n"
            + "\n".join(lines)
            + f"\n{_ADVICE}",
            offenders,
        )


def load_free_memory_inputs(catalog: CatalogProtocol, names: Iterable[str]) -> dict[str, Any]:
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
    return values

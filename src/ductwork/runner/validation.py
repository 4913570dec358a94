"""Before any worker starts: sort the datasets, pickle what must travel, name what cannot.

The process and Dask runners send their workers the nodes (with cloudpickle: lambdas, closures
and functions defined in ``__main__`` go by value), the shipped datasets (which ones:
:func:`sort_datasets`), the hook plugins, and the data of in-memory free inputs. Both sort and
check them here, with the same rule, the same labels (``"node 'x'"``, ``"dataset 'x'"``,
``"plugin 'x'"``) and the same error (:class:`~ductwork.exceptions.NotPicklableError`).
"""

from __future__ import annotations

import pickle
from collections.abc import Iterable, Mapping
from typing import Any

import cloudpickle

from ductwork.io import CatalogProtocol
from ductwork.io.pickling import find_unpicklable
from ductwork.io.travel import (
    SINGLE_PROCESS_REASON,
    dataset_problems,
    is_in_memory,
    is_single_process,
    not_picklable_error,
)
from ductwork.pipeline import Node, Pipeline

__all__ = [
    "Offenders",
    "check_travel",
    "data_problems",
    "node_offenders",
    "pickle_by_name_or_value",
    "sort_datasets",
]

Offenders = dict[str, list[str]]


def sort_datasets(
    pipeline: Pipeline, catalog: CatalogProtocol
) -> tuple[dict[str, Any], frozenset[str], dict[str, Any]]:
    """Sort ``pipeline``'s datasets by the rule of :mod:`ductwork.io.travel` (in memory, or
    shipped), except that a dataset a node confirms is shipped, in memory or not:
    ``confirm()`` is called on the dataset itself, where the node runs.

    Returns:
        Every dataset the nodes load, save or confirm, by name (``None``: not in the catalog);
        the names of those whose data moves between workers; the others (shipped), by name.
    """
    confirmed = {name for node in pipeline.nodes for name in node.confirms}
    datasets = {name: catalog.get(name) for name in sorted(pipeline.datasets() | confirmed)}
    memory = frozenset(n for n, ds in datasets.items() if is_in_memory(ds) and n not in confirmed)
    shipped = {n: ds for n, ds in datasets.items() if n not in memory and ds is not None}
    return datasets, memory, shipped


def pickle_by_name_or_value(value: object) -> bytes:
    """``value`` (a node, a function, a retry policy) pickled with protocol 5: by the standard
    pickler when everything in it is referred to by a name a worker can import, else by
    cloudpickle (lambdas, closures, anything of ``__main__``, modules registered to travel by
    value).

    The standard pickler is a few times faster, which counts when a pipeline has thousands of
    nodes; what it would send by a name a worker may not have goes by value instead.
    """
    if not getattr(cloudpickle.cloudpickle, "_PICKLE_BY_VALUE_MODULES", None):
        try:
            stream = pickle.dumps(value, protocol=5)
        except Exception:  # cloudpickle tries next, and names what fails
            pass
        else:
            if b"__main__" not in stream:
                return stream
    return bytes(cloudpickle.dumps(value, protocol=5))


def check_travel(
    nodes: Iterable[Node],
    datasets: Mapping[str, Any],
    shipped: Iterable[str],
    plugins: Iterable[tuple[str | None, object]],
    destination: str,
    offenders: Offenders | None = None,
) -> None:
    """Check that the nodes, datasets and plugins can travel; raise naming every offender.

    Args:
        nodes: The run's nodes (see :func:`node_offenders`).
        datasets: Every dataset of the run, by name: none may be single-process.
        shipped: The names of those that travel themselves: they must pickle.
        plugins: The hook plugins, named.
        destination: Where they go, for the message (``"the worker processes"``).
        offenders: What the caller already found (e.g. free input data that did not pickle).

    Raises:
        NotPicklableError: Naming each offender and why it cannot travel.
    """
    offenders = dict(offenders or {})
    node_offenders(nodes, offenders)
    shipped = set(shipped)
    for name in sorted(datasets):
        if name in shipped:
            reasons = dataset_problems(datasets[name])
        elif is_single_process(datasets[name]):
            reasons = [SINGLE_PROCESS_REASON]
        else:
            continue
        if reasons:
            offenders[f"dataset '{name}'"] = reasons
    for number, (plugin_name, plugin) in enumerate(plugins):
        if reasons := find_unpicklable(plugin):
            offenders[f"plugin '{plugin_name or number}'"] = reasons
    if offenders:
        headline = f"Cannot send these to {destination}: {', '.join(offenders)}"
        raise not_picklable_error(headline, offenders)


def node_offenders(nodes: Iterable[Node], offenders: Offenders) -> None:
    """Add to ``offenders`` each node that cannot travel, and why.

    What may fail to pickle in a node is what it refers to: its function, its retry policy and
    its class; the rest of its state is the names and tags its constructor checked. Each of
    those parts is pickled once (:func:`pickle_by_name_or_value`), however many nodes share it:
    pickled node by node, a function that goes by value (a lambda, anything of ``__main__``)
    would be pickled once per node, most of a large run's start.
    """
    reasons_of: dict[int, list[str]] = {}  # id(part): why it cannot travel; the nodes hold it
    for node in nodes:
        reasons: list[str] = []
        for part, what in ((node.func, "its function"), (node.retry, "its retry policy")):
            key = id(part)
            if key not in reasons_of:
                reasons_of[key] = _why_unpicklable(part)
            reasons += [f"{what}: {reason}" for reason in reasons_of[key]]
        if type(node) is not Node and not reasons:  # a subclass may hold more
            reasons = [f"its state: {reason}" for reason in _why_unpicklable(node)]
        if reasons:
            offenders[f"node '{node.name}'"] = reasons


def _why_unpicklable(part: object) -> list[str]:
    try:
        pickle_by_name_or_value(part)
    except Exception as error:
        return find_unpicklable(part) or [f"{type(error).__name__}: {error}"]
    return []


def data_problems(data: Any, error: Exception | None = None) -> list[str]:
    """Why the data of an in-memory dataset cannot travel (``[]``: it can)."""
    reasons = find_unpicklable(data) or ([f"{type(error).__name__}: {error}"] if error else [])
    return [f"its data: {reason}" for reason in reasons]

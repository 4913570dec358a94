"""Before any worker starts: pickle what must travel, and name everything that cannot, at once.

The process and Dask runners send their workers the nodes (with cloudpickle: lambdas, closures
and functions defined in ``__main__`` go by value), the shipped datasets (see
:mod:`ductwork.io.travel` for which datasets are shipped and which stay in memory), the hook
plugins, and the data of in-memory free inputs. Both check them here, with the same rule, the
same labels (``"node 'x'"``, ``"dataset 'x'"``, ``"plugin 'x'"``) and the same error
(:class:`~ductwork.exceptions.NotPicklableError`).
"""

from __future__ import annotations

import pickle
from collections.abc import Iterable, Mapping
from typing import Any

import cloudpickle

from ductwork.io.pickling import find_unpicklable
from ductwork.io.travel import (
    SINGLE_PROCESS_REASON,
    dataset_problems,
    is_single_process,
    not_picklable_error,
)
from ductwork.pipeline import Node

__all__ = ["Offenders", "check_travel", "data_problems", "pickle_node"]

Offenders = dict[str, list[str]]


def pickle_node(node: Node) -> bytes:
    """``node`` pickled with protocol 5: by the standard pickler when it refers to its function by
    name, else by cloudpickle (lambdas, closures, anything of ``__main__``, modules registered to
    travel by value).

    The standard pickler is a few times faster, which counts when a pipeline has thousands of
    nodes; what it would send by a name a worker may not have goes by value instead.
    """
    if not getattr(cloudpickle.cloudpickle, "_PICKLE_BY_VALUE_MODULES", None):
        try:
            stream = pickle.dumps(node, protocol=5)
        except Exception:  # cloudpickle tries next, and names what fails
            pass
        else:
            if b"__main__" not in stream:
                return stream
    return bytes(cloudpickle.dumps(node, protocol=5))


def check_travel(
    nodes: Iterable[Node],
    datasets: Mapping[str, Any],
    shipped: Iterable[str],
    plugins: Iterable[tuple[str | None, object]],
    destination: str,
    offenders: Offenders | None = None,
) -> dict[Node, bytes]:
    """Pickle each node; check the datasets and plugins; raise naming every offender.

    Args:
        nodes: The run's nodes.
        datasets: Every dataset of the run, by name: none may be single-process.
        shipped: The names of those that travel themselves: they must pickle.
        plugins: The hook plugins, named.
        destination: Where they go, for the message (``"the worker processes"``).
        offenders: What the caller already found (e.g. free input data that did not pickle).

    Returns:
        Each node, pickled (see :func:`pickle_node`).

    Raises:
        NotPicklableError: Naming each offender and why it cannot travel.
    """
    offenders = dict(offenders or {})
    pickled: dict[Node, bytes] = {}
    for node in nodes:
        try:
            pickled[node] = pickle_node(node)
        except Exception as error:
            reasons = find_unpicklable(node.func) or [f"{type(error).__name__}: {error}"]
            offenders[f"node '{node.name}'"] = [f"its function: {r}" for r in reasons]
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
    return pickled


def data_problems(data: Any, error: Exception | None = None) -> list[str]:
    """Why the data of an in-memory dataset cannot travel (``[]``: it can)."""
    reasons = find_unpicklable(data) or ([f"{type(error).__name__}: {error}"] if error else [])
    return [f"its data: {reason}" for reason in reasons]

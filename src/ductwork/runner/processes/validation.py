"""Before any worker starts: pickle what must travel, and name everything that cannot, at once.

Node functions travel with cloudpickle (lambdas, closures and functions defined in ``__main__``
go by value). Of the catalog, only the datasets the pipeline uses are looked at: the persisted
ones travel to every worker; in-memory ones do not travel (their data does), but a dataset marked
``_SINGLE_PROCESS`` cannot be shared between processes either way. Hook plugins travel once per
worker. When something fails, :func:`ductwork.io.pickling.find_unpicklable` says which attribute.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import cloudpickle

from ductwork.exceptions import NotPicklableError
from ductwork.io.pickling import SINGLE_PROCESS_REASON, dataset_problems, find_unpicklable
from ductwork.pipeline import Node

__all__ = ["Offenders", "check_datasets", "pickle_nodes", "pickle_payload", "raise_for"]

Offenders = dict[str, list[str]]

_ADVICE = (
    "Worker processes receive these pickled (with cloudpickle). Make them picklable (for "
    "example, create clients and locks on first use and leave them out in __getstate__), or "
    "run with ThreadRunner or SequentialRunner."
)


def pickle_nodes(nodes: Iterable[Node], offenders: Offenders) -> dict[Node, bytes]:
    """Pickle each node once (they are sent as they are submitted); record those that fail."""
    pickled: dict[Node, bytes] = {}
    for node in nodes:
        try:
            pickled[node] = cloudpickle.dumps(node, protocol=5)
        except Exception as error:
            reasons = find_unpicklable(node.func) or [f"{type(error).__name__}: {error}"]
            offenders[f"node '{node.name}'"] = [f"its function: {r}" for r in reasons]
    return pickled


def check_datasets(datasets: Mapping[str, Any], offenders: Offenders) -> None:
    """Record the datasets that must stay in one process (``_SINGLE_PROCESS``)."""
    for name in sorted(datasets):
        if getattr(datasets[name], "_SINGLE_PROCESS", False):
            offenders[f"dataset '{name}'"] = [SINGLE_PROCESS_REASON]


def pickle_payload(
    payload: Any,
    persisted: Mapping[str, Any],
    plugins: list[tuple[str | None, object]],
    offenders: Offenders,
) -> bytes:
    """Pickle the workers' set-up; if that fails, record which dataset or plugin is to blame.

    Pickling everything in one go is the fast path; the object-by-object search only runs when
    it fails.
    """
    try:
        return bytes(cloudpickle.dumps(payload, protocol=5))
    except Exception as error:
        found = False
        for dataset in sorted(persisted):
            reasons = dataset_problems(persisted[dataset])
            if reasons:
                offenders[f"dataset '{dataset}'"] = reasons
                found = True
        for number, (plugin_name, plugin) in enumerate(plugins):
            reasons = find_unpicklable(plugin)
            if reasons:
                offenders[f"hook plugin '{plugin_name or number}'"] = reasons
                found = True
        if not found:
            offenders["the worker set-up"] = [f"{type(error).__name__}: {error}"]
        return b""


def raise_for(offenders: Offenders) -> None:
    """Raise one error naming every offender, if there is any.

    Raises:
        NotPicklableError: Listing each offender and why it cannot travel.
    """
    if not offenders:
        return
    lines = [f"  {what}: {reason}" for what, reasons in offenders.items() for reason in reasons]
    raise NotPicklableError(
        "Cannot send these to the worker processes:\n" + "\n".join(lines) + f"\n{_ADVICE}",
        offenders,
    )

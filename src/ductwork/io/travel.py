"""What may travel to a worker process or a Dask worker, and what "in memory" means.

One rule, used by the process and Dask runners and by ``SharedMemoryDataCatalog``:

* A dataset is **in memory** when it is flagged ``_EPHEMERAL`` (memory, shared-memory and
  cached datasets) or when there is none yet (the runtime default will hold it in memory). Its
  data, not the dataset, moves between workers.
* Every other dataset is **shipped**: pickled (with cloudpickle) and sent to the workers, which
  load and save it themselves. It cannot travel if it is marked ``_SINGLE_PROCESS`` (its state
  must stay in one process, like a cache) or if it cannot be pickled (the reason names the
  attribute that fails, see :func:`ductwork.io.pickling.find_unpicklable`).

Offenders are reported all at once, with one advice text, in one error type
(:class:`~ductwork.exceptions.NotPicklableError`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import cloudpickle

from ductwork.exceptions import NotPicklableError
from ductwork.io.pickling import Dumps, find_unpicklable

__all__ = [
    "ADVICE",
    "SINGLE_PROCESS_REASON",
    "copy_mode_of",
    "dataset_problems",
    "is_in_memory",
    "is_single_process",
    "not_picklable_error",
    "unpicklable_datasets",
]

SINGLE_PROCESS_REASON = "it is marked single-process (_SINGLE_PROCESS = True)"

ADVICE = (
    "Workers receive node functions, shipped datasets, hook plugins and in-memory input data "
    "pickled (with cloudpickle: lambdas and closures are fine). Make these picklable (for "
    "example, create clients and locks on first use and leave them out in __getstate__), or run "
    "with ThreadRunner or SequentialRunner."
)


def is_in_memory(dataset: Any) -> bool:
    """Whether a dataset's data lives only in memory during a run (``None``: not created yet)."""
    return dataset is None or bool(getattr(dataset, "_EPHEMERAL", False))


def copy_mode_of(dataset: Any) -> Any:
    """The copy mode an in-memory dataset was given (``None``: inferred from the data)."""
    return getattr(dataset, "_copy_mode", None)


def is_single_process(dataset: Any) -> bool:
    """Whether a dataset's state must stay in one process (it can neither travel nor be shared)."""
    return bool(getattr(dataset, "_SINGLE_PROCESS", False))


def dataset_problems(dataset: Any, dumps: Dumps = cloudpickle.dumps) -> list[str]:
    """Return why ``dataset`` cannot be shipped to another process, or ``[]`` if it can."""
    if is_single_process(dataset):
        return [SINGLE_PROCESS_REASON]
    return find_unpicklable(dataset, dumps)


def unpicklable_datasets(datasets: Mapping[str, Any]) -> dict[str, list[str]]:
    """Each dataset of ``datasets`` that cannot be shipped, with its reasons, in name order."""
    offenders: dict[str, list[str]] = {}
    for name in sorted(datasets):
        reasons = dataset_problems(datasets[name])
        if reasons:
            offenders[name] = reasons
    return offenders


def not_picklable_error(
    headline: str,
    offenders: Mapping[str, list[str]],
    error_type: type[NotPicklableError] = NotPicklableError,
) -> NotPicklableError:
    """The error: ``headline``, then each offender with each reason, then the advice.

    Args:
        headline: The first line, e.g. ``"Cannot send these to the Dask workers: ..."``.
        offenders: What cannot travel, with its reasons (``"dataset 'db'"``, or for
            :class:`~ductwork.exceptions.DatasetNotPicklableError` the dataset names, quoted in
            the message).
        error_type: ``NotPicklableError`` or a subclass.
    """
    quote = error_type is not NotPicklableError
    lines = [
        f"  {what!r}: {reason}" if quote else f"  {what}: {reason}"
        for what, reasons in offenders.items()
        for reason in reasons
    ]
    return error_type("\n".join([headline, *lines, ADVICE]), dict(offenders))

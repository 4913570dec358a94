"""``--runner NAME``: the runner classes, found by name when asked for.

The process and Dask runners are looked up in :mod:`ductwork.runner` only when chosen, so the
command works (and says what is missing) whether or not they, or Dask, are installed.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ductwork.exceptions import ProjectConfigError

if TYPE_CHECKING:  # the catalog and the runners load when a run is built, not for --help
    from ductwork.io import DataCatalog
    from ductwork.runner import AbstractRunner

__all__ = ["RUNNER_NAMES", "RunnerOptions", "catalog_class", "make_runner", "runner_available"]


@dataclass(frozen=True)
class _Choice:
    class_name: str
    takes_max_workers: bool
    missing: str
    takes_max_running: bool = True


_RUNNERS = {
    "sequential": _Choice("SequentialRunner", False, "", takes_max_running=False),
    "thread": _Choice("ThreadRunner", True, ""),
    "parallel": _Choice(
        "ParallelRunner",
        True,
        "the parallel runner is not in this installation of ductwork; upgrade ductwork, or "
        "choose --runner thread",
    ),
    "dask": _Choice("DaskRunner", False, "the dask runner needs `pip install 'ductwork[dask]'`"),
}
RUNNER_NAMES = tuple(_RUNNERS)


@dataclass(frozen=True)
class RunnerOptions:
    """How to build the runner: ``--runner``, ``--max-workers``, ``--async``, ``--dask-address``,
    and the failure options ``--retries``, ``--timeout``, ``--keep-going``, ``--max-running``."""

    name: str = "sequential"
    max_workers: int | None = None
    is_async: bool = False
    dask_address: str | None = None
    retries: int | None = None
    timeout: float | None = None
    keep_going: bool = False
    max_running: int | None = None


def _runner_class(name: str) -> type[AbstractRunner]:
    choice = _RUNNERS.get(name)
    if choice is None:
        raise ProjectConfigError(
            f"Unknown runner {name!r}: choose one of {', '.join(RUNNER_NAMES)}."
        )
    try:
        found = getattr(importlib.import_module("ductwork.runner"), choice.class_name, None)
    except ImportError as error:
        raise ProjectConfigError(f"{choice.missing} ({error}).") from error
    if found is None:
        raise ProjectConfigError(f"{choice.missing}.")
    runner_class: type[AbstractRunner] = found
    return runner_class


def runner_available(name: str) -> bool:
    """Tell whether ``--runner name`` can be used in this installation."""
    try:
        _runner_class(name)
    except ProjectConfigError:
        return False
    return True


def make_runner(options: RunnerOptions) -> AbstractRunner:
    """The runner ``options`` describe.

    Raises:
        ProjectConfigError: The runner is unknown, not installed, or given an option it does
            not take.
    """
    choice = _RUNNERS.get(options.name)
    runner_class = _runner_class(options.name)
    assert choice is not None
    kwargs: dict[str, Any] = {"is_async": True} if options.is_async else {}
    if options.max_workers is not None:
        if not choice.takes_max_workers:
            raise ProjectConfigError(
                f"--max-workers does not apply to the {options.name} runner (it is for thread "
                "and parallel)."
            )
        kwargs["max_workers"] = options.max_workers
    if options.dask_address is not None:
        if options.name != "dask":
            raise ProjectConfigError("--dask-address applies only to --runner dask.")
        kwargs["address"] = options.dask_address
    kwargs.update(_failure_options(options, choice))
    try:
        return runner_class(**kwargs)
    except ImportError as error:
        raise ProjectConfigError(f"{choice.missing} ({error}).") from error
    except (TypeError, ValueError) as error:
        raise ProjectConfigError(
            f"The {options.name} runner cannot be built so: {error}"
        ) from error


def _failure_options(options: RunnerOptions, choice: _Choice) -> dict[str, Any]:
    kwargs: dict[str, Any] = {}
    if options.retries:
        from ductwork.pipeline import Retry  # noqa: PLC0415 (see the imports)

        kwargs["retry"] = Retry(attempts=options.retries + 1)
    if options.timeout is not None:
        kwargs["timeout"] = options.timeout
    if options.keep_going:
        kwargs["keep_going"] = True
    if options.max_running is not None:
        if not choice.takes_max_running:
            raise ProjectConfigError(
                f"--max-running does not apply to the {options.name} runner, which runs one "
                "node at a time."
            )
        kwargs["max_running"] = options.max_running
    return kwargs


def catalog_class(runner: str) -> type[DataCatalog]:
    """The catalog class a runner works with: shared-memory datasets for the process runner."""
    from ductwork.io import DataCatalog, SharedMemoryDataCatalog  # noqa: PLC0415

    return SharedMemoryDataCatalog if runner == "parallel" else DataCatalog

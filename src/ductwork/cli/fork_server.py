"""``ductwork run --runner parallel``: the fork server starts early, with the project imported.

Under the ``forkserver`` start method every worker is a fork of one server process per parent
process, which starts on first use and imports its *preload* modules first. Started by the first
run, it makes that run wait while it imports ductwork, and then every worker imports the
project's own modules (and what they import: pandas, say) on its own, on the run's clock.

:func:`start_fork_server` starts it at once instead, while the caller is still loading the
project (the command line calls it as soon as it knows the runner), with the worker module and
the given modules preloaded: the server imports them in parallel with the caller, and the first
run's workers are forks of a process that has them all in memory.

A preload module that fails to import must not take the server down (the standard preload
ignores only ``ImportError``), nor be imported by a server started without being asked: the
server preloads this module, which imports what :data:`_ENV` names (set only while the server
starts) and ignores every failure. A worker that needs a module that failed here imports
it itself, and reports the error as usual.
"""

from __future__ import annotations

import contextlib
import importlib
import json
import multiprocessing
import os
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from ductwork.runner.processes.server import unstarted_fork_server

if TYPE_CHECKING:
    from ductwork.runner import AbstractRunner

__all__ = ["start_fork_server", "start_workers_early"]

_ENV = "DUCTWORK_FORK_SERVER_PRELOAD"
_WORKER_MODULE = "ductwork.runner.processes.worker"


def start_fork_server(modules: Sequence[str], dataset_types: Sequence[str] = ()) -> bool:
    """Start this process's fork server now, preloading the worker module and ``modules``, and
    the modules of ``dataset_types`` (``type:`` values of catalog entries, as resolved there).

    Returns:
        False, doing nothing, when the platform has no fork server or this process's server
        already runs (what it imported cannot change: a later run must not fork from a server
        holding modules of another project).
    """
    if "forkserver" not in multiprocessing.get_all_start_methods():
        return False
    server = unstarted_fork_server([_WORKER_MODULE, __name__])
    if server is None:
        return False
    previous = os.environ.get(_ENV)
    os.environ[_ENV] = json.dumps([list(modules), list(dataset_types)])
    try:
        server.ensure_running()
    finally:
        if previous is None:
            del os.environ[_ENV]
        else:
            os.environ[_ENV] = previous
    return True


def start_workers_early(runner: AbstractRunner, spec: str, catalog: dict[str, Any]) -> None:
    """For a process runner using a fork server: start the server now, importing the pipeline's
    module and the catalog's dataset classes there while this process loads the project, so
    that the run's workers start as forks of a process that has the project (and what its nodes
    and datasets import) in memory. ``catalog`` is the catalog's configuration."""
    from ductwork.runner import ParallelRunner  # noqa: PLC0415 (loaded by make_runner already)

    if not isinstance(runner, ParallelRunner) or runner.start_method != "forkserver":
        return
    if os.getcwd() not in sys.path:
        sys.path.insert(0, os.getcwd())  # where the pipeline's module is found, as it is here
    types = {e.get("type") for e in catalog.values() if isinstance(e, dict)}
    start_fork_server([spec.partition(":")[0]], sorted(t for t in types if isinstance(t, str)))


def _preload_from_environment() -> None:
    with contextlib.suppress(BaseException):  # a worker imports what it needs, and says why
        modules, dataset_types = json.loads(os.environ[_ENV])
        for name in modules:
            with contextlib.suppress(BaseException):
                importlib.import_module(name)
        from ductwork.io._config import resolve_dataset_type  # noqa: PLC0415

        for type_value in dataset_types:
            with contextlib.suppress(BaseException):
                resolve_dataset_type(type_value)


if _ENV in os.environ:  # in a fork server started by start_fork_server
    _preload_from_environment()

"""``AbstractRunner``: what every runner does around the run loop.

``run()`` fires the pipeline hooks, narrows the pipeline to the missing outputs when asked,
checks the free inputs before any node runs, gives undeclared datasets a runtime dataset, builds
the run's node shell, runs the loop over the subclass's executor, and returns the free outputs
as dataset objects. A subclass only says which executor runs the nodes, and its options.

Foreign objects are adapted here, where they enter: a hook manager becomes a
:class:`~ductwork.hooks.manager.HookSnapshot`; a catalog is used through the public methods of
:class:`~ductwork.io.CatalogProtocol` only (and :func:`~ductwork.io._protocols.forget_datasets`,
the one adapter for catalogs written for Kedro).
"""

from __future__ import annotations

import logging
import os
import secrets
import sys
import time
from abc import ABC, abstractmethod
from collections.abc import Collection
from dataclasses import replace
from datetime import datetime, timezone
from functools import partial
from typing import TYPE_CHECKING, Any

from ductwork.exceptions import MissingInputsError, NodesFailedError, RunnerOptionError
from ductwork.execution import NodeShell, RunOptions, add_note
from ductwork.hooks.manager import HookSnapshot
from ductwork.io import CatalogProtocol
from ductwork.io._protocols import forget_datasets
from ductwork.pipeline import Node, Pipeline, Retry
from ductwork.runner.executors import NodeExecutor, RunContext
from ductwork.runner.loop import RunObserver, RunResult, run_loop
from ductwork.runner.selection import is_persisted, log_resume_suggestion, select_missing_outputs

if TYPE_CHECKING:  # pluggy itself is imported only where a run has plugins
    from pluggy import PluginManager

__all__ = ["AbstractRunner", "generate_run_id"]

_MAX_WINDOWS_WORKERS = 61


def generate_run_id() -> str:
    """A new run id: a UTC timestamp that sorts in run order, plus a random suffix."""
    stamp = datetime.now(timezone.utc).strftime("%Y-%m-%dT%H.%M.%S.%fZ")
    return f"{stamp}-{secrets.token_hex(3)}"


class AbstractRunner(ABC):
    """Runs a pipeline's nodes against a catalog; subclasses choose where nodes run."""

    _max_workers = 1  # the most nodes run at once (set by runners with workers)
    _logs_synchronous_mode = False  # say at INFO when not asynchronous (as some Kedro runners do)

    def __init__(
        self,
        is_async: bool = False,
        *,
        retry: Retry | None = None,
        timeout: float | None = None,
        keep_going: bool = False,
        max_running: int | None = None,
    ) -> None:
        """Create a runner.

        Args:
            is_async: Load each node's inputs and save its outputs concurrently, on threads.
            retry: Retry policy for nodes without one of their own (see ``Retry``).
            timeout: Time limit in seconds for nodes without one of their own, for all attempts
                of a node together. What happens at the limit depends on the runner.
            keep_going: After a failure, run every node that does not depend on a failed one,
                then raise ``NodesFailedError`` listing every failure.
            max_running: The most nodes running at once, whatever the worker count.

        Raises:
            RunnerOptionError: An option is out of range (a ``ValueError``).
        """
        self._is_async = is_async
        self._options = RunOptions(retry, timeout, keep_going, max_running)

    @property
    def _logger(self) -> logging.Logger:
        return logging.getLogger(type(self).__module__)

    def run(
        self,
        pipeline: Pipeline,
        catalog: CatalogProtocol,
        hook_manager: PluginManager | None = None,
        run_id: str | None = None,
        only_missing_outputs: bool = False,
        *,
        observer: RunObserver | None = None,
        incremental: bool | str | os.PathLike[str] | Any = False,
    ) -> dict[str, Any]:
        """Run ``pipeline`` against ``catalog``.

        Args:
            pipeline: The nodes to run.
            catalog: Where their data lives. Datasets it does not declare are created for the run
                (in memory); the free outputs among them stay in the catalog afterwards, the
                intermediates do not.
            hook_manager: Plugins to call around the run, each node and each load and save.
            run_id: An id for this run, passed to every hook; generated when not given.
            only_missing_outputs: Run only the nodes needed to produce persisted outputs that
                do not exist yet (and what depends on them in memory).
            observer: Told when each node starts and finishes, on the calling thread (the
                command line's progress display and run journal use this).
            incremental: Skip every node whose code, parameters and inputs have not changed
                since its last successful run (``ductwork.incremental``): True for the store
                ``.ductwork/cache.sqlite``, or the store's path, or a ``Store``. The result then
                also says what ran and why (``.ran``, ``.skipped``, ``.planner.decisions``).

        Returns:
            Each free output of the (possibly narrowed) pipeline, by name, as its dataset object:
            ``run(...)["out"].load()`` gives the data.

        Raises:
            MissingInputsError: Free inputs are missing from the catalog (a ``ValueError``);
                raised before any node runs.
            Exception: A node's own exception, unchanged, with a note naming the node.
        """
        run_id = run_id or generate_run_id()
        if incremental is not False and incremental is not None:
            from ductwork.incremental import run_incremental  # noqa: PLC0415 (only when asked)

            if only_missing_outputs:
                pipeline = self._filter_pipeline_for_missing_outputs(pipeline, catalog)
            store: Any = None if incremental is True else incremental
            return run_incremental(
                self,
                pipeline,
                catalog,
                store=store,
                hook_manager=hook_manager,
                run_id=run_id,
                observer=observer,
            )
        hooks = HookSnapshot(hook_manager)
        run_params = {
            "run_id": run_id,
            "runner": type(self).__name__,
            "is_async": self._is_async,
            "only_missing_outputs": only_missing_outputs,
        }
        hooks.before_pipeline_run(run_params=run_params, pipeline=pipeline, catalog=catalog)
        try:
            to_run = pipeline
            if only_missing_outputs:
                to_run = self._filter_pipeline_for_missing_outputs(pipeline, catalog)
            shell = NodeShell.for_run(run_id, self._is_async, self._options, hooks)
            meter = getattr(observer, "meter", None)  # observers may be duck-typed
            digest = getattr(observer, "digest", None)
            if meter is not None or digest is not None:
                shell = replace(shell, meter=meter, digest=digest)
            ahead = getattr(observer, "gate", None) is None and self._options.max_running is None
            result = self._run_pipeline(RunContext(to_run, catalog, shell, ahead), observer)
        except (Exception, KeyboardInterrupt) as error:
            hooks.on_pipeline_error(
                error=error, run_params=run_params, pipeline=pipeline, catalog=catalog
            )
            raise
        hooks.after_pipeline_run(
            run_params=run_params, run_result=result, pipeline=pipeline, catalog=catalog
        )
        return result

    def _run_pipeline(self, context: RunContext, observer: RunObserver | None) -> dict[str, Any]:
        pipeline, catalog = context.pipeline, context.catalog
        created = _warm_up(pipeline, catalog)
        if self._is_async:
            self._logger.info("Asynchronous mode is enabled for loading and saving data.")
        elif self._logs_synchronous_mode:
            self._logger.info(
                "Using synchronous mode for loading and saving data. Pass is_async=True to "
                "load a node's inputs and save its outputs concurrently."
            )
        started = time.perf_counter()
        # The run's own intermediates leave the caller's catalog however the run ends; the free
        # outputs stay (after a failure, those of the branches that finished can be loaded).
        try:
            with self._create_executor(context) as executor:
                result = run_loop(
                    pipeline, executor, self._logger, observer or RunObserver(), self._options
                )
                if result.failures and not self._options.keep_going:
                    # Raised inside: the executor then stops what still runs, at once.
                    raise self._failure_error(pipeline, catalog, result)
                executor.collect(_produced_outputs(pipeline, result))
        finally:
            forget_datasets(catalog, created - pipeline.outputs())
        if result.failures:
            raise self._failure_error(pipeline, catalog, result)
        self._logger.info(
            "Pipeline execution completed successfully in %.1f sec.",
            time.perf_counter() - started,
        )
        return {name: catalog[name] for name in pipeline.outputs()}

    def _filter_pipeline_for_missing_outputs(
        self, pipeline: Pipeline, catalog: CatalogProtocol
    ) -> Pipeline:
        """Narrow ``pipeline`` to the nodes needed for missing persisted outputs (logged)."""
        return select_missing_outputs(pipeline, catalog, self._logger)

    def _failure_error(
        self, pipeline: Pipeline, catalog: CatalogProtocol, result: RunResult
    ) -> BaseException:
        """Suggest how to resume; return the error to raise for the run's failures."""
        self._suggest_resume_scenario(pipeline, result.finished, catalog)
        failures = [(o.node.name, o.error) for o in result.failures if o.error is not None]
        for name, error in failures:
            add_note(error, f"ductwork: raised by node '{name}'.")
        if not self._options.keep_going:
            return failures[0][1]
        error = NodesFailedError(failures)
        error.__cause__ = failures[0][1]
        return error

    @abstractmethod
    def _create_executor(self, context: RunContext) -> NodeExecutor:
        """The executor this runner's nodes run on, for one run."""

    def _suggest_resume_scenario(
        self, pipeline: Pipeline, done_nodes: Collection[Node], catalog: CatalogProtocol
    ) -> None:
        """Log, at WARNING, how to resume the failed run from persisted data."""
        log_resume_suggestion(pipeline, done_nodes, partial(is_persisted, catalog), self._logger)

    def _get_required_workers_count(self, pipeline: Pipeline) -> int:
        """Workers for ``pipeline``: at most its widest layer, ``max_workers``, ``max_running``."""
        limit = min(self._max_workers, self._options.max_running or self._max_workers)
        widest_layer = max(1, len(pipeline.nodes) - len(pipeline.grouped_nodes) + 1)
        return min(widest_layer, limit)

    @classmethod
    def _validate_max_workers(cls, max_workers: int | None) -> int:
        """The worker count to use: the CPU count when not given; positive otherwise.

        Raises:
            RunnerOptionError: ``max_workers`` is zero or negative (a ``ValueError``).
        """
        if max_workers is None:
            count = os.cpu_count() or 1
            return min(count, _MAX_WINDOWS_WORKERS) if sys.platform == "win32" else count
        if max_workers <= 0:
            raise RunnerOptionError("max_workers should be positive")
        return max_workers


def _produced_outputs(pipeline: Pipeline, result: RunResult) -> set[str]:
    # Executors skip the names they hold nothing for (withdrawn nodes never ran).
    failed = {name for outcome in result.failures for name in outcome.node.outputs}
    return pipeline.outputs() - failed


def _warm_up(pipeline: Pipeline, catalog: CatalogProtocol) -> set[str]:
    """Check the free inputs, then give every dataset of the run a dataset object.

    Returns:
        The names that got a runtime dataset (they were not declared in the catalog).
    """
    datasets = pipeline.datasets()
    declared = {name for name in datasets if name in catalog}
    missing = sorted(pipeline.inputs() - declared)
    if missing:
        listing = ", ".join(repr(name) for name in missing)
        raise MissingInputsError(
            f"Pipeline input(s) {{{listing}}} not found in the {type(catalog).__name__}. Add "
            "them to the catalog (catalog[name] = data, or an entry in its configuration) "
            "before running."
        )
    # Declared entries first, in name order, so that a broken configuration fails the same
    # way every time; then the runtime datasets, which need no order.
    for name in [*sorted(declared), *(datasets - declared)]:
        catalog.get(name, fallback_to_runtime_pattern=True)
    return datasets - declared

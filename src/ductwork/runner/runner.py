"""``AbstractRunner``: what every runner does around the run loop.

``run()`` fires the pipeline hooks, narrows the pipeline to the missing outputs when asked,
checks that every free input is in the catalog before any node runs, gives undeclared datasets a
runtime dataset, runs the loop over the subclass's executor, and returns the free outputs as
dataset objects. A subclass only says which executor runs the nodes.
"""

from __future__ import annotations

import logging
import os
import secrets
import sys
import time
from abc import ABC, abstractmethod
from collections.abc import Collection
from concurrent.futures import Executor, ThreadPoolExecutor
from contextlib import ExitStack
from datetime import datetime, timezone
from functools import partial
from typing import Any

from pluggy import PluginManager

from ductwork.exceptions import MissingInputsError, NodesFailedError
from ductwork.execution.attempts import add_note
from ductwork.hooks.manager import HookCaller
from ductwork.io import CatalogProtocol
from ductwork.pipeline import Node, Pipeline, Retry
from ductwork.runner.executors import NodeExecutor, RunContext, RunOptions
from ductwork.runner.loop import NodeFailedError, RunObserver, RunProgress, run_loop
from ductwork.runner.selection import (
    is_persisted,
    log_resume_suggestion,
    select_missing_outputs,
)

__all__ = ["AbstractRunner", "generate_run_id"]

_MAX_WINDOWS_WORKERS = 61


def generate_run_id() -> str:
    """A new run id: a UTC timestamp that sorts in run order, plus a random suffix."""
    stamp = datetime.now(timezone.utc).strftime("%Y-%m-%dT%H.%M.%S.%fZ")
    return f"{stamp}-{secrets.token_hex(3)}"


class AbstractRunner(ABC):
    """Runs a pipeline's nodes against a catalog; subclasses choose where nodes run."""

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
            timeout: Time limit in seconds for nodes without one of their own; it covers all
                attempts of a node. What happens at the limit depends on the runner.
            keep_going: After a failure, run every node that does not depend on a failed one,
                then raise ``NodesFailedError`` listing every failure.
            max_running: The most nodes running at once, whatever the worker count.

        Raises:
            ValueError: An option is out of range.
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

        Returns:
            Each free output of the (possibly narrowed) pipeline, by name, as its dataset object:
            ``run(...)["out"].load()`` gives the data.

        Raises:
            MissingInputsError: Free inputs are missing from the catalog (a ``ValueError``);
                raised before any node runs.
            Exception: A node's own exception, unchanged, with a note naming the node.
        """
        run_id = run_id or generate_run_id()
        hooks = HookCaller(hook_manager)
        run_params = self._run_params(run_id, only_missing_outputs)
        hooks.before_pipeline_run(run_params=run_params, pipeline=pipeline, catalog=catalog)
        try:
            result = self._run_pipeline(
                pipeline, catalog, hooks, run_id, only_missing_outputs, observer or RunObserver()
            )
        except (Exception, KeyboardInterrupt) as error:
            hooks.on_pipeline_error(
                error=error, run_params=run_params, pipeline=pipeline, catalog=catalog
            )
            raise
        hooks.after_pipeline_run(
            run_params=run_params, run_result=result, pipeline=pipeline, catalog=catalog
        )
        return result

    def _run_params(self, run_id: str, only_missing_outputs: bool) -> dict[str, Any]:
        return {
            "run_id": run_id,
            "runner": type(self).__name__,
            "is_async": self._is_async,
            "only_missing_outputs": only_missing_outputs,
        }

    def _run_pipeline(
        self,
        pipeline: Pipeline,
        catalog: CatalogProtocol,
        hooks: HookCaller,
        run_id: str,
        only_missing_outputs: bool,
        observer: RunObserver,
    ) -> dict[str, Any]:
        if only_missing_outputs:
            pipeline = self._filter_pipeline_for_missing_outputs(pipeline, catalog)
        created = _warm_up(pipeline, catalog)
        if self._is_async:
            self._logger.info("Asynchronous mode is enabled for loading and saving data.")
        started = time.perf_counter()
        # The run's own intermediates leave the caller's catalog however the run ends; the free
        # outputs stay (after a failure, those of the branches that finished can be loaded).
        with ExitStack() as stack:
            stack.callback(_forget, catalog, created - pipeline.outputs())
            io_pool = self._io_pool(stack)
            context = RunContext(
                pipeline, catalog, hooks, run_id, self._is_async, io_pool, self._options
            )
            self._run(context, observer)
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

    def _run(self, context: RunContext, observer: RunObserver) -> None:
        """Run the loop over this runner's executor; on failures, suggest how to resume."""
        pipeline = context.pipeline
        progress = RunProgress(total=len(pipeline.nodes))
        try:
            with self._create_executor(context) as executor:
                run_loop(pipeline, executor, progress, self._logger, observer, context.options)
                executor.collect(_produced_outputs(pipeline, progress))
        except NodeFailedError as failure:
            progress.failures.append(failure.outcome)
        # Raised outside the except block, so that the node's exception keeps its own context.
        if progress.failures:
            self._suggest_resume_scenario(pipeline, progress.finished, context.catalog)
            raise self._failure_error(progress)

    def _failure_error(self, progress: RunProgress) -> BaseException:
        for outcome in progress.failures:
            assert outcome.error is not None
            add_note(outcome.error, f"ductwork: raised by node '{outcome.node.name}'.")
        if not self._options.keep_going:
            error = progress.failures[0].error
            assert error is not None
            return error
        failures = [(o.node.name, o.error) for o in progress.failures if o.error is not None]
        error = NodesFailedError(failures)
        error.__cause__ = failures[0][1]
        return error

    def _io_pool(self, stack: ExitStack) -> Executor | None:
        if not self._is_async:
            return None
        return stack.enter_context(ThreadPoolExecutor(thread_name_prefix="ductwork-io"))

    @abstractmethod
    def _create_executor(self, context: RunContext) -> NodeExecutor:
        """The executor this runner's nodes run on, for one run."""

    def _suggest_resume_scenario(
        self, pipeline: Pipeline, done_nodes: Collection[Node], catalog: CatalogProtocol
    ) -> None:
        """Log, at WARNING, how to resume the failed run from persisted data."""
        log_resume_suggestion(pipeline, done_nodes, partial(is_persisted, catalog), self._logger)

    def _log_synchronous_mode(self) -> None:
        """Log, when not asynchronous, that loads and saves run one after another."""
        if not self._is_async:
            self._logger.info(
                "Using synchronous mode for loading and saving data. Pass is_async=True to "
                "load a node's inputs and save its outputs concurrently."
            )

    @staticmethod
    def _widest_layer(pipeline: Pipeline) -> int:
        """The most nodes of ``pipeline`` that can ever run at once (at least 1)."""
        return max(1, len(pipeline.nodes) - len(pipeline.grouped_nodes) + 1)

    @classmethod
    def _validate_max_workers(cls, max_workers: int | None) -> int:
        """The worker count to use: the CPU count when not given; positive otherwise.

        Raises:
            ValueError: ``max_workers`` is zero or negative.
        """
        if max_workers is None:
            count = os.cpu_count() or 1
            return min(count, _MAX_WINDOWS_WORKERS) if sys.platform == "win32" else count
        if max_workers <= 0:
            raise ValueError("max_workers should be positive")
        return max_workers


def _produced_outputs(pipeline: Pipeline, progress: RunProgress) -> set[str]:
    # Every free output but those of failed nodes (withdrawn nodes never ran, and executors
    # skip names they hold nothing for).
    failed = {name for outcome in progress.failures for name in outcome.node.outputs}
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


def _forget(catalog: CatalogProtocol, names: Collection[str]) -> None:
    for name in names:
        catalog._datasets.pop(name, None)

"""ductwork's runners as Kedro runners: ``kedro run --runner=ductwork.kedro.ParallelRunner``.

Each class here subclasses ``kedro.runner.AbstractRunner``, so Kedro's session accepts it, and
runs the session's pipeline, catalog and hook manager on the matching ductwork runner: the same
run loop, scheduler, executors and node path as any ductwork run. Kedro's objects are adapted
where they come in (:mod:`._pipeline`, :mod:`._catalog`, :mod:`._hooks`); nothing here runs a
node.

A run also writes ductwork's journal under the project's ``.ductwork/runs`` (read it with
``ductwork report``), shows a live progress display when standard error is a terminal, and, when
a node fails, logs the ``kedro run`` command that resumes the run.
"""

from __future__ import annotations

import logging
import os
import sys
import threading
from collections.abc import Collection, Mapping
from functools import partial
from pathlib import Path
from types import FrameType
from typing import Any, ClassVar

from kedro.runner import AbstractRunner as KedroAbstractRunner

from ductwork import runner as dw
from ductwork.cli.plan import plan_run
from ductwork.io import CatalogProtocol
from ductwork.kedro._catalog import run_catalog, save_free_outputs
from ductwork.kedro._command import ResumeCommand
from ductwork.kedro._hooks import KedroHooks, bridge_manager
from ductwork.kedro._observe import live_display, run_observers
from ductwork.kedro._pipeline import convert_pipeline
from ductwork.pipeline import Node, Pipeline, Retry
from ductwork.report.journal import RunJournal
from ductwork.runner.selection import is_persisted
from ductwork.scheduling import resume_from_nodes

__all__ = ["DaskRunner", "ParallelRunner", "SequentialRunner", "ThreadRunner"]

JOURNAL_DIRECTORY = Path(".ductwork") / "runs"
CACHE_FILE = Path(".ductwork") / "cache.sqlite"


class _KedroRunner(KedroAbstractRunner):  # type: ignore[misc]
    """What the four runners share; subclasses say which ductwork runner to build."""

    _crosses: ClassVar[str | None] = None
    """Where hook plugins must travel to ("worker processes"), if anywhere."""

    def __init__(
        self,
        is_async: bool | str = False,
        *,
        retries: int | str | None = None,
        timeout: float | str | None = None,
        keep_going: bool | str = False,
        max_running: int | str | None = None,
        journal: bool | str = True,
        incremental: bool | str = False,
    ) -> None:
        """Create the runner; values may be strings, as ``--runner-params`` may give them.

        Args:
            is_async: Load each node's inputs and save its outputs concurrently, on threads.
            retries: Run a failing node again up to this many times (``0``: never).
            timeout: Time limit of each node, in seconds.
            keep_going: After a failure, run every node that does not depend on a failed one.
            max_running: The most nodes running at once (not for ``SequentialRunner``).
            journal: Write ductwork's run journal under the project's ``.ductwork/runs``.
            incremental: Skip nodes whose code, parameters and inputs have not changed since
                their last successful run (store: the project's ``.ductwork/cache.sqlite``).

        Raises:
            ValueError: A value is out of range or not of its type.
        """
        super().__init__(is_async=_flag(is_async, "is_async"))
        self._params: dict[str, Any] = {}
        retry_count = 0 if retries is None else _count(retries, "retries", minimum=0)
        self._failure_options: dict[str, Any] = {
            "retry": Retry(attempts=retry_count + 1) if retry_count else None,
            "timeout": _seconds(timeout),
            "keep_going": _flag(keep_going, "keep_going"),
        }
        if max_running is not None:
            self._failure_options["max_running"] = _count(max_running, "max_running")
        self._journal = _flag(journal, "journal")
        self._incremental = _flag(incremental, "incremental")
        self._remember(
            is_async=self._is_async,
            retries=retry_count or None,
            timeout=self._failure_options["timeout"],
            keep_going=self._failure_options["keep_going"] or None,
            max_running=self._failure_options.get("max_running"),
            incremental=self._incremental or None,
        )
        # Fail now, not after the session has loaded the project: a bad option is a usage error.
        self._ductwork_runner()

    def _remember(self, **params: Any) -> None:
        """Record the options worth repeating in a resume command (the non-default ones)."""
        self._params.update({k: v for k, v in params.items() if v not in (None, False)})

    def _ductwork_runner(self) -> dw.AbstractRunner:
        raise NotImplementedError

    # Kedro's abstract methods: the work is done in run(), on ductwork's runner.
    def _get_executor(self, max_workers: int) -> None:
        return None

    def _run(self, *args: Any, **kwargs: Any) -> None:
        raise NotImplementedError(f"{type(self).__name__} runs through run().")

    def run(
        self,
        pipeline: Any,
        catalog: Any,
        hook_manager: Any = None,
        run_id: str | None = None,
        only_missing_outputs: bool = False,
    ) -> dict[str, Any]:
        """Run the session's ``pipeline`` against its ``catalog`` with its hooks.

        Returns:
            Each free output of the pipeline, by name, as the catalog's dataset object.

        Raises:
            Exception: A node's own exception (with a note naming the node), or ductwork's
                errors for what cannot run (missing inputs, what cannot reach the workers),
                raised before any node runs.
        """
        pipeline_name = _session_pipeline_name(sys._getframe(1))
        converted = convert_pipeline(pipeline)
        catalog_for_run = run_catalog(catalog, converted.pipeline)
        kedro_hooks = None
        if hook_manager is not None:
            kedro_hooks = KedroHooks(hook_manager, converted.kedro_nodes, catalog, catalog_for_run)
            if self._crosses is not None:
                kedro_hooks.check_picklable(self._crosses)
        plan = plan_run(converted.pipeline, catalog_for_run, only_missing=only_missing_outputs)
        if only_missing_outputs:
            _log_missing_outputs(self._logger, plan.skipped, len(plan.pipeline.nodes))
        command = ResumeCommand(
            f"{type(self).__module__.rsplit('.', 1)[0]}.{type(self).__name__}", self._params
        )
        runner = self._ductwork_runner()
        journal = self._new_journal(plan, run_id, command, pipeline_name, catalog_for_run)
        resumer = _Resumer(self._logger, command, journal)
        runner._suggest_resume_scenario = resumer  # type: ignore[method-assign]
        hook_manager_for_run = bridge_manager(kedro_hooks)
        if journal is not None:  # the journal times each load and save, as under ductwork run
            hook_manager_for_run.register(journal.hooks, name="ductwork.journal")
        with run_observers(journal, len(plan.to_run.nodes), _title(pipeline)) as observer:
            run_id = journal.run_id if journal is not None else run_id
            if self._incremental:
                _run_incremental(
                    runner,
                    plan.to_run,
                    catalog_for_run,
                    hook_manager_for_run,
                    run_id,
                    observer,
                    journal,
                )
            else:
                runner.run(
                    plan.to_run,
                    catalog_for_run,
                    hook_manager_for_run,
                    run_id=run_id,
                    observer=observer,
                )
        return save_free_outputs(catalog, catalog_for_run, plan.to_run.outputs())

    def _new_journal(
        self,
        plan: Any,
        run_id: str | None,
        command: ResumeCommand,
        pipeline_name: str | None,
        catalog: CatalogProtocol,
    ) -> RunJournal | None:
        if not self._journal:
            return None
        return RunJournal(
            _project_path() / JOURNAL_DIRECTORY,
            plan.pipeline,
            run_id=run_id,
            runner=f"kedro:{type(self).__name__}",
            pipeline_spec=pipeline_name,
            reasons=plan.reasons,
            skipped=plan.skipped,
            catalog=catalog,  # which datasets are persisted, their types and, after, their sizes
            info={
                "pipeline_name": pipeline_name,
                "command": command.again(),
                "options": dict(self._params),
                "cwd": os.getcwd(),
                "pid": os.getpid(),
            },
        )


def _run_incremental(
    runner: dw.AbstractRunner,
    pipeline: Pipeline,
    catalog: CatalogProtocol,
    hook_manager: Any,
    run_id: str | None,
    observer: Any,
    journal: RunJournal | None,
) -> None:
    """Skip what is up to date (store: the project's ``.ductwork/cache.sqlite``); the journal
    gets each node's reason, as ``ductwork run --incremental`` writes them."""
    from ductwork.incremental import into_journal, run_incremental  # noqa: PLC0415

    run_incremental(
        runner,
        pipeline,
        catalog,
        store=_project_path() / CACHE_FILE,
        hook_manager=hook_manager,
        run_id=run_id,
        observer=observer,
        on_decided=None if journal is None else into_journal(journal),
    )


class _Resumer:
    """Logs, in place of ductwork's suggestion, the ``kedro run`` command that resumes."""

    def __init__(
        self, logger: logging.Logger, command: ResumeCommand, journal: RunJournal | None
    ) -> None:
        self._logger = logger
        self._command = command
        self._journal = journal

    def __call__(
        self, pipeline: Pipeline, done_nodes: Collection[Node], catalog: CatalogProtocol
    ) -> None:
        if not done_nodes:
            self._logger.warning(
                "No nodes ran. Repeat the previous command to attempt a new run:\n  %s",
                self._command.again(),
            )
            return
        done = set(done_nodes)
        unfinished = [node for node in pipeline.nodes if node not in done]
        names = resume_from_nodes(pipeline.graph, unfinished, partial(is_persisted, catalog))
        if self._journal is not None:
            self._journal.update(resume_from_nodes=names)
        exact = "" if self._command.is_exact() else " (add the pipeline options of this run)"
        self._logger.warning(
            "%d of %d nodes did not finish. To resume from the nearest nodes whose inputs are "
            "persisted, run%s:\n  %s",
            len(unfinished),
            len(pipeline.nodes),
            exact,
            self._command.from_nodes(names),
        )


class SequentialRunner(_KedroRunner):
    """ductwork's ``SequentialRunner`` for Kedro: one node at a time, in the calling thread."""

    def __init__(
        self,
        is_async: bool | str = False,
        *,
        retries: int | str | None = None,
        timeout: float | str | None = None,
        keep_going: bool | str = False,
        journal: bool | str = True,
        incremental: bool | str = False,
    ) -> None:
        """See :class:`ThreadRunner` for the arguments (this runner has no worker count)."""
        super().__init__(
            is_async,
            retries=retries,
            timeout=timeout,
            keep_going=keep_going,
            journal=journal,
            incremental=incremental,
        )

    def _ductwork_runner(self) -> dw.AbstractRunner:
        return dw.SequentialRunner(self._is_async, **self._failure_options)


class ThreadRunner(_KedroRunner):
    """ductwork's ``ThreadRunner`` for Kedro: independent nodes at once, on threads.

    Unlike Kedro's, it supports ``is_async=True`` (loads and saves on further threads).
    """

    def __init__(
        self,
        max_workers: int | str | None = None,
        is_async: bool | str = False,
        **options: Any,
    ) -> None:
        """Create the runner; ``options`` are those of :class:`_KedroRunner`."""
        self._max_workers = None if max_workers is None else _count(max_workers, "max_workers")
        super().__init__(is_async, **options)
        self._remember(max_workers=self._max_workers)

    def _ductwork_runner(self) -> dw.AbstractRunner:
        return dw.ThreadRunner(self._max_workers, self._is_async, **self._failure_options)


class ParallelRunner(_KedroRunner):
    """ductwork's ``ParallelRunner`` for Kedro: independent nodes at once, on processes.

    Unlike Kedro's, the project's node and dataset hooks fire in the workers; functions travel
    with cloudpickle (lambdas and closures work), and so do datasets (kedro-datasets holding an
    fsspec filesystem included); in-memory data moves through shared memory. Workers start with
    ``mp_context``, else ``KEDRO_MP_CONTEXT`` when it is set, else by ``fork`` where that is
    safe (Linux, no other thread in the process, no live display), else with ``forkserver``.
    """

    _crosses = "worker processes"

    def __init__(
        self,
        max_workers: int | str | None = None,
        is_async: bool | str = False,
        mp_context: str | None = None,
        **options: Any,
    ) -> None:
        """Create the runner; ``options`` are those of :class:`_KedroRunner`."""
        self._max_workers = None if max_workers is None else _count(max_workers, "max_workers")
        self._mp_context = mp_context or _kedro_mp_context()
        super().__init__(is_async, **options)
        self._remember(max_workers=self._max_workers, mp_context=mp_context)

    def _ductwork_runner(self) -> dw.AbstractRunner:
        return dw.ParallelRunner(
            self._max_workers,
            self._is_async,
            self._mp_context or _start_method(),
            **self._failure_options,
        )


class DaskRunner(_KedroRunner):
    """ductwork's ``DaskRunner`` for Kedro: nodes as tasks on a Dask cluster.

    Give ``address`` (``--runner-params address=tcp://host:8786``) to use a running scheduler;
    without it each run starts a local cluster of ``n_workers`` processes.
    """

    _crosses = "Dask workers"

    def __init__(
        self,
        address: str | None = None,
        is_async: bool | str = False,
        n_workers: int | str | None = None,
        threads_per_worker: int | str | None = None,
        **options: Any,
    ) -> None:
        """Create the runner; ``options`` are those of :class:`_KedroRunner`."""
        self._address = address
        self._n_workers = None if n_workers is None else _count(n_workers, "n_workers")
        self._threads = (
            None if threads_per_worker is None else _count(threads_per_worker, "threads_per_worker")
        )
        super().__init__(is_async, **options)
        self._remember(address=address, n_workers=self._n_workers, threads_per_worker=self._threads)

    def _ductwork_runner(self) -> dw.AbstractRunner:
        return dw.DaskRunner(
            address=self._address,
            is_async=self._is_async,
            n_workers=self._n_workers,
            threads_per_worker=self._threads,
            **self._failure_options,
        )


def _log_missing_outputs(logger: logging.Logger, skipped: Mapping[str, str], total: int) -> None:
    if len(skipped) == total:
        logger.info("Skipping all %d nodes (all persistent outputs exist)", total)
        return
    if skipped:
        names = ", ".join(sorted(skipped))
        logger.info("Skipping %d nodes with existing outputs: %s", len(skipped), names)
    logger.info("Running %d out of %d nodes", total - len(skipped), total)


def _title(pipeline: Any) -> str:
    return f"kedro run ({len(pipeline.nodes)} nodes)"


def _session_pipeline_name(caller: FrameType) -> str | None:
    """The name of the pipeline Kedro's session runs, when ``caller`` is ``KedroSession.run``.

    Kedro hands the runner the filtered pipeline, not its name; the name is only in the run
    parameters the session gives its hooks (``pipeline_names`` in newer releases, ``pipeline_name``
    in older ones), which the session holds as a local of ``run`` while it calls the runner.
    Several pipelines (``--pipelines a,b``) are named ``a,b``; none is Kedro's ``__default__``.
    A runner called some other way (a script calling ``run`` itself) gets None.
    """
    if caller.f_globals.get("__name__") != "kedro.framework.session.session":
        return None
    record = caller.f_locals.get("record_data")
    if not isinstance(record, Mapping):
        return None
    names = record.get("pipeline_names") or [record.get("pipeline_name") or "__default__"]
    return ",".join(str(name) for name in names)


def _project_path() -> Path:
    """The Kedro project the current directory belongs to (else the current directory)."""
    from kedro.utils import find_kedro_project  # noqa: PLC0415

    found = find_kedro_project(Path.cwd())
    return Path(found) if found is not None else Path.cwd()


def _kedro_mp_context() -> str | None:
    # Kedro's own ParallelRunner reads this variable; projects that set it keep their choice.
    value = os.environ.get("KEDRO_MP_CONTEXT")
    return value if value in ("fork", "spawn", "forkserver") else None


def _start_method() -> str | None:
    """``fork`` where it is safe, else ductwork's default (``forkserver``).

    A forked worker starts at once with everything ``kedro run`` imported (the project, Kedro,
    pandas), where a worker started by the fork server imports it all again: seconds per worker
    in a Kedro project. Forking is unsafe only when another thread may hold a lock at that moment,
    so it is chosen only when this process has no other thread and no live display will start
    one (on macOS, where system libraries break after a fork, never).
    """
    single = threading.active_count() == 1
    if single and sys.platform == "linux" and not live_display():
        return "fork"
    return None


_TRUE = ("1", "true", "yes", "on")
_FALSE = ("0", "false", "no", "off", "")


def _flag(value: bool | str, name: str) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in _TRUE + _FALSE:
        return value.strip().lower() in _TRUE
    raise ValueError(f"{name} must be true or false, got {value!r}.")


def _count(value: int | str, name: str, minimum: int = 1) -> int:
    try:
        number = int(value)
    except (TypeError, ValueError):
        number = None
    if (
        number is None
        or isinstance(value, bool)
        or number < minimum
        or str(number) != str(value).strip()
    ):
        raise ValueError(f"{name} must be a whole number of at least {minimum}, got {value!r}.")
    return number


def _seconds(value: float | str | None) -> float | None:
    if value is None:
        return None
    try:
        return float(value)
    except (TypeError, ValueError):
        raise ValueError(f"timeout must be a number of seconds, got {value!r}.") from None

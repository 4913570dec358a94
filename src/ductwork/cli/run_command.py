"""``ductwork run``: prepare the run, run it with a progress display and a journal, report.

Exit codes: 0 the run succeeded (or there was nothing to do); 1 a node failed (the node, its
error and the exact command to resume are printed); 2 the command cannot run as asked (a usage
or configuration error: a message, no traceback unless ``-v``); 130 the run was interrupted
with Ctrl-C and stopped cleanly (its journal records the nodes that finished).
"""

from __future__ import annotations

import logging
import os
import platform
import socket
import time
import traceback
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

from pluggy import PluginManager
from rich.console import Console

import ductwork
from ductwork import __version__
from ductwork.cli.configuration import ConfigOptions, load_hooks, load_project_config
from ductwork.cli.exit_guard import guard_process_exit
from ductwork.cli.fork_server import start_workers_early
from ductwork.cli.incremental_command import explain, run_incrementally
from ductwork.cli.interrupt import InterruptGuard
from ductwork.cli.plan import SELECTED, Filters, RunPlan, format_dry_run, plan_run, select
from ductwork.cli.progress import (
    LOGGER_NAME,
    LiveProgress,
    Observers,
    PlainProgress,
    configure_logging,
    seconds,
)
from ductwork.cli.project import (
    ProjectSettings,
    default_pipeline,
    enter_project,
    load_pipeline,
    read_settings,
)
from ductwork.cli.report_command import live_report
from ductwork.cli.resume import CommandLine, last_run, still_running
from ductwork.cli.runners import RunnerOptions, catalog_class, make_runner
from ductwork.cli.secrets import Secrets, scrubbed_stderr
from ductwork.exceptions import DuctworkError, JournalError, ProjectConfigError
from ductwork.io import DataCatalog
from ductwork.report.journal import DEFAULT_DIRECTORY, RunJournal, error_record, unfinished_nodes
from ductwork.runner import AbstractRunner, RunObserver
from ductwork.runner.selection import is_persisted
from ductwork.scheduling import resume_from_nodes

__all__ = ["RunRequest", "execute"]

OK, NODE_FAILED, USAGE_ERROR, INTERRUPTED = 0, 1, 2, 130
_logger = logging.getLogger(LOGGER_NAME)


@dataclass(frozen=True)
class RunRequest:
    """Everything ``ductwork run`` was asked, before the project settings fill the gaps."""

    command: CommandLine
    typed: str
    pipeline_name: str | None = None
    catalog: tuple[str, ...] = ()
    params: tuple[str, ...] = ()
    env: str | None = None
    conf_source: str | None = None
    hooks: tuple[str, ...] = ()
    runner: RunnerOptions | None = None
    only_missing: bool = False
    filters: Filters = field(default_factory=Filters)
    run_id: str | None = None
    resume: bool = False
    dry_run: bool = False
    journal_dir: str | None = None
    incremental: bool = False
    explain: bool = False
    cache: str | None = None
    quiet: bool = False
    verbosity: int = 0
    serve: bool = False


@dataclass
class _Session:
    spec: str
    pipeline_name: str | None
    runner_options: RunnerOptions
    runner: AbstractRunner
    catalog: DataCatalog
    plan: RunPlan
    journal_dir: Path
    began: float = field(default_factory=time.time)
    hook_manager: PluginManager | None = None
    env: str | None = None
    secrets: tuple[str, ...] = ()


def execute(request: RunRequest) -> int:
    """Run the command; return its exit code."""
    secrets = Secrets()
    with scrubbed_stderr(secrets):
        return _execute(request, secrets)


def _execute(request: RunRequest, secrets: Secrets) -> int:
    console = Console(stderr=True, highlight=False, soft_wrap=True)
    live = console.is_terminal and not request.quiet
    with configure_logging(request.verbosity, request.quiet, console if live else None):
        try:
            session = _prepare(request, console, secrets)
            if session is None:
                return OK
            if request.dry_run:
                plan = session.plan
                incremental = request.incremental
                print(
                    explain(plan.to_run, session.catalog, request.cache)
                    if incremental
                    else format_dry_run(plan)
                )
                return OK
            return _run(request, session, console, live)
        except KeyboardInterrupt:
            console.print("Interrupted before the run started.")
            return INTERRUPTED
        except DuctworkError as error:
            _usage_error(console, error, request.verbosity)
            return USAGE_ERROR


def _usage_error(console: Console, error: BaseException, verbosity: int) -> None:
    if verbosity:
        console.print("".join(traceback.format_exception(error)).rstrip(), markup=False)
    console.print(f"Error: {error}", markup=False, style="bold red")


def _settings_runner(request: RunRequest, settings: ProjectSettings) -> RunnerOptions:
    given = request.runner or RunnerOptions(name="")
    return RunnerOptions(
        name=given.name or settings.runner or "sequential",
        max_workers=given.max_workers if given.max_workers is not None else settings.max_workers,
        is_async=given.is_async,
        dask_address=given.dask_address,
        retries=given.retries,
        timeout=given.timeout,
        keep_going=given.keep_going,
        max_running=given.max_running,
    )


def _prepare(request: RunRequest, console: Console, secrets: Secrets) -> _Session | None:
    began = time.time()
    cwd = Path.cwd()
    settings = read_settings(cwd)
    enter_project(settings)
    spec = request.command.pipeline or default_pipeline(settings)
    if spec is None:
        raise ProjectConfigError(
            "No pipeline to run: give PIPELINE as 'module:attribute', or set `pipeline` in "
            "[tool.ductwork] of ./pyproject.toml."
        )
    options = _settings_runner(request, settings)
    runner = make_runner(options)  # before importing the project: an unusable runner fails fast
    given = ConfigOptions(
        request.catalog, request.params, request.env, request.conf_source, request.hooks
    )
    config = load_project_config(given, settings, cwd)
    # Before anything can echo them: every secret of the configuration, scrubbed from stderr
    # and from the journal's errors from now on.
    secrets.add_from({"credentials": config.credentials})
    secrets.add_from(config.catalog, credential_names=True)
    secrets.add_from(config.parameters)
    start_workers_early(runner, spec, config.catalog)  # they import the project as this does
    hook_manager = load_hooks(given, settings)
    pipeline, name = load_pipeline(spec, request.pipeline_name or settings.pipeline_name)
    selected = select(pipeline, request.filters)
    catalog = config.make_catalog(catalog_class(options.name))
    journal_dir = cwd / request.journal_dir if request.journal_dir else None
    journal_dir = journal_dir or Path(settings.journal_dir or DEFAULT_DIRECTORY).absolute()
    resume = _run_to_resume(journal_dir, spec, name) if request.resume else None
    if resume is not None and resume.get("status") == "success":
        console.print(f"Nothing to resume: the last run of {spec} ({resume['run_id']}) succeeded.")
        return None
    plan = plan_run(selected, catalog, only_missing=request.only_missing, resume=resume)
    return _Session(
        spec,
        name,
        options,
        runner,
        catalog,
        plan,
        journal_dir,
        began,
        hook_manager,
        config.env,
        secrets.values,
    )


def _run_to_resume(journal_dir: Path, spec: str, name: str | None) -> dict[str, Any]:
    journal = last_run(journal_dir, spec, name)
    if journal is None:
        raise JournalError(f"Nothing to resume: no run of {spec} is recorded in {journal_dir}.")
    if still_running(journal):
        raise JournalError(
            f"Run {journal['run_id']} of {spec} is still running (process {journal['pid']}): "
            "wait for it to end, or stop it, before resuming."
        )
    return journal


def _open_journal(request: RunRequest, session: _Session) -> RunJournal:
    plan, options = session.plan, session.runner_options
    journal = RunJournal(
        session.journal_dir,
        plan.pipeline,
        run_id=request.run_id,
        runner=options.name,
        pipeline_spec=session.spec,
        reasons={name: why for name, why in plan.reasons.items() if why != SELECTED},
        skipped=plan.skipped,
        catalog=session.catalog,
        secrets=session.secrets,
        info={
            "pipeline_name": session.pipeline_name,
            "command": request.typed,
            "resume_command": request.command.resume(),
            "resumed_from": plan.resumed_from,
            "options": {
                "max_workers": options.max_workers,
                "is_async": options.is_async,
                "only_missing_outputs": request.only_missing,
                "incremental": request.incremental,
                "filters": request.filters.given(),
                "catalog": list(request.catalog),
                "params": list(request.params),
                "env": session.env,
                "hooks": list(request.hooks),
            },
            "cwd": os.getcwd(),
            "host": socket.gethostname(),
            "pid": os.getpid(),
            "python": platform.python_version(),
            "ductwork": __version__,
        },
    )
    if request.run_id is not None and journal.path.exists():
        raise JournalError(
            f"Run id {request.run_id!r} is taken ({journal.path} exists): choose another --run-id."
        )
    return journal


def _run(request: RunRequest, session: _Session, console: Console, live: bool) -> int:
    journal = _open_journal(request, session)
    total = len(session.plan.to_run.nodes)
    progress: RunObserver = RunObserver()
    display: AbstractContextManager[Any] = nullcontext()
    if live:
        progress = display = LiveProgress(console, total, session.spec)
    elif not request.quiet:
        progress = PlainProgress(total)
    journal.start()
    journal.phase("loading the project", session.began, journal.record["started"])
    _logger.info(
        "Run %s: %d of %d nodes of %s, %s runner. Journal: %s",
        journal.run_id,
        total,
        len(session.plan.pipeline.nodes),
        session.spec,
        session.runner_options.name,
        journal.path,
    )
    error: BaseException | None = None
    guard = InterruptGuard(partial(_stop_now, journal, console))
    with live_report(journal.path, request.serve, console):
        with guard, guard_process_exit():
            try:
                with display:
                    _run_pipeline(request, session, journal, Observers([journal, progress]))
            except (Exception, KeyboardInterrupt) as caught:
                error = caught
            except SystemExit as exit:  # not from a node (the shell makes those NodeExitError)
                error = RuntimeError(f"the run raised SystemExit({exit.code!r}) outside any node")
        code = _conclude(request, session, journal, console, error)
    if journal.write_error is not None:
        console.print(
            f"Error: the run journal {journal.path} could not be written "
            f"({journal.write_error.strerror or journal.write_error}): it does not record how "
            "this run ended, and a resume would run again nodes that finished.",
            markup=False,
            style="bold red",
        )
    return guard.exit_code if code == INTERRUPTED else code


def _run_pipeline(
    request: RunRequest, session: _Session, journal: RunJournal, observer: RunObserver
) -> None:
    if session.hook_manager is not None:  # the journal times each load and save
        session.hook_manager.register(journal.hooks, name="ductwork.journal")
    if request.incremental:
        run_incrementally(
            session.runner,
            session.plan.to_run,
            session.catalog,
            run_id=journal.run_id,
            journal=journal,
            observer=observer,
            cache=request.cache,
            explain_after=request.explain,
            hook_manager=session.hook_manager,
        )
        return
    session.runner.run(
        session.plan.to_run,
        session.catalog,
        session.hook_manager,
        run_id=journal.run_id,
        observer=observer,
    )


def _stop_now(journal: RunJournal, console: Console) -> None:
    """The second Ctrl-C: record what is known and quit without waiting."""
    journal.finish("interrupted")
    console.print("Stopped at once. Nodes that were running may have left partial output.")


def _conclude(
    request: RunRequest,
    session: _Session,
    journal: RunJournal,
    console: Console,
    error: BaseException | None,
) -> int:
    if error is None:
        journal.finish("success")
        if not request.quiet:
            _say_success(journal, console)
        return OK
    if isinstance(error, KeyboardInterrupt):
        journal.finish("interrupted")
        _say_stopped(request, journal, console, "Interrupted.")
        return INTERRUPTED
    if any(entry["status"] == "failed" for entry in journal.record["nodes"]):
        journal.finish("failed")
        _say_failure(request, session, journal, console, error)
        return NODE_FAILED
    journal.finish("error", error_record(error, secrets=session.secrets))
    if isinstance(error, DuctworkError):
        _usage_error(console, error, request.verbosity)
        return USAGE_ERROR
    console.print("".join(traceback.format_exception(error)).rstrip(), markup=False)
    console.print(f"Error: the run failed outside any node: {error!r}", markup=False)
    return NODE_FAILED


def _user_traceback(error: BaseException, verbosity: int) -> str:
    """The node's traceback without ductwork's own frames (all of them with ``-v``)."""
    described = traceback.TracebackException.from_exception(error)
    if not verbosity:
        own = str(Path(ductwork.__file__).parent)
        kept = [frame for frame in described.stack if not frame.filename.startswith(own)]
        if kept:
            described.stack = traceback.StackSummary.from_list(kept)
    return "".join(described.format()).rstrip()


def _say_success(journal: RunJournal, console: Console) -> None:
    record = journal.record
    counts = record.get("counts", {})
    took = seconds(record["finished"] - record["started"])
    console.print(
        f"Run {journal.run_id} succeeded: {counts.get('done', 0)} nodes done, "
        f"{counts.get('skipped', 0)} skipped, in {took}. Journal: {journal.path}",
        markup=False,
    )


def _say_stopped(request: RunRequest, journal: RunJournal, console: Console, what: str) -> None:
    counts = journal.record.get("counts", {})
    total = len(journal.record["nodes"])
    finished = counts.get("done", 0) + counts.get("skipped", 0)
    console.print(
        f"{what} {finished} of {total} nodes finished. Journal: {journal.path}\n"
        f"Resume the run (runs only what did not finish):\n  {request.command.resume()}",
        markup=False,
    )


def _say_failure(
    request: RunRequest,
    session: _Session,
    journal: RunJournal,
    console: Console,
    error: BaseException,
) -> None:
    failed = journal.record["error"] or {}
    if not request.quiet:
        console.print(_user_traceback(error, request.verbosity), markup=False)
    console.print(
        f"Node '{failed.get('node')}' failed: {failed.get('type')}: {failed.get('message')}",
        markup=False,
        style="bold red",
    )
    _say_stopped(request, journal, console, "The run failed.")
    pipeline = session.plan.pipeline
    unfinished = set(unfinished_nodes(journal.record))
    names = resume_from_nodes(
        pipeline.graph,
        [node for node in pipeline.nodes if node.name in unfinished],
        partial(is_persisted, session.catalog),
    )
    if names:
        journal.update(resume_from_nodes=names)
        journal.write()
        console.print(
            "or run again from the nearest nodes whose inputs are persisted:\n  "
            + request.command.from_nodes(names),
            markup=False,
        )

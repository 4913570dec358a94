"""``ductwork run --incremental`` (with ``--dry-run --explain``) and ``ductwork cache``.

The run options are added to ``ductwork run`` by :func:`incremental_options`; the decisions are
:mod:`ductwork.incremental`'s (imported only when an incremental run or ``cache`` is asked for).
Each node's reason to run or to be skipped goes to the run journal, which the report shows.
"""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from ductwork.exceptions import DuctworkError

if TYPE_CHECKING:  # loaded when a command runs, not for ``--help``
    from ductwork.incremental import Decision, Planner
    from ductwork.io import CatalogProtocol
    from ductwork.pipeline import Pipeline
    from ductwork.report.journal import RunJournal
    from ductwork.runner import AbstractRunner, RunObserver

__all__ = ["cache", "explain", "incremental_options", "run_incrementally", "store_path"]

_DEFAULT_STORE = Path(".ductwork") / "cache.sqlite"
_USAGE_ERROR = 2
_DAY = 86400.0


def incremental_options(command: Callable[..., Any]) -> Callable[..., Any]:
    """Add ``--incremental``, ``--explain`` and ``--cache`` to ``ductwork run``."""
    command = click.option(
        "--cache",
        type=click.Path(dir_okay=False),
        help="The incremental-run store (default .ductwork/cache.sqlite).",
    )(command)
    command = click.option(
        "--explain", is_flag=True, help="With --incremental: print why each node runs or not."
    )(command)
    return click.option(
        "--incremental",
        is_flag=True,
        help="Skip nodes whose code, parameters and inputs have not changed.",
    )(command)


def store_path(given: str | None) -> Path:
    """The store's path: ``--cache``, else ``cache`` in [tool.ductwork], else the default."""
    if given:
        return Path(given)
    from ductwork.cli.project import read_settings  # noqa: PLC0415 (see the imports)

    settings = read_settings(Path.cwd())
    configured = getattr(settings, "cache", None)
    return Path(configured) if configured else _DEFAULT_STORE


def _open_store(path: Path) -> Any:
    from ductwork.incremental import Store  # noqa: PLC0415 (only for incremental runs)

    return Store(path)


def explain(pipeline: Pipeline, catalog: CatalogProtocol, cache: str | None) -> str:
    """What ``--incremental --dry-run`` prints: each node, run or skip, and exactly why."""
    from ductwork.incremental import Planner  # noqa: PLC0415 (only for incremental runs)

    with _open_store(store_path(cache)) as store:
        planner = Planner(pipeline, catalog, store)
        planner.decide()
        planner.files.flush()  # the stamps taken are good for the real run
    return format_decisions(planner, dry_run=True)


def format_decisions(planner: Planner, *, dry_run: bool) -> str:
    """Every node in order with its action (``run``, ``skip``, ``run?``) and its reason."""
    decisions = list(planner.decisions.values())
    counts = {action: sum(d.action == action for d in decisions) for action in ("run", "skip")}
    pending = len(decisions) - counts["run"] - counts["skip"]
    head = "Dry run (incremental)" if dry_run else "Incremental run"
    verb = "would run" if dry_run else "ran"
    lines = [
        f"{head}: {counts['run']} of {len(decisions)} nodes {verb}, {counts['skip']} skipped"
        + (f", {pending} decided once their upstream has run" if pending else "")
        + (". Nothing was run." if dry_run else ".")
    ]
    width = max((len(d.node.name) for d in decisions), default=0)
    for number, decision in enumerate(decisions, 1):
        action = {"run": "run", "skip": "skip"}.get(decision.action, "run?")
        lines.append(f"{number:>4}  {action:<4}  {decision.node.name:<{width}}  {decision.reason}")
    return "\n".join(lines)


def run_incrementally(
    runner: AbstractRunner,
    pipeline: Pipeline,
    catalog: CatalogProtocol,
    *,
    run_id: str,
    journal: RunJournal,
    observer: RunObserver,
    cache: str | None,
    explain_after: bool,
    hook_manager: Any = None,
) -> None:
    """Run ``pipeline`` incrementally; the journal records each node's reason as decided."""
    from ductwork.incremental import into_journal, run_incremental  # noqa: PLC0415

    seen: list[Planner] = []
    record = into_journal(journal)

    def decided(planner: Planner, changed: list[Decision]) -> None:
        if not seen:
            seen.append(planner)
        record(planner, changed)

    store = _open_store(store_path(cache))
    try:
        run_incremental(
            runner,
            pipeline,
            catalog,
            store=store,
            hook_manager=hook_manager,
            run_id=run_id,
            observer=observer,
            need_memory_outputs=False,
            on_decided=decided,
        )
    finally:
        # Everything is committed by now; closing checkpoints the store's log and waits for
        # the disk, which can be done while the command writes its journal and report (the
        # interpreter waits for the thread before it exits; a store left unclosed is still
        # whole: SQLite replays its log on the next open).
        threading.Thread(target=store.close, name="ductwork-store-close").start()
        if explain_after and seen:
            print(format_decisions(seen[0], dry_run=False))


@click.group()
def cache() -> None:
    """Show, clear or prune the incremental-run store."""


def _store_option(command: Callable[..., Any]) -> Callable[..., Any]:
    return click.option(
        "--cache",
        "path",
        type=click.Path(dir_okay=False),
        help="The store (default: [tool.ductwork] cache, else .ductwork/cache.sqlite).",
    )(command)


def _existing_store(path: str | None) -> Any:
    try:
        where = store_path(path)
        if not where.is_file():
            click.echo(f"No incremental-run store at {where}: nothing recorded yet.")
            sys.exit(0)
        return _open_store(where)
    except DuctworkError as error:
        click.secho(f"Error: {error}", fg="red", err=True)
        sys.exit(_USAGE_ERROR)


@cache.command()
@_store_option
@click.option("--nodes", "list_nodes", is_flag=True, help="List every node recorded.")
def show(path: str | None, list_nodes: bool) -> None:
    """What the store holds: nodes recorded, files stamped, size."""
    with _existing_store(path) as store:
        summary = store.summary()
        click.echo(
            f"{store.path}: {summary['nodes']} nodes recorded, {summary['files']} files stamped, "
            f"{summary['bytes'] / 1e6:.2f} MB."
        )
        if summary["nodes"]:
            click.echo(
                f"Oldest record: {_when(summary['oldest'])}; newest: {_when(summary['newest'])}."
            )
        if list_nodes:
            for name, record in sorted(store.records().items()):
                click.echo(f"  {name}  run {record.run_id}  {_when(record.recorded)}")


@cache.command()
@_store_option
@click.option("--nodes", "names", multiple=True, metavar="NAMES", help="Forget only these nodes.")
def clear(path: str | None, names: tuple[str, ...]) -> None:
    """Forget every record (or those of --nodes): those nodes run next time."""
    with _existing_store(path) as store:
        chosen = [n.strip() for value in names for n in value.split(",") if n.strip()]
        if chosen:
            store.forget(chosen)
            click.echo(f"Forgot {len(chosen)} node(s) in {store.path}.")
        else:
            click.echo(f"Cleared {store.clear()} node record(s) from {store.path}.")


@cache.command()
@_store_option
@click.option(
    "--older-than",
    type=click.FloatRange(min=0),
    default=30.0,
    show_default=True,
    help="Drop node records older than this many days.",
)
def prune(path: str | None, older_than: float) -> None:
    """Drop old node records and the stamps of files that no longer exist."""
    with _existing_store(path) as store:
        records, stamps = store.prune(older_than * _DAY)
        click.echo(f"Pruned {records} node record(s) and {stamps} stamp(s) from {store.path}.")


def _when(stamp: float | None) -> str:
    if stamp is None:
        return "never"
    return time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(stamp))

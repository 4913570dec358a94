"""The ``ductwork`` command's options (click); the work happens in the ``*_command`` modules."""

from __future__ import annotations

import shlex
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from ductwork import __version__
from ductwork.cli import USAGE_ERROR
from ductwork.cli.incremental_command import cache, incremental_options
from ductwork.cli.new_project import write_project
from ductwork.cli.options import config_options as _config_options
from ductwork.cli.report_command import FORMATS, list_runs, serve_report, write_report
from ductwork.cli.runners import RUNNER_NAMES
from ductwork.exceptions import DuctworkError

# What a command needs (the project, the runners, the progress display) is imported when it
# runs: ``ductwork --help`` and ``ductwork run --help`` load click and little else.
if TYPE_CHECKING:
    from ductwork.cli.plan import Filters
    from ductwork.cli.resume import CommandLine

__all__ = ["cli"]

_FILTERS = {
    "nodes": "Run only these nodes (comma-separated names; repeatable).",
    "from_nodes": "Run these nodes and everything downstream of them.",
    "to_nodes": "Run these nodes and everything upstream of them.",
    "from_inputs": "Run the nodes downstream of these datasets.",
    "to_outputs": "Run the nodes needed to produce these datasets.",
    "tags": "Run only the nodes with any of these tags.",
    "namespaces": "Run only the nodes in these namespaces.",
}


def _names(values: Iterable[str]) -> tuple[str, ...]:
    return tuple(name.strip() for value in values for name in value.split(",") if name.strip())


def _filter_options(command: Any) -> Any:
    for key, help_text in reversed(_FILTERS.items()):
        flag = "--" + key.replace("_", "-")
        command = click.option(flag, key, multiple=True, metavar="NAMES", help=help_text)(command)
    return command


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="ductwork")
def cli() -> None:
    """Run pipelines of Python functions, watch them, resume them, and report on them."""


@cli.command()
@click.argument("pipeline_spec", metavar="[PIPELINE]", required=False)
@click.option("--pipeline", "pipeline_name", metavar="NAME", help="Which pipeline of a mapping.")
@_config_options
@click.option("--runner", type=click.Choice(RUNNER_NAMES), help="Where nodes run.")
@click.option("--max-workers", type=click.IntRange(min=1), help="Most nodes at once.")
@click.option("--async", "is_async", is_flag=True, help="Load and save concurrently.")
@click.option("--dask-address", metavar="ADDRESS", help="The Dask scheduler to use.")
@click.option(
    "--retries", type=click.IntRange(min=0), help="Run a failing node again, up to N times."
)
@click.option(
    "--timeout", type=click.FloatRange(min=0, min_open=True), help="Seconds a node may take."
)
@click.option("--keep-going", is_flag=True, help="After a failure, run what does not depend on it.")
@click.option("--max-running", type=click.IntRange(min=1), help="Most nodes running at once.")
@click.option("--only-missing-outputs", is_flag=True, help="Skip nodes whose outputs exist.")
@_filter_options
@click.option("--run-id", help="The id of this run (and its journal's name).")
@click.option("--resume", is_flag=True, help="Run what the last failed run did not finish.")
@click.option("--dry-run", is_flag=True, help="Print what would run and why; run nothing.")
@incremental_options
@click.option("--journal-dir", type=click.Path(file_okay=False), help="Where journals go.")
@click.option(
    "--serve", is_flag=True, help="Serve a live report on 127.0.0.1 while the run goes on."
)
@click.option("-q", "--quiet", is_flag=True, help="Print errors only.")
@click.option("-v", "--verbose", "verbosity", count=True, help="More logs (-vv: debug).")
@click.pass_context
def run(ctx: click.Context, /, pipeline_spec: str | None, **options: Any) -> None:
    """Run PIPELINE ('module:attribute'; default: [tool.ductwork] in ./pyproject.toml).

    \b
    Exit codes: 0 success, 1 a node failed, 2 usage or configuration error,
    130 interrupted (Ctrl-C).
    """
    from ductwork.cli.plan import Filters  # noqa: PLC0415 (see the imports)
    from ductwork.cli.run_command import RunRequest, execute  # noqa: PLC0415
    from ductwork.cli.runners import RunnerOptions  # noqa: PLC0415

    filters = Filters(**{key: _names(options.pop(key)) for key in _FILTERS})
    command = _command_line(ctx, pipeline_spec, options, filters)
    runner = options.pop("runner")
    request = RunRequest(
        command=command,
        typed=" ".join([_prog(ctx), shlex.join((ctx.find_root().obj or {}).get("argv", []))]),
        runner=RunnerOptions(
            name=runner or "",
            max_workers=options.pop("max_workers"),
            is_async=options.pop("is_async"),
            dask_address=options.pop("dask_address"),
            retries=options.pop("retries"),
            timeout=options.pop("timeout"),
            keep_going=options.pop("keep_going"),
            max_running=options.pop("max_running"),
        ),
        filters=filters,
        only_missing=options.pop("only_missing_outputs"),
        params=tuple(options.pop("params")),
        **options,
    )
    ctx.exit(execute(request))


def _prog(ctx: click.Context) -> str:
    return ctx.find_root().info_name or "ductwork"


def _command_line(
    ctx: click.Context, spec: str | None, options: dict[str, Any], filters: Filters
) -> CommandLine:
    from ductwork.cli.resume import CommandLine  # noqa: PLC0415 (see the imports)

    values: list[tuple[str, str]] = []
    keys = ("pipeline_name", "catalog", "env", "conf_source", "runner", "max_workers")
    for key in (*keys, "dask_address", "journal_dir", "retries", "timeout", "max_running"):
        given = options.get(key)
        for value in given if isinstance(given, tuple) else () if given is None else (given,):
            flag = "--pipeline" if key == "pipeline_name" else "--" + key.replace("_", "-")
            values.append((flag, str(value)))
    for key in ("params", "hooks"):
        values += [("--" + key, value) for value in options.get(key, ())]
    if options.get("cache"):
        values.append(("--cache", options["cache"]))
    flags = [
        flag
        for key, flag in (
            ("is_async", "--async"),
            ("keep_going", "--keep-going"),
            ("only_missing_outputs", "--only-missing-outputs"),
            ("incremental", "--incremental"),
        )
        if options.get(key)
    ]
    return CommandLine(_prog(ctx), spec, tuple(values), tuple(flags), filters)


def _journal_dir(given: str | None) -> Path:
    from ductwork.cli.project import read_settings  # noqa: PLC0415 (see the imports)
    from ductwork.report.journal import DEFAULT_DIRECTORY  # noqa: PLC0415

    try:
        settings = read_settings(Path.cwd())
    except DuctworkError as error:
        raise click.ClickException(str(error)) from error
    folder = Path(given or settings.journal_dir or DEFAULT_DIRECTORY)
    return settings.root / folder if settings.root and not given else folder


@cli.command()
@click.argument("run_id", required=False)
@click.option(
    "--format", "fmt", type=click.Choice(list(FORMATS)), default="html", show_default=True
)
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), help="The file.")
@click.option("--journal-dir", type=click.Path(file_okay=False), help="Where journals are.")
@click.option("--live", is_flag=True, help="Serve the report on 127.0.0.1 as the run goes on.")
@click.option("--port", type=click.IntRange(0, 65535), default=0, help="The --live port (0: any).")
def report(
    run_id: str | None,
    fmt: str,
    output: Path | None,
    journal_dir: str | None,
    live: bool,
    port: int,
) -> None:
    """Write the report of RUN_ID (default: the latest run): HTML, or a Chrome trace.

    With --live, serve it instead, updated as the run's journal changes, until the run ends
    (or Ctrl-C).
    """
    try:
        if live:
            sys.exit(serve_report(_journal_dir(journal_dir), run_id, port))
        click.echo(write_report(_journal_dir(journal_dir), run_id, fmt, output))
    except DuctworkError as error:
        click.secho(f"Error: {error}", fg="red", err=True)
        sys.exit(USAGE_ERROR)


@cli.command()
@click.option("-n", "--limit", type=click.IntRange(min=1), default=20, show_default=True)
@click.option("--journal-dir", type=click.Path(file_okay=False), help="Where journals are.")
def runs(limit: int, journal_dir: str | None) -> None:
    """List the latest runs, newest first."""
    click.echo(list_runs(_journal_dir(journal_dir), limit))


cli.add_command(cache)


@cli.command()
@click.argument("name")
@click.option(
    "--directory",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path(),
    help="Where to create the project's folder (default: here).",
)
def new(name: str, directory: Path) -> None:
    """Create the project NAME: conf/base, conf/local, one pipeline and its tests."""
    try:
        folder = write_project(name, directory)
    except DuctworkError as error:
        click.secho(f"Error: {error}", fg="red", err=True)
        sys.exit(USAGE_ERROR)
    click.echo(f"Created {folder}. Run it:\n  cd {folder}\n  ductwork run")

"""What a run shows while it goes: a live display on a terminal, log lines elsewhere.

Both are :class:`~ductwork.runner.RunObserver` objects, called on the thread that runs the loop.
The live display keeps its state under a lock, because rich redraws it from its own thread
several times a second: the elapsed time of running nodes moves even when no event arrives.

The command line configures logging here (the library never does): ``-q`` shows errors only,
the default shows warnings and the run's progress, ``-v`` adds the library's and the nodes'
INFO logs, ``-vv`` DEBUG.
"""

from __future__ import annotations

import logging
import sys
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from types import TracebackType

from rich.console import Console, Group, RenderableType
from rich.live import Live
from rich.logging import RichHandler
from rich.progress_bar import ProgressBar
from rich.text import Text

from ductwork.pipeline import Node
from ductwork.runner import NodeOutcome, RunObserver

__all__ = ["LiveProgress", "Observers", "PlainProgress", "configure_logging", "seconds"]

LOGGER_NAME = "ductwork.cli"
_SHOWN_RUNNING = 8
_LISTED_NODES = 200  # up to this many nodes, the live display prints a line per finished node


def seconds(value: float) -> str:
    """A duration for people: ``850 ms``, ``3.2 s``, ``2 min 5 s``."""
    if value < 1:
        return f"{value * 1000:.0f} ms"
    if value < 60:
        return f"{value:.1f} s"
    return f"{int(value // 60)} min {value % 60:.0f} s"


class _ReportedByCli(logging.Filter):
    """Drops the library's own failure messages, which the command reports better itself.

    The runner logs a ``--from-nodes`` suggestion and the node logs its error; the command
    prints the failed node, its error and the exact resume command instead. Shown with ``-v``.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        message = str(record.msg)
        if record.name.startswith("ductwork.runner") and record.levelno == logging.WARNING:
            return not (message.startswith("No nodes ran") or "--from-nodes" in message)
        if record.name == "ductwork.pipeline.node" and record.levelno == logging.ERROR:
            return "failed with error" not in message
        return True


@contextmanager
def configure_logging(verbosity: int, quiet: bool, console: Console | None) -> Iterator[None]:
    """Send log records to the terminal (through rich) or to stderr, for one command.

    Args:
        verbosity: How many ``-v`` were given.
        quiet: ``-q`` was given: errors only.
        console: The rich console of a live display, or None for plain lines on stderr.
    """
    root = logging.getLogger()
    ours = logging.getLogger(LOGGER_NAME)
    handler: logging.Handler
    if console is not None:
        handler = RichHandler(console=console, show_path=False, markup=False)
    else:
        handler = logging.StreamHandler(sys.stderr)
        names = " %(name)s" if verbosity else ""
        handler.setFormatter(logging.Formatter(f"%(asctime)s %(levelname)s{names}: %(message)s"))
    if verbosity == 0:
        handler.addFilter(_ReportedByCli())
    saved = root.level, ours.level
    root.setLevel(
        logging.ERROR
        if quiet
        else [logging.WARNING, logging.INFO, logging.DEBUG][min(verbosity, 2)]
    )
    ours.setLevel(logging.ERROR if quiet else min(root.level, logging.INFO))
    root.addHandler(handler)
    try:
        yield
    finally:
        root.removeHandler(handler)
        root.setLevel(saved[0])
        ours.setLevel(saved[1])


class Observers(RunObserver):
    """Several observers as one, called in order."""

    def __init__(self, observers: Sequence[RunObserver]) -> None:
        """Forward every event to each of ``observers``."""
        self._observers = tuple(observers)
        # The first meter any of them asks for (the journal's).
        self.meter = next((o.meter for o in self._observers if o.meter is not None), None)

    def node_started(self, node: Node) -> None:
        """Tell each observer."""
        for observer in self._observers:
            observer.node_started(node)

    def node_finished(self, outcome: NodeOutcome) -> None:
        """Tell each observer."""
        for observer in self._observers:
            observer.node_finished(outcome)


class PlainProgress(RunObserver):
    """Log lines (``ductwork.cli.progress``, INFO) as nodes start and finish."""

    def __init__(self, total: int) -> None:
        """Count up to ``total`` nodes."""
        self._total = total
        self._finished = 0
        self._width = len(str(total))
        self._logger = logging.getLogger(f"{LOGGER_NAME}.progress")

    def node_started(self, node: Node) -> None:
        """Log the start."""
        self._logger.info("[%*d/%d] start  %s", self._width, self._finished, self._total, node.name)

    def node_finished(self, outcome: NodeOutcome) -> None:
        """Log the end, with the time the node took and where it ran."""
        self._finished += 1
        took = seconds(outcome.finished - outcome.started)
        word = "done  " if outcome.error is None else "FAILED"
        self._logger.log(
            logging.INFO if outcome.error is None else logging.ERROR,
            "[%*d/%d] %s %s in %s on %s",
            self._width,
            self._finished,
            self._total,
            word,
            outcome.node.name,
            took,
            outcome.worker,
        )


class LiveProgress(RunObserver):
    """A live display: a bar of nodes done out of the total, the nodes running now, the time.

    Finished nodes are printed above the display as they finish (failures always; successes when
    the run has at most 200 nodes), so the terminal keeps the run's history when it goes.
    """

    def __init__(self, console: Console, total: int, title: str) -> None:
        """Show a run of ``total`` nodes called ``title`` on ``console``."""
        self._console = console
        self._total = total
        self._title = title
        self._done = 0
        self._running: dict[str, float] = {}
        self._lock = threading.Lock()
        self._began = time.monotonic()
        self._live = Live(
            console=console, get_renderable=self._render, refresh_per_second=8, transient=True
        )

    def __enter__(self) -> LiveProgress:
        self._began = time.monotonic()
        self._live.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._live.stop()

    def node_started(self, node: Node) -> None:
        """Show ``node`` among the running ones."""
        with self._lock:
            self._running[node.name] = time.monotonic()

    def node_finished(self, outcome: NodeOutcome) -> None:
        """Count ``outcome.node`` and print a line for it."""
        with self._lock:
            self._running.pop(outcome.node.name, None)
            self._done += 1
        ok = outcome.error is None
        if ok and self._total > _LISTED_NODES:
            return  # a line per node would flood the terminal and slow a huge run down
        self._console.print(
            Text.assemble(
                ("\u2714 " if ok else "\u2718 ", "green" if ok else "bold red"),
                (outcome.node.name, "" if ok else "bold red"),
                (f"  {seconds(outcome.finished - outcome.started)} on {outcome.worker}", "dim"),
            )
        )

    def _render(self) -> RenderableType:
        with self._lock:
            done, running = self._done, dict(self._running)
        now = time.monotonic()
        header = Text.assemble(
            (self._title, "bold"),
            f"  {done}/{self._total} nodes  ",
            (seconds(now - self._began), "cyan"),
        )
        lines: list[RenderableType] = [
            header,
            ProgressBar(total=max(self._total, 1), completed=done, width=50),
        ]
        by_age = sorted(running.items(), key=lambda item: item[1])
        for name, began in by_age[:_SHOWN_RUNNING]:
            lines.append(Text.assemble("  \u25b8 ", name, (f"  {seconds(now - began)}", "dim")))
        if len(by_age) > _SHOWN_RUNNING:
            lines.append(Text(f"  ... and {len(by_age) - _SHOWN_RUNNING} more running", "dim"))
        return Group(*lines)

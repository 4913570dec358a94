"""The worker process: set up once, then run the nodes it is sent until told to stop.

A worker receives, once, the persisted datasets the pipeline uses (its own copies: it loads and
saves them itself), the hook plugins, the run id and the parent's logging levels. Its catalog
holds those datasets and, for every in-memory dataset, a dataset whose data travels through
shared memory (:mod:`.exchange`). Each node runs through :class:`~ductwork.execution.NodeShell`
the parent sent, so retries, node and dataset hooks fire here, in the worker, exactly as in any
other runner (the parent enforces time limits by stopping the worker). State a plugin gathers
in a worker stays in that worker.

Log records of every logger are forwarded to the parent, which hands them to its own loggers;
the worker keeps no handler of its own. SIGINT is ignored: on Ctrl-C the parent, which the
terminal signals too, first sends its workers ``STOP_SIGNAL`` (see :class:`.Pool`), after which a
worker begins no other node, even one it holds, and reports nothing more (the node running goes
on until the parent stops the worker, a moment later).

A worker dies with its parent: besides noticing the end of its pipe when idle, it watches, on a
daemon thread, whether it has been handed to another parent (its parent process died: killed
with SIGKILL or SIGTERM, say) and then ends at once, even in the middle of a node, rather than
run on unattended. Under ``forkserver`` its parent is the fork server, which ends with the
process that started it.
"""

from __future__ import annotations

import contextlib
import logging
import os
import pickle
import signal
import struct
import sys
import threading
import time
from logging.handlers import QueueHandler
from multiprocessing.connection import Connection
from typing import Any

import cloudpickle

from ductwork.exceptions import RunnerError
from ductwork.execution import NodeOutcome
from ductwork.io import DataCatalog
from ductwork.runner.processes.exchange import Exchange, TransportDataset
from ductwork.runner.processes.nodes import NodeLoader
from ductwork.runner.processes.protocol import (
    FAILED_START,
    LOG,
    READY,
    NodeTable,
    Payload,
    Setup,
    Task,
    done_message,
    pack_error,
)

__all__ = ["STOP_SIGNAL", "main"]

_HEADER = struct.Struct("!i")  # the framing of Connection.send_bytes: a signed length


class _Sender:
    """Sends messages to the parent; log records may come from any thread of the worker.

    It is also the "queue" of the worker's :class:`~logging.handlers.QueueHandler`, which
    prepares each record to travel (message formatted with its arguments and traceback).
    """

    def __init__(self, conn: Connection) -> None:
        self._conn = conn
        self._lock = threading.Lock()
        self._fd = conn.fileno() if os.name == "posix" else None

    def send(self, message: tuple[Any, ...]) -> None:
        data = pickle.dumps(message, protocol=5)
        if self._fd is None or len(data) > 0x7FFFFFFF:  # (a longer header for the longest)
            with self._lock:
                self._conn.send_bytes(data)
            return
        # Framed as Connection.send_bytes frames it, in one write, without its layers.
        view = memoryview(_HEADER.pack(len(data)) + data)
        with self._lock:
            while view:
                view = view[os.write(self._fd, view) :]

    def put_nowait(self, record: logging.LogRecord) -> None:
        record.stack_info = None  # in the message already (Python 3.12's prepare clears it)
        try:
            self.send((LOG, record))
        except Exception:  # an `extra` value that cannot travel: send its repr
            record.__dict__.update({k: _plain(v) for k, v in record.__dict__.items()})
            self.send((LOG, record))


def _plain(value: Any) -> Any:
    return value if isinstance(value, (str, int, float, bool, type(None))) else repr(value)


class _Worker:
    def __init__(self, setup: Setup, sender: _Sender) -> None:
        payload: Payload = cloudpickle.loads(setup.payload)
        self._sender = sender
        self._exchange = Exchange(f"{setup.prefix}{setup.worker}_")
        datasets: dict[str, Any] = dict(payload.shipped)
        for name in payload.memory:
            datasets[name] = TransportDataset(name, self._exchange)
        self._catalog = DataCatalog(datasets)
        self._shell = payload.shell.__enter__()  # its I/O threads, for the worker's lifetime
        self._succeeded: set[str] = set()  # for nodes sent ahead (see ..ahead)
        self._nodes: NodeLoader | None = None  # the parent sends the table after the set-up

    def serve(self, conn: Connection) -> None:
        while True:
            try:
                data = conn.recv_bytes()
            except (EOFError, OSError):  # the parent is gone
                return
            tasks: list[Task] | NodeTable | None = pickle.loads(data)
            if tasks is None:
                return
            if isinstance(tasks, NodeTable):
                self._nodes = NodeLoader(tasks)
                continue
            for task in tasks:
                if _INTERRUPTED.is_set():  # begin nothing after Ctrl-C; the parent stops us
                    return
                done = self._run(task)
                if _INTERRUPTED.is_set():  # the node was running at the interrupt: as the
                    return  # other runners, say nothing of how it ended after it
                self._sender.send(done)

    def _run(self, task: Task) -> tuple[Any, ...]:
        try:
            assert self._nodes is not None, "a task before the node table"
            node = self._nodes.load(task.node)
        except BaseException as failure:  # e.g. its function's module does not import here
            return _unstarted(failure)
        if not self._succeeded.issuperset(task.after):  # a node it follows failed here
            return _unstarted(RunnerError(f"Node '{node.name}' not run: a node before it failed."))
        self._exchange.begin(node, task)
        # SystemExit from a node too: report it, keep serving.
        outcome = self._shell.run(node, self._catalog, contain_exits=True)
        error = None if outcome.error is None else pack_error(outcome.error)
        outputs = self._exchange.finish()
        if error is None:
            self._succeeded.add(node.name)
            self._exchange.recent.append(outputs)
        return done_message(outcome, error, outputs)

    def close(self) -> None:
        self._shell.close()


def _unstarted(failure: BaseException) -> tuple[Any, ...]:
    now = time.time()
    unstarted = NodeOutcome(None, None, now, now, "")  # type: ignore[arg-type]
    return done_message(unstarted, pack_error(failure), {})


def _configure_logging(setup: Setup, sender: _Sender) -> None:
    # Records go to the parent, whose handlers decide where they end up; a handler inherited
    # through fork would write a second copy, and a logger that does not propagate would lose
    # them: clear the one, make the other propagate.
    handler = QueueHandler(sender)  # type: ignore[arg-type]  # a queue in all but name
    for item in list(logging.root.manager.loggerDict.values()):
        if isinstance(item, logging.Logger):
            item.handlers.clear()
            item.propagate = True
            item.setLevel(logging.NOTSET)
    logging.root.handlers = [handler]
    for name, level in setup.levels.items():
        logging.getLogger(name or None).setLevel(level)
    logging.disable(setup.disable)


_PARENT_CHECK_INTERVAL = 0.25  # seconds
STOP_SIGNAL: int | None = getattr(signal, "SIGUSR1", None)
"""What the parent sends its workers when it is interrupted (where the platform has it)."""
_INTERRUPTED = threading.Event()  # the parent was interrupted


def _die_with_parent(run_process: int | None) -> None:
    parent = os.getppid()
    exit_now = os._exit  # the real one, whatever a node does to the name later

    def watch() -> None:
        while True:
            time.sleep(_PARENT_CHECK_INTERVAL)
            if os.getppid() != parent or not _exists(run_process):
                exit_now(1)

    threading.Thread(target=watch, name="ductwork-parent-watch", daemon=True).start()


def _exists(pid: int | None) -> bool:
    # Under forkserver the worker's parent is the fork server, which outlives the run's process
    # (every worker holds its lifeline open): so the run's process itself is watched too.
    if pid is None:
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True
    return True


def main(conn: Connection, close_fds: list[int], run_process: int | None = None) -> None:
    """The worker process's entry point.

    Args:
        conn: The worker's end of its pipe to the parent.
        close_fds: With ``fork``, the parent's ends of the workers' pipes, inherited: closed, so
            that a pipe reports end-of-file to this worker when the parent dies.
        run_process: The id of the process running the pipeline: the worker ends when it does.
    """
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if STOP_SIGNAL is not None:
        signal.signal(STOP_SIGNAL, lambda *_: _INTERRUPTED.set())
        signal.siginterrupt(STOP_SIGNAL, False)  # calls a node makes are not cut short by it
    _die_with_parent(run_process)
    for fd in close_fds:
        with contextlib.suppress(OSError):
            os.close(fd)
    sender = _Sender(conn)
    try:
        setup: Setup = pickle.loads(conn.recv_bytes())
        sys.path[:] = setup.sys_path
        os.chdir(setup.cwd)
        os.environ.clear()
        os.environ.update(setup.environ)
        _configure_logging(setup, sender)
        worker = _Worker(setup, sender)
    except BaseException as error:
        with contextlib.suppress(OSError):  # the parent may be gone already
            sender.send((FAILED_START, pack_error(error)))
        return
    sender.send((READY,))
    try:
        worker.serve(conn)
    finally:
        worker.close()

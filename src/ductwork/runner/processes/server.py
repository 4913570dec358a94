"""The fork server's start: a fork of this process where that is safe.

Under the ``forkserver`` start method every worker is a fork of one server process per parent,
started on first use. ``multiprocessing`` starts it as a fresh interpreter, which imports the
worker module before it forks anything: about 0.15 s that a program's first run waits for.

Where it is safe, :func:`ensure_fork_server` starts the server as a fork of this process
instead, which has the worker module imported already: the first run's workers then start in
milliseconds. Safe means Linux (elsewhere system libraries may break in a forked child), one
thread in this process (a lock held by another thread would stay held in the fork forever), and
a small process (the server keeps, for as long as it lives, the memory this process had then).
The fork then drops what a fresh interpreter would not have: the open files, sockets and pipes
(pointed at ``/dev/null``, so that a peer waiting for their end is not kept waiting, and a stale
object closing one later closes nothing that matters), and this process's signal handlers.
Workers forked from it see the modules this process had imported when the server started,
as under ``fork``; everything else is as under a server ``multiprocessing`` started.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import sys
import threading
from collections.abc import Sequence
from multiprocessing import connection, forkserver, resource_tracker, util
from typing import Any

__all__ = ["ensure_fork_server", "unstarted_fork_server"]

_MAX_MEMORY = 256 * 2**20  # bytes of this process the server may keep


def ensure_fork_server(worker_module: str) -> None:
    """Start this process's fork server now, unless it runs: a fork of this process where that
    is safe, else left to ``multiprocessing`` (on first use), preloading ``worker_module``.

    The server is one per process; one already running is left as it is (it may hold other
    modules, which cannot change).
    """
    server = unstarted_fork_server([worker_module])
    if server is not None and _fork_is_safe():
        with server._lock:
            if server._forkserver_pid is None:
                _fork_server(server)


def unstarted_fork_server(preload: Sequence[str]) -> Any:
    """This process's fork server, with ``preload`` added to the modules it preloads, if it has
    not started; else ``None`` (also where there is none, or ``multiprocessing``'s private
    state is not as expected)."""
    server = getattr(forkserver, "_forkserver", None)
    modules = getattr(server, "_preload_modules", None)
    if server is None or not isinstance(modules, list) or server._forkserver_pid is not None:
        return None
    server.set_forkserver_preload([*modules, *(name for name in preload if name not in modules)])
    return server


def _fork_is_safe() -> bool:
    if sys.platform != "linux" or sys.version_info >= (3, 14):  # 3.14's server authenticates
        return False
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            fields = dict(line.split(":", 1) for line in status if ":" in line)
        threads = int(fields["Threads"])
        resident = int(fields["VmRSS"].split()[0]) * 1024
    except (OSError, KeyError, ValueError):
        return False
    return threads == 1 and resident <= _MAX_MEMORY


def _fork_server(server: Any) -> None:
    """What ``ForkServer.ensure_running`` does, with a fork where it starts an interpreter."""
    resource_tracker.ensure_running()  # its fd travels with each request, as usual
    with socket.socket(socket.AF_UNIX) as listener:
        address = connection.arbitrary_address("AF_UNIX")  # type: ignore[attr-defined]
        listener.bind(address)
        if not util.is_abstract_socket_namespace(address):
            os.chmod(address, 0o600)
        listener.listen()
        # Every client holds the write end of the "alive" pipe: the server ends at its EOF.
        alive_r, alive_w = os.pipe()
        for stream in (sys.stdout, sys.stderr):  # nothing buffered here is written twice
            with contextlib.suppress(AttributeError, ValueError):
                stream.flush()
        pid = os.fork()
        if pid == 0:
            _serve(listener.fileno(), alive_r)  # never returns
        os.close(alive_r)
    server._forkserver_address = address
    server._forkserver_alive_fd = alive_w
    server._forkserver_pid = pid


def _serve(listener_fd: int, alive_r: int) -> None:
    code = 1
    try:
        server: Any = forkserver._forkserver
        server._lock = threading.Lock()  # held by the parent while it forked
        _forget_parent(keep={0, 1, 2, listener_fd, alive_r})
        forkserver.main(listener_fd, alive_r, [])
    except SystemExit:  # how the server ends: every client is gone
        code = 0
    finally:
        os._exit(code)  # never back into the parent's stack, its atexit or its finally blocks


def _forget_parent(keep: set[int]) -> None:
    """Leave only what a freshly started interpreter would have: signal handlers at their
    defaults, the standard streams on descriptors 1 and 2, and no file descriptor but ``keep``
    (the others point at ``/dev/null``)."""
    for number in signal.valid_signals():
        with contextlib.suppress(OSError, ValueError):
            if callable(signal.getsignal(number)):
                signal.signal(number, signal.SIG_DFL)
    signal.signal(signal.SIGINT, signal.default_int_handler)
    sys.stdout, sys.stderr = sys.__stdout__ or sys.stdout, sys.__stderr__ or sys.stderr
    null = os.open(os.devnull, os.O_RDWR)
    for name in os.listdir("/proc/self/fd"):
        fd = int(name)
        if fd not in keep and fd != null:
            with contextlib.suppress(OSError):  # the directory's own descriptor, closed by now
                os.fstat(fd)
                os.dup2(null, fd)
    os.close(null)

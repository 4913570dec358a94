"""One worker process as the parent sees it: its pipe, the nodes it holds, and how it ended.

The parent never waits on a worker that is itself waiting on the parent. A worker writes to its
pipe with blocking writes (log records, outcomes), and reads the parent's next message only
between nodes; so while the parent writes a large message (a batch of tasks with their inline
inputs) to a worker that is busy writing, say a node logging a lot, each would wait for the
other forever once both pipe buffers are full. The parent therefore writes without blocking,
and while the pipe is full reads what the worker says into :attr:`WorkerHandle.inbox`, which
:meth:`.Pool.events` hands out first.
"""

from __future__ import annotations

import contextlib
import math
import os
import pickle
import select
import signal
import struct
from multiprocessing.connection import Connection, wait
from typing import Any, NamedTuple

from ductwork.exceptions import WorkerLostError
from ductwork.pipeline import Node
from ductwork.runner.processes.protocol import LOG, NodeTable, Setup, Task, handle_record

__all__ = ["Event", "Watch", "WorkerHandle"]

_HEADER = struct.Struct("!i")  # the framing Connection.recv_bytes reads: a signed length,
_LONG = struct.Struct("!Q")  # then, after a length of -1, the length of a longer message
_CHUNK = 64 * 1024  # read at once: all a worker said since the last wait, as a rule
_POLL = hasattr(select, "poll")  # POSIX: the pipe is a socket whose blocking can be switched


class Event(NamedTuple):
    """A message from a worker, or ``message=None``: the worker's process has ended."""

    worker: WorkerHandle
    message: tuple[Any, ...] | None


class WorkerHandle:
    """One worker process, its pipe, and the node it is running (if any)."""

    def __init__(self, index: int, process: Any, conn: Connection) -> None:
        self.index = index
        self.process = process
        self.label = f"pid {process.pid}"
        """How outcomes name this worker."""
        self.conn = conn
        self.queue: list[tuple[Node, float]] = []  # sent, not reported: (node, when sent)
        self.held: set[Node] = set()  # the nodes of queue
        self.ready = False  # it reported itself set up
        self.deadline: float | None = None  # time.monotonic() past which the node has overrun
        self.alive = True
        self.closed = False  # its pipe reported end-of-file: listen to the sentinel only
        self.torn = False  # a read of its pipe was cut short (Ctrl-C): its bytes may be lost
        self.inbox: list[Event] = []  # read while a message to it waited for room
        self._read = bytearray()  # read from its pipe, not yet taken as messages
        self._pipe = select.poll() if _POLL else None  # asked after every message read
        if self._pipe is not None:
            self._pipe.register(conn.fileno(), select.POLLIN)

    def has_data(self) -> bool:
        """Whether its pipe has something to read (or its end), without waiting."""
        # Connection.poll() builds and registers a new selector on every call.
        return bool(self._pipe.poll(0)) if self._pipe is not None else self.conn.poll()

    @property
    def node(self) -> Node | None:
        """The node this worker runs (the first it was sent and has not reported), if any."""
        return self.queue[0][0] if self.queue else None

    @property
    def submitted(self) -> float:
        """When its current node was sent (seconds since the epoch)."""
        return self.queue[0][1] if self.queue else 0.0

    def send(self, message: Setup | NodeTable | list[Task] | None) -> None:
        """Send the set-up, the nodes, tasks, or ``None`` (stop); a dead worker's sentinel
        reports it."""
        data = pickle.dumps(message, protocol=5)
        with contextlib.suppress(OSError):
            if not _POLL or len(data) > 0x7FFFFFFF:  # (a longer header for the longest)
                self.conn.send_bytes(data)
                return
            fd = self.conn.fileno()
            os.set_blocking(fd, False)
            try:
                for part in (_HEADER.pack(len(data)), data):
                    view = memoryview(part)
                    while view:
                        try:
                            view = view[os.write(fd, view) :]
                        except BlockingIOError:
                            self._listen_while_full(fd)
            finally:
                os.set_blocking(fd, True)

    def _listen_while_full(self, fd: int) -> None:
        """Wait until the pipe has room; read what the worker says meanwhile."""
        poller = select.poll()
        poller.register(fd, select.POLLIN | select.POLLOUT)
        [(_, flags)] = poller.poll()
        if flags & select.POLLIN and not self.closed:
            self.read(self.inbox)

    def read(self, events: list[Event]) -> bool:
        """Read what its pipe holds (call it when the pipe is readable: it may block otherwise);
        hand log records to this process's loggers, add the other messages to ``events``.
        True if there may be more to read; at the end of its pipe, :attr:`closed` is set.

        One read takes all the messages a worker wrote since the last one, where
        ``Connection.recv_bytes`` made two reads per message (through layers of Python).
        """
        self.torn = True  # until what is read is kept
        if not _POLL:  # Windows: the connection reads a message whole
            data = self._recv_whole()
            self.torn = False
            self._take(data, events)
            return False
        try:
            data = os.read(self.conn.fileno(), max(_CHUNK, self._missing()))
        except BlockingIOError:  # (while writing to it, its pipe does not block)
            self.torn = False
            return False
        except OSError:
            data = b""
        if not data:
            self.closed = True
            self.torn = False
            return False
        self._read += data
        self.torn = False
        self.split(events)
        return len(data) >= _CHUNK

    def _recv_whole(self) -> bytes | None:
        try:
            return self.conn.recv_bytes()
        except (EOFError, OSError):
            self.closed = True
            return None

    def _missing(self) -> int:
        """How many bytes the message begun in :attr:`_read` still lacks."""
        buffer = self._read
        if len(buffer) < _HEADER.size:
            return 0
        (size,) = _HEADER.unpack_from(buffer)
        start = _HEADER.size
        if size == -1:
            if len(buffer) < start + _LONG.size:
                return 0
            (size,) = _LONG.unpack_from(buffer, start)
            start += _LONG.size
        missing: int = start + size - len(buffer)
        return max(0, missing)

    def split(self, events: list[Event]) -> None:
        """Take the whole messages read from its pipe (see :meth:`read`) and not taken yet."""
        buffer = self._read
        while len(buffer) >= _HEADER.size:
            (size,) = _HEADER.unpack_from(buffer)
            start = _HEADER.size
            if size == -1:
                if len(buffer) < start + _LONG.size:
                    return
                (size,) = _LONG.unpack_from(buffer, start)
                start += _LONG.size
            end = start + size
            if len(buffer) < end:
                return
            data = bytes(buffer[start:end])
            del buffer[:end]  # before it is taken: an exception there loses it, not the rest
            self._take(data, events)

    def _take(self, data: bytes | None, events: list[Event]) -> None:
        if data is None:
            return
        message = pickle.loads(data)
        if message[0] == LOG:
            handle_record(message[1])
        else:
            events.append(Event(self, message))

    def lost_error(self, starting: bool = False) -> WorkerLostError:
        """The error for this worker's death, naming its node and how it died."""
        self.process.join(1.0)  # reaped, so the exit code is known
        code = self.process.exitcode
        node = self.node.name if self.node is not None else None
        if starting:
            doing = (
                "while starting (its error output says why; a script that runs a pipeline "
                "must start it under `if __name__ == '__main__':` with the forkserver and "
                "spawn start methods, which import the script again in each worker)"
            )
        else:
            doing = f"running node '{node}'" if node else "while idle"
        return WorkerLostError(
            f"Worker process {self.process.pid} {_how_it_ended(code)} {doing}.",
            node,
            code,
        )


class Watch:
    """Waits on the pipes and process sentinels of the workers together.

    ``multiprocessing.connection.wait`` builds and fills a new selector on every call, and the
    parent waits once per message or two; this poll object lasts the run and changes only when
    a worker starts, ends or closes its pipe.
    """

    def __init__(self) -> None:
        self._poll = select.poll() if _POLL else None
        self._watched: dict[int, tuple[WorkerHandle, bool]] = {}  # fd: (worker, is its pipe)

    def wait(
        self, workers: list[WorkerHandle], timeout: float | None
    ) -> list[tuple[WorkerHandle, bool]]:
        """Wait up to ``timeout`` seconds (None: no limit) until the pipe of a live worker has
        something to read or has ended, or its process has ended; say which: ``(worker, True)``
        for a pipe, ``(worker, False)`` for a process."""
        watched: dict[int, tuple[WorkerHandle, bool]] = {}
        for worker in workers:
            if worker.alive:
                if not worker.closed:
                    watched[worker.conn.fileno()] = (worker, True)
                watched[worker.process.sentinel] = (worker, False)
        if self._poll is None:  # Windows
            handles = {
                (w.conn if pipe else w.process.sentinel): (w, pipe) for w, pipe in watched.values()
            }
            return [handles[ready] for ready in wait(list(handles), timeout)]
        if watched.keys() != self._watched.keys():
            for fd in self._watched.keys() - watched.keys():
                self._poll.unregister(fd)
            for fd in watched.keys() - self._watched.keys():
                self._poll.register(fd, select.POLLIN)
        self._watched = watched
        found = self._poll.poll(None if timeout is None else math.ceil(timeout * 1000))
        return [watched[fd] for fd, _flags in found if fd in watched]


def _how_it_ended(code: int | None) -> str:
    if code is None or code >= 0:
        return f"exited (exit code {code})"
    try:
        name = signal.Signals(-code).name
    except ValueError:
        name = f"signal {-code}"
    hint = ""
    if -code == getattr(signal, "SIGKILL", 9):
        hint = " (sent by the system's out-of-memory killer, among others: check memory use)"
    return f"was killed by {name}{hint}"

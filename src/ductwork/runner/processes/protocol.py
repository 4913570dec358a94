"""What the parent and its worker processes say to each other, and how errors and logs travel.

One duplex pipe per worker. The parent sends, pickled:

* once, a :class:`Setup` (everything a worker needs for the whole run);
* per node, a :class:`Task` (the node, and its function if new to the worker, see :mod:`.nodes`;
  the in-memory inputs);
* ``None`` to stop.

A worker answers with tuples whose first item says what they are: ``(READY,)`` once set up,
``(FAILED_START, error)`` if it could not be, ``(LOG, record)`` for each log record (as
:class:`logging.handlers.QueueHandler` prepares it: message and traceback as text), and one
``(DONE, outcome, error, outputs)`` per task: the node's outcome detached from its node (see
:meth:`~ductwork.execution.NodeOutcome.detached`; its times, ``skipped`` and ``metrics`` travel as
they are), its error packed, the blobs of its in-memory outputs. A node's exception travels as a
:class:`PackedError`: the exception pickled, and its traceback as text, which the parent attaches
as ``__cause__`` the way ``concurrent.futures`` does.
"""

from __future__ import annotations

import logging
import pickle
import traceback
from typing import Any, NamedTuple

import cloudpickle

from ductwork.exceptions import RemoteNodeError
from ductwork.execution import NodeShell
from ductwork.io.travel import not_picklable_error
from ductwork.runner.processes.transport import Blob, dumps

__all__ = [
    "DONE",
    "FAILED_START",
    "LOG",
    "READY",
    "PackedError",
    "Setup",
    "Task",
    "handle_record",
    "logging_levels",
    "pack_error",
    "unpack_error",
]

READY = "ready"
FAILED_START = "failed_start"
LOG = "log"
DONE = "done"


class Setup(NamedTuple):
    """What a worker receives once, when it starts.

    ``payload`` is cloudpickled separately (it holds user objects) and opened after ``sys_path``,
    ``cwd`` and ``environ`` are applied, so that user modules import and relative paths resolve
    in the worker as in the parent at the time of the run (a fork server, started earlier,
    would otherwise hand its own, older, ones to its children).
    """

    worker: int
    prefix: str
    sys_path: list[str]
    cwd: str
    environ: dict[str, str]
    levels: dict[str, int]
    disable: int
    payload: bytes


class Payload(NamedTuple):
    """The user objects of a :class:`Setup`: cloudpickled together, once per run.

    Attributes:
        shipped: The datasets the workers load and save themselves, by name.
        memory: The in-memory datasets, whose data travels through shared memory.
        shell: The run's node shell (run id, options, plugins); the parent enforces time limits.
    """

    shipped: dict[str, Any]
    memory: list[str]
    shell: NodeShell

    def pack(self) -> bytes:
        """Cloudpickled; a ``NotPicklableError`` if its parts pickle alone, yet not together."""
        try:
            return bytes(cloudpickle.dumps(self, protocol=5))
        except Exception as error:
            reasons = [f"{type(error).__name__}: {error}"]
            headline = "Cannot send the worker set-up to the worker processes:"
            raise not_picklable_error(headline, {"the worker set-up": reasons}) from error


class Task(NamedTuple):
    """One node to run.

    Attributes:
        node: The node, pickled without its function and retry policy (see :mod:`.nodes`).
        inputs: The node's in-memory inputs.
        takes: The inputs this node is the last to read: the worker unlinks their segments.
        errors: Inputs the parent could not provide, with the error to raise on loading them.
        local: Inputs to read from the worker's own recent outputs (see :mod:`.ahead`).
        after: The nodes that must have succeeded on this worker for this one to run.
        shared: What this node shares with others (its function, its retry policy) and the
            worker has not received yet, by index (see :mod:`.nodes`).
    """

    node: bytes
    inputs: dict[str, Blob]
    takes: frozenset[str]
    errors: dict[str, PackedError]
    local: frozenset[str] = frozenset()
    after: tuple[str, ...] = ()
    shared: dict[int, bytes] | None = None


class PackedError(NamedTuple):
    """An exception on its way to another process, with its traceback as text."""

    pickled: bytes
    traceback: str


class _RemoteTraceback(Exception):
    """The traceback of an exception raised in a worker (the ``__cause__`` of the exception)."""

    def __init__(self, text: str) -> None:
        super().__init__(text)
        self.text = text

    def __str__(self) -> str:
        return self.text


def pack_error(error: BaseException) -> PackedError:
    """Prepare ``error`` to cross to another process.

    An exception that cannot make the round trip (unpicklable arguments, an ``__init__`` whose
    signature does not match its ``args``) is replaced by a :class:`RemoteNodeError` carrying
    its type, message and traceback.
    """
    text = "".join(traceback.format_exception(type(error), error, error.__traceback__))
    try:
        pickled = dumps(error)
        pickle.loads(pickled)  # the parent will do this: fail here, where the type is known
    except Exception:
        kind = type(error)
        stand_in = RemoteNodeError(f"{kind.__module__}.{kind.__qualname__}", str(error), text)
        pickled = pickle.dumps(stand_in, protocol=5)
    return PackedError(pickled, text)


def unpack_error(packed: PackedError) -> BaseException:
    """Rebuild the exception, with the remote traceback as its ``__cause__``."""
    try:
        error: BaseException = pickle.loads(packed.pickled)
    except Exception as failure:  # e.g. its class cannot be imported in this process
        error = RemoteNodeError(type(failure).__name__, str(failure), packed.traceback)
    error.__cause__ = _RemoteTraceback(f'\n"""\n{packed.traceback}"""')
    return error


def logging_levels() -> tuple[dict[str, int], int]:
    """This process's logger levels (root as ``""``), and the ``logging.disable`` level."""
    manager = logging.root.manager
    levels = {"": logging.root.level}
    for name, item in list(manager.loggerDict.items()):
        if isinstance(item, logging.Logger) and item.level != logging.NOTSET:
            levels[name] = item.level
    return levels, manager.disable


def handle_record(record: logging.LogRecord) -> None:
    """Hand a worker's log record to this process's logger of the same name."""
    logger = logging.getLogger(record.name)
    if logger.isEnabledFor(record.levelno):
        logger.handle(record)

"""What the parent and its worker processes say to each other, and how errors and logs travel.

One duplex pipe per worker. The parent sends, pickled:

* once, a :class:`Setup` (everything a worker needs for the whole run);
* once, right after, the :class:`NodeTable` (every node of the run, see :mod:`.nodes`);
* per node, a :class:`Task` (the node's index in the table, its in-memory inputs);
* ``None`` to stop.

A worker answers with tuples whose first item says what they are: ``(READY,)`` once set up,
``(FAILED_START, error)`` if it could not be, ``(LOG, record)`` for each log record (as
:class:`logging.handlers.QueueHandler` prepares it: message and traceback as text), and one
one ``DONE`` message per task (:func:`done_message`): the node's outcome without its node (its
times, ``skipped``, ``metrics`` and ``digests``), its error packed, the blobs of its in-memory
outputs, in plain tuples (a named tuple, or a mapping of no built-in type, pickles several times
slower: it was most of a quick node's message). A node's exception travels as a
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
from ductwork.execution import NodeOutcome, NodeShell
from ductwork.execution.outcome import NO_DIGESTS, NO_METRICS
from ductwork.io.travel import not_picklable_error
from ductwork.pipeline import Node
from ductwork.runner.processes.transport import Blob, dumps

__all__ = [
    "DONE",
    "FAILED_START",
    "LOG",
    "READY",
    "NodeTable",
    "PackedError",
    "Setup",
    "Task",
    "done_message",
    "handle_record",
    "logging_levels",
    "pack_error",
    "read_done",
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


class NodeTable(NamedTuple):
    """Every node of the run, as a worker receives them (see :mod:`.nodes`).

    Attributes:
        parts: What nodes share, each pickled once: their classes, functions, retry policies.
        fields: The names of a plain node's own state, in the order its rows give them.
        rows: Pickled, one row per node: the indices of its class, function and retry policy
            in ``parts``, and its own state (a tuple in ``fields``' order; a dict for a
            subclass of ``Node``).
    """

    parts: list[bytes]
    fields: tuple[str, ...]
    rows: bytes


class Task(NamedTuple):
    """One node to run.

    Attributes:
        node: The node's index in the run's :class:`NodeTable`.
        inputs: The node's in-memory inputs.
        takes: The inputs this node is the last to read: the worker unlinks their segments.
        errors: Inputs the parent could not provide, with the error to raise on loading them.
        local: Inputs to read from the worker's own recent outputs (see :mod:`.ahead`).
        after: The nodes that must have succeeded on this worker for this one to run.
    """

    node: int
    inputs: dict[str, Blob]
    takes: frozenset[str]
    errors: dict[str, PackedError]
    local: frozenset[str] = frozenset()
    after: tuple[str, ...] = ()


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


def done_message(
    outcome: NodeOutcome, error: PackedError | None, outputs: dict[str, Blob]
) -> tuple[Any, ...]:
    """The worker's ``DONE`` message for a task: ``outcome`` (its node and error left out),
    ``error`` packed, the blobs of the outputs; in plain tuples (see the module's docstring)."""
    metrics = None if outcome.metrics is NO_METRICS else outcome.metrics
    digests = None if outcome.digests is NO_DIGESTS else outcome.digests
    blobs = {name: tuple(blob) for name, blob in outputs.items()}
    times = (outcome.started, outcome.finished, outcome.skipped)
    return (DONE, *times, metrics, digests, error and tuple(error), blobs)


def read_done(
    message: tuple[Any, ...], node: Node, worker: str
) -> tuple[NodeOutcome, dict[str, Blob]]:
    """The outcome of ``node``, which ran on ``worker``, told in a ``DONE`` message; the blobs
    of its outputs."""
    _, started, finished, skipped, metrics, digests, packed, blobs = message
    error = None if packed is None else unpack_error(PackedError(*packed))
    outcome = NodeOutcome(
        node,
        error,
        started,
        finished,
        worker,
        skipped,
        NO_METRICS if metrics is None else metrics,
        NO_DIGESTS if digests is None else digests,
    )
    return outcome, {name: Blob(*blob) for name, blob in blobs.items()}


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

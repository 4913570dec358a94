"""A worker's in-memory datasets: what the node it runs reads from and writes to shared memory.

The worker's catalog holds a :class:`TransportDataset` for every in-memory dataset of the run.
Its loads and saves go to the worker's one :class:`Exchange`, which holds the blobs of the
running node's inputs (sent with its task) and of its outputs (sent back with its outcome), and
the outputs of the last nodes that succeeded in this worker, which nodes sent ahead read
(:mod:`.ahead`). An output that cannot travel is the failure of the node that returned it.
"""

from __future__ import annotations

import functools
import itertools
from collections import Counter, deque
from collections.abc import Callable, Set
from typing import Any

from ductwork.exceptions import DatasetError
from ductwork.io import AbstractDataset
from ductwork.io.pickling import find_unpicklable
from ductwork.pipeline import Node
from ductwork.runner.processes import transport
from ductwork.runner.processes.protocol import PackedError, Task, unpack_error
from ductwork.runner.processes.transport import Blob

__all__ = ["Exchange", "TransportDataset"]

_RECENT = 32  # nodes whose outputs a worker keeps for nodes sent ahead (more than it holds)
_NONE: frozenset[str] = frozenset()
_SCALARS = frozenset({int, float, complex, bool, str, bytes, type(None)})


class Exchange:
    """The in-memory data of the node being run: its inputs' blobs, its outputs' blobs; and the
    outputs of the last nodes that succeeded here, which nodes sent ahead read (see ..ahead)."""

    def __init__(self, prefix: str) -> None:
        self._prefix = prefix
        self._numbers = itertools.count()
        self.node: Node | None = None
        self.inputs: dict[str, Blob] = {}
        self.takes: frozenset[str] = frozenset()
        self._later: Set[str] = _NONE
        self.errors: dict[str, PackedError] = {}
        self.outputs: dict[str, Blob] = {}
        self.held: dict[str, Any] = {}  # what the running node saved, as it gave it
        self.recent: deque[dict[str, Blob]] = deque(maxlen=_RECENT)

    def begin(self, node: Node, task: Task) -> None:
        self.node, self.inputs, self.takes, self.errors = node, task.inputs, task.takes, task.errors
        # What it reads more than once and is the last to read is unlinked when it ends: the
        # segment must outlive its first mapping (and loads may run at once, on I/O threads).
        names = node.input_names
        self._later = _NONE
        if len(names) > 1 and len(set(names)) < len(names):
            self._later = {n for n, count in Counter(names).items() if count > 1}
        for outputs in self.recent if task.local else ():  # the oldest first: the latest wins
            self.inputs = {**self.inputs, **{n: outputs[n] for n in task.local if n in outputs}}
        self.outputs, self.held = {}, {}

    def finish(self) -> dict[str, Blob]:
        for name in self.takes & self._later:
            segment = self.inputs[name].segment if name in self.inputs else None
            if segment is not None:
                transport.unlink(segment)
        outputs = self.outputs
        self.node, self.inputs, self.errors, self.outputs, self.held = None, {}, {}, {}, {}
        return outputs

    def load(self, name: str) -> Any:
        if name in self.errors:
            raise unpack_error(self.errors[name])
        blob = self.inputs.get(name)
        if blob is None:
            raise DatasetError(f"Data for '{name}' has not been saved yet.")
        return transport.load(blob, take=name in self.takes and name not in self._later)

    def save(self, name: str, data: Any) -> None:
        try:
            blob = transport.dump(data, self._new_name)
        except Exception as error:
            raise self._unpicklable(name, data, error) from error
        self._check_round_trip(name, data, blob)
        previous = self.outputs.get(name)  # a generator node's earlier chunk
        self.outputs[name] = blob
        self.held[name] = data  # until the node's run ends: its outcome may hash it
        if previous is not None and previous.segment is not None:
            transport.unlink(previous.segment)

    def _check_round_trip(self, name: str, data: Any, blob: Blob) -> None:
        # Data that pickles but cannot be unpickled (a __reduce__ or __setstate__ that fails)
        # would fail the node reading it: it is the failure of the node that returned it. The
        # extra unpickling is cheap: large data travels as buffers, which it maps, not copies;
        # and none for a plain scalar, which always comes back.
        if type(data) in _SCALARS:
            return
        try:
            transport.load(blob)
        except Exception as error:
            if blob.segment is not None:
                transport.unlink(blob.segment)
            node = self.node.name if self.node is not None else "?"
            raise DatasetError(
                f"Node '{node}' returned data for '{name}' that pickles but cannot be unpickled "
                f"({type(error).__name__}: {error}), so it cannot be sent to another process. "
                "Fix how its class is pickled (__reduce__, __setstate__), or run this node with "
                "a thread or sequential runner."
            ) from error

    def _new_name(self) -> str:
        return f"{self._prefix}{next(self._numbers)}"

    def _unpicklable(self, name: str, data: Any, error: Exception) -> DatasetError:
        reasons = find_unpicklable(data) or [f"{type(error).__name__}: {error}"]
        node = self.node.name if self.node is not None else "?"
        return DatasetError(
            f"Node '{node}' returned data for '{name}' that cannot be serialised, so it cannot "
            f"be sent to another process: {'; '.join(reasons)}. Return picklable data, or run "
            "this node with a thread or sequential runner."
        )


class TransportDataset(AbstractDataset[Any, Any]):
    """A worker's stand-in for an in-memory dataset: its data travels through shared memory."""

    _EPHEMERAL = True
    # A worker makes one per in-memory dataset of the run: recording the arguments (for a repr
    # nobody asks for here) cost a 1,000-node run's workers ~40 ms each at their start.
    _RECORD_INIT_ARGS = False

    def __init__(self, name: str, exchange: Exchange) -> None:
        self._name = name
        self._exchange = exchange

    @classmethod
    def _load_wrapper(cls, load_func: Callable[[Any], Any]) -> Callable[[Any], Any]:
        translated = super()._load_wrapper(load_func)

        @functools.wraps(load_func)
        def load(self: TransportDataset) -> Any:
            # An input the parent could not load fails the node with the parent's own error,
            # as on every runner; only this dataset's own failures become a DatasetError.
            packed = self._exchange.errors.get(self._name)
            if packed is not None:
                raise unpack_error(packed)
            return translated(self)

        return load

    def load(self) -> Any:
        return self._exchange.load(self._name)

    def save(self, data: Any) -> None:
        self._exchange.save(self._name, data)

    def held(self) -> Any:
        """What the node running now saved here, as it gave it (uncopied), or None: read by
        ``ductwork.io._protocols.held_data`` (incremental runs hash it where it was made)."""
        return self._exchange.held.get(self._name)

    def _exists(self) -> bool:
        return self._name in self._exchange.inputs or self._name in self._exchange.outputs

    def _describe(self) -> dict[str, Any]:
        return {"name": self._name}

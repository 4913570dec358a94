"""How nodes travel to the workers: the run's nodes in one table, once per worker.

Many nodes of a pipeline often call one function (a fan of a thousand nodes, the nodes of a
modular pipeline used under several namespaces). Pickled node by node, a function that travels
by value (a lambda, a closure, a function of ``__main__``) would travel, and be rebuilt in the
worker, once per node; and a thousand small pickles, each opened by its own unpickler, cost a
1,000-node run tens of milliseconds in the parent and in every worker. Here each distinct part
that nodes share (their class, function and retry policy: what may have to travel by value) is
pickled once, before any worker starts, which names what cannot travel; the nodes' own state
(plain names) is pickled in one go, while the workers set themselves up. Each worker receives
the :class:`~.protocol.NodeTable` once, and a task names its node by its index in it. A worker
rebuilds a shared part the first time a node needs it, and keeps it for the rest of the run:
nodes calling one function share it in a worker, as they do in the parent.

A part that cannot be rebuilt in a worker (its module does not import there) fails each node
that needs it, with the error that rebuilding it raised, as a node that cannot be rebuilt does.
"""

from __future__ import annotations

import operator
import pickle
from collections.abc import Iterable
from typing import Any

from ductwork.io.pickling import find_unpicklable
from ductwork.pipeline import Node
from ductwork.runner.processes.protocol import NodeTable
from ductwork.runner.validation import Offenders, pickle_by_name_or_value

__all__ = ["NodeLoader", "PickledNodes"]


_SHARED = ("_func", "_retry")  # what many nodes may share, and what may have to go by value
# A plain node's own state, as Node.__getstate__ gives it, read in one call; and set, in a
# worker, as Node.__setstate__ sets it, through the slots' own setters (a third of the time).
_FIELDS = tuple(f for f in Node.__slots__ if f not in ("__weakref__", "_hash", *_SHARED))
_own_state = operator.attrgetter(*_FIELDS)
_SETTERS = tuple(Node.__dict__[field].__set__ for field in (*_FIELDS, *_SHARED))
_set_hash = Node.__dict__["_hash"].__set__


class PickledNodes:
    """The run's nodes, and what they share (class, function, retry policy), for the workers.

    The shared parts are pickled before any worker starts (what cannot travel is named then);
    the nodes' own state by :meth:`table`, while the workers start.
    """

    def __init__(self, nodes: Iterable[Node], offenders: Offenders) -> None:
        """Pickle each distinct class, function and retry policy of ``nodes`` once; add to
        ``offenders`` each node with one that cannot travel."""
        self.shared: list[bytes] = []
        """Each distinct shared part, pickled; a node refers to it by its index."""
        self.index: dict[Node, int] = {}
        """Each node's index in the table (its name in a task)."""
        self._refs: list[tuple[Node, tuple[int, ...]]] = []
        self._indices: dict[int, int] = {}  # id(part): its index; the nodes keep them alive
        self._failed: dict[int, list[str]] = {}  # id(part): why it cannot travel
        known: dict[tuple[int, ...], tuple[int, ...]] = {}  # the ids of parts seen together
        for node in nodes:
            parts = (type(node), node.func, node.retry)
            ids = (id(parts[0]), id(parts[1]), id(parts[2]))
            refs = known.get(ids) or self._first_seen(node, parts, offenders)
            if refs:
                known[ids] = refs
                self.index[node] = len(self._refs)
                self._refs.append((node, refs))

    def _first_seen(
        self, node: Node, parts: tuple[object, ...], offenders: Offenders
    ) -> tuple[int, ...]:
        reasons: list[str] = []
        whats = ("its class", "its function", "its retry policy")
        for part, what in zip(parts, whats, strict=True):
            key = id(part)
            if key not in self._indices and key not in self._failed:
                try:
                    self.shared.append(pickle_by_name_or_value(part))
                    self._indices[key] = len(self.shared) - 1
                except Exception as error:
                    problems = find_unpicklable(part) or [f"{type(error).__name__}: {error}"]
                    self._failed[key] = problems
            reasons += [f"{what}: {reason}" for reason in self._failed.get(key, ())]
        if reasons:
            offenders[f"node '{node.name}'"] = reasons
            return ()
        return tuple(self._indices[id(part)] for part in parts)

    def table(self) -> NodeTable:
        """Every node, for a worker: the shared parts, and the nodes' own state in one pickle."""
        rows = [
            (refs, _own_state(node) if type(node) is Node else _state_of(node))
            for node, refs in self._refs
        ]
        return NodeTable(self.shared, _FIELDS, pickle_by_name_or_value(rows))


def _state_of(node: Node) -> dict[str, Any]:
    state = node.__getstate__()  # a subclass's, which may have more
    for field in _SHARED:
        state.pop(field, None)
    return state


class NodeLoader:
    """A worker's side: the run's nodes, rebuilt as tasks name them."""

    def __init__(self, table: NodeTable) -> None:
        self._table = table
        self._rows: list[tuple[tuple[int, ...], Any]] | None = None
        self._parts: dict[int, Any] = {}
        self._failures: dict[int, BaseException] = {}

    def load(self, index: int) -> Node:
        """The node at ``index``, with its shared parts (raising what rebuilding one raised)."""
        if self._rows is None:
            self._rows = pickle.loads(self._table.rows)
        refs, own = self._rows[index]
        kind, func, retry = (self._part(i) for i in refs)
        node: Node = kind.__new__(kind)
        if type(own) is tuple:  # a plain node (see _SETTERS)
            for set_field, value in zip(_SETTERS, (*own, func, retry), strict=True):
                set_field(node, value)
            _set_hash(node, hash(node._key))
        else:
            node.__setstate__({**own, "_func": func, "_retry": retry})
        return node

    def _part(self, index: int) -> Any:
        if index in self._parts:
            return self._parts[index]
        if index not in self._failures:
            try:
                self._parts[index] = pickle.loads(self._table.parts[index])
                return self._parts[index]
            except BaseException as failure:  # e.g. its module does not import here
                self._failures[index] = failure
        raise self._failures[index]

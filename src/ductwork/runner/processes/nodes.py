"""How nodes travel to the workers: what many nodes share goes once per worker, each node once.

Many nodes of a pipeline often call one function (a fan of a thousand nodes, the nodes of a
modular pipeline used under several namespaces). Pickled node by node, a function that travels
by value (a lambda, a closure, a function of ``__main__``) would travel, and be rebuilt in the
worker, once per node: that was most of the cost of a small node on processes. Here each
distinct function and retry policy (the parts of a node that may have to travel by value) is
pickled once, before any worker starts, which names what cannot travel; a node is pickled
without them, with their indices in their place, the first time it is sent; a worker receives
a shared part with the first node it is sent that needs it, and keeps it for the rest of the
run. Nodes calling one function share it in a worker, as they do in the parent.

A part that cannot be rebuilt in a worker (its module does not import there) fails each node
that needs it, with the error that rebuilding it raised, as a node that cannot be rebuilt does.
"""

from __future__ import annotations

import pickle
from collections.abc import Iterable
from typing import Any

from ductwork.io.pickling import find_unpicklable
from ductwork.pipeline import Node
from ductwork.runner.validation import Offenders, pickle_by_name_or_value

__all__ = ["NodeLoader", "PickledNodes"]


_SHARED = ("_func", "_retry")  # what many nodes may share, and what may have to go by value


class PickledNodes:
    """The run's nodes, and what they share (functions, retry policies), pickled for workers.

    The shared parts are pickled before any worker starts (what cannot travel is named then); a
    node, whose own state is plain names, while the workers start, or when it is first sent.
    """

    def __init__(self, nodes: Iterable[Node], offenders: Offenders) -> None:
        """Pickle each distinct function and retry policy of ``nodes`` once; add to
        ``offenders`` each node with one that cannot travel."""
        self.shared: list[bytes] = []
        """Each distinct shared part, pickled; a node refers to it by its index."""
        self._refs: dict[Node, tuple[int, int]] = {}
        self._pickled: dict[Node, bytes] = {}
        self._indices: dict[int, int] = {}  # id(part): its index; the nodes keep them alive
        self._failed: dict[int, list[str]] = {}  # id(part): why it cannot travel
        for node in nodes:  # (what _SHARED names, in its order)
            func_index = self._indices.get(id(node.func))
            retry_index = self._indices.get(id(node.retry))
            if func_index is not None and retry_index is not None:
                self._refs[node] = (func_index, retry_index)
            elif (refs := self._first_seen(node, offenders)) is not None:
                self._refs[node] = refs  # parts seen for the first time

    def _first_seen(self, node: Node, offenders: Offenders) -> tuple[int, int] | None:
        reasons: list[str] = []
        for field, what in zip(_SHARED, ("its function", "its retry policy"), strict=True):
            part = getattr(node, field)
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
            return None
        return self._indices[id(node.func)], self._indices[id(node.retry)]

    def task_parts(self, node: Node, sent: set[int]) -> tuple[bytes, dict[int, bytes] | None]:
        """``node`` pickled, and the shared parts it needs that a worker that was ``sent`` those
        lacks (None: none), which are added to ``sent``."""
        pickled = self._pickled.get(node) or self._pickle(node)
        new = {i: self.shared[i] for i in self._refs[node] if i not in sent}
        sent.update(new)
        return pickled, new or None

    def pickle_all(self) -> None:
        """Pickle every node not pickled yet (while the workers start, say)."""
        for node in self._refs:
            if node not in self._pickled:
                self._pickle(node)

    def _pickle(self, node: Node) -> bytes:
        state = node.__getstate__()
        for field in _SHARED:
            del state[field]
        pickled = pickle_by_name_or_value((type(node), self._refs[node], state))
        self._pickled[node] = pickled
        return pickled


class NodeLoader:
    """A worker's side: the shared parts received so far, and nodes rebuilt with them."""

    def __init__(self) -> None:
        self._parts: dict[int, Any] = {}
        self._failures: dict[int, BaseException] = {}

    def add(self, parts: dict[int, bytes]) -> None:
        """Rebuild the shared parts that came with a task (a failure is kept for its nodes)."""
        for index, data in parts.items():
            try:
                self._parts[index] = pickle.loads(data)
            except BaseException as failure:  # e.g. its module does not import here
                self._failures[index] = failure

    def load(self, data: bytes) -> Node:
        """The node pickled in ``data``, with the shared parts received before (or raising what
        rebuilding one of them raised)."""
        kind, refs, state = pickle.loads(data)
        for field, index in zip(_SHARED, refs, strict=True):
            if index in self._failures:
                raise self._failures[index]
            state[field] = self._parts[index]
        node: Node = kind.__new__(kind)
        node.__setstate__(state)
        return node

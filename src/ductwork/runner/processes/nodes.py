"""How nodes travel to the workers: each function once per worker, each node once.

Many nodes of a pipeline often call one function (a fan of a thousand nodes, the nodes of a
modular pipeline used under several namespaces). Pickled node by node, a function that travels
by value (a lambda, a closure, a function of ``__main__``) would travel, and be rebuilt in the
worker, once per node: that was most of the cost of a small node on processes. Here each
distinct function is pickled once, before any worker starts; a node is pickled without it
(a reference to it stands in its place); a worker receives a function with the first node it
is sent that calls it, and keeps it for the rest of the run. Nodes calling one function share
it in a worker, as they do in the parent.

A function that cannot be rebuilt in a worker (its module does not import there) fails each node
that calls it, with the error that rebuilding it raised, as a node that cannot be rebuilt does.
"""

from __future__ import annotations

import io
import pickle
from collections.abc import Iterable
from typing import Any

import cloudpickle

from ductwork.io.pickling import find_unpicklable
from ductwork.pipeline import Node
from ductwork.runner.validation import Offenders, pickle_by_name_or_value

__all__ = ["NodeLoader", "PickledNodes"]


class PickledNodes:
    """The run's nodes and their functions, pickled (in the parent, before workers start)."""

    def __init__(self, nodes: Iterable[Node], offenders: Offenders) -> None:
        """Pickle every distinct function once and every node without its function; add to
        ``offenders`` each node whose function (or anything else) cannot travel."""
        self.functions: list[bytes] = []
        """Each distinct function, pickled; a node refers to it by its index."""
        self.function_of: dict[Node, int] = {}
        self.nodes: dict[Node, bytes] = {}
        indices: dict[int, int] = {}  # id(function): its index; the nodes keep them alive
        failed: dict[int, list[str]] = {}
        for node in nodes:
            func = node.func
            key = id(func)
            if key not in indices and key not in failed:
                try:
                    self.functions.append(pickle_by_name_or_value(func))
                    indices[key] = len(self.functions) - 1
                except Exception as error:
                    failed[key] = find_unpicklable(func) or [f"{type(error).__name__}: {error}"]
            if key in failed:
                offenders[f"node '{node.name}'"] = [f"its function: {r}" for r in failed[key]]
                continue
            try:
                self.nodes[node] = _pickle_without(node, key, indices[key])
            except Exception as error:
                reasons = find_unpicklable(node) or [f"{type(error).__name__}: {error}"]
                offenders[f"node '{node.name}'"] = reasons
            self.function_of[node] = indices[key]

    def functions_to_send(self, node: Node, sent: set[int]) -> dict[int, bytes] | None:
        """``node``'s function, pickled, unless a worker that was ``sent`` those has it (then
        None); it is added to ``sent``."""
        index = self.function_of[node]
        if index in sent:
            return None
        sent.add(index)
        return {index: self.functions[index]}


def _pickle_without(node: Node, key: int, index: int) -> bytes:
    """``node`` pickled with a reference to function ``index`` in place of its function: by the
    standard pickler unless what is left names ``__main__`` (then by cloudpickle)."""
    # Modules registered to travel by value: cloudpickle decides what they are.
    by_value = getattr(cloudpickle.cloudpickle, "_PICKLE_BY_VALUE_MODULES", None)
    for pickler in (_CloudPickler,) if by_value else (_Pickler, _CloudPickler):
        buffer = io.BytesIO()
        try:
            pickler(buffer, key, index).dump(node)
        except Exception:
            if pickler is _CloudPickler:
                raise
            continue
        data = buffer.getvalue()
        if pickler is _CloudPickler or b"__main__" not in data:
            return data
    raise AssertionError("unreachable")  # pragma: no cover


class _Pickler(pickle.Pickler):
    def __init__(self, file: io.BytesIO, key: int, index: int) -> None:
        super().__init__(file, protocol=5)
        self._key, self._index = key, index

    def persistent_id(self, obj: Any) -> int | None:
        return self._index if id(obj) == self._key else None


class _CloudPickler(cloudpickle.Pickler):  # type: ignore[misc]  # untyped base
    def __init__(self, file: io.BytesIO, key: int, index: int) -> None:
        super().__init__(file, protocol=5)
        self._key, self._index = key, index

    def persistent_id(self, obj: Any) -> int | None:
        return self._index if id(obj) == self._key else None


class NodeLoader:
    """A worker's side: the functions received so far, and nodes rebuilt with them."""

    def __init__(self) -> None:
        self._functions: dict[int, Any] = {}
        self._failures: dict[int, BaseException] = {}

    def add(self, functions: dict[int, bytes]) -> None:
        """Rebuild the functions that came with a task (a failure is kept for its nodes)."""
        for index, data in functions.items():
            try:
                self._functions[index] = pickle.loads(data)
            except BaseException as failure:  # e.g. its module does not import here
                self._failures[index] = failure

    def load(self, data: bytes) -> Node:
        """The node pickled in ``data``, calling a function received before (or raising what
        rebuilding that function raised)."""
        unpickler = pickle.Unpickler(io.BytesIO(data))
        unpickler.persistent_load = self._function  # type: ignore[method-assign]
        node: Node = unpickler.load()
        return node

    def _function(self, index: int) -> Any:
        if index in self._failures:
            raise self._failures[index]
        return self._functions[index]

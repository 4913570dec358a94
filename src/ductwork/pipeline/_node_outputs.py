"""Turning what a node's function returned into ``{output dataset name: value}``.

A generator function with list or dict outputs streams chunks; each chunk holds one part per
output. The first chunk is read at once, so a wrongly shaped result fails inside ``Node.run``;
the stream is then split into one lazy iterator per output with ``itertools.tee``. Later chunks
are checked as they are read.
"""

from __future__ import annotations

import inspect
import warnings
from collections.abc import Callable, Iterator
from functools import partial
from itertools import chain, tee
from operator import itemgetter
from typing import TYPE_CHECKING, Any

from ductwork.exceptions import NodeOutputError

if TYPE_CHECKING:
    from ductwork.pipeline.node import Node

#: Checks one result (or one streamed chunk) and returns its parts in output order.
_ChunkCheck = Callable[[Any], tuple[Any, ...]]


def map_outputs(node: Node, result: Any) -> dict[str, Any]:
    """Map the function's ``result`` onto the node's output dataset names.

    Raises:
        NodeOutputError: If the result's type, length or keys do not fit the outputs.
    """
    spec = node._outputs
    if spec is None:
        if result is not None:
            warnings.warn(
                f"Node '{node.name}' declares no outputs but its function returned a "
                f"'{type(result).__name__}'; the value is discarded.",
                UserWarning,
                stacklevel=3,
            )
        return {}
    if isinstance(spec, str):
        return {spec: result}
    check: _ChunkCheck
    if isinstance(spec, dict):
        check = partial(_dict_parts, node, tuple(spec))
    else:
        check = partial(_list_parts, node)
    names = node._output_names
    if inspect.isgenerator(result):
        return dict(zip(names, _split_stream(node, result, check, len(names)), strict=True))
    return dict(zip(names, check(result), strict=True))


def _failure(node: Node, reason: str) -> NodeOutputError:
    return NodeOutputError(f"Failed to save outputs of node {node}.\n{reason}")


def _list_parts(node: Node, value: Any) -> tuple[Any, ...]:
    expected = len(node._output_names)
    if not isinstance(value, (list, tuple)):
        raise _failure(
            node,
            f"The node definition contains a list of outputs {list(node._output_names)}, "
            f"whereas the node function returned a '{type(value).__name__}'.",
        )
    if len(value) != expected:
        raise _failure(
            node,
            f"The node function returned {len(value)} output(s), whereas the node definition "
            f"contains {expected} output(s).",
        )
    return tuple(value)


def _dict_parts(node: Node, keys: tuple[str, ...], value: Any) -> tuple[Any, ...]:
    if not isinstance(value, dict):
        raise _failure(
            node,
            f"The node output is a dictionary, whereas the function output is {type(value)}.",
        )
    if value.keys() != set(keys):
        missing = sorted(set(keys) - value.keys())
        unexpected = sorted(map(repr, value.keys() - set(keys)))
        raise _failure(
            node,
            f"The node's output keys {sorted(keys)} do not match the returned keys "
            f"(missing: {missing}; unexpected: {unexpected}).",
        )
    return tuple(value[key] for key in keys)


def _split_stream(
    node: Node, stream: Iterator[Any], check: _ChunkCheck, count: int
) -> tuple[Iterator[Any], ...]:
    try:
        first = next(stream)
    except StopIteration:
        raise _failure(node, "The generator function yielded no chunk at all.") from None
    check(first)
    chunks = map(check, chain((first,), stream))
    return tuple(map(itemgetter(i), branch) for i, branch in enumerate(tee(chunks, count)))

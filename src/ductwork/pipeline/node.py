"""``Node``: one function of a pipeline, joined to others by the names of its datasets.

A node is an immutable value. Two nodes are equal when their name, inputs and outputs are
(tags and the function do not count), and that key is hashed once, at construction, because
pipelines put every node in several dicts. Changing a node (``tag``, ``_copy``) builds a new one.
"""

from __future__ import annotations

import inspect
import logging
from collections.abc import Callable, Iterable
from typing import Any, NoReturn

from ductwork.exceptions import InvalidNodeError, NodeInputError
from ductwork.pipeline._node_outputs import map_outputs
from ductwork.pipeline._node_spec import (
    DatasetArg,
    DatasetSpec,
    NodeKey,
    NodeSpec,
    build_spec,
    node_text,
    normalise_tags,
    readable_func_name,
    thawed,
)
from ductwork.pipeline.policies import Retry, check_timeout

__all__ = ["Node", "node"]

_LOGGER = logging.getLogger(__name__)


class Node:
    """A function of a pipeline with named inputs and outputs. Build one with :func:`node`.

    Nodes are frozen: assigning an attribute raises ``AttributeError``, save ``func``, which a
    hook may replace with a wrapped version of itself (a decorator adding logging or timing).
    The node keeps its name, datasets and identity; only the function it calls changes.
    """

    __slots__ = (
        "__weakref__",
        "_confirms",
        "_explicit_name",
        "_func",
        "_func_name",
        "_hash",
        "_input_bases",
        "_input_keys",
        "_input_names",
        "_inputs",
        "_key",
        "_name",
        "_namespace",
        "_output_bases",
        "_output_names",
        "_outputs",
        "_retry",
        "_streams",
        "_tags",
        "_timeout",
    )

    _confirms: tuple[str, ...]
    _explicit_name: str | None
    _func: Callable[..., Any]
    _func_name: str
    _hash: int
    _input_names: tuple[str, ...]
    # The input names as dict keys, to compare with a run's inputs: unlike a frozenset, a dict of
    # strings is not tracked by the garbage collector, which visits every tracked object of a
    # 100k-node pipeline on each full collection.
    _input_keys: dict[str, None]
    _input_bases: tuple[str, ...]  # distinct, transcoding stripped: what the graph indexes
    _inputs: DatasetSpec
    _key: NodeKey
    _name: str
    _namespace: str | None
    _output_names: tuple[str, ...]
    _output_bases: tuple[str, ...]
    _outputs: DatasetSpec
    _retry: Retry | None
    _streams: bool
    _tags: frozenset[str]
    _timeout: float | None

    def __init__(
        self,
        func: Callable[..., Any],
        inputs: DatasetArg,
        outputs: DatasetArg,
        *,
        name: str | None = None,
        tags: str | Iterable[str] | None = None,
        confirms: str | list[str] | None = None,
        namespace: str | None = None,
        retry: Retry | None = None,
        timeout: float | None = None,
    ) -> None:
        """Create a node; see :func:`node` for the arguments and the errors."""
        spec = build_spec(
            func, inputs, outputs, name=name, tags=tags, confirms=confirms, namespace=namespace
        )
        self._assign(spec)
        if retry is not None and not isinstance(retry, Retry):
            raise InvalidNodeError(
                f"Node '{spec.name}': 'retry' must be a ductwork.pipeline.Retry, "
                f"got {type(retry).__name__}."
            )
        object.__setattr__(self, "_retry", retry)
        object.__setattr__(self, "_timeout", check_timeout(timeout, f"Node '{spec.name}'"))

    def _assign(self, spec: NodeSpec) -> None:
        fields = {
            "_func": spec.func,
            "_func_name": spec.func_name,
            "_inputs": spec.inputs,
            "_outputs": spec.outputs,
            "_input_names": spec.input_names,
            "_input_keys": dict.fromkeys(spec.input_names),
            "_output_names": spec.output_names,
            "_input_bases": spec.input_bases,
            "_output_bases": spec.output_bases,
            "_explicit_name": spec.explicit_name,
            "_name": spec.name,
            "_namespace": spec.namespace,
            "_tags": spec.tags,
            "_confirms": spec.confirms,
            "_key": spec.key,
            "_hash": hash(spec.key),
            # Asked by the runner for every run of the node; inspecting the function is slow.
            "_streams": bool(spec.output_names) and inspect.isgeneratorfunction(spec.func),
        }
        for field, value in fields.items():
            object.__setattr__(self, field, value)

    # --- immutability and pickling -----------------------------------------------------------

    def __setattr__(self, name: str, value: object) -> None:
        if name == "func":
            self._replace_func(value)
            return
        raise AttributeError(f"Node is immutable: cannot set '{name}'; build a new node instead.")

    def __delattr__(self, name: str) -> NoReturn:
        raise AttributeError(f"Node is immutable: cannot delete '{name}'.")

    def __getstate__(self) -> dict[str, Any]:
        # The hash of a str key differs between processes (hash seeds): never ship it.
        return {f: getattr(self, f) for f in self.__slots__ if f not in ("__weakref__", "_hash")}

    def __setstate__(self, state: dict[str, Any]) -> None:
        for field, value in state.items():
            object.__setattr__(self, field, value)
        object.__setattr__(self, "_hash", hash(self._key))

    # --- value semantics ---------------------------------------------------------------------

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Node):
            return NotImplemented
        return self is other or (self._hash == other._hash and self._key == other._key)

    def __lt__(self, other: object) -> bool:
        if not isinstance(other, Node):
            return NotImplemented
        return self._key < other._key

    def __hash__(self) -> int:
        return self._hash

    def __str__(self) -> str:
        # The name as given, without the namespace (as Kedro prints it); `name` has the full one.
        return node_text(
            self._func_name, self._explicit_name, self._input_names, self._output_names
        )

    def __repr__(self) -> str:
        return (
            f"Node({self._func_name}, {thawed(self._inputs)!r}, {thawed(self._outputs)!r}, "
            f"{self._explicit_name!r})"
        )

    # --- read-only properties ----------------------------------------------------------------

    @property
    def func(self) -> Callable[..., Any]:
        """The function the node calls; assignable (see the class docstring)."""
        return self._func

    @func.setter
    def func(self, func: Callable[..., Any]) -> None:
        self._replace_func(func)

    def _replace_func(self, func: object) -> None:
        if not callable(func):
            raise InvalidNodeError(
                f"Node '{self._name}': 'func' must be callable, got {type(func).__name__}."
            )
        object.__setattr__(self, "_func", func)
        object.__setattr__(self, "_func_name", readable_func_name(func))
        object.__setattr__(
            self, "_streams", bool(self._output_names) and inspect.isgeneratorfunction(func)
        )

    @property
    def name(self) -> str:
        """The unique name: ``<namespace>.<name>``, or ``<func>__<8 hex>`` when none was given."""
        return self._name

    @property
    def short_name(self) -> str:
        """The name as given, else the function name title-cased: ``make_cars`` -> ``Make Cars``."""
        if self._explicit_name:
            return self._explicit_name
        return self._func_name.replace("_", " ").title()

    @property
    def namespace(self) -> str | None:
        """The node's namespace, e.g. ``"outer.inner"``, or None."""
        return self._namespace

    @property
    def namespace_prefixes(self) -> list[str]:
        """Every enclosing namespace, outermost first: ``a.b.c`` gives ``["a", "a.b", "a.b.c"]``."""
        if not self._namespace:
            return []
        parts = self._namespace.split(".")
        return [".".join(parts[: i + 1]) for i in range(len(parts))]

    @property
    def inputs(self) -> list[str]:
        """Input dataset names in the order they are passed to the function."""
        return list(self._input_names)

    @property
    def outputs(self) -> list[str]:
        """Output dataset names in declaration order."""
        return list(self._output_names)

    @property
    def input_names(self) -> tuple[str, ...]:
        """The input dataset names in call order, as a tuple (``inputs`` without the copy)."""
        return self._input_names

    @property
    def output_names(self) -> tuple[str, ...]:
        """The output dataset names, as a tuple (``outputs`` without the copy)."""
        return self._output_names

    @property
    def retry(self) -> Retry | None:
        """The node's own retry policy (``None``: the runner's default applies)."""
        return self._retry

    @property
    def timeout(self) -> float | None:
        """The node's own time limit in seconds (``None``: the runner's default applies)."""
        return self._timeout

    @property
    def streams_outputs(self) -> bool:
        """Whether the node's outputs come chunk by chunk (a generator function with outputs)."""
        return self._streams

    @property
    def confirms(self) -> list[str]:
        """Names of the datasets this node confirms after it runs."""
        return list(self._confirms)

    @property
    def confirm_names(self) -> tuple[str, ...]:
        """The confirmed dataset names, as a tuple (``confirms`` without the copy)."""
        return self._confirms

    @property
    def tags(self) -> set[str]:
        """The node's tags (a copy)."""
        return set(self._tags)

    # --- derived nodes -----------------------------------------------------------------------

    def tag(self, tags: str | Iterable[str]) -> Node:
        """Return a node like this one with ``tags`` added.

        Raises:
            InvalidNodeError: If a tag holds characters other than letters, digits, ``_-.``.
        """
        added = normalise_tags(tags)
        if added <= self._tags:
            return self
        clone = object.__new__(Node)
        # Only the tags change, and tags take no part in equality: no other check can fail.
        clone.__setstate__({**self.__getstate__(), "_tags": self._tags | added})
        return clone

    def _copy(self, **overrides: Any) -> Node:
        """Return a new node built from this one's arguments with ``overrides`` applied.

        Accepts the keyword arguments of :func:`node` (``func``, ``inputs``, ``outputs``,
        ``name``, ``tags``, ``confirms``, ``namespace``); the new node is validated afresh.
        """
        arguments: dict[str, Any] = {
            "func": self._func,
            "inputs": thawed(self._inputs),
            "outputs": thawed(self._outputs),
            "name": self._explicit_name,
            "tags": set(self._tags),
            "confirms": list(self._confirms) or None,
            "namespace": self._namespace,
            "retry": self._retry,
            "timeout": self._timeout,
        }
        unknown = sorted(set(overrides) - set(arguments))
        if unknown:
            raise TypeError(f"Node._copy() got unexpected argument(s) {unknown}")
        arguments.update(overrides)
        return Node(**arguments)

    # --- running -----------------------------------------------------------------------------

    def __call__(self, **kwargs: Any) -> dict[str, Any]:
        """Same as ``run(kwargs)``."""
        return self.run(kwargs)

    def run(self, inputs: dict[str, Any] | None = None) -> dict[str, Any]:
        """Call the function with ``inputs`` and return its results by output dataset name.

        Args:
            inputs: Input values by dataset name; exactly the node's inputs.

        Returns:
            ``{output dataset name: value}``. With a generator function and list or dict
            outputs, each value is a lazy iterator over that output's part of each chunk.

        Raises:
            NodeInputError: If ``inputs`` do not match the node's inputs.
            NodeOutputError: If the function's result does not fit the node's outputs.
            Exception: Whatever the function itself raises, unchanged.
        """
        if _LOGGER.isEnabledFor(logging.INFO):
            _LOGGER.info("Running node: %s", self)
        try:
            return map_outputs(self, self._call(inputs))
        except Exception as exc:
            _LOGGER.error("Node %s failed with error: \n%s", self, _text_of(exc))
            raise

    def _call(self, inputs: dict[str, Any] | None) -> Any:
        if inputs is None:
            inputs = {}
        elif not isinstance(inputs, dict):
            raise NodeInputError(
                f"Node.run() expects a dictionary or None, but got {type(inputs)} instead"
            )
        spec = self._inputs
        if inputs.keys() != self._input_keys.keys():
            raise self._input_mismatch(inputs)
        if spec is None:
            return self._func()
        if isinstance(spec, str):
            return self._func(inputs[spec])
        if isinstance(spec, dict):
            return self._func(**{argument: inputs[name] for argument, name in spec.items()})
        return self._func(*(inputs[name] for name in spec))

    def _input_mismatch(self, inputs: dict[str, Any]) -> NodeInputError:
        expected = sorted(set(self._input_names))
        given = sorted(inputs)
        missing = sorted(set(expected) - set(given))
        unexpected = sorted(set(given) - set(expected))
        if not expected:
            wanted = "no inputs"
        elif isinstance(self._inputs, str):
            wanted = f"one input named '{self._inputs}'"
        else:
            wanted = f"{len(expected)} input(s) {expected}"
        return NodeInputError(
            f"Node {self} expected {wanted}, but got the following {len(given)} input(s) "
            f"instead: {given}. Missing: {missing}; unexpected: {unexpected}."
        )


def node(
    func: Callable[..., Any],
    inputs: DatasetArg,
    outputs: DatasetArg,
    *,
    name: str | None = None,
    tags: str | Iterable[str] | None = None,
    confirms: str | list[str] | None = None,
    namespace: str | None = None,
    retry: Retry | None = None,
    timeout: float | None = None,
) -> Node:
    """Create a node: a function whose arguments and results are named datasets.

    Args:
        func: The function to call.
        inputs: ``None``; one dataset name; a list of names passed positionally; or a dict
            from parameter name to dataset name, passed by keyword.
        outputs: ``None``; one name (the whole result); a list of names (the function returns
            a list or tuple of that length); or a dict from key of the returned dict to name.
        name: A unique name made of letters, digits, ``_``, ``-`` and ``.``. Generated as
            ``<func>__<8 hex>`` when omitted.
        tags: One tag or several, for filtering pipelines.
        confirms: Dataset name(s) to confirm once the node has run.
        namespace: The node's namespace; its name becomes ``<namespace>.<name>``.
        retry: Run the node again when it fails (see :class:`Retry`); overrides the runner's.
        timeout: Seconds the node may run before the runner stops it (see the runners for how
            each stops a node); overrides the runner's.

    Returns:
        The new, immutable node.

    Raises:
        InvalidNodeError: If ``func`` is not callable, ``inputs``/``outputs`` are of the wrong
            type or both empty, the name or a tag is not valid, an output repeats, or an input
            is also an output (after stripping transcoding).
        NodeSignatureError: If the inputs do not bind to the function's parameters.
        InvalidDatasetNameError: If a dataset name holds more than one ``@``.
        InvalidNodeError: If ``retry`` is not a :class:`Retry` or ``timeout`` not a positive
            number.
    """
    return Node(
        func,
        inputs,
        outputs,
        name=name,
        tags=tags,
        confirms=confirms,
        namespace=namespace,
        retry=retry,
        timeout=timeout,
    )


def _text_of(error: BaseException) -> str:
    """``str(error)``, or a placeholder when the error's own ``__str__`` raises."""
    try:
        return str(error)
    except Exception as broken:
        return f"<str() of the {type(error).__name__} failed: {type(broken).__name__}>"

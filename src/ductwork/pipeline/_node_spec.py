"""Everything a ``Node`` checks and derives before it exists.

``build_spec`` turns the arguments of ``node()`` into a :class:`NodeSpec`: the validated,
normalised fields of one immutable node, including its name and its equality key. Keeping this
apart from the ``Node`` class lets the class stay a small value object.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import inspect
import re
import warnings
import weakref
from collections.abc import Callable, Iterable
from typing import Any, NamedTuple

from ductwork.exceptions import InvalidNodeError, NodeSignatureError
from ductwork.pipeline.transcoding import strip_transcoding

#: What ``inputs`` and ``outputs`` may be: nothing, one name, names in order, or a mapping.
DatasetArg = str | list[str] | dict[str, str] | None
#: How a node keeps ``inputs`` and ``outputs``: like ``DatasetArg`` but never a mutable list.
DatasetSpec = str | tuple[str, ...] | dict[str, str] | None
#: A key that compares nodes by value: ``(name, inputs key, outputs key)``.
NodeKey = tuple[str, tuple[str, ...], tuple[str, ...]]

_LABEL = re.compile(r"[\w.-]+")


class NodeSpec(NamedTuple):
    """The validated fields of one node."""

    func: Callable[..., Any]
    func_name: str
    inputs: DatasetSpec
    outputs: DatasetSpec
    input_names: tuple[str, ...]
    output_names: tuple[str, ...]
    input_bases: tuple[str, ...]
    output_bases: tuple[str, ...]
    explicit_name: str | None
    name: str
    namespace: str | None
    tags: frozenset[str]
    confirms: tuple[str, ...]
    key: NodeKey


def build_spec(
    func: Callable[..., Any],
    inputs: DatasetArg,
    outputs: DatasetArg,
    *,
    name: str | None,
    tags: str | Iterable[str] | None,
    confirms: str | list[str] | None,
    namespace: str | None,
) -> NodeSpec:
    """Validate the arguments of ``node()`` and derive the node's fields.

    Raises:
        InvalidNodeError: For a definition that cannot work (see ``node()``).
        NodeSignatureError: If the inputs do not bind to the function's parameters.
    """
    if not callable(func):
        raise definition_error(f"first argument must be a function, not '{type(func).__name__}'.")
    check_dataset_arg(inputs, "inputs")
    check_dataset_arg(outputs, "outputs")
    if not inputs and not outputs:
        raise definition_error("it must have some 'inputs' or 'outputs'.")
    check_label(name or None, "name")  # Kedro reads an empty name as none
    if namespace is not None and not isinstance(namespace, str):
        raise definition_error(f"'namespace' must be a string, not '{type(namespace).__name__}'.")
    func_name = readable_func_name(func)
    input_names = bound_input_names(func, func_name, inputs)
    output_names = names_of(outputs)
    check_outputs(func_name, name, input_names, output_names)
    base_name = name or generated_name(func, func_name, input_names, output_names)
    full_name = f"{namespace}.{base_name}" if namespace else base_name
    warn_dotted_names(full_name, namespace, input_names + output_names)
    return NodeSpec(
        func=func,
        func_name=func_name,
        inputs=frozen(inputs),
        outputs=frozen(outputs),
        input_names=input_names,
        output_names=output_names,
        input_bases=distinct_bases(input_names),
        output_bases=distinct_bases(output_names),
        explicit_name=name or None,
        name=full_name,
        namespace=namespace or None,
        tags=normalise_tags(tags),
        confirms=normalise_confirms(confirms),
        key=(full_name, spec_key(inputs), spec_key(outputs)),
    )


def definition_error(message: str) -> InvalidNodeError:
    """An :class:`InvalidNodeError` worded the way every definition error is."""
    return InvalidNodeError(
        f"Invalid Node definition: {message}\nFormat should be: node(function, inputs, outputs)"
    )


def check_dataset_arg(value: object, argument: str) -> None:
    """Check that ``inputs`` or ``outputs`` is None, a name, a list of names or a dict."""
    if value is None:
        return
    if isinstance(value, str):
        names: Iterable[object] = [value]
    elif isinstance(value, list):
        names = value
    elif isinstance(value, dict):
        names = [*value.keys(), *value.values()]
    else:
        raise definition_error(
            f"'{argument}' type must be one of [String, List, Dict, None], "
            f"not '{type(value).__name__}'."
        )
    for item in names:
        if not isinstance(item, str):
            role = "inputs to" if argument == "inputs" else "outputs of"
            raise definition_error(
                f"names of variables used as {role} the function must be of 'String' type, "
                f"not '{type(item).__name__}' ({item!r} in '{argument}')."
            )
        if not item:
            raise definition_error(f"the '{argument}' argument holds an empty name.")


def check_label(value: object, what: str) -> None:
    """Check a node name or tag: letters, digits, ``_``, ``-`` and ``.`` only."""
    if value is None:
        return
    if not isinstance(value, str) or not _LABEL.fullmatch(value):
        raise InvalidNodeError(
            f"'{value}' is not a valid node {what}. It must contain only letters, digits, "
            "hyphens, underscores and/or fullstops."
        )


# One shared empty set for every untagged node: a pipeline of 100k nodes would otherwise hold
# 100k empty sets, each an object the garbage collector visits on every full collection.
_NO_TAGS: frozenset[str] = frozenset()


def normalise_tags(tags: str | Iterable[str] | None) -> frozenset[str]:
    """Turn ``tags`` (one tag or many) into a checked frozen set."""
    if tags is None:
        return _NO_TAGS
    result = frozenset([tags] if isinstance(tags, str) else tags)
    for tag in sorted(result, key=str):
        check_label(tag, "tag")
    return result or _NO_TAGS


def normalise_confirms(confirms: str | list[str] | None) -> tuple[str, ...]:
    """Turn ``confirms`` (one dataset name or many) into a checked tuple."""
    if confirms is None:
        return ()
    names = (confirms,) if isinstance(confirms, str) else tuple(confirms)
    for name in names:
        if not isinstance(name, str) or not name:
            raise definition_error(f"'confirms' must hold dataset names, not {name!r}.")
    return names


def readable_func_name(func: Callable[..., Any]) -> str:
    """A short, deterministic name for a callable: its ``__name__`` where it has one.

    A bare ``functools.partial`` has none and shows as ``<partial>`` (as in Kedro; wrap it with
    ``functools.update_wrapper`` to give it its function's name).
    """
    name = getattr(func, "__name__", None)
    if isinstance(name, str):
        return name
    if isinstance(func, functools.partial):
        return "<partial>"
    # A callable instance has no __name__; its class name is stable across runs, its repr is not.
    return type(func).__name__


def _name_base(func: Callable[..., Any], func_name: str) -> str:
    """What a generated node name starts with: ``partial(f)`` for any partial of ``f``."""
    if isinstance(func, functools.partial):
        return f"partial({_name_base(func.func, readable_func_name(func.func))})"
    return func_name


def bound_input_names(
    func: Callable[..., Any], func_name: str, inputs: DatasetArg
) -> tuple[str, ...]:
    """Check that ``inputs`` bind to ``func`` and return the input names in call order.

    Dict inputs come out in the order of the function's parameters, whatever the dict's order.
    """
    signature = _signature_or_none(func)
    if signature is None:
        return names_of(inputs)
    try:
        if isinstance(inputs, dict):
            bound = signature.bind(**inputs)
        else:
            bound = signature.bind(*names_of(inputs))
    except TypeError as exc:
        raise NodeSignatureError(
            f"Inputs of '{func_name}' function expected {list(signature.parameters)}, "
            f"but got {inputs}"
        ) from exc
    if isinstance(inputs, dict):
        return (*bound.args, *bound.kwargs.values())
    return names_of(inputs)


# Signatures by function: large pipelines reuse few functions, and inspecting one costs far more
# than binding to it. Weak keys, so that the cache never keeps a function alive.
_SIGNATURES: weakref.WeakKeyDictionary[Any, inspect.Signature | None] = weakref.WeakKeyDictionary()


def _signature_or_none(func: Callable[..., Any]) -> inspect.Signature | None:
    try:
        return _SIGNATURES[func]
    except (KeyError, TypeError):  # TypeError: not weakly referenceable, or unhashable
        pass
    # Some callables written in C expose no signature; they are called unchecked, as in Kedro.
    try:
        signature: inspect.Signature | None = inspect.signature(func, follow_wrapped=False)
    except (TypeError, ValueError):
        signature = None
    with contextlib.suppress(TypeError):
        _SIGNATURES[func] = signature
    return signature


def names_of(value: DatasetArg | DatasetSpec) -> tuple[str, ...]:
    """The dataset names of an ``inputs``/``outputs`` argument, in declaration order."""
    if value is None:
        return ()
    if isinstance(value, str):
        return (value,)
    if isinstance(value, dict):
        return tuple(value.values())
    return tuple(value)


def distinct_bases(names: tuple[str, ...]) -> tuple[str, ...]:
    """The distinct base names (transcoding stripped) of ``names``, in order.

    Pipelines index nodes by base name, many times over for slices; stripping once per node
    here saves that work. Without transcoding or repeats this is ``names`` itself (no copy).
    """
    bases = tuple(dict.fromkeys(map(strip_transcoding, names)))
    return names if bases == names else bases


def frozen(value: DatasetArg) -> DatasetSpec:
    """A copy of ``inputs``/``outputs`` that the caller can no longer change."""
    if isinstance(value, list):
        return tuple(value)
    if isinstance(value, dict):
        return dict(value)
    return value


def thawed(value: DatasetSpec) -> DatasetArg:
    """The ``inputs``/``outputs`` argument that rebuilds a frozen spec."""
    if isinstance(value, tuple):
        return list(value)
    if isinstance(value, dict):
        return dict(value)
    return value


def spec_key(value: DatasetArg) -> tuple[str, ...]:
    """An orderable key for ``inputs``/``outputs``: the style first, then the names.

    ``"x"`` and ``["x"]`` differ (one value versus a one-item list) and so do their keys; dict
    order does not matter, list order does.
    """
    if value is None:
        return ("none",)
    if isinstance(value, str):
        return ("str", value)
    if isinstance(value, dict):
        return ("dict", *(part for item in sorted(value.items()) for part in item))
    return ("list", *value)


def check_outputs(
    func_name: str,
    name: str | None,
    input_names: tuple[str, ...],
    output_names: tuple[str, ...],
) -> None:
    """Check that no output repeats and that no output is also an input."""
    repeated = sorted({n for n in output_names if output_names.count(n) > 1})
    if repeated:
        text = node_text(func_name, name, input_names, output_names)
        raise InvalidNodeError(
            f"Failed to create node {text} due to duplicate output(s) {_as_set(repeated)}.\n"
            "Node outputs must be unique."
        )
    overlap = {strip_transcoding(n) for n in input_names} & {
        strip_transcoding(n) for n in output_names
    }
    if overlap:
        text = node_text(func_name, name, input_names, output_names)
        raise InvalidNodeError(
            f"Failed to create node {text}.\nA node cannot have the same inputs and outputs "
            f"even if they are transcoded: {_as_set(overlap)}"
        )


def _as_set(names: Iterable[str]) -> str:
    """``{'a', 'b'}``: names shown as a set, in sorted order so messages are reproducible."""
    return "{" + ", ".join(repr(name) for name in sorted(names)) + "}"


def node_text(
    func_name: str,
    name: str | None,
    input_names: Iterable[str],
    output_names: Iterable[str],
) -> str:
    """The human form of a node: ``[name: ]func([in1;in2]) -> [out1;out2]``."""
    ins = ";".join(input_names)
    outs = ";".join(output_names)
    prefix = f"{name}: " if name else ""
    ins = f"[{ins}]" if ins else "None"
    outs = f"[{outs}]" if outs else "None"
    return f"{prefix}{func_name}({ins}) -> {outs}"


def generated_name(
    func: Callable[..., Any],
    func_name: str,
    input_names: tuple[str, ...],
    output_names: tuple[str, ...],
) -> str:
    """``<func>__<8 hex>``: a name that depends only on the function and the dataset names.

    sha256 rather than ``hash()`` so that the name is the same in every process and run.
    """
    base = _name_base(func, func_name)
    if isinstance(func, functools.partial):
        qualified = base
    else:
        qualified = f"{getattr(func, '__module__', None)}.{func_name}"
    key = f"{qualified}|{list(input_names)!r}|{list(output_names)!r}"
    return f"{base}__{hashlib.sha256(key.encode()).hexdigest()[:8]}"


class _Once:
    """Remembers which keys were seen in this process (tests may ``reset`` it)."""

    def __init__(self) -> None:
        self._seen: set[str] = set()

    def first(self, key: str) -> bool:
        """True the first time ``key`` is given (after a reset), False after."""
        if key in self._seen:
            return False
        self._seen.add(key)
        return True

    def reset(self) -> None:
        """Forget every key."""
        self._seen.clear()


#: The dotted-name warning is about a naming habit: once per dataset name and process is enough
#: (a pipeline that reuses a dotted name in a hundred nodes warns once, not a hundred times).
DOTTED_NAME_WARNING = _Once()


def warn_dotted_names(node_name: str, namespace: str | None, dataset_names: Iterable[str]) -> None:
    """Warn (once per dataset name) about a dataset name that looks namespaced but is not.

    ``.`` in a dataset name is how namespaces show; a dotted name whose first part is not the
    node's top-level namespace usually means a namespace was written by hand, which breaks
    namespace-based slicing and grouping. ``params:`` names are exempt.
    """
    top = namespace.split(".", 1)[0] if namespace else None
    for dataset in dataset_names:
        if "." not in dataset or dataset.startswith("params:"):
            continue
        if dataset.split(".", 1)[0] == top:
            continue
        if DOTTED_NAME_WARNING.first(dataset):
            warnings.warn(
                f"Dataset name '{dataset}' contains '.' characters, which ductwork reads as a "
                f"namespace, but it does not start with the top-level namespace ({top!r}) of "
                f"node '{node_name}'. Prefer '_' in dataset names, or set the namespace with "
                "pipeline(..., namespace=...). Each such name is warned about once.",
                UserWarning,
                stacklevel=5,
            )

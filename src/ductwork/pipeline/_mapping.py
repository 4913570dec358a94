"""Namespacing and renaming the datasets of a pipeline (``Pipeline(..., namespace=...)``).

A namespace ``ns`` makes a pipeline reusable: every node moves into namespace ``ns`` (nested
as ``ns.inner``), every dataset ``x`` becomes ``ns.x`` and every parameter ``params:p`` becomes
``params:ns.p``. The names given in ``inputs``, ``outputs`` and ``parameters`` are the
connection points: they keep their names, or take the new names a dict gives them. The whole
parameters dict, ``parameters``, is never prefixed.

The rules for one dataset name, first match wins:

1. the name is mapped (exact name): use the mapped name;
2. the name is ``parameters``: keep it;
3. the name's base (transcoding stripped) is mapped: the mapped base with the same format;
4. with a namespace (and prefixing on): ``params:p`` -> ``params:ns.p``, ``x`` -> ``ns.x``;
5. otherwise keep it.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from ductwork.exceptions import PipelineMappingError
from ductwork.pipeline._node_spec import DatasetArg, DatasetSpec, thawed
from ductwork.pipeline._suggest import close_matches
from ductwork.pipeline.transcoding import TRANSCODING_SEPARATOR, strip_transcoding, transcode_split

if TYPE_CHECKING:
    from ductwork.pipeline.node import Node

#: How ``inputs``, ``outputs`` and ``parameters`` may be given: a name, names, or old -> new.
NameMapping = str | Collection[str] | Mapping[str, str] | None

_ALL_PARAMETERS = "parameters"
_PARAMS_PREFIX = "params:"


def is_parameter(name: str) -> bool:
    """True for ``params:<name>`` and for the whole-dict name ``parameters``."""
    return name == _ALL_PARAMETERS or name.startswith(_PARAMS_PREFIX)


@dataclass(frozen=True)
class _Renamer:
    mapping: dict[str, str]
    namespace: str | None
    prefix: bool

    def rename(self, name: str) -> str:
        if name in self.mapping:
            return self.mapping[name]
        if name == _ALL_PARAMETERS:
            return name
        base, fmt = transcode_split(name)
        if base in self.mapping:
            return f"{self.mapping[base]}{TRANSCODING_SEPARATOR}{fmt}"
        if not (self.namespace and self.prefix):
            return name
        if name.startswith(_PARAMS_PREFIX):
            return f"{_PARAMS_PREFIX}{self.namespace}.{name.removeprefix(_PARAMS_PREFIX)}"
        return f"{self.namespace}.{name}"

    def rename_spec(self, spec: DatasetSpec) -> DatasetArg:
        value = thawed(spec)
        if isinstance(value, str):
            return self.rename(value)
        if isinstance(value, dict):
            return {key: self.rename(name) for key, name in value.items()}
        return None if value is None else [self.rename(name) for name in value]

    def move(self, node: Node) -> Node:
        namespace = node.namespace
        if self.namespace:
            namespace = f"{self.namespace}.{namespace}" if namespace else self.namespace
        return node._copy(
            inputs=self.rename_spec(node._inputs),
            outputs=self.rename_spec(node._outputs),
            confirms=[self.rename(name) for name in node._confirms] or None,
            namespace=namespace,
        )


def map_nodes(
    nodes: Sequence[Node],
    *,
    inputs: NameMapping,
    outputs: NameMapping,
    parameters: NameMapping,
    namespace: str | None,
    prefix_datasets_with_namespace: bool,
) -> list[Node]:
    """Return the nodes moved into ``namespace`` with their datasets renamed.

    Raises:
        PipelineMappingError: If a mapped name is not a dataset of the nodes (with suggestions
            of close names), a parameter is given under ``inputs``, an ``inputs`` entry is not a
            free input, or an ``outputs`` entry is a free input.
    """
    input_map = _as_mapping(inputs, "inputs")
    output_map = _as_mapping(outputs, "outputs")
    parameter_map = _parameter_mapping(parameters)
    _check_mapped_names(nodes, input_map, output_map, parameter_map)
    renamer = _Renamer(
        {**input_map, **output_map, **parameter_map}, namespace, prefix_datasets_with_namespace
    )
    return [renamer.move(node) for node in nodes]


def _as_mapping(names: NameMapping, argument: str) -> dict[str, str]:
    if names is None:
        return {}
    if isinstance(names, str):
        names = [names]
    pairs = names.items() if isinstance(names, Mapping) else ((n, n) for n in names)
    mapping = dict(pairs)
    for old, new in mapping.items():
        if not (isinstance(old, str) and isinstance(new, str)):
            raise PipelineMappingError(
                f"'{argument}' must map dataset names to dataset names, got {old!r}: {new!r}."
            )
    return mapping


def _parameter_mapping(parameters: NameMapping) -> dict[str, str]:
    def normalise(name: str) -> str:
        return name if is_parameter(name) else f"{_PARAMS_PREFIX}{name}"

    mapping = _as_mapping(parameters, "parameters")
    return {normalise(old): normalise(new) for old, new in mapping.items()}


def _check_mapped_names(
    nodes: Sequence[Node],
    input_map: dict[str, str],
    output_map: dict[str, str],
    parameter_map: dict[str, str],
) -> None:
    mapped_inputs = {strip_transcoding(n) for n in input_map}
    mapped_outputs = {strip_transcoding(n) for n in output_map}
    known = {strip_transcoding(n) for node in nodes for n in _datasets(node)}
    unknown = sorted((mapped_inputs | mapped_outputs | set(parameter_map)) - known)
    if unknown:
        matches = close_matches(unknown, known)
        hint = f" - did you mean one of these instead: {', '.join(matches)}" if matches else ""
        raise PipelineMappingError(
            "Failed to map datasets and/or parameters onto the nodes provided: "
            f"{', '.join(unknown)}{hint}"
        )
    misplaced = sorted(n for n in mapped_inputs if is_parameter(n))
    if misplaced:
        raise PipelineMappingError(
            f"Parameters should be specified in the 'parameters' argument, not 'inputs': "
            f"{misplaced}"
        )
    free = _free_input_bases(nodes)
    if not mapped_inputs <= free:
        raise PipelineMappingError(
            "Inputs must not be outputs from another node in the same pipeline; these are: "
            f"{sorted(mapped_inputs - free)}"
        )
    if mapped_outputs & free:
        raise PipelineMappingError(
            "All outputs must be generated by some node within the pipeline; these are free "
            "inputs: "
            f"{sorted(mapped_outputs & free)}"
        )


def _datasets(node: Node) -> Iterable[str]:
    return node._input_names + node._output_names


def _free_input_bases(nodes: Sequence[Node]) -> set[str]:
    produced = {strip_transcoding(n) for node in nodes for n in node._output_names}
    return {strip_transcoding(n) for node in nodes for n in node._input_names} - produced

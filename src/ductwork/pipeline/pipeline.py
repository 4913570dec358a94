"""``Pipeline``: an immutable set of nodes joined by dataset names, and the queries on it.

Creating a pipeline checks it completely (unique names, unique outputs and confirms, consistent
transcoding, no cycle) and builds its :class:`~ductwork.pipeline.graph.PipelineGraph` once.
Every query then walks that index: slicing costs O(nodes + edges) of the pipeline, never a
rescan per node. A slice of a valid pipeline is valid, so slices skip the checks and only
build their own index.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterable, Sequence
from functools import cached_property
from typing import Any

from ductwork.exceptions import (
    CircularDependencyError,
    ConfirmNotUniqueError,
    DuctworkDeprecationWarning,
    EmptyPipelineError,
    InvalidPipelineError,
    OutputNotUniqueError,
    PipelineError,
)
from ductwork.pipeline import _checks, grouping, transcoding
from ductwork.pipeline._lookup import (
    check_datasets,
    namespace_positions,
    node_positions,
    reader_positions,
    writer_positions,
)
from ductwork.pipeline._mapping import NameMapping, map_nodes
from ductwork.pipeline._namespace_check import warn_interrupted_namespaces
from ductwork.pipeline.graph import PipelineGraph
from ductwork.pipeline.grouping import GroupedNodes
from ductwork.pipeline.node import Node
from ductwork.pipeline.transcoding import strip_transcoding

__all__ = [
    "CircularDependencyError",
    "ConfirmNotUniqueError",
    "GroupedNodes",
    "OutputNotUniqueError",
    "Pipeline",
    "PipelineError",
    "pipeline",
]

_REPR_NODES = 10


class Pipeline:
    """An immutable, validated graph of nodes; see :func:`pipeline` for the arguments."""

    def __init__(
        self,
        nodes: Iterable[Node | Pipeline] | Pipeline,
        *,
        inputs: NameMapping = None,
        outputs: NameMapping = None,
        parameters: NameMapping = None,
        tags: str | Iterable[str] | None = None,
        namespace: str | None = None,
        prefix_datasets_with_namespace: bool = True,
    ) -> None:
        """Create a pipeline; see :func:`pipeline`."""
        sources = _sources(nodes)
        _checks.check_unique_names(sources)
        flat = [node for _, group in sources for node in group]
        if inputs or outputs or parameters or namespace:
            flat = map_nodes(
                flat,
                inputs=inputs,
                outputs=outputs,
                parameters=parameters,
                namespace=namespace,
                prefix_datasets_with_namespace=prefix_datasets_with_namespace,
            )
        if tags:
            flat = [node.tag(tags) for node in flat]
        _checks.check_transcoding(flat)
        _checks.check_unique_outputs(flat)
        _checks.check_unique_confirms(flat)
        self._graph = PipelineGraph(flat)
        if any(node.namespace for node in flat):
            warn_interrupted_namespaces(self._graph)

    @classmethod
    def _of_valid_nodes(cls, nodes: Sequence[Node]) -> Pipeline:
        # Nodes taken from a valid pipeline (a slice, retagged nodes) cannot fail a check.
        result = cls.__new__(cls)
        result._graph = PipelineGraph(nodes)
        return result

    def _subset(self, positions: Iterable[int]) -> Pipeline:
        nodes = self._graph.nodes
        return Pipeline._of_valid_nodes([nodes[p] for p in sorted(set(positions))])

    # --- the graph ---------------------------------------------------------------------------

    @property
    def graph(self) -> PipelineGraph:
        """The pipeline's dataset index and execution order, for runners and schedulers."""
        return self._graph

    @property
    def nodes(self) -> list[Node]:
        """The nodes in topological order; independent nodes are ordered by name."""
        return list(self._graph.nodes)

    @property
    def grouped_nodes(self) -> list[list[Node]]:
        """The nodes in layers: every node's parents are in earlier layers."""
        return [list(layer) for layer in self._graph.layers]

    @property
    def node_dependencies(self) -> dict[Node, set[Node]]:
        """Each node and the nodes it reads from (transcoding-aware). A fresh dict each time."""
        graph, nodes = self._graph, self._graph.nodes
        return {node: {nodes[p] for p in graph.parent_positions(i)} for i, node in enumerate(nodes)}

    # --- datasets ----------------------------------------------------------------------------

    def all_inputs(self) -> set[str]:
        """Every dataset name some node reads."""
        return set(self._all_inputs)

    def all_outputs(self) -> set[str]:
        """Every dataset name some node writes."""
        return set(self._all_outputs)

    def inputs(self) -> set[str]:
        """Free inputs: names read but produced by no node (parameters included)."""
        return set(self._free_inputs)

    def outputs(self) -> set[str]:
        """Free outputs: names written but read by no node."""
        return set(self._free_outputs)

    def datasets(self) -> set[str]:
        """Every dataset name the nodes read or write."""
        return set(self._datasets)

    @cached_property
    def _all_inputs(self) -> frozenset[str]:
        return frozenset(name for node in self._graph.nodes for name in node._input_names)

    @cached_property
    def _all_outputs(self) -> frozenset[str]:
        return frozenset(name for node in self._graph.nodes for name in node._output_names)

    # Free inputs and outputs compare base names (transcoding stripped) as sets: cheaper than
    # asking the graph's producer and consumer indexes name by name, which runs build eagerly.
    @cached_property
    def _free_inputs(self) -> frozenset[str]:
        produced = {base for node in self._graph.nodes for base in node._output_bases}
        return frozenset(n for n in self._all_inputs if strip_transcoding(n) not in produced)

    @cached_property
    def _free_outputs(self) -> frozenset[str]:
        read = {base for node in self._graph.nodes for base in node._input_bases}
        return frozenset(n for n in self._all_outputs if strip_transcoding(n) not in read)

    @cached_property
    def _datasets(self) -> frozenset[str]:
        return self._all_inputs | self._all_outputs

    # --- slicing -----------------------------------------------------------------------------

    def only_nodes(self, *node_names: str) -> Pipeline:
        """The named nodes only.

        Raises:
            UnknownNodeError: If a name is not a node of this pipeline.
        """
        return self._subset(self._positions(node_names))

    def from_nodes(self, *node_names: str) -> Pipeline:
        """The named nodes and every node downstream of them."""
        return self._subset(self._graph.downstream(self._positions(node_names)))

    def to_nodes(self, *node_names: str) -> Pipeline:
        """The named nodes and every node upstream of them."""
        return self._subset(self._graph.upstream(self._positions(node_names)))

    def only_nodes_with_inputs(self, *inputs: str) -> Pipeline:
        """The nodes reading any of ``inputs``.

        A base name (``x``) matches every format of it; ``x@fmt`` matches that format only.

        Raises:
            UnknownDatasetError: If a name is not a dataset of this pipeline.
        """
        return self._subset(self._readers(inputs))

    def from_inputs(self, *inputs: str) -> Pipeline:
        """The nodes reading any of ``inputs``, and everything downstream of them."""
        return self._subset(self._graph.downstream(self._readers(inputs)))

    def only_nodes_with_outputs(self, *outputs: str) -> Pipeline:
        """The nodes writing any of ``outputs`` (matched as in ``only_nodes_with_inputs``)."""
        return self._subset(self._writers(outputs))

    def to_outputs(self, *outputs: str) -> Pipeline:
        """The nodes writing any of ``outputs``, and everything upstream of them."""
        return self._subset(self._graph.upstream(self._writers(outputs)))

    def only_nodes_with_tags(self, *tags: str) -> Pipeline:
        """The nodes carrying at least one of ``tags``."""
        wanted = set(tags)
        nodes = self._graph.nodes
        return self._subset(i for i, n in enumerate(nodes) if not wanted.isdisjoint(n._tags))

    def only_nodes_with_namespaces(self, node_namespaces: Iterable[str]) -> Pipeline:
        """The nodes in any of the namespaces, nested namespaces included.

        Raises:
            UnknownNamespaceError: If a namespace holds no node of this pipeline.
        """
        positions = namespace_positions(self._graph, _as_names(node_namespaces))
        return self._subset(positions)

    def filter(
        self,
        tags: Iterable[str] | None = None,
        from_nodes: Iterable[str] | None = None,
        to_nodes: Iterable[str] | None = None,
        node_names: Iterable[str] | None = None,
        from_inputs: Iterable[str] | None = None,
        to_outputs: Iterable[str] | None = None,
        node_namespaces: Iterable[str] | None = None,
    ) -> Pipeline:
        """The nodes that pass every given filter, each applied to this whole pipeline.

        Raises:
            EmptyPipelineError: If no node passes them all.
            UnknownNodeError, UnknownDatasetError, UnknownNamespaceError: As the queries do.
        """
        queries = {
            "tags": (self.only_nodes_with_tags, tags),
            "from_nodes": (self.from_nodes, from_nodes),
            "to_nodes": (self.to_nodes, to_nodes),
            "node_names": (self.only_nodes, node_names),
            "from_inputs": (self.from_inputs, from_inputs),
            "to_outputs": (self.to_outputs, to_outputs),
            "node_namespaces": (self._namespaces_query, node_namespaces),
        }
        kept = set(self._graph.nodes)
        for query, names in queries.values():
            if names:
                kept.intersection_update(query(*_as_names(names)).graph.nodes)
        if not kept:
            used = [key for key, (_, names) in queries.items() if names]
            raise EmptyPipelineError(
                "Pipeline contains no nodes after applying all provided filters "
                f"({', '.join(used) or 'none'}). Please ensure that at least one pipeline with "
                "nodes has been defined and that the filters overlap."
            )
        return self._subset(self._graph.position(node) for node in kept)

    def _namespaces_query(self, *namespaces: str) -> Pipeline:
        return self.only_nodes_with_namespaces(namespaces)

    def _positions(self, node_names: Iterable[str]) -> list[int]:
        return node_positions(self._graph, node_names)

    def _readers(self, datasets: Iterable[str]) -> list[int]:
        return reader_positions(self._graph, self._known_datasets(datasets))

    def _writers(self, datasets: Iterable[str]) -> list[int]:
        return writer_positions(self._graph, self._known_datasets(datasets))

    def _known_datasets(self, names: Iterable[str]) -> list[str]:
        return check_datasets(names, self._datasets, self._bases)

    @cached_property
    def _bases(self) -> frozenset[str]:
        return frozenset(map(strip_transcoding, self._datasets))

    # --- combining ---------------------------------------------------------------------------

    def __add__(self, other: object) -> Pipeline:
        if not isinstance(other, Pipeline):
            return NotImplemented
        merged = list(self._graph.nodes)
        present = set(merged)
        merged += [node for node in other._graph.nodes if node not in present]
        # A node of `other` that shares a name but not a value with one of ours fails here.
        return Pipeline(merged)

    def __radd__(self, other: object) -> Pipeline:
        # sum() starts from 0.
        if isinstance(other, int) and other == 0:
            return self
        return NotImplemented

    def __or__(self, other: object) -> Pipeline:
        return self.__add__(other)

    def __sub__(self, other: object) -> Pipeline:
        if not isinstance(other, Pipeline):
            return NotImplemented
        drop = set(other._graph.nodes)
        return self._subset(i for i, n in enumerate(self._graph.nodes) if n not in drop)

    def __and__(self, other: object) -> Pipeline:
        if not isinstance(other, Pipeline):
            return NotImplemented
        keep = set(other._graph.nodes)
        return self._subset(i for i, n in enumerate(self._graph.nodes) if n in keep)

    def tag(self, tags: str | Iterable[str]) -> Pipeline:
        """A pipeline whose nodes all carry ``tags`` as well."""
        return Pipeline._of_valid_nodes([node.tag(tags) for node in self._graph.nodes])

    # --- views -------------------------------------------------------------------------------

    def describe(self, names_only: bool = True) -> str:
        """The execution order, free inputs and free outputs as a printable block."""
        return grouping.describe(self.nodes, self.inputs(), self.outputs(), names_only)

    def to_json(self) -> str:
        """The pipeline as JSON: the version and the nodes (name, inputs, outputs, tags) in
        execution order, as ``{"ductwork_version": ..., "pipeline": [...]}``."""
        return grouping.to_json(self.nodes)

    def group_nodes_by(self, group_by: str | None = "namespace") -> list[GroupedNodes]:
        """Group nodes by top-level namespace (``"namespace"``) or one per node (``None``)."""
        return grouping.group_nodes_by(self._graph, group_by)

    def __repr__(self) -> str:
        nodes = self._graph.nodes
        shown = [repr(node) for node in nodes[:_REPR_NODES]]
        if len(nodes) > _REPR_NODES:
            shown.append(f"... ({len(nodes) - _REPR_NODES} more)")
        body = "[\n" + ",\n".join(shown) + "\n]" if shown else "[]"
        return f"Pipeline({body})"


def pipeline(
    nodes: Iterable[Node | Pipeline] | Pipeline,
    *,
    inputs: NameMapping = None,
    outputs: NameMapping = None,
    parameters: NameMapping = None,
    tags: str | Iterable[str] | None = None,
    namespace: str | None = None,
    prefix_datasets_with_namespace: bool = True,
) -> Pipeline:
    """Create a pipeline from nodes and pipelines (which are flattened).

    Args:
        nodes: Nodes and/or pipelines, or one pipeline.
        inputs: Free inputs that keep their names under a namespace: a name, a collection of
            names, or a dict renaming them (old -> new).
        outputs: Outputs that keep their names, or a dict renaming them.
        parameters: Parameters that keep their names, or a dict renaming them; the
            ``params:`` prefix may be left out.
        tags: Tag(s) added to every node.
        namespace: Moves every node into this namespace and, unless
            ``prefix_datasets_with_namespace`` is False, prefixes the other dataset names with
            ``<namespace>.`` and parameter names with ``params:<namespace>.``.
        prefix_datasets_with_namespace: Whether the namespace also renames datasets.

    Returns:
        The new, immutable pipeline.

    Raises:
        InvalidPipelineError: If ``nodes`` is None or holds something else than nodes and
            pipelines, node names repeat, or a dataset is used with and without ``@``.
        OutputNotUniqueError: If two nodes produce the same dataset.
        ConfirmNotUniqueError: If two nodes confirm the same dataset.
        CircularDependencyError: If nodes depend on each other in a cycle.
        PipelineMappingError: If ``inputs``, ``outputs`` or ``parameters`` cannot be applied.
    """
    return Pipeline(
        nodes,
        inputs=inputs,
        outputs=outputs,
        parameters=parameters,
        tags=tags,
        namespace=namespace,
        prefix_datasets_with_namespace=prefix_datasets_with_namespace,
    )


def _sources(nodes: Any) -> list[tuple[Pipeline | None, Sequence[Node]]]:
    """The nodes given, grouped by the pipeline they came in (None for a lone node)."""
    if nodes is None:
        raise InvalidPipelineError(
            "'nodes' argument of 'Pipeline' is None. It must be an iterable of nodes and/or "
            "pipelines instead."
        )
    if isinstance(nodes, Pipeline):
        return [(None, nodes._graph.nodes)]
    sources: list[tuple[Pipeline | None, Sequence[Node]]] = []
    free: list[Node] = []  # consecutive lone nodes share one entry
    for item in nodes:
        if isinstance(item, Node):
            free.append(item)
            continue
        if free:
            sources.append((None, free))
            free = []
        if not isinstance(item, Pipeline):
            raise InvalidPipelineError(
                f"A pipeline is made of nodes and pipelines, not '{type(item).__name__}': {item!r}"
            )
        sources.append((item, item._graph.nodes))
    if free:
        sources.append((None, free))
    return sources


def _as_names(names: Iterable[str]) -> set[str]:
    # A lone string would otherwise be read as a collection of one-letter names.
    return {names} if isinstance(names, str) else set(names)


def __getattr__(name: str) -> Any:
    # Kedro moved the separator to its transcoding module and warns when it is imported from
    # here; code written for either place works.
    if name == "TRANSCODING_SEPARATOR":
        warnings.warn(
            "'TRANSCODING_SEPARATOR' has been moved to 'ductwork.pipeline.transcoding'; "
            "import it from there.",
            DuctworkDeprecationWarning,
            stacklevel=2,
        )
        return transcoding.TRANSCODING_SEPARATOR
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")

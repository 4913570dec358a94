"""Deciding which nodes a run with ``only_missing_outputs=True`` must run.

The rules are Kedro's (a node runs when it has no outputs, when one of its persisted outputs is
missing, or when a running child needs an output that will not be there otherwise), decided
children-first, with one defect fixed: a node whose free output lives in memory runs when a node
it reads from runs, so the caller gets results computed from the fresh upstream data instead of
nothing. Kedro skips such a node, even right after retraining its input.

The decisions come back with a reason for every node, run or skipped; the runner logs them and
the command line's dry run prints them. Nothing here touches a catalog: the caller passes a
function that classifies a dataset name, and it is asked at most once per name.
"""

from __future__ import annotations

import enum
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

from ductwork.pipeline import Node
from ductwork.pipeline.graph import PipelineGraph
from ductwork.pipeline.transcoding import strip_transcoding as base_name

__all__ = ["DatasetState", "Decision", "MissingOutputsPlan", "plan_missing_outputs"]


class DatasetState(enum.Enum):
    """Where a dataset's data will be when the run starts."""

    MEMORY = "memory"
    """Undeclared or ephemeral: only there if a node of this run produces it."""
    PRESENT = "present"
    """Persisted and it exists."""
    MISSING = "missing"
    """Persisted and it does not exist."""


@dataclass(frozen=True)
class Decision:
    """Whether one node runs, and why."""

    node: Node
    runs: bool
    reason: str


@dataclass(frozen=True)
class MissingOutputsPlan:
    """The decision for every node, in topological order."""

    decisions: tuple[Decision, ...]

    @property
    def to_run(self) -> list[Node]:
        """The nodes that run, in topological order."""
        return [d.node for d in self.decisions if d.runs]

    @property
    def skipped(self) -> list[Node]:
        """The nodes that are skipped, in topological order."""
        return [d.node for d in self.decisions if not d.runs]


def plan_missing_outputs(
    graph: PipelineGraph, state_of: Callable[[str], DatasetState]
) -> MissingOutputsPlan:
    """Decide which nodes must run so that every missing persisted output gets produced.

    Args:
        graph: The pipeline's nodes, in topological order, with their dependencies.
        state_of: Classifies a dataset name; called at most once per name.

    Returns:
        One decision per node, in the order of ``graph.nodes``.
    """
    return _Planner(graph, state_of).plan()


class _Planner:
    def __init__(self, graph: PipelineGraph, state_of: Callable[[str], DatasetState]) -> None:
        self.graph = graph
        self._state_of = state_of
        self._states: dict[str, DatasetState] = {}
        self.reasons: list[str | None] = [None] * len(graph)
        self.consumed = {base_name(name) for node in graph.nodes for name in node.inputs}

    def state(self, name: str) -> DatasetState:
        if name not in self._states:
            self._states[name] = self._state_of(name)
        return self._states[name]

    def plan(self) -> MissingOutputsPlan:
        for index in reversed(range(len(self.graph))):
            self.reasons[index] = self._own_reason(index) or self._needed_by_children(index)
        self._propagate()
        return MissingOutputsPlan(
            tuple(
                Decision(node, reason is not None, reason or self._skip_reason(node))
                for node, reason in zip(self.graph.nodes, self.reasons, strict=True)
            )
        )

    def _own_reason(self, index: int) -> str | None:
        node = self.graph.nodes[index]
        if not node.outputs:
            return "has no outputs"
        for name in node.outputs:
            if self.state(name) is DatasetState.MISSING:
                return f"has missing output '{name}'"
        return None

    def _needed_by_children(self, index: int) -> str | None:
        for child in self.graph.child_positions(index):
            if self.reasons[child] is not None:
                reason = self._needed_by(index, child)
                if reason:
                    return reason
        return None

    def _needed_by(self, parent: int, child: int) -> str | None:
        child_node = self.graph.nodes[child]
        wanted = {base_name(name) for name in child_node.inputs}
        for name in self.graph.nodes[parent].outputs:
            if base_name(name) in wanted and self.state(name) is not DatasetState.PRESENT:
                return f"produces '{name}' needed by running child '{child_node.name}'"
        return None

    def _refreshed_by(self, child: int, parent: int) -> str | None:
        child_node = self.graph.nodes[child]
        in_memory = [
            name
            for name in child_node.outputs
            if base_name(name) not in self.consumed and self.state(name) is DatasetState.MEMORY
        ]
        if not in_memory:
            return None
        parent_node = self.graph.nodes[parent]
        produced = {base_name(name) for name in parent_node.outputs}
        read = next(name for name in child_node.inputs if base_name(name) in produced)
        return (
            f"returns '{in_memory[0]}' in memory and reads '{read}' from running node "
            f"'{parent_node.name}'"
        )

    def _propagate(self) -> None:
        # A node that starts running may pull in its parents (it needs their outputs) and its
        # children (their in-memory results would be stale). Each node joins at most once, so
        # this is linear in nodes and edges.
        queue = deque(i for i, reason in enumerate(self.reasons) if reason is not None)
        while queue:
            index = queue.popleft()
            for parent in self.graph.parent_positions(index):
                if self.reasons[parent] is None:
                    self.reasons[parent] = self._needed_by(parent, index)
                    if self.reasons[parent] is not None:
                        queue.append(parent)
            for child in self.graph.child_positions(index):
                if self.reasons[child] is None:
                    self.reasons[child] = self._refreshed_by(child, index)
                    if self.reasons[child] is not None:
                        queue.append(child)

    def _skip_reason(self, node: Node) -> str:
        present = [name for name in node.outputs if self.state(name) is DatasetState.PRESENT]
        if len(present) == len(node.outputs):
            return "all outputs exist: " + ", ".join(present)
        return "no running node needs its in-memory outputs"

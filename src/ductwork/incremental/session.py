"""An incremental run on any runner: decide, run what must run, record, and repeat.

The run goes in *stages*. Each stage runs, through the runner's ordinary ``run``, the nodes
decided to run that wait for nothing; then their outputs are identified and recorded, and the
nodes that waited on them (early cut-off) are decided. Most runs are one stage; a run in which
a node with an earlier record re-runs has one more stage per level of nodes that waited on it.

In-memory data produced in one stage and read in a later one stays in the catalog between the
stages (it is a free output of the first), and leaves it at the end like any intermediate.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, Protocol

from ductwork.incremental.plan import RUN, SKIP, Planner
from ductwork.incremental.store import DEFAULT_STORE, Store
from ductwork.io import CatalogProtocol
from ductwork.io._protocols import forget_datasets
from ductwork.pipeline import Node, Pipeline
from ductwork.pipeline.transcoding import strip_transcoding

__all__ = ["IncrementalResult", "run_incremental", "stage_nodes"]


class _Runner(Protocol):
    def run(
        self,
        pipeline: Pipeline,
        catalog: CatalogProtocol,
        hook_manager: Any = None,
        run_id: str | None = None,
        only_missing_outputs: bool = False,
        *,
        observer: Any = None,
    ) -> dict[str, Any]: ...


class IncrementalResult(dict[str, Any]):
    """The run's free outputs (as ``runner.run`` returns them), and its planner (``.planner``):
    what ran, what was skipped, and why."""

    planner: Planner

    @property
    def ran(self) -> list[str]:
        """The names of the nodes that ran, in topological order."""
        return [n for n, d in self.planner.decisions.items() if d.action == RUN and d.finished]

    @property
    def skipped(self) -> list[str]:
        """The names of the nodes skipped, in topological order."""
        return [n for n, d in self.planner.decisions.items() if d.action == SKIP]


class _Tracker:
    """Passes events on to the caller's observer and remembers the nodes that succeeded."""

    def __init__(self, observer: Any) -> None:
        self.observer = observer
        self.meter = getattr(observer, "meter", None)  # the caller's observer may measure nodes
        self.succeeded: list[Node] = []

    def node_started(self, node: Node) -> None:
        if self.observer is not None:
            self.observer.node_started(node)

    def node_finished(self, outcome: Any) -> None:
        if outcome.error is None:
            self.succeeded.append(outcome.node)
        if self.observer is not None:
            self.observer.node_finished(outcome)


def run_incremental(
    runner: _Runner,
    pipeline: Pipeline,
    catalog: CatalogProtocol,
    *,
    store: Store | str | Path | None = None,
    hook_manager: Any = None,
    run_id: str | None = None,
    observer: Any = None,
    need_memory_outputs: bool = True,
    on_decided: Callable[[Planner], None] | None = None,
) -> IncrementalResult:
    """Run ``pipeline`` on ``runner``, skipping every node whose key and outputs are unchanged.

    Args:
        runner: Any ductwork runner (its options apply to every stage).
        pipeline: The nodes to consider.
        catalog: The run's catalog.
        store: The store (or its path; default ``.ductwork/cache.sqlite``).
        hook_manager: Passed to each stage's ``run``.
        run_id: The run's id (recorded with each node); passed to each stage.
        observer: Told when each node starts and finishes (as by ``runner.run``).
        need_memory_outputs: Run the nodes whose in-memory free outputs the caller wants back
            (the returned mapping holds them); the command line passes False.
        on_decided: Called after every round of decisions (the command line updates its
            journal's reasons).

    Returns:
        The free outputs produced, by name, and the planner with every decision.
    """
    owned = not isinstance(store, Store)
    opened = Store(store or DEFAULT_STORE) if not isinstance(store, Store) else store
    declared = {name for name in pipeline.datasets() if name in catalog}
    results = IncrementalResult()
    try:
        with opened.run_lock():
            planner = results.planner = Planner(
                pipeline, catalog, opened, need_memory_outputs=need_memory_outputs
            )
            tracker = _Tracker(observer)
            try:
                _stages(
                    runner, planner, catalog, tracker, results, hook_manager, run_id, on_decided
                )
            finally:
                planner.files.flush()  # stamps of inputs checked, even if no node ran
    finally:
        _forget_stage_data(catalog, pipeline, declared)
        if owned:
            opened.close()
    return results


def _stages(
    runner: _Runner,
    planner: Planner,
    catalog: CatalogProtocol,
    tracker: _Tracker,
    results: IncrementalResult,
    hook_manager: Any,
    run_id: str | None,
    on_decided: Callable[[Planner], None] | None,
) -> None:
    wanted = {strip_transcoding(name) for name in planner.pipeline.outputs()}
    while True:
        planner.decide()
        if on_decided is not None:
            on_decided(planner)
        stage = stage_nodes(planner)
        if not stage:
            return
        try:
            outputs = runner.run(Pipeline(stage), catalog, hook_manager, run_id, observer=tracker)
        finally:
            planner.finished(tracker.succeeded, run_id)
        results.update({k: v for k, v in outputs.items() if strip_transcoding(k) in wanted})


def stage_nodes(planner: Planner) -> list[Node]:
    """The nodes of the next stage: ready to run, and not reading in-memory data that a node
    of a later stage also needs (that data must outlive this stage, so it is produced here and
    read there)."""
    graph = planner.pipeline.graph
    chosen = {node.name: node for node in planner.runnable()}
    changed = True
    while changed:
        changed = False
        for name, node in list(chosen.items()):
            if _must_wait(planner, node, chosen):
                del chosen[name]
                changed = True
    return [node for node in graph.nodes if node.name in chosen]


def _must_wait(planner: Planner, node: Node, chosen: dict[str, Node]) -> bool:
    graph = planner.pipeline.graph
    for name in node.inputs:
        producer = graph.producer(name)
        if producer is None:
            continue
        upstream = planner.decisions[producer.name]
        if upstream.finished or upstream.action == SKIP:
            continue
        if producer.name not in chosen:
            return True  # its producer runs later
        if planner.is_memory(name) and any(
            consumer.name not in chosen and not planner.decisions[consumer.name].finished
            for consumer in graph.consumers(name)
        ):
            return True
    return False


def _forget_stage_data(catalog: CatalogProtocol, pipeline: Pipeline, declared: set[str]) -> None:
    """Drop the in-memory intermediates that the stages left in the catalog."""
    keep = {strip_transcoding(name) for name in pipeline.outputs()}
    left = [n for n in pipeline.datasets() - declared if strip_transcoding(n) not in keep]
    forget_datasets(catalog, [name for name in left if name in catalog])

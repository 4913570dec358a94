"""An incremental run on any runner: decide, then one ordinary run that decides the rest.

Before the run, every node that can be decided is (most are); the nodes already settled as
skipped are left out, and the others go to the runner's ordinary ``run`` with an observer whose
``gate`` the run loop asks about each node as it becomes ready (:meth:`Planner.gate`): a node
waiting on an upstream re-run (early cut-off) is decided there, and a skip is reported as a
``skipped`` outcome. Each node that succeeds is recorded as it finishes (its in-memory outputs
are hashed while they are still held); records are written to the store in batches, and at the
end however the run ends.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, Protocol

from ductwork.incremental.plan import RUN, SKIP, Decision, Planner
from ductwork.incremental.store import DEFAULT_STORE, Store
from ductwork.io import CatalogProtocol
from ductwork.io._protocols import forget_datasets
from ductwork.pipeline import Node, Pipeline
from ductwork.pipeline.transcoding import strip_transcoding

__all__ = ["IncrementalResult", "into_journal", "run_incremental"]


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


class _Journal(Protocol):
    def decide(self, name: str, reason: str, *, skipped: bool = False) -> None: ...


def into_journal(journal: _Journal) -> Callable[[Planner, list[Decision]], None]:
    """An ``on_decided`` callback that records each decision's reason in a run journal
    (:class:`~ductwork.report.journal.RunJournal`): skips as ``skipped``, as they are made."""

    def decided(_planner: Planner, changed: list[Decision]) -> None:
        for decision in changed:
            if decision.reason:
                journal.decide(decision.node.name, decision.reason, skipped=decision.action == SKIP)

    return decided


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


_SAVE_EVERY = 1.0  # seconds between writes of the records of nodes that finished


class _Tracker:
    """The run's observer: passes events on to the caller's, records each node that succeeds,
    and decides each node as it becomes ready."""

    def __init__(
        self,
        observer: Any,
        planner: Planner,
        run_id: str | None,
        on_decided: Callable[[Planner, list[Decision]], None] | None,
    ) -> None:
        self.observer = observer
        self.meter = getattr(observer, "meter", None)  # the caller's observer may measure nodes
        self.digest = planner.output_digests()  # in-memory outputs hashed where nodes run
        self.planner = planner
        self.run_id = run_id
        self.on_decided = on_decided
        self._saved = time.monotonic()

    def gate(self, node: Node, can_wait: bool) -> bool | None:
        verdict, changed = self.planner.gate(node, can_wait)
        if changed and self.on_decided is not None:
            self.on_decided(self.planner, changed)
        return verdict

    def node_started(self, node: Node) -> None:
        if self.observer is not None:
            self.observer.node_started(node)

    def node_finished(self, outcome: Any) -> None:
        if outcome.error is None and not outcome.skipped:
            # Before the loop releases anything: in-memory outputs are still held here.
            digests = getattr(outcome, "digests", None)
            self.planner.finished([outcome.node], self.run_id, save=False, digests=digests)
            if time.monotonic() - self._saved > _SAVE_EVERY:
                self.planner.save()
                self._saved = time.monotonic()
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
    on_decided: Callable[[Planner, list[Decision]], None] | None = None,
) -> IncrementalResult:
    """Run ``pipeline`` on ``runner``, skipping every node whose key and outputs are unchanged.

    Args:
        runner: Any ductwork runner (its options apply).
        pipeline: The nodes to consider.
        catalog: The run's catalog.
        store: The store (or its path; default ``.ductwork/cache.sqlite``).
        hook_manager: Passed to the runner's ``run``.
        run_id: The run's id (recorded with each node); passed to the runner.
        observer: Told when each node starts and finishes (as by ``runner.run``).
        need_memory_outputs: Run the nodes whose in-memory free outputs the caller wants back
            (the returned mapping holds them); the command line passes False.
        on_decided: Called with the planner and the decisions made or changed, once before the
            run and whenever the run loop decides more (the command line updates its journal's
            reasons).

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
            try:
                _run(runner, planner, catalog, results, hook_manager, run_id, observer, on_decided)
            finally:
                planner.save()  # what finished, and the stamps of inputs checked, even if
                # no node ran or the run failed
    finally:
        _forget_run_data(catalog, pipeline, declared)
        if owned:
            opened.close()
    return results


def _run(
    runner: _Runner,
    planner: Planner,
    catalog: CatalogProtocol,
    results: IncrementalResult,
    hook_manager: Any,
    run_id: str | None,
    observer: Any,
    on_decided: Callable[[Planner, list[Decision]], None] | None,
) -> None:
    planner.decide()
    if on_decided is not None:
        on_decided(planner, [d for d in planner.decisions.values() if d.reason])
    nodes = planner.to_run()
    if not nodes:
        return
    tracker = _Tracker(observer, planner, run_id, on_decided)
    outputs = runner.run(Pipeline(nodes), catalog, hook_manager, run_id, observer=tracker)
    wanted = {strip_transcoding(name) for name in planner.pipeline.outputs()}
    results.update({k: v for k, v in outputs.items() if strip_transcoding(k) in wanted})


def _forget_run_data(catalog: CatalogProtocol, pipeline: Pipeline, declared: set[str]) -> None:
    """Drop the in-memory intermediates that the run left in the catalog."""
    keep = {strip_transcoding(name) for name in pipeline.outputs()}
    left = [n for n in pipeline.datasets() - declared if strip_transcoding(n) not in keep]
    forget_datasets(catalog, [name for name in left if name in catalog])

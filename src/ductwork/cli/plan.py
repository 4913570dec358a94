"""Which nodes a ``ductwork run`` runs, and why each one runs or is skipped.

The filters (``--nodes``, ``--tags``, ...) select part of the pipeline; ``--resume`` keeps the
nodes the last failed run did not finish, plus what they need that died with it (in-memory
data) and everything downstream; ``--only-missing-outputs`` then skips nodes whose persisted
outputs exist. Each step gives every node a reason, which the journal records and ``--dry-run``
prints. The decisions themselves are :mod:`ductwork.scheduling`'s; this module asks the catalog.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from ductwork.io import CatalogProtocol
from ductwork.pipeline import Pipeline
from ductwork.pipeline.graph import PipelineGraph
from ductwork.pipeline.transcoding import strip_transcoding
from ductwork.report.journal import FINISHED
from ductwork.runner.selection import dataset_state, is_persisted
from ductwork.scheduling import nodes_to_rerun, plan_missing_outputs

__all__ = ["Filters", "RunPlan", "format_dry_run", "plan_run", "select"]

SELECTED = "selected (runs without --only-missing-outputs)"


@dataclass(frozen=True)
class Filters:
    """The node filters of ``ductwork run``; each is a tuple of names (empty: not given)."""

    nodes: tuple[str, ...] = ()
    from_nodes: tuple[str, ...] = ()
    to_nodes: tuple[str, ...] = ()
    from_inputs: tuple[str, ...] = ()
    to_outputs: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    namespaces: tuple[str, ...] = ()

    def given(self) -> dict[str, list[str]]:
        """The filters given, by option name (for the journal)."""
        return {key: list(value) for key, value in self.__dict__.items() if value}


def select(pipeline: Pipeline, filters: Filters) -> Pipeline:
    """The nodes of ``pipeline`` that pass every filter (``Pipeline.filter``)."""
    if not filters.given():
        return pipeline
    return pipeline.filter(
        tags=filters.tags or None,
        from_nodes=filters.from_nodes or None,
        to_nodes=filters.to_nodes or None,
        node_names=filters.nodes or None,
        from_inputs=filters.from_inputs or None,
        to_outputs=filters.to_outputs or None,
        node_namespaces=filters.namespaces or None,
    )


@dataclass
class RunPlan:
    """The selected pipeline, the part of it that runs, and a reason for every node."""

    pipeline: Pipeline
    to_run: Pipeline
    reasons: dict[str, str] = field(default_factory=dict)
    skipped: dict[str, str] = field(default_factory=dict)
    resumed_from: str | None = None


def plan_run(
    pipeline: Pipeline,
    catalog: CatalogProtocol,
    *,
    only_missing: bool = False,
    resume: Mapping[str, Any] | None = None,
) -> RunPlan:
    """Decide what runs of the (already filtered) ``pipeline``.

    Args:
        pipeline: The selected pipeline.
        catalog: The run's catalog, asked which datasets persist and which exist.
        only_missing: Skip nodes whose persisted outputs exist (``--only-missing-outputs``).
        resume: The journal of the failed run to resume (``--resume``).
    """
    plan = RunPlan(pipeline, pipeline, {node.name: SELECTED for node in pipeline.nodes})
    if resume is not None:
        _resume(plan, catalog, resume)
    if only_missing:
        decisions = plan_missing_outputs(plan.to_run.graph, partial(dataset_state, catalog))
        for decision in decisions.decisions:
            name = decision.node.name
            if decision.runs:
                plan.reasons[name] = decision.reason
            else:
                plan.skipped[name] = decision.reason
                plan.reasons.pop(name, None)
        plan.to_run = Pipeline(decisions.to_run)
    return plan


def _resume(plan: RunPlan, catalog: CatalogProtocol, journal: Mapping[str, Any]) -> None:
    run_id = str(journal.get("run_id"))
    status = {entry["name"]: entry["status"] for entry in journal["nodes"]}
    graph = plan.pipeline.graph
    unfinished = [node for node in graph.nodes if status.get(node.name) not in FINISHED]
    persisted = partial(is_persisted, catalog)
    rerun = nodes_to_rerun(graph, unfinished, persisted)
    chosen = {graph.position(node) for node in rerun}
    for index, node in enumerate(graph.nodes):
        if index not in chosen:
            plan.skipped[node.name] = f"finished in run {run_id}"
            plan.reasons.pop(node.name, None)
        elif status.get(node.name) not in FINISHED:
            was = status.get(node.name)
            plan.reasons[node.name] = f"{was} in run {run_id}" if was else f"not in run {run_id}"
        else:
            plan.reasons[node.name] = _rerun_reason(graph, index, chosen, persisted)
    plan.to_run = Pipeline(rerun)
    plan.resumed_from = run_id


def _rerun_reason(
    graph: PipelineGraph, index: int, chosen: set[int], persisted: Callable[[str], bool]
) -> str:
    """Why a finished node runs again: a rerun node needs its in-memory output, or a parent runs."""
    outputs = {strip_transcoding(name): name for name in graph.nodes[index].outputs}
    for child in sorted(chosen.intersection(graph.child_positions(index))):
        for name in graph.nodes[child].inputs:
            produced = outputs.get(strip_transcoding(name))
            if produced is not None and not persisted(produced):
                return f"recomputes in-memory '{produced}' for '{graph.nodes[child].name}'"
    parents = sorted(chosen.intersection(graph.parent_positions(index)))
    return f"downstream of re-run node '{graph.nodes[parents[0]].name}'" if parents else "re-run"


def format_dry_run(plan: RunPlan) -> str:
    """What ``--dry-run`` prints: every node in order, run or skip, and why."""
    nodes = plan.pipeline.nodes
    running = len(plan.to_run.nodes)
    width = max((len(node.name) for node in nodes), default=0)
    lines = [
        f"Dry run: {running} of {len(nodes)} nodes would run, {len(nodes) - running} skipped. "
        "Nothing was run."
    ]
    for number, node in enumerate(nodes, 1):
        skip = plan.skipped.get(node.name)
        action, reason = ("skip", skip) if skip is not None else ("run", plan.reasons[node.name])
        lines.append(f"{number:>4}  {action:<4}  {node.name:<{width}}  {reason}")
    return "\n".join(lines)

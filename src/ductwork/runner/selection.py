"""The runner's side of only-missing and resume: asking the catalog, logging the decisions.

The decisions themselves are made by the pure functions of :mod:`ductwork.scheduling`; this
module turns catalog facts into what they ask for and their answers into log lines.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Collection

from ductwork.io import CatalogProtocol
from ductwork.io.travel import is_in_memory
from ductwork.pipeline import Node, Pipeline
from ductwork.scheduling import DatasetState, plan_missing_outputs, resume_from_nodes

__all__ = ["dataset_state", "is_persisted", "log_resume_suggestion", "select_missing_outputs"]


def dataset_state(catalog: CatalogProtocol, name: str) -> DatasetState:
    """Classify ``name``: in memory (undeclared or ephemeral), or persisted and present or not."""
    if name not in catalog or is_in_memory(catalog.get(name)):
        return DatasetState.MEMORY
    return DatasetState.PRESENT if catalog.exists(name) else DatasetState.MISSING


def is_persisted(catalog: CatalogProtocol, name: str) -> bool:
    """Tell whether ``name`` is a declared dataset whose data outlives the run."""
    return name in catalog and not is_in_memory(catalog.get(name))


def select_missing_outputs(
    pipeline: Pipeline, catalog: CatalogProtocol, logger: logging.Logger
) -> Pipeline:
    """The part of ``pipeline`` that a run with ``only_missing_outputs=True`` runs.

    Logs each node's reason to run at DEBUG, and a summary at INFO.
    """
    plan = plan_missing_outputs(pipeline.graph, lambda name: dataset_state(catalog, name))
    if logger.isEnabledFor(logging.DEBUG):
        for decision in plan.decisions:
            if decision.runs:
                logger.debug("Node '%s' must run: %s", decision.node.name, decision.reason)
    to_run, skipped = plan.to_run, plan.skipped
    total = len(plan.decisions)
    if not to_run:
        logger.info("Skipping all %d nodes (all persistent outputs exist)", total)
        return Pipeline([])
    if skipped:
        names = ", ".join(sorted(node.name for node in skipped))
        logger.info("Skipping %d nodes with existing outputs: %s", len(skipped), names)
    logger.info("Running %d out of %d nodes", len(to_run), total)
    return Pipeline(to_run)


def log_resume_suggestion(
    pipeline: Pipeline,
    done_nodes: Collection[Node],
    persisted: Callable[[str], bool],
    logger: logging.Logger,
) -> list[str]:
    """Log at WARNING where to resume a failed run from; return the node names (maybe none)."""
    if not done_nodes:
        logger.warning("No nodes ran. Repeat the previous command to attempt a new run.")
        return []
    done = set(done_nodes)
    unfinished = [node for node in pipeline.nodes if node not in done]
    names = resume_from_nodes(pipeline.graph, unfinished, persisted)
    logger.warning(
        "%d of %d nodes did not finish. To resume from the nearest nodes whose inputs are "
        'persisted, add this to the previous command:\n  --from-nodes "%s"',
        len(unfinished),
        len(pipeline.nodes),
        ",".join(names),
    )
    return names

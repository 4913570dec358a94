"""Pure scheduling: the order nodes run in, what may be released, what a run must run.

Nothing here touches a catalog, a thread or a log: callers pass plain data and predicates, so the
algorithms are tested on their own and shared by every runner and by the command line.
"""

from ductwork.scheduling.missing import (
    DatasetState,
    Decision,
    MissingOutputsPlan,
    plan_missing_outputs,
)
from ductwork.scheduling.resume import nodes_to_rerun, resume_from_nodes
from ductwork.scheduling.scheduler import Scheduler

__all__ = [
    "DatasetState",
    "Decision",
    "MissingOutputsPlan",
    "Scheduler",
    "nodes_to_rerun",
    "plan_missing_outputs",
    "resume_from_nodes",
]

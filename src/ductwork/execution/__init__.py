"""Running one node: the node shell, the only place where node and dataset hooks fire.

Every runner, in every process and on every Dask worker, runs a node through one
:class:`NodeShell` (see :mod:`.shell`), which applies the run's policy (:mod:`.options`),
enforces time limits the way the place it runs in can (:mod:`.time_limits`), calls
:func:`run_node` (:mod:`.node_run`) and returns a :class:`NodeOutcome` (:mod:`.outcome`).

Why not ``concurrent.futures``: a future's executor can neither stop one task past its time
limit (a thread cannot be killed; a ``ProcessPoolExecutor`` cannot kill one worker without
breaking the pool), nor tell at once which node a dead worker was running, nor keep data in
shared memory or on the Dask worker that computed it. So ductwork's executors
(:mod:`ductwork.runner`) are its own, behind one narrow ``NodeExecutor`` protocol, and all of
them run nodes through this shell.
"""

from ductwork.execution.node_run import run_node
from ductwork.execution.options import NodePolicy, RunOptions, node_policy
from ductwork.execution.outcome import NodeOutcome
from ductwork.execution.shell import NodeShell, add_note

__all__ = [
    "NodeOutcome",
    "NodePolicy",
    "NodeShell",
    "RunOptions",
    "add_note",
    "node_policy",
    "run_node",
]

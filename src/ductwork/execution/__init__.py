"""Running one node: the only place where node and dataset hooks fire.

Every runner, in every process and on every Dask worker, runs a node through :func:`run_node`, so
hooks, streaming, asynchronous loading and error reporting behave the same everywhere.
"""

from ductwork.execution.node_run import run_node

__all__ = ["run_node"]

"""ductwork: run pipelines of Python functions on one core, many cores, or a cluster.

The main names are importable from here; each also lives in the module Kedro users expect:
``ductwork.pipeline``, ``ductwork.io``, ``ductwork.runner`` and ``ductwork.hooks``. Importing
ductwork never imports dask, pandas or rich. (The ``pipeline()`` function is not re-exported:
its name would hide the ``ductwork.pipeline`` module.)
"""

from ductwork.exceptions import (
    DatasetError,
    DuctworkDeprecationWarning,
    DuctworkError,
    PipelineError,
    RunnerError,
)
from ductwork.hooks import create_hook_manager, hook_impl
from ductwork.io import DataCatalog, MemoryDataset, SharedMemoryDataCatalog
from ductwork.pipeline import Node, Pipeline, node
from ductwork.runner import (
    AbstractRunner,
    DaskRunner,
    ParallelRunner,
    SequentialRunner,
    ThreadRunner,
)

__version__ = "0.1.0"

# Code ported from Kedro filters or catches its deprecation warnings under this name.
KedroDeprecationWarning = DuctworkDeprecationWarning

__all__ = [
    "AbstractRunner",
    "DaskRunner",
    "DataCatalog",
    "DatasetError",
    "DuctworkError",
    "MemoryDataset",
    "Node",
    "ParallelRunner",
    "Pipeline",
    "PipelineError",
    "RunnerError",
    "SequentialRunner",
    "SharedMemoryDataCatalog",
    "ThreadRunner",
    "__version__",
    "create_hook_manager",
    "hook_impl",
    "node",
]

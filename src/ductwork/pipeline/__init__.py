"""The pipeline model: nodes (functions with named inputs and outputs) and pipelines of them.

```python
from ductwork.pipeline import node, pipeline

def double(x):
    return 2 * x

p = pipeline([node(double, "x", "y"), node(double, "y", "z")])
```

Everything here is pure graph algebra: no I/O, no running of pipelines (see ``ductwork.runner``).
"""

from ductwork.pipeline.grouping import GroupedNodes
from ductwork.pipeline.node import Node, node
from ductwork.pipeline.pipeline import (
    CircularDependencyError,
    ConfirmNotUniqueError,
    OutputNotUniqueError,
    Pipeline,
    PipelineError,
    pipeline,
)
from ductwork.pipeline.policies import Retry

__all__ = [
    "CircularDependencyError",
    "ConfirmNotUniqueError",
    "GroupedNodes",
    "Node",
    "OutputNotUniqueError",
    "Pipeline",
    "PipelineError",
    "Retry",
    "node",
    "pipeline",
]

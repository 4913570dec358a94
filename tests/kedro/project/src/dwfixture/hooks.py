"""A project hook that appends one JSON line per hook call to a file.

The file is ``$DWFIXTURE_HOOK_RECORD`` (nothing is recorded when it is unset). Each line names
the hook, the node (Kedro's node object must arrive: its ``name`` and ``namespace`` are read),
the dataset, the process id and whether the catalog argument is a Kedro catalog; after a node
runs, also which of some of the session's entries the catalog holds and which of them a hook can
load from it (as hooks that log or check data do: Kedro's hooks get the session's whole catalog,
in its process runner's workers too). Lines are appended with one ``write`` call on a file
opened in append mode, so lines from worker processes do not interleave.
"""

from __future__ import annotations

import json
import os
from typing import Any

from kedro.framework.hooks import hook_impl
from kedro.io import DataCatalog
from kedro.pipeline import Node

# Entries of the session's catalog a node hook may look up, whichever node it is called for.
PROBED = ("companies", "metrics", "parameters", "params:min_staff", "slow_output")
# Those that hold data from the start of the run (a hook loading them must get it).
LOADED = ("companies", "parameters", "params:min_staff")


class RecordingHooks:
    def _record(self, hook: str, **fields: Any) -> None:
        path = os.environ.get("DWFIXTURE_HOOK_RECORD")
        if not path:
            return
        node = fields.pop("node", None)
        if node is not None:
            fields["node"] = node.name
            fields["kedro_node"] = isinstance(node, Node)
        catalog = fields.pop("catalog", None)
        if catalog is not None:
            fields["kedro_catalog"] = isinstance(catalog, DataCatalog)
        fields.update(hook=hook, pid=os.getpid())
        line = json.dumps(fields, sort_keys=True, default=str) + "\n"
        with open(path, "a", encoding="utf-8") as stream:
            stream.write(line)

    @hook_impl
    def before_pipeline_run(self, run_params: dict[str, Any], pipeline: Any, catalog: Any) -> None:
        run_id = run_params.get("run_id") or run_params.get("session_id")
        self._record("before_pipeline_run", run_id=run_id, catalog=catalog)

    @hook_impl
    def after_pipeline_run(self, run_params: dict[str, Any], run_result: dict[str, Any]) -> None:
        self._record("after_pipeline_run", outputs=sorted(run_result))

    @hook_impl
    def on_pipeline_error(self, error: Exception) -> None:
        self._record("on_pipeline_error", error=type(error).__name__)

    @hook_impl
    def before_node_run(
        self, node: Node, catalog: Any, inputs: dict[str, Any], is_async: bool, run_id: str
    ) -> None:
        self._record(
            "before_node_run", node=node, catalog=catalog, inputs=sorted(inputs), run_id=run_id
        )

    @hook_impl
    def after_node_run(self, node: Node, catalog: Any, outputs: dict[str, Any]) -> None:
        self._record(
            "after_node_run",
            node=node,
            catalog=catalog,
            outputs=sorted(outputs),
            holds=[name for name in PROBED if name in catalog],
            loads=[name for name in LOADED if _loads(catalog, name)],
        )

    @hook_impl
    def on_node_error(self, error: Exception, node: Node) -> None:
        self._record("on_node_error", node=node, error=type(error).__name__)

    @hook_impl
    def before_dataset_loaded(self, dataset_name: str, node: Node) -> None:
        self._record("before_dataset_loaded", node=node, dataset=dataset_name)

    @hook_impl
    def after_dataset_loaded(self, dataset_name: str, data: Any, node: Node) -> None:
        self._record("after_dataset_loaded", node=node, dataset=dataset_name)

    @hook_impl
    def before_dataset_saved(self, dataset_name: str, data: Any, node: Node) -> None:
        self._record("before_dataset_saved", node=node, dataset=dataset_name)

    @hook_impl
    def after_dataset_saved(self, dataset_name: str, data: Any, node: Node) -> None:
        self._record("after_dataset_saved", node=node, dataset=dataset_name)


def _loads(catalog: Any, name: str) -> bool:
    try:
        catalog.load(name)
    except Exception:
        return False
    return True

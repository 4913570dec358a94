"""Load a node's inputs, fire its hooks, call it, save its outputs, confirm its datasets.

The order of events for one node is fixed and the same in every runner:

1. ``before_dataset_loaded`` / load / ``after_dataset_loaded`` for each input, in input order
   (concurrently when asynchronous);
2. ``before_node_run``, whose returned dicts replace inputs;
3. the call; ``on_node_error`` if it raises, else ``after_node_run``;
4. ``before_dataset_saved`` / save / ``after_dataset_saved`` for each output (chunk by chunk for
   a generator function; concurrently when asynchronous);
5. ``catalog.confirm`` for each confirmed dataset, after every save.

A load or save failure does not fire ``on_node_error``: that hook is about the node's own code.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from concurrent.futures import Executor, Future, as_completed
from typing import Any

from ductwork.hooks.manager import HookCaller
from ductwork.io import CatalogProtocol
from ductwork.pipeline import Node

__all__ = ["run_node"]


def run_node(
    node: Node,
    catalog: CatalogProtocol,
    hooks: HookCaller,
    *,
    run_id: str | None = None,
    io_pool: Executor | None = None,
    checkpoint: Callable[[], None] | None = None,
) -> None:
    """Run ``node`` against ``catalog``.

    Args:
        node: The node to run.
        catalog: Where its inputs are loaded from and its outputs saved to.
        hooks: The run's hooks.
        run_id: The id of the run, passed to the node hooks.
        io_pool: When given, inputs are loaded and outputs saved concurrently on this pool
            (asynchronous mode).
        checkpoint: Called after the function returns and before anything is saved; raises to
            stop the node there (its run was cancelled or timed out meanwhile).

    Raises:
        ValueError: Asynchronous mode was asked for a node that wraps a generator function
            (its outputs are saved chunk by chunk, in order).
        Exception: Whatever the node's function, a hook, or a dataset raised, unchanged.
    """
    streams = node.streams_outputs
    if hooks.enabled or io_pool is not None or streams:
        if io_pool is not None and streams:
            raise ValueError(
                f"Node '{node.name}' wraps a generator function, and nodes wrapping generator "
                "functions save their outputs chunk by chunk, so they cannot run in "
                "asynchronous mode. Run without is_async=True."
            )
        _run_with_hooks(_NodeContext(node, catalog, hooks, run_id, io_pool), streams, checkpoint)
    else:
        # No plugin, synchronous, whole outputs: the common case, without the hook machinery
        # (seven no-op calls and their argument dicts would double the cost of a small node).
        load, save = catalog.load, catalog.save
        outputs = node.run({name: load(name) for name in node.input_names})
        if checkpoint is not None:
            checkpoint()
        for name, data in outputs.items():
            save(name, data)
    for name in node.confirm_names:
        catalog.confirm(name)


def _run_with_hooks(
    context: _NodeContext, streams: bool, checkpoint: Callable[[], None] | None
) -> None:
    inputs = context.load_inputs_async() if context.io_pool else context.load_inputs()
    outputs = context.call(inputs)
    if checkpoint is not None:
        checkpoint()
    if streams:
        context.save_streams(outputs, checkpoint)
    elif context.io_pool:
        context.save_outputs_async(outputs)
    else:
        context.save_outputs(outputs)


class _NodeContext:
    """What the steps of one node run share."""

    def __init__(
        self,
        node: Node,
        catalog: CatalogProtocol,
        hooks: HookCaller,
        run_id: str | None,
        io_pool: Executor | None,
    ) -> None:
        self.node = node
        self.catalog = catalog
        self.hooks = hooks
        self.run_id = run_id
        self.io_pool = io_pool

    def load(self, name: str) -> Any:
        self.hooks.before_dataset_loaded(dataset_name=name, node=self.node)
        data = self.catalog.load(name)
        self.hooks.after_dataset_loaded(dataset_name=name, data=data, node=self.node)
        return data

    def load_inputs(self) -> dict[str, Any]:
        return {name: self.load(name) for name in self.node.inputs}

    def load_inputs_async(self) -> dict[str, Any]:
        assert self.io_pool is not None
        futures = {name: self.io_pool.submit(self.load, name) for name in self.node.inputs}
        return {name: future.result() for name, future in futures.items()}

    def call(self, inputs: dict[str, Any]) -> dict[str, Any]:
        inputs = self._with_hook_overrides(inputs)
        common = {
            "node": self.node,
            "catalog": self.catalog,
            "inputs": inputs,
            "is_async": self.io_pool is not None,
            "run_id": self.run_id,
        }
        try:
            outputs = self.node.run(inputs)
        except Exception as error:
            self.hooks.on_node_error(error=error, **common)
            raise
        self.hooks.after_node_run(outputs=outputs, **common)
        return outputs

    def _with_hook_overrides(self, inputs: dict[str, Any]) -> dict[str, Any]:
        if not self.hooks.has("before_node_run"):
            return inputs
        results = self.hooks.before_node_run(
            node=self.node,
            catalog=self.catalog,
            inputs=dict(inputs),
            is_async=self.io_pool is not None,
            run_id=self.run_id,
        )
        # pluggy returns results last-registered first; apply them so that the last wins.
        for result in reversed(results):
            if not isinstance(result, dict):
                raise TypeError(
                    "'before_node_run' must return either None or a dictionary mapping dataset "
                    f"names to updated values, got '{type(result).__name__}' instead "
                    f"(node '{self.node.name}')."
                )
            inputs = {**inputs, **result}
        return inputs

    def save(self, name: str, data: Any) -> None:
        self.hooks.before_dataset_saved(dataset_name=name, data=data, node=self.node)
        self.catalog.save(name, data)
        self.hooks.after_dataset_saved(dataset_name=name, data=data, node=self.node)

    def save_outputs(self, outputs: dict[str, Any]) -> None:
        for name, data in outputs.items():
            self.save(name, data)

    def save_outputs_async(self, outputs: dict[str, Any]) -> None:
        assert self.io_pool is not None
        saving: dict[Future[None], tuple[str, Any]] = {}
        for name, data in outputs.items():
            self.hooks.before_dataset_saved(dataset_name=name, data=data, node=self.node)
            saving[self.io_pool.submit(self.catalog.save, name, data)] = (name, data)
        for future in as_completed(saving):
            future.result()
            name, data = saving[future]
            self.hooks.after_dataset_saved(dataset_name=name, data=data, node=self.node)

    def save_streams(
        self, outputs: dict[str, Iterator[Any]], checkpoint: Callable[[], None] | None
    ) -> None:
        # Round-robin over the outputs so that chunks of a multi-output generator are saved as
        # they are produced, without buffering one output while another is drained.
        streams = [(name, iter(stream)) for name, stream in outputs.items()]
        while streams:
            remaining = []
            for name, stream in streams:
                for chunk in stream:
                    if checkpoint is not None:  # the generator runs between chunks
                        checkpoint()
                    self.save(name, chunk)
                    remaining.append((name, stream))
                    break
            streams = remaining

"""Load a node's inputs, fire its hooks, call it, save its outputs, confirm its datasets.

The order of events for one node is fixed and the same in every runner and in both modes:

1. for each input: ``before_dataset_loaded``, the load, ``after_dataset_loaded``;
2. ``before_node_run``, whose returned dicts replace inputs;
3. the call; ``on_node_error`` if it raises, else ``after_node_run``;
4. for each output: ``before_dataset_saved``, the save, ``after_dataset_saved`` (chunk by chunk
   for a generator function);
5. ``catalog.confirm`` for each confirmed dataset, after every save.

There is one load path and one save path. What differs between synchronous and asynchronous
mode is only how a step is mapped over the datasets: in order, on the calling thread, or
concurrently on the run's I/O threads (each dataset's hooks then fire on the thread that loads
or saves it, still just before and just after its own load or save). Kedro keeps two copies of
this sequence, one per mode, and they have drifted apart; here they cannot.

A load or save failure does not fire ``on_node_error``: that hook is about the node's own code.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Executor
from functools import partial
from typing import Any

from ductwork.exceptions import HookResultError, RunnerOptionError
from ductwork.hooks.manager import HookSnapshot
from ductwork.io import CatalogProtocol
from ductwork.pipeline import Node

__all__ = ["run_node"]


def run_node(
    node: Node,
    catalog: CatalogProtocol,
    hooks: HookSnapshot,
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
        RunnerOptionError: Asynchronous mode was asked for a node that wraps a generator
            function (its outputs are saved chunk by chunk, in order).
        Exception: Whatever the node's function, a hook, or a dataset raised, unchanged.
    """
    streams = node.streams_outputs
    if io_pool is not None and streams:
        raise RunnerOptionError(
            f"Node '{node.name}' wraps a generator function, and nodes wrapping generator "
            "functions save their outputs chunk by chunk, so they cannot run in "
            "asynchronous mode. Run without is_async=True."
        )
    if hooks.enabled:
        load: Callable[[str], Any] = partial(_load_with_hooks, node, catalog, hooks)
        save: Callable[[str, Any], None] = partial(_save_with_hooks, node, catalog, hooks)
    else:
        # No plugin: the catalog itself, without seven no-op calls and their argument dicts
        # (which would double the cost of a small node).
        load, save = catalog.load, catalog.save
    names = node.input_names
    # The one load: in order on this thread, or all at once on the I/O threads.
    inputs = (
        {name: load(name) for name in names}
        if io_pool is None
        else dict(zip(names, _on_pool(io_pool, load, names), strict=True))
    )
    if hooks.enabled:
        outputs = _call_with_hooks(node, catalog, hooks, inputs, run_id, io_pool is not None)
    else:
        outputs = node.run(inputs)
    # The inputs may be large: let them go before the outputs are saved (a save copies), so
    # that a chain of nodes never holds an input, its output and the saved copy at once.
    del inputs
    if checkpoint is not None:
        checkpoint()
    # The one save, mapped as the loads are (a generator's chunks: in order, as they come).
    if streams:
        _save_chunks(outputs, save, checkpoint)
    elif io_pool is None:
        for name, data in outputs.items():
            save(name, data)
    else:
        _on_pool(io_pool, save, outputs.keys(), outputs.values())
    for name in node.confirm_names:
        catalog.confirm(name)


def _on_pool(pool: Executor, step: Callable[..., Any], *iterables: Iterable[Any]) -> list[Any]:
    futures = [pool.submit(step, *args) for args in zip(*iterables, strict=True)]
    return [future.result() for future in futures]


def _load_with_hooks(node: Node, catalog: CatalogProtocol, hooks: HookSnapshot, name: str) -> Any:
    hooks.before_dataset_loaded(dataset_name=name, node=node)
    data = catalog.load(name)
    hooks.after_dataset_loaded(dataset_name=name, data=data, node=node)
    return data


def _save_with_hooks(
    node: Node, catalog: CatalogProtocol, hooks: HookSnapshot, name: str, data: Any
) -> None:
    hooks.before_dataset_saved(dataset_name=name, data=data, node=node)
    catalog.save(name, data)
    hooks.after_dataset_saved(dataset_name=name, data=data, node=node)


def _call_with_hooks(
    node: Node,
    catalog: CatalogProtocol,
    hooks: HookSnapshot,
    inputs: dict[str, Any],
    run_id: str | None,
    is_async: bool,
) -> dict[str, Any]:
    common = {"node": node, "catalog": catalog, "is_async": is_async, "run_id": run_id}
    if hooks.has("before_node_run"):
        inputs = _with_overrides(node, inputs, hooks.before_node_run(inputs=dict(inputs), **common))
    try:
        outputs = node.run(inputs)
    except Exception as error:
        hooks.on_node_error(error=error, inputs=inputs, **common)
        raise
    hooks.after_node_run(outputs=outputs, inputs=inputs, **common)
    return outputs


def _with_overrides(node: Node, inputs: dict[str, Any], results: list[Any]) -> dict[str, Any]:
    # pluggy returns results last-registered first; apply them so that the last wins.
    for result in reversed(results):
        if not isinstance(result, dict):
            raise HookResultError(
                "'before_node_run' must return either None or a dictionary mapping dataset "
                f"names to updated values, got '{type(result).__name__}' instead "
                f"(node '{node.name}')."
            )
        inputs = {**inputs, **result}
    return inputs


def _save_chunks(
    outputs: dict[str, Iterator[Any]],
    save: Callable[[str, Any], None],
    checkpoint: Callable[[], None] | None,
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
                save(name, chunk)
                remaining.append((name, stream))
                break
        streams = remaining

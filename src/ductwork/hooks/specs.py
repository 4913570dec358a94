"""The hook specifications: every point at which a plugin can observe or change a run.

Plugins implement any subset of these methods, decorated with :data:`hook_impl`, and declare only
the arguments they need: pluggy passes each implementation just those. All arguments are keyword
arguments.

Node and dataset hooks fire in the process or thread that runs the node (a worker process under
``ParallelRunner``, a Dask worker under ``DaskRunner``); pipeline hooks fire where ``run()`` was
called.
"""

from __future__ import annotations

from typing import Any

import pluggy

__all__ = ["DatasetSpecs", "NodeSpecs", "PipelineSpecs", "hook_impl", "hook_spec"]

PROJECT_NAME = "ductwork"

hook_spec = pluggy.HookspecMarker(PROJECT_NAME)
"""Marks a method as a hook specification."""

hook_impl = pluggy.HookimplMarker(PROJECT_NAME)
"""Marks a plugin method as the implementation of the hook of the same name."""


class NodeSpecs:
    """Hooks around the call of one node."""

    @hook_spec
    def before_node_run(
        self,
        node: Any,
        catalog: Any,
        inputs: dict[str, Any],
        is_async: bool,
        run_id: str,
    ) -> dict[str, Any] | None:
        """Called after a node's inputs are loaded, before its function runs.

        Args:
            node: The node about to run.
            catalog: The catalog the run uses.
            inputs: The loaded inputs by dataset name (a copy: changing it changes nothing).
            is_async: Whether inputs were loaded concurrently.
            run_id: The id of the run.

        Returns:
            ``None``, or a dict of dataset names to values that replace those inputs for this
            call. When several plugins return dicts, later-registered plugins win.
        """

    @hook_spec
    def after_node_run(
        self,
        node: Any,
        catalog: Any,
        inputs: dict[str, Any],
        outputs: dict[str, Any],
        is_async: bool,
        run_id: str,
    ) -> None:
        """Called after a node's function returned, before its outputs are saved.

        Args:
            node: The node that ran.
            catalog: The catalog the run uses.
            inputs: The inputs the function received (including hook replacements).
            outputs: The function's outputs by dataset name.
            is_async: Whether the run loads and saves concurrently.
            run_id: The id of the run.
        """

    @hook_spec
    def on_node_error(
        self,
        error: BaseException,
        node: Any,
        catalog: Any,
        inputs: dict[str, Any],
        is_async: bool,
        run_id: str,
    ) -> None:
        """Called when a node's function raises, before the error propagates.

        Args:
            error: The exception the function raised.
            node: The node that failed.
            catalog: The catalog the run uses.
            inputs: The inputs the function received.
            is_async: Whether the run loads and saves concurrently.
            run_id: The id of the run.
        """

    @hook_spec
    def on_node_retry(
        self,
        error: BaseException,
        node: Any,
        attempt: int,
        attempts: int,
        delay: float,
        run_id: str,
    ) -> None:
        """Called when an attempt of a node failed and the node will run again.

        Args:
            error: The exception that ended the attempt.
            node: The node that will run again.
            attempt: The number of the failed attempt (the first is 1).
            attempts: The attempts the node's retry policy allows in all.
            delay: Seconds the runner waits before the next attempt.
            run_id: The id of the run.
        """


class DatasetSpecs:
    """Hooks around each load and save a node makes."""

    @hook_spec
    def before_dataset_loaded(self, dataset_name: str, node: Any) -> None:
        """Called before a node's input is loaded.

        Args:
            dataset_name: The name of the dataset about to be loaded.
            node: The node the data is loaded for.
        """

    @hook_spec
    def after_dataset_loaded(self, dataset_name: str, data: Any, node: Any) -> None:
        """Called after a node's input is loaded.

        Args:
            dataset_name: The name of the loaded dataset.
            data: The loaded data.
            node: The node the data was loaded for.
        """

    @hook_spec
    def before_dataset_saved(self, dataset_name: str, data: Any, node: Any) -> None:
        """Called before a node's output is saved.

        Args:
            dataset_name: The name of the dataset about to be saved.
            data: The data about to be saved.
            node: The node that produced the data.
        """

    @hook_spec
    def after_dataset_saved(self, dataset_name: str, data: Any, node: Any) -> None:
        """Called after a node's output is saved.

        Args:
            dataset_name: The name of the saved dataset.
            data: The saved data.
            node: The node that produced the data.
        """


class PipelineSpecs:
    """Hooks around a whole run, fired by ``run()`` where it was called."""

    @hook_spec
    def before_pipeline_run(self, run_params: dict[str, Any], pipeline: Any, catalog: Any) -> None:
        """Called before any node of the run starts.

        Args:
            run_params: Facts about the run: at least ``run_id``, ``runner`` (the runner's class
                name) and ``only_missing_outputs``.
            pipeline: The pipeline as given to ``run()``.
            catalog: The catalog as given to ``run()``.
        """

    @hook_spec
    def after_pipeline_run(
        self,
        run_params: dict[str, Any],
        run_result: dict[str, Any],
        pipeline: Any,
        catalog: Any,
    ) -> None:
        """Called after the run succeeded, with the dict that ``run()`` returns.

        Args:
            run_params: As for ``before_pipeline_run``.
            run_result: The free outputs of the run, by name, as dataset objects.
            pipeline: The pipeline as given to ``run()``.
            catalog: The catalog as given to ``run()``.
        """

    @hook_spec
    def on_pipeline_error(
        self,
        error: BaseException,
        run_params: dict[str, Any],
        pipeline: Any,
        catalog: Any,
    ) -> None:
        """Called when the run fails, before the error propagates to the caller.

        Args:
            error: The exception that ends the run.
            run_params: As for ``before_pipeline_run``.
            pipeline: The pipeline as given to ``run()``.
            catalog: The catalog as given to ``run()``.
        """

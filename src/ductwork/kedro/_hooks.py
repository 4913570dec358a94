"""Kedro's hook manager, as plugins of the ductwork hook manager that ductwork's node path calls.

ductwork's node path fires its node and dataset hooks with ductwork's node and the run's catalog;
the plugins here forward each call to the Kedro project's hook manager with Kedro's arguments:
Kedro's own node object, and Kedro's catalog (the session's in the process that called ``run``;
in a worker process or on a Dask worker, a copy of the session's over that worker's datasets,
see :mod:`._view`).
Only the hooks that some Kedro plugin implements are forwarded, so a project without node hooks
keeps ductwork's fast path. Pipeline hooks are not forwarded: Kedro's session fires them.

Worker processes and Dask workers receive these plugins the way they receive any ductwork
plugin, pickled once per run: the Kedro plugins that implement node or dataset hooks travel with
them (cloudpickle; each worker gets its own copy, made after ``before_pipeline_run`` has run) and
are registered there on a Kedro hook manager of their own; the session's catalog travels too
(when it cannot be pickled, the hooks there get the worker's datasets only). ``on_node_retry``,
which Kedro has no specification for, is forwarded only to a manager that has one.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from typing import Any

import cloudpickle
import pluggy

from ductwork.exceptions import NotPicklableError
from ductwork.hooks import create_hook_manager, hook_impl
from ductwork.hooks.manager import HOOK_NAMES
from ductwork.io.pickling import find_unpicklable

__all__ = ["NODE_HOOKS", "KedroHooks", "bridge_manager"]

# ductwork's node and dataset hooks; the pipeline hooks are the session's.
NODE_HOOKS = tuple(name for name in HOOK_NAMES if "pipeline" not in name)

_logger = logging.getLogger(__name__)


class KedroHooks:
    """A Kedro hook manager and what translating ductwork's hook arguments to Kedro's takes."""

    def __init__(
        self,
        manager: pluggy.PluginManager,
        kedro_nodes: Mapping[str, Any],
        kedro_catalog: Any = None,
        run_catalog: Any = None,
        *,
        session_catalog: bytes | None = None,
    ) -> None:
        """Forward to ``manager``; ``run_catalog`` stands for ``kedro_catalog`` in hook calls.

        ``session_catalog`` is the session's catalog, pickled, in a worker (where hooks get a
        view of it over the worker's catalog).
        """
        self.manager = manager
        self.hook = manager.hook
        self._nodes = kedro_nodes
        self._kedro_catalog = kedro_catalog
        self._run_catalog = run_catalog
        self._session_bytes = session_catalog
        self._session_copy: Any = None
        self._portable = True
        self._views: dict[int, tuple[Any, Any]] = {}

    def implemented(self) -> list[str]:
        """The node and dataset hooks that at least one Kedro plugin implements."""
        return [
            name
            for name in NODE_HOOKS
            if (caller := getattr(self.hook, name, None)) is not None
            and caller.has_spec()
            and caller.get_hookimpls()
        ]

    def plugins(self) -> list[tuple[str | None, object]]:
        """The Kedro plugins that implement node or dataset hooks, in registration order."""
        wanted = {id(impl.plugin) for name in self.implemented() for impl in self._caller(name)}
        return [
            (name, plugin)
            for name, plugin in self.manager.list_name_plugin()
            if id(plugin) in wanted
        ]

    def _caller(self, name: str) -> list[Any]:
        return list(getattr(self.hook, name).get_hookimpls())

    def check_picklable(self, where: str) -> None:
        """Name every Kedro plugin that cannot be sent to ``where``, before anything starts.

        Raises:
            NotPicklableError: Some plugins cannot be pickled with cloudpickle.
        """
        offenders: dict[str, list[str]] = {}
        for number, (name, plugin) in enumerate(self.plugins()):
            try:
                cloudpickle.dumps(plugin)
            except Exception as error:
                reasons = find_unpicklable(plugin) or [f"{type(error).__name__}: {error}"]
                offenders[f"Kedro hook plugin '{name or number}'"] = reasons
        if offenders:
            lines = [f"  {what}: {reason}" for what, why in offenders.items() for reason in why]
            raise NotPicklableError(
                f"Cannot send these to the {where}, where their node and dataset hooks fire:\n"
                + "\n".join(lines)
                + "\nMake them picklable (create clients and locks on first use, and leave "
                "them out in __getstate__), or run with ductwork.kedro.ThreadRunner.",
                offenders,
            )

    def node(self, node: Any) -> Any:
        """Kedro's node for ductwork's ``node``."""
        return self._nodes.get(node.name, node)

    def catalog(self, catalog: Any) -> Any:
        """Kedro's catalog for the catalog ductwork's node path passes."""
        if catalog is self._run_catalog and self._kedro_catalog is not None:
            return self._kedro_catalog
        held = self._views.get(id(catalog))
        if held is None or held[0] is not catalog:
            from ductwork.kedro._view import worker_view  # noqa: PLC0415  (imports Kedro)

            if self._session_copy is None and self._session_bytes is not None:
                self._session_copy = cloudpickle.loads(self._session_bytes)
            held = (catalog, worker_view(catalog, self._session_copy))
            self._views[id(catalog)] = held
        return held[1]

    def _portable_session(self) -> bytes | None:
        """The session's catalog pickled for the workers, once per run (None: it cannot be)."""
        if self._session_bytes is None and self._kedro_catalog is not None and self._portable:
            try:
                self._session_bytes = cloudpickle.dumps(self._kedro_catalog)
            except Exception as error:
                _logger.info(
                    "The session's catalog cannot be sent to the workers (%s: %s); hooks there "
                    "get a catalog of the run's datasets only.",
                    type(error).__name__,
                    error,
                )
                self._portable = False
        return self._session_bytes

    def __reduce__(self) -> tuple[Any, ...]:
        return (_rebuild, (self.plugins(), dict(self._nodes), self._portable_session()))


def _rebuild(
    plugins: Iterable[tuple[str | None, object]],
    nodes: dict[str, Any],
    session_catalog: bytes | None,
) -> KedroHooks:
    """In a worker: a Kedro hook manager holding the plugins that travelled."""
    from kedro.framework.hooks import specs  # noqa: PLC0415

    manager = pluggy.PluginManager("kedro")
    for spec in (
        specs.NodeSpecs,
        specs.DatasetSpecs,
        specs.PipelineSpecs,
        specs.DataCatalogSpecs,
        specs.KedroContextSpecs,
    ):
        manager.add_hookspecs(spec)
    for name, plugin in plugins:
        manager.register(plugin, name=name)
    return KedroHooks(manager, nodes, session_catalog=session_catalog)


class _Forward:
    def __init__(self, kedro: KedroHooks) -> None:
        self.kedro = kedro


class _BeforeNodeRun(_Forward):
    @hook_impl
    def before_node_run(
        self, node: Any, catalog: Any, inputs: dict[str, Any], is_async: bool, run_id: str
    ) -> dict[str, Any] | None:
        k = self.kedro
        results = k.hook.before_node_run(
            node=k.node(node),
            catalog=k.catalog(catalog),
            inputs=inputs,
            is_async=is_async,
            run_id=run_id,
        )
        overrides: dict[str, Any] = {}
        for result in results:  # in Kedro's order: a later result wins
            if not isinstance(result, dict):
                raise TypeError(
                    "'before_node_run' must return either None or a dictionary mapping dataset "
                    f"names to updated values, got '{type(result).__name__}' instead."
                )
            overrides.update(result)
        return overrides or None


class _AfterNodeRun(_Forward):
    @hook_impl
    def after_node_run(
        self,
        node: Any,
        catalog: Any,
        inputs: dict[str, Any],
        outputs: dict[str, Any],
        is_async: bool,
        run_id: str,
    ) -> None:
        k = self.kedro
        k.hook.after_node_run(
            node=k.node(node),
            catalog=k.catalog(catalog),
            inputs=inputs,
            outputs=outputs,
            is_async=is_async,
            run_id=run_id,
        )


class _OnNodeError(_Forward):
    @hook_impl
    def on_node_error(
        self,
        error: BaseException,
        node: Any,
        catalog: Any,
        inputs: dict[str, Any],
        is_async: bool,
        run_id: str,
    ) -> None:
        k = self.kedro
        k.hook.on_node_error(
            error=error,
            node=k.node(node),
            catalog=k.catalog(catalog),
            inputs=inputs,
            is_async=is_async,
            run_id=run_id,
        )


class _OnNodeRetry(_Forward):
    @hook_impl
    def on_node_retry(
        self,
        error: BaseException,
        node: Any,
        attempt: int,
        attempts: int,
        delay: float,
        run_id: str,
    ) -> None:
        k = self.kedro
        k.hook.on_node_retry(
            error=error,
            node=k.node(node),
            attempt=attempt,
            attempts=attempts,
            delay=delay,
            run_id=run_id,
        )


class _BeforeDatasetLoaded(_Forward):
    @hook_impl
    def before_dataset_loaded(self, dataset_name: str, node: Any) -> None:
        self.kedro.hook.before_dataset_loaded(dataset_name=dataset_name, node=self.kedro.node(node))


class _AfterDatasetLoaded(_Forward):
    @hook_impl
    def after_dataset_loaded(self, dataset_name: str, data: Any, node: Any) -> None:
        self.kedro.hook.after_dataset_loaded(
            dataset_name=dataset_name, data=data, node=self.kedro.node(node)
        )


class _BeforeDatasetSaved(_Forward):
    @hook_impl
    def before_dataset_saved(self, dataset_name: str, data: Any, node: Any) -> None:
        self.kedro.hook.before_dataset_saved(
            dataset_name=dataset_name, data=data, node=self.kedro.node(node)
        )


class _AfterDatasetSaved(_Forward):
    @hook_impl
    def after_dataset_saved(self, dataset_name: str, data: Any, node: Any) -> None:
        self.kedro.hook.after_dataset_saved(
            dataset_name=dataset_name, data=data, node=self.kedro.node(node)
        )


_FORWARDS: dict[str, type[_Forward]] = {
    "before_node_run": _BeforeNodeRun,
    "after_node_run": _AfterNodeRun,
    "on_node_error": _OnNodeError,
    "on_node_retry": _OnNodeRetry,
    "before_dataset_loaded": _BeforeDatasetLoaded,
    "after_dataset_loaded": _AfterDatasetLoaded,
    "before_dataset_saved": _BeforeDatasetSaved,
    "after_dataset_saved": _AfterDatasetSaved,
}


def bridge_manager(kedro: KedroHooks | None) -> pluggy.PluginManager:
    """A ductwork hook manager whose plugins forward to ``kedro``'s implemented node hooks."""
    manager = create_hook_manager()
    if kedro is None:
        return manager
    for name in kedro.implemented():
        manager.register(_FORWARDS[name](kedro), name=f"kedro:{name}")
    return manager

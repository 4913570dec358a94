"""The node shell: the one place a node runs, its hook order in both modes, its extension points."""

from __future__ import annotations

import pickle
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from typing import Any

import pytest

from ductwork.exceptions import DuctworkError, NodeExitError, NodeTimeoutError, RunnerOptionError
from ductwork.execution import NodeShell, RunOptions, node_policy, run_node
from ductwork.execution.time_limits import watched
from ductwork.hooks import create_hook_manager, hook_impl
from ductwork.hooks.manager import HookSnapshot
from ductwork.io import DataCatalog, MemoryDataset
from ductwork.pipeline import Node, Pipeline, Retry, node
from tests.runner.helpers import CustomNodeError, add, fail, split, stream_three


class _Order:
    """Records every node and dataset hook, in the order they fire (from any thread)."""

    def __init__(self) -> None:
        self.events: list[tuple[str, str]] = []
        self._lock = threading.Lock()

    def _add(self, event: str, name: str) -> None:
        with self._lock:
            self.events.append((event, name))

    @hook_impl
    def before_dataset_loaded(self, dataset_name: str) -> None:
        self._add("before_load", dataset_name)

    @hook_impl
    def after_dataset_loaded(self, dataset_name: str) -> None:
        self._add("after_load", dataset_name)

    @hook_impl
    def before_node_run(self, node: Node) -> None:
        self._add("before_node", node.name)

    @hook_impl
    def after_node_run(self, node: Node) -> None:
        self._add("after_node", node.name)

    @hook_impl
    def before_dataset_saved(self, dataset_name: str) -> None:
        self._add("before_save", dataset_name)

    @hook_impl
    def after_dataset_saved(self, dataset_name: str) -> None:
        self._add("after_save", dataset_name)


class _Quiet:
    """A picklable plugin."""

    @hook_impl
    def after_node_run(self, node: Node) -> None:
        pass


class _LoggedCatalog(DataCatalog):
    """Records each load and save among the hook events."""

    def __init__(self, order: _Order, datasets: dict[str, Any]) -> None:
        super().__init__(datasets)
        self._order = order

    def load(self, ds_name: str, version: str | None = None) -> Any:
        self._order._add("load", ds_name)
        return super().load(ds_name, version)

    def save(self, ds_name: str, data: Any) -> None:
        self._order._add("save", ds_name)
        super().save(ds_name, data)


def _per_dataset(events: list[tuple[str, str]], name: str) -> list[str]:
    return [event for event, subject in events if subject == name]


@pytest.mark.parametrize("is_async", [False, True], ids=["sync", "async"])
def test_both_modes_fire_the_same_hooks_in_the_same_order_per_dataset_and_node(
    is_async: bool,
) -> None:
    order = _Order()
    catalog = _LoggedCatalog(
        order,
        {
            "a": MemoryDataset(1),
            "b": MemoryDataset(2),
            "lo": MemoryDataset(),
            "hi": MemoryDataset(),
        },
    )
    the_node = node(lambda a, b: split(a + b), ["a", "b"], ["lo", "hi"], name="n")
    hooks = HookSnapshot(create_hook_manager(order))
    pool = ThreadPoolExecutor(4) if is_async else None
    try:
        run_node(the_node, catalog, hooks, run_id="r", io_pool=pool)
    finally:
        if pool is not None:
            pool.shutdown()
    events = order.events
    for name in ("a", "b"):
        assert _per_dataset(events, name) == ["before_load", "load", "after_load"]
    for name in ("lo", "hi"):
        assert _per_dataset(events, name) == ["before_save", "save", "after_save"]
    position = {event: index for index, event in enumerate(events)}
    node_start, node_end = position[("before_node", "n")], position[("after_node", "n")]
    assert all(position[(e, n)] < node_start for e in ("after_load",) for n in ("a", "b"))
    assert all(position[(e, n)] > node_end for e in ("before_save",) for n in ("lo", "hi"))
    if not is_async:  # in order, too, when synchronous
        assert [n for e, n in events if e == "load"] == ["a", "b"]
        assert [n for e, n in events if e == "save"] == ["lo", "hi"]
    assert catalog.load("lo") == 3
    assert catalog.load("hi") == 4


def test_a_generator_node_in_asynchronous_mode_is_a_ductwork_error() -> None:
    catalog = DataCatalog({"x": MemoryDataset(1)})
    with ThreadPoolExecutor(1) as pool, pytest.raises(RunnerOptionError) as info:
        run_node(node(stream_three, "x", "y"), catalog, HookSnapshot(None), io_pool=pool)
    assert isinstance(info.value, DuctworkError)
    assert isinstance(info.value, ValueError)


def test_the_policy_is_the_nodes_own_else_the_runs() -> None:
    run_retry, own_retry = Retry(attempts=2, backoff=0), Retry(attempts=5, backoff=0)
    options = RunOptions(retry=run_retry, timeout=9.0)
    plain = node(add, ["a", "b"], "c")
    assert node_policy(plain, options) == (run_retry, 9.0)
    tuned = node(add, ["a", "b"], "c", retry=own_retry, timeout=1.0)
    assert node_policy(tuned, options) == (own_retry, 1.0)
    assert node_policy(plain, RunOptions()) == (None, None)


def test_the_shell_reports_a_failure_as_the_outcome_with_its_attempts() -> None:
    shell = NodeShell("run", options=RunOptions(retry=Retry(attempts=2, backoff=0)))
    outcome = shell.run(node(fail, "x", "y", name="bad"), DataCatalog({"x": MemoryDataset(1)}))
    assert isinstance(outcome.error, CustomNodeError)
    assert "failed on each of 2 attempts" in " ".join(getattr(outcome.error, "__notes__", []))
    assert outcome.node.name == "bad"
    assert outcome.worker == "main"
    assert outcome.started <= outcome.finished
    assert not outcome.skipped


def test_the_shell_travels_without_its_hooks_and_threads() -> None:
    shell = NodeShell.for_run("r", True, RunOptions(), HookSnapshot(create_hook_manager(_Quiet())))
    with shell:
        clone = pickle.loads(pickle.dumps(shell))
    assert clone.run_id == "r"
    assert clone.is_async
    assert len(clone.plugins) == 1
    assert clone._hooks is None
    assert clone._io_pool is None
    catalog = DataCatalog({"a": MemoryDataset(1), "b": MemoryDataset(2), "c": MemoryDataset()})
    with clone:
        assert clone.run(node(add, ["a", "b"], "c", name="sum"), catalog).error is None
    assert catalog.load("c") == 3


@contextmanager
def _count_calls(_node: Node) -> Iterator[dict[str, float]]:
    metrics: dict[str, float] = {}
    yield metrics
    metrics["calls"] = 1.0


def test_a_meter_measures_each_node_and_its_outcome_holds_the_numbers() -> None:
    order = _Order()
    shell = NodeShell("r", plugins=[("order", order)], meter=_count_calls)
    catalog = DataCatalog({"a": MemoryDataset(1), "b": MemoryDataset(2), "d": MemoryDataset()})
    ran = shell.run(node(add, ["a", "b"], "d", name="fresh"), catalog)
    assert not ran.skipped
    assert ran.metrics == {"calls": 1.0}
    assert catalog.load("d") == 3
    assert {subject for _, subject in order.events} == {"a", "b", "fresh", "d"}


def test_a_nodes_system_exit_is_always_its_failure() -> None:
    def leave(x: int) -> int:
        raise SystemExit(3)

    catalog = DataCatalog({"x": MemoryDataset(1)})
    shell = NodeShell("r")
    for contain in (True, False):
        outcome = shell.run(node(leave, "x", "y"), catalog, contain_exits=contain)
        assert isinstance(outcome.error, NodeExitError)
        assert isinstance(outcome.error.__cause__, SystemExit)


def test_a_nodes_keyboard_interrupt_is_contained_only_when_asked() -> None:
    def interrupt(x: int) -> int:
        raise KeyboardInterrupt

    catalog = DataCatalog({"x": MemoryDataset(1)})
    shell = NodeShell("r")
    contained = shell.run(node(interrupt, "x", "y"), catalog, contain_exits=True)
    assert isinstance(contained.error, KeyboardInterrupt)
    with pytest.raises(KeyboardInterrupt):
        shell.run(node(interrupt, "x", "y"), catalog)


def test_a_watched_time_limit_is_left_to_the_caller_who_sets_stop() -> None:
    stop = threading.Event()
    stop.set()  # the executor decided the node is overdue
    shell = NodeShell("r", options=RunOptions(timeout=5.0), time_limit=watched)
    catalog = DataCatalog({"a": MemoryDataset(1), "b": MemoryDataset(2), "c": MemoryDataset()})
    outcome = shell.run(node(add, ["a", "b"], "c"), catalog, stop=stop)
    assert type(outcome.error).__name__ == "NodeCancelledError"
    assert not catalog.exists("c")
    assert not isinstance(outcome.error, NodeTimeoutError)


class _NullManager:
    """Like Kedro's _NullPluginManager: every attribute is itself, every call returns None."""

    def __getattr__(self, name: str) -> Any:
        return self

    def __call__(self, *args: Any, **kwargs: Any) -> None:
        return None


def test_a_runner_accepts_a_null_hook_manager_written_for_kedro() -> None:
    from ductwork.runner import SequentialRunner

    catalog = DataCatalog({"a": MemoryDataset(1), "b": MemoryDataset(2)})
    pipeline = Pipeline([node(add, ["a", "b"], "c")])
    result = SequentialRunner().run(pipeline, catalog, _NullManager())  # type: ignore[arg-type]
    assert result["c"].load() == 3

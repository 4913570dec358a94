"""Hook dispatch: the snapshot's cheap calls give exactly what pluggy gives, and follow changes.

Each test compares the snapshot's answer with a call through pluggy's own ``HookCaller``
(``manager.hook.<name>``) on the same manager, so that "the same as pluggy" is checked, not
assumed.
"""

from __future__ import annotations

import pickle
import warnings
from collections.abc import Callable, Generator
from typing import Any

import pluggy
import pytest

from ductwork.hooks import create_hook_manager, hook_impl, specs
from ductwork.hooks.dispatch import HOOK_NAMES, HookSnapshot, _no_hook, _resolve
from ductwork.io import DataCatalog, MemoryDataset
from ductwork.pipeline import Pipeline, node
from ductwork.runner import ParallelRunner, SequentialRunner, ThreadRunner
from tests.test_startup import imported_by

SAVED = {"dataset_name": "d", "data": 1, "node": "n"}
BEFORE = {"node": "n", "catalog": None, "inputs": {"x": 1}, "is_async": False, "run_id": "r"}


class Log:
    """What the plugins of one test saw, in order."""

    def __init__(self) -> None:
        self.calls: list[str] = []


class Plain:
    def __init__(self, log: Log, label: str, result: Any = None) -> None:
        self.log, self.label, self.result = log, label, result

    @hook_impl
    def after_dataset_saved(self, dataset_name: str, data: Any) -> Any:
        self.log.calls.append(f"{self.label}:{dataset_name}={data}")
        return self.result

    @hook_impl
    def before_node_run(self, inputs: dict[str, Any]) -> Any:
        self.log.calls.append(f"{self.label}:before_node_run")
        return self.result


class First(Plain):
    @hook_impl(tryfirst=True)
    def after_dataset_saved(self, dataset_name: str, data: Any) -> Any:
        self.log.calls.append(f"{self.label}:first")
        return self.result


class Wrapper:
    def __init__(self, log: Log) -> None:
        self.log = log

    @hook_impl(wrapper=True)
    def after_dataset_saved(self, dataset_name: str) -> Generator[None, Any, Any]:
        self.log.calls.append("wrapper:enter")
        try:
            result = yield
        except ValueError as error:
            self.log.calls.append(f"wrapper:saw {error}")
            raise
        self.log.calls.append(f"wrapper:exit {result!r}")
        return [*result, "wrapped"]


class OldWrapper:
    def __init__(self, log: Log) -> None:
        self.log = log

    @hook_impl(hookwrapper=True)
    def after_dataset_saved(self) -> Generator[None, Any, None]:
        self.log.calls.append("old:enter")
        outcome = yield
        self.log.calls.append(f"old:exit {outcome.get_result()!r}")


class Raises:
    def __init__(self, error: BaseException) -> None:
        self.error = error

    @hook_impl
    def after_dataset_saved(self, dataset_name: str) -> None:
        raise self.error


def increment(x: int) -> int:
    return x + 1


class Registrar:
    """Registers, in ``before_pipeline_run``, a plugin that replaces every node's ``x`` by 10."""

    def __init__(self, manager: pluggy.PluginManager) -> None:
        self.manager = manager

    def __getstate__(self) -> dict[str, Any]:
        return {}  # the copy in a worker is never asked: pipeline hooks fire in the parent

    @hook_impl
    def before_pipeline_run(self) -> None:
        self.manager.register(Plain(Log(), "late", {"x": 10}))


def enabled(hooks: HookSnapshot) -> bool:
    return hooks.enabled  # read anew each time (a registration changes it)


def both(manager: pluggy.PluginManager, hooks: HookSnapshot, log: Log) -> tuple[Any, Any]:
    """The snapshot's answer and pluggy's, and the same calls seen by the plugins each time."""
    log.calls.clear()
    ours = hooks.after_dataset_saved(**SAVED)
    ours_calls = list(log.calls)
    log.calls.clear()
    theirs = manager.hook.after_dataset_saved(**SAVED)
    assert ours_calls == log.calls
    return ours, theirs


def test_hook_names_are_the_specifications_in_order() -> None:
    declared = [
        name
        for spec in (specs.NodeSpecs, specs.DatasetSpecs, specs.PipelineSpecs)
        for name in vars(spec)
        if not name.startswith("_")
    ]
    assert list(HOOK_NAMES) == declared


@pytest.mark.parametrize(
    "plugins",
    [
        [],
        ["plain-none"],
        ["plain-value"],
        ["plain-value", "plain-other"],
        ["plain-value", "first"],
        ["wrapper", "plain-value"],
        ["old-wrapper", "plain-value"],
        ["wrapper"],
        ["old-wrapper"],
    ],
)
def test_the_snapshot_answers_as_pluggy_does(plugins: list[str]) -> None:
    log = Log()
    made: dict[str, Callable[[], object]] = {
        "plain-none": lambda: Plain(log, "a"),
        "plain-value": lambda: Plain(log, "b", {"x": 2}),
        "plain-other": lambda: Plain(log, "c", {"x": 3}),
        "first": lambda: First(log, "f", "first!"),
        "wrapper": lambda: Wrapper(log),
        "old-wrapper": lambda: OldWrapper(log),
    }
    manager = create_hook_manager(*(made[name]() for name in plugins))
    hooks = HookSnapshot(manager)
    ours, theirs = both(manager, hooks, log)
    assert ours == theirs
    assert hooks.has("after_dataset_saved") == bool(plugins)


def test_one_plain_implementation_is_called_directly_and_none_is_a_no_op() -> None:
    log = Log()
    manager = create_hook_manager(Plain(log, "a", {"x": 2}))
    hooks = HookSnapshot(manager)
    assert hooks.after_dataset_saved is not manager.hook.after_dataset_saved
    assert hooks.after_node_run is _no_hook
    assert hooks.after_dataset_saved(**SAVED) == [{"x": 2}]
    assert hooks.before_node_run(**BEFORE) == [{"x": 2}]
    assert log.calls == ["a:d=1", "a:before_node_run"]
    manager.register(Plain(log, "b"))
    assert hooks.after_dataset_saved is manager.hook.after_dataset_saved  # two: through pluggy


def test_a_plugin_registered_after_the_first_call_is_called() -> None:
    log = Log()
    manager = create_hook_manager()
    hooks = HookSnapshot(manager)
    assert hooks.after_dataset_saved(**SAVED) == []
    assert not enabled(hooks)
    manager.register(Plain(log, "late", "one"))
    assert enabled(hooks)
    assert hooks.has("after_dataset_saved")
    assert hooks.after_dataset_saved(**SAVED) == ["one"]
    manager.register(Plain(log, "later", "two"))
    ours, theirs = both(manager, hooks, log)
    assert ours == theirs == ["two", "one"]
    assert log.calls == ["later:d=1", "late:d=1"]


def test_an_unregistered_plugin_is_no_longer_called() -> None:
    log = Log()
    first, second = Plain(log, "a", 1), Plain(log, "b", 2)
    manager = create_hook_manager(first, second)
    hooks = HookSnapshot(manager)
    manager.unregister(second)
    assert hooks.after_dataset_saved(**SAVED) == [1]
    manager.unregister(first)
    assert hooks.after_dataset_saved(**SAVED) == []
    assert not hooks.enabled
    assert log.calls == ["a:d=1"]
    manager.register(second, name="blocked")
    manager.set_blocked("blocked")  # blocking unregisters
    assert hooks.after_dataset_saved(**SAVED) == []


def test_a_plugin_registered_during_a_run_gets_the_later_hooks() -> None:
    log = Log()

    class Registrar:
        @hook_impl
        def before_pipeline_run(self) -> None:
            manager.register(Plain(log, "late"))

    manager = create_hook_manager(Registrar())
    pipeline = Pipeline([node(lambda x: x + 1, "x", "y", name="inc")])
    SequentialRunner().run(pipeline, DataCatalog({"x": MemoryDataset(1)}), manager)
    assert log.calls == ["late:before_node_run", "late:y=2"]


@pytest.mark.timeout(120)
@pytest.mark.parametrize("runner", [ThreadRunner, ParallelRunner])
def test_a_plugin_registered_in_before_pipeline_run_reaches_every_runner(runner: type) -> None:
    manager = create_hook_manager()
    manager.register(Registrar(manager))
    pipeline = Pipeline([node(increment, "x", "y", name="inc")])
    outputs = runner(max_workers=2).run(pipeline, DataCatalog({"x": MemoryDataset(1)}), manager)
    assert outputs["y"].load() == 11  # the late plugin's before_node_run replaced x with 10


def test_wrappers_still_wrap_the_one_plain_implementation() -> None:
    log = Log()
    manager = create_hook_manager(Plain(log, "a", "value"))
    hooks = HookSnapshot(manager)
    manager.register(Wrapper(log))
    assert hooks.after_dataset_saved(**SAVED) == ["value", "wrapped"]
    assert log.calls == ["wrapper:enter", "a:d=1", "wrapper:exit ['value']"]
    log.calls.clear()
    manager.register(OldWrapper(log))
    assert hooks.after_dataset_saved(**SAVED) == ["value", "wrapped"]
    assert log.calls[0] == "old:enter"
    assert log.calls[-1] == "old:exit ['value', 'wrapped']"


@pytest.mark.parametrize("error", [ValueError("bad save"), KeyboardInterrupt(), KeyError("k")])
def test_an_implementations_exception_propagates_as_through_pluggy(error: BaseException) -> None:
    manager = create_hook_manager(Raises(error))
    hooks = HookSnapshot(manager)
    with pytest.raises(type(error)) as ours:
        hooks.after_dataset_saved(**SAVED)
    with pytest.raises(type(error)) as theirs:
        manager.hook.after_dataset_saved(**SAVED)
    assert ours.value is theirs.value is error
    assert ours.value.__cause__ is None
    assert not isinstance(ours.value, pluggy.HookCallError)


def test_a_wrapper_sees_the_exception_of_the_plain_implementation() -> None:
    log = Log()
    manager = create_hook_manager(Raises(ValueError("bad save")))
    hooks = HookSnapshot(manager)
    manager.register(Wrapper(log))
    with pytest.raises(ValueError, match="bad save"):
        hooks.after_dataset_saved(**SAVED)
    assert log.calls == ["wrapper:enter", "wrapper:saw bad save"]


def test_a_hooks_exception_ends_a_run_as_it_did() -> None:
    manager = create_hook_manager(Raises(ValueError("bad save")))
    pipeline = Pipeline([node(lambda x: x, "x", "y", name="copy")])
    for runner in (SequentialRunner(), ThreadRunner()):
        with pytest.raises(ValueError, match="bad save"):
            runner.run(pipeline, DataCatalog({"x": MemoryDataset(1)}), manager)


def test_a_call_missing_an_argument_warns_and_fails_as_pluggy_does() -> None:
    log = Log()
    manager = create_hook_manager(Plain(log, "a"))
    hooks = HookSnapshot(manager)
    with pytest.warns(UserWarning, match="'node'"):
        hooks.after_dataset_saved(dataset_name="d", data=1)
    with (
        pytest.warns(UserWarning, match="'data'"),
        pytest.raises(pluggy.HookCallError, match="'data'"),
    ):
        hooks.after_dataset_saved(dataset_name="d", node="n")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert hooks.after_dataset_saved(**SAVED, extra=1) == []  # extra: ignored, as pluggy


def test_monitoring_sees_every_call_while_it_is_on() -> None:
    log = Log()
    manager = create_hook_manager(Plain(log, "a"))
    hooks = HookSnapshot(manager)
    traced: list[str] = []
    undo = manager.add_hookcall_monitoring(
        lambda name, impls, kwargs: traced.append(name), lambda *_: None
    )
    hooks.after_dataset_saved(**SAVED)
    assert traced == ["after_dataset_saved"]
    undo()
    hooks.after_dataset_saved(**SAVED)
    assert traced == ["after_dataset_saved"]
    assert hooks.after_dataset_saved is not manager.hook.after_dataset_saved
    assert log.calls == ["a:d=1", "a:d=1"]


def test_a_foreign_manager_is_resolved_once_and_called_through_pluggy() -> None:
    log = Log()
    manager = pluggy.PluginManager("ductwork")
    for spec in (specs.NodeSpecs, specs.DatasetSpecs, specs.PipelineSpecs):
        manager.add_hookspecs(spec)
    manager.register(Plain(log, "a", 1))
    hooks = HookSnapshot(manager)
    assert hooks.after_dataset_saved is manager.hook.after_dataset_saved
    assert hooks.after_dataset_saved(**SAVED) == [1]


def test_no_plugins_need_no_pluggy() -> None:
    modules = imported_by(
        "from ductwork.hooks.manager import HookSnapshot, plugins_from, registered_plugins\n"
        "hooks = HookSnapshot(plugins_from([]))\n"
        "assert not hooks.enabled and registered_plugins(hooks.manager) == []\n"
        "assert hooks.after_node_run(node=None) == []\n"
    )
    assert "ductwork.hooks.dispatch" in modules
    assert not {"pluggy", "importlib.metadata", "ductwork.hooks.specs"} & modules


def test_a_manager_pickles_as_pluggy_s_does_and_its_copy_follows_its_own_snapshots() -> None:
    log = Log()
    manager = create_hook_manager(Plain(log, "a", 1))
    HookSnapshot(manager)
    copy = pickle.loads(pickle.dumps(manager))
    hooks = HookSnapshot(copy)
    assert hooks.after_dataset_saved(**SAVED) == [1]
    copy.register(Plain(log, "b", 2))
    assert hooks.after_dataset_saved(**SAVED) == [2, 1]


def test_positional_arguments_fail_as_through_pluggy() -> None:
    manager = create_hook_manager(Plain(Log(), "a"))
    hooks = HookSnapshot(manager)
    with pytest.raises(TypeError):
        hooks.after_dataset_saved("d", 1, "n")
    through_pluggy: Any = manager.hook.after_dataset_saved
    with pytest.raises(TypeError):
        through_pluggy("d", 1, "n")


class FirstResultSpecs:
    @pluggy.HookspecMarker("ductwork")(firstresult=True)
    def pick(self, value: int, other: int) -> int | None:
        """A first-result hook (ductwork declares none; pluggy's rule still holds)."""


class Picks:
    def __init__(self, answer: int | None) -> None:
        self.answer = answer

    @hook_impl
    def pick(self, value: int) -> int | None:
        return self.answer if self.answer is None else self.answer + value


@pytest.mark.parametrize("answer", [None, 0, 5])
def test_a_first_result_hook_called_directly_answers_as_pluggy(answer: int | None) -> None:
    manager = create_hook_manager()
    manager.add_hookspecs(FirstResultSpecs)
    manager.register(Picks(answer))
    caller = manager.hook.pick
    direct = _resolve(caller, direct=True)
    assert direct is not caller
    assert direct(value=1, other=2) == caller(value=1, other=2)

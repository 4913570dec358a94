from __future__ import annotations

from typing import Any

import cloudpickle
import pluggy
import pytest

from ductwork.hooks import create_hook_manager, hook_impl
from ductwork.hooks.manager import HOOK_NAMES, HookSnapshot, plugins_from, registered_plugins


class Recorder:
    def __init__(self) -> None:
        self.calls: list[tuple[str, dict[str, Any]]] = []

    @hook_impl
    def before_node_run(self, node: Any, inputs: dict[str, Any]) -> dict[str, Any]:
        self.calls.append(("before_node_run", {"node": node, "inputs": inputs}))
        return {"x": 2}

    @hook_impl
    def after_dataset_saved(self, dataset_name: str) -> None:
        self.calls.append(("after_dataset_saved", {"dataset_name": dataset_name}))


def test_manager_knows_every_ductwork_hook() -> None:
    manager = create_hook_manager()
    assert isinstance(manager, pluggy.PluginManager)
    assert manager.project_name == "ductwork"
    assert set(HOOK_NAMES) == {
        "before_node_run",
        "after_node_run",
        "on_node_error",
        "on_node_retry",
        "before_dataset_loaded",
        "after_dataset_loaded",
        "before_dataset_saved",
        "after_dataset_saved",
        "before_pipeline_run",
        "after_pipeline_run",
        "on_pipeline_error",
    }
    for name in HOOK_NAMES:
        assert getattr(manager.hook, name).spec is not None


def test_plugin_with_an_unknown_argument_fails_at_registration() -> None:
    class Bad:
        @hook_impl
        def before_node_run(self, node: Any, not_an_argument: Any) -> None:
            pass

    with pytest.raises(pluggy.PluginValidationError, match="not_an_argument"):
        create_hook_manager(Bad())


def test_plugin_with_a_misspelt_hook_fails_before_the_run() -> None:
    class Misspelt:
        @hook_impl
        def before_node_runn(self, node: Any) -> None:
            pass

    manager = create_hook_manager()
    manager.register(Misspelt())
    with pytest.raises(pluggy.PluginValidationError, match="before_node_runn"):
        HookSnapshot(manager)


def test_caller_calls_implemented_hooks_with_only_the_declared_arguments() -> None:
    recorder = Recorder()
    hooks = HookSnapshot(create_hook_manager(recorder))
    result = hooks.before_node_run(
        node="n", catalog=None, inputs={"x": 1}, is_async=False, run_id="r"
    )
    hooks.after_dataset_saved(dataset_name="d", data=1, node="n")
    assert result == [{"x": 2}]
    assert recorder.calls == [
        ("before_node_run", {"node": "n", "inputs": {"x": 1}}),
        ("after_dataset_saved", {"dataset_name": "d"}),
    ]


def test_caller_turns_hooks_without_implementations_into_no_ops() -> None:
    hooks = HookSnapshot(create_hook_manager(Recorder()))
    assert hooks.has("before_node_run")
    assert not hooks.has("after_node_run")
    assert hooks.after_node_run(node="n") == []
    empty = HookSnapshot(None)
    assert not any(empty.has(name) for name in HOOK_NAMES)


def test_plugins_travel_to_another_manager() -> None:
    recorder = Recorder()
    manager = create_hook_manager()
    manager.register(recorder, name="recorder")
    shipped = cloudpickle.loads(cloudpickle.dumps(registered_plugins(manager)))
    rebuilt = plugins_from(shipped)
    assert rebuilt is not None
    assert rebuilt.get_plugin("recorder") is not None
    HookSnapshot(rebuilt).after_dataset_saved(dataset_name="d", data=1, node="n")
    copy = rebuilt.get_plugin("recorder")
    assert isinstance(copy, Recorder)
    assert copy.calls == [("after_dataset_saved", {"dataset_name": "d"})]
    assert recorder.calls == []


def test_a_null_manager_that_answers_none_has_no_plugins_and_runs() -> None:
    from ductwork.io import DataCatalog
    from ductwork.pipeline import Pipeline, node
    from ductwork.runner import SequentialRunner

    class NullManager:
        """Behaves as Kedro's null plugin manager: every attribute is itself, every call None."""

        def __getattr__(self, name: str) -> Any:
            return self

        def __call__(self, *args: Any, **kwargs: Any) -> None:
            return None

    null: Any = NullManager()
    assert registered_plugins(null) == []
    outputs = SequentialRunner().run(Pipeline([node(lambda: 3, None, "x")]), DataCatalog(), null)
    assert outputs["x"].load() == 3

"""Node functions, datasets and plugins shared by the runner tests.

Everything here is importable by module path and records through files, so that it behaves the
same in the calling thread, on threads, in worker processes and on Dask workers.
"""

from __future__ import annotations

import json
import os
import pickle
import time
from pathlib import Path
from typing import Any

from ductwork.hooks import hook_impl
from ductwork.io import AbstractDataset


def identity(x: Any) -> Any:
    return x


def add(a: int, b: int) -> int:
    return a + b


def double(x: int) -> int:
    return 2 * x


def total(*values: int) -> int:
    return sum(values)


def constant() -> int:
    return 1


def split(x: int) -> tuple[int, int]:
    return x, x + 1


def fail(*_args: Any) -> Any:
    raise CustomNodeError("node failure on purpose")


def stream_three(x: int) -> Any:
    for i in range(3):
        yield x + i


def stream_pairs(x: int) -> Any:
    for i in range(3):
        yield {"low": x + i, "high": 10 * (x + i)}


class CustomNodeError(Exception):
    """An error type the runners must not change."""


def read_events(path: Path) -> list[dict[str, Any]]:
    """The JSON lines written by :class:`EventLog` and :class:`RecordingDataset`."""
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines()]


def _append(path: str, **event: Any) -> None:
    event["time"] = time.monotonic_ns()
    event["pid"] = os.getpid()
    line = (json.dumps(event, default=repr) + "\n").encode()
    # One write() on an O_APPEND file is atomic for lines this short, across processes.
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        os.write(fd, line)
    finally:
        os.close(fd)


class EventLog:
    """A hook plugin that appends every node and dataset event to a file."""

    def __init__(self, path: Path) -> None:
        self.path = str(path)

    @hook_impl
    def before_dataset_loaded(self, dataset_name: str, node: Any) -> None:
        _append(self.path, hook="before_dataset_loaded", dataset=dataset_name, node=node.name)

    @hook_impl
    def after_dataset_loaded(self, dataset_name: str, data: Any, node: Any) -> None:
        _append(self.path, hook="after_dataset_loaded", dataset=dataset_name, node=node.name)

    @hook_impl
    def before_node_run(self, node: Any, inputs: dict[str, Any], run_id: str) -> None:
        _append(self.path, hook="before_node_run", node=node.name, run_id=run_id)

    @hook_impl
    def after_node_run(self, node: Any, outputs: dict[str, Any], run_id: str) -> None:
        _append(self.path, hook="after_node_run", node=node.name, run_id=run_id)

    @hook_impl
    def on_node_error(self, error: BaseException, node: Any, run_id: str) -> None:
        _append(self.path, hook="on_node_error", node=node.name, error=repr(error), run_id=run_id)

    @hook_impl
    def before_dataset_saved(self, dataset_name: str, data: Any, node: Any) -> None:
        _append(self.path, hook="before_dataset_saved", dataset=dataset_name, node=node.name)

    @hook_impl
    def after_dataset_saved(self, dataset_name: str, data: Any, node: Any) -> None:
        _append(
            self.path, hook="after_dataset_saved", dataset=dataset_name, node=node.name, data=data
        )

    @hook_impl
    def before_pipeline_run(self, run_params: dict[str, Any]) -> None:
        _append(self.path, hook="before_pipeline_run", run_params=run_params)

    @hook_impl
    def after_pipeline_run(self, run_params: dict[str, Any], run_result: dict[str, Any]) -> None:
        _append(
            self.path,
            hook="after_pipeline_run",
            run_id=run_params["run_id"],
            result=sorted(run_result),
        )

    @hook_impl
    def on_pipeline_error(self, error: BaseException, run_params: dict[str, Any]) -> None:
        _append(self.path, hook="on_pipeline_error", error=repr(error), run_id=run_params["run_id"])


class InputOverride:
    """A plugin whose ``before_node_run`` replaces one input of one node."""

    def __init__(self, node_name: str, dataset: str, value: Any) -> None:
        self.node_name, self.dataset, self.value = node_name, dataset, value

    @hook_impl
    def before_node_run(self, node: Any) -> dict[str, Any] | None:
        return {self.dataset: self.value} if node.name == self.node_name else None


class RecordingDataset(AbstractDataset[Any, Any]):
    """A persisted dataset (a pickle file) that logs its loads, saves and releases to a file."""

    def __init__(self, path: Path, log: Path, name: str) -> None:
        self._path = str(path)
        self._log = str(log)
        self._name = name

    def load(self) -> Any:
        _append(self._log, op="load", dataset=self._name)
        with open(self._path, "rb") as file:
            return pickle.load(file)

    def save(self, data: Any) -> None:
        with open(self._path, "wb") as file:
            pickle.dump(data, file)
        _append(self._log, op="save", dataset=self._name)

    def _exists(self) -> bool:
        return os.path.exists(self._path)

    def _release(self) -> None:
        _append(self._log, op="release", dataset=self._name)

    def _describe(self) -> dict[str, Any]:
        return {"path": self._path}


class UnreadableError(Exception):
    """Raised by :class:`UnreadableDataset`: not a ``DatasetError``."""


class UnreadableDataset:
    """A foreign dataset (duck-typed, no ``AbstractDataset``) whose ``load()`` raises a plain
    error of its own, as a user's or another library's dataset may."""

    def __init__(self, in_memory: bool) -> None:
        self._EPHEMERAL = in_memory

    def load(self) -> Any:
        raise UnreadableError("cannot read on purpose")

    def save(self, data: Any) -> None:
        pass

    def exists(self) -> bool:
        return True

    def release(self) -> None:
        pass


class RetryLog:
    """A hook plugin that appends each ``on_node_retry`` to a file."""

    def __init__(self, path: Path) -> None:
        self.path = str(path)

    @hook_impl
    def on_node_retry(self, error: BaseException, node: Any, attempt: int, attempts: int) -> None:
        _append(self.path, node=node.name, attempt=attempt, attempts=attempts, error=repr(error))


class FailingHook:
    """A hook plugin whose ``before_node_run`` raises for one node."""

    def __init__(self, node_name: str) -> None:
        self.node_name = node_name

    @hook_impl
    def before_node_run(self, node: Any) -> None:
        if node.name == self.node_name:
            raise HookFailure(f"hook broke on {node.name}")


class HookFailure(Exception):
    """Raised by :class:`FailingHook`."""


def flaky(counter: str, failures: int, value: Any) -> Any:
    """Fail ``failures`` times (counted in the file ``counter``, across processes), then return."""
    fd = os.open(counter, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        os.write(fd, b".")
    finally:
        os.close(fd)
    if os.path.getsize(counter) <= failures:
        raise ConnectionError(f"flaky failure {os.path.getsize(counter)}")
    return value


def hang_until(release_file: str, started_file: str, *_inputs: Any) -> Any:
    """Say "started" through a file, then block until ``release_file`` exists."""
    _append(started_file, pid=os.getpid())
    while not os.path.exists(release_file):
        time.sleep(0.01)  # polling a file, not synchronising on time: the test sets it
    return 1


def succeed_or_fail(should_fail: bool, *inputs: Any) -> int:
    """Sum the inputs plus one, or raise :class:`CustomNodeError` when told to fail."""
    if should_fail:
        raise CustomNodeError("planned failure")
    return int(sum(inputs)) + 1


def wait_for_file(path: Path, timeout: float = 30.0) -> None:
    """Block until ``path`` exists (a child process says it reached a point), or fail."""
    deadline = time.monotonic() + timeout
    while not path.exists():
        if time.monotonic() > deadline:
            raise TimeoutError(f"{path} did not appear within {timeout} s")
        time.sleep(0.01)

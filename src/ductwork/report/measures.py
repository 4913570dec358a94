"""What the journal measures where a node runs: its datasets' load and save times and shapes.

Two halves that meet in the process the node runs in (the run's own, a worker process, a Dask
worker):

- :class:`DatasetMeasures`, a hook plugin (register it in the run's hook manager; the command
  line does): ``before_dataset_loaded`` and ``after_dataset_loaded`` time each load, the
  ``_saved`` pair each save, and the data tells its rows and columns (``shape``) and its size in
  memory (``nbytes``) where it has them; ``on_node_retry`` counts the attempts. The plugin holds
  no state, so it travels to workers with the run's other plugins.
- :func:`journal_meter`, the node shell's meter: it wraps all of a node's attempts, takes
  :func:`~ductwork.execution.meters.resource_meter`'s CPU time and peak memory, opens the record
  the hooks fill for that node, and puts it all in the outcome's ``metrics`` (flat numbers, so
  they travel back from workers with the outcome): ``load_seconds:<dataset>``,
  ``save_seconds:<dataset>``, ``rows:<dataset>``, ``columns:<dataset>``, ``bytes:<dataset>``,
  ``attempts`` and ``pid``.

The cost is two hook calls and two clock reads a dataset (a few microseconds), measured in
``benchmarks/bench_runners.py`` with the journal on. Nothing is asked of the data that could be
slow: ``shape`` only counts when it is made of plain integers (a Dask frame's unknown length
is not computed), and a pandas frame's size is its columns' buffers (``deep=False``).
"""

from __future__ import annotations

import operator
import os
import time
from collections.abc import Mapping
from typing import Any

from ductwork.execution.meters import ResourceMeter
from ductwork.hooks import hook_impl
from ductwork.pipeline import Node
from ductwork.pipeline.transcoding import strip_transcoding

__all__ = ["DatasetMeasures", "journal_meter", "record_metrics", "split_metrics"]

_LOAD, _SAVE = "load_seconds", "save_seconds"
_DATASET_KEYS = (_LOAD, _SAVE, "rows", "columns", "bytes")
_NODE_FIELDS = {
    "rss_peak": "peak_rss",
    "cpu_seconds": "cpu_time",
    "attempts": "attempts",
    "pid": "pid",
}
_SHAPE_FIELDS = {"rows": "rows", "columns": "columns", "bytes": "memory"}


class _Open(ResourceMeter):
    """The meter of one node (CPU time, peak memory, pid), and the record its dataset hooks
    fill while it runs: the loads and saves under way, and what they measured."""

    __slots__ = ("_key", "started")

    def __init__(self, node: Node) -> None:
        super().__init__(node)
        self.started: dict[tuple[str, str], float] = {}
        self._key = id(node)

    def __enter__(self) -> dict[str, float]:
        _OPEN[self._key] = self
        return super().__enter__()

    def __exit__(self, *exc: object) -> None:
        super().__exit__(*exc)
        _OPEN.pop(self._key, None)
        self.metrics["pid"] = float(os.getpid())


# The nodes being measured in this process, by id(node): the hooks receive the very node
# object the shell runs (even on the I/O threads of asynchronous mode).
_OPEN: dict[int, _Open] = {}

journal_meter = _Open
"""The journal's meter: ``journal_meter(node)`` measures ``node``'s run (CPU time, peak
memory, its datasets, its attempts, the pid) and fills the outcome's metrics."""


def _plain_int(value: object) -> int | None:
    try:
        return operator.index(value)  # type: ignore[arg-type]
    except TypeError:
        return None


def _shape(data: object) -> tuple[int | None, int | None]:
    shape = getattr(data, "shape", None)
    if not isinstance(shape, tuple) or not shape:
        return None, None
    sizes = [_plain_int(value) for value in shape[:2]]
    return sizes[0], sizes[1] if len(sizes) > 1 else None


def _memory(data: object) -> int | None:
    size = _plain_int(getattr(data, "nbytes", None))
    if size is not None:
        return size
    usage = getattr(data, "memory_usage", None)
    if callable(usage) and hasattr(data, "columns"):  # a pandas frame: its buffers only
        try:
            return int(usage(index=True, deep=False).sum())
        except Exception:
            return None
    return None


def _record_data(record: _Open, name: str, data: object, saved: bool) -> None:
    rows, columns = _shape(data)
    metrics = record.metrics
    if rows is not None:
        key = f"rows:{name}"
        # The chunks of a generator's output add up.
        metrics[key] = metrics.get(key, 0.0) + rows if saved else float(rows)
    if columns is not None:
        metrics[f"columns:{name}"] = float(columns)
    if saved:
        size = _memory(data)
        if size is not None:
            metrics[f"bytes:{name}"] = metrics.get(f"bytes:{name}", 0.0) + size


class DatasetMeasures:
    """Hook plugin: times every load and save, and notes the data's shape and the attempts."""

    def _begin(self, node: Node, kind: str, name: str) -> None:
        record = _OPEN.get(id(node))
        if record is not None:
            record.started[(kind, name)] = time.perf_counter()

    def _end(self, node: Node, kind: str, name: str, data: object) -> None:
        record = _OPEN.get(id(node))
        if record is None:
            return
        began = record.started.pop((kind, name), None)
        if began is None:
            return
        took = time.perf_counter() - began
        base = strip_transcoding(name)
        key = f"{kind}:{base}"
        record.metrics[key] = record.metrics.get(key, 0.0) + took
        _record_data(record, base, data, kind == _SAVE)

    @hook_impl
    def before_dataset_loaded(self, dataset_name: str, node: Node) -> None:
        self._begin(node, _LOAD, dataset_name)

    @hook_impl
    def after_dataset_loaded(self, dataset_name: str, data: Any, node: Node) -> None:
        self._end(node, _LOAD, dataset_name, data)

    @hook_impl
    def before_dataset_saved(self, dataset_name: str, node: Node) -> None:
        self._begin(node, _SAVE, dataset_name)

    @hook_impl
    def after_dataset_saved(self, dataset_name: str, data: Any, node: Node) -> None:
        self._end(node, _SAVE, dataset_name, data)

    @hook_impl
    def on_node_retry(self, node: Node, attempt: int) -> None:
        record = _OPEN.get(id(node))
        if record is not None:
            record.metrics["attempts"] = float(attempt + 1)


def split_metrics(
    metrics: Mapping[str, float],
) -> tuple[dict[str, float], dict[str, dict[str, float]]]:
    """An outcome's metrics as the node's own (``cpu_seconds`` ...) and per dataset, by name."""
    own: dict[str, float] = {}
    datasets: dict[str, dict[str, float]] = {}
    for key, value in metrics.items():
        kind, _, name = key.partition(":")
        if name and kind in _DATASET_KEYS:
            datasets.setdefault(name, {})[kind] = value
        else:
            own[key] = value
    return own, datasets


def record_metrics(
    entry: dict[str, Any], datasets: dict[str, dict[str, Any]], metrics: Mapping[str, float]
) -> None:
    """Put an outcome's ``metrics`` in the journal: the node's ``entry`` and ``datasets``.

    The node gets ``cpu_time``, ``peak_rss``, ``attempts``, ``pid``, and ``load_time`` and
    ``save_time`` (all its loads and saves); each dataset ``save_time``, ``load_time`` (summed
    over the nodes that loaded it) and ``loads``, ``rows`` and ``columns``, and ``memory`` (its
    size in memory when saved, in bytes). One pass: this runs on the run's thread for every node.
    """
    loads = saves = None
    for key, value in metrics.items():
        kind, colon, name = key.partition(":")
        if not colon:
            field = _NODE_FIELDS.get(key)
            if field is not None:
                entry[field] = round(value, 6) if field == "cpu_time" else int(value)
            continue
        facts = datasets.get(name)
        if facts is None:
            facts = datasets[name] = {}
        if kind == _LOAD:
            loads = (loads or 0.0) + value
            facts["load_time"] = round(facts.get("load_time", 0.0) + value, 6)
            facts["loads"] = facts.get("loads", 0) + 1
        elif kind == _SAVE:
            saves = (saves or 0.0) + value
            facts["save_time"] = round(facts.get("save_time", 0.0) + value, 6)
        elif kind in _SHAPE_FIELDS:
            facts[_SHAPE_FIELDS[kind]] = int(value)
    if loads is not None:
        entry["load_time"] = round(loads, 6)
    if saves is not None:
        entry["save_time"] = round(saves, 6)

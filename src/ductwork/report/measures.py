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

The cost is two hook calls and two clock reads a dataset: about 1.7 µs of CPU, 0.5 µs of it the
two calls (each a direct call of this plugin's method when it is the hook's only
implementation, see :mod:`ductwork.hooks.dispatch`; through pluggy they were 5 µs). The whole
run is measured by ``benchmarks/bench_runners.py --journal``. What does not change from call to
call is worked out once: the metric names of a dataset (``_KEYS``) and the process id. Nothing
is asked of the data that could be slow, and nothing at all of a builtin value (``_SIZELESS``):
``shape`` only counts when it is made of plain integers (a Dask frame's unknown length is not
computed), and a pandas frame's size is its columns' buffers (``deep=False``).
"""

from __future__ import annotations

import operator
import os
from collections.abc import Mapping
from time import perf_counter
from typing import Any, NamedTuple

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

    __slots__ = ("_key", "loading", "saving")

    def __init__(self, node: Node) -> None:
        super().__init__(node)
        # When each load and save under way began, by the dataset's name as the hook gave it.
        self.loading: dict[str, float] = {}
        self.saving: dict[str, float] = {}
        self._key = id(node)

    def __enter__(self) -> dict[str, float]:
        _OPEN[self._key] = self
        return super().__enter__()

    def __exit__(self, *exc: object) -> None:
        super().__exit__(*exc)
        _OPEN.pop(self._key, None)
        self.metrics["pid"] = _PID[0]


# The nodes being measured in this process, by id(node): the hooks receive the very node
# object the shell runs (even on the I/O threads of asynchronous mode).
_OPEN: dict[int, _Open] = {}

# This process's id, read once (``os.getpid`` is a system call) and again in a forked child.
_PID = [float(os.getpid())]
if hasattr(os, "register_at_fork"):  # pragma: no branch - not on Windows
    os.register_at_fork(after_in_child=lambda: _PID.__setitem__(0, float(os.getpid())))

journal_meter = _Open
"""The journal's meter: ``journal_meter(node)`` measures ``node``'s run (CPU time, peak
memory, its datasets, its attempts, the pid) and fills the outcome's metrics."""


class _Keys(NamedTuple):
    """The metric names of one dataset (by its base name: a transcoded name is stripped)."""

    load: str
    save: str
    rows: str
    columns: str
    bytes: str


# The metric names by dataset name as the hooks receive it: made once per name, not per call.
# A long-lived process that runs many different pipelines starts over past _KEYS_LIMIT names.
_KEYS: dict[str, _Keys] = {}
_KEYS_LIMIT = 100_000


def _keys_of(name: str) -> _Keys:
    keys = _KEYS.get(name)
    if keys is None:
        if len(_KEYS) >= _KEYS_LIMIT:
            _KEYS.clear()
        base = strip_transcoding(name)
        keys = _KEYS[name] = _Keys(*(f"{kind}:{base}" for kind in _DATASET_KEYS))
    return keys


# Values that have no shape and no size in memory to ask for (the common case of small nodes):
# builtin types, which have none of ``shape``, ``nbytes``, ``memory_usage`` (their subclasses
# are other types, and are asked).
_SIZELESS = frozenset(
    {type(None), bool, int, float, complex, str, bytes, list, tuple, dict, set, frozenset}
)


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


def _record_data(metrics: dict[str, float], keys: _Keys, data: object, saved: bool) -> None:
    rows, columns = _shape(data)
    if rows is not None:
        # The chunks of a generator's output add up.
        metrics[keys.rows] = metrics.get(keys.rows, 0.0) + rows if saved else float(rows)
    if columns is not None:
        metrics[keys.columns] = float(columns)
    if saved:
        size = _memory(data)
        if size is not None:
            metrics[keys.bytes] = metrics.get(keys.bytes, 0.0) + size


def _ended(ended: float, node: Node, name: str, data: object, saved: bool) -> None:
    """A load or save of ``name`` by ``node`` ended at ``ended``: add its time and its sizes."""
    record = _OPEN.get(id(node))
    if record is None:
        return
    began = (record.saving if saved else record.loading).pop(name, None)
    if began is None:
        return
    keys = _keys_of(name)
    metrics = record.metrics
    key = keys.save if saved else keys.load
    metrics[key] = metrics.get(key, 0.0) + (ended - began)
    if type(data) not in _SIZELESS:
        _record_data(metrics, keys, data, saved)


class DatasetMeasures:
    """Hook plugin: times every load and save, and notes the data's shape and the attempts."""

    @hook_impl
    def before_dataset_loaded(self, dataset_name: str, node: Node) -> None:
        record = _OPEN.get(id(node))
        if record is not None:
            record.loading[dataset_name] = perf_counter()

    @hook_impl
    def after_dataset_loaded(self, dataset_name: str, data: Any, node: Node) -> None:
        _ended(perf_counter(), node, dataset_name, data, saved=False)

    @hook_impl
    def before_dataset_saved(self, dataset_name: str, node: Node) -> None:
        record = _OPEN.get(id(node))
        if record is not None:
            record.saving[dataset_name] = perf_counter()

    @hook_impl
    def after_dataset_saved(self, dataset_name: str, data: Any, node: Node) -> None:
        _ended(perf_counter(), node, dataset_name, data, saved=True)

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

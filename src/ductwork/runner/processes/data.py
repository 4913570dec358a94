"""The parent's side of a process run's in-memory data: a blob per dataset, and who still reads it.

Free inputs are pickled by the parent before any worker starts; a node's outputs by the worker
that made them, which reports their :class:`~.transport.Blob`. The parent sends a dataset's blob
with every node that loads it, telling the last reader to unlink the segment as soon as it has
mapped it. Released datasets are unlinked at once; after a successful run the free outputs are
copied into the caller's datasets (so they outlive the runner); :meth:`RunData.drop_all` unlinks
what is left, on every exit path.
"""

from __future__ import annotations

import itertools
from collections import Counter
from collections.abc import Collection, Iterable

from ductwork.io import CatalogProtocol
from ductwork.pipeline import Node, Pipeline
from ductwork.runner.processes import transport
from ductwork.runner.processes.protocol import PackedError, pack_error
from ductwork.runner.processes.transport import Blob
from ductwork.runner.validation import Offenders, data_problems, sort_datasets

__all__ = ["RunData"]


class RunData:
    """The datasets of one run, and the blobs of those whose data is in shared memory."""

    def __init__(self, pipeline: Pipeline, catalog: CatalogProtocol, prefix: str) -> None:
        self._prefix = prefix
        self._free_inputs = pipeline.inputs()
        self.datasets, self.memory, self.shipped = sort_datasets(pipeline, catalog)
        """Every dataset of the run; the names of those whose data travels through shared
        memory; the others, which the workers load and save themselves."""
        self._loads_left = Counter(n for node in pipeline.nodes for n in node.inputs)
        self._blobs: dict[str, Blob] = {}
        self._input_errors: dict[str, PackedError] = {}
        self._numbers = itertools.count()

    def export_free_inputs(self, offenders: Offenders) -> None:
        """Pickle the in-memory free inputs into shared memory; name those that cannot be."""
        for name in sorted(self._free_inputs & self.memory):
            try:
                data = self.datasets[name].load()
            except Exception as error:  # raised in the worker, when the node loads it
                self._input_errors[name] = pack_error(error)
                continue
            try:
                self._blobs[name] = transport.dump(data, self._new_segment_name)
            except Exception as error:
                offenders[f"dataset '{name}'"] = data_problems(data, error)

    def _new_segment_name(self) -> str:
        return f"{self._prefix}p_{next(self._numbers)}"

    def for_node(
        self, node: Node, local: Collection[str]
    ) -> tuple[dict[str, Blob], frozenset[str], dict[str, PackedError]]:
        """What a task for ``node`` carries: the blobs of its inputs, those it is the last to
        read (of them and of its ``local`` inputs, which its worker has), the inputs' errors."""
        names, blobs, loads_left = node.input_names, self._blobs, self._loads_left
        inputs = {name: blobs[name] for name in names if name in blobs}
        # The last to read it, counting every time it reads it (a node may read one twice).
        own = names.count if len(names) <= 8 else Counter(names).__getitem__
        takes = frozenset(n for n in (*inputs, *local) if loads_left[n] == own(n))
        errors = self._input_errors
        return inputs, takes, {n: errors[n] for n in names if n in errors} if errors else {}

    def produced(self, outputs: dict[str, Blob]) -> None:
        """A worker reports the blobs of a node's outputs."""
        self._blobs.update(outputs)

    def loaded(self, node: Node) -> None:
        """``node`` succeeded: it loaded its inputs; unlink free inputs nobody reads any more."""
        for name in node.inputs:
            self._loads_left[name] -= 1
            if self._loads_left[name] == 0 and name in self._free_inputs:
                self.drop(name)  # the parent's copy of a free input nobody reads any more

    def live_segments(self) -> set[str]:
        """The segments of the blobs still held."""
        return {blob.segment for blob in self._blobs.values() if blob.segment is not None}

    def drop(self, name: str) -> None:
        """Forget ``name``'s blob and unlink its segment."""
        blob = self._blobs.pop(name, None)
        if blob is not None and blob.segment is not None:
            transport.unlink(blob.segment)

    def release(self, names: Iterable[str], catalog: CatalogProtocol) -> None:
        """Unlink the released datasets' segments; release them in the caller's catalog."""
        for name in names:
            self.drop(name)
            catalog.release(name)

    def collect(self, names: Collection[str]) -> None:
        """Copy the in-memory free outputs out of shared memory into the caller's datasets."""
        for name in sorted(names):
            blob = self._blobs.get(name)
            if blob is not None:
                self.datasets[name].save(transport.load(blob))
                self.drop(name)

    def drop_all(self) -> None:
        """Unlink every segment still held."""
        for name in list(self._blobs):
            self.drop(name)

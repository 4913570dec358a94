"""Which nodes of an incremental run run, which are skipped, and the exact reason for each.

A node's *key* is a Merkle hash of its code fingerprint (:mod:`~ductwork.incremental.code`),
its signature (input and output names), the Python version, and the identity of each input:

- a persisted input: its content hash (stamp first, :mod:`~ductwork.incremental.files`);
- a free input held in memory (``params:`` values, data put in the catalog): its value hash;
- an input produced by another node of the pipeline: that node's output identity, which is the
  content hash of what it wrote (a file, or a value still in memory after its stage) or, when
  the value is not observable, ``k:`` and the producer's key (sound: equal keys, equal outputs).

A node is skipped when its key equals the key of its last successful run *and* every persisted
output still has the content then recorded. Anything that cannot be hashed soundly, a node
declared not cacheable, a missing record: the node runs.

Early cut-off: when a node with an earlier record runs, the nodes downstream of it are *pending*
until it has finished; then its new output identities are known, and a downstream node whose key
is unchanged (the re-run produced what it produced before) is still skipped. The run driver
(:mod:`~ductwork.incremental.session`) runs the pipeline in stages for that.

A skipped node's in-memory outputs do not exist in this run: when a node that runs needs one,
the skipped producer runs too (its key is unchanged, so it recomputes what it produced before).
"""

from __future__ import annotations

import secrets
import sys
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import xxhash

from ductwork.incremental.code import CodeFingerprint, Fingerprinter
from ductwork.incremental.explain import KEY_VERSION, diff_reasons, shown_value
from ductwork.incremental.files import FileIdentities, dataset_location
from ductwork.incremental.store import NodeRecord, Store
from ductwork.incremental.values import Unhashable
from ductwork.io import CatalogProtocol, MemoryDataset
from ductwork.io.travel import is_in_memory
from ductwork.pipeline import Node, Pipeline
from ductwork.pipeline.transcoding import strip_transcoding

__all__ = ["NOT_CACHEABLE_TAG", "Decision", "Planner"]

NOT_CACHEABLE_TAG = "not_cacheable"
RUN, SKIP, PENDING = "run", "skip", "pending"
# Dataset options that change what is read or written but that a dataset's repr may not show.
_OPTION_ATTRIBUTES = ("_load_args", "_save_args", "_open_args_load", "_open_args_save", "_fs_args")
_PYTHON = f"{sys.implementation.name} {sys.version.split()[0]}"


@dataclass
class Decision:
    """What happens to one node, and why (``reason`` is what ``--explain`` prints)."""

    node: Node
    action: str = PENDING
    reason: str = ""
    key: str | None = None
    manifest: dict[str, list[str]] = field(default_factory=dict)
    finished: bool = False
    outputs: dict[str, str] = field(default_factory=dict)


class Planner:
    """Decides, node by node in topological order, as far as what is known allows."""

    def __init__(
        self,
        pipeline: Pipeline,
        catalog: CatalogProtocol,
        store: Store,
        *,
        need_memory_outputs: bool = False,
        fingerprinter: Fingerprinter | None = None,
    ) -> None:
        """Prepare the decisions.

        Args:
            pipeline: The nodes of the run.
            catalog: The run's catalog (asked where datasets live, and for in-memory inputs).
            store: The records of earlier runs.
            need_memory_outputs: The caller wants the pipeline's free in-memory outputs (an API
                run returns them), so the nodes producing them run; the command line does not.
            fingerprinter: Describes code (one per run; made here when not given).
        """
        self.pipeline = pipeline
        self.catalog = catalog
        self.store = store
        self.files = FileIdentities(store)
        self._fingerprinter = fingerprinter or Fingerprinter()
        self._need_memory = need_memory_outputs
        self._graph = pipeline.graph
        self._records = store.records(node.name for node in pipeline.nodes)
        self.decisions = {node.name: Decision(node) for node in self._graph.nodes}
        self._codes: dict[str, CodeFingerprint] = {}
        self._free_inputs: dict[str, tuple[str | None, str]] = {}
        self._location_cache: dict[str, tuple[Any, str, str] | None] = {}
        self._producer_cache: dict[str, list[Node]] = {}
        self._free_outputs = {strip_transcoding(name) for name in pipeline.outputs()}

    # ---- deciding -----------------------------------------------------------------------

    def decide(self) -> None:
        """Decide every pending node whose producers are decided (or finished)."""
        for node in self._graph.nodes:
            decision = self.decisions[node.name]
            if decision.action == PENDING:
                self._decide(decision)
        self._force_memory_producers()

    def runnable(self) -> list[Node]:
        """The nodes decided to run, not run yet, with no pending node upstream."""
        blocked: set[str] = set()
        ready = []
        for node in self._graph.nodes:
            decision = self.decisions[node.name]
            producers = self._producers(node)
            if decision.action == PENDING or any(p.name in blocked for p in producers):
                blocked.add(node.name)
            elif decision.action == RUN and not decision.finished:
                ready.append(node)
        return ready

    def _decide(self, decision: Decision) -> None:
        node = decision.node
        waiting = [p for p in self._producers(node) if self._blocks(p, node)]
        if waiting:
            decision.reason = (
                f"runs unless upstream {waiting[0].name} re-runs to the same output "
                "(decided once it has run)"
            )
            return
        reason = self._reason_to_run(decision)
        if reason is not None:
            self._run(decision, reason)
            return
        record = self._records[node.name]
        decision.action = SKIP
        decision.outputs = dict(record.outputs)
        reran = [p.name for p in self._producers(node) if self.decisions[p.name].action == RUN]
        decision.reason = (
            f"unchanged: upstream {reran[0]} re-ran to the same output (run {record.run_id})"
            if reran
            else f"unchanged since run {record.run_id}"
        )

    def _reason_to_run(self, decision: Decision) -> str | None:
        node = decision.node
        running = [p for p in self._producers(node) if self._running(p)]
        if running:
            return f"upstream {running[0].name} runs"
        code = self._code(node)
        declared = self._never_cached(node, code)
        if declared:
            return declared
        decision.manifest, unsound = self._manifest(node, code)
        if unsound:
            return f"cannot be cached: {unsound[0]}"
        decision.key = _key(decision.manifest)
        record = self._records.get(node.name)
        if record is None:
            return "no earlier run recorded"
        if record.key != decision.key:
            reasons = diff_reasons(node, record.manifest, decision.manifest)
            return "; ".join(reasons) or "its key changed"
        return self._stale_output(node, record)

    @staticmethod
    def _never_cached(node: Node, code: CodeFingerprint) -> str | None:
        if not code.cacheable or NOT_CACHEABLE_TAG in node.tags:
            return "not cacheable (declared)"
        if not node.outputs:
            return "no outputs: it runs for its side effects"
        return None

    @staticmethod
    def _run(decision: Decision, reason: str) -> None:
        decision.action = RUN
        decision.reason = reason

    def _running(self, producer: Node) -> bool:
        decision = self.decisions[producer.name]
        return decision.action == RUN and not decision.finished

    def _blocks(self, producer: Node, node: Node) -> bool:
        """Whether ``node`` must wait for ``producer`` to finish before it can be decided."""
        decision = self.decisions[producer.name]
        if decision.action == PENDING:
            return True
        if decision.action != RUN or decision.finished:
            return False
        # Cut-off is possible only against an earlier output of the producer.
        record = self._records.get(producer.name)
        return record is not None and bool(record.outputs)

    def _stale_output(self, node: Node, record: NodeRecord) -> str | None:
        for name in node.outputs:
            location = self._location(name)
            if location is None:
                if self.is_memory(name):
                    if self._need_memory and strip_transcoding(name) in self._free_outputs:
                        return f"its in-memory output {name} is a result of the run"
                    continue
                return f"output {name} cannot be checked (no file behind it)"
            if self._persisted_identity(name, location) != record.outputs.get(name):
                return f"output {name} changed or is missing since run {record.run_id}"
        return None

    def _force_memory_producers(self) -> None:
        """Skipped nodes whose in-memory outputs a running node reads run too."""
        for node in reversed(self._graph.nodes):
            decision = self.decisions[node.name]
            if decision.action != RUN or decision.finished:
                continue
            for name in node.inputs:
                producer = self._graph.producer(name)
                if producer is None or not self.is_memory(name):
                    continue
                upstream = self.decisions[producer.name]
                if upstream.action == SKIP:
                    self._run(upstream, f"recomputes in-memory {name} for {node.name}")

    # ---- keys ---------------------------------------------------------------------------

    def _code(self, node: Node) -> CodeFingerprint:
        code = self._codes.get(node.name)
        if code is None:
            code = self._codes[node.name] = self._fingerprinter.fingerprint(node.func)
        return code

    def _manifest(
        self, node: Node, code: CodeFingerprint
    ) -> tuple[dict[str, list[str]], list[str]]:
        manifest = {entry.id: [entry.label, entry.digest, entry.shown] for entry in code.entries}
        unsound = list(code.unsound)
        manifest["signature"] = [
            "its dataset names",
            xxhash.xxh3_128_hexdigest(f"{node!r}|{node.streams_outputs}".encode()),
            f"{node.inputs} -> {node.outputs}",
        ]
        manifest["python"] = ["Python", xxhash.xxh3_128_hexdigest(_PYTHON.encode()), _PYTHON]
        manifest["version"] = ["the cache format", KEY_VERSION, KEY_VERSION]
        for name in node.inputs:
            identity, shown = self._input_identity(name)
            if identity is None:
                unsound.append(f"input {name}: {shown}")
                identity = secrets.token_hex(16)
            manifest[f"input {name}"] = [f"input {name}", identity, shown]
        return manifest, unsound

    def _input_identity(self, name: str) -> tuple[str | None, str]:
        producer = self._graph.producer(name)
        if producer is not None:
            decision = self.decisions[producer.name]
            identity = decision.outputs.get(name)
            if identity is None:
                return None, f"upstream {producer.name} recorded no identity for it"
            return identity, f"from {producer.name}"
        known = self._free_inputs.get(name)
        if known is None:
            known = self._free_inputs[name] = self._free_identity(name)
        return known

    def _free_identity(self, name: str) -> tuple[str | None, str]:
        location = self._location(name)
        if location is not None:
            identity = self._persisted_identity(name, location)
            return (None, "its file is missing") if identity is None else (identity, "file")
        dataset = self.catalog.get(name)
        fingerprint = getattr(dataset, "fingerprint", None)
        if callable(fingerprint):
            return "d:" + str(fingerprint()), "dataset fingerprint"
        if not isinstance(dataset, MemoryDataset):
            kind = type(dataset).__name__
            return None, f"a {kind} cannot be fingerprinted (no file behind it)"
        value = self.catalog.load(name)
        try:
            digest = self._fingerprinter.value_digest(value)
        except Unhashable as reason:
            return None, str(reason)
        return "v:" + digest.hex(), shown_value(value)

    def _persisted_identity(self, name: str, location: tuple[Any, str, str]) -> str | None:
        """A persisted dataset's content hash, and how it is read and written (its class and
        options: a changed ``load_args`` changes what a node gets from the same file)."""
        content = self.files.identity(location)
        if content is None:
            return None
        dataset = self.catalog.get(name)
        options = [getattr(dataset, attribute, None) for attribute in _OPTION_ATTRIBUTES]
        config = f"{type(dataset).__module__}.{type(dataset).__qualname__}|{dataset!r}|{options!r}"
        return f"f:{content}:{xxhash.xxh3_64_hexdigest(config.encode())}"

    def _producers(self, node: Node) -> list[Node]:
        found = self._producer_cache.get(node.name)
        if found is None:
            found = self._producer_cache[node.name] = []
            for name in node.inputs:
                producer = self._graph.producer(name)
                if producer is not None and producer not in found:
                    found.append(producer)
        return found

    def _location(self, name: str) -> tuple[Any, str, str] | None:
        if name not in self._location_cache:
            if name not in self.catalog or self.is_memory(name):
                self._location_cache[name] = None
            else:
                self._location_cache[name] = dataset_location(self.catalog.get(name))
        return self._location_cache[name]

    def is_memory(self, name: str) -> bool:
        return name not in self.catalog or is_in_memory(self.catalog.get(name))

    # ---- after running ------------------------------------------------------------------

    def finished(self, nodes: Iterable[Node], run_id: str | None) -> None:
        """Record nodes that ran successfully (in topological order): keys and outputs."""
        done = {node.name for node in nodes}
        records = []
        for node in self._graph.nodes:
            decision = self.decisions[node.name]
            if node.name not in done or decision.finished:
                continue
            decision.finished = True
            record = self._record(decision, run_id)
            if record is not None:
                records.append(record)
        self.files.flush()
        self.store.record(records)

    def _record(self, decision: Decision, run_id: str | None) -> NodeRecord | None:
        node = decision.node
        code = self._code(node)
        manifest, unsound = self._manifest(node, code)
        cacheable = self._never_cached(node, code) is None and not unsound
        key = _key(manifest) if cacheable else "nocache:" + secrets.token_hex(16)
        decision.key = key
        for name in node.outputs:
            decision.outputs[name] = self._output_identity(name, key)
        if not cacheable:
            return None
        return NodeRecord.of(node.name, key, manifest, decision.outputs, run_id, time.time())

    def _output_identity(self, name: str, key: str) -> str:
        location = self._location(name)
        if location is not None:
            identity = self._persisted_identity(name, location)
            return identity if identity is not None else "missing:" + key
        if name in self.catalog:
            dataset = self.catalog.get(name)
            data = getattr(dataset, "_data", None)
            if isinstance(dataset, MemoryDataset) and data is not None:
                try:
                    return "v:" + self._fingerprinter.value_digest(data).hex()
                except Unhashable:
                    pass
        return "k:" + key


def _key(manifest: dict[str, list[str]]) -> str:
    hasher = xxhash.xxh3_128()
    for entry_id in sorted(manifest):
        hasher.update(f"{entry_id}\x00{manifest[entry_id][1]}\x00".encode())
    return hasher.hexdigest()

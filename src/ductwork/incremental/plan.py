"""Which nodes of an incremental run run, which are skipped, and the exact reason for each.

A node's *key* is a Merkle hash of its code fingerprint (:mod:`~ductwork.incremental.code`),
its signature (input and output names), the Python version, and the identity of each input:

- a persisted input: its content hash (stamp first, :mod:`~ductwork.incremental.files`);
- a free input held in memory (``params:`` values, data put in the catalog): its value hash;
- an input produced by another node of the pipeline: that node's output identity, which is the
  content hash of what it wrote (a file, or a value in memory as its node finished) or, when
  the value is not observable, ``k:`` and the producer's key (sound: equal keys, equal outputs).

A node is skipped when its key equals the key of its last successful run *and* every persisted
output still has the content then recorded. Anything that cannot be hashed soundly, a node
declared not cacheable, a missing record: the node runs.

Early cut-off: when a node with an earlier record runs, the nodes downstream of it are *pending*
until it has finished; then its new output identities are known, and a downstream node whose key
is unchanged (the re-run produced what it produced before) is still skipped. Pending nodes are
decided in the run loop, when they become ready (:meth:`Planner.gate`; the run driver is
:mod:`~ductwork.incremental.session`).

A skipped node's in-memory outputs do not exist in this run: when a node that runs needs one,
the skipped producer runs too (its key is unchanged, so it recomputes what it produced before).
So a node with in-memory outputs is skipped only when every reader of them is decided skipped
too, and so on down (:meth:`Planner.settled`); a reader still pending makes it run.
"""

from __future__ import annotations

import secrets
import sys
import time
from collections.abc import Iterable, Mapping
from typing import Any

import xxhash

from ductwork.incremental.code import CodeFingerprint, Fingerprinter
from ductwork.incremental.explain import KEY_VERSION, diff_reasons, shown_value
from ductwork.incremental.files import FileIdentities, dataset_location
from ductwork.incremental.store import NodeRecord, Store
from ductwork.incremental.values import Unhashable
from ductwork.io import CatalogProtocol, MemoryDataset
from ductwork.io._protocols import dataset_options, held_data, memory_data
from ductwork.io.travel import is_in_memory
from ductwork.pipeline import Node, Pipeline
from ductwork.pipeline.transcoding import strip_transcoding

__all__ = ["NOT_CACHEABLE_TAG", "Decision", "OutputDigests", "Planner"]

NOT_CACHEABLE_TAG = "not_cacheable"
RUN, SKIP, PENDING = "run", "skip", "pending"
_PYTHON = f"{sys.implementation.name} {sys.version.split()[0]}"


class Decision:
    """What happens to one node, and why (``reason`` is what ``--explain`` prints)."""

    # A plain class with slots, not a dataclass (a dataclass costs about a millisecond to
    # make at import, and every incremental run imports this module).
    __slots__ = ("action", "finished", "key", "manifest", "node", "outputs", "passed", "reason")

    def __init__(self, node: Node) -> None:
        self.node = node
        self.action = PENDING
        self.reason = ""
        self.key: str | None = None
        self.manifest: dict[str, list[str]] = {}
        self.finished = False
        self.outputs: dict[str, str] = {}
        self.passed = False  # skipped in the run loop (it can no longer be made to run)

    def __repr__(self) -> str:
        return f"Decision({self.node.name!r}, {self.action}: {self.reason})"


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
        self._memory_cache: dict[str, bool] = {}
        self._unsaved: list[NodeRecord] = []
        self._settled_first: set[str] = set()
        self._held_before: dict[str, dict[str, int]] = {}
        self._free_outputs = {strip_transcoding(name) for name in pipeline.outputs()}

    # ---- deciding -----------------------------------------------------------------------

    def decide(self) -> None:
        """Decide every pending node whose producers are decided (or finished)."""
        for node in self._graph.nodes:
            decision = self.decisions[node.name]
            if decision.action == PENDING:
                self._decide(decision)
        self._force_memory_producers()

    def to_run(self) -> list[Node]:
        """The nodes to hand to the run loop: all but the skips already settled (those need
        nothing from this run, and nothing in it needs their in-memory outputs). Call after the
        first :meth:`decide`."""
        settled = self._settled()
        self._settled_first = {name for name, done in settled.items() if done}
        return [node for node in self._graph.nodes if not settled[node.name]]

    def gate(self, node: Node, can_wait: bool = False) -> tuple[bool | None, list[Decision]]:
        """Decide ``node`` for good, now that it is ready (everything upstream has finished or
        was skipped): True skips it, False runs it, None (only when ``can_wait``) means "ask
        again once another node has finished". Also returns the decisions that changed.

        A skip whose in-memory outputs are read downstream must be final for those readers too
        (a reader that ran would find the data missing), so it is taken only when every such
        reader, and theirs, is skipped on grounds that can no longer change: nodes that have
        finished or were skipped, skips settled before the run, and one another. When a reader
        still waits on a node that runs elsewhere in the graph (not downstream of this one),
        the answer is to wait for it; a reader that waits on this node's own descendants makes
        this node run (it recomputes what it produced before: a miss, never a false hit).
        """
        decision = self.decisions[node.name]
        if decision.action == RUN:
            self._held_before[node.name] = self._held_objects(node)
            return False, []
        before = {name: (d.action, d.reason) for name, d in self.decisions.items()}
        self.decide()  # this node, and what a skip of it lets be decided downstream
        verdict: bool | None = False
        if decision.action == SKIP:
            unsure = self._unsure_reader(node)
            if unsure is None:
                decision.passed = True
                verdict = True
            elif can_wait and self._worth_waiting(node):
                verdict = None
            else:
                name, reader = unsure
                self._run(
                    decision,
                    f"recomputes in-memory {name} for {reader} (not decided before this node)",
                )
        if verdict is False:
            self._held_before[node.name] = self._held_objects(node)
        changed = [d for n, d in self.decisions.items() if before[n] != (d.action, d.reason)]
        return verdict, changed

    def _held_objects(self, node: Node) -> dict[str, int]:
        """The objects (by id) that this process's catalog holds for ``node``'s in-memory
        outputs now. After the node, a new object there is what it produced here; the same
        one means the data was produced elsewhere (a worker process, a Dask worker) and what
        is held is not it."""
        held = {}
        for name in node.outputs:
            data = memory_data(self.catalog.get(name)) if name in self.catalog else None
            if data is not None:
                held[name] = id(data)
        return held

    def _facts(self) -> set[str]:
        """Nodes whose decision and outputs can no longer change."""
        return self._settled_first | {
            name for name, d in self.decisions.items() if d.finished or d.passed
        }

    def _unsure_reader(self, node: Node) -> tuple[str, str] | None:
        """A reader of ``node``'s in-memory outputs (dataset, reader) whose skip is not final
        (see :meth:`gate`); None when every one is."""
        readers = [
            (name, reader)
            for name in node.outputs
            if self.is_memory(name)
            for reader in self._graph.consumers(name)
        ]
        if not readers:
            return None
        fixed = self._facts() | {node.name}
        final = {n.name for n in self._graph.nodes if self.decisions[n.name].action == SKIP}
        final -= fixed
        changed = True
        while changed:  # the largest set of skips that facts and one another hold up
            changed = False
            for other in self._graph.nodes:
                if other.name in final and not self._held(other, fixed | final):
                    final.discard(other.name)
                    changed = True
        for name, reader in readers:
            if reader.name not in final and reader.name not in fixed:
                return name, reader.name
        return None

    def _held(self, node: Node, grounds: set[str]) -> bool:
        if any(p.name not in grounds for p in self._producers(node)):
            return False
        return all(
            reader.name in grounds
            for name in node.outputs
            if self.is_memory(name)
            for reader in self._graph.consumers(name)
        )

    def _worth_waiting(self, node: Node) -> bool:
        """Whether a node that runs (or may), not downstream of ``node``, has yet to finish:
        once it has, the readers of ``node`` may be decided."""
        below = self._descendants(node)
        return any(
            not d.finished and d.action != SKIP and name not in below and name != node.name
            for name, d in self.decisions.items()
        )

    def _descendants(self, node: Node) -> set[str]:
        found: set[str] = set()
        todo = [node]
        while todo:
            current = todo.pop()
            for name in current.outputs:
                for reader in self._graph.consumers(name):
                    if reader.name not in found:
                        found.add(reader.name)
                        todo.append(reader)
        return found

    def _settled(self) -> dict[str, bool]:
        """Per node: skipped for good, that is decided skipped with every reader of its
        in-memory outputs settled too (else a reader that runs would find them missing)."""
        settled: dict[str, bool] = {}
        for node in reversed(self._graph.nodes):  # readers before their producers
            settled[node.name] = self.decisions[node.name].action == SKIP and all(
                settled[reader.name]
                for name in node.outputs
                if self.is_memory(name)
                for reader in self._graph.consumers(name)
            )
        return settled

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
                if upstream.action == SKIP and not upstream.passed:
                    # (A passed skip had only settled readers: none of them runs.)
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
        options = dataset_options(dataset)
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

    def output_digests(self) -> OutputDigests:
        """What hashes the in-memory outputs of the nodes of this run where they run (the
        run's shell calls it: see :class:`OutputDigests`)."""
        names = {name for name in self.pipeline.datasets() if self.is_memory(name)}
        return OutputDigests(frozenset(names))

    def is_memory(self, name: str) -> bool:
        """Whether ``name`` lives in memory (undeclared, or an in-memory dataset); asked once
        per name (the run adds datasets for undeclared names, in memory too)."""
        known = self._memory_cache.get(name)
        if known is None:
            known = self._memory_cache[name] = name not in self.catalog or is_in_memory(
                self.catalog.get(name)
            )
        return known

    # ---- after running ------------------------------------------------------------------

    def finished(
        self,
        nodes: Iterable[Node],
        run_id: str | None,
        *,
        save: bool = True,
        digests: Mapping[str, str] | None = None,
    ) -> None:
        """Record nodes that ran successfully: keys and the identities of their outputs (taken
        now, while in-memory outputs are still held, or given in ``digests``: the hashes
        :class:`OutputDigests` took where the node ran). With ``save=False`` the records wait
        for the next :meth:`save`."""
        for node in nodes:
            decision = self.decisions[node.name]
            if decision.finished:
                continue
            decision.finished = True
            record = self._record(decision, run_id, digests or {})
            if record is not None:
                self._unsaved.append(record)
        if save:
            self.save()

    def save(self) -> None:
        """Write the records and file stamps not saved yet (one transaction each)."""
        records, self._unsaved = self._unsaved, []
        self.files.flush()
        self.store.record(records)

    def _record(
        self, decision: Decision, run_id: str | None, digests: Mapping[str, str]
    ) -> NodeRecord | None:
        node = decision.node
        code = self._code(node)
        manifest, unsound = self._manifest(node, code)
        cacheable = self._never_cached(node, code) is None and not unsound
        key = _key(manifest) if cacheable else "nocache:" + secrets.token_hex(16)
        decision.key = key
        before = self._held_before.pop(node.name, None)
        for name in node.outputs:
            digest = digests.get(name)  # hashed where the node ran
            decision.outputs[name] = digest or self._output_identity(name, key, before)
        if not cacheable:
            return None
        return NodeRecord.of(node.name, key, manifest, decision.outputs, run_id, time.time())

    def _output_identity(self, name: str, key: str, before: dict[str, int] | None) -> str:
        """What a node that just finished wrote to ``name``: a file's content, an in-memory
        value's hash when this process holds the value the node produced (a new object since
        the node was handed out), else ``k:`` and the node's key (sound: equal keys, equal
        outputs)."""
        location = self._location(name)
        if location is not None:
            identity = self._persisted_identity(name, location)
            return identity if identity is not None else "missing:" + key
        if name in self.catalog and before is not None:
            data = memory_data(self.catalog.get(name))  # uncopied, while it is still held
            if data is not None and before.get(name) != id(data):
                try:
                    return "v:" + self._fingerprinter.value_digest(data).hex()
                except Unhashable:
                    pass
        return "k:" + key


class OutputDigests:
    """Hashes a node's in-memory outputs where it ran, right after it succeeded (the run's
    :class:`~ductwork.execution.NodeShell` calls it; the hashes travel back in the outcome's
    ``digests``). So early cut-off through in-memory data works on every runner: in a worker
    process or on a Dask worker the parent never holds that data.

    What is hashed is the object the node saved there in this run (a ``MemoryDataset``'s data,
    a worker's stand-in's ``held()``: see :func:`ductwork.io._protocols.held_data`). A
    generator node's outputs are not hashed (one with no chunk saves nothing, and a dataset
    would still hold older data), nor is anything that cannot be hashed soundly: the parent
    then records ``k:`` and the node's key, which is always sound.
    """

    def __init__(self, names: frozenset[str]) -> None:
        self.names = names  # the in-memory datasets of the run

    def __call__(self, node: Node, catalog: CatalogProtocol) -> dict[str, str]:
        if node.streams_outputs:
            return {}
        digests = {}
        wanted = [name for name in node.outputs if name in self.names]
        fingerprinter = Fingerprinter() if wanted else None  # one per call: thread-safe
        for name in wanted:
            try:
                data = held_data(catalog.get(name)) if name in catalog else None
                if data is not None and fingerprinter is not None:
                    digests[name] = "v:" + fingerprinter.value_digest(data).hex()
            except Exception:  # Unhashable, or a value whose hashing fails: the parent
                continue  # records k: and the node's key
        return digests


def _key(manifest: dict[str, list[str]]) -> str:
    hasher = xxhash.xxh3_128()
    for entry_id in sorted(manifest):
        hasher.update(f"{entry_id}\x00{manifest[entry_id][1]}\x00".encode())
    return hasher.hexdigest()

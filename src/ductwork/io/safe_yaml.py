"""The one way ductwork reads YAML: the safe loader, with limits checked before anything grows.

PyYAML's ``safe_load`` refuses Python tags but not hostile shapes. Two are cheap to write and
costly to read:

- **Aliases that nest** (``b: [*a, *a]``, ``c: [*b, *b]``, ...): a few hundred bytes describe
  a document of billions of nodes. PyYAML builds it as shared references, so loading is cheap;
  whatever walks it next (merging parameters, naming ``params:`` datasets, a configuration
  library that copies it) expands it and grows memory without bound.
- **Deep nesting** (``[[[[...`` 10 KB long): PyYAML composes nodes recursively and ends in a
  ``RecursionError`` deep inside itself.

So the loader composes the document (PyYAML's node graph, before any Python object is built)
under three limits: the size of the input, the depth of nesting, and the number of nodes the
document holds **once every alias is expanded**. The expanded size of each node is counted
once, bottom up, when it is composed; an alias adds the size its anchor already has, so the
count costs O(written nodes) and the limit is hit before anything is expanded. An alias that
refers to a node still being composed (a document that contains itself) is refused too: nothing
that walks it would ever end.

Every failure raises :class:`~ductwork.exceptions.YAMLFileError` naming the file, the line and
column, and the key path where it happened. The message never quotes the file's text: a line of a
credentials file is a secret.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, NoReturn

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from ductwork.exceptions import YAMLFileError

__all__ = ["YAMLLimits", "load_yaml", "load_yaml_file"]


@dataclass(frozen=True)
class YAMLLimits:
    """What a YAML document may hold before it is refused.

    Attributes:
        max_bytes: Size of the input, in bytes of UTF-8 (16 MiB by default).
        max_depth: Nesting of mappings and sequences, counted through aliases (100).
        max_alias_nodes: Nodes the aliases may add to the document once expanded (100,000):
            far more than reusing a block of defaults takes, far less than a file of nested
            aliases would grow to. A document without aliases is bounded by its size alone.
    """

    max_bytes: int = 16 * 1024 * 1024
    max_depth: int = 100
    max_alias_nodes: int = 100_000


DEFAULT_LIMITS = YAMLLimits()


def load_yaml_file(
    path: str | os.PathLike[str],
    *,
    what: str | None = None,
    limits: YAMLLimits = DEFAULT_LIMITS,
) -> Any:
    """Read and load the YAML file at ``path`` (None for an empty file).

    Args:
        path: The file.
        what: What the file is for, named in errors (``"catalog"``: "The catalog file ...").
        limits: The size, depth and alias-expansion limits.

    Raises:
        YAMLFileError: The file cannot be read, is not valid YAML, or exceeds ``limits``.
    """
    try:
        with Path(path).open("rb") as stream:
            data = stream.read(limits.max_bytes + 1)
    except OSError as error:
        problem = f"cannot be read: {error.strerror or error}."
        raise YAMLFileError(str(path), problem, what=what) from error
    return load_yaml(data, source=str(path), what=what, limits=limits)


def load_yaml(
    content: str | bytes | IO[str] | IO[bytes],
    *,
    source: str,
    what: str | None = None,
    limits: YAMLLimits = DEFAULT_LIMITS,
) -> Any:
    """Load one YAML document with the safe loader, under ``limits``.

    Args:
        content: The text, its bytes, or an open stream (read up to the size limit).
        source: What to call the input in errors: usually its path.
        what: What the input is for, named in errors (``"parameters"``).
        limits: The size, depth and alias-expansion limits.

    Raises:
        YAMLFileError: Not valid YAML, or beyond a limit; names ``source`` and the place.
    """
    try:
        return _load(content, limits)
    except _Refusal as refusal:
        raise YAMLFileError(
            source,
            refusal.problem,
            line=refusal.line,
            column=refusal.column,
            key=refusal.key,
            what=what,
        ) from None


class _Refusal(Exception):
    def __init__(self, problem: str, mark: Any = None, key: str | None = None) -> None:
        super().__init__(problem)
        self.problem = problem
        self.line = mark.line + 1 if mark is not None else None
        self.column = mark.column + 1 if mark is not None else None
        self.key = key


def _load(content: str | bytes | IO[str] | IO[bytes], limits: YAMLLimits) -> Any:
    text = _bounded_text(content, limits)
    try:
        loader = _LimitedLoader(text, limits)  # the reader checks every character here
    except yaml.reader.ReaderError as error:
        raise _Refusal(
            f"is not valid YAML (ReaderError): unacceptable character #x{error.character:04x} "
            f"at character {error.position + 1}: {error.reason}."
        ) from None
    try:
        return loader.get_single_data()
    except yaml.MarkedYAMLError as error:
        # Only the descriptions and the place: str(error) would quote the offending line.
        description = "; ".join(part for part in (error.context, error.problem) if part)
        problem = f"is not valid YAML ({type(error).__name__}): {description or 'malformed'}."
        raise _Refusal(problem, error.problem_mark or error.context_mark) from None
    except yaml.YAMLError as error:
        raise _Refusal(f"is not valid YAML: {type(error).__name__}.") from None
    except ValueError as error:
        # PyYAML's scanner lets an escape past U+10FFFF ("\U00110000") fail in chr() as a
        # bare ValueError; the reader is then still on the scalar's line.
        raise _Refusal(f"is not valid YAML: {error}.", loader.get_mark()) from None
    finally:
        loader.dispose()


def _bounded_text(content: str | bytes | IO[str] | IO[bytes], limits: YAMLLimits) -> str:
    data = content if isinstance(content, (str, bytes)) else content.read(limits.max_bytes + 1)
    raw = data.encode("utf-8") if isinstance(data, str) else data
    if len(raw) > limits.max_bytes:
        raise _Refusal(f"is larger than the limit of {limits.max_bytes:,} bytes for a YAML file.")
    if isinstance(data, str):
        return data
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise _Refusal(f"is not UTF-8 text (byte {error.start}: {error.reason}).") from None


class _LimitedLoader(yaml.SafeLoader):
    """PyYAML's safe loader, measuring each node's expanded size and depth as it is composed."""

    def __init__(self, text: str, limits: YAMLLimits) -> None:
        super().__init__(text)
        self._limits = limits
        self._sizes: dict[int, tuple[int, int]] = {}  # id(node) -> (expanded nodes, depth)
        self._keys: list[str] = []
        self._open = 0  # the collections being composed around the current node
        self._written = 0  # nodes composed so far, aliases not counted

    def compose_node(self, parent: Node | None, index: Any) -> Node | None:
        self._keys.append(_key_name(index))
        try:
            if self.check_event(yaml.AliasEvent):
                return self._alias()
            event = self.peek_event()  # type: ignore[no-untyped-call]
            nested = isinstance(event, (yaml.SequenceStartEvent, yaml.MappingStartEvent))
            if nested:
                # Refused before PyYAML recurses any deeper.
                if self._open >= self._limits.max_depth:
                    self._refuse(event.start_mark, f"nests deeper than {self._depth_limit}")
                self._open += 1
            written_before = self._written
            self._written += 1
            try:
                node = super().compose_node(parent, index)
            finally:
                self._open -= nested
            if node is not None:
                self._measure(node, self._written - written_before)
            return node
        finally:
            self._keys.pop()

    def _alias(self) -> Node | None:
        event = self.peek_event()  # type: ignore[no-untyped-call]
        node = super().compose_node(None, 0)  # an alias ignores where it is
        if node is None or id(node) not in self._sizes:
            self._refuse(
                event.start_mark,
                f"holds alias *{event.anchor} inside the node it names, so it never ends",
            )
        _, depth = self._sizes[id(node)]
        if self._open + depth > self._limits.max_depth:
            self._refuse(
                event.start_mark,
                f"nests (through alias *{event.anchor}) deeper than {self._depth_limit}",
            )
        return node

    def _measure(self, node: Node, written: int) -> None:
        size, depth = 1, 0
        if isinstance(node, (MappingNode, SequenceNode)):
            depth = 1
            for child in _children(node):
                child_size, child_depth = self._sizes[id(child)]
                size += child_size
                depth = max(depth, child_depth + 1)
            # What aliases add inside this node is a lower bound of what they add in all.
            if size - written > self._limits.max_alias_nodes:
                self._refuse(
                    node.start_mark,
                    f"has aliases that expand to more than the limit of "
                    f"{self._limits.max_alias_nodes:,} added nodes",
                )
        self._sizes[id(node)] = (size, depth)

    def construct_object(self, node: Node, deep: bool = False) -> Any:
        try:
            return super().construct_object(node, deep)
        except ValueError as error:  # a scalar no Python value has ("2024-13-01")
            raise _Refusal(f"is not valid YAML: {error}.", node.start_mark) from None

    @property
    def _depth_limit(self) -> str:
        return f"the limit of {self._limits.max_depth} levels"

    def _refuse(self, mark: Any, problem: str) -> NoReturn:
        raise _Refusal(f"{problem}.", mark, _key_path(self._keys))


def _children(node: Node) -> Iterator[Node]:
    if isinstance(node, SequenceNode):
        yield from node.value
    else:
        for key, value in node.value:
            yield key
            yield value


def _key_path(keys: list[str]) -> str | None:
    keys = [key for key in keys if key]
    if len(keys) > 12:  # a path 10 KB deep helps nobody: its start and its length
        keys = [*keys[:6], f"[...{len(keys) - 6} more levels]"]
    path = ""
    for key in keys:
        if key.startswith("["):
            path += key
        elif key:
            path += f".{key}" if path else key
    return path or None


def _key_name(index: Any) -> str:
    if isinstance(index, ScalarNode):
        return str(index.value)
    if isinstance(index, int) and not isinstance(index, bool):
        return f"[{index}]"
    return ""

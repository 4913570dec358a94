"""Dataset factory patterns: ``"{namespace}.{name}_csv"`` matched against dataset names.

The syntax is the subset of the ``parse`` library's that catalogs use: named placeholders
``{name}``, optionally typed ``{name:w}`` (word characters), ``{name:l}`` (letters), ``{name:d}``
(digits) or ``{name:S}`` (no whitespace), and ``{{``/``}}`` for literal braces. A placeholder used
twice must match the same text both times. Matching is of the whole name and case-sensitive;
captured values are always strings.

A small regex compiler is enough for this and spares a dependency.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from ductwork.exceptions import DatasetConfigError

_TOKEN = re.compile(r"\{\{|\}\}|\{([^{}]*)\}|[{}]")
_FIELD = re.compile(r"(?P<name>[A-Za-z_]\w*)(?::(?P<spec>.*))?")
_TYPES = {"": ".+?", "w": r"\w+", "l": "[^\\W\\d_]+", "d": r"\d+", "S": r"\S+"}
_PLACEHOLDER = re.compile(r"\{\{|\}\}|\{([A-Za-z_]\w*)\}")


def is_pattern(name: str) -> bool:
    """Return whether a catalog key is a factory pattern rather than a dataset name."""
    return "{" in name


class Pattern:
    """A compiled factory pattern.

    Attributes:
        text: The pattern as written.
        specificity: Number of literal characters; more specific patterns are tried first.
        placeholders: Number of placeholders.
        matches_any_name: The pattern is one untyped placeholder (``"{default}"``), which
            matches every non-empty name.
    """

    __slots__ = ("_regex", "matches_any_name", "placeholders", "specificity", "text")

    def __init__(self, text: str) -> None:
        self.text = text
        regex, literal_chars, placeholders = self._compile(text)
        self._regex = re.compile(regex, re.DOTALL)
        self.specificity = literal_chars
        self.placeholders = placeholders
        field = _FIELD.fullmatch(text[1:-1]) if placeholders == 1 else None
        self.matches_any_name = (
            literal_chars == 0 and field is not None and not field["spec"] and text[0] == "{"
        )

    @staticmethod
    def _compile(text: str) -> tuple[str, int, int]:
        parts: list[str] = []
        seen: set[str] = set()
        literal_chars = placeholders = position = 0
        for token in _TOKEN.finditer(text):
            literal = text[position : token.start()]
            parts.append(re.escape(literal))
            literal_chars += len(literal)
            position = token.end()
            if token[0] in ("{{", "}}"):
                parts.append(re.escape(token[0][0]))
                literal_chars += 1
                continue
            if token[1] is None:
                raise DatasetConfigError(f"Pattern '{text}': unbalanced '{token[0]}'.")
            parts.append(Pattern._placeholder(text, token[1], seen))
            placeholders += 1
        literal = text[position:]
        parts.append(re.escape(literal))
        return "".join(parts), literal_chars + len(literal), placeholders

    @staticmethod
    def _placeholder(text: str, field: str, seen: set[str]) -> str:
        match = _FIELD.fullmatch(field)
        if match is None:
            raise DatasetConfigError(
                f"Pattern '{text}': placeholder '{{{field}}}' must be a name such as '{{name}}'."
            )
        name, spec = match["name"], match["spec"] or ""
        if spec not in _TYPES:
            supported = ", ".join(repr(s) for s in _TYPES if s)
            raise DatasetConfigError(
                f"Pattern '{text}': placeholder '{{{field}}}' has an unsupported type '{spec}' "
                f"(supported: {supported})."
            )
        if name in seen:
            return f"(?P={name})"
        seen.add(name)
        return f"(?P<{name}>{_TYPES[spec]})"

    def match(self, name: str) -> dict[str, str] | None:
        """Return the placeholder values if ``name`` matches the whole pattern, else ``None``."""
        found = self._regex.fullmatch(name)
        return None if found is None else found.groupdict()

    def matches(self, name: str) -> bool:
        """Return whether ``name`` matches the whole pattern (cheaper than :meth:`match`)."""
        return self._regex.fullmatch(name) is not None

    def sort_key(self) -> tuple[int, int, str]:
        """Most literal characters first, then most placeholders, then alphabetical."""
        return (-self.specificity, -self.placeholders, self.text)

    def __repr__(self) -> str:
        return f"Pattern({self.text!r})"


def fill_placeholders(
    value: Any, values: Mapping[str, str], dataset: str, pattern: str, key: str = ""
) -> Any:
    """Return ``value`` with ``{name}`` placeholders in its strings replaced from ``values``.

    Dicts, lists and tuples are walked; other values are returned as they are.

    Raises:
        DatasetConfigError: A placeholder is not one of the pattern's, naming the dataset and key.
    """
    if isinstance(value, str):

        def substitute(token: re.Match[str]) -> str:
            if token[1] is None:
                return token[0][0]  # "{{" -> "{", "}}" -> "}"
            if token[1] not in values:
                raise DatasetConfigError(
                    f"Dataset '{dataset}': key '{key}': placeholder '{{{token[1]}}}' does not "
                    f"appear in the pattern '{pattern}'."
                )
            return values[token[1]]

        return _PLACEHOLDER.sub(substitute, value)
    if isinstance(value, Mapping):
        return {
            k: fill_placeholders(v, values, dataset, pattern, f"{key}.{k}" if key else str(k))
            for k, v in value.items()
        }
    if isinstance(value, (list, tuple)):
        return type(value)(fill_placeholders(v, values, dataset, pattern, key) for v in value)
    return value

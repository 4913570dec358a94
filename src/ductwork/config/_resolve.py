"""``${...}`` interpolation through OmegaConf, with errors that name the file and the key.

OmegaConf keeps its resolvers in one registry per process. ductwork registers two there,
``globals`` and ``runtime_params``, once; they read the values of the resolution under way from a
context variable, so two loaders (or two threads) never see each other's values. OmegaConf is
imported only when a configuration holds a ``${``: ``import ductwork`` stays light, and plain
configurations are not converted at all.
"""

from __future__ import annotations

import contextvars
import re
import warnings
from collections.abc import Callable, Iterator, Mapping
from typing import Any

from ductwork.exceptions import ProjectConfigError

__all__ = ["has_interpolation", "resolve"]

_REFERENCE = re.compile(r"\$\{[^{}]*(?:\{[^{}]*\}[^{}]*)*\}")
_ENV_RESOLVER = re.compile(r"\$\{\s*oc\.env\s*:")
_NO_DEFAULT: Any = object()


class _Unresolved(Exception):
    """Raised by ductwork's resolvers; OmegaConf wraps it, ductwork unwraps it."""


_VALUES: contextvars.ContextVar[dict[str, Mapping[str, Any]]] = contextvars.ContextVar(
    "ductwork_config_values"
)
_registered = False


def _lookup(source: str, key: str, default: Any) -> Any:
    node: Any = _VALUES.get({}).get(source, {})
    for part in str(key).split("."):
        if isinstance(node, Mapping) and part in node:
            node = node[part]
        elif default is not _NO_DEFAULT:
            return default
        else:
            raise _Unresolved(f"'{key}' is not in {source}")
    return node


def _register() -> None:
    global _registered  # noqa: PLW0603 - OmegaConf's registry is per process; register once
    if _registered:
        return
    from omegaconf import OmegaConf  # noqa: PLC0415 - lazy: import ductwork stays light

    for source in ("globals", "runtime_params"):
        with warnings.catch_warnings():
            # 2.4 renames it register_resolver, a name 2.3 uses for its legacy API: keep the
            # one call both versions understand.
            warnings.simplefilter("ignore", UserWarning)
            OmegaConf.register_new_resolver(
                source,
                lambda key, default=_NO_DEFAULT, _source=source: _lookup(_source, key, default),
                replace=True,
            )
    _registered = True


def _strings(value: Any, path: str = "") -> Iterator[tuple[str, str]]:
    if isinstance(value, str):
        yield path, value
    elif isinstance(value, Mapping):
        for key, item in value.items():
            yield from _strings(item, f"{path}.{key}" if path else str(key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _strings(item, f"{path}[{index}]")


_PRIMITIVE = (str, int, float, bool, bytes, type(None))
_TOKEN = "__ductwork_value_{}__"


def _stash(value: Any, stashed: list[Any]) -> Any:
    """``value`` with leaves OmegaConf cannot hold (dates, sets, objects) replaced by tokens."""
    if isinstance(value, Mapping):
        return {key: _stash(item, stashed) for key, item in value.items()}
    if isinstance(value, list):
        return [_stash(item, stashed) for item in value]
    if isinstance(value, _PRIMITIVE):
        return value
    stashed.append(value)
    return _TOKEN.format(len(stashed) - 1)


def _unstash(value: Any, stashed: list[Any]) -> Any:
    """Put the stashed leaves back (as text where a reference put one inside a string)."""
    if isinstance(value, dict):
        return {key: _unstash(item, stashed) for key, item in value.items()}
    if isinstance(value, list):
        return [_unstash(item, stashed) for item in value]
    if isinstance(value, str) and "__ductwork_value_" in value:
        for index, original in enumerate(stashed):
            token = _TOKEN.format(index)
            if value == token:
                return original
            value = value.replace(token, str(original))
    return value


def has_interpolation(config: Any) -> bool:
    """Tell whether any string in ``config`` holds a ``${``."""
    return any("${" in text for _, text in _strings(config))


def references(text: str) -> str:
    """The ``${...}`` parts of ``text`` (and never the rest, which may be a secret)."""
    found = _REFERENCE.findall(text)
    return ", ".join(found) if found else "${...}"


Origin = Callable[[str], str]


def _check_env_use(config: Mapping[str, Any], kind: str, origin: Origin) -> None:
    if kind == "credentials":
        return
    for path, text in _strings(config):
        if _ENV_RESOLVER.search(text):
            raise ProjectConfigError(
                f"{origin(path)}: key '{path}': {references(text)} reads an environment "
                "variable; only credentials files may (write it in credentials*.yml and refer "
                "to the credentials by name)."
            )


def _raw_at(config: Any, full_key: str) -> str | None:
    node = config
    for part in re.split(r"\.|\[([0-9]+)\]", full_key):
        if not part:
            continue
        index = part.isascii() and part.isdigit()  # not '²', which isdigit() but int() refuses
        if isinstance(node, Mapping):
            node = node.get(part, node.get(int(part)) if index else None)
        elif isinstance(node, list) and index and int(part) < len(node):
            node = node[int(part)]
        else:
            return None
    return node if isinstance(node, str) else None


def _problem(error: Exception) -> str:
    text = str(getattr(error, "msg", None) or error).splitlines()[0]
    text = text.rpartition("raised while resolving interpolation: ")[2]
    text = text.replace("Interpolation key ", "").replace(" not found", " is not defined")
    if text.startswith("Unsupported interpolation type "):
        return f"there is no resolver '{text.rsplit(' ', 1)[-1]}'"
    return text


def _full_key(error: Exception) -> str:
    return str(getattr(error, "full_key", "") or "")


def _innermost(tree: Any, config: Mapping[str, Any], error: Exception) -> list[Exception]:
    """The chain of errors from ``error`` to the reference that actually fails.

    ``a: ${b}`` and ``b: ${missing}`` fail at ``a`` in OmegaConf; the user must fix ``b``.
    """
    from omegaconf import OmegaConf  # noqa: PLC0415 - lazy: import ductwork stays light
    from omegaconf.errors import OmegaConfBaseException  # noqa: PLC0415

    chain = [error]
    seen = {_full_key(error)}
    while tree is not None:
        raw = _raw_at(config, _full_key(chain[-1])) or ""
        targets = [ref[2:-1].strip() for ref in _REFERENCE.findall(raw) if ":" not in ref]
        deeper = None
        for target in targets:
            try:
                node = OmegaConf.select(tree, target, throw_on_missing=True)
                if OmegaConf.is_config(node):
                    OmegaConf.to_container(node, resolve=True)
            except OmegaConfBaseException as inner:
                if _full_key(inner) not in seen:
                    deeper = inner
                    break
        if deeper is None:
            return chain
        seen.add(_full_key(deeper))
        chain.append(deeper)
    return chain


def _error(
    tree: Any, error: Exception, config: Mapping[str, Any], kind: str, origin: Origin
) -> Exception:
    chain = _innermost(tree, config, error)
    failing = chain[-1]
    full_key = _full_key(failing)
    raw = _raw_at(config, full_key)
    reference = references(raw) if raw is not None else "${...}"
    where = origin(full_key)  # every file of the kind when OmegaConf does not say the key
    message = f"{where}: key '{full_key}': cannot resolve {reference}: {_problem(failing)}"
    if len(chain) > 1:
        first = _full_key(chain[0])
        message += f" (needed by key '{first}' in {origin(first)})"
    return ProjectConfigError(message + ". Nothing was run.")


def resolve(
    config: dict[str, Any],
    kind: str,
    origin: Origin,
    values: Mapping[str, Mapping[str, Any]],
) -> dict[str, Any]:
    """Resolve every ``${...}`` in ``config``.

    Args:
        config: The merged configuration of one kind (plain dicts and lists).
        kind: ``catalog``, ``parameters``, ``credentials`` or ``globals``; only credentials may
            read environment variables (``${oc.env:NAME}``).
        origin: Tells which file a dotted key comes from, for error messages.
        values: What ``${globals:...}`` and ``${runtime_params:...}`` read.

    Raises:
        ProjectConfigError: A reference cannot be resolved; the message names the file, the key
            and the reference, never the value around it.
    """
    if not has_interpolation(config):
        return config
    _check_env_use(config, kind, origin)
    _register()
    from omegaconf import OmegaConf  # noqa: PLC0415 - lazy: import ductwork stays light
    from omegaconf.errors import OmegaConfBaseException  # noqa: PLC0415

    stashed: list[Any] = []
    token = _VALUES.set(dict(values))
    try:
        try:
            tree = OmegaConf.create(_stash(config, stashed))
        except OmegaConfBaseException as error:
            raise _error(None, error, config, kind, origin) from None
        try:
            resolved = OmegaConf.to_container(tree, resolve=True)
        except OmegaConfBaseException as error:
            raise _error(tree, error, config, kind, origin) from None
    finally:
        _VALUES.reset(token)
    assert isinstance(resolved, dict)
    return {str(key): _unstash(value, stashed) for key, value in resolved.items()}

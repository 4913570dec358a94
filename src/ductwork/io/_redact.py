"""Keep secrets out of reprs, log lines and error messages.

Two kinds of secret reach a dataset: credentials passed as arguments (``credentials=`` in code or
in the catalog), and secrets written into a URL (``s3://key:secret@bucket/x``, ``?token=...``).
The first kind is hidden by never formatting it and, where foreign text (an exception from a
driver) may echo it, by scrubbing the known values out. The second kind is hidden by rewriting
every URL's user info, query and fragment to ``<redacted>``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any, NoReturn

REDACTED = "<redacted>"
CREDENTIALS_KEY = "credentials"

# scheme://[userinfo@]rest[?query][#fragment]; the userinfo may hold anything but '/', '@' or space.
_URL = re.compile(
    r"(?P<scheme>[A-Za-z][A-Za-z0-9+.\-]*://)"
    r"(?:(?P<userinfo>[^/@\s'\"]+)@)?"
    r"(?P<rest>[^\s?#'\"]*)"
    r"(?:\?(?P<query>[^\s#'\"]*))?"
    r"(?:#(?P<fragment>[^\s'\"]*))?"
)
# Secrets shorter than this are not scrubbed from free text: masking every "a" would wreck a
# message and protect nothing.
_MIN_SECRET_LENGTH = 4


def _redact_match(match: re.Match[str]) -> str:
    parts = [match["scheme"]]
    if match["userinfo"] is not None:
        parts.append(f"{REDACTED}@")
    parts.append(match["rest"])
    if match["query"] is not None:
        parts.append(f"?{REDACTED}")
    if match["fragment"] is not None:
        parts.append(f"#{REDACTED}")
    return "".join(parts)


def redact_urls(text: str) -> str:
    """Return ``text`` with the user info, query and fragment of every URL in it redacted."""
    if "://" not in text:
        return text
    return _URL.sub(_redact_match, text)


def redact_value(value: Any) -> Any:
    """Return ``value`` with URLs redacted in every string it holds (dicts, lists, tuples)."""
    if isinstance(value, str):
        return redact_urls(value)
    if isinstance(value, Mapping):
        return {key: redact_value(item) for key, item in value.items()}
    if isinstance(value, tuple) and hasattr(value, "_fields"):  # a named tuple, e.g. Version
        return type(value)(*(redact_value(item) for item in value))
    if isinstance(value, (list, tuple)):
        return type(value)(redact_value(item) for item in value)
    return value


def _credentials_in(config: Any) -> Iterator[Any]:
    if isinstance(config, Mapping):
        for key, value in config.items():
            if key == CREDENTIALS_KEY:
                yield value
            else:
                yield from _credentials_in(value)


def secrets_in(config: Any) -> list[str]:
    """Return the strings held under ``credentials`` keys anywhere in ``config``, longest first."""
    found = {leaf for credentials in _credentials_in(config) for leaf in _leaves(credentials)}
    return sorted((s for s in found if len(s) >= _MIN_SECRET_LENGTH), key=len, reverse=True)


def _leaves(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, Mapping):
        for item in value.values():
            yield from _leaves(item)
    elif isinstance(value, (list, tuple, set, frozenset)):
        for item in value:
            yield from _leaves(item)


def scrub(text: str, secrets: Iterable[str] = ()) -> str:
    """Return ``text`` with URLs redacted and each of ``secrets`` replaced by ``<redacted>``."""
    for secret in secrets:
        text = text.replace(secret, REDACTED)
    return redact_urls(text)


def raise_scrubbed(
    error_type: Callable[[str], BaseException], message: str, err: BaseException, config: Any
) -> NoReturn:
    """Raise ``error_type(message + "<Type>: <text of err>")`` with every secret scrubbed.

    Args:
        error_type: The error class to raise.
        message: What failed; the error's own text is appended.
        err: The error being translated.
        config: Arguments or configuration whose ``credentials`` must not appear.

    ``err`` is chained as the cause only if its text held nothing to scrub: a cause is printed
    with the traceback, so one that quotes a secret must not travel along.
    """
    original = f"{type(err).__name__}: {err}"
    cleaned = scrub(original, secrets_in(config))
    raise error_type(message + cleaned) from (None if cleaned != original else err)

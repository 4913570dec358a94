"""Keep secrets out of reprs, log lines, journals, reports and error messages.

A secret is recognised wherever it is nested in a configuration, in three ways:

- **by where it comes from**: everything under a ``credentials`` key (the catalog's, or a
  dataset's argument) or a ``storage_options`` key (how pandas and fsspec take passwords and
  keys, usually inside ``load_args``/``save_args``), at any depth;
- **by its key**: any value whose key names a secret (``password``, ``passwd``, ``pwd``,
  ``secret``, ``token``, ``api_key``, ``private_key``, ``access_key``, ``auth``, ``passphrase``,
  ``passcode``, in any case, as part of a longer key too: ``aws_secret_access_key``; and the
  whole keys ``pin``, ``pass`` and ``otp``), at any depth;
- **inside a URL**: the user info (``s3://key:secret@bucket``), the query and the fragment.

:func:`redact_config` shows a configuration with those values replaced. :func:`secrets_in` lists
the values, numbers included, so that foreign text (a driver's exception that echoes a password)
can be scrubbed by :func:`scrub`; short values are scrubbed where they stand as a word of their
own, so that a PIN of ``42`` is hidden without masking every ``4`` of the message.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any, NoReturn

REDACTED = "<redacted>"
CREDENTIALS_KEY = "credentials"
# Keys under which everything is a secret, whatever its own key.
SECRET_CONTAINERS = frozenset({CREDENTIALS_KEY, "storage_options"})
_SECRET_WORDS = (
    "password",
    "passwd",
    "pwd",
    "secret",
    "token",
    "apikey",
    "api_key",
    "private_key",
    "access_key",
    "auth",
    "passphrase",
    "passcode",
)
# Too short to look for inside longer keys ("pin" is in "pipeline"): secret as whole keys only.
_SECRET_KEYS = frozenset({"pin", "pass", "otp"})

# scheme://[userinfo@]rest[?query][#fragment]; the userinfo may hold anything but '/', '@' or space.
_URL = re.compile(
    r"(?P<scheme>[A-Za-z][A-Za-z0-9+.\-]*://)"
    r"(?:(?P<userinfo>[^/@\s'\"]+)@)?"
    r"(?P<rest>[^\s?#'\"]*)"
    r"(?:\?(?P<query>[^\s#'\"]*))?"
    r"(?:#(?P<fragment>[^\s'\"]*))?"
)
# Secrets shorter than this are scrubbed from free text only where they stand as a word of their
# own: masking every "4" of a message for a PIN of 4 would wreck it.
_SHORT_SECRET = 6


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


def is_secret_key(key: Any) -> bool:
    """Tell whether a configuration key names a secret, or holds nothing but secrets."""
    if not isinstance(key, str):
        return False
    normal = key.lower().replace("-", "_")
    if normal in SECRET_CONTAINERS or normal in _SECRET_KEYS:
        return True
    return any(word in normal for word in _SECRET_WORDS)


def redact_config(value: Any) -> Any:
    """Return ``value`` with every secret it holds replaced by ``<redacted>``, at any depth.

    The value of a secret key is replaced whole (a mapping of credentials too, as Kedro does);
    every other string has its URLs redacted.
    """
    if isinstance(value, Mapping):
        return {
            key: REDACTED if is_secret_key(key) and item is not None else redact_config(item)
            for key, item in value.items()
        }
    if isinstance(value, tuple) and hasattr(value, "_fields"):  # a named tuple, e.g. Version
        return type(value)(*(redact_config(item) for item in value))
    if isinstance(value, (list, tuple)):
        return type(value)(redact_config(item) for item in value)
    if isinstance(value, str):
        return redact_urls(value)
    return value


def secrets_in(config: Any, *, credential_names: bool = False) -> list[str]:
    """Every secret value in ``config`` (see the module), as text, longest first.

    Numbers count (a numeric password or PIN is as secret as any); ``None`` and booleans do not.
    The passwords and query values of URLs anywhere in ``config`` count too. With
    ``credential_names`` (a catalog's configuration), a text standing alone under
    ``credentials`` is the name of credentials defined elsewhere, not a secret.
    """
    found: set[str] = set()
    _collect(config, False, found, credential_names)
    return sorted((s for s in found if s), key=lambda s: (-len(s), s))


def _collect(value: Any, secret: bool, found: set[str], names: bool = False) -> None:
    if isinstance(value, Mapping):
        for key, item in value.items():
            if names and key == CREDENTIALS_KEY and isinstance(item, str):
                found.update(_url_secrets(item))
                continue
            _collect(item, secret or is_secret_key(key), found, names)
    elif isinstance(value, (list, tuple, set, frozenset)):
        for item in value:
            _collect(item, secret, found, names)
    elif isinstance(value, str):
        if secret:
            found.add(value)
        found.update(_url_secrets(value))
    elif secret and isinstance(value, (int, float)) and not isinstance(value, bool):
        found.update({str(value), repr(value)})


def _url_secrets(text: str) -> Iterator[str]:
    if "://" not in text:
        return
    for match in _URL.finditer(text):
        if match["userinfo"]:
            user, _, password = match["userinfo"].partition(":")
            yield password or user
            if password:
                yield match["userinfo"]
        for part in (match["query"] or "").split("&"):
            yield part.partition("=")[2]


def scrub(text: str, secrets: Iterable[str] = ()) -> str:
    """Return ``text`` with URLs redacted and each of ``secrets`` replaced by ``<redacted>``.

    A secret shorter than six characters is replaced only where it stands as a word of its own.
    """
    for secret in secrets:
        if not secret:
            continue
        if len(secret) >= _SHORT_SECRET:
            text = text.replace(secret, REDACTED)
        else:
            alone = rf"(?<![A-Za-z0-9_]){re.escape(secret)}(?![A-Za-z0-9_])"
            text = re.sub(alone, REDACTED, text)
    return redact_urls(text)


def raise_scrubbed(
    error_type: Callable[[str], BaseException], message: str, err: BaseException, config: Any
) -> NoReturn:
    """Raise ``error_type(message + "<Type>: <text of err>")`` with every secret scrubbed.

    Args:
        error_type: The error class to raise.
        message: What failed; the error's own text is appended.
        err: The error being translated.
        config: Arguments or configuration whose secrets (see the module) must not appear.

    ``err`` is chained as the cause only if its text held nothing to scrub: a cause is printed
    with the traceback, so one that quotes a secret must not travel along.
    """
    original = f"{type(err).__name__}: {err}"
    cleaned = scrub(original, secrets_in(config))
    raise error_type(message + cleaned) from (None if cleaned != original else err)

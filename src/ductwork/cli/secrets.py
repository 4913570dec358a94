"""Everything ``ductwork run`` writes to stderr passes one scrubber of the run's secrets.

The datasets hide their own secrets (see ``ductwork.io._redact``); this is the second line, for
text ductwork did not write itself: a node's exception that quotes a password it was handed, a
driver's message, a hook's log line. The secrets are those of the configuration the command
loaded (the catalog's credentials, storage options, secret keys and URL passwords; parameters
under secret keys), collected as it is loaded; stderr is wrapped for the whole command, so log
handlers, the live display and plain prints all go through it. The run journal scrubs the same
secrets from the errors it records.
"""

from __future__ import annotations

import sys
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import Any, TextIO

from ductwork.io._redact import scrub, secrets_in

__all__ = ["Secrets", "scrubbed_stderr"]


class Secrets:
    """The secret values found so far, longest first; grows as configuration is loaded."""

    def __init__(self) -> None:
        self._values: list[str] = []

    def add_from(self, config: Any, *, credential_names: bool = False) -> None:
        """Add every secret in ``config`` (see ``ductwork.io._redact``); ``credential_names``:
        ``config`` is a catalog, whose ``credentials: <name>`` name credentials, not hold them."""
        self.add(secrets_in(config, credential_names=credential_names))

    def add(self, values: Iterable[str]) -> None:
        """Add ``values``."""
        merged = set(self._values) | {value for value in values if value}
        self._values = sorted(merged, key=lambda s: (-len(s), s))

    @property
    def values(self) -> tuple[str, ...]:
        """The secrets, longest first."""
        return tuple(self._values)

    def scrub(self, text: str) -> str:
        """``text`` with every secret and every URL's credentials replaced by ``<redacted>``."""
        return scrub(text, self._values)


class _ScrubbingStream:
    """A text stream that scrubs what it is given, then writes it to the real one."""

    def __init__(self, stream: TextIO, secrets: Secrets) -> None:
        self._stream = stream
        self._secrets = secrets

    def write(self, text: str) -> int:
        self._stream.write(self._secrets.scrub(text))
        return len(text)

    def __getattr__(self, name: str) -> Any:  # isatty, fileno, flush, encoding, ...
        return getattr(self._stream, name)


@contextmanager
def scrubbed_stderr(secrets: Secrets) -> Iterator[None]:
    """Route ``sys.stderr`` through ``secrets.scrub`` inside the block."""
    real = sys.stderr
    sys.stderr = _ScrubbingStream(real, secrets)
    try:
        yield
    finally:
        sys.stderr = real

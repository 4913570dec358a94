"""A dataset for the command-line tests that needs credentials, copied in as ``proj_secret.py``.

It writes the text it is given and a fingerprint of the password it received, so a test can
tell that the credentials reached it without the password being written anywhere.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

from ductwork.io import AbstractDataset


def fingerprint(password: str) -> str:
    return hashlib.sha256(password.encode()).hexdigest()[:12]


class SecretTextDataset(AbstractDataset[str, str]):
    def __init__(self, filepath: str, credentials: dict[str, Any]) -> None:
        self._path = Path(filepath)
        self._password = str(credentials["password"])

    def load(self) -> str:
        return self._path.read_text(encoding="utf-8").split("\n")[0]

    def save(self, data: str) -> None:
        self._path.parent.mkdir(parents=True, exist_ok=True)
        self._path.write_text(f"{data}\nauth={fingerprint(self._password)}\n", encoding="utf-8")

    def _describe(self) -> dict[str, Any]:
        return {"filepath": str(self._path)}

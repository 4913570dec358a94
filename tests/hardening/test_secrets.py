"""Finding 3: secrets are recognised wherever they are nested, by key and by where they come from
(credentials, storage options, URLs), short and numeric ones too, and never logged, journaled or
rendered."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from ductwork.datasets import PickleDataset
from ductwork.datasets.pandas import CSVDataset
from ductwork.exceptions import DatasetConfigError
from ductwork.io import DataCatalog
from ductwork.io._redact import REDACTED, is_secret_key, redact_config, scrub, secrets_in
from tests.cli.conftest import run_cli

pytestmark = pytest.mark.timeout(120)

SECRETS = ["hunter2xyz", "471185236", "s3cr3tvalue", "pa55w0rd", "AKIAEXAMPLEKEY", "tok-77"]

CATALOG = """\
raw:
  type: pandas.CSVDataset
  filepath: data/missing.csv
  load_args:
    storage_options: {password: hunter2xyz, pin: 471185236, user: bob, anon: false}
  save_args: {header: true, nested: {deeper: {api_token: tok-77}}}
  credentials: {secret: s3cr3tvalue}
out:
  type: PickleDataset
  filepath: "memory://bob:pa55w0rd@host/out.pkl"
  fs_args: {aws_access_key_id: AKIAEXAMPLEKEY}
"""

PROJECT = """\
from ductwork.pipeline import Pipeline, node

def read(df):
    return df

def connect(db):
    raise ConnectionError(f"login refused for {db['user']} with {db['password']} (pin {db['pin']})")

pipeline = Pipeline([node(read, "raw", "out", name="read")])
failing = Pipeline([node(connect, "params:db", "conn", name="connect")])
"""


@pytest.mark.parametrize(
    "key",
    [
        "password",
        "DB_PASSWORD",
        "passwd",
        "pwd",
        "client_secret",
        "aws_secret_access_key",
        "api_token",
        "apiKey",
        "private_key",
        "Authorization",
        "credentials",
        "storage_options",
        "ssh-passphrase",
        "PIN",
        "pass",
    ],
)
def test_secret_keys_are_recognised_in_any_case_and_inside_longer_keys(key: str) -> None:
    assert is_secret_key(key)


@pytest.mark.parametrize(
    "key", ["filepath", "sep", "header", "index", "user_agent", "encoding", "pipeline", "spin"]
)
def test_ordinary_keys_are_not_secret(key: str) -> None:
    assert not is_secret_key(key)


def test_secrets_are_redacted_at_any_depth() -> None:
    config = {
        "load_args": {"storage_options": {"key": "AK", "secret": "xyz", "anon": False}},
        "save_args": {"a": [{"b": {"db_password": 1234}}], "sep": ";"},
        "url": "postgresql://me:pw@db/x?sslpassword=q",
    }
    assert redact_config(config) == {
        "load_args": {"storage_options": REDACTED},
        "save_args": {"a": [{"b": {"db_password": REDACTED}}], "sep": ";"},
        "url": f"postgresql://{REDACTED}@db/x?{REDACTED}",
    }


def test_secret_values_include_numbers_short_ones_and_url_passwords() -> None:
    found = secrets_in(
        {
            "load_args": {"storage_options": {"pin": 42, "password": "ab", "anon": True}},
            "con": "mysql://user:hunter2@host/db?token=zz9",
        }
    )
    assert {"42", "ab", "hunter2", "zz9"} <= set(found)
    assert "True" not in found


def test_short_secrets_are_scrubbed_where_they_stand_alone() -> None:
    text = "pin 42 refused; line 142, 4242 and 42x stay; 'ab' and ab: also; abc stays"
    assert scrub(text, ["42", "ab"]) == (
        f"pin {REDACTED} refused; line 142, 4242 and 42x stay; '{REDACTED}' and {REDACTED}: "
        "also; abc stays"
    )


def test_a_datasets_repr_hides_nested_secrets() -> None:
    dataset = CSVDataset(
        filepath="data/x.csv",
        load_args={"storage_options": {"password": "hunter2xyz", "pin": 471185236}},
        save_args={"nested": {"deeper": {"api_token": "tok-77"}}},
        credentials={"secret": "s3cr3tvalue"},
    )
    shown = repr(dataset)
    for secret in ("hunter2xyz", "471185236", "tok-77", "s3cr3tvalue"):
        assert secret not in shown
    assert "load_args={'storage_options': '<redacted>'}" in shown
    assert "'nested': {'deeper': {...}}" in shown  # pprint's depth hides the rest


def test_a_failing_load_never_quotes_a_nested_secret(tmp_path: Path) -> None:
    dataset = CSVDataset(
        filepath=str(tmp_path / "missing.csv"),
        load_args={"storage_options": {"password": "hunter2xyz", "pin": 471185236}},
    )
    with pytest.raises(Exception) as caught:  # noqa: PT011 - the type is not the point
        dataset.load()
    assert "hunter2xyz" not in str(caught.value)
    assert "471185236" not in str(caught.value)


class Echoing(PickleDataset):
    """A dataset whose constructor fails quoting what it was given, as drivers do."""

    def __init__(self, *, filepath: str, save_args: dict[str, Any] | None = None) -> None:
        raise ValueError(f"cannot use {filepath} with {save_args}")


def test_a_catalog_entry_that_fails_to_build_never_quotes_its_secrets() -> None:
    config = {
        "x": {
            "type": f"{__name__}.Echoing",
            "filepath": "data/x.pkl",
            "save_args": {"storage_options": {"password": 987654, "token": "zz-top-secret"}},
        }
    }
    with pytest.raises(DatasetConfigError) as caught:
        DataCatalog.from_config(config)["x"]
    assert "cannot use data/x.pkl with" in str(caught.value)
    assert "987654" not in str(caught.value)
    assert "zz-top-secret" not in str(caught.value)


def _everything_written(project: Path, stderr: str) -> str:
    written = [stderr]
    written += [path.read_text() for path in (project / ".ductwork").rglob("*") if path.is_file()]
    return "\n".join(written)


def _assert_reports_hide(project: Path, stderr: str, secrets: tuple[str, ...]) -> None:
    """Renders the run's report in every format, then checks that neither stderr nor anything
    under .ductwork (journal, reports) holds a secret, and that the redaction mark is there."""
    for fmt in ("html", "chrome-trace"):
        assert run_cli(project, "report", "--format", fmt).returncode == 0
    everything = _everything_written(project, stderr)
    assert REDACTED in everything
    for secret in secrets:
        assert secret not in everything, secret


def test_no_secret_reaches_stderr_the_journal_or_the_report(project: Path) -> None:
    (project / "catalog.yml").write_text(CATALOG)
    (project / "secretive.py").write_text(PROJECT)
    result = run_cli(project, "run", "secretive:pipeline", "--catalog", "catalog.yml")
    assert result.returncode == 1, result.stderr
    assert "Failed while loading data from dataset" in result.stderr
    _assert_reports_hide(project, result.stderr, tuple(SECRETS))


def test_a_nodes_own_error_quoting_a_configured_secret_is_scrubbed(project: Path) -> None:
    (project / "secretive.py").write_text(PROJECT)
    (project / "db.yml").write_text("db: {user: admin, password: hunter2xyz, pin: 471185236}\n")
    result = run_cli(project, "run", "secretive:failing", "--params", "db.yml", "-v")
    assert result.returncode == 1, result.stderr
    assert "login refused for admin with <redacted> (pin <redacted>)" in result.stderr
    assert run_cli(project, "report").returncode == 0
    everything = _everything_written(project, result.stderr)
    assert "hunter2xyz" not in everything
    assert "471185236" not in everything
    [journal] = (project / ".ductwork/runs").glob("*.json")
    assert "login refused for admin" in json.loads(journal.read_text())["error"]["message"]


def test_a_yaml_error_never_shows_the_secrets_line(project: Path) -> None:
    (project / "catalog.yml").write_text(
        "db:\n  type: PickleDataset\n  credentials: {password: hunter2xyz: oops}\n"
    )
    result = run_cli(project, "run", "proj:pipeline", "--catalog", "catalog.yml")
    assert result.returncode == 2
    assert "The catalog file catalog.yml, line 3" in result.stderr
    assert "hunter2xyz" not in result.stderr


CONF_PROJECT = """\
from typing import Any

from ductwork.io import AbstractDataset
from ductwork.pipeline import Pipeline, node


class Leaky(AbstractDataset[str, str]):
    # A driver that quotes what it was given in its errors, as some do.
    def __init__(self, filepath: str, credentials: dict[str, Any], load_args: Any = None) -> None:
        self._credentials = credentials
        self._load_args = load_args

    def load(self) -> str:
        raise PermissionError(f"login refused: {self._credentials} {self._load_args}")

    def save(self, data: str) -> None:
        raise NotImplementedError

    def _describe(self) -> dict[str, Any]:
        return {"credentials": self._credentials, "load_args": self._load_args}


def use(text):
    return text


pipeline = Pipeline([node(use, "source", "copy", name="use")])
"""


def test_the_projects_credentials_and_nested_options_never_reach_any_output(tmp_path: Path) -> None:
    """Through conf/base + conf/local: credentials by name, storage options nested in load_args,
    interpolation from globals; the dataset's own error quotes them all."""
    (tmp_path / "leaky.py").write_text(CONF_PROJECT)
    base, local = tmp_path / "conf" / "base", tmp_path / "conf" / "local"
    base.mkdir(parents=True)
    local.mkdir()
    (base / "catalog.yml").write_text(
        "source:\n"
        "  type: leaky.Leaky\n"
        "  filepath: data/x.txt\n"
        "  credentials: warehouse\n"
        "  load_args:\n"
        "    storage_options: {password: '${globals:pw}', port: 5432}\n"
    )
    (base / "globals.yml").write_text("pw: glob4lsecret\n")
    (local / "credentials.yml").write_text(
        "warehouse: {user: bob, key: 'w4rehouse-key', pin: 918273645}\n"
    )
    result = run_cli(tmp_path, "run", "leaky:pipeline", "-v")
    assert result.returncode == 1, result.stderr
    assert "login refused" in result.stderr
    _assert_reports_hide(tmp_path, result.stderr, ("glob4lsecret", "w4rehouse-key", "918273645"))

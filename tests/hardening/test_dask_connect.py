"""Finding 7: every wait of DaskRunner on the network is bounded, with a clear error (exit 2 from
the command line); Ctrl-C during the wait ends the command."""

from __future__ import annotations

import importlib.util
import signal
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from ductwork.exceptions import RunnerOptionError
from ductwork.io import DataCatalog
from ductwork.pipeline import Pipeline, node
from tests.cli.conftest import BASE, command, run_cli

pytestmark = [
    pytest.mark.timeout(180),
    pytest.mark.skipif(importlib.util.find_spec("distributed") is None, reason="needs dask"),
]


def _one() -> int:
    return 1


@pytest.fixture
def silent_server() -> Iterator[str]:
    """An address that accepts connections and never says a word."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(16)
    accepted: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        server.settimeout(0.2)
        while not stop.is_set():
            try:
                accepted.append(server.accept()[0])
            except OSError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield f"tcp://127.0.0.1:{server.getsockname()[1]}"
    stop.set()
    thread.join(timeout=5)
    for connection in accepted:
        connection.close()
    server.close()


def _closed_port() -> str:
    probe = socket.socket()
    probe.bind(("127.0.0.1", 0))
    port = probe.getsockname()[1]
    probe.close()
    return f"tcp://127.0.0.1:{port}"


def _runner(address: str, connect_timeout: float = 2.0) -> object:
    from ductwork.runner import DaskRunner

    return DaskRunner(address=address, connect_timeout=connect_timeout)


def test_a_server_that_never_answers_is_an_error_within_the_time_limit(silent_server: str) -> None:
    from ductwork.runner._dask.cluster import DaskConnectError

    began = time.monotonic()
    with pytest.raises(DaskConnectError, match="did not answer within 2 s"):
        _runner(silent_server).run(Pipeline([node(_one, None, "a")]), DataCatalog())  # type: ignore[attr-defined]
    assert time.monotonic() - began < 60  # bounded (a busy machine adds to the 2 s)


def test_a_closed_port_is_an_error_naming_the_address() -> None:
    from ductwork.runner._dask.cluster import DaskConnectError

    address = _closed_port()
    with pytest.raises(
        DaskConnectError, match=f"Cannot connect to the Dask scheduler at {address}"
    ):
        _runner(address).run(Pipeline([node(_one, None, "a")]), DataCatalog())  # type: ignore[attr-defined]


@pytest.mark.parametrize("address", ["not an address", "tcp://host", "tcp://:8786", "tcp://h:port"])
def test_a_malformed_address_is_refused_when_the_runner_is_built(address: str) -> None:
    with pytest.raises(RunnerOptionError, match="is not a Dask scheduler address"):
        _runner(address)


def test_the_command_exits_2_with_a_message(project: Path, silent_server: str) -> None:
    for address, message in [
        ("nonsense", "is not a Dask scheduler address"),
        (_closed_port(), "Cannot connect to the Dask scheduler"),
        (silent_server, "did not answer within 10 s"),
    ]:
        result = run_cli(
            project, "run", "proj:pipeline", *BASE, "--runner", "dask", "--dask-address", address
        )
        assert result.returncode == 2, result.stderr
        assert message in result.stderr
        assert "Traceback" not in result.stderr


def test_ctrl_c_while_waiting_for_the_scheduler_ends_the_command(
    project: Path, silent_server: str
) -> None:
    args = ["run", "proj:pipeline", *BASE, "--runner", "dask", "--dask-address", silent_server]
    process = subprocess.Popen(
        command(*args), cwd=project, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    try:
        assert process.stderr is not None
        for line in process.stderr:  # the run has started: it is connecting
            if "sequential" in line or "dask runner" in line:
                break
        process.send_signal(signal.SIGINT)
        _, rest = process.communicate(timeout=30)
    finally:
        process.kill()
        process.wait()
    assert process.returncode == 130, rest

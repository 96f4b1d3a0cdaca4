"""The tests cannot reach the network: pytest-socket (configured in pyproject.toml) refuses any
connection but loopback, in the test process and so in the in-process CLI."""

from __future__ import annotations

import socket
import threading

import httpx
import pytest
from pytest_socket import SocketConnectBlockedError

from runcli import cli

UNREACHABLE = "10.255.255.1"  # a private address that never answers: only the guard can refuse
expected_block = pytest.mark.filterwarnings("ignore:A test tried to use socket.socket.connect")


@expected_block
def test_a_connection_off_this_machine_is_refused() -> None:
    with pytest.raises(SocketConnectBlockedError):
        socket.create_connection((UNREACHABLE, 80), timeout=2)
    with pytest.raises(SocketConnectBlockedError):
        httpx.get(f"http://{UNREACHABLE}/", timeout=2)


@expected_block
def test_the_in_process_cli_is_guarded_too() -> None:
    result = cli("models", "--model", "openai:m", "--base-url", f"http://{UNREACHABLE}:8080/v1",
                 "--check", env={"OPENAI_API_KEY": "not-a-key"})
    assert result.returncode == 1
    assert UNREACHABLE in result.stderr and "allowed" in result.stderr, result.stderr
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost"])
def test_loopback_connections_work(host: str) -> None:
    with socket.create_server(("127.0.0.1", 0)) as server:
        port = server.getsockname()[1]
        accepted: list[bytes] = []

        def answer() -> None:
            conn, _ = server.accept()
            with conn:
                accepted.append(conn.recv(5))

        thread = threading.Thread(target=answer)
        thread.start()
        with socket.create_connection((host, port), timeout=5) as client:
            client.sendall(b"hello")
        thread.join(timeout=5)
    assert accepted == [b"hello"]

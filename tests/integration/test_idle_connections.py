"""Idle connections cannot starve the local servers: each closes an idle connection
after its keep-alive timeout (also one that never sent a request), and past its
connection limit answers 503 at once; /ping never hangs."""

from __future__ import annotations

import os
import socket
import subprocess
import time

import httpx
import pytest

from datapalooza.system.http_limits import ServerLimits, raise_open_files
from datapalooza.system.network import free_port
from tests.conftest import start_datapalooza, stop_server

IDLE = 1500
KEEP_ALIVE_S = 2
# Serial: 1,500 connections at once, and answers and closes timed to the second; another
# test's servers and sockets beside them would share the limits and the clock.
pytestmark = pytest.mark.serial


def start(command: list[str], port: int, ready: str) -> subprocess.Popen[bytes]:
    env = dict(os.environ)
    env["DATAPALOOZA_HTTP_KEEP_ALIVE_S"] = str(KEEP_ALIVE_S)
    env["DATAPALOOZA_HTTP_MAX_CONNECTIONS"] = "200"
    return start_datapalooza(*command, "--port", str(port), port=port, path=ready, env=env)


@pytest.fixture(params=["endpoint", "dashboard"])
def server(request, tmp_path):
    port = free_port()
    if request.param == "endpoint":
        command, ready = ["serve-endpoint", "--store", str(tmp_path / "bucket")], "/ping"
    else:
        (tmp_path / "data").mkdir()
        command, ready = ["dashboard", "--data-dir", str(tmp_path / "data")], "/api/stages"
    process = start(command, port, ready)
    try:
        yield port, ready
    finally:
        stop_server(process)


def test_thousands_of_idle_connections_neither_hang_the_server_nor_stay_open(server):
    port, ready = server
    raise_open_files(IDLE + 512)  # this test's own sockets
    sockets = []
    try:
        for _ in range(IDLE):
            sock = socket.create_connection(("127.0.0.1", port), timeout=5)
            sockets.append(sock)
        start = time.monotonic()
        answer = httpx.get(f"http://127.0.0.1:{port}{ready}", timeout=5)
        assert answer.status_code in (200, 503)  # never a hang
        assert time.monotonic() - start < 2
        time.sleep(KEEP_ALIVE_S + 2)
        closed = 0
        for sock in sockets:
            sock.settimeout(0.05)
            try:
                closed += sock.recv(1) == b""
            except (TimeoutError, BlockingIOError):
                pass
            except ConnectionResetError:
                closed += 1
        assert closed == IDLE  # every idle connection was closed by the server
        assert httpx.get(f"http://127.0.0.1:{port}{ready}", timeout=5).status_code == 200
    finally:
        for sock in sockets:
            sock.close()


def test_a_request_head_trickled_past_the_timeout_is_cut_off(server):
    port, ready = server
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(b"GET " + ready.encode() + b" HTTP/1.1\r\n")
        deadline = time.monotonic() + KEEP_ALIVE_S + 3
        closed = False
        while time.monotonic() < deadline and not closed:
            time.sleep(0.5)
            try:
                sock.sendall(b"X-Slow: 1\r\n")
                sock.settimeout(0.01)
                closed = sock.recv(1) == b""
            except (TimeoutError, BlockingIOError):
                pass
            except (BrokenPipeError, ConnectionResetError):
                closed = True
        assert closed


def test_the_limits_are_stated_and_checked():
    limits = ServerLimits()
    options = limits.uvicorn_options()
    assert (limits.keep_alive_s, limits.max_connections, limits.max_header_bytes) == (
        5,
        256,
        16 * 1024,
    )
    assert options["timeout_keep_alive"] == 5 and options["limit_concurrency"] == 256
    assert ServerLimits.from_env({"DATAPALOOZA_HTTP_KEEP_ALIVE_S": "2"}).keep_alive_s == 2
    from datapalooza.settings import SettingsError

    with pytest.raises(SettingsError, match="DATAPALOOZA_HTTP_MAX_CONNECTIONS"):
        ServerLimits.from_env({"DATAPALOOZA_HTTP_MAX_CONNECTIONS": "many"})
    with pytest.raises(SettingsError, match="keep_alive_s"):
        ServerLimits(keep_alive_s=0)

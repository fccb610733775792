"""``datapalooza dashboard``: what a busy port or bad setting gets (the happy path runs
as a real server in tests/e2e/test_dashboard_browser.py)."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from datapalooza.cli import main
from datapalooza.system.network import free_port


def test_a_port_in_use_is_reported_with_what_to_do(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        code = main(["dashboard", "--data-dir", str(tmp_path), "--port", str(port)])
    assert code == 2
    assert f"port {port} on 127.0.0.1 is in use" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--poll-seconds", "0"], "must be 0.5-60 seconds"),
        (["--port", "70000"], "is not a TCP port"),
    ],
)
def test_bad_options_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], args: list[str], message: str
) -> None:
    assert main(["dashboard", "--data-dir", str(tmp_path), *args]) == 2
    assert message in capsys.readouterr().err


def test_a_data_dir_that_does_not_exist_is_refused_not_created(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    typo = tmp_path / "festivall"
    assert main(["dashboard", "--data-dir", str(typo), "--port", str(free_port())]) == 2
    assert f"no data directory {typo}" in capsys.readouterr().err
    assert not typo.exists()

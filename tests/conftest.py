"""Shared fixtures: real face photographs shipped by installed packages, and helpers
to run the endpoint as a real server process. Also how the suite shares two cores
(pytest-xdist): which tests run alone."""

from __future__ import annotations

import fcntl
import io
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO

import numpy as np
import pytest
from hypothesis import HealthCheck, settings
from PIL import Image

from datapalooza.system.network import free_port

REPO = Path(__file__).resolve().parent.parent

# Property-based tests: a small budget in the normal run (the suite stays fast on two
# cores); ``make fuzz`` runs HYPOTHESIS_PROFILE=fuzz, a hundred times more examples.
settings.register_profile("default", max_examples=60, deadline=None)
settings.register_profile(
    "fuzz", max_examples=6000, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))

# How the suite shares two cores. `make test` runs it on two pytest-xdist workers, a
# test file at a time (Makefile: -n 2 --dist loadfile), so a module-scoped fixture (a
# server, an artifact, a benchmark run) is built once; only tests/infra's session-wide
# synth is built on each worker that runs an infra file. (--dist loadgroup would keep
# those together, but xdist 3.8 marks a group in item._nodeid, which pytest 9 no longer
# reads: every test would be scheduled on its own.)
# Tests marked ``serial`` run alone: while one runs, the other worker waits between two
# of its tests. They time, measure or flood the machine, or start the whole festival,
# and their margins assume no other test beside them (each says why). Without xdist
# (-n 0, -p no:xdist) the mark does nothing.
SERIAL = "serial"


class RunLock:
    """A readers-writer lock on files that a run's workers share: a serial test holds it
    exclusively, every other test shared. Readers pass through a gate that a waiting
    serial test holds, so tests that keep coming on the other worker cannot starve it."""

    def __init__(self, folder: Path) -> None:
        self.gate, self.lock = folder / "serial-gate.lock", folder / "serial.lock"
        self.held: list[IO[bytes]] = []

    @contextmanager
    def shared(self) -> Iterator[None]:
        _flock(self.gate, fcntl.LOCK_EX).close()  # waits while a serial test is due
        with _flock(self.lock, fcntl.LOCK_SH):
            yield

    def hold_exclusive(self) -> None:
        if not self.held:
            self.held = [_flock(self.gate, fcntl.LOCK_EX), _flock(self.lock, fcntl.LOCK_EX)]

    def release(self) -> None:
        while self.held:
            self.held.pop().close()  # closing the file drops its lock


def _flock(path: Path, operation: int) -> IO[bytes]:
    file = path.open("ab")
    fcntl.flock(file, operation)
    return file


RUN_LOCK = pytest.StashKey[RunLock]()


@pytest.hookimpl(wrapper=True, tryfirst=True)  # outside pytest-timeout: waits don't count
def pytest_runtest_protocol(item: pytest.Item, nextitem: pytest.Item | None) -> Iterator[None]:
    """Under xdist, setup, call and teardown run under the run's lock; a serial test keeps
    it for the next test when that one is serial too."""
    if not hasattr(item.config, "workerinput"):
        return (yield)
    # xdist gives each worker basetemp/<worker id>: their parent is the run's own folder.
    run_lock = item.config.stash.setdefault(
        RUN_LOCK, RunLock(Path(item.config.option.basetemp).parent)
    )
    if not item.get_closest_marker(SERIAL):
        with run_lock.shared():
            return (yield)
    run_lock.hold_exclusive()
    try:
        return (yield)
    finally:
        if nextitem is None or not nextitem.get_closest_marker(SERIAL):
            run_lock.release()


def grace_hopper_path() -> Path:
    import matplotlib.cbook

    return Path(matplotlib.cbook.get_sample_data("grace_hopper.jpg", asfileobj=False))


@pytest.fixture(scope="session")
def grace_hopper_jpeg() -> bytes:
    """A real portrait: one face, roughly centred (matplotlib's sample data)."""
    return grace_hopper_path().read_bytes()


@pytest.fixture(scope="session")
def astronaut_rgb() -> np.ndarray:
    """A real smiling portrait (scikit-image's astronaut, Eileen Collins)."""
    import skimage.data

    return np.ascontiguousarray(skimage.data.astronaut())


def to_bytes(image: Image.Image, fmt: str, **kwargs: object) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format=fmt, **kwargs)
    return buffer.getvalue()


def wait_for_ping(
    port: int, process: subprocess.Popen, timeout: float = 60.0, *, path: str = "/ping"
) -> None:
    """Wait until the server process answers 200 on ``path``; fail if it exits first."""
    import httpx

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server exited with {process.returncode}")
        try:
            if httpx.get(f"http://127.0.0.1:{port}{path}", timeout=1.0).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise TimeoutError(f"the server on port {port} did not answer {path} in {timeout}s")


def start_datapalooza(
    *args: str, port: int, path: str = "/ping", timeout: float = 60.0, env: dict | None = None
) -> subprocess.Popen:
    """Run ``python -m datapalooza ARGS`` from the repository as a server on ``port``;
    return once it answers 200 on ``path`` (stopped again if it never does)."""
    process = subprocess.Popen(
        [sys.executable, "-m", "datapalooza", *args],
        cwd=REPO,
        env=dict(os.environ if env is None else env),
    )
    try:
        wait_for_ping(port, process, timeout, path=path)
    except BaseException:
        stop_server(process)
        raise
    return process


def stop_server(process: subprocess.Popen, timeout: float = 15.0) -> None:
    """SIGTERM, then SIGKILL if it has not exited within ``timeout`` seconds."""
    process.terminate()
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def start_endpoint(store: Path, *, workers: int = 1, extra: list[str] | None = None):
    """Start ``datapalooza serve-endpoint`` as a subprocess; returns (process, port)."""
    port = free_port()
    process = start_datapalooza(
        "serve-endpoint",
        "--port",
        str(port),
        "--workers",
        str(workers),
        "--store",
        str(store),
        *(extra or []),
        port=port,
    )
    return process, port


@pytest.fixture
def endpoint_server(tmp_path: Path) -> Iterator[tuple[int, Path]]:
    """A real endpoint server on a free localhost port, storing crops under tmp_path."""
    store = tmp_path / "bucket"
    process, port = start_endpoint(store)
    try:
        yield port, store
    finally:
        stop_server(process)

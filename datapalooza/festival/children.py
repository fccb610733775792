"""Child server processes of the local festival (endpoint, dashboard)."""

from __future__ import annotations

import http.client
import os
import subprocess
import sys
import time
from collections.abc import Mapping, Sequence

from datapalooza.system.lifeline import child_env


class ChildFailed(RuntimeError):
    """A child server did not come up; the message carries its last output."""


class ChildServer:
    """``python -m datapalooza ARGS`` serving HTTP on host:port, ready when ``ready_path``
    answers 200. The child exits within a second of this process's death, SIGKILL
    included (datapalooza.system.lifeline)."""

    def __init__(
        self,
        name: str,
        args: Sequence[str],
        *,
        host: str,
        port: int,
        ready_path: str,
        env: Mapping[str, str] | None = None,
        log_path: str | None = None,
    ) -> None:
        self.name = name
        self.host = host
        self.port = port
        self._args = list(args)
        self._ready_path = ready_path
        self._env = {**os.environ, **(env or {}), **child_env()}
        self._log_path = log_path
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def start(self, timeout_s: float = 90.0) -> None:
        log = open(self._log_path, "ab") if self._log_path else subprocess.DEVNULL  # noqa: SIM115
        self._process = subprocess.Popen(
            [sys.executable, "-m", "datapalooza", *self._args],
            env=self._env,
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                raise ChildFailed(
                    f"the {self.name} exited with status {self._process.returncode}"
                    + (f"; see {self._log_path}" if self._log_path else "")
                )
            if self._answers():
                return
            time.sleep(0.2)
        self.stop()
        raise ChildFailed(f"the {self.name} did not answer on {self.url} in {timeout_s:.0f}s")

    def _answers(self) -> bool:
        connection = http.client.HTTPConnection(self.host, self.port, timeout=2)
        try:
            connection.request("GET", self._ready_path)
            return connection.getresponse().status == 200
        except OSError:
            return False
        finally:
            connection.close()

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process is not None else None

    def alive(self) -> bool:
        return self._process is not None and self._process.poll() is None

    def stop(self, timeout_s: float = 15.0) -> None:
        if self._process is None or self._process.poll() is not None:
            return
        self._process.terminate()
        try:
            self._process.wait(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait()

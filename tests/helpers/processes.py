"""Run this interpreter in a child process to completion, as a user runs a command:
``datapalooza`` commands, or a script in a fresh process. The server processes that
tests start and stop are in tests.conftest (``start_datapalooza``, ``stop_server``)."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from tests.conftest import REPO


def run_python(
    *args: str,
    timeout: float = 120,
    cwd: Path = REPO,
    env: Mapping[str, str] | None = None,
    preexec_fn: Callable[[], None] | None = None,
) -> subprocess.CompletedProcess[str]:
    """``python ARGS`` with this interpreter; stdout and stderr captured as text.
    ``env`` None inherits this process's environment."""
    return subprocess.run(
        [sys.executable, *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=timeout,
        env=None if env is None else dict(env),
        preexec_fn=preexec_fn,
    )


def run_datapalooza(*args: str, **options: Any) -> subprocess.CompletedProcess[str]:
    """``datapalooza ARGS`` run to completion; ``options`` as for ``run_python``."""
    return run_python("-m", "datapalooza", *args, **options)


def without_datapalooza_settings(**extra: str) -> dict[str, str]:
    """This process's environment minus every ``DATAPALOOZA_*`` setting (a developer's
    own must not steer a test's child), plus ``extra``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("DATAPALOOZA_")}
    env.update(extra)
    return env

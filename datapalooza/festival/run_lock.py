"""One ``datapalooza up`` per data directory, and what a killed one left behind.

``{data_dir}/up.pid`` holds the running ``up``'s pid and its children's, under an
exclusive ``flock`` for the life of the process: the kernel releases the lock however
the process ends, SIGKILL included, so a held lock always means a live ``up``. A
file with content but no lock is what a killed ``up`` left: its children should have
stopped with it (datapalooza.system.lifeline); any still running are named with how to stop
them, and the file is taken over.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from datapalooza.system.lifeline import GRACE_S, POLL_S


class RunLocked(RuntimeError):
    """Another ``up`` runs on this data directory, or a previous one's child still
    runs; the message says which process and how to stop it."""


class RunLock:
    """The pid file of a running ``up``; acquire() before starting anything."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._fd: int | None = None

    def acquire(self) -> str | None:
        """Hold the lock; returns a notice for the user when a previous ``up`` did not
        stop cleanly, raises RunLocked when another still runs."""
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            previous = _parse(os.read(fd, 65536))
            os.close(fd)
            pid = previous.get("pid", "?")
            raise RunLocked(
                f"a previous `datapalooza up` (pid {pid}) is still running on "
                f"{self.path.parent}; stop it (Ctrl-C in its terminal, or `kill {pid}`) "
                "or use another --data-dir"
            ) from None
        try:
            previous = _parse(os.read(fd, 65536))
            notice = _left_behind(previous) if previous else None
        except BaseException:
            os.close(fd)
            raise
        self._fd = fd
        self.record({})
        return notice

    def record(self, children: Mapping[str, int | None]) -> None:
        """Write this ``up``'s pid and its children's (name -> pid)."""
        assert self._fd is not None, "acquire() first"
        state = {
            "pid": os.getpid(),
            "children": {name: pid for name, pid in children.items() if pid is not None},
        }
        os.ftruncate(self._fd, 0)
        os.pwrite(self._fd, json.dumps(state).encode(), 0)

    def release(self) -> None:
        """An empty, unlocked file: this ``up`` stopped cleanly."""
        if self._fd is None:
            return
        with contextlib.suppress(OSError):
            os.ftruncate(self._fd, 0)
        os.close(self._fd)
        self._fd = None


def _parse(raw: bytes) -> dict[str, Any]:
    try:
        data = json.loads(raw or b"{}")
    except ValueError:
        return {"pid": "?"}  # a torn write of a killed `up`: still a sign it was killed
    return data if isinstance(data, dict) else {"pid": "?"}


def _left_behind(previous: Mapping[str, Any]) -> str:
    children = previous.get("children")
    children = children if isinstance(children, dict) else {}
    # They stop on their own within POLL_S of their parent's death, GRACE_S at most.
    deadline = time.monotonic() + GRACE_S + 2 * POLL_S
    running = {n: p for n, p in children.items() if isinstance(p, int) and _is_ours(p)}
    while running and time.monotonic() < deadline:
        time.sleep(POLL_S)
        running = {n: p for n, p in running.items() if _is_ours(p)}
    if running:
        listed = ", ".join(f"the {name} (pid {pid})" for name, pid in sorted(running.items()))
        pids = " ".join(str(p) for p in sorted(running.values()))
        raise RunLocked(
            f"a previous `datapalooza up` (pid {previous.get('pid', '?')}) was killed, but "
            f"{listed} still run; stop them with `kill {pids}` and start again"
        )
    return (
        f"a previous `datapalooza up` (pid {previous.get('pid', '?')}) did not stop cleanly; "
        "its servers are gone and its pid file was taken over. Unscored crops are scored now"
    )


def _is_ours(pid: int) -> bool:
    """Whether ``pid`` runs and is a datapalooza process (not a recycled pid)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return False  # another user's process: a recycled pid, not ours
    proc = Path(f"/proc/{pid}")
    if not proc.exists():  # no /proc (macOS): trust the pid
        return True
    try:
        state = (proc / "stat").read_text().rsplit(")", 1)[1].split()[0]
        return state != "Z" and b"datapalooza" in (proc / "cmdline").read_bytes()
    except (OSError, IndexError):
        return False

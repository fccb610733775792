"""Child processes that exit when their parent dies, however it dies.

``datapalooza up`` starts the endpoint and the dashboard as child processes, and the
endpoint starts its own worker processes. If ``up`` is killed with SIGKILL, nothing
runs its cleanup, and the children would keep the ports and keep writing. So a parent
names itself in the child's environment (``child_env``), and the child runs a watchdog
thread (``exit_with_parent``) that notices, within ``POLL_S``, that its parent is gone
(``os.getppid()`` changes when a process is re-parented) and stops itself: SIGTERM
first, so servers close cleanly and stop their own workers, then a hard exit.

Why a watchdog and not Linux's PR_SET_PDEATHSIG: the parent-death signal needs a
``preexec_fn``, which Python documents as unsafe when the parent has threads (``up``
runs its tracker and cameras in threads while it starts children), it fires when the
forking *thread* exits rather than the process, and it exists only on Linux. Polling
``getppid`` costs one system call every POLL_S and works on macOS as well. The parent
pid is passed explicitly, so a parent that dies before the watchdog starts is noticed too.
"""

from __future__ import annotations

import logging
import os
import signal
import threading
import time
from collections.abc import Mapping

from datapalooza.constants import ENV_PARENT_PID

log = logging.getLogger(__name__)

POLL_S = 1.0
"""How often a child checks its parent. Each look wakes the process: at 4 a second that
cost each child 0.6 ms of CPU a second on the benchmarks' VM, for a parent that dies
once (bench/festival.py counts it in every frame)."""
GRACE_S = 5.0
"""How long a child whose parent died may take to stop cleanly before it is ended."""


def child_env() -> dict[str, str]:
    """Environment entries that make a child started now exit when this process dies."""
    return {ENV_PARENT_PID: str(os.getpid())}


def exit_with_parent(env: Mapping[str, str] | None = None) -> bool:
    """Start the watchdog when the environment names a parent (``child_env``); returns
    whether one was started. Children of this process are then told to watch it."""
    raw = (os.environ if env is None else env).get(ENV_PARENT_PID, "")
    if not raw.isdigit() or int(raw) == os.getpid():  # not asked, or already watching
        return False
    parent = int(raw)
    os.environ[ENV_PARENT_PID] = str(os.getpid())  # our own children watch us
    threading.Thread(target=_watch, args=(parent,), name="lifeline", daemon=True).start()
    return True


def _watch(parent: int) -> None:
    while os.getppid() == parent:
        time.sleep(POLL_S)
    log.warning("parent process %d is gone: stopping (pid %d)", parent, os.getpid())
    os.kill(os.getpid(), signal.SIGTERM)
    time.sleep(GRACE_S)
    os._exit(1)

"""What the local HTTP servers (the endpoint and the dashboard) allow a client: one
place for the limits both pass to uvicorn.

uvicorn closes an idle connection only after a response (``timeout_keep_alive``); a
connection that never sends a request stayed open for ever, so a few thousand of them
used up the server's file descriptors and ``/ping`` stopped answering. Here the same
timeout also bounds the wait for a request's head: from the connection's start, or
from the previous response, a client has ``keep_alive_s`` to send it, trickled or not.
Past ``max_connections`` open connections (or running requests) per worker process,
uvicorn answers 503 at once instead of queueing.
"""

from __future__ import annotations

import asyncio
import resource
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from uvicorn.protocols.http.h11_impl import H11Protocol

from datapalooza.settings import SettingsError, check_range, settings_values

ENV_KEEP_ALIVE_S = "DATAPALOOZA_HTTP_KEEP_ALIVE_S"
ENV_MAX_CONNECTIONS = "DATAPALOOZA_HTTP_MAX_CONNECTIONS"


@dataclass(frozen=True, slots=True, kw_only=True)
class ServerLimits:
    """Per worker process. ``keep_alive_s``: an idle connection (no request head yet,
    or none since the last response) is closed after this. ``max_connections``: open
    connections or running requests beyond this get 503. ``backlog``: connections
    the kernel queues before accept. ``max_header_bytes``: a request head larger than
    this gets 400. ``open_files``: the soft RLIMIT_NOFILE the server raises itself to
    (within the hard limit), so ``max_connections`` is reached before file descriptors
    run out."""

    keep_alive_s: int = 5
    max_connections: int = 256
    backlog: int = 256
    max_header_bytes: int = 16 * 1024
    open_files: int = 4096

    def __post_init__(self) -> None:
        check_range("keep_alive_s", self.keep_alive_s, 1, 300)
        check_range("max_connections", self.max_connections, 1, 10_000)
        check_range("backlog", self.backlog, 1, 65_535)
        check_range("max_header_bytes", self.max_header_bytes, 1024, 1024 * 1024)
        check_range("open_files", self.open_files, 64, 1_048_576)

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> ServerLimits:
        """Defaults, or DATAPALOOZA_HTTP_KEEP_ALIVE_S / DATAPALOOZA_HTTP_MAX_CONNECTIONS."""
        readers = {
            "keep_alive_s": (ENV_KEEP_ALIVE_S, int),
            "max_connections": (ENV_MAX_CONNECTIONS, int),
        }
        return cls(**settings_values(env, readers, {}, error=SettingsError))

    def uvicorn_options(self) -> dict[str, Any]:
        """Keyword arguments for ``uvicorn.run``; raises the open-files limit first."""
        raise_open_files(self.open_files)
        return {
            "http": IdleClosingH11Protocol,
            "timeout_keep_alive": self.keep_alive_s,
            "limit_concurrency": self.max_connections,
            "backlog": self.backlog,
            "h11_max_incomplete_event_size": self.max_header_bytes,
            "timeout_graceful_shutdown": self.keep_alive_s,
        }


def raise_open_files(wanted: int) -> int:
    """Raise the soft RLIMIT_NOFILE towards ``wanted`` (never above the hard limit, never
    lower than it is); returns the soft limit in force. Worker processes inherit it."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
    if target > soft:
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
        return target
    return soft


class IdleClosingH11Protocol(H11Protocol):
    """uvicorn's h11 protocol, plus a deadline for each request's head (see module doc)."""

    _head_deadline: float = 0.0

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._head_deadline = self.loop.time() + self.timeout_keep_alive
        self._arm_idle_timer()

    def data_received(self, data: bytes) -> None:
        super().data_received(data)  # cancels the timer; may start a request
        self._arm_idle_timer()

    def on_response_complete(self) -> None:
        self._head_deadline = self.loop.time() + self.timeout_keep_alive
        super().on_response_complete()  # arms uvicorn's own keep-alive timer

    def _arm_idle_timer(self) -> None:
        waiting_for_head = self.cycle is None or self.cycle.response_complete
        if not waiting_for_head or self.transport.is_closing():
            return
        if self.timeout_keep_alive_task is not None:
            self.timeout_keep_alive_task.cancel()
        remaining = max(0.0, self._head_deadline - self.loop.time())
        self.timeout_keep_alive_task = self.loop.call_later(
            remaining, self.timeout_keep_alive_handler
        )

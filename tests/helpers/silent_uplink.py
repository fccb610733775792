"""A server that accepts TCP connections and never answers: an uplink that hangs (a
captive portal, a NAT that dropped its mapping, a proxy that died mid-request)."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager


class SilentUplink:
    """Its ``url`` (http://127.0.0.1:PORT), and how many ``connections`` it accepted."""

    def __init__(self, url: str, held: list[socket.socket]) -> None:
        self.url = url
        self._held = held

    @property
    def connections(self) -> int:
        return len(self._held)


@contextmanager
def silent_uplink() -> Iterator[SilentUplink]:
    """A server that runs for the block; the connections it accepted are held open,
    unread and unanswered, until the block ends."""
    listener = socket.create_server(("127.0.0.1", 0), backlog=64)
    held: list[socket.socket] = []

    def accept_forever() -> None:
        while True:
            try:
                connection, _ = listener.accept()
            except OSError:  # closed: the block ended
                return
            held.append(connection)

    threading.Thread(target=accept_forever, name="silent-uplink", daemon=True).start()
    try:
        yield SilentUplink(f"http://127.0.0.1:{listener.getsockname()[1]}", held)
    finally:
        listener.close()
        for connection in held:
            connection.close()

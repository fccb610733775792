"""A server that accepts TCP connections and never answers: an uplink that hangs (a
captive portal, a NAT that dropped its mapping, a proxy that died mid-request)."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def silent_uplink() -> Iterator[str]:
    """Its URL (http://127.0.0.1:PORT) while it runs; the connections it accepted are
    held open, unread and unanswered, until the block ends."""
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
        yield f"http://127.0.0.1:{listener.getsockname()[1]}"
    finally:
        listener.close()
        for connection in held:
            connection.close()

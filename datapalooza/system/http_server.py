"""Running the local HTTP servers (the endpoint and the dashboard): one place that
starts uvicorn with the limits of ``http_limits`` and a quieter housekeeping tick.

uvicorn wakes its event loop every 0.1 s, with or without requests, to refresh the
``Date`` header (once a second) and to see whether a signal asked it to stop. An idle
server costs that wake-up ten times a second: 2 ms of CPU a second per server on the
2-core VM the benchmarks run on (bench/festival.py counts it in every frame), against
0.3 ms a second with the tick at 0.5 s. ``QuietServer`` ticks every ``TICK_S``; the
``Date`` header still changes once a second, and Ctrl-C or SIGTERM starts the shutdown
within ``TICK_S`` instead of 0.1 s.

Several endpoint workers run under uvicorn's own supervisor, whose workers keep
uvicorn's tick: the supervisor builds their servers itself.
"""

from __future__ import annotations

import asyncio
import contextlib
import sys
from typing import Any

import uvicorn
from uvicorn.supervisors import Multiprocess

from datapalooza.system.http_limits import ServerLimits

TICK_S = 0.5
"""How often an idle server wakes up (uvicorn's own: 0.1 s)."""
_UVICORN_TICK_S = 0.1  # what uvicorn's on_tick counts in
_STARTUP_FAILURE = 3  # uvicorn.run's exit status when the server did not start


class QuietServer(uvicorn.Server):
    """uvicorn's Server, waking every TICK_S instead of every 0.1 s (see module doc)."""

    async def main_loop(self) -> None:
        # on_tick counts uvicorn's 0.1 s ticks (the Date header changes when the count
        # is a multiple of 10), so each of our ticks advances it by as many.
        step = round(TICK_S / _UVICORN_TICK_S)
        counter = 0
        should_exit = await self.on_tick(counter)
        while not should_exit:
            counter = (counter + step) % 864_000
            await asyncio.sleep(TICK_S)
            should_exit = await self.on_tick(counter)


def serve(
    app: Any,
    *,
    host: str,
    port: int,
    limits: ServerLimits,
    workers: int = 1,
    factory: bool = False,
) -> None:
    """Serve ``app`` (an ASGI app, or with ``workers`` > 1 its import string) until a
    signal stops it; exits with uvicorn's status 3 if it could not start."""
    config = uvicorn.Config(
        app,
        host=host,
        port=port,
        workers=workers,
        factory=factory,
        log_level="warning",
        access_log=False,
        **limits.uvicorn_options(),
    )
    if workers > 1:
        Multiprocess(config, sockets=[config.bind_socket()]).run()
        return
    server = QuietServer(config)
    with contextlib.suppress(KeyboardInterrupt):  # a second Ctrl-C: stop at once
        server.run()
    if not server.started:
        sys.exit(_STARTUP_FAILURE)

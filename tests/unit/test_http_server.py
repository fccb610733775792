"""The local servers' quieter uvicorn tick (datapalooza.system.http_server)."""

from __future__ import annotations

import asyncio

import pytest
import uvicorn

from datapalooza.system.http_server import TICK_S, QuietServer


async def _app(scope: object, receive: object, send: object) -> None:  # pragma: no cover
    return None


def test_quiet_server_wakes_every_tick_and_keeps_the_date_header_to_the_second(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    server = QuietServer(uvicorn.Config(_app, log_level="warning"))
    counters: list[int] = []
    slept: list[float] = []

    async def on_tick(counter: int) -> bool:
        counters.append(counter)
        return len(counters) == 6

    async def sleep(seconds: float) -> None:
        slept.append(seconds)

    monkeypatch.setattr(server, "on_tick", on_tick)
    monkeypatch.setattr(asyncio, "sleep", sleep)
    asyncio.run(server.main_loop())

    assert slept == [TICK_S] * 5
    # uvicorn refreshes the Date header when its 0.1 s tick count is a multiple of 10:
    # the count must advance by TICK_S worth of uvicorn's ticks, so once a second.
    assert counters == [round(i * TICK_S / 0.1) for i in range(6)]
    refreshes = [c for c in counters if c % 10 == 0]
    assert len(refreshes) == 1 + int(5 * TICK_S)


@pytest.mark.serial  # timed to half a second over one tick, too little beside another test's load
def test_a_stop_request_is_seen_within_one_tick() -> None:
    server = QuietServer(uvicorn.Config(_app, log_level="warning"))

    async def stop_later() -> float:
        loop = asyncio.get_running_loop()
        started = loop.time()
        task = asyncio.create_task(server.main_loop())
        await asyncio.sleep(0.05)
        server.should_exit = True
        await task
        return loop.time() - started

    took = asyncio.run(stop_later())
    assert took <= TICK_S + 0.5


def test_the_tick_is_slower_than_uvicorns_but_stays_under_a_second() -> None:
    # Slower than 0.1 s is the point. The Date header is refreshed on whole seconds of
    # uvicorn's count, so the tick must divide a second into whole uvicorn ticks.
    assert 0.1 < TICK_S < 1.0
    assert round(TICK_S / 0.1) * 0.1 == pytest.approx(TICK_S)
    assert round(1 / TICK_S) * TICK_S == pytest.approx(1.0)

"""The frame loop both device programs run: a source that stays unavailable is closed
and opened afresh."""

from __future__ import annotations

import pytest

from datapalooza.devices.frame_loop import (
    UNAVAILABLE_READS_BEFORE_REOPEN,
    FrameLoop,
    LoopCounters,
)
from datapalooza.domain.backoff import Backoff
from datapalooza.sources.base import Frame, SourceUnavailable
from datapalooza.testing.fakes import FakeSource


class DeadSource(FakeSource):
    """A live source whose capture thread died: every read is unavailable, for ever."""

    name = "dead"

    def __init__(self, closes: list[str]) -> None:
        super().__init__()
        self.closes = closes

    def read(self) -> Frame:
        raise SourceUnavailable("no frame from webcam:0 within 5s (starting)")

    def close(self) -> None:
        self.closes.append(self.name)


def loop_over(opener: object, counters: LoopCounters) -> FrameLoop:
    return FrameLoop(
        name="test camera",
        open_source=opener,  # type: ignore[arg-type]
        counters=counters,
        interval_s=0.0,
        backoff=Backoff(base_s=0.001, cap_s=0.002),
    )


def test_a_source_unavailable_read_after_read_is_closed_and_a_new_one_opened() -> None:
    """A source the loop opened was never reopened: a dead capture thread meant
    SourceUnavailable for every read until the process restarted."""
    opened: list[str] = []
    closes: list[str] = []

    def opener() -> FakeSource:
        opened.append("open")
        return DeadSource(closes) if len(opened) == 1 else FakeSource()

    counters = LoopCounters()
    loop = loop_over(opener, counters)
    for _ in range(UNAVAILABLE_READS_BEFORE_REOPEN):
        assert loop.read() is None
    assert closes == ["dead"] and len(opened) == 1  # closed now, reopened at the next read
    frame = loop.read()
    assert frame is not None and len(opened) == 2
    assert counters.source_errors == UNAVAILABLE_READS_BEFORE_REOPEN


def test_a_source_that_misses_a_frame_now_and_then_is_kept() -> None:
    reads = iter([True, False, False, True, False, False, True])

    class Flaky(FakeSource):
        def read(self) -> Frame:
            if next(reads):
                raise SourceUnavailable("a slow frame")
            return super().read()

    opened: list[Flaky] = []

    def opener() -> Flaky:
        opened.append(Flaky())
        return opened[-1]

    loop = loop_over(opener, LoopCounters())
    got = [loop.read() for _ in range(7)]
    assert [frame is None for frame in got] == [True, False, False, True, False, False, True]
    assert len(opened) == 1  # never two unavailable reads in a row: the same source


def test_a_source_that_cannot_even_close_is_dropped_and_a_new_one_opened(
    caplog: pytest.LogCaptureFixture,
) -> None:
    class Stuck(DeadSource):
        def close(self) -> None:
            raise OSError("device busy")

    opened: list[str] = []

    def opener() -> FakeSource:
        opened.append("open")
        return Stuck([]) if len(opened) == 1 else FakeSource()

    loop = loop_over(opener, LoopCounters())
    for _ in range(UNAVAILABLE_READS_BEFORE_REOPEN):
        loop.read()
    assert loop.read() is not None and len(opened) == 2
    assert "closing the source failed" in caplog.text

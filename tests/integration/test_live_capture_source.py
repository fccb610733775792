"""Live captures (webcam, stream): a reader thread keeps the newest frame, a vanished
camera is reopened, and close() never hangs. Threads and real sleeps: not a unit test."""

from __future__ import annotations

import threading
import time
from typing import Any

import numpy as np
import pytest

from datapalooza.domain.backoff import Backoff
from datapalooza.sources import SourceUnavailable
from datapalooza.sources.opencv import LiveCaptureSource


class FakeCapture:
    """Delivers numbered frames as fast as asked; can run dry after ``limit`` frames."""

    def __init__(self, counter: list[int], *, opened: bool = True, limit: int | None = None):
        self.counter, self.opened, self.limit, self.delivered = counter, opened, limit, 0

    def isOpened(self) -> bool:
        return self.opened

    def read(self) -> tuple[bool, Any]:
        if self.limit is not None and self.delivered >= self.limit:
            return False, None
        time.sleep(0.002)
        self.delivered += 1
        self.counter[0] += 1
        return True, np.full((4, 4, 3), self.counter[0] % 256, np.uint8)

    def release(self) -> None:
        self.opened = False


def test_live_source_keeps_only_the_newest_frame() -> None:
    counter = [0]
    source = LiveCaptureSource(0, name="webcam:0", opener=lambda _t: FakeCapture(counter))
    try:
        source.read()
        time.sleep(0.2)  # the camera keeps delivering while nobody reads
        frame = source.read()
        assert int(frame.image[0, 0, 0]) >= (counter[0] - 3) % 256  # (nearly) the newest
        assert source.frames_skipped > 10  # and the ones in between were dropped, not queued
    finally:
        source.close()


def test_live_source_that_vanishes_is_reopened() -> None:
    counter = [0]
    opens: list[int] = []

    def opener(_target: int | str) -> FakeCapture:
        opens.append(1)
        if len(opens) == 1:
            return FakeCapture(counter, limit=3)  # delivers 3 frames, then the cable is pulled
        if len(opens) <= 3:
            return FakeCapture(counter, opened=False)  # not there for two attempts
        return FakeCapture(counter)

    source = LiveCaptureSource(
        "rtsp://cam",
        name="rtsp://cam",
        opener=opener,
        read_timeout_s=2.0,
        reconnect=Backoff(base_s=0.01, cap_s=0.02),
    )
    try:
        source.read()
        deadline = time.monotonic() + 5
        while len(opens) < 4 and time.monotonic() < deadline:
            time.sleep(0.01)
        assert source.read().image.shape == (4, 4, 3)  # frames again after reconnecting
        assert source.reconnects >= 3
    finally:
        source.close()


def test_live_source_without_frames_raises_unavailable_then_closes_cleanly() -> None:
    source = LiveCaptureSource(
        7,
        name="webcam:7",
        opener=lambda _t: FakeCapture([0], opened=False),
        read_timeout_s=0.1,
        reconnect=Backoff(base_s=0.01, cap_s=0.02),
    )
    with pytest.raises(SourceUnavailable, match=r"no frame from webcam:7 within 0\.1s"):
        source.read()
    closer = threading.Thread(target=source.close)
    closer.start()
    closer.join(5)
    assert not closer.is_alive()

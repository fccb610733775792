"""Live captures (webcam, stream): a reader thread keeps the newest frame, a vanished
camera is reopened, and close() never hangs. Threads and real sleeps: not a unit test."""

from __future__ import annotations

import threading
import time
from typing import Any

import numpy as np
import pytest

from datapalooza.devices.frame_loop import FrameLoop, LoopCounters
from datapalooza.domain.backoff import Backoff
from datapalooza.sources import SourceUnavailable
from datapalooza.sources.opencv import MAX_BAD_FRAMES_IN_A_ROW, LiveCaptureSource


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


class ScriptedCapture:
    """Delivers what ``script`` says, one item a read: "good" (a 4x4 BGR frame), "two"
    (a 2-channel frame, as a broken driver gives), "empty" (a 0x0 frame), "raise" (the
    read itself raises, as cv2 does on a backend error); then good frames forever."""

    def __init__(self, script: list[str]) -> None:
        self.script = list(script)
        self.released = False

    def isOpened(self) -> bool:
        return True

    def read(self) -> tuple[bool, Any]:
        time.sleep(0.002)
        what = self.script.pop(0) if self.script else "good"
        if what == "raise":
            raise RuntimeError("backend error reading the device")
        if what == "two":
            return True, np.zeros((4, 4, 2), np.uint8)
        if what == "empty":
            return True, np.zeros((0, 0, 3), np.uint8)
        return True, np.full((4, 4, 3), 7, np.uint8)

    def release(self) -> None:
        self.released = True


def test_bad_frames_are_skipped_and_counted_and_capture_goes_on() -> None:
    """One frame _to_rgb could not convert, or one read that raised, ended the capture
    thread: every later read was SourceUnavailable, for good."""
    capture = ScriptedCapture(["two", "empty", "raise", "good", "two"])
    source = LiveCaptureSource(0, name="webcam:0", opener=lambda _t: capture, read_timeout_s=2.0)
    try:
        assert source.read().image.shape == (4, 4, 3)
        time.sleep(0.05)
        assert source.read().image.shape == (4, 4, 3)  # still delivering after the last bad one
        assert source.bad_frames == 4 and source.reconnects == 0
    finally:
        source.close()


def quickly_reconnecting(opener: Any) -> LiveCaptureSource:
    """A webcam source whose reconnects wait 10-20 ms, for the tests of what reopens it."""
    return LiveCaptureSource(
        0,
        name="webcam:0",
        opener=opener,
        read_timeout_s=2.0,
        reconnect=Backoff(base_s=0.01, cap_s=0.02),
    )


def test_a_device_that_sends_only_bad_frames_is_reopened() -> None:
    opened: list[ScriptedCapture] = []

    def opener(_target: int | str) -> ScriptedCapture:
        opened.append(ScriptedCapture(["two"] * (MAX_BAD_FRAMES_IN_A_ROW if not opened else 0)))
        return opened[-1]

    source = quickly_reconnecting(opener)
    try:
        assert source.read().image.shape == (4, 4, 3)
        assert len(opened) == 2 and opened[0].released and source.reconnects == 1
        assert source.bad_frames == MAX_BAD_FRAMES_IN_A_ROW
    finally:
        source.close()


def test_an_opener_that_raises_is_retried_with_backoff() -> None:
    """An exception from the opener (cv2.VideoCapture on a backend error) ended the
    capture thread before its first frame."""
    attempts: list[int] = []

    def opener(_target: int | str) -> ScriptedCapture:
        attempts.append(1)
        if len(attempts) <= 2:
            raise RuntimeError("VIDEOIO ERROR: V4L: can't open camera by index")
        return ScriptedCapture([])

    source = quickly_reconnecting(opener)
    try:
        assert source.read().image.shape == (4, 4, 3)
        assert len(attempts) == 3 and source.reconnects == 2
    finally:
        source.close()


@pytest.mark.filterwarnings("ignore::pytest.PytestUnhandledThreadExceptionWarning")
def test_the_frame_loop_replaces_a_live_source_whose_thread_ended() -> None:
    """Whatever ends a capture thread (here SystemExit from the driver, which no except
    Exception catches), the loop's reads fail at once and it opens a new source."""
    sources: list[LiveCaptureSource] = []
    opens: list[int] = []

    def opener(_target: int | str) -> ScriptedCapture:
        opens.append(1)
        if len(opens) == 1:
            raise SystemExit("the driver gave up")
        return ScriptedCapture([])

    def open_source() -> LiveCaptureSource:
        sources.append(LiveCaptureSource(0, name="webcam:0", opener=opener, read_timeout_s=2.0))
        if len(sources) == 1:
            sources[0]._thread.join(1)  # its thread has ended by the first read
        return sources[-1]

    loop = FrameLoop(
        name="camera",
        open_source=open_source,
        counters=LoopCounters(),
        interval_s=0.0,
        backoff=Backoff(base_s=0.01, cap_s=0.02),
    )
    try:
        frames = [loop.read() for _ in range(5)]
        assert frames[:3] == [None, None, None]  # at once, not after the read timeout
        assert frames[3] is not None and len(sources) == 2
    finally:
        loop.close()

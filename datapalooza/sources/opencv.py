"""Frame sources backed by OpenCV's VideoCapture: webcams, video files, stream URLs.

Live sources (a webcam index, an RTSP/HTTP URL) run a reader thread that keeps only the
newest frame: the camera delivers 30 fps while the consumer may take one frame every few
seconds, and queueing would grow memory and serve stale frames. When the device vanishes
the thread releases it and reopens it with backoff, forever, until closed. Nothing a
camera or a stream sends ends the thread: a frame that cannot be read or converted is
skipped and counted, and an opener that raises is retried like one that fails.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any, Protocol

import cv2
import numpy as np

from datapalooza.domain.backoff import Backoff
from datapalooza.ports import RGBImage
from datapalooza.sources.base import (
    Clock,
    Frame,
    SourceBase,
    SourceExhausted,
    SourceUnavailable,
    frame_id_for,
    utc_now,
)

log = logging.getLogger(__name__)

MAX_BAD_FRAMES_IN_A_ROW = 30
"""Frames in a row that cannot be read or converted before the live capture is released
and reopened (with backoff): about a second of a 30 fps camera, so a glitch costs a frame
or two while a device that sends nothing usable is reopened rather than spun on."""


class Capture(Protocol):
    """The part of cv2.VideoCapture the sources use (a fake in unit tests)."""

    def isOpened(self) -> bool: ...  # OpenCV's name

    def read(self) -> tuple[bool, Any]: ...

    def release(self) -> None: ...


def _to_rgb(bgr: Any) -> RGBImage:
    """An RGB copy of OpenCV's BGR, BGRA or grey frame; ValueError for anything else (an
    empty frame, a 2-channel one a broken driver delivers)."""
    array = np.asarray(bgr)
    if (
        array.size == 0
        or array.ndim not in (2, 3)
        or (array.ndim == 3 and array.shape[2] not in (1, 3, 4))
    ):
        raise ValueError(f"not a grey, BGR or BGRA image: shape {array.shape}, {array.dtype}")
    if array.ndim == 3 and array.shape[2] == 1:
        array = array[:, :, 0]
    if array.ndim == 2:
        return np.ascontiguousarray(cv2.cvtColor(array, cv2.COLOR_GRAY2RGB))
    if array.shape[2] == 4:
        return np.ascontiguousarray(cv2.cvtColor(array, cv2.COLOR_BGRA2RGB))
    return np.ascontiguousarray(cv2.cvtColor(array, cv2.COLOR_BGR2RGB))


def open_video_capture(target: int | str) -> Capture:
    """Open a cv2.VideoCapture (a webcam index, a file path or a URL)."""
    capture: Capture = cv2.VideoCapture(target)
    return capture


class VideoFileSource(SourceBase):
    """Every frame of a video file in order (no frames skipped); ``loop`` replays it."""

    def __init__(
        self,
        path: str,
        *,
        loop: bool = False,
        clock: Clock = utc_now,
        opener: Callable[[str], Capture] = open_video_capture,
    ) -> None:
        self.name = f"file:{path}"
        self._path = path
        self._loop = loop
        self._clock = clock
        self._opener = opener
        self._capture = opener(path)
        if not self._capture.isOpened():
            self._capture.release()
            raise SourceUnavailable(f"cannot open video file {path!r} (missing or not a video)")
        self._index = 0

    def read(self) -> Frame:
        ok, bgr = self._capture.read()
        if not ok and self._loop and self._index > 0:
            self._capture.release()
            self._capture = self._opener(self._path)
            ok, bgr = self._capture.read()
        if not ok or bgr is None:
            raise SourceExhausted(f"end of {self.name} after {self._index} frames")
        frame = Frame(_to_rgb(bgr), frame_id_for(self._index), self._clock(), self._index)
        self._index += 1
        return frame

    def close(self) -> None:
        self._capture.release()


class LiveCaptureSource(SourceBase):
    """A webcam or a stream URL, read by a background thread that keeps the newest frame.

    ``read()`` returns the newest frame not returned before, waiting up to
    ``read_timeout_s``; if none arrives (device gone, stream down) it raises
    SourceUnavailable while the thread keeps reconnecting with backoff.
    """

    def __init__(
        self,
        target: int | str,
        *,
        name: str,
        clock: Clock = utc_now,
        opener: Callable[[int | str], Capture] = open_video_capture,
        read_timeout_s: float = 5.0,
        reconnect: Backoff | None = None,
    ) -> None:
        self.name = name
        self._target = target
        self._clock = clock
        self._opener = opener
        self._read_timeout_s = read_timeout_s
        self._reconnect = reconnect or Backoff(base_s=0.5, cap_s=10.0)
        self._cond = threading.Condition()
        self._latest: RGBImage | None = None
        self._latest_seq = 0
        self._returned_seq = 0
        self._index = 0
        self._status = "starting"
        self.reconnects = 0
        self.frames_skipped = 0  # good frames replaced by a newer one before anyone read them
        self.bad_frames = 0  # frames that could not be read or converted
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"capture-{name}", daemon=True)
        self._thread.start()

    @property
    def status(self) -> str:
        with self._cond:
            return self._status

    def _set_status(self, status: str) -> None:
        with self._cond:
            self._status = status

    def _run(self) -> None:
        while not self._stop.is_set():
            why = self._capture_until_it_fails()
            if not self._stop.is_set():
                self._wait_before_reconnect(why)

    def _capture_until_it_fails(self) -> str:
        """Open the device and deliver its frames until it fails or the source is closed;
        why it stopped. Nothing raised here ends the thread: the device is reopened."""
        try:
            capture = self._opener(self._target)
        except Exception as exc:  # a driver or backend error: retried like a failed open
            return f"cannot open {self.name} ({exc!r})"
        try:
            if not capture.isOpened():
                return f"cannot open {self.name}"
            self._set_status("open")
            return self._deliver_frames(capture)
        except Exception as exc:
            return f"{self.name} failed ({exc!r})"
        finally:
            _release(capture, self.name)

    def _deliver_frames(self, capture: Capture) -> str:
        """Read frames and keep the newest, until the capture ends or the source is closed;
        why it stopped. A frame that cannot be read or converted is skipped, logged once
        per run of them, and counted in ``bad_frames``."""
        bad_in_a_row = 0
        while not self._stop.is_set():
            try:
                ok, bgr = capture.read()
                if not ok or bgr is None:
                    return f"{self.name} stopped delivering frames"
                image = _to_rgb(bgr)
            except Exception as exc:
                self.bad_frames += 1
                bad_in_a_row += 1
                if bad_in_a_row == 1:
                    log.warning("%s: skipping a frame that could not be read: %r", self.name, exc)
                if bad_in_a_row >= MAX_BAD_FRAMES_IN_A_ROW:
                    return f"{self.name} sent {bad_in_a_row} bad frames in a row (last: {exc!r})"
                continue
            bad_in_a_row = 0
            self._keep_newest(image)
            self._reconnect.reset()
        return f"{self.name} is closed"

    def _keep_newest(self, image: RGBImage) -> None:
        with self._cond:
            if self._latest_seq > self._returned_seq:
                self.frames_skipped += 1  # newest wins: the unread one is dropped
            self._latest = image
            self._latest_seq += 1
            self._cond.notify_all()

    def _wait_before_reconnect(self, why: str) -> None:
        delay = self._reconnect.next_delay()
        self.reconnects += 1
        self._set_status(f"reconnecting: {why}")
        log.warning("%s; reconnecting in %.1fs (attempt %d)", why, delay, self.reconnects)
        self._stop.wait(delay)

    def read(self) -> Frame:
        if not self._thread.is_alive() and not self._stop.is_set():
            # Only a BaseException ends it; say so at once rather than time out forever.
            raise SourceUnavailable(f"{self.name}: its capture thread has ended")
        with self._cond:
            got = self._cond.wait_for(
                lambda: self._latest_seq > self._returned_seq or self._stop.is_set(),
                timeout=self._read_timeout_s,
            )
            if self._stop.is_set():
                raise SourceExhausted(f"{self.name} is closed")
            if not got or self._latest is None:
                raise SourceUnavailable(
                    f"no frame from {self.name} within {self._read_timeout_s:g}s ({self._status})"
                )
            image = self._latest
            self._returned_seq = self._latest_seq
            index = self._index
            self._index += 1
        return Frame(image, frame_id_for(index), self._clock(), index)

    def close(self) -> None:
        self._stop.set()
        with self._cond:
            self._cond.notify_all()
        self._thread.join(timeout=5.0)


def _release(capture: Capture, name: str) -> None:
    try:
        capture.release()
    except Exception as exc:  # the device is reopened anyway
        log.warning("%s: releasing the capture failed: %r", name, exc)

"""The edge service (Challenge 3): inference on the device.

A loop reads frames, runs the same face detector as the endpoint, crops the faces big
enough to score, and puts only the crops into the faces bucket: one crop sheet per frame
(``datapalooza/crop_sheets.py``), which the tracker cuts back into the crops the
endpoint would have stored, under the same crop keys. Every sheet goes through the
on-disk ForwardQueue first, so an outage or a crash loses nothing that was captured.
Stats (fps, faces, bytes uploaded, queue depth) go out over MQTT on
``datapalooza/{stage}/edge-stats``.

Two threads share the queue: the frame loop only queues sheets, and an uploader thread
uploads them (``drain``) and expires the ones past the queue's age. So capture keeps its
pace whatever the uplink does (an upload can hang for its client's timeouts), and
uploads and expiry go on while the camera is away or the disk refuses new sheets.

Privacy: frames live in memory only for the time it takes to detect faces; the only
image of a frame ever written is the optional blurred, pixelated preview.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, ClassVar

from datapalooza import constants
from datapalooza.detection.face_crops import find_faces, pack_sheets
from datapalooza.detection.settings import DetectorSettings
from datapalooza.devices.forward_queue import ForwardQueue, QueueFull
from datapalooza.devices.frame_loop import DeviceSettings, FrameLoop, LoopCounters
from datapalooza.devices.preview import PREVIEW_TEMP_PREFIX, blurred_preview, write_preview
from datapalooza.domain.backoff import Backoff
from datapalooza.domain.frame_attributes import FrameAttributes
from datapalooza.domain.keys import InvalidKey, parse_object_key
from datapalooza.ports import FaceDetector, FaceStore, Publisher, StoreError
from datapalooza.settings import EnvReaders, SettingsError
from datapalooza.sources.base import Frame, FrameSource
from datapalooza.system.stale_files import remove_stale_temp_files

log = logging.getLogger(__name__)

UPLOAD_ROUND_S = 1.0
"""How long the uploader uploads a backlog before it looks whether the service is
stopping: a stop waits for this, and for the upload in flight."""
EXPIRE_EVERY_S = 60.0
"""How often the uploader wakes when nothing can be uploaded (an empty queue, a store
that failed and waits for its backoff), to expire the entries past ``queue_max_age_s``:
an entry outlives that limit (24 h by default) by at most this."""


class EdgeSettingsError(SettingsError):
    """An edge setting is missing or out of range; the message names it."""


@dataclass(frozen=True, slots=True, kw_only=True)
class EdgeSettings(DeviceSettings):
    """Everything the edge service needs besides the detector's own settings."""

    error: ClassVar[type[SettingsError]] = EdgeSettingsError

    queue_dir: Path
    queue_max_bytes: int = 256 * 1024 * 1024
    queue_max_age_s: float = 24 * 3600.0
    stats_interval_s: float = 10.0
    retry_base_s: float = 1.0
    retry_cap_s: float = 60.0
    rejected_retry_s: float = 300.0
    preview_path: Path | None = None
    preview_interval_s: float = 5.0

    def __post_init__(self) -> None:
        DeviceSettings.__post_init__(self)
        object.__setattr__(self, "queue_dir", Path(self.queue_dir))
        for name in ("stats_interval_s", "preview_interval_s"):
            if getattr(self, name) < 0:
                raise EdgeSettingsError(f"{name} must not be negative")
        for name in (
            "queue_max_bytes",
            "queue_max_age_s",
            "retry_base_s",
            "retry_cap_s",
            "rejected_retry_s",
        ):
            if getattr(self, name) <= 0:
                raise EdgeSettingsError(f"{name} must be positive")

    @classmethod
    def from_env(cls, env: Mapping[str, str], **overrides: Any) -> EdgeSettings:
        """Explicit overrides > environment variables (names in constants) > defaults."""
        readers: EnvReaders = {"queue_dir": (constants.ENV_QUEUE_DIR, Path)}
        values = cls.env_values(env, readers, overrides)
        if "queue_dir" not in values:
            raise EdgeSettingsError(f"queue_dir is not set ({constants.ENV_QUEUE_DIR})")
        return cls(**values)


@dataclass(slots=True)
class EdgeStats(LoopCounters):
    """Counters since start; published periodically and returned by run()."""

    faces: int = 0
    crops: int = 0  # faces big enough to score, queued in crop sheets
    uploaded: int = 0  # objects (crop sheets) uploaded
    bytes_uploaded: int = 0
    upload_errors: int = 0
    store_rejections: int = 0
    dropped: int = 0  # queued objects lost to a full queue or to their age
    set_aside: int = 0  # queued objects whose key no store accepts (deleted; a note in corrupt/)
    queue_depth: int = 0
    queue_bytes: int = 0
    fps: float = 0.0
    drained: bool = False


class EdgeService:
    """Frames -> detector -> crop sheets -> on-disk queue -> FaceStore, with stats over MQTT."""

    def __init__(
        self,
        *,
        settings: EdgeSettings,
        open_source: Callable[[], FrameSource],
        detector: FaceDetector,
        detector_settings: DetectorSettings,
        store: FaceStore,
        publisher: Publisher,
        queue: ForwardQueue | None = None,
        backoff: Backoff | None = None,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.settings = settings
        self._detector = detector
        self._detector_settings = detector_settings
        self._store = store
        self._publisher = publisher
        self.queue = queue or ForwardQueue(
            settings.queue_dir,
            max_bytes=settings.queue_max_bytes,
            max_age_s=settings.queue_max_age_s,
        )
        self._backoff = backoff or Backoff(base_s=settings.retry_base_s, cap_s=settings.retry_cap_s)
        self._monotonic = monotonic
        self._retry_at = 0.0
        self.stats = EdgeStats()
        # The frame loop and the uploader both count dropped sheets.
        self._dropped_lock = threading.Lock()
        self._queued = threading.Event()  # a sheet was queued: wakes the uploader
        self._uploads_stop = threading.Event()
        # Frames are retried sooner than uploads: a camera comes back in seconds.
        self._loop = FrameLoop(
            name=f"edge camera {settings.camera}",
            open_source=open_source,
            counters=self.stats,
            interval_s=settings.interval_s,
            backoff=Backoff(base_s=0.5, cap_s=10.0),
            monotonic=monotonic,
        )
        self.stats_topic = settings.topic or constants.EDGE_STATS_TOPIC.format(stage=settings.stage)
        self._window_start = monotonic()
        self._window_frames = 0
        self._last_stats = monotonic()
        self._last_preview = -float("inf")
        if settings.preview_path is not None:
            # A preview write killed mid-way; the queue sweeps its own (ForwardQueue).
            remove_stale_temp_files(settings.preview_path.parent, f"{PREVIEW_TEMP_PREFIX}*")

    # -- one frame ------------------------------------------------------------------------
    def process(self, frame: Frame) -> int:
        """Detect and crop one frame's faces and queue them as crop sheets; return how
        many crops were queued."""
        detections, crops = find_faces(
            frame.image,
            detector=self._detector,
            settings=self._detector_settings,
            attributes=FrameAttributes(
                self.settings.stage, self.settings.camera, frame.frame_id, frame.captured_at
            ),
        )
        self.stats.frames += 1
        self._window_frames += 1
        self.stats.faces += len(detections.faces)
        queued = 0
        for sheet in pack_sheets(crops, quality=self._detector_settings.jpeg_quality):
            try:
                self.queue.push(sheet.key, sheet.jpeg, sheet.metadata)
            except QueueFull as exc:
                self._count_dropped(1)
                log.error("dropping a crop sheet of %d faces: %s", sheet.faces, exc)
                continue
            except OSError as exc:
                # A full or read-only disk (an SD card that failed): this sheet is lost,
                # the ones queued before still upload, and capture goes on.
                self._count_dropped(1)
                self.stats.last_error = f"queue: {exc}"
                log.error(
                    "dropping a crop sheet of %d faces: the queue could not write it to %s "
                    "(%s); capture and the uploads of what is queued go on",
                    sheet.faces,
                    self.queue.directory,
                    exc,
                )
                continue
            queued += sheet.faces
            self._queued.set()
        self.stats.crops += queued
        self._maybe_preview(frame, detections.faces)
        return queued

    def _maybe_preview(self, frame: Frame, faces: Any) -> None:
        path = self.settings.preview_path
        now = self._monotonic()
        if path is None or now - self._last_preview < self.settings.preview_interval_s:
            return
        self._last_preview = now
        try:
            write_preview(path, blurred_preview(frame.image, faces))
        except OSError as exc:
            log.warning("could not write preview %s: %s", path, exc)

    def _count_dropped(self, sheets: int) -> None:
        with self._dropped_lock:
            self.stats.dropped += sheets

    # -- uploads --------------------------------------------------------------------------
    def drain(self, *, limit: int | None = None, until: float | None = None) -> int:
        """Upload queued objects (crop sheets), oldest first, until the queue is empty,
        ``limit`` uploads were made, the monotonic time ``until`` came (no upload starts
        then; one in flight finishes), or the store fails (then wait for the backoff
        before trying again). Return how many were uploaded."""
        self._count_dropped(self.queue.expire())
        uploaded = 0
        while limit is None or uploaded < limit:
            now = self._monotonic()
            if now < self._retry_at or (until is not None and now >= until):
                break
            entry = self.queue.peek()
            if entry is None:
                break
            try:
                parse_object_key(entry.key)
            except InvalidKey as exc:
                # A retry cannot fix the key; set it aside rather than block the queue.
                self.queue.set_aside(entry, str(exc))
                self.stats.set_aside += 1
                continue
            try:
                self._store.put(entry.key, entry.body, entry.metadata)
            except StoreError as exc:
                self._upload_failed(exc, transient=exc.transient)
                break
            except Exception as exc:  # an adapter bug must not lose what is queued
                log.exception("unexpected error uploading %s", entry.key)
                self.stats.unexpected_errors += 1
                self._upload_failed(exc, transient=True)
                break
            self.queue.remove(entry)
            self._backoff.reset()
            uploaded += 1
            self.stats.uploaded += 1
            self.stats.bytes_uploaded += len(entry.body)
        return uploaded

    def _upload_failed(self, exc: Exception, *, transient: bool) -> None:
        self.stats.upload_errors += 1
        self.stats.last_error = str(exc)
        delay = self._backoff.next_delay()
        if transient:
            log.warning(
                "upload failed (%s); %d crop sheets queued on disk; retrying in %.1fs",
                exc,
                len(self.queue),
                delay,
            )
        else:
            # AccessDenied, NoSuchBucket...: a person must fix the role or the bucket.
            # Say so loudly, keep the crops, and do not hammer the store meanwhile.
            self.stats.store_rejections += 1
            delay = max(delay, self.settings.rejected_retry_s)
            log.error(
                "THE FACE STORE REJECTS UPLOADS: %s. This will not fix itself: check the "
                "device role's s3:PutObject permission on faces/* and the bucket name. "
                "%d crop sheets are kept on disk; next try in %.0fs",
                exc,
                len(self.queue),
                delay,
            )
        self._retry_at = self._monotonic() + delay

    # -- stats ----------------------------------------------------------------------------
    def snapshot(self) -> EdgeStats:
        now = self._monotonic()
        elapsed = now - self._window_start
        if elapsed > 0:
            self.stats.fps = round(self._window_frames / elapsed, 3)
        self.stats.queue_depth = len(self.queue)
        self.stats.queue_bytes = self.queue.size_bytes
        with self._dropped_lock:
            self.stats.dropped = max(self.stats.dropped, self.queue.dropped)
        return self.stats

    def publish_stats(self) -> None:
        stats = self.snapshot()
        payload = {
            "Stage": self.settings.stage,
            "Camera": self.settings.camera,
            "At": datetime.now(UTC).isoformat(timespec="seconds"),
            **{_camel(k): v for k, v in stats.to_json().items()},
        }
        try:
            self._publisher.publish(self.stats_topic, payload)
        except Exception as exc:  # stats are best effort; uploads matter
            log.warning("could not publish edge stats: %s", exc)
        self._window_start = self._monotonic()
        self._window_frames = 0
        self._last_stats = self._window_start

    # -- the loop -------------------------------------------------------------------------
    def step(self) -> bool:
        """Read one frame and queue its crop sheets (the uploader thread uploads them).
        False after a source failure (the loop backs off)."""
        frame = self._loop.read()
        if frame is None:
            return False
        self.process(frame)
        del frame  # never keep frames
        return True

    def run(
        self,
        *,
        max_frames: int | None = None,
        duration_s: float | None = None,
        stop: threading.Event | None = None,
        drain_timeout_s: float | None = 120.0,
        phase_s: float = 0.0,
    ) -> EdgeStats:
        """Capture until stop/``max_frames``/``duration_s``/end of source (the first frame
        ``phase_s`` after the call, FrameLoop.run) while the uploader thread uploads, then
        upload what is queued until it is drained or ``drain_timeout_s`` passes (None:
        forever). ``stats.drained`` says whether the queue was emptied. Past the deadline
        no upload starts; one in flight may carry on for its client's timeouts
        (bootstrap.EDGE_S3_SILENT_UPLINK_S for S3)."""
        stop = stop or threading.Event()
        uploader = self._start_uploads()
        try:
            self._loop.run(
                self.step,
                max_frames=max_frames,
                duration_s=duration_s,
                stop=stop,
                after_step=self._maybe_publish_stats,
                phase_s=phase_s,
            )
        finally:
            self._loop.close()
            deadline = None if drain_timeout_s is None else self._monotonic() + drain_timeout_s
            uploader_stopped = self._stop_uploads(uploader, deadline)
        if uploader_stopped:
            self._drain_all(stop, deadline)
        elif len(self.queue):
            self._give_up_draining("an upload was still in flight at the drain deadline")
        else:
            self.stats.drained = True
        self.publish_stats()
        log.info("edge stopped: %s", self.stats.to_json())
        return self.stats

    def _maybe_publish_stats(self) -> None:
        if self._monotonic() - self._last_stats >= self.settings.stats_interval_s:
            self.publish_stats()

    # -- the uploader thread --------------------------------------------------------------
    def _start_uploads(self) -> threading.Thread:
        self._uploads_stop.clear()
        thread = threading.Thread(
            target=self._upload_in_background,
            name=f"edge-uploads-{self.settings.camera}",
            daemon=True,  # an upload hung past the drain deadline must not hold the exit
        )
        thread.start()
        return thread

    def _upload_in_background(self) -> None:
        """The uploader thread: upload what is queued, and expire what is too old, until
        told to stop. Nothing it meets ends it."""
        while not self._uploads_stop.is_set():
            self._queued.clear()  # before draining: a sheet queued meanwhile wakes the wait
            try:
                self.drain(until=self._monotonic() + UPLOAD_ROUND_S)
            except Exception as exc:  # the queue's disk failed, or a bug: try again later
                log.exception("edge uploader: unexpected error; trying again after a backoff")
                self.stats.unexpected_errors += 1
                self.stats.last_error = f"uploader: {exc!r}"
                self._retry_at = self._monotonic() + self._backoff.next_delay()
            self._queued.wait(self._uploader_pause_s())

    def _uploader_pause_s(self) -> float:
        """How long the uploader waits before its next round (a queued sheet ends the
        wait sooner), never past EXPIRE_EVERY_S."""
        now = self._monotonic()
        if now < self._retry_at:  # the store failed: until its backoff ends
            return min(self._retry_at - now, EXPIRE_EVERY_S)
        if len(self.queue):  # a backlog: go on at once
            return 0.0
        return EXPIRE_EVERY_S

    def _stop_uploads(self, uploader: threading.Thread, deadline: float | None) -> bool:
        """Stop the uploader thread, waiting for it until ``deadline`` at most; whether it
        stopped (else an upload is still in flight)."""
        self._uploads_stop.set()
        self._queued.set()
        uploader.join(None if deadline is None else max(0.0, deadline - self._monotonic()))
        return not uploader.is_alive()

    def _drain_all(self, stop: threading.Event, deadline: float | None) -> None:
        while len(self.queue) and not stop.is_set():
            try:
                self.drain(until=deadline)
            except OSError as exc:  # the queue's disk failed: what it holds stays there
                self.stats.last_error = f"queue: {exc}"
                self._give_up_draining(f"the queue's disk failed ({exc})")
                return
            if not len(self.queue):
                break
            now = self._monotonic()
            if deadline is not None and now >= deadline:
                self._give_up_draining("the drain timeout passed")
                return
            wait = max(0.01, self._retry_at - now)
            if deadline is not None:
                wait = min(wait, deadline - now)
            stop.wait(wait)
        self.stats.drained = len(self.queue) == 0

    def _give_up_draining(self, why: str) -> None:
        self.stats.drained = False
        log.error(
            "edge: %s; %d crop sheets still queued in %s are kept for the next run",
            why,
            len(self.queue),
            self.queue.directory,
        )


def _camel(name: str) -> str:
    return "".join(part.capitalize() for part in name.split("_"))

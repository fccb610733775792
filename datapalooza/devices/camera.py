"""The camera service (Challenge 2, device side): inference in the cloud.

Every interval: grab a frame, encode it as JPEG, send it to the face-detection endpoint
and publish the endpoint's detections on ``datapalooza/{stage}/detections``. Endpoint
errors, timeouts and throttling back off with jitter; a vanished camera is reopened;
nothing stops the loop but the caller (a stop event, a frame or time budget, or a finite
source ending).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar

from datapalooza import constants
from datapalooza.devices.frame_loop import DeviceSettings, FrameLoop, LoopCounters
from datapalooza.devices.jpeg import encode_within
from datapalooza.domain.backoff import Backoff
from datapalooza.ports import DetectionEndpoint, EndpointError, Publisher
from datapalooza.settings import EnvReaders, SettingsError
from datapalooza.sources.base import FrameSource

log = logging.getLogger(__name__)


class CameraSettingsError(SettingsError):
    """A camera setting is missing or out of range; the message names it."""


@dataclass(frozen=True, slots=True, kw_only=True)
class CameraSettings(DeviceSettings):
    """Everything the camera service needs; built once in a composition root."""

    error: ClassVar[type[SettingsError]] = CameraSettingsError

    interval_s: float = 2.0
    jpeg_quality: int = 85
    max_jpeg_bytes: int = 1_000_000
    endpoint_name: str = constants.DEFAULT_ENDPOINT_NAME
    endpoint_url: str | None = None
    region: str | None = None
    timeout_s: float = 10.0
    backoff_base_s: float = 1.0
    backoff_cap_s: float = 60.0

    def __post_init__(self) -> None:
        DeviceSettings.__post_init__(self)
        if not 1 <= self.jpeg_quality <= 100:
            raise CameraSettingsError(f"jpeg_quality={self.jpeg_quality} is outside 1..100")
        if not 10_000 <= self.max_jpeg_bytes <= constants.MAX_PAYLOAD_BYTES:
            raise CameraSettingsError(
                f"max_jpeg_bytes={self.max_jpeg_bytes} is outside "
                f"10000..{constants.MAX_PAYLOAD_BYTES} (SageMaker's payload limit)"
            )
        if not self.endpoint_name:
            raise CameraSettingsError("endpoint_name is empty")
        if self.timeout_s <= 0 or self.backoff_base_s <= 0 or self.backoff_cap_s <= 0:
            raise CameraSettingsError("timeout and backoff settings must be positive")

    @classmethod
    def from_env(cls, env: Mapping[str, str], **overrides: Any) -> CameraSettings:
        """Explicit overrides > environment variables (names in constants) > defaults."""
        readers: EnvReaders = {
            "endpoint_name": (constants.ENV_ENDPOINT_NAME, str),
            "endpoint_url": (constants.ENV_ENDPOINT_URL, str),
            "region": ("AWS_REGION", str),
        }
        return cls(**cls.env_values(env, readers, overrides))


@dataclass(slots=True)
class CameraCounters(LoopCounters):
    """What the camera has done since it started (logged, and handy in tests)."""

    sent: int = 0
    published: int = 0
    faces: int = 0
    crops: int = 0
    """Faces the endpoint cropped and stored: the others were too small to score."""
    bytes_sent: int = 0
    endpoint_errors: int = 0
    throttled: int = 0
    timeouts: int = 0
    publish_errors: int = 0
    errors_by_kind: dict[str, int] = field(default_factory=dict)

    def count_answer(self, answer: Mapping[str, Any]) -> None:
        """The faces the endpoint found in a frame and how many it cropped. An answer
        whose counts are not counts is counted from its own list of faces: it is never
        a reason to stop the camera."""
        faces = answer.get("Faces")
        listed = faces if isinstance(faces, list) else []
        cropped = sum(1 for f in listed if isinstance(f, dict) and f.get("CropKey"))
        self.faces += _count(answer.get("FaceCount"), len(listed))
        self.crops += _count(answer.get("CropCount"), cropped)


class CameraService:
    """The capture -> endpoint -> publish loop, with its adapters injected."""

    def __init__(
        self,
        *,
        settings: CameraSettings,
        open_source: Callable[[], FrameSource],
        endpoint: DetectionEndpoint,
        publisher: Publisher,
        backoff: Backoff | None = None,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.settings = settings
        self._endpoint = endpoint
        self._publisher = publisher
        self.counters = CameraCounters()
        self.topic = settings.topic or constants.DETECTIONS_TOPIC.format(stage=settings.stage)
        self._loop = FrameLoop(
            name=f"camera {settings.camera}",
            open_source=open_source,
            counters=self.counters,
            interval_s=settings.interval_s,
            backoff=backoff
            or Backoff(base_s=settings.backoff_base_s, cap_s=settings.backoff_cap_s),
            monotonic=monotonic,
        )

    @property
    def exhausted(self) -> bool:
        """Whether a finite source (a file, a folder) has ended."""
        return self._loop.exhausted

    def step(self) -> bool:
        """One capture -> send -> publish. True on success; False after a failure that
        was counted (the loop backs off). Raises SourceExhausted when a finite source
        has ended."""
        frame = self._loop.read()
        if frame is None:
            return False
        self.counters.frames += 1
        jpeg = encode_within(
            frame.image, quality=self.settings.jpeg_quality, max_bytes=self.settings.max_jpeg_bytes
        )
        try:
            answer = self._endpoint.detect(
                jpeg,
                stage=self.settings.stage,
                camera=self.settings.camera,
                frame_id=frame.frame_id,
            )
        except EndpointError as exc:
            self._count_endpoint_error(exc.kind, str(exc))
            return False
        self.counters.sent += 1
        self.counters.bytes_sent += len(jpeg)
        self.counters.count_answer(answer)
        try:
            self._publisher.publish(self.topic, answer)
        except Exception as exc:  # any publisher failure: count, keep going
            self.counters.publish_errors += 1
            self.counters.last_error = f"publish: {exc}"
            log.warning(
                "could not publish detections of %s on %s: %s", frame.frame_id, self.topic, exc
            )
            return False
        self.counters.published += 1
        return True

    def _count_endpoint_error(self, kind: str, message: str) -> None:
        self.counters.endpoint_errors += 1
        self.counters.errors_by_kind[kind] = self.counters.errors_by_kind.get(kind, 0) + 1
        if kind == "throttled":
            self.counters.throttled += 1
        elif kind == "timeout":
            self.counters.timeouts += 1
        self.counters.last_error = f"endpoint {kind}: {message}"

    def run(
        self,
        *,
        max_frames: int | None = None,
        duration_s: float | None = None,
        stop: threading.Event | None = None,
        phase_s: float = 0.0,
    ) -> CameraCounters:
        """Loop until ``stop`` is set, ``max_frames`` frames were captured, ``duration_s``
        passed, or a finite source ended; the first frame ``phase_s`` after the call
        (FrameLoop.run). Never raises for endpoint, source or publisher trouble."""
        try:
            self._loop.run(
                self.step,
                max_frames=max_frames,
                duration_s=duration_s,
                stop=stop,
                phase_s=phase_s,
            )
        finally:
            self.close()
        log.info("camera %s stopped: %s", self.settings.camera, self.counters.to_json())
        return self.counters

    def close(self) -> None:
        self._loop.close()


def _count(value: Any, fallback: int) -> int:
    """A count from the endpoint's answer if it is an int from 0 to the most faces an
    endpoint reports in a frame (constants.MAX_FACES_RANGE), else ``fallback``."""
    is_count = isinstance(value, int) and not isinstance(value, bool)
    return value if is_count and 0 <= value <= constants.MAX_FACES_RANGE[1] else fallback

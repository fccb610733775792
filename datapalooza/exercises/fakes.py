"""Small stand-ins for the checks: each records what it was asked and fails on demand.

Real local adapters (the on-disk ForwardQueue, the InMemoryPublisher) are used where
they exist; these fakes cover what only a remote service does (an endpoint outage, a
bucket that refuses writes, a results table that is down).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

import numpy as np

from datapalooza.domain.emotions import Emotion, EmotionScores
from datapalooza.ports import ScoredFace, StoreError
from datapalooza.sources.base import Frame, SourceUnavailable


class FakeEndpoint:
    """Answers like the detection endpoint; raises the queued ``failures`` first."""

    def __init__(self, failures: list[Exception] | None = None) -> None:
        self.failures = list(failures or [])
        self.calls: list[dict[str, Any]] = []

    def detect(
        self, frame_jpeg: bytes, *, stage: str, camera: str, frame_id: str
    ) -> dict[str, Any]:
        self.calls.append(
            {"jpeg": frame_jpeg, "stage": stage, "camera": camera, "frame_id": frame_id}
        )
        if self.failures:
            raise self.failures.pop(0)
        return {
            "Stage": stage,
            "Camera": camera,
            "FrameId": frame_id,
            "FaceCount": 2,
            "Faces": [{}, {}],
        }


class FakeSource:
    """Frames of ``size`` (height, width); ``noisy`` frames compress badly."""

    name = "fake"

    def __init__(self, *, size: tuple[int, int] = (72, 128), noisy: bool = False) -> None:
        self.index = 0
        self.size = size
        self.noisy = noisy

    def read(self) -> Frame:
        self.index += 1
        height, width = self.size
        if self.noisy:
            image = np.random.default_rng(self.index).integers(0, 256, (height, width, 3), np.uint8)
        else:
            image = np.full((height, width, 3), self.index % 256, np.uint8)
        return Frame(image, f"f{self.index:06d}", datetime.now(UTC), self.index)

    def close(self) -> None:
        pass


def unplugged_camera() -> FakeSource:
    raise SourceUnavailable("camera unplugged")


class FailingPublisher:
    def publish(self, topic: str, payload: Mapping[str, Any]) -> None:
        raise ConnectionError("MQTT connection lost")


class FakeFaceStore:
    """A bucket in memory. ``failures``: exceptions ``put`` raises first; ``delete_fails``
    makes every delete fail."""

    def __init__(
        self,
        failures: list[Exception] | None = None,
        *,
        fail_after: int | None = None,
        delete_fails: bool = False,
    ) -> None:
        self.objects: dict[str, tuple[bytes, dict[str, str]]] = {}
        self.failures = list(failures or [])
        self.fail_after = fail_after
        self.delete_fails = delete_fails
        self.puts: list[str] = []

    def put(self, key: str, body: bytes, metadata: Mapping[str, str]) -> None:
        self.puts.append(key)
        if self.fail_after is not None and len(self.objects) >= self.fail_after:
            raise StoreError("bucket unreachable", transient=True)
        if self.failures:
            raise self.failures.pop(0)
        self.objects[key] = (body, dict(metadata))

    def get(self, key: str) -> tuple[bytes, dict[str, str]]:
        return self.objects[key]

    def delete(self, key: str) -> None:
        if self.delete_fails:
            raise StoreError("delete refused", transient=False)
        self.objects.pop(key, None)

    def exists(self, key: str) -> bool:
        return key in self.objects


class FakeResultsTable:
    """Conditional writes in memory; ``down`` makes every write fail."""

    def __init__(self, *, down: bool = False) -> None:
        self.items: dict[tuple[str, str], tuple[ScoredFace, int]] = {}
        self.down = down

    def put_if_new(self, face: ScoredFace, *, ttl_epoch_s: int) -> bool:
        if self.down:
            raise ConnectionError("results table unreachable")
        key = (face.stage, face.sort_key)
        if key in self.items:
            return False
        self.items[key] = (face, ttl_epoch_s)
        return True


class FakeClock:
    """A monotonic clock that moves only when told to."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


class NoDetector:
    """The edge checks exercise uploads only; detecting is the endpoint's exercise."""

    model_id = "none"

    def detect(self, image: Any) -> list[Any]:
        return []


def happy_scores() -> EmotionScores:
    return EmotionScores({Emotion.HAPPY: 90.0, Emotion.CALM: 10.0})

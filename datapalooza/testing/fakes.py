"""One fake per port: each records what it was asked and fails on demand.

Real local adapters (SqliteFaceStore, the on-disk ForwardQueue, InMemoryPublisher,
SQLite) are used wherever they exist; these fakes cover what only a remote service
does (an endpoint outage, a bucket that refuses writes, a results table that is down)
and what a unit test must control (the detector's answer, the clock).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np

from datapalooza.domain.detections import BoundingBox
from datapalooza.domain.emotions import Emotion, EmotionScores
from datapalooza.ports import (
    AnalyzedFace,
    AnalyzerError,
    ObjectMissing,
    ObjectTooLarge,
    RawFace,
    RGBImage,
    ScoredFace,
    StoreError,
)
from datapalooza.sources.base import Frame, SourceExhausted, SourceUnavailable


class FakeDetector:
    """FaceDetector answering the same ``faces`` for every frame: by default one face
    big enough to crop and one too small."""

    model_id = "fake-detector"

    def __init__(self, faces: Sequence[RawFace] | None = None) -> None:
        self.faces = (
            list(faces)
            if faces is not None
            else [
                RawFace(BoundingBox(0.1, 0.1, 0.4, 0.5), 99.0),
                RawFace(BoundingBox(0.7, 0.7, 0.05, 0.05), 90.0),
            ]
        )

    def detect(self, image: RGBImage) -> list[RawFace]:
        return list(self.faces)


class FakeEndpoint:
    """DetectionEndpoint answering like the endpoint; raises the queued ``failures``
    first. ``calls`` records each request (the JPEG, its size, stage, camera, frame id)."""

    def __init__(self, failures: list[Exception] | None = None) -> None:
        self.failures = list(failures or [])
        self.calls: list[dict[str, Any]] = []

    def detect(
        self, frame_jpeg: bytes, *, stage: str, camera: str, frame_id: str
    ) -> dict[str, Any]:
        self.calls.append(
            {
                "jpeg": frame_jpeg,
                "bytes": len(frame_jpeg),
                "stage": stage,
                "camera": camera,
                "frame_id": frame_id,
            }
        )
        if self.failures:
            raise self.failures.pop(0)
        return {
            "Stage": stage,
            "Camera": camera,
            "FrameId": frame_id,
            "FaceCount": 2,
            "CropCount": 1,
            "Faces": [{"CropKey": f"faces/{stage}/{frame_id}-0.jpg"}, {"CropKey": None}],
        }


class FakeSource:
    """FrameSource of numbered frames of ``size`` (height, width); ``noisy`` frames
    compress badly. With ``frames`` it ends (SourceExhausted) after that many; with
    ``start`` frame n is captured n seconds after it, else now."""

    name = "fake"

    def __init__(
        self,
        frames: int | None = None,
        *,
        size: tuple[int, int] = (72, 128),
        noisy: bool = False,
        start: datetime | None = None,
    ) -> None:
        self.frames = frames
        self.index = 0
        self.size = size
        self.noisy = noisy
        self.start = start

    def read(self) -> Frame:
        if self.frames is not None and self.index >= self.frames:
            raise SourceExhausted("end of the fake source")
        self.index += 1
        height, width = self.size
        if self.noisy:
            image = np.random.default_rng(self.index).integers(0, 256, (height, width, 3), np.uint8)
        else:
            image = np.full((height, width, 3), self.index % 256, np.uint8)
        captured = self.start + timedelta(seconds=self.index) if self.start else datetime.now(UTC)
        return Frame(image, f"f{self.index:06d}", captured, self.index)

    def close(self) -> None:
        pass


def unplugged_camera() -> FakeSource:
    """A source opener for a camera that is not there."""
    raise SourceUnavailable("camera unplugged")


class FailingPublisher:
    """Publisher whose MQTT connection is lost."""

    def publish(self, topic: str, payload: Mapping[str, Any]) -> None:
        raise ConnectionError("MQTT connection lost")


class FakeFaceStore:
    """FaceStore in memory.

    Failing on demand: ``failures`` are raised by the first puts; ``fail_after`` N
    stored objects every put fails (transiently); ``fail_on`` lists the put attempts
    (1-based) that fail, transiently (SlowDown) or not (AccessDenied) per ``transient``;
    ``delete_fails`` makes every delete fail. ``attempts`` lists every put's key in
    order, ``stored`` counts the successful puts per key, ``gets`` counts the reads.
    """

    def __init__(
        self,
        failures: list[Exception] | None = None,
        *,
        fail_after: int | None = None,
        fail_on: range = range(0),
        transient: bool = True,
        delete_fails: bool = False,
    ) -> None:
        self.objects: dict[str, tuple[bytes, dict[str, str]]] = {}
        self.failures = list(failures or [])
        self.fail_after = fail_after
        self.fail_on = fail_on
        self.transient = transient
        self.delete_fails = delete_fails
        self.attempts: list[str] = []
        self.stored: Counter[str] = Counter()
        self.gets = 0

    def put(self, key: str, body: bytes, metadata: Mapping[str, str]) -> None:
        self.attempts.append(key)
        if self.fail_after is not None and len(self.objects) >= self.fail_after:
            raise StoreError("bucket unreachable", transient=True)
        if len(self.attempts) in self.fail_on:
            code = "SlowDown" if self.transient else "AccessDenied"
            raise StoreError(f"{code}: could not put {key}", transient=self.transient)
        if self.failures:
            raise self.failures.pop(0)
        self.objects[key] = (body, dict(metadata))
        self.stored[key] += 1

    def get(self, key: str, *, max_bytes: int | None = None) -> tuple[bytes, dict[str, str]]:
        self.gets += 1
        if key not in self.objects:
            raise ObjectMissing(key)
        body, metadata = self.objects[key]
        if max_bytes is not None and len(body) > max_bytes:
            raise ObjectTooLarge(key, len(body), max_bytes)
        return body, dict(metadata)

    def delete(self, key: str) -> None:
        if self.delete_fails:
            raise StoreError("delete refused", transient=False)
        self.objects.pop(key, None)

    def exists(self, key: str) -> bool:
        return key in self.objects


class FakeAnalyzer:
    """EmotionAnalyzer answering from a table keyed by the crop's bytes; unknown crops
    get no face. ``fail_with`` makes every call raise; ``calls`` records batch sizes."""

    name = "fake"
    unsupported: frozenset[Emotion] = frozenset()

    def __init__(self, answers: Mapping[bytes, EmotionScores | None], *, max_batch: int = 8):
        self.answers = dict(answers)
        self.max_batch = max_batch
        self.calls: list[int] = []
        self.fail_with: AnalyzerError | None = None

    def analyze(self, crops: Sequence[bytes]) -> list[AnalyzedFace]:
        self.calls.append(len(crops))
        if self.fail_with is not None:
            raise self.fail_with
        return [AnalyzedFace(self.answers.get(crop)) for crop in crops]


class FakeResultsTable:
    """ResultsTable in a dict keyed like DynamoDB (stage, sort key), with conditional
    writes; ``down`` makes every write fail."""

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


class FakeMetricsSink:
    """MetricsSink that keeps what it was given; ``down`` makes recording fail."""

    def __init__(self, *, down: bool = False) -> None:
        self.faces: list[ScoredFace] = []
        self.unscored: list[tuple[str, str, int]] = []
        self.down = down

    def record(self, faces: Sequence[ScoredFace]) -> None:
        if self.down:
            raise ConnectionError("metrics backend unreachable")
        self.faces.extend(faces)

    def record_unscored(self, stage: str, reason: str, count: int) -> None:
        self.unscored.append((stage, reason, count))


class FakeClock:
    """A monotonic clock that moves only when told to."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds

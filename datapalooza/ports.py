"""Ports: the small interfaces every I/O boundary goes through.

Each port has an AWS adapter (datapalooza.adapters.aws), a local adapter
(datapalooza.adapters.local) and, in tests, a ``Fake...``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal, Protocol, runtime_checkable

import numpy as np
import numpy.typing as npt

from datapalooza.domain.detections import BoundingBox, Landmark
from datapalooza.domain.emotions import Emotion, EmotionScores
from datapalooza.domain.moods import EmotionMix, TimelineBucket
from datapalooza.domain.setlists import Setlist

RGBImage = npt.NDArray[np.uint8]
"""An H x W x 3 uint8 image in RGB order."""


@dataclass(frozen=True, slots=True)
class RawFace:
    """A face as a detector reports it, before cropping and keying."""

    box: BoundingBox
    confidence: float  # 0-100
    landmarks: tuple[Landmark, ...] = ()


class FaceDetector(Protocol):
    """Finds faces in an RGB frame. Loaded once per process."""

    model_id: str

    def detect(self, image: RGBImage) -> list[RawFace]: ...


class StoreError(RuntimeError):
    """A FaceStore operation failed (network, permissions, disk). ``transient`` says
    whether retrying may help."""

    def __init__(self, message: str, *, transient: bool) -> None:
        super().__init__(message)
        self.transient = transient


class ObjectMissing(LookupError):
    """The object does not exist (deleted before processing, or never written)."""


class ObjectTooLarge(ValueError):
    """The object is bigger than its reader will take; its body was not read."""

    def __init__(self, key: str, size: int, limit: int) -> None:
        super().__init__(f"{key} is {size} bytes; the limit is {limit} bytes")
        self.size = size
        self.limit = limit


class FaceStore(Protocol):
    """Where face crops live: the S3 faces bucket, or a local one with the same keys."""

    def put(self, key: str, body: bytes, metadata: Mapping[str, str]) -> None:
        """Store an object atomically; raise StoreError on failure."""
        ...

    def get(self, key: str, *, max_bytes: int | None = None) -> tuple[bytes, dict[str, str]]:
        """Return (body, metadata); raise ObjectMissing if absent, and ObjectTooLarge,
        without reading the body, if it is over ``max_bytes``."""
        ...

    def delete(self, key: str) -> None:
        """Delete an object; deleting a missing object is not an error."""
        ...

    def exists(self, key: str) -> bool: ...


@dataclass(frozen=True, slots=True)
class AnalyzedFace:
    """An emotion analyzer's answer for one crop: None scores means no face was found."""

    scores: EmotionScores | None
    box: BoundingBox | None = None


class AnalyzerError(RuntimeError):
    """An EmotionAnalyzer could not score a batch of crops. ``transient`` says whether
    retrying may help (throttling, a service outage) or not (a crop it cannot read)."""

    def __init__(self, message: str, *, transient: bool) -> None:
        super().__init__(message)
        self.transient = transient


class EmotionAnalyzer(Protocol):
    """Scores the expression of the face in each crop (Rekognition-shaped output)."""

    name: str
    unsupported: frozenset[Emotion]
    """Emotion types this analyzer can never produce (e.g. CONFUSED for FER2013)."""
    max_batch: int
    """How many crops one ``analyze`` call should get: a call succeeds or fails as a
    whole (AnalyzerError), so callers split work into batches of this size."""

    def analyze(self, crops: Sequence[bytes]) -> list[AnalyzedFace]:
        """One AnalyzedFace per crop, in order; raise AnalyzerError if the batch fails."""
        ...


@runtime_checkable
class DecodedCropAnalyzer(EmotionAnalyzer, Protocol):
    """An EmotionAnalyzer that also scores crops the caller has already decoded, so the
    tracker, which decodes every crop to check it, does not make it decode them again."""

    def analyze_decoded(self, images: Sequence[RGBImage]) -> list[AnalyzedFace]:
        """``analyze`` for already-decoded RGB crops."""
        ...


@dataclass(frozen=True, slots=True)
class ScoredFace:
    """One results-table item: a scored face crop."""

    stage: str
    captured_at: datetime
    face_key: str
    camera: str
    scores: EmotionScores

    @property
    def sort_key(self) -> str:
        return f"{self.captured_at.isoformat(timespec='milliseconds')}#{self.face_key}"


class ResultsTable(Protocol):
    """Scored faces: DynamoDB in AWS, SQLite locally. Writes are idempotent per face key."""

    def put_if_new(self, face: ScoredFace, *, ttl_epoch_s: int) -> bool:
        """Write the item; return False (and write nothing) if it already exists."""
        ...


class ResultsReader(Protocol):
    """The read side of the results table: what the dashboard and the setlist reports
    ask. SQLite locally (``SqliteResultsTable`` opened read-only). Every method takes
    aware datetimes and never writes."""

    def stages(self) -> list[str]:
        """Every stage with at least one scored face, sorted."""
        ...

    def emotion_mix(self, stage: str, start: datetime, end: datetime) -> EmotionMix:
        """Faces of ``stage`` captured in [start, end), summarised."""
        ...

    def emotion_mixes(self, start: datetime, end: datetime) -> dict[str, EmotionMix]:
        """Every stage's faces captured in [start, end), summarised, in a fixed number
        of queries; stages without faces there are left out."""
        ...

    def timeline(
        self, stage: str, start: datetime, end: datetime, *, bucket: timedelta = ...
    ) -> list[TimelineBucket]:
        """One bucket per ``bucket`` over [start, end), empty ones included."""
        ...

    def timelines(
        self, start: datetime, end: datetime, *, bucket: timedelta = ...
    ) -> dict[str, list[TimelineBucket]]:
        """``timeline`` of every stage with faces in [start, end), in a fixed number of
        queries; stages without faces there are left out."""
        ...

    def last_seen(self) -> dict[str, datetime]:
        """When each stage with faces last saw one (its newest capture time), in one
        query."""
        ...


class SetlistStore(Protocol):
    """Each stage's current setlist: a JSON file locally (``JsonSetlistStore``).
    Unreadable storage raises SetlistError; it is never taken for "no setlists"."""

    def all(self) -> dict[str, Setlist]:
        """Every stored setlist by stage (empty when none is stored)."""
        ...

    def save(self, *setlists: Setlist) -> None:
        """Store (replace) the given stages' setlists, keeping the others."""
        ...

    def delete(self, stage: str) -> bool:
        """Remove a stage's setlist; False if it had none."""
        ...


class CropInProgress(RuntimeError):
    """Another invocation holds the crop's claim: retry the crop later."""


class OutcomeLedger(Protocol):
    """What already happened to each crop (object key + version), checked before the
    crop is scored so that a repeated notification costs no analyzer call: Powertools'
    idempotency records, in DynamoDB in AWS and in SQLite locally."""

    def claim(self, key: str, version: str, *, lease_ms: int) -> str | None:
        """Claim the crop for scoring for ``lease_ms``: None when the caller now holds
        it; the outcome recorded earlier (e.g. ``"scored"``) when it was settled; raise
        CropInProgress while another caller's lease runs."""
        ...

    def settle(self, key: str, version: str, outcome: str) -> None:
        """Record the crop's final outcome (scored, no face, rejected, missing)."""
        ...

    def release(self, key: str, version: str) -> None:
        """Give the claim back (the crop failed and will be retried)."""
        ...


class MetricsSink(Protocol):
    """Per-stage emotion metrics: CloudWatch (EMF) in AWS, a SQLite time series locally."""

    def record(self, faces: Sequence[ScoredFace]) -> None:
        """Per-emotion scores, FacesAnalyzed and CrowdMood for newly scored faces."""
        ...

    def record_unscored(self, stage: str, reason: str, count: int) -> None:
        """Count crops of ``stage`` that got no scores; ``reason`` is the metric name
        (e.g. NoFaceFound, CropRejected): they are counted, never silently dropped."""
        ...


EndpointErrorKind = Literal["throttled", "timeout", "unavailable", "rejected"]


class EndpointError(RuntimeError):
    """The detection endpoint did not answer a frame.

    ``kind``: ``throttled`` (slow down), ``timeout`` (no answer in time),
    ``unavailable`` (cannot connect, 5xx, endpoint missing or not InService) or
    ``rejected`` (the endpoint refused this frame: 4xx; the next frame may pass).
    The camera backs off on all of them; only the counters differ.
    """

    def __init__(self, message: str, *, kind: EndpointErrorKind) -> None:
        super().__init__(message)
        self.kind: EndpointErrorKind = kind


class DetectionEndpoint(Protocol):
    """The camera's view of the face-detection endpoint."""

    def detect(
        self, frame_jpeg: bytes, *, stage: str, camera: str, frame_id: str
    ) -> dict[str, Any]:
        """Send a frame; return the endpoint's JSON answer."""
        ...


class Publisher(Protocol):
    """Device messages: Greengrass IPC / iot-data on a core device, in-process locally."""

    def publish(self, topic: str, payload: Mapping[str, Any]) -> None: ...

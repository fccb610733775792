"""The functions attendees write, one or two per challenge, with hints for the starter."""

from __future__ import annotations

import importlib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from datapalooza.exercises.checks import Check
from datapalooza.exercises.contracts import camera, edge, faces, tracker


@dataclass(frozen=True, slots=True)
class Exercise:
    """One function of the shipped code that attendees write themselves.

    ``qualname`` is ``function`` or ``Class.method``; the shipped function is the
    solution. ``hints`` become comments in the starter file; ``checks`` are the
    behaviours ``datapalooza check`` looks for (the project's tests run them too).
    """

    challenge: int
    slug: str
    module: str
    qualname: str
    page: str
    hints: tuple[str, ...]
    checks: tuple[Check, ...]

    @property
    def function_name(self) -> str:
        return self.qualname.rsplit(".", 1)[-1]

    @property
    def is_method(self) -> bool:
        return "." in self.qualname

    @property
    def starter_file(self) -> str:
        return f"challenge{self.challenge}_{self.slug.replace('-', '_')}.py"

    @property
    def source_path(self) -> Path:
        module = importlib.import_module(self.module)
        assert module.__file__ is not None
        return Path(module.__file__)

    def shipped(self) -> Any:
        """The solution: the function as the project ships it."""
        target: Any = importlib.import_module(self.module)
        for part in self.qualname.split("."):
            target = getattr(target, part)
        return target


EXERCISES: tuple[Exercise, ...] = (
    Exercise(
        challenge=1,
        slug="store-crops",
        module="datapalooza.detection.face_crops",
        qualname="store_crops",
        page="docs/challenge1-endpoint.md",
        hints=(
            "Each crop has .key, .jpeg (bytes) and .metadata (a dict of strings).",
            "store.put(key, body, metadata) raises StoreError when the bucket fails.",
            "Remember what you wrote: on a failure, store.delete(key) each of them, then",
            "raise the original error. A delete can fail too; log it and go on.",
            "at_once lets the shipped code put several crops at a time; one by one passes",
            "every check.",
        ),
        checks=faces.CHECKS,
    ),
    Exercise(
        challenge=2,
        slug="camera-step",
        module="datapalooza.devices.camera",
        qualname="CameraService.step",
        page="docs/challenge2-camera.md",
        hints=(
            "frame = self._loop.read() gives a Frame, or None when the camera is away.",
            "encode_within(frame.image, quality=self.settings.jpeg_quality,",
            "    max_bytes=self.settings.max_jpeg_bytes) gives JPEG bytes that fit.",
            "self._endpoint.detect(jpeg, stage=..., camera=..., frame_id=frame.frame_id)",
            "    returns the detections; it raises EndpointError (with .kind) on failure:",
            "    self._count_endpoint_error(exc.kind, str(exc)) counts it.",
            "self._publisher.publish(self.topic, answer) can fail too: count publish_errors.",
            "Count in self.counters: frames, sent, bytes_sent, published;",
            "self.counters.count_answer(answer) counts the faces found and cropped.",
            "Return True when the frame went all the way; False after a counted failure.",
        ),
        checks=camera.CHECKS,
    ),
    Exercise(
        challenge=2,
        slug="tracker-record",
        module="datapalooza.emotions.scoring",
        qualname="_record",
        page="docs/challenge2-emotion-tracker.md",
        hints=(
            "analyzed.scores is the analyzer's EmotionScores, or None when it found no face.",
            "item.key is the parsed CropKey (stage, captured_at); item.ref.key the object key;",
            "    item.camera the camera from the object's metadata.",
            "A results item is a ScoredFace; results.put_if_new(face, ttl_epoch_s=...)",
            "    returns False when the item already exists (S3 delivers at least once).",
            "The TTL is the capture time plus settings.ttl_seconds, in epoch seconds.",
            "Return a CropOutcome: SCORED (with the face, so metrics are emitted once),",
            "    NO_FACE, DUPLICATE or FAILED (the table is down: SQS retries the crop).",
        ),
        checks=tracker.CHECKS,
    ),
    Exercise(
        challenge=3,
        slug="edge-drain",
        module="datapalooza.devices.edge",
        qualname="EdgeService.drain",
        page="docs/challenge3-edge.md",
        hints=(
            "self.queue is the on-disk ForwardQueue: peek() gives the oldest entry (or None),",
            "    remove(entry) deletes it; call remove only after the upload succeeded.",
            "self._store.put(entry.key, entry.body, entry.metadata) uploads one queued object",
            "    (a crop sheet) and raises StoreError (with .transient) when the bucket fails.",
            "self._upload_failed(exc, transient=...) counts a failure and sets self._retry_at;",
            "    do not upload while self._monotonic() < self._retry_at.",
            "After a success: self._backoff.reset(); count stats.uploaded, bytes_uploaded.",
            "Stop after `limit` uploads (None: no limit); start none once",
            "    self._monotonic() >= until (None: no deadline; the shutdown drain has one).",
            "Start with self._count_dropped(self.queue.expire()) (entries past their age;",
            "    the frame loop counts dropped sheets too, from its own thread).",
        ),
        checks=edge.CHECKS,
    ),
)


def exercises_for(challenge: int) -> Sequence[Exercise]:
    found = [exercise for exercise in EXERCISES if exercise.challenge == challenge]
    if not found:
        known = sorted({exercise.challenge for exercise in EXERCISES})
        raise ValueError(f"no exercises for challenge {challenge}; there are {known}")
    return found

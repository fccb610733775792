"""Helpers for the emotion tracker's tests: real face crops, crop keys, scores and
Rekognition-shaped answers. The fakes of its ports are in datapalooza.testing.fakes."""

from __future__ import annotations

import io
from collections.abc import Sequence
from datetime import UTC, datetime
from functools import cache

import numpy as np
from PIL import Image

from datapalooza.domain.detections import BoundingBox
from datapalooza.domain.emotions import Emotion, EmotionScores
from datapalooza.domain.keys import CropKey
from datapalooza.emotions.mosaic import compose
from datapalooza.images import decode_crop, decode_image

T0 = datetime(2026, 7, 18, 21, 30, 0, tzinfo=UTC)


def crop_key(stage: str = "main", index: int = 0, *, ms_offset: int = 0, frame: str = "f1") -> str:
    moment = datetime.fromtimestamp(T0.timestamp() + ms_offset / 1000, tz=UTC)
    return str(CropKey(stage, moment, frame, index))


def jpeg(rgb: np.ndarray, quality: int = 90) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(rgb).save(buffer, format="JPEG", quality=quality)
    return buffer.getvalue()


def solid_jpeg(value: int, size: tuple[int, int] = (90, 72)) -> bytes:
    """A flat image: a valid crop for the tracker, whatever the analyzer sees in it."""
    return jpeg(np.full((size[0], size[1], 3), value, dtype=np.uint8))


def scores(**values: float) -> EmotionScores:
    return EmotionScores({Emotion(k.upper()): v for k, v in values.items()})


@cache
def real_face_crops() -> tuple[tuple[str, bytes], ...]:
    """(name, JPEG) face crops cut by the project's own detector from real photographs
    shipped in installed packages: scikit-image's astronaut (smiling) and matplotlib's
    Grace Hopper (neutral)."""
    import matplotlib.cbook
    import skimage.data

    from tests.helpers.faces import main_stage_faces

    path = matplotlib.cbook.get_sample_data("grace_hopper.jpg", asfileobj=False)
    with open(path, "rb") as handle:
        hopper = decode_image(handle.read())
    photos = {"astronaut": np.ascontiguousarray(skimage.data.astronaut()), "hopper": hopper}
    crops = []
    for name, image in photos.items():
        _, found = main_stage_faces(image, captured_at=T0)
        assert len(found) == 1, f"expected one face in {name}"
        crops.append((name, found[0].jpeg))
    return tuple(crops)


def mosaic_answer(crops: Sequence[bytes], emotions: Sequence[str | None]) -> dict:
    """DetectFaces' answer for the mosaic these crops make: one face per crop whose
    emotion is not None, placed inside that crop's tile."""
    mosaic = compose([decode_crop(c) for c in crops])
    details = []
    for (x, y, w, h), emotion in zip(mosaic.placements, emotions, strict=True):
        if emotion is None:
            continue
        box = BoundingBox.from_pixels(
            x + w / 6,
            y + h / 6,
            w * 2 / 3,
            h * 2 / 3,
            frame_width=mosaic.layout.width,
            frame_height=mosaic.layout.height,
        )
        details.append(
            {
                "BoundingBox": box.to_json(),
                "Confidence": 99.0,
                "Emotions": [
                    {"Type": emotion, "Confidence": 96.0},
                    {"Type": "CALM", "Confidence": 4.0},
                ],
            }
        )
    return {"FaceDetails": details[::-1]}

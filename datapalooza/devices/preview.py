"""An optional debugging preview for the edge device: a small, blurred frame with the
faces pixelated, overwritten in place. Nobody can be recognised in it, and it is the only
image of a frame the edge ever writes."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import cv2
import numpy as np

from datapalooza.domain.detections import Detection
from datapalooza.images import encode_jpeg
from datapalooza.ports import RGBImage
from datapalooza.system.atomic_write import write_atomically

PREVIEW_WIDTH = 480


def blurred_preview(image: RGBImage, faces: Sequence[Detection]) -> bytes:
    """A PREVIEW_WIDTH-wide JPEG: faces pixelated to 4x4 blocks, the whole frame blurred,
    boxes outlined so a person debugging can see what was detected."""
    height, width = image.shape[:2]
    scale = PREVIEW_WIDTH / width
    small = cv2.resize(
        image, (PREVIEW_WIDTH, max(1, round(height * scale))), interpolation=cv2.INTER_AREA
    )
    sh, sw = small.shape[:2]
    for face in faces:
        x, y, w, h = face.box.to_pixels(sw, sh)
        x0, y0 = max(0, x - w // 4), max(0, y - h // 4)
        x1, y1 = min(sw, x + w + w // 4), min(sh, y + h + h // 4)
        if x1 - x0 < 2 or y1 - y0 < 2:
            continue
        region = small[y0:y1, x0:x1]
        blocks = cv2.resize(region, (4, 4), interpolation=cv2.INTER_AREA)
        small[y0:y1, x0:x1] = cv2.resize(
            blocks, (x1 - x0, y1 - y0), interpolation=cv2.INTER_NEAREST
        )
    small = cv2.GaussianBlur(small, (0, 0), 2.0)
    for face in faces:
        x, y, w, h = face.box.to_pixels(sw, sh)
        cv2.rectangle(small, (x, y), (x + w, y + h), (0, 255, 0), 1)
    return encode_jpeg(np.ascontiguousarray(small, dtype=np.uint8), quality=70)


PREVIEW_TEMP_PREFIX = ".tmp-preview-"


def write_preview(path: Path, jpeg: bytes) -> None:
    """Replace ``path`` atomically (a viewer never sees half an image)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    write_atomically(path, jpeg, prefix=PREVIEW_TEMP_PREFIX)

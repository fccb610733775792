"""Encode a frame as a JPEG that fits a byte budget (SageMaker caps payloads at 6 MB;
a device link may want far less)."""

from __future__ import annotations

import cv2
import numpy as np

from datapalooza.images import encode_jpeg
from datapalooza.ports import RGBImage

MIN_QUALITY = 40
MIN_WIDTH = 160


class FrameTooLarge(ValueError):
    """No quality or size that we accept gets the frame under the budget."""


def encode_within(image: RGBImage, *, quality: int, max_bytes: int) -> bytes:
    """JPEG at ``quality``; if too big, lower the quality (to 40), then downscale.

    Downscaling loses small faces, so quality goes first; the endpoint reports boxes as
    fractions, so a downscaled frame still yields correct boxes.
    """
    q = quality
    while True:
        data = encode_jpeg(image, quality=q)
        if len(data) <= max_bytes:
            return data
        if q > MIN_QUALITY:
            q = max(MIN_QUALITY, q - 10)
            continue
        height, width = image.shape[:2]
        if width * 3 // 4 < MIN_WIDTH:
            raise FrameTooLarge(
                f"a {width}x{height} frame does not fit in {max_bytes} bytes at quality "
                f"{MIN_QUALITY}; raise the maximum JPEG size"
            )
        smaller = cv2.resize(image, (width * 3 // 4, height * 3 // 4), interpolation=cv2.INTER_AREA)
        image = np.ascontiguousarray(smaller, dtype=np.uint8)

"""Drawing detections on a frame, for people checking what the detector saw."""

from __future__ import annotations

from collections.abc import Iterable

from PIL import Image, ImageDraw

from datapalooza.domain.detections import Detection
from datapalooza.ports import RGBImage


def annotate(image: RGBImage, faces: Iterable[Detection]) -> Image.Image:
    """A copy of the frame with each face's box (green: cropped, amber: too small to
    score), confidence and landmarks."""
    canvas = Image.fromarray(image, mode="RGB")
    draw = ImageDraw.Draw(canvas)
    width, height = canvas.size
    line = max(2, round(min(width, height) / 300))
    for face in faces:
        x, y, w, h = face.box.to_pixels(width, height)
        color = (40, 200, 90) if face.crop_key else (240, 170, 30)
        draw.rectangle((x, y, x + w, y + h), outline=color, width=line)
        draw.text((x, max(0, y - 12)), f"{face.confidence:.0f}", fill=color)
        for lm in face.landmarks:
            cx, cy = lm.x * width, lm.y * height
            draw.ellipse((cx - line, cy - line, cx + line, cy + line), fill=(230, 60, 60))
    return canvas

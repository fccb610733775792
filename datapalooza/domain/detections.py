"""Face detections in Rekognition's box convention, and the endpoint's JSON contract."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True, slots=True)
class BoundingBox:
    """A box as fractions of the frame (Rekognition: Left, Top, Width, Height)."""

    left: float
    top: float
    width: float
    height: float

    @classmethod
    def from_pixels(
        cls, x: float, y: float, w: float, h: float, *, frame_width: int, frame_height: int
    ) -> BoundingBox:
        """Clip a pixel box to the frame and express it as fractions."""
        x0 = min(max(x, 0.0), frame_width)
        y0 = min(max(y, 0.0), frame_height)
        x1 = min(max(x + w, 0.0), frame_width)
        y1 = min(max(y + h, 0.0), frame_height)
        return cls(
            left=x0 / frame_width,
            top=y0 / frame_height,
            width=(x1 - x0) / frame_width,
            height=(y1 - y0) / frame_height,
        )

    def to_pixels(self, frame_width: int, frame_height: int) -> tuple[int, int, int, int]:
        """(x, y, w, h) in whole pixels."""
        return (
            round(self.left * frame_width),
            round(self.top * frame_height),
            round(self.width * frame_width),
            round(self.height * frame_height),
        )

    def to_json(self) -> dict[str, float]:
        return {
            "Left": round(self.left, 6),
            "Top": round(self.top, 6),
            "Width": round(self.width, 6),
            "Height": round(self.height, 6),
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> BoundingBox:
        return cls(
            float(data["Left"]), float(data["Top"]), float(data["Width"]), float(data["Height"])
        )


@dataclass(frozen=True, slots=True)
class Landmark:
    """A facial landmark as fractions of the frame (Rekognition: Type, X, Y)."""

    type: str
    x: float
    y: float

    def to_json(self) -> dict[str, Any]:
        return {"Type": self.type, "X": round(self.x, 6), "Y": round(self.y, 6)}


@dataclass(frozen=True, slots=True)
class Detection:
    """One face found in a frame.

    ``confidence`` is 0-100 like Rekognition. ``size_px`` is the shorter side of the
    box in pixels; faces below the minimum size are reported but not cropped, so
    their ``crop_key`` is None.
    """

    box: BoundingBox
    confidence: float
    size_px: int
    landmarks: tuple[Landmark, ...] = ()
    crop_key: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "BoundingBox": self.box.to_json(),
            "Confidence": round(self.confidence, 3),
            "SizePx": self.size_px,
            "Landmarks": [lm.to_json() for lm in self.landmarks],
            "CropKey": self.crop_key,
        }


@dataclass(frozen=True, slots=True)
class FrameDetections:
    """The endpoint's answer for one frame (serialised as JSON, never pickle)."""

    model_id: str
    image_width: int
    image_height: int
    stage: str
    camera: str
    frame_id: str
    captured_at_ms: int
    faces: tuple[Detection, ...] = field(default_factory=tuple)

    def to_json(self) -> dict[str, Any]:
        return {
            "ModelId": self.model_id,
            "ImageWidth": self.image_width,
            "ImageHeight": self.image_height,
            "Stage": self.stage,
            "Camera": self.camera,
            "FrameId": self.frame_id,
            "CapturedAtMs": self.captured_at_ms,
            "FaceCount": len(self.faces),
            "CropCount": sum(1 for f in self.faces if f.crop_key),
            "Faces": [f.to_json() for f in self.faces],
        }

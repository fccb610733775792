"""Typed settings for face detection and cropping."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from datapalooza import constants
from datapalooza.settings import SettingsError, check_range, settings_values


@dataclass(frozen=True, slots=True)
class DetectorSettings:
    """How faces are found and cropped.

    Confidence is 0-100 (Rekognition's scale). Faces whose shorter side is below
    ``min_face_px`` are reported but not cropped: the emotion models cannot score
    them (Rekognition needs ~40 px at 1920x1080). ``crop_margin`` grows each side of
    the box by that fraction of its size, so the crop keeps the whole face.
    """

    detector: str = constants.DEFAULT_DETECTOR
    min_confidence: float = constants.DEFAULT_MIN_CONFIDENCE
    nms_threshold: float = 0.4
    min_face_px: int = constants.DEFAULT_MIN_FACE_PX
    crop_margin: float = 0.2
    max_faces: int = 100
    threads: int = 1
    # Crops are scored at 64x64 grey (local model) or from 40 px faces (Rekognition):
    # quality 75 with a 20% margin scores the same as 90/25% on the test photos and
    # sends about 40% fewer bytes from an edge device (bench/devices.py).
    jpeg_quality: int = 75

    def __post_init__(self) -> None:
        if self.detector not in constants.DETECTOR_NAMES:
            raise SettingsError(
                f"detector must be one of {', '.join(constants.DETECTOR_NAMES)}, "
                f"not {self.detector!r}"
            )
        check_range("min_confidence", self.min_confidence, 0.0, 100.0)
        check_range("nms_threshold", self.nms_threshold, 0.0, 1.0)
        check_range("min_face_px", self.min_face_px, *constants.MIN_FACE_PX_RANGE)
        check_range("crop_margin", self.crop_margin, 0.0, 2.0)
        check_range("max_faces", self.max_faces, *constants.MAX_FACES_RANGE)
        check_range("threads", self.threads, 1, 256)
        check_range("jpeg_quality", self.jpeg_quality, 1, 100)

    @classmethod
    def from_env(cls, env: Mapping[str, str], **overrides: Any) -> DetectorSettings:
        """Explicit overrides > environment variables > defaults."""
        readers = {
            "detector": (constants.ENV_DETECTOR, str),
            "min_confidence": (constants.ENV_MIN_CONFIDENCE, float),
            "nms_threshold": (constants.ENV_NMS_THRESHOLD, float),
            "min_face_px": (constants.ENV_MIN_FACE_PX, int),
            "crop_margin": (constants.ENV_CROP_MARGIN, float),
            "max_faces": (constants.ENV_MAX_FACES, int),
        }
        return cls(**settings_values(env, readers, overrides))

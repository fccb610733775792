"""Builds the configured FaceDetector once per process."""

from __future__ import annotations

import threading
from collections.abc import Callable

from datapalooza.detection.libfacedetection_detector import LibFaceDetectionDetector
from datapalooza.detection.retinaface_detector import RetinaFaceDetector
from datapalooza.detection.settings import DetectorSettings
from datapalooza.ports import FaceDetector

DETECTORS: dict[str, Callable[[DetectorSettings], FaceDetector]] = {
    "retinaface": RetinaFaceDetector,
    "libfacedetection": LibFaceDetectionDetector,
}

_cache: dict[DetectorSettings, FaceDetector] = {}
_lock = threading.Lock()


def load_detector(settings: DetectorSettings) -> FaceDetector:
    """The detector for these settings, loaded once per process and reused."""
    with _lock:
        detector = _cache.get(settings)
        if detector is None:
            detector = DETECTORS[settings.detector](settings)
            _cache[settings] = detector
        return detector

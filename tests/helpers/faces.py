"""Face crops cut by the project's own detector, as camera cam-1 on the main stage
sends them."""

from __future__ import annotations

from datetime import datetime
from functools import cache

from datapalooza.detection import DetectorSettings, load_detector
from datapalooza.detection.face_crops import FaceCrop, find_faces
from datapalooza.domain.detections import FrameDetections
from datapalooza.domain.frame_attributes import FrameAttributes
from datapalooza.ports import FaceDetector, RGBImage


@cache
def detector(settings: DetectorSettings) -> FaceDetector:
    """One loaded detector per settings for the whole run: loading is the slow part."""
    return load_detector(settings)


def main_stage_faces(
    image: RGBImage,
    *,
    captured_at: datetime,
    frame_id: str = "f1",
    settings: DetectorSettings | None = None,
) -> tuple[FrameDetections, list[FaceCrop]]:
    """``find_faces`` on ``image`` as frame ``frame_id`` of camera cam-1 on the main
    stage; default detector settings unless ``settings`` says otherwise."""
    settings = settings or DetectorSettings()
    return find_faces(
        image,
        detector=detector(settings),
        settings=settings,
        attributes=FrameAttributes("main", "cam-1", frame_id, captured_at),
    )

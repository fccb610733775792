"""From a frame to keyed face crops: the one function the endpoint, the edge device
and the local festival all call; and from crops to what is stored (one object per crop
from the endpoint, crop sheets from an edge device)."""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Sequence
from dataclasses import dataclass, replace

from datapalooza.crop_sheets import MAX_TILES, build_sheet
from datapalooza.detection.settings import DetectorSettings
from datapalooza.domain.detections import Detection, FrameDetections
from datapalooza.domain.frame_attributes import FrameAttributes
from datapalooza.domain.keys import CropKey, SheetKey, epoch_ms, validate_slug
from datapalooza.images import crop_with_margin, encode_jpeg
from datapalooza.ports import FaceDetector, FaceStore, RGBImage, StoreError
from datapalooza.system.overlap import overlapping

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class FaceCrop:
    """A face ready to store: its detection (with key), the JPEG bytes, the object
    metadata and the crop's pixels (for a crop sheet). Metadata holds no personal data:
    stage, camera, frame id, box."""

    detection: Detection
    jpeg: bytes
    metadata: dict[str, str]
    pixels: RGBImage

    @property
    def key(self) -> str:
        assert self.detection.crop_key is not None
        return self.detection.crop_key


def find_faces(
    image: RGBImage,
    *,
    detector: FaceDetector,
    settings: DetectorSettings,
    attributes: FrameAttributes,
) -> tuple[FrameDetections, list[FaceCrop]]:
    """Detect faces in the frame ``attributes`` describe (stage, camera, frame id,
    capture time) and crop those big enough to score. Nothing is stored here."""
    stage, camera, frame_id = attributes.stage, attributes.camera, attributes.frame_id
    captured_at = attributes.captured_at
    validate_slug(stage, what="stage")
    validate_slug(camera, what="camera")
    validate_slug(frame_id, what="frame id")
    height, width = image.shape[:2]
    detections: list[Detection] = []
    crops: list[FaceCrop] = []
    for raw in detector.detect(image):
        _, _, w_px, h_px = raw.box.to_pixels(width, height)
        detection = Detection(
            box=raw.box,
            confidence=raw.confidence,
            size_px=min(w_px, h_px),
            landmarks=raw.landmarks,
        )
        if detection.size_px >= settings.min_face_px:
            key = str(CropKey(stage, captured_at, frame_id, len(crops)))
            detection = replace(detection, crop_key=key)
            pixels = crop_with_margin(image, raw.box, settings.crop_margin)
            crops.append(
                FaceCrop(
                    detection=detection,
                    jpeg=encode_jpeg(pixels, quality=settings.jpeg_quality),
                    pixels=pixels,
                    metadata={
                        "stage": stage,
                        "camera": camera,
                        "frame-id": frame_id,
                        "box": json.dumps(raw.box.to_json(), separators=(",", ":")),
                        "confidence": f"{raw.confidence:.2f}",
                        "model-id": detector.model_id,
                    },
                )
            )
        detections.append(detection)
    frame = FrameDetections(
        model_id=detector.model_id,
        image_width=width,
        image_height=height,
        stage=stage,
        camera=camera,
        frame_id=frame_id,
        captured_at_ms=epoch_ms(captured_at),
        faces=tuple(detections),
    )
    return frame, crops


@dataclass(frozen=True, slots=True)
class SheetObject:
    """A crop sheet ready to store: its key, JPEG and metadata (the frame's stage,
    camera, frame id and model id, and the sheet's layout)."""

    key: str
    jpeg: bytes
    metadata: dict[str, str]
    faces: int


SHEET_METADATA = ("stage", "camera", "frame-id", "model-id")
"""What a sheet's metadata repeats from its crops'. Per-face boxes and confidences are
left out: nothing downstream of the bucket reads them, and they would cost ~70 B a face."""


def pack_sheets(crops: Sequence[FaceCrop], *, quality: int) -> list[SheetObject]:
    """A frame's crops as crop sheets of up to MAX_TILES tiles (``datapalooza/crop_sheets.py``):
    what an edge device uploads instead of one object per crop."""
    sheets = []
    for first in range(0, len(crops), MAX_TILES):
        part = crops[first : first + MAX_TILES]
        key = CropKey.parse(part[0].key)
        sheet = build_sheet([crop.pixels for crop in part], quality=quality)
        common = {name: part[0].metadata[name] for name in SHEET_METADATA}
        sheets.append(
            SheetObject(
                key=str(SheetKey(key.stage, key.captured_at, key.frame_id, key.index)),
                jpeg=sheet.jpeg,
                metadata={**common, **sheet.layout.metadata()},
                faces=len(part),
            )
        )
    return sheets


def store_crops(crops: Sequence[FaceCrop], store: FaceStore, *, at_once: int = 1) -> None:
    """Store every crop or none: on a failure, remove what this call wrote, then raise.

    Up to ``at_once`` puts run at the same time (datapalooza.system.overlap). The
    endpoint's S3 bucket takes several (``S3FaceStore.puts_at_once``): each PutObject
    waits tens of milliseconds on the network, and one after another they held the
    endpoint's worker for all of them. After the first failure no further put starts;
    the error is raised once the puts under way have finished, so none is still writing
    during the rollback. An error that is not a StoreError (a bug) is raised as it is."""
    written: list[str] = []
    failed = threading.Event()

    def put(crop: FaceCrop) -> StoreError | None:
        if failed.is_set():
            return None
        try:
            store.put(crop.key, crop.jpeg, crop.metadata)
        except StoreError as exc:
            failed.set()
            return exc
        except BaseException:
            failed.set()
            raise
        written.append(crop.key)
        return None

    with overlapping(at_once) as each:
        errors = [error for error in each(put, crops) if error is not None]
    if not errors:
        return
    for key in written:
        try:
            store.delete(key)
        except StoreError:
            # Keep going: the lifecycle rule expires anything we could not remove.
            logger.exception("could not roll back crop %s", key)
    raise errors[0]

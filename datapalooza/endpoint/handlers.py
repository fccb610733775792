"""SageMaker's serving contract: model_fn, input_fn, predict_fn, output_fn.

model/code/inference.py (inside the SageMaker container) and the local server both
call these, so the cloud endpoint and ``datapalooza serve-endpoint`` are one code path.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from datapalooza import constants
from datapalooza.detection import DetectorSettings, load_detector
from datapalooza.endpoint.attributes import FrameAttributes, parse_attributes
from datapalooza.faces import find_faces, store_crops
from datapalooza.images import decode_image
from datapalooza.ports import FaceDetector, FaceStore, RGBImage

logger = logging.getLogger(__name__)

JSON = "application/json"


class UnsupportedAccept(ValueError):
    """The client asked for a response type other than JSON (we never send pickle)."""


@dataclass(frozen=True)
class EndpointModel:
    """What model_fn loads once per worker process."""

    detector: FaceDetector
    settings: DetectorSettings
    store: FaceStore | None


@dataclass(frozen=True)
class FrameRequest:
    """A decoded frame and who sent it."""

    image: RGBImage
    attributes: FrameAttributes


def build_store(env: Mapping[str, str]) -> FaceStore | None:
    """The crop store named by the environment: a bucket, a directory, or none."""
    bucket = env.get(constants.ENV_FACES_BUCKET)
    if bucket:
        import boto3

        from datapalooza.adapters.aws.s3_face_store import S3FaceStore

        return S3FaceStore(boto3.client("s3"), bucket)
    directory = env.get(constants.ENV_DATA_DIR)
    if not directory:
        return None
    from datapalooza.adapters.local.directory_face_store import DirectoryFaceStore

    store: FaceStore = DirectoryFaceStore(Path(directory))
    notifications = env.get(constants.ENV_NOTIFICATIONS_DB)
    if notifications:
        # The local festival: announce each crop, as the bucket's event notification would.
        from datapalooza.adapters.local.crop_notifications import (
            NotifyingFaceStore,
            SqliteCropNotifications,
        )

        store = NotifyingFaceStore(store, SqliteCropNotifications(Path(notifications)))
    return store


def model_fn(model_dir: str | None, env: Mapping[str, str]) -> EndpointModel:
    settings = DetectorSettings.from_env(env)
    detector = load_detector(settings)
    store = build_store(env)
    logger.info(
        "loaded %s (store: %s) from %s", detector.model_id, type(store).__name__, model_dir
    )
    return EndpointModel(detector=detector, settings=settings, store=store)


def input_fn(body: bytes, content_type: str | None, custom_attributes: str | None) -> FrameRequest:
    """Decode the frame; raises BadImage / BadAttributes with a clear message."""
    attributes = parse_attributes(custom_attributes)
    return FrameRequest(image=decode_image(body, content_type), attributes=attributes)


def predict_fn(request: FrameRequest, model: EndpointModel) -> dict[str, Any]:
    """Detect faces, store the crops (all or none), return the detections."""
    frame, crops = find_faces(
        request.image,
        detector=model.detector,
        settings=model.settings,
        stage=request.attributes.stage,
        camera=request.attributes.camera,
        frame_id=request.attributes.frame_id,
        captured_at=request.attributes.captured_at,
    )
    result = frame.to_json()
    if model.store is None:
        # Nowhere to put crops: report detections only, with no keys that point nowhere.
        for face in result["Faces"]:
            face["CropKey"] = None
        result["CropCount"] = 0
    else:
        store_crops(crops, model.store)
    return result


def output_fn(prediction: Mapping[str, Any], accept: str | None) -> tuple[bytes, str]:
    if accept and not any(t in accept for t in (JSON, "*/*", "application/*")):
        raise UnsupportedAccept(f"responses are {JSON}; cannot produce {accept!r}")
    return json.dumps(prediction, separators=(",", ":")).encode(), JSON

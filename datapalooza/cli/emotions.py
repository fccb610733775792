"""Detects faces with the endpoint's detector, crops them as the endpoint does, and
scores each crop's expression with the local model (default) or Amazon Rekognition
(needs AWS credentials; one DetectFaces call per face)."""

# ``datapalooza emotions IMAGE...``: find the faces in photos and score their
# expressions.

from __future__ import annotations

import argparse
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from datapalooza import constants
from datapalooza.cli import CliError
from datapalooza.cli.image_files import ImageFiles

HELP = "score the facial expressions in images and print them as JSON"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("images", nargs="+", type=Path, metavar="IMAGE")
    parser.add_argument("--analyzer", choices=["local", "rekognition"], default="local")
    parser.add_argument("--detector", choices=constants.DETECTOR_NAMES)
    parser.add_argument("--min-face-px", type=int, help="smallest face to score (default 40)")
    parser.add_argument("--region", help="AWS region for Rekognition (default from AWS_REGION)")


def run(args: argparse.Namespace) -> int:
    import os

    from datapalooza.detection import DetectorSettings, load_detector
    from datapalooza.detection.weights import ModelUnavailable
    from datapalooza.emotions import TrackerSettings, build_analyzer
    from datapalooza.settings import SettingsError

    rekognition = None
    if args.analyzer == "rekognition":
        # Before loading the detector: a missing region or credentials fails at once.
        from datapalooza.adapters.aws.rekognition_analyzer import rekognition_client
        from datapalooza.adapters.aws.session import aws_session

        session = aws_session(purpose="--analyzer rekognition", region=args.region)
        rekognition = rekognition_client(session)
    try:
        detector_settings = DetectorSettings.from_env(
            os.environ, detector=args.detector, min_face_px=args.min_face_px
        )
        detector = load_detector(detector_settings)
        analyzer = build_analyzer(
            TrackerSettings.from_env(os.environ, analyzer=args.analyzer, mode="per-crop"),
            rekognition_client=rekognition,
        )
    except (ModelUnavailable, SettingsError, ValueError) as exc:
        raise CliError(str(exc)) from exc
    images = ImageFiles(args.images)
    for index, path, image in images:
        try:
            report = score_image(
                image,
                detector=detector,
                detector_settings=detector_settings,
                analyzer=analyzer,
                frame_id=f"f{index}",
            )
        except Exception as exc:  # AnalyzerError, botocore errors: say which image
            images.failed(path, exc)
            continue
        print(json.dumps({"Image": str(path), **report}, indent=2))
    return images.exit_status


def score_image(
    image: Any,
    *,
    detector: Any,
    detector_settings: Any,
    analyzer: Any,
    frame_id: str = "f0",
) -> dict[str, Any]:
    """Detect, crop and score one image; the JSON the command prints (without the path)."""
    from datapalooza.detection.face_crops import find_faces
    from datapalooza.domain.emotions import EXPRESSION_CAVEAT
    from datapalooza.domain.frame_attributes import FrameAttributes

    frame, crops = find_faces(
        image,
        detector=detector,
        settings=detector_settings,
        attributes=FrameAttributes("cli", "cli", frame_id, datetime.now(UTC)),
    )
    analyzed = analyzer.analyze([crop.jpeg for crop in crops]) if crops else []
    by_key = {crop.key: face for crop, face in zip(crops, analyzed, strict=True)}
    faces = []
    for detection in frame.faces:
        entry: dict[str, Any] = {
            "BoundingBox": detection.box.to_json(),
            "Confidence": round(detection.confidence, 3),
            "SizePx": detection.size_px,
        }
        face = by_key.get(detection.crop_key) if detection.crop_key else None
        if detection.crop_key is None:
            entry.update(Emotions=None, Dominant=None, Note="too small to score")
        elif face is None or face.scores is None:
            entry.update(Emotions=None, Dominant=None, Note="the analyzer found no face")
        else:
            dominant = face.scores.dominant
            entry.update(
                Emotions=face.scores.to_rekognition(),
                Dominant=dominant.value if dominant else None,
                CrowdMoodContribution=round(face.scores.valence, 1),
            )
        faces.append(entry)
    return {
        "Analyzer": analyzer.name,
        "UnsupportedTypes": sorted(e.value for e in analyzer.unsupported),
        "Caveat": EXPRESSION_CAVEAT,
        "ImageWidth": frame.image_width,
        "ImageHeight": frame.image_height,
        "Faces": faces,
    }

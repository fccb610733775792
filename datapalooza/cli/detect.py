"""Runs the endpoint's detector in-process on each image."""

from __future__ import annotations

import argparse
import json
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from datapalooza import constants
from datapalooza.cli import CliError
from datapalooza.cli.image_files import ImageFiles

HELP = "detect faces in images and print the detections as JSON"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("images", nargs="+", type=Path, metavar="IMAGE")
    parser.add_argument("--detector", choices=constants.DETECTOR_NAMES)
    parser.add_argument("--min-confidence", type=float, help="0-100 (default 80)")
    parser.add_argument("--min-face-px", type=int, help="smallest face to crop (default 40)")
    parser.add_argument("--stage", default="main", help="stage name for crop keys")
    parser.add_argument(
        "--store",
        type=Path,
        help="also write the face crops to a local bucket in this directory",
    )
    parser.add_argument(
        "--annotate", type=Path, metavar="DIR", help="write IMAGE.annotated.jpg files here"
    )


def run(args: argparse.Namespace) -> int:
    import os

    from datapalooza.adapters.local.sqlite_face_store import SqliteFaceStore
    from datapalooza.detection import DetectorSettings, load_detector
    from datapalooza.detection.annotate import annotate
    from datapalooza.detection.face_crops import find_faces, store_crops
    from datapalooza.domain.frame_attributes import FrameAttributes

    settings = DetectorSettings.from_env(
        os.environ,
        detector=args.detector,
        min_confidence=args.min_confidence,
        min_face_px=args.min_face_px,
    )
    detector = load_detector(settings)
    store = SqliteFaceStore(args.store) if args.store else None
    images = ImageFiles(args.images)
    for index, path, image in images:
        frame, crops = find_faces(
            image,
            detector=detector,
            settings=settings,
            attributes=FrameAttributes(args.stage, "cli", f"img{index}", datetime.now(UTC)),
        )
        result: dict[str, Any] = {"Image": str(path), **frame.to_json()}
        if store is not None:
            store_crops(crops, store)
        else:
            for face in result["Faces"]:
                face["CropKey"] = None
            result["CropCount"] = 0
        print(json.dumps(result, indent=2))
        if args.annotate:
            _write_annotated(args.annotate, path, image, frame, annotate)
    if images.failures == len(args.images):
        raise CliError("no image could be read")
    return images.exit_status


def _write_annotated(out_dir: Path, path: Path, image: Any, frame: Any, annotate: Any) -> None:
    """The frame with its boxes, readable by its owner only (like every face crop this
    product writes): it shows the faces of the people on camera."""
    import numpy as np

    from datapalooza.images import encode_jpeg
    from datapalooza.system.atomic_write import write_atomically

    out_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    target = out_dir / f"{path.stem}.annotated.jpg"
    drawn = np.asarray(annotate(image, frame.faces))
    write_atomically(target, encode_jpeg(drawn, quality=90))
    print(f"annotated image: {target}", file=sys.stderr)

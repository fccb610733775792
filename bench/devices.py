"""Cloud path vs edge path on the same synthetic crowd footage.

Prints bytes sent per frame by the camera (whole JPEG frame, the cloud path) and by the
edge (face crops only), their ratio (target: edge <= 15% of cloud), and the edge's frames
per second on this CPU (detect + crop + encode; measured side by side in one run).

    python bench/devices.py [--frames 20] [--faces 14] [--seed 1]
"""

from __future__ import annotations

import argparse
import os
import time

from datapalooza.detection import DetectorSettings, load_detector
from datapalooza.detection.face_crops import find_faces
from datapalooza.devices.jpeg import encode_within
from datapalooza.sources.synthetic import SyntheticFestivalSource


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=20)
    parser.add_argument("--faces", type=int, default=14)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--camera-quality", type=int, default=85)
    args = parser.parse_args()
    settings = DetectorSettings.from_env(os.environ)
    detector = load_detector(settings)
    source = SyntheticFestivalSource(stage="main", seed=args.seed, faces=args.faces)
    cloud_bytes = edge_bytes = crops = faces = 0
    edge_seconds = 0.0
    for _ in range(args.frames):
        frame = source.read()
        cloud_bytes += len(
            encode_within(frame.image, quality=args.camera_quality, max_bytes=6 * 1024 * 1024)
        )
        started = time.perf_counter()
        detections, frame_crops = find_faces(
            frame.image,
            detector=detector,
            settings=settings,
            stage="main",
            camera="bench",
            frame_id=frame.frame_id,
            captured_at=frame.captured_at,
        )
        edge_seconds += time.perf_counter() - started
        edge_bytes += sum(len(c.jpeg) for c in frame_crops)
        crops += len(frame_crops)
        faces += len(detections.faces)
    n = args.frames
    print(
        f"synthetic crowd 1280x720, {args.faces} faces placed/frame, {n} frames, "
        f"detector={settings.detector}, min_face_px={settings.min_face_px}, "
        f"{os.cpu_count()} CPUs"
    )
    print(f"{'path':<28}{'bytes/frame':>14}")
    print(f"{'cloud (whole JPEG q' + str(args.camera_quality) + ')':<28}{cloud_bytes / n:>14,.0f}")
    print(f"{'edge (crops only)':<28}{edge_bytes / n:>14,.0f}")
    print(f"edge / cloud ratio: {edge_bytes / cloud_bytes:.1%} (target <= 15%)")
    print(f"faces found/frame: {faces / n:.1f}, crops/frame: {crops / n:.1f}")
    print(f"edge fps on this CPU (detect+crop+encode): {n / edge_seconds:.1f}")


if __name__ == "__main__":
    main()

"""The virtual device's camera: a short festival video made at synth time from the
project's own synthetic festival (real face photos, stage mood script), so Challenges 2
and 3 run without camera hardware.

Deterministic: the same frames encode to the same bytes (OpenCV's MPEG-4 Part 2 writer
adds no timestamp), so the asset hash, and with it the instance, stays the same from one
``cdk deploy`` to the next.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import cv2

from datapalooza.sources.synthetic import SyntheticFestivalSource
from stacks.build.requirements import REPO_ROOT

FOOTAGE_DIR = REPO_ROOT / "build" / "virtual-device"
FOOTAGE_SECONDS = 20
FOOTAGE_FPS = 1.0
FOOTAGE_SIZE = (1280, 720)  # the frame size the endpoint and the detector are tuned for
FOOTAGE_SEED = 1
FOURCC = "mp4v"  # decodable by the opencv-python-headless wheel the device programs ship


def festival_footage(out_dir: Path = FOOTAGE_DIR, *, stage: str = "main") -> Path:
    """The video file for ``stage``, written once into ``out_dir`` and reused after."""
    width, height = FOOTAGE_SIZE
    path = out_dir / (
        f"festival-{stage}-seed{FOOTAGE_SEED}-{width}x{height}-{FOOTAGE_SECONDS}s.mp4"
    )
    if path.is_file() and path.stat().st_size > 0:
        return path
    out_dir.mkdir(parents=True, exist_ok=True)
    source = SyntheticFestivalSource(
        stage=stage,
        seed=FOOTAGE_SEED,
        width=width,
        height=height,
        fps=FOOTAGE_FPS,
        frames=int(FOOTAGE_SECONDS * FOOTAGE_FPS),
        # Frame timestamps are not in the video: a fixed clock keeps the run reproducible.
        clock=lambda: datetime(2026, 1, 1, tzinfo=UTC),
    )
    partial = path.with_suffix(".partial.mp4")
    writer = cv2.VideoWriter(
        str(partial), cv2.VideoWriter.fourcc(*FOURCC), FOOTAGE_FPS, (width, height)
    )
    if not writer.isOpened():
        raise RuntimeError(f"OpenCV cannot write {FOURCC} video to {partial}")
    try:
        with source:
            for _ in range(int(FOOTAGE_SECONDS * FOOTAGE_FPS)):
                writer.write(cv2.cvtColor(source.read().image, cv2.COLOR_RGB2BGR))
    finally:
        writer.release()
    # Renamed only when complete: a synth interrupted mid-write never leaves a short video
    # that a later synth would upload.
    partial.replace(path)
    return path

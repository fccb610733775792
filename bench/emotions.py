"""Emotion tracker benchmark: what batching buys, measured side by side in one run.

1. Rekognition calls per face for a simulated crowd stream (frames with a varying
   number of faces, one S3 notification per crop, delivered in SQS batches), per-crop
   against mosaic mode. Real face crops (cut by the project's detector from photographs
   shipped in installed packages) go through the real tracker (track_crops, the real
   mosaic) and a real boto3 Rekognition client whose DetectFaces calls are answered and
   counted by botocore's Stubber; each mosaic answer is built from that mosaic's real
   layout. Target: <= 0.05 calls per face at 30+ faces per batch.
2. The local analyzer (mini-Xception on ONNX Runtime, 1 thread): faces/s one crop per
   call against batches, model only and from JPEG bytes, and the whole local tracker
   (SQLite results and metrics) one crop per call against batches. Target: batched
   >= 3x single.

Usage: python bench/emotions.py [--faces N] [--seed S]
"""

from __future__ import annotations

import argparse
import io
import random
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

import boto3  # noqa: E402
from botocore.stub import ANY, Stubber  # noqa: E402
from PIL import Image, ImageEnhance, ImageOps  # noqa: E402

from datapalooza.adapters.aws.rekognition_analyzer import RekognitionAnalyzer  # noqa: E402
from datapalooza.adapters.local.onnx_emotion_analyzer import OnnxEmotionAnalyzer  # noqa: E402
from datapalooza.domain.keys import CropKey  # noqa: E402
from datapalooza.emotions import CropRef, CropStatus, TrackerSettings, track_crops  # noqa: E402
from datapalooza.emotions.mosaic import MosaicAnalyzer  # noqa: E402
from datapalooza.emotions.wiring import local_tracker  # noqa: E402
from datapalooza.images import decode_image  # noqa: E402
from tests.integration.conftest_emotions import (  # noqa: E402
    T0,
    FakeFaceStore,
    FakeMetricsSink,
    FakeResultsTable,
    mosaic_answer,
    real_face_crops,
)

DETECT = {"Image": {"Bytes": ANY}, "Attributes": ["EMOTIONS"]}
PRICE_PER_CALL = 0.001  # USD per DetectFaces image, first pricing tier (~$1 per 1,000)


def crop_variants(count: int, seed: int) -> list[bytes]:
    """``count`` distinct real face crops: the two real crops, mirrored, with varied
    brightness and contrast and size, as a crowd of different cameras would give."""
    rng = random.Random(seed)
    bases = [Image.open(io.BytesIO(crop)).convert("RGB") for _, crop in real_face_crops()]
    out = []
    for _ in range(count):
        image = rng.choice(bases)
        if rng.random() < 0.5:
            image = ImageOps.mirror(image)
        image = ImageEnhance.Brightness(image).enhance(rng.uniform(0.7, 1.3))
        image = ImageEnhance.Contrast(image).enhance(rng.uniform(0.8, 1.2))
        side = rng.randint(60, 200)
        image = image.resize((side, round(side * image.height / image.width)))
        buffer = io.BytesIO()
        image.save(buffer, format="JPEG", quality=90)
        out.append(buffer.getvalue())
    return out


def crowd_stream(total_faces: int, seed: int) -> list[tuple[str, bytes]]:
    """(key, crop) in arrival order: frames every 2 s with 0-15 faces each."""
    rng = random.Random(seed)
    crops = crop_variants(total_faces, seed)
    stream: list[tuple[str, bytes]] = []
    frame = 0
    while len(stream) < total_faces:
        faces = min(rng.randint(0, 15), total_faces - len(stream))
        captured = T0.fromtimestamp(T0.timestamp() + 2 * frame, tz=T0.tzinfo)
        for i in range(faces):
            stream.append((str(CropKey("main", captured, f"f{frame}", i)), crops[len(stream)]))
        frame += 1
    return stream


def one_face_answer() -> dict:
    box = {"Left": 0.2, "Top": 0.2, "Width": 0.6, "Height": 0.6}
    return {
        "FaceDetails": [
            {
                "BoundingBox": box,
                "Confidence": 99.0,
                "Emotions": [
                    {"Type": "HAPPY", "Confidence": 90.0},
                    {"Type": "CALM", "Confidence": 10.0},
                ],
            }
        ]
    }


def run_stream(stream, *, batch_size: int, mode: str, mosaic_size: int) -> tuple[int, int]:
    """(faces scored, DetectFaces calls) for the stream delivered in SQS batches."""
    client = boto3.client(
        "rekognition",
        region_name="eu-west-1",
        aws_access_key_id="bench",
        aws_secret_access_key="bench",
    )
    rekognition = RekognitionAnalyzer(client)
    analyzer = (
        MosaicAnalyzer(rekognition, max_tiles=mosaic_size) if mode == "mosaic" else rekognition
    )
    settings = TrackerSettings(mode=mode, mosaic_size=mosaic_size)
    store, results, metrics = FakeFaceStore(), FakeResultsTable(), FakeMetricsSink()
    scored = 0
    with Stubber(client) as stub:
        for start in range(0, len(stream), batch_size):
            batch = stream[start : start + batch_size]
            for key, crop in batch:
                store.put(key, crop, {"camera": "cam-1"})
            if mode == "mosaic":
                for chunk in range(0, len(batch), mosaic_size):
                    crops = [crop for _, crop in batch[chunk : chunk + mosaic_size]]
                    stub.add_response(
                        "detect_faces", mosaic_answer(crops, ["CALM"] * len(crops)), DETECT
                    )
            else:
                for _ in batch:
                    stub.add_response("detect_faces", one_face_answer(), DETECT)
            report = track_crops(
                [CropRef(k, k) for k, _ in batch],
                store=store,
                analyzer=analyzer,
                results=results,
                metrics=metrics,
                settings=settings,
            )
            scored += report.counts.get(CropStatus.SCORED, 0)
        stub.assert_no_pending_responses()
    return scored, rekognition.calls


def faces_per_second(
    fn: Callable[[Sequence], object], items: Sequence, batch: int, repeat: int = 3
) -> float:
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        for i in range(0, len(items), batch):
            fn(items[i : i + batch])
        best = min(best, time.perf_counter() - start)
    return len(items) / best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--faces", type=int, default=1800)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()

    stream = crowd_stream(args.faces, args.seed)
    print(
        f"1. Rekognition DetectFaces calls per face: {len(stream)} real face crops, "
        "frames of 0-15 faces, SQS batches"
    )
    print(
        f"{'batch':>6} {'mode':>22} {'faces':>6} {'calls':>6} {'calls/face':>11} "
        f"{'USD/1k faces':>13}"
    )
    for batch_size in (10, 36, 50, 100):
        mosaic_size = min(batch_size, 50)
        for mode in ("per-crop", "mosaic"):
            faces, calls = run_stream(
                stream, batch_size=batch_size, mode=mode, mosaic_size=mosaic_size
            )
            label = mode if mode == "per-crop" else f"mosaic (<= {mosaic_size}/call)"
            print(
                f"{batch_size:>6} {label:>22} {faces:>6} {calls:>6} {calls / faces:>11.3f} "
                f"{1000 * PRICE_PER_CALL * calls / faces:>13.2f}"
            )
    print(
        "   (each mosaic's answer is built from its real layout and every crop got its face "
        "back; Rekognition's own recall on mosaics needs an AWS account to measure)"
    )

    crops = crop_variants(256, args.seed)
    images = [decode_image(c) for c in crops]
    with tempfile.TemporaryDirectory() as tmp:
        analyzer = OnnxEmotionAnalyzer(cache_dir=Path(tmp), threads=1, max_batch=1024)
        analyzer.analyze(crops[:8])  # warm up
        print(f"\n2. Local analyzer faces/s ({len(crops)} real face crops, 1 thread)")
        print(
            f"{'path':>34} {'single':>8} "
            + " ".join(f"{'x' + str(b):>8}" for b in (4, 16, 64))
            + f" {'best/single':>12}"
        )
        rows = {
            "model (decoded crops)": (analyzer.analyze_images, images),
            "analyzer (JPEG bytes)": (analyzer.analyze, crops),
        }
        for label, (fn, items) in rows.items():
            single = faces_per_second(fn, items, 1)
            batched = [faces_per_second(fn, items, b) for b in (4, 16, 64)]
            print(
                f"{label:>34} {single:>8.0f} "
                + " ".join(f"{v:>8.0f}" for v in batched)
                + f" {max(batched) / single:>11.2f}x"
            )

        def tracker_rate(batch: int, run: int) -> float:
            root = Path(tmp) / f"run{run}"
            tracker = local_tracker(
                TrackerSettings(analyzer="local", local_batch=batch),
                faces_root=root / "bucket",
                database=root / "f.db",
                cache_dir=Path(tmp),
            )
            refs = []
            for i, crop in enumerate(crops):
                key = str(CropKey("main", T0, f"f{i}", 0))
                tracker.store.put(key, crop, {"camera": "cam-1"})
                refs.append(CropRef(key, key))
            start = time.perf_counter()
            for i in range(0, len(refs), batch):
                tracker.track(refs[i : i + batch])
            return len(refs) / (time.perf_counter() - start)

        single = tracker_rate(1, 0)
        batched = [tracker_rate(b, i + 1) for i, b in enumerate((4, 16, 64))]
        print(
            f"{'local tracker (dir + SQLite)':>34} {single:>8.0f} "
            + " ".join(f"{v:>8.0f}" for v in batched)
            + f" {max(batched) / single:>11.2f}x"
        )
    print("   target: batched >= 3x single")


if __name__ == "__main__":
    main()

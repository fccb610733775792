"""Emotion tracker benchmark: what batching buys, measured side by side in one run.

1. Rekognition calls per face for a simulated crowd stream (frames with a varying
   number of faces, one S3 notification per crop, delivered in SQS batches), per-crop
   against mosaic mode. Real face crops (cut by the project's detector from photographs
   shipped in installed packages) go through the real tracker (score_crops, the real
   mosaic) and a real boto3 Rekognition client whose DetectFaces calls are answered and
   counted by botocore's Stubber; each mosaic answer is built from that mosaic's real
   layout.
2. The local analyzer (mini-Xception on ONNX Runtime, 1 thread): CPU per face for ONNX
   batch sizes 1 to 256 (interleaved rounds), model only and from JPEG bytes, and the
   whole local tracker (SQLite bucket, results and metrics) by tracker batch.

What it cannot measure: how many faces Rekognition itself finds in a mosaic (that needs
an AWS account); the Stubber answers every tile.

Usage: python bench/emotions.py [--quick] [--faces N] [--seed S]
"""

from __future__ import annotations

import argparse
import io
import json
import random
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

import boto3  # noqa: E402
from botocore.stub import ANY, Stubber  # noqa: E402
from PIL import Image, ImageEnhance, ImageOps  # noqa: E402

from bench.measure import interleaved, scratch_dir, summary  # noqa: E402
from datapalooza.adapters.aws.rekognition_analyzer import RekognitionAnalyzer  # noqa: E402
from datapalooza.adapters.local.onnx_emotion_analyzer import OnnxEmotionAnalyzer  # noqa: E402
from datapalooza.domain.keys import CropKey  # noqa: E402
from datapalooza.emotions import CropRef, CropStatus, TrackerSettings, score_crops  # noqa: E402
from datapalooza.emotions.bootstrap import local_scorer  # noqa: E402
from datapalooza.emotions.mosaic import MosaicAnalyzer  # noqa: E402
from datapalooza.images import decode_image  # noqa: E402
from datapalooza.testing.fakes import (  # noqa: E402
    FakeFaceStore,
    FakeMetricsSink,
    FakeResultsTable,
)
from tests.helpers.emotions import T0, mosaic_answer, real_face_crops  # noqa: E402

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
            report = score_crops(
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


def cpu_per_face(fn: Callable[[Sequence], object], items: Sequence, batch: int):
    """A measuring arm: score ``items`` ``batch`` at a time; CPU and wall ms per face."""

    def arm() -> dict[str, float]:
        cpu, wall = time.process_time(), time.perf_counter()
        for i in range(0, len(items), batch):
            fn(items[i : i + batch])
        return {
            "cpu_ms": 1000 * (time.process_time() - cpu) / len(items),
            "wall_ms": 1000 * (time.perf_counter() - wall) / len(items),
        }

    return arm


def rekognition_calls(stream: list[tuple[str, bytes]]) -> list[dict[str, Any]]:
    rows = []
    for batch_size in (10, 36, 50, 100):
        mosaic_size = min(batch_size, 50)
        for mode in ("per-crop", "mosaic"):
            faces, calls = run_stream(
                stream, batch_size=batch_size, mode=mode, mosaic_size=mosaic_size
            )
            rows.append(
                {
                    "sqs_batch": batch_size,
                    "mode": mode,
                    "mosaic_size": mosaic_size if mode == "mosaic" else 1,
                    "faces": faces,
                    "calls": calls,
                    "calls_per_face": calls / faces,
                    "usd_per_1000_faces": 1000 * PRICE_PER_CALL * calls / faces,
                }
            )
    return rows


def local_analyzer(crops: list[bytes], *, sizes: Sequence[int], rounds: int) -> dict[str, Any]:
    """The ONNX model with every inference batch size in ``sizes`` (no cap), interleaved:
    model only on decoded crops, and the analyzer from JPEG bytes."""
    images = [decode_image(c) for c in crops]
    out: dict[str, Any] = {}
    with scratch_dir() as tmp:
        analyzers = {
            size: OnnxEmotionAnalyzer(
                cache_dir=Path(tmp), threads=1, max_batch=len(crops), inference_batch=size
            )
            for size in sizes
        }
        for analyzer in analyzers.values():
            analyzer.analyze(crops[:8])  # warm up
        for label, items, method in (
            ("model", images, "analyze_images"),
            ("analyzer_jpeg", crops, "analyze"),
        ):
            runs = interleaved(
                {
                    str(size): cpu_per_face(getattr(a, method), items, size)
                    for size in sizes
                    for a in [analyzers[size]]
                },
                rounds,
            )
            out[label] = {
                size: {key: summary(r[key] for r in rs) for key in rs[0]}
                for size, rs in runs.items()
            }
    return out


def local_tracker_rates(crops: list[bytes], *, batches: Sequence[int], rounds: int):
    """The whole local tracker (SQLite bucket, ONNX, SQLite results + metrics), the
    tracker's batch (crops per call) swept, interleaved."""
    with scratch_dir() as tmp:
        counter = iter(range(10**6))

        def arm_for(batch: int) -> Callable[[], dict[str, float]]:
            def arm() -> dict[str, float]:
                root = Path(tmp) / f"run{next(counter)}"
                tracker = local_scorer(
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
                tracker.score(refs[:1])  # warm up (opens the database)
                return cpu_per_face(tracker.score, refs[1:], batch)()

            return arm

        runs = interleaved({str(b): arm_for(b) for b in batches}, rounds)
    return {b: {key: summary(r[key] for r in rs) for key in rs[0]} for b, rs in runs.items()}


def run(*, quick: bool = False, faces: int = 1800, seed: int = 7) -> dict[str, Any]:
    stream = crowd_stream(120 if quick else faces, seed)
    crops = crop_variants(32 if quick else 256, seed)
    rounds = 2 if quick else 5
    sizes = (1, 8, 32) if quick else (1, 2, 4, 8, 16, 32, 64, 128, 256)
    analyzer = local_analyzer(crops, sizes=sizes, rounds=rounds)
    model = analyzer["model"]
    best = min(model, key=lambda s: model[s]["cpu_ms"]["median"])
    return {
        "rekognition": rekognition_calls(stream),
        "local_analyzer": analyzer,
        "best_inference_batch": int(best),
        "best_vs_single_cpu": model["1"]["cpu_ms"]["median"] / model[best]["cpu_ms"]["median"],
        "local_scorer": local_tracker_rates(
            crops, batches=(1, 8) if quick else (1, 4, 16, 64), rounds=rounds
        ),
    }


def print_tables(result: dict[str, Any]) -> None:
    rows = result["rekognition"]
    print(
        f"\nRekognition DetectFaces calls per face ({rows[0]['faces']} real face crops, frames "
        "of 0-15 faces, SQS batches; answers from botocore's Stubber)"
    )
    print(f"{'batch':>6} {'mode':>22} {'faces':>6} {'calls':>6} {'calls/face':>11} {'USD/1k':>7}")
    for r in rows:
        label = r["mode"] if r["mode"] == "per-crop" else f"mosaic (<= {r['mosaic_size']}/call)"
        print(
            f"{r['sqs_batch']:>6} {label:>22} {r['faces']:>6} {r['calls']:>6} "
            f"{r['calls_per_face']:>11.3f} {r['usd_per_1000_faces']:>7.2f}"
        )
    print("\nLocal analyzer CPU ms per face by ONNX batch size (1 thread; median of rounds)")
    sizes = list(result["local_analyzer"]["model"])
    print(f"{'path':>14} " + " ".join(f"{'x' + s:>6}" for s in sizes))
    for label, by_size in result["local_analyzer"].items():
        print(f"{label:>14} " + " ".join(f"{by_size[s]['cpu_ms']['median']:6.2f}" for s in sizes))
    print(
        f"  fastest batch: {result['best_inference_batch']} "
        f"({result['best_vs_single_cpu']:.2f}x less CPU per face than one at a time)"
    )
    tracker = result["local_scorer"]
    print("\nWhole local tracker (directory + ONNX + SQLite), CPU ms per face by tracker batch")
    print(" ".join(f"{'x' + b:>8}" for b in tracker))
    print(" ".join(f"{v['cpu_ms']['median']:8.2f}" for v in tracker.values()))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--faces", type=int, default=1800)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    result = run(quick=args.quick, faces=args.faces, seed=args.seed)
    print_tables(result)
    if args.json:
        args.json.write_text(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()

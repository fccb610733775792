"""Endpoint benchmark: where the time of one /invocations goes, and how it scales.

Prints ratios measured side by side in one run on the same synthetic crowd frames
(real portraits composed into festival frames):

- JPEG decode alone, detector alone, a full HTTP /invocations round trip (decode,
  detect, crop, store crops, JSON) and the serving overhead ratio round trip / detector;
- throughput of the real server with 1 and 2 worker processes;
- RetinaFace against libfacedetection (time and faces found).

Targets: serving overhead <= 1.25x detector time at 1280x720; 2 workers >= 1.7x the
throughput of 1.

Usage: python bench/endpoint.py [--frames N] [--requests N]
"""

from __future__ import annotations

import argparse
import http.client
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from datapalooza.detection import DetectorSettings, load_detector  # noqa: E402
from datapalooza.images import decode_image, encode_jpeg  # noqa: E402
from datapalooza.sources.synthetic import SyntheticFestivalSource  # noqa: E402
from tests.conftest import start_endpoint  # noqa: E402

RESOLUTIONS = [(640, 360), (1280, 720)]


def crowd_frames(width: int, height: int, count: int) -> list[bytes]:
    source = SyntheticFestivalSource(stage="main", seed=7, width=width, height=height)
    return [encode_jpeg(source.compose(i)[0], quality=90) for i in range(count)]


def median_ms(fn, items, repeat: int = 3) -> float:
    times = []
    for _ in range(repeat):
        for item in items:
            start = time.perf_counter()
            fn(item)
            times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def round_trip_ms(port: int, frames: list[bytes], repeat: int = 3) -> float:
    with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=30) as client:

        def send(body: bytes) -> None:
            response = client.post(
                "/invocations",
                content=body,
                headers={
                    "Content-Type": "image/jpeg",
                    "X-Amzn-SageMaker-Custom-Attributes": "stage=main,camera=bench",
                },
            )
            response.raise_for_status()

        send(frames[0])  # warm up
        return median_ms(send, frames, repeat)


def throughput(port: int, frames: list[bytes], requests: int, concurrency: int = 4) -> float:
    def send(i: int) -> None:
        # A fresh connection per frame, as from many cameras: the kernel spreads
        # connections over the worker processes (keep-alive would pin a client to one).
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        try:
            connection.request(
                "POST",
                "/invocations",
                body=frames[i % len(frames)],
                headers={"Content-Type": "image/jpeg"},
            )
            response = connection.getresponse()
            response.read()
            if response.status != 200:
                raise RuntimeError(f"/invocations answered {response.status}")
        finally:
            connection.close()

    with ThreadPoolExecutor(concurrency) as pool:
        list(pool.map(send, range(concurrency * 2)))  # warm every worker
        start = time.perf_counter()
        list(pool.map(send, range(requests)))
        return requests / (time.perf_counter() - start)


def stop(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    process.wait(timeout=20)


def main() -> None:
    parser = argparse.ArgumentParser(description="endpoint benchmark")
    parser.add_argument("--frames", type=int, default=6, help="frames per resolution")
    parser.add_argument("--requests", type=int, default=40, help="requests per throughput run")
    args = parser.parse_args()

    retina = load_detector(DetectorSettings(detector="retinaface"))
    libfd = load_detector(DetectorSettings(detector="libfacedetection"))
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        process, port = start_endpoint(Path(tmp) / "bucket", workers=1)
        try:
            for width, height in RESOLUTIONS:
                frames = crowd_frames(width, height, args.frames)
                images = [decode_image(f, "image/jpeg") for f in frames]
                decode = median_ms(lambda f: decode_image(f, "image/jpeg"), frames)
                detect = median_ms(retina.detect, images)
                detect_lfd = median_ms(libfd.detect, images)
                faces = statistics.mean(len(retina.detect(i)) for i in images)
                faces_lfd = statistics.mean(len(libfd.detect(i)) for i in images)
                trip = round_trip_ms(port, frames)
                rows.append((width, height, decode, detect, trip, detect_lfd, faces, faces_lfd))
        finally:
            stop(process)

        frames = crowd_frames(1280, 720, args.frames)
        rates = {}
        for workers in (1, 2):
            process, port = start_endpoint(Path(tmp) / f"bucket{workers}", workers=workers)
            try:
                rates[workers] = throughput(port, frames, args.requests)
            finally:
                stop(process)

    print("\nEndpoint latency (median ms; RetinaFace, 1 ORT thread, 1 worker)")
    print(f"{'frame':>10} {'decode':>8} {'detect':>8} {'round trip':>11} {'overhead':>9}")
    for w, h, decode, detect, trip, *_ in rows:
        print(f"{w}x{h:<5} {decode:8.1f} {detect:8.1f} {trip:11.1f} {trip / detect:8.2f}x")
    print("\nDetectors side by side (median ms per frame, mean faces found per frame)")
    header = ("frame", "retinaface", "faces", "libfacedet", "faces", "time ratio")
    print("{:>10} {:>11} {:>6} {:>11} {:>6} {:>11}".format(*header))
    for w, h, _, detect, _, detect_lfd, faces, faces_lfd in rows:
        print(
            f"{w}x{h:<5} {detect:11.1f} {faces:6.1f} {detect_lfd:11.1f} {faces_lfd:6.1f} "
            f"{detect_lfd / detect:10.2f}x"
        )
    print("\nThroughput at 1280x720 (frames/s, 4 concurrent clients)")
    print(f"  1 worker : {rates[1]:6.2f}")
    print(f"  2 workers: {rates[2]:6.2f}   scaling {rates[2] / rates[1]:.2f}x")
    overhead_720 = rows[-1][4] / rows[-1][3]
    print("\nTargets")
    print(
        f"  serving overhead at 1280x720 <= 1.25x : {overhead_720:.2f}x "
        f"{'PASS' if overhead_720 <= 1.25 else 'MISS'}"
    )
    scaling = rates[2] / rates[1]
    print(
        f"  2 workers >= 1.7x throughput of 1     : {scaling:.2f}x "
        f"{'PASS' if scaling >= 1.7 else 'MISS'}"
    )


if __name__ == "__main__":
    main()

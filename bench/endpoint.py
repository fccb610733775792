"""Endpoint benchmark: where the time of one /invocations goes, and how it scales.

Prints ratios measured side by side in one run on the same synthetic crowd frames
(real portraits composed into festival frames):

- JPEG decode alone, detector alone, a full HTTP /invocations round trip (decode,
  detect, crop, store crops, JSON) and the serving overhead ratio round trip / detector;
- throughput of the real server with 1 and 2 worker processes;
- RetinaFace against libfacedetection (time and faces found);
- memory: resident set size of each worker after warm-up, under 8 concurrent clients
  sending realistic frames, and with pixel bombs sent among them (time and answer of
  each bomb, RSS after, peak RSS).

Targets: serving overhead <= 1.25x detector time at 1280x720; 2 workers >= 1.7x the
throughput of 1.

Usage: python bench/endpoint.py [--frames N] [--requests N] [--memory-only]
"""

from __future__ import annotations

import argparse
import http.client
import io
import statistics
import struct
import subprocess
import sys
import tempfile
import time
import zlib
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


def worker_pids(server_pid: int) -> list[int]:
    """The uvicorn worker processes under a ``serve-endpoint --workers N`` process."""
    children = Path(f"/proc/{server_pid}/task/{server_pid}/children").read_text().split()
    return [
        int(pid)
        for pid in children
        # multiprocessing's resource tracker is a child too, but serves no request
        if b"resource_tracker" not in Path(f"/proc/{pid}/cmdline").read_bytes()
    ]


def memory_mb(pid: int) -> tuple[float, float]:
    """(current RSS, peak RSS) of a process in MB, from /proc."""
    fields = dict(
        line.split(":", 1) for line in Path(f"/proc/{pid}/status").read_text().splitlines()
    )
    return int(fields["VmRSS"].split()[0]) / 1024, int(fields["VmHWM"].split()[0]) / 1024


def png_rows(width: int, height: int = 1) -> bytes:
    """A valid, highly compressible RGB PNG (a 39,000,000 x 1 one is 38 KB)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
        )

    raw = (b"\x00" + b"\x80" * (3 * width)) * height
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(raw, 9))
        + chunk(b"IEND", b"")
    )


def pixel_bombs() -> dict[str, tuple[bytes, str]]:
    from PIL import Image

    def jpeg(width: int, height: int) -> bytes:
        buffer = io.BytesIO()
        Image.new("RGB", (width, height), (90, 120, 150)).save(buffer, "JPEG", quality=60)
        return buffer.getvalue()

    return {
        "jpeg 8000x5000": (jpeg(8000, 5000), "image/jpeg"),
        "png 39000000x1": (png_rows(39_000_000), "image/png"),
        "png 8192x4880": (png_rows(8192, 4880), "image/png"),
        "jpeg 3840x2160": (jpeg(3840, 2160), "image/jpeg"),
    }


def post(port: int, body: bytes, content_type: str) -> tuple[int, float]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=300)
    start = time.perf_counter()
    try:
        connection.request(
            "POST", "/invocations", body=body, headers={"Content-Type": content_type}
        )
        response = connection.getresponse()
        response.read()
        return response.status, time.perf_counter() - start
    finally:
        connection.close()


def worker_memory(
    tmp: str, frames: list[bytes], requests: int, *, bombs: bool = True
) -> tuple[list[tuple[str, list[float]]], list[tuple[str, int, float]], list[float]]:
    """RSS per worker (MB) of a 2-worker endpoint at each phase, each bomb's (status,
    seconds) and each worker's peak RSS."""
    process, port = start_endpoint(Path(tmp) / "bucket-memory", workers=2)
    phases: list[tuple[str, list[float]]] = []
    answers: list[tuple[str, int, float]] = []
    try:
        pids = worker_pids(process.pid)
        clients = 8
        with ThreadPoolExecutor(clients) as pool:
            list(pool.map(lambda i: post(port, frames[i % len(frames)], "image/jpeg"), range(16)))
            phases.append(("after warm-up", [memory_mb(p)[0] for p in pids]))
            list(
                pool.map(
                    lambda i: post(port, frames[i % len(frames)], "image/jpeg"), range(requests)
                )
            )
            phases.append(
                (f"{clients} clients, {requests} frames", [memory_mb(p)[0] for p in pids])
            )
            if bombs:
                for name, (body, ctype) in pixel_bombs().items():
                    # The bomb among frames from the other clients, as in the field.
                    background = [
                        pool.submit(post, port, frames[i % len(frames)], "image/jpeg")
                        for i in range(clients * 2)
                    ]
                    status, seconds = post(port, body, ctype)
                    for future in background:
                        future.result()
                    answers.append((name, status, seconds))
                phases.append(("after the bombs", [memory_mb(p)[0] for p in pids]))
        peaks = [memory_mb(p)[1] for p in pids]
    finally:
        stop(process)
    return phases, answers, peaks


def print_memory(
    phases: list[tuple[str, list[float]]],
    answers: list[tuple[str, int, float]],
    peaks: list[float],
) -> None:
    print("\nMemory per endpoint worker (RSS MB, 2 workers, 1280x720 crowd frames)")
    for label, values in phases:
        print(f"  {label:<28} " + "  ".join(f"{v:7.0f}" for v in values))
    print(f"  {'peak (VmHWM)':<28} " + "  ".join(f"{v:7.0f}" for v in peaks))
    if answers:
        print("\nPixel bombs (sent among 8 clients' frames)")
        for name, status, seconds in answers:
            print(f"  {name:<18} HTTP {status}  {seconds:6.2f} s")


def stop(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    process.wait(timeout=20)


def main() -> None:
    parser = argparse.ArgumentParser(description="endpoint benchmark")
    parser.add_argument("--frames", type=int, default=6, help="frames per resolution")
    parser.add_argument("--requests", type=int, default=40, help="requests per throughput run")
    parser.add_argument(
        "--memory-only", action="store_true", help="only the memory section (worker RSS, bombs)"
    )
    parser.add_argument("--no-bombs", action="store_true", help="skip the pixel bombs")
    args = parser.parse_args()
    if args.memory_only:
        with tempfile.TemporaryDirectory() as tmp:
            frames = crowd_frames(1280, 720, args.frames)
            print_memory(*worker_memory(tmp, frames, args.requests * 2, bombs=not args.no_bombs))
        return

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
        memory = worker_memory(tmp, frames, args.requests * 2)

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
    print_memory(*memory)
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

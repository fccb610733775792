"""Endpoint benchmark: what one /invocations costs next to the bare detector, and how
the server scales with worker processes.

Measured side by side in one run on the same synthetic crowd frames (real portraits
composed into festival frames), in interleaved rounds (A B, then B A, ...):

- CPU and wall time per frame of the detector alone (in this process) against a full
  HTTP /invocations round trip (decode, detect, crop, store crops, JSON): the round
  trip's CPU is the server's processes' plus this client's. The client is the standard
  library's http.client on one kept-alive connection (the throughput arm uses it too):
  the lightest client, so the figure is the endpoint's (httpx would add ~0.7 ms).
  Overhead = round trip CPU per frame / detector CPU per frame, in each round, then the
  median over the rounds; it cannot be below 1 (the round trip runs the same detector
  on the same frames), so a figure below 1 means the measurement is wrong.
- Where a request's CPU goes: the server's request handling (input_fn, find_faces,
  store_crops, output_fn) run in this process in the same rounds, part by part, and
  the round trip's CPU outside it (HTTP, the hand-off to the request thread, the client).
- Throughput (frames/s) and CPU per frame of the real server with 1 worker against as
  many workers as this machine has cores, each under CLIENTS_PER_WORKER concurrent
  clients per worker of the larger server (8 for 2 workers): a load that keeps every
  worker busy. With fewer clients a worker can sit idle while another has a queue: each
  new connection goes to whichever worker's event loop accepts it first, busy or not
  (the inference runs off the loop, which keeps accepting). The same server under 2
  clients per worker is measured in the same rounds to show that race, and
  ``accept_race_ceiling`` gives what a queueing model of it predicts. In the same
  rounds, the bare detector in 1 process against one per core (bench/machine_ceiling.py):
  how far this machine's cores scale the same work with no server at all.
- RetinaFace against libfacedetection (CPU per frame, faces found).
- Memory: resident set size of each worker after warm-up, under 8 concurrent clients
  sending realistic frames, and with pixel bombs sent among them (time and answer of
  each bomb, RSS after, peak RSS).

Goals: endpoint CPU per request <= 1.15x the detector's; throughput with workers =
cores >= 0.85 x cores x one worker's.

Usage: python bench/endpoint.py [--quick]   (part of ``python -m bench``)
"""

from __future__ import annotations

import argparse
import heapq
import http.client
import io
import itertools
import json
import os
import random
import statistics
import struct
import subprocess
import sys
import time
import zlib
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from bench.goals import OVERHEAD_GOAL, SCALING_GOAL, at_least, at_most  # noqa: E402
from bench.machine_ceiling import DetectorProcesses  # noqa: E402
from bench.measure import (  # noqa: E402
    CpuWindow,
    interleaved,
    scratch_dir,
    summary,
    thread_cpu_s,
    thread_kernel_s,
)
from datapalooza.adapters.local.sqlite_face_store import SqliteFaceStore  # noqa: E402
from datapalooza.detection import DetectorSettings, load_detector  # noqa: E402
from datapalooza.detection.face_crops import find_faces, store_crops  # noqa: E402
from datapalooza.devices.camera import CameraSettings  # noqa: E402
from datapalooza.endpoint.handlers import input_fn, model_fn, output_fn  # noqa: E402
from datapalooza.images import decode_image, encode_jpeg  # noqa: E402
from datapalooza.ports import RawFace, RGBImage  # noqa: E402
from datapalooza.sources.synthetic import SyntheticFestivalSource  # noqa: E402
from tests.conftest import start_endpoint  # noqa: E402

RESOLUTIONS = [(640, 360), (1280, 720)]


CAMERA_QUALITY = CameraSettings(stage="main").jpeg_quality
"""The JPEG quality our camera sends frames at by default (85): what the endpoint decodes.
Frames at 90 (175 KB against 140 KB at 1280x720) cost the decode 0.3 ms more a frame
(3.77 against 4.16 ms, medians of 16 interleaved rounds)."""


def crowd_frames(width: int, height: int, count: int) -> list[bytes]:
    """Synthetic crowd frames as the camera sends them."""
    source = SyntheticFestivalSource(stage="main", seed=7, width=width, height=height)
    return [encode_jpeg(source.compose(i)[0], quality=CAMERA_QUALITY) for i in range(count)]


def per_frame(fn: Callable[[Any], object], items: Sequence[Any], pids: Sequence[int] = ()):
    """A measuring arm: run ``fn`` on every item; CPU (this process + ``pids``' trees)
    and wall milliseconds per item."""

    def arm() -> dict[str, float]:
        window = CpuWindow(pids, include_self=True)
        window.start()
        for item in items:
            fn(item)
        window.stop()
        return {
            "cpu_ms": 1000 * window.cpu_s / len(items),
            "wall_ms": 1000 * window.wall_s / len(items),
            "self_cpu_ms": 1000 * window.self_s / len(items),
        }

    return arm


SPLIT_BY_THREAD = ("request_thread_ms", "event_loop_ms", "client_ms")


def server_round_trip(
    send: Callable[[bytes], None], frames: Sequence[bytes], pid: int
) -> Callable[[], dict[str, float]]:
    """``per_frame`` for round trips to a 1-worker server, with its CPU split by thread:
    ``event_loop_ms`` (the server's main thread: HTTP), ``request_thread_ms`` (the
    threads the handler runs in) and ``client_ms`` (this thread, the client)."""
    whole = per_frame(send, frames, pids=[pid])

    def arm() -> dict[str, float]:
        before = thread_cpu_s(pid)
        result = whole()
        after = thread_cpu_s(pid)
        spent = {tid: cpu - before.get(tid, 0.0) for tid, cpu in after.items()}
        loop = spent.pop(pid, 0.0)
        return {
            **result,
            "event_loop_ms": 1000 * loop / len(frames),
            "request_thread_ms": 1000 * sum(spent.values()) / len(frames),
            # This process's CPU inside the window, without the window's own reading of
            # /proc (a walk of every process at its start and stop), which a thread clock
            # around it counted: 1.4 ms a 1280x720 frame that way, 0.45 without.
            "client_ms": result["self_cpu_ms"],
        }

    return arm


HANDLER_PARTS = ("decode", "detect", "crops", "store", "json")


class TimedDetector:
    """A detector that adds the thread CPU of its detect() calls to ``cpu_s``."""

    def __init__(self, detector: Any) -> None:
        self._detector = detector
        self.model_id = detector.model_id
        self.cpu_s = 0.0

    def detect(self, image: RGBImage) -> list[RawFace]:
        started = time.thread_time()
        try:
            return list(self._detector.detect(image))
        finally:
            self.cpu_s += time.thread_time() - started


def handler_parts(frames: Sequence[bytes], store_root: Path) -> Callable[[], dict[str, float]]:
    """A measuring arm: what the server's request handler does with each frame, run in
    this process part by part, thread CPU ms per frame: ``decode`` (input_fn), ``detect``,
    ``crops`` (cut and JPEG-encode, find_faces less its detect), ``store`` (the local
    crop store: a row of its SQLite file a crop), ``json`` (output_fn); ``cpu_ms`` is their
    sum. ``store_kernel_ms`` is the part of ``store`` spent in the kernel and
    ``crops_per_frame`` how many crops it wrote."""
    model = model_fn(None, {})
    detector = TimedDetector(model.detector)
    store = SqliteFaceStore(store_root)
    frame_ids = itertools.count()

    def arm() -> dict[str, float]:
        spent = dict.fromkeys(HANDLER_PARTS, 0.0)
        store_kernel_s, crops_stored = 0.0, 0
        for body in frames:
            attributes = f"stage=main,camera=bench,frame-id=h{next(frame_ids)}"
            started = time.thread_time()
            request = input_fn(body, "image/jpeg", attributes)
            decoded = time.thread_time()
            detector.cpu_s = 0.0
            frame, crops = find_faces(
                request.image,
                detector=detector,
                settings=model.settings,
                attributes=request.attributes,
            )
            found, kernel_before = time.thread_time(), thread_kernel_s()
            store_crops(crops, store)
            stored = time.thread_time()
            store_kernel_s += thread_kernel_s() - kernel_before
            crops_stored += len(crops)
            output_fn(frame.to_json(), None)
            answered = time.thread_time()
            spent["decode"] += decoded - started
            spent["detect"] += detector.cpu_s
            spent["crops"] += found - decoded - detector.cpu_s
            spent["store"] += stored - found
            spent["json"] += answered - stored
        per_frame = {f"{part}_ms": 1000 * s / len(frames) for part, s in spent.items()}
        return {
            **per_frame,
            "cpu_ms": sum(per_frame.values()),
            "store_kernel_ms": 1000 * store_kernel_s / len(frames),
            "crops_per_frame": crops_stored / len(frames),
        }

    return arm


def round_trip(connection: http.client.HTTPConnection) -> Callable[[bytes], None]:
    def send(body: bytes) -> None:
        connection.request(
            "POST",
            "/invocations",
            body=body,
            headers={
                "Content-Type": "image/jpeg",
                "X-Amzn-SageMaker-Custom-Attributes": "stage=main,camera=bench",
            },
        )
        response = connection.getresponse()
        response.read()
        if response.status != 200:
            raise RuntimeError(f"/invocations answered {response.status}")

    return send


def throughput(port: int, pid: int, frames: list[bytes], requests: int, concurrency: int = 4):
    """A measuring arm: ``requests`` frames sent by ``concurrency`` clients; frames/s and
    CPU per frame (server processes + this client)."""

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

    def arm() -> dict[str, float]:
        with ThreadPoolExecutor(concurrency) as pool:
            window = CpuWindow([pid], include_self=True)
            window.start()
            list(pool.map(send, range(requests)))
            window.stop()
        return {
            "fps": requests / window.wall_s,
            "cpu_ms": 1000 * window.cpu_s / requests,
        }

    return arm


CLIENTS_PER_WORKER = 4


def accept_race_ceiling(clients: int, workers: int, *, requests: int = 50_000) -> float:
    """Throughput per worker, as a fraction of one saturated worker's, when ``clients``
    each send a request as soon as their last is answered and every request goes to a
    worker at random (the accept race), each worker answering its queue in order. A
    model (service times +-10%, fixed seed), not a measurement."""
    rng = random.Random(7)
    free_at = [0.0] * workers
    arrivals = [(0.0, client) for client in range(clients)]
    heapq.heapify(arrivals)
    for _ in range(requests):
        now, client = heapq.heappop(arrivals)
        worker = rng.randrange(workers)
        free_at[worker] = max(now, free_at[worker]) + rng.uniform(0.9, 1.1)
        heapq.heappush(arrivals, (free_at[worker], client))
    return requests / max(free_at) / workers


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


def warm(port: int, frames: list[bytes], workers: int) -> None:
    """Every worker has decoded and detected before any round is timed."""
    arm = throughput(port, 0, frames, requests=4 * workers, concurrency=2 * workers)
    arm()


def stop(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    process.wait(timeout=20)


def medians(rounds: list[dict[str, float]]) -> dict[str, dict[str, float]]:
    return {key: summary(r[key] for r in rounds) for key in rounds[0]}


def latency(tmp: Path, *, frames_per_resolution: int, rounds: int) -> dict[str, Any]:
    """Detector alone vs round trip (and decode alone), per resolution, interleaved."""
    retina = load_detector(DetectorSettings(detector="retinaface"))
    libfd = load_detector(DetectorSettings(detector="libfacedetection"))
    out: dict[str, Any] = {}
    process, port = start_endpoint(tmp / "bucket", workers=1)
    try:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        try:
            send = round_trip(connection)
            for width, height in RESOLUTIONS:
                frames = crowd_frames(width, height, frames_per_resolution)
                images = [decode_image(f, "image/jpeg") for f in frames]
                send(frames[0])  # warm up
                retina.detect(images[0])
                libfd.detect(images[0])
                runs = interleaved(
                    {
                        "detector": per_frame(retina.detect, images),
                        "round_trip": server_round_trip(send, frames, process.pid),
                        "handler": handler_parts(frames, tmp / f"handler{width}"),
                        "decode": per_frame(lambda f: decode_image(f, "image/jpeg"), frames),
                        "libfacedetection": per_frame(libfd.detect, images),
                    },
                    rounds,
                )
                row = {name: medians(r) for name, r in runs.items()}
                # What the round trip spends outside the handler's own parts (HTTP, the
                # hand-off to the request thread, the client), round by round.
                row["outside_handler_ms"] = statistics.median(
                    trip["cpu_ms"] - handled["cpu_ms"]
                    for trip, handled in zip(runs["round_trip"], runs["handler"], strict=True)
                )
                # Each round's round trip against the same round's detector (they run
                # next to each other in either order), then the median: a machine whose
                # speed drifts between rounds moves both sides of a round alike.
                for unit in ("cpu", "wall"):
                    by_round = [
                        trip[f"{unit}_ms"] / bare[f"{unit}_ms"]
                        for trip, bare in zip(runs["round_trip"], runs["detector"], strict=True)
                    ]
                    row[f"overhead_{unit}_by_round"] = by_round
                    row[f"overhead_{unit}"] = statistics.median(by_round)
                row["faces_retinaface"] = statistics.mean(len(retina.detect(i)) for i in images)
                row["faces_libfacedetection"] = statistics.mean(
                    len(libfd.detect(i)) for i in images
                )
                out[f"{width}x{height}"] = row
        finally:
            connection.close()
    finally:
        stop(process)
    return out


def scaling(tmp: Path, *, frames: int, requests: int, rounds: int) -> dict[str, Any]:
    """1 worker vs one per core, both servers up at once, rounds interleaved."""
    cores = len(os.sched_getaffinity(0))
    many = max(cores, 2)
    images = crowd_frames(1280, 720, frames)
    servers = {}
    try:
        with DetectorProcesses(images, many) as bare:
            for workers in (1, many):
                servers[workers] = start_endpoint(tmp / f"bucket{workers}", workers=workers)
                warm(servers[workers][1], images, workers)
            clients = CLIENTS_PER_WORKER * many
            arms = {
                f"{w}_workers": throughput(port, process.pid, images, requests, clients)
                for w, (process, port) in servers.items()
            }
            few = 2 * many
            process, port = servers[many]
            arms[f"{many}_workers_{few}_clients"] = throughput(
                port, process.pid, images, requests, few
            )
            # The machine's own ceiling, in the same rounds (bench/machine_ceiling.py).
            arms["detector_1_process"] = bare.arm(1, requests)
            arms[f"detector_{many}_processes"] = bare.arm(many, requests)
            runs = interleaved(arms, rounds)
    finally:
        for process, _ in servers.values():
            stop(process)
    one, more = medians(runs["1_workers"]), medians(runs[f"{many}_workers"])
    fewer = medians(runs[f"{many}_workers_{few}_clients"])
    ratio = more["fps"]["median"] / one["fps"]["median"]
    alone = medians(runs["detector_1_process"])
    together = medians(runs[f"detector_{many}_processes"])
    machine_per_core = together["fps"]["median"] / alone["fps"]["median"] / many
    return {
        "cores": cores,
        "workers": many,
        "clients": clients,
        "one_worker": one,
        "many_workers": more,
        "scaling": ratio,
        "scaling_per_core": ratio / many,
        # Each round's many-worker throughput over the same round's one worker.
        "scaling_per_core_by_round": [
            b["fps"] / a["fps"] / many
            for a, b in zip(runs["1_workers"], runs[f"{many}_workers"], strict=True)
        ],
        "machine": {
            "one_process": alone,
            "many_processes": together,
            "scaling_per_core": machine_per_core,
            "endpoint_share": ratio / many / machine_per_core,
        },
        "few_clients": {
            "clients": few,
            "many_workers": fewer,
            "scaling_per_core": fewer["fps"]["median"] / one["fps"]["median"] / many,
            "accept_race_model": accept_race_ceiling(few, many),
        },
        "accept_race_model": accept_race_ceiling(clients, many),
        "rounds": {k: v for k, v in runs.items()},
    }


def run(*, quick: bool = False) -> dict[str, Any]:
    # Nine rounds, and 48 requests a throughput round: both goals sit within the spread
    # of five 24-request rounds (per-core scaling read 0.79 to 0.94 across runs). The
    # overhead's rounds are cheap (about 2.5 s each) and read 1.07 to 1.33 in one run of
    # nine: fifteen narrow its median's uncertainty by a quarter for about 15 s more.
    rounds = 2 if quick else 9
    with scratch_dir() as tmp:
        lat = latency(Path(tmp), frames_per_resolution=2 if quick else 6, rounds=2 if quick else 15)
        scale = scaling(
            Path(tmp), frames=2 if quick else 6, requests=4 if quick else 48, rounds=rounds
        )
        phases, answers, peaks = worker_memory(
            str(tmp),
            crowd_frames(1280, 720, 2 if quick else 6),
            8 if quick else 80,
            bombs=not quick,
        )
    top = lat["1280x720"]
    return {
        "latency": lat,
        "scaling": scale,
        "memory": {
            "phases": [{"phase": label, "rss_mb": values} for label, values in phases],
            "bombs": [
                {"bomb": name, "status": status, "seconds": seconds}
                for name, status, seconds in answers
            ],
            "peak_rss_mb": peaks,
        },
        "goals": {
            "endpoint_cpu_overhead": at_most(
                OVERHEAD_GOAL, top["overhead_cpu"], top["overhead_cpu_by_round"], unit="round"
            ),
            "workers_scaling_per_core": at_least(
                SCALING_GOAL,
                scale["scaling_per_core"],
                scale["scaling_per_core_by_round"],
                unit="round",
            ),
        },
    }


def print_tables(result: dict[str, Any]) -> None:
    def m(row: dict[str, Any], name: str, key: str) -> float:
        return float(row[name][key]["median"])

    print("\nEndpoint: detector alone vs /invocations round trip (RetinaFace, 1 ORT thread,")
    print("1 worker; median of interleaved rounds; CPU = server processes + client)")
    print(
        f"{'frame':>10} {'decode':>8} {'detect':>8} {'trip':>8} {'overhead':>9} "
        f"{'detect':>8} {'trip':>8} {'overhead':>9}"
    )
    units = ("CPU ms", "CPU ms", "CPU ms", "CPU", "wall ms", "wall ms", "wall")
    print(f"{'':>10} " + " ".join(f"{u:>8}" for u in units))
    for frame, row in result["latency"].items():
        print(
            f"{frame:>10} {m(row, 'decode', 'cpu_ms'):8.1f} {m(row, 'detector', 'cpu_ms'):8.1f} "
            f"{m(row, 'round_trip', 'cpu_ms'):8.1f} {row['overhead_cpu']:8.2f}x "
            f"{m(row, 'detector', 'wall_ms'):8.1f} {m(row, 'round_trip', 'wall_ms'):8.1f} "
            f"{row['overhead_wall']:8.2f}x"
        )
    print(
        "\nWhere a request's CPU goes (handler parts in this process; median CPU ms/frame;"
        " kernel: the store's part in the kernel; the round trip by thread: the server's"
        " request thread and event loop, the client)"
    )
    columns = (*HANDLER_PARTS, "handler", "outside", "kernel", "request", "loop", "client")
    print(f"{'frame':>10} " + " ".join(f"{p:>7}" for p in columns))
    for frame, row in result["latency"].items():
        cells = [m(row, "handler", f"{part}_ms") for part in HANDLER_PARTS]
        cells += [m(row, "handler", "cpu_ms"), row["outside_handler_ms"]]
        cells += [m(row, "handler", "store_kernel_ms")]
        cells += [m(row, "round_trip", key) for key in SPLIT_BY_THREAD]
        print(f"{frame:>10} " + " ".join(f"{c:7.1f}" for c in cells))
    print("\nDetectors side by side (CPU ms per frame, mean faces found per frame)")
    print(f"{'frame':>10} {'retinaface':>11} {'faces':>6} {'libfacedet':>11} {'faces':>6}")
    for frame, row in result["latency"].items():
        print(
            f"{frame:>10} {m(row, 'detector', 'cpu_ms'):11.1f} {row['faces_retinaface']:6.1f} "
            f"{m(row, 'libfacedetection', 'cpu_ms'):11.1f} {row['faces_libfacedetection']:6.1f}"
        )
    s = result["scaling"]
    few = s["few_clients"]
    print(
        f"\nThroughput at 1280x720 ({s['clients']} concurrent clients, {s['cores']} usable cores)"
    )
    print(f"{'workers':>8} {'clients':>8} {'frames/s':>9} {'CPU ms/frame':>13}")
    for label, clients, row in (
        ("1", s["clients"], s["one_worker"]),
        (str(s["workers"]), s["clients"], s["many_workers"]),
        (str(s["workers"]), few["clients"], few["many_workers"]),
    ):
        print(
            f"{label:>8} {clients:>8} {row['fps']['median']:9.2f} {row['cpu_ms']['median']:13.1f}"
        )
    print(
        f"  scaling {s['scaling']:.2f}x = {s['scaling_per_core']:.2f} per worker "
        f"(accept-race model {s['accept_race_model']:.2f}); with {few['clients']} clients "
        f"{few['scaling_per_core']:.2f} (model {few['accept_race_model']:.2f})"
    )
    machine = s["machine"]
    print(
        f"  the bare detector in {s['workers']} processes at once: "
        f"{machine['scaling_per_core']:.2f} per core "
        f"({machine['many_processes']['fps']['median']:.2f} against "
        f"{machine['one_process']['fps']['median']:.2f} frames/s, CPU ms/frame "
        f"{machine['many_processes']['cpu_ms']['median']:.1f} against "
        f"{machine['one_process']['cpu_ms']['median']:.1f}); the endpoint makes "
        f"{machine['endpoint_share']:.2f} of that"
    )
    memory = result["memory"]
    print_memory(
        [(p["phase"], p["rss_mb"]) for p in memory["phases"]],
        [(x["bomb"], x["status"], x["seconds"]) for x in memory["bombs"]],
        memory["peak_rss_mb"],
    )


def main() -> None:
    parser = argparse.ArgumentParser(description="endpoint benchmark")
    parser.add_argument("--quick", action="store_true", help="few frames and rounds (CI smoke)")
    parser.add_argument("--json", type=Path, help="also write the results here")
    args = parser.parse_args()
    result = run(quick=args.quick)
    print_tables(result)
    if args.json:
        args.json.write_text(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()

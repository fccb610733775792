"""Cloud path vs edge path: bytes on the wire per frame, on the same synthetic crowd.

Cloud: the camera sends the whole JPEG frame to the SageMaker endpoint
(``InvokeEndpoint``). Edge: the device detects faces itself and puts only the crops
into the faces bucket, as one crop sheet per frame (``PutObject`` with the sheet's
object metadata; ``datapalooza/crop_sheets.py``), exactly as ``EdgeService`` queues
them. Each request's bytes are those of the real request botocore would send: the
request line, every header (SigV4 signature, CustomAttributes, x-amz-meta-*, ...) and
the body, captured from the real adapters (SageMakerDetectionEndpoint, S3FaceStore) at
botocore's ``before-send`` event, which answers instead of the network (nothing leaves
this machine). TLS framing and TCP/IP headers come on top of both paths alike.

Reported across camera JPEG quality 75-90 and 5-30 faces per frame (goal: edge <= 15%
of the cloud path's bytes everywhere on that grid), plus the edge's CPU per frame
(detect + crop + sheet).

    python bench/devices.py [--quick]   (part of ``python -m bench``)
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

import boto3
from botocore.awsrequest import AWSPreparedRequest, AWSResponse

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from bench.goals import EDGE_GOAL  # noqa: E402
from datapalooza.adapters.aws.s3_face_store import S3FaceStore  # noqa: E402
from datapalooza.adapters.aws.sagemaker_endpoint import SageMakerDetectionEndpoint  # noqa: E402
from datapalooza.detection import DetectorSettings, load_detector  # noqa: E402
from datapalooza.detection.face_crops import find_faces, pack_sheets  # noqa: E402
from datapalooza.devices.jpeg import encode_within  # noqa: E402
from datapalooza.domain.frame_attributes import FrameAttributes  # noqa: E402
from datapalooza.sources.synthetic import SyntheticFestivalSource  # noqa: E402

QUALITIES = (75, 80, 85, 90)
FACES = (5, 10, 14, 20, 30)
REGION = "eu-west-1"
MAX_FRAME_BYTES = 6 * 1024 * 1024  # SageMaker's payload limit, as the camera uses


class _Body:
    def __init__(self, data: bytes) -> None:
        self._data = data

    def read(self, *_: Any, **__: Any) -> bytes:
        data, self._data = self._data, b""
        return data

    def stream(self, **_: Any):
        yield self.read()


class WireCapture:
    """Registers on a boto3 client's ``before-send``: records each request's size on
    the wire and answers it with ``answer`` instead of sending it."""

    def __init__(self, client: Any, answer: bytes, headers: dict[str, str]) -> None:
        self.requests: list[dict[str, int]] = []
        self._answer = answer
        self._headers = headers
        client.meta.events.register("before-send", self._send)

    def _send(self, request: AWSPreparedRequest, **_: Any) -> AWSResponse:
        self.requests.append(request_bytes(request))
        return AWSResponse(request.url, 200, self._headers, _Body(self._answer))  # type: ignore[arg-type]

    def take(self) -> list[dict[str, int]]:
        taken, self.requests = self.requests, []
        return taken


def request_bytes(request: AWSPreparedRequest) -> dict[str, int]:
    """HTTP/1.1 bytes of a prepared request: request line + headers, and body."""
    from urllib.parse import urlsplit

    url = urlsplit(request.url)
    target = url.path + (f"?{url.query}" if url.query else "")
    head = f"{request.method} {target} HTTP/1.1\r\n"
    headers = dict(request.headers)
    headers.setdefault("Host", url.netloc)
    for name, value in headers.items():
        text = value.decode() if isinstance(value, bytes) else str(value)
        head += f"{name}: {text}\r\n"
    head += "\r\n"
    body = request.body
    if body is None:
        data = b""
    elif isinstance(body, bytes | bytearray):
        data = bytes(body)
    elif isinstance(body, str):
        data = body.encode()
    else:  # a stream: PutObject's aws-chunked body with its CRC32 trailer
        data = body.read()
    size = len(data)
    if headers.get("Transfer-Encoding", b"") in (b"chunked", "chunked"):
        # HTTP/1.1 chunked framing around it (sent as one chunk, then the last chunk).
        size += len(f"{size:x}\r\n\r\n0\r\n\r\n")
    return {"head": len(head.encode()), "body": size}


def fake_client(service: str) -> Any:
    return boto3.client(
        service,
        region_name=REGION,
        aws_access_key_id="AKIAIOSFODNN7EXAMPLE",
        aws_secret_access_key="bench-secret-not-used",
    )


def run(*, quick: bool = False, seed: int = 1) -> dict[str, Any]:
    settings = DetectorSettings.from_env(os.environ)
    detector = load_detector(settings)
    frames_per_cell = 2 if quick else 6
    faces_grid = (5, 30) if quick else FACES
    qualities = (75, 90) if quick else QUALITIES

    sagemaker = fake_client("sagemaker-runtime")
    cloud_wire = WireCapture(sagemaker, b'{"Faces":[]}', {"Content-Type": "application/json"})
    endpoint = SageMakerDetectionEndpoint(sagemaker, "datapalooza-faces")
    s3 = fake_client("s3")
    edge_wire = WireCapture(s3, b"", {"ETag": '"0"'})
    store = S3FaceStore(s3, "datapalooza-faces-123456789012-eu-west-1")

    cells = []
    jpeg_headers: list[int] = []
    edge_cpu_s = 0.0
    edge_frames = 0
    for faces in faces_grid:
        source = SyntheticFestivalSource(stage="main", seed=seed, faces=faces)
        frames = [source.read() for _ in range(frames_per_cell)]
        # The edge's bytes do not depend on the camera's quality: crops are encoded
        # from the raw frame at the detector settings' quality.
        edge = {"head": 0, "body": 0, "requests": 0, "metadata": 0, "faces_found": 0, "crops": 0}
        for frame in frames:
            started = time.process_time()
            detections, crops = find_faces(
                frame.image,
                detector=detector,
                settings=settings,
                attributes=FrameAttributes("main", "cam-1", frame.frame_id, frame.captured_at),
            )
            sheets = pack_sheets(crops, quality=settings.jpeg_quality)
            edge_cpu_s += time.process_time() - started
            edge_frames += 1
            edge["faces_found"] += len(detections.faces)
            edge["crops"] += len(crops)
            for sheet in sheets:
                # The JPEG's own headers (tables, everything before the scan data).
                jpeg_headers.append(sheet.jpeg.find(b"\xff\xda"))
                store.put(sheet.key, sheet.jpeg, sheet.metadata)
                edge["metadata"] += sum(
                    len(f"x-amz-meta-{k}: {v}\r\n".encode()) for k, v in sheet.metadata.items()
                )
            for sent in edge_wire.take():
                edge["head"] += sent["head"]
                edge["body"] += sent["body"]
                edge["requests"] += 1
        for quality in qualities:
            cloud = {"head": 0, "body": 0, "requests": 0}
            for frame in frames:
                jpeg = encode_within(frame.image, quality=quality, max_bytes=MAX_FRAME_BYTES)
                endpoint.detect(jpeg, stage="main", camera="cam-1", frame_id=frame.frame_id)
                for sent in cloud_wire.take():
                    cloud["head"] += sent["head"]
                    cloud["body"] += sent["body"]
                    cloud["requests"] += 1
            n = len(frames)
            cloud_total = (cloud["head"] + cloud["body"]) / n
            edge_total = (edge["head"] + edge["body"]) / n
            cells.append(
                {
                    "camera_quality": quality,
                    "faces_placed": faces,
                    "faces_found": edge["faces_found"] / n,
                    "crops": edge["crops"] / n,
                    "cloud_bytes": cloud_total,
                    "cloud_body": cloud["body"] / n,
                    "cloud_overhead": cloud["head"] / n,
                    "edge_bytes": edge_total,
                    "edge_body": edge["body"] / n,
                    "edge_overhead": edge["head"] / n,
                    "edge_metadata": edge["metadata"] / n,
                    "edge_requests": edge["requests"] / n,
                    "ratio": edge_total / cloud_total,
                }
            )
    worst = max(cells, key=lambda c: c["ratio"])
    per_request = [c["edge_overhead"] / c["edge_requests"] for c in cells if c["edge_requests"]]
    return {
        "detector": settings.detector,
        "min_face_px": settings.min_face_px,
        "crop_quality": settings.jpeg_quality,
        "frames_per_cell": frames_per_cell,
        "grid": cells,
        "cloud_request_overhead": cells[0]["cloud_overhead"],
        "edge_request_overhead": sum(per_request) / len(per_request) if per_request else 0.0,
        "edge_cpu_ms_per_frame": 1000 * edge_cpu_s / edge_frames,
        "sheet_jpeg_header_bytes": sum(jpeg_headers) / len(jpeg_headers) if jpeg_headers else 0,
        "goals": {
            "edge_bytes_ratio": {
                "value": worst["ratio"],
                "where": f"q{worst['camera_quality']}, {worst['faces_placed']} faces",
                "goal": f"<= {EDGE_GOAL} everywhere on the grid",
                "met": worst["ratio"] <= EDGE_GOAL,
            }
        },
    }


def print_tables(result: dict[str, Any]) -> None:
    print(
        f"\nEdge vs cloud bytes per frame (1280x720 synthetic crowd, {result['detector']}, "
        f"crops >= {result['min_face_px']} px at q{result['crop_quality']} in crop sheets; "
        "request line + headers + body)"
    )
    print(
        f"{'cam q':>6} {'faces':>6} {'found':>6} {'cloud B':>9} {'edge B':>8} {'crops':>6} "
        f"{'objects':>8} {'edge hdr B':>11} {'of which meta':>14} {'edge/cloud':>11}"
    )
    for c in result["grid"]:
        print(
            f"{c['camera_quality']:>6} {c['faces_placed']:>6} {c['faces_found']:>6.1f} "
            f"{c['cloud_bytes']:>9,.0f} {c['edge_bytes']:>8,.0f} {c['crops']:>6.1f} "
            f"{c['edge_requests']:>8.1f} "
            f"{c['edge_overhead']:>11,.0f} {c['edge_metadata']:>14,.0f} {c['ratio']:>10.1%}"
        )
    print(
        f"  per request: InvokeEndpoint head {result['cloud_request_overhead']:,.0f} B, "
        f"PutObject head {result['edge_request_overhead']:,.0f} B; "
        f"edge CPU {result['edge_cpu_ms_per_frame']:.1f} ms/frame (detect + crop + sheet)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    result = run(quick=args.quick, seed=args.seed)
    print_tables(result)
    if args.json:
        args.json.write_text(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()

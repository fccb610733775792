"""Run the camera service (cloud inference). Detections are logged as MQTT messages on
datapalooza/{stage}/detections."""

# ``datapalooza camera``: the Greengrass camera Lambda's loop, run locally. Frames go to
# the endpoint (by default the local ``datapalooza serve-endpoint`` through boto3's
# SageMaker Runtime client) and the detections are logged as MQTT messages.

from __future__ import annotations

import argparse
import json
import os

from datapalooza.cli import CliError
from datapalooza.cli.device_options import add_device_options, check_bounds, device_settings

HELP = "capture frames, send them to the face-detection endpoint, publish detections"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_device_options(parser, interval_help="seconds between frames (default 2)")
    parser.add_argument(
        "--endpoint-url",
        help="SageMaker Runtime URL; http://127.0.0.1:8080 for a local serve-endpoint",
    )
    parser.add_argument("--endpoint-name", help="SageMaker endpoint name")
    parser.add_argument("--region", help="AWS region (default from AWS_REGION)")
    parser.add_argument("--jpeg-quality", type=int, help="1-100 (default 85)")
    parser.add_argument("--max-jpeg-bytes", type=int, help="largest frame sent (default 1 MB)")
    parser.add_argument("--timeout", type=float, help="endpoint timeout in seconds (default 10)")


def run(args: argparse.Namespace) -> int:
    from datapalooza.adapters.local.log_publisher import LogPublisher
    from datapalooza.devices.bootstrap import build_camera_service
    from datapalooza.devices.camera import CameraSettings, CameraSettingsError
    from datapalooza.sources.base import InvalidSourceSpec

    check_bounds(args)
    try:
        settings = CameraSettings.from_env(
            os.environ,
            **device_settings(args),
            endpoint_url=args.endpoint_url,
            endpoint_name=args.endpoint_name,
            region=args.region,
            jpeg_quality=args.jpeg_quality,
            max_jpeg_bytes=args.max_jpeg_bytes,
            timeout_s=args.timeout,
        )
        service = build_camera_service(settings, publisher=LogPublisher())
        counters = service.run(max_frames=args.frames, duration_s=args.duration)
    except (CameraSettingsError, InvalidSourceSpec) as exc:
        raise CliError(str(exc)) from exc
    print(json.dumps(counters.to_json(), sort_keys=True))
    if counters.frames and not counters.published:
        raise CliError(f"no frame was answered and published; last error: {counters.last_error}")
    return 0

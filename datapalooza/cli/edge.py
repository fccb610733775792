"""Run the edge service (inference at the edge). Stats are logged as MQTT messages on
datapalooza/{stage}/edge-stats."""

# ``datapalooza edge``: the edge inference Lambda's loop, run locally. Faces are
# detected on this machine and only the crops are stored, one crop sheet per frame: in a
# local bucket (``--store``, datapalooza bucket reads it) or a real one (``--bucket``).
# Exits once every queued sheet is uploaded (or ``--drain-timeout`` passes: then the
# sheets stay on disk for the next run and the exit status is 1).

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path

from datapalooza import constants
from datapalooza.cli import CliError
from datapalooza.cli.device_options import add_device_options, check_bounds, device_settings
from datapalooza.constants import ENV_QUEUE_DIR

HELP = "detect faces on this device and upload only crop sheets (store and forward)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_device_options(
        parser,
        interval_help="minimum seconds between frames",
        frames_help="stop after N frames (0: only drain the queue)",
    )
    where = parser.add_mutually_exclusive_group(required=True)
    where.add_argument(
        "--store", type=Path, help="a local bucket's directory (see datapalooza bucket)"
    )
    where.add_argument("--bucket", help="the S3 faces bucket")
    parser.add_argument("--region", help="the bucket's AWS region (default from AWS_REGION)")
    parser.add_argument("--queue-dir", type=Path, help="on-disk upload queue (store and forward)")
    parser.add_argument("--queue-max-mb", type=float, help="queue budget in MB (default 256)")
    parser.add_argument("--stats-interval", type=float, help="seconds between stats (default 10)")
    parser.add_argument("--preview", type=Path, help="write a blurred preview JPEG here")
    parser.add_argument(
        "--drain-timeout", type=float, default=120.0, help="seconds to wait for uploads at exit"
    )
    parser.add_argument("--detector", choices=constants.DETECTOR_NAMES, help="face detector")
    parser.add_argument("--min-face-px", type=int, help="smallest face to crop (default 40)")


def default_queue_dir(stage: str) -> Path:
    import platformdirs

    return platformdirs.user_data_path("datapalooza") / "edge-queue" / stage


def run(args: argparse.Namespace) -> int:
    from datapalooza.adapters.local.log_publisher import LogPublisher
    from datapalooza.detection import DetectorSettings
    from datapalooza.devices.bootstrap import build_edge_service
    from datapalooza.devices.edge import EdgeSettings, EdgeSettingsError
    from datapalooza.ports import FaceStore
    from datapalooza.settings import SettingsError
    from datapalooza.sources.base import InvalidSourceSpec

    check_bounds(args)
    store: FaceStore
    if args.store is not None:
        from datapalooza.adapters.local.sqlite_face_store import SqliteFaceStore

        store = SqliteFaceStore(args.store)
    else:
        from datapalooza.adapters.aws.s3_face_store import S3FaceStore
        from datapalooza.adapters.aws.session import aws_session
        from datapalooza.devices.bootstrap import edge_s3_client

        session = aws_session(purpose="--bucket", region=args.region)
        store = S3FaceStore(edge_s3_client(session), args.bucket)
    try:
        settings = EdgeSettings.from_env(
            os.environ,
            **device_settings(args),
            queue_dir=args.queue_dir
            or (None if os.environ.get(ENV_QUEUE_DIR) else default_queue_dir(args.stage)),
            queue_max_bytes=int(args.queue_max_mb * 1024 * 1024) if args.queue_max_mb else None,
            stats_interval_s=args.stats_interval,
            preview_path=args.preview,
        )
        detector_settings = DetectorSettings.from_env(
            os.environ, detector=args.detector, min_face_px=args.min_face_px
        )
        service = build_edge_service(
            settings, detector_settings, store=store, publisher=LogPublisher()
        )
        stats = service.run(
            max_frames=args.frames, duration_s=args.duration, drain_timeout_s=args.drain_timeout
        )
    except (EdgeSettingsError, SettingsError, InvalidSourceSpec) as exc:
        raise CliError(str(exc)) from exc
    print(json.dumps(stats.to_json(), sort_keys=True))
    if not stats.drained:
        print(
            f"datapalooza: {stats.queue_depth} crop sheets are still queued in "
            f"{settings.queue_dir}; "
            "they will be uploaded by the next run",
            flush=True,
        )
        return 1
    return 0

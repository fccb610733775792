"""Serve GET /ping, POST /invocations and POST /endpoints/NAME/invocations."""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from datapalooza import constants
from datapalooza.cli import CliError, require_free_port

HELP = "serve the face-detection endpoint (SageMaker contract) over HTTP"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--host", default="127.0.0.1", help="bind address (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=8080, help="port (default 8080)")
    parser.add_argument("--workers", type=int, default=1, help="worker processes (default 1)")
    where = parser.add_mutually_exclusive_group()
    where.add_argument(
        "--store", type=Path, help="write face crops to a local bucket in this directory"
    )
    where.add_argument("--bucket", help="write face crops to this S3 bucket")
    parser.add_argument("--detector", choices=constants.DETECTOR_NAMES, help="face detector")
    parser.add_argument("--min-confidence", type=float, help="0-100 (default 80)")
    parser.add_argument("--min-face-px", type=int, help="smallest face to crop (default 40)")


def run(args: argparse.Namespace) -> int:
    from datapalooza.settings import SettingsError
    from datapalooza.system.http_limits import ServerLimits
    from datapalooza.system.http_server import serve

    try:
        limits = ServerLimits.from_env(os.environ)
    except SettingsError as exc:
        raise CliError(str(exc)) from exc
    if args.workers < 1:
        raise CliError("--workers must be at least 1")
    require_free_port(args.host, args.port)
    # Worker processes read their settings from the environment (the composition root).
    overrides = {
        constants.ENV_DETECTOR: args.detector,
        constants.ENV_MIN_CONFIDENCE: args.min_confidence,
        constants.ENV_MIN_FACE_PX: args.min_face_px,
        constants.ENV_FACES_BUCKET: args.bucket,
        constants.ENV_DATA_DIR: str(args.store.resolve()) if args.store else None,
    }
    for name, value in overrides.items():
        if value is not None:
            os.environ[name] = str(value)
    if args.store:
        try:
            args.store.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise CliError(f"cannot create --store {args.store}: {exc}") from exc
    serve(
        "datapalooza.endpoint.worker:create_worker_app",
        factory=True,
        host=args.host,
        port=args.port,
        workers=args.workers,
        limits=limits,
    )
    return 0

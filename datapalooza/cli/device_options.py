"""Command-line options the two device programs (``camera``, ``edge``) share."""

from __future__ import annotations

import argparse
from typing import Any

from datapalooza.cli import CliError


def add_device_options(
    parser: argparse.ArgumentParser,
    *,
    interval_help: str,
    frames_help: str = "stop after N frames",
) -> None:
    """--stage, --camera, --source, --interval (what device_settings reads), and the run
    bounds --frames / --duration."""
    parser.add_argument("--stage", required=True, help="stage name (a slug, e.g. main)")
    parser.add_argument("--camera", help="camera name (a slug; default camera-1)")
    parser.add_argument(
        "--source",
        help="synthetic:stage=S,seed=N | file:PATH | dir:PATH | webcam:N | rtsp://... "
        "(default synthetic for the stage)",
    )
    parser.add_argument("--interval", type=float, help=interval_help)
    bound = parser.add_mutually_exclusive_group()
    bound.add_argument("--frames", type=int, help=frames_help)
    bound.add_argument("--duration", type=float, help="stop after S seconds")


def check_bounds(args: argparse.Namespace) -> None:
    if args.frames is not None and args.frames < 0:
        raise CliError("--frames must not be negative")
    if args.duration is not None and args.duration < 0:
        raise CliError("--duration must not be negative")


def device_settings(args: argparse.Namespace) -> dict[str, Any]:
    """The fields every device program's settings have (devices.frame_loop.DeviceSettings),
    from the options add_device_options added: overrides for the program's ``from_env``."""
    return {
        "stage": args.stage,
        "camera": args.camera,
        "source": args.source,
        "interval_s": args.interval,
    }

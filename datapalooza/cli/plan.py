"""Capacity and cost per hour from measured figures and the dated prices file
(datapalooza/planning/prices.json); no AWS calls. Either --cameras and --fps for a
festival, or --challenge N for one attendee's challenge."""

from __future__ import annotations

import argparse

from datapalooza.cli import CliError, add_challenge_option
from datapalooza.deployment import DeploymentShape
from datapalooza.planning.challenge_cost import challenge_costs, format_challenges
from datapalooza.planning.planner import (
    DETECT_FACES_SECONDS,
    DYNAMODB_REQUEST_SECONDS,
    MEASURED_CROPS_PER_FRAME,
    PATHS,
    S3_REQUEST_SECONDS,
    FestivalLoad,
    PlanError,
    format_plan,
    plan_festival,
)
from datapalooza.planning.prices import DEFAULT_REGION, PricesError, load_prices

HELP = "what a festival (or a workshop challenge) needs and costs per hour"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--cameras", type=int, help="number of cameras")
    parser.add_argument("--fps", type=float, help="frames per second per camera")
    parser.add_argument("--path", choices=PATHS, default="cloud", help="default: cloud")
    parser.add_argument(
        "--faces-per-frame",
        type=float,
        default=MEASURED_CROPS_PER_FRAME,
        help=f"scoreable faces per frame (default {MEASURED_CROPS_PER_FRAME}, bench/devices.py)",
    )
    parser.add_argument("--stages", type=int, default=1, help="festival stages (default 1)")
    parser.add_argument(
        "--detect-faces-seconds",
        type=float,
        default=DETECT_FACES_SECONDS,
        help=f"DetectFaces latency per call (default {DETECT_FACES_SECONDS}, an assumption)",
    )
    parser.add_argument(
        "--s3-request-seconds",
        type=float,
        default=S3_REQUEST_SECONDS,
        help="S3 latency per crop or sheet put or read "
        f"(default {S3_REQUEST_SECONDS}, an assumption)",
    )
    parser.add_argument(
        "--dynamodb-request-seconds",
        type=float,
        default=DYNAMODB_REQUEST_SECONDS,
        help=f"DynamoDB latency per write (default {DYNAMODB_REQUEST_SECONDS}, an assumption)",
    )
    parser.add_argument(
        "--rekognition-tps", type=float, help="your account's DetectFaces TPS quota"
    )
    parser.add_argument("--region", default=DEFAULT_REGION, help=f"default {DEFAULT_REGION}")
    add_challenge_option(
        parser,
        required=False,
        help="cost per hour of one attendee's challenge stack(s) instead of a festival",
    )


def run(args: argparse.Namespace) -> int:
    try:
        prices = load_prices(args.region)
        shape = DeploymentShape()
        if args.challenge is not None:
            if args.cameras is not None or args.fps is not None:
                raise CliError("--challenge plans one attendee's camera: drop --cameras/--fps")
            print(format_challenges(challenge_costs(shape, prices), only=args.challenge))
            return 0
        if args.cameras is None or args.fps is None:
            raise CliError("give --cameras and --fps (or --challenge N)")
        load = FestivalLoad(
            cameras=args.cameras,
            fps=args.fps,
            path=args.path,
            faces_per_frame=args.faces_per_frame,
            stages=args.stages,
            detect_faces_seconds=args.detect_faces_seconds,
            rekognition_tps_quota=args.rekognition_tps,
            s3_request_seconds=args.s3_request_seconds,
            dynamodb_request_seconds=args.dynamodb_request_seconds,
        )
        print(format_plan(plan_festival(load, shape, prices)))
    except (PlanError, PricesError) as exc:
        raise CliError(str(exc)) from None
    return 0

"""The planner's arithmetic against hand-computed cases (the computation is written out
in each test's comments), and the prices file's rules."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from datapalooza import crop_sheets
from datapalooza.deployment import DeploymentShape
from datapalooza.emotions.rekognition_limits import REKOGNITION_LIMITS
from datapalooza.planning import planner
from datapalooza.planning.planner import FestivalLoad, PlanError, format_plan, plan_festival
from datapalooza.planning.prices import PRICES_FILE, PricesError, load_prices

PRICES = load_prices("us-east-1")


def test_200_cameras_at_1_fps_cloud_path_by_hand() -> None:
    # Given the deployed shape: batch 72, window 5 s, mosaic 36, 1024 MB arm64, ml.m5.large.
    shape = DeploymentShape()
    plan = plan_festival(FestivalLoad(cameras=200, fps=1.0, faces_per_frame=6.5), shape, PRICES)

    # frames/s = 200 x 1 = 200; crops/s = 200 x 6.5 = 1300; one S3 object per crop
    assert plan.need("frames_per_s") == 200
    assert plan.need("crops_per_s") == 1300
    assert plan.need("objects_per_s") == 1300
    # a worker holds a frame for 0.060 s of CPU (x ratio 1.0) plus ceil(6.5 / 8) = 1 round
    # of crop puts x 0.05 s = 0.110 s; 200 x 0.110 = 22.0 worker-s/s; one ml.m5.large has
    # 2 workers (one per vCPU) x 0.7 = 1.4 -> 22.0 / 1.4 = 15.7 -> 16 instances
    assert plan.need("endpoint_instances") == 16
    # batch = min(72, 1300 x 5) = 72 messages of 1 crop; invocations = 1300 / 72 = 18.06/s
    assert plan.need("messages_per_invocation") == 72
    assert plan.need("crops_per_invocation") == 72
    assert plan.need("lambda_invocations_per_s") == pytest.approx(1300 / 72)
    # DetectFaces calls per invocation = ceil(72 / 36) = 2 -> 18.06 x 2 = 36.11 calls/s
    assert plan.need("rekognition_calls_per_s") == pytest.approx(1300 / 72 * 2)
    # an invocation: 2 calls x 1.0 s, and two rounds of 36 crops, each crop claimed and
    # read, written, settled 8 at a time: 2 x ceil(36 / 8) = 10 steps of
    # (3 DynamoDB writes x 0.01 s + 1 S3 GET x 0.05 s) = 10 x 0.08 = 0.8 s -> 2.8 s
    assert plan.need("lambda_invocation_s") == pytest.approx(2.8)
    # concurrency = 18.06 invocations/s x 2.8 s = 50.56
    assert plan.need("lambda_concurrency") == pytest.approx(1300 / 72 * 2.8)
    # DynamoDB: 3 writes per face (claim, results item, settle) = 3900/s;
    # S3: 1300 PUT/s and 1300 GET/s
    assert plan.need("dynamodb_writes_per_s") == 3900
    assert plan.need("s3_puts_per_s") == plan.need("s3_gets_per_s") == 1300
    # cloud path uploads whole frames: 200 x 140,000 B = 28,000,000 B/s
    assert plan.need("upload_bytes_per_s") == 28_000_000
    # stored: 1300 crops/s x 3,041 B x 86,400 s (1 day) / 1024^3 = 318.1 GB
    assert plan.need("crops_stored_gb") == pytest.approx(1300 * 3041 * 86_400 / 1024**3)
    # SQS: 1300 sends + 1300/10 receives + 1300/10 deletes = 1560 requests/s
    assert plan.need("sqs_requests_per_s") == pytest.approx(1560)
    # metrics: 1 stage x 13 + 8 function-level = 21
    assert plan.need("cloudwatch_metrics") == 21

    costs = {item.what: item.cost_per_hour for item in plan.items}
    # 16 instance-hours x $0.115 = $1.84
    assert costs["ml.m5.large instance-hours"] == pytest.approx(1.84)
    # 36.11 calls/s x 3600 = 130,000 images x $0.001 = $130.00
    assert costs["DetectFaces images"] == pytest.approx(130.0)
    # 18.06 x 3600 = 65,000 requests x $0.20 / 1M = $0.013
    assert costs["tracker requests"] == pytest.approx(0.013)
    # 50.56 concurrent x 1 GB x 3600 s = 182,000 GB-s x $0.0000133334 = $2.42668
    assert costs["tracker GB-seconds (1024 MB, arm64)"] == pytest.approx(2.42668, rel=1e-5)
    # 3900 x 3600 = 14,040,000 writes x $0.625 / 1M = $8.775
    assert costs["on-demand writes (results and idempotency tables)"] == pytest.approx(8.775)
    # 4,680,000 PUT x $0.005 / 1000 = $23.40; GET x $0.0004 / 1000 = $1.872
    assert costs["PUT requests (crops)"] == pytest.approx(23.4)
    assert costs["GET requests (tracker)"] == pytest.approx(1.872)
    # 1560 x 3600 = 5,616,000 requests x $0.40 / 1M = $2.2464
    assert costs["standard requests"] == pytest.approx(2.2464)
    # prices not found stay out of the total, listed instead
    assert {item.service for item in plan.unpriced} == {"S3", "IoT Core", "Greengrass"}
    assert plan.known_cost_per_hour == pytest.approx(
        sum(c for c in costs.values() if c is not None)
    )


def test_edge_path_needs_no_endpoint_and_uploads_one_crop_sheet_per_frame() -> None:
    plan = plan_festival(
        FestivalLoad(cameras=10, fps=2.0, path="edge", faces_per_frame=6.5),
        DeploymentShape(),
        PRICES,
    )
    # frames/s = 10 x 2 = 20; crops/s = 20 x 6.5 = 130; one sheet per frame = 20 objects/s
    assert plan.need("endpoint_instances") == 0
    assert not [item for item in plan.items if item.service == "SageMaker"]
    assert plan.need("objects_per_s") == 20
    assert plan.need("s3_puts_per_s") == plan.need("s3_gets_per_s") == 20
    # SQS: 20 sends + 20/10 receives + 20/10 deletes = 24 requests/s
    assert plan.need("sqs_requests_per_s") == pytest.approx(24)
    # bytes = 20 sheets x (1,490 B head + 836 B) + 130 crops x 1,279 B
    #       = 46,520 + 166,270 = 212,790 B/s (10,639.5 B per frame)
    assert plan.need("upload_bytes_per_s") == pytest.approx(212_790)
    # stored: the sheets' JPEGs, 20 x 836 + 130 x 1,279 = 182,990 B/s for 1 day
    assert plan.need("crops_stored_gb") == pytest.approx(182_990 * 86_400 / 1024**3)
    # batch = min(72, 20 sheets/s x 5 s) = 72 messages x 6.5 crops = 468 crops;
    # invocations = 20 / 72 = 0.278/s; ceil(468 / 36) = 13 mosaics each -> 3.61 calls/s
    assert plan.need("messages_per_invocation") == 72
    assert plan.need("crops_per_invocation") == pytest.approx(468)
    assert plan.need("lambda_invocations_per_s") == pytest.approx(20 / 72)
    assert plan.need("rekognition_calls_per_s") == pytest.approx(20 / 72 * 13)
    # DynamoDB writes (3 per face) and EMF bytes stay per crop
    assert plan.need("dynamodb_writes_per_s") == 390
    costs = {item.what: item.cost_per_hour for item in plan.items}
    # 20 x 3600 = 72,000 PUT x $0.005 / 1000 = $0.36
    assert costs["PUT requests (crop sheets)"] == pytest.approx(0.36)
    assert "crop sheet storage (GB-month, steady state)" in costs
    assert [a for a in plan.assumptions if "one crop sheet per frame on the edge path" in a]


@pytest.mark.parametrize(
    ("mode", "cloud_calls", "edge_calls"),
    [
        # one call per crop: 1300 crops/s on both paths
        ("per-crop", 1300, 1300),
        # cloud: 1300 / 72 = 18.06 invocations/s x ceil(72 crops / 36) = 36.11;
        # edge: 200 / 72 = 2.78 invocations/s x ceil(72 sheets x 6.5 crops / 36) = 2.78 x 13
        ("mosaic", 1300 / 72 * 2, 200 / 72 * 13),
    ],
)
def test_edge_puts_one_object_per_frame_and_cloud_one_per_crop(
    mode: str, cloud_calls: float, edge_calls: float
) -> None:
    shape = DeploymentShape(tracker_analyzer_mode=mode)
    cloud, edge = (
        plan_festival(FestivalLoad(cameras=200, fps=1.0, path=path), shape, PRICES)
        for path in planner.PATHS
    )
    # 200 frames/s x 6.5 faces = 1300 crops/s on both paths
    assert cloud.need("s3_puts_per_s") == cloud.need("crops_per_s") == 1300
    assert edge.need("s3_puts_per_s") == edge.need("frames_per_s") == 200
    assert cloud.need("rekognition_calls_per_s") == pytest.approx(cloud_calls)
    assert edge.need("rekognition_calls_per_s") == pytest.approx(edge_calls)
    # every crop is still scored and written once, whichever object carried it
    for plan in (cloud, edge):
        assert plan.need("dynamodb_writes_per_s") == 3 * plan.need("crops_per_s") == 3900
    emf_cloud, emf_edge = (
        next(i.quantity_per_hour for i in p.items if i.what == "EMF log ingestion (GB)")
        for p in (cloud, edge)
    )
    assert emf_cloud == emf_edge


def test_a_frame_without_a_face_uploads_no_sheet() -> None:
    plan = plan_festival(
        FestivalLoad(cameras=10, fps=1.0, path="edge", faces_per_frame=0),
        DeploymentShape(),
        PRICES,
    )
    assert plan.need("s3_puts_per_s") == 0
    assert plan.need("upload_bytes_per_s") == 0
    assert plan.need("rekognition_calls_per_s") == 0


def test_invocation_time_is_checked_against_the_tracker_timeout() -> None:
    shape = DeploymentShape()
    usual = plan_festival(FestivalLoad(cameras=200, fps=1, path="edge"), shape, PRICES)
    assert not [w for w in usual.warnings if "timeout" in w]
    # 72 sheets of 100 crops = 7,200 crops -> 7200 / 36 = 200 calls x 1 s > 60 s
    crowded = plan_festival(
        FestivalLoad(cameras=200, fps=1, path="edge", faces_per_frame=100), shape, PRICES
    )
    assert [w for w in crowded.warnings if "200 DetectFaces calls" in w and "60 s timeout" in w]
    # a sheet's crop count is not the batch size's to fix: no mosaic-multiple advice
    assert not [w for w in crowded.warnings if "multiple of the mosaic" in w]


def test_an_invocation_that_fits_the_timeout_but_not_the_rounds_is_warned_of() -> None:
    # 72 sheets of 25 faces: 50 calls x 1 s and the writes, under 60 s but over the 45 s
    # in which the tracker starts rounds (it keeps RESERVE_MS for the last one).
    plan = plan_festival(
        FestivalLoad(cameras=200, fps=1, path="edge", faces_per_frame=25),
        DeploymentShape(),
        PRICES,
    )
    assert 45 < plan.need("lambda_invocation_s") < 60
    assert [w for w in plan.warnings if "over the 45 s the tracker starts rounds in" in w]


def test_a_trickle_makes_small_batches_within_the_window() -> None:
    # 1 camera at 0.5 fps x 6.5 = 3.25 crops/s; batch = min(72, 3.25 x 5 s) = 16.25 crops;
    # invocations = 3.25 / 16.25 = 0.2/s; one mosaic call each -> 0.2 calls/s
    plan = plan_festival(FestivalLoad(cameras=1, fps=0.5), DeploymentShape(), PRICES)
    assert plan.need("crops_per_invocation") == pytest.approx(16.25)
    assert plan.need("lambda_invocations_per_s") == pytest.approx(0.2)
    assert plan.need("rekognition_calls_per_s") == pytest.approx(0.2)


def test_per_crop_mode_makes_one_call_per_crop() -> None:
    shape = DeploymentShape(tracker_analyzer_mode="per-crop")
    plan = plan_festival(FestivalLoad(cameras=200, fps=1.0), shape, PRICES)
    assert plan.need("rekognition_calls_per_s") == pytest.approx(1300)


def test_quota_warnings() -> None:
    shape = DeploymentShape()
    under = plan_festival(
        FestivalLoad(cameras=200, fps=1, rekognition_tps_quota=100), shape, PRICES
    )
    # 36.1 calls/s
    over = plan_festival(FestivalLoad(cameras=200, fps=1, rekognition_tps_quota=30), shape, PRICES)
    assert not [w for w in under.warnings if "quota" in w]
    assert [w for w in over.warnings if "above the quota of 30" in w]
    # 1000 SQS batches at once is Lambda's ceiling: 2000 cameras x 10 fps breaks it.
    huge = plan_festival(FestivalLoad(cameras=2000, fps=10), shape, PRICES)
    assert [w for w in huge.warnings if "exceeds the 1,000 batches" in w]


def test_the_deployed_batch_fills_whole_mosaics_and_another_batch_is_warned_of() -> None:
    shape = DeploymentShape()
    assert shape.tracker_batch_size % shape.tracker_mosaic_size == 0
    plan = plan_festival(FestivalLoad(cameras=200, fps=1), shape, PRICES)
    assert not [w for w in plan.warnings if "multiple of the mosaic" in w]
    # batch 50: 1300 / 50 = 26 invocations/s x ceil(50 / 36) = 2 calls = 52 calls/s, the
    # second call of each batch with 14 faces
    fifty = plan_festival(
        FestivalLoad(cameras=200, fps=1), DeploymentShape(tracker_batch_size=50), PRICES
    )
    assert fifty.need("rekognition_calls_per_s") == 52
    assert [w for w in fifty.warnings if "makes 2 calls where 1.39 would do" in w]


@pytest.mark.parametrize(
    ("kwargs", "flag"),
    [
        ({"cameras": 0, "fps": 1}, "--cameras"),
        ({"cameras": 1, "fps": 0}, "--fps"),
        ({"cameras": 1, "fps": 31}, "--fps"),
        ({"cameras": 1, "fps": 1, "faces_per_frame": 101}, "--faces-per-frame"),
        ({"cameras": 1, "fps": 1, "path": "satellite"}, "--path"),
    ],
)
def test_bad_input_names_the_flag(kwargs: dict[str, object], flag: str) -> None:
    with pytest.raises(PlanError, match=flag):
        FestivalLoad(**kwargs)  # type: ignore[arg-type]


def test_measured_sheet_bytes_reproduce_the_edge_figures() -> None:
    # bench/devices.py, camera q85: sheet JPEGs of 4,456 B at 2.83 crops and 12,988 B at
    # 9.5 crops (the line's two points), 9,528 B at 6.83; 11,021 B on the wire at 6.83.
    def sheet_jpeg(crops: float) -> float:
        return planner.EDGE_SHEET_JPEG_FIXED_BYTES + crops * planner.EDGE_SHEET_BYTES_PER_CROP

    assert sheet_jpeg(2.83) == pytest.approx(4_456, abs=2)
    assert sheet_jpeg(9.5) == pytest.approx(12_988, abs=2)
    assert sheet_jpeg(6.83) == pytest.approx(9_528, rel=0.01)
    assert planner.EDGE_SHEET_FIXED_BYTES == (
        planner.EDGE_SHEET_HEAD_BYTES + planner.EDGE_SHEET_JPEG_FIXED_BYTES
    )
    on_the_wire = planner.EDGE_SHEET_HEAD_BYTES + sheet_jpeg(6.83)
    assert on_the_wire == pytest.approx(11_021, rel=0.01)
    assert on_the_wire < 0.15 * planner.CLOUD_FRAME_BYTES


def test_one_sheet_holds_every_face_of_a_frame() -> None:
    # The planner counts one sheet per frame: the most faces per frame it accepts fit
    # one sheet, and its copy of the sheet's tile limit is the real one.
    assert planner.MAX_SHEET_TILES == crop_sheets.MAX_TILES
    assert REKOGNITION_LIMITS.max_faces <= planner.MAX_SHEET_TILES


def test_format_plan_shows_missing_prices_and_assumptions() -> None:
    text = format_plan(plan_festival(FestivalLoad(cameras=200, fps=1), DeploymentShape(), PRICES))
    assert "price not found" in text
    assert "ASSUMED" in text
    assert "us-east-1, read 2026-11-30" in text


def test_every_priced_entry_names_its_source_and_an_unknown_region_is_refused() -> None:
    raw = json.loads(PRICES_FILE.read_text())
    for key, entry in raw["regions"]["us-east-1"].items():
        assert entry["usd"] is None or entry["source"].startswith("https://"), key
        assert entry["aws_page"].startswith("https://aws.amazon.com/"), key
    with pytest.raises(PricesError, match="eu-west-1"):
        load_prices("eu-west-1")


def test_a_price_without_a_source_is_refused(tmp_path: Path) -> None:
    raw = json.loads(PRICES_FILE.read_text())
    raw["regions"]["us-east-1"]["lambda.requests"]["source"] = None
    bad = tmp_path / "prices.json"
    bad.write_text(json.dumps(raw))
    with pytest.raises(PricesError, match="source"):
        load_prices("us-east-1", bad)


def test_cost_is_none_when_the_price_is_unknown() -> None:
    assert PRICES.price("iot_core.message").cost(1000) is None
    assert math.isclose(PRICES.price("lambda.requests").cost(1_000_000) or 0, 0.2)


def test_running_a_festival_page_shows_the_real_output() -> None:
    # docs/running-a-festival.md quotes `datapalooza plan --cameras 200 --fps 1` verbatim.
    page = (Path(__file__).resolve().parents[2] / "docs" / "running-a-festival.md").read_text()
    quoted = page.split("$ datapalooza plan --cameras 200 --fps 1\n", 1)[1].split("\n```", 1)[0]
    plan = plan_festival(FestivalLoad(cameras=200, fps=1), DeploymentShape(), PRICES)
    assert quoted == format_plan(plan)


def test_an_endpoint_worker_is_held_for_its_cpu_and_for_each_round_of_crop_puts() -> None:
    shape = DeploymentShape()

    def instances(**load: float) -> int:
        plan = plan_festival(FestivalLoad(cameras=100, fps=1.0, **load), shape, PRICES)
        return int(plan.need("endpoint_instances"))

    # CPU alone: 100 x 0.060 = 6.0 worker-s/s / (2 workers x 0.7) = 4.29 -> 5
    assert instances(faces_per_frame=6.5, s3_request_seconds=0.0) == 5
    # 8 crops are one round of puts: 100 x (0.060 + 0.05) = 11.0 / 1.4 = 7.86 -> 8
    assert instances(faces_per_frame=8, s3_request_seconds=0.05) == 8
    # 9 crops are two rounds: 100 x (0.060 + 2 x 0.05) = 16.0 / 1.4 = 11.43 -> 12
    assert instances(faces_per_frame=9, s3_request_seconds=0.05) == 12
    # 20 crops are 3 rounds: 100 x (0.060 + 3 x 0.05) = 21.0 / 1.4 = 15.0 -> 15 (in floats
    # 15.000000000000002, which must not ask for a 16th instance)
    assert instances(faces_per_frame=20, s3_request_seconds=0.05) == 15
    # no faces, no puts: the CPU alone
    assert instances(faces_per_frame=0, s3_request_seconds=0.05) == 5


def test_the_planners_calls_at_once_are_the_aws_adapters() -> None:
    from datapalooza.adapters.aws.calls_at_once import CALLS_AT_ONCE
    from datapalooza.adapters.aws.s3_face_store import S3FaceStore

    assert S3FaceStore.puts_at_once == CALLS_AT_ONCE == planner.AWS_CALLS_AT_ONCE


def test_the_latency_assumptions_are_checked_and_printed() -> None:
    with pytest.raises(PlanError, match="s3-request-seconds"):
        FestivalLoad(cameras=1, fps=1.0, s3_request_seconds=-1.0)
    with pytest.raises(PlanError, match="dynamodb-request-seconds"):
        FestivalLoad(cameras=1, fps=1.0, dynamodb_request_seconds=11.0)
    plan = plan_festival(
        FestivalLoad(cameras=10, fps=1.0, s3_request_seconds=0.08, dynamodb_request_seconds=0.02),
        DeploymentShape(),
        PRICES,
    )
    assert (
        "S3 request for a crop or sheet 0.08 s, DynamoDB write 0.02 s; 8 at a time per client "
        "(ASSUMED" in format_plan(plan)
    )


@pytest.mark.parametrize(
    ("crops", "round_size", "sheets", "seconds"),
    [
        # cloud, mosaic of 36: rounds of 36 + 14 -> 5 + 2 = 7 steps x (3 x 0.01 + 0.05)
        (50, 36, 0, 7 * 0.08),
        # cloud, per-crop mode: every round is one crop, nothing side by side: 50 steps
        (50, 1, 0, 50 * 0.08),
        # edge: 50 sheets read 8 at a time (ceil(50 / 8) = 7 x 0.05 = 0.35 s); 325 crops in
        # rounds of 36: 9 full (9 x 5 = 45 steps) + 1 of 1 (1 step) = 46 x 3 writes x 0.01
        (325, 36, 50, 0.35 + 46 * 0.03),
        (0, 36, 0, 0.0),
    ],
)
def test_tracker_round_trips_by_hand(
    crops: float, round_size: int, sheets: float, seconds: float
) -> None:
    assert planner.tracker_round_trips_s(
        crops,
        round_size=round_size,
        sheets=sheets,
        s3_request_seconds=0.05,
        dynamodb_request_seconds=0.01,
    ) == pytest.approx(seconds)


def test_slow_writes_alone_can_overrun_the_tracker_timeout() -> None:
    # 72 crops per-crop: 72 rounds x (3 writes x 1 s + a 0.05 s read) = 219.6 s of round
    # trips next to 72 calls x 0.1 s
    shape = DeploymentShape(tracker_analyzer_mode="per-crop")
    slow = FestivalLoad(cameras=200, fps=1, detect_faces_seconds=0.1, dynamodb_request_seconds=1)
    plan = plan_festival(slow, shape, PRICES)
    assert plan.need("lambda_invocation_s") == pytest.approx(7.2 + 219.6)
    assert [w for w in plan.warnings if "219.6 s of reads and writes" in w]


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        (1300 / 72 * 3600, "65,000"),  # 65,000.000000000007: a count, not 65,000.0
        (4_680_000.0, "4,680,000"),
        (0.02877, "0.02877"),
        (318.14, "318.1"),
        (50.5556, "50.6"),
    ],
)
def test_quantities_are_shown_as_counts_unless_they_have_a_fraction(
    value: float, shown: str
) -> None:
    assert planner.format_quantity(value) == shown

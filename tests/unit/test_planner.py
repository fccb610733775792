"""The planner's arithmetic against hand-computed cases (the computation is written out
in each test's comments), and the prices file's rules."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from datapalooza.deployment import DeploymentShape
from datapalooza.planning import planner
from datapalooza.planning.planner import FestivalLoad, PlanError, format_plan, plan_festival
from datapalooza.planning.prices import PRICES_FILE, PricesError, load_prices

PRICES = load_prices("us-east-1")


def test_200_cameras_at_1_fps_cloud_path_by_hand() -> None:
    # Given the deployed shape: batch 50, window 5 s, mosaic 36, 1024 MB arm64, ml.m5.large.
    shape = DeploymentShape()
    plan = plan_festival(FestivalLoad(cameras=200, fps=1.0, faces_per_frame=6.5), shape, PRICES)

    # frames/s = 200 x 1 = 200; crops/s = 200 x 6.5 = 1300
    assert plan.need("frames_per_s") == 200
    assert plan.need("crops_per_s") == 1300
    # endpoint CPU = 200 x 0.069 s x ratio 1.0 = 13.8 CPU-s/s; one ml.m5.large gives
    # 2 vCPUs x 0.7 = 1.4 -> 13.8 / 1.4 = 9.857 -> 10 instances
    assert plan.need("endpoint_instances") == 10
    # batch = min(50, 1300 x 5) = 50 crops; invocations = 1300 / 50 = 26/s
    assert plan.need("crops_per_invocation") == 50
    assert plan.need("lambda_invocations_per_s") == 26
    # DetectFaces calls per invocation = ceil(50 / 36) = 2 -> 26 x 2 = 52 calls/s
    assert plan.need("rekognition_calls_per_s") == 52
    # concurrency = 26 invocations/s x (2 calls x 1.0 s) = 52
    assert plan.need("lambda_concurrency") == 52
    # DynamoDB: one write per face = 1300/s; S3: 1300 PUT/s and 1300 GET/s
    assert plan.need("dynamodb_writes_per_s") == 1300
    assert plan.need("s3_puts_per_s") == plan.need("s3_gets_per_s") == 1300
    # cloud path uploads whole frames: 200 x 140,000 B = 28,000,000 B/s
    assert plan.need("upload_bytes_per_s") == 28_000_000
    # SQS: 1300 sends + 1300/10 receives + 1300/10 deletes = 1560 requests/s
    assert plan.need("sqs_requests_per_s") == pytest.approx(1560)
    # metrics: 1 stage x 13 + 8 function-level = 21
    assert plan.need("cloudwatch_metrics") == 21

    costs = {item.what: item.cost_per_hour for item in plan.items}
    # 10 instance-hours x $0.115 = $1.15
    assert costs["ml.m5.large instance-hours"] == pytest.approx(1.15)
    # 52 calls/s x 3600 = 187,200 images x $0.001 = $187.20
    assert costs["DetectFaces images"] == pytest.approx(187.2)
    # 26 x 3600 = 93,600 requests x $0.20 / 1M = $0.01872
    assert costs["tracker requests"] == pytest.approx(0.01872)
    # 52 concurrent x 1 GB x 3600 s = 187,200 GB-s x $0.0000133334 = $2.49601
    assert costs["tracker GB-seconds (1024 MB, arm64)"] == pytest.approx(2.49601, rel=1e-5)
    # 1300 x 3600 = 4,680,000 writes x $0.625 / 1M = $2.925
    assert costs["on-demand writes"] == pytest.approx(2.925)
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


def test_edge_path_needs_no_endpoint_and_uploads_crops_only() -> None:
    plan = plan_festival(
        FestivalLoad(cameras=10, fps=2.0, path="edge", faces_per_frame=6.5),
        DeploymentShape(),
        PRICES,
    )
    # crops/s = 10 x 2 x 6.5 = 130; bytes = 130 x (20,000 / 6.5) = 400,000 B/s
    assert plan.need("endpoint_instances") == 0
    assert plan.need("upload_bytes_per_s") == pytest.approx(400_000)
    assert not [item for item in plan.items if item.service == "SageMaker"]


def test_a_trickle_makes_small_batches_within_the_window() -> None:
    # 1 camera at 0.5 fps x 6.5 = 3.25 crops/s; batch = min(50, 3.25 x 5 s) = 16.25;
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
    over = plan_festival(FestivalLoad(cameras=200, fps=1, rekognition_tps_quota=50), shape, PRICES)
    assert not [w for w in under.warnings if "quota" in w]
    assert [w for w in over.warnings if "above the quota of 50" in w]
    # 1000 SQS batches at once is Lambda's ceiling: 2000 cameras x 10 fps breaks it.
    huge = plan_festival(FestivalLoad(cameras=2000, fps=10), shape, PRICES)
    assert [w for w in huge.warnings if "exceeds the 1,000 batches" in w]


def test_a_multiple_of_the_mosaic_needs_no_warning() -> None:
    shape = DeploymentShape(tracker_batch_size=72)
    plan = plan_festival(FestivalLoad(cameras=200, fps=1), shape, PRICES)
    # 1300 / 72 = 18.06 invocations/s x ceil(72 / 36) = 2 full mosaics each = 36.1 calls/s
    assert plan.need("rekognition_calls_per_s") == pytest.approx(1300 / 72 * 2)
    assert not [w for w in plan.warnings if "multiple of the mosaic" in w]


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


def test_measured_crop_bytes_come_from_the_edge_figure() -> None:
    assert (
        pytest.approx(planner.EDGE_CROP_BYTES_PER_FRAME)
        == planner.CROP_BYTES * planner.MEASURED_CROPS_PER_FRAME
    )


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

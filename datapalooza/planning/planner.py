"""What a festival needs and costs per hour: arithmetic over the figures measured in
this repository, the deployed shape (datapalooza.deployment) and the dated prices file.
No AWS calls: ``plan_festival`` is a pure function of its arguments.

Measured figures (each with its source) and stated assumptions are module constants, so
a reader can see exactly where a number comes from.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal

from datapalooza.deployment import EDGE_STATS_INTERVAL_S, TRACKER_TIMEOUT_S, DeploymentShape
from datapalooza.emotions.rekognition_limits import REKOGNITION_LIMITS
from datapalooza.emotions.scoring import RESERVE_MS
from datapalooza.planning.prices import Price, PriceTable

Path = Literal["cloud", "edge"]
PATHS: tuple[Path, ...] = ("cloud", "edge")

# --- Measured here --------------------------------------------------------------------
# CPU seconds the endpoint spends per 1280x720 frame: RetinaFace detect 54.4 ms + JPEG
# decode 5.5 ms, on this repository's 2-core Intel Xeon development machine. Measured on
# 2026-11-30 with bench/endpoint.py's own functions (crowd_frames, median_ms): detect
# 63.2 ms and decode 5.5 ms (medians, 1 ONNX Runtime thread). On 2026-12-01 the
# detector's decoding changed (detection/retinaface_decoding.py) and, side by side in
# interleaved rounds on the same frames, a detection took 0.86 of what it took before
# (0.858 and 0.865 in two runs of 12 rounds): 63.2 x 0.86 = 54.4 ms.
DETECT_CPU_S_PER_FRAME = 0.060
# One vCPU of the target instance (ml.m5: Intel Xeon Platinum 8175M) against one vCPU of
# the machine above. Not measured on SageMaker: taken as equal. Replace it with
# (CPU per frame there) / DETECT_CPU_S_PER_FRAME once the endpoint's ModelLatency is known.
TARGET_TO_MEASURED_CPU_RATIO = 1.0
# Bytes on the wire per 1280x720 synthetic crowd frame, camera JPEG q85, as botocore
# prepares each request, measured by bench/devices.py (docs/challenge3-edge.md, "Bytes").
# The cloud path sends the whole frame to the endpoint: 140,853 B at 6.83 crops per frame.
CLOUD_FRAME_BYTES = 140_000
# The endpoint stores one JPEG per crop (q75, 20% margin): 3,041 B per crop, measured by
# the same benchmark when edge devices still uploaded one object per crop
# (docs/benchmarks.md, "Edge bytes").
CLOUD_CROP_BYTES = 3_041
# The edge path uploads one crop sheet per frame (datapalooza/crop_sheets.py). Measured on
# 2026-12-01 on the 2-core Intel Xeon development machine:
# - the PutObject's request head (request line, SigV4 headers, x-amz-meta-* layout): 1,490 B;
# - the sheet's JPEG: 836 B + 1,279 B per crop, the line through the cells of 2.83 crops
#   (4,456 B) and 9.5 crops (12,988 B); the cells between lie within 1% of it. 609 B of
#   the fixed part are the JPEG's own headers.
# An edge frame of 6.83 crops sent 11,021 B in all, 7.8% of the cloud path's frame.
EDGE_SHEET_HEAD_BYTES = 1_490
EDGE_SHEET_JPEG_FIXED_BYTES = 836
EDGE_SHEET_BYTES_PER_CROP = 1_279
EDGE_SHEET_FIXED_BYTES = EDGE_SHEET_HEAD_BYTES + EDGE_SHEET_JPEG_FIXED_BYTES
# Tiles one crop sheet holds: datapalooza.crop_sheets.MAX_TILES, not imported so that
# planning needs no image libraries (tests/unit/test_planner.py holds them equal).
MAX_SHEET_TILES = 100
# Scoreable faces per frame when none is given: near bench/devices.py's middle crowd
# (6.83 crops per frame at 14 faces placed).
MEASURED_CROPS_PER_FRAME = 6.5
# EMF log bytes per scored face: EmfMetricsSink.record of 50 faces printed 8,849 bytes
# (measured 2026-11-30; 1 face alone: 779 bytes).
EMF_BYTES_PER_FACE = 177.0

# --- Stated assumptions -----------------------------------------------------------------
# Keep each endpoint instance below this CPU share, so that scaling out has time to act.
TARGET_CPU_UTILISATION = 0.7
# One S3 request for a crop or a crop sheet (a PutObject from the endpoint, a GetObject
# from the tracker): S3 gives "tens of milliseconds" as the usual median for requests
# under 512 KB (https://docs.aws.amazon.com/whitepapers/latest/s3-optimizing-performance-
# best-practices/timeouts-and-retries-for-latency-sensitive-applications.html). Not
# measured here (no AWS): an assumption, printed as such and overridable
# (--s3-request-seconds); read the real one from the endpoint's ModelLatency less its
# CPU time.
S3_REQUEST_SECONDS = 0.05
# One DynamoDB write (the tracker's claim, results item and settle of a crop): DynamoDB
# is "typically in the single digit milliseconds" (https://docs.aws.amazon.com/
# whitepapers/latest/comparing-dynamodb-and-hbase-for-nosql/amazon-dynamodb-architecture-
# overview.html); rounded up to 10 ms for the HTTPS round trip from a Lambda. Not
# measured here: printed as an assumption, overridable (--dynamodb-request-seconds).
DYNAMODB_REQUEST_SECONDS = 0.01
# DynamoDB writes per scored face: the claim (a conditional PutItem on the idempotency
# table), the results item (a conditional PutItem) and the settle (an UpdateItem of the
# claim), datapalooza/emotions/scoring.py. Each item is under 1 KB, so each write is one
# write request unit ("A standard write request unit can write an item up to 1 KB",
# https://aws.amazon.com/dynamodb/pricing/on-demand/); a conditional write that is
# refused (a duplicate) consumes one too (https://docs.aws.amazon.com/amazondynamodb/
# latest/developerguide/read-write-operations.html#write-operation-consumption).
DYNAMODB_WRITES_PER_FACE = 3
# Requests one client makes at the same time (the endpoint's crop puts, a tracker
# round's claims, reads and writes): datapalooza.adapters.aws.calls_at_once.CALLS_AT_ONCE,
# not imported so that planning needs no AWS libraries (tests/unit/test_planner.py holds
# them equal).
AWS_CALLS_AT_ONCE = 8
# DetectFaces latency cannot be measured here (no AWS): an assumption, printed as such and
# overridable (--detect-faces-seconds); read the real one from the tracker's Duration.
DETECT_FACES_SECONDS = 1.0
# Lambda's SQS poller receives up to 10 messages per ReceiveMessage and deletes them with
# DeleteMessageBatch (up to 10 per call); S3 sends one message per object (a crop on the
# cloud path, a crop sheet on the edge path).
SQS_MESSAGES_PER_RECEIVE = 10
# Metrics the tracker publishes: per stage 8 emotion types + FacesAnalyzed, CrowdMood,
# NoFaceFound, CropRejected, CropMissing; per function 6 Crops<Status>, ColdStart and
# RekognitionThrottled (datapalooza/constants.py, adapters/aws/lambda_events.py).
METRICS_PER_STAGE = 13
FUNCTION_METRICS = 8
HOURS_PER_MONTH = 730  # AWS's monthly-to-hourly convention
SECONDS_PER_HOUR = 3600
GB = 1024**3


class PlanError(ValueError):
    """An input outside the planner's stated range."""


@dataclass(frozen=True, slots=True, kw_only=True)
class FestivalLoad:
    """What the festival asks for: cameras, frames per second per camera, which path."""

    cameras: int
    fps: float
    path: Path = "cloud"
    faces_per_frame: float = MEASURED_CROPS_PER_FRAME
    stages: int = 1
    detect_faces_seconds: float = DETECT_FACES_SECONDS
    rekognition_tps_quota: float | None = None
    s3_request_seconds: float = S3_REQUEST_SECONDS
    dynamodb_request_seconds: float = DYNAMODB_REQUEST_SECONDS

    def __post_init__(self) -> None:
        _check(1 <= self.cameras <= 100_000, "cameras", "1-100000")
        _check(0 < self.fps <= 30, "fps", "more than 0, at most 30")
        _check(self.path in PATHS, "path", "cloud or edge")
        _check(
            0 <= self.faces_per_frame <= REKOGNITION_LIMITS.max_faces,
            "faces-per-frame",
            f"0-{REKOGNITION_LIMITS.max_faces}",
        )
        _check(1 <= self.stages <= 1000, "stages", "1-1000")
        _check(0 < self.detect_faces_seconds <= 60, "detect-faces-seconds", "0-60")
        _check(0 <= self.s3_request_seconds <= 10, "s3-request-seconds", "0-10")
        _check(0 <= self.dynamodb_request_seconds <= 10, "dynamodb-request-seconds", "0-10")
        if self.rekognition_tps_quota is not None:
            _check(self.rekognition_tps_quota > 0, "rekognition-tps", "more than 0")


@dataclass(frozen=True, slots=True)
class LineItem:
    """One billed quantity per hour and what it costs (None: price not found)."""

    service: str
    what: str
    quantity_per_hour: float
    price: Price | None

    @property
    def cost_per_hour(self) -> float | None:
        return None if self.price is None else self.price.cost(self.quantity_per_hour)


class PricedItems:
    """What a bill of line items says: its known cost per hour, and what has no price."""

    __slots__ = ()
    items: tuple[LineItem, ...]

    @property
    def known_cost_per_hour(self) -> float:
        return sum(cost for item in self.items if (cost := item.cost_per_hour) is not None)

    @property
    def unpriced(self) -> tuple[LineItem, ...]:
        return tuple(item for item in self.items if item.cost_per_hour is None)


@dataclass(frozen=True, slots=True)
class Need:
    """A figure the festival needs (a rate, a count), with how it was reached."""

    name: str
    value: float
    unit: str
    how: str


@dataclass(frozen=True, slots=True)
class FestivalPlan(PricedItems):
    load: FestivalLoad
    shape: DeploymentShape
    region: str
    prices_retrieved: str
    needs: tuple[Need, ...]
    items: tuple[LineItem, ...]
    warnings: tuple[str, ...]
    assumptions: tuple[str, ...] = field(default=())

    def need(self, name: str) -> float:
        for need in self.needs:
            if need.name == name:
                return need.value
        raise KeyError(name)


def plan_festival(load: FestivalLoad, shape: DeploymentShape, prices: PriceTable) -> FestivalPlan:
    """Everything the festival needs per second and costs per hour, on ``shape``."""
    frames_per_s = load.cameras * load.fps
    crops_per_s = frames_per_s * load.faces_per_frame
    # S3 objects: the endpoint stores one per crop. An edge device stores one crop sheet
    # per frame, and none for a frame without a crop, so never more sheets than crops.
    if load.path == "cloud":
        objects_per_s = crops_per_s
        objects_how = "cloud: one per crop"
    else:
        objects_per_s = frames_per_s * min(1.0, load.faces_per_frame)
        objects_how = "edge: one crop sheet per frame with a crop"
    crops_per_object = crops_per_s / objects_per_s if objects_per_s else 0.0
    needs: list[Need] = [
        Need("frames_per_s", frames_per_s, "frames/s", "cameras x fps"),
        Need("crops_per_s", crops_per_s, "crops/s", "frames/s x faces per frame"),
        Need("objects_per_s", objects_per_s, "S3 objects/s", objects_how),
    ]
    items: list[LineItem] = []
    warnings: list[str] = []

    # Endpoint (cloud path only). The SageMaker PyTorch container runs one worker per
    # vCPU (TorchServe's default_workers_per_model, which sagemaker-pytorch-inference-
    # toolkit leaves unset unless SAGEMAKER_MODEL_SERVER_WORKERS is given), and a worker
    # holds one frame at a time: for its CPU time, then while the frame's crops are put,
    # AWS_CALLS_AT_ONCE at a time, each round a network round trip.
    instances = 0
    if load.path == "cloud":
        vcpus = prices.vcpus(shape.endpoint_instance_type)
        put_rounds = _rounds_of_calls(load.faces_per_frame)
        busy_s = endpoint_busy_s(load.faces_per_frame, load.s3_request_seconds)
        workers_busy = frames_per_s * busy_s / (vcpus * TARGET_CPU_UTILISATION)
        instances = max(1, _whole_up(workers_busy))
        needs.append(
            Need(
                "endpoint_instances",
                instances,
                shape.endpoint_instance_type,
                f"ceil(frames/s x ({DETECT_CPU_S_PER_FRAME} CPU-s x ratio "
                f"{TARGET_TO_MEASURED_CPU_RATIO} + {put_rounds} round(s) of crop puts x "
                f"{load.s3_request_seconds:g} s) / ({vcpus} workers x {TARGET_CPU_UTILISATION}))",
            )
        )
        items.append(
            LineItem(
                "SageMaker",
                f"{shape.endpoint_instance_type} instance-hours",
                instances,
                prices.price(f"sagemaker.instance_hour.{shape.endpoint_instance_type}"),
            )
        )
    else:
        needs.append(Need("endpoint_instances", 0, "instances", "edge path: detection on device"))

    # The tracker Lambda: one SQS message per object, batches of messages -> invocations,
    # the crops of a batch (every tile of its sheets) -> DetectFaces calls.
    batch = _batch_size(objects_per_s, shape)
    invocations_per_s = objects_per_s / batch if objects_per_s else 0.0
    crops_per_invocation = batch * crops_per_object
    calls_per_invocation = (
        math.ceil(crops_per_invocation / shape.tracker_mosaic_size)
        if shape.tracker_analyzer_mode == "mosaic"
        else math.ceil(crops_per_invocation)
    )
    calls_per_s = invocations_per_s * calls_per_invocation
    calls_s = calls_per_invocation * load.detect_faces_seconds
    round_trips_s = tracker_round_trips_s(
        crops_per_invocation,
        round_size=shape.tracker_mosaic_size if shape.tracker_analyzer_mode == "mosaic" else 1,
        sheets=batch if load.path == "edge" else 0.0,
        s3_request_seconds=load.s3_request_seconds,
        dynamodb_request_seconds=load.dynamodb_request_seconds,
    )
    invocation_s = calls_s + round_trips_s
    concurrency = invocations_per_s * invocation_s
    needs += [
        Need(
            "messages_per_invocation",
            batch,
            "SQS messages",
            f"min(batch size {shape.tracker_batch_size}, objects/s x window "
            f"{shape.tracker_max_batching_window_s} s)",
        ),
        Need(
            "crops_per_invocation",
            crops_per_invocation,
            "crops",
            f"messages x crops per object ({format_quantity(crops_per_object)})",
        ),
        Need(
            "lambda_invocations_per_s",
            invocations_per_s,
            "invocations/s",
            "objects/s / messages per invocation",
        ),
        Need(
            "lambda_invocation_s",
            invocation_s,
            "s per invocation",
            f"{calls_per_invocation} DetectFaces calls x {load.detect_faces_seconds:g} s + "
            f"{round_trips_s:.2f} s of S3 reads and DynamoDB writes, {AWS_CALLS_AT_ONCE} at a "
            "time in each round",
        ),
        Need(
            "lambda_concurrency",
            concurrency,
            "concurrent executions",
            "invocations/s x s per invocation (Little's law)",
        ),
        Need(
            "rekognition_calls_per_s",
            calls_per_s,
            "DetectFaces calls/s",
            f"invocations/s x ceil(crops per invocation / mosaic of {shape.tracker_mosaic_size})"
            if shape.tracker_analyzer_mode == "mosaic"
            else "one call per crop (per-crop mode)",
        ),
    ]
    sqs_limit = prices.quota("lambda.sqs_event_source.max_concurrent_batches")
    if sqs_limit.value is not None and concurrency > sqs_limit.value:
        warnings.append(
            f"tracker concurrency {concurrency:,.0f} exceeds the {sqs_limit.value:,.0f} batches "
            f"an SQS event source processes at once ({sqs_limit.source}): raise the batch "
            "size or split the queue"
        )
    rounds_s = TRACKER_TIMEOUT_S - RESERVE_MS / 1000
    if invocation_s > rounds_s:
        warnings.append(
            f"an invocation takes {invocation_s:,.0f} s ({calls_per_invocation} DetectFaces "
            f"calls x {load.detect_faces_seconds:g} s and {round_trips_s:,.1f} s of reads and "
            f"writes), over the {rounds_s:g} s the tracker starts rounds in (its "
            f"{TRACKER_TIMEOUT_S} s timeout less the {RESERVE_MS / 1000:g} s it keeps for the "
            "last round): every invocation sends the rest of its batch back to the queue; "
            "lower the batch size"
        )
    tps = load.rekognition_tps_quota
    if tps is None:
        tps_quota = prices.quota("rekognition.detect_faces.tps")
        tps = tps_quota.value
    if tps is None:
        warnings.append(
            f"DetectFaces needs {calls_per_s:,.1f} calls/s; the default quota was not found "
            "in the stored AWS docs: check it in Service Quotas and pass --rekognition-tps"
        )
    elif calls_per_s > tps:
        warnings.append(
            f"DetectFaces needs {calls_per_s:,.1f} calls/s, above the quota of {tps:g}: "
            "request an increase before the festival"
        )
    # A batch of crops (cloud path) fills whole mosaics when the batch size is a multiple
    # of the mosaic size. A batch of sheets holds as many crops as their frames had
    # faces, which no batch size controls.
    if (
        load.path == "cloud"
        and shape.tracker_analyzer_mode == "mosaic"
        and batch >= shape.tracker_mosaic_size
        and shape.tracker_batch_size % shape.tracker_mosaic_size
    ):
        warnings.append(
            f"batch size {shape.tracker_batch_size} is not a multiple of the mosaic size "
            f"{shape.tracker_mosaic_size}: each batch makes {calls_per_invocation} calls where "
            f"{shape.tracker_batch_size / shape.tracker_mosaic_size:.2f} would do"
        )

    gb_seconds = concurrency * shape.tracker_memory_mb / 1024 * SECONDS_PER_HOUR
    items += [
        LineItem(
            "Lambda",
            "tracker requests",
            invocations_per_s * SECONDS_PER_HOUR,
            prices.price("lambda.requests"),
        ),
        LineItem(
            "Lambda",
            f"tracker GB-seconds ({shape.tracker_memory_mb} MB, {shape.tracker_architecture})",
            gb_seconds,
            prices.price(f"lambda.gb_second.{shape.tracker_architecture}"),
        ),
        LineItem(
            "Rekognition",
            "DetectFaces images",
            calls_per_s * SECONDS_PER_HOUR,
            prices.price("rekognition.group2.image"),
        ),
    ]

    # Results, stored objects, queue, metrics. S3 requests and SQS messages go by object;
    # results items and EMF log lines by crop.
    if load.path == "cloud":
        stored_object = "crop"
        upload_bytes_per_s = frames_per_s * CLOUD_FRAME_BYTES
        upload_how = f"cloud: frames x {CLOUD_FRAME_BYTES:,} B to the endpoint (bench/devices.py)"
        stored_bytes_per_s = crops_per_s * CLOUD_CROP_BYTES
        stored_how = f"crop JPEGs: crops x {CLOUD_CROP_BYTES:,} B"
    else:
        stored_object = "crop sheet"
        upload_bytes_per_s = (
            objects_per_s * EDGE_SHEET_FIXED_BYTES + crops_per_s * EDGE_SHEET_BYTES_PER_CROP
        )
        upload_how = (
            f"edge: one PutObject per sheet, sheets x {EDGE_SHEET_FIXED_BYTES:,} B (request "
            f"head and JPEG) + crops x {EDGE_SHEET_BYTES_PER_CROP:,} B (bench/devices.py)"
        )
        stored_bytes_per_s = (
            objects_per_s * EDGE_SHEET_JPEG_FIXED_BYTES + crops_per_s * EDGE_SHEET_BYTES_PER_CROP
        )
        stored_how = (
            f"sheet JPEGs: sheets x {EDGE_SHEET_JPEG_FIXED_BYTES:,} B + crops x "
            f"{EDGE_SHEET_BYTES_PER_CROP:,} B"
        )
    stored_gb = stored_bytes_per_s * 86_400 * shape.faces_expire_days / GB
    sqs_requests_per_s = objects_per_s * (1 + 2 / SQS_MESSAGES_PER_RECEIVE)
    metrics = load.stages * METRICS_PER_STAGE + FUNCTION_METRICS
    needs += [
        Need(
            "dynamodb_writes_per_s",
            crops_per_s * DYNAMODB_WRITES_PER_FACE,
            "write request units/s",
            f"{DYNAMODB_WRITES_PER_FACE} per face: claim, results item, settle",
        ),
        Need("s3_puts_per_s", objects_per_s, "PUT/s", "one per object"),
        Need("s3_gets_per_s", objects_per_s, "GET/s", "the tracker reads each object once"),
        Need("upload_bytes_per_s", upload_bytes_per_s, "bytes/s", upload_how),
        Need(
            "crops_stored_gb",
            stored_gb,
            "GB",
            f"{stored_how}, kept {shape.faces_expire_days} day(s)",
        ),
        Need(
            "sqs_requests_per_s",
            sqs_requests_per_s,
            "requests/s",
            "per object: send + receive/10 + delete/10",
        ),
        Need("cloudwatch_metrics", metrics, "custom metrics", f"{load.stages} stage(s)"),
        Need("greengrass_core_devices", load.cameras, "devices", "one core device per camera"),
    ]
    iot_messages_per_s = (
        frames_per_s if load.path == "cloud" else load.cameras / EDGE_STATS_INTERVAL_S
    )
    items += [
        LineItem(
            "DynamoDB",
            "on-demand writes (results and idempotency tables)",
            crops_per_s * DYNAMODB_WRITES_PER_FACE * SECONDS_PER_HOUR,
            prices.price("dynamodb.on_demand.write_request_unit"),
        ),
        LineItem(
            "S3",
            f"PUT requests ({stored_object}s)",
            objects_per_s * SECONDS_PER_HOUR,
            prices.price("s3.put_request"),
        ),
        LineItem(
            "S3",
            "GET requests (tracker)",
            objects_per_s * SECONDS_PER_HOUR,
            prices.price("s3.get_request"),
        ),
        LineItem(
            "S3",
            f"{stored_object} storage (GB-month, steady state)",
            stored_gb / HOURS_PER_MONTH,
            prices.price("s3.storage.gb_month"),
        ),
        LineItem(
            "SQS",
            "standard requests",
            sqs_requests_per_s * SECONDS_PER_HOUR,
            prices.price("sqs.standard.request"),
        ),
        LineItem(
            "CloudWatch",
            "custom metrics (metric-month)",
            metrics / HOURS_PER_MONTH,
            prices.price("cloudwatch.custom_metric_month"),
        ),
        LineItem(
            "CloudWatch",
            "EMF log ingestion (GB)",
            crops_per_s * EMF_BYTES_PER_FACE * SECONDS_PER_HOUR / GB,
            prices.price("cloudwatch.logs_ingestion_gb"),
        ),
        LineItem(
            "IoT Core",
            "MQTT messages (detections / edge stats)",
            iot_messages_per_s * SECONDS_PER_HOUR,
            prices.price("iot_core.message"),
        ),
        LineItem(
            "Greengrass",
            "active core devices (device-month)",
            load.cameras / HOURS_PER_MONTH,
            prices.price("greengrass.core_device_month"),
        ),
    ]
    assumptions = (
        f"endpoint CPU per frame {DETECT_CPU_S_PER_FRAME} s measured here; target/measured "
        f"vCPU ratio {TARGET_TO_MEASURED_CPU_RATIO} (not measured on SageMaker); instances "
        f"kept below {TARGET_CPU_UTILISATION:.0%} busy, one endpoint worker per vCPU",
        f"DetectFaces latency {load.detect_faces_seconds} s per call (ASSUMED: not "
        "measurable offline)",
        f"S3 request for a crop or sheet {load.s3_request_seconds} s, DynamoDB write "
        f"{load.dynamodb_request_seconds} s; {AWS_CALLS_AT_ONCE} at a time per client (ASSUMED: "
        "S3's 'tens of milliseconds' for small requests, DynamoDB's 'single digit "
        "milliseconds'; not measurable offline)",
        "every crop holds one scoreable face (one results item each)",
        "one S3 object per crop on the cloud path; one crop sheet per frame on the edge "
        f"path (a sheet holds up to {MAX_SHEET_TILES} crops, faces per frame at most "
        f"{REKOGNITION_LIMITS.max_faces})",
        "a batch fills to the batch size or to what arrives within the window (one poller)",
    )
    return FestivalPlan(
        load=load,
        shape=shape,
        region=prices.region,
        prices_retrieved=prices.retrieved.isoformat(),
        needs=tuple(needs),
        items=tuple(items),
        warnings=tuple(warnings),
        assumptions=assumptions,
    )


def endpoint_busy_s(
    faces_per_frame: float, s3_request_seconds: float = S3_REQUEST_SECONDS
) -> float:
    """Seconds an endpoint worker is held by one frame: its CPU, then one network round
    trip per AWS_CALLS_AT_ONCE crops stored."""
    cpu_s = DETECT_CPU_S_PER_FRAME * TARGET_TO_MEASURED_CPU_RATIO
    return cpu_s + _rounds_of_calls(faces_per_frame) * s3_request_seconds


def _whole_up(value: float) -> int:
    """The whole number at or above ``value``, ignoring float noise: 100 x (0.060 + 3 x
    0.05) / 1.4 is 15.000000000000002 in floats, and 15 instances are enough."""
    return math.ceil(round(value, 9))


def _rounds_of_calls(calls: float) -> int:
    """Round trips that ``calls`` requests take, AWS_CALLS_AT_ONCE at a time."""
    return math.ceil(calls / AWS_CALLS_AT_ONCE)


def tracker_round_trips_s(
    crops: float,
    *,
    round_size: int,
    sheets: float = 0.0,
    s3_request_seconds: float = S3_REQUEST_SECONDS,
    dynamodb_request_seconds: float = DYNAMODB_REQUEST_SECONDS,
) -> float:
    """Seconds a tracker invocation waits on S3 and DynamoDB besides its DetectFaces
    calls (datapalooza.emotions.scoring.score_crops). Its ``crops`` go in rounds of
    ``round_size`` (one analyzer call's). In a round every crop is claimed and then read
    (a DynamoDB write, an S3 GET), its results item written and its claim settled (a
    write each), each step AWS_CALLS_AT_ONCE crops at a time. ``sheets`` crop sheets
    (the edge path) are read instead, AWS_CALLS_AT_ONCE at a time, and their crops need
    no read of their own."""
    if crops <= 0:
        return 0.0
    full, rest = divmod(crops, round_size)
    steps = full * _rounds_of_calls(round_size) + _rounds_of_calls(rest)
    read_s = 0.0 if sheets else s3_request_seconds
    sheet_reads_s = _rounds_of_calls(sheets) * s3_request_seconds
    return steps * (3 * dynamodb_request_seconds + read_s) + sheet_reads_s


def _batch_size(objects_per_s: float, shape: DeploymentShape) -> float:
    """SQS messages (one per S3 object) per invocation: a batch closes when full or when
    the window ends."""
    return float(
        max(1.0, min(shape.tracker_batch_size, objects_per_s * shape.tracker_max_batching_window_s))
    )


def _check(ok: bool, name: str, expected: str) -> None:
    if not ok:
        raise PlanError(f"--{name}: expected {expected}")


def format_plan(plan: FestivalPlan) -> str:
    """The plan as the CLI prints it: needs, line items with costs, warnings."""
    load = plan.load
    lines = [
        f"Festival: {load.cameras} cameras x {load.fps:g} fps, {load.path} path, "
        f"{load.faces_per_frame:g} faces/frame, {load.stages} stage(s)",
        f"Prices: {plan.region}, read {plan.prices_retrieved} (datapalooza/planning/prices.json)",
        "",
        "Needs",
    ]
    for need in plan.needs:
        lines.append(
            f"  {need.name:<26}{format_quantity(need.value):>14} {need.unit}  [{need.how}]"
        )
    lines += ["", "Cost per hour"]
    for item in plan.items:
        cost = item.cost_per_hour
        shown = "price not found" if cost is None else f"${cost:,.4f}"
        lines.append(
            f"  {item.service:<12}{item.what:<46}"
            f"{format_quantity(item.quantity_per_hour):>14}  {shown}"
        )
    lines.append(f"  {'total of priced items':<57}{'':>14}  ${plan.known_cost_per_hour:,.2f}")
    if plan.unpriced:
        names = ", ".join(f"{i.service} {i.what}" for i in plan.unpriced)
        lines.append(f"  not included (no sourced price): {names}")
    if plan.warnings:
        lines += ["", "Warnings"] + [f"  - {w}" for w in plan.warnings]
    lines += ["", "Assumptions"] + [f"  - {a}" for a in plan.assumptions]
    return "\n".join(lines)


def format_quantity(value: float) -> str:
    """A count as an integer (a float a rounding error away from one too: 1300 / 72 x
    3600 is 65,000.000000000007), a small figure to 4 significant digits, else to 0.1."""
    if math.isclose(value, round(value), rel_tol=1e-12, abs_tol=1e-9):
        return f"{round(value):,}"
    return f"{value:,.4g}" if abs(value) < 10 else f"{value:,.1f}"


__all__: Sequence[str] = (
    "FestivalLoad",
    "FestivalPlan",
    "LineItem",
    "Need",
    "PlanError",
    "format_plan",
    "format_quantity",
    "plan_festival",
)

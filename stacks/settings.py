"""Typed settings for the CDK app, read from CDK context (cdk.json or ``-c key=value``).

One object, validated once in the composition root (app.py), with a clear error naming
the context key that is wrong. Defaults live here, next to their reasons.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, fields
from typing import Any, TypeVar

from aws_cdk import aws_logs as logs

from datapalooza import constants, deployment
from datapalooza.deployment import DeploymentShape
from datapalooza.domain.frame_attributes import parse_stages
from datapalooza.domain.keys import InvalidName, validate_slug
from datapalooza.naming import InvalidTeam, validate_team
from datapalooza.settings import SettingsError
from datapalooza.sources.base import InvalidSourceSpec
from datapalooza.sources.spec import validate_spec

CONTEXT_PREFIX = "datapalooza:"

_ENDPOINT_NAME = re.compile(r"^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}$")
_INSTANCE_TYPE = re.compile(r"^ml\.[a-z0-9]+\.[a-z0-9]+$")
# What a device's `uname -m` may say, to the machine name its wheels are built for. Both
# spellings of each CPU are accepted; anything else (armv7l: no manylinux wheels of
# onnxruntime/OpenCV, no Lambda architecture to import it from) is refused.
_DEVICE_ARCHITECTURES = {
    "aarch64": "aarch64",
    "arm64": "aarch64",
    "x86_64": "x86_64",
    "amd64": "x86_64",
}
# Greengrass's own names for those CPUs in component platforms ("architecture"
# attribute): https://docs.aws.amazon.com/greengrass/v2/developerguide/component-recipe-reference.html
GREENGRASS_ARCHITECTURES = {"aarch64": "aarch64", "x86_64": "amd64"}
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")

# SageMaker's limits for a serverless endpoint variant (ProductionVariantServerlessConfig,
# https://docs.aws.amazon.com/sagemaker/latest/APIReference/API_ProductionVariantServerlessConfig.html):
# "Valid values are in 1 GB increments: 1024 MB, 2048 MB, 3072 MB, 4096 MB, 5120 MB, or
# 6144 MB"; MaxConcurrency "Minimum value of 1. Maximum value of 200."
SERVERLESS_MEMORY_SIZES_MB = (1024, 2048, 3072, 4096, 5120, 6144)
SERVERLESS_MAX_CONCURRENCY = 200
# A workshop's ceiling for one team's endpoint (each instance bills by the hour).
MAX_ENDPOINT_INSTANCES = 20
_DEVICE_PYTHONS = ("3.11", "3.12", "3.13")

T = TypeVar("T")


@dataclass(frozen=True, slots=True, kw_only=True)
class AppSettings:
    """Everything an instructor may tune at deploy time (``cdk deploy -c datapalooza:KEY=V``)."""

    # Whose deployment this is: every stack and physical name carries it (the rule:
    # datapalooza/naming.py; applied once in stacks/names.py), so many attendees deploy
    # side by side in one account and Region. "default" keeps the names unchanged.
    team: str = constants.DEFAULT_TEAM
    endpoint_name: str = constants.DEFAULT_ENDPOINT_NAME
    # CPU instance: RetinaFace on ONNX Runtime needs no GPU (~75 ms per 1280x720 frame).
    endpoint_instance_type: str = deployment.ENDPOINT_INSTANCE_TYPE
    endpoint_instance_count: int = deployment.ENDPOINT_INSTANCE_COUNT
    # Target tracking on SageMakerVariantInvocationsPerInstance between min and max
    # instances (stacks/constructs/endpoint_scaling.py); max 1 keeps the endpoint fixed.
    endpoint_min_instances: int = 1
    endpoint_max_instances: int = 1
    # Invocations per instance per minute that scaling holds the variant at: one
    # ml.m5.large's 2 workers take ~16.8 frames/s (each frame holds a worker for 0.069 s
    # of CPU and ~0.05 s of crop puts, datapalooza/planning/planner.py), so 600 a minute
    # keeps it near 60% of that.
    endpoint_target_invocations_per_instance: int = 600
    # Serverless inference instead of instances when > 0 (memory in MB); see
    # SERVERLESS_MEMORY_SIZES_MB for the sizes SageMaker allows.
    endpoint_serverless_memory_mb: int = 0
    endpoint_serverless_max_concurrency: int = 10
    # EnableNetworkIsolation on the SageMaker model. Off by default: the container writes
    # face crops to S3 itself, and isolation takes away both its network and its AWS
    # credentials ("the containers can't make any outbound network calls, even to other
    # AWS services such as Amazon S3. Additionally, no AWS credentials are made available
    # to the container runtime environment":
    # https://docs.aws.amazon.com/sagemaker/latest/dg/mkt-algo-model-internet-free.html).
    # On, the endpoint starts offline (its wheels travel in model.tar.gz) and answers
    # detections only: no crops, so challenge 2's tracker receives nothing.
    endpoint_network_isolation: bool = False
    # PyTorch inference container: its toolkit honours model_fn/input_fn/predict_fn/output_fn
    # and installs code/requirements.txt; we do not use torch itself.
    container_framework_version: str = "2.6"
    container_py_version: str = "py312"
    detector: str = constants.DEFAULT_DETECTOR
    min_confidence: float = constants.DEFAULT_MIN_CONFIDENCE
    min_face_px: int = constants.DEFAULT_MIN_FACE_PX
    # Face crops identify people: keep them one day, the shortest lifecycle S3 offers.
    faces_expire_days: int = deployment.FACES_EXPIRE_DAYS
    access_logs_expire_days: int = 30
    results_ttl_days: int = deployment.RESULTS_TTL_DAYS
    tracker_batch_size: int = deployment.TRACKER_BATCH_SIZE
    tracker_max_batching_window_s: int = deployment.TRACKER_MAX_BATCHING_WINDOW_S
    tracker_analyzer_mode: str = "mosaic"
    tracker_mosaic_size: int = deployment.TRACKER_MOSAIC_SIZE
    tracker_max_receive_count: int = 3
    log_retention_days: int = 7
    camera_stage: str = "main"
    # The stages the endpoint takes frames for, comma-separated; empty: any stage name,
    # so a workshop can deploy Challenge 2 for another camera_stage without redeploying
    # Challenge 1. A festival lists its stages: a frame of any other stage gets a 400, so
    # a camera's credentials cannot invent stages, and their metrics (MAX_STAGES in
    # datapalooza/domain/frame_attributes.py; docs/running-a-festival.md).
    endpoint_stages: str = ""
    camera_name: str = "cam-1"
    camera_interval_s: float = deployment.CAMERA_INTERVAL_S
    camera_source: str = "webcam:0"
    edge_stage: str = "main"
    edge_camera_name: str = "edge-1"
    edge_source: str = "webcam:0"
    # On the core device (not a path here). Empty: forward-queue/ in the edge component's
    # own work directory under the Greengrass v2 root (persistent across restarts, so
    # queued crops survive a reboot), e.g. /greengrass/v2/work/datapalooza.EdgeInference/
    # forward-queue; the component's name, hence the folder, follows the team.
    edge_queue_dir: str = ""
    # The core devices' CPU: aarch64 (arm64) or x86_64 (amd64). Normalised to the wheel
    # platform's name (aarch64 / x86_64); components use GREENGRASS_ARCHITECTURES' name.
    device_architecture: str = "aarch64"
    device_python: str = "3.12"
    # Adds an EC2 instance to the Challenge 2 and 3 stacks that becomes their Greengrass
    # core device and plays synthetic festival footage as its camera, for attendees
    # without hardware (stacks/constructs/virtual_device.py, docs/virtual-device.md). It replaces
    # camera_source / edge_source with the footage file.
    virtual_device: bool = False
    # Where the festival alarms (stacks/constructs/festival_alarms.py) e-mail; empty: the SNS topic
    # only (subscribe to it yourself).
    alarm_email: str = ""
    # Average ModelLatency above this alarms: ~69 ms of CPU per 1280x720 frame measured
    # here (datapalooza/planning/planner.py), so 500 ms means a starved or queuing endpoint.
    alarm_model_latency_ms: int = 500

    def __post_init__(self) -> None:
        try:
            validate_team(self.team)
        except InvalidTeam as exc:
            raise SettingsError(f"context {CONTEXT_PREFIX}team: {exc}") from None
        _check(
            _ENDPOINT_NAME.match(self.endpoint_name) is not None,
            "endpoint_name",
            "1-63 letters, digits and hyphens",
        )
        _check(
            _INSTANCE_TYPE.match(self.endpoint_instance_type) is not None,
            "endpoint_instance_type",
            "a SageMaker instance type such as ml.m5.large",
        )
        _check(1 <= self.endpoint_instance_count <= 10, "endpoint_instance_count", "1-10")
        _check(
            1 <= self.endpoint_min_instances <= MAX_ENDPOINT_INSTANCES,
            "endpoint_min_instances",
            f"1-{MAX_ENDPOINT_INSTANCES}",
        )
        _check(
            self.endpoint_min_instances <= self.endpoint_max_instances <= MAX_ENDPOINT_INSTANCES,
            "endpoint_max_instances",
            f"endpoint_min_instances-{MAX_ENDPOINT_INSTANCES}",
        )
        _check(
            1 <= self.endpoint_target_invocations_per_instance <= 100_000,
            "endpoint_target_invocations_per_instance",
            "1-100000 invocations per instance per minute",
        )
        _check(
            self.endpoint_serverless_memory_mb == 0
            or self.endpoint_serverless_memory_mb in SERVERLESS_MEMORY_SIZES_MB,
            "endpoint_serverless_memory_mb",
            "0 (instances) or one of SageMaker's serverless memory sizes "
            + ", ".join(str(size) for size in SERVERLESS_MEMORY_SIZES_MB),
        )
        _check(
            1 <= self.endpoint_serverless_max_concurrency <= SERVERLESS_MAX_CONCURRENCY,
            "endpoint_serverless_max_concurrency",
            f"1-{SERVERLESS_MAX_CONCURRENCY} (SageMaker's serverless limit)",
        )
        # Serverless endpoints support no network isolation (Feature exclusions,
        # https://docs.aws.amazon.com/sagemaker/latest/dg/serverless-endpoints.html):
        # CreateEndpoint would fail at deploy, after the rest of the stack was built.
        _check(
            self.endpoint_serverless_memory_mb == 0 or not self.endpoint_network_isolation,
            "endpoint_network_isolation",
            "false with a serverless endpoint (endpoint_serverless_memory_mb > 0): serverless "
            "inference has no network isolation",
        )
        _check(
            self.endpoint_serverless_memory_mb == 0 or self.endpoint_max_instances == 1,
            "endpoint_max_instances",
            "1 with a serverless endpoint (serverless scales itself; no instances to scale)",
        )
        _check(
            self.detector in constants.DETECTOR_NAMES,
            "detector",
            " or ".join(constants.DETECTOR_NAMES),
        )
        _check(0 <= self.min_confidence <= 100, "min_confidence", "0-100")
        low, high = constants.MIN_FACE_PX_RANGE
        _check(low <= self.min_face_px <= high, "min_face_px", f"{low}-{high}")
        _check(
            1 <= self.faces_expire_days <= 30,
            "faces_expire_days",
            "1-30 (face crops identify people: keep them briefly)",
        )
        _check(1 <= self.access_logs_expire_days <= 3650, "access_logs_expire_days", "1-3650")
        _check(1 <= self.results_ttl_days <= 365, "results_ttl_days", "1-365")
        # Lambda's limits for SQS event sources: batch size 1-10, up to 10,000 with a
        # batching window, which is 0-5 minutes (SqsEventSourceProps, https://docs.aws.
        # amazon.com/cdk/api/v2/docs/aws-cdk-lib.aws_lambda_event_sources.SqsEventSourceProps.html).
        _check(1 <= self.tracker_batch_size <= 10_000, "tracker_batch_size", "1-10000")
        _check(
            0 <= self.tracker_max_batching_window_s <= 300,
            "tracker_max_batching_window_s",
            "0-300 seconds",
        )
        _check(
            self.tracker_batch_size <= 10 or self.tracker_max_batching_window_s >= 1,
            "tracker_max_batching_window_s",
            ">= 1 when tracker_batch_size > 10 (SQS rule)",
        )
        _check(
            self.tracker_analyzer_mode in ("mosaic", "per-crop"),
            "tracker_analyzer_mode",
            "mosaic or per-crop",
        )
        _check(
            1 <= self.tracker_mosaic_size <= 100,
            "tracker_mosaic_size",
            "1-100 (Rekognition returns at most 100 faces per call)",
        )
        _check(1 <= self.tracker_max_receive_count <= 100, "tracker_max_receive_count", "1-100")
        _check(
            self.log_retention_days in _LOG_RETENTION_DAYS,
            "log_retention_days",
            f"one of CloudWatch Logs' retention periods {sorted(_LOG_RETENTION_DAYS)}",
        )
        for key in ("camera_stage", "camera_name", "edge_stage", "edge_camera_name"):
            try:
                validate_slug(getattr(self, key), what=key)
            except InvalidName as exc:
                raise SettingsError(f"context {CONTEXT_PREFIX}{key}: {exc}") from None
        try:
            parse_stages(self.endpoint_stages)
        except ValueError as exc:
            raise SettingsError(f"context {CONTEXT_PREFIX}endpoint_stages: {exc}") from None
        _check(0.1 <= self.camera_interval_s <= 3600, "camera_interval_s", "0.1-3600 seconds")
        for key in ("camera_source", "edge_source"):
            # The device programs' own parser: a typo fails at synth, not on the device.
            try:
                validate_spec(getattr(self, key))
            except InvalidSourceSpec as exc:
                raise SettingsError(f"context {CONTEXT_PREFIX}{key}: {exc}") from None
        _check(
            self.device_architecture in _DEVICE_ARCHITECTURES,
            "device_architecture",
            f"one of {', '.join(_DEVICE_ARCHITECTURES)}",
        )
        # Frozen dataclass: normalise the accepted alias in place once, here.
        object.__setattr__(
            self, "device_architecture", _DEVICE_ARCHITECTURES[self.device_architecture]
        )
        _check(
            self.edge_queue_dir == "" or self.edge_queue_dir.startswith("/"),
            "edge_queue_dir",
            "an absolute path (or empty for the edge component's work directory)",
        )
        _check(self.device_python in _DEVICE_PYTHONS, "device_python", ", ".join(_DEVICE_PYTHONS))
        _check(
            1 <= self.alarm_model_latency_ms <= 60_000,
            "alarm_model_latency_ms",
            "1-60000 ms",
        )
        _check(
            self.alarm_email == "" or _EMAIL.match(self.alarm_email) is not None,
            "alarm_email",
            "an e-mail address (or empty for no subscription)",
        )

    @property
    def serverless(self) -> bool:
        return self.endpoint_serverless_memory_mb > 0

    def shape(self) -> DeploymentShape:
        """The figures of this deployment that the planner's arithmetic uses."""
        return DeploymentShape(
            endpoint_instance_type=self.endpoint_instance_type,
            endpoint_instance_count=self.endpoint_instance_count,
            tracker_batch_size=self.tracker_batch_size,
            tracker_max_batching_window_s=self.tracker_max_batching_window_s,
            tracker_analyzer_mode=self.tracker_analyzer_mode,
            tracker_mosaic_size=self.tracker_mosaic_size,
            camera_interval_s=self.camera_interval_s,
            faces_expire_days=self.faces_expire_days,
        )

    @property
    def log_retention(self) -> logs.RetentionDays:
        return _LOG_RETENTION_DAYS[self.log_retention_days]

    @property
    def endpoint_instances_at_most(self) -> int:
        """The most instances the endpoint runs: its initial count, or with auto scaling
        its maximum (EndpointScaling starts at max(count, min)); 0 when serverless."""
        if self.serverless:
            return 0
        return max(self.endpoint_instance_count, self.endpoint_max_instances)

    @property
    def allowed_stages(self) -> tuple[str, ...]:
        """The stages the endpoint serves, sorted; empty: any."""
        return tuple(sorted(parse_stages(self.endpoint_stages)))

    @classmethod
    def from_context(cls, try_get_context: Callable[[str], Any]) -> AppSettings:
        """Build from CDK context values ``datapalooza:<field>``; unset keys keep defaults.

        Values given on the command line arrive as strings, so each is converted to
        the field's type; a value that does not convert names its key in the error.
        """
        values: dict[str, Any] = {}
        for field in fields(cls):
            raw = try_get_context(CONTEXT_PREFIX + field.name)
            if raw is None:
                continue
            values[field.name] = _convert(raw, _FIELD_TYPES[str(field.type)], field.name)
        return cls(**values)

    @classmethod
    def from_mapping(cls, context: Mapping[str, Any]) -> AppSettings:
        """Same as from_context, for a plain dict (tests, scripts)."""
        return cls.from_context(context.get)


_LOG_RETENTION_DAYS: dict[int, logs.RetentionDays] = {
    1: logs.RetentionDays.ONE_DAY,
    3: logs.RetentionDays.THREE_DAYS,
    5: logs.RetentionDays.FIVE_DAYS,
    7: logs.RetentionDays.ONE_WEEK,
    14: logs.RetentionDays.TWO_WEEKS,
    30: logs.RetentionDays.ONE_MONTH,
    60: logs.RetentionDays.TWO_MONTHS,
    90: logs.RetentionDays.THREE_MONTHS,
    180: logs.RetentionDays.SIX_MONTHS,
    365: logs.RetentionDays.ONE_YEAR,
}
_FIELD_TYPES: dict[str, type] = {"str": str, "int": int, "float": float, "bool": bool}
_BOOL_WORDS = {"true": True, "false": False}


def _convert(raw: Any, kind: type[T], name: str) -> T:
    if kind is bool:
        # cdk.json gives a JSON boolean; -c key=value gives the string "true"/"false".
        value = raw if isinstance(raw, bool) else _BOOL_WORDS.get(str(raw).lower())
        if value is None:
            raise SettingsError(
                f"context {CONTEXT_PREFIX}{name}: expected true or false, got {raw!r}"
            )
        return value  # type: ignore[return-value]
    if isinstance(raw, (bool, list, dict)):
        raise SettingsError(
            f"context {CONTEXT_PREFIX}{name}: expected {kind.__name__}, got {raw!r}"
        )
    try:
        if kind is int and isinstance(raw, float) and not raw.is_integer():
            raise ValueError
        return kind(raw)  # type: ignore[call-arg]
    except (TypeError, ValueError):
        raise SettingsError(
            f"context {CONTEXT_PREFIX}{name}: expected {kind.__name__}, got {raw!r}"
        ) from None


def _check(ok: bool, key: str, expected: str) -> None:
    if not ok:
        raise SettingsError(f"context {CONTEXT_PREFIX}{key}: expected {expected}")

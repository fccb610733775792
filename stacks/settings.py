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

from datapalooza.sources.base import InvalidSourceSpec
from datapalooza.sources.spec import validate_spec

CONTEXT_PREFIX = "datapalooza:"

_SLUG = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,38}[a-z0-9])?$")
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
_DEVICE_PYTHONS = ("3.11", "3.12", "3.13")

T = TypeVar("T")


class SettingsError(ValueError):
    """A context value is missing its expected type or range; names the key."""


@dataclass(frozen=True, slots=True, kw_only=True)
class AppSettings:
    """Everything an instructor may tune at deploy time (``cdk deploy -c datapalooza:KEY=V``)."""

    endpoint_name: str = "datapalooza-face-detection"
    # CPU instance: RetinaFace on ONNX Runtime needs no GPU (~75 ms per 1280x720 frame).
    endpoint_instance_type: str = "ml.m5.large"
    endpoint_instance_count: int = 1
    # PyTorch inference container: its toolkit honours model_fn/input_fn/predict_fn/output_fn
    # and installs code/requirements.txt; we do not use torch itself.
    container_framework_version: str = "2.6"
    container_py_version: str = "py312"
    detector: str = "retinaface"
    min_confidence: float = 80.0  # the runtime's own default (DetectorSettings)
    min_face_px: int = 40
    # Face crops identify people: keep them one day, the shortest lifecycle S3 offers.
    faces_expire_days: int = 1
    access_logs_expire_days: int = 30
    results_ttl_days: int = 7
    tracker_batch_size: int = 10
    tracker_max_batching_window_s: int = 5
    tracker_analyzer_mode: str = "mosaic"
    tracker_mosaic_size: int = 36
    tracker_max_receive_count: int = 3
    log_retention_days: int = 7
    camera_stage: str = "main"
    camera_name: str = "cam-1"
    camera_interval_s: float = 2.0
    camera_source: str = "webcam:0"
    edge_stage: str = "main"
    edge_camera_name: str = "edge-1"
    edge_source: str = "webcam:0"
    # On the core device: the component's own work directory under the Greengrass v2 root
    # (persistent across restarts, so queued crops survive a reboot). Not a path here.
    edge_queue_dir: str = "/greengrass/v2/work/datapalooza.EdgeInference/forward-queue"
    # The core devices' CPU: aarch64 (arm64) or x86_64 (amd64). Normalised to the wheel
    # platform's name (aarch64 / x86_64); components use GREENGRASS_ARCHITECTURES' name.
    device_architecture: str = "aarch64"
    device_python: str = "3.12"

    def __post_init__(self) -> None:
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
            self.detector in ("retinaface", "libfacedetection"),
            "detector",
            "retinaface or libfacedetection",
        )
        _check(0 <= self.min_confidence <= 100, "min_confidence", "0-100")
        _check(1 <= self.min_face_px <= 1000, "min_face_px", "1-1000")
        _check(
            1 <= self.faces_expire_days <= 30,
            "faces_expire_days",
            "1-30 (face crops identify people: keep them briefly)",
        )
        _check(1 <= self.access_logs_expire_days <= 3650, "access_logs_expire_days", "1-3650")
        _check(1 <= self.results_ttl_days <= 365, "results_ttl_days", "1-365")
        # Lambda's limits for SQS event sources with a batching window.
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
            _check(
                _SLUG.match(getattr(self, key)) is not None,
                key,
                "1-40 lowercase letters, digits and inner hyphens",
            )
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
        _check(self.edge_queue_dir.startswith("/"), "edge_queue_dir", "an absolute path")
        _check(self.device_python in _DEVICE_PYTHONS, "device_python", ", ".join(_DEVICE_PYTHONS))

    @property
    def log_retention(self) -> logs.RetentionDays:
        return _LOG_RETENTION_DAYS[self.log_retention_days]

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
_FIELD_TYPES: dict[str, type] = {"str": str, "int": int, "float": float}


def _convert(raw: Any, kind: type[T], name: str) -> T:
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

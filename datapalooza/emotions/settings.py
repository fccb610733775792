"""Typed settings for the emotion tracker (explicit argument > environment > default)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from datapalooza import constants, deployment
from datapalooza.emotions.rekognition_limits import REKOGNITION_LIMITS
from datapalooza.naming import METRIC_NAMESPACE_MAX
from datapalooza.settings import SettingsError, check_range, settings_values

ANALYZERS = ("rekognition", "local")
MODES = ("mosaic", "per-crop")


@dataclass(frozen=True, slots=True)
class TrackerSettings:
    """How crops become scores.

    ``analyzer``: ``rekognition`` (the Lambda) or ``local`` (the ONNX model).
    ``mode``: with Rekognition, ``mosaic`` tiles up to ``mosaic_size`` crops into one
    image per DetectFaces call; ``per-crop`` makes one call per crop (the original
    workshop's behaviour, ~$1 per 1,000 faces). The local model always batches.
    ``max_crop_bytes``: crops above this are rejected before download (Rekognition's
    5 MB limit for image bytes). ``max_attempts``: DetectFaces tries per call when
    throttled, with exponential backoff and full jitter, before the items fail (and
    SQS redrives them, finally to the dead-letter queue).
    """

    analyzer: str = "rekognition"
    mode: str = "mosaic"
    mosaic_size: int = 50
    results_ttl_days: int = deployment.RESULTS_TTL_DAYS
    max_crop_bytes: int = REKOGNITION_LIMITS.max_image_bytes
    max_attempts: int = 5
    local_batch: int = 64
    threads: int = 1
    faces_bucket: str = ""
    results_table: str = ""
    idempotency_table: str = ""
    # Where messages the tracker had no time for go back to (the Lambda's crops queue;
    # unset, they are reported failed: datapalooza.adapters.aws.sqs_requeue).
    crops_queue_url: str = ""
    idempotency_ttl_s: int = constants.IDEMPOTENCY_TTL_S
    # The CloudWatch namespace of the per-stage metrics: a team's stack sets its own
    # (datapalooza.naming.TeamNames.metric_namespace), which its alarms and dashboard read.
    metric_namespace: str = constants.METRIC_NAMESPACE

    def __post_init__(self) -> None:
        if self.analyzer not in ANALYZERS:
            raise SettingsError(
                f"analyzer must be one of {', '.join(ANALYZERS)}, not {self.analyzer!r}"
            )
        if self.mode not in MODES:
            raise SettingsError(
                f"{constants.ENV_ANALYZER_MODE} must be one of {', '.join(MODES)}, "
                f"not {self.mode!r}"
            )
        check_range(constants.ENV_MOSAIC_SIZE, self.mosaic_size, 1, REKOGNITION_LIMITS.max_faces)
        check_range(constants.ENV_RESULTS_TTL_DAYS, self.results_ttl_days, 1, 3650)
        check_range("max_crop_bytes", self.max_crop_bytes, 1, REKOGNITION_LIMITS.max_image_bytes)
        check_range("max_attempts", self.max_attempts, 1, 20)
        check_range("local_batch", self.local_batch, 1, 1024)
        check_range("threads", self.threads, 1, 256)
        check_range(constants.ENV_IDEMPOTENCY_TTL_SECONDS, self.idempotency_ttl_s, 60, 30 * 86_400)
        # CloudWatch namespaces: 1-255 characters, not starting with ":"; "AWS/" is AWS's
        # (https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_Metric.html).
        if (
            not 1 <= len(self.metric_namespace) <= METRIC_NAMESPACE_MAX
            or self.metric_namespace.startswith((":", "AWS/"))
            or not self.metric_namespace.isascii()
            or not self.metric_namespace.isprintable()
        ):
            raise SettingsError(
                f"{constants.ENV_METRIC_NAMESPACE}={self.metric_namespace!r}: expected 1-"
                f"{METRIC_NAMESPACE_MAX} printable ASCII characters, not starting with "
                "':' or 'AWS/'"
            )

    @property
    def ttl_seconds(self) -> int:
        return self.results_ttl_days * 86_400

    @classmethod
    def from_env(cls, env: Mapping[str, str], **overrides: Any) -> TrackerSettings:
        """Explicit overrides > environment variables > defaults."""
        readers = {
            "mode": (constants.ENV_ANALYZER_MODE, str),
            "mosaic_size": (constants.ENV_MOSAIC_SIZE, int),
            "results_ttl_days": (constants.ENV_RESULTS_TTL_DAYS, int),
            "faces_bucket": (constants.ENV_FACES_BUCKET, str),
            "results_table": (constants.ENV_RESULTS_TABLE, str),
            "idempotency_table": (constants.ENV_IDEMPOTENCY_TABLE, str),
            "crops_queue_url": (constants.ENV_CROPS_QUEUE_URL, str),
            "idempotency_ttl_s": (constants.ENV_IDEMPOTENCY_TTL_SECONDS, int),
            "metric_namespace": (constants.ENV_METRIC_NAMESPACE, str),
        }
        return cls(**settings_values(env, readers, overrides))

    def require(self, *names: str) -> None:
        """Fail at start with the missing setting's env var name, not on the first event."""
        env_names = {
            "faces_bucket": constants.ENV_FACES_BUCKET,
            "results_table": constants.ENV_RESULTS_TABLE,
            "idempotency_table": constants.ENV_IDEMPOTENCY_TABLE,
        }
        for name in names:
            if not getattr(self, name):
                raise SettingsError(f"{env_names.get(name, name)} is not set")

"""Emotion tracker Lambda: S3 ObjectCreated notifications for face crops (directly, or
through SQS) -> expression scores -> DynamoDB results + CloudWatch metrics (EMF).

Thin on purpose: parse the event, call datapalooza.emotions, return.
"""

from __future__ import annotations

import functools
import os
from typing import Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.logging.utils import copy_config_to_registered_loggers
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from datapalooza.adapters.aws.lambda_events import (
    Requeue,
    handle_s3_event,
    handle_sqs_batch,
    is_sqs_event,
)
from datapalooza.adapters.aws.sqs_requeue import crops_queue_requeue
from datapalooza.constants import (
    ENV_METRIC_NAMESPACE,
    METRIC_NAMESPACE,
    REKOGNITION_THROTTLED_METRIC,
    TRACKER_METRICS_SERVICE,
)
from datapalooza.emotions import CropScorer, TrackerSettings, aws_scorer

logger = Logger(service=TRACKER_METRICS_SERVICE)
# Function-level metrics (cold starts, crops per status); the per-stage emotion metrics
# go through EmfMetricsSink with dimension Stage only. Both in the namespace the stack sets
# (the team's, which its Rekognition-throttle alarm watches).
metrics = Metrics(
    namespace=os.environ.get(ENV_METRIC_NAMESPACE) or METRIC_NAMESPACE,
    service=TRACKER_METRICS_SERVICE,
)
copy_config_to_registered_loggers(source_logger=logger, include={"datapalooza"})


@functools.cache
def scorer() -> CropScorer:
    """Composition root, built on the first event (not at import) and reused while warm."""
    return aws_scorer(TrackerSettings.from_env(os.environ), on_throttled=count_throttled)


@functools.cache
def requeue() -> Requeue | None:
    """Where messages an invocation had no time for go back (the stack's crops queue)."""
    queue_url = scorer().settings.crops_queue_url
    return crops_queue_requeue(queue_url) if queue_url else None


def count_throttled(code: str) -> None:
    """One RekognitionThrottled (dimension service) per throttled DetectFaces answer,
    flushed with this invocation's metrics: the festival alarm on the quota watches it."""
    metrics.add_metric(name=REKOGNITION_THROTTLED_METRIC, unit=MetricUnit.Count, value=1)


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics(capture_cold_start_metric=True)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    if is_sqs_event(event):
        return handle_sqs_batch(
            event, scorer(), context=context, metrics=metrics, requeue=requeue()
        )
    return handle_s3_event(event, scorer(), context=context, metrics=metrics)

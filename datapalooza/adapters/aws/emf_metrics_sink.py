"""MetricsSink on CloudWatch through the Embedded Metric Format (EMF).

In Lambda, a JSON document printed to stdout in EMF becomes CloudWatch metrics with no
API call: no PutMetricData latency, throttling or cost on the hot path.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence

from aws_lambda_powertools.metrics import EphemeralMetrics, MetricUnit

from datapalooza.constants import (
    CROWD_MOOD_METRIC,
    FACES_ANALYZED_METRIC,
    METRIC_NAMESPACE,
    STAGE_DIMENSION,
)
from datapalooza.ports import ScoredFace


class EmfMetricsSink:
    """MetricsSink: per-stage EMF documents on stdout (in ``namespace``: DataPalooza, or
    the team's own, DataPalooza/<team>; dimension Stage).

    For each newly scored face: one value per emotion type it was scored on (metric
    named after the type, unit Percent, the face's confidence), and its valence as
    ``CrowdMood`` (-100..100), so CloudWatch's Average statistic of CrowdMood over a
    period is exactly ``domain.emotions.crowd_mood`` of that period's faces, and the
    Average of HAPPY is the crowd's mean HAPPY confidence. ``FacesAnalyzed`` (Count) is
    the number of faces; read it with the Sum statistic.

    Each stage gets its own document (EMF dimension values are per document); Powertools
    splits a document when a metric reaches EMF's 100 values.
    """

    def __init__(self, *, namespace: str = METRIC_NAMESPACE) -> None:
        self.namespace = namespace

    def record(self, faces: Sequence[ScoredFace]) -> None:
        by_stage: dict[str, list[ScoredFace]] = defaultdict(list)
        for face in faces:
            by_stage[face.stage].append(face)
        for stage, stage_faces in sorted(by_stage.items()):
            metrics = _stage_metrics(self.namespace, stage)
            metrics.add_metric(FACES_ANALYZED_METRIC, MetricUnit.Count, len(stage_faces))
            for face in stage_faces:
                for emotion, confidence in face.scores.scores.items():
                    metrics.add_metric(emotion.value, MetricUnit.Percent, confidence)
                metrics.add_metric(CROWD_MOOD_METRIC, MetricUnit.NoUnit, face.scores.valence)
            metrics.flush_metrics()

    def record_unscored(self, stage: str, reason: str, count: int) -> None:
        metrics = _stage_metrics(self.namespace, stage)
        metrics.add_metric(reason, MetricUnit.Count, count)
        metrics.flush_metrics()


def _stage_metrics(namespace: str, stage: str) -> EphemeralMetrics:
    # service="" keeps Powertools from adding a "service" dimension taken from
    # POWERTOOLS_SERVICE_NAME: the dashboards and alarms query dimension Stage alone.
    metrics = EphemeralMetrics(namespace=namespace, service="")
    metrics.add_dimension(STAGE_DIMENSION, stage)
    return metrics

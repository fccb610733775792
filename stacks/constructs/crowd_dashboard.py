"""The crowd dashboard: per-stage expression metrics on one CloudWatch dashboard."""

from __future__ import annotations

from aws_cdk import Duration
from aws_cdk import aws_cloudwatch as cloudwatch
from constructs import Construct

from datapalooza.constants import (
    CROWD_MOOD_METRIC,
    FACES_ANALYZED_METRIC,
    STAGE_DIMENSION,
)
from datapalooza.domain.emotions import EXPRESSION_CAVEAT, Emotion


def stage_search(
    namespace: str, metric_name: str, statistic: str, period: Duration
) -> cloudwatch.MathExpression:
    """Every stage's series of one metric in ``namespace``: a SEARCH expression, so stages
    added at the festival appear without redeploying the dashboard."""
    return cloudwatch.MathExpression(
        expression=(
            f"SEARCH('{{{namespace},{STAGE_DIMENSION}}} "
            f"MetricName=\"{metric_name}\"', '{statistic}', {int(period.to_seconds())})"
        ),
        using_metrics={},
        label="",
        period=period,
    )


class CrowdDashboard(Construct):
    """A CloudWatch dashboard over the team's ``metric_namespace`` (``DataPalooza`` for
    the default team), one line per ``Stage``: crowd mood, faces analyzed, and the
    average score of each of the eight expression types. It reads only what the emotion
    tracker already emits."""

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        dashboard_name: str,
        metric_namespace: str,
        period: Duration,
    ) -> None:
        super().__init__(scope, id)
        self.dashboard = cloudwatch.Dashboard(
            self,
            "Dashboard",
            dashboard_name=dashboard_name,
            default_interval=Duration.hours(3),
            period_override=cloudwatch.PeriodOverride.AUTO,
        )
        self.dashboard.add_widgets(
            cloudwatch.TextWidget(
                markdown=(
                    "# DataPalooza crowd mood\n"
                    f"{EXPRESSION_CAVEAT} CrowdMood is the confidence-weighted mean "
                    "valence of the scored expressions, from -100 to 100."
                ),
                width=24,
                height=2,
            )
        )
        self.dashboard.add_widgets(
            cloudwatch.GraphWidget(
                title="Crowd mood by stage (-100 to 100)",
                left=[stage_search(metric_namespace, CROWD_MOOD_METRIC, "Average", period)],
                left_y_axis=cloudwatch.YAxisProps(min=-100, max=100),
                width=12,
            ),
            cloudwatch.GraphWidget(
                title="Faces analyzed by stage",
                left=[stage_search(metric_namespace, FACES_ANALYZED_METRIC, "Sum", period)],
                left_y_axis=cloudwatch.YAxisProps(min=0),
                width=12,
            ),
        )
        self.dashboard.add_widgets(
            *(
                cloudwatch.GraphWidget(
                    title=f"{emotion.value} expression score by stage (0-100)",
                    left=[stage_search(metric_namespace, emotion.value, "Average", period)],
                    left_y_axis=cloudwatch.YAxisProps(min=0, max=100),
                    width=6,
                )
                for emotion in Emotion
            )
        )

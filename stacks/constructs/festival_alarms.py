"""The alarms a festival needs, all to one SNS topic (optionally e-mailed)."""

from __future__ import annotations

from aws_cdk import Aws, Duration, RemovalPolicy
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as actions
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sns_subscriptions as subscriptions
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from datapalooza.constants import (
    REKOGNITION_THROTTLED_METRIC,
    TRACKER_METRICS_SERVICE,
)

PERIOD = Duration.minutes(5)
# SageMaker reports ModelLatency in microseconds (Amazon SageMaker AI metrics in Amazon
# CloudWatch: https://docs.aws.amazon.com/sagemaker/latest/dg/monitoring-cloudwatch.html).
MICROSECONDS_PER_MS = 1000
KEY_PENDING_WINDOW = Duration.days(7)


class FestivalAlarms(Construct):
    """Alarms on what breaks a festival, each notifying ``topic``:

    - dead letters waiting (the DLQ's ApproximateNumberOfMessagesVisible > 0): crops
      that failed every retry;
    - tracker errors and throttles (the function's Errors and Throttles > 0);
    - Rekognition throttles (the tracker's own RekognitionThrottled metric > 0, in the
      team's ``metric_namespace``, where its tracker writes it): the DetectFaces quota
      is reached;
    - endpoint 5xx (Invocation5XXErrors > 0) and model latency (average ModelLatency
      above ``model_latency_ms``).

    The topic is encrypted with its own customer managed key, whose policy lets
    CloudWatch alarms of this account use it to publish (an AWS managed key's policy
    cannot be changed to allow that), and refuses requests not sent over TLS.
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        dead_letters: sqs.IQueue,
        tracker: lambda_.IFunction,
        metric_namespace: str,
        endpoint_name: str,
        variant_name: str,
        model_latency_ms: int,
        email: str = "",
    ) -> None:
        super().__init__(scope, id)
        self.key = kms.Key(
            self,
            "TopicKey",
            description="DataPalooza festival alarms topic",
            enable_key_rotation=True,
            removal_policy=RemovalPolicy.DESTROY,
            # `cdk destroy` only schedules a key's deletion; AWS KMS then waits 7-30 days,
            # 30 unless told (https://docs.aws.amazon.com/kms/latest/developerguide/
            # deleting-keys-scheduling-key-deletion.html). The shortest: the key protects
            # alarm messages in flight only, nothing stored needs it afterwards.
            pending_window=KEY_PENDING_WINDOW,
        )
        self.topic = sns.Topic(
            self,
            "Topic",
            display_name="DataPalooza festival alarms",
            master_key=self.key,
            enforce_ssl=True,
        )
        # CloudWatch can publish to a KMS-encrypted topic only if the key lets it
        # ("compatibility between event sources from AWS services and encrypted topics",
        # https://docs.aws.amazon.com/sns/latest/dg/sns-key-management.html). Only on
        # behalf of this account's alarms in this Region (no confused deputy).
        cloudwatch_alarms = iam.PrincipalWithConditions(
            iam.ServicePrincipal("cloudwatch.amazonaws.com"),
            {
                "StringEquals": {"aws:SourceAccount": Aws.ACCOUNT_ID},
                "ArnLike": {
                    "aws:SourceArn": f"arn:{Aws.PARTITION}:cloudwatch:{Aws.REGION}:"
                    f"{Aws.ACCOUNT_ID}:alarm:*"
                },
            },
        )
        self.key.grant(cloudwatch_alarms, "kms:Decrypt", "kms:GenerateDataKey*")
        self.topic.grant_publish(cloudwatch_alarms)
        if email:
            self.topic.add_subscription(subscriptions.EmailSubscription(email))

        endpoint = {"EndpointName": endpoint_name, "VariantName": variant_name}
        metrics: dict[str, cloudwatch.IMetric] = {
            "DeadLettersWaiting": dead_letters.metric_approximate_number_of_messages_visible(
                period=Duration.minutes(1), statistic="Maximum"
            ),
            "TrackerErrors": tracker.metric_errors(period=PERIOD, statistic="Sum"),
            "TrackerThrottles": tracker.metric_throttles(period=PERIOD, statistic="Sum"),
            "RekognitionThrottles": cloudwatch.Metric(
                namespace=metric_namespace,
                metric_name=REKOGNITION_THROTTLED_METRIC,
                dimensions_map={"service": TRACKER_METRICS_SERVICE},
                period=PERIOD,
                statistic="Sum",
            ),
            "Endpoint5xx": cloudwatch.Metric(
                namespace="AWS/SageMaker",
                metric_name="Invocation5XXErrors",
                dimensions_map=endpoint,
                period=PERIOD,
                statistic="Sum",
            ),
        }
        self.alarms = {
            name: self._above(name, metric, threshold=0) for name, metric in metrics.items()
        }
        self.alarms["ModelLatency"] = self._above(
            "ModelLatency",
            cloudwatch.Metric(
                namespace="AWS/SageMaker",
                metric_name="ModelLatency",
                dimensions_map=endpoint,
                period=PERIOD,
                statistic="Average",
            ),
            threshold=model_latency_ms * MICROSECONDS_PER_MS,
        )

    def _above(
        self, name: str, metric: cloudwatch.IMetric, *, threshold: float
    ) -> cloudwatch.Alarm:
        alarm = cloudwatch.Alarm(
            self,
            name,
            metric=metric,
            threshold=threshold,
            comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
            evaluation_periods=1,
            # No data is a quiet festival (or no endpoint yet), not a failure.
            treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
            alarm_description=f"DataPalooza: {name}",
        )
        alarm.add_alarm_action(actions.SnsAction(self.topic))
        return alarm

"""A real festival's load: endpoint autoscaling and serverless inference, the festival
alarms and their topic, the stack tags the workshop commands rely on, and the planner's
figures matching what is deployed."""

from __future__ import annotations

from pathlib import Path

import pytest
from aws_cdk import App, Stack, Validations
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_sqs as sqs
from aws_cdk.assertions import Match, Template
from cdk_nag import AwsSolutionsChecks

from datapalooza import constants
from datapalooza.deployment import DeploymentShape
from datapalooza.naming import team_of_stack
from stacks.constructs.festival_alarms import FestivalAlarms
from stacks.settings import (
    SERVERLESS_MAX_CONCURRENCY,
    SERVERLESS_MEMORY_SIZES_MB,
    AppSettings,
    SettingsError,
)
from tests.infra.conftest import Synth, endpoint_template, resources

# --- the shipped app ------------------------------------------------------------------


def test_every_stack_is_tagged_with_its_team_and_challenge(synth: Synth) -> None:
    stacks = (synth.stacks.endpoint, synth.stacks.emotion_tracker, synth.stacks.edge)
    for stack in stacks:
        tags = stack.tags.tag_values()
        assert tags[constants.TEAM_TAG] == constants.DEFAULT_TEAM
        assert (tags[constants.TEAM_TAG], int(tags[constants.CHALLENGE_TAG])) == team_of_stack(
            stack.stack_name
        )


def test_teardown_order_respects_every_stack_dependency(synth: Synth) -> None:
    # Teardown deletes highest challenge first: a stack must have a higher challenge
    # number than every stack it depends on.
    stacks = (synth.stacks.endpoint, synth.stacks.emotion_tracker, synth.stacks.edge)
    for stack in stacks:
        for dependency in stack.dependencies:
            assert _challenge(stack.stack_name) > _challenge(dependency.stack_name)
    assert synth.stacks.emotion_tracker.dependencies  # the app does declare them


def _challenge(stack_name: str) -> int:
    found = team_of_stack(stack_name)
    assert found is not None, stack_name
    return found[1]


def test_the_planner_prices_what_is_deployed(synth: Synth) -> None:
    # Defaults in one place (datapalooza/deployment.py): the shipped context matches them.
    assert synth.settings.shape() == DeploymentShape()
    function = next(
        f["Properties"]
        for f in resources(synth.tracker.to_json(), "AWS::Lambda::Function").values()
        if "emotion tracker" in f["Properties"].get("Description", "")
    )
    shape = DeploymentShape()
    assert function["MemorySize"] == shape.tracker_memory_mb
    assert function["Architectures"] == [shape.tracker_architecture]
    synth.tracker.has_resource_properties(
        "AWS::Lambda::EventSourceMapping",
        {
            "BatchSize": shape.tracker_batch_size,
            "MaximumBatchingWindowInSeconds": shape.tracker_max_batching_window_s,
        },
    )


def test_shipped_endpoint_has_fixed_instances_and_no_scaling(synth: Synth) -> None:
    synth.endpoint.resource_count_is("AWS::ApplicationAutoScaling::ScalableTarget", 0)
    synth.endpoint.has_resource_properties(
        "AWS::SageMaker::EndpointConfig",
        {"ProductionVariants": [Match.object_like({"InitialInstanceCount": 1})]},
    )


def test_festival_alarms_notify_one_encrypted_tls_only_topic(synth: Synth) -> None:
    template = synth.tracker.to_json()
    topics = resources(template, "AWS::SNS::Topic")
    assert len(topics) == 1
    ((topic_id, topic),) = topics.items()
    assert "KmsMasterKeyId" in topic["Properties"]
    policy = next(iter(resources(template, "AWS::SNS::TopicPolicy").values()))
    assert any(
        s["Effect"] == "Deny" and s["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
        for s in policy["Properties"]["PolicyDocument"]["Statement"]
    )
    # No e-mail unless context gives one.
    assert not resources(template, "AWS::SNS::Subscription")
    alarms = resources(template, "AWS::CloudWatch::Alarm")
    by_metric = {a["Properties"]["MetricName"]: a["Properties"] for a in alarms.values()}
    assert set(by_metric) == {
        "ApproximateNumberOfMessagesVisible",
        "Errors",
        "Throttles",
        constants.REKOGNITION_THROTTLED_METRIC,
        "Invocation5XXErrors",
        "ModelLatency",
    }
    for alarm in alarms.values():
        assert alarm["Properties"]["AlarmActions"] == [{"Ref": topic_id}]
        assert alarm["Properties"]["ComparisonOperator"] == "GreaterThanThreshold"
    rekognition = by_metric[constants.REKOGNITION_THROTTLED_METRIC]
    assert rekognition["Namespace"] == constants.METRIC_NAMESPACE
    assert rekognition["Dimensions"] == [
        {"Name": "service", "Value": constants.TRACKER_METRICS_SERVICE}
    ]
    latency = by_metric["ModelLatency"]
    # microseconds: 500 ms
    assert latency["Threshold"] == synth.settings.alarm_model_latency_ms * 1000
    assert {"Name": "EndpointName", "Value": synth.settings.endpoint_name} in latency["Dimensions"]
    assert by_metric["ApproximateNumberOfMessagesVisible"]["Threshold"] == 0
    # CloudWatch may use the topic's key and publish, for this account's alarms only.
    key_policy = next(iter(resources(template, "AWS::KMS::Key").values()))["Properties"]
    topic_statements = policy["Properties"]["PolicyDocument"]["Statement"]
    for statements in (key_policy["KeyPolicy"]["Statement"], topic_statements):
        (grant,) = [
            s for s in statements if s.get("Principal") == {"Service": "cloudwatch.amazonaws.com"}
        ]
        assert grant["Effect"] == "Allow"
        assert grant["Condition"]["StringEquals"] == {
            "aws:SourceAccount": {"Ref": "AWS::AccountId"}
        }
        assert "aws:SourceArn" in grant["Condition"]["ArnLike"]


def test_alarm_email_subscription_from_context_is_nag_clean() -> None:
    # Queue and function imported: only the construct's own resources are checked.
    app = App()
    stack = Stack(app, "Alarms")
    FestivalAlarms(
        stack,
        "Alarms",
        dead_letters=sqs.Queue.from_queue_arn(
            stack, "Dlq", "arn:aws:sqs:us-east-1:123456789012:dlq"
        ),
        tracker=lambda_.Function.from_function_arn(
            stack, "Fn", "arn:aws:lambda:us-east-1:123456789012:function:tracker"
        ),
        metric_namespace=constants.METRIC_NAMESPACE,
        endpoint_name="e",
        variant_name="AllTraffic",
        model_latency_ms=500,
        email="instructor@example.com",
    )
    Validations.of(app).add_plugins(AwsSolutionsChecks(app))
    app.synth()  # raises on any cdk-nag finding
    template = Template.from_stack(stack)
    template.has_resource_properties(
        "AWS::SNS::Subscription", {"Protocol": "email", "Endpoint": "instructor@example.com"}
    )


# --- scaling and serverless -------------------------------------------------------------


@pytest.fixture(scope="module")
def artifact(model_artifact: Path) -> Path:
    return model_artifact


def test_target_tracking_on_invocations_per_instance_from_context(artifact: Path) -> None:
    template = endpoint_template(
        artifact,
        endpoint_min_instances="2",
        endpoint_max_instances="6",
        endpoint_target_invocations_per_instance="900",
    )
    (target,) = resources(template, "AWS::ApplicationAutoScaling::ScalableTarget").values()
    props = target["Properties"]
    assert (props["MinCapacity"], props["MaxCapacity"]) == (2, 6)
    assert props["ResourceId"] == "endpoint/datapalooza-face-detection/variant/AllTraffic"
    assert props["ScalableDimension"] == "sagemaker:variant:DesiredInstanceCount"
    assert "AWSServiceRoleForApplicationAutoScaling_SageMakerEndpoint" in str(props["RoleARN"])
    assert target["DependsOn"]  # after the endpoint exists
    (policy,) = resources(template, "AWS::ApplicationAutoScaling::ScalingPolicy").values()
    config = policy["Properties"]["TargetTrackingScalingPolicyConfiguration"]
    assert config["PredefinedMetricSpecification"] == {
        "PredefinedMetricType": "SageMakerVariantInvocationsPerInstance"
    }
    assert config["TargetValue"] == 900
    # no IAM role of ours for scaling
    assert not [
        r
        for r in resources(template, "AWS::IAM::Role").values()
        if "application-autoscaling" in str(r)
    ]
    (config_resource,) = resources(template, "AWS::SageMaker::EndpointConfig").values()
    variant = config_resource["Properties"]["ProductionVariants"][0]
    assert variant["InitialInstanceCount"] == 2  # starts at the minimum


def test_serverless_endpoint_from_context(artifact: Path) -> None:
    template = endpoint_template(
        artifact, endpoint_serverless_memory_mb="3072", endpoint_serverless_max_concurrency="20"
    )
    (config,) = resources(template, "AWS::SageMaker::EndpointConfig").values()
    variant = config["Properties"]["ProductionVariants"][0]
    assert variant["ServerlessConfig"] == {"MemorySizeInMB": 3072, "MaxConcurrency": 20}
    assert "InstanceType" not in variant and "InitialInstanceCount" not in variant
    assert not resources(template, "AWS::ApplicationAutoScaling::ScalableTarget")


def test_serverless_limits_match_sagemakers_documented_ones() -> None:
    # https://docs.aws.amazon.com/sagemaker/latest/APIReference/API_ProductionVariantServerlessConfig.html
    assert SERVERLESS_MEMORY_SIZES_MB == (1024, 2048, 3072, 4096, 5120, 6144)
    assert SERVERLESS_MAX_CONCURRENCY == 200


@pytest.mark.parametrize(
    ("context", "key"),
    [
        ({"endpoint_serverless_memory_mb": "1500"}, "endpoint_serverless_memory_mb"),
        ({"endpoint_serverless_memory_mb": "8192"}, "endpoint_serverless_memory_mb"),
        ({"endpoint_serverless_max_concurrency": "201"}, "endpoint_serverless_max_concurrency"),
        ({"endpoint_serverless_max_concurrency": "0"}, "endpoint_serverless_max_concurrency"),
        ({"endpoint_min_instances": "3", "endpoint_max_instances": "2"}, "endpoint_max_instances"),
        (
            {"endpoint_serverless_memory_mb": "2048", "endpoint_max_instances": "4"},
            "endpoint_max_instances",
        ),
        ({"alarm_email": "not-an-address"}, "alarm_email"),
        ({"alarm_model_latency_ms": "0"}, "alarm_model_latency_ms"),
    ],
)
def test_bad_load_settings_are_refused_at_synth_naming_the_key(
    context: dict[str, str], key: str
) -> None:
    with pytest.raises(SettingsError, match=f"context datapalooza:{key}:"):
        AppSettings.from_mapping({f"datapalooza:{k}": v for k, v in context.items()})

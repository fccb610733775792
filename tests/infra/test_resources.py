"""What the stacks build: private short-lived crops, the tracker's wiring, the dashboard,
the endpoint and the Greengrass devices."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

from aws_cdk.assertions import Match

from datapalooza import constants
from datapalooza.adapters.aws.lambda_events import MAX_BODY_BYTES
from datapalooza.domain.emotions import EXPRESSION_CAVEAT, Emotion
from datapalooza.domain.keys import CropKey, SheetKey
from datapalooza.emotions.settings import TrackerSettings
from tests.infra.conftest import Synth, endpoint_template, resources


def test_faces_bucket_is_private_encrypted_short_lived_and_logged(synth: Synth) -> None:
    synth.endpoint.has_resource(
        "AWS::S3::Bucket",
        {
            "DeletionPolicy": "Delete",
            "Properties": Match.object_like(
                {
                    "PublicAccessBlockConfiguration": {
                        "BlockPublicAcls": True,
                        "BlockPublicPolicy": True,
                        "IgnorePublicAcls": True,
                        "RestrictPublicBuckets": True,
                    },
                    "BucketEncryption": Match.any_value(),
                    "LoggingConfiguration": Match.object_like({"LogFilePrefix": "faces-bucket/"}),
                    "LifecycleConfiguration": {
                        "Rules": [
                            Match.object_like(
                                {
                                    "Prefix": constants.FACES_PREFIX,
                                    "ExpirationInDays": synth.settings.faces_expire_days,
                                    "Status": "Enabled",
                                }
                            )
                        ]
                    },
                }
            ),
        },
    )
    assert synth.settings.faces_expire_days == 1  # the shipped default: one day
    template = synth.endpoint.to_json()
    for bucket in resources(template, "AWS::S3::Bucket").values():
        assert "VersioningConfiguration" not in bucket["Properties"]  # no old versions kept
    # Plain HTTP refused on both buckets; objects emptied by `cdk destroy`.
    policies = resources(template, "AWS::S3::BucketPolicy").values()
    assert len(policies) == 2
    for policy in policies:
        statements = policy["Properties"]["PolicyDocument"]["Statement"]
        assert any(
            s["Effect"] == "Deny" and s["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
            for s in statements
        )
    assert len(resources(template, "Custom::S3AutoDeleteObjects")) == 2


def test_tracker_is_fed_by_faces_notifications_through_a_queue_with_dlq(synth: Synth) -> None:
    tracker = synth.tracker
    tracker.has_resource_properties(
        "Custom::S3BucketNotifications",
        {
            "NotificationConfiguration": {
                "QueueConfigurations": [
                    Match.object_like(
                        {
                            "Events": ["s3:ObjectCreated:*"],
                            "Filter": {
                                "Key": {
                                    "FilterRules": Match.array_with(
                                        [{"Name": "prefix", "Value": constants.FACES_PREFIX}]
                                    )
                                }
                            },
                        }
                    )
                ]
            },
            "Managed": False,  # leaves the bucket's other notifications alone
        },
    )
    tracker.has_resource_properties(
        "AWS::Lambda::EventSourceMapping",
        {
            "BatchSize": synth.settings.tracker_batch_size,
            "MaximumBatchingWindowInSeconds": synth.settings.tracker_max_batching_window_s,
            "FunctionResponseTypes": ["ReportBatchItemFailures"],
        },
    )
    tracker.has_resource_properties(
        "AWS::SQS::Queue",
        {
            "RedrivePolicy": Match.object_like(
                {"maxReceiveCount": synth.settings.tracker_max_receive_count}
            ),
            "SqsManagedSseEnabled": True,
        },
    )
    tracker.has_resource_properties(
        "AWS::DynamoDB::GlobalTable",
        {
            "KeySchema": [
                {"AttributeName": "stage", "KeyType": "HASH"},
                {"AttributeName": "sk", "KeyType": "RANGE"},
            ],
            "TimeToLiveSpecification": {"AttributeName": "ttl", "Enabled": True},
        },
    )
    # Powertools' idempotency records (its DynamoDB persistence layer's default schema),
    # expiring as late as a duplicate notification can still wait in the crops queue.
    tracker.has_resource_properties(
        "AWS::DynamoDB::GlobalTable",
        {
            "KeySchema": [{"AttributeName": "id", "KeyType": "HASH"}],
            "BillingMode": "PAY_PER_REQUEST",
            "TimeToLiveSpecification": {"AttributeName": "expiration", "Enabled": True},
        },
    )
    tracker.has_resource_properties(
        "AWS::SQS::Queue",
        {
            "MessageRetentionPeriod": constants.IDEMPOTENCY_TTL_S,
            "RedrivePolicy": Match.any_value(),
        },
    )
    # The tracker refuses longer bodies unread: the queues keep SQS's default maximum
    # message size, and the function knows its queue to send back what it had no time for.
    for queue in tracker.find_resources("AWS::SQS::Queue").values():
        assert "MaximumMessageSize" not in queue["Properties"]
    assert MAX_BODY_BYTES == 262_144  # MaximumMessageSize's default (API_SendMessage)
    (function,) = (
        f
        for f in tracker.find_resources("AWS::Lambda::Function").values()
        if constants.ENV_RESULTS_TABLE
        in f["Properties"].get("Environment", {}).get("Variables", {})
    )
    queue_url = function["Properties"]["Environment"]["Variables"][constants.ENV_CROPS_QUEUE_URL]
    assert queue_url["Ref"].startswith("TrackerCrops")


def test_no_table_keeps_backups_past_its_ttl(synth: Synth) -> None:
    """Point-in-time recovery would keep scores and outcome records restorable for 35
    days; the results' TTL is the week the local festival keeps them too."""
    tables = synth.tracker.find_resources("AWS::DynamoDB::GlobalTable")
    assert len(tables) == 2
    for table in tables.values():
        for replica in table["Properties"]["Replicas"]:
            pitr = replica.get("PointInTimeRecoverySpecification", {})
            assert pitr.get("PointInTimeRecoveryEnabled") is not True
    assert synth.settings.results_ttl_days == TrackerSettings(analyzer="local").results_ttl_days


def test_tracker_function_follows_the_house_style(synth: Synth) -> None:
    synth.tracker.has_resource_properties(
        "AWS::Lambda::Function",
        {
            "Handler": "handler.handler",
            "Runtime": "python3.13",
            "Architectures": ["arm64"],
            "TracingConfig": {"Mode": "Active"},
            "LoggingConfig": Match.object_like({"LogFormat": "JSON"}),
            "Environment": {
                "Variables": Match.object_like(
                    {
                        constants.ENV_RESULTS_TABLE: Match.any_value(),
                        constants.ENV_IDEMPOTENCY_TABLE: Match.any_value(),
                        constants.ENV_IDEMPOTENCY_TTL_SECONDS: str(constants.IDEMPOTENCY_TTL_S),
                        constants.ENV_FACES_BUCKET: Match.any_value(),
                        constants.ENV_ANALYZER_MODE: synth.settings.tracker_analyzer_mode,
                        constants.ENV_RESULTS_TTL_DAYS: str(synth.settings.results_ttl_days),
                    }
                )
            },
        },
    )
    synth.tracker.has_resource_properties("AWS::Logs::LogGroup", {"RetentionInDays": 7})


def test_dashboard_shows_every_expression_mood_and_count_per_stage_with_caveat(
    synth: Synth,
) -> None:
    (dashboard,) = resources(synth.tracker.to_json(), "AWS::CloudWatch::Dashboard").values()
    body = json.dumps(dashboard["Properties"]["DashboardBody"])
    for metric in [*(e.value for e in Emotion), "FacesAnalyzed", "CrowdMood"]:
        assert f'MetricName=\\\\\\"{metric}\\\\\\"' in body, metric
    assert f"{{{constants.METRIC_NAMESPACE},{constants.STAGE_DIMENSION}}}" in body
    assert EXPRESSION_CAVEAT.split(":")[0] in body


def test_endpoint_serves_the_artifact_in_the_pytorch_container(synth: Synth) -> None:
    template = synth.endpoint.to_json()
    (model,) = resources(template, "AWS::SageMaker::Model").values()
    container = model["Properties"]["PrimaryContainer"]
    assert container["Environment"]["SAGEMAKER_PROGRAM"] == "inference.py"
    assert constants.ENV_FACES_BUCKET in container["Environment"]
    rows = template["Mappings"]["InferenceImage"]
    assert rows["eu-west-1"]["uri"] == (
        "763104351884.dkr.ecr.eu-west-1.amazonaws.com/pytorch-inference:2.6-cpu-py312"
    )
    synth.endpoint.has_resource_properties(
        "AWS::SageMaker::Endpoint", {"EndpointName": synth.settings.endpoint_name}
    )
    synth.endpoint.has_resource_properties(
        "AWS::SageMaker::EndpointConfig",
        {
            "ProductionVariants": [
                Match.object_like({"InstanceType": synth.settings.endpoint_instance_type})
            ]
        },
    )


def test_devices_run_their_program_as_a_pinned_component_and_publish_only_their_topic(
    synth: Synth,
) -> None:
    for template, topic in (
        (synth.tracker, constants.DETECTIONS_TOPIC.format(stage=synth.settings.camera_stage)),
        (synth.edge, constants.EDGE_STATS_TOPIC.format(stage=synth.settings.edge_stage)),
    ):
        template.has_resource_properties(
            "AWS::GreengrassV2::ComponentVersion",
            {
                "LambdaFunction": Match.object_like(
                    {
                        "ComponentLambdaParameters": Match.object_like(
                            {
                                "Pinned": True,
                                "LinuxProcessParams": {"IsolationMode": "NoContainer"},
                            }
                        ),
                        "ComponentPlatforms": [
                            Match.object_like(
                                {"Attributes": {"os": "linux", "architecture": "aarch64"}}
                            )
                        ],
                    }
                )
            },
        )
        raw = template.to_json()
        (deployment,) = resources(raw, "AWS::GreengrassV2::Deployment").values()
        router = deployment["Properties"]["Components"]["aws.greengrass.LegacySubscriptionRouter"]
        merge = json.loads(router["ConfigurationUpdate"]["Merge"])
        assert [s["subject"] for s in merge["subscriptions"].values()] == [topic]
        (policy,) = (
            p
            for p in resources(raw, "AWS::IoT::Policy").values()
            if p["Properties"]["PolicyName"].endswith("-greengrass")
        )
        publish_only = [
            s
            for s in policy["Properties"]["PolicyDocument"]["Statement"]
            if s["Action"] == "iot:Publish"
        ]
        assert (
            len(publish_only) == 1 and json.dumps(publish_only[0]["Resource"]).count("topic/") == 1
        )
        assert f"topic/{topic}" in json.dumps(publish_only[0]["Resource"])


def test_the_endpoint_serves_the_stages_listed_and_by_default_any(tmp_path: Path) -> None:
    artifact = tmp_path / "model.tar.gz"
    artifact.write_bytes(b"only the template is read here")

    def stages(**context: str) -> str:
        (model,) = resources(
            endpoint_template(artifact, **context), "AWS::SageMaker::Model"
        ).values()
        return str(model["Properties"]["PrimaryContainer"]["Environment"][constants.ENV_STAGES])

    assert stages() == ""  # any stage: Challenge 2 may name another camera_stage
    assert stages(endpoint_stages=" main, dance ,main") == "dance,main"


def test_the_endpoint_keeps_its_network_by_default_because_it_writes_crops(synth: Synth) -> None:
    # SageMaker's network isolation takes away the container's S3 access and credentials.
    assert synth.settings.endpoint_network_isolation is False
    (model,) = resources(synth.endpoint.to_json(), "AWS::SageMaker::Model").values()
    assert model["Properties"]["EnableNetworkIsolation"] is False
    assert constants.ENV_FACES_BUCKET in model["Properties"]["PrimaryContainer"]["Environment"]


def test_network_isolation_is_a_context_option_that_serves_detections_only(
    tmp_path: Path,
) -> None:
    artifact = tmp_path / "model.tar.gz"
    artifact.write_bytes(b"only the template is read here")
    template = endpoint_template(artifact, endpoint_network_isolation="true")

    (model,) = resources(template, "AWS::SageMaker::Model").values()
    assert model["Properties"]["EnableNetworkIsolation"] is True
    # No bucket to name and no grant to write to it: an isolated container has neither
    # network nor credentials, so it answers detections without storing crops.
    assert constants.ENV_FACES_BUCKET not in model["Properties"]["PrimaryContainer"]["Environment"]
    actions = json.dumps(resources(template, "AWS::IAM::Policy"))
    assert "s3:PutObject" not in actions


def test_endpoint_log_group_is_the_stacks_with_retention_and_goes_with_it(synth: Synth) -> None:
    template = synth.endpoint.to_json()
    name = f"/aws/sagemaker/Endpoints/{synth.settings.endpoint_name}"
    (logical_id, group), *others = [
        (k, v)
        for k, v in resources(template, "AWS::Logs::LogGroup").items()
        if v["Properties"].get("LogGroupName") == name
    ]
    assert others == []
    assert group["Properties"]["RetentionInDays"] == synth.settings.log_retention_days
    assert group["DeletionPolicy"] == "Delete" and group["UpdateReplacePolicy"] == "Delete"
    # SageMaker would create a never-expiring group itself if the endpoint came first.
    (endpoint,) = resources(template, "AWS::SageMaker::Endpoint").values()
    assert logical_id in endpoint["DependsOn"]


def test_every_function_logs_to_a_log_group_its_stack_keeps_briefly_and_deletes(
    synth: Synth,
) -> None:
    """A function without LoggingConfig gets /aws/lambda/<name> from Lambda on its first
    run, outside CloudFormation and never expiring: CDK's bucket auto-delete provider and
    bucket notifications handler did, and `cdk destroy` left both groups behind."""
    checked = 0
    for name, template in synth.all_templates().items():
        groups = resources(template, "AWS::Logs::LogGroup")
        for logical_id, function in resources(template, "AWS::Lambda::Function").items():
            target = function["Properties"].get("LoggingConfig", {}).get("LogGroup")
            assert isinstance(target, dict) and target.get("Ref") in groups, (name, logical_id)
            group = groups[target["Ref"]]
            assert group["Properties"]["RetentionInDays"] == synth.settings.log_retention_days
            assert group["DeletionPolicy"] == "Delete", (name, logical_id)
            checked += 1
    # tracker, 2 programs, 2 teardown functions, and CDK's 2 handlers
    assert checked == 7


def test_alarm_topic_key_is_deleted_a_week_after_destroy_not_a_month(synth: Synth) -> None:
    """CloudFormation deletes a KMS key by scheduling it; AWS KMS waits 30 days unless
    the key asks for less (7 is the least)."""
    (key,) = resources(synth.tracker.to_json(), "AWS::KMS::Key").values()
    assert key["DeletionPolicy"] == "Delete"
    assert key["Properties"]["PendingWindowInDays"] == 7


def test_crops_and_edge_crop_sheets_both_reach_the_tracker(synth: Synth) -> None:
    """S3 announces an object only if its key passes every filter rule: a crop sheet's
    key (``.sheet.jpg``) must pass them as a crop's does."""
    (notifications,) = resources(synth.tracker.to_json(), "Custom::S3BucketNotifications").values()
    (queue,) = notifications["Properties"]["NotificationConfiguration"]["QueueConfigurations"]
    rules = {r["Name"]: r["Value"] for r in queue["Filter"]["Key"]["FilterRules"]}
    moment = datetime(2026, 7, 18, 21, 30, tzinfo=UTC)
    for key in (str(CropKey("main", moment, "f1", 3)), str(SheetKey("main", moment, "f1", 0))):
        assert key.startswith(rules["prefix"]) and key.endswith(rules.get("suffix", ""))

"""Challenge 2: the camera feeds the endpoint; crops become scores, results, a dashboard."""

from __future__ import annotations

from typing import Unpack

from aws_cdk import CfnOutput, Duration
from aws_cdk import aws_iam as iam
from aws_cdk import aws_s3 as s3
from constructs import Construct

from datapalooza import constants, deployment
from stacks.build.bundling import PythonBundle
from stacks.build.python_function import FunctionSpec
from stacks.build.requirements import REPO_ROOT, pinned
from stacks.challenges.challenge_stack import ChallengeArgs, ChallengeStack
from stacks.constructs.crowd_dashboard import CrowdDashboard
from stacks.constructs.detection_endpoint import DetectionEndpoint
from stacks.constructs.device_program import CAMERA, DeviceProgram
from stacks.constructs.emotion_tracker import EmotionTracker
from stacks.constructs.faces_bucket import grant_read_crops
from stacks.constructs.festival_alarms import FestivalAlarms
from stacks.constructs.virtual_device import device_source

TRACKER_HANDLER_DIR = REPO_ROOT / "lambdas" / "emotion_tracker"
TRACKER_PACKAGES = ("aws-lambda-powertools", "numpy", "pillow", "platformdirs")
"""What the tracker's bundle installs; boto3 comes with the Lambda Python runtime."""


class EmotionTrackerStack(ChallengeStack):
    """``DataPalooza-Challenge2-EmotionTracker``: the emotion tracker (S3 -> SQS ->
    Lambda -> Rekognition -> DynamoDB + metrics), the crowd dashboard, and the
    Greengrass camera that sends frames to Challenge 1's endpoint."""

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        endpoint: DetectionEndpoint,
        **kwargs: Unpack[ChallengeArgs],
    ) -> None:
        super().__init__(scope, id, **kwargs)
        settings, names = self.settings, self.names
        faces_bucket_name = names.faces_bucket  # Challenge 1's bucket, this team's
        log_retention = settings.log_retention
        # Challenge 1's bucket, imported by name (not passed as a construct) so the
        # S3 -> SQS notification is created here: Challenge 1 does not depend on this
        # stack, and destroying this stack removes only its own notification.
        faces_bucket = s3.Bucket.from_bucket_name(self, "FacesBucket", faces_bucket_name)

        self.tracker = EmotionTracker(
            self,
            "Tracker",
            faces_bucket=faces_bucket,
            function_spec=FunctionSpec(
                bundle=PythonBundle(
                    handler_dir=TRACKER_HANDLER_DIR,
                    requirements=pinned(*TRACKER_PACKAGES),
                ),
                handler="handler.handler",
                description="DataPalooza emotion tracker: face crops -> expression scores",
                service_name="datapalooza-emotion-tracker",
                environment={
                    constants.ENV_FACES_BUCKET: faces_bucket_name,
                    constants.ENV_ANALYZER_MODE: settings.tracker_analyzer_mode,
                    constants.ENV_MOSAIC_SIZE: str(settings.tracker_mosaic_size),
                    constants.ENV_RESULTS_TTL_DAYS: str(settings.results_ttl_days),
                    constants.ENV_METRIC_NAMESPACE: names.metric_namespace,
                },
                timeout=Duration.seconds(deployment.TRACKER_TIMEOUT_S),
                memory_size=deployment.TRACKER_MEMORY_MB,
                log_retention=log_retention,
            ),
            batch_size=settings.tracker_batch_size,
            max_batching_window=Duration.seconds(settings.tracker_max_batching_window_s),
            max_receive_count=settings.tracker_max_receive_count,
        )
        tracker_role = self.tracker.function.role
        assert tracker_role is not None  # the factory always gives it a role

        # Who may do what. The tracker reads crops, asks Rekognition about them and
        # writes one item per face; its metrics leave through its logs (EMF).
        grant_read_crops(faces_bucket_name, tracker_role)
        tracker_role.add_to_principal_policy(
            iam.PolicyStatement(
                sid="ScoreExpressions",
                # Rekognition has no resource-level permission for DetectFaces.
                actions=["rekognition:DetectFaces"],
                resources=["*"],
            )
        )
        iam.Grant.add_to_principal(
            grantee=tracker_role,
            actions=["dynamodb:PutItem"],
            resource_arns=[self.tracker.table.table_arn],
        )
        # Powertools' idempotency records: claim (Put), read (Get), settle (Update),
        # release (Delete). Not table.grant_read_write_data: no Scan, Query or Batch*.
        iam.Grant.add_to_principal(
            grantee=tracker_role,
            actions=[
                "dynamodb:GetItem",
                "dynamodb:PutItem",
                "dynamodb:UpdateItem",
                "dynamodb:DeleteItem",
            ],
            resource_arns=[self.tracker.idempotency.table_arn],
        )
        # Sending back the messages an invocation had no time for, as new messages
        # (datapalooza/adapters/aws/sqs_requeue.py): SendMessage also allows
        # SendMessageBatch (docs.aws.amazon.com/AWSSimpleQueueService/latest/
        # SQSDeveloperGuide/sqs-batch-api.html). Not queue.grant_send_messages, which adds
        # GetQueueAttributes and GetQueueUrl the event source already has.
        iam.Grant.add_to_principal(
            grantee=tracker_role,
            actions=["sqs:SendMessage"],
            resource_arns=[self.tracker.queue.queue_arn],
        )

        self.dashboard = CrowdDashboard(
            self,
            "Crowd",
            dashboard_name=names.dashboard,
            metric_namespace=names.metric_namespace,
            period=Duration.minutes(1),
        )

        self.camera = DeviceProgram(
            self,
            "Camera",
            program=CAMERA,
            names=names.camera,
            stage=settings.camera_stage,
            environment={
                constants.ENV_ENDPOINT_NAME: names.endpoint,
                constants.ENV_STAGE: settings.camera_stage,
                constants.ENV_CAMERA: settings.camera_name,
                constants.ENV_SOURCE: device_source(
                    settings.camera_source, virtual=settings.virtual_device
                ),
                constants.ENV_INTERVAL_SECONDS: f"{settings.camera_interval_s:g}",
                **names.device_env(names.camera),
            },
            architecture=settings.device_architecture,
            python_version=settings.device_python,
            log_retention=log_retention,
        )
        # The camera may send frames to the endpoint: nothing else.
        endpoint.grant_invoke(self.camera.core.role)
        self.virtual_device = self.add_virtual_twin(
            "VirtualCamera", device=self.camera, stage=settings.camera_stage
        )

        self.alarms = FestivalAlarms(
            self,
            "Alarms",
            dead_letters=self.tracker.dead_letters,
            tracker=self.tracker.function,
            metric_namespace=names.metric_namespace,
            endpoint_name=names.endpoint,
            variant_name=endpoint.variant_name,
            model_latency_ms=settings.alarm_model_latency_ms,
            email=settings.alarm_email,
        )

        CfnOutput(self, "AlarmTopicArn", value=self.alarms.topic.topic_arn)
        CfnOutput(self, "ResultsTableName", value=self.tracker.table.table_name)
        CfnOutput(self, "IdempotencyTableName", value=self.tracker.idempotency.table_name)
        CfnOutput(self, "CropsQueueUrl", value=self.tracker.queue.queue_url)
        CfnOutput(self, "DeadLetterQueueUrl", value=self.tracker.dead_letters.queue_url)
        CfnOutput(self, "CameraThingName", value=self.camera.core.thing_name)
        CfnOutput(self, "CameraRoleAlias", value=self.camera.core.role_alias.role_alias or "")
        CfnOutput(self, "CameraIotPolicy", value=self.camera.core.policy_name)
        CfnOutput(self, "CameraTokenExchangeRole", value=self.camera.core.role.role_name)

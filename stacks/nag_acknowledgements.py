"""Every cdk-nag finding we accept, in one place, each with the reason a reviewer needs.

Anything not listed here fails synthesis. Each acknowledgement names the one construct
and the exact finding (``AwsSolutions-IAM5[Resource::...]``), never a whole rule on a
whole stack.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from aws_cdk import Acknowledgment, Stack, Validations
from constructs import IConstruct

from datapalooza.constants import FACES_PREFIX
from datapalooza.naming import TeamNames

if TYPE_CHECKING:
    from stacks.app_builder import FestivalStacks
    from stacks.constructs.virtual_device import VirtualCoreDevice


def faces_crops(team: str, stage: str | None = None) -> str:
    """The finding for a grant on the team's faces bucket's crops (``faces/*``), or on
    one stage's crops only (``faces/<stage>/*``)."""
    bucket = TeamNames(team).faces_bucket("<AWS::AccountId>", "<AWS::Region>")
    prefix = FACES_PREFIX if stage is None else f"{FACES_PREFIX}{stage}/"
    return f"AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:s3:::{bucket}/{prefix}*]"


ANY_RESOURCE = "AwsSolutions-IAM5[Resource::*]"
LATEST_RUNTIME = "AwsSolutions-L1"

_CROPS_REASON = (
    "Scoped to the faces/ prefix of the one faces bucket: crop keys are created per "
    "frame (faces/{stage}/{date}/{hour}/...), so no finite list of objects exists."
)


PLUGIN = "AwsSolutions"


def _ack(scope: IConstruct, rule: str, reason: str) -> None:
    # "<plugin>::<finding>" is how CDK's Validations address a plugin's finding.
    Validations.of(scope).acknowledge(Acknowledgment(id=f"{PLUGIN}::{rule}", reason=reason))


def acknowledge_findings(stacks: FestivalStacks, *, team: str) -> None:
    """Record the accepted findings on the constructs they concern."""
    crops = faces_crops(team)
    endpoint = stacks.endpoint.endpoint
    _ack(endpoint.role, crops, _CROPS_REASON)
    _ack(
        endpoint.role,
        ANY_RESOURCE,
        "ecr:GetAuthorizationToken has no resource-level permissions (ECR login); image "
        "pulls themselves are limited to the one inference image repository.",
    )
    _ack(
        endpoint.role,
        "AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:logs:<AWS::Region>:"
        f"<AWS::AccountId>:log-group:/aws/sagemaker/Endpoints/{endpoint.endpoint_name}"
        ":log-stream:*]",
        "SageMaker names one log stream per instance and variant at run time; the "
        "wildcard is confined to this endpoint's own log group.",
    )

    tracker = stacks.emotion_tracker.tracker
    assert tracker.function.role is not None
    _ack(tracker.function.role, crops, _CROPS_REASON)
    _ack(
        tracker.function.role,
        ANY_RESOURCE,
        "rekognition:DetectFaces and X-Ray's PutTraceSegments/PutTelemetryRecords support "
        "no resource-level permissions; the role has no other '*' resource.",
    )
    _ack(
        tracker.function,
        LATEST_RUNTIME,
        "python3.13 is a supported Lambda runtime; the runtime package and its pinned "
        "wheels are tested on CPython 3.11-3.13, so we move to 3.14 once CI covers it.",
    )

    for device in (stacks.emotion_tracker.camera, stacks.edge.edge):
        teardown = device.teardown.function
        _ack(
            teardown,
            LATEST_RUNTIME,
            "python3.13 is a supported Lambda runtime; this handler runs once at stack "
            "delete and uses only boto3 and the standard library.",
        )
        assert teardown.role is not None
        _ack(
            teardown.role,
            "AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:iot:<AWS::Region>:"
            "<AWS::AccountId>:cert/*]",
            "The device certificate is created by the Greengrass installer on the device "
            "after deployment, so its id is unknown to the template; the handler only "
            "deactivates and deletes the certificates attached to its own thing.",
        )
        _ack(
            device.function,
            LATEST_RUNTIME,
            "This function runs on the Greengrass core device with the device's own "
            "Python (setting device_python), never in Lambda: the runtime must match the "
            "interpreter installed on the device, not Lambda's newest.",
        )
    _ack(stacks.edge.edge.core.role, faces_crops(team, stacks.edge.edge.stage), _CROPS_REASON)

    for virtual in (stacks.emotion_tracker.virtual_device, stacks.edge.virtual_device):
        if virtual is not None:
            _acknowledge_virtual_device(virtual)

    notifications_role = _bucket_notifications_role(stacks.emotion_tracker)
    _ack(
        notifications_role,
        "AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/"
        "AWSLambdaBasicExecutionRole]",
        "CDK's own deploy-time handler that adds the faces/ notification to the "
        "Challenge 1 bucket; the managed policy only lets it write its logs.",
    )


def _acknowledge_virtual_device(virtual: VirtualCoreDevice) -> None:
    _ack(
        virtual.role,
        ANY_RESOURCE,
        "Session Manager's agent actions (ssm:UpdateInstanceInformation, ssmmessages:*"
        "Channel) have no resource-level permissions; AWS's own Session Manager instance "
        "policy grants them on '*'. Footage and certificate reads name their one object.",
    )
    _ack(
        virtual.instance,
        "AwsSolutions-EC28",
        "A workshop device for a day: basic 5-minute metrics are free and enough; "
        "detailed monitoring would bill for metrics no one reads.",
    )
    _ack(
        virtual.instance,
        "AwsSolutions-EC29",
        "`cdk destroy` must remove the virtual device with its stack; termination "
        "protection would make the instructor's teardown fail.",
    )
    _ack(
        virtual.secret,
        "AwsSolutions-SMG4",
        "Holds a device certificate and key, which Secrets Manager cannot rotate; a new "
        "certificate comes from replacing the stack's certificate resource.",
    )
    function = virtual.certificate_function
    assert function.role is not None
    _ack(
        function.role,
        ANY_RESOURCE,
        "iot:CreateKeysAndCertificate and iot:DescribeEndpoint have no resource-level "
        "permissions (the certificate does not exist yet; endpoints are per account).",
    )
    _ack(
        function.role,
        "AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:iot:<AWS::Region>:"
        "<AWS::AccountId>:cert/*]",
        "The certificate id is made by AWS IoT at run time, so it cannot be named in "
        "advance; the function only touches the certificate it made (its physical id).",
    )
    _ack(
        function,
        LATEST_RUNTIME,
        "python3.13 is the house runtime of every cloud function (stacks/python_function.py); "
        "this one runs boto3 from the runtime only, for a few calls per deploy.",
    )


def _bucket_notifications_role(stack: Stack) -> IConstruct:
    for child in stack.node.children:
        if child.node.id.startswith("BucketNotificationsHandler"):
            return child.node.find_child("Role")
    raise LookupError(f"{stack.stack_name} has no S3 bucket notifications handler")

"""What every Greengrass v2 core device needs from AWS: an IoT thing, the IoT policy its
certificate carries, and the token exchange role (behind an IoT role alias) whose
temporary credentials its components use for AWS calls."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from aws_cdk import Aws
from aws_cdk import aws_iam as iam
from aws_cdk import aws_iot as iot
from constructs import Construct

from stacks.names import DeviceNames

AWS_COMPONENTS = "aws.greengrass.*"
"""The public components AWS publishes, every one named aws.greengrass.<Name>."""


class GreengrassCore(Construct):
    """A Greengrass v2 core device's cloud identity, with nothing granted beyond running
    Greengrass itself, fetching ``component_names``' artifacts and publishing on
    ``publish_topics``.

    The IoT policy is AWS's minimal policy for core devices (connect as its own thing,
    its own shadow and jobs topics, fetch its deployments, exchange its certificate for
    the role alias's credentials), narrowed: it connects with its own client ids only
    and fetches the artifacts of this app's components only; plus the device's own MQTT
    topics. The token exchange ``role`` starts empty: the stack grants each
    device what its component calls (the camera: invoke the endpoint; the edge
    device: write face crops).

    The device's X.509 certificate is created when the Greengrass installer
    provisions the device, outside CloudFormation; CoreDeviceTeardown removes it on
    ``cdk destroy`` (docs/teardown.md).
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        names: DeviceNames,
        publish_topics: Sequence[str],
        component_names: Sequence[str],
    ) -> None:
        super().__init__(scope, id)
        thing_name = names.thing
        self.thing_name = thing_name
        self.thing = iot.CfnThing(self, "Thing", thing_name=thing_name)
        self.thing_arn = iot_arn(f"thing/{thing_name}")

        self.role = iam.Role(
            self,
            "TokenExchangeRole",
            # Named, not left to CloudFormation: the deployer's permissions for the
            # Greengrass installer name it (datapalooza.naming.token_exchange_role). The
            # stack already held a named IAM resource (the installer's placeholder policy
            # below), so it needs no new capability: `cdk deploy` passes
            # CAPABILITY_NAMED_IAM itself (github.com/aws/aws-cdk/issues/286).
            role_name=names.token_exchange_role,
            assumed_by=iam.ServicePrincipal("credentials.iot.amazonaws.com"),
            description=f"Greengrass token exchange role of {thing_name}: only what the "
            "stack grants its components",
        )
        self.role_alias = iot.CfnRoleAlias(
            self,
            "RoleAlias",
            role_alias=names.role_alias,
            role_arn=self.role.role_arn,
            credential_duration_seconds=3600,
        )
        role_alias_arn = iot_arn(f"rolealias/{names.role_alias}")
        self._adopt_installer_policies(
            role_alias_arn, names.installer_iot_policy, names.token_exchange_role
        )
        own = f"$aws/things/{thing_name}"
        self.policy_name = names.iot_policy
        self.policy = iot.CfnPolicy(
            self,
            "Policy",
            policy_name=self.policy_name,
            policy_document=_iot_policy(
                [
                    {
                        # The nucleus names its first MQTT connection after the thing and
                        # any further one "<thing>#<n>" (MqttClient.getNewMqttClient in
                        # github.com/aws-greengrass/aws-greengrass-nucleus). No bare
                        # trailing wildcard: "cam-1*" would also let cam-10 connect as it.
                        "Effect": "Allow",
                        "Action": "iot:Connect",
                        "Resource": [
                            iot_arn(f"client/{thing_name}"),
                            iot_arn(f"client/{thing_name}#*"),
                        ],
                    },
                    {
                        "Effect": "Allow",
                        "Action": ["iot:Publish", "iot:Receive"],
                        "Resource": [
                            iot_arn(f"topic/{own}/greengrassv2/health/json"),
                            iot_arn(f"topic/{own}/greengrass/health/json"),
                            iot_arn(f"topic/{own}/jobs/*"),
                            iot_arn(f"topic/{own}/shadow/*"),
                        ],
                    },
                    {
                        "Effect": "Allow",
                        "Action": "iot:Subscribe",
                        "Resource": [
                            iot_arn(f"topicfilter/{own}/jobs/*"),
                            iot_arn(f"topicfilter/{own}/shadow/*"),
                        ],
                    },
                    {
                        "Effect": "Allow",
                        "Action": "iot:Publish",
                        "Resource": [iot_arn(f"topic/{topic}") for topic in publish_topics],
                    },
                    _exchange_certificate_for(role_alias_arn),
                    {
                        "Effect": "Allow",
                        # This app's components, and AWS's public ones that a Lambda
                        # component brings (Lambda launcher, manager and runtimes, the
                        # subscription router): the nucleus asks for each artifact with
                        # its component version's ARN, whose account is "aws" for a
                        # public component (docs.aws.amazon.com/greengrass/v2/
                        # APIReference/API_GetComponentVersionArtifact.html). Not every
                        # component of this account.
                        "Action": "greengrass:GetComponentVersionArtifact",
                        "Resource": [
                            *(
                                _greengrass_arn(f"components:{name}:versions:*")
                                for name in component_names
                            ),
                            _greengrass_arn(
                                f"components:{AWS_COMPONENTS}:versions:*", account="aws"
                            ),
                        ],
                    },
                    {
                        "Effect": "Allow",
                        "Action": "greengrass:GetDeploymentConfiguration",
                        "Resource": _greengrass_arn("deployments:*"),
                    },
                    {
                        "Effect": "Allow",
                        "Action": "greengrass:ListThingGroupsForCoreDevice",
                        "Resource": _greengrass_arn(f"coreDevices:{thing_name}"),
                    },
                    {
                        # Greengrass offers no resource-level permission for this action.
                        "Effect": "Allow",
                        "Action": "greengrass:ResolveComponentCandidates",
                        "Resource": "*",
                    },
                ]
            ),
        )

    def grant_delete_record(self, role: iam.IRole) -> None:
        """Let ``role`` delete this device's Greengrass core device record (which
        Greengrass keeps once the device connects, outside CloudFormation)."""
        role.add_to_principal_policy(
            iam.PolicyStatement(
                sid="DeleteTheCoreDeviceRecord",
                actions=["greengrass:DeleteCoreDevice"],
                resources=[_greengrass_arn(f"coreDevices:{self.thing_name}")],
            )
        )

    def _adopt_installer_policies(
        self, role_alias_arn: str, iot_policy_name: str, role_name: str
    ) -> None:
        """Make the stack own what the installer would otherwise create.

        With ``--provision true`` the Greengrass installer creates, unless they already
        exist, an IAM policy ``<token exchange role name>Access`` (logs and
        s3:GetBucketLocation on ``*``) that it attaches to the token exchange role, and an
        IoT policy ``GreengrassTESCertificatePolicy<role alias>`` that it attaches to the
        device certificate (DeviceProvisioningHelper in
        github.com/aws-greengrass/aws-greengrass-nucleus). Created here first, the
        installer finds both: the role keeps only what the stack grants (an existing
        IAM policy is not attached), and ``cdk destroy`` deletes both instead of leaving
        them in the account. ``iot_policy_name`` is the installer's name for its IoT
        policy (datapalooza.naming.installer_iot_policy; its length is checked there).
        """
        self.installer_iot_policy_name = iot_policy_name
        self.installer_iot_policy = iot.CfnPolicy(
            self,
            "InstallerTesPolicy",
            policy_name=self.installer_iot_policy_name,
            # What the installer would write: exchange the certificate for this alias only.
            policy_document=_iot_policy([_exchange_certificate_for(role_alias_arn)]),
        )
        self.installer_role_policy = iam.ManagedPolicy(
            self,
            "InstallerRolePolicyPlaceholder",
            managed_policy_name=f"{role_name}Access",
            description="Placeholder the Greengrass installer finds instead of creating its "
            "own broad policy; attached to nothing, and it allows nothing",
            statements=[
                # A policy needs one statement; this one could only ever take away.
                iam.PolicyStatement(
                    effect=iam.Effect.DENY,
                    actions=["iam:PassRole"],
                    resources=[self.role.role_arn],
                )
            ],
        )


def _iot_policy(statements: list[dict[str, Any]]) -> dict[str, Any]:
    return {"Version": "2012-10-17", "Statement": statements}


def _exchange_certificate_for(role_alias_arn: str) -> dict[str, Any]:
    """The statement that lets a certificate get the credentials of this role alias only."""
    return {
        "Effect": "Allow",
        "Action": "iot:AssumeRoleWithCertificate",
        "Resource": role_alias_arn,
    }


def iot_arn(resource: str) -> str:
    """The ARN of an IoT ``resource`` (``thing/<name>``, ``cert/*``) in this account and
    Region."""
    return f"arn:{Aws.PARTITION}:iot:{Aws.REGION}:{Aws.ACCOUNT_ID}:{resource}"


def _greengrass_arn(resource: str, *, account: str = Aws.ACCOUNT_ID) -> str:
    return f"arn:{Aws.PARTITION}:greengrass:{Aws.REGION}:{account}:{resource}"

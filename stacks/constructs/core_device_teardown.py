"""Removes, on ``cdk destroy``, what the Greengrass installer made outside CloudFormation."""

from __future__ import annotations

from aws_cdk import CustomResource
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from constructs import Construct

from stacks.build.custom_resource_function import custom_resource_function
from stacks.build.requirements import REPO_ROOT
from stacks.constructs.greengrass_core import GreengrassCore, iot_arn

TEARDOWN_HANDLER = REPO_ROOT / "lambdas" / "core_device_teardown"


class CoreDeviceTeardown(Construct):
    """A custom resource that, when its stack is deleted, detaches and deletes ``core``'s
    device certificates and deletes its Greengrass core device record
    (``lambdas/core_device_teardown``), before CloudFormation deletes the thing and the
    IoT policy (which it could not do with a certificate still attached).

    Its function may touch this one thing, certificates (their ids are only known once
    the installer has run) and this one core device record: nothing else.
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        core: GreengrassCore,
        log_retention: logs.RetentionDays,
    ) -> None:
        super().__init__(scope, id)
        self.function: lambda_.Function = custom_resource_function(
            self,
            "Function",
            handler_dir=TEARDOWN_HANDLER,
            description=f"Removes {core.thing_name}'s certificates and core device "
            "record on stack delete",
            service_name="datapalooza-core-device-teardown",
            log_retention=log_retention,
        )
        role = self.function.role
        assert role is not None
        role.add_to_principal_policy(
            iam.PolicyStatement(
                sid="DetachFromTheThing",
                actions=["iot:ListThingPrincipals", "iot:DetachThingPrincipal"],
                resources=[core.thing_arn],
            )
        )
        role.add_to_principal_policy(
            iam.PolicyStatement(
                # Certificate ids are made by the installer on the device, after deploy.
                sid="RetireItsCertificates",
                actions=["iot:UpdateCertificate", "iot:DeleteCertificate"],
                resources=[iot_arn("cert/*")],
            )
        )
        core.grant_delete_record(role)
        self.resource = CustomResource(
            self,
            "Resource",
            service_token=self.function.function_arn,
            resource_type="Custom::GreengrassCoreDeviceTeardown",
            properties={"ThingName": core.thing_name},
        )
        # Deleted before the thing and the policy (and after the role may act): its
        # Delete is what frees them.
        self.resource.node.add_dependency(core.thing, core.policy, core.installer_iot_policy, role)

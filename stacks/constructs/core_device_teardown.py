"""Removes, on ``cdk destroy``, what the Greengrass installer made outside CloudFormation."""

from __future__ import annotations

from aws_cdk import Aws, CustomResource, Duration
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from constructs import Construct

from stacks.build.bundling import PythonBundle
from stacks.build.python_function import FunctionSpec, python_function
from stacks.build.requirements import REPO_ROOT
from stacks.constructs.greengrass_core import GreengrassCore

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
        self.function: lambda_.Function = python_function(
            self,
            "Function",
            FunctionSpec(
                # boto3 comes with the Lambda runtime; nothing else is needed.
                bundle=PythonBundle(
                    handler_dir=TEARDOWN_HANDLER, requirements=(), include_runtime_package=False
                ),
                handler="handler.handler",
                description=f"Removes {core.thing_name}'s certificates and core device "
                "record on stack delete",
                service_name="datapalooza-core-device-teardown",
                # Detach propagation wait (60 s) plus a few API calls per certificate.
                timeout=Duration.minutes(3),
                memory_size=256,
                log_retention=log_retention,
                # Runs once, at stack delete: a trace would show nothing worth keeping.
                tracing=False,
            ),
        )
        thing_arn = core.thing_arn
        prefix = f"arn:{Aws.PARTITION}:iot:{Aws.REGION}:{Aws.ACCOUNT_ID}"
        role = self.function.role
        assert role is not None
        role.add_to_principal_policy(
            iam.PolicyStatement(
                sid="DetachFromTheThing",
                actions=["iot:ListThingPrincipals", "iot:DetachThingPrincipal"],
                resources=[thing_arn],
            )
        )
        role.add_to_principal_policy(
            iam.PolicyStatement(
                # Certificate ids are made by the installer on the device, after deploy.
                sid="RetireItsCertificates",
                actions=["iot:UpdateCertificate", "iot:DeleteCertificate"],
                resources=[f"{prefix}:cert/*"],
            )
        )
        role.add_to_principal_policy(
            iam.PolicyStatement(
                sid="DeleteTheCoreDeviceRecord",
                actions=["greengrass:DeleteCoreDevice"],
                resources=[
                    f"arn:{Aws.PARTITION}:greengrass:{Aws.REGION}:{Aws.ACCOUNT_ID}:"
                    f"coreDevices:{core.thing_name}"
                ],
            )
        )
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

"""A Lambda function imported as a Greengrass v2 component, deployed to one core device."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence

from aws_cdk import aws_greengrassv2 as greengrassv2
from aws_cdk import aws_lambda as lambda_
from constructs import Construct

from stacks.constructs.greengrass_core import GreengrassCore
from stacks.greengrass_components import LEGACY_SUBSCRIPTION_ROUTER, deployment_components
from stacks.settings import GREENGRASS_ARCHITECTURES

SUBSCRIPTION_ROUTER = LEGACY_SUBSCRIPTION_ROUTER.name
TOKEN_EXCHANGE_SERVICE = "aws.greengrass.TokenExchangeService"  # noqa: S105 (a name)


class LambdaComponent(Construct):
    """Greengrass v2 runs ``function`` on the core device as a long-lived ("pinned")
    process: the camera and edge programs are loops, not per-event handlers.

    It runs without a Greengrass container (NoContainer) so it can open the camera
    device and its on-disk queue directly, as the ``ggc_user`` system user. Greengrass
    imports the published version's deployment package, so its dependencies must be
    built for the device (``architecture``, the wheels' name: aarch64 or x86_64), not
    for Lambda; the component's platform uses Greengrass's name for that CPU.
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        function: lambda_.Function,
        component_name: str,
        architecture: str,
        environment: Mapping[str, str],
        timeout_s: int,
    ) -> None:
        super().__init__(scope, id)
        if architecture not in GREENGRASS_ARCHITECTURES:
            raise ValueError(
                f"device architecture {architecture!r}: expected one of "
                f"{', '.join(GREENGRASS_ARCHITECTURES)}"
            )
        # Greengrass matches the device's own name for its CPU (amd64, not x86_64).
        platform_architecture = GREENGRASS_ARCHITECTURES[architecture]
        self.component_name = component_name
        # Greengrass imports a published version, never $LATEST.
        self.version = function.current_version
        self.component_version = f"1.0.{self.version.version}"
        self.component = greengrassv2.CfnComponentVersion(
            self,
            "Component",
            lambda_function=greengrassv2.CfnComponentVersion.LambdaFunctionRecipeSourceProperty(
                lambda_arn=self.version.function_arn,
                component_name=component_name,
                # One component version per published Lambda version: a new deployment
                # package makes a new component version instead of clashing with the old.
                component_version=self.component_version,
                component_dependencies={
                    # AWS credentials (the token exchange role) for boto3 on the device.
                    TOKEN_EXCHANGE_SERVICE: _dependency("HARD"),
                    # Carries the programs' greengrasssdk publishes to AWS IoT Core.
                    SUBSCRIPTION_ROUTER: _dependency("SOFT"),
                },
                component_platforms=[
                    greengrassv2.CfnComponentVersion.ComponentPlatformProperty(
                        name=f"Linux {platform_architecture}",
                        attributes={"os": "linux", "architecture": platform_architecture},
                    )
                ],
                component_lambda_parameters=greengrassv2.CfnComponentVersion.LambdaExecutionParametersProperty(
                    pinned=True,
                    max_instances_count=1,
                    max_queue_size=10,
                    timeout_in_seconds=timeout_s,
                    status_timeout_in_seconds=60,
                    input_payload_encoding_type="json",
                    environment_variables=dict(environment),
                    linux_process_params=greengrassv2.CfnComponentVersion.LambdaLinuxProcessParamsProperty(
                        isolation_mode="NoContainer"
                    ),
                ),
            ),
        )

    def deploy_to(
        self,
        core: GreengrassCore,
        *,
        publish_topics: Sequence[str],
    ) -> greengrassv2.CfnDeployment:
        """Deploy this component to ``core``'s thing (it installs when the device next
        connects; ``cdk destroy`` cancels the deployment), with the AWS components it
        relies on at the versions stacks/greengrass_components.py pins, the nucleus too.

        The programs publish with the Greengrass Core SDK (``greengrasssdk``), which
        Lambda components reach AWS IoT Core through: the legacy subscription router
        carries one subscription per topic, from this component to the cloud.
        """
        subscriptions = {
            f"{self.component_name}-{i}": {
                "id": f"{self.component_name}-{i}",
                "source": f"component:{self.component_name}",
                "subject": topic,
                "target": "cloud",
            }
            for i, topic in enumerate(publish_topics)
        }
        deployment = greengrassv2.CfnDeployment(
            self,
            "Deployment",
            target_arn=core.thing_arn,
            deployment_name=f"{self.component_name} on {core.thing_name}",
            components={
                **deployment_components(),
                self.component_name: {"componentVersion": self.component_version},
                SUBSCRIPTION_ROUTER: {
                    "componentVersion": LEGACY_SUBSCRIPTION_ROUTER.version,
                    "configurationUpdate": {
                        "merge": json.dumps({"subscriptions": subscriptions}, sort_keys=True)
                    },
                },
            },
        )
        # The deployment names a component version that only exists once Greengrass has
        # imported the Lambda version: never create it before the import finishes.
        deployment.node.add_dependency(core.thing, self.component)
        return deployment


def _dependency(
    kind: str,
) -> greengrassv2.CfnComponentVersion.ComponentDependencyRequirementProperty:
    return greengrassv2.CfnComponentVersion.ComponentDependencyRequirementProperty(
        version_requirement=">=2.0.0 <3.0.0", dependency_type=kind
    )

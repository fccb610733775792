"""The festival camera: a Greengrass v2 core device running the camera program."""

from __future__ import annotations

from aws_cdk import aws_logs as logs
from constructs import Construct

from datapalooza import constants
from stacks.core_device_teardown import CoreDeviceTeardown
from stacks.device_function import device_function
from stacks.greengrass_core import GreengrassCore
from stacks.lambda_component import LambdaComponent
from stacks.requirements import REPO_ROOT, pinned

CAMERA_PROGRAM = REPO_ROOT / "greengrass" / "camera"
CAMERA_COMPONENT = "datapalooza.Camera"
CAMERA_PACKAGES = ("numpy", "opencv-python-headless", "pillow", "boto3", "greengrasssdk")
"""What the camera program's bundle installs (tests/infra check its imports fit)."""
CAMERA_BOTOCORE_SERVICES = ("sagemaker-runtime",)
"""The one AWS API the camera program calls: it sends frames to the endpoint."""


class CameraDevice(Construct):
    """Cloud inference from the device side: every interval the camera program
    (``greengrass/camera``) grabs a frame, sends it to the face-detection endpoint and
    publishes the detections on ``datapalooza/{stage}/detections``.

    Builds the core device's identity (``core``), the program as a Lambda function
    imported as a Greengrass component, and a deployment of it to the device. The
    device's token exchange role starts empty: the stack lets it invoke the endpoint.
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        thing_name: str,
        stage: str,
        camera: str,
        source: str,
        interval_s: float,
        endpoint_name: str,
        architecture: str,
        python_version: str,
        log_retention: logs.RetentionDays,
    ) -> None:
        super().__init__(scope, id)
        self.detections_topic = constants.DETECTIONS_TOPIC.format(stage=stage)
        self.core = GreengrassCore(
            self,
            "Core",
            thing_name=thing_name,
            publish_topics=[self.detections_topic],
            component_names=[CAMERA_COMPONENT],
        )
        # `cdk destroy` removes the installer's certificates and the core device record.
        self.teardown = CoreDeviceTeardown(
            self, "Teardown", core=self.core, log_retention=log_retention
        )
        environment = {
            constants.ENV_ENDPOINT_NAME: endpoint_name,
            constants.ENV_STAGE: stage,
            constants.ENV_CAMERA: camera,
            constants.ENV_SOURCE: source,
            constants.ENV_INTERVAL_SECONDS: f"{interval_s:g}",
        }
        self.function = device_function(
            self,
            "Program",
            handler_dir=CAMERA_PROGRAM,
            handler="camera_lambda.function_handler",
            description="DataPalooza camera: frames to the face-detection endpoint (Greengrass)",
            service_name="datapalooza-camera",
            requirements=pinned(*CAMERA_PACKAGES),
            botocore_services=CAMERA_BOTOCORE_SERVICES,
            architecture=architecture,
            python_version=python_version,
            environment=environment,
            log_retention=log_retention,
        )
        self.component = LambdaComponent(
            self,
            "Component",
            function=self.function,
            component_name=CAMERA_COMPONENT,
            architecture=architecture,
            environment=environment,
            timeout_s=60,
        )
        self.deployment = self.component.deploy_to(
            self.core,
            publish_topics=[self.detections_topic],
        )

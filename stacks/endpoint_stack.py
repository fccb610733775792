"""Challenge 1: the faces bucket and the face-detection endpoint that fills it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from aws_cdk import CfnOutput, Stack
from constructs import Construct

from datapalooza import constants
from stacks.container_image import inference_image
from stacks.detection_endpoint import DetectionEndpoint
from stacks.faces_bucket import FacesBucket, grant_write_crops
from stacks.settings import AppSettings


class EndpointStack(Stack):
    """``DataPalooza-Challenge1-Endpoint``: a SageMaker endpoint finds faces in camera
    frames and writes each face crop under ``faces/`` of a private bucket."""

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        settings: AppSettings,
        model_artifact: Path,
        **kwargs: Any,
    ) -> None:
        super().__init__(scope, id, **kwargs)
        self.faces = FacesBucket(
            self,
            "Faces",
            expire_days=settings.faces_expire_days,
            access_logs_expire_days=settings.access_logs_expire_days,
        )
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
            endpoint_name=settings.endpoint_name,
            instance_type=settings.endpoint_instance_type,
            instance_count=settings.endpoint_instance_count,
            environment={
                constants.ENV_FACES_BUCKET: self.faces.bucket_name,
                constants.ENV_DETECTOR: settings.detector,
                constants.ENV_MIN_CONFIDENCE: f"{settings.min_confidence:g}",
                constants.ENV_MIN_FACE_PX: str(settings.min_face_px),
            },
            log_retention=settings.log_retention,
        )
        # Who may do what: the endpoint writes (and on a failed frame, removes) crops.
        grant_write_crops(self.faces.bucket_name, self.endpoint.role)

        CfnOutput(self, "FacesBucketName", value=self.faces.bucket.bucket_name)
        CfnOutput(self, "EndpointName", value=settings.endpoint_name)

"""Challenge 3: inference at the edge, straight into the faces bucket."""

from __future__ import annotations

from typing import Any

from aws_cdk import CfnOutput, Stack
from aws_cdk import aws_s3 as s3
from constructs import Construct

from stacks.edge_device import EdgeDevice
from stacks.faces_bucket import grant_write_crops
from stacks.settings import AppSettings


class EdgeStack(Stack):
    """``DataPalooza-Challenge3-Edge``: a Greengrass v2 device runs the face detector
    itself and uploads only face crops; Challenge 2's tracker scores them as usual."""

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        settings: AppSettings,
        faces_bucket_name: str,
        **kwargs: Any,
    ) -> None:
        super().__init__(scope, id, **kwargs)
        faces_bucket = s3.Bucket.from_bucket_name(self, "FacesBucket", faces_bucket_name)
        self.edge = EdgeDevice(
            self,
            "Edge",
            thing_name=f"datapalooza-edge-{settings.edge_stage}-{settings.edge_camera_name}",
            stage=settings.edge_stage,
            camera=settings.edge_camera_name,
            source=settings.edge_source,
            faces_bucket_name=faces_bucket_name,
            detector=settings.detector,
            min_confidence=settings.min_confidence,
            min_face_px=settings.min_face_px,
            architecture=settings.device_architecture,
            python_version=settings.device_python,
            log_retention=settings.log_retention,
        )
        # The edge device writes (and on a failed frame, removes) crops: nothing else.
        grant_write_crops(faces_bucket, self.edge.core.role)

        CfnOutput(self, "EdgeThingName", value=self.edge.core.thing_name)
        CfnOutput(self, "EdgeRoleAlias", value=self.edge.core.role_alias.role_alias or "")
        CfnOutput(self, "EdgeIotPolicy", value=self.edge.core.policy_name)
        CfnOutput(self, "EdgeTokenExchangeRole", value=self.edge.core.role.role_name)

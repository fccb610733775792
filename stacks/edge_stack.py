"""Challenge 3: inference at the edge, straight into the faces bucket."""

from __future__ import annotations

from typing import Any

from aws_cdk import CfnOutput, Stack
from constructs import Construct

from stacks.edge_device import EdgeDevice
from stacks.faces_bucket import faces_bucket_name as faces_bucket_name_of_account
from stacks.faces_bucket import grant_put_crops
from stacks.settings import AppSettings
from stacks.virtual_device import VirtualCoreDevice, add_virtual_device, device_source


class EdgeStack(Stack):
    """``DataPalooza-Challenge3-Edge``: a Greengrass v2 device runs the face detector
    itself and uploads only face crops; Challenge 2's tracker scores them as usual."""

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        settings: AppSettings,
        **kwargs: Any,
    ) -> None:
        super().__init__(scope, id, **kwargs)
        faces_bucket_name = faces_bucket_name_of_account()  # Challenge 1's bucket
        self.edge = EdgeDevice(
            self,
            "Edge",
            thing_name=f"datapalooza-edge-{settings.edge_stage}-{settings.edge_camera_name}",
            stage=settings.edge_stage,
            camera=settings.edge_camera_name,
            source=device_source(settings.edge_source, virtual=settings.virtual_device),
            faces_bucket_name=faces_bucket_name,
            queue_dir=settings.edge_queue_dir,
            detector=settings.detector,
            min_confidence=settings.min_confidence,
            min_face_px=settings.min_face_px,
            architecture=settings.device_architecture,
            python_version=settings.device_python,
            subscription_router_version=settings.subscription_router_version,
            log_retention=settings.log_retention,
        )
        # The edge device writes (and on a failed frame, removes) crops: nothing else.
        grant_put_crops(faces_bucket_name, self.edge.core.role)

        self.virtual_device: VirtualCoreDevice | None = None
        if settings.virtual_device:
            self.virtual_device = add_virtual_device(
                self,
                "VirtualEdge",
                device=self.edge,
                core=self.edge.core,
                stage=settings.edge_stage,
                architecture=settings.device_architecture,
                python_version=settings.device_python,
                log_retention=settings.log_retention,
            )

        CfnOutput(self, "EdgeThingName", value=self.edge.core.thing_name)
        CfnOutput(self, "EdgeRoleAlias", value=self.edge.core.role_alias.role_alias or "")
        CfnOutput(self, "EdgeIotPolicy", value=self.edge.core.policy_name)
        CfnOutput(self, "EdgeTokenExchangeRole", value=self.edge.core.role.role_name)

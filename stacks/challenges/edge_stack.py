"""Challenge 3: inference at the edge, straight into the faces bucket."""

from __future__ import annotations

from typing import Unpack

from aws_cdk import CfnOutput
from constructs import Construct

from datapalooza import constants
from stacks.challenges.challenge_stack import ChallengeArgs, ChallengeStack
from stacks.constructs.device_program import DeviceProgram, edge_program
from stacks.constructs.faces_bucket import grant_put_crops
from stacks.constructs.virtual_device import device_source


class EdgeStack(ChallengeStack):
    """``DataPalooza-Challenge3-Edge``: a Greengrass v2 device runs the face detector
    itself and uploads only face crops; Challenge 2's tracker scores them as usual."""

    def __init__(self, scope: Construct, id: str, **kwargs: Unpack[ChallengeArgs]) -> None:
        super().__init__(scope, id, **kwargs)
        settings, names = self.settings, self.names
        faces_bucket_name = names.faces_bucket  # Challenge 1's bucket, this team's
        self.edge = DeviceProgram(
            self,
            "Edge",
            program=edge_program(settings.detector),
            names=names.edge,
            stage=settings.edge_stage,
            environment={
                constants.ENV_FACES_BUCKET: faces_bucket_name,
                constants.ENV_STAGE: settings.edge_stage,
                constants.ENV_CAMERA: settings.edge_camera_name,
                constants.ENV_SOURCE: device_source(
                    settings.edge_source, virtual=settings.virtual_device
                ),
                constants.ENV_QUEUE_DIR: names.edge_queue_dir,
                constants.ENV_DETECTOR: settings.detector,
                constants.ENV_MIN_CONFIDENCE: f"{settings.min_confidence:g}",
                constants.ENV_MIN_FACE_PX: str(settings.min_face_px),
                **names.device_env(names.edge),
            },
            architecture=settings.device_architecture,
            python_version=settings.device_python,
            log_retention=settings.log_retention,
        )
        # The edge device uploads its own stage's crops: it never reads or deletes any.
        grant_put_crops(faces_bucket_name, self.edge.core.role, stage=settings.edge_stage)

        self.virtual_device = self.add_virtual_twin(
            "VirtualEdge", device=self.edge, stage=settings.edge_stage
        )

        CfnOutput(self, "EdgeThingName", value=self.edge.core.thing_name)
        CfnOutput(self, "EdgeRoleAlias", value=self.edge.core.role_alias.role_alias or "")
        CfnOutput(self, "EdgeIotPolicy", value=self.edge.core.policy_name)
        CfnOutput(self, "EdgeTokenExchangeRole", value=self.edge.core.role.role_name)

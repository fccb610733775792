"""The face-detection endpoint: SageMaker Model, EndpointConfig and Endpoint."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from aws_cdk import Aws, RemovalPolicy
from aws_cdk import aws_iam as iam
from aws_cdk import aws_logs as logs
from aws_cdk import aws_s3_assets as s3_assets
from aws_cdk import aws_sagemaker as sagemaker
from constructs import Construct

from stacks.build.container_image import ContainerImage
from stacks.constructs.asset_access import read_asset_object
from stacks.constructs.endpoint_scaling import VARIANT_NAME, Capacity, production_variant


class DetectionEndpoint(Construct):
    """A SageMaker endpoint (real-time instances or serverless, per ``capacity``) serving
    ``model.tar.gz`` in an inference container.

    ``model_artifact`` is the archive ``model/build.py`` writes (serving code with the
    model_fn/input_fn/predict_fn/output_fn contract, the ``datapalooza`` package, the
    detector weights and requirements.txt); it is uploaded as a CDK file asset.
    The execution ``role`` may pull the one container repository, read the one
    artifact and write the endpoint's logs; the stack grants where crops may go.
    ``network_isolation`` sets the model's EnableNetworkIsolation: the container then
    has no network and no AWS credentials (SageMaker still fetches the image and the
    artifact with the role), which its start allows because model.tar.gz carries the
    wheels its requirements.txt installs.

    The endpoint's log group (``log_group_name``: ``/aws/sagemaker/Endpoints/<name>``, the
    name SageMaker writes to) is created here with ``log_retention`` and deleted with the
    stack, instead of SageMaker creating it at run time with no expiry and outside
    CloudFormation.
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        model_artifact: Path,
        image: ContainerImage,
        endpoint_name: str,
        log_group_name: str,
        capacity: Capacity,
        network_isolation: bool,
        environment: Mapping[str, str],
        log_retention: logs.RetentionDays,
    ) -> None:
        super().__init__(scope, id)
        if not model_artifact.is_file():
            raise FileNotFoundError(
                f"model artifact {model_artifact} not found: build it with "
                "model.build.build_model_artifact(out_dir) first"
            )
        self.endpoint_name = endpoint_name
        self.variant_name = VARIANT_NAME
        self.artifact = s3_assets.Asset(self, "ModelArtifact", path=str(model_artifact))

        self.role = iam.Role(
            self,
            "ExecutionRole",
            assumed_by=iam.ServicePrincipal("sagemaker.amazonaws.com"),
            description="DataPalooza face-detection endpoint: pull its image, read its model",
        )
        self.role.add_to_policy(read_asset_object("ReadModelArtifact", self.artifact))
        self.role.add_to_policy(
            iam.PolicyStatement(
                sid="PullInferenceImage",
                actions=[
                    "ecr:BatchCheckLayerAvailability",
                    "ecr:BatchGetImage",
                    "ecr:GetDownloadUrlForLayer",
                ],
                resources=[image.repository_arn],
            )
        )
        self.role.add_to_policy(
            iam.PolicyStatement(
                # ECR has no resource-level permission for this action.
                sid="EcrLogin",
                actions=["ecr:GetAuthorizationToken"],
                resources=["*"],
            )
        )
        self.log_group = logs.LogGroup(
            self,
            "EndpointLogs",
            log_group_name=log_group_name,
            retention=log_retention,
            removal_policy=RemovalPolicy.DESTROY,
        )
        endpoint_logs = (
            f"arn:{Aws.PARTITION}:logs:{Aws.REGION}:{Aws.ACCOUNT_ID}:log-group:{log_group_name}"
        )
        self.role.add_to_policy(
            iam.PolicyStatement(
                sid="WriteEndpointLogs",
                actions=["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents"],
                resources=[endpoint_logs, f"{endpoint_logs}:log-stream:*"],
            )
        )

        self.model = sagemaker.CfnModel(
            self,
            "Model",
            execution_role_arn=self.role.role_arn,
            enable_network_isolation=network_isolation,
            primary_container=sagemaker.CfnModel.ContainerDefinitionProperty(
                image=image.uri,
                model_data_url=self.artifact.s3_object_url,
                environment={
                    # The inference toolkit imports code/inference.py from the artifact.
                    "SAGEMAKER_PROGRAM": "inference.py",
                    "SAGEMAKER_SUBMIT_DIRECTORY": "/opt/ml/model/code",
                    "SAGEMAKER_CONTAINER_LOG_LEVEL": "20",
                    "SAGEMAKER_REGION": Aws.REGION,
                    **environment,
                },
            ),
        )
        # The role's policy must exist before SageMaker validates the model's access.
        self.model.node.add_dependency(self.role)

        self.config = sagemaker.CfnEndpointConfig(
            self,
            "Config",
            production_variants=[production_variant(capacity, self.model.attr_model_name)],
        )
        self.endpoint = sagemaker.CfnEndpoint(
            self,
            "Endpoint",
            endpoint_name=endpoint_name,
            endpoint_config_name=self.config.attr_endpoint_config_name,
        )
        # Ours must exist before SageMaker's containers start writing (or it would create
        # its own, never-expiring one first and ours would fail with AlreadyExists).
        self.endpoint.node.add_dependency(self.log_group)

    @property
    def endpoint_arn(self) -> str:
        return (
            f"arn:{Aws.PARTITION}:sagemaker:{Aws.REGION}:{Aws.ACCOUNT_ID}:"
            f"endpoint/{self.endpoint_name}"
        )

    def grant_invoke(self, grantee: iam.IGrantable) -> iam.Grant:
        """Send frames to this endpoint (``sagemaker:InvokeEndpoint``), nothing else."""
        return iam.Grant.add_to_principal(
            grantee=grantee, actions=["sagemaker:InvokeEndpoint"], resource_arns=[self.endpoint_arn]
        )

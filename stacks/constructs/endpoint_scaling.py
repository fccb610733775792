"""How the face-detection endpoint meets a festival's load: instances that scale with
invocations per instance, or serverless inference."""

from __future__ import annotations

from dataclasses import dataclass

from aws_cdk import Aws, Duration
from aws_cdk import aws_applicationautoscaling as autoscaling
from aws_cdk import aws_iam as iam
from aws_cdk import aws_sagemaker as sagemaker
from constructs import Construct

VARIANT_NAME = "AllTraffic"
# SageMaker's predefined target-tracking metric for a variant's load.
INVOCATIONS_PER_INSTANCE = "SageMakerVariantInvocationsPerInstance"


@dataclass(frozen=True, slots=True, kw_only=True)
class InstanceCapacity:
    """Real-time instances: ``initial`` at deploy, scaled between ``min``/``max``."""

    instance_type: str
    initial: int
    min: int
    max: int
    target_invocations_per_instance: int


@dataclass(frozen=True, slots=True, kw_only=True)
class ServerlessCapacity:
    """Serverless inference: memory per concurrent invocation and how many at once."""

    memory_mb: int
    max_concurrency: int


Capacity = InstanceCapacity | ServerlessCapacity


def production_variant(
    capacity: Capacity, model_name: str
) -> sagemaker.CfnEndpointConfig.ProductionVariantProperty:
    """The endpoint config's one variant, on instances or serverless."""
    if isinstance(capacity, ServerlessCapacity):
        return sagemaker.CfnEndpointConfig.ProductionVariantProperty(
            variant_name=VARIANT_NAME,
            model_name=model_name,
            initial_variant_weight=1.0,
            serverless_config=sagemaker.CfnEndpointConfig.ServerlessConfigProperty(
                memory_size_in_mb=capacity.memory_mb,
                max_concurrency=capacity.max_concurrency,
            ),
        )
    return sagemaker.CfnEndpointConfig.ProductionVariantProperty(
        variant_name=VARIANT_NAME,
        model_name=model_name,
        initial_instance_count=max(capacity.initial, capacity.min),
        instance_type=capacity.instance_type,
        initial_variant_weight=1.0,
    )


class EndpointScaling(Construct):
    """Target tracking on ``SageMakerVariantInvocationsPerInstance``: Application Auto
    Scaling adds instances when each one receives more than
    ``target_invocations_per_instance`` invocations a minute, and removes them (slowly,
    the scale-in cooldown is longer) when the festival quietens, between ``min`` and
    ``max``. It uses its service-linked role, so the stack creates no IAM role.
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        endpoint: sagemaker.CfnEndpoint,
        endpoint_name: str,
        capacity: InstanceCapacity,
    ) -> None:
        super().__init__(scope, id)
        self.target = autoscaling.ScalableTarget(
            self,
            "Target",
            service_namespace=autoscaling.ServiceNamespace.SAGEMAKER,
            resource_id=f"endpoint/{endpoint_name}/variant/{VARIANT_NAME}",
            scalable_dimension="sagemaker:variant:DesiredInstanceCount",
            min_capacity=capacity.min,
            max_capacity=capacity.max,
            # Application Auto Scaling scales SageMaker with its own service-linked role,
            # which it creates on the first RegisterScalableTarget (https://docs.aws.amazon.com/
            # autoscaling/application/userguide/application-auto-scaling-service-linked-roles.html);
            # naming it keeps CDK from adding an unused role of ours.
            role=iam.Role.from_role_arn(
                self,
                "ServiceLinkedRole",
                f"arn:{Aws.PARTITION}:iam::{Aws.ACCOUNT_ID}:role/aws-service-role/"
                "sagemaker.application-autoscaling.amazonaws.com/"
                "AWSServiceRoleForApplicationAutoScaling_SageMakerEndpoint",
                mutable=False,
            ),
        )
        # The variant exists only once the endpoint does.
        self.target.node.add_dependency(endpoint)
        self.policy = self.target.scale_to_track_metric(
            "InvocationsPerInstance",
            target_value=capacity.target_invocations_per_instance,
            predefined_metric=autoscaling.PredefinedMetric.SAGEMAKER_VARIANT_INVOCATIONS_PER_INSTANCE,
            scale_out_cooldown=Duration.minutes(1),
            scale_in_cooldown=Duration.minutes(5),
        )

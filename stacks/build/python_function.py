"""The one factory every DataPalooza Lambda function comes from.

Same runtime, architecture, JSON logging, X-Ray tracing, log retention and Docker-free
bundling everywhere, and a role that starts with nothing but writing its own log group:
the stack grants each function exactly what it needs on top.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import cast

from aws_cdk import BundlingOptions, Duration, ILocalBundling, RemovalPolicy
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from constructs import Construct

from datapalooza import deployment
from stacks.build.bundling import PipLocalBundling, PythonBundle

CLOUD_RUNTIME = lambda_.Runtime.PYTHON_3_13
# The planner prices the same architecture (datapalooza/deployment.py).
CLOUD_ARCHITECTURE = (
    lambda_.Architecture.ARM_64
    if deployment.TRACKER_ARCHITECTURE == "arm64"
    else lambda_.Architecture.X86_64
)


@dataclass(frozen=True, slots=True, kw_only=True)
class FunctionSpec:
    """One function's code and limits; everything else is the factory's house style."""

    bundle: PythonBundle
    handler: str
    description: str
    service_name: str
    environment: Mapping[str, str] = field(default_factory=dict)
    timeout: Duration = field(default_factory=lambda: Duration.seconds(60))
    memory_size: int = 512
    runtime: lambda_.Runtime = CLOUD_RUNTIME
    architecture: lambda_.Architecture = CLOUD_ARCHITECTURE
    log_retention: logs.RetentionDays = logs.RetentionDays.ONE_WEEK
    reserved_concurrency: int | None = None
    tracing: bool = True


def python_function(scope: Construct, id: str, spec: FunctionSpec) -> lambda_.Function:
    """Create a Python Lambda function with its own role and log group (both deleted
    with the stack)."""
    log_group = logs.LogGroup(
        scope, f"{id}Logs", retention=spec.log_retention, removal_policy=RemovalPolicy.DESTROY
    )
    # Our own role instead of AWSLambdaBasicExecutionRole: that managed policy lets a
    # function write to every log group in the account; this one writes to its own.
    role = iam.Role(
        scope,
        f"{id}Role",
        assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
        description=f"{spec.service_name} Lambda function: only what the stack grants",
    )
    code = lambda_.Code.from_asset(
        str(spec.bundle.handler_dir),
        asset_hash=spec.bundle.fingerprint(),
        bundling=BundlingOptions(
            image=spec.runtime.bundling_image,
            # jsii calls try_bundle(output_dir, options) positionally, which the typing
            # stub's keyword-only signature does not describe.
            local=cast(ILocalBundling, PipLocalBundling(spec.bundle)),
        ),
    )
    function = lambda_.Function(
        scope,
        id,
        description=spec.description,
        runtime=spec.runtime,
        architecture=spec.architecture,
        handler=spec.handler,
        code=code,
        role=role,
        timeout=spec.timeout,
        memory_size=spec.memory_size,
        reserved_concurrent_executions=spec.reserved_concurrency,
        log_group=log_group,
        logging_format=lambda_.LoggingFormat.JSON,
        tracing=lambda_.Tracing.ACTIVE if spec.tracing else lambda_.Tracing.DISABLED,
        environment={
            "POWERTOOLS_SERVICE_NAME": spec.service_name,
            **spec.environment,
        },
    )
    log_group.grant_write(role)
    return function

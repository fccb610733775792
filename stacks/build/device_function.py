"""Shared by the camera and edge devices: a Lambda function built for the core device."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from aws_cdk import Duration
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from constructs import Construct

from stacks.build.bundling import PythonBundle
from stacks.build.python_function import FunctionSpec, python_function

_RUNTIMES = {
    "3.11": lambda_.Runtime.PYTHON_3_11,
    "3.12": lambda_.Runtime.PYTHON_3_12,
    "3.13": lambda_.Runtime.PYTHON_3_13,
}
_LAMBDA_ARCHITECTURES = {
    "aarch64": lambda_.Architecture.ARM_64,
    "x86_64": lambda_.Architecture.X86_64,
}


def device_function(
    scope: Construct,
    id: str,
    *,
    handler_dir: Path,
    handler: str,
    description: str,
    service_name: str,
    requirements: tuple[str, ...],
    no_deps_requirements: tuple[str, ...] = (),
    unused_distributions: tuple[str, ...] = (),
    botocore_services: tuple[str, ...] | None = None,
    architecture: str,
    python_version: str,
    environment: Mapping[str, str],
    log_retention: logs.RetentionDays,
) -> lambda_.Function:
    """A function whose package runs on a Greengrass core device (``architecture``,
    Python ``python_version``). Greengrass runs it with the device's own Python, so
    the runtime here only tells Greengrass which interpreter to use."""
    if not handler_dir.is_dir():
        raise FileNotFoundError(f"device program folder {handler_dir} does not exist")
    return python_function(
        scope,
        id,
        FunctionSpec(
            bundle=PythonBundle(
                handler_dir=handler_dir,
                requirements=requirements,
                no_deps_requirements=no_deps_requirements,
                unused_distributions=unused_distributions,
                botocore_services=botocore_services,
                architecture=architecture,
                python_version=python_version,
            ),
            handler=handler,
            description=description,
            service_name=service_name,
            environment=environment,
            # Greengrass runs it as a long-lived loop; in Lambda it is never invoked.
            timeout=Duration.minutes(15),
            memory_size=1024,
            runtime=_RUNTIMES[python_version],
            architecture=_LAMBDA_ARCHITECTURES[architecture],
            log_retention=log_retention,
            # X-Ray tracing only works inside Lambda, where this function never runs.
            tracing=False,
        ),
    )

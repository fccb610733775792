"""The Lambda function behind each of the app's own custom resources.

``lambdas/core_device_teardown`` and ``lambdas/device_certificate`` answer CloudFormation
and retire IoT certificates through ``lambdas/shared``, which each package carries with
the ``datapalooza`` package (its certificate retirement is the one
``datapalooza workshop teardown`` uses); boto3 comes with the Lambda runtime, so nothing
is installed.
"""

from __future__ import annotations

from pathlib import Path

from aws_cdk import Duration
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from constructs import Construct

from stacks.build.bundling import PythonBundle
from stacks.build.python_function import FunctionSpec, python_function
from stacks.build.requirements import REPO_ROOT

SHARED_DIR = REPO_ROOT / "lambdas" / "shared"
# The detach propagation wait (60 s, lambdas/shared/custom_resource.py) plus a few API
# calls per certificate.
TIMEOUT = Duration.minutes(3)


def custom_resource_bundle(handler_dir: Path) -> PythonBundle:
    """``handler_dir``, the shared custom-resource code and the ``datapalooza`` package
    (pure Python, about 1 MB), with nothing installed."""
    return PythonBundle(
        handler_dir=handler_dir,
        requirements=(),
        include_runtime_package=True,
        shared_dirs=(SHARED_DIR,),
    )


def custom_resource_function(
    scope: Construct,
    id: str,
    *,
    handler_dir: Path,
    description: str,
    service_name: str,
    log_retention: logs.RetentionDays,
) -> lambda_.Function:
    """A custom resource's function (``handler.handler`` in ``handler_dir``) from the one
    Lambda factory, with its own role and log group; the caller grants what it touches."""
    return python_function(
        scope,
        id,
        FunctionSpec(
            bundle=custom_resource_bundle(handler_dir),
            handler="handler.handler",
            description=description,
            service_name=service_name,
            timeout=TIMEOUT,
            memory_size=256,
            log_retention=log_retention,
            # Runs once per deploy or destroy: a trace would show nothing worth keeping.
            tracing=False,
        ),
    )

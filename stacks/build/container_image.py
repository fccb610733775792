"""The SageMaker inference container the face-detection model runs in.

The image URI comes from the SageMaker Python SDK's own table (``sagemaker-core``,
offline): the account that hosts AWS Deep Learning Containers differs per region, so
for a region-agnostic stack we emit a region -> image mapping and let CloudFormation
pick the row at deploy time.
"""

from __future__ import annotations

from dataclasses import dataclass

from aws_cdk import Aws, CfnMapping, Stack, Token
from constructs import Construct

from datapalooza.settings import SettingsError
from model.wheels import WheelPlatform
from stacks.settings import CONTEXT_PREFIX, AppSettings

FRAMEWORK = "pytorch"

# The C library of each CPU inference image we may run, so model.tar.gz carries wheels
# that image can load. AWS Deep Learning Containers' image list names the OS in the tag,
# e.g. pytorch-inference:2.6.0-cpu-py312-ubuntu22.04-sagemaker
# (https://github.com/aws/deep-learning-containers/blob/master/available_images.md);
# Ubuntu 22.04 ships glibc 2.35 (https://packages.ubuntu.com/jammy/libc6).
_CONTAINER_GLIBC: dict[str, tuple[int, int]] = {
    "2.6": (2, 35),  # ubuntu22.04
}


@dataclass(frozen=True, slots=True)
class ContainerImage:
    """An inference image, and the ECR repository its pulls must be allowed from."""

    uri: str
    repository_arn: str


def inference_image(
    scope: Construct, *, framework_version: str, py_version: str, instance_type: str
) -> ContainerImage:
    """The CPU PyTorch inference image for the stack's region (or every region)."""
    from sagemaker.core import image_uris  # slow import (~1.5 s): only when building

    def retrieve(region: str) -> str:
        return str(
            image_uris.retrieve(
                FRAMEWORK,
                region=region,
                version=framework_version,
                py_version=py_version,
                instance_type=instance_type,
                image_scope="inference",
            )
        )

    stack = Stack.of(scope)
    if not Token.is_unresolved(stack.region):
        uri = retrieve(stack.region)
        return ContainerImage(uri=uri, repository_arn=_repository_arn(uri))

    rows: dict[str, dict[str, str]] = {}
    for region in _regions(framework_version):
        uri = retrieve(region)
        rows[region] = {"uri": uri, "repository": _repository_arn(uri)}
    mapping = CfnMapping(scope, "InferenceImage", mapping=rows)
    return ContainerImage(
        uri=mapping.find_in_map(Aws.REGION, "uri"),
        repository_arn=mapping.find_in_map(Aws.REGION, "repository"),
    )


def wheel_platform(settings: AppSettings) -> WheelPlatform:
    """The platform and Python the endpoint's container installs model.tar.gz's wheels on."""
    glibc = _CONTAINER_GLIBC.get(settings.container_framework_version)
    if glibc is None:
        raise SettingsError(
            f"context {CONTEXT_PREFIX}container_framework_version: expected one of "
            f"{sorted(_CONTAINER_GLIBC)} (the images whose C library model/wheels.py knows)"
        )
    digits = settings.container_py_version.removeprefix("py")
    if not digits.isdigit() or len(digits) < 2:
        raise SettingsError(
            f"context {CONTEXT_PREFIX}container_py_version: expected pyXY such as py312"
        )
    # The SageMaker CPU instance families the endpoint may use are all x86_64.
    return WheelPlatform(python_version=f"{digits[0]}.{digits[1:]}", glibc=glibc)


def _regions(framework_version: str) -> list[str]:
    from sagemaker.core import image_uris

    config = image_uris.config_for_framework(FRAMEWORK)["inference"]
    version = config.get("version_aliases", {}).get(framework_version, framework_version)
    return sorted(config["versions"][version]["registries"])


def _repository_arn(uri: str) -> str:
    """``ACCOUNT.dkr.ecr.REGION.amazonaws.com[.cn]/REPO:TAG`` -> the repository's ARN."""
    host, _, path = uri.partition("/")
    account, _, _, region, *_ = host.split(".")
    partition = "aws-cn" if host.endswith(".cn") else "aws"
    repository = path.split(":", 1)[0]
    return f"arn:{partition}:ecr:{region}:{account}:repository/{repository}"

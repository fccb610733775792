"""What the person who deploys needs, per step and per challenge: the one source of
these tables. ``datapalooza preflight`` simulates them against the caller's policies,
and docs/permissions.md shows them (a test checks the page matches ``markdown_tables``).

Resources use ``{partition}``, ``{account}`` and ``{region}`` placeholders.

Sources:

- ``cdk bootstrap`` deploys the ``CDKToolkit`` stack with the caller's own credentials
  (no execution role exists yet), so the caller needs what CloudFormation does to create
  that template's resources: the staging bucket and its policy, the container-assets
  ECR repository, the five ``cdk-hnb659fds-*`` roles with their policies and the
  ``/cdk-bootstrap/hnb659fds/version`` parameter (bootstrap-template.yaml in
  aws/aws-cdk-cli; https://docs.aws.amazon.com/cdk/v2/guide/bootstrapping-env.html).
  The CLI's default is the AWS-managed S3 key, so no KMS key is created.
- ``cdk deploy`` and ``cdk destroy``: the CDK CLI assumes the bootstrap roles (the
  deploy role, and the file-publishing role to upload assets) and CloudFormation works
  as the bootstrap's execution role, so the caller needs only ``sts:AssumeRole`` on
  those roles (https://docs.aws.amazon.com/cdk/v2/guide/deploy.html, "How AWS CDK
  deployments work"). No stack here does context lookups or has Docker image assets,
  so the lookup and image-publishing roles are not needed.
- The Greengrass installer with ``--provision true``: AWS's "Minimal IAM policy for
  installer to provision resources" for nucleus v2.5.0 and later
  (https://docs.aws.amazon.com/greengrass/v2/developerguide/provision-minimal-iam-policy.html),
  its ``CreateTokenExchangeRole`` and ``CreateIoTResources`` statements (docs/deploy.md
  does not use ``--deploy-dev-tools``, which needs the third).
"""

from __future__ import annotations

from dataclasses import dataclass

from datapalooza import constants, naming
from datapalooza.naming import TeamNames

QUALIFIER = "hnb659fds"  # the CDK's default bootstrap qualifier
BOOTSTRAP_STACK = "CDKToolkit"


@dataclass(frozen=True, slots=True)
class Permission:
    """Actions allowed on resources (one IAM policy statement), and why."""

    actions: tuple[str, ...]
    resources: tuple[str, ...]
    why: str

    def resource_arns(self, *, partition: str, account: str, region: str) -> list[str]:
        return [
            r.format(partition=partition, account=account, region=region) for r in self.resources
        ]


@dataclass(frozen=True, slots=True)
class DeployerStep:
    """One thing the deployer runs, and the permissions it needs."""

    name: str
    title: str
    permissions: tuple[Permission, ...]


@dataclass(frozen=True, slots=True)
class Challenge:
    """A challenge's stack, the steps its deployer runs, and the services it uses."""

    number: int
    stack: str
    steps: tuple[DeployerStep, ...]
    services: tuple[str, ...]  # boto3 service names, for the region check
    has_endpoint: bool


def _bootstrap_role(kind: str) -> str:
    name = f"cdk-{QUALIFIER}-{kind}-role-{{account}}-{{region}}"
    return f"arn:{{partition}}:iam::{{account}}:role/{name}"


CDK_BOOTSTRAP = DeployerStep(
    name="cdk bootstrap",
    title="`cdk bootstrap` (once per account and region)",
    permissions=(
        Permission(
            (
                "cloudformation:CreateChangeSet",
                "cloudformation:DeleteChangeSet",
                "cloudformation:DeleteStack",
                "cloudformation:DescribeChangeSet",
                "cloudformation:DescribeStackEvents",
                "cloudformation:DescribeStacks",
                "cloudformation:ExecuteChangeSet",
                "cloudformation:GetTemplate",
            ),
            (f"arn:{{partition}}:cloudformation:{{region}}:{{account}}:stack/{BOOTSTRAP_STACK}/*",),
            "deploy the CDKToolkit stack",
        ),
        Permission(
            (
                "s3:CreateBucket",
                "s3:DeleteBucketPolicy",
                "s3:GetBucketPolicy",
                "s3:GetEncryptionConfiguration",
                "s3:PutBucketPolicy",
                "s3:PutBucketPublicAccessBlock",
                "s3:PutBucketVersioning",
                "s3:PutEncryptionConfiguration",
                "s3:PutLifecycleConfiguration",
            ),
            (f"arn:{{partition}}:s3:::cdk-{QUALIFIER}-assets-{{account}}-{{region}}",),
            "the assets bucket (templates, Lambda code, model.tar.gz)",
        ),
        Permission(
            (
                "ecr:CreateRepository",
                "ecr:DeleteRepository",
                "ecr:DescribeRepositories",
                "ecr:PutImageTagMutability",
                "ecr:PutLifecyclePolicy",
                "ecr:SetRepositoryPolicy",
            ),
            (
                f"arn:{{partition}}:ecr:{{region}}:{{account}}:repository/"
                f"cdk-{QUALIFIER}-container-assets-{{account}}-{{region}}",
            ),
            "the container-assets repository (the template always makes it)",
        ),
        Permission(
            (
                "iam:AttachRolePolicy",
                "iam:CreateRole",
                "iam:DeleteRole",
                "iam:DeleteRolePolicy",
                "iam:DetachRolePolicy",
                "iam:GetRole",
                "iam:GetRolePolicy",
                "iam:PutRolePolicy",
                "iam:TagRole",
            ),
            (f"arn:{{partition}}:iam::{{account}}:role/cdk-{QUALIFIER}-*",),
            "the five bootstrap roles and their policies",
        ),
        Permission(
            ("ssm:DeleteParameter", "ssm:GetParameters", "ssm:PutParameter"),
            (
                f"arn:{{partition}}:ssm:{{region}}:{{account}}:parameter/cdk-bootstrap/{QUALIFIER}/version",
            ),
            "the bootstrap version parameter",
        ),
    ),
)

CDK_DEPLOY = DeployerStep(
    name="cdk deploy",
    title="`cdk deploy`",
    permissions=(
        Permission(
            ("sts:AssumeRole",),
            (_bootstrap_role("deploy"), _bootstrap_role("file-publishing")),
            "upload the assets, then let CloudFormation deploy as the bootstrap's execution role",
        ),
    ),
)

CDK_DESTROY = DeployerStep(
    name="cdk destroy",
    title="`cdk destroy`",
    permissions=(
        Permission(
            ("sts:AssumeRole",),
            (_bootstrap_role("deploy"),),
            "let CloudFormation delete the stack as the bootstrap's execution role",
        ),
    ),
)


def _greengrass_installer(stack: str) -> DeployerStep:
    # The stack's token exchange role in any Region: DataPalooza-Challenge2-TES-*, or a
    # team's DataPalooza-alice-Challenge2-TES-*; the installer's policy is its name
    # followed by "Access" (stacks/constructs/greengrass_core.py).
    role = naming.token_exchange_role(stack, "*")
    return DeployerStep(
        name="Greengrass installer",
        title="Greengrass installer `--provision true` (on the device)",
        permissions=(
            Permission(
                (
                    "iam:AttachRolePolicy",
                    "iam:CreatePolicy",
                    "iam:CreateRole",
                    "iam:GetPolicy",
                    "iam:GetRole",
                    "iam:PassRole",
                ),
                (
                    f"arn:{{partition}}:iam::{{account}}:role/{role}",
                    f"arn:{{partition}}:iam::{{account}}:policy/{role}Access",
                    "arn:{partition}:iam::aws:policy/GreengrassV2TokenExchangeRoleAccess",
                ),
                "find (or make) the device's token exchange role and its policy",
            ),
            Permission(
                (
                    "iot:AddThingToThingGroup",
                    "iot:AttachPolicy",
                    "iot:AttachThingPrincipal",
                    "iot:CreateKeysAndCertificate",
                    "iot:CreatePolicy",
                    "iot:CreateRoleAlias",
                    "iot:CreateThing",
                    "iot:CreateThingGroup",
                    "iot:DescribeEndpoint",
                    "iot:DescribeRoleAlias",
                    "iot:DescribeThingGroup",
                    "iot:GetPolicy",
                ),
                ("*",),
                "the device certificate, attached to the stack's thing and IoT policy",
            ),
        ),
    )


# Regional services only (IAM is global: botocore lists no regions for it).
_CORE_SERVICES = ("cloudformation", "s3", "lambda", "logs", "ssm")


def challenges(team: str = constants.DEFAULT_TEAM) -> dict[int, Challenge]:
    """Each challenge of ``team``'s deployment (its stack names follow the team:
    datapalooza.naming), by number."""
    stacks = TeamNames(team).stacks()
    return {
        1: Challenge(
            number=1,
            stack=stacks[1],
            steps=(CDK_BOOTSTRAP, CDK_DEPLOY, CDK_DESTROY),
            services=(*_CORE_SERVICES, "sagemaker", "sagemaker-runtime"),
            has_endpoint=True,
        ),
        2: Challenge(
            number=2,
            stack=stacks[2],
            steps=(CDK_BOOTSTRAP, CDK_DEPLOY, CDK_DESTROY, _greengrass_installer(stacks[2])),
            services=(
                *_CORE_SERVICES,
                "sqs",
                "dynamodb",
                "rekognition",
                "cloudwatch",
                "iot",
                "greengrassv2",
            ),
            has_endpoint=False,
        ),
        3: Challenge(
            number=3,
            stack=stacks[3],
            steps=(CDK_BOOTSTRAP, CDK_DEPLOY, CDK_DESTROY, _greengrass_installer(stacks[3])),
            services=(*_CORE_SERVICES, "iot", "greengrassv2"),
            has_endpoint=False,
        ),
    }


CHALLENGES: dict[int, Challenge] = challenges()
"""The default team's challenges (docs/permissions.md shows these)."""


def markdown_tables() -> str:
    """The deployer's tables as docs/permissions.md shows them (``ACCOUNT``/``REGION``):
    ``cdk bootstrap`` once, then each challenge's own steps."""
    lines = _step_table(CDK_BOOTSTRAP, heading="###")
    for challenge in CHALLENGES.values():
        lines += [f"### Challenge {challenge.number}: `{challenge.stack}`", ""]
        for step in challenge.steps:
            if step is not CDK_BOOTSTRAP:
                lines += _step_table(step, heading="####")
    return "\n".join(lines).rstrip() + "\n"


def _step_table(step: DeployerStep, *, heading: str) -> list[str]:
    lines = [f"{heading} {step.title}", "", "| Actions | Resources | Why |", "| --- | --- | --- |"]
    for permission in step.permissions:
        actions = "<br>".join(f"`{a}`" for a in permission.actions)
        arns = permission.resource_arns(partition="aws", account="ACCOUNT", region="REGION")
        resources = "<br>".join(f"`{r}`" for r in arns)
        lines.append(f"| {actions} | {resources} | {permission.why} |")
    return [*lines, ""]

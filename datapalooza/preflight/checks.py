"""The preflight checks. Each takes the boto3 clients it needs and returns one
``CheckResult``: pass or fail, what was found, and the fix. Nothing here reads the
environment or builds a client (the CLI does), so Stubber drives every path."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from datapalooza.preflight.deployer_permissions import BOOTSTRAP_STACK, Challenge

# A stack in one of these states is usable: anything else (failed, rolled back,
# being deleted) needs a new ``cdk bootstrap``.
_USABLE_STACK_STATES = frozenset(
    {"CREATE_COMPLETE", "UPDATE_COMPLETE", "UPDATE_ROLLBACK_COMPLETE", "IMPORT_COMPLETE"}
)
# SageMaker's per-instance-type endpoint quotas are named like this in Service Quotas
# (service code "sagemaker"); CreateEndpoint's ResourceLimitExceeded error names the same
# "account-level service limit 'ml.m5.large for endpoint usage'"
# (https://docs.aws.amazon.com/general/latest/gr/sagemaker.html).
ENDPOINT_QUOTA_NAME = "{instance_type} for endpoint usage"
SAGEMAKER_SERVICE_CODE = "sagemaker"


@dataclass(frozen=True, slots=True)
class CheckResult:
    """One line of the preflight report."""

    name: str
    passed: bool
    detail: str
    fix: str = ""

    def line(self) -> str:
        if self.passed:
            return f"PASS  {self.name}: {self.detail}"
        return f"FAIL  {self.name}: {self.detail} -> fix: {self.fix}"


@dataclass(frozen=True, slots=True, kw_only=True)
class Target:
    """Where and what the deployer is about to deploy, and as whom."""

    challenge: Challenge
    account: str
    region: str
    partition: str
    caller_arn: str  # from sts:GetCallerIdentity
    endpoint_instance_type: str
    endpoint_instances: int
    """The most instances one team's endpoint may run: its initial count or, with auto
    scaling, its maximum; 0 for a serverless endpoint (no instance quota)."""
    teams: int = 1
    """Teams deploying into this account: the quota is the account's, per instance type."""


def policy_source_arn(caller_arn: str, iam: Any) -> str | None:
    """The IAM principal whose policies apply to ``caller_arn`` (None for the root user).

    An assumed-role session (``arn:aws:sts::ACCOUNT:assumed-role/NAME/SESSION``, which is
    what SSO and most workshop logins give) is simulated as its role; the role's path
    (SSO roles live under ``/aws-reserved/...``) comes from iam:GetRole when allowed.
    """
    arn = caller_arn.split(":", 5)
    partition, service, account, resource = arn[1], arn[2], arn[4], arn[5]
    if service == "iam" and resource == "root":
        return None
    if service == "sts" and resource.startswith("assumed-role/"):
        role_name = resource.split("/")[1]
        try:
            return str(iam.get_role(RoleName=role_name)["Role"]["Arn"])
        except (ClientError, BotoCoreError):
            return f"arn:{partition}:iam::{account}:role/{role_name}"
    return caller_arn


def check_permissions(iam: Any, target: Target) -> CheckResult:
    """iam:SimulatePrincipalPolicy of every action in the challenge's deployer tables."""
    name = f"permissions for challenge {target.challenge.number}"
    principal = policy_source_arn(target.caller_arn, iam)
    if principal is None:
        return CheckResult(
            name,
            True,
            "the root user may do everything (use an IAM role or SSO user for workshops)",
        )
    denied: list[str] = []
    try:
        for step in target.challenge.steps:
            for permission in step.permissions:
                arns = permission.resource_arns(
                    partition=target.partition, account=target.account, region=target.region
                )
                for result in _simulate(iam, principal, list(permission.actions), arns):
                    if result["EvalDecision"] != "allowed":
                        denied.append(f"{result['EvalActionName']} ({step.name})")
    except ClientError as exc:
        return _refused(
            name,
            f"could not simulate {principal}'s policies",
            exc,
            "allow iam:SimulatePrincipalPolicy on your own principal, or compare your "
            "policies with the tables in docs/permissions.md by hand",
        )
    if denied:
        return CheckResult(
            name,
            False,
            f"{principal} may not: {', '.join(sorted(set(denied)))}",
            "add the missing actions (tables in docs/permissions.md) to your role or user",
        )
    return CheckResult(name, True, f"{principal} may run every deploy step")


def _simulate(
    iam: Any, principal: str, actions: list[str], resources: list[str]
) -> Iterator[dict[str, Any]]:
    kwargs: dict[str, Any] = {
        "PolicySourceArn": principal,
        "ActionNames": actions,
        "ResourceArns": resources,
    }
    while True:
        page = iam.simulate_principal_policy(**kwargs)
        yield from page["EvaluationResults"]
        if not page.get("IsTruncated"):
            return
        kwargs["Marker"] = page["Marker"]


def check_bootstrap(cloudformation: Any, target: Target) -> CheckResult:
    """The CDK bootstrap stack exists in the region and is usable."""
    name = "CDK bootstrap"
    fix = f"npx cdk bootstrap aws://{target.account}/{target.region}"
    try:
        stacks = cloudformation.describe_stacks(StackName=BOOTSTRAP_STACK)["Stacks"]
    except ClientError as exc:
        error = exc.response.get("Error", {})
        if error.get("Code") == "ValidationError" and "does not exist" in error.get("Message", ""):
            return CheckResult(name, False, f"no {BOOTSTRAP_STACK} stack in {target.region}", fix)
        return _refused(
            name,
            f"could not read the {BOOTSTRAP_STACK} stack",
            exc,
            "allow cloudformation:DescribeStacks on the CDKToolkit stack",
        )
    status = stacks[0]["StackStatus"]
    if status not in _USABLE_STACK_STATES:
        return CheckResult(name, False, f"{BOOTSTRAP_STACK} is {status}", fix)
    version = next(
        (
            o["OutputValue"]
            for o in stacks[0].get("Outputs", [])
            if o["OutputKey"] == "BootstrapVersion"
        ),
        "unknown",
    )
    return CheckResult(name, True, f"{BOOTSTRAP_STACK} is {status} (version {version})")


def check_region_services(
    target: Target, available_regions: Callable[[str, str], list[str]]
) -> CheckResult:
    """Every service the challenge uses is offered in the region.

    ``available_regions(service, partition)`` is boto3's ``Session.get_available_regions``
    (botocore's own endpoint data: no call to AWS)."""
    name = "services in region"
    missing = [
        service
        for service in target.challenge.services
        if target.region not in available_regions(service, target.partition)
    ]
    if missing:
        return CheckResult(
            name,
            False,
            f"{target.region} does not offer {', '.join(missing)}",
            "deploy to a region that offers them (e.g. --region eu-west-1 or us-east-1)",
        )
    return CheckResult(name, True, f"{target.region} offers {', '.join(target.challenge.services)}")


def check_endpoint_quota(service_quotas: Any, target: Target) -> CheckResult:
    """The account may run every team's endpoint at its most instances (the quota is
    account-wide; endpoints already running in the account count against it too)."""
    quota_name = ENDPOINT_QUOTA_NAME.format(instance_type=target.endpoint_instance_type)
    name = "endpoint instance quota"
    if target.endpoint_instances == 0:
        return CheckResult(name, True, "a serverless endpoint: no instance quota applies")
    try:
        quota = _find_quota(service_quotas, "list_service_quotas", quota_name) or _find_quota(
            service_quotas, "list_aws_default_service_quotas", quota_name
        )
    except ClientError as exc:
        return _refused(
            name,
            f"could not read the quota '{quota_name}'",
            exc,
            "allow servicequotas:ListServiceQuotas and ListAWSDefaultServiceQuotas",
        )
    if quota is None:
        return CheckResult(
            name,
            False,
            f"no Service Quotas entry '{quota_name}' in {target.region}",
            "pick an instance type SageMaker hosts there: "
            "-c datapalooza:endpoint_instance_type=ml.m5.large",
        )
    value = float(quota["Value"])
    needed = target.teams * target.endpoint_instances
    who = (
        "the endpoint needs"
        if target.teams == 1
        else f"{target.teams} teams' endpoints need {target.endpoint_instances} each:"
    )
    if value < needed:
        return CheckResult(
            name,
            False,
            f"'{quota_name}' is {value:g}, {who} {needed} (endpoints already running in "
            "the account count against it too)",
            "request an increase: aws service-quotas request-service-quota-increase "
            f"--service-code {SAGEMAKER_SERVICE_CODE} --quota-code {quota['QuotaCode']} "
            f"--desired-value {needed} --region {target.region} (or pick another type with "
            "-c datapalooza:endpoint_instance_type=...)",
        )
    return CheckResult(
        name,
        True,
        f"'{quota_name}' is {value:g} (needs {needed}, plus any endpoints already running)",
    )


def _find_quota(service_quotas: Any, operation: str, quota_name: str) -> dict[str, Any] | None:
    paginator = service_quotas.get_paginator(operation)
    for page in paginator.paginate(ServiceCode=SAGEMAKER_SERVICE_CODE):
        for quota in page["Quotas"]:
            if quota["QuotaName"] == quota_name:
                return dict(quota)
    return None


def run_checks(
    *,
    target: Target,
    iam: Any,
    cloudformation: Any,
    service_quotas: Any,
    available_regions: Callable[[str, str], list[str]],
) -> list[CheckResult]:
    """Every check for the target's challenge, in the order a deployer would fix them."""
    results = [
        check_region_services(target, available_regions),
        _guarded(check_permissions, iam, target),
        _guarded(check_bootstrap, cloudformation, target),
    ]
    if target.challenge.has_endpoint:
        results.append(_guarded(check_endpoint_quota, service_quotas, target))
    return results


def _refused(name: str, attempt: str, exc: ClientError, fix: str) -> CheckResult:
    """A check AWS would not answer: what was tried, AWS's error code, and the permission
    that lets it run."""
    code = exc.response.get("Error", {}).get("Code", "")
    return CheckResult(name, False, f"{attempt} ({code})", fix)


def _guarded(
    check: Callable[[Any, Target], CheckResult], client: Any, target: Target
) -> CheckResult:
    """A network failure fails its own check, not the report."""
    try:
        return check(client, target)
    except BotoCoreError as exc:
        return CheckResult(
            check.__name__.removeprefix("check_").replace("_", " "),
            False,
            f"could not reach AWS ({exc})",
            "check the network and retry",
        )

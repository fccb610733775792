"""A preflight check AWS refuses to answer fails with AWS's error code and the permission
that lets it run (botocore's Stubber: moto has no policy simulation or Service Quotas)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from botocore.stub import Stubber

from datapalooza.preflight import checks
from tests.integration.test_preflight import ACCOUNT, client, target

USER = f"arn:aws:iam::{ACCOUNT}:user/alice"  # simulated as itself: no iam:GetRole first


@pytest.mark.parametrize(
    ("service", "operation", "check", "detail", "fix"),
    [
        (
            "iam",
            "simulate_principal_policy",
            checks.check_permissions,
            f"could not simulate {USER}'s policies (AccessDenied)",
            "allow iam:SimulatePrincipalPolicy on your own principal",
        ),
        (
            "cloudformation",
            "describe_stacks",
            checks.check_bootstrap,
            "could not read the CDKToolkit stack (AccessDenied)",
            "allow cloudformation:DescribeStacks on the CDKToolkit stack",
        ),
        (
            "service-quotas",
            "list_service_quotas",
            checks.check_endpoint_quota,
            "could not read the quota 'ml.",
            "allow servicequotas:ListServiceQuotas and ListAWSDefaultServiceQuotas",
        ),
    ],
)
def test_a_refused_call_fails_its_check_with_the_code_and_the_permission(
    service: str,
    operation: str,
    check: Callable[[Any, checks.Target], checks.CheckResult],
    detail: str,
    fix: str,
) -> None:
    aws = client(service)
    stub = Stubber(aws)
    stub.add_client_error(operation, service_error_code="AccessDenied", http_status_code=403)

    with stub:
        result = check(aws, target(caller=USER))

    assert not result.passed
    assert result.detail.startswith(detail)
    assert result.detail.endswith(" (AccessDenied)")
    assert result.fix.startswith(fix)
    stub.assert_no_pending_responses()

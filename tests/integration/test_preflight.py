"""``datapalooza preflight`` through botocore's Stubber (moto simulates no IAM policy
and has no Service Quotas): a passing account, each failure with its fix, and the
command's one-line-per-check report."""

from __future__ import annotations

import dataclasses

import boto3
import pytest
from botocore.stub import ANY, Stubber

from datapalooza.cli import main
from datapalooza.preflight import checks
from datapalooza.preflight.checks import Target, run_checks
from datapalooza.preflight.deployer_permissions import CHALLENGES
from stacks.settings import AppSettings

ACCOUNT = "123456789012"
REGION = "eu-west-1"
CALLER = f"arn:aws:sts::{ACCOUNT}:assumed-role/WorkshopDeployer/alice"
ROLE = f"arn:aws:iam::{ACCOUNT}:role/aws-reserved/sso.amazonaws.com/WorkshopDeployer"
DEFAULTS = AppSettings()  # the CDK app's own defaults: one source for type and count
QUOTA = f"{DEFAULTS.endpoint_instance_type} for endpoint usage"


def client(name: str):
    return boto3.client(
        name, region_name=REGION, aws_access_key_id="testing", aws_secret_access_key="testing"
    )


def available_regions(service: str, partition: str) -> list[str]:
    return boto3.session.Session().get_available_regions(service, partition_name=partition)


def target(challenge: int = 1, *, region: str = REGION, caller: str = CALLER) -> Target:
    return Target(
        challenge=CHALLENGES[challenge],
        account=ACCOUNT,
        region=region,
        partition="aws",
        caller_arn=caller,
        endpoint_instance_type=DEFAULTS.endpoint_instance_type,
        endpoint_instances=DEFAULTS.endpoint_instances_at_most,
    )


def statements(challenge: int = 1):
    return [p for step in CHALLENGES[challenge].steps for p in step.permissions]


def stub_simulations(stub: Stubber, challenge: int = 1, *, deny: str | None = None) -> None:
    for permission in statements(challenge):
        stub.add_response(
            "simulate_principal_policy",
            {
                "EvaluationResults": [
                    {
                        "EvalActionName": action,
                        "EvalDecision": "implicitDeny" if action == deny else "allowed",
                    }
                    for action in permission.actions
                ],
                "IsTruncated": False,
            },
            {"PolicySourceArn": ROLE, "ActionNames": list(permission.actions), "ResourceArns": ANY},
        )


def toolkit(status: str = "UPDATE_COMPLETE") -> dict:
    return {
        "Stacks": [
            {
                "StackName": "CDKToolkit",
                "CreationTime": "2026-07-01T00:00:00Z",
                "StackStatus": status,
                "Outputs": [{"OutputKey": "BootstrapVersion", "OutputValue": "28"}],
            }
        ]
    }


def quotas(value: float) -> dict:
    return {
        "Quotas": [
            {"QuotaName": "ml.t2.medium for endpoint usage", "QuotaCode": "L-1", "Value": 5.0},
            {"QuotaName": QUOTA, "QuotaCode": "L-4A7B7EF5", "Value": value},
        ]
    }


@pytest.fixture
def clients():
    made = {name: client(name) for name in ("iam", "cloudformation", "service-quotas")}
    stubs = {name: Stubber(c) for name, c in made.items()}
    for stub in stubs.values():
        stub.activate()
    yield made, stubs
    for stub in stubs.values():
        stub.deactivate()


def run(made, the_target: Target):
    return run_checks(
        target=the_target,
        iam=made["iam"],
        cloudformation=made["cloudformation"],
        service_quotas=made["service-quotas"],
        available_regions=available_regions,
    )


def passing(stubs, challenge: int = 1, *, quota: float = 2.0) -> None:
    stubs["iam"].add_response("get_role", {"Role": role_shape()}, {"RoleName": "WorkshopDeployer"})
    stub_simulations(stubs["iam"], challenge)
    stubs["cloudformation"].add_response("describe_stacks", toolkit(), {"StackName": "CDKToolkit"})
    if CHALLENGES[challenge].has_endpoint:
        stubs["service-quotas"].add_response(
            "list_service_quotas", quotas(quota), {"ServiceCode": "sagemaker"}
        )


def role_shape() -> dict:
    return {
        "Path": "/aws-reserved/sso.amazonaws.com/",
        "RoleName": "WorkshopDeployer",
        "RoleId": "AROAEXAMPLEEXAMPLE01",
        "Arn": ROLE,
        "CreateDate": "2026-07-01T00:00:00Z",
        "AssumeRolePolicyDocument": "{}",
    }


@pytest.mark.parametrize("challenge", [1, 2, 3])
def test_a_ready_account_passes_every_check(clients, challenge):
    made, stubs = clients
    passing(stubs, challenge)
    results = run(made, target(challenge))
    for stub in stubs.values():
        stub.assert_no_pending_responses()
    assert all(r.passed for r in results), [r.line() for r in results]
    names = [r.name for r in results]
    assert ("endpoint instance quota" in names) is (challenge == 1)
    assert all(r.line().startswith("PASS  ") for r in results)


def test_an_assumed_role_is_simulated_as_its_role_even_without_iam_get_role(clients):
    made, stubs = clients
    stubs["iam"].add_client_error("get_role", "AccessDenied")
    plain_role = f"arn:aws:iam::{ACCOUNT}:role/WorkshopDeployer"
    stubs["iam"].add_response(
        "simulate_principal_policy",
        {"EvaluationResults": [], "IsTruncated": False},
        {"PolicySourceArn": plain_role, "ActionNames": ANY, "ResourceArns": ANY},
    )
    assert checks.policy_source_arn(CALLER, made["iam"]) == plain_role
    assert checks.policy_source_arn(f"arn:aws:iam::{ACCOUNT}:user/bob", made["iam"]) == (
        f"arn:aws:iam::{ACCOUNT}:user/bob"
    )
    assert checks.policy_source_arn(f"arn:aws:iam::{ACCOUNT}:root", made["iam"]) is None


def test_a_denied_action_fails_and_names_it_with_its_step(clients):
    made, stubs = clients
    stubs["iam"].add_response("get_role", {"Role": role_shape()}, {"RoleName": "WorkshopDeployer"})
    stub_simulations(stubs["iam"], 2, deny="iot:CreateKeysAndCertificate")
    result = checks.check_permissions(made["iam"], target(2))
    assert not result.passed
    assert "iot:CreateKeysAndCertificate (Greengrass installer)" in result.detail
    assert "docs/permissions.md" in result.fix


def test_no_permission_to_simulate_fails_with_the_fix(clients):
    made, stubs = clients
    stubs["iam"].add_response("get_role", {"Role": role_shape()}, {"RoleName": "WorkshopDeployer"})
    stubs["iam"].add_client_error("simulate_principal_policy", "AccessDenied")
    result = checks.check_permissions(made["iam"], target())
    assert not result.passed and "iam:SimulatePrincipalPolicy" in result.fix


def test_the_root_user_is_not_simulated(clients):
    made, _ = clients
    result = checks.check_permissions(made["iam"], target(caller=f"arn:aws:iam::{ACCOUNT}:root"))
    assert result.passed and "root" in result.detail


@pytest.mark.parametrize(
    ("error", "stack", "expected"),
    [
        ("Stack with id CDKToolkit does not exist", None, "no CDKToolkit stack"),
        (None, "ROLLBACK_COMPLETE", "CDKToolkit is ROLLBACK_COMPLETE"),
    ],
)
def test_a_missing_or_broken_bootstrap_stack_fails_with_cdk_bootstrap(
    clients, error, stack, expected
):
    made, stubs = clients
    if error:
        stubs["cloudformation"].add_client_error(
            "describe_stacks", "ValidationError", error, http_status_code=400
        )
    else:
        stubs["cloudformation"].add_response("describe_stacks", toolkit(stack))
    result = checks.check_bootstrap(made["cloudformation"], target())
    assert not result.passed and expected in result.detail
    assert result.fix == f"npx cdk bootstrap aws://{ACCOUNT}/{REGION}"


def test_a_region_without_rekognition_fails_challenge_2():
    regions = set(available_regions("sagemaker", "aws")) - set(
        available_regions("rekognition", "aws")
    )
    region = sorted(regions)[0]
    result = checks.check_region_services(target(2, region=region), available_regions)
    assert not result.passed and "rekognition" in result.detail
    assert checks.check_region_services(target(2), available_regions).passed


@pytest.mark.parametrize("value", [0.0, 0.5])
def test_a_quota_below_the_instance_count_fails_with_the_increase_command(clients, value):
    made, stubs = clients
    stubs["service-quotas"].add_response("list_service_quotas", quotas(value))
    result = checks.check_endpoint_quota(made["service-quotas"], target())
    assert not result.passed
    assert f"needs {DEFAULTS.endpoint_instances_at_most}" in result.detail
    assert "--service-code sagemaker --quota-code L-4A7B7EF5" in result.fix


def test_the_quota_covers_every_team_at_its_endpoints_most_instances(clients):
    """The quota is the account's: 30 teams whose endpoints scale to 2 need 60."""
    made, stubs = clients
    scaled = AppSettings.from_mapping(
        {"datapalooza:endpoint_min_instances": 1, "datapalooza:endpoint_max_instances": 2}
    )
    class_of_30 = dataclasses.replace(
        target(), endpoint_instances=scaled.endpoint_instances_at_most, teams=30
    )
    stubs["service-quotas"].add_response("list_service_quotas", quotas(59.0))
    result = checks.check_endpoint_quota(made["service-quotas"], class_of_30)
    assert not result.passed
    assert "30 teams' endpoints need 2 each: 60" in result.detail
    assert "--desired-value 60" in result.fix
    stubs["service-quotas"].add_response("list_service_quotas", quotas(60.0))
    assert checks.check_endpoint_quota(made["service-quotas"], class_of_30).passed


def test_a_serverless_endpoint_needs_no_instance_quota(clients):
    made, _ = clients
    serverless = AppSettings.from_mapping({"datapalooza:endpoint_serverless_memory_mb": 2048})
    assert serverless.endpoint_instances_at_most == 0
    no_instances = dataclasses.replace(target(), endpoint_instances=0, teams=30)
    result = checks.check_endpoint_quota(made["service-quotas"], no_instances)  # no AWS call
    assert result.passed and "serverless" in result.detail


def test_teams_must_be_a_class_size(capsys):
    for bad in ("0", "101", "many"):
        with pytest.raises(SystemExit):
            main(["preflight", "--challenge", "1", "--teams", bad])
        assert "--teams" in capsys.readouterr().err


def test_an_unchanged_quota_is_read_from_the_defaults(clients):
    made, stubs = clients
    stubs["service-quotas"].add_response("list_service_quotas", {"Quotas": []})
    stubs["service-quotas"].add_response("list_aws_default_service_quotas", quotas(1.0))
    assert checks.check_endpoint_quota(made["service-quotas"], target()).passed


def test_an_instance_type_without_a_quota_fails(clients):
    made, stubs = clients
    stubs["service-quotas"].add_response("list_service_quotas", {"Quotas": []})
    stubs["service-quotas"].add_response("list_aws_default_service_quotas", {"Quotas": []})
    result = checks.check_endpoint_quota(made["service-quotas"], target())
    assert not result.passed and "endpoint_instance_type" in result.fix


class FakeSession:
    """What aws_session returns, with Stubber-backed clients."""

    region_name = REGION

    def __init__(self, made):
        self._made = made

    def client(self, name):
        return self._made[name]

    def get_available_regions(self, service, partition_name="aws"):
        return available_regions(service, partition_name)


def test_the_command_prints_one_line_per_check_and_fails_on_a_failure(clients, monkeypatch, capsys):
    made, stubs = clients
    made["sts"] = client("sts")
    with Stubber(made["sts"]) as sts:
        sts.add_response(
            "get_caller_identity", {"Account": ACCOUNT, "Arn": CALLER, "UserId": "AROA:alice"}
        )
        # The quota answer says 0: a new account's usual value for endpoint instances.
        passing(stubs, quota=0.0)
        monkeypatch.setattr(
            "datapalooza.adapters.aws.session.aws_session", lambda **_: FakeSession(made)
        )
        code = main(["preflight", "--challenge", "1"])
    out = capsys.readouterr().out.splitlines()
    assert code == 1
    assert out[0].startswith("Preflight for challenge 1 (DataPalooza-Challenge1-Endpoint)")
    assert [line[:6] for line in out[1:]] == ["PASS  ", "PASS  ", "PASS  ", "FAIL  "]
    assert "request-service-quota-increase" in out[4]
